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

#endif
