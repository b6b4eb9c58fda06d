/* The trace indexer and traversal on a bare LMDB environment, calling
 * trace_index_event() directly with decoded event views: the edge rules of
 * each event type (transform, EPCIS transformation and aggregation with
 * ADD / OBSERVE / DELETE and serialised Digital Link children), a long
 * chain closed into a cycle, diamonds that are not cycles, the lot limit,
 * and the errors for missing tables and corrupt index values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>
#include <origo/error.h>
#include <origo/event.h>

#include "testutil.h"
#include "trace.h"
#include "trace_facts.h"

#define GTIN "09506000134352"
#define DL_LOT(x) "https://id.example.com/01/" GTIN "/10/" x

struct env {
    char *dir;
    MDB_env *env;
    MDB_txn *txn;
    struct trace_tables tables;
    uint64_t next_leaf;
};

static void env_open(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->dir = testutil_tmpdir();
    assert_int_equal(mdb_env_create(&e->env), 0);
    assert_int_equal(mdb_env_set_maxdbs(e->env, TRACE_TABLE_COUNT), 0);
    assert_int_equal(mdb_env_set_mapsize(e->env, (size_t)256 << 20), 0);
    assert_int_equal(mdb_env_open(e->env, e->dir, MDB_NOSYNC, 0600), 0);
    assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &e->txn), 0);
    assert_int_equal(trace_open(e->txn, &e->tables), 0);
}

static void env_close(struct env *e)
{
    if (e->txn != NULL) {
        mdb_txn_abort(e->txn);
    }
    mdb_env_close(e->env);
    testutil_rmtree(e->dir);
    free(e->dir);
}

static void index_event(struct env *e, origo_event *ev)
{
    uint8_t id[32] = {0};
    memset(ev->by, 7, 32);
    ev->net = origo_str_c("test/net");
    ev->ts = 1;
    int rc = origo_event_validate(ev);
    if (rc != 0) {
        fail_msg("event invalid: %s", origo_strerror(rc));
    }
    assert_int_equal(
        trace_index_event(e->txn, &e->tables, e->next_leaf++, ev, id), 0);
}

static void transform(struct env *e, const char *const *inputs, int n_in,
                      const char *const *outputs, int n_out)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_LOT_TRANSFORM);
    for (int i = 0; i < n_in; i++) {
        ev.lots[ev.n_lots++] =
            (origo_lot_ref){ORIGO_LOT_INPUT, origo_str_c(inputs[i]),
                            origo_str_c("1"), origo_str_c("kg")};
    }
    for (int i = 0; i < n_out; i++) {
        ev.lots[ev.n_lots++] =
            (origo_lot_ref){ORIGO_LOT_OUTPUT, origo_str_c(outputs[i]),
                            origo_str_c("1"), origo_str_c("kg")};
    }
    index_event(e, &ev);
}

static void epcis(struct env *e, json_t *event)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    json_object_set_new(event, "eventTime",
                        json_string("2026-01-01T00:00:00Z"));
    char *text = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS);
    ev.epcis = origo_str_c(text);
    index_event(e, &ev);
    free(text);
    json_decref(event);
}

static void run(struct env *e, const char *lot, enum trace_direction dir,
                uint32_t depth, struct trace_result *res)
{
    struct trace_query query = {
        .lot = lot,
        .lot_len = strlen(lot),
        .direction = dir,
        .max_depth = depth,
        .tree_size = TRACE_TREE_SIZE_ALL,
    };
    int rc = trace_query_run(e->txn, &e->tables, &query, res);
    if (rc != 0) {
        fail_msg("trace of %s: %s", lot, origo_strerror(rc));
    }
}

static int has_lot(const struct trace_result *res, const char *lot)
{
    for (size_t i = 0; i < res->lot_count; i++) {
        if (strcmp(res->lots[i].lot, lot) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------- */

static void test_transform_links_every_input_to_every_output(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    const char *in[] = {"a/x/1", "a/x/2", "a/x/3"}, *out[] = {"b/y/1", "b/y/2"};
    env_open(&e);
    transform(&e, in, 3, out, 2);
    run(&e, "b/y/2", TRACE_BACKWARD, TRACE_DEPTH_ANY, &res);
    assert_int_equal(res.lot_count, 4);
    assert_int_equal(res.edge_count, 3);
    assert_int_equal(res.event_count, 1);
    assert_false(has_lot(&res, "b/y/1")); /* a sibling output, not an input */
    trace_result_close(&res);
    run(&e, "a/x/1", TRACE_FORWARD, TRACE_DEPTH_ANY, &res);
    assert_int_equal(res.lot_count, 3);
    assert_int_equal(res.edge_count, 2);
    trace_result_close(&res);
    env_close(&e);
}

static void test_epcis_transformation_and_aggregation(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    env_open(&e);
    epcis(&e, json_pack("{s:s, s:[s], s:[{s:s, s:i}], s:[s]}", "type",
                        "TransformationEvent", "inputEPCList", "a/x/1",
                        "inputQuantityList", "epcClass", DL_LOT("L1"),
                        "quantity", 5, "outputEPCList", "b/y/1"));
    /* ADD: children (one a serialised item of lot L2) into the pallet. */
    epcis(&e, json_pack("{s:s, s:s, s:s, s:[s,s]}", "type", "AggregationEvent",
                        "action", "ADD", "parentID", "p/pallet/1", "childEPCs",
                        "b/y/1", DL_LOT("L2") "/21/SER9"));
    /* OBSERVE counts too; DELETE (disaggregation) states nothing. */
    epcis(&e, json_pack("{s:s, s:s, s:s, s:[{s:s, s:i}]}", "type",
                        "AggregationEvent", "action", "OBSERVE", "parentID",
                        "p/pallet/2", "childQuantityList", "epcClass", "b/y/1",
                        "quantity", 1));
    epcis(&e, json_pack("{s:s, s:s, s:s, s:[s]}", "type", "AggregationEvent",
                        "action", "DELETE", "parentID", "p/pallet/3",
                        "childEPCs", "b/y/1"));

    run(&e, "p/pallet/1", TRACE_BACKWARD, TRACE_DEPTH_ANY, &res);
    assert_true(has_lot(&res, "b/y/1"));
    assert_true(has_lot(&res, DL_LOT("L2")));
    assert_true(has_lot(&res, "a/x/1"));
    assert_true(has_lot(&res, DL_LOT("L1")));
    assert_int_equal(res.lot_count, 5);
    trace_result_close(&res);

    run(&e, "b/y/1", TRACE_FORWARD, TRACE_DEPTH_ANY, &res);
    assert_true(has_lot(&res, "p/pallet/1"));
    assert_true(has_lot(&res, "p/pallet/2"));
    assert_false(has_lot(&res, "p/pallet/3"));
    assert_int_equal(res.lot_count, 3);
    trace_result_close(&res);
    env_close(&e);
}

/* The facts of an EPCIS aggregation, edges included, are derived without
 * allocating: with every allocation failing they are still complete, so a
 * node short of memory never indexes fewer edges than its peers. */
static void test_epcis_facts_need_no_memory(void **state)
{
    (void)state;
    if (!testutil_alloc_available()) {
        skip(); /* AddressSanitizer owns the allocator */
    }
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    ev.epcis =
        origo_str_c("{\"action\":\"ADD\",\"childEPCs\":[\"b/y/1\",\"" DL_LOT(
            "L2") "/21/SER9\"],\"childQuantityList\":[{\"epcClass\":\"c/z/"
                  "1\",\"quantity\":3}],\"eventTime\":\"2026-01-01T00:00:00Z\","
                  "\"parentID\":\"p/pallet/1\",\"type\":\"AggregationEvent\"}");
    memset(ev.by, 7, 32);
    ev.net = origo_str_c("test/net");
    ev.ts = 1;
    assert_int_equal(origo_event_validate(&ev), 0);
    struct trace_facts *facts = malloc(sizeof(*facts));
    assert_non_null(facts);
    testutil_alloc_budget(0);
    int rc = trace_facts_from_event(&ev, facts);
    testutil_alloc_budget(-1);
    assert_int_equal(rc, 0);
    assert_int_equal(facts->lot_count, 4);
    assert_int_equal(facts->edge_count, 3);
    free(facts);
}

static void test_long_chain_cycle_terminates_with_one_cycle_edge(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    char from[32], to[32];
    const int chain = 5000;
    env_open(&e);
    for (int i = 0; i < chain; i++) {
        const char *in = from, *out = to;
        snprintf(from, sizeof(from), "c/lot/N%05d", i);
        snprintf(to, sizeof(to), "c/lot/N%05d", (i + 1) % chain);
        transform(&e, &in, 1, &out, 1);
    }
    run(&e, "c/lot/N00000", TRACE_FORWARD, TRACE_DEPTH_ANY, &res);
    assert_int_equal(res.lot_count, chain);
    assert_int_equal(res.edge_count, chain);
    assert_int_equal(res.cycle_edge_count, 1);
    const struct trace_edge *closing = &res.edges[res.cycle_edges[0]];
    assert_string_equal(res.lots[closing->to].lot, "c/lot/N00000");
    assert_int_equal(res.lots[res.lot_count - 1].depth, chain - 1);
    trace_result_close(&res);

    run(&e, "c/lot/N00000", TRACE_BACKWARD, 10, &res);
    assert_int_equal(res.lot_count, 11);
    assert_int_equal(res.cycle_edge_count, 0);
    assert_true(res.depth_limited);
    trace_result_close(&res);
    env_close(&e);
}

static void test_diamonds_are_not_cycles(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    /* r feeds s1 and s2, both feed f: two paths, no cycle. */
    const char *r[] = {"d/raw/R"}, *s[] = {"d/sub/S1", "d/sub/S2"};
    const char *f[] = {"d/fin/F"};
    env_open(&e);
    transform(&e, r, 1, s, 2);
    transform(&e, s, 2, f, 1);
    run(&e, "d/raw/R", TRACE_FORWARD, TRACE_DEPTH_ANY, &res);
    assert_int_equal(res.lot_count, 4);
    assert_int_equal(res.edge_count, 4);
    assert_int_equal(res.cycle_edge_count, 0);
    trace_result_close(&res);
    run(&e, "d/fin/F", TRACE_BACKWARD, TRACE_DEPTH_ANY, &res);
    assert_int_equal(res.lot_count, 4);
    assert_int_equal(res.cycle_edge_count, 0);
    trace_result_close(&res);
    env_close(&e);
}

static void test_max_lots_bounds_the_answer(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    const char *in[] = {"m/raw/R"};
    const char *out[100];
    char names[100][16];
    env_open(&e);
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "m/out/O%02d", i);
        out[i] = names[i];
    }
    transform(&e, in, 1, out, 100);
    struct trace_query query = {
        .lot = "m/raw/R",
        .lot_len = 7,
        .direction = TRACE_FORWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
        .max_lots = 50,
    };
    assert_int_equal(trace_query_run(e.txn, &e.tables, &query, &res),
                     ORIGO_E_TOOBIG);
    query.max_lots = 101;
    assert_int_equal(trace_query_run(e.txn, &e.tables, &query, &res), 0);
    assert_int_equal(res.lot_count, 101);
    trace_result_close(&res);
    env_close(&e);
}

static void test_corrupt_index_value_is_reported(void **state)
{
    (void)state;
    struct env e;
    struct trace_result res;
    struct trace_query query = {
        .lot = "k/lot/1",
        .lot_len = 7,
        .direction = TRACE_BACKWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
    };
    env_open(&e);
    MDB_val key = {7, "k/lot/1"}, value = {3, "bad"};
    assert_int_equal(mdb_put(e.txn, e.tables.lot_inputs, &key, &value, 0), 0);
    assert_int_equal(trace_query_run(e.txn, &e.tables, &query, &res),
                     ORIGO_E_CORRUPT);
    env_close(&e);
}

static int stop_at_second(void *ctx, uint64_t leaf_index)
{
    int *seen = ctx;
    (void)leaf_index;
    return ++*seen == 2 ? 42 : 0;
}

static void test_list_events_in_order_and_stops_early(void **state)
{
    (void)state;
    struct env e;
    const char *in[] = {"l/raw/R"}, *out1[] = {"l/out/A"},
               *out2[] = {"l/out/B"};
    int seen = 0;
    env_open(&e);
    transform(&e, in, 1, out1, 1);
    transform(&e, in, 1, out2, 1);
    transform(&e, out1, 1, out2, 1);
    assert_int_equal(trace_lot_list_events(e.txn, &e.tables, "l/raw/R", 7,
                                           TRACE_TREE_SIZE_ALL, stop_at_second,
                                           &seen),
                     42);
    seen = 0;
    assert_int_equal(trace_lot_list_events(e.txn, &e.tables, "l/raw/R", 7, 1,
                                           stop_at_second, &seen),
                     0);
    assert_int_equal(seen, 1); /* only leaf 0 is below tree size 1 */
    assert_int_equal(trace_lot_exists(e.txn, &e.tables, "l/out/B", 7), 1);
    assert_int_equal(trace_lot_exists(e.txn, &e.tables, "l/out/C", 7), 0);
    env_close(&e);
}

static void test_read_only_open_without_tables_is_not_found(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    MDB_env *env;
    MDB_txn *txn;
    struct trace_tables tables;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, TRACE_TABLE_COUNT), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), ORIGO_E_NOTFOUND);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    testutil_rmtree(dir);
    free(dir);
}

int main(void)
{
    /* Before any jansson call, so every jansson block comes from it. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transform_links_every_input_to_every_output),
        cmocka_unit_test(test_epcis_transformation_and_aggregation),
        cmocka_unit_test(test_epcis_facts_need_no_memory),
        cmocka_unit_test(test_long_chain_cycle_terminates_with_one_cycle_edge),
        cmocka_unit_test(test_diamonds_are_not_cycles),
        cmocka_unit_test(test_max_lots_bounds_the_answer),
        cmocka_unit_test(test_corrupt_index_value_is_reported),
        cmocka_unit_test(test_list_events_in_order_and_stops_early),
        cmocka_unit_test(test_read_only_open_without_tables_is_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
