/* Known answers for the ledger's own formats: the worked example of
 * tests/vectors/ledger-example.json (computed by an independent encoder from
 * docs/formats/genesis.md and block.md) must come out of the C code byte
 * for byte: the genesis canonical encoding and hash, the header and hash of
 * an empty first block chained to that genesis, and of a second block whose
 * envelopes are all rejected but still counted and hashed by its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "genesis.h"
#include "ledger.h"
#include "testutil.h"

static uint8_t *unhex_alloc(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n ? n : 1);
    assert_int_equal(testutil_unhex(hex, out, n), (long)n);
    *len = n;
    return out;
}

static const char *field(json_t *obj, const char *name)
{
    const char *text = json_string_value(json_object_get(obj, name));
    assert_non_null(text);
    return text;
}

static void test_genesis_canonical_bytes_and_hash(void **state)
{
    json_t *vec = testutil_load_vector("ledger-example.json");
    const char *json = field(vec, "genesis_json");
    genesis *gen;
    char msg[256];
    uint8_t *canon, *want_canon, *want_hash;
    size_t canon_len, want_len, hash_len;
    assert_int_equal(
        genesis_parse((const uint8_t *)json, strlen(json), &gen, msg, 256), 0);
    assert_int_equal(genesis_encode(gen, &canon, &canon_len), 0);
    want_canon = unhex_alloc(field(vec, "genesis_canonical_hex"), &want_len);
    assert_int_equal(canon_len, want_len);
    assert_memory_equal(canon, want_canon, want_len);
    want_hash = unhex_alloc(field(vec, "genesis_hash_hex"), &hash_len);
    assert_memory_equal(gen->hash, want_hash, 32);
    free(canon);
    free(want_canon);
    free(want_hash);
    genesis_free(gen);
    json_decref(vec);
}

static void test_first_block_header_and_hash(void **state)
{
    json_t *vec = testutil_load_vector("ledger-example.json");
    json_t *b1 = json_object_get(vec, "block1");
    const char *json = field(vec, "genesis_json");
    char *dir = testutil_tmpdir(), msg[256];
    ledger *led;
    ledger_options opts = {.nosync = 1};
    assert_int_equal(ledger_open(dir, (const uint8_t *)json, strlen(json),
                                 &opts, &led, msg, sizeof(msg)),
                     0);
    uint64_t term = json_integer_value(json_object_get(b1, "raft_term"));
    uint64_t index = json_integer_value(json_object_get(b1, "raft_index"));
    uint64_t time = json_integer_value(json_object_get(b1, "time"));
    ledger_block_result res = {0};
    assert_int_equal(
        ledger_apply_block(led, NULL, term, index, time, NULL, 0, 0, &res), 0);
    size_t want_len, hash_len;
    uint8_t *want = unhex_alloc(field(vec, "block1_header_hex"), &want_len);
    uint8_t *want_hash = unhex_alloc(field(vec, "block1_hash_hex"), &hash_len);
    ledger_block_header h;
    uint8_t hash[32], *bytes;
    size_t len;
    assert_int_equal(ledger_block_get(led, NULL, 1, &h, hash), 0);
    assert_int_equal(ledger_block_encode(&h, &bytes, &len, NULL), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(bytes, want, len);
    assert_memory_equal(hash, want_hash, 32);
    assert_memory_equal(res.block_hash, want_hash, 32);
    free(bytes);
    free(want);
    free(want_hash);

    /* Block 2: two envelopes that do not decode, both rejected. */
    json_t *b2 = json_object_get(vec, "block2");
    json_t *hexes = json_object_get(b2, "envelopes_hex");
    ledger_envelope envs[2];
    uint8_t *env_bytes[2];
    ledger_outcome outcomes[2];
    assert_int_equal(json_array_size(hexes), 2);
    for (size_t i = 0; i < 2; i++) {
        size_t env_len;
        env_bytes[i] =
            unhex_alloc(json_string_value(json_array_get(hexes, i)), &env_len);
        envs[i] = (ledger_envelope){env_bytes[i], env_len, 0};
    }
    res = (ledger_block_result){.outcomes = outcomes};
    assert_int_equal(
        ledger_apply_block(
            led, NULL, json_integer_value(json_object_get(b2, "raft_term")),
            json_integer_value(json_object_get(b2, "raft_index")),
            json_integer_value(json_object_get(b2, "time")), envs, 2, 0, &res),
        0);
    assert_int_equal(res.rejected, 2);
    want = unhex_alloc(field(vec, "block2_header_hex"), &want_len);
    want_hash = unhex_alloc(field(vec, "block2_hash_hex"), &hash_len);
    uint8_t *want_content =
        unhex_alloc(field(vec, "block2_envelopes_hash_hex"), &hash_len);
    assert_int_equal(ledger_block_get(led, NULL, 2, &h, hash), 0);
    assert_int_equal(h.envelope_count, 2);
    assert_memory_equal(h.envelopes_hash, want_content, 32);
    assert_int_equal(ledger_block_encode(&h, &bytes, &len, NULL), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(bytes, want, len);
    assert_memory_equal(hash, want_hash, 32);
    assert_memory_equal(res.block_hash, want_hash, 32);
    free(bytes);
    free(want);
    free(want_hash);
    free(want_content);
    free(env_bytes[0]);
    free(env_bytes[1]);
    ledger_close(led);
    testutil_rmtree(dir);
    free(dir);
    json_decref(vec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_canonical_bytes_and_hash),
        cmocka_unit_test(test_first_block_header_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
