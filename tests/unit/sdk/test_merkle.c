/* RFC 9162 Merkle trees: the generator reproduces every root, inclusion and
 * consistency proof of tests/vectors/merkle.json byte for byte, the verifier
 * accepts all of them and rejects every single-bit change, generator and
 * verifier agree with a naive recursive reference on random trees, and the
 * frontier produces the same roots and nodes as the reference tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "origo/error.h"
#include "origo/merkle.h"
#include "testutil.h"

#define HL ORIGO_HASH_LEN

typedef uint8_t hash_t[HL];

/* ---- fixtures ----------------------------------------------------------- */

typedef struct vectors {
    json_t *root;
    size_t leaf_count;
    hash_t leaf_hashes[128];
    origo_merkle_tree *tree;
} vectors;

static void unhex_exact(const char *hex, uint8_t *out, size_t len)
{
    assert_non_null(hex);
    assert_int_equal(testutil_unhex(hex, out, len), (long)len);
}

static void load_proof(json_t *array, hash_t *proof, size_t *count)
{
    assert_true(json_is_array(array));
    *count = json_array_size(array);
    assert_true(*count <= ORIGO_MERKLE_MAX_PROOF);
    for (size_t i = 0; i < *count; i++)
        unhex_exact(json_string_value(json_array_get(array, i)), proof[i], HL);
}

static int vectors_setup(void **state)
{
    vectors *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    v->root = testutil_load_vector("merkle.json");
    json_t *leaves = json_object_get(v->root, "leaves_hex");
    json_t *hashes = json_object_get(v->root, "leaf_hashes_hex");
    v->leaf_count = json_array_size(leaves);
    assert_int_equal(v->leaf_count, 70);
    assert_int_equal(json_array_size(hashes), v->leaf_count);
    assert_int_equal(origo_merkle_tree_new(&v->tree), 0);
    for (size_t i = 0; i < v->leaf_count; i++) {
        uint8_t leaf[64];
        long len = testutil_unhex(json_string_value(json_array_get(leaves, i)),
                                  leaf, sizeof(leaf));
        assert_true(len > 0);
        unhex_exact(json_string_value(json_array_get(hashes, i)),
                    v->leaf_hashes[i], HL);
        hash_t computed;
        origo_merkle_leaf_hash(leaf, (size_t)len, computed);
        assert_memory_equal(computed, v->leaf_hashes[i], HL);
        assert_int_equal(origo_merkle_tree_append(v->tree, leaf, (size_t)len),
                         0);
    }
    *state = v;
    return 0;
}

static int vectors_teardown(void **state)
{
    vectors *v = *state;
    origo_merkle_tree_free(v->tree);
    json_decref(v->root);
    free(v);
    return 0;
}

static void vector_root(vectors *v, uint64_t size, hash_t out)
{
    char key[32];
    snprintf(key, sizeof(key), "%llu", (unsigned long long)size);
    json_t *roots = json_object_get(v->root, "roots_by_size");
    unhex_exact(json_string_value(json_object_get(roots, key)), out, HL);
}

/* The decisions the RFC 9162 inclusion verifier takes for (index, size):
 * one bit per proof hash (1 = the proof hash is the left input), packed,
 * plus the proof length. Two (index, size) pairs with the same shape compute
 * the same function of the proof, so no verifier can tell them apart; the
 * signed checkpoint is what binds the size. */
static uint64_t inclusion_shape(uint64_t index, uint64_t size)
{
    uint64_t fn = index, sn = size - 1, shape = 1;
    size_t len = origo_merkle_inclusion_proof_len(index, size);
    for (size_t i = 0; i < len; i++) {
        int left = (fn & 1) || fn == sn;
        shape = (shape << 1) | (uint64_t)left;
        if (left)
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        fn >>= 1;
        sn >>= 1;
    }
    return shape;
}

/* ---- vectors: roots ----------------------------------------------------- */

static void vector_roots_reproduced(void **state)
{
    vectors *v = *state;
    origo_merkle_frontier frontier;
    origo_merkle_frontier_init(&frontier);
    for (uint64_t size = 0; size <= v->leaf_count; size++) {
        hash_t expect, got;
        vector_root(v, size, expect);
        assert_int_equal(
            origo_merkle_root(origo_merkle_tree_get_node, v->tree, size, got),
            0);
        assert_memory_equal(got, expect, HL);
        origo_merkle_frontier_root(&frontier, got);
        assert_memory_equal(got, expect, HL);
        if (size < v->leaf_count)
            assert_int_equal(origo_merkle_frontier_append(
                                 &frontier, v->leaf_hashes[size], NULL, NULL),
                             0);
    }
    hash_t empty;
    origo_merkle_empty_root(empty);
    hash_t expect0;
    vector_root(v, 0, expect0);
    assert_memory_equal(empty, expect0, HL);
}

/* ---- vectors: inclusion ------------------------------------------------- */

static void vector_inclusion_proofs_reproduced_and_verified(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "inclusion");
    assert_true(json_array_size(cases) > 400);
    size_t index_arr;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t index = json_integer_value(json_object_get(entry, "index"));
        uint64_t size = json_integer_value(json_object_get(entry, "tree_size"));
        hash_t expect[ORIGO_MERKLE_MAX_PROOF], got[ORIGO_MERKLE_MAX_PROOF];
        size_t expect_len, got_len = 999;
        load_proof(json_object_get(entry, "proof"), expect, &expect_len);
        assert_int_equal(origo_merkle_inclusion_proof(
                             origo_merkle_tree_get_node, v->tree, index, size,
                             got, ORIGO_MERKLE_MAX_PROOF, &got_len),
                         0);
        assert_int_equal(got_len, expect_len);
        assert_int_equal(origo_merkle_inclusion_proof_len(index, size),
                         expect_len);
        if (expect_len > 0)
            assert_memory_equal(got, expect, expect_len * HL);
        hash_t root, computed;
        vector_root(v, size, root);
        assert_int_equal(origo_merkle_verify_inclusion(
                             index, size, v->leaf_hashes[index],
                             (const uint8_t(*)[HL])expect, expect_len, root),
                         0);
        assert_int_equal(
            origo_merkle_root_from_inclusion(index, size, v->leaf_hashes[index],
                                             (const uint8_t(*)[HL])expect,
                                             expect_len, computed),
            0);
        assert_memory_equal(computed, root, HL);
    }
}

static int inclusion_ok(uint64_t index, uint64_t size, const uint8_t *leaf,
                        hash_t *proof, size_t len, const uint8_t *root)
{
    return origo_merkle_verify_inclusion(
               index, size, leaf, (const uint8_t(*)[HL])proof, len, root) == 0;
}

static void vector_inclusion_bit_flips_rejected(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "inclusion");
    size_t checked = 0, index_arr;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t index = json_integer_value(json_object_get(entry, "index"));
        uint64_t size = json_integer_value(json_object_get(entry, "tree_size"));
        hash_t proof[ORIGO_MERKLE_MAX_PROOF], root, leaf;
        size_t len;
        load_proof(json_object_get(entry, "proof"), proof, &len);
        vector_root(v, size, root);
        memcpy(leaf, v->leaf_hashes[index], HL);
        for (size_t bit = 0; bit < HL * 8; bit++) {
            uint8_t mask = (uint8_t)(1u << (bit % 8));
            for (size_t p = 0; p < len; p++) {
                proof[p][bit / 8] ^= mask;
                assert_false(inclusion_ok(index, size, leaf, proof, len, root));
                proof[p][bit / 8] ^= mask;
                checked++;
            }
            leaf[bit / 8] ^= mask;
            assert_false(inclusion_ok(index, size, leaf, proof, len, root));
            leaf[bit / 8] ^= mask;
            root[bit / 8] ^= mask;
            assert_false(inclusion_ok(index, size, leaf, proof, len, root));
            root[bit / 8] ^= mask;
            checked += 2;
        }
        assert_true(inclusion_ok(index, size, leaf, proof, len, root));
        /* A proof with a hash missing or added is rejected by length. */
        if (len > 0)
            assert_int_equal(origo_merkle_verify_inclusion(
                                 index, size, leaf, (const uint8_t(*)[HL])proof,
                                 len - 1, root),
                             ORIGO_E_PROOF_SIZE);
        memcpy(proof[len], proof[0], HL);
        assert_int_equal(
            origo_merkle_verify_inclusion(
                index, size, leaf, (const uint8_t(*)[HL])proof, len + 1, root),
            ORIGO_E_PROOF_SIZE);
    }
    assert_true(checked > 100000);
}

static void vector_inclusion_wrong_index_or_size_rejected(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "inclusion");
    size_t index_arr, same_shape_sizes = 0;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t index = json_integer_value(json_object_get(entry, "index"));
        uint64_t size = json_integer_value(json_object_get(entry, "tree_size"));
        hash_t proof[ORIGO_MERKLE_MAX_PROOF], root;
        size_t len;
        load_proof(json_object_get(entry, "proof"), proof, &len);
        vector_root(v, size, root);
        const uint8_t *leaf = v->leaf_hashes[index];
        /* Another index of the same tree: always a different shape, and the
         * leaf hash is bound to its position, so always rejected. */
        for (uint64_t other = 0; other < size; other++) {
            if (other == index)
                continue;
            assert_true(inclusion_shape(other, size) !=
                        inclusion_shape(index, size));
            assert_false(inclusion_ok(other, size, leaf, proof, len, root));
        }
        assert_int_equal(
            origo_merkle_verify_inclusion(
                size, size, leaf, (const uint8_t(*)[HL])proof, len, root),
            ORIGO_E_TREE_SIZE);
        /* Another size: rejected whenever it changes what the verifier
         * computes; sizes of identical shape are indistinguishable. */
        for (uint64_t other = index + 1; other <= 2 * size + 2; other++) {
            if (other == size)
                continue;
            if (inclusion_shape(index, other) == inclusion_shape(index, size)) {
                same_shape_sizes++;
                continue;
            }
            assert_false(inclusion_ok(index, other, leaf, proof, len, root));
        }
    }
    assert_true(same_shape_sizes > 0); /* the caveat is real, and covered */
}

/* ---- vectors: consistency ----------------------------------------------- */

static int consistency_ok(uint64_t m, uint64_t n, const uint8_t *r1,
                          const uint8_t *r2, hash_t *proof, size_t len)
{
    return origo_merkle_verify_consistency(
               m, n, r1, r2, (const uint8_t(*)[HL])proof, len) == 0;
}

static void vector_consistency_proofs_reproduced_and_verified(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "consistency");
    assert_true(json_array_size(cases) > 600);
    size_t index_arr;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t m = json_integer_value(json_object_get(entry, "old_size"));
        uint64_t n = json_integer_value(json_object_get(entry, "new_size"));
        hash_t expect[ORIGO_MERKLE_MAX_PROOF], got[ORIGO_MERKLE_MAX_PROOF];
        size_t expect_len, got_len = 999;
        load_proof(json_object_get(entry, "proof"), expect, &expect_len);
        assert_int_equal(origo_merkle_consistency_proof(
                             origo_merkle_tree_get_node, v->tree, m, n, got,
                             ORIGO_MERKLE_MAX_PROOF, &got_len),
                         0);
        assert_int_equal(got_len, expect_len);
        assert_int_equal(origo_merkle_consistency_proof_len(m, n), expect_len);
        if (expect_len > 0)
            assert_memory_equal(got, expect, expect_len * HL);
        hash_t r1, r2;
        vector_root(v, m, r1);
        vector_root(v, n, r2);
        assert_true(consistency_ok(m, n, r1, r2, expect, expect_len));
    }
}

static void vector_consistency_bit_flips_rejected(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "consistency");
    size_t checked = 0, index_arr;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t m = json_integer_value(json_object_get(entry, "old_size"));
        uint64_t n = json_integer_value(json_object_get(entry, "new_size"));
        hash_t proof[ORIGO_MERKLE_MAX_PROOF], r1, r2;
        size_t len;
        load_proof(json_object_get(entry, "proof"), proof, &len);
        vector_root(v, m, r1);
        vector_root(v, n, r2);
        for (size_t bit = 0; bit < HL * 8; bit++) {
            uint8_t mask = (uint8_t)(1u << (bit % 8));
            for (size_t p = 0; p < len; p++) {
                proof[p][bit / 8] ^= mask;
                assert_false(consistency_ok(m, n, r1, r2, proof, len));
                proof[p][bit / 8] ^= mask;
                checked++;
            }
            r1[bit / 8] ^= mask;
            assert_false(consistency_ok(m, n, r1, r2, proof, len));
            r1[bit / 8] ^= mask;
            r2[bit / 8] ^= mask;
            assert_false(consistency_ok(m, n, r1, r2, proof, len));
            r2[bit / 8] ^= mask;
            checked += 2;
        }
        assert_true(consistency_ok(m, n, r1, r2, proof, len));
        if (len > 0)
            assert_false(consistency_ok(m, n, r1, r2, proof, len - 1));
        memcpy(proof[len], r1, HL);
        assert_false(consistency_ok(m, n, r1, r2, proof, len + 1));
    }
    assert_true(checked > 100000);
}

static void vector_consistency_wrong_sizes_rejected(void **state)
{
    vectors *v = *state;
    json_t *cases = json_object_get(v->root, "consistency");
    size_t index_arr, rejected = 0, accepted_other = 0;
    json_t *entry;
    json_array_foreach(cases, index_arr, entry)
    {
        uint64_t m = json_integer_value(json_object_get(entry, "old_size"));
        uint64_t n = json_integer_value(json_object_get(entry, "new_size"));
        hash_t proof[ORIGO_MERKLE_MAX_PROOF], r1, r2;
        size_t len;
        load_proof(json_object_get(entry, "proof"), proof, &len);
        vector_root(v, m, r1);
        vector_root(v, n, r2);
        /* Claimed old sizes: the old root of the vectors binds the real old
         * size, so any other old size within the new tree is rejected. */
        for (uint64_t other = 1; other <= n; other++) {
            if (other == m)
                continue;
            assert_false(consistency_ok(other, n, r1, r2, proof, len));
            rejected++;
        }
        assert_false(consistency_ok(n + 1, n, r1, r2, proof, len));
        /* Claimed new sizes: an RFC 9162 verifier cannot always tell a
         * larger size of the same shape; count those, reject the rest. */
        for (uint64_t other = m; other <= 2 * n + 2; other++) {
            if (other == n)
                continue;
            if (consistency_ok(m, other, r1, r2, proof, len)) {
                assert_int_equal(origo_merkle_consistency_proof_len(m, other),
                                 len);
                accepted_other++;
            } else {
                rejected++;
            }
        }
    }
    assert_true(rejected > 10000);
    print_message("consistency: %zu wrong sizes rejected, %zu same-shape new "
                  "sizes indistinguishable\n",
                  rejected, accepted_other);
}

/* ---- random trees against a naive reference ----------------------------- */

/* MTH over leaf hashes, straight from RFC 9162 2.1.1. */
static void naive_root(const hash_t *leaves, uint64_t n, hash_t out)
{
    if (n == 0) {
        origo_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], HL);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    hash_t left, right;
    naive_root(leaves, k, left);
    naive_root(leaves + k, n - k, right);
    origo_merkle_node_hash(left, right, out);
}

/* PATH(m, D[n]) from RFC 9162 2.1.3.1. */
static void naive_path(const hash_t *leaves, uint64_t m, uint64_t n,
                       hash_t *out, size_t *len)
{
    if (n == 1)
        return;
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m < k) {
        naive_path(leaves, m, k, out, len);
        naive_root(leaves + k, n - k, out[(*len)++]);
    } else {
        naive_path(leaves + k, m - k, n - k, out, len);
        naive_root(leaves, k, out[(*len)++]);
    }
}

/* SUBPROOF(m, D[n], b) from RFC 9162 2.1.4.1. */
static void naive_subproof(const hash_t *leaves, uint64_t m, uint64_t n, int b,
                           hash_t *out, size_t *len)
{
    if (m == n) {
        if (!b)
            naive_root(leaves, m, out[(*len)++]);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    if (m <= k) {
        naive_subproof(leaves, m, k, b, out, len);
        naive_root(leaves + k, n - k, out[(*len)++]);
    } else {
        naive_subproof(leaves + k, m - k, n - k, 0, out, len);
        naive_root(leaves, k, out[(*len)++]);
    }
}

static void random_trees_generator_matches_reference_and_verifier(void **st)
{
    (void)st;
    enum { LEAVES = 3000 };
    hash_t *leaves = malloc(sizeof(hash_t) * LEAVES);
    assert_non_null(leaves);
    origo_merkle_tree *tree = NULL;
    assert_int_equal(origo_merkle_tree_new(&tree), 0);
    for (size_t i = 0; i < LEAVES; i++) {
        uint8_t data[16];
        randombytes_buf(data, sizeof(data));
        origo_merkle_leaf_hash(data, 1 + i % sizeof(data), leaves[i]);
        assert_int_equal(origo_merkle_tree_append_hash(tree, leaves[i]), 0);
    }
    assert_int_equal(origo_merkle_tree_size(tree), LEAVES);
    for (int round = 0; round < 400; round++) {
        uint64_t n = 1 + randombytes_uniform(LEAVES);
        uint64_t m = 1 + randombytes_uniform((uint32_t)n);
        uint64_t i = randombytes_uniform((uint32_t)n);
        hash_t root_n, root_m, naive_n;
        assert_int_equal(
            origo_merkle_root(origo_merkle_tree_get_node, tree, n, root_n), 0);
        assert_int_equal(
            origo_merkle_root(origo_merkle_tree_get_node, tree, m, root_m), 0);
        naive_root(leaves, n, naive_n);
        assert_memory_equal(root_n, naive_n, HL);

        hash_t proof[ORIGO_MERKLE_MAX_PROOF], ref[ORIGO_MERKLE_MAX_PROOF];
        size_t len = 0, ref_len = 0;
        assert_int_equal(
            origo_merkle_inclusion_proof(origo_merkle_tree_get_node, tree, i, n,
                                         proof, ORIGO_MERKLE_MAX_PROOF, &len),
            0);
        naive_path(leaves, i, n, ref, &ref_len);
        assert_int_equal(len, ref_len);
        if (len)
            assert_memory_equal(proof, ref, len * HL);
        assert_true(inclusion_ok(i, n, leaves[i], proof, len, root_n));

        assert_int_equal(origo_merkle_consistency_proof(
                             origo_merkle_tree_get_node, tree, m, n, proof,
                             ORIGO_MERKLE_MAX_PROOF, &len),
                         0);
        ref_len = 0;
        if (m < n)
            naive_subproof(leaves, m, n, 1, ref, &ref_len);
        assert_int_equal(len, ref_len);
        if (len)
            assert_memory_equal(proof, ref, len * HL);
        assert_true(consistency_ok(m, n, root_m, root_n, proof, len));
        if (len > 0) {
            proof[randombytes_uniform((uint32_t)len)]
                 [randombytes_uniform(HL)] ^=
                (uint8_t)(1u << randombytes_uniform(8));
            assert_false(consistency_ok(m, n, root_m, root_n, proof, len));
        }
    }
    origo_merkle_tree_free(tree);
    free(leaves);
}

/* Every inclusion and consistency proof of every size up to 130 against
 * the naive reference: exhaustive where trees are small. */
static void small_trees_all_proofs_match_reference(void **st)
{
    (void)st;
    enum { LEAVES = 130 };
    hash_t leaves[LEAVES];
    origo_merkle_tree *tree = NULL;
    assert_int_equal(origo_merkle_tree_new(&tree), 0);
    for (size_t i = 0; i < LEAVES; i++) {
        uint8_t byte = (uint8_t)i;
        origo_merkle_leaf_hash(&byte, 1, leaves[i]);
        assert_int_equal(origo_merkle_tree_append_hash(tree, leaves[i]), 0);
    }
    for (uint64_t n = 1; n <= LEAVES; n++) {
        hash_t root_n;
        naive_root(leaves, n, root_n);
        for (uint64_t x = 0; x < n; x++) {
            hash_t proof[ORIGO_MERKLE_MAX_PROOF], ref[ORIGO_MERKLE_MAX_PROOF];
            size_t len = 0, ref_len = 0;
            assert_int_equal(origo_merkle_inclusion_proof(
                                 origo_merkle_tree_get_node, tree, x, n, proof,
                                 ORIGO_MERKLE_MAX_PROOF, &len),
                             0);
            naive_path(leaves, x, n, ref, &ref_len);
            assert_int_equal(len, ref_len);
            if (len)
                assert_memory_equal(proof, ref, len * HL);
            assert_true(inclusion_ok(x, n, leaves[x], proof, len, root_n));

            uint64_t m = x + 1;
            hash_t root_m;
            naive_root(leaves, m, root_m);
            assert_int_equal(origo_merkle_consistency_proof(
                                 origo_merkle_tree_get_node, tree, m, n, proof,
                                 ORIGO_MERKLE_MAX_PROOF, &len),
                             0);
            ref_len = 0;
            if (m < n)
                naive_subproof(leaves, m, n, 1, ref, &ref_len);
            assert_int_equal(len, ref_len);
            if (len)
                assert_memory_equal(proof, ref, len * HL);
            assert_true(consistency_ok(m, n, root_m, root_n, proof, len));
        }
    }
    origo_merkle_tree_free(tree);
}

/* ---- frontier ----------------------------------------------------------- */

typedef struct node_log {
    origo_merkle_tree *reference;
    size_t count;
    int fail_at; /* fail the n-th put (1-based); 0 never */
    int compare; /* compare each node with the reference tree */
} node_log;

static int check_put(void *ctx, unsigned level, uint64_t index,
                     const uint8_t hash[HL])
{
    node_log *log = ctx;
    log->count++;
    if (log->fail_at > 0 && (int)log->count == log->fail_at)
        return ORIGO_E_STORE;
    if (!log->compare)
        return 0;
    hash_t expect;
    assert_int_equal(
        origo_merkle_tree_get_node(log->reference, level, index, expect), 0);
    assert_memory_equal(hash, expect, HL);
    return 0;
}

static void frontier_matches_tree_roots_and_nodes(void **st)
{
    (void)st;
    enum { LEAVES = 1100 };
    origo_merkle_tree *tree = NULL;
    assert_int_equal(origo_merkle_tree_new(&tree), 0);
    hash_t *leaves = malloc(sizeof(hash_t) * LEAVES);
    assert_non_null(leaves);
    for (size_t i = 0; i < LEAVES; i++) {
        randombytes_buf(leaves[i], HL);
        assert_int_equal(origo_merkle_tree_append_hash(tree, leaves[i]), 0);
    }
    node_log log = {.reference = tree, .compare = 1};
    origo_merkle_frontier frontier;
    origo_merkle_frontier_init(&frontier);
    size_t expected_nodes = 0;
    for (uint64_t size = 0; size < LEAVES; size++) {
        assert_int_equal(origo_merkle_frontier_append(&frontier, leaves[size],
                                                      check_put, &log),
                         0);
        /* One node per level that the new leaf completes. */
        expected_nodes += 1 + (size_t)__builtin_ctzll(size + 1);
        assert_int_equal(log.count, expected_nodes);
        hash_t got, expect;
        origo_merkle_frontier_root(&frontier, got);
        assert_int_equal(origo_merkle_root(origo_merkle_tree_get_node, tree,
                                           size + 1, expect),
                         0);
        assert_memory_equal(got, expect, HL);
        if (size % 97 == 0) {
            origo_merkle_frontier loaded;
            assert_int_equal(
                origo_merkle_frontier_load(&loaded, origo_merkle_tree_get_node,
                                           tree, size + 1),
                0);
            hash_t loaded_root;
            origo_merkle_frontier_root(&loaded, loaded_root);
            assert_memory_equal(loaded_root, expect, HL);
        }
    }
    /* A failing store stops the append and leaves the frontier as it was,
     * here on the second of the three nodes an append at index 1103
     * completes. */
    log.compare = 0;
    hash_t extra;
    randombytes_buf(extra, HL);
    while (frontier.tree_size != 1103)
        assert_int_equal(
            origo_merkle_frontier_append(&frontier, extra, check_put, &log), 0);
    origo_merkle_frontier before = frontier;
    log.count = 0;
    log.fail_at = 2;
    assert_int_equal(
        origo_merkle_frontier_append(&frontier, extra, check_put, &log),
        ORIGO_E_STORE);
    assert_memory_equal(&frontier, &before, sizeof(before));
    origo_merkle_tree_free(tree);
    free(leaves);
}

/* ---- argument and callback errors --------------------------------------- */

static int failing_get_node(void *ctx, unsigned level, uint64_t index,
                            uint8_t out[HL])
{
    (void)ctx;
    (void)level;
    (void)index;
    (void)out;
    return ORIGO_E_STORE;
}

static void errors_are_reported(void **st)
{
    (void)st;
    hash_t proof[ORIGO_MERKLE_MAX_PROOF], root, leaf = {0};
    size_t len = 0;
    origo_merkle_tree *tree = NULL;
    assert_int_equal(origo_merkle_tree_new(&tree), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(origo_merkle_tree_append(tree, (uint8_t *)"x", 1), 0);
    assert_int_equal(origo_merkle_inclusion_proof(origo_merkle_tree_get_node,
                                                  tree, 10, 10, proof,
                                                  ORIGO_MERKLE_MAX_PROOF, &len),
                     ORIGO_E_TREE_SIZE);
    assert_int_equal(origo_merkle_inclusion_proof(origo_merkle_tree_get_node,
                                                  tree, 3, 10, proof, 2, &len),
                     ORIGO_E_TOOBIG);
    assert_int_equal(
        origo_merkle_consistency_proof(origo_merkle_tree_get_node, tree, 11, 10,
                                       proof, ORIGO_MERKLE_MAX_PROOF, &len),
        ORIGO_E_TREE_SIZE);
    /* The generator asks only for nodes inside the tree: size 11 needs a
     * leaf the tree does not have, and the store's error comes back. */
    assert_int_equal(
        origo_merkle_root(origo_merkle_tree_get_node, tree, 11, root),
        ORIGO_E_TREE_SIZE);
    assert_int_equal(origo_merkle_root(failing_get_node, NULL, 5, root),
                     ORIGO_E_STORE);
    assert_int_equal(origo_merkle_inclusion_proof(failing_get_node, NULL, 1, 5,
                                                  proof, ORIGO_MERKLE_MAX_PROOF,
                                                  &len),
                     ORIGO_E_STORE);
    origo_merkle_frontier frontier;
    assert_int_equal(
        origo_merkle_frontier_load(&frontier, failing_get_node, NULL, 3),
        ORIGO_E_STORE);
    /* Verification of degenerate sizes. */
    assert_int_equal(origo_merkle_verify_inclusion(
                         0, 0, leaf, (const uint8_t(*)[HL])proof, 0, leaf),
                     ORIGO_E_TREE_SIZE);
    hash_t empty;
    origo_merkle_empty_root(empty);
    assert_int_equal(origo_merkle_verify_consistency(
                         0, 10, empty, root, (const uint8_t(*)[HL])proof, 0),
                     0);
    assert_int_equal(origo_merkle_verify_consistency(
                         0, 10, root, root, (const uint8_t(*)[HL])proof, 0),
                     ORIGO_E_PROOF);
    assert_int_equal(origo_merkle_verify_consistency(
                         0, 10, empty, root, (const uint8_t(*)[HL])proof, 1),
                     ORIGO_E_PROOF_SIZE);
    assert_int_equal(origo_merkle_verify_consistency(
                         5, 4, empty, root, (const uint8_t(*)[HL])proof, 0),
                     ORIGO_E_TREE_SIZE);
    /* Sizes near 2^64 keep their shape arithmetic exact. */
    assert_int_equal(origo_merkle_inclusion_proof_len(0, UINT64_MAX), 64);
    assert_int_equal(
        origo_merkle_inclusion_proof_len(UINT64_MAX - 1, UINT64_MAX), 63);
    assert_true(origo_merkle_consistency_proof_len(
                    UINT64_MAX - 2, UINT64_MAX) <= ORIGO_MERKLE_MAX_PROOF);
    origo_merkle_tree_free(tree);
}

/* ---- the worked example of docs/formats/merkle.md ----------------------- */

static void hex_list_equals(json_t *list, const hash_t *hashes, size_t n)
{
    assert_int_equal(json_array_size(list), n);
    for (size_t i = 0; i < n; i++) {
        hash_t value;
        unhex_exact(json_string_value(json_array_get(list, i)), value, HL);
        assert_memory_equal(value, hashes[i], HL);
    }
}

/* The doc holds `lines` as one whole fenced code block. */
static void assert_doc_block(const char *doc, const char *lines)
{
    char block[4096];
    int n = snprintf(block, sizeof(block), "```\n%s```\n", lines);
    assert_true(n > 0 && (size_t)n < sizeof(block));
    assert_non_null(strstr(doc, block));
}

static void hex_block(json_t *list, int numbered, char *out, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        int n = numbered ? snprintf(out + used, size - used, "%zu %s\n", i,
                                    json_string_value(json_array_get(list, i)))
                         : snprintf(out + used, size - used, "%s\n",
                                    json_string_value(json_array_get(list, i)));
        assert_true(n > 0 && (size_t)n < size - used);
        used += (size_t)n;
    }
}

static void doc_example_matches_vectors_and_code(void **state)
{
    vectors *v = *state;
    json_t *ex = testutil_load_vector("checkpoint-example.json");
    json_t *m = json_object_get(ex, "merkle");
    assert_non_null(m);
    uint64_t size = json_integer_value(json_object_get(m, "tree_size"));
    uint64_t index = json_integer_value(json_object_get(m, "inclusion_index"));
    uint64_t old_size = json_integer_value(json_object_get(m, "old_size"));
    assert_true(size == 7 && index == 3 && old_size == 4);
    /* Leaf hashes and roots: the same as merkle.json and the code. */
    hex_list_equals(json_object_get(m, "leaf_hashes_hex"),
                    (const hash_t *)v->leaf_hashes, size);
    hash_t root, old_root, expect;
    unhex_exact(json_string_value(json_object_get(m, "root_hex")), root, HL);
    unhex_exact(json_string_value(json_object_get(m, "old_root_hex")), old_root,
                HL);
    vector_root(v, size, expect);
    assert_memory_equal(root, expect, HL);
    vector_root(v, old_size, expect);
    assert_memory_equal(old_root, expect, HL);
    /* Proofs: generated by the code and verified. */
    hash_t proof[ORIGO_MERKLE_MAX_PROOF];
    size_t len = 0;
    assert_int_equal(origo_merkle_inclusion_proof(origo_merkle_tree_get_node,
                                                  v->tree, index, size, proof,
                                                  ORIGO_MERKLE_MAX_PROOF, &len),
                     0);
    hex_list_equals(json_object_get(m, "inclusion_proof_hex"),
                    (const hash_t *)proof, len);
    assert_true(
        inclusion_ok(index, size, v->leaf_hashes[index], proof, len, root));
    assert_int_equal(origo_merkle_consistency_proof(
                         origo_merkle_tree_get_node, v->tree, old_size, size,
                         proof, ORIGO_MERKLE_MAX_PROOF, &len),
                     0);
    hex_list_equals(json_object_get(m, "consistency_proof_hex"),
                    (const hash_t *)proof, len);
    assert_true(consistency_ok(old_size, size, old_root, root, proof, len));
    /* And the doc shows exactly these. */
    char path[1024];
    snprintf(path, sizeof(path), "%s/../../docs/formats/merkle.md",
             ORIGO_TEST_VECTORS);
    size_t doc_len = 0;
    char *doc = (char *)testutil_read_file(path, &doc_len);
    assert_non_null(doc);
    char block[4096];
    hex_block(json_object_get(m, "leaf_hashes_hex"), 1, block, sizeof(block));
    assert_doc_block(doc, block);
    snprintf(block, sizeof(block), "%s\n",
             json_string_value(json_object_get(m, "root_hex")));
    assert_doc_block(doc, block);
    hex_block(json_object_get(m, "inclusion_proof_hex"), 0, block,
              sizeof(block));
    assert_doc_block(doc, block);
    hex_block(json_object_get(m, "consistency_proof_hex"), 0, block,
              sizeof(block));
    assert_doc_block(doc, block);
    assert_non_null(
        strstr(doc, json_string_value(json_object_get(m, "old_root_hex"))));
    free(doc);
    json_decref(ex);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_roots_reproduced),
        cmocka_unit_test(vector_inclusion_proofs_reproduced_and_verified),
        cmocka_unit_test(vector_inclusion_bit_flips_rejected),
        cmocka_unit_test(vector_inclusion_wrong_index_or_size_rejected),
        cmocka_unit_test(vector_consistency_proofs_reproduced_and_verified),
        cmocka_unit_test(vector_consistency_bit_flips_rejected),
        cmocka_unit_test(vector_consistency_wrong_sizes_rejected),
        cmocka_unit_test(random_trees_generator_matches_reference_and_verifier),
        cmocka_unit_test(small_trees_all_proofs_match_reference),
        cmocka_unit_test(frontier_matches_tree_roots_and_nodes),
        cmocka_unit_test(errors_are_reported),
        cmocka_unit_test(doc_example_matches_vectors_and_code),
    };
    return cmocka_run_group_tests(tests, vectors_setup, vectors_teardown);
}
