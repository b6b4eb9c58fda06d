/* Derives, from one decoded event, everything trace cares about: the lots
 * it names, the genealogy edges it implies (transform inputs into outputs,
 * EPCIS transformation and aggregation), and its custody or quality record.
 * Kept apart from the LMDB indexer so that the offline report verifier
 * recomputes edges, and the answer's cycle edges, with exactly the code
 * that built them. */
#include "trace_facts.h"

#include <stdlib.h>
#include <string.h>

#include <origo/error.h>
#include <origo/event.h>

_Static_assert(TRACE_FACTS_MAX_LOTS == ORIGO_EVENT_MAX_LOTS,
               "trace_facts.h must track ORIGO_EVENT_MAX_LOTS");
_Static_assert(TRACE_FACTS_MAX_DOCS == ORIGO_EVENT_MAX_DOCS,
               "trace_facts.h must track ORIGO_EVENT_MAX_DOCS");

/* Index of `lot` in facts->lots, adding it when new; -1 when the lot is
 * too long. */
static int facts_lot(struct trace_facts *facts, const char *ptr, size_t len)
{
    for (size_t i = 0; i < facts->lot_count; i++) {
        if (facts->lots[i].len == len &&
            memcmp(facts->lots[i].ptr, ptr, len) == 0) {
            return (int)i;
        }
    }
    if (len == 0 || len > TRACE_LOT_MAX ||
        facts->lot_count >= TRACE_FACTS_MAX_LOTS) {
        return -1;
    }
    facts->lots[facts->lot_count] = (struct trace_text){ptr, len};
    return (int)facts->lot_count++;
}

/* Index of an already named lot, or -1. */
static int find_lot(const struct trace_facts *facts, const char *ptr,
                    size_t len)
{
    for (size_t i = 0; i < facts->lot_count; i++) {
        if (facts->lots[i].len == len &&
            memcmp(facts->lots[i].ptr, ptr, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Adds the edge once. An edge is never dropped: the bound on edges holds
 * for every valid event (inputs times outputs plus children, out of at
 * most TRACE_FACTS_MAX_LOTS lot references), so running past it, or an
 * end that is not one of the event's lots, is an internal error. */
static int add_edge(struct trace_facts *facts, int from, int to)
{
    if (from < 0 || to < 0) {
        return ORIGO_E_INTERNAL;
    }
    for (size_t i = 0; i < facts->edge_count; i++) {
        if (facts->edges[i].from == from && facts->edges[i].to == to) {
            return 0;
        }
    }
    if (facts->edge_count >= TRACE_FACTS_MAX_EDGES) {
        return ORIGO_E_INTERNAL;
    }
    facts->edges[facts->edge_count++] =
        (struct trace_fact_edge){(uint16_t)from, (uint16_t)to};
    return 0;
}

/* Every lot of role `from_role` went into every lot of role `to_role`. */
static int role_edges(struct trace_facts *facts, const origo_event *event,
                      enum origo_lot_role from_role,
                      enum origo_lot_role to_role)
{
    for (size_t i = 0; i < event->n_lots; i++) {
        const origo_lot_ref *from = &event->lots[i];
        if (from->role != from_role) {
            continue;
        }
        int from_index = find_lot(facts, from->lot.ptr, from->lot.len);
        for (size_t o = 0; o < event->n_lots; o++) {
            const origo_lot_ref *to = &event->lots[o];
            if (to->role != to_role) {
                continue;
            }
            int rc = add_edge(facts, from_index,
                              find_lot(facts, to->lot.ptr, to->lot.len));
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* The edge table of docs/formats/trace-report.md ("Trace semantics"), and
 * nothing else: lot.transform and an EPCIS TransformationEvent state every
 * input -> every output; an EPCIS AggregationEvent whose action is exactly
 * ADD or OBSERVE states every child -> the parent. Which lot an EPC names
 * was decided once, by origo_epc_lot(), when the event was decoded; the
 * roles carry that decision here. */
static int genealogy_edges(struct trace_facts *facts, const origo_event *event)
{
    if (event->type == ORIGO_EV_LOT_TRANSFORM) {
        return role_edges(facts, event, ORIGO_LOT_INPUT, ORIGO_LOT_OUTPUT);
    }
    if (event->type != ORIGO_EV_EPCIS) {
        return 0;
    }
    const origo_epcis_info *info = &event->epcis_info;
    if (info->type == ORIGO_EPCIS_TRANSFORMATION) {
        return role_edges(facts, event, ORIGO_LOT_INPUT, ORIGO_LOT_OUTPUT);
    }
    if (info->type == ORIGO_EPCIS_AGGREGATION &&
        (info->action == ORIGO_EPCIS_ADD ||
         info->action == ORIGO_EPCIS_OBSERVE)) {
        return role_edges(facts, event, ORIGO_LOT_CHILD, ORIGO_LOT_PARENT);
    }
    return 0;
}

static int biz_step_is(const origo_epcis_info *info, const char *code)
{
    return origo_cbv_is(info->biz_step, ORIGO_CBV_BIZSTEP, code);
}

static int has_lots(const origo_event *event, enum origo_lot_role role)
{
    for (size_t i = 0; i < event->n_lots; i++) {
        if (event->lots[i].role == role) {
            return 1;
        }
    }
    return 0;
}

enum trace_epcis_meaning trace_facts_epcis_meaning(const origo_event *event)
{
    const origo_epcis_info *info = &event->epcis_info;
    if (event->type != ORIGO_EV_EPCIS) {
        return TRACE_EPCIS_NOTHING;
    }
    switch (info->type) {
    case ORIGO_EPCIS_TRANSFORMATION:
        return TRACE_EPCIS_TRANSFORM;
    case ORIGO_EPCIS_AGGREGATION:
        return info->action != ORIGO_EPCIS_DELETE &&
                       has_lots(event, ORIGO_LOT_PARENT)
                   ? TRACE_EPCIS_AGGREGATE
                   : TRACE_EPCIS_NOTHING;
    case ORIGO_EPCIS_OBJECT:
        if (!has_lots(event, ORIGO_LOT_SUBJECT) ||
            info->action == ORIGO_EPCIS_DELETE) {
            return TRACE_EPCIS_NOTHING;
        }
        if (info->action == ORIGO_EPCIS_ADD &&
            biz_step_is(info, "commissioning")) {
            return TRACE_EPCIS_COMMISSION;
        }
        if (biz_step_is(info, "shipping")) {
            return TRACE_EPCIS_SHIP;
        }
        if (biz_step_is(info, "receiving")) {
            return TRACE_EPCIS_RECEIVE;
        }
        if (origo_cbv_is(info->disposition, ORIGO_CBV_DISPOSITION,
                         "recalled")) {
            return TRACE_EPCIS_RECALL;
        }
        return TRACE_EPCIS_NOTHING;
    default:
        return TRACE_EPCIS_NOTHING;
    }
}

static int kind_of(int type)
{
    switch (type) {
    case ORIGO_EV_CUSTODY_SHIP:
        return TRACE_CUSTODY_SHIP;
    case ORIGO_EV_CUSTODY_RECEIVE:
        return TRACE_CUSTODY_RECEIVE;
    case ORIGO_EV_QUALITY_HOLD:
        return TRACE_HOLD;
    case ORIGO_EV_QUALITY_RELEASE:
        return TRACE_RELEASE;
    case ORIGO_EV_QUALITY_RECALL:
        return TRACE_RECALL;
    default:
        return 0;
    }
}

static void add_doc(struct trace_facts *facts, const uint8_t hash[32])
{
    memcpy(facts->docs[facts->doc_count++], hash, 32);
}

int trace_facts_from_event(const origo_event *event, struct trace_facts *out)
{
    struct trace_facts *facts = out;
    facts->type = event->type;
    memcpy(facts->by, event->by, 32);
    facts->lot_count = 0;
    facts->edge_count = 0;
    facts->subject_count = 0;
    facts->doc_count = 0;
    facts->kind = kind_of(event->type);
    facts->from = (struct trace_text){event->from.ptr, event->from.len};
    facts->to = (struct trace_text){event->to.ptr, event->to.len};
    if (event->type == ORIGO_EV_EPCIS) {
        /* EPCIS custody and recalls: the parties are the event's own
         * source and destination identifiers. */
        static const int kinds[] = {
            [TRACE_EPCIS_SHIP] = TRACE_CUSTODY_SHIP,
            [TRACE_EPCIS_RECEIVE] = TRACE_CUSTODY_RECEIVE,
            [TRACE_EPCIS_RECALL] = TRACE_RECALL,
        };
        enum trace_epcis_meaning meaning = trace_facts_epcis_meaning(event);
        facts->kind = meaning >= TRACE_EPCIS_SHIP ? kinds[meaning] : 0;
        facts->from = (struct trace_text){event->epcis_info.source_party.ptr,
                                          event->epcis_info.source_party.len};
        facts->to =
            (struct trace_text){event->epcis_info.destination_party.ptr,
                                event->epcis_info.destination_party.len};
    }

    for (size_t i = 0; i < event->n_lots; i++) {
        int lot =
            facts_lot(facts, event->lots[i].lot.ptr, event->lots[i].lot.len);
        if (lot < 0) {
            return ORIGO_E_LOT;
        }
        if (facts->kind != 0 && event->lots[i].role == ORIGO_LOT_SUBJECT) {
            facts->subjects[facts->subject_count++] = (uint16_t)lot;
        }
    }
    int rc = genealogy_edges(facts, event);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < event->n_docs && i < ORIGO_EVENT_MAX_DOCS; i++) {
        add_doc(facts, event->docs[i]);
    }
    if (event->type == ORIGO_EV_INSPECTION) {
        add_doc(facts, event->report);
    }
    if (event->type == ORIGO_EV_COA_ATTEST) {
        add_doc(facts, event->coa);
    }
    return 0;
}

int trace_facts_from_envelope(const uint8_t *data, size_t len, const char *net,
                              size_t net_len, struct trace_facts *out,
                              uint8_t id[32])
{
    origo_event *event = malloc(sizeof(*event));
    if (event == NULL) {
        return ORIGO_E_NOMEM;
    }
    int rc = origo_envelope_verify(data, len, net, net_len, event, id);
    if (rc == 0) {
        rc = trace_facts_from_event(event, out);
    }
    free(event);
    return rc;
}

/* ---- cycles of an answer graph ---------------------------------------- */

int trace_facts_back_edges(size_t lot_count, size_t edge_count,
                           trace_edge_ends_fn ends, const void *ctx,
                           uint32_t **out, size_t *count)
{
    const size_t lots = lot_count, edges = edge_count;
    size_t *start = calloc(lots + 1, sizeof(*start));
    size_t *cursor = malloc((lots ? lots : 1) * sizeof(*cursor));
    uint32_t *adj = malloc((edges ? edges : 1) * sizeof(*adj));
    uint8_t *color = calloc(lots ? lots : 1, 1);
    uint32_t *stack = malloc((lots ? lots : 1) * sizeof(*stack));
    uint32_t *found = malloc((edges ? edges : 1) * sizeof(*found));
    size_t found_count = 0, top = 0;
    uint32_t source, target;
    int rc = ORIGO_E_NOMEM;
    if (!start || !cursor || !adj || !color || !stack || !found) {
        goto out_free;
    }
    /* Compressed adjacency: each lot's outgoing edges, in edge order. */
    for (size_t e = 0; e < edges; e++) {
        ends(ctx, e, &source, &target);
        start[source + 1]++;
    }
    for (size_t l = 0; l < lots; l++) {
        start[l + 1] += start[l];
        cursor[l] = start[l];
    }
    for (size_t e = 0; e < edges; e++) {
        ends(ctx, e, &source, &target);
        adj[cursor[source]++] = (uint32_t)e;
    }
    for (size_t l = 0; l < lots; l++) {
        cursor[l] = start[l];
    }
    if (lots > 0) {
        stack[top++] = 0; /* the start lot */
        color[0] = 1;
    }
    /* color: 0 not yet seen, 1 on the search path, 2 done. */
    while (top > 0) {
        uint32_t lot = stack[top - 1];
        if (cursor[lot] == start[lot + 1]) {
            color[lot] = 2;
            top--;
            continue;
        }
        uint32_t e = adj[cursor[lot]++];
        ends(ctx, e, &source, &target);
        if (color[target] == 1) {
            found[found_count++] = e;
        } else if (color[target] == 0) {
            color[target] = 1;
            stack[top++] = target;
        }
    }
    if (found_count == 0) {
        free(found);
        found = NULL;
    }
    *out = found;
    *count = found_count;
    found = NULL;
    rc = 0;
out_free:
    free(found);
    free(stack);
    free(color);
    free(adj);
    free(cursor);
    free(start);
    return rc;
}
