/* Trace reports: one JSON file that proves a whole trace answer offline
 * (docs/formats/trace-report.md). The builder here runs a trace query
 * against the latest quorum-signed checkpoint of a ledger and writes the
 * lots, edges, recall facts and every event behind them with its envelope,
 * leaf index and inclusion proof. The verifier (ledger/report_verify.h)
 * needs only liborigo and jansson.
 *
 * Threads: as ledger.h; report_build() runs its own read transaction. */
#ifndef ORIGO_LEDGER_REPORT_H
#define ORIGO_LEDGER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define REPORT_FORMAT "origo-trace-report/v1"
#define REPORT_FORMAT_V2 "origo-trace-report/v2"

/* What to trace. Zero-initialise, then set lot, lot_len and direction. */
struct report_request {
    const char *lot; /* borrowed for the call */
    size_t lot_len;
    enum trace_direction direction;
    uint32_t max_depth; /* TRACE_DEPTH_ANY for none */
    unsigned flags;     /* TRACE_WITH_RECALL, TRACE_WITH_LOT_EVENTS */
    /* 0: the latest quorum-signed checkpoint. Otherwise it must equal that
     * checkpoint's tree size (the ledger serves signed notes only for the
     * latest quorum-signed size): ORIGO_E_TREE_SIZE otherwise. */
    uint64_t tree_size;
    size_t max_lots; /* 0 = trace's default */
    /* 2: origo-trace-report/v2, complete under the cosigned lot index
     * (docs/formats/lot-index.md): built at the latest tree size where the
     * lot index note and the checkpoint both have a quorum. 0 or 1: v1. */
    int version;
};

/* Builds the report: in one read transaction, takes the latest
 * quorum-signed checkpoint, answers the trace as of its tree size, and
 * adds every event of the answer with its inclusion proof.
 * On success *json (malloc()ed, NUL-terminated, caller frees) and *json_len
 * are set, and *result (may be NULL) receives the trace answer (release with
 * trace_result_close()).
 * Returns 0; ORIGO_E_NOTFOUND (no quorum-signed checkpoint yet);
 * ORIGO_E_TREE_SIZE; the errors of trace_query_run(); ORIGO_E_TOOBIG (the
 * report would exceed the verifier's 128 MiB cap); ORIGO_E_STORE,
 * ORIGO_E_CORRUPT, ORIGO_E_NOMEM. `errmsg` (may be NULL) receives what
 * failed, on what. */
int report_build(ledger *led, const struct report_request *request, char **json,
                 size_t *json_len, struct trace_result *result, char *errmsg,
                 size_t errmsg_size);

/* Copies the trace table handles that ledger_open() opened into *out.
 * Unlike trace_open() it calls no mdb_dbi_open(), so any thread may use it
 * at any time while the ledger is open. Returns 0, or ORIGO_E_NOTFOUND when
 * the ledger has no trace tables. */
int report_trace_tables(const ledger *led, struct trace_tables *out);

/* Name of a trace kind in reports and summaries ("ship", "receive",
 * "hold", "release", "recall"), or NULL. */
const char *report_kind_name(int kind);

#ifdef __cplusplus
}
#endif
#endif
