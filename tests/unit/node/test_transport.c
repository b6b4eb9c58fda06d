/* The peer transport (node/transport.c, docs/formats/transport.md): two
 * validators complete the handshake and exchange frames both ways; every
 * attack on it is refused with its own error: a key outside the validator
 * set, a stolen public key without its secret, a replayed or spliced
 * handshake message, another network's origin or genesis, a connection to
 * oneself; and every forged, replayed, reordered, truncated or oversized
 * frame. The worked example in the format document is reproduced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "testutil.h"
#include "transport.h"

static const uint8_t genesis[32] = {0x47, 0x45, 0x4e};

/* The validator set of the test network: keys from seeds 1, 2 and 3. */
typedef struct net {
    origo_key *v[3];
    origo_key *outsider; /* seed 9: not a validator */
} net;

static int is_validator(void *ctx, const uint8_t pub[32])
{
    net *n = ctx;
    for (int i = 0; i < 3; i++)
        if (memcmp(pub, origo_key_public(n->v[i]), 32) == 0)
            return 1;
    return 0;
}

static int setup(void **state)
{
    net *n = calloc(1, sizeof(*n));
    n->v[0] = testutil_key_filled("v1", 1);
    n->v[1] = testutil_key_filled("v2", 2);
    n->v[2] = testutil_key_filled("v3", 3);
    n->outsider = testutil_key_filled("mallory", 9);
    *state = n;
    return 0;
}

static int teardown(void **state)
{
    net *n = *state;
    for (int i = 0; i < 3; i++)
        origo_key_free(n->v[i]);
    origo_key_free(n->outsider);
    free(n);
    return 0;
}

static transport_params params(net *n, const origo_key *self,
                               const char *origin, const uint8_t *gen)
{
    transport_params p = {.origin = origin,
                          .genesis_hash = gen,
                          .self = self,
                          .is_validator = is_validator,
                          .ctx = n};
    return p;
}

/* The three messages of one handshake between i and r. */
typedef struct exchange {
    uint8_t m1[TRANSPORT_M1_LEN], m2[TRANSPORT_M2_LEN], m3[TRANSPORT_M3_LEN];
    transport_session si, sr;
} exchange;

/* Runs a whole handshake; eph seeds may be NULL (random). */
static void handshake(net *n, const origo_key *ik, const origo_key *rk,
                      const uint8_t *ieph, const uint8_t *reph, exchange *x)
{
    transport_params pi = params(n, ik, "origo.test", genesis);
    transport_params pr = params(n, rk, "origo.test", genesis);
    transport_hs i, r;
    assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, ieph), 0);
    assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, reph), 0);
    assert_int_equal(transport_hs_write_m1(&i, x->m1), 0);
    assert_int_equal(transport_hs_read_m1(&r, x->m1, sizeof(x->m1)), 0);
    assert_int_equal(transport_hs_write_m2(&r, x->m2), 0);
    assert_int_equal(transport_hs_read_m2(&i, x->m2, sizeof(x->m2)), 0);
    assert_int_equal(transport_hs_write_m3(&i, x->m3), 0);
    assert_int_equal(transport_hs_read_m3(&r, x->m3, sizeof(x->m3)), 0);
    assert_int_equal(transport_hs_finish(&i, &x->si), 0);
    assert_int_equal(transport_hs_finish(&r, &x->sr), 0);
}

/* ---- handshake ---- */

static void test_handshake_agrees(void **state)
{
    net *n = *state;
    exchange x;
    handshake(n, n->v[0], n->v[1], NULL, NULL, &x);
    /* Each side's sending key is the other's receiving key; the two
     * directions differ; each knows who is on the other end. */
    assert_memory_equal(x.si.tx, x.sr.rx, 32);
    assert_memory_equal(x.si.rx, x.sr.tx, 32);
    assert_memory_not_equal(x.si.tx, x.si.rx, 32);
    assert_memory_equal(x.si.peer, origo_key_public(n->v[1]), 32);
    assert_memory_equal(x.sr.peer, origo_key_public(n->v[0]), 32);

    /* Fresh ephemerals: a second session between the same pair shares no
     * key with the first. */
    exchange y;
    handshake(n, n->v[0], n->v[1], NULL, NULL, &y);
    assert_memory_not_equal(x.si.tx, y.si.tx, 32);
    assert_memory_not_equal(x.si.rx, y.si.rx, 32);
    transport_session_wipe(&x.si);
    uint8_t zero[32] = {0};
    assert_memory_equal(x.si.tx, zero, 32);
}

static void test_outsider_refused_first(void **state)
{
    net *n = *state;
    transport_params po = params(n, n->outsider, "origo.test", genesis);
    transport_params pr = params(n, n->v[1], "origo.test", genesis);
    transport_hs o, r;
    uint8_t m1[TRANSPORT_M1_LEN];
    assert_int_equal(transport_hs_init(&o, TRANSPORT_INITIATOR, &po, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&o, m1), 0);
    assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r, m1, sizeof(m1)),
                     ORIGO_E_PEER_UNKNOWN);
    /* The key is judged before the rest is looked at: 32 bytes suffice
     * for the refusal, with no version or ephemeral after them. */
    assert_int_equal(transport_hs_read_m1(&r, m1, 32), ORIGO_E_PEER_UNKNOWN);
    /* And the responder answers nothing. */
    uint8_t m2[TRANSPORT_M2_LEN];
    assert_int_equal(transport_hs_write_m2(&r, m2), ORIGO_E_INVAL);

    /* The same from the other side: an initiator that dialled an address
     * answered by an outsider's key refuses its m2. */
    transport_params pi = params(n, n->v[0], "origo.test", genesis);
    transport_params pro = params(n, n->outsider, "origo.test", genesis);
    transport_hs i, ro;
    assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&i, m1), 0);
    /* The outsider's responder does not check the set it is not in. */
    assert_int_equal(transport_hs_init(&ro, TRANSPORT_RESPONDER, &pro, NULL),
                     0);
    assert_int_equal(transport_hs_read_m1(&ro, m1, sizeof(m1)), 0);
    assert_int_equal(transport_hs_write_m2(&ro, m2), 0);
    assert_int_equal(transport_hs_read_m2(&i, m2, sizeof(m2)),
                     ORIGO_E_PEER_UNKNOWN);
}

/* Mallory knows v1's public key, not its secret. */
static void test_stolen_public_key(void **state)
{
    net *n = *state;
    transport_params pm = params(n, n->outsider, "origo.test", genesis);
    transport_params pr = params(n, n->v[1], "origo.test", genesis);
    transport_hs m, r;
    uint8_t m1[TRANSPORT_M1_LEN], m2[TRANSPORT_M2_LEN], m3[TRANSPORT_M3_LEN];

    /* As initiator: m1 names v1; the responder answers; Mallory's m3 is
     * signed by her own key over a transcript naming v1. */
    assert_int_equal(transport_hs_init(&m, TRANSPORT_INITIATOR, &pm, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&m, m1), 0);
    memcpy(m1, origo_key_public(n->v[0]), 32);
    memcpy(m.i_static, m1, 32);
    assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r, m1, sizeof(m1)), 0);
    assert_int_equal(transport_hs_write_m2(&r, m2), 0);
    assert_int_equal(transport_hs_read_m2(&m, m2, sizeof(m2)), 0);
    assert_int_equal(transport_hs_write_m3(&m, m3), 0);
    assert_int_equal(transport_hs_read_m3(&r, m3, sizeof(m3)),
                     ORIGO_E_HANDSHAKE);
    transport_session s;
    assert_int_equal(transport_hs_finish(&r, &s), ORIGO_E_INVAL);

    /* As responder: an m2 naming v2, signed by Mallory. */
    transport_params pi = params(n, n->v[0], "origo.test", genesis);
    transport_hs i, mr;
    assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&i, m1), 0);
    assert_int_equal(transport_hs_init(&mr, TRANSPORT_RESPONDER, &pm, NULL), 0);
    memcpy(mr.r_static, origo_key_public(n->v[1]), 32);
    assert_int_equal(transport_hs_read_m1(&mr, m1, sizeof(m1)), 0);
    assert_int_equal(transport_hs_write_m2(&mr, m2), 0);
    assert_memory_equal(m2, origo_key_public(n->v[1]), 32);
    assert_int_equal(transport_hs_read_m2(&i, m2, sizeof(m2)),
                     ORIGO_E_HANDSHAKE);
    assert_int_equal(transport_hs_write_m3(&i, m3), ORIGO_E_INVAL);
}

/* Messages recorded from one session are worthless in another: the
 * transcript holds both fresh ephemerals. */
static void test_replayed_messages(void **state)
{
    net *n = *state;
    exchange old;
    handshake(n, n->v[0], n->v[1], NULL, NULL, &old);

    /* An old m2 to a new initiator. */
    transport_params pi = params(n, n->v[0], "origo.test", genesis);
    transport_params pr = params(n, n->v[1], "origo.test", genesis);
    transport_hs i, r;
    uint8_t m1[TRANSPORT_M1_LEN], m2[TRANSPORT_M2_LEN];
    assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&i, m1), 0);
    assert_int_equal(transport_hs_read_m2(&i, old.m2, sizeof(old.m2)),
                     ORIGO_E_HANDSHAKE);

    /* The old m1 and m3 to a new responder: its fresh ephemeral is in the
     * transcript the old m3 did not sign. */
    assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r, old.m1, sizeof(old.m1)), 0);
    assert_int_equal(transport_hs_write_m2(&r, m2), 0);
    assert_int_equal(transport_hs_read_m3(&r, old.m3, sizeof(old.m3)),
                     ORIGO_E_HANDSHAKE);

    /* The responder's own signature reflected back as the m3. */
    transport_hs r2;
    uint8_t r2m2[TRANSPORT_M2_LEN];
    assert_int_equal(transport_hs_init(&r2, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r2, m1, sizeof(m1)), 0);
    assert_int_equal(transport_hs_write_m2(&r2, r2m2), 0);
    assert_int_equal(transport_hs_read_m3(&r2, r2m2 + 64, 64),
                     ORIGO_E_HANDSHAKE);
}

/* Same keys, another network: the origin and the genesis hash are signed. */
static void test_other_network(void **state)
{
    net *n = *state;
    uint8_t other_genesis[32];
    memcpy(other_genesis, genesis, 32);
    other_genesis[31] ^= 1;
    struct {
        const char *origin;
        const uint8_t *gen;
    } cases[] = {{"origo.other", genesis}, {"origo.test", other_genesis}};
    for (size_t c = 0; c < 2; c++) {
        transport_params pi = params(n, n->v[0], "origo.test", genesis);
        transport_params pr = params(n, n->v[1], cases[c].origin, cases[c].gen);
        transport_hs i, r;
        uint8_t m1[TRANSPORT_M1_LEN], m2[TRANSPORT_M2_LEN];
        assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, NULL),
                         0);
        assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, NULL),
                         0);
        assert_int_equal(transport_hs_write_m1(&i, m1), 0);
        assert_int_equal(transport_hs_read_m1(&r, m1, sizeof(m1)), 0);
        assert_int_equal(transport_hs_write_m2(&r, m2), 0);
        assert_int_equal(transport_hs_read_m2(&i, m2, sizeof(m2)),
                         ORIGO_E_HANDSHAKE);
    }
}

static void test_malformed_messages(void **state)
{
    net *n = *state;
    transport_params pi = params(n, n->v[0], "origo.test", genesis);
    transport_params pr = params(n, n->v[1], "origo.test", genesis);
    transport_hs i, r;
    uint8_t m1[TRANSPORT_M1_LEN];
    assert_int_equal(transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, NULL), 0);
    assert_int_equal(transport_hs_write_m1(&i, m1), 0);

    /* Another version; a short or long message; fewer than 32 bytes. */
    uint8_t bad[TRANSPORT_M1_LEN + 1] = {0};
    memcpy(bad, m1, sizeof(m1));
    bad[32] = TRANSPORT_VERSION + 1;
    assert_int_equal(transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r, bad, sizeof(m1)),
                     ORIGO_E_HANDSHAKE);
    assert_int_equal(transport_hs_read_m1(&r, m1, sizeof(m1) - 1),
                     ORIGO_E_HANDSHAKE);
    memcpy(bad, m1, sizeof(m1));
    assert_int_equal(transport_hs_read_m1(&r, bad, sizeof(bad)),
                     ORIGO_E_HANDSHAKE);
    assert_int_equal(transport_hs_read_m1(&r, m1, 31), ORIGO_E_HANDSHAKE);

    /* A connection to oneself (or one's m1 reflected back). */
    transport_params pself = params(n, n->v[0], "origo.test", genesis);
    transport_hs self;
    assert_int_equal(
        transport_hs_init(&self, TRANSPORT_RESPONDER, &pself, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&self, m1, sizeof(m1)),
                     ORIGO_E_HANDSHAKE);

    /* A low-order ephemeral (all zero) passes the signatures but yields
     * no session. */
    memcpy(bad, m1, sizeof(m1));
    memset(bad + 33, 0, 32);
    memcpy(i.i_eph, bad + 33, 32);
    uint8_t m2[TRANSPORT_M2_LEN], m3[TRANSPORT_M3_LEN];
    transport_hs r3;
    assert_int_equal(transport_hs_init(&r3, TRANSPORT_RESPONDER, &pr, NULL), 0);
    assert_int_equal(transport_hs_read_m1(&r3, bad, sizeof(m1)), 0);
    assert_int_equal(transport_hs_write_m2(&r3, m2), 0);
    assert_int_equal(transport_hs_read_m2(&i, m2, sizeof(m2)), 0);
    assert_int_equal(transport_hs_write_m3(&i, m3), 0);
    assert_int_equal(transport_hs_read_m3(&r3, m3, sizeof(m3)), 0);
    transport_session s;
    assert_int_equal(transport_hs_finish(&r3, &s), ORIGO_E_HANDSHAKE);

    /* Steps out of order. */
    transport_hs j;
    assert_int_equal(transport_hs_init(&j, TRANSPORT_INITIATOR, &pi, NULL), 0);
    assert_int_equal(transport_hs_write_m3(&j, m3), ORIGO_E_INVAL);
    assert_int_equal(transport_hs_read_m1(&j, m1, sizeof(m1)), ORIGO_E_INVAL);
    assert_int_equal(transport_hs_finish(&j, &s), ORIGO_E_INVAL);
    transport_params noorigin = pi;
    noorigin.origin = NULL;
    assert_int_equal(
        transport_hs_init(&j, TRANSPORT_INITIATOR, &noorigin, NULL),
        ORIGO_E_INVAL);
}

/* The worked example of docs/formats/transport.md, made by an independent
 * implementation (tests/vectors/transport_example.py, on OpenSSL through
 * python3-cryptography): validators from seeds 01.. and 02.., ephemeral
 * seeds 11.. and 22..; every message and both keys must match. */
static void expect_hex(json_t *v, const char *field, const uint8_t *bytes,
                       size_t len)
{
    char hex[2 * TRANSPORT_M2_LEN + 1];
    assert_true(len <= TRANSPORT_M2_LEN);
    testutil_hex(bytes, len, hex);
    const char *want = json_string_value(json_object_get(v, field));
    assert_non_null(want);
    assert_string_equal(hex, want);
}

static void test_worked_example(void **state)
{
    net *n = *state;
    json_t *v = testutil_load_vector("transport-example.json");
    assert_string_equal(json_string_value(json_object_get(v, "origin")),
                        "origo.test");
    expect_hex(v, "genesis_hash", genesis, 32);
    uint8_t ie[32], re[32];
    memset(ie, 0x11, 32);
    memset(re, 0x22, 32);
    expect_hex(v, "initiator_eph_seed", ie, 32);
    expect_hex(v, "responder_eph_seed", re, 32);
    exchange x;
    handshake(n, n->v[0], n->v[1], ie, re, &x);
    expect_hex(v, "m1", x.m1, sizeof(x.m1));
    expect_hex(v, "m2", x.m2, sizeof(x.m2));
    expect_hex(v, "m3", x.m3, sizeof(x.m3));
    expect_hex(v, "initiator_to_responder_key", x.si.tx, 32);
    expect_hex(v, "initiator_to_responder_key", x.sr.rx, 32);
    expect_hex(v, "responder_to_initiator_key", x.si.rx, 32);
    expect_hex(v, "responder_to_initiator_key", x.sr.tx, 32);
    json_decref(v);
}

/* ---- frames ---- */

typedef struct pipe {
    transport_tx tx;
    transport_rx rx;
} pipe_t;

static void open_pipe(net *n, pipe_t *p, size_t cap, uint64_t rekey)
{
    exchange x;
    handshake(n, n->v[0], n->v[2], NULL, NULL, &x);
    uint8_t header[TRANSPORT_HEADER_LEN];
    assert_int_equal(transport_tx_init(&p->tx, x.si.tx, header, cap, rekey), 0);
    assert_int_equal(transport_rx_init(&p->rx, x.sr.rx, header, cap), 0);
}

static void test_frames_round_trip(void **state)
{
    net *n = *state;
    pipe_t p;
    open_pipe(n, &p, 4096, 3);
    origo_buf wire, got;
    origo_buf_init(&wire, 1u << 20);
    origo_buf_init(&got, 1u << 20);
    /* Ten frames of growing size (the empty one included), crossing three
     * rekeys, read back from one stream fed a byte at a time. */
    uint8_t msg[4096];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    size_t sizes[10] = {0, 1, 2, 17, 100, 1000, 4095, 4096, 3, 64};
    for (int f = 0; f < 10; f++)
        assert_int_equal(transport_seal(&p.tx, msg, sizes[f], &wire), 0);
    size_t at = 0, avail = 0;
    int frames = 0;
    while (at < wire.len) {
        size_t used = 0;
        int rc = transport_open(&p.rx, wire.data + at, avail, &used, &got);
        if (rc == ORIGO_E_TRUNCATED) {
            assert_true(at + avail < wire.len);
            avail++;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(used, avail);
        assert_int_equal(got.len, sizes[frames]);
        if (got.len)
            assert_memory_equal(got.data, msg, got.len);
        origo_buf_reset(&got);
        at += used;
        avail = 0;
        frames++;
    }
    assert_int_equal(frames, 10);
    origo_buf_close(&wire);
    origo_buf_close(&got);
}

/* Every third frame carries TAG_REKEY, read with libsodium's own pull on
 * a copy of the receiver's state. */
static void test_rekey_schedule(void **state)
{
    net *n = *state;
    pipe_t p;
    open_pipe(n, &p, 64, 3);
    origo_buf wire, got;
    origo_buf_init(&wire, 1u << 16);
    origo_buf_init(&got, 1u << 16);
    for (int f = 1; f <= 7; f++) {
        origo_buf_reset(&wire);
        assert_int_equal(transport_seal(&p.tx, (const uint8_t *)"x", 1, &wire),
                         0);
        crypto_secretstream_xchacha20poly1305_state copy = p.rx.st;
        uint8_t m[1];
        unsigned char tag;
        assert_int_equal(
            crypto_secretstream_xchacha20poly1305_pull(
                &copy, m, NULL, &tag, wire.data + 4, wire.len - 4, NULL, 0),
            0);
        assert_int_equal(
            tag, f % 3 == 0
                     ? crypto_secretstream_xchacha20poly1305_TAG_REKEY
                     : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
        size_t used;
        assert_int_equal(
            transport_open(&p.rx, wire.data, wire.len, &used, &got), 0);
    }
    origo_buf_close(&wire);
    origo_buf_close(&got);
}

static void test_frames_forged(void **state)
{
    net *n = *state;
    pipe_t p;
    open_pipe(n, &p, 256, 0);
    origo_buf a, b, got;
    origo_buf_init(&a, 1u << 16);
    origo_buf_init(&b, 1u << 16);
    origo_buf_init(&got, 1u << 16);
    const uint8_t msg[] = "append entries 42";
    assert_int_equal(transport_seal(&p.tx, msg, sizeof(msg), &a), 0);
    assert_int_equal(transport_seal(&p.tx, msg, sizeof(msg), &b), 0);
    size_t used = 99;

    /* Every byte of the ciphertext flipped: refused, nothing kept, and the
     * stream is still readable (a failed pull leaves the state alone; the
     * node drops the peer anyway). */
    for (size_t k = 4; k < a.len; k++) {
        a.data[k] ^= 0x01;
        assert_int_equal(transport_open(&p.rx, a.data, a.len, &used, &got),
                         ORIGO_E_FRAME);
        assert_int_equal(got.len, 0);
        assert_int_equal(used, 99);
        a.data[k] ^= 0x01;
    }
    /* Reordered: the second frame first. */
    assert_int_equal(transport_open(&p.rx, b.data, b.len, &used, &got),
                     ORIGO_E_FRAME);
    assert_int_equal(transport_open(&p.rx, a.data, a.len, &used, &got), 0);
    assert_memory_equal(got.data, msg, sizeof(msg));
    origo_buf_reset(&got);
    /* Replayed. */
    assert_int_equal(transport_open(&p.rx, a.data, a.len, &used, &got),
                     ORIGO_E_FRAME);
    assert_int_equal(transport_open(&p.rx, b.data, b.len, &used, &got), 0);
    origo_buf_reset(&got);

    /* A length prefix over the cap is refused before any byte is waited
     * for; one under the tag size is no frame at all. */
    uint8_t big[4] = {0, 0, 0x01, 0x12}; /* 274 = 257 + 17 */
    assert_int_equal(transport_open(&p.rx, big, 4, &used, &got),
                     ORIGO_E_TOOBIG);
    uint8_t tiny[4] = {0, 0, 0, 16};
    assert_int_equal(transport_open(&p.rx, tiny, 4, &used, &got),
                     ORIGO_E_FRAME);
    uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(transport_open(&p.rx, huge, 4, &used, &got),
                     ORIGO_E_TOOBIG);
    /* The sender refuses over the cap too, writing nothing. */
    uint8_t over[257] = {0};
    origo_buf_reset(&a);
    assert_int_equal(transport_seal(&p.tx, over, sizeof(over), &a),
                     ORIGO_E_TOOBIG);
    assert_int_equal(a.len, 0);
    /* A frame sealed under another session's key. */
    pipe_t q;
    open_pipe(n, &q, 256, 0);
    origo_buf_reset(&a);
    assert_int_equal(transport_seal(&q.tx, msg, sizeof(msg), &a), 0);
    assert_int_equal(transport_open(&p.rx, a.data, a.len, &used, &got),
                     ORIGO_E_FRAME);
    origo_buf_close(&a);
    origo_buf_close(&b);
    origo_buf_close(&got);
}

/* An output buffer that cannot hold the frame: the error, nothing written,
 * and the stream state untouched (the next frame still opens). */
static void test_full_buffer(void **state)
{
    net *n = *state;
    pipe_t p;
    open_pipe(n, &p, 256, 0);
    origo_buf small, wire, got;
    origo_buf_init(&small, 10);
    origo_buf_init(&wire, 1u << 16);
    origo_buf_init(&got, 1u << 16);
    const uint8_t msg[] = "a block";
    assert_int_equal(transport_seal(&p.tx, msg, sizeof(msg), &small),
                     ORIGO_E_TOOBIG);
    assert_int_equal(small.len, 0);
    assert_int_equal(transport_seal(&p.tx, msg, sizeof(msg), &wire), 0);
    size_t used;
    assert_int_equal(transport_open(&p.rx, wire.data, wire.len, &used, &got),
                     0);
    assert_memory_equal(got.data, msg, sizeof(msg));
    /* The receiving side likewise. */
    origo_buf_reset(&wire);
    assert_int_equal(transport_seal(&p.tx, msg, sizeof(msg), &wire), 0);
    origo_buf tiny;
    origo_buf_init(&tiny, 3);
    assert_int_equal(transport_open(&p.rx, wire.data, wire.len, &used, &tiny),
                     ORIGO_E_TOOBIG);
    origo_buf_reset(&got);
    assert_int_equal(transport_open(&p.rx, wire.data, wire.len, &used, &got),
                     0);
    origo_buf_close(&small);
    origo_buf_close(&tiny);
    origo_buf_close(&wire);
    origo_buf_close(&got);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outsider_refused_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stolen_public_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replayed_messages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_messages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_worked_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rekey_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_forged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
