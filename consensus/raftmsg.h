/* Wire codec of Raft messages (consensus/README.md, section "Wire format").
 *
 * Every struct raft_msg of raft.h encodes as one canonical MessagePack map
 * whose keys come in a fixed order: "t" (message type), "from", "to",
 * "term", then the fields of that type. APPEND entries are maps
 * {"term", "type", "data"}; their indexes are implied (prev_index + 1 + i).
 * The decoder is strict: it refuses unknown, missing, duplicate or
 * reordered keys, wrong value types, non-canonical MessagePack, trailing
 * bytes, values outside the limits below and messages that cannot be
 * meaningful (node id 0, entry terms that decrease or exceed the message's
 * term, a snapshot chunk past its total size). For every accepted input b,
 * raftmsg_encode(raftmsg_decode(b)) yields b again, byte for byte.
 *
 * Threads: no shared state; any thread, distinct objects. */
#ifndef ORIGO_CONSENSUS_RAFTMSG_H
#define ORIGO_CONSENSUS_RAFTMSG_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "raft.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest encoded message: the peer transport's frame cap. */
#define RAFTMSG_MAX_FRAME (16u << 20)
/* Most entries in one APPEND. */
#define RAFTMSG_MAX_ENTRIES 8192u
/* Largest entry payload, and largest snapshot chunk: one of either fits a
 * frame together with the message's other fields. */
#define RAFTMSG_MAX_ENTRY_BYTES (15u << 20)
#define RAFTMSG_MAX_CHUNK_BYTES (15u << 20)

/* Appends the encoding of `msg` to `out` (an initialised buffer; its own
 * `max` applies as well). The message must satisfy what the decoder
 * checks; APPEND entries must carry indexes prev_index + 1, + 2, ...
 * Returns 0; ORIGO_E_INVAL (a message the decoder would refuse: unknown
 * type, node id 0, entry indexes or terms out of order, unknown entry type,
 * a configuration the core would refuse, chunk past total size...);
 * ORIGO_E_TOOBIG (over RAFTMSG_MAX_FRAME or a per-field limit, or over
 * out->max); ORIGO_E_NOMEM. On failure `out` is left as it was before the
 * call (length restored, latched error cleared only if it was set by this
 * call). Does not take ownership of anything in msg. */
int raftmsg_encode(const struct raft_msg *msg, origo_buf *out);

/* Decodes exactly one message from data[0..len). On success *out is
 * filled. Ownership: entry payloads (out->u.append.entries[i].data) and
 * the snapshot chunk (out->u.snapshot.chunk) are NOT copied: they point
 * into `data`, which the caller must keep unchanged while the message is in
 * use, and must not be written through (the pointers are non-const only
 * because struct raft_buf is). The APPEND entry array itself is malloc()ed
 * and belongs to the caller: release it with raftmsg_release(). On failure
 * *out is untouched and nothing is allocated.
 * Returns 0 or: ORIGO_E_TOOBIG (frame, entry count, payload or chunk over
 * the limits), ORIGO_E_TRUNCATED, ORIGO_E_NONCANONICAL, ORIGO_E_TYPE,
 * ORIGO_E_TRAILING, ORIGO_E_RESERVED_TYPE (codec errors),
 * ORIGO_E_MISSING_KEY (fewer keys than the type has, or a key of the type
 * missing where expected), ORIGO_E_UNKNOWN_KEY (a key the type does not
 * have, or more keys than it has), ORIGO_E_KEY_ORDER (a known key out of
 * place), ORIGO_E_DUPLICATE_KEY, ORIGO_E_RAFT_MSG (unknown message or entry
 * type, node id 0, term rules, chunk bounds), ORIGO_E_RAFT_CONFIG (a
 * snapshot configuration with zero, repeated or too many ids),
 * ORIGO_E_NOMEM. */
int raftmsg_decode(const uint8_t *data, size_t len, struct raft_msg *out);

/* Frees what raftmsg_decode() allocated in msg (the APPEND entry array)
 * and clears those fields; safe on any decoded message, once or more. Do
 * not call it on messages from the core's struct raft_ready. */
void raftmsg_release(struct raft_msg *msg);

#ifdef __cplusplus
}
#endif
#endif
