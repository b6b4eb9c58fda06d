/* Builds trace reports (docs/formats/trace-report.md): the answer of one
 * trace query as of the latest quorum-signed checkpoint, with every event
 * behind it, its envelope and inclusion proof, so that a single JSON file
 * proves the whole answer offline. Everything is read in one LMDB read
 * transaction, so the answer, the proofs and the checkpoint agree. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <origo/error.h>
#include <sodium.h>

#define PROOF_MAX 65

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
{
    if (errmsg == NULL || size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, size, fmt, ap);
    va_end(ap);
}

const char *report_kind_name(int kind)
{
    switch (kind) {
    case TRACE_CUSTODY_SHIP:
        return "ship";
    case TRACE_CUSTODY_RECEIVE:
        return "receive";
    case TRACE_HOLD:
        return "hold";
    case TRACE_RELEASE:
        return "release";
    case TRACE_RECALL:
        return "recall";
    default:
        return NULL;
    }
}

/* Sets obj[key] = value, taking the reference; returns -1 on failure. */
static int put(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

static int append(json_t *array, json_t *value)
{
    return json_array_append_new(array, value);
}

static json_t *base64_string(const uint8_t *bytes, size_t len)
{
    size_t size =
        sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(size);
    if (text == NULL) {
        return NULL;
    }
    sodium_bin2base64(text, size, bytes, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *value = json_string(text);
    free(text);
    return value;
}

static json_t *query_json(const struct report_request *request)
{
    json_t *query = json_object();
    if (query == NULL ||
        put(query, "lot", json_stringn(request->lot, request->lot_len)) ||
        put(query, "direction",
            json_string(request->direction == TRACE_BACKWARD ? "backward"
                                                             : "forward")) ||
        put(query, "max_depth",
            request->max_depth == TRACE_DEPTH_ANY
                ? json_null()
                : json_integer(request->max_depth)) ||
        put(query, "recall",
            json_boolean(request->flags & TRACE_WITH_RECALL)) ||
        put(query, "lot_events",
            json_boolean(request->flags & TRACE_WITH_LOT_EVENTS))) {
        json_decref(query);
        return NULL;
    }
    return query;
}

static json_t *custody_json(const struct trace_lot *lot)
{
    json_t *custody = json_object();
    if (custody == NULL ||
        put(custody, "leaf", json_integer((json_int_t)lot->custody_leaf)) ||
        put(custody, "kind",
            json_string(report_kind_name(lot->custody_kind))) ||
        put(custody, "from", json_string(lot->custody_from)) ||
        put(custody, "to", json_string(lot->custodian))) {
        json_decref(custody);
        return NULL;
    }
    return custody;
}

static json_t *holds_json(const struct trace_result *res,
                          const struct trace_lot *lot)
{
    json_t *holds = json_array();
    for (size_t h = 0; holds != NULL && h < lot->hold_count; h++) {
        const struct trace_hold *hold = &res->holds[lot->hold_first + h];
        json_t *item = json_object();
        if (item == NULL || append(holds, item) ||
            put(item, "leaf", json_integer((json_int_t)hold->leaf_index)) ||
            put(item, "kind", json_string(report_kind_name(hold->kind)))) {
            json_decref(holds);
            return NULL;
        }
    }
    return holds;
}

static json_t *lots_json(const struct trace_result *res, int recall)
{
    json_t *lots = json_array();
    for (size_t i = 0; lots != NULL && i < res->lot_count; i++) {
        const struct trace_lot *lot = &res->lots[i];
        json_t *item = json_object();
        if (item == NULL || append(lots, item) ||
            put(item, "lot", json_stringn(lot->lot, lot->len)) ||
            put(item, "depth", json_integer(lot->depth)) ||
            (recall && lot->has_custody &&
             put(item, "custody", custody_json(lot))) ||
            (recall && put(item, "holds", holds_json(res, lot)))) {
            json_decref(lots);
            return NULL;
        }
    }
    return lots;
}

static json_t *edges_json(const struct trace_result *res)
{
    json_t *edges = json_array();
    for (size_t i = 0; edges != NULL && i < res->edge_count; i++) {
        const struct trace_edge *edge = &res->edges[i];
        const struct trace_lot *from = &res->lots[edge->from];
        const struct trace_lot *to = &res->lots[edge->to];
        json_t *item = json_object();
        if (item == NULL || append(edges, item) ||
            put(item, "from", json_stringn(from->lot, from->len)) ||
            put(item, "to", json_stringn(to->lot, to->len)) ||
            put(item, "leaf", json_integer((json_int_t)edge->leaf_index))) {
            json_decref(edges);
            return NULL;
        }
    }
    return edges;
}

static json_t *cycles_json(const struct trace_result *res)
{
    json_t *cycles = json_array();
    for (size_t i = 0; cycles != NULL && i < res->cycle_edge_count; i++) {
        if (append(cycles, json_integer(res->cycle_edges[i]))) {
            json_decref(cycles);
            return NULL;
        }
    }
    return cycles;
}

/* One event entry: leaf, base64 envelope, base64 proof hashes. */
static int event_json(ledger *led, MDB_txn *txn, uint64_t leaf,
                      uint64_t tree_size, json_t **out, char *errmsg,
                      size_t errmsg_size)
{
    const uint8_t *data;
    size_t len, proof_len;
    uint8_t proof[PROOF_MAX][LEDGER_HASH_LEN];
    int rc = ledger_event_at(led, txn, leaf, &data, &len);
    if (rc == 0) {
        rc = ledger_inclusion_proof(led, txn, leaf, tree_size, proof, PROOF_MAX,
                                    &proof_len);
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "leaf %llu: %s", (unsigned long long)leaf,
                origo_strerror(rc));
        return rc;
    }
    json_t *item = json_object();
    json_t *hashes = json_array();
    if (item == NULL || hashes == NULL ||
        put(item, "leaf", json_integer((json_int_t)leaf)) ||
        put(item, "envelope", base64_string(data, len)) ||
        put(item, "proof", hashes)) {
        json_decref(item);
        return ORIGO_E_NOMEM;
    }
    for (size_t i = 0; i < proof_len; i++) {
        if (append(hashes, base64_string(proof[i], LEDGER_HASH_LEN))) {
            json_decref(item);
            return ORIGO_E_NOMEM;
        }
    }
    *out = item;
    return 0;
}

static int events_json(ledger *led, MDB_txn *txn,
                       const struct trace_result *res, json_t *root,
                       char *errmsg, size_t errmsg_size)
{
    json_t *events = json_array();
    if (events == NULL || put(root, "events", events)) {
        return ORIGO_E_NOMEM;
    }
    for (size_t i = 0; i < res->event_count; i++) {
        json_t *item;
        int rc = event_json(led, txn, res->events[i], res->tree_size, &item,
                            errmsg, errmsg_size);
        if (rc != 0) {
            return rc;
        }
        if (append(events, item)) {
            return ORIGO_E_NOMEM;
        }
    }
    return 0;
}

static int answer_json(ledger *led, MDB_txn *txn,
                       const struct report_request *request,
                       const struct trace_result *res, const char *note,
                       json_t **out, char *errmsg, size_t errmsg_size)
{
    const int recall = (request->flags & TRACE_WITH_RECALL) != 0;
    json_t *root = json_object();
    if (root == NULL || put(root, "format", json_string(REPORT_FORMAT)) ||
        put(root, "origin", json_string(ledger_origin(led))) ||
        put(root, "query", query_json(request)) ||
        put(root, "tree_size", json_integer((json_int_t)res->tree_size)) ||
        put(root, "checkpoint", json_string(note)) ||
        put(root, "lots", lots_json(res, recall)) ||
        put(root, "edges", edges_json(res)) ||
        put(root, "cycle", json_boolean(res->cycle_edge_count > 0)) ||
        put(root, "cycle_edges", cycles_json(res)) ||
        put(root, "depth_limited", json_boolean(res->depth_limited))) {
        json_decref(root);
        set_msg(errmsg, errmsg_size, "building the report: out of memory");
        return ORIGO_E_NOMEM;
    }
    int rc = events_json(led, txn, res, root, errmsg, errmsg_size);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* Reads the latest quorum-signed checkpoint and checks the requested size
 * against it. */
static int checkpoint_for(ledger *led, MDB_txn *txn,
                          const struct report_request *request, char **note,
                          uint64_t *tree_size, char *errmsg, size_t errmsg_size)
{
    size_t note_len;
    int rc = ledger_checkpoint_latest(led, txn, note, &note_len, tree_size);
    if (rc == ORIGO_E_NOTFOUND) {
        set_msg(errmsg, errmsg_size,
                "no quorum-signed checkpoint in the ledger yet: a report "
                "needs one to prove its events against");
        return rc;
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "reading the latest checkpoint: %s",
                origo_strerror(rc));
        return rc;
    }
    if (request->tree_size != 0 && request->tree_size != *tree_size) {
        set_msg(errmsg, errmsg_size,
                "tree size %llu: the latest quorum-signed checkpoint is at "
                "%llu, and reports can only be built against it",
                (unsigned long long)request->tree_size,
                (unsigned long long)*tree_size);
        free(*note);
        return ORIGO_E_TREE_SIZE;
    }
    return 0;
}

static int run_query(MDB_txn *txn, const struct report_request *request,
                     uint64_t tree_size, struct trace_result *res, char *errmsg,
                     size_t errmsg_size)
{
    struct trace_tables tables;
    struct trace_query query = {
        .lot = request->lot,
        .lot_len = request->lot_len,
        .direction = request->direction,
        .max_depth = request->max_depth,
        .tree_size = tree_size,
        .flags = request->flags,
        .max_lots = request->max_lots,
    };
    int rc = trace_open(txn, &tables);
    if (rc == 0) {
        rc = trace_query_run(txn, &tables, &query, res);
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "trace of lot '%.*s': %s",
                (int)(request->lot_len > 200 ? 200 : request->lot_len),
                request->lot, origo_strerror(rc));
    }
    return rc;
}

int report_build(ledger *led, const struct report_request *request, char **json,
                 size_t *json_len, struct trace_result *result, char *errmsg,
                 size_t errmsg_size)
{
    MDB_txn *txn;
    char *note = NULL;
    uint64_t tree_size;
    struct trace_result res;
    json_t *root;
    int rc = ledger_txn_begin(led, 1, &txn);
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "cannot begin a read transaction: %s",
                origo_strerror(rc));
        return rc;
    }
    rc = checkpoint_for(led, txn, request, &note, &tree_size, errmsg,
                        errmsg_size);
    if (rc != 0) {
        goto out_txn;
    }
    rc = run_query(txn, request, tree_size, &res, errmsg, errmsg_size);
    if (rc != 0) {
        goto out_note;
    }
    rc = answer_json(led, txn, request, &res, note, &root, errmsg, errmsg_size);
    if (rc != 0) {
        goto out_result;
    }
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL) {
        rc = ORIGO_E_NOMEM;
        goto out_result;
    }
    *json = text;
    *json_len = strlen(text);
    if (result != NULL) {
        *result = res;
        memset(&res, 0, sizeof(res));
    }
out_result:
    trace_result_close(&res);
out_note:
    free(note);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}
