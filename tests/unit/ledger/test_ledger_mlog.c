/* The ledger's Merkle log against the RFC 9162 vectors of
 * tests/vectors/merkle.json (roots, inclusion and consistency proofs for
 * trees of 0..70 leaves, byte for byte) and against the SDK's in-memory
 * reference tree for random trees up to 100,000 leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origo/error.h"
#include "origo/merkle.h"

#include "ledger.h"
#include "ledgertest.h"
#include "testutil.h"

static ledger *raw_store(const lt_net *net, char **dir)
{
    return lt_store(net, dir, 0);
}

static void unhex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(testutil_unhex(hex, out, 32), 32);
}

static void check_proof(json_t *want, uint8_t (*proof)[32], size_t len)
{
    assert_int_equal(json_array_size(want), len);
    for (size_t i = 0; i < len; i++) {
        uint8_t h[32];
        unhex32(json_string_value(json_array_get(want, i)), h);
        assert_memory_equal(h, proof[i], 32);
    }
}

static void test_vectors_roots_and_proofs_equal_byte_for_byte(void **state)
{
    lt_net net;
    char *dir;
    json_t *vec = testutil_load_vector("merkle.json");
    json_t *leaves = json_object_get(vec, "leaves_hex");
    lt_net_init(&net, 1000);
    ledger *led = raw_store(&net, &dir);
    size_t count = json_array_size(leaves);
    assert_int_equal(count, 70);
    /* Append one leaf at a time and check the head root at every size. */
    for (size_t i = 0; i <= count; i++) {
        ledger_state st;
        char key[16];
        uint8_t want[32];
        assert_int_equal(ledger_get_state(led, NULL, &st), 0);
        assert_int_equal(st.tree_size, i);
        snprintf(key, sizeof(key), "%zu", i);
        unhex32(json_string_value(json_object_get(
                    json_object_get(vec, "roots_by_size"), key)),
                want);
        assert_memory_equal(st.root, want, 32);
        if (i == count)
            break;
        uint8_t leaf[64];
        long n = testutil_unhex(json_string_value(json_array_get(leaves, i)),
                                leaf, sizeof(leaf));
        assert_true(n > 0);
        const uint8_t *lp = leaf;
        size_t ln = (size_t)n;
        assert_int_equal(ledger_test_append_leaves(led, &lp, &ln, 1), 0);
    }
    /* Roots at every earlier size from the full store. */
    for (size_t size = 0; size <= count; size++) {
        char key[16];
        uint8_t want[32], got[32];
        snprintf(key, sizeof(key), "%zu", size);
        unhex32(json_string_value(json_object_get(
                    json_object_get(vec, "roots_by_size"), key)),
                want);
        assert_int_equal(ledger_root_at(led, NULL, size, got), 0);
        assert_memory_equal(got, want, 32);
    }
    size_t i;
    json_t *item;
    size_t checked = 0;
    json_array_foreach(json_object_get(vec, "inclusion"), i, item)
    {
        uint8_t proof[ORIGO_MERKLE_MAX_PROOF][32];
        size_t len;
        uint64_t index = json_integer_value(json_object_get(item, "index"));
        uint64_t size = json_integer_value(json_object_get(item, "tree_size"));
        assert_int_equal(ledger_inclusion_proof(led, NULL, index, size, proof,
                                                ORIGO_MERKLE_MAX_PROOF, &len),
                         0);
        check_proof(json_object_get(item, "proof"), proof, len);
        checked++;
    }
    json_array_foreach(json_object_get(vec, "consistency"), i, item)
    {
        uint8_t proof[ORIGO_MERKLE_MAX_PROOF][32];
        size_t len;
        uint64_t old_size =
            json_integer_value(json_object_get(item, "old_size"));
        uint64_t new_size =
            json_integer_value(json_object_get(item, "new_size"));
        assert_int_equal(ledger_consistency_proof(led, NULL, old_size, new_size,
                                                  proof, ORIGO_MERKLE_MAX_PROOF,
                                                  &len),
                         0);
        check_proof(json_object_get(item, "proof"), proof, len);
        checked++;
    }
    assert_true(checked > 1000);
    /* Sizes beyond the tree are refused. */
    uint8_t root[32];
    assert_int_equal(ledger_root_at(led, NULL, 71, root), ORIGO_E_TREE_SIZE);
    ledger_close(led);
    testutil_rmtree(dir);
    free(dir);
    json_decref(vec);
    lt_net_close(&net);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void compare_at(ledger *led, origo_merkle_tree *ref, uint64_t size,
                       int every)
{
    uint8_t a[32], b[32];
    uint8_t pa[ORIGO_MERKLE_MAX_PROOF][32], pb[ORIGO_MERKLE_MAX_PROOF][32];
    size_t la, lb;
    assert_int_equal(ledger_root_at(led, NULL, size, a), 0);
    assert_int_equal(
        origo_merkle_root(origo_merkle_tree_get_node, ref, size, b), 0);
    assert_memory_equal(a, b, 32);
    uint64_t n = every ? size : (size < 8 ? size : 8);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t index = every ? k : rnd() % size;
        assert_int_equal(ledger_inclusion_proof(led, NULL, index, size, pa,
                                                ORIGO_MERKLE_MAX_PROOF, &la),
                         0);
        assert_int_equal(
            origo_merkle_inclusion_proof(origo_merkle_tree_get_node, ref, index,
                                         size, pb, ORIGO_MERKLE_MAX_PROOF, &lb),
            0);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la * 32);
    }
    uint64_t m = every ? size + 1 : 8;
    for (uint64_t k = 0; k < m; k++) {
        uint64_t old_size = every ? k : rnd() % (size + 1);
        assert_int_equal(ledger_consistency_proof(led, NULL, old_size, size, pa,
                                                  ORIGO_MERKLE_MAX_PROOF, &la),
                         0);
        assert_int_equal(origo_merkle_consistency_proof(
                             origo_merkle_tree_get_node, ref, old_size, size,
                             pb, ORIGO_MERKLE_MAX_PROOF, &lb),
                         0);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la * 32);
    }
}

/* Node (height, index) of the tree over leaf hashes lh[], by definition. */
static void node_hash(const uint8_t (*lh)[32], unsigned height, uint64_t index,
                      uint8_t out[32])
{
    if (height == 0) {
        memcpy(out, lh[index], 32);
        return;
    }
    uint8_t l[32], r[32];
    node_hash(lh, height - 1, 2 * index, l);
    node_hash(lh, height - 1, 2 * index + 1, r);
    origo_merkle_node_hash(l, r, out);
}

/* Hash tiles (C2SP tlog-tiles) against the definition, full and partial,
 * at levels 0, 1 and 2, and the refusal of tiles the tree lacks. */
static void check_tiles(ledger *led, const uint8_t (*lh)[32], uint64_t size)
{
    static const struct {
        unsigned level;
        uint64_t index;
    } tiles[] = {{0, 0}, {0, 5}, {0, 390}, {1, 0}, {1, 1}, {2, 0}};
    static uint8_t got[256][32], want[32];
    for (size_t t = 0; t < sizeof(tiles) / sizeof(tiles[0]); t++) {
        unsigned h = 8 * tiles[t].level;
        uint64_t have = (size >> h) - tiles[t].index * 256;
        unsigned width = have >= 256 ? 256 : (unsigned)have;
        assert_true(width > 0);
        assert_int_equal(ledger_tile(led, NULL, tiles[t].level, tiles[t].index,
                                     width, got[0]),
                         0);
        for (unsigned i = 0; i < width; i++) {
            node_hash(lh, h, tiles[t].index * 256 + i, want);
            assert_memory_equal(got[i], want, 32);
        }
        if (width < 256)
            assert_int_equal(ledger_tile(led, NULL, tiles[t].level,
                                         tiles[t].index, width + 1, got[0]),
                             ORIGO_E_TREE_SIZE);
    }
    assert_int_equal(ledger_tile(led, NULL, 0, 391, 1, got[0]),
                     ORIGO_E_TREE_SIZE);
    assert_int_equal(ledger_tile(led, NULL, 0, 0, 0, got[0]), ORIGO_E_INVAL);
}

static void test_random_trees_agree_with_reference_tree(void **state)
{
    enum { TOTAL = 100000, BATCH = 2000 };
    lt_net net;
    char *dir;
    origo_merkle_tree *ref;
    lt_net_init(&net, 1000);
    ledger *led = raw_store(&net, &dir);
    assert_int_equal(origo_merkle_tree_new(&ref), 0);
    static uint8_t data[BATCH][24];
    static uint8_t leaf_hashes[TOTAL][32];
    const uint8_t *ptrs[BATCH];
    size_t lens[BATCH];
    uint64_t size = 0;
    while (size < TOTAL) {
        size_t n = size < 200 ? 1 : 1 + rnd() % BATCH;
        if (size + n > TOTAL)
            n = TOTAL - size;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rnd();
            lens[i] = 1 + r % 24;
            for (size_t j = 0; j < lens[i]; j++)
                data[i][j] = (uint8_t)rnd();
            ptrs[i] = data[i];
            origo_merkle_leaf_hash(data[i], lens[i], leaf_hashes[size + i]);
            assert_int_equal(origo_merkle_tree_append(ref, data[i], lens[i]),
                             0);
        }
        assert_int_equal(ledger_test_append_leaves(led, ptrs, lens, n), 0);
        size += n;
        /* Every proof of every small tree; sampled proofs of large ones. */
        compare_at(led, ref, size, size <= 70);
        ledger_state st;
        assert_int_equal(ledger_get_state(led, NULL, &st), 0);
        assert_int_equal(st.tree_size, size);
    }
    /* Sampled earlier sizes of the final store. */
    for (int k = 0; k < 300; k++)
        compare_at(led, ref, 1 + rnd() % TOTAL, 0);
    compare_at(led, ref, TOTAL, 0);
    check_tiles(led, (const uint8_t(*)[32])leaf_hashes, TOTAL);
    /* The store began with a 1 MiB map and grew on MDB_MAP_FULL. */
    MDB_envinfo info;
    assert_int_equal(mdb_env_info(ledger_env(led), &info), 0);
    assert_true(info.me_mapsize > (1u << 20));
    origo_merkle_tree_free(ref);
    ledger_close(led);
    testutil_rmtree(dir);
    free(dir);
    lt_net_close(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_roots_and_proofs_equal_byte_for_byte),
        cmocka_unit_test(test_random_trees_agree_with_reference_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
