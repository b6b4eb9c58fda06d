/* A generated supply network for the trace tests: suppliers create raw
 * lots, plants transform them into subassemblies and finished goods (with
 * raw lots shared by several products), an EPCIS transformation and an
 * aggregation onto a pallet, custody shipments, holds, releases, a recall,
 * and one "rework" transform that feeds a finished good back into one of
 * its own raw lots (the cycle attempt). Every event goes through
 * ledger_apply_block(); the generator keeps its own graph so the tests can
 * compute the expected answers independently of ledger/trace.c. */
#ifndef ORIGO_TEST_TRACE_NET_H
#define ORIGO_TEST_TRACE_NET_H

#include <stddef.h>
#include <stdint.h>

#include <origo/keys.h>

#include "ledger.h"

#define NET_MAX_LOTS 256
#define NET_MAX_EDGES 2048
#define NET_MAX_RECORDS 256
#define NET_VALIDATORS 3
#define NET_PARTIES 9 /* 4 suppliers, 3 plants, a carrier, an admin */
#define NET_ORIGIN "origo.test/trace"

/* A genealogy edge the generator created: lot `from` went into `to`. */
struct net_edge {
    int from, to;
    uint64_t leaf;
};

/* A custody or quality record, or (kind 0) a creation or COA attestation:
 * events that name a lot without an edge. In log order. */
struct net_record {
    int lot;
    int kind; /* enum trace_kind, or 0 */
    uint64_t leaf;
    char from[32], to[32];
};

struct trace_net {
    char *dir;
    ledger *led;
    origo_key *parties[NET_PARTIES];
    origo_key *validators[NET_VALIDATORS];
    uint8_t validator_sk[NET_VALIDATORS][64];
    origo_vkey vkeys[NET_VALIDATORS];
    char lots[NET_MAX_LOTS][64];
    int lot_count;
    int raw_first, raw_count, sub_first, sub_count, fin_first, fin_count;
    int pallet;
    struct net_edge edges[NET_MAX_EDGES];
    int edge_count;
    struct net_record records[NET_MAX_RECORDS];
    int record_count;
    int cycle_raw; /* the raw lot the rework transform re-creates */
    uint64_t event_count;
    uint64_t block_time;
    uint64_t raft_index;
};

/* Builds the network into a fresh ledger in a temporary directory, applies
 * every event (asserting each is accepted) and has two of the three
 * validators sign the final checkpoint. `seed` drives the random choices. */
void trace_net_build(struct trace_net *net, uint64_t seed);

/* Applies more events after the checkpoint: a transform of two finished
 * goods into a new lot (not covered by the signed checkpoint). Returns the
 * new lot's index. */
int trace_net_extend(struct trace_net *net);

/* Signs the ledger's current tree size with validators [0, count). */
void trace_net_sign(struct trace_net *net, int count);

/* Closes the ledger and removes the directory. */
void trace_net_free(struct trace_net *net);

/* Index of a lot name, or -1. */
int trace_net_lot(const struct trace_net *net, const char *name);

#endif
