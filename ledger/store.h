/* Internal to the ledger: the handle, the LMDB environment and its tables,
 * the head record, and the helpers every ledger file shares. Not installed;
 * callers outside ledger/ use ledger.h. */
#ifndef ORIGO_LEDGER_STORE_H
#define ORIGO_LEDGER_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "origo/merkle.h"

#include "genesis.h"
#include "ledger.h"

/* Named tables the ledger itself uses; the rest of the max-DBs budget is
 * for the trace indexes (up to STORE_TRACE_DBS) and the caller's extra
 * tables (Raft). */
#define STORE_LEDGER_DBS 17
#define STORE_TRACE_DBS 16
#define STORE_DEFAULT_EXTRA_DBS 8
#define STORE_DEFAULT_MAP_SIZE ((size_t)64 << 20)
#define STORE_MAX_MAP_SIZE ((size_t)1 << 40)

/* Merkle nodes below this level are not stored: they are recomputed from
 * the envelopes in `events` (docs/formats/block.md, "Merkle log"). The
 * stored ones are grouped: one `mlog` row per 2^MLOG_MIN_STORED_LEVEL
 * leaves holds every node completed by that group's last leaf. */
#define MLOG_MIN_STORED_LEVEL 2
#define MLOG_GROUP_LEAVES (1u << MLOG_MIN_STORED_LEVEL)

/* Format version of the store (meta "format"). 2: block headers v2 (they
 * commit to every envelope of the block). 3: rule version 1 (authority.md):
 * the `lots`, `lot_holds`, `member_names` and `approvals` tables replace
 * `lots_created`. 4: the lot index (lot-index.md): `lotidx_chains`,
 * `lotidx_roots` and `lotidx_sigs`. 5: the lot index's membership chain
 * (lot-index.md, "The membership chain").
 * A store of another version is refused at open (ORIGO_E_VERSION). */
#define STORE_FORMAT_VERSION 5

struct ledger {
    MDB_env *env;
    char *dir;
    size_t map_size;
    ledger_options options;
    MDB_dbi meta, events, event_ids, mlog, blocks, block_raft, rejects, members,
        ckpt_sigs, lots, lot_holds, member_names, approvals, namespaces,
        lotidx_chains, lotidx_roots, lotidx_sigs;
    genesis *gen;
    uint8_t genesis_hash[LEDGER_HASH_LEN];
    void *trace; /* the trace indexes' handle (ledger/trace.h), or NULL */
    struct lotindex_mem *lotidx; /* the lot index's tree (lotindex_mem.h) */
    int testing_skip_rules;      /* testing.h: tests only */
    int testing_skip_index;      /* testing.h: benchmarks only */
};

/* The head record (meta "state") with the Merkle frontier, so that a block
 * can append leaves without reading anything but this record. */
typedef struct store_head {
    ledger_state state;
    origo_merkle_frontier frontier;
} store_head;

/* Big-endian fixed-width keys keep LMDB's byte order numeric. */
void store_put_be64(uint8_t out[8], uint64_t value);
uint64_t store_get_be64(const uint8_t in[8]);
void store_put_be32(uint8_t out[4], uint32_t value);
uint32_t store_get_be32(const uint8_t in[4]);
/* qsort() order of uint64_t values, ascending. */
int store_cmp_u64(const void *a, const void *b);

/* Maps an LMDB return code to ORIGO_E_* (MDB_MAP_FULL -> MAP_FULL,
 * MDB_TXN_FULL -> TXN_FULL (a block too large for one transaction; growing
 * the map would not help), MDB_NOTFOUND -> NOTFOUND, else STORE). */
int store_err(int mdb_rc);

/* Reads / writes the head. get returns ORIGO_E_CORRUPT on a bad record. */
int store_head_get(ledger *led, MDB_txn *txn, store_head *out);
int store_head_put(ledger *led, MDB_txn *txn, const store_head *head);

/* Runs `fn(led, txn, ctx)` in a fresh write transaction, committing on 0
 * and aborting otherwise; on a full map (ORIGO_E_MAP_FULL only, never
 * ORIGO_E_TXN_FULL) grows it and runs fn again (fn must therefore have no
 * side effects outside the transaction, or reset them). */
int store_write(ledger *led, int (*fn)(ledger *, MDB_txn *, void *), void *ctx);

/* The genesis file's bytes as stored (valid while txn lives). Returns 0,
 * ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int store_genesis_json(ledger *led, MDB_txn *txn, const uint8_t **json,
                       size_t *len);

/* Begins a read-only transaction if `txn` is NULL (sets *own = 1). */
int store_read_begin(ledger *led, MDB_txn *txn, MDB_txn **use, int *own);
void store_read_end(MDB_txn *use, int own);

/* Opens (creating when `create`) the ledger's tables in `txn`. */
int store_open_tables(ledger *led, MDB_txn *txn, int create);

/* ---- Merkle log (mlog.c) ------------------------------------------------ */

/* Context for origo_merkle_get_node_fn over the store: perfect nodes at
 * levels >= MLOG_MIN_STORED_LEVEL come from `mlog`, lower ones are
 * recomputed from the envelopes of one group, hashing only the leaves asked
 * for (a group's leaf hashes are cached while the reader stays on it). */
typedef struct mlog_reader {
    ledger *led;
    MDB_txn *txn;
    MDB_cursor *events_cur, *mlog_cur; /* NULL: plain mdb_get */
    uint64_t cached_group;             /* UINT64_MAX when empty */
    unsigned hashed;                   /* bit i: cache[i] holds leaf i */
    unsigned missing;                  /* bit i: leaf i is not stored */
    uint8_t cache[MLOG_GROUP_LEAVES][ORIGO_HASH_LEN];
} mlog_reader;

/* A reader that uses mdb_get; nothing to close. */
void mlog_reader_init(mlog_reader *rd, ledger *led, MDB_txn *txn);
/* A reader with its own cursors (faster for many reads); close it with
 * mlog_reader_close() before the transaction ends. Returns 0 or
 * ORIGO_E_STORE. */
int mlog_reader_open(mlog_reader *rd, ledger *led, MDB_txn *txn);
void mlog_reader_close(mlog_reader *rd);
int mlog_get_node(void *ctx, unsigned level, uint64_t index,
                  uint8_t out[ORIGO_HASH_LEN]);

/* The tree size of the head record, without decoding the rest. Returns 0
 * or ORIGO_E_CORRUPT / ORIGO_E_STORE. */
int store_head_tree_size(ledger *led, MDB_txn *txn, uint64_t *tree_size);

/* Appends one leaf (its envelope bytes) at head->state.tree_size: writes the
 * envelope into `events`, the newly completed stored nodes into `mlog`, and
 * advances head's frontier and tree size (not its root). */
int mlog_append(ledger *led, MDB_txn *txn, store_head *head,
                const uint8_t *leaf, size_t leaf_len);

/* ---- blocks and checkpoints -------------------------------------------- */

/* Validator set as of `tree_size`: members holding the validator role. The
 * arrays are malloc()ed (free both); names NUL-terminated. */
typedef ledger_party store_validator; /* ledger.h */

int members_validators(ledger *led, MDB_txn *txn, uint64_t tree_size,
                       store_validator **out, size_t *count);
/* The active members holding `role` (an ORIGO_ROLE_* bit) as of
 * `tree_size`, in the same form. */
int members_with_role(ledger *led, MDB_txn *txn, uint64_t tree_size,
                      uint32_t role, store_validator **out, size_t *count);

/* The number of validators as of `tree_size`. Returns 0, ORIGO_E_NOMEM,
 * ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int members_validator_count(ledger *led, MDB_txn *txn, uint64_t tree_size,
                            size_t *count);

/* The checkpoint quorum for a tree of `tree_size` leaves with
 * `validator_count` validators as of that size: a majority of them
 * (floor(n/2) + 1), and never less than the genesis checkpoint_quorum. */
size_t members_quorum(const ledger *led, size_t validator_count);

#endif
