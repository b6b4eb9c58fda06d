/* EPCIS events and genealogy: the edge table of docs/formats/trace-report.md
 * ("Trace semantics") walked row by row through a real ledger's indexer,
 * the texts that decoding refuses rejected at apply, and trace reports
 * that claim edges the events do not state refused by the verifier with a
 * message naming the edge. Each case is one a dishonest member tried: an
 * event that every EPCIS tool reads as an observation or a disaggregation
 * must never pull a lot into another lot's genealogy or recall scope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "ledgertest.h"
#include "origo/error.h"
#include "origo/merkle.h"
#include "report.h"
#include "report_verify.h"
#include "trace.h"

#define TIME "\"eventTime\":\"2023-11-14T22:13:21Z\"" /* LT_T0 + 1 s */
#define DL                                                                     \
    "https://id.example.com/01/04012345000016/10/" /* acme: gs1:4012345 */

/* One row of the table: an event text and the edges it must state, as
 * "from>to" pairs. */
struct row {
    const char *name;
    const char *text;
    const char *start;       /* lot whose backward trace shows the edges */
    const char *edges[4];    /* expected edges into `start`, any order */
    const char *not_edge[2]; /* lots that must not be in the answer */
};

static const struct row table[] = {
    {"TransformationEvent: every input -> every output",
     "{" TIME ",\"inputEPCList\":[\"acme/in/1\"],\"inputQuantityList\":[{"
     "\"epcClass\":\"acme/in/2\",\"quantity\":0.1}],\"outputEPCList\":["
     "\"acme/out/1\"],\"type\":\"TransformationEvent\"}",
     "acme/out/1",
     {"acme/in/1>acme/out/1", "acme/in/2>acme/out/1"},
     {NULL}},
    {"AggregationEvent ADD: each child -> parent (a serial names its lot)",
     "{\"action\":\"ADD\",\"childEPCs\":[\"" DL "L1/21/S1\",\"acme/case/1\"],"
     "\"childQuantityList\":[{\"epcClass\":\"acme/case/2\",\"quantity\":"
     "12.50000000000000000001}]," TIME ",\"parentID\":\"acme/pal/1\",\"type\":"
     "\"AggregationEvent\"}",
     "acme/pal/1",
     {DL "L1>acme/pal/1", "acme/case/1>acme/pal/1", "acme/case/2>acme/pal/1"},
     {NULL}},
    {"AggregationEvent OBSERVE: each child -> parent",
     "{\"action\":\"OBSERVE\",\"childEPCs\":[\"acme/case/7\"]," TIME
     ",\"parentID\":\"acme/pal/7\",\"type\":\"AggregationEvent\"}",
     "acme/pal/7",
     {"acme/case/7>acme/pal/7"},
     {NULL}},
    {"AggregationEvent DELETE: no edge",
     "{\"action\":\"DELETE\",\"childEPCs\":[\"acme/case/3\"]," TIME
     ",\"parentID\":\"acme/pal/2\",\"type\":\"AggregationEvent\"}",
     "acme/pal/2",
     {NULL},
     {"acme/case/3"}},
    {"AggregationEvent ADD, a party-form lot with /21/: names no lot",
     "{\"action\":\"ADD\",\"childEPCs\":[\"acme/x/C2/21/7\"]," TIME
     ",\"parentID\":\"acme/pal/3\",\"type\":\"AggregationEvent\"}",
     "acme/pal/3",
     {NULL},
     {"acme/x/C2"}},
    {"AssociationEvent ADD: no edge",
     "{\"action\":\"ADD\",\"childEPCs\":[\"acme/case/4\"]," TIME
     ",\"parentID\":\"acme/pal/4\",\"type\":\"AssociationEvent\"}",
     "acme/pal/4",
     {NULL},
     {"acme/case/4"}},
    {"TransactionEvent ADD with parentID and epcList: no edge",
     "{\"action\":\"ADD\",\"bizTransactionList\":[{\"bizTransaction\":"
     "\"urn:epcglobal:cbv:bt:0614141073467:1152\",\"type\":\"po\"}],"
     "\"epcList\":[\"acme/case/5\"]," TIME ",\"parentID\":\"acme/pal/5\","
     "\"type\":\"TransactionEvent\"}",
     "acme/pal/5",
     {NULL},
     {"acme/case/5"}},
    {"ObjectEvent ADD: no edge",
     "{\"action\":\"ADD\",\"epcList\":[\"acme/case/6\",\"acme/pal/6\"]," TIME
     ",\"type\":\"ObjectEvent\"}",
     "acme/pal/6",
     {NULL},
     {"acme/case/6"}},
};
#define ROWS (sizeof(table) / sizeof(table[0]))

/* Texts refused at decode, hence at apply, by every validator. */
static const struct {
    const char *name, *text;
} refused[] = {
    {"ObjectEvent with inputEPCList/outputEPCList",
     "{\"action\":\"ADD\"," TIME ",\"inputEPCList\":[\"acme/r/1\"],"
     "\"outputEPCList\":[\"acme/r/2\"],\"type\":\"ObjectEvent\"}"},
    {"TransactionEvent with inputEPCList/outputEPCList",
     "{\"action\":\"ADD\"," TIME ",\"inputEPCList\":[\"acme/r/3\"],"
     "\"outputEPCList\":[\"acme/r/4\"],\"type\":\"TransactionEvent\"}"},
    {"AggregationEvent with action \"delete\" (EPCIS is case-sensitive)",
     "{\"action\":\"delete\",\"childEPCs\":[\"acme/r/5\"]," TIME
     ",\"parentID\":\"acme/r/6\",\"type\":\"AggregationEvent\"}"},
    {"AggregationEvent without action",
     "{\"childEPCs\":[\"acme/r/5\"]," TIME ",\"parentID\":\"acme/r/6\","
     "\"type\":\"AggregationEvent\"}"},
    {"TransformationEvent with an action",
     "{\"action\":\"ADD\"," TIME ",\"inputEPCList\":[\"acme/r/7\"],"
     "\"outputEPCList\":[\"acme/r/8\"],\"type\":\"TransformationEvent\"}"},
    {"ObjectEvent with childEPCs",
     "{\"action\":\"ADD\",\"childEPCs\":[\"acme/r/9\"]," TIME
     ",\"epcList\":[\"acme/r/10\"],\"type\":\"ObjectEvent\"}"},
    {"AggregationEvent of a lot into itself",
     "{\"action\":\"ADD\",\"childEPCs\":[\"" DL "L9/21/1\"]," TIME
     ",\"parentID\":\"" DL "L9/21/2\",\"type\":\"AggregationEvent\"}"},
    {"a number with an exponent (canonical JSON writes 0.1)",
     "{\"action\":\"ADD\",\"epcList\":[\"acme/r/11\"]," TIME
     ",\"quantity\":1e-1,\"type\":\"ObjectEvent\"}"},
    {"an eventTime without a time zone",
     "{\"action\":\"ADD\",\"epcList\":[\"acme/r/12\"],\"eventTime\":"
     "\"2023-11-14T22:13:20\",\"type\":\"ObjectEvent\"}"},
};
#define REFUSED (sizeof(refused) / sizeof(refused[0]))

struct fixture {
    lt_fixture *f;
    uint64_t leaf[ROWS];
};

/* Lots the rows act on as their holder: acme creates them first (rule
 * version 1: an edge needs lots that exist, held by the signer). */
static const char *const held[] = {
    "acme/in/1",  "acme/in/2",   DL "L1",      "acme/case/1", "acme/case/2",
    "acme/pal/1", "acme/case/7", "acme/pal/7", "acme/pal/3",
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = lt_fixture_new(LT_WINDOW);
    lt_fixture *f = fx->f;
    f->time = LT_T0;
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
        lt_lot_create(&f->block, &f->net, LT_SUPPLIER, held[i], f->time, NULL);
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
        assert_int_equal(f->out[i].status, 0);
    lt_block_clear(&f->block);
    f->time += 1000;
    for (size_t r = 0; r < ROWS; r++)
        lt_epcis(&f->block, &f->net, LT_SUPPLIER, table[r].text, f->time, NULL);
    for (size_t r = 0; r < REFUSED; r++)
        lt_epcis_unchecked(&f->block, &f->net, LT_SUPPLIER, refused[r].text,
                           f->time);
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    for (size_t r = 0; r < ROWS; r++) {
        if (f->out[r].status != 0)
            fail_msg("%s: rejected with %s", table[r].name,
                     origo_strerror(f->out[r].status));
        fx->leaf[r] = f->out[r].leaf_index;
    }
    lt_block_clear(&f->block);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    lt_fixture_free(fx->f);
    free(fx);
    return 0;
}

static void backward(ledger *led, const char *lot, struct trace_result *res)
{
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_query query = {
        .lot = lot,
        .lot_len = strlen(lot),
        .direction = TRACE_BACKWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
    };
    assert_int_equal(ledger_txn_begin(led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, res), 0);
    mdb_txn_abort(txn);
}

static int has_edge(const struct trace_result *res, const char *edge,
                    uint64_t leaf)
{
    const char *gt = strchr(edge, '>');
    size_t from_len = (size_t)(gt - edge);
    for (size_t e = 0; e < res->edge_count; e++) {
        const struct trace_lot *from = &res->lots[res->edges[e].from];
        const struct trace_lot *to = &res->lots[res->edges[e].to];
        if (from->len == from_len && memcmp(from->lot, edge, from_len) == 0 &&
            strcmp(to->lot, gt + 1) == 0 && res->edges[e].leaf_index == leaf)
            return 1;
    }
    return 0;
}

static int has_lot(const struct trace_result *res, const char *lot)
{
    for (size_t l = 0; l < res->lot_count; l++) {
        if (strcmp(res->lots[l].lot, lot) == 0)
            return 1;
    }
    return 0;
}

/* Every row of the spec's edge table, through the indexer: exactly the
 * listed edges, from that event, and no lot the row says is unrelated. */
static void test_edge_table_rows_through_the_indexer(void **state)
{
    struct fixture *fx = *state;
    for (size_t r = 0; r < ROWS; r++) {
        struct trace_result res;
        size_t expected = 0;
        backward(fx->f->led, table[r].start, &res);
        for (; expected < 4 && table[r].edges[expected]; expected++) {
            if (!has_edge(&res, table[r].edges[expected], fx->leaf[r]))
                fail_msg("%s: edge %s missing", table[r].name,
                         table[r].edges[expected]);
        }
        if (res.edge_count != expected)
            fail_msg("%s: %zu edges, expected %zu", table[r].name,
                     res.edge_count, expected);
        for (size_t n = 0; n < 2 && table[r].not_edge[n]; n++) {
            if (has_lot(&res, table[r].not_edge[n]))
                fail_msg("%s: %s is in the genealogy", table[r].name,
                         table[r].not_edge[n]);
        }
        trace_result_close(&res);
    }
}

/* Every refused text is rejected at apply, as a schema error, and leaves
 * no trace: none of its lots is indexed. */
static void test_refused_texts_are_rejected_at_apply(void **state)
{
    struct fixture *fx = *state;
    for (size_t r = 0; r < REFUSED; r++) {
        int status = fx->f->out[ROWS + r].status;
        if (status != ORIGO_E_SCHEMA)
            fail_msg("%s: %s, expected ORIGO_E_SCHEMA", refused[r].name,
                     status ? origo_strerror(status) : "accepted");
    }
    struct trace_result res;
    backward(fx->f->led, "acme/r/2", &res);
    assert_int_equal(res.edge_count, 0);
    trace_result_close(&res);
    backward(fx->f->led, "acme/r/6", &res);
    assert_int_equal(res.edge_count, 0);
    trace_result_close(&res);
}

/* ---- reports ------------------------------------------------------------ */

static void sign_latest(lt_fixture *f)
{
    ledger_state st;
    char *body, line[400];
    size_t body_len;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(
        ledger_checkpoint_body(f->led, NULL, st.tree_size, &body, &body_len),
        0);
    for (int v = 0; v < 2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_checkpoint_add_signature(
                             f->led, NULL, st.tree_size, line, strlen(line)),
                         0);
    }
    free(body);
}

static int verify(const lt_fixture *f, json_t *report, char *err,
                  size_t err_len)
{
    origo_vkey keys[LT_VALIDATORS];
    lt_validator_vkeys(&f->net, keys);
    origo_note_policy policy = {.signers = keys, .signer_count = LT_VALIDATORS};
    char *text = json_dumps(report, JSON_COMPACT);
    struct report_verdict verdict;
    int rc = report_verify((const uint8_t *)text, strlen(text), &policy,
                           &verdict, err, err_len);
    free(text);
    return rc;
}

static json_t *honest_report(lt_fixture *f, const char *lot)
{
    struct report_request request = {
        .lot = lot,
        .lot_len = strlen(lot),
        .direction = TRACE_BACKWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .flags = TRACE_WITH_LOT_EVENTS,
    };
    char *json, errmsg[256];
    size_t len;
    assert_int_equal(
        report_build(f->led, &request, &json, &len, NULL, errmsg, 256), 0);
    json_t *root = json_loads(json, 0, NULL);
    free(json);
    assert_non_null(root);
    return root;
}

/* A report of a row that states no edge verifies as built; the same report
 * claiming the edge child -> parent (what the old indexer derived) is
 * refused, and the message names that edge. */
static void test_reports_claiming_unstated_edges_fail(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        size_t row;
        const char *child, *parent;
    } claims[] = {
        {3, "acme/case/3", "acme/pal/2"}, /* DELETE */
        {5, "acme/case/4", "acme/pal/4"}, /* Association */
        {6, "acme/case/5", "acme/pal/5"}, /* Transaction */
        {7, "acme/case/6", "acme/pal/6"}, /* Object */
        {4, "acme/x/C2", "acme/pal/3"},   /* a party-form lot with /21/ */
    };
    sign_latest(fx->f);
    for (size_t c = 0; c < sizeof(claims) / sizeof(claims[0]); c++) {
        char err[512] = "";
        json_t *report = honest_report(fx->f, claims[c].parent);
        int rc = verify(fx->f, report, err, sizeof(err));
        if (rc != 0)
            fail_msg("honest report of %s: %s", claims[c].parent, err);
        json_array_append_new(json_object_get(report, "edges"),
                              json_pack("{s:s,s:s,s:I}", "from",
                                        claims[c].child, "to", claims[c].parent,
                                        "leaf",
                                        (json_int_t)fx->leaf[claims[c].row]));
        json_array_append_new(
            json_object_get(report, "lots"),
            json_pack("{s:s,s:i}", "lot", claims[c].child, "depth", 1));
        rc = verify(fx->f, report, err, sizeof(err));
        assert_int_equal(rc, ORIGO_E_REPORT_CLAIM);
        if (!strstr(err, claims[c].child) || !strstr(err, claims[c].parent) ||
            !strstr(err, "edges["))
            fail_msg("%s -> %s: message does not name the edge: %s",
                     claims[c].child, claims[c].parent, err);
        json_decref(report);
    }
}

/* A report built, as a dishonest member could, on an event the ledger
 * refuses (an ObjectEvent with inputEPCList/outputEPCList): a one-leaf
 * tree cosigned by a quorum, proving that event, claiming the edge it
 * would have stated. The verifier decodes the event with the same rules
 * and refuses the report. */
static void test_report_on_a_refused_event_fails(void **state)
{
    struct fixture *fx = *state;
    lt_fixture *f = fx->f;
    lt_block forged = {0};
    lt_epcis_unchecked(&forged, &f->net, LT_PLANT, refused[0].text, LT_T0);
    const ledger_envelope *env = &forged.envs[0];
    uint8_t leaf_hash[32];
    origo_merkle_leaf_hash(env->data, env->len, leaf_hash);
    char root_b64[64], body[256], note[1024], line[400];
    sodium_bin2base64(root_b64, sizeof(root_b64), leaf_hash, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    int body_len =
        snprintf(body, sizeof(body), "%s\n1\n%s\n", LT_NET, root_b64);
    size_t note_len = (size_t)snprintf(note, sizeof(note), "%s\n", body);
    for (int v = 0; v < 2; v++) {
        lt_sign_checkpoint(&f->net, v, body, (size_t)body_len, line,
                           sizeof(line));
        note_len += (size_t)snprintf(note + note_len, sizeof(note) - note_len,
                                     "%s", line);
    }
    char *env_b64 = malloc(
        sodium_base64_ENCODED_LEN(env->len, sodium_base64_VARIANT_ORIGINAL));
    sodium_bin2base64(
        env_b64,
        sodium_base64_ENCODED_LEN(env->len, sodium_base64_VARIANT_ORIGINAL),
        env->data, env->len, sodium_base64_VARIANT_ORIGINAL);
    json_t *report = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:n,s:b,s:b},s:i,s:s,s:[{s:s,s:i},{s:s,s:i}],"
        "s:[{s:s,s:s,s:i}],s:b,s:[],s:b,s:[{s:i,s:s,s:[]}]}",
        "format", "origo-trace-report/v1", "origin", LT_NET, "query", "lot",
        "acme/r/2", "direction", "backward", "max_depth", "recall", 0,
        "lot_events", 0, "tree_size", 1, "checkpoint", note, "lots", "lot",
        "acme/r/2", "depth", 0, "lot", "acme/r/1", "depth", 1, "edges", "from",
        "acme/r/1", "to", "acme/r/2", "leaf", 0, "cycle", 0, "cycle_edges",
        "depth_limited", 0, "events", "leaf", 0, "envelope", env_b64, "proof");
    assert_non_null(report);
    char err[512] = "";
    int rc = verify(f, report, err, sizeof(err));
    assert_int_equal(rc, ORIGO_E_SCHEMA);
    if (!strstr(err, "events[0].envelope"))
        fail_msg("message does not name the event: %s", err);
    json_decref(report);
    free(env_b64);
    lt_block_clear(&forged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_table_rows_through_the_indexer),
        cmocka_unit_test(test_refused_texts_are_rejected_at_apply),
        cmocka_unit_test(test_reports_claiming_unstated_edges_fail),
        cmocka_unit_test(test_report_on_a_refused_event_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
