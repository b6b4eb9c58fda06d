/* The Raft message codec: every message type round-trips with edge values
 * and re-encodes to the same bytes; malformed encodings are refused with
 * the error that names what is wrong; randomly mutated encodings are either
 * refused or re-encode to themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "raft.h"
#include "raftmsg.h"
#include "testutil.h"

/* ---- helpers ---- */

static int entries_equal(const struct raft_msg_append *a,
                         const struct raft_msg_append *b)
{
    if (a->n_entries != b->n_entries)
        return 0;
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];
        if (x->index != y->index || x->term != y->term || x->type != y->type ||
            x->data.len != y->data.len ||
            (x->data.len && memcmp(x->data.base, y->data.base, x->data.len)))
            return 0;
    }
    return 1;
}

static int config_equal(const struct raft_config *a,
                        const struct raft_config *b)
{
    return a->n_voters == b->n_voters && a->n_learners == b->n_learners &&
           memcmp(a->voters, b->voters, a->n_voters * sizeof(uint64_t)) == 0 &&
           memcmp(a->learners, b->learners, a->n_learners * sizeof(uint64_t)) ==
               0;
}

/* Field-by-field equality of two messages of the same type. */
static int msg_equal(const struct raft_msg *a, const struct raft_msg *b)
{
    if (a->type != b->type || a->from != b->from || a->to != b->to ||
        a->term != b->term)
        return 0;
    switch (a->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        return a->u.vote.last_log_index == b->u.vote.last_log_index &&
               a->u.vote.last_log_term == b->u.vote.last_log_term &&
               a->u.vote.transfer == b->u.vote.transfer;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        return a->u.vote_resp.granted == b->u.vote_resp.granted;
    case RAFT_MSG_APPEND:
        return a->u.append.prev_index == b->u.append.prev_index &&
               a->u.append.prev_term == b->u.append.prev_term &&
               a->u.append.commit == b->u.append.commit &&
               entries_equal(&a->u.append, &b->u.append);
    case RAFT_MSG_APPEND_RESP:
        return a->u.append_resp.reject == b->u.append_resp.reject &&
               a->u.append_resp.index == b->u.append_resp.index &&
               a->u.append_resp.hint_index == b->u.append_resp.hint_index &&
               a->u.append_resp.hint_term == b->u.append_resp.hint_term;
    case RAFT_MSG_HEARTBEAT:
        return a->u.heartbeat.commit == b->u.heartbeat.commit;
    case RAFT_MSG_HEARTBEAT_RESP:
        return a->u.heartbeat_resp.last_index == b->u.heartbeat_resp.last_index;
    case RAFT_MSG_SNAPSHOT: {
        const struct raft_msg_snapshot *x = &a->u.snapshot, *y = &b->u.snapshot;
        return x->meta.index == y->meta.index && x->meta.term == y->meta.term &&
               config_equal(&x->meta.config, &y->meta.config) &&
               x->total_size == y->total_size && x->offset == y->offset &&
               x->done == y->done && x->chunk.len == y->chunk.len &&
               (!x->chunk.len ||
                memcmp(x->chunk.base, y->chunk.base, x->chunk.len) == 0);
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        return a->u.snapshot_resp.index == b->u.snapshot_resp.index &&
               a->u.snapshot_resp.next_offset ==
                   b->u.snapshot_resp.next_offset &&
               a->u.snapshot_resp.done == b->u.snapshot_resp.done &&
               a->u.snapshot_resp.reject == b->u.snapshot_resp.reject;
    default:
        return 1;
    }
}

/* Encodes, decodes, compares, re-encodes and compares the bytes. */
static void round_trip(const struct raft_msg *msg)
{
    origo_buf first, second;
    origo_buf_init(&first, RAFTMSG_MAX_FRAME);
    origo_buf_init(&second, RAFTMSG_MAX_FRAME);
    assert_int_equal(raftmsg_encode(msg, &first), 0);
    struct raft_msg decoded;
    assert_int_equal(raftmsg_decode(first.data, first.len, &decoded), 0);
    assert_true(msg_equal(msg, &decoded));
    assert_int_equal(raftmsg_encode(&decoded, &second), 0);
    assert_int_equal(first.len, second.len);
    assert_memory_equal(first.data, second.data, first.len);
    raftmsg_release(&decoded);
    origo_buf_close(&first);
    origo_buf_close(&second);
}

static const uint64_t EDGE[] = {
    0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, 1ull << 32, UINT64_MAX};
#define N_EDGE (sizeof(EDGE) / sizeof(EDGE[0]))

static struct raft_msg header(uint8_t type, size_t i)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = EDGE[i] ? EDGE[i] : 1;
    m.to = EDGE[N_EDGE - 1 - i] ? EDGE[N_EDGE - 1 - i] : 2;
    m.term = EDGE[(i + 3) % N_EDGE];
    return m;
}

/* ---- round trips ---- */

static void vote_messages_round_trip(void **state)
{
    (void)state;
    const uint8_t types[] = {RAFT_MSG_PREVOTE, RAFT_MSG_VOTE};
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i < N_EDGE; i++) {
            struct raft_msg m = header(types[t], i);
            m.u.vote.last_log_index = EDGE[i];
            m.u.vote.last_log_term = EDGE[(i + 5) % N_EDGE];
            m.u.vote.transfer = i % 2;
            round_trip(&m);
        }
    }
}

static void vote_responses_round_trip(void **state)
{
    (void)state;
    const uint8_t types[] = {RAFT_MSG_PREVOTE_RESP, RAFT_MSG_VOTE_RESP};
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i < N_EDGE; i++) {
            struct raft_msg m = header(types[t], i);
            m.u.vote_resp.granted = i % 2 == 0;
            round_trip(&m);
        }
    }
}

static void append_round_trips_with_every_entry_kind(void **state)
{
    (void)state;
    static uint8_t block[100000];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (uint8_t)(i * 7);
    uint8_t conf_bytes[RAFT_CONFIG_ENCODED_MAX];
    struct raft_config config = {.n_voters = 2, .voters = {1, UINT64_MAX}};
    size_t conf_len =
        raft_config_encode(&config, conf_bytes, sizeof(conf_bytes));
    struct raft_entry entries[5] = {
        {.term = 1, .type = RAFT_ENTRY_NORMAL, .data = {block, 1}},
        {.term = 1, .type = RAFT_ENTRY_NORMAL, .data = {NULL, 0}},
        {.term = 2, .type = RAFT_ENTRY_NOOP},
        {.term = 2, .type = RAFT_ENTRY_CONFIG, .data = {conf_bytes, conf_len}},
        {.term = 9, .type = RAFT_ENTRY_NORMAL, .data = {block, sizeof(block)}},
    };
    for (size_t n = 0; n <= 5; n++) {
        struct raft_msg m = header(RAFT_MSG_APPEND, n);
        m.term = 9;
        m.u.append.prev_index = 1000 * n;
        m.u.append.prev_term = 1;
        m.u.append.commit = UINT64_MAX;
        m.u.append.entries = n ? entries : NULL;
        m.u.append.n_entries = n;
        for (size_t i = 0; i < n; i++)
            entries[i].index = m.u.append.prev_index + 1 + i;
        round_trip(&m);
    }
    /* The largest index there can be. */
    struct raft_msg m = header(RAFT_MSG_APPEND, 0);
    m.term = 9;
    m.u.append.prev_index = UINT64_MAX - 1;
    m.u.append.entries = entries;
    m.u.append.n_entries = 1;
    entries[0].index = UINT64_MAX;
    round_trip(&m);
}

static void append_with_largest_entry_fits_a_frame(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, RAFTMSG_MAX_ENTRY_BYTES);
    assert_non_null(big);
    struct raft_entry entry = {.term = 3, .index = 8, .data = {big, 0}};
    entry.data.len = RAFTMSG_MAX_ENTRY_BYTES;
    struct raft_msg m = header(RAFT_MSG_APPEND, 4);
    m.term = UINT64_MAX;
    m.u.append.prev_index = 7;
    m.u.append.prev_term = 3;
    m.u.append.entries = &entry;
    m.u.append.n_entries = 1;
    round_trip(&m);
    /* One byte more is refused by encoder and decoder alike. */
    entry.data.len++;
    origo_buf buf;
    origo_buf_init(&buf, RAFTMSG_MAX_FRAME);
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_TOOBIG);
    assert_int_equal(buf.len, 0);
    free(big);
    origo_buf_close(&buf);
}

static void other_messages_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EDGE; i++) {
        struct raft_msg m = header(RAFT_MSG_APPEND_RESP, i);
        m.u.append_resp.reject = i % 2;
        m.u.append_resp.index = EDGE[i];
        m.u.append_resp.hint_index = EDGE[(i + 1) % N_EDGE];
        m.u.append_resp.hint_term = EDGE[(i + 2) % N_EDGE];
        round_trip(&m);
        m = header(RAFT_MSG_HEARTBEAT, i);
        m.u.heartbeat.commit = EDGE[i];
        round_trip(&m);
        m = header(RAFT_MSG_HEARTBEAT_RESP, i);
        m.u.heartbeat_resp.last_index = EDGE[i];
        round_trip(&m);
        m = header(RAFT_MSG_SNAPSHOT_RESP, i);
        m.u.snapshot_resp.index = EDGE[i];
        m.u.snapshot_resp.next_offset = EDGE[(i + 4) % N_EDGE];
        m.u.snapshot_resp.done = i % 2;
        m.u.snapshot_resp.reject = i % 3 == 0;
        round_trip(&m);
        m = header(RAFT_MSG_TIMEOUT_NOW, i);
        round_trip(&m);
    }
}

static void snapshot_chunks_round_trip(void **state)
{
    (void)state;
    static uint8_t chunk[70000];
    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (uint8_t)(i ^ 0x5a);
    struct raft_msg m = header(RAFT_MSG_SNAPSHOT, 2);
    m.term = 7;
    m.u.snapshot.meta.index = UINT64_MAX;
    m.u.snapshot.meta.term = 7;
    /* A full configuration: 16 voters and 16 learners. */
    for (uint32_t i = 0; i < RAFT_MAX_MEMBERS; i++) {
        m.u.snapshot.meta.config.voters[i] = i + 1;
        m.u.snapshot.meta.config.learners[i] = UINT64_MAX - i;
    }
    m.u.snapshot.meta.config.n_voters = RAFT_MAX_MEMBERS;
    m.u.snapshot.meta.config.n_learners = RAFT_MAX_MEMBERS;
    /* First chunk, a middle one, the last one, an empty last one. */
    m.u.snapshot.total_size = 3 * sizeof(chunk);
    m.u.snapshot.chunk = (struct raft_buf){chunk, sizeof(chunk)};
    round_trip(&m);
    m.u.snapshot.offset = sizeof(chunk);
    round_trip(&m);
    m.u.snapshot.offset = 2 * sizeof(chunk);
    m.u.snapshot.done = true;
    round_trip(&m);
    m.u.snapshot.offset = m.u.snapshot.total_size;
    m.u.snapshot.chunk = (struct raft_buf){NULL, 0};
    round_trip(&m);
    /* An empty configuration, an empty snapshot. */
    memset(&m.u.snapshot.meta.config, 0, sizeof(m.u.snapshot.meta.config));
    m.u.snapshot.total_size = 0;
    m.u.snapshot.offset = 0;
    round_trip(&m);
}

static void encoder_refuses_what_decoder_would(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, RAFTMSG_MAX_FRAME);
    struct raft_msg m = header(RAFT_MSG_HEARTBEAT, 1);
    m.from = 0;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_INVAL);
    m = header(RAFT_MSG_HEARTBEAT, 1);
    m.type = 0;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_INVAL);
    m.type = RAFT_MSG_TYPE_MAX + 1;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_INVAL);
    struct raft_entry e = {.term = 1, .index = 5};
    m = header(RAFT_MSG_APPEND, 1);
    m.term = 1;
    m.u.append.prev_index = 5; /* entry should be 6 */
    m.u.append.entries = &e;
    m.u.append.n_entries = 1;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_INVAL);
    m.u.append.n_entries = RAFTMSG_MAX_ENTRIES + 1;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_TOOBIG);
    m = header(RAFT_MSG_SNAPSHOT, 1);
    m.term = 2;
    m.u.snapshot.meta.index = 4;
    m.u.snapshot.meta.term = 2;
    m.u.snapshot.meta.config.n_voters = 2;
    m.u.snapshot.meta.config.voters[0] = 3;
    m.u.snapshot.meta.config.voters[1] = 3;
    assert_int_equal(raftmsg_encode(&m, &buf), ORIGO_E_INVAL);
    assert_int_equal(buf.len, 0);
    /* A buffer whose own limit is too small reports it and stays empty. */
    origo_buf small;
    origo_buf_init(&small, 8);
    m = header(RAFT_MSG_HEARTBEAT, 3);
    assert_int_equal(raftmsg_encode(&m, &small), ORIGO_E_TOOBIG);
    assert_int_equal(small.len, 0);
    assert_int_equal(small.err, 0);
    origo_buf_close(&small);
    origo_buf_close(&buf);
}

/* ---- malformed encodings ---- */

/* A tiny writer for hand-made maps: each field is a key and a value kind. */
enum val_kind { V_UINT, V_BOOL, V_STR, V_BIN, V_RAW };

struct field {
    const char *key;
    enum val_kind kind;
    uint64_t u;
    const void *bytes;
    size_t len;
};

static size_t build(uint8_t *out, size_t cap, const struct field *fields,
                    size_t n, uint32_t count)
{
    origo_buf buf;
    origo_buf_init(&buf, cap);
    origo_mp_put_map(&buf, count);
    for (size_t i = 0; i < n; i++) {
        const struct field *f = &fields[i];
        origo_mp_put_cstr(&buf, f->key);
        switch (f->kind) {
        case V_UINT:
            origo_mp_put_uint(&buf, f->u);
            break;
        case V_BOOL:
            origo_mp_put_bool(&buf, (int)f->u);
            break;
        case V_STR:
            origo_mp_put_str(&buf, f->bytes, f->len);
            break;
        case V_BIN:
            origo_mp_put_bin(&buf, f->bytes, f->len);
            break;
        case V_RAW:
            origo_buf_append(&buf, f->bytes, f->len);
            break;
        }
    }
    assert_int_equal(buf.err, 0);
    assert_true(buf.len <= cap);
    memcpy(out, buf.data, buf.len);
    size_t len = buf.len;
    origo_buf_close(&buf);
    return len;
}

static void expect_refused(const uint8_t *data, size_t len, int code)
{
    struct raft_msg m;
    memset(&m, 0xee, sizeof(m));
    struct raft_msg untouched = m;
    assert_int_equal(raftmsg_decode(data, len, &m), code);
    assert_memory_equal(&m, &untouched, sizeof(m));
}

#define HB(t, from, to, term, commit)                                          \
    {                                                                          \
        {"t", V_UINT, t, NULL, 0}, {"from", V_UINT, from, NULL, 0},            \
            {"to", V_UINT, to, NULL, 0}, {"term", V_UINT, term, NULL, 0},      \
        {                                                                      \
            "commit", V_UINT, commit, NULL, 0                                  \
        }                                                                      \
    }

/* The example of consensus/README.md, section "Wire format". */
static void heartbeat_matches_documented_bytes(void **state)
{
    (void)state;
    static const uint8_t expect[] = {0x85, 0xa1, 0x74, 0x07, 0xa4, 0x66, 0x72,
                                     0x6f, 0x6d, 0x01, 0xa2, 0x74, 0x6f, 0x02,
                                     0xa4, 0x74, 0x65, 0x72, 0x6d, 0x03, 0xa6,
                                     0x63, 0x6f, 0x6d, 0x6d, 0x69, 0x74, 0x04};
    struct raft_msg m = {
        .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 3};
    m.u.heartbeat.commit = 4;
    origo_buf buf;
    origo_buf_init(&buf, 64);
    assert_int_equal(raftmsg_encode(&m, &buf), 0);
    assert_int_equal(buf.len, sizeof(expect));
    assert_memory_equal(buf.data, expect, sizeof(expect));
    origo_buf_close(&buf);
}

static void heartbeat_hand_made_is_accepted(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    size_t len = build(bytes, sizeof(bytes), f, 5, 5);
    struct raft_msg m;
    assert_int_equal(raftmsg_decode(bytes, len, &m), 0);
    assert_int_equal(m.u.heartbeat.commit, 4);
}

static void truncated_and_trailing_bytes_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    size_t len = build(bytes, sizeof(bytes), f, 5, 5);
    bytes[len] = 0xc0;
    expect_refused(bytes, len + 1, ORIGO_E_TRAILING);
    for (size_t cut = 0; cut < len; cut++)
        expect_refused(bytes, cut, ORIGO_E_TRUNCATED);
}

static void unknown_message_types_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_TYPE_MAX + 1, 1, 2, 3, 4);
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_RAFT_MSG);
    f[0].u = 0;
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_RAFT_MSG);
}

static void missing_and_unknown_keys_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[6] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    /* "commit" left out. */
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 4, 4),
                   ORIGO_E_MISSING_KEY);
    /* One key too many. */
    f[5] = (struct field){"zzz", V_UINT, 1, NULL, 0};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 6, 6),
                   ORIGO_E_UNKNOWN_KEY);
    /* Right count, but a stranger in the place of "commit". */
    f[4].key = "comit";
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_UNKNOWN_KEY);
    /* The type key must come first. */
    struct field g[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    g[0].key = "from";
    g[1].key = "t";
    expect_refused(bytes, build(bytes, sizeof(bytes), g, 5, 5),
                   ORIGO_E_KEY_ORDER);
}

static void reordered_and_duplicate_keys_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    f[1].key = "to";
    f[2].key = "from";
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_KEY_ORDER);
    struct field g[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    g[2].key = "from";
    expect_refused(bytes, build(bytes, sizeof(bytes), g, 5, 5),
                   ORIGO_E_DUPLICATE_KEY);
}

static void wrong_value_types_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    f[4] = (struct field){"commit", V_STR, 0, "4", 1};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5), ORIGO_E_TYPE);
    /* A bool where a uint belongs and the reverse. */
    f[4] = (struct field){"commit", V_BOOL, 1, NULL, 0};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5), ORIGO_E_TYPE);
    struct field v[] = {{"t", V_UINT, RAFT_MSG_VOTE_RESP, NULL, 0},
                        {"from", V_UINT, 1, NULL, 0},
                        {"to", V_UINT, 2, NULL, 0},
                        {"term", V_UINT, 3, NULL, 0},
                        {"granted", V_UINT, 1, NULL, 0}};
    expect_refused(bytes, build(bytes, sizeof(bytes), v, 5, 5), ORIGO_E_TYPE);
    /* A negative term, a float term. */
    static const uint8_t negative[] = {0xff};
    static const uint8_t float32[] = {0xca, 0x3f, 0x80, 0x00, 0x00};
    f[4] = (struct field){"commit", V_UINT, 4, NULL, 0};
    f[3] = (struct field){"term", V_RAW, 0, negative, sizeof(negative)};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5), ORIGO_E_TYPE);
    f[3] = (struct field){"term", V_RAW, 0, float32, sizeof(float32)};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_RESERVED_TYPE);
    /* Not a map at all, and a key that is not a string. */
    static const uint8_t array[] = {0x91, 0x01};
    expect_refused(array, sizeof(array), ORIGO_E_TYPE);
    static const uint8_t int_key[] = {0x81, 0x01, 0x01};
    expect_refused(int_key, sizeof(int_key), ORIGO_E_TYPE);
}

static void non_canonical_integers_are_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    static const uint8_t long_five[] = {0xcd, 0x00, 0x05};
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    f[3] = (struct field){"term", V_RAW, 0, long_five, sizeof(long_five)};
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_NONCANONICAL);
    /* A map header in its long form. */
    struct field g[] = HB(RAFT_MSG_HEARTBEAT, 1, 2, 3, 4);
    size_t len = build(bytes + 2, sizeof(bytes) - 2, g, 5, 5);
    bytes[0] = 0xde;
    bytes[1] = 0x00;
    bytes[2] = 0x05;
    expect_refused(bytes, len + 2, ORIGO_E_NONCANONICAL);
}

static void node_id_zero_is_refused(void **state)
{
    (void)state;
    uint8_t bytes[256];
    struct field f[] = HB(RAFT_MSG_HEARTBEAT, 0, 2, 3, 4);
    expect_refused(bytes, build(bytes, sizeof(bytes), f, 5, 5),
                   ORIGO_E_RAFT_MSG);
    struct field g[] = HB(RAFT_MSG_HEARTBEAT, 1, 0, 3, 4);
    expect_refused(bytes, build(bytes, sizeof(bytes), g, 5, 5),
                   ORIGO_E_RAFT_MSG);
}

/* An APPEND with entries given as raw msgpack. */
static size_t build_append(uint8_t *out, size_t cap, uint64_t term,
                           uint64_t prev_term, const uint8_t *entries,
                           size_t entries_len)
{
    struct field f[] = {{"t", V_UINT, RAFT_MSG_APPEND, NULL, 0},
                        {"from", V_UINT, 1, NULL, 0},
                        {"to", V_UINT, 2, NULL, 0},
                        {"term", V_UINT, term, NULL, 0},
                        {"prev_index", V_UINT, 10, NULL, 0},
                        {"prev_term", V_UINT, prev_term, NULL, 0},
                        {"commit", V_UINT, 9, NULL, 0},
                        {"entries", V_RAW, 0, entries, entries_len}};
    return build(out, cap, f, 8, 8);
}

/* Raw msgpack of an entry array: terms[i], types[i], data of lens[i]. */
static size_t entries_raw(uint8_t *out, size_t cap, const uint64_t *terms,
                          const uint64_t *types, const size_t *lens, size_t n)
{
    static const uint8_t payload[64];
    origo_buf buf;
    origo_buf_init(&buf, cap);
    origo_mp_put_array(&buf, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        origo_mp_put_map(&buf, 3);
        origo_mp_put_cstr(&buf, "term");
        origo_mp_put_uint(&buf, terms[i]);
        origo_mp_put_cstr(&buf, "type");
        origo_mp_put_uint(&buf, types[i]);
        origo_mp_put_cstr(&buf, "data");
        origo_mp_put_bin(&buf, payload, lens[i]);
    }
    assert_int_equal(buf.err, 0);
    memcpy(out, buf.data, buf.len);
    size_t len = buf.len;
    origo_buf_close(&buf);
    return len;
}

static void append_entry_rules_are_enforced(void **state)
{
    (void)state;
    uint8_t raw[512], bytes[1024];
    uint64_t terms[] = {2, 3}, types[] = {0, 0};
    size_t lens[] = {5, 6};
    size_t n = entries_raw(raw, sizeof(raw), terms, types, lens, 2);
    struct raft_msg m;
    size_t len = build_append(bytes, sizeof(bytes), 3, 2, raw, n);
    assert_int_equal(raftmsg_decode(bytes, len, &m), 0);
    assert_int_equal(m.u.append.entries[1].index, 12);
    raftmsg_release(&m);
    raftmsg_release(&m); /* twice is harmless */
    /* An entry term above the message's term. */
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 2, 2, raw, n),
                   ORIGO_E_RAFT_MSG);
    /* Below prev_term. */
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 3, 3, raw, n),
                   ORIGO_E_RAFT_MSG);
    /* Decreasing. */
    terms[0] = 3;
    terms[1] = 2;
    n = entries_raw(raw, sizeof(raw), terms, types, lens, 2);
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 3, 1, raw, n),
                   ORIGO_E_RAFT_MSG);
    /* Unknown entry type; a NOOP carrying data; a CONFIG that does not
     * decode. */
    terms[1] = 3;
    types[1] = 3;
    n = entries_raw(raw, sizeof(raw), terms, types, lens, 2);
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 3, 1, raw, n),
                   ORIGO_E_RAFT_MSG);
    types[1] = RAFT_ENTRY_NOOP;
    n = entries_raw(raw, sizeof(raw), terms, types, lens, 2);
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 3, 1, raw, n),
                   ORIGO_E_RAFT_MSG);
    types[1] = RAFT_ENTRY_CONFIG;
    n = entries_raw(raw, sizeof(raw), terms, types, lens, 2);
    expect_refused(bytes, build_append(bytes, sizeof(bytes), 3, 1, raw, n),
                   ORIGO_E_RAFT_CONFIG);
    /* An entry without its data key. */
    static const uint8_t short_entry[] = {0x91, 0x82, 0xa4, 't',  'e',
                                          'r',  'm',  0x03, 0xa4, 't',
                                          'y',  'p',  'e',  0x00};
    expect_refused(bytes,
                   build_append(bytes, sizeof(bytes), 3, 1, short_entry,
                                sizeof(short_entry)),
                   ORIGO_E_MISSING_KEY);
}

static void size_limits_are_enforced(void **state)
{
    (void)state;
    /* More entries than allowed: refused from the header, before any
     * entry is read or allocated. */
    size_t n = RAFTMSG_MAX_ENTRIES + 1;
    size_t cap = n * 24 + 64;
    uint8_t *raw = malloc(cap);
    uint8_t *bytes = malloc(cap + 128);
    uint64_t *terms = malloc(n * sizeof(uint64_t));
    uint64_t *types = calloc(n, sizeof(uint64_t));
    size_t *lens = calloc(n, sizeof(size_t));
    assert_true(raw && bytes && terms && types && lens);
    for (size_t i = 0; i < n; i++)
        terms[i] = 1;
    size_t len = entries_raw(raw, cap, terms, types, lens, n);
    expect_refused(bytes, build_append(bytes, cap + 128, 1, 1, raw, len),
                   ORIGO_E_TOOBIG);
    len = entries_raw(raw, cap, terms, types, lens, n - 1);
    struct raft_msg m;
    assert_int_equal(
        raftmsg_decode(bytes, build_append(bytes, cap + 128, 1, 1, raw, len),
                       &m),
        0);
    assert_int_equal(m.u.append.n_entries, RAFTMSG_MAX_ENTRIES);
    raftmsg_release(&m);
    free(raw);
    free(bytes);
    free(terms);
    free(types);
    free(lens);

    /* An entry payload over the limit, and a frame over the cap. */
    size_t big_len = RAFTMSG_MAX_FRAME + 1;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    expect_refused(big, big_len, ORIGO_E_TOOBIG);
    uint8_t head[64];
    origo_buf buf;
    origo_buf_init(&buf, sizeof(head));
    origo_mp_put_array(&buf, 1);
    origo_mp_put_map(&buf, 3);
    origo_mp_put_cstr(&buf, "term");
    origo_mp_put_uint(&buf, 1);
    origo_mp_put_cstr(&buf, "type");
    origo_mp_put_uint(&buf, 0);
    origo_mp_put_cstr(&buf, "data");
    uint8_t bin32[] = {0xc6, 0, 0, 0, 0};
    uint32_t over = RAFTMSG_MAX_ENTRY_BYTES + 1;
    for (int i = 0; i < 4; i++)
        bin32[1 + i] = (uint8_t)(over >> (24 - 8 * i));
    origo_buf_append(&buf, bin32, sizeof(bin32));
    assert_int_equal(buf.err, 0);
    size_t total = build_append(big, big_len, 1, 1, buf.data, buf.len);
    total += over;
    assert_true(total <= RAFTMSG_MAX_FRAME);
    expect_refused(big, total, ORIGO_E_TOOBIG);
    origo_buf_close(&buf);
    free(big);
}

/* A SNAPSHOT with a given chunk window and configuration ids. */
static size_t build_snapshot(uint8_t *out, size_t cap, uint64_t total,
                             uint64_t offset, size_t chunk_len, int done,
                             const uint8_t *config, size_t config_len)
{
    static const uint8_t chunk[32];
    static const uint8_t digest[32] = {0xd1};
    struct field f[] = {{"t", V_UINT, RAFT_MSG_SNAPSHOT, NULL, 0},
                        {"from", V_UINT, 1, NULL, 0},
                        {"to", V_UINT, 2, NULL, 0},
                        {"term", V_UINT, 5, NULL, 0},
                        {"snap_index", V_UINT, 100, NULL, 0},
                        {"snap_term", V_UINT, 4, NULL, 0},
                        {"config", V_RAW, 0, config, config_len},
                        {"total_size", V_UINT, total, NULL, 0},
                        {"digest", V_BIN, 0, digest, sizeof(digest)},
                        {"offset", V_UINT, offset, NULL, 0},
                        {"chunk", V_BIN, 0, chunk, chunk_len},
                        {"done", V_BOOL, (uint64_t)done, NULL, 0}};
    return build(out, cap, f, 12, 12);
}

static void snapshot_rules_are_enforced(void **state)
{
    (void)state;
    /* {"voters": [1, 2], "learners": [3]} */
    static const uint8_t good[] = {0x82, 0xa6, 'v',  'o',  't',  'e', 'r', 's',
                                   0x92, 0x01, 0x02, 0xa8, 'l',  'e', 'a', 'r',
                                   'n',  'e',  'r',  's',  0x91, 0x03};
    uint8_t bytes[256];
    struct raft_msg m;
    size_t len =
        build_snapshot(bytes, sizeof(bytes), 64, 32, 32, 1, good, sizeof(good));
    assert_int_equal(raftmsg_decode(bytes, len, &m), 0);
    assert_int_equal(m.u.snapshot.meta.config.n_voters, 2);
    assert_int_equal(m.u.snapshot.meta.config.learners[0], 3);
    /* Chunk past the total size; done before the end. */
    expect_refused(
        bytes,
        build_snapshot(bytes, sizeof(bytes), 40, 32, 32, 0, good, sizeof(good)),
        ORIGO_E_RAFT_MSG);
    expect_refused(bytes,
                   build_snapshot(bytes, sizeof(bytes), 100, 32, 32, 1, good,
                                  sizeof(good)),
                   ORIGO_E_RAFT_MSG);
    /* A learner who is also a voter; an id 0. */
    uint8_t dup[sizeof(good)];
    memcpy(dup, good, sizeof(good));
    dup[sizeof(dup) - 1] = 0x02;
    expect_refused(
        bytes,
        build_snapshot(bytes, sizeof(bytes), 64, 32, 32, 1, dup, sizeof(dup)),
        ORIGO_E_RAFT_CONFIG);
    dup[sizeof(dup) - 1] = 0x00;
    expect_refused(
        bytes,
        build_snapshot(bytes, sizeof(bytes), 64, 32, 32, 1, dup, sizeof(dup)),
        ORIGO_E_RAFT_CONFIG);
    /* Config keys swapped. */
    static const uint8_t swapped[] = {0x82, 0xa8, 'l', 'e',  'a',  'r', 'n',
                                      'e',  'r',  's', 0x90, 0xa6, 'v', 'o',
                                      't',  'e',  'r', 's',  0x90};
    expect_refused(bytes,
                   build_snapshot(bytes, sizeof(bytes), 0, 0, 0, 1, swapped,
                                  sizeof(swapped)),
                   ORIGO_E_KEY_ORDER);
}

/* ---- mutations ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Every byte flip, insertion and deletion of valid encodings is either
 * refused or decodes to a message that re-encodes to the mutated bytes. */
static void mutated_encodings_refuse_or_round_trip(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    uint8_t data[40];
    memset(data, 0xab, sizeof(data));
    struct raft_entry entries[2] = {
        {.term = 3, .index = 11, .data = {data, sizeof(data)}},
        {.term = 3, .index = 12, .type = RAFT_ENTRY_NOOP}};
    struct raft_msg samples[4];
    samples[0] = header(RAFT_MSG_APPEND, 2);
    samples[0].term = 3;
    samples[0].u.append.prev_index = 10;
    samples[0].u.append.prev_term = 2;
    samples[0].u.append.entries = entries;
    samples[0].u.append.n_entries = 2;
    samples[1] = header(RAFT_MSG_VOTE, 5);
    samples[2] = header(RAFT_MSG_APPEND_RESP, 1);
    samples[3] = header(RAFT_MSG_SNAPSHOT, 3);
    samples[3].term = 9;
    samples[3].u.snapshot.meta = (struct raft_snapshot_meta){
        .index = 5, .term = 9, .config = {.n_voters = 1, .voters = {7}}};
    samples[3].u.snapshot.total_size = 40;
    samples[3].u.snapshot.chunk = (struct raft_buf){data, 10};
    size_t accepted = 0, refused = 0;
    for (size_t s = 0; s < 4; s++) {
        origo_buf buf;
        origo_buf_init(&buf, 4096);
        assert_int_equal(raftmsg_encode(&samples[s], &buf), 0);
        uint8_t mutated[4096];
        for (int round = 0; round < 3000; round++) {
            size_t len = buf.len;
            memcpy(mutated, buf.data, len);
            size_t at = (size_t)(rng() % len);
            switch (rng() % 3) {
            case 0:
                mutated[at] ^= (uint8_t)(1u << (rng() % 8));
                break;
            case 1:
                memmove(mutated + at + 1, mutated + at, len - at);
                mutated[at] = (uint8_t)rng();
                len++;
                break;
            default:
                memmove(mutated + at, mutated + at + 1, len - at - 1);
                len--;
                break;
            }
            struct raft_msg m;
            if (raftmsg_decode(mutated, len, &m) != 0) {
                refused++;
                continue;
            }
            accepted++;
            origo_buf again;
            origo_buf_init(&again, 8192);
            assert_int_equal(raftmsg_encode(&m, &again), 0);
            assert_int_equal(again.len, len);
            assert_memory_equal(again.data, mutated, len);
            origo_buf_close(&again);
            raftmsg_release(&m);
        }
        origo_buf_close(&buf);
    }
    printf("mutations: %zu accepted and re-encoded identically, %zu refused\n",
           accepted, refused);
    assert_true(accepted > 0 && refused > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vote_messages_round_trip),
        cmocka_unit_test(vote_responses_round_trip),
        cmocka_unit_test(append_round_trips_with_every_entry_kind),
        cmocka_unit_test(append_with_largest_entry_fits_a_frame),
        cmocka_unit_test(other_messages_round_trip),
        cmocka_unit_test(snapshot_chunks_round_trip),
        cmocka_unit_test(encoder_refuses_what_decoder_would),
        cmocka_unit_test(heartbeat_matches_documented_bytes),
        cmocka_unit_test(heartbeat_hand_made_is_accepted),
        cmocka_unit_test(truncated_and_trailing_bytes_are_refused),
        cmocka_unit_test(unknown_message_types_are_refused),
        cmocka_unit_test(missing_and_unknown_keys_are_refused),
        cmocka_unit_test(reordered_and_duplicate_keys_are_refused),
        cmocka_unit_test(wrong_value_types_are_refused),
        cmocka_unit_test(non_canonical_integers_are_refused),
        cmocka_unit_test(node_id_zero_is_refused),
        cmocka_unit_test(append_entry_rules_are_enforced),
        cmocka_unit_test(size_limits_are_enforced),
        cmocka_unit_test(snapshot_rules_are_enforced),
        cmocka_unit_test(mutated_encodings_refuse_or_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
