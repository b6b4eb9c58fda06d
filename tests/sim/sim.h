/* Deterministic cluster simulator for the Raft core: nodes, a lossy
 * reordering network, disks that lose unsynced writes on crash, and the
 * safety checks run after every step. Everything is driven by one seeded
 * PRNG, so a seed replays exactly. Used by tests/sim/sim_main.c and by the
 * named scenario tests, which drive a cluster by hand. */
#ifndef ORIGO_SIM_H
#define ORIGO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "raft.h"

#define SIM_MAX_NODES 8

/* xoshiro256** seeded with splitmix64. */
struct sim_rng {
    uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *g, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *g);
/* Uniform in [0, n); n > 0. */
uint64_t sim_rng_below(struct sim_rng *g, uint64_t n);
/* True with probability per_mille / 1000. */
bool sim_rng_chance(struct sim_rng *g, uint32_t per_mille);

/* Fault profile of one run; all rates per mille per step unless noted. */
struct sim_faults {
    uint32_t loss;       /* per message */
    uint32_t dup;        /* per message */
    uint32_t delay_max;  /* steps; delays are uniform in [1, delay_max] */
    uint32_t crash;      /* crash one node */
    uint32_t restart;    /* restart one crashed node */
    uint32_t partition;  /* change the partition */
    uint32_t heal;       /* remove all partitions */
    uint32_t membership; /* attempt a membership change on the leader */
    uint32_t transfer;   /* attempt a leadership transfer */
    uint32_t snapshot;   /* one node takes a snapshot */
    uint32_t propose;    /* leader gets a proposal */
    uint32_t sync;       /* a node with unsynced writes syncs */
    uint32_t flap;       /* per new leader: cut it off soon after */
    bool skew;           /* nodes tick at different rates */
};

struct sim_stats {
    uint64_t elections;  /* distinct (term, leader) pairs seen */
    uint64_t max_commit; /* highest committed index seen */
    uint64_t crashes;
    uint64_t partitions;
    uint64_t config_changes; /* accepted by a leader */
    uint64_t transfers;      /* accepted by a leader */
    uint64_t snapshots_taken;
    uint64_t snapshots_installed;
    uint64_t msgs_sent;
};

struct sim_cluster; /* opaque */

/* Options for a hand-driven cluster (scenario tests) or a random run. */
struct sim_options {
    uint64_t seed;
    uint32_t n_voters;   /* founding voters, ids 1..n_voters */
    uint32_t n_learners; /* founding learners, ids after the voters */
    uint32_t n_spares;   /* extra nodes with no configuration yet */
    uint32_t election_ticks;
    uint32_t max_inflight_msgs;
    uint64_t max_msg_bytes;
    uint32_t max_msg_entries;
    uint32_t snapshot_chunk_bytes;
    bool pre_vote;
    bool check_quorum;
    bool leader_lease;
    bool auto_sync;        /* sync every write at once (scenario default) */
    uint32_t alloc_fail;   /* per mille of the cores' allocations that fail */
    uint64_t initial_term; /* every node's durable term at the start */
    bool verbose;          /* trace events to stderr */
};

void sim_options_default(struct sim_options *o);

struct sim_cluster *sim_new(const struct sim_options *o);
void sim_free(struct sim_cluster *c);

/* --- hand driving (scenario tests) --- */
struct raft *sim_raft(struct sim_cluster *c, uint64_t id); /* NULL if down */
void sim_tick(struct sim_cluster *c, uint64_t id);
/* Collects the work of id after a direct call on sim_raft(c, id). */
void sim_drain(struct sim_cluster *c, uint64_t id);
/* Ticks id until it campaigns and, with the network delivering everything
 * queued, becomes leader; returns true on success. */
bool sim_elect(struct sim_cluster *c, uint64_t id);
/* Delivers all queued messages (and those they cause) until quiet or
 * max_rounds; messages over blocked links are dropped. */
void sim_deliver_all(struct sim_cluster *c, int max_rounds);
/* Delivers only queued messages matching (from, to); 0 = any. */
void sim_deliver_only(struct sim_cluster *c, uint64_t from, uint64_t to);
/* Delivers only queued messages of one type (0 = any) from/to (0 = any). */
void sim_deliver_type(struct sim_cluster *c, uint64_t from, uint64_t to,
                      uint8_t type);
/* Ticks id and delivers only (pre-)vote requests from it and the answers
 * to it, until it leads or max_ticks pass; other traffic stays queued.
 * Returns true if id became leader. */
bool sim_win(struct sim_cluster *c, uint64_t id, int max_ticks);
void sim_drop_all(struct sim_cluster *c);
size_t sim_queued(const struct sim_cluster *c);
/* Queued messages matching from/to/type (0 = any). */
size_t sim_count(const struct sim_cluster *c, uint64_t from, uint64_t to,
                 uint8_t type);
const struct sim_stats *sim_stats(const struct sim_cluster *c);
void sim_block(struct sim_cluster *c, uint64_t from, uint64_t to, bool on);
void sim_isolate(struct sim_cluster *c, uint64_t id, bool on);
void sim_heal(struct sim_cluster *c);
int sim_propose(struct sim_cluster *c, uint64_t id, const char *text,
                uint64_t *index);
void sim_sync(struct sim_cluster *c, uint64_t id); /* make writes durable */
void sim_crash(struct sim_cluster *c, uint64_t id);
void sim_restart(struct sim_cluster *c, uint64_t id);
int sim_snapshot(struct sim_cluster *c, uint64_t id);
void sim_set_auto_sync(struct sim_cluster *c, bool on);
/* Changes the rate of injected allocation failures (per mille). */
void sim_set_alloc_fail(struct sim_cluster *c, uint32_t per_mille);
/* After drains: the state machine of id (applied index) and status. */
uint64_t sim_applied(const struct sim_cluster *c, uint64_t id);
void sim_status(struct sim_cluster *c, uint64_t id, struct raft_status *st);
/* The invariants; returns false and fills the message on violation. */
bool sim_check(struct sim_cluster *c);
const char *sim_violation(const struct sim_cluster *c);

/* --- random runs --- */

/* Runs one seed: fault phase of fault_steps steps, then heals and requires
 * a committed proposal within liveness_steps. Returns 0, or -1 on an
 * invariant violation (message printed to out, with seed and step). */
int sim_run_seed(uint64_t seed, uint64_t fault_steps, uint64_t liveness_steps,
                 bool verbose, FILE *out, struct sim_stats *stats);

/* Makes sim_run_seed() start every cluster with n founding voters (1..5)
 * instead of drawing the size from the seed; 0 restores the draw. For
 * replaying campaigns on one cluster size. */
void sim_set_run_voters(uint32_t n);
/* Random runs use the harsh fault profile (sim.c, harsh_profile()). */
void sim_set_harsh(bool on);

#endif
