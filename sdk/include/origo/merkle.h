/* RFC 9162 Merkle trees (docs/formats/merkle.md).
 *
 * Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left ||
 * right), the root of the empty tree = SHA-256(""). Proof hashes are ordered
 * bottom-up exactly as in RFC 9162 section 2.1.
 *
 * Three layers:
 *  - verification of inclusion and consistency proofs (pure functions);
 *  - proof GENERATION over any store of "perfect" subtree hashes: a perfect
 *    subtree at (level, index) covers the leaves [index << level,
 *    (index + 1) << level) and is complete. The caller supplies a callback
 *    that returns such hashes; roots, inclusion proofs and consistency proofs
 *    at any tree size are computed from O(log n) calls, folding the
 *    non-perfect right edge from perfect pieces. The ledger backs the
 *    callback with LMDB; origo_merkle_tree backs it with memory for tests;
 *  - the frontier (compact range): the O(log n) perfect subtrees that make up
 *    a tree's right edge, enough to append leaves and compute the new root
 *    without reading anything else, reporting each new perfect node so the
 *    caller can store it.
 *
 * Nothing here keeps global state; every function may be called from any
 * thread on distinct objects. */
#ifndef ORIGO_MERKLE_H
#define ORIGO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ORIGO_MERKLE_WUR __attribute__((warn_unused_result))
#else
#define ORIGO_MERKLE_WUR
#endif

#define ORIGO_HASH_LEN 32
/* An upper bound on the hashes in any inclusion or consistency proof for
 * trees of up to 2^64 - 1 leaves. Proof arrays of this many entries never
 * overflow. */
#define ORIGO_MERKLE_MAX_PROOF 65
/* Levels of perfect subtrees a 64-bit tree size can contain (0..63). */
#define ORIGO_MERKLE_MAX_LEVELS 64

/* ---- hashing ---------------------------------------------------------- */

/* SHA-256(0x00 || leaf). `leaf` may be NULL when `leaf_len` is 0. */
void origo_merkle_leaf_hash(const uint8_t *leaf, size_t leaf_len,
                            uint8_t out[ORIGO_HASH_LEN]);
/* SHA-256(0x01 || left || right). `out` may alias either input. */
void origo_merkle_node_hash(const uint8_t left[ORIGO_HASH_LEN],
                            const uint8_t right[ORIGO_HASH_LEN],
                            uint8_t out[ORIGO_HASH_LEN]);
/* SHA-256(""), the root of the empty tree. */
void origo_merkle_empty_root(uint8_t out[ORIGO_HASH_LEN]);

/* ---- proof sizes ------------------------------------------------------ */

/* Number of hashes in the inclusion proof of leaf `index` in a tree of
 * `tree_size` leaves; 0 when index >= tree_size (no such proof). */
size_t origo_merkle_inclusion_proof_len(uint64_t index, uint64_t tree_size);
/* Number of hashes in the consistency proof from `old_size` to `new_size`;
 * 0 when old_size == 0, old_size == new_size or old_size > new_size. */
size_t origo_merkle_consistency_proof_len(uint64_t old_size, uint64_t new_size);

/* ---- verification ----------------------------------------------------- */

/* Computes the root implied by an inclusion proof of `leaf_hash` at `index`
 * in a tree of `tree_size` leaves (RFC 9162 2.1.3.2), into `root_out`
 * (written only on success).
 * Returns 0; ORIGO_E_TREE_SIZE when index >= tree_size; ORIGO_E_PROOF_SIZE
 * when proof_len is not the length this (index, tree_size) requires;
 * ORIGO_E_INVAL on NULL pointers. */
ORIGO_MERKLE_WUR int origo_merkle_root_from_inclusion(
    uint64_t index, uint64_t tree_size, const uint8_t leaf_hash[ORIGO_HASH_LEN],
    const uint8_t (*proof)[ORIGO_HASH_LEN], size_t proof_len,
    uint8_t root_out[ORIGO_HASH_LEN]);

/* Verifies an inclusion proof against `root`. Returns 0 when the proof
 * verifies; ORIGO_E_PROOF when it is well-formed but yields another root;
 * otherwise the errors of origo_merkle_root_from_inclusion(). */
ORIGO_MERKLE_WUR int origo_merkle_verify_inclusion(
    uint64_t index, uint64_t tree_size, const uint8_t leaf_hash[ORIGO_HASH_LEN],
    const uint8_t (*proof)[ORIGO_HASH_LEN], size_t proof_len,
    const uint8_t root[ORIGO_HASH_LEN]);

/* Verifies that the tree of `old_size` leaves with root `old_root` is a
 * prefix of the tree of `new_size` leaves with root `new_root`
 * (RFC 9162 2.1.4.2). old_size == new_size requires an empty proof and equal
 * roots; old_size == 0 requires an empty proof and old_root == SHA-256("")
 * (any tree extends the empty one). Returns 0 when consistent;
 * ORIGO_E_TREE_SIZE when old_size > new_size; ORIGO_E_PROOF_SIZE on a proof of
 * the wrong length; ORIGO_E_PROOF when the proof does not reproduce both roots;
 * ORIGO_E_INVAL on NULL pointers. */
ORIGO_MERKLE_WUR int
origo_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                const uint8_t old_root[ORIGO_HASH_LEN],
                                const uint8_t new_root[ORIGO_HASH_LEN],
                                const uint8_t (*proof)[ORIGO_HASH_LEN],
                                size_t proof_len);

/* ---- generation over a store of perfect subtrees ---------------------- */

/* Writes into `out` the hash of the perfect subtree at (level, index), which
 * covers leaves [index << level, (index + 1) << level); level 0 is a leaf
 * hash. The generator only asks for subtrees that lie entirely inside the
 * tree size it was given. Returns 0 or a negative ORIGO_E_* code, which the
 * generator passes through unchanged. */
typedef int (*origo_merkle_get_node_fn)(void *ctx, unsigned level,
                                        uint64_t index,
                                        uint8_t out[ORIGO_HASH_LEN]);

/* Root of the first `tree_size` leaves (SHA-256("") for 0), from at most
 * popcount(tree_size) get_node calls. Returns 0 or the callback's error. */
ORIGO_MERKLE_WUR int origo_merkle_root(origo_merkle_get_node_fn get_node,
                                       void *ctx, uint64_t tree_size,
                                       uint8_t out[ORIGO_HASH_LEN]);

/* Inclusion proof of leaf `index` in the tree of `tree_size` leaves, into
 * `proof` (room for `proof_max` hashes; ORIGO_MERKLE_MAX_PROOF always
 * suffices), count into *proof_len. Returns 0; ORIGO_E_TREE_SIZE when index
 * >= tree_size; ORIGO_E_TOOBIG when proof_max is too small; or the
 * callback's error. */
ORIGO_MERKLE_WUR int
origo_merkle_inclusion_proof(origo_merkle_get_node_fn get_node, void *ctx,
                             uint64_t index, uint64_t tree_size,
                             uint8_t (*proof)[ORIGO_HASH_LEN], size_t proof_max,
                             size_t *proof_len);

/* Consistency proof from `old_size` to `new_size` (RFC 9162 2.1.4.1), same
 * conventions as origo_merkle_inclusion_proof(). old_size == 0 or old_size
 * == new_size gives an empty proof. Returns ORIGO_E_TREE_SIZE when old_size
 * > new_size. */
ORIGO_MERKLE_WUR int
origo_merkle_consistency_proof(origo_merkle_get_node_fn get_node, void *ctx,
                               uint64_t old_size, uint64_t new_size,
                               uint8_t (*proof)[ORIGO_HASH_LEN],
                               size_t proof_max, size_t *proof_len);

/* ---- in-memory reference tree ----------------------------------------- */

/* A tree that keeps every perfect subtree hash in memory (about 2 x 32 bytes
 * per leaf). Used by tests and tools as the reference store. Not
 * thread-safe: one thread at a time per tree. */
typedef struct origo_merkle_tree origo_merkle_tree;

/* Allocates an empty tree into *out. Returns 0 or ORIGO_E_NOMEM. */
int origo_merkle_tree_new(origo_merkle_tree **out);
/* Frees the tree; NULL is a no-op. */
void origo_merkle_tree_free(origo_merkle_tree *tree);
/* Appends one leaf given by its leaf hash. Returns 0, ORIGO_E_NOMEM or
 * ORIGO_E_TOOBIG (more than 2^40 leaves; memory would run out first). */
int origo_merkle_tree_append_hash(origo_merkle_tree *tree,
                                  const uint8_t leaf_hash[ORIGO_HASH_LEN]);
/* Appends one leaf given by its data (hashed with origo_merkle_leaf_hash). */
int origo_merkle_tree_append(origo_merkle_tree *tree, const uint8_t *leaf,
                             size_t leaf_len);
/* Number of leaves appended so far. */
uint64_t origo_merkle_tree_size(const origo_merkle_tree *tree);
/* origo_merkle_get_node_fn over a tree: pass the tree as `ctx`. Returns
 * ORIGO_E_TREE_SIZE for a subtree that is not complete in the tree. */
int origo_merkle_tree_get_node(void *ctx, unsigned level, uint64_t index,
                               uint8_t out[ORIGO_HASH_LEN]);

/* ---- frontier (compact range of the right edge) ----------------------- */

/* The perfect subtrees that compose a tree of `tree_size` leaves: one per
 * set bit of tree_size. hash[level] is the perfect subtree at that level
 * (covering leaves [tree_size >> (level+1) << (level+1), + 2^level)) and is
 * meaningful only when bit `level` of tree_size is set. Caller-allocated;
 * plain data, may be copied with memcpy. */
typedef struct origo_merkle_frontier {
    uint64_t tree_size;
    uint8_t hash[ORIGO_MERKLE_MAX_LEVELS][ORIGO_HASH_LEN];
} origo_merkle_frontier;

/* Called for each perfect node that an append completes: the leaf itself at
 * level 0, then each parent it finishes. Return 0 to continue or a negative
 * code to stop the append with that code. */
typedef int (*origo_merkle_put_node_fn)(void *ctx, unsigned level,
                                        uint64_t index,
                                        const uint8_t hash[ORIGO_HASH_LEN]);

/* Sets the frontier to the empty tree. */
void origo_merkle_frontier_init(origo_merkle_frontier *frontier);

/* Loads the frontier of the tree of `tree_size` leaves from a store of
 * perfect nodes, with popcount(tree_size) get_node calls. The frontier is
 * written only on success. Returns 0 or the callback's error. */
ORIGO_MERKLE_WUR int
origo_merkle_frontier_load(origo_merkle_frontier *frontier,
                           origo_merkle_get_node_fn get_node, void *ctx,
                           uint64_t tree_size);

/* Appends one leaf hash; calls `put_node` (may be NULL) for every perfect
 * node the append completes, bottom-up, before the frontier changes. If
 * put_node fails the frontier is left unchanged and its code is returned.
 * Returns 0, ORIGO_E_TOOBIG at 2^64 - 1 leaves, or put_node's error. */
ORIGO_MERKLE_WUR int
origo_merkle_frontier_append(origo_merkle_frontier *frontier,
                             const uint8_t leaf_hash[ORIGO_HASH_LEN],
                             origo_merkle_put_node_fn put_node, void *ctx);

/* Root of the tree the frontier describes (SHA-256("") when empty). */
void origo_merkle_frontier_root(const origo_merkle_frontier *frontier,
                                uint8_t out[ORIGO_HASH_LEN]);

#ifdef __cplusplus
}
#endif
#endif
