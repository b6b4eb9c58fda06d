/* Signatures: RFC 8032 vectors sign and verify; libsodium's strict verify
 * and ours reject small-order keys and R, non-canonical S, mixed-order keys
 * and wrong lengths; envelope verification rejects another network's
 * signature, a tampered body (every single-bit flip) and a signature made
 * without the domain prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event_samples.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "testutil.h"

/* The eight points of order dividing 8, canonically encoded. */
static const char *const small_order_hex[8] = {
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
};

/* L, the order of the prime subgroup, little-endian. */
static const uint8_t group_order[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

static void unhex_exact(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(testutil_unhex(hex, out, len), (long)len);
}

struct rfc_vector {
    uint8_t seed[32], pub[32], sig[64];
    uint8_t msg[2048];
    size_t msg_len;
};

static void load_rfc_vector(json_t *v, struct rfc_vector *out)
{
    unhex_exact(json_string_value(json_object_get(v, "secret_key")), out->seed,
                32);
    unhex_exact(json_string_value(json_object_get(v, "public_key")), out->pub,
                32);
    unhex_exact(json_string_value(json_object_get(v, "signature")), out->sig,
                64);
    long n = testutil_unhex(json_string_value(json_object_get(v, "message")),
                            out->msg, sizeof(out->msg));
    assert_true(n >= 0);
    out->msg_len = (size_t)n;
}

static void rfc8032_vectors_sign_and_verify(void **state)
{
    (void)state;
    json_t *root = testutil_load_vector("rfc8032.json");
    json_t *list = json_object_get(root, "vectors");
    assert_int_equal(json_array_size(list), 4);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        struct rfc_vector vec;
        load_rfc_vector(v, &vec);
        origo_key *key;
        assert_int_equal(origo_key_from_seed("rfc8032", vec.seed, &key), 0);
        assert_memory_equal(origo_key_public(key), vec.pub, 32);
        uint8_t sig[64];
        assert_int_equal(origo_key_sign(key, vec.msg, vec.msg_len, sig), 0);
        assert_memory_equal(sig, vec.sig, 64);
        assert_int_equal(origo_ed25519_verify(vec.pub, 32, vec.msg, vec.msg_len,
                                              vec.sig, 64),
                         0);
        /* One flipped bit anywhere in the signature breaks it. */
        for (size_t bit = 0; bit < 512; bit += 7) {
            uint8_t bad[64];
            memcpy(bad, vec.sig, 64);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_not_equal(origo_ed25519_verify(vec.pub, 32, vec.msg,
                                                      vec.msg_len, bad, 64),
                                 0);
        }
        if (vec.msg_len) {
            vec.msg[vec.msg_len - 1] ^= 1;
            assert_int_equal(origo_ed25519_verify(vec.pub, 32, vec.msg,
                                                  vec.msg_len, vec.sig, 64),
                             ORIGO_E_SIGNATURE);
        }
        origo_key_free(key);
    }
    json_decref(root);
}

static void small_order_points_are_small_order(void **state)
{
    (void)state;
    /* Guard the table itself: 8P is the identity for each entry. */
    static const uint8_t identity[32] = {1};
    for (int i = 0; i < 8; i++) {
        uint8_t p[32], p2[32], p4[32], p8[32];
        unhex_exact(small_order_hex[i], p, 32);
        assert_int_equal(crypto_core_ed25519_add(p2, p, p), 0);
        assert_int_equal(crypto_core_ed25519_add(p4, p2, p2), 0);
        assert_int_equal(crypto_core_ed25519_add(p8, p4, p4), 0);
        assert_memory_equal(p8, identity, 32);
    }
}

static void small_order_public_keys_rejected(void **state)
{
    (void)state;
    static const uint8_t msg[] = "origo";
    /* R = identity, S = 0 satisfies the cofactorless equation for the
     * identity key and every message: the classic trivial forgery. */
    uint8_t sig[64] = {1};
    for (int i = 0; i < 8; i++) {
        uint8_t pub[32];
        unhex_exact(small_order_hex[i], pub, 32);
        assert_int_equal(origo_pubkey_check(pub), ORIGO_E_KEY);
        assert_int_equal(origo_ed25519_verify(pub, 32, msg, 5, sig, 64),
                         ORIGO_E_KEY);
        /* libsodium's own strict verify rejects them too. */
        assert_int_equal(crypto_sign_verify_detached(sig, msg, 5, pub), -1);
    }
}

static void small_order_r_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    static const uint8_t msg[] = "origo";
    for (int i = 0; i < 8; i++) {
        uint8_t sig[64] = {0};
        unhex_exact(small_order_hex[i], sig, 32); /* R */
        assert_int_equal(
            crypto_sign_verify_detached(sig, msg, 5, origo_key_public(key)),
            -1);
        assert_int_equal(
            origo_ed25519_verify(origo_key_public(key), 32, msg, 5, sig, 64),
            ORIGO_E_SIGNATURE);
    }
    origo_key_free(key);
}

/* S + L, as 256-bit little-endian integers (S < L, so no overflow). */
static void add_group_order(uint8_t s[32])
{
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned sum = s[i] + group_order[i] + carry;
        s[i] = (uint8_t)sum;
        carry = sum >> 8;
    }
}

static void non_canonical_s_rejected(void **state)
{
    (void)state;
    json_t *root = testutil_load_vector("rfc8032.json");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "vectors"), i, v)
    {
        struct rfc_vector vec;
        load_rfc_vector(v, &vec);
        uint8_t sig[64];
        memcpy(sig, vec.sig, 64);
        add_group_order(sig + 32);
        /* Same point equation, S merely re-spelled: strict verify says no. */
        assert_int_equal(
            crypto_sign_verify_detached(sig, vec.msg, vec.msg_len, vec.pub),
            -1);
        assert_int_equal(
            origo_ed25519_verify(vec.pub, 32, vec.msg, vec.msg_len, sig, 64),
            ORIGO_E_SIGNATURE);
        /* And S with the top bits set. */
        memcpy(sig, vec.sig, 64);
        sig[63] |= 0xe0;
        assert_int_equal(
            origo_ed25519_verify(vec.pub, 32, vec.msg, vec.msg_len, sig, 64),
            ORIGO_E_SIGNATURE);
    }
    json_decref(root);
}

static void mixed_order_public_key_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    uint8_t torsion[32], mixed[32];
    unhex_exact(small_order_hex[4], torsion, 32);
    assert_int_equal(
        crypto_core_ed25519_add(mixed, origo_key_public(key), torsion), 0);
    assert_int_equal(origo_pubkey_check(origo_key_public(key)), 0);
    assert_int_equal(origo_pubkey_check(mixed), ORIGO_E_KEY);
    static const uint8_t msg[] = "origo";
    uint8_t sig[64];
    assert_int_equal(origo_key_sign(key, msg, 5, sig), 0);
    assert_int_equal(origo_ed25519_verify(mixed, 32, msg, 5, sig, 64),
                     ORIGO_E_KEY);
    origo_key_free(key);
}

static void key_check_cache_does_not_admit_weak_keys(void **state)
{
    (void)state;
    /* Find a valid key sharing its first byte (its cache slot) with the
     * small-order point 26e8...05, check it (cached), then the point. */
    uint8_t weak[32], seed[32] = {0}, pub[32], secret[64];
    unhex_exact(small_order_hex[4], weak, 32);
    for (unsigned i = 0;; i++) {
        assert_true(i < 100000);
        memcpy(seed, &i, sizeof(i));
        crypto_sign_seed_keypair(pub, secret, seed);
        if (pub[0] == weak[0])
            break;
    }
    for (int round = 0; round < 2; round++) {
        assert_int_equal(origo_pubkey_check(pub), 0);
        assert_int_equal(origo_pubkey_check(weak), ORIGO_E_KEY);
    }
    /* The valid key with a torsion point added stays invalid too. */
    uint8_t mixed[32];
    unhex_exact(small_order_hex[6], weak, 32);
    assert_int_equal(crypto_core_ed25519_add(mixed, pub, weak), 0);
    assert_int_equal(origo_pubkey_check(mixed), ORIGO_E_KEY);
    assert_int_equal(origo_pubkey_check(pub), 0);
}

static void non_canonical_public_key_rejected(void **state)
{
    (void)state;
    /* y = p (2^255 - 19) is a non-canonical spelling of y = 0. */
    uint8_t pub[32];
    unhex_exact(
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", pub,
        32);
    assert_int_equal(origo_pubkey_check(pub), ORIGO_E_KEY);
}

static void wrong_lengths_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    static const uint8_t msg[] = "origo";
    uint8_t sig[65] = {0}, pub[33] = {0};
    assert_int_equal(origo_key_sign(key, msg, 5, sig), 0);
    memcpy(pub, origo_key_public(key), 32);
    assert_int_equal(origo_ed25519_verify(pub, 32, msg, 5, sig, 64), 0);
    assert_int_equal(origo_ed25519_verify(pub, 31, msg, 5, sig, 64),
                     ORIGO_E_KEY);
    assert_int_equal(origo_ed25519_verify(pub, 33, msg, 5, sig, 64),
                     ORIGO_E_KEY);
    assert_int_equal(origo_ed25519_verify(pub, 32, msg, 5, sig, 63),
                     ORIGO_E_SIGNATURE);
    assert_int_equal(origo_ed25519_verify(pub, 32, msg, 5, sig, 65),
                     ORIGO_E_SIGNATURE);
    assert_int_equal(origo_ed25519_verify(pub, 32, msg, 5, sig, 0),
                     ORIGO_E_SIGNATURE);

    /* An envelope whose sig is 63 or 65 bytes does not decode. */
    origo_buf body, env;
    origo_event ev;
    sample_event(&ev, ORIGO_EV_QUALITY_HOLD, origo_key_public(key));
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    assert_int_equal(origo_event_encode_body(&ev, &body), 0);
    for (size_t len = 63; len <= 65; len += 2) {
        origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
        origo_mp_put_map(&env, 2);
        origo_mp_put_cstr(&env, "body");
        origo_mp_put_bin(&env, body.data, body.len);
        origo_mp_put_cstr(&env, "sig");
        origo_mp_put_bin(&env, sig, len);
        origo_envelope dec;
        assert_int_equal(origo_envelope_decode(env.data, env.len, &dec),
                         ORIGO_E_SIGNATURE);
        assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                               strlen(SAMPLE_NET), NULL, NULL),
                         ORIGO_E_SIGNATURE);
        origo_buf_close(&env);
    }
    origo_buf_close(&body);
    origo_key_free(key);
}

static void envelope_verifies_and_gives_id_and_view(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    for (int t = ORIGO_EV_LOT_CREATE; t <= ORIGO_EV_MEMBER_ROTATE; t++) {
        origo_buf env;
        origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
        assert_int_equal(sample_envelope(t, key, &env), 0);
        origo_event view;
        uint8_t id[32], want[32];
        assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                               strlen(SAMPLE_NET), &view, id),
                         0);
        assert_int_equal(view.type, t);
        origo_envelope dec;
        assert_int_equal(origo_envelope_decode(env.data, env.len, &dec), 0);
        origo_event_id(dec.body, dec.body_len, want);
        assert_memory_equal(id, want, 32);
        /* Envelope re-encodes to the same bytes. */
        origo_buf again;
        origo_buf_init(&again, ORIGO_ENVELOPE_MAX);
        assert_int_equal(
            origo_envelope_encode(dec.body, dec.body_len, dec.sig, &again), 0);
        assert_int_equal(again.len, env.len);
        assert_memory_equal(again.data, env.data, env.len);
        origo_buf_close(&again);
        origo_buf_close(&env);
    }
    origo_key_free(key);
}

static void signature_from_other_network_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    origo_event ev;
    sample_event(&ev, ORIGO_EV_COA_ATTEST, origo_key_public(key));
    ev.net = origo_str_c("origo.example/network-2");
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_seal(&ev, key, &env, NULL), 0);
    /* A validator of network-1 refuses network-2's event outright. */
    assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                           strlen(SAMPLE_NET), NULL, NULL),
                     ORIGO_E_NETWORK);
    assert_int_equal(origo_envelope_verify(env.data, env.len,
                                           "origo.example/network-2", 23, NULL,
                                           NULL),
                     0);
    /* Replaying network-2's signature on the same body with net rewritten
     * to network-1 fails the signature. */
    origo_envelope dec;
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec), 0);
    uint8_t sig2[64];
    memcpy(sig2, dec.sig, 64);
    ev.net = origo_str_c(SAMPLE_NET);
    origo_buf body, forged;
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&forged, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_encode_body(&ev, &body), 0);
    assert_int_equal(origo_envelope_encode(body.data, body.len, sig2, &forged),
                     0);
    assert_int_equal(origo_envelope_verify(forged.data, forged.len, SAMPLE_NET,
                                           strlen(SAMPLE_NET), NULL, NULL),
                     ORIGO_E_SIGNATURE);
    origo_buf_close(&forged);
    origo_buf_close(&body);
    origo_buf_close(&env);
    origo_key_free(key);
}

static void every_single_bit_flip_of_the_body_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(sample_envelope(ORIGO_EV_LOT_CREATE, key, &env), 0);
    origo_envelope dec;
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec), 0);
    size_t body_at = (size_t)(dec.body - env.data);
    for (size_t bit = 0; bit < dec.body_len * 8; bit++) {
        env.data[body_at + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                       strlen(SAMPLE_NET), NULL, NULL);
        if (rc == 0)
            fail_msg("flip of body bit %zu accepted", bit);
        env.data[body_at + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* And the signature: every bit. */
    size_t sig_at = env.len - 64;
    for (size_t bit = 0; bit < 512; bit++) {
        env.data[sig_at + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                               strlen(SAMPLE_NET), NULL, NULL),
                         ORIGO_E_SIGNATURE);
        env.data[sig_at + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                           strlen(SAMPLE_NET), NULL, NULL),
                     0);
    origo_buf_close(&env);
    origo_key_free(key);
}

static void signature_without_domain_prefix_rejected(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    origo_event ev;
    sample_event(&ev, ORIGO_EV_QUALITY_HOLD, origo_key_public(key));
    origo_buf body, env;
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_encode_body(&ev, &body), 0);
    uint8_t sig[64];
    assert_int_equal(origo_key_sign(key, body.data, body.len, sig), 0);
    assert_int_equal(origo_event_verify_sig(origo_key_public(key), 32,
                                            body.data, body.len, sig, 64),
                     ORIGO_E_SIGNATURE);
    /* The prefix includes its NUL: signing without it fails too. */
    assert_int_equal(origo_key_sign_prefixed(key,
                                             (const uint8_t *)"origo/event/v1",
                                             14, body.data, body.len, sig),
                     0);
    assert_int_equal(origo_event_verify_sig(origo_key_public(key), 32,
                                            body.data, body.len, sig, 64),
                     ORIGO_E_SIGNATURE);
    assert_int_equal(origo_event_sign(key, body.data, body.len, sig), 0);
    assert_int_equal(origo_event_verify_sig(origo_key_public(key), 32,
                                            body.data, body.len, sig, 64),
                     0);
    origo_buf_close(&env);
    origo_buf_close(&body);
    origo_key_free(key);
}

static void envelope_with_weak_submitter_key_rejected(void **state)
{
    (void)state;
    /* A body naming the identity point as `by`, "signed" with the trivial
     * forgery R = identity, S = 0. */
    uint8_t weak[32] = {1}, sig[64] = {1};
    origo_event ev;
    sample_event(&ev, ORIGO_EV_QUALITY_HOLD, weak);
    origo_buf body, env;
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_encode_body(&ev, &body), 0);
    assert_int_equal(origo_envelope_encode(body.data, body.len, sig, &env), 0);
    assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                           strlen(SAMPLE_NET), NULL, NULL),
                     ORIGO_E_KEY);
    origo_buf_close(&env);
    origo_buf_close(&body);
}

static void seal_refuses_a_key_that_is_not_by(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    assert_non_null(key);
    uint8_t other[32];
    sample_member_pub(other);
    origo_event ev;
    sample_event(&ev, ORIGO_EV_QUALITY_HOLD, other);
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_seal(&ev, key, &env, NULL), ORIGO_E_KEY);
    origo_buf_close(&env);
    origo_key_free(key);
}

static void envelope_decoder_rejects_malformed_maps(void **state)
{
    (void)state;
    uint8_t sig[64] = {0}, body[4] = {0x80};
    origo_buf env;
    origo_envelope dec;
    /* Keys swapped. */
    origo_buf_init(&env, 1024);
    origo_mp_put_map(&env, 2);
    origo_mp_put_cstr(&env, "sig");
    origo_mp_put_bin(&env, sig, 64);
    origo_mp_put_cstr(&env, "body");
    origo_mp_put_bin(&env, body, 1);
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec),
                     ORIGO_E_KEY_ORDER);
    origo_buf_close(&env);
    /* A third key. */
    origo_buf_init(&env, 1024);
    origo_mp_put_map(&env, 3);
    origo_mp_put_cstr(&env, "body");
    origo_mp_put_bin(&env, body, 1);
    origo_mp_put_cstr(&env, "sig");
    origo_mp_put_bin(&env, sig, 64);
    origo_mp_put_cstr(&env, "x");
    origo_mp_put_nil(&env);
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec),
                     ORIGO_E_UNKNOWN_KEY);
    origo_buf_close(&env);
    /* Body as str instead of bin. */
    origo_buf_init(&env, 1024);
    origo_mp_put_map(&env, 2);
    origo_mp_put_cstr(&env, "body");
    origo_mp_put_str(&env, "\x80", 1);
    origo_mp_put_cstr(&env, "sig");
    origo_mp_put_bin(&env, sig, 64);
    assert_int_not_equal(origo_envelope_decode(env.data, env.len, &dec), 0);
    origo_buf_close(&env);
    /* Trailing byte. */
    origo_buf_init(&env, 1024);
    assert_int_equal(origo_envelope_encode(body, 1, sig, &env), 0);
    origo_mp_put_nil(&env);
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec),
                     ORIGO_E_TRAILING);
    origo_buf_close(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc8032_vectors_sign_and_verify),
        cmocka_unit_test(small_order_points_are_small_order),
        cmocka_unit_test(small_order_public_keys_rejected),
        cmocka_unit_test(small_order_r_rejected),
        cmocka_unit_test(non_canonical_s_rejected),
        cmocka_unit_test(mixed_order_public_key_rejected),
        cmocka_unit_test(key_check_cache_does_not_admit_weak_keys),
        cmocka_unit_test(non_canonical_public_key_rejected),
        cmocka_unit_test(wrong_lengths_rejected),
        cmocka_unit_test(envelope_verifies_and_gives_id_and_view),
        cmocka_unit_test(signature_from_other_network_rejected),
        cmocka_unit_test(every_single_bit_flip_of_the_body_rejected),
        cmocka_unit_test(signature_without_domain_prefix_rejected),
        cmocka_unit_test(envelope_with_weak_submitter_key_rejected),
        cmocka_unit_test(seal_refuses_a_key_that_is_not_by),
        cmocka_unit_test(envelope_decoder_rejects_malformed_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
