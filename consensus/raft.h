/* The I/O-free Raft core (Ongaro's dissertation): leader election with
 * pre-vote and check-quorum, log replication with flow control, the
 * current-term commit rule, single-server membership changes, leadership
 * transfer and snapshots. The core reads no clock, does no I/O and draws no
 * random number of its own; everything is injected and all work it wants
 * done is handed out in a struct raft_ready. See consensus/README.md.
 *
 * Threads: a struct raft is not thread-safe; one thread at a time calls
 * every function on one instance. Distinct instances are independent. */
#ifndef ORIGO_RAFT_H
#define ORIGO_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Node ids are non-zero; 0 means "none" (no vote, no known leader). */
#define RAFT_NONE 0u

/* Largest term and log index the core accepts from a message: far beyond
 * any real log, and low enough that index + count and term + 1 never wrap.
 * Messages above it are dropped as malformed. */
#define RAFT_INDEX_MAX (UINT64_MAX >> 1)

/* Upper bound on voters and on learners in one configuration. Fixed arrays
 * keep configurations allocation-free and simple to encode. */
#define RAFT_MAX_MEMBERS 16

/* ---------------------------------------------------------------- data -- */

/* A borrowed or owned byte buffer; ownership is stated where it is used. */
struct raft_buf {
    uint8_t *base;
    size_t len;
};

enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0, /* opaque application data */
    RAFT_ENTRY_NOOP = 1,   /* appended by a new leader; data empty */
    RAFT_ENTRY_CONFIG = 2, /* data = raft_config_encode() of the new config */
};

struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type; /* enum raft_entry_type */
    struct raft_buf data;
};

/* What must be durable before a node answers anything: current term, the
 * vote cast in that term (RAFT_NONE if none) and the commit index (which
 * may be persisted lazily: it is a hint, never needed for safety). */
struct raft_hard_state {
    uint64_t term;
    uint64_t vote;
    uint64_t commit;
};

/* A cluster configuration. Voters elect and count towards quorums; learners
 * receive the log but neither vote nor count. An id is in at most one list. */
struct raft_config {
    uint32_t n_voters;
    uint32_t n_learners;
    uint64_t voters[RAFT_MAX_MEMBERS];
    uint64_t learners[RAFT_MAX_MEMBERS];
};

/* Identifies a snapshot: the last entry it covers and the configuration in
 * force at that entry. */
struct raft_snapshot_meta {
    uint64_t index;
    uint64_t term;
    struct raft_config config;
};

/* ------------------------------------------------------------ messages -- */

enum raft_msg_type {
    RAFT_MSG_PREVOTE = 1,        /* struct raft_msg_vote */
    RAFT_MSG_PREVOTE_RESP = 2,   /* struct raft_msg_vote_resp */
    RAFT_MSG_VOTE = 3,           /* struct raft_msg_vote */
    RAFT_MSG_VOTE_RESP = 4,      /* struct raft_msg_vote_resp */
    RAFT_MSG_APPEND = 5,         /* struct raft_msg_append */
    RAFT_MSG_APPEND_RESP = 6,    /* struct raft_msg_append_resp */
    RAFT_MSG_HEARTBEAT = 7,      /* struct raft_msg_heartbeat */
    RAFT_MSG_HEARTBEAT_RESP = 8, /* struct raft_msg_heartbeat_resp */
    RAFT_MSG_SNAPSHOT = 9,       /* struct raft_msg_snapshot (one chunk) */
    RAFT_MSG_SNAPSHOT_RESP = 10, /* struct raft_msg_snapshot_resp */
    RAFT_MSG_TIMEOUT_NOW = 11,   /* no body: start an election at once */
};
#define RAFT_MSG_TYPE_MAX 11

/* PREVOTE and VOTE. For PREVOTE, term is the term the sender would campaign
 * in (its current term + 1); its own term is unchanged. */
struct raft_msg_vote {
    uint64_t last_log_index;
    uint64_t last_log_term;
    bool transfer; /* campaign caused by leadership transfer: ignore lease */
};

/* For a granted PREVOTE_RESP, raft_msg.term echoes the request's term; for a
 * rejection it is the responder's current term. */
struct raft_msg_vote_resp {
    bool granted;
};

/* Entries follow the entry at prev_index, whose term is prev_term. */
struct raft_msg_append {
    uint64_t prev_index;
    uint64_t prev_term;
    uint64_t commit; /* leader's commit index */
    struct raft_entry *entries;
    size_t n_entries;
};

/* On success, index is the last index the follower now holds durably that
 * matches the leader (prev_index + n_entries). On rejection, index is the
 * rejected prev_index and (hint_index, hint_term) lets the leader skip a
 * whole term of conflicting entries at once: hint_index is the largest index
 * <= index whose term is <= the leader's prev_term (or the follower's last
 * index if its log is shorter) and hint_term its term. */
struct raft_msg_append_resp {
    bool reject;
    uint64_t index;
    uint64_t hint_index;
    uint64_t hint_term;
};

/* Keeps followers' timers quiet and carries the commit index, clamped to
 * what the follower is known to hold. */
struct raft_msg_heartbeat {
    uint64_t commit;
};

/* last_index: the follower's last log index, so a lagging follower in probe
 * state is reached again without waiting. */
struct raft_msg_heartbeat_resp {
    uint64_t last_index;
};

/* One chunk of a snapshot. Chunks of one snapshot are sent in order; offset
 * is the byte offset of chunk in the whole snapshot, total_size its size,
 * done true on the last chunk. */
struct raft_msg_snapshot {
    struct raft_snapshot_meta meta;
    uint64_t total_size;
    /* SHA-256 of the whole snapshot: binds every chunk to one byte stream,
     * so a follower never assembles pieces of two different snapshots. */
    uint8_t digest[32];
    uint64_t offset;
    struct raft_buf chunk;
    bool done;
};

/* Acknowledges the snapshot meta.index: next_offset is the byte offset the
 * follower expects next; done true once the whole snapshot is installed and
 * durable; reject true if the follower gave up on this transfer (the leader
 * starts over). */
struct raft_msg_snapshot_resp {
    uint64_t index;
    uint64_t next_offset;
    bool done;
    bool reject;
};

/* A message. from, to and term are set for every kind. Inside a
 * struct raft_ready the core owns every pointer (entries, data, chunk) until
 * raft_advance(). When passed to raft_step(), the caller keeps ownership and
 * the core copies what it keeps before returning. */
struct raft_msg {
    uint8_t type; /* enum raft_msg_type */
    uint64_t from;
    uint64_t to;
    uint64_t term;
    union {
        struct raft_msg_vote vote;           /* PREVOTE, VOTE */
        struct raft_msg_vote_resp vote_resp; /* PREVOTE_RESP, VOTE_RESP */
        struct raft_msg_append append;
        struct raft_msg_append_resp append_resp;
        struct raft_msg_heartbeat heartbeat;
        struct raft_msg_heartbeat_resp heartbeat_resp;
        struct raft_msg_snapshot snapshot;
        struct raft_msg_snapshot_resp snapshot_resp;
    } u;
};

/* ------------------------------------------------------ configuration -- */

/* Allocator hook so tests can inject allocation failures. Any member NULL
 * means the C library's function. */
struct raft_alloc {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
};

/* Snapshots kept by the host rather than in the core's memory (a state
 * larger than a node wants to hold twice), see raft_options.snap_io. */
struct raft_snapshot_io {
    /* Leader: copies len bytes of the snapshot at `index` from `offset`
     * into out. Returns 0, or an error: the core drops the bytes it was
     * told of and asks for them again (snapshot_wanted). */
    int (*read)(void *ctx, uint64_t index, uint64_t offset, uint8_t *out,
                size_t len);
    /* Follower: stores len bytes of the incoming snapshot at `index` at
     * `offset`; offset 0 begins a new snapshot (discard any partial one).
     * Returns 0, or an error: the transfer starts over. */
    int (*write)(void *ctx, uint64_t index, uint64_t offset,
                 const uint8_t *data, size_t len);
    void *ctx;
};

struct raft_options {
    uint64_t id; /* this node, non-zero */
    /* Ticks without a leader before a follower campaigns; the actual timeout
     * is drawn in [election_ticks, 2 * election_ticks) from rand_fn. */
    uint32_t election_ticks;  /* default 10 */
    uint32_t heartbeat_ticks; /* default 1 */
    /* Flow control per follower in replicate state: at most this many
     * append messages and this many entry bytes unacknowledged. */
    uint32_t max_inflight_msgs;  /* default 64 */
    uint64_t max_inflight_bytes; /* default 8 MiB */
    /* Every message must fit the wire codec (raftmsg.h). max_msg_bytes
     * bounds an append's entry bytes, counting RAFT_ENTRY_WIRE_OVERHEAD
     * per entry (one larger entry still goes alone); at most
     * RAFTMSG_MAX_ENTRY_BYTES. max_msg_entries 0 or above
     * RAFTMSG_MAX_ENTRIES means RAFTMSG_MAX_ENTRIES. snapshot_chunk_bytes
     * at most RAFTMSG_MAX_CHUNK_BYTES. */
    uint64_t max_msg_bytes;        /* default 1 MiB */
    uint32_t max_msg_entries;      /* default 0: the codec's limit */
    uint32_t snapshot_chunk_bytes; /* default 64 KiB */
    bool pre_vote;                 /* default on: see raft_options_default() */
    bool check_quorum;             /* default on */
    /* Dissertation 4.2.3: ignore vote requests within an election timeout
     * of hearing from a leader. Keeps removed servers from disrupting;
     * off gives the paper's plain Raft (for tests of the bare protocol). */
    bool leader_lease; /* default on */
    /* A learner is "caught up" for raft_promote() when its match index is
     * within this many entries of the leader's last index. */
    uint64_t promote_lag; /* default 16 */
    /* Largest snapshot a follower accepts (total_size of an incoming
     * transfer): larger ones are refused before anything is allocated or
     * written. Default 1 GiB; 0 is invalid. */
    uint64_t max_snapshot_bytes;
    /* Optional (NULL: snapshots in memory). With it, the leader's bytes are
     * given by size and SHA-256 with raft_snapshot_provide_stream() and
     * read chunk by chunk with snap_io->read(); a follower writes each
     * chunk it receives with snap_io->write(), hashes the stream as it
     * comes, and once the whole of it matches the leader's digest readies
     * snapshot_install with empty snapshot_data: the bytes are where
     * write() put them. The core then holds no snapshot bytes at all. */
    const struct raft_snapshot_io *snap_io;
    /* Injected randomness for election timeouts: returns a uniformly random
     * 64-bit value. Required. */
    uint64_t (*rand_fn)(void *ctx);
    void *rand_ctx;
    struct raft_alloc alloc;
};

/* Encoded bytes of an APPEND entry besides its data (a MessagePack map of
 * term, type and data): counted against max_msg_bytes. */
#define RAFT_ENTRY_WIRE_OVERHEAD 32u

/* Fills *opts with the defaults above, id 0 and no rand_fn. Any thread. */
void raft_options_default(struct raft_options *opts);

/* What a node restarts from: the durable state its storage holds. */
struct raft_restore {
    struct raft_hard_state hard_state;
    /* Last snapshot (index 0 if none) and its data. The data may be empty
     * (the ledger is its own snapshot): the core never sends an empty
     * snapshot but asks for the bytes with snapshot_wanted when it must
     * send one. */
    struct raft_snapshot_meta snapshot;
    struct raft_buf snapshot_data;
    /* Configuration when there is no snapshot and no config entry in the
     * log: the bootstrap configuration every founding node starts with. */
    struct raft_config bootstrap;
    /* Durable entries from snapshot.index + 1 on, consecutive. */
    const struct raft_entry *entries;
    size_t n_entries;
};

/* ------------------------------------------------------------- ready -- */

/* Work the core hands out. Valid, and owned by the core, from raft_ready()
 * to the raft_advance() that gives it back; call nothing else in between.
 * The caller must, in any order it likes:
 *  - send every message in msgs (best effort, any time);
 *  - persist: if snapshot_install, install snapshot (state machine and
 *    storage; the log is reset to start after snapshot.index); then, if
 *    entries are given, delete stored entries with index >= entries[0].index
 *    and append entries; then, if hard_state_changed, store hard_state.
 *    When all of it is durable, call raft_persisted(seq) (immediately, or
 *    later from another event; readies persist in seq order);
 *  - apply committed[] in order to the state machine (they are durable);
 *  - if snapshot_wanted, after raft_advance() provide the snapshot's bytes
 *    with raft_snapshot_provide() (see consensus/README.md).
 * Messages that need durable state (votes, append acks) are held back by
 * the core until raft_persisted() covers it, then appear in a later ready;
 * no message leaves before the node's current term and vote are durable. */
struct raft_ready {
    uint64_t seq; /* this ready's sequence number, from 1 */
    struct raft_msg *msgs;
    size_t n_msgs;
    struct raft_entry *entries; /* to persist */
    size_t n_entries;
    struct raft_hard_state hard_state;
    bool hard_state_changed;
    bool snapshot_install;
    struct raft_snapshot_meta snapshot; /* when snapshot_install */
    struct raft_buf snapshot_data;      /* when snapshot_install */
    /* The core must send its snapshot (index snapshot_wanted_index) to a
     * follower but holds no bytes for it (restored or taken without data):
     * after raft_advance(), serialise the state machine as of that index
     * and hand the bytes over with raft_snapshot_provide(). Asked once per
     * snapshot index. */
    bool snapshot_wanted;
    uint64_t snapshot_wanted_index;
    struct raft_entry *committed; /* to apply */
    size_t n_committed;
};

/* ---------------------------------------------------------------- core -- */

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRE_CANDIDATE = 1,
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};

struct raft; /* opaque */

/* Creates a node from options and its durable state (restore may be NULL
 * for an empty node that has no configuration yet and waits to be added).
 * The core copies what it needs from restore. Returns 0 and sets *out, or
 * ORIGO_E_INVAL (bad options; an entry term above the hard state's term or
 * below the previous entry's), ORIGO_E_LOG_GAP (entries not consecutive
 * from snapshot.index + 1), ORIGO_E_NOMEM. Any thread (the new node then
 * belongs to the caller). */
int raft_new(const struct raft_options *opts, const struct raft_restore *rs,
             struct raft **out);

/* Frees a node and everything it owns, including an unconsumed ready.
 * raft_free(NULL) is a no-op. */
void raft_free(struct raft *r);

/* One logical clock tick. Returns 0 or ORIGO_E_NOMEM. */
int raft_tick(struct raft *r);

/* Feeds a received message. Messages from stale terms and malformed ones are
 * dropped silently (return 0): the network may deliver anything.
 * Returns 0, ORIGO_E_NOMEM, or ORIGO_E_DIVERGED for an append of the
 * current term that contradicts an entry at or below the commit index
 * (nothing changed; the host must stop: see consensus/README.md). */
int raft_step(struct raft *r, const struct raft_msg *m);

/* Leader only: appends a NORMAL entry holding a copy of data. On success
 * *index (may be NULL) is the entry's index. Returns 0, ORIGO_E_NOT_LEADER,
 * ORIGO_E_TRANSFER (a leadership transfer is under way), ORIGO_E_TOOBIG
 * (len over RAFTMSG_MAX_ENTRY_BYTES: no frame could carry it),
 * ORIGO_E_NOMEM. */
int raft_propose(struct raft *r, const uint8_t *data, size_t len,
                 uint64_t *index);

/* Leader only, one change at a time: add id as a learner, promote learner id
 * to voter (only once caught up, see promote_lag), or remove id (voter or
 * learner, possibly the leader itself, which steps down once the change
 * commits). Returns 0, ORIGO_E_NOT_LEADER, ORIGO_E_RAFT_CONFIG (a change is
 * still uncommitted, id unknown or already present, learner not caught up,
 * last voter, list full), ORIGO_E_TRANSFER, ORIGO_E_NOMEM. */
int raft_add_learner(struct raft *r, uint64_t id);
int raft_promote(struct raft *r, uint64_t id);
int raft_remove(struct raft *r, uint64_t id);

/* Leader only: hand leadership to voter target. Proposals are refused until
 * the transfer ends (target took over, or an election timeout passed).
 * Returns 0, ORIGO_E_NOT_LEADER, ORIGO_E_RAFT_CONFIG (not a voter, or self),
 * ORIGO_E_TRANSFER (another transfer under way). */
int raft_transfer(struct raft *r, uint64_t target);

/* Tells the core the state machine took a snapshot covering every entry up
 * to index (which must be applied). The core copies data (to send it to
 * lagging followers) and drops log entries up to index from memory; the
 * caller may compact its storage likewise. len may be 0 (data NULL) when
 * the state machine is its own snapshot (the ledger): the core then asks
 * for the bytes with snapshot_wanted when a follower needs them. Returns
 * 0, ORIGO_E_INVAL (index not applied or not above the current snapshot),
 * ORIGO_E_NOMEM. */
int raft_snapshot_taken(struct raft *r, uint64_t index, const uint8_t *data,
                        size_t len);

/* Gives the core the bytes of its current snapshot (index must be
 * raft_snapshot_info()'s index, data the state machine's state as of that
 * index, len > 0), in answer to snapshot_wanted. The core copies them and
 * starts sending from the next raft_tick(). Returns 0, ORIGO_E_INVAL (no
 * snapshot, another index, or no bytes), ORIGO_E_NOMEM. */
int raft_snapshot_provide(struct raft *r, uint64_t index, const uint8_t *data,
                          size_t len);

/* The same with snap_io: the snapshot at `index` is `len` bytes (> 0) whose
 * SHA-256 is `digest`, read from the host with snap_io->read(). The bytes
 * of one index never change while the core holds them: another size or
 * digest for it is refused (ORIGO_E_SNAPSHOT), the same again is fine.
 * Returns 0, ORIGO_E_INVAL (no snap_io, no snapshot, another index, len
 * 0), ORIGO_E_SNAPSHOT. */
int raft_snapshot_provide_stream(struct raft *r, uint64_t index, uint64_t len,
                                 const uint8_t digest[32]);

/* The metadata of the node's latest snapshot (index 0 if none), including
 * the configuration in force at its index: what storage must record next to
 * the snapshot data after raft_snapshot_taken() or an install. */
void raft_snapshot_info(const struct raft *r, struct raft_snapshot_meta *out);

/* True if there is work to hand out. */
bool raft_has_ready(const struct raft *r);

/* Moves pending work into *rd (see struct raft_ready). Returns 0 or
 * ORIGO_E_INVAL if the previous ready was not advanced. */
int raft_ready(struct raft *r, struct raft_ready *rd);

/* Gives a ready back once its messages are sent (or dropped) and its
 * committed entries applied; frees what the ready owned. Persistence may
 * still be under way: that is reported with raft_persisted(). */
void raft_advance(struct raft *r, struct raft_ready *rd);

/* Everything in readies up to and including seq is durable. It vouches
 * for every earlier ready too: a host whose write of a ready failed must
 * never call it again (nor go on with this core), or the failed ready's
 * entries would count as stored, be acknowledged as a follower and
 * committed as a leader, and be lost at the next start (node/replica.c
 * stops for good after a failed write). */
void raft_persisted(struct raft *r, uint64_t seq);

/* ------------------------------------------------------- observation -- */

struct raft_status {
    uint64_t id;
    enum raft_role role;
    uint64_t term;
    uint64_t vote;
    uint64_t leader; /* RAFT_NONE if unknown */
    uint64_t commit;
    uint64_t applied;
    uint64_t last_index;
    uint64_t last_term;
    uint64_t persisted_index; /* last index known durable */
    uint64_t snapshot_index;
    uint64_t transfer_target;  /* RAFT_NONE if none */
    struct raft_config config; /* latest, committed or not */
};

void raft_status(const struct raft *r, struct raft_status *out);

/* Term of the entry at index: 0 and returns false if not known (compacted
 * behind the snapshot, except the snapshot's own index, or beyond the end). */
bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term);

/* Borrowed pointer to the in-memory entry at index, or NULL; valid until the
 * next call that changes the node. */
const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index);

/* --------------------------------------------------- configurations -- */

bool raft_config_is_voter(const struct raft_config *c, uint64_t id);
bool raft_config_is_learner(const struct raft_config *c, uint64_t id);

/* Encodes c as the data of a CONFIG entry: u32 voters, u32 learners, then
 * the ids, all little-endian. Returns the bytes written, or 0 if cap is too
 * small. RAFT_CONFIG_ENCODED_MAX bytes always suffice. */
#define RAFT_CONFIG_ENCODED_MAX (8 + 8 * 2 * RAFT_MAX_MEMBERS)
size_t raft_config_encode(const struct raft_config *c, uint8_t *buf,
                          size_t cap);

/* Checks the rules every configuration obeys, however it arrived: counts
 * within RAFT_MAX_MEMBERS, ids non-zero, no id listed twice (also not as
 * both voter and learner). Returns 0 or ORIGO_E_RAFT_CONFIG. Pure; any
 * thread. */
int raft_config_check(const struct raft_config *c);

/* Decodes CONFIG entry data strictly (exact length, then
 * raft_config_check()). Returns 0 and fills *out, or ORIGO_E_RAFT_CONFIG. */
int raft_config_decode(const uint8_t *buf, size_t len, struct raft_config *out);

const char *raft_role_name(enum raft_role role);
const char *raft_msg_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif
