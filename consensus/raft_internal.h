/* Private state of the Raft core, shared by raft.c (log, persistence
 * bookkeeping, elections, follower side) and raft_replicate.c (leader side:
 * progress, flow control, snapshots, membership). Not a public header. */
#ifndef ORIGO_RAFT_INTERNAL_H
#define ORIGO_RAFT_INTERNAL_H

#include <sodium.h>

#include "raft.h"

/* Most append messages one follower may have unacknowledged. */
#define RAFT_INFLIGHT_CAP 256
#define RAFT_MAX_PROGRESS (2 * RAFT_MAX_MEMBERS)

enum progress_state {
    PROGRESS_PROBE = 0,     /* one probe at a time, searching for next */
    PROGRESS_REPLICATE = 1, /* pipelined appends within flow control */
    PROGRESS_SNAPSHOT = 2,  /* a snapshot is being sent, appends paused */
};

struct progress {
    uint64_t id;
    uint64_t match;
    uint64_t next;
    enum progress_state state;
    bool probe_sent;
    bool recent_active;
    uint32_t stall_ticks; /* ticks without progress while data in flight */
    uint32_t leave_ticks; /* removed: ticks since the removal committed */
    bool left; /* seen outside the configuration: a server that comes back
                  under this ID starts from scratch (its disk may be new) */
    /* Ring of unacknowledged appends in replicate state: the last index each
     * carried and its entry bytes. */
    uint64_t infl_last[RAFT_INFLIGHT_CAP];
    uint64_t infl_bytes[RAFT_INFLIGHT_CAP];
    uint32_t infl_head;
    uint32_t infl_count;
    uint64_t infl_total_bytes;
    /* Snapshot transfer: which snapshot, next byte offset to send, whether
     * the chunk at snap_offset awaits an answer. */
    uint64_t snap_index;
    uint64_t snap_offset;
    bool snap_chunk_sent;
};

/* A message that may leave only after ready need_seq is durable. */
struct held_msg {
    uint64_t need_seq;
    struct raft_msg msg;
};

/* What a handed-out ready persists, to learn the durable log on
 * raft_persisted(). */
struct ready_record {
    uint64_t seq;
    uint64_t last_index;
    uint64_t last_term;
};

struct raft {
    struct raft_options opts;
    uint64_t id;
    enum raft_role role;
    uint64_t term;
    uint64_t vote;
    uint64_t leader;
    uint64_t commit;
    uint64_t applied;

    /* The log after the snapshot: ents[i] has index snap_index + 1 + i. */
    struct raft_entry *ents;
    size_t n_ents;
    size_t cap_ents;
    struct raft_snapshot_meta snap; /* index 0: no snapshot */
    struct raft_buf snap_data;      /* owned copy, to send to followers */
    uint64_t snap_total; /* bytes of the snapshot held or streamed, 0: none */

    struct raft_config bootstrap; /* config before any config entry */
    struct raft_config config;    /* latest, committed or not */
    uint64_t config_index;        /* index of the entry holding config */

    /* Timers, in ticks. */
    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t randomized_timeout;
    uint64_t transfer_target;
    uint32_t transfer_elapsed;

    /* Elections: who answered the current (pre-)campaign and how. */
    uint64_t voted_ids[RAFT_MAX_MEMBERS];
    bool voted_granted[RAFT_MAX_MEMBERS];
    uint32_t n_voted;

    /* Leader: one progress per member other than this node, plus self. */
    struct progress *prs;
    uint32_t n_prs;

    /* Persistence bookkeeping. */
    uint64_t unstable_from;   /* first index not yet handed out to persist */
    uint64_t persisted_index; /* durable prefix matching the memory log */
    struct raft_hard_state hs_handed; /* last hard state handed out */
    uint64_t hs_seq;  /* ready that handed out the current term and vote */
    bool won_pending; /* candidate won; leads once term and vote are durable */
    uint64_t ready_seq;     /* last seq handed out */
    uint64_t persisted_seq; /* last seq reported durable */
    struct ready_record *records;
    size_t n_records;
    size_t cap_records;
    bool ready_out; /* a ready is handed out and not advanced */

    /* Incoming snapshot being assembled, and one to hand out for install. */
    struct raft_snapshot_meta in_snap;
    uint8_t in_snap_digest[32]; /* of the snapshot being assembled */
    uint8_t *in_snap_buf;
    uint64_t in_snap_len;
    uint64_t in_snap_total;
    bool in_snap_active;
    crypto_hash_sha256_state in_snap_hash; /* snap_io: the stream so far */
    bool install_pending;
    bool snap_want;          /* ask the host for snapshot bytes (ready) */
    uint8_t snap_digest[32]; /* SHA-256 of snap_data, when held */
    uint64_t snap_asked;     /* snapshot index last asked for */
    uint64_t snap_asked_at;  /* ticks when it was last asked for */
    uint64_t ticks;          /* raft_tick() calls so far */
    struct raft_snapshot_meta install_meta;
    struct raft_buf install_data; /* owned until handed out and advanced */
    struct raft_buf install_handed;

    /* Outgoing messages, and those waiting for durability. */
    struct raft_msg *outbox;
    size_t n_outbox;
    size_t cap_outbox;
    struct held_msg *held;
    size_t n_held;
    size_t cap_held;
};

/* raft.c */
void *raft_mem_alloc(struct raft *r, size_t size);
void *raft_mem_realloc(struct raft *r, void *ptr, size_t size);
void raft_mem_free(struct raft *r, void *ptr);
uint64_t raft_last_index(const struct raft *r);
uint64_t raft_last_term(const struct raft *r);
int raft_log_append(struct raft *r, uint64_t term, uint8_t type,
                    const uint8_t *data, size_t len);
int raft_send(struct raft *r, struct raft_msg *m, bool needs_durable);
void raft_msg_free(struct raft *r, struct raft_msg *m);
void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader);
uint32_t raft_quorum(const struct raft *r);
void raft_apply_config(struct raft *r, const struct raft_config *c,
                       uint64_t index);

/* raft_replicate.c */
struct progress *raft_replicate_progress(struct raft *r, uint64_t id);
int raft_replicate_reset(struct raft *r);
void raft_replicate_sync_members(struct raft *r);
int raft_replicate_send_append(struct raft *r, struct progress *pr,
                               bool send_empty, bool *sent);
int raft_replicate_broadcast(struct raft *r, bool send_empty);
int raft_replicate_heartbeat(struct raft *r);
int raft_replicate_tick(struct raft *r);
void raft_replicate_maybe_commit(struct raft *r);
int raft_replicate_on_append_resp(struct raft *r, const struct raft_msg *m);
int raft_replicate_on_heartbeat_resp(struct raft *r, const struct raft_msg *m);
int raft_replicate_on_snapshot_resp(struct raft *r, const struct raft_msg *m);
void raft_replicate_self_persisted(struct raft *r);

/* The host could not read the streamed snapshot's bytes (raft.c). */
void raft_snapshot_lost(struct raft *r);

#endif
