/* origo-node's state shared by main.c (start, peers, Raft, cosigning) and
 * api.c (HTTP routes, submissions). Everything here belongs to the loop
 * thread. */
#ifndef ORIGO_NODE_NODE_H
#define ORIGO_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "genesis.h"
#include "http.h"
#include "origo/keys.h"
#include "peer.h"
#include "replica.h"

/* First byte of every message between validators. */
enum node_msg {
    MSG_RAFT = 1,      /* raftmsg.h */
    MSG_FORWARD = 2,   /* u64 id, msgpack array of envelopes */
    MSG_ANSWER = 3,    /* u64 id, i32 code, u64 index, u64 term */
    MSG_COSIGN = 4,    /* u64 size, u16 length, checkpoint line, index line */
    MSG_ADDRESSES = 5, /* msgpack array of [key bin 32, "host:port"] */
    MSG_CLOCK = 6,     /* u64 the sender's wall clock, Unix ms */
};

/* How often a validator tells its peers its wall clock, and how long a
 * reading counts for the block time (node_block_time_ms()). */
#define NODE_CLOCK_EVERY_MS 1000
#define NODE_CLOCK_FRESH_MS 5000

/* Most validator addresses one node remembers from peers. */
#define NODE_BOOK_MAX 256

/* Another validator: one of the genesis, or added by a member event. */
typedef struct node_peer {
    uint8_t pub[32];
    uint64_t id;
    char name[256];
    char address[GENESIS_ADDRESS_MAX + 1]; /* "" when not known */
    int genesis;                           /* named by the genesis */
    int active;          /* a validator in the applied ledger now */
    peer_link *link;     /* open link, or NULL */
    peer_dialer *dialer; /* when this node dials it */
    uint64_t clock_ms;   /* its wall clock as it last said (MSG_CLOCK) */
    uint64_t clock_at;   /* our monotonic ms when it said it; 0: never */
} node_peer;

/* A submission: one HTTP request, or one forwarded from a follower. */
typedef struct waiter {
    struct waiter *next, *prev;
    http_request *req;    /* NULL: forwarded from `from` */
    uint64_t fwd_id;      /* the follower's ID of a forwarded one, or ours */
    int forwarded;        /* from the validator whose key is from_key */
    uint8_t from_key[32]; /* links may close meanwhile: found again by key */
    size_t n;
    uint8_t *blob; /* the envelopes, back to back */
    size_t blob_len;
    ledger_envelope *envs; /* into blob */
    uint8_t (*ids)[32];
    int *verdicts; /* admission: 0 or the envelope's error */
    int wait_commit;
    int previewed;        /* pre-validated at the leader (api.c) */
    int state;            /* enum waiter_state (api.c) */
    uint64_t index, term; /* the Raft entry that carries it */
    uint64_t deadline_ms;
    /* Monotonic us, for the latency histogram and the stage metrics
     * (api.c, observe_latency()):
     * received, verified, its Raft index known (proposed here, or the
     * leader's answer to a forwarded one). 0: not reached. */
    uint64_t t_received, t_verified, t_indexed;
    /* Admission on the thread pool: parse, then verify each signature. */
    uv_work_t work;
    uint8_t *input; /* the body to parse (owned) */
    size_t input_len;
    int input_msgpack;
    int error; /* parse error: nothing is proposed */
    char error_msg[256];
    struct node *node;
} waiter;

typedef struct waiter_list {
    waiter *head, *tail;
    size_t count;
} waiter_list;

typedef struct node_metrics {
    uint64_t submitted, committed, blocks;
    uint64_t rejected[256];  /* by -code */
    uint64_t refused[256];   /* by pre-validation, by -code */
    uint64_t verified;       /* envelope signatures checked at admission */
    uint64_t checked_ahead;  /* blocks applied with signatures checked ahead */
    uint64_t checked_joined; /* blocks whose check the applier joined */
    uint64_t checked_here;   /* events verified by the applier in those */
    uint64_t checked_seen;   /* events verified here at submission */
    uint64_t lat_buckets[16], lat_count, lat_sum_ms;
    /* Committed submissions answered here, by stage (api.c). */
    uint64_t stage_us[3], stage_count;
    uint64_t http_requests, http_429, lost;
} node_metrics;

typedef struct node {
    uv_loop_t loop;
    node_config cfg;
    int dev;
    uint8_t *genesis_json;
    size_t genesis_len;
    genesis *gen;
    origo_key *key;
    uint64_t self_id;
    char self_name[256];
    int self_genesis;  /* a genesis validator */
    int self_active;   /* a validator in the applied ledger now */
    node_peer **peers; /* the other validators, current and past */
    size_t n_peers;
    /* Addresses of validators learnt from peers, and ours to announce
     * (node/README.md, "Membership"): how validators added after the
     * genesis find each other. */
    struct book_entry {
        uint8_t pub[32];
        char address[GENESIS_ADDRESS_MAX + 1];
    } book[NODE_BOOK_MAX];
    size_t n_book;
    char advertise[GENESIS_ADDRESS_MAX + 1]; /* "": not known */
    peer_options popts;                      /* for links dialled later */
    peer_listener *listener;
    replica *rep;
    http_server *http;
    uv_signal_t sigterm, sigint;
    uv_timer_t keepalive, tick, batch, cosign, clock;
    int lock_fd, stopping;
    int fatal; /* the error that stopped the node, or 0 */
    /* Submissions: queued at the leader (not yet proposed), proposed or
     * forwarded (waiting for their entry to apply). */
    waiter_list admitting, queued, inflight;
    size_t queued_events, queued_bytes;
    size_t inflight_events, inflight_bytes;
    uint64_t next_fwd_id;
    /* Cosigning. */
    uint64_t signed_size;
    uint8_t signed_root[32];
    char signed_line[600]; /* our checkpoint signature for signed_size */
    size_t signed_line_len;
    char signed_iline[600]; /* and our lot index note signature */
    size_t signed_iline_len;
    int cosign_due;
    uint64_t clock_warned_ms; /* monotonic ms of the last clock warning */
    struct pending_sig {
        uint64_t size;
        char line[600], iline[600]; /* checkpoint, lot index note */
        size_t len, ilen;
    } pending_sigs[64];
    size_t n_pending_sigs;
    node_metrics m;
    /* Signatures of arriving entries, checked on the thread pool: a ring
     * of (index, term) -> verdict; a miss means apply checks. */
    struct checked_entry {
        uint64_t index, term;
        int state;             /* 0 none, 1 pending, 2 all verify, 3 not */
        struct check_job *job; /* while state is 1 */
    } checked[4096];
    struct sigseen *seen; /* envelopes verified here (sigcheck.h) */
    size_t checks_pending;
} node;

uint64_t node_now_ms(void);
/* The time a block proposed now gets: the median of this validator's wall
 * clock and the clocks its active peers said within NODE_CLOCK_FRESH_MS
 * (each moved on by the time since), so that no one validator's clock,
 * wrong by any amount, sets the block time when the others agree
 * (docs/formats/block.md, "Block time"). *heard (if not NULL) receives
 * how many peers' clocks it counted. */
uint64_t node_block_time_ms(node *n, size_t *heard);
/* This validator's wall clock minus node_block_time_ms(): how far its own
 * clock is from the validators' median (status, warnings). */
int64_t node_clock_offset_ms(node *n, size_t *heard);
/* Stops the node if its replica failed (replica_failed()): a write to the
 * store failed, so it must not go on. `during` names the step for the
 * log. Returns the failure, or 0. */
int node_check_replica(node *n, const char *during);
/* Sends kind || payload to a validator by Raft ID (dropped if no link). */
void node_send_to(node *n, peer_link *link, uint8_t kind, const uint8_t *a,
                  size_t a_len, const uint8_t *b, size_t b_len);
peer_link *node_leader_link(node *n);
/* The open link to the validator with this key, or NULL. */
peer_link *node_peer_link(node *n, const uint8_t key[32]);

/* api.c */
void api_handle(void *ctx, http_request *req);
void api_refuse(void *ctx, http_request *req);
void api_on_applied(node *n);
void api_on_forward(node *n, peer_link *from, const uint8_t *msg, size_t len);
void api_on_answer(node *n, const uint8_t *msg, size_t len);
void api_sweep(node *n);
void api_stop(node *n);

#endif
