/* Origo's one error table. Every fallible function in the project returns 0
 * on success or one of these negative codes. Codes are never renumbered: a
 * code that stops being used stays reserved. Each component owns a range so
 * that parallel work never collides:
 *   -1..-19 common, -20..-39 codec, -40..-59 event and keys, -60..-69 merkle,
 *   -70..-99 notes and proofs, -100..-149 ledger, -150..-199 consensus,
 *   -200..-249 node, -250..-299 CLI and config. */
#ifndef ORIGO_ERROR_H
#define ORIGO_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). Messages are lower case, no final period, and say
 * what is wrong rather than what to do (callers add the context). */
#define ORIGO_ERROR_TABLE(X)                                                   \
    X(OK, 0, "success")                                                        \
    X(NOMEM, -1, "out of memory")                                              \
    X(INVAL, -2, "invalid argument")                                           \
    X(RANGE, -3, "value out of range")                                         \
    X(TOOBIG, -4, "size limit exceeded")                                       \
    X(IO, -5, "input/output error")                                            \
    X(NOTFOUND, -6, "not found")                                               \
    X(EXISTS, -7, "already exists")                                            \
    X(PERM, -8, "permission denied")                                           \
    X(INTERNAL, -9, "internal error")                                          \
    X(UNSUPPORTED, -10, "not supported")                                       \
    X(BUSY, -11, "resource busy")                                              \
    X(AGAIN, -12, "try again")                                                 \
    X(CORRUPT, -13, "stored data is corrupt")                                  \
    X(SODIUM, -14, "libsodium initialisation failed")                          \
    X(TIMEOUT, -15, "timed out")                                               \
    X(TRUNCATED, -20, "input ends in the middle of a value")                   \
    X(NONCANONICAL, -21, "non-canonical encoding")                             \
    X(TYPE, -22, "unexpected type")                                            \
    X(TRAILING, -23, "trailing bytes after the value")                         \
    X(UTF8, -24, "invalid UTF-8 text")                                         \
    X(DEPTH, -25, "nesting too deep")                                          \
    X(KEY_ORDER, -26, "map keys out of canonical order")                       \
    X(UNKNOWN_KEY, -27, "unknown map key")                                     \
    X(MISSING_KEY, -28, "required map key missing")                            \
    X(DUPLICATE_KEY, -29, "duplicate map key")                                 \
    X(RESERVED_TYPE, -30, "reserved or unsupported msgpack type")              \
    X(VERSION, -40, "unsupported format version")                              \
    X(NETWORK, -41, "event belongs to another network")                        \
    X(EVENT_TYPE, -42, "unknown event type")                                   \
    X(SCHEMA, -43, "event fields violate the schema")                          \
    X(SIGNATURE, -44, "signature does not verify")                             \
    X(KEY, -45, "invalid or weak public key")                                  \
    X(TIMESTAMP, -46, "timestamp out of range")                                \
    X(LOT, -47, "invalid lot identifier")                                      \
    X(KEYFILE, -48, "malformed key file")                                      \
    X(VKEY, -49, "malformed verifier key")                                     \
    X(PROOF, -60, "proof does not verify")                                     \
    X(PROOF_SIZE, -61, "proof has the wrong number of hashes")                 \
    X(TREE_SIZE, -62, "index or tree size out of range")                       \
    X(NOTE_FORMAT, -70, "malformed signed note")                               \
    X(NOTE_QUORUM, -71, "too few trusted signatures")                          \
    X(NOTE_NO_SIG, -72, "note carries no signature")                           \
    X(CHECKPOINT, -73, "malformed checkpoint body")                            \
    X(PROOF_FORMAT, -74, "malformed proof file")                               \
    X(ORIGIN, -75, "checkpoint origin does not match")                         \
    X(FORK, -76, "checkpoint inconsistent with one accepted before")           \
    X(DUPLICATE_EVENT, -100, "event already in the ledger")                    \
    X(NOT_MEMBER, -101, "submitter is not a member")                           \
    X(ROLE, -102, "submitter's role may not submit this event type")           \
    X(INPUT_LOT, -103, "input lot does not exist")                             \
    X(STORE, -104, "ledger store error")                                       \
    X(MAP_FULL, -105, "ledger store is full")                                  \
    X(GENESIS, -106, "invalid genesis")                                        \
    X(AUDIT, -107, "audit found a discrepancy")                                \
    X(BLOCK_TIME, -108, "block time not strictly increasing")                  \
    X(CHAIN, -109, "block does not extend the chain")                          \
    X(MEMBER_NAME, -110, "member name is not a valid key name")                \
    X(VALIDATOR_QUORUM, -111,                                                  \
      "change would leave fewer validators than the checkpoint quorum")        \
    X(TXN_FULL, -112, "block too large for one store transaction")             \
    X(LOT_EXISTS, -113, "lot already exists")                                  \
    X(NAMESPACE, -114, "lot is outside the submitter's namespaces")            \
    X(NOT_HOLDER, -115, "submitter does not hold the lot")                     \
    X(NO_SHIPMENT, -116, "no open shipment of the lot to the submitter")       \
    X(PARTY, -117, "named party is not the submitter or a member")             \
    X(LOT_UNKNOWN, -118, "lot does not exist")                                 \
    X(NOT_AUTHOR, -119,                                                        \
      "only the author of a hold, or an auditor, may lift it")                 \
    X(NOT_OWNER, -120, "only the lot's owner or an auditor may recall it")     \
    X(ADMIN_QUORUM, -121,                                                      \
      "change would leave fewer admins than the admin quorum")                 \
    X(NAME_TAKEN, -122, "member name is taken")                                \
    X(SELF_GRANT, -123, "an admin may not change its own membership")          \
    X(BEFORE_LOT, -124,                                                        \
      "event is dated before its lot was created or received")                 \
    X(RULES, -125, "unsupported rule version")                                 \
    X(UNIT, -126, "quantity is not in the lot's unit")                         \
    X(NAMESPACE_TAKEN, -127, "namespace overlaps one another member owns")     \
    X(REPORT_CLAIM, -140, "trace report claims differ from its events")        \
    X(NOT_LEADER, -150, "this node is not the leader")                         \
    X(STALE_TERM, -151, "message from a stale term")                           \
    X(RAFT_CONFIG, -152, "invalid cluster configuration change")               \
    X(SNAPSHOT, -153, "snapshot error")                                        \
    X(LOG_GAP, -154, "log has a gap")                                          \
    X(TRANSFER, -155, "leadership transfer in progress")                       \
    X(SHUTDOWN, -156, "shutting down")                                         \
    X(WIPED, -157,                                                             \
      "raft state missing beside a ledger: the data directory was wiped")      \
    X(LOST, -158, "proposal lost in a leader change: submit it again")         \
    X(DIVERGED, -159,                                                          \
      "this validator's committed log differs from the leader's")              \
    X(LOG_STORE, -180, "raft log storage error")                               \
    X(COMPACTED, -181, "log entry compacted into a snapshot")                  \
    X(RAFT_MSG, -182, "malformed raft message")                                \
    X(HANDSHAKE, -190, "peer handshake failed")                                \
    X(PEER_UNKNOWN, -191, "peer key is not a validator of this network")       \
    X(FRAME, -192, "forged, reordered or corrupted transport frame")           \
    X(HTTPSIG, -193, "missing or malformed HTTP message signature")            \
    X(REPLAY, -194, "request replayed: its nonce was seen before")             \
    X(USAGE, -250, "bad command-line usage")                                   \
    X(JSON, -251, "malformed JSON")                                            \
    X(CONFIG, -252, "invalid configuration")

enum origo_error {
#define ORIGO_ERROR_ENUM(name, value, msg) ORIGO_E_##name = value,
    ORIGO_ERROR_TABLE(ORIGO_ERROR_ENUM)
#undef ORIGO_ERROR_ENUM
};

/* Returns a static, human-readable message for an error code; never NULL.
 * Any thread. */
const char *origo_strerror(int code);

/* Returns the stable symbolic name ("ORIGO_E_SIGNATURE") of a code, for
 * logs and machine-readable errors; never NULL. Any thread. */
const char *origo_errname(int code);

/* The code of a stable name ("ORIGO_E_SIGNATURE"), as a node's problem
 * answers carry it; ORIGO_E_INTERNAL for a name this library does not
 * know. Any thread. */
int origo_errcode(const char *name);

/* The operating system's error (an errno value: ENOSPC, EIO...) behind the
 * last ORIGO_E_STORE or ORIGO_E_LOG_STORE that came from one on this
 * thread, or 0 when none did, so that a log can say "No space left on device"
 * rather than only "ledger store error". origo_set_os_cause() records it
 * (the ledger and the Raft log storage call it). Thread-local. */
int origo_os_cause(void);
void origo_set_os_cause(int err);

#ifdef __cplusplus
}
#endif
#endif
