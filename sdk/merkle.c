/* RFC 9162 Merkle trees: hashing, proof verification, proof generation over
 * a store of perfect subtrees, the in-memory reference tree and the
 * right-edge frontier. Generation is written once against the get_node
 * callback so that the ledger (LMDB) and the tests (memory) share it; the
 * verifiers follow the RFC's own algorithms step by step, so that a test
 * comparing generator and verifier compares two independent derivations. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/error.h"
#include "origo/merkle.h"

/* ---- hashing ------------------------------------------------------------ */

void origo_merkle_leaf_hash(const uint8_t *leaf, size_t leaf_len,
                            uint8_t out[ORIGO_HASH_LEN])
{
    static const uint8_t prefix = 0x00;
    origo_sha256_state st;
    origo_sha256_init(&st);
    origo_sha256_update(&st, &prefix, 1);
    origo_sha256_update(&st, leaf, leaf_len);
    origo_sha256_final(&st, out);
}

void origo_merkle_node_hash(const uint8_t left[ORIGO_HASH_LEN],
                            const uint8_t right[ORIGO_HASH_LEN],
                            uint8_t out[ORIGO_HASH_LEN])
{
    uint8_t buf[1 + 2 * ORIGO_HASH_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, left, ORIGO_HASH_LEN);
    memcpy(buf + 1 + ORIGO_HASH_LEN, right, ORIGO_HASH_LEN);
    origo_sha256(buf, sizeof(buf), out);
}

void origo_merkle_empty_root(uint8_t out[ORIGO_HASH_LEN])
{
    origo_sha256("", 0, out);
}

/* ---- proof shapes ------------------------------------------------------- */

static unsigned bit_length(uint64_t value)
{
    return value == 0 ? 0 : 64 - (unsigned)__builtin_clzll(value);
}

static unsigned popcount64(uint64_t value)
{
    return (unsigned)__builtin_popcountll(value);
}

/* The audit path of the node at level `start` on the path of leaf
 * `leaf_index` in a tree of `tree_size` leaves: siblings at levels
 * [start, inner) where the paths of leaf_index and the last leaf diverge,
 * then one left sibling per set bit of leaf_index at or above `inner`. */
static unsigned path_inner(uint64_t leaf_index, uint64_t tree_size)
{
    return bit_length(leaf_index ^ (tree_size - 1));
}

size_t origo_merkle_inclusion_proof_len(uint64_t index, uint64_t tree_size)
{
    if (index >= tree_size)
        return 0;
    unsigned inner = path_inner(index, tree_size);
    uint64_t above = inner >= 64 ? 0 : index >> inner;
    return inner + popcount64(above);
}

/* The seed of a consistency proof is the largest perfect subtree ending at
 * the old tree's last leaf: level ctz(old_size), index (old_size >> level) -
 * 1. It is sent only when it is not the whole old tree. */
size_t origo_merkle_consistency_proof_len(uint64_t old_size, uint64_t new_size)
{
    if (old_size == 0 || old_size >= new_size)
        return 0;
    unsigned start = (unsigned)__builtin_ctzll(old_size);
    uint64_t last = old_size - 1;
    unsigned inner = path_inner(last, new_size);
    uint64_t above = inner >= 64 ? 0 : last >> inner;
    size_t seed = (old_size >> start) != 1 ? 1 : 0;
    return seed + (inner - start) + popcount64(above);
}

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------ */

int origo_merkle_root_from_inclusion(uint64_t index, uint64_t tree_size,
                                     const uint8_t leaf_hash[ORIGO_HASH_LEN],
                                     const uint8_t (*proof)[ORIGO_HASH_LEN],
                                     size_t proof_len,
                                     uint8_t root_out[ORIGO_HASH_LEN])
{
    if (!leaf_hash || !root_out || (proof_len > 0 && !proof))
        return ORIGO_E_INVAL;
    if (index >= tree_size)
        return ORIGO_E_TREE_SIZE;
    if (proof_len != origo_merkle_inclusion_proof_len(index, tree_size))
        return ORIGO_E_PROOF_SIZE;
    uint64_t fn = index, sn = tree_size - 1;
    uint8_t r[ORIGO_HASH_LEN];
    memcpy(r, leaf_hash, ORIGO_HASH_LEN);
    for (size_t i = 0; i < proof_len; i++) {
        if (sn == 0)
            return ORIGO_E_PROOF_SIZE;
        if ((fn & 1) || fn == sn) {
            origo_merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            origo_merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return ORIGO_E_PROOF_SIZE;
    memcpy(root_out, r, ORIGO_HASH_LEN);
    return 0;
}

int origo_merkle_verify_inclusion(uint64_t index, uint64_t tree_size,
                                  const uint8_t leaf_hash[ORIGO_HASH_LEN],
                                  const uint8_t (*proof)[ORIGO_HASH_LEN],
                                  size_t proof_len,
                                  const uint8_t root[ORIGO_HASH_LEN])
{
    if (!root)
        return ORIGO_E_INVAL;
    uint8_t computed[ORIGO_HASH_LEN];
    int rc = origo_merkle_root_from_inclusion(index, tree_size, leaf_hash,
                                              proof, proof_len, computed);
    if (rc != 0)
        return rc;
    return sodium_memcmp(computed, root, ORIGO_HASH_LEN) == 0 ? 0
                                                              : ORIGO_E_PROOF;
}

static int hash_equal(const uint8_t a[ORIGO_HASH_LEN],
                      const uint8_t b[ORIGO_HASH_LEN])
{
    return sodium_memcmp(a, b, ORIGO_HASH_LEN) == 0;
}

/* Runs the RFC loop over the proof with the seed already chosen; returns 0
 * when both reconstructed roots match. */
static int consistency_walk(uint64_t old_size, uint64_t new_size,
                            const uint8_t seed[ORIGO_HASH_LEN],
                            const uint8_t (*rest)[ORIGO_HASH_LEN],
                            size_t rest_len,
                            const uint8_t old_root[ORIGO_HASH_LEN],
                            const uint8_t new_root[ORIGO_HASH_LEN])
{
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[ORIGO_HASH_LEN], sr[ORIGO_HASH_LEN];
    memcpy(fr, seed, ORIGO_HASH_LEN);
    memcpy(sr, seed, ORIGO_HASH_LEN);
    for (size_t i = 0; i < rest_len; i++) {
        if (sn == 0)
            return ORIGO_E_PROOF_SIZE;
        if ((fn & 1) || fn == sn) {
            origo_merkle_node_hash(rest[i], fr, fr);
            origo_merkle_node_hash(rest[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            origo_merkle_node_hash(sr, rest[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return ORIGO_E_PROOF_SIZE;
    if (!hash_equal(fr, old_root) || !hash_equal(sr, new_root))
        return ORIGO_E_PROOF;
    return 0;
}

int origo_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                    const uint8_t old_root[ORIGO_HASH_LEN],
                                    const uint8_t new_root[ORIGO_HASH_LEN],
                                    const uint8_t (*proof)[ORIGO_HASH_LEN],
                                    size_t proof_len)
{
    if (!old_root || !new_root || (proof_len > 0 && !proof))
        return ORIGO_E_INVAL;
    if (old_size > new_size)
        return ORIGO_E_TREE_SIZE;
    if (old_size == 0 || old_size == new_size) {
        if (proof_len != 0)
            return ORIGO_E_PROOF_SIZE;
        if (old_size == 0) {
            uint8_t empty[ORIGO_HASH_LEN];
            origo_merkle_empty_root(empty);
            return hash_equal(old_root, empty) ? 0 : ORIGO_E_PROOF;
        }
        return hash_equal(old_root, new_root) ? 0 : ORIGO_E_PROOF;
    }
    if (proof_len != origo_merkle_consistency_proof_len(old_size, new_size))
        return ORIGO_E_PROOF_SIZE;
    /* When the old tree is a perfect subtree the verifier knows the seed:
     * it is the old root itself (RFC step 1). */
    int old_is_power = (old_size & (old_size - 1)) == 0;
    if (old_is_power)
        return consistency_walk(old_size, new_size, old_root, proof, proof_len,
                                old_root, new_root);
    return consistency_walk(old_size, new_size, proof[0], proof + 1,
                            proof_len - 1, old_root, new_root);
}

/* ---- generation --------------------------------------------------------- */

/* Hash of the leaves [begin, end), where begin is aligned to a power of two
 * larger than end - begin (true of every subtree RFC 9162 splits off): the
 * range decomposes into perfect pieces by the set bits of its length, and
 * MTH folds them from the right. */
static int range_hash(origo_merkle_get_node_fn get_node, void *ctx,
                      uint64_t begin, uint64_t end, uint8_t out[ORIGO_HASH_LEN])
{
    uint8_t pieces[ORIGO_MERKLE_MAX_LEVELS][ORIGO_HASH_LEN];
    size_t count = 0;
    uint64_t pos = begin, remaining = end - begin;
    for (int level = 63; level >= 0; level--) {
        uint64_t width = 1ull << level;
        if (!(remaining & width))
            continue;
        int rc = get_node(ctx, (unsigned)level, pos >> level, pieces[count]);
        if (rc != 0)
            return rc;
        count++;
        pos += width;
    }
    if (count == 0)
        return ORIGO_E_INTERNAL;
    uint8_t acc[ORIGO_HASH_LEN];
    memcpy(acc, pieces[count - 1], ORIGO_HASH_LEN);
    for (size_t i = count - 1; i > 0; i--)
        origo_merkle_node_hash(pieces[i - 1], acc, acc);
    memcpy(out, acc, ORIGO_HASH_LEN);
    return 0;
}

/* Appends to proof the siblings on the path of leaf `leaf_index` from level
 * `start` up, in a tree of `tree_size` leaves (see path_inner). */
static int audit_path(origo_merkle_get_node_fn get_node, void *ctx,
                      uint64_t leaf_index, unsigned start, uint64_t tree_size,
                      uint8_t (*proof)[ORIGO_HASH_LEN], size_t *count)
{
    unsigned inner = path_inner(leaf_index, tree_size);
    for (unsigned level = start; level < inner; level++) {
        uint64_t sibling = (leaf_index >> level) ^ 1;
        uint64_t first = sibling << level;
        uint64_t width = 1ull << level;
        int rc;
        if (tree_size - first >= width)
            rc = get_node(ctx, level, sibling, proof[*count]);
        else
            rc = range_hash(get_node, ctx, first, tree_size, proof[*count]);
        if (rc != 0)
            return rc;
        (*count)++;
    }
    for (unsigned level = inner; level < 64; level++) {
        uint64_t node = leaf_index >> level;
        if (!(node & 1))
            continue;
        int rc = get_node(ctx, level, node ^ 1, proof[*count]);
        if (rc != 0)
            return rc;
        (*count)++;
    }
    return 0;
}

int origo_merkle_root(origo_merkle_get_node_fn get_node, void *ctx,
                      uint64_t tree_size, uint8_t out[ORIGO_HASH_LEN])
{
    if (!get_node || !out)
        return ORIGO_E_INVAL;
    if (tree_size == 0) {
        origo_merkle_empty_root(out);
        return 0;
    }
    return range_hash(get_node, ctx, 0, tree_size, out);
}

int origo_merkle_inclusion_proof(origo_merkle_get_node_fn get_node, void *ctx,
                                 uint64_t index, uint64_t tree_size,
                                 uint8_t (*proof)[ORIGO_HASH_LEN],
                                 size_t proof_max, size_t *proof_len)
{
    if (!get_node || !proof_len || (proof_max > 0 && !proof))
        return ORIGO_E_INVAL;
    if (index >= tree_size)
        return ORIGO_E_TREE_SIZE;
    size_t need = origo_merkle_inclusion_proof_len(index, tree_size);
    if (need > proof_max)
        return ORIGO_E_TOOBIG;
    size_t count = 0;
    int rc = audit_path(get_node, ctx, index, 0, tree_size, proof, &count);
    if (rc != 0)
        return rc;
    if (count != need)
        return ORIGO_E_INTERNAL;
    *proof_len = count;
    return 0;
}

int origo_merkle_consistency_proof(origo_merkle_get_node_fn get_node, void *ctx,
                                   uint64_t old_size, uint64_t new_size,
                                   uint8_t (*proof)[ORIGO_HASH_LEN],
                                   size_t proof_max, size_t *proof_len)
{
    if (!get_node || !proof_len || (proof_max > 0 && !proof))
        return ORIGO_E_INVAL;
    if (old_size > new_size)
        return ORIGO_E_TREE_SIZE;
    if (old_size == 0 || old_size == new_size) {
        *proof_len = 0;
        return 0;
    }
    size_t need = origo_merkle_consistency_proof_len(old_size, new_size);
    if (need > proof_max)
        return ORIGO_E_TOOBIG;
    unsigned start = (unsigned)__builtin_ctzll(old_size);
    uint64_t seed_index = (old_size >> start) - 1;
    size_t count = 0;
    if (seed_index != 0) {
        int rc = get_node(ctx, start, seed_index, proof[0]);
        if (rc != 0)
            return rc;
        count = 1;
    }
    int rc =
        audit_path(get_node, ctx, old_size - 1, start, new_size, proof, &count);
    if (rc != 0)
        return rc;
    if (count != need)
        return ORIGO_E_INTERNAL;
    *proof_len = count;
    return 0;
}

/* ---- in-memory reference tree ------------------------------------------- */

/* levels[l] holds the complete perfect subtrees of level l, in order:
 * exactly size >> l of them. */
struct origo_merkle_tree {
    uint64_t size;
    struct tree_level {
        uint8_t (*hashes)[ORIGO_HASH_LEN];
        uint64_t count;
        uint64_t cap;
    } levels[ORIGO_MERKLE_MAX_LEVELS];
};

#define TREE_MAX_LEAVES (1ull << 40)

int origo_merkle_tree_new(origo_merkle_tree **out)
{
    if (!out)
        return ORIGO_E_INVAL;
    origo_merkle_tree *tree = calloc(1, sizeof(*tree));
    if (!tree)
        return ORIGO_E_NOMEM;
    *out = tree;
    return 0;
}

void origo_merkle_tree_free(origo_merkle_tree *tree)
{
    if (!tree)
        return;
    for (unsigned level = 0; level < ORIGO_MERKLE_MAX_LEVELS; level++)
        free(tree->levels[level].hashes);
    free(tree);
}

static int level_reserve(struct tree_level *lv)
{
    if (lv->count < lv->cap)
        return 0;
    uint64_t cap = lv->cap ? lv->cap * 2 : 16;
    void *grown = realloc(lv->hashes, (size_t)cap * ORIGO_HASH_LEN);
    if (!grown)
        return ORIGO_E_NOMEM;
    lv->hashes = grown;
    lv->cap = cap;
    return 0;
}

int origo_merkle_tree_append_hash(origo_merkle_tree *tree,
                                  const uint8_t leaf_hash[ORIGO_HASH_LEN])
{
    if (!tree || !leaf_hash)
        return ORIGO_E_INVAL;
    if (tree->size >= TREE_MAX_LEAVES)
        return ORIGO_E_TOOBIG;
    /* Reserve every slot first so that a failed allocation leaves the tree
     * as it was. */
    uint64_t index = tree->size;
    unsigned top = 0;
    while ((index >> top) & 1)
        top++;
    for (unsigned level = 0; level <= top; level++) {
        int rc = level_reserve(&tree->levels[level]);
        if (rc != 0)
            return rc;
    }
    struct tree_level *lv = &tree->levels[0];
    memcpy(lv->hashes[lv->count++], leaf_hash, ORIGO_HASH_LEN);
    for (unsigned level = 0; level < top; level++) {
        struct tree_level *cur = &tree->levels[level];
        struct tree_level *up = &tree->levels[level + 1];
        origo_merkle_node_hash(cur->hashes[cur->count - 2],
                               cur->hashes[cur->count - 1],
                               up->hashes[up->count]);
        up->count++;
    }
    tree->size++;
    return 0;
}

int origo_merkle_tree_append(origo_merkle_tree *tree, const uint8_t *leaf,
                             size_t leaf_len)
{
    if (!tree || (leaf_len > 0 && !leaf))
        return ORIGO_E_INVAL;
    uint8_t hash[ORIGO_HASH_LEN];
    origo_merkle_leaf_hash(leaf, leaf_len, hash);
    return origo_merkle_tree_append_hash(tree, hash);
}

uint64_t origo_merkle_tree_size(const origo_merkle_tree *tree)
{
    return tree ? tree->size : 0;
}

int origo_merkle_tree_get_node(void *ctx, unsigned level, uint64_t index,
                               uint8_t out[ORIGO_HASH_LEN])
{
    const origo_merkle_tree *tree = ctx;
    if (!tree || !out)
        return ORIGO_E_INVAL;
    if (level >= ORIGO_MERKLE_MAX_LEVELS || index >= tree->levels[level].count)
        return ORIGO_E_TREE_SIZE;
    memcpy(out, tree->levels[level].hashes[index], ORIGO_HASH_LEN);
    return 0;
}

/* ---- frontier ----------------------------------------------------------- */

void origo_merkle_frontier_init(origo_merkle_frontier *frontier)
{
    memset(frontier, 0, sizeof(*frontier));
}

int origo_merkle_frontier_load(origo_merkle_frontier *frontier,
                               origo_merkle_get_node_fn get_node, void *ctx,
                               uint64_t tree_size)
{
    if (!frontier || !get_node)
        return ORIGO_E_INVAL;
    origo_merkle_frontier loaded;
    memset(&loaded, 0, sizeof(loaded));
    for (unsigned level = 0; level < ORIGO_MERKLE_MAX_LEVELS; level++) {
        if (!((tree_size >> level) & 1))
            continue;
        int rc =
            get_node(ctx, level, (tree_size >> level) - 1, loaded.hash[level]);
        if (rc != 0)
            return rc;
    }
    loaded.tree_size = tree_size;
    memcpy(frontier, &loaded, sizeof(loaded));
    return 0;
}

int origo_merkle_frontier_append(origo_merkle_frontier *frontier,
                                 const uint8_t leaf_hash[ORIGO_HASH_LEN],
                                 origo_merkle_put_node_fn put_node, void *ctx)
{
    if (!frontier || !leaf_hash)
        return ORIGO_E_INVAL;
    uint64_t index = frontier->tree_size;
    if (index == UINT64_MAX)
        return ORIGO_E_TOOBIG;
    uint8_t carry[ORIGO_HASH_LEN];
    memcpy(carry, leaf_hash, ORIGO_HASH_LEN);
    unsigned level = 0;
    for (;;) {
        if (put_node) {
            int rc = put_node(ctx, level, index >> level, carry);
            if (rc != 0)
                return rc;
        }
        if (!((index >> level) & 1))
            break;
        origo_merkle_node_hash(frontier->hash[level], carry, carry);
        level++;
    }
    memcpy(frontier->hash[level], carry, ORIGO_HASH_LEN);
    frontier->tree_size = index + 1;
    return 0;
}

void origo_merkle_frontier_root(const origo_merkle_frontier *frontier,
                                uint8_t out[ORIGO_HASH_LEN])
{
    uint64_t size = frontier->tree_size;
    if (size == 0) {
        origo_merkle_empty_root(out);
        return;
    }
    unsigned level = (unsigned)__builtin_ctzll(size);
    uint8_t acc[ORIGO_HASH_LEN];
    memcpy(acc, frontier->hash[level], ORIGO_HASH_LEN);
    for (level++; level < ORIGO_MERKLE_MAX_LEVELS; level++) {
        if ((size >> level) & 1)
            origo_merkle_node_hash(frontier->hash[level], acc, acc);
    }
    memcpy(out, acc, ORIGO_HASH_LEN);
}
