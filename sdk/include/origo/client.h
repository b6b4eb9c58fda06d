/* The Origo client: talks to origo-node over HTTP (docs/api.md) for an ERP,
 * the CLI or an auditor's script. Built as liborigo-client (libcurl and
 * jansson); liborigo alone stays a verifier with no network code (build
 * option -Dclient=false skips this library).
 *
 * One handle holds one or more node URLs and fails over between them: a
 * node that cannot be reached or answers 5xx is skipped for a few seconds
 * and the next one is tried. Reads of event content are signed (RFC 9421)
 * with the caller's key. Everything fetched that a trust policy can check
 * is checked before a call returns: checkpoints need the policy's quorum,
 * and a checkpoint is accepted only if it extends the last one this handle
 * accepted (a consistency proof is fetched and verified); the last one is
 * kept in memory and, when `state_file` is named, on disk, so a forked or
 * rewritten history is refused across runs too.
 *
 * Threads: a handle may be shared by threads; calls serialise only around
 * the handle's small shared state (the preferred node and the accepted
 * checkpoint), never around network I/O. */
#ifndef ORIGO_CLIENT_H
#define ORIGO_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/keys.h"
#include "origo/note.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct origo_client origo_client;

#define ORIGO_CLIENT_MAX_NODES 16

typedef struct origo_client_options {
    const char *const *urls; /* "http://host:port", 1..16 (copied) */
    size_t n_urls;
    /* Signs reads of event content; NULL: public reads only. Borrowed: it
     * must outlive the handle. */
    const origo_key *key;
    /* The validators' keys and quorum, and the network origin (copied).
     * Required for checkpoints and proofs. */
    const origo_note_policy *trust;
    const char *origin;
    /* Where the last accepted checkpoint is kept across runs (NULL: in
     * memory only). Written atomically (temporary file, fsync, rename). */
    const char *state_file;
    long timeout_ms; /* per request; 0: 30000 */
} origo_client_options;

/* Creates a handle. Loads the state file if it exists (ORIGO_E_CORRUPT if
 * it does not parse, ORIGO_E_CHECKPOINT if it fails the trust policy).
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_NOMEM. Needs curl_global_init() done
 * once by the program (origo_client_global_init() does it). */
int origo_client_new(const origo_client_options *opts, origo_client **out,
                     char *err, size_t err_size);
void origo_client_free(origo_client *c);
/* curl_global_init(CURL_GLOBAL_DEFAULT); call once before any thread. */
int origo_client_global_init(void);

/* What happened to one submitted event. */
typedef struct origo_submit_result {
    uint8_t id[32];
    int status;    /* ORIGO_SUBMIT_* */
    uint64_t leaf; /* committed */
    uint64_t block;
    char code[48]; /* rejected: the ORIGO_E_* name */
} origo_submit_result;

enum {
    ORIGO_SUBMIT_PENDING = 0,
    ORIGO_SUBMIT_COMMITTED = 1,
    ORIGO_SUBMIT_REJECTED = 2,
    /* Refused at the door (the node's pre-validation or admission named
     * this envelope): not in the log; code says why. */
    ORIGO_SUBMIT_REFUSED = 3,
    /* Not submitted: another envelope of the same request was refused. */
    ORIGO_SUBMIT_NOT_SENT = 4,
};

/* Submits envelopes[0..n) (canonical envelopes, as origo_event_seal()
 * writes them). With `wait` the call returns once every event is decided
 * (committed at a leaf, or rejected with a code); without, once proposed.
 * Idempotent: on a dropped connection, a 5xx or a leader change it sends
 * the same envelopes again, to the same or another node, until
 * `deadline_ms` (0: 60000) passes; a node answers an event it already
 * committed with its first commit, so a retry never makes a second leaf.
 * results[0..n) is filled. Returns 0; the node's refusal code for the
 * whole request (ORIGO_E_SIGNATURE, ORIGO_E_NETWORK, ORIGO_E_NOT_HOLDER,
 * ORIGO_E_JSON...; err says which envelope and why: when the node names
 * it, that result is ORIGO_SUBMIT_REFUSED and the others
 * ORIGO_SUBMIT_NOT_SENT, every ID set); ORIGO_E_TIMEOUT; ORIGO_E_IO (no
 * node reachable); ORIGO_E_NOMEM. */
int origo_client_submit(origo_client *c, const uint8_t *const *envelopes,
                        const size_t *lens, size_t n, int wait,
                        long deadline_ms, origo_submit_result *results,
                        char *err, size_t err_size);

/* Fetches the latest quorum checkpoint, checks it under the trust policy
 * and that it extends the last accepted one (consistency proof), accepts it
 * and saves the state file. *note_out (may be NULL) receives the signed
 * note text (malloc()ed, NUL-terminated). Returns 0, ORIGO_E_CHECKPOINT
 * (short of quorum, unknown keys, wrong origin: err says), ORIGO_E_FORK
 * (inconsistent with the accepted one: err names both sizes and roots),
 * ORIGO_E_IO, ORIGO_E_NOTFOUND (no checkpoint yet), ORIGO_E_NOMEM. */
int origo_client_checkpoint(origo_client *c, origo_checkpoint *out,
                            char **note_out, char *err, size_t err_size);

/* The tlog-proof file of a committed event (a signed read), checked under
 * the trust policy and against the accepted checkpoint (fetching a newer one
 * first if the proof's is newer). Appends the file to `out`. Returns 0,
 * ORIGO_E_NOTFOUND, ORIGO_E_PERM (the read policy refused), the proof's
 * verification errors, origo_client_checkpoint()'s errors. */
int origo_client_proof(origo_client *c, const uint8_t id[32], origo_buf *out,
                       char *err, size_t err_size);

/* One event of a lot, checked: its envelope verifies (schema, network,
 * signature) and its inclusion proof reaches the accepted checkpoint. */
typedef struct origo_lot_event {
    uint64_t leaf;
    uint8_t id[32];
    uint8_t *envelope; /* owned */
    size_t len;
} origo_lot_event;

/* Every committed event that names `lot` (a signed read), each checked as
 * above against a checkpoint fetched and accepted first. *out is an array
 * of *count events (free with origo_lot_events_free()). Returns 0,
 * ORIGO_E_PERM (the read policy), ORIGO_E_PROOF (an event that does not
 * check: err says which), ORIGO_E_AGAIN (an event newer than any quorum
 * checkpoint yet: ask again), origo_client_checkpoint()'s errors. */
int origo_client_lot_events(origo_client *c, const char *lot,
                            origo_lot_event **out, size_t *count, char *err,
                            size_t err_size);
void origo_lot_events_free(origo_lot_event *events, size_t count);

/* A block header. Its tree size and root are checked against the accepted
 * checkpoint (a consistency proof from the block's tree to it): the block
 * is part of the history the trust file vouches for. */
typedef struct origo_block_info {
    uint64_t height, time, raft_term, raft_index;
    uint64_t envelope_count, first_leaf, leaf_count, tree_size;
    uint8_t hash[32], prev[32], envelopes_hash[32], root[32];
} origo_block_info;

/* Returns 0, ORIGO_E_NOTFOUND, ORIGO_E_PROOF (the block's root is not a
 * prefix of the accepted tree), ORIGO_E_AGAIN (no quorum checkpoint covers
 * it yet), origo_client_checkpoint()'s errors. */
int origo_client_block(origo_client *c, uint64_t height, origo_block_info *out,
                       char *err, size_t err_size);

struct report_verdict; /* report_verify.h */

/* Flags of origo_client_trace(). */
enum {
    ORIGO_TRACE_RECALL = 1,     /* the recall scope (forward) */
    ORIGO_TRACE_LOT_EVENTS = 2, /* and every event naming a lot of it */
    ORIGO_TRACE_V1 = 4, /* an origo-trace-report/v1 (completeness unproven) */
    ORIGO_TRACE_ALL_EVENTS = 8, /* every event naming `lot` (depth 0) */
};

/* A trace report (docs/formats/trace-report.md) starting from `lot`:
 * backward (genealogy), forward (where-used) or, with ORIGO_TRACE_RECALL
 * in `flags`, the recall scope; `depth` edges at most (0: no limit). By
 * default an origo-trace-report/v2, complete under the cosigned lot index
 * (docs/formats/lot-index.md). A signed read. The report is
 * verified under the trust policy (the checkpoint's quorum and every
 * event's inclusion proof and signature, report_verify()) before it is
 * appended to `out`; *verdict (may be NULL) says what it holds. Returns 0,
 * ORIGO_E_PERM (the read policy refused: err says why), ORIGO_E_PROOF (the
 * report does not verify: err says where), ORIGO_E_NOTFOUND, ORIGO_E_IO,
 * ORIGO_E_NOMEM. */
int origo_client_trace(origo_client *c, const char *lot, int forward,
                       unsigned flags, uint32_t depth, origo_buf *out,
                       struct report_verdict *verdict, char *err,
                       size_t err_size);

/* GET `target` (path and query, percent-encoded) with a signature when
 * `sign` (needs a key). Appends the body to `out` and sets *status to the
 * HTTP status; fails over on transport errors and 5xx. Returns 0 when a
 * node answered (any status), ORIGO_E_IO when none could. For the reads
 * the typed calls do not cover (status, a lot's events, trace reports:
 * check a report with origo_report_verify(), ledger/report_verify.h). */
int origo_client_get(origo_client *c, const char *target, int sign,
                     origo_buf *out, long *status, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
