/* Small helpers shared by the Raft scenario tests: cmocka includes and a
 * few ways to drive a simulated cluster by hand. Header-only so each test
 * stays one executable built from one file plus the simulator. */
#ifndef ORIGO_RAFT_TEST_H
#define ORIGO_RAFT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "origo/error.h"
#include "sim.h"

static inline struct raft_status rt_status(struct sim_cluster *c, uint64_t id)
{
    struct raft_status st;
    sim_status(c, id, &st);
    return st;
}

/* Syncs every node and delivers everything, rounds times. */
static inline void rt_settle(struct sim_cluster *c, uint32_t n_nodes,
                             int rounds)
{
    for (int r = 0; r < rounds; r++) {
        for (uint64_t id = 1; id <= n_nodes; id++) {
            sim_sync(c, id);
        }
        sim_deliver_all(c, 1);
    }
}

/* One heartbeat interval of the whole cluster, then delivery. */
static inline void rt_tick_all(struct sim_cluster *c, uint32_t n_nodes)
{
    for (uint64_t id = 1; id <= n_nodes; id++) {
        sim_tick(c, id);
    }
    rt_settle(c, n_nodes, 10);
}

static inline struct sim_cluster *rt_cluster(uint32_t voters, uint32_t spares)
{
    struct sim_options o;
    sim_options_default(&o);
    o.n_voters = voters;
    o.n_spares = spares;
    return sim_new(&o);
}

/* rt_cluster(voters, 0) in which node 1 has won an election and one
 * heartbeat interval has passed (asserts the election). */
static inline struct sim_cluster *rt_cluster_led(uint32_t voters)
{
    struct sim_cluster *c = rt_cluster(voters, 0);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, voters);
    return c;
}

/* A default cluster (three voters) that persists only when told
 * (auto_sync off), driven until node 1 leads: node 1 ticks and the cluster
 * settles five rounds, at most max_ticks times (asserts that node 1 leads),
 * then ten more settle rounds. */
static inline struct sim_cluster *rt_unsynced_cluster(int max_ticks)
{
    struct sim_options o;
    sim_options_default(&o);
    o.auto_sync = false;
    struct sim_cluster *c = sim_new(&o);
    for (int i = 0; i < max_ticks && rt_status(c, 1).role != RAFT_LEADER; i++) {
        sim_tick(c, 1);
        rt_settle(c, 3, 5);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    rt_settle(c, 3, 10);
    return c;
}

/* The first of nodes first..last that is leader, or 0. */
static inline uint64_t rt_leader_among(struct sim_cluster *c, uint64_t first,
                                       uint64_t last)
{
    for (uint64_t id = first; id <= last; id++) {
        if (rt_status(c, id).role == RAFT_LEADER) {
            return id;
        }
    }
    return 0;
}

/* Until one of nodes first..last leads, at most max_rounds rounds of: each
 * of them ticks, then everything is delivered (ten rounds). Other nodes do
 * not tick. Returns the leader among them, or 0. */
static inline uint64_t rt_elect_among(struct sim_cluster *c, uint64_t first,
                                      uint64_t last, int max_rounds)
{
    uint64_t leader = 0;
    for (int i = 0; i < max_rounds && leader == 0; i++) {
        for (uint64_t id = first; id <= last; id++) {
            sim_tick(c, id);
        }
        sim_deliver_all(c, 10);
        leader = rt_leader_among(c, first, last);
    }
    return leader;
}

#endif
