/* A replica: one validator's Raft core, its LMDB storage and the ledger it
 * applies committed blocks to, carried out as consensus/README.md's
 * contract asks (node/README.md, "Replica"). No sockets and no clock: the
 * node feeds it messages and ticks and gives it a function to send with,
 * so a test can run several replicas in one process.
 *
 * One thread (the node's loop) calls everything; every transaction of the
 * process runs there, which map growth and the snapshot swap rely on. */
#ifndef ORIGO_NODE_REPLICA_H
#define ORIGO_NODE_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "raft.h"

typedef struct replica replica;

/* Raft entry payload "block proposal", version 1 (docs/formats/block.md,
 * "Raft entries"): a MessagePack array [1, block time ms, [envelope
 * bin...]]. Most bytes of one proposal. */
#define REPLICA_MAX_PROPOSAL_BYTES (8u << 20)
#define REPLICA_MAX_PROPOSAL_EVENTS 4096u

typedef struct replica_options {
    const char *dir; /* the ledger's directory (created if absent) */
    const uint8_t *genesis_json;
    size_t genesis_len;
    uint64_t id;                 /* this validator's Raft ID */
    struct raft_config founders; /* the genesis validators' IDs */
    uint32_t election_ticks;     /* 0: 10 */
    uint32_t heartbeat_ticks;    /* 0: 1 */
    uint64_t snapshot_every;     /* compact after this many applied: 0: 4096 */
    uint64_t log_tail;           /* entries kept behind it: 0: 1024 */
    size_t map_size;             /* 0: 64 MiB */
    uint64_t max_snapshot_bytes; /* 0: 1 GiB */
    uint8_t msg_prefix;          /* first byte of every message sent */
    /* Sends a message to another replica (best effort, copied). */
    void (*send)(void *ctx, uint64_t to, const uint8_t *msg, size_t len);
    /* A NORMAL entry was applied: result is NULL when it was a no-op (not
     * a proposal, or a block time that did not increase). */
    void (*applied)(void *ctx, uint64_t index, uint64_t term,
                    const ledger_block_result *result);
    /* Optional, so that signatures are checked before apply, off the
     * loop: `arriving` is called for each NORMAL entry of an incoming
     * append (the bytes are borrowed for the call); `checked` answers
     * whether every envelope of entry (index, term) was checked with
     * origo_envelope_verify() and passed. Raft never makes two different
     * entries with one index and term, so (index, term) names the bytes.
     * When `checked` says no (not yet, or a bad envelope), apply checks. */
    void (*arriving)(void *ctx, uint64_t index, uint64_t term,
                     const uint8_t *data, size_t len);
    int (*checked)(void *ctx, uint64_t index, uint64_t term);
    void *ctx;
} replica_options;

/* Decodes a block proposal (docs/formats/block.md, "Raft entries") into
 * envs[] pointing into data (*envs malloc()ed; free it) and *time_ms.
 * Returns the number of envelopes, -1 when the bytes are not a proposal,
 * -2 when out of memory. Any thread. */
long replica_decode_proposal(const uint8_t *data, size_t len,
                             ledger_envelope **envs, uint64_t *time_ms);

/* Raft ID of a validator key: the first 8 bytes, big-endian, of
 * SHA-256("origo/raft-id/v1\0" || key), with 0 mapped to 1. */
uint64_t replica_id_of(const uint8_t pub[32]);

/* Opens (or creates) the replica's storage and restores its core. Refuses
 * (ORIGO_E_STATE) a store whose Raft state is empty while its ledger has
 * applied blocks: a wiped or copied directory must not vote as its old
 * self. Returns 0, ORIGO_E_GENESIS, ORIGO_E_STATE, ORIGO_E_STORE,
 * ORIGO_E_NOMEM...; msg says why. */
int replica_open(const replica_options *opts, replica **out, char *msg,
                 size_t msg_size);
void replica_close(replica *r);

/* One tick of the Raft clock, then the work it made. */
int replica_tick(replica *r);
/* A message from a peer (the bytes after the prefix byte). Malformed ones
 * are dropped (returns 0). */
int replica_receive(replica *r, const uint8_t *msg, size_t len);
/* Leader only: proposes one block of envelopes with a block time of at
 * least time_ms (raised to stay increasing). *index and *term say which
 * entry will carry it: if the entry applied at *index has another term,
 * the proposal was lost. With `verified` the caller checked every envelope
 * with origo_envelope_verify(), and this replica applies the entry without
 * checking the signatures again (other replicas check them).
 * Returns 0, ORIGO_E_NOT_LEADER, ORIGO_E_TRANSFER, ORIGO_E_TOOBIG,
 * ORIGO_E_NOMEM, or the error of a failed write (then replica_failed() is
 * that error and the node must stop). */
int replica_propose(replica *r, uint64_t time_ms, const ledger_envelope *envs,
                    size_t count, int verified, uint64_t *index,
                    uint64_t *term);
/* What apply would decide about envs[0..count) proposed now as one block
 * (docs/api.md, "Pre-validation"), without changing anything: applied in
 * a write transaction that is aborted, after the applied state and, with
 * `pending`, after the stored entries not yet applied (the blocks in
 * flight). outcomes[0..count) receives each verdict. Advisory: apply on
 * every replica decides. Returns 0, or a storage error (ORIGO_E_MAP_FULL,
 * ORIGO_E_NOMEM...) after which the caller proposes without a preview. */
int replica_preview(replica *r, uint64_t time_ms, const ledger_envelope *envs,
                    size_t count, int pending, ledger_outcome *outcomes);
/* Carries out every pending ready: sends, persists (fsync), applies,
 * snapshots. A non-zero return is fatal: the node must stop, since it can
 * no longer store what it is asked to (it never acknowledged it). */
int replica_process(replica *r);

/* The error that made replica_process() fail, or 0. A failure is final:
 * from then on replica_process() returns it again and hands out, sends and
 * writes nothing, so tick, receive, propose and the membership changes,
 * which all process, return it too. */
int replica_failed(const replica *r);

/* Leader only: membership changes (raft.h). */
int replica_add_learner(replica *r, uint64_t id);
int replica_promote(replica *r, uint64_t id);
int replica_remove(replica *r, uint64_t id);

void replica_status(const replica *r, struct raft_status *out);
/* Index of the last entry applied to the ledger (NORMAL or not). */
uint64_t replica_applied(const replica *r);
ledger *replica_ledger(replica *r);

#endif
