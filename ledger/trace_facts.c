/* Derives, from one decoded event, everything trace cares about: the lots
 * it names, the genealogy edges it implies (transform inputs into outputs,
 * EPCIS transformation and aggregation), and its custody or quality record.
 * Kept apart from the LMDB indexer so that the offline report verifier
 * recomputes edges, and the answer's cycle edges, with exactly the code
 * that built them. */
#include "trace_facts.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
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

/* Every INPUT lot went into every OUTPUT lot (lot.transform, and EPCIS
 * TransformationEvent whose lists the SDK maps to the same roles). */
static int transform_edges(struct trace_facts *facts, const origo_event *event)
{
    for (size_t i = 0; i < event->n_lots; i++) {
        const origo_lot_ref *in = &event->lots[i];
        if (in->role != ORIGO_LOT_INPUT) {
            continue;
        }
        int from = find_lot(facts, in->lot.ptr, in->lot.len);
        for (size_t o = 0; o < event->n_lots; o++) {
            const origo_lot_ref *out = &event->lots[o];
            if (out->role != ORIGO_LOT_OUTPUT) {
                continue;
            }
            int rc = add_edge(facts, from,
                              find_lot(facts, out->lot.ptr, out->lot.len));
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* The lot index of a JSON string naming one of the event's lots, else -1:
 * the lot itself, or (as the SDK reads EPCs) a serialised Digital Link
 * "<lot>/21/<serial>" of it. */
static int json_lot(const struct trace_facts *facts, const json_t *value)
{
    if (!json_is_string(value)) {
        return -1;
    }
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    int exact = find_lot(facts, text, len);
    if (exact >= 0) {
        return exact;
    }
    for (size_t i = 0; i < facts->lot_count; i++) {
        const struct trace_text *lot = &facts->lots[i];
        if (len > lot->len + 4 && memcmp(text, lot->ptr, lot->len) == 0 &&
            memcmp(text + lot->len, "/21/", 4) == 0 &&
            memchr(text + lot->len + 4, '/', len - lot->len - 4) == NULL) {
            return (int)i;
        }
    }
    return -1;
}

/* Parses the EPCIS text of a decoded event. Decoding checked that the text
 * is exactly jansson's dump of its own parse, so a parse that fails, or
 * that does not dump back to the text, can only be jansson running out of
 * memory (jansson 2.14 may also drop bytes of a long token silently when
 * an allocation fails): ORIGO_E_NOMEM, never "no edges", so that the
 * ledger aborts the block instead of indexing fewer edges than its peers. */
static int load_epcis(const origo_event *event, json_t **out)
{
    json_error_t jerr;
    json_t *root = json_loadb(event->epcis.ptr, event->epcis.len, 0, &jerr);
    if (root == NULL) {
        return ORIGO_E_NOMEM;
    }
    char *dump = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    int same = dump != NULL && strlen(dump) == event->epcis.len &&
               memcmp(dump, event->epcis.ptr, event->epcis.len) == 0;
    free(dump);
    if (!same) {
        json_decref(root);
        return ORIGO_E_NOMEM;
    }
    *out = root;
    return 0;
}

/* Edges child -> parent for each child of a JSON list that names one of
 * the event's lots (`key` NULL: the items are EPCs; else the items are
 * objects whose `key` member is one). */
static int child_edges(struct trace_facts *facts, const json_t *list,
                       const char *key, int parent)
{
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        int child = json_lot(facts, key ? json_object_get(item, key) : item);
        if (child >= 0) {
            int rc = add_edge(facts, child, parent);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* An EPCIS AggregationEvent with action ADD or OBSERVE puts each child
 * (childEPCs, childQuantityList[].epcClass) into the parent (parentID):
 * edges child -> parent. DELETE (disaggregation) states no genealogy. */
static int aggregation_edges(struct trace_facts *facts,
                             const origo_event *event)
{
    json_t *root;
    int rc = load_epcis(event, &root);
    if (rc != 0) {
        return rc;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    const char *action = json_string_value(json_object_get(root, "action"));
    int parent = json_lot(facts, json_object_get(root, "parentID"));
    if (type != NULL && strcmp(type, "AggregationEvent") == 0 &&
        action != NULL && strcmp(action, "DELETE") != 0 && parent >= 0) {
        rc = child_edges(facts, json_object_get(root, "childEPCs"), NULL,
                         parent);
        if (rc == 0) {
            rc = child_edges(facts, json_object_get(root, "childQuantityList"),
                             "epcClass", parent);
        }
    }
    json_decref(root);
    return rc;
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
    int rc = 0;
    if (event->type == ORIGO_EV_LOT_TRANSFORM ||
        event->type == ORIGO_EV_EPCIS) {
        rc = transform_edges(facts, event);
    }
    if (rc == 0 && event->type == ORIGO_EV_EPCIS) {
        rc = aggregation_edges(facts, event);
    }
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
