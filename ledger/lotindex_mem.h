/* Internal to the ledger: the lot index's tree in memory
 * (docs/formats/lot-index.md, "Storage"). The chains are in LMDB
 * (`lotidx_chains`, the durable state) and so is the root at every
 * block's end (`lotidx_roots`); the tree itself lives here, persistent in
 * the functional sense: a block's update copies the paths it changes and
 * shares the rest, so the trees of recent tree sizes stay readable for
 * proofs, and a version made in a transaction that is aborted (a block
 * retried after the map grew) is simply never matched. Versions are
 * found by (tree size, root hash): a caller reads the committed root of a
 * size from LMDB in its own transaction and asks for the tree with that
 * root, so an uncommitted version can never answer.
 *
 * Rebuilt from `lotidx_chains` when first needed after the ledger opens.
 * One mutex: any thread. */
#ifndef ORIGO_LEDGER_LOTINDEX_MEM_H
#define ORIGO_LEDGER_LOTINDEX_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "lotindex.h"

typedef struct lotindex_mem lotindex_mem;

/* A key's value to put (sorted by key, distinct). */
typedef struct lotindex_place {
    uint8_t key[32];
    uint64_t count;
    uint8_t head[32];
} lotindex_place;

/* Sorts places by key, and for one key by count (the last of a key is
 * then its newest value): an in-place radix pass on the first one or two
 * key bytes (keys are SHA-256 outputs, spread evenly), then each bucket by
 * comparison. The order is that total order whatever the algorithm, so
 * the same on every machine; without memory for the buckets it falls back
 * to qsort(), same order. Several times quicker than qsort() alone at a
 * million keys: it ran 61 % of the index rebuild at start
 * (docs/performance.md, "Restart"). */
void lotindex_places_sort(lotindex_place *places, size_t n);

/* Versions kept (the most recent ones). */
#define LOTINDEX_MEM_VERSIONS 32

int lotindex_mem_new(lotindex_mem **out);
void lotindex_mem_free(lotindex_mem *m);

/* The threads that hash the nodes an update or a rebuild makes: 2 (the
 * default; the second is started at the first update large enough to
 * gain from it) or 1 (the caller alone). The hashes are the same. */
void lotindex_mem_set_threads(lotindex_mem *m, unsigned threads);
/* How many updates and rebuilds had their hashing split between the two
 * threads, for tests. */
size_t lotindex_mem_hashed_split(lotindex_mem *m);

/* Whether a version with this size and root exists. */
int lotindex_mem_has(lotindex_mem *m, uint64_t tree_size,
                     const uint8_t root[32]);

/* Makes the version of `tree_size` from exactly `places` (all keys),
 * dropping every other version. *root receives its hash. Returns 0 or
 * ORIGO_E_NOMEM. */
int lotindex_mem_rebuild(lotindex_mem *m, uint64_t tree_size,
                         const lotindex_place *places, size_t n,
                         uint8_t root[32]);

/* Makes the version of `tree_size` from the version (base_size, base_root)
 * with places[0..n) put (new keys or new values), drops every version
 * larger than base_size (they were never committed, since this one builds
 * on base) and the oldest beyond LOTINDEX_MEM_VERSIONS. *root receives its
 * hash. Returns 0, ORIGO_E_NOTFOUND (no such base: rebuild), or
 * ORIGO_E_NOMEM. */
int lotindex_mem_update(lotindex_mem *m, uint64_t base_size,
                        const uint8_t base_root[32], uint64_t tree_size,
                        const lotindex_place *places, size_t n,
                        uint8_t root[32]);

/* The proof of `key` in the version (tree_size, root). Returns 0 or
 * ORIGO_E_NOTFOUND (that version is not kept). */
int lotindex_mem_prove(lotindex_mem *m, uint64_t tree_size,
                       const uint8_t root[32], const uint8_t key[32],
                       lotindex_proof *proof);

/* Nodes and leaves held, for benchmarks. */
void lotindex_mem_stats(lotindex_mem *m, size_t *nodes, size_t *leaves,
                        size_t *bytes);

#endif
