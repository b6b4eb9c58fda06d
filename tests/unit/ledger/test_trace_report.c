/* Trace reports over the generated supply network (trace_net.c): every
 * report the builder writes verifies offline against the validators' keys
 * (checkpoint quorum, each inclusion proof, each event signature, and the
 * claimed answer recomputed from the included events), and every kind of
 * tampering fails: a changed envelope or proof hash, a lot or edge added or
 * removed, a dropped or extra event, changed recall facts, a wrong tree
 * size, untrusted or too few checkpoint signers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <origo/error.h>
#include <origo/event.h>
#include <sodium.h>

#include "report.h"
#include "report_verify.h"
#include "trace_facts.h"
#include "testutil.h"
#include "trace_net.h"

static struct trace_net net;

static origo_note_policy trusted(void)
{
    origo_note_policy policy = {
        .signers = net.vkeys,
        .signer_count = NET_VALIDATORS,
        .quorum = 0, /* majority: 2 of 3 */
    };
    return policy;
}

/* Builds a report of `version` (0: v1); returns the JSON (caller frees). */
static char *build_v(int lot, enum trace_direction dir, uint32_t depth,
                     unsigned flags, int version, struct trace_result *res)
{
    struct report_request request = {
        .lot = net.lots[lot],
        .lot_len = strlen(net.lots[lot]),
        .direction = dir,
        .max_depth = depth,
        .flags = flags,
        .version = version,
    };
    char *json = NULL, errmsg[256] = "";
    size_t len;
    int rc = report_build(net.led, &request, &json, &len, res, errmsg,
                          sizeof(errmsg));
    if (rc != 0) {
        fail_msg("report_build(%s): %s: %s", net.lots[lot], origo_strerror(rc),
                 errmsg);
    }
    assert_int_equal(strlen(json), len);
    return json;
}

static char *build(int lot, enum trace_direction dir, uint32_t depth,
                   unsigned flags, struct trace_result *res)
{
    return build_v(lot, dir, depth, flags, 0, res);
}

static int verify_text(const char *json, struct report_verdict *verdict,
                       char *err, size_t err_len)
{
    origo_note_policy policy = trusted();
    return report_verify((const uint8_t *)json, strlen(json), &policy, verdict,
                         err, err_len);
}

static void expect_verifies(int lot, enum trace_direction dir, uint32_t depth,
                            unsigned flags)
{
    struct trace_result res;
    struct report_verdict verdict;
    char err[512] = "";
    char *json = build(lot, dir, depth, flags, &res);
    int rc = verify_text(json, &verdict, err, sizeof(err));
    if (rc != 0) {
        fail_msg("report of %s does not verify: %s: %s", net.lots[lot],
                 origo_strerror(rc), err);
    }
    /* Every event of the answer was checked, and the verifier recomputed
     * the same answer. */
    assert_int_equal(verdict.events, res.event_count);
    assert_int_equal(verdict.lots, res.lot_count);
    assert_int_equal(verdict.edges, res.edge_count);
    assert_int_equal(verdict.cycle, res.cycle_edge_count > 0);
    assert_int_equal(verdict.signers, 2);
    assert_int_equal(verdict.tree_size, res.tree_size);
    assert_int_equal(verdict.holds,
                     (flags & TRACE_WITH_RECALL) ? res.hold_count : 0);
    trace_result_close(&res);
    free(json);
}

static void test_every_report_verifies(void **state)
{
    (void)state;
    for (int lot = 0; lot < net.lot_count; lot++) {
        expect_verifies(lot, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0);
        expect_verifies(lot, TRACE_FORWARD, TRACE_DEPTH_ANY, 0);
        expect_verifies(lot, TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL);
    }
}

static void test_depth_limited_and_lot_event_reports_verify(void **state)
{
    (void)state;
    for (uint32_t depth = 0; depth <= 2; depth++) {
        for (int lot = 0; lot < net.lot_count; lot += 3) {
            expect_verifies(lot, TRACE_BACKWARD, depth, TRACE_WITH_LOT_EVENTS);
            expect_verifies(lot, TRACE_FORWARD, depth,
                            TRACE_WITH_RECALL | TRACE_WITH_LOT_EVENTS);
        }
    }
}

static void test_cycle_report_verifies_and_says_so(void **state)
{
    (void)state;
    struct trace_result res;
    struct report_verdict verdict;
    char err[512] = "";
    char *json = build(net.cycle_raw, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, &res);
    assert_int_equal(verify_text(json, &verdict, err, sizeof(err)), 0);
    assert_true(verdict.cycle);
    json_t *root = json_loads(json, 0, NULL);
    assert_true(json_is_true(json_object_get(root, "cycle")));
    assert_true(json_array_size(json_object_get(root, "cycle_edges")) > 0);
    json_decref(root);
    trace_result_close(&res);
    free(json);
}

/* ---- tampering --------------------------------------------------------- */

/* The recall scope of a lot, as JSON. */
static json_t *recall_report_of(int lot)
{
    struct trace_result res;
    char *json =
        build(lot, TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL, &res);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    trace_result_close(&res);
    free(json);
    return root;
}

/* The recall scope of raw lot R05 (held) has edges and holds. */
static json_t *recall_report(void)
{
    json_t *root = recall_report_of(net.raw_first + 5);
    assert_true(json_array_size(json_object_get(root, "edges")) > 0);
    return root;
}

/* Verifies the (tampered) JSON and returns the code. */
static int verify_json(json_t *root, char *err, size_t err_len)
{
    char *text = json_dumps(root, JSON_COMPACT);
    int rc = verify_text(text, NULL, err, err_len);
    free(text);
    return rc;
}

static void expect_rejected(json_t *root, int code)
{
    char err[512] = "";
    int rc = verify_json(root, err, sizeof(err));
    if (rc != code) {
        fail_msg("expected %s, got %s: %s", origo_errname(code),
                 origo_errname(rc), err);
    }
    assert_true(strlen(err) > 0);
    json_decref(root);
}

static json_t *event_item(json_t *root, size_t index)
{
    return json_array_get(json_object_get(root, "events"), index);
}

static void flip_base64(json_t *holder, const char *key, size_t byte)
{
    const char *text = json_string_value(json_object_get(holder, key));
    uint8_t raw[4096];
    size_t len;
    char out[6000];
    assert_int_equal(sodium_base642bin(raw, sizeof(raw), text, strlen(text),
                                       NULL, &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    raw[byte % len] ^= 0x01;
    sodium_bin2base64(out, sizeof(out), raw, len,
                      sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(holder, key, json_string(out));
}

static void test_untampered_recall_report_verifies(void **state)
{
    (void)state;
    char err[512] = "";
    json_t *root = recall_report();
    int rc = verify_json(root, err, sizeof(err));
    if (rc != 0) {
        fail_msg("%s", err);
    }
    json_decref(root);
}

static void test_changed_envelope_fails(void **state)
{
    (void)state;
    /* A flipped byte anywhere in an envelope breaks its inclusion proof
     * (the leaf hash changes), whatever the byte. */
    for (size_t byte = 0; byte < 200; byte += 37) {
        json_t *root = recall_report();
        flip_base64(event_item(root, 0), "envelope", byte);
        expect_rejected(root, ORIGO_E_PROOF);
    }
}

static void test_changed_proof_hash_fails(void **state)
{
    (void)state;
    json_t *root = recall_report();
    json_t *proof = json_object_get(event_item(root, 1), "proof");
    assert_true(json_array_size(proof) > 0);
    json_t *holder = json_object();
    json_object_set(holder, "h", json_array_get(proof, 0));
    flip_base64(holder, "h", 7);
    json_array_set(proof, 0, json_object_get(holder, "h"));
    json_decref(holder);
    expect_rejected(root, ORIGO_E_PROOF);

    root = recall_report();
    proof = json_object_get(event_item(root, 1), "proof");
    json_array_remove(proof, 0);
    expect_rejected(root, ORIGO_E_PROOF_SIZE);
}

static void test_added_lot_fails(void **state)
{
    (void)state;
    json_t *root = recall_report();
    json_array_append_new(json_object_get(root, "lots"),
                          json_pack("{s:s, s:i, s:[]}", "lot", "zz/extra/X1",
                                    "depth", 1, "holds"));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* A real lot of the network that is not downstream of R05. */
    root = recall_report();
    json_array_append_new(json_object_get(root, "lots"),
                          json_pack("{s:s, s:i, s:[]}", "lot",
                                    net.lots[net.raw_first + 29], "depth", 1,
                                    "holds"));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

static void test_removed_lot_or_changed_depth_fails(void **state)
{
    (void)state;
    json_t *root = recall_report();
    json_t *lots = json_object_get(root, "lots");
    json_array_remove(lots, json_array_size(lots) - 1);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    root = recall_report();
    json_t *last = json_array_get(json_object_get(root, "lots"), 1);
    json_object_set_new(
        last, "depth",
        json_integer(json_integer_value(json_object_get(last, "depth")) + 1));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

static void test_reordered_lots_fail(void **state)
{
    (void)state;
    /* The start lot must come first. */
    json_t *root = recall_report();
    json_t *lots = json_object_get(root, "lots");
    json_t *first = json_incref(json_array_get(lots, 0));
    json_array_remove(lots, 0);
    json_array_append_new(lots, first);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

static void test_changed_edges_fail(void **state)
{
    (void)state;
    json_t *root = recall_report();
    json_array_remove(json_object_get(root, "edges"), 0);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    root = recall_report();
    json_t *edge = json_array_get(json_object_get(root, "edges"), 0);
    json_object_set_new(
        edge, "leaf",
        json_integer(json_integer_value(json_object_get(edge, "leaf")) + 1));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    root = recall_report();
    json_t *edges = json_object_get(root, "edges");
    json_array_append(edges, json_array_get(edges, 0));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

static void test_dropped_or_extra_event_fails(void **state)
{
    (void)state;
    /* Dropping the event behind the first edge: the edge is no longer
     * implied. */
    json_t *root = recall_report();
    json_t *edge = json_array_get(json_object_get(root, "edges"), 0);
    json_int_t leaf = json_integer_value(json_object_get(edge, "leaf"));
    json_t *events = json_object_get(root, "events");
    for (size_t i = 0; i < json_array_size(events); i++) {
        if (json_integer_value(json_object_get(event_item(root, i), "leaf")) ==
            leaf) {
            json_array_remove(events, i);
            break;
        }
    }
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* An extra, genuine and proven event that is not behind the answer:
     * the creation of R29 taken from a lot-events report of R29. */
    struct trace_result res;
    char *json = build(net.raw_first + 29, TRACE_BACKWARD, 0,
                       TRACE_WITH_LOT_EVENTS, &res);
    json_t *other = json_loads(json, 0, NULL);
    json_t *extra = event_item(other, 0);
    root = recall_report();
    events = json_object_get(root, "events");
    json_int_t extra_leaf = json_integer_value(json_object_get(extra, "leaf"));
    size_t at = 0;
    while (at < json_array_size(events) &&
           json_integer_value(json_object_get(event_item(root, at), "leaf")) <
               extra_leaf) {
        at++;
    }
    json_array_insert(events, at, extra);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
    json_decref(other);
    trace_result_close(&res);
    free(json);
}

static void test_changed_recall_facts_fail(void **state)
{
    (void)state;
    /* The custodian of S00, shipped and received. */
    json_t *root = recall_report_of(net.sub_first);
    json_t *lots = json_object_get(root, "lots");
    int changed = 0;
    for (size_t i = 0; i < json_array_size(lots) && !changed; i++) {
        json_t *custody = json_object_get(json_array_get(lots, i), "custody");
        if (custody != NULL) {
            json_object_set_new(custody, "to", json_string("elsewhere"));
            changed = 1;
        }
    }
    assert_true(changed);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* A hold in force, dropped from its lot. */
    root = recall_report();
    lots = json_object_get(root, "lots");
    changed = 0;
    for (size_t i = 0; i < json_array_size(lots) && !changed; i++) {
        json_t *holds = json_object_get(json_array_get(lots, i), "holds");
        if (json_array_size(holds) > 0) {
            json_array_remove(holds, 0);
            changed = 1;
        }
    }
    assert_true(changed);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* A hold claimed on a lot that has none. */
    root = recall_report();
    lots = json_object_get(root, "lots");
    json_t *holds = json_object_get(json_array_get(lots, 0), "holds");
    json_t *first_hold = NULL;
    for (size_t i = 0; i < json_array_size(lots) && !first_hold; i++) {
        json_t *h = json_object_get(json_array_get(lots, i), "holds");
        first_hold = json_array_size(h) ? json_array_get(h, 0) : NULL;
    }
    assert_non_null(first_hold);
    json_array_append(json_object_get(json_array_get(lots, 1), "holds"),
                      first_hold);
    (void)holds;
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

static void test_wrong_tree_size_or_cycle_flag_fails(void **state)
{
    (void)state;
    json_t *root = recall_report();
    json_object_set_new(
        root, "tree_size",
        json_integer(json_integer_value(json_object_get(root, "tree_size")) +
                     1));
    expect_rejected(root, ORIGO_E_TREE_SIZE);

    root = recall_report();
    json_object_set_new(root, "cycle", json_true());
    json_object_set_new(root, "cycle_edges", json_pack("[i]", 0));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    root = recall_report();
    json_object_set_new(root, "format", json_string("origo-trace-report/v9"));
    expect_rejected(root, ORIGO_E_VERSION);

    root = recall_report();
    json_object_set_new(json_object_get(root, "query"), "lot",
                        json_string(net.lots[net.raw_first + 6]));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
}

/* The cycle report of the rework loop, as JSON. */
static json_t *cycle_report(void)
{
    struct trace_result res;
    char *json = build(net.cycle_raw, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, &res);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_true(res.cycle_edge_count > 0);
    trace_result_close(&res);
    free(json);
    return root;
}

/* An index of report.edges that is not listed in cycle_edges. */
static json_int_t non_cycle_edge(json_t *root)
{
    json_t *cycle_edges = json_object_get(root, "cycle_edges");
    size_t edges = json_array_size(json_object_get(root, "edges"));
    for (size_t e = 0; e < edges; e++) {
        int listed = 0;
        for (size_t i = 0; i < json_array_size(cycle_edges); i++) {
            listed |= json_integer_value(json_array_get(cycle_edges, i)) ==
                      (json_int_t)e;
        }
        if (!listed) {
            return (json_int_t)e;
        }
    }
    fail_msg("every edge closes a cycle");
    return -1;
}

static void test_changed_cycle_edges_fail(void **state)
{
    (void)state;
    /* An edge that does not close a cycle, in place of one that does. */
    json_t *root = cycle_report();
    json_t *cycle_edges = json_object_get(root, "cycle_edges");
    json_array_set_new(cycle_edges, 0, json_integer(non_cycle_edge(root)));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* Such an edge added to the list. */
    root = cycle_report();
    cycle_edges = json_object_get(root, "cycle_edges");
    json_array_append_new(cycle_edges, json_integer(non_cycle_edge(root)));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* A cycle edge listed twice. */
    root = cycle_report();
    cycle_edges = json_object_get(root, "cycle_edges");
    json_array_append(cycle_edges, json_array_get(cycle_edges, 0));
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* A cycle edge left out, the flag kept. */
    root = cycle_report();
    cycle_edges = json_object_get(root, "cycle_edges");
    json_array_remove(cycle_edges, 0);
    if (json_array_size(cycle_edges) == 0) {
        json_array_append_new(cycle_edges, json_integer(non_cycle_edge(root)));
    }
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* The whole cycle denied. */
    root = cycle_report();
    json_object_set_new(root, "cycle", json_false());
    json_object_set_new(root, "cycle_edges", json_array());
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);

    /* Listed in another order, the claim still verifies. */
    root = cycle_report();
    cycle_edges = json_object_get(root, "cycle_edges");
    size_t count = json_array_size(cycle_edges);
    json_t *reversed = json_array();
    for (size_t i = count; i > 0; i--) {
        json_array_append(reversed, json_array_get(cycle_edges, i - 1));
    }
    json_object_set_new(root, "cycle_edges", reversed);
    char err[512] = "";
    assert_int_equal(verify_json(root, err, sizeof(err)), 0);
    json_decref(root);
}

/* A backward report of a finished good at depth 1: cut short by the limit
 * (its subassemblies have inputs of their own). */
static json_t *limited_report(uint32_t depth, struct trace_result *res)
{
    char *json = build(net.fin_first, TRACE_BACKWARD, depth, 0, res);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    free(json);
    return root;
}

static void test_changed_depth_limited_fails(void **state)
{
    (void)state;
    struct trace_result res;
    /* Cut short, claimed complete. */
    json_t *root = limited_report(1, &res);
    assert_true(res.depth_limited);
    assert_true(json_is_true(json_object_get(root, "depth_limited")));
    json_object_set_new(root, "depth_limited", json_false());
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
    trace_result_close(&res);

    /* Complete, claimed cut short. */
    root = limited_report(TRACE_DEPTH_ANY, &res);
    assert_false(res.depth_limited);
    json_object_set_new(root, "depth_limited", json_true());
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
    trace_result_close(&res);

    /* Cut short, but the evidence event dropped: the claim is unproven. */
    root = limited_report(1, &res);
    json_t *events = json_object_get(root, "events");
    size_t dropped = 0;
    for (size_t i = json_array_size(events); i > 0; i--) {
        uint64_t leaf = (uint64_t)json_integer_value(
            json_object_get(event_item(root, i - 1), "leaf"));
        int behind = 0;
        for (size_t k = 0; k < res.edge_count; k++) {
            behind |= res.edges[k].leaf_index == leaf;
        }
        if (!behind) {
            json_array_remove(events, i - 1);
            dropped++;
        }
    }
    assert_int_equal(dropped, 1);
    expect_rejected(root, ORIGO_E_REPORT_CLAIM);
    trace_result_close(&res);
}

/* A custody value whose kind byte is neither ship nor receive (a corrupt
 * store) makes the recall report fail with ORIGO_E_CORRUPT, not crash. */
static void test_corrupt_custody_kind_is_reported(void **state)
{
    (void)state;
    int lot = -1;
    for (int r = 0; r < net.record_count && lot < 0; r++) {
        if (net.records[r].kind == TRACE_CUSTODY_SHIP ||
            net.records[r].kind == TRACE_CUSTODY_RECEIVE) {
            lot = net.records[r].lot;
        }
    }
    assert_true(lot >= 0);
    ledger_state head;
    assert_int_equal(ledger_get_state(net.led, NULL, &head), 0);
    uint8_t value[8 + 2 + 2] = {0};
    for (int i = 0; i < 8; i++) {
        value[i] = (uint8_t)((head.tree_size - 1) >> (56 - 8 * i));
    }
    value[8] = 0x7f; /* the kind */
    value[9] = 1;    /* from_len */
    value[10] = 'a';
    value[11] = 'b';
    struct trace_tables tables;
    MDB_txn *txn;
    MDB_val key = {strlen(net.lots[lot]), net.lots[lot]};
    MDB_val val = {sizeof(value), value};
    assert_int_equal(report_trace_tables(net.led, &tables), 0);
    assert_int_equal(ledger_txn_begin(net.led, 0, &txn), 0);
    assert_int_equal(mdb_put(txn, tables.custody, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    struct report_request request = {
        .lot = net.lots[lot],
        .lot_len = strlen(net.lots[lot]),
        .direction = TRACE_FORWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .flags = TRACE_WITH_RECALL,
    };
    char *json = NULL, err[256] = "";
    size_t len;
    assert_int_equal(
        report_build(net.led, &request, &json, &len, NULL, err, sizeof(err)),
        ORIGO_E_CORRUPT);
    assert_null(json);
    assert_true(strlen(err) > 0);

    assert_int_equal(ledger_txn_begin(net.led, 0, &txn), 0);
    assert_int_equal(mdb_del(txn, tables.custody, &key, &val), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    expect_verifies(lot, TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL);
}

static void test_untrusted_or_too_few_signers_fail(void **state)
{
    (void)state;
    json_t *root = recall_report();
    char *text = json_dumps(root, JSON_COMPACT);
    char err[512];
    /* All three validators required; only two signed. */
    origo_note_policy policy = trusted();
    policy.quorum = 3;
    assert_int_equal(report_verify((const uint8_t *)text, strlen(text), &policy,
                                   NULL, err, sizeof(err)),
                     ORIGO_E_NOTE_QUORUM);
    /* Trusting only the validator that did not sign. */
    policy.signers = &net.vkeys[2];
    policy.signer_count = 1;
    policy.quorum = 1;
    assert_int_equal(report_verify((const uint8_t *)text, strlen(text), &policy,
                                   NULL, err, sizeof(err)),
                     ORIGO_E_NOTE_QUORUM);
    free(text);
    /* A changed checkpoint root breaks the signatures. */
    const char *note = json_string_value(json_object_get(root, "checkpoint"));
    char *copy = strdup(note);
    char *root_line = strchr(strchr(copy, '\n') + 1, '\n') + 1;
    root_line[0] = root_line[0] == 'A' ? 'B' : 'A';
    json_object_set_new(root, "checkpoint", json_string(copy));
    free(copy);
    expect_rejected(root, ORIGO_E_SIGNATURE);
}

static void test_malformed_reports_fail_with_json_errors(void **state)
{
    (void)state;
    char err[256];
    origo_note_policy policy = trusted();
    const char *bad[] = {"", "[]", "{\"format\": 1}", "{\"format\":",
                         "{\"format\":\"origo-trace-report/v1\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = report_verify((const uint8_t *)bad[i], strlen(bad[i]), &policy,
                               NULL, err, sizeof(err));
        assert_int_equal(rc, ORIGO_E_JSON);
    }
    json_t *root = recall_report();
    json_object_set_new(event_item(root, 0), "envelope",
                        json_string("not base64!"));
    expect_rejected(root, ORIGO_E_JSON);
}

static void test_report_file_round_trip(void **state)
{
    (void)state;
    struct trace_result res;
    struct report_verdict verdict;
    char err[512] = "", path[512];
    char *json = build(net.fin_first, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0, &res);
    char *dir = testutil_tmpdir();
    snprintf(path, sizeof(path), "%s/report.json", dir);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(json, 1, strlen(json), file), strlen(json));
    fclose(file);
    assert_true(report_is_report((const uint8_t *)json, strlen(json)));
    assert_false(report_is_report((const uint8_t *)"{}", 2));
    int rc = report_verify_file(path, net.vkeys, NET_VALIDATORS, 0, &verdict,
                                err, sizeof(err));
    if (rc != 0) {
        fail_msg("%s", err);
    }
    assert_int_equal(verdict.lots, res.lot_count);
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    assert_int_equal(report_verify_file(path, net.vkeys, NET_VALIDATORS, 0,
                                        NULL, err, sizeof(err)),
                     ORIGO_E_NOTFOUND);
    assert_non_null(strstr(err, "missing.json"));
    testutil_rmtree(dir);
    free(dir);
    trace_result_close(&res);
    free(json);
}

static void test_report_stays_at_the_cosigned_tree_size(void **state)
{
    (void)state;
    ledger_state before;
    struct trace_result res;
    char err[512] = "";
    assert_int_equal(ledger_get_state(net.led, NULL, &before), 0);
    int kit = trace_net_extend(&net);
    /* No new checkpoint yet: the report is still proven at the old size
     * and does not mention the new lot. */
    char *json =
        build(net.fin_first + 1, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, &res);
    assert_int_equal(res.tree_size, before.tree_size);
    for (size_t i = 0; i < res.lot_count; i++) {
        assert_string_not_equal(res.lots[i].lot, net.lots[kit]);
    }
    assert_int_equal(verify_text(json, NULL, err, sizeof(err)), 0);
    trace_result_close(&res);
    free(json);

    /* Asking for another tree size than the cosigned one is refused. */
    struct report_request request = {
        .lot = net.lots[0],
        .lot_len = strlen(net.lots[0]),
        .direction = TRACE_FORWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = before.tree_size + 1,
    };
    size_t len;
    assert_int_equal(
        report_build(net.led, &request, &json, &len, NULL, err, sizeof(err)),
        ORIGO_E_TREE_SIZE);

    /* Once the validators sign the new size, the kit appears. */
    trace_net_sign(&net, 3);
    json = build(net.fin_first + 1, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, &res);
    int found = 0;
    for (size_t i = 0; i < res.lot_count; i++) {
        found |= strcmp(res.lots[i].lot, net.lots[kit]) == 0;
    }
    assert_true(found);
    struct report_verdict verdict;
    assert_int_equal(verify_text(json, &verdict, err, sizeof(err)), 0);
    assert_int_equal(verdict.signers, 3);
    trace_result_close(&res);
    free(json);
}

/* tests/vectors/trace-report-r05.json: the recall scope of s1/raw/R05 at
 * depth 1 in the network of seed 0x5eed (docs/formats/trace-report.md). */
#define VECTOR ORIGO_TEST_VECTORS "/trace-report-r05.json"

static void test_vector_report_verifies(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = testutil_read_file(VECTOR, &len);
    struct report_verdict verdict;
    char err[512] = "";
    origo_note_policy policy = trusted();
    assert_non_null(data);
    int rc = report_verify(data, len, &policy, &verdict, err, sizeof(err));
    if (rc != 0) {
        fail_msg("%s: %s", VECTOR, err);
    }
    /* R05 (received by plant p2, held by p0) and the two subassemblies p2
     * made from it; events: the receipt, the transform, the depth-limit
     * evidence and the hold. */
    assert_int_equal(verdict.lots, 3);
    assert_int_equal(verdict.edges, 2);
    assert_int_equal(verdict.events, 4);
    assert_int_equal(verdict.holds, 1);
    assert_true(verdict.recall);
    free(data);
}

static void test_vector_report_is_rebuilt_byte_for_byte(void **state)
{
    (void)state;
    static struct trace_net other;
    size_t len, built_len;
    char *built, err[256];
    uint8_t *data = testutil_read_file(VECTOR, &len);
    assert_non_null(data);
    trace_net_build(&other, 0x5eed);
    int lot = trace_net_lot(&other, "s1/raw/R05");
    struct report_request request = {
        .lot = other.lots[lot],
        .lot_len = strlen(other.lots[lot]),
        .direction = TRACE_FORWARD,
        .max_depth = 1,
        .flags = TRACE_WITH_RECALL,
    };
    assert_int_equal(report_build(other.led, &request, &built, &built_len, NULL,
                                  err, sizeof(err)),
                     0);
    /* ORIGO_WRITE_VECTORS=1 rewrites the vector after a deliberate format
     * or generator change (review the diff before committing it). */
    if (getenv("ORIGO_WRITE_VECTORS")) {
        FILE *out = fopen(VECTOR, "wb");
        assert_non_null(out);
        assert_int_equal(fwrite(built, 1, built_len, out), built_len);
        fclose(out);
    }
    assert_int_equal(built_len, len);
    assert_memory_equal(built, data, len);
    free(built);
    free(data);
    trace_net_free(&other);
}

/* ---- v2: complete reports under the cosigned lot index ------------------ */

static char *old_index_note; /* a v2 report's, before the ledger grows */

static json_t *v2_report(int lot, enum trace_direction dir, uint32_t depth,
                         unsigned flags)
{
    struct trace_result res;
    char *json = build_v(lot, dir, depth, flags, 2, &res);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    trace_result_close(&res);
    free(json);
    return root;
}

static void expect_v2_verifies(int lot, enum trace_direction dir,
                               uint32_t depth, unsigned flags)
{
    struct trace_result res;
    struct report_verdict verdict;
    char err[512] = "";
    char *json = build_v(lot, dir, depth, flags, 2, &res);
    if (verify_text(json, &verdict, err, sizeof(err)) != 0) {
        fail_msg("v2 report of %s does not verify: %s", net.lots[lot], err);
    }
    assert_int_equal(verdict.events, res.event_count);
    assert_int_equal(verdict.lots, res.lot_count);
    assert_non_null(strstr(json, "\"format\":\"origo-trace-report/v2\""));
    if (old_index_note == NULL) {
        json_t *root = json_loads(json, 0, NULL);
        old_index_note =
            strdup(json_string_value(json_object_get(root, "index_note")));
        json_decref(root);
    }
    trace_result_close(&res);
    free(json);
}

static void test_v2_reports_verify(void **state)
{
    (void)state;
    for (int lot = 0; lot < net.lot_count; lot++) {
        expect_v2_verifies(lot, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0);
        expect_v2_verifies(lot, TRACE_FORWARD, TRACE_DEPTH_ANY,
                           TRACE_WITH_RECALL);
        expect_v2_verifies(lot, TRACE_BACKWARD, 1, 0);
        expect_v2_verifies(lot, TRACE_FORWARD, 1, 0);
        expect_v2_verifies(lot, TRACE_FORWARD, 0, TRACE_WITH_LOT_EVENTS);
    }
}

/* The facts of report.events[i]. */
static void event_facts(json_t *root, size_t i, struct trace_facts *facts)
{
    const char *b64 = json_string_value(json_object_get(
        json_array_get(json_object_get(root, "events"), i), "envelope"));
    static uint8_t raw[70000];
    size_t len;
    assert_int_equal(sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL,
                                       &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(trace_facts_from_envelope(raw, len, NET_ORIGIN,
                                               strlen(NET_ORIGIN), facts, NULL),
                     0);
}

static int lot_index(json_t *lots, const char *lot)
{
    for (size_t i = 0; i < json_array_size(lots); i++)
        if (!strcmp(json_string_value(
                        json_object_get(json_array_get(lots, i), "lot")),
                    lot))
            return (int)i;
    return -1;
}

/* A dishonest builder leaves out one event of a backward report without
 * index fields and makes every claim consistent again: the event, its
 * edges, the lots only it led to (with their index proofs) and the events
 * of those lots' chains, depths recomputed breadth-first. */
static void hide_edge_event(json_t *root, uint64_t leaf)
{
    json_t *edges = json_object_get(root, "edges");
    json_t *lots = json_object_get(root, "lots");
    size_t n = json_array_size(lots);
    int *depth = malloc(n * sizeof(int)), *queue = malloc(n * sizeof(int));
    for (size_t i = json_array_size(edges); i-- > 0;)
        if ((uint64_t)json_integer_value(
                json_object_get(json_array_get(edges, i), "leaf")) == leaf)
            json_array_remove(edges, i);
    for (size_t i = 0; i < n; i++)
        depth[i] = -1;
    depth[0] = 0;
    size_t head = 0, tail = 0;
    queue[tail++] = 0;
    while (head < tail) { /* backward: edges into a lot lead to their from */
        int at = queue[head++];
        const char *name = json_string_value(
            json_object_get(json_array_get(lots, (size_t)at), "lot"));
        for (size_t e = 0; e < json_array_size(edges); e++) {
            json_t *edge = json_array_get(edges, e);
            if (strcmp(json_string_value(json_object_get(edge, "to")), name))
                continue;
            int from = lot_index(
                lots, json_string_value(json_object_get(edge, "from")));
            if (depth[from] < 0) {
                depth[from] = depth[at] + 1;
                queue[tail++] = from;
            }
        }
    }
    json_t *kept_lots = json_array(), *kept_edges = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *lot = json_array_get(lots, i);
        if (depth[i] < 0)
            continue;
        json_object_set_new(lot, "depth", json_integer(depth[i]));
        json_array_append(kept_lots, lot);
    }
    for (size_t e = 0; e < json_array_size(edges); e++) {
        json_t *edge = json_array_get(edges, e);
        if (lot_index(kept_lots,
                      json_string_value(json_object_get(edge, "to"))) >= 0)
            json_array_append(kept_edges, edge);
    }
    json_t *index = json_object_get(root, "index");
    for (size_t i = json_array_size(index); index && i-- > 0;)
        if (lot_index(kept_lots, json_string_value(json_object_get(
                                     json_array_get(index, i), "lot"))) < 0)
            json_array_remove(index, i);
    json_t *events = json_object_get(root, "events");
    for (size_t i = json_array_size(events); i-- > 0;) {
        uint64_t at = (uint64_t)json_integer_value(
            json_object_get(json_array_get(events, i), "leaf"));
        int used = 0;
        for (size_t e = 0; e < json_array_size(kept_edges); e++)
            used |= (uint64_t)json_integer_value(json_object_get(
                        json_array_get(kept_edges, e), "leaf")) == at;
        if (!used)
            json_array_remove(events, i);
    }
    json_object_set_new(root, "lots", kept_lots);
    json_object_set_new(root, "edges", kept_edges);
    free(depth);
    free(queue);
}

/* The hidden transformation: v1 cannot see it, v2 refuses the report. */
static void test_v2_refuses_a_hidden_edge(void **state)
{
    (void)state;
    /* A finished lot whose genealogy has no cycle. */
    json_t *v1 = NULL;
    int lot = net.fin_first;
    for (; lot < net.fin_first + net.fin_count; lot++) {
        char *text = build(lot, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0, NULL);
        v1 = json_loads(text, 0, NULL);
        free(text);
        if (!json_is_true(json_object_get(v1, "cycle")))
            break;
        json_decref(v1);
        v1 = NULL;
    }
    assert_non_null(v1);
    json_t *v2 = v2_report(lot, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0);
    json_t *edges = json_object_get(v2, "edges");
    assert_true(json_array_size(edges) >= 2);
    uint64_t leaf = (uint64_t)json_integer_value(json_object_get(
        json_array_get(edges, json_array_size(edges) - 1), "leaf"));
    size_t before = json_array_size(json_object_get(v2, "events"));
    hide_edge_event(v1, leaf);
    hide_edge_event(v2, leaf);
    assert_true(json_array_size(json_object_get(v2, "events")) < before);
    char err[512] = "";
    assert_int_equal(verify_json(v1, err, sizeof(err)), 0); /* v1 is fooled */
    assert_int_equal(verify_json(v2, err, sizeof(err)), ORIGO_E_REPORT_CLAIM);
    assert_non_null(strstr(err, "the in chain of lot"));
    assert_non_null(strstr(err, "left out"));
    json_decref(v1);
    json_decref(v2);
}

/* One inspection or COA, one custody event (not the last, so no v1 claim
 * changes), one hold (with its claim): each left out alone is refused and
 * the message names the chain. */
static void test_v2_refuses_hidden_quality_and_custody(void **state)
{
    (void)state;
    int seen_quality = 0, seen_custody = 0, seen_hold = 0;
    struct trace_facts *f = malloc(sizeof(*f));
    for (int lot = 0; lot < net.lot_count; lot++) {
        json_t *root =
            v2_report(lot, TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL);
        json_t *events = json_object_get(root, "events");
        for (size_t i = 0; i < json_array_size(events); i++) {
            event_facts(root, i, f);
            const char *want = NULL;
            json_t *copy = json_deep_copy(root);
            if ((f->type == ORIGO_EV_INSPECTION ||
                 f->type == ORIGO_EV_COA_ATTEST) &&
                !seen_quality) {
                want = "the quality chain";
                seen_quality = 1;
            } else if ((f->kind == TRACE_CUSTODY_SHIP ||
                        f->kind == TRACE_CUSTODY_RECEIVE) &&
                       !seen_custody) {
                /* Not the last custody event of its lot. */
                uint64_t leaf = (uint64_t)json_integer_value(
                    json_object_get(json_array_get(events, i), "leaf"));
                json_t *lots = json_object_get(root, "lots");
                int last = 0;
                for (size_t l = 0; l < json_array_size(lots); l++) {
                    json_t *c =
                        json_object_get(json_array_get(lots, l), "custody");
                    last |= c && (uint64_t)json_integer_value(
                                     json_object_get(c, "leaf")) == leaf;
                }
                if (!last) {
                    want = "the custody chain";
                    seen_custody = 1;
                }
            } else if (f->kind == TRACE_HOLD && !seen_hold) {
                uint64_t leaf = (uint64_t)json_integer_value(
                    json_object_get(json_array_get(events, i), "leaf"));
                json_t *lots = json_object_get(copy, "lots");
                for (size_t l = 0; l < json_array_size(lots); l++) {
                    json_t *holds =
                        json_object_get(json_array_get(lots, l), "holds");
                    for (size_t h = json_array_size(holds); h-- > 0;)
                        if ((uint64_t)json_integer_value(json_object_get(
                                json_array_get(holds, h), "leaf")) == leaf)
                            json_array_remove(holds, h);
                }
                want = "the quality chain";
                seen_hold = 1;
            }
            if (want) {
                char err[512] = "";
                json_array_remove(json_object_get(copy, "events"), i);
                assert_int_equal(verify_json(copy, err, sizeof(err)),
                                 ORIGO_E_REPORT_CLAIM);
                if (!strstr(err, want))
                    fail_msg("expected \"%s\" in: %s", want, err);
            }
            json_decref(copy);
        }
        json_decref(root);
    }
    free(f);
    assert_true(seen_quality && seen_custody && seen_hold);
}

static void test_v2_refuses_bad_index_proofs(void **state)
{
    (void)state;
    json_t *root = v2_report(net.fin_first, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0);
    json_t *index = json_object_get(root, "index");
    assert_true(json_array_size(index) >= 2);
    /* A lot's proof passed off as another's (its events moved over): the
     * first proof and the first of another lot in the same role. */
    json_t *a = json_array_get(index, 0), *b = NULL;
    size_t bi = 1;
    for (; bi < json_array_size(index); bi++) {
        b = json_array_get(index, bi);
        if (!json_equal(json_object_get(a, "lot"), json_object_get(b, "lot")) &&
            json_equal(json_object_get(a, "role"), json_object_get(b, "role")))
            break;
    }
    assert_true(bi < json_array_size(index));
    json_t *copy = json_deep_copy(root);
    json_t *ca = json_array_get(json_object_get(copy, "index"), 0);
    json_t *cb = json_array_get(json_object_get(copy, "index"), bi);
    json_object_set(ca, "lot", json_object_get(b, "lot"));
    json_object_set(cb, "lot", json_object_get(a, "lot"));
    expect_rejected(copy, ORIGO_E_PROOF);
    /* Absence claimed for a present chain. */
    copy = json_deep_copy(root);
    json_t *first = json_array_get(json_object_get(copy, "index"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "end")),
                        "leaf");
    json_object_set_new(first, "end", json_string("empty"));
    json_object_del(first, "count");
    json_object_del(first, "head");
    expect_rejected(copy, ORIGO_E_PROOF);
    /* A needed proof left out. */
    copy = json_deep_copy(root);
    json_array_remove(json_object_get(copy, "index"), 1);
    expect_rejected(copy, ORIGO_E_REPORT_CLAIM);
    /* An event no chain of the query holds, with its valid proof. */
    copy = json_deep_copy(root);
    json_t *other = v2_report(net.raw_first, TRACE_FORWARD, TRACE_DEPTH_ANY,
                              TRACE_WITH_RECALL);
    json_t *mine = json_object_get(copy, "events");
    json_t *theirs = json_object_get(other, "events");
    int added = 0;
    for (size_t i = 0; i < json_array_size(theirs) && !added; i++) {
        json_t *ev = json_array_get(theirs, i);
        json_int_t leaf = json_integer_value(json_object_get(ev, "leaf"));
        size_t at = 0;
        int have = 0;
        while (at < json_array_size(mine)) {
            json_int_t l = json_integer_value(
                json_object_get(json_array_get(mine, at), "leaf"));
            have |= l == leaf;
            if (l >= leaf)
                break;
            at++;
        }
        if (!have) {
            json_array_insert(mine, at, ev);
            added = 1;
        }
    }
    assert_true(added);
    json_decref(other);
    char err[512] = "";
    assert_int_equal(verify_json(copy, err, sizeof(err)), ORIGO_E_REPORT_CLAIM);
    json_decref(copy);
    /* The index note signed by one validator: short of the quorum. */
    copy = json_deep_copy(root);
    char *note = strdup(json_string_value(json_object_get(copy, "index_note")));
    char *sigs = strstr(note, "\n\n") + 2;
    char *second = strchr(sigs, '\n') + 1;
    *second = '\0';
    json_object_set_new(copy, "index_note", json_string(note));
    free(note);
    expect_rejected(copy, ORIGO_E_NOTE_QUORUM);
    /* An event's block time moved by a millisecond (to fit a timestamp
     * window): the chains bind it. */
    copy = json_deep_copy(root);
    json_t *first_event = event_item(copy, 0);
    json_object_set_new(first_event, "block_time",
                        json_integer(json_integer_value(json_object_get(
                                         first_event, "block_time")) +
                                     1));
    expect_rejected(copy, ORIGO_E_REPORT_CLAIM);
    /* Or left out. */
    copy = json_deep_copy(root);
    json_object_del(event_item(copy, 0), "block_time");
    expect_rejected(copy, ORIGO_E_JSON);
    json_decref(root);
}

/* After the ledger grew: an index note of the older tree size is refused
 * in a report of the new one. */
static void test_v2_refuses_a_stale_index_note(void **state)
{
    (void)state;
    assert_non_null(old_index_note);
    json_t *root = v2_report(net.fin_first, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0);
    assert_string_not_equal(
        json_string_value(json_object_get(root, "index_note")), old_index_note);
    json_object_set_new(root, "index_note", json_string(old_index_note));
    expect_rejected(root, ORIGO_E_CHECKPOINT);
    free(old_index_note);
    old_index_note = NULL;
}

static int setup(void **state)
{
    (void)state;
    trace_net_build(&net, 0xbeef);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    trace_net_free(&net);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_reports_verify),
        cmocka_unit_test(test_v2_refuses_a_hidden_edge),
        cmocka_unit_test(test_v2_refuses_hidden_quality_and_custody),
        cmocka_unit_test(test_v2_refuses_bad_index_proofs),
        cmocka_unit_test(test_every_report_verifies),
        cmocka_unit_test(test_depth_limited_and_lot_event_reports_verify),
        cmocka_unit_test(test_cycle_report_verifies_and_says_so),
        cmocka_unit_test(test_untampered_recall_report_verifies),
        cmocka_unit_test(test_changed_envelope_fails),
        cmocka_unit_test(test_changed_proof_hash_fails),
        cmocka_unit_test(test_added_lot_fails),
        cmocka_unit_test(test_removed_lot_or_changed_depth_fails),
        cmocka_unit_test(test_reordered_lots_fail),
        cmocka_unit_test(test_changed_edges_fail),
        cmocka_unit_test(test_dropped_or_extra_event_fails),
        cmocka_unit_test(test_changed_recall_facts_fail),
        cmocka_unit_test(test_wrong_tree_size_or_cycle_flag_fails),
        cmocka_unit_test(test_changed_cycle_edges_fail),
        cmocka_unit_test(test_changed_depth_limited_fails),
        cmocka_unit_test(test_corrupt_custody_kind_is_reported),
        cmocka_unit_test(test_untrusted_or_too_few_signers_fail),
        cmocka_unit_test(test_malformed_reports_fail_with_json_errors),
        cmocka_unit_test(test_report_file_round_trip),
        cmocka_unit_test(test_vector_report_verifies),
        cmocka_unit_test(test_vector_report_is_rebuilt_byte_for_byte),
        /* Last: it extends the ledger. */
        cmocka_unit_test(test_report_stays_at_the_cosigned_tree_size),
        cmocka_unit_test(test_v2_refuses_a_stale_index_note),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
