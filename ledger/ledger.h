/* The ledger: Origo's deterministic state machine (docs/formats/block.md,
 * docs/formats/genesis.md).
 *
 * A ledger is one LMDB environment in a node directory. It is bound to one
 * genesis at creation and then only grows by whole blocks: each block is an
 * ordered batch of event envelopes with a block time, applied in ONE write
 * transaction. Accepted events become leaves of the RFC 9162 Merkle log in
 * order; rejected ones are kept with their block and a reason code; a block
 * header (canonical msgpack) chains each block to the previous one.
 *
 * Transactions. Most functions take an `MDB_txn *txn`:
 *   - NULL: the function runs its own transaction (a read-only one for
 *     queries, a write one for updates, committed before it returns; a
 *     write that finds the map full grows the map and retries, which LMDB
 *     allows only while no other transaction of this process is active:
 *     a process with concurrent readers passes its own transaction, or
 *     opens with a map_size that will not fill between quiet points);
 *   - non-NULL: the caller's transaction (for writes a read-write one, so a
 *     node can apply a block and update its Raft state atomically). A failed
 *     write leaves the caller's transaction to be aborted (LMDB's rule);
 *     ORIGO_E_MAP_FULL means: abort, call ledger_grow_map(), retry.
 * Functions that hand out pointers into the map (ledger_event_at()) require
 * a real transaction: the pointers are valid until it ends.
 *
 * Threads. A ledger handle may be shared by threads: the handle is read-only
 * after ledger_open() (the environment is opened with MDB_NOTLS, so a
 * read-only transaction may move between threads, but one transaction is
 * used by one thread at a time). Write transactions are serialised by LMDB.
 * ledger_grow_map() and ledger_close() require that no transaction of this
 * process is active. */
#ifndef ORIGO_LEDGER_H
#define ORIGO_LEDGER_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "lotindex.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LEDGER_HASH_LEN 32

typedef struct ledger ledger;

/* Options for ledger_open(); zero-initialise and set what you need. */
typedef struct ledger_options {
    size_t map_size;        /* initial map size; 0 = 64 MiB */
    unsigned int extra_dbs; /* named tables beyond the ledger's (raft...) */
    int nosync;             /* 1 = MDB_NOSYNC (tests, scratch stores only) */
    int read_only;          /* 1 = MDB_RDONLY (audit of a live copy) */
} ledger_options;

/* Named tables of the ledger (docs/formats/block.md, "Storage"). The trace
 * indexes (ledger/trace.h) and Raft's tables live in the same environment. */
#define LEDGER_DBI_META "meta"
#define LEDGER_DBI_EVENTS "events"
#define LEDGER_DBI_EVENT_IDS "event_ids"
#define LEDGER_DBI_MLOG "mlog"
#define LEDGER_DBI_BLOCKS "blocks"
#define LEDGER_DBI_BLOCK_RAFT "block_raft"
#define LEDGER_DBI_REJECTS "rejects"
#define LEDGER_DBI_MEMBERS "members"
#define LEDGER_DBI_CKPT_SIGS "ckpt_sigs"
#define LEDGER_DBI_LOTS "lots"
#define LEDGER_DBI_LOT_HOLDS "lot_holds"
#define LEDGER_DBI_MEMBER_NAMES "member_names"
#define LEDGER_DBI_APPROVALS "approvals"
#define LEDGER_DBI_NAMESPACES "namespaces"
#define LEDGER_DBI_LOTIDX_CHAINS "lotidx_chains"
#define LEDGER_DBI_LOTIDX_ROOTS "lotidx_roots"
#define LEDGER_DBI_LOTIDX_SIGS "lotidx_sigs"

/* ---- lifetime ----------------------------------------------------------- */

/* Opens (creating the directory's data.mdb if needed) the store in `dir`.
 * `genesis_json` (may be NULL for an existing store) is the genesis file's
 * bytes: a new store is initialised from it; an existing store must have
 * been created from a genesis with the same hash (ORIGO_E_GENESIS
 * otherwise). Stale reader slots are cleared (mdb_reader_check).
 * `errmsg` (may be NULL) receives a message naming the field or table at
 * fault. Returns 0 and *out (free with ledger_close()), ORIGO_E_GENESIS,
 * ORIGO_E_NOTFOUND (no store and no genesis given), ORIGO_E_VERSION (a
 * store of another format version), ORIGO_E_STORE, ORIGO_E_NOMEM. */
int ledger_open(const char *dir, const uint8_t *genesis_json,
                size_t genesis_len, const ledger_options *options, ledger **out,
                char *errmsg, size_t errmsg_size);

/* Closes the store; NULL is a no-op. No transaction may be active. */
void ledger_close(ledger *led);

/* The LMDB environment, for Raft's tables and the node's transactions.
 * Borrowed: valid until ledger_close(). */
MDB_env *ledger_env(ledger *led);

/* LMDB's reader table now: slots in a read transaction (*active), and how
 * many write transactions the oldest of them is behind the latest
 * (*oldest_lag, 0 with none): a reader held open stops LMDB from reusing
 * the pages freed since, and the file grows. Returns 0 or ORIGO_E_STORE. */
int ledger_readers(ledger *led, size_t *active, uint64_t *oldest_lag);

/* Begins a transaction on the environment (read-only when `read_only`),
 * handling MDB_MAP_RESIZED. Returns 0 or ORIGO_E_STORE. */
int ledger_txn_begin(ledger *led, int read_only, MDB_txn **out);

/* Doubles the map size (up to a 1 TiB cap). No transaction may be active
 * in this process. Returns 0, ORIGO_E_MAP_FULL at the cap, ORIGO_E_STORE. */
int ledger_grow_map(ledger *led);

/* Runs fn(led, txn, ctx) in a write transaction and commits it; when the
 * map is full (fn's or the commit's ORIGO_E_MAP_FULL), aborts, grows the
 * map and runs fn again from the start, so fn must give the same writes
 * when run again. Returns 0, fn's error, a store error, or
 * ORIGO_E_MAP_FULL at the largest map. For writers outside apply (the
 * node's Raft state). */
int ledger_write(ledger *led, int (*fn)(ledger *, MDB_txn *, void *),
                 void *ctx);

/* ---- state -------------------------------------------------------------- */

/* The head of the ledger. */
typedef struct ledger_state {
    uint64_t height;    /* blocks applied; 0 before the first */
    uint64_t tree_size; /* Merkle leaves */
    uint8_t root[LEDGER_HASH_LEN];
    uint8_t last_block_hash[LEDGER_HASH_LEN]; /* the genesis hash at 0 */
    uint64_t last_block_time;                 /* ms; 0 before the first block */
    uint64_t raft_term;                       /* of the last applied block */
    uint64_t raft_index;                      /* of the last applied block */
    uint8_t genesis_hash[LEDGER_HASH_LEN];
} ledger_state;

/* Reads the head. Returns 0 or ORIGO_E_STORE / ORIGO_E_CORRUPT. */
int ledger_get_state(ledger *led, MDB_txn *txn, ledger_state *out);

/* The network origin (checkpoint origin, event `net`). Borrowed, valid until
 * ledger_close(). */
const char *ledger_origin(const ledger *led);

/* ---- applying blocks ---------------------------------------------------- */

/* One envelope of a block: canonical msgpack {body, sig}. Borrowed.
 * `sig_verified` = 1 says the caller already verified this envelope with
 * origo_envelope_verify() (strict) and it passed, so apply skips the
 * signature check for it (the node's thread pool); 0 = apply verifies. */
typedef struct ledger_envelope {
    const uint8_t *data;
    size_t len;
    int sig_verified;
} ledger_envelope;

/* Per-envelope outcome. */
typedef struct ledger_outcome {
    int status;          /* 0 accepted, else the ORIGO_E_* reason */
    uint64_t leaf_index; /* when accepted */
    int has_id;          /* 1 when the envelope decoded and event_id is set */
    uint8_t event_id[LEDGER_HASH_LEN];
} ledger_outcome;

/* What ledger_apply_block() did. `outcomes` is caller-allocated with room
 * for `count` entries (may be NULL when the caller does not need them). */
typedef struct ledger_block_result {
    uint64_t height;
    uint8_t block_hash[LEDGER_HASH_LEN];
    uint64_t first_leaf;
    uint64_t leaf_count;
    uint64_t tree_size;
    uint8_t root[LEDGER_HASH_LEN];
    size_t rejected;
    ledger_outcome *outcomes;
} ledger_block_result;

/* Flags for ledger_apply_block(). */
#define LEDGER_APPLY_SIGS_VERIFIED                                             \
    1u /* treat every envelope as if                                           \
          sig_verified were 1 (benchmarks) */
/* The caller aborts the transaction (a pre-validation): the verdicts are
 * the same, but what no validation reads (the lot index) is not computed.
 * Never for a block that is kept. */
#define LEDGER_APPLY_DRY_RUN 2u

/* Most envelopes per block. */
#define LEDGER_MAX_BLOCK_EVENTS 65536u

/* Applies one block: validates each envelope in order (docs/formats/
 * block.md, "Validation"), appends the accepted ones to the Merkle log,
 * records the rejected ones with their reason, indexes accepted events for
 * trace, and writes the block header. With txn == NULL it is one write
 * transaction of its own (grown and retried on a full map); otherwise it
 * writes into the caller's read-write transaction and commits nothing.
 * Returns 0 and fills *result (rejections are outcomes, not errors);
 * ORIGO_E_EXISTS when raft_index <= the last applied one (nothing done: a
 * replayed entry); ORIGO_E_BLOCK_TIME when block_time_ms is not greater
 * than the last block's (nothing done; the node treats that entry as a
 * no-op, identically everywhere); ORIGO_E_TOOBIG (too many envelopes);
 * ORIGO_E_TXN_FULL (the block dirties more pages than one LMDB transaction
 * can hold: not retried, since a bigger map does not help; split the
 * block); ORIGO_E_MAP_FULL (caller's txn only), ORIGO_E_STORE,
 * ORIGO_E_NOMEM. */
int ledger_apply_block(ledger *led, MDB_txn *txn, uint64_t raft_term,
                       uint64_t raft_index, uint64_t block_time_ms,
                       const ledger_envelope *envelopes, size_t count,
                       unsigned flags, ledger_block_result *result);

/* ---- events ------------------------------------------------------------- */

/* The envelope at `leaf_index`. *data points into the map, valid until the
 * end of `txn` (required). Returns 0, ORIGO_E_NOTFOUND, ORIGO_E_STORE. */
int ledger_event_at(ledger *led, MDB_txn *txn, uint64_t leaf_index,
                    const uint8_t **data, size_t *len);

/* ---- lots and members (authority.md, "State") ---------------------------- */

/* A lot as the authority rules see it now. */
typedef struct ledger_lot {
    uint8_t owner[32];  /* the member that created it */
    uint8_t holder[32]; /* the member that has it */
    int in_transit;     /* shipped to transit_to, not yet received */
    uint8_t transit_to[32];
    uint64_t created_leaf;
    char qty[41];      /* what was made ("" for EPCIS commissioning) */
    char unit[33];     /* its unit */
    char consumed[41]; /* what transforms consumed, in that unit */
} ledger_lot;

/* The lot's current record. Returns 0, ORIGO_E_NOTFOUND (no such lot),
 * ORIGO_E_CORRUPT, ORIGO_E_STORE. `txn` may be NULL. */
int ledger_lot_get(ledger *led, MDB_txn *txn, const char *lot, size_t len,
                   ledger_lot *out);

typedef struct ledger_member {
    int active;
    uint32_t roles;        /* ORIGO_ROLE_* bits */
    uint8_t identity[32];  /* the key the member first had */
    uint64_t revoked_from; /* this key is compromised from then (0: never) */
    char name[256];        /* NUL-terminated */
} ledger_member;

/* Member `pub` as it was for an event at leaf `position`. Returns 0,
 * ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT, ORIGO_E_STORE. `txn` may be NULL. */
int ledger_member_at(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                     uint64_t position, ledger_member *out);

/* A member named in a list: its name and current key. */
typedef struct ledger_party {
    char name[256]; /* NUL-terminated */
    uint8_t pub[32];
} ledger_party;

/* The validators as of `tree_size` (members holding the validator role),
 * or with `role` 0 every active member; with another ORIGO_ROLE_* bit the
 * active members holding it. *out is malloc()ed (free it). Returns 0,
 * ORIGO_E_NOMEM, ORIGO_E_CORRUPT, ORIGO_E_STORE. `txn` may be NULL. */
int ledger_validators(ledger *led, MDB_txn *txn, uint64_t tree_size,
                      ledger_party **out, size_t *count);
int ledger_members_with_role(ledger *led, MDB_txn *txn, uint64_t tree_size,
                             uint32_t role, ledger_party **out, size_t *count);

enum ledger_event_status {
    LEDGER_EVENT_UNKNOWN = 0,
    LEDGER_EVENT_COMMITTED = 1,
    LEDGER_EVENT_REJECTED = 2,
};

typedef struct ledger_event_info {
    int status;          /* enum ledger_event_status */
    uint64_t leaf_index; /* committed */
    uint64_t height;     /* block that committed or (last) rejected it */
    uint32_t position;   /* rejected: position in that block */
    int reason;          /* rejected: ORIGO_E_* code */
} ledger_event_info;

/* Status of an event ID. An ID that was rejected and later committed is
 * committed. The index is keyed by the ID's first 128 bits; the answer is
 * checked against the full ID of the stored envelope, so another event that
 * shares those bits answers UNKNOWN. The height of a committed event is
 * found by binary search over the block headers. Returns 0 (status UNKNOWN
 * when never seen), ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int ledger_event_lookup(ledger *led, MDB_txn *txn,
                        const uint8_t event_id[LEDGER_HASH_LEN],
                        ledger_event_info *out);

/* ---- blocks ------------------------------------------------------------- */

typedef struct ledger_block_header {
    uint64_t height;
    uint8_t prev_hash[LEDGER_HASH_LEN];
    uint64_t block_time;
    uint64_t raft_term;
    uint64_t raft_index;
    /* Every envelope of the block, accepted and rejected: their number and
     * SHA-256 over (u32 big-endian length || bytes) of each, in order
     * (docs/formats/block.md), so the header commits to the whole input. */
    uint64_t envelope_count;
    uint8_t envelopes_hash[LEDGER_HASH_LEN];
    uint64_t first_leaf;
    uint64_t leaf_count;
    uint64_t tree_size;
    uint8_t root[LEDGER_HASH_LEN];
} ledger_block_header;

/* Reads block `height` (1-based) and its hash (hash may be NULL). Returns 0,
 * ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int ledger_block_get(ledger *led, MDB_txn *txn, uint64_t height,
                     ledger_block_header *out, uint8_t hash[LEDGER_HASH_LEN]);

/* Height of the block applied from Raft entry `raft_index`. Returns 0,
 * ORIGO_E_NOTFOUND, ORIGO_E_STORE. */
int ledger_block_by_raft_index(ledger *led, MDB_txn *txn, uint64_t raft_index,
                               uint64_t *height);

/* Encodes a header canonically (docs/formats/block.md) into a malloc()ed
 * buffer and computes its hash (hash may be NULL). Returns 0 or
 * ORIGO_E_NOMEM. */
int ledger_block_encode(const ledger_block_header *header, uint8_t **out,
                        size_t *out_len, uint8_t hash[LEDGER_HASH_LEN]);

/* Decodes a stored header strictly. Returns 0 or a codec error. */
int ledger_block_decode(const uint8_t *data, size_t len,
                        ledger_block_header *out);

/* Re-assembles the envelopes of block `height` in their original order
 * (accepted and rejected), for a Raft payload hook or a peer catching up.
 * Calls `visit` once per envelope with pointers valid until the end of
 * `txn` (required). Returns 0, the visitor's non-zero return, or an error:
 * ORIGO_E_CORRUPT when the stored envelopes do not add up to the header's
 * envelope_count (a missing leaf or reject, or a reject beyond the end). */
int ledger_block_envelopes(ledger *led, MDB_txn *txn, uint64_t height,
                           int (*visit)(void *ctx, uint32_t position,
                                        const uint8_t *data, size_t len,
                                        int status),
                           void *ctx);

/* ---- Merkle proofs ------------------------------------------------------ */

/* Root of the first `tree_size` leaves (any size up to the current one). */
int ledger_root_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                   uint8_t root[LEDGER_HASH_LEN]);

/* Inclusion proof of `leaf_index` in the tree of `tree_size` leaves
 * (tree_size <= current size). `proof` has room for `proof_max` hashes
 * (65 always suffices). O(log n) reads. Returns 0, ORIGO_E_TREE_SIZE,
 * ORIGO_E_TOOBIG, ORIGO_E_STORE, ORIGO_E_CORRUPT. */
int ledger_inclusion_proof(ledger *led, MDB_txn *txn, uint64_t leaf_index,
                           uint64_t tree_size,
                           uint8_t (*proof)[LEDGER_HASH_LEN], size_t proof_max,
                           size_t *proof_len);

/* Consistency proof between two sizes (old_size <= new_size <= current). */
int ledger_consistency_proof(ledger *led, MDB_txn *txn, uint64_t old_size,
                             uint64_t new_size,
                             uint8_t (*proof)[LEDGER_HASH_LEN],
                             size_t proof_max, size_t *proof_len);

/* A C2SP tlog-tiles hash tile: the `width` (1..256) hashes of the tree's
 * nodes at height 8 * `level`, indexes 256 * `index` onwards, 32 bytes
 * each, into out (room for 32 * width bytes). Only nodes of complete
 * subtrees of the current tree exist. Returns 0, ORIGO_E_TREE_SIZE (the
 * tree does not have them yet), ORIGO_E_INVAL, ORIGO_E_STORE,
 * ORIGO_E_CORRUPT. `txn` may be NULL. */
int ledger_tile(ledger *led, MDB_txn *txn, unsigned level, uint64_t index,
                unsigned width, uint8_t *out);

/* ---- checkpoints -------------------------------------------------------- */

/* The checkpoint body "<origin>\n<size>\n<base64 root>\n" for any size up to
 * the current one, into a malloc()ed NUL-terminated string. Returns 0,
 * ORIGO_E_TREE_SIZE, ORIGO_E_NOMEM, ORIGO_E_STORE. */
int ledger_checkpoint_body(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           char **body, size_t *body_len);

/* Stores one validator signature line ("\u2014 <name> <base64>\n" or
 * without the final newline) for `tree_size`, after checking it names a
 * validator of the genesis (or added by member events as of that size) and
 * verifies over the checkpoint body (origo/note.h's parser and verifier).
 * Storing the same signature again is a no-op. If the signatures for this
 * size now reach the quorum as of that size (ledger_checkpoint_quorum_at())
 * and the size is larger than the latest quorum-signed one, it becomes the
 * latest. Returns 0, ORIGO_E_NOTE_FORMAT, ORIGO_E_PERM (unknown signer),
 * ORIGO_E_SIGNATURE, ORIGO_E_TREE_SIZE, ORIGO_E_STORE, ORIGO_E_MAP_FULL. */
int ledger_checkpoint_add_signature(ledger *led, MDB_txn *txn,
                                    uint64_t tree_size, const char *line,
                                    size_t line_len);

/* The latest quorum-signed checkpoint as a signed note (body, blank line,
 * signature lines in the order of the validators' public keys), malloc()ed
 * and NUL-terminated.
 * Returns 0, ORIGO_E_NOTFOUND (none yet), ORIGO_E_NOMEM, ORIGO_E_STORE. */
int ledger_checkpoint_latest(ledger *led, MDB_txn *txn, char **note,
                             size_t *note_len, uint64_t *tree_size);

/* The quorum a checkpoint of `tree_size` leaves needs: a majority
 * (floor(n/2) + 1) of the n validators as of that size (genesis validators
 * changed by member events up to leaf tree_size - 1), and not less than the
 * genesis checkpoint_quorum. Member events that would leave fewer
 * validators than the genesis quorum are rejected (ORIGO_E_VALIDATOR_QUORUM),
 * so this never exceeds n. Returns 0, ORIGO_E_STORE, ORIGO_E_CORRUPT,
 * ORIGO_E_NOMEM. */
int ledger_checkpoint_quorum_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                                size_t *quorum);

/* The checkpoint of `tree_size` as a signed note with every signature
 * stored for it, if they reach the quorum as of that size. Returns 0,
 * ORIGO_E_NOTFOUND (short of a quorum), ORIGO_E_TREE_SIZE, ORIGO_E_NOMEM,
 * ORIGO_E_STORE. */
int ledger_checkpoint_note_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                              char **note, size_t *note_len);

/* ---- the lot index (docs/formats/lot-index.md) -------------------------- */

/* The index root at `tree_size`, where a block ends. Returns 0,
 * ORIGO_E_NOTFOUND (no block ends there), ORIGO_E_STORE. */
int ledger_lot_index_root(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          uint8_t root[32]);
/* The proof of (lot, role) against the index root at `tree_size`: the
 * chain's count and head, or its absence. Returns 0, ORIGO_E_NOTFOUND (no
 * block ends there), ORIGO_E_INVAL (role), ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int ledger_lot_index_prove(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           const char *lot, size_t lot_len, int role,
                           lotindex_proof *proof);
/* Builds the index tree in memory for the store's current size, if it is
 * not there yet (after opening a store, the first block or proof would
 * otherwise build it: a pause that grows with the number of chains,
 * docs/performance.md, "Restart"). *keys: the chains read (0 when the tree
 * was there). Returns 0, ORIGO_E_NOMEM, ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int ledger_lot_index_warm(ledger *led, size_t *keys);
/* The index note body at `tree_size` (lotindex_note_body()): malloc()ed,
 * NUL-terminated. Returns 0, ORIGO_E_TREE_SIZE (no block ends there, or
 * beyond the tree), ORIGO_E_NOMEM, ORIGO_E_STORE. */
int ledger_lot_index_note_body(ledger *led, MDB_txn *txn, uint64_t tree_size,
                               char **body, size_t *body_len);
/* As ledger_checkpoint_add_signature(), for the index note. */
int ledger_lot_index_add_signature(ledger *led, MDB_txn *txn,
                                   uint64_t tree_size, const char *line,
                                   size_t line_len);
/* The latest index note with a quorum of signatures, as
 * ledger_checkpoint_latest(). */
int ledger_lot_index_latest(ledger *led, MDB_txn *txn, char **note,
                            size_t *note_len, uint64_t *tree_size);

/* ---- audit -------------------------------------------------------------- */

/* The outcome of an audit. */
typedef struct ledger_audit_report {
    int clean;       /* 1 when nothing was found */
    uint64_t blocks; /* blocks re-verified */
    uint64_t events; /* envelopes re-validated (accepted + rejected) */
    uint64_t tree_size;
    uint8_t root[LEDGER_HASH_LEN];
    uint64_t signatures; /* checkpoint signatures re-verified */
    uint8_t genesis_hash[LEDGER_HASH_LEN]; /* of the stored genesis */
    /* External anchors (ledger_audit_ex()); 0 when not asked for. */
    int genesis_anchored;    /* 1: stored genesis = the expected one */
    int checkpoint_anchored; /* 1: latest checkpoint has a trusted quorum */
    uint64_t anchored_size;  /* that checkpoint's tree size */
    size_t anchored_signers; /* distinct trusted keys that signed it */
    size_t anchored_quorum;  /* the quorum applied */
    /* The first discrepancy, when clean == 0. */
    char table[32];
    char key[96];
    char expected[160];
    char found[160];
    char detail[256];
} ledger_audit_report;

/* Re-verifies the store in `dir` from its genesis: every envelope's
 * signature and validation decision (accepted and rejected, replaying the
 * membership), every leaf hash, block header and chain link, every stored
 * Merkle hash and root, every stored checkpoint signature, and every other
 * table the replay reproduces (event IDs, members, trace indexes). The
 * replay runs into a scratch store in a temporary directory under
 * `scratch_dir` (NULL: $TMPDIR or /tmp), removed afterwards. Returns 0 when
 * the audit ran (see report->clean), or ORIGO_E_* when it could not run
 * (report->detail says why). */
int ledger_audit(const char *dir, const char *scratch_dir,
                 ledger_audit_report *report);

struct origo_note_policy; /* origo/note.h */

/* External anchors for an audit. Without them an audit proves only that
 * the store is consistent with itself: whoever can write the store can
 * rewrite it, genesis included, consistently. */
typedef struct ledger_audit_options {
    const char *scratch_dir; /* NULL: $TMPDIR or /tmp */
    /* The expected genesis file's bytes (NULL: none): the stored genesis
     * must have the same genesis hash. */
    const uint8_t *genesis_json;
    size_t genesis_len;
    /* Trusted validator keys and quorum (NULL: none; borrowed for the
     * call): the latest quorum-signed checkpoint must exist and verify
     * under this policy (origo_note_verify()), and its root must be the
     * replayed root at its size. */
    const struct origo_note_policy *trust;
    const char *trust_origin; /* required checkpoint origin, or NULL */
} ledger_audit_options;

/* ledger_audit() with external anchors. A stored genesis that differs from
 * options->genesis_json, a missing checkpoint, or one short of the trusted
 * quorum or with a trusted line that does not verify is a discrepancy
 * (report->clean = 0, table meta). Returns as ledger_audit(), plus
 * ORIGO_E_GENESIS when options->genesis_json does not parse and
 * ORIGO_E_INVAL for an unusable policy (no keys, quorum above them). */
int ledger_audit_ex(const char *dir, const ledger_audit_options *options,
                    ledger_audit_report *report);

/* ---- test support ------------------------------------------------------- */

/* Appends raw leaves to the Merkle log without validation or blocks, for
 * tests with vector leaves. Only for stores that never apply blocks. */
int ledger_test_append_leaves(ledger *led, const uint8_t *const *leaves,
                              const size_t *lens, size_t count);

#ifdef __cplusplus
}
#endif
#endif
