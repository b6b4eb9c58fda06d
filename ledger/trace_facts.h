/* What one event states for trace, as plain data: the lots it names, the
 * genealogy edges it implies, and its custody or quality record. The
 * indexer (trace.c) writes these facts into LMDB and the trace-report
 * verifier (report_verify.c) recomputes them from the envelopes it checks,
 * so both sides derive edges by the same code; they also find an answer's
 * cycle edges with the same function here. No LMDB here.
 *
 * Any thread, distinct objects. */
#ifndef ORIGO_LEDGER_TRACE_FACTS_H
#define ORIGO_LEDGER_TRACE_FACTS_H

#include <stddef.h>
#include <stdint.h>

/* Declared, not included: this header must also serve files that include
 * <origo/note.h>, whose names collide with <origo/keys.h> for now. */
struct origo_event;

/* Equal to ORIGO_EVENT_MAX_LOTS and ORIGO_EVENT_MAX_DOCS of <origo/event.h>
 * (trace_facts.c checks it at compile time). */
#define TRACE_FACTS_MAX_LOTS 128
#define TRACE_FACTS_MAX_DOCS 16

#ifdef __cplusplus
extern "C" {
#endif

/* Longest lot identifier the indexes accept (LMDB keys and dupsort values
 * are limited to 511 bytes; a value also holds an 8-byte leaf index). */
#define TRACE_LOT_MAX 480

/* Kinds of custody and quality records (stored in trace_custody and
 * trace_holds values, named in trace reports). */
enum trace_kind {
    TRACE_CUSTODY_SHIP = 1,
    TRACE_CUSTODY_RECEIVE = 2,
    TRACE_HOLD = 3,
    TRACE_RELEASE = 4,
    TRACE_RECALL = 5,
};

/* A borrowed byte string (points into the event's body). */
struct trace_text {
    const char *ptr;
    size_t len;
};

/* One genealogy edge: lots[from] went into lots[to]. */
struct trace_fact_edge {
    uint16_t from;
    uint16_t to;
};

/* Upper bound on edges of one event: every input into every output. */
#define TRACE_FACTS_MAX_EDGES                                                  \
    ((TRACE_FACTS_MAX_LOTS / 2) * (TRACE_FACTS_MAX_LOTS / 2))

struct trace_facts {
    int type;         /* enum origo_event_type */
    uint8_t by[32];   /* submitter */
    size_t lot_count; /* distinct lots named, in event order */
    struct trace_text lots[TRACE_FACTS_MAX_LOTS];
    size_t edge_count; /* distinct edges */
    struct trace_fact_edge edges[TRACE_FACTS_MAX_EDGES];
    int kind;             /* TRACE_CUSTODY_* / TRACE_HOLD... or 0 */
    size_t subject_count; /* lots the custody or quality record is about */
    uint16_t subjects[TRACE_FACTS_MAX_LOTS]; /* indexes into lots[] */
    struct trace_text from, to;              /* custody parties */
    size_t doc_count; /* documents: doc list, report, COA */
    uint8_t docs[TRACE_FACTS_MAX_DOCS + 2][32];
};

/* What an epcis event means under rule version 1 (docs/formats/
 * authority.md, "EPCIS"): decided from the event alone, so that the
 * authority rules, the trace indexer and the offline report verifier read
 * it the same way. */
enum trace_epcis_meaning {
    TRACE_EPCIS_NOTHING = 0, /* stored and proven, changes nothing */
    TRACE_EPCIS_TRANSFORM,   /* TransformationEvent: a lot.transform */
    TRACE_EPCIS_COMMISSION,  /* ObjectEvent ADD, bizStep commissioning */
    TRACE_EPCIS_AGGREGATE,   /* AggregationEvent ADD/OBSERVE into a lot */
    TRACE_EPCIS_SHIP,        /* ObjectEvent, bizStep shipping */
    TRACE_EPCIS_RECEIVE,     /* ObjectEvent, bizStep receiving */
    TRACE_EPCIS_RECALL,      /* ObjectEvent, disposition recalled */
};
enum trace_epcis_meaning trace_facts_epcis_meaning(const struct origo_event *e);

/* Fills *out from a decoded (or origo_event_validate()d) event; its strings
 * stay borrowed from the event's body. Lots longer than TRACE_LOT_MAX give
 * ORIGO_E_LOT. Allocates nothing (an EPCIS event's edges come from the
 * roles and epcis_info that decoding derived). Returns 0, ORIGO_E_LOT, or
 * ORIGO_E_INTERNAL (an edge the fixed-size facts cannot hold, impossible
 * for a valid event). Facts are never silently partial. */
int trace_facts_from_event(const struct origo_event *event,
                           struct trace_facts *out);

/* Verifies an envelope as anyone receiving it would (canonical envelope and
 * body, schema, `net` equal to the network origin, strong submitter key,
 * strict signature: origo_envelope_verify()) and fills *out with its facts
 * (borrowing from `data`, which must outlive *out) and id (may be NULL)
 * with its event ID. Returns 0 or the SDK's error (ORIGO_E_SIGNATURE,
 * ORIGO_E_NETWORK, ORIGO_E_SCHEMA, codec errors...), ORIGO_E_LOT,
 * ORIGO_E_NOMEM. */
int trace_facts_from_envelope(const uint8_t *data, size_t len, const char *net,
                              size_t net_len, struct trace_facts *out,
                              uint8_t id[32]);

/* Writes to *source and *target the lot indexes at which edge `edge` of a
 * caller's graph starts and ends in traversal direction. */
typedef void (*trace_edge_ends_fn)(const void *ctx, size_t edge,
                                   uint32_t *source, uint32_t *target);

/* The edges that close a cycle in a trace answer graph, found the same way
 * by the builder (trace.c) and the report verifier (report_verify.c): an
 * iterative depth-first search from lot 0 (the start lot), each lot's
 * outgoing edges taken in edge order; an edge into a lot still on the
 * search path is a back edge. `ends` (called with `ctx`) gives each edge's
 * ends, which must be below lot_count. On success *out receives the back
 * edges' indexes in the order found (malloc()ed, the caller frees; NULL
 * when there are none) and *count their number. Returns 0 or
 * ORIGO_E_NOMEM (nothing written). */
int trace_facts_back_edges(size_t lot_count, size_t edge_count,
                           trace_edge_ends_fn ends, const void *ctx,
                           uint32_t **out, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
