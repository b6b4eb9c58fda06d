/* Trace indexes and traversal (docs/formats/trace-report.md, DESIGN "Ledger").
 *
 * The trace module keeps its own named tables in the node's LMDB environment
 * (all names start with "trace_") and fills them, inside the apply write
 * transaction, for every accepted event:
 *
 *   trace_lot_events  lot            -> leaf index (8 bytes big-endian) of
 *                                       each event naming the lot without
 *                                       stating an edge of it
 *   trace_lot_inputs  lot            -> leaf index || input lot
 *   trace_lot_outputs lot            -> leaf index || output lot
 *   trace_doc_events  document hash  -> leaf index
 *   trace_by_events   submitter key  -> leaf index
 *   trace_custody     lot            -> leaf index || custody record
 *   trace_holds       lot            -> leaf index || kind (hold/release/
 *                                       recall)
 *
 * All tables are MDB_DUPSORT; values begin with the big-endian leaf index,
 * so the duplicates of one key come out in log order and a query "as of tree
 * size N" stops at the first value whose leaf index is >= N.
 *
 * A genealogy edge (from, to) means "lot `to` was made from, or contains,
 * lot `from`". Edges come from lot.transform (every input -> every output),
 * EPCIS TransformationEvent (input lots -> output lots) and EPCIS
 * AggregationEvent with action ADD or OBSERVE (each child -> the parent).
 * custody.ship / custody.receive are custody, not genealogy: they are kept
 * in trace_custody and give a lot's last custodian. quality.hold / release /
 * recall are kept per lot in trace_holds.
 *
 * Threads: every function takes the caller's LMDB transaction and follows
 * LMDB's rules (a transaction is used by one thread at a time). Queries
 * need only a read transaction. */
#ifndef ORIGO_LEDGER_TRACE_H
#define ORIGO_LEDGER_TRACE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include <origo/event.h>

#include "trace_facts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest custodian name kept in trace_custody. The SDK caps `from` and
 * `to` at ORIGO_TEXT_MAX (128) bytes, so names are always kept whole
 * (trace.c checks the bound at compile time). */
#define TRACE_PARTY_MAX 200
/* Pass as trace_query.max_depth for no depth limit. */
#define TRACE_DEPTH_ANY UINT32_MAX
/* Pass as trace_query.tree_size to consider every indexed event. */
#define TRACE_TREE_SIZE_ALL UINT64_MAX

/* The DBI handles of the trace tables. Plain data: copy freely. Valid for
 * as long as the environment stays open. */
struct trace_tables {
    MDB_dbi lot_events;
    MDB_dbi lot_inputs;
    MDB_dbi lot_outputs;
    MDB_dbi doc_events;
    MDB_dbi by_events;
    MDB_dbi custody;
    MDB_dbi holds;
};

/* Number of named tables trace_open() creates; add it to the environment's
 * mdb_env_set_maxdbs() budget. */
#define TRACE_TABLE_COUNT 7

/* Opens (creating them when `txn` is a write transaction and they are
 * missing) the trace tables and writes their handles into *out (only on
 * success). With a read-only transaction missing tables give
 * ORIGO_E_NOTFOUND. As with mdb_dbi_open(), the handles become usable by
 * other transactions once `txn` commits.
 * Returns 0, ORIGO_E_NOTFOUND, ORIGO_E_STORE. */
int trace_open(MDB_txn *txn, struct trace_tables *out);

/* Indexes one accepted event: called by apply, in log order, inside the
 * block's write transaction, for every event that became Merkle leaf
 * `leaf_index`. `event` is the decoded body of the envelope and `event_id`
 * its ID; neither is kept after the call. Writes only trace_* tables.
 * Returns 0, ORIGO_E_LOT (a lot longer than TRACE_LOT_MAX),
 * ORIGO_E_MAP_FULL (caller grows the map and re-applies the block) or
 * ORIGO_E_STORE. On error the transaction must be aborted. */
int trace_index_event(MDB_txn *txn, const struct trace_tables *tables,
                      uint64_t leaf_index, const origo_event *event,
                      const uint8_t event_id[32]);

/* The same from the event's facts (trace_facts_from_event()), so that the
 * caller computes them once for every index. */
int trace_index_facts(MDB_txn *txn, const struct trace_tables *tables,
                      uint64_t leaf_index, const struct trace_facts *facts);

/* Returns 1 when some indexed event names `lot` (in any role: created,
 * transformed from or into, inspected, shipped...), 0 when none does, or a
 * negative ORIGO_E_STORE. Apply uses it for the strict input-lot rule;
 * events indexed earlier in the same write transaction count. */
int trace_lot_exists(MDB_txn *txn, const struct trace_tables *tables,
                     const char *lot, size_t len);

/* ---- queries ---------------------------------------------------------- */

enum trace_direction {
    TRACE_BACKWARD = 1, /* genealogy: what the lot was made from */
    TRACE_FORWARD = 2,  /* where-used: what was made from the lot */
};

enum trace_flag {
    /* Forward only: add each lot's last custodian and the holds and
     * recalls currently in force (the recall scope). */
    TRACE_WITH_RECALL = 1u << 0,
    /* Add every event that names a lot of the answer (creation,
     * inspections, COAs...), not only the events behind edges. */
    TRACE_WITH_LOT_EVENTS = 1u << 1,
};

struct trace_query {
    const char *lot; /* start lot, borrowed for the call */
    size_t lot_len;
    enum trace_direction direction;
    uint32_t max_depth; /* edges from the start; TRACE_DEPTH_ANY = none */
    uint64_t tree_size; /* only events with leaf < tree_size count */
    unsigned flags;     /* enum trace_flag */
    size_t max_lots;    /* 0 = default (1,000,000); ORIGO_E_TOOBIG past */
};

/* One lot of an answer. lots[0] is the start lot at depth 0. */
struct trace_lot {
    char *lot; /* NUL-terminated, owned by the result */
    size_t len;
    uint32_t depth; /* shortest number of edges from the start lot */
    /* Recall scope only (TRACE_WITH_RECALL): */
    int has_custody;       /* 1 when a custody event names the lot */
    uint64_t custody_leaf; /* the last custody event */
    int custody_kind;      /* TRACE_CUSTODY_SHIP or _RECEIVE */
    char *custodian;       /* the party holding it: receiver of the
                              last shipment or receipt; owned */
    char *custody_from;    /* the sender named by that event; owned */
    size_t hold_first;     /* index into trace_result.holds */
    size_t hold_count;     /* holds and recalls in force */
};

/* One genealogy edge: `from` went into `to`; indexes into lots[]. */
struct trace_edge {
    uint32_t from;
    uint32_t to;
    uint64_t leaf_index; /* the event that states it */
};

/* A hold or recall in force on a lot of a recall-scope answer. */
struct trace_hold {
    uint32_t lot;        /* index into lots[] */
    int kind;            /* TRACE_HOLD or TRACE_RECALL */
    uint64_t leaf_index; /* the event that placed it */
};

struct trace_result {
    struct trace_lot *lots;
    size_t lot_count;
    struct trace_edge *edges; /* in discovery order */
    size_t edge_count;
    /* The events behind the answer, ascending, without duplicates: every
     * edge's event; when depth_limited, the event of the first edge found
     * beyond the limit (its evidence); for a recall scope each lot's last
     * custody event and all its quality.* events (lifted or not); with
     * TRACE_WITH_LOT_EVENTS every event that names a lot of the answer. */
    uint64_t *events;
    size_t event_count;
    struct trace_hold *holds;
    size_t hold_count;
    /* Edges that lead back to a lot already on a path to them (a cycle in
     * the recorded data); indexes into edges[]. Traversal never follows
     * them twice, so it always terminates. */
    uint32_t *cycle_edges;
    size_t cycle_edge_count;
    /* 1 when the depth limit stopped the traversal with edges left
     * unexplored: a lot at the limit has an edge in the query's direction
     * (below the tree size), whose event is in events[]. */
    int depth_limited;
    uint64_t tree_size; /* the tree size the answer is evaluated at */
    enum trace_direction direction;
    uint32_t max_depth;
};

/* Answers `query` from the trace tables into *out (written only on
 * success; release it with trace_result_close()). Breadth-first, so each
 * lot gets its shortest depth; a visited set makes cycles terminate and
 * they are reported in cycle_edges. The start lot need not exist: the
 * answer is then that lot alone.
 * Returns 0, ORIGO_E_INVAL (bad query), ORIGO_E_TOOBIG (more than
 * max_lots lots), ORIGO_E_NOMEM, ORIGO_E_CORRUPT (a malformed index
 * value) or ORIGO_E_STORE. */
int trace_query_run(MDB_txn *txn, const struct trace_tables *tables,
                    const struct trace_query *query, struct trace_result *out);

/* Frees everything a result owns and zeroes it; a zeroed result is fine. */
void trace_result_close(struct trace_result *result);

/* Calls `fn` for each leaf index in `table` under `key` (a document hash or
 * a submitter key), ascending, below `tree_size`; stops early and returns
 * fn's value when it is non-zero. Returns 0, fn's value, ORIGO_E_CORRUPT or
 * ORIGO_E_STORE. For trace_doc_events and trace_by_events. */
int trace_list_events(MDB_txn *txn, MDB_dbi table, const void *key,
                      size_t key_len, uint64_t tree_size,
                      int (*fn)(void *ctx, uint64_t leaf_index), void *ctx);

/* Calls `fn` once for each event that names `lot` in any role (created,
 * transformed, inspected, shipped...), ascending by leaf index, below
 * `tree_size`: the merge of trace_lot_events with the lot's edges in both
 * edge tables. Stops early and returns fn's value when it is non-zero.
 * Returns 0, fn's value, ORIGO_E_CORRUPT or ORIGO_E_STORE. */
int trace_lot_list_events(MDB_txn *txn, const struct trace_tables *tables,
                          const char *lot, size_t len, uint64_t tree_size,
                          int (*fn)(void *ctx, uint64_t leaf_index), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
