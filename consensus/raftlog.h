/* Raft log storage in LMDB (consensus/README.md, section "Storage").
 *
 * The log lives in two named tables of an LMDB environment that the CALLER
 * opens and owns, so that the ledger (the state machine) shares it and a
 * node can persist new entries and apply committed ones in well-defined
 * transactions:
 *   raft_entries  key: index as 8 big-endian bytes (LMDB order is numeric)
 *                 value: a 28-byte header (format, entry type, flags, term,
 *                 payload length, SipHash-2-4 of the payload) and the payload
 *   raft_meta     "hard_state", "snapshot" and "released" records
 * The environment must allow at least RAFTLOG_DBI_COUNT named tables beyond
 * the caller's own (mdb_env_set_maxdbs()). Durability is LMDB's default:
 * a committed write transaction has been fsync()ed (do not open the
 * environment with MDB_NOSYNC or MDB_NOMETASYNC if you rely on Raft's
 * guarantees).
 *
 * Transactions: every function takes an MDB_txn *. Functions that only read
 * accept a read-only or a read-write transaction; functions that write need
 * a read-write one. Pass NULL to let the function run in a transaction of
 * its own (committed before it returns); functions that hand out pointers
 * into the map (raftlog_entries(), raftlog_restore()) require a real
 * transaction, because the pointers are valid only until it ends. Argument
 * and rule violations (ORIGO_E_INVAL, _TOOBIG, _LOG_GAP, _COMPACTED,
 * _SNAPSHOT) are found before anything is written and leave the caller's
 * transaction usable; after an LMDB failure (ORIGO_E_MAP_FULL,
 * ORIGO_E_LOG_STORE...) the caller must abort it (LMDB's rule). With
 * txn == NULL the function aborts its own.
 *
 * "A block is stored once": once the ledger has applied an entry and stored
 * the block in its own tables, raftlog_release() (in the same transaction)
 * replaces the log's copy of the payload by a stub; reading the entry later
 * asks the payload hook (raftlog_options) for the ledger's copy and checks
 * it against the stored hash. The log stays logically complete, with one
 * physical copy of every block.
 *
 * Threads: a raftlog handle may be used from several threads as long as
 * LMDB's own rules for the transactions passed in are respected (a write
 * transaction belongs to one thread); the handle itself is read-only after
 * raftlog_open(). */
#ifndef ORIGO_CONSENSUS_RAFTLOG_H
#define ORIGO_CONSENSUS_RAFTLOG_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "raft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Named tables used by the log. */
#define RAFTLOG_DBI_ENTRIES "raft_entries"
#define RAFTLOG_DBI_META "raft_meta"
#define RAFTLOG_DBI_COUNT 2

/* Largest payload of one entry: RAFTMSG_MAX_ENTRY_BYTES, so that every
 * entry the log holds fits one peer frame. */
#define RAFTLOG_MAX_ENTRY_BYTES (15u << 20)

/* Supplies the payload of an entry whose copy the log has released (see
 * raftlog_release()): sets *data and *len to the bytes the entry carried,
 * valid at least until `txn` ends (typically a pointer into the ledger's
 * own tables in the same environment). Returns 0, or a negative ORIGO_E_*
 * code (ORIGO_E_NOTFOUND if the state machine no longer holds it). Called
 * on the thread that reads the log, inside the reader's transaction. */
typedef int (*raftlog_payload_fn)(void *ctx, MDB_txn *txn, uint64_t index,
                                  uint64_t term, uint8_t type,
                                  const uint8_t **data, size_t *len);

typedef struct raftlog_options {
    raftlog_payload_fn payload_fn; /* NULL: raftlog_release() is refused */
    void *payload_ctx;
} raftlog_options;

/* Opaque handle: the table handles and the options. */
typedef struct raftlog raftlog;

/* Opens (creating if absent) the log's tables in `env`.
 * `txn`: a read-write transaction of `env`, or NULL to use one of its own.
 * LMDB makes table handles opened in a transaction usable by others only
 * once that transaction commits: with a caller's txn, commit it before using
 * the log in any other transaction. `options` may be NULL. On success
 * *out is a new handle for raftlog_close(). Returns 0, ORIGO_E_NOMEM,
 * ORIGO_E_LOG_STORE (e.g. the environment allows too few named tables),
 * ORIGO_E_MAP_FULL, ORIGO_E_CORRUPT (a record in an unknown format). Call
 * from one thread at a time per environment (LMDB's rule for opening
 * tables). */
int raftlog_open(MDB_env *env, MDB_txn *txn, const raftlog_options *options,
                 raftlog **out);

/* Frees the handle; the tables stay open in the environment (LMDB closes
 * them with it). NULL is a no-op. */
void raftlog_close(raftlog *log);

/* Persists entries[0..count) as the core's struct raft_ready asks: every
 * stored entry with index >= entries[0].index is deleted, then the entries
 * are written. They must carry consecutive indexes and non-decreasing terms
 * not below the term of the entry before them; entries at or below the
 * snapshot index are skipped (the state machine holds them). Payloads are
 * copied. Returns 0, ORIGO_E_INVAL (bad arguments, indexes not consecutive,
 * index 0, terms decreasing), ORIGO_E_LOG_GAP (entries[0].index is past
 * last index + 1), ORIGO_E_TOOBIG (a payload over RAFTLOG_MAX_ENTRY_BYTES),
 * ORIGO_E_MAP_FULL (grow the map and retry the transaction),
 * ORIGO_E_LOG_STORE. */
int raftlog_append(raftlog *log, MDB_txn *txn, const struct raft_entry *entries,
                   size_t count);

/* Deletes every entry with index >= from_index (nothing if the log ends
 * before). from_index must be above the snapshot index. Returns 0,
 * ORIGO_E_INVAL (index 0), ORIGO_E_COMPACTED, ORIGO_E_MAP_FULL,
 * ORIGO_E_LOG_STORE. */
int raftlog_truncate(raftlog *log, MDB_txn *txn, uint64_t from_index);

/* Reads entries with indexes lo..hi-1 into out[0..cap) in order, stopping
 * early after `cap` entries or before the entry that would take the payload
 * total past max_bytes (the first entry is always returned whatever its
 * size); *count is set to the number read. `txn` must not be NULL: each
 * out[i].data.base points into the LMDB map (read-only memory: do not write
 * through it) or into the payload hook's memory, valid until `txn` ends.
 * Returns 0, ORIGO_E_INVAL (txn NULL, lo >= hi, cap 0), ORIGO_E_COMPACTED
 * (lo is below the first index), ORIGO_E_NOTFOUND (hi - 1 is past the last
 * index), ORIGO_E_LOG_GAP (an index inside the log is missing: storage
 * damage), ORIGO_E_CORRUPT (a record or a hooked payload fails its check),
 * or the payload hook's error. */
int raftlog_entries(raftlog *log, MDB_txn *txn, uint64_t lo, uint64_t hi,
                    size_t max_bytes, struct raft_entry *out, size_t cap,
                    size_t *count);

/* First index held in the log (snapshot index + 1 for an empty log, 1 for
 * a fresh one) and last index (the snapshot index, or 0, for an empty log).
 * Returns 0, ORIGO_E_CORRUPT, ORIGO_E_LOG_STORE. */
int raftlog_first_index(raftlog *log, MDB_txn *txn, uint64_t *out);
int raftlog_last_index(raftlog *log, MDB_txn *txn, uint64_t *out);

/* Index and term of the last entry (or of the snapshot, or 0/0 for a fresh
 * log): what a RequestVote carries. Same return codes. */
int raftlog_last(raftlog *log, MDB_txn *txn, uint64_t *index, uint64_t *term);

/* Term of the entry at `index`: 0 for index 0, the snapshot's term for the
 * snapshot index. Returns 0, ORIGO_E_COMPACTED, ORIGO_E_NOTFOUND (past the
 * last index), ORIGO_E_LOG_GAP, ORIGO_E_CORRUPT, ORIGO_E_LOG_STORE. */
int raftlog_term(raftlog *log, MDB_txn *txn, uint64_t index, uint64_t *out);

/* Saves / loads the hard state (term, vote, commit) as one record. A fresh
 * log loads all zeros. Returns 0, ORIGO_E_MAP_FULL, ORIGO_E_CORRUPT,
 * ORIGO_E_LOG_STORE. */
int raftlog_save_hard_state(raftlog *log, MDB_txn *txn,
                            const struct raft_hard_state *state);
int raftlog_load_hard_state(raftlog *log, MDB_txn *txn,
                            struct raft_hard_state *out);

/* Records the metadata of a snapshot this node's state machine took (it
 * already holds the state, in this or an earlier transaction; for Origo the
 * ledger at its applied index IS that state). The log must hold
 * snapshot->index with snapshot->term; its entries are kept (drop those at
 * or below the index with raftlog_compact() when followers no longer need
 * them). Returns 0, ORIGO_E_INVAL (index 0, configuration that does not
 * encode), ORIGO_E_SNAPSHOT (older than the stored snapshot, or the log
 * does not hold that index and term), ORIGO_E_MAP_FULL, ORIGO_E_LOG_STORE. */
int raftlog_save_snapshot(raftlog *log, MDB_txn *txn,
                          const struct raft_snapshot_meta *snapshot);

/* Records a snapshot received from the leader (ready->snapshot_install):
 * every entry is deleted and the log continues at snapshot->index + 1.
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_SNAPSHOT (older than the stored one),
 * ORIGO_E_MAP_FULL, ORIGO_E_LOG_STORE. */
int raftlog_install_snapshot(raftlog *log, MDB_txn *txn,
                             const struct raft_snapshot_meta *snapshot);

/* Loads the snapshot metadata. Returns 0, ORIGO_E_NOTFOUND (no snapshot
 * yet), ORIGO_E_CORRUPT, ORIGO_E_LOG_STORE. */
int raftlog_load_snapshot(raftlog *log, MDB_txn *txn,
                          struct raft_snapshot_meta *out);

/* Deletes every entry with index <= upto. upto must not exceed the stored
 * snapshot's index (the state up to there must be held by the state
 * machine); the term of the snapshot index stays known through the
 * snapshot record. Returns 0, ORIGO_E_SNAPSHOT (no snapshot covers upto),
 * ORIGO_E_MAP_FULL, ORIGO_E_LOG_STORE. */
int raftlog_compact(raftlog *log, MDB_txn *txn, uint64_t upto);

/* Drops the log's copy of the payload of every entry of type `type` with
 * index <= upto that still holds one; the entries keep index, term, type,
 * length and hash, and reading them asks the payload hook, whose bytes are
 * checked against the hash. Call it in the transaction in which the ledger
 * stores the applied blocks, never for an entry the state machine has not
 * stored. Pass the same `type` on every call (RAFT_ENTRY_NORMAL for
 * Origo): a persistent watermark makes each call cost only the entries
 * added since the last one. Returns 0, ORIGO_E_INVAL (no payload hook was
 * configured), ORIGO_E_MAP_FULL, ORIGO_E_CORRUPT, ORIGO_E_LOG_STORE. */
int raftlog_release(raftlog *log, MDB_txn *txn, uint64_t upto, uint8_t type);

/* Fills the durable part of *out for raft_new(): hard_state, snapshot
 * (index 0 and an empty configuration if none) and entries from snapshot
 * index + 1 to the last index. out->entries is a malloc()ed array (free it
 * with raftlog_restore_release()) whose data point into the map or the
 * payload hook's memory: call raft_new() before `txn` (not NULL) ends.
 * bootstrap and snapshot_data are set to zero: the caller fills them.
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_NOMEM, or the errors of
 * raftlog_entries() and raftlog_load_snapshot(). */
int raftlog_restore(raftlog *log, MDB_txn *txn, struct raft_restore *out);

/* Frees what raftlog_restore() allocated; safe to call twice. */
void raftlog_restore_release(struct raft_restore *restore);

/* Maps an LMDB return code (or errno value) to an ORIGO_E_* code:
 * MDB_NOTFOUND -> ORIGO_E_NOTFOUND, MDB_MAP_FULL -> ORIGO_E_MAP_FULL,
 * MDB_CORRUPTED / MDB_PAGE_NOTFOUND / MDB_INVALID -> ORIGO_E_CORRUPT,
 * MDB_READERS_FULL -> ORIGO_E_BUSY, MDB_MAP_RESIZED -> ORIGO_E_AGAIN,
 * ENOMEM -> ORIGO_E_NOMEM, EACCES -> ORIGO_E_PERM, EINVAL -> ORIGO_E_INVAL,
 * anything else -> ORIGO_E_LOG_STORE. 0 maps to 0. Any thread. */
int raftlog_mdb_error(int mdb_rc);

#ifdef __cplusplus
}
#endif
#endif
