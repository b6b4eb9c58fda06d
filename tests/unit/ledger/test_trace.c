/* Trace queries over the generated supply network (trace_net.c), built
 * through ledger_apply_block(): backward and forward answers equal the sets
 * computed here from the generator's own graph, for every lot and several
 * depth limits; the cycle attempt terminates and is reported; the recall
 * scope names each lot's last custodian and the holds in force; answers
 * evaluated at an older tree size ignore later events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <origo/error.h>
#include <origo/event.h>
#include <sodium.h>

#include "trace.h"
#include "trace_net.h"
#include "testutil.h"

static struct trace_net net;

/* ---- the independent expectation --------------------------------------- */

struct expect {
    int depth[NET_MAX_LOTS]; /* -1 when not reached */
    int reached;
    int edges[NET_MAX_EDGES]; /* indexes into net.edges */
    int edge_count;
    int cycle;
};

static int edge_source(const struct net_edge *e, enum trace_direction dir)
{
    return dir == TRACE_BACKWARD ? e->to : e->from;
}

static int edge_target(const struct net_edge *e, enum trace_direction dir)
{
    return dir == TRACE_BACKWARD ? e->from : e->to;
}

/* Depth-first search for a cycle among the explored edges. */
static int cycle_from(const struct expect *ex, enum trace_direction dir,
                      int lot, int *state, uint64_t max_tree)
{
    state[lot] = 1;
    for (int k = 0; k < ex->edge_count; k++) {
        const struct net_edge *e = &net.edges[ex->edges[k]];
        if (edge_source(e, dir) != lot || e->leaf >= max_tree) {
            continue;
        }
        int next = edge_target(e, dir);
        if (state[next] == 1 ||
            (state[next] == 0 && cycle_from(ex, dir, next, state, max_tree))) {
            return 1;
        }
    }
    state[lot] = 2;
    return 0;
}

static void expect_trace(struct expect *ex, int start, enum trace_direction dir,
                         int max_depth, uint64_t tree_size)
{
    int queue[NET_MAX_LOTS], head = 0, tail = 0;
    memset(ex, 0, sizeof(*ex));
    for (int i = 0; i < NET_MAX_LOTS; i++) {
        ex->depth[i] = -1;
    }
    ex->depth[start] = 0;
    queue[tail++] = start;
    while (head < tail) {
        int lot = queue[head++];
        if (ex->depth[lot] >= max_depth) {
            continue;
        }
        for (int e = 0; e < net.edge_count; e++) {
            const struct net_edge *edge = &net.edges[e];
            if (edge_source(edge, dir) != lot || edge->leaf >= tree_size) {
                continue;
            }
            ex->edges[ex->edge_count++] = e;
            int next = edge_target(edge, dir);
            if (ex->depth[next] < 0) {
                ex->depth[next] = ex->depth[lot] + 1;
                queue[tail++] = next;
            }
        }
    }
    ex->reached = tail;
    int state[NET_MAX_LOTS] = {0};
    ex->cycle = cycle_from(ex, dir, start, state, tree_size);
}

/* ---- running queries --------------------------------------------------- */

static void run(int start, enum trace_direction dir, uint32_t max_depth,
                unsigned flags, uint64_t tree_size, struct trace_result *out)
{
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_query query = {
        .lot = net.lots[start],
        .lot_len = strlen(net.lots[start]),
        .direction = dir,
        .max_depth = max_depth,
        .tree_size = tree_size,
        .flags = flags,
    };
    assert_int_equal(ledger_txn_begin(net.led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, out), 0);
    mdb_txn_abort(txn);
}

static int result_lot(const struct trace_result *res, uint32_t index)
{
    int lot = trace_net_lot(&net, res->lots[index].lot);
    if (lot < 0) {
        fail_msg("answer names unknown lot %s", res->lots[index].lot);
    }
    return lot;
}

static void check_answer(int start, enum trace_direction dir, int depth,
                         uint64_t tree_size)
{
    struct expect ex;
    struct trace_result res;
    expect_trace(&ex, start, dir, depth < 0 ? NET_MAX_LOTS : depth, tree_size);
    run(start, dir, depth < 0 ? TRACE_DEPTH_ANY : (uint32_t)depth, 0, tree_size,
        &res);

    /* Lots: the same set, each at its shortest depth, start first. */
    assert_int_equal(res.lot_count, ex.reached);
    assert_string_equal(res.lots[0].lot, net.lots[start]);
    for (size_t i = 0; i < res.lot_count; i++) {
        int lot = result_lot(&res, (uint32_t)i);
        assert_int_equal(res.lots[i].depth, ex.depth[lot]);
    }
    /* Edges: the same multiset of (from, to, leaf). */
    assert_int_equal(res.edge_count, ex.edge_count);
    int used[NET_MAX_EDGES] = {0};
    for (size_t i = 0; i < res.edge_count; i++) {
        int from = result_lot(&res, res.edges[i].from);
        int to = result_lot(&res, res.edges[i].to);
        int found = 0;
        for (int k = 0; k < ex.edge_count && !found; k++) {
            const struct net_edge *e = &net.edges[ex.edges[k]];
            if (!used[k] && e->from == from && e->to == to &&
                e->leaf == res.edges[i].leaf_index) {
                used[k] = found = 1;
            }
        }
        if (!found) {
            fail_msg("unexpected edge %s -> %s", net.lots[from], net.lots[to]);
        }
    }
    /* Cut short by the depth limit exactly when a lot at the limit has an
     * edge leading on. */
    int limited = 0;
    for (int k = 0; k < net.edge_count && depth >= 0; k++) {
        const struct net_edge *e = &net.edges[k];
        limited |=
            e->leaf < tree_size && ex.depth[edge_source(e, dir)] == depth;
    }
    assert_int_equal(res.depth_limited, limited);
    /* The events behind the answer are the edges' events and, when cut
     * short, one event that states an edge beyond the limit. */
    int evidence = 0;
    for (size_t i = 0; i < res.event_count; i++) {
        int behind = 0, beyond = 0;
        for (size_t k = 0; k < res.edge_count; k++) {
            behind |= res.edges[k].leaf_index == res.events[i];
        }
        for (int k = 0; k < net.edge_count && depth >= 0; k++) {
            const struct net_edge *e = &net.edges[k];
            beyond |= e->leaf == res.events[i] &&
                      ex.depth[edge_source(e, dir)] == depth;
        }
        assert_true(behind || beyond);
        evidence += beyond;
        if (i > 0) {
            assert_true(res.events[i] > res.events[i - 1]);
        }
    }
    assert_true(limited ? evidence >= 1 : evidence == 0);
    assert_int_equal(res.cycle_edge_count > 0, ex.cycle);
    trace_result_close(&res);
}

/* ---- tests ------------------------------------------------------------- */

static void test_backward_and_forward_sets_match_generator(void **state)
{
    (void)state;
    for (int lot = 0; lot < net.lot_count; lot++) {
        check_answer(lot, TRACE_BACKWARD, -1, TRACE_TREE_SIZE_ALL);
        check_answer(lot, TRACE_FORWARD, -1, TRACE_TREE_SIZE_ALL);
    }
}

static void test_depth_limits_are_respected(void **state)
{
    (void)state;
    for (int depth = 0; depth <= 3; depth++) {
        for (int lot = 0; lot < net.lot_count; lot++) {
            check_answer(lot, TRACE_BACKWARD, depth, TRACE_TREE_SIZE_ALL);
            check_answer(lot, TRACE_FORWARD, depth, TRACE_TREE_SIZE_ALL);
        }
    }
    /* A depth-0 answer is the lot alone, flagged as cut short. */
    struct trace_result res;
    run(net.fin_first, TRACE_BACKWARD, 0, 0, TRACE_TREE_SIZE_ALL, &res);
    assert_int_equal(res.lot_count, 1);
    assert_int_equal(res.edge_count, 0);
    assert_true(res.depth_limited);
    trace_result_close(&res);
    run(net.fin_first, TRACE_BACKWARD, 1, 0, TRACE_TREE_SIZE_ALL, &res);
    assert_true(res.depth_limited);
    trace_result_close(&res);
}

static void test_shared_raw_lots_reach_several_products(void **state)
{
    (void)state;
    /* The generator shares raw lots 0..14 among subassemblies: at least one
     * raw lot must reach two or more finished goods going forward. */
    int best = 0;
    for (int r = 0; r < net.raw_count; r++) {
        struct trace_result res;
        int finished = 0;
        run(net.raw_first + r, TRACE_FORWARD, TRACE_DEPTH_ANY, 0,
            TRACE_TREE_SIZE_ALL, &res);
        for (size_t i = 0; i < res.lot_count; i++) {
            int lot = result_lot(&res, (uint32_t)i);
            finished +=
                lot >= net.fin_first && lot < net.fin_first + net.fin_count;
        }
        best = finished > best ? finished : best;
        trace_result_close(&res);
    }
    assert_true(best >= 2);
}

static void test_cycle_attempt_terminates_and_is_reported(void **state)
{
    (void)state;
    struct trace_result res;
    run(net.cycle_raw, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, TRACE_TREE_SIZE_ALL,
        &res);
    assert_true(res.cycle_edge_count >= 1);
    /* The edge reported closes the loop: it comes from F00 into the raw
     * lot the traversal started from (forward, every path leads back). */
    int closes = 0;
    for (size_t i = 0; i < res.cycle_edge_count; i++) {
        const struct trace_edge *e = &res.edges[res.cycle_edges[i]];
        closes |= result_lot(&res, e->to) == net.cycle_raw;
    }
    assert_true(closes);
    trace_result_close(&res);

    run(net.fin_first, TRACE_BACKWARD, TRACE_DEPTH_ANY, 0, TRACE_TREE_SIZE_ALL,
        &res);
    assert_true(res.cycle_edge_count >= 1);
    trace_result_close(&res);
}

/* The expected last custody record and holds in force of one lot. */
static const struct net_record *last_custody(int lot, uint64_t tree_size)
{
    const struct net_record *last = NULL;
    for (int i = 0; i < net.record_count; i++) {
        const struct net_record *r = &net.records[i];
        if (r->lot == lot && r->leaf < tree_size &&
            (r->kind == TRACE_CUSTODY_SHIP ||
             r->kind == TRACE_CUSTODY_RECEIVE)) {
            last = r;
        }
    }
    return last;
}

static int holds_in_force(int lot, const struct net_record **out)
{
    int n = 0;
    for (int i = 0; i < net.record_count; i++) {
        const struct net_record *r = &net.records[i];
        if (r->lot != lot) {
            continue;
        }
        if (r->kind == TRACE_HOLD || r->kind == TRACE_RECALL) {
            out[n++] = r;
        } else if (r->kind == TRACE_RELEASE) {
            int keep = 0;
            for (int k = 0; k < n; k++) {
                if (out[k]->kind == TRACE_RECALL) {
                    out[keep++] = out[k];
                }
            }
            n = keep;
        }
    }
    return n;
}

static void check_recall(int start)
{
    struct trace_result res;
    run(start, TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL,
        TRACE_TREE_SIZE_ALL, &res);
    for (size_t i = 0; i < res.lot_count; i++) {
        const struct trace_lot *lot = &res.lots[i];
        int index = result_lot(&res, (uint32_t)i);
        const struct net_record *want = last_custody(index, UINT64_MAX);
        assert_int_equal(lot->has_custody, want != NULL);
        if (want != NULL) {
            assert_int_equal(lot->custody_leaf, want->leaf);
            assert_int_equal(lot->custody_kind, want->kind);
            assert_string_equal(lot->custodian, want->to);
            assert_string_equal(lot->custody_from, want->from);
        }
        const struct net_record *holds[NET_MAX_RECORDS];
        int n = holds_in_force(index, holds);
        assert_int_equal(lot->hold_count, n);
        for (int h = 0; h < n; h++) {
            const struct trace_hold *got = &res.holds[lot->hold_first + h];
            assert_int_equal(got->leaf_index, holds[h]->leaf);
            assert_int_equal(got->kind, holds[h]->kind);
            assert_int_equal(got->lot, i);
        }
    }
    trace_result_close(&res);
}

static void test_recall_scope_lists_last_custodian_and_holds(void **state)
{
    (void)state;
    for (int r = 0; r < net.raw_count; r++) {
        check_recall(net.raw_first + r);
    }
    for (int s = 0; s < net.sub_count; s++) {
        check_recall(net.sub_first + s);
    }
    /* Spot checks of the generator's story. F02 was shipped by p2 to the
     * carrier c0, which received it and shipped it on to p1: its last
     * custodian is p1 (in transit). */
    struct trace_result res;
    run(net.fin_first + 2, TRACE_FORWARD, 0, TRACE_WITH_RECALL,
        TRACE_TREE_SIZE_ALL, &res);
    assert_string_equal(res.lots[0].custodian, "p1");
    assert_int_equal(res.lots[0].custody_kind, TRACE_CUSTODY_SHIP);
    trace_result_close(&res);
    /* F04: recalled, then held and released: the recall stays in force. */
    run(net.fin_first + 4, TRACE_FORWARD, 0, TRACE_WITH_RECALL,
        TRACE_TREE_SIZE_ALL, &res);
    assert_int_equal(res.lots[0].hold_count, 1);
    assert_int_equal(res.holds[0].kind, TRACE_RECALL);
    trace_result_close(&res);
    /* S01: held, released, held again: one hold in force. */
    run(net.sub_first + 1, TRACE_FORWARD, 0, TRACE_WITH_RECALL,
        TRACE_TREE_SIZE_ALL, &res);
    assert_int_equal(res.lots[0].hold_count, 1);
    assert_int_equal(res.holds[0].kind, TRACE_HOLD);
    trace_result_close(&res);
}

static void test_recall_requires_forward(void **state)
{
    (void)state;
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {
        .lot = net.lots[0],
        .lot_len = strlen(net.lots[0]),
        .direction = TRACE_BACKWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
        .flags = TRACE_WITH_RECALL,
    };
    assert_int_equal(ledger_txn_begin(net.led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, &res),
                     ORIGO_E_INVAL);
    query.direction = TRACE_FORWARD;
    query.lot_len = 0;
    assert_int_equal(trace_query_run(txn, &tables, &query, &res),
                     ORIGO_E_INVAL);
    mdb_txn_abort(txn);
}

static void test_answers_at_older_tree_size_ignore_later_events(void **state)
{
    (void)state;
    ledger_state before, after;
    assert_int_equal(ledger_get_state(net.led, NULL, &before), 0);
    int kit = trace_net_extend(&net);
    assert_int_equal(ledger_get_state(net.led, NULL, &after), 0);
    assert_true(after.tree_size > before.tree_size);

    struct trace_result res;
    run(net.fin_first + 1, TRACE_FORWARD, TRACE_DEPTH_ANY, 0, before.tree_size,
        &res);
    for (size_t i = 0; i < res.lot_count; i++) {
        assert_int_not_equal(result_lot(&res, (uint32_t)i), kit);
    }
    trace_result_close(&res);
    run(net.fin_first + 1, TRACE_FORWARD, TRACE_DEPTH_ANY, 0,
        TRACE_TREE_SIZE_ALL, &res);
    int found = 0;
    for (size_t i = 0; i < res.lot_count; i++) {
        found |= result_lot(&res, (uint32_t)i) == kit;
    }
    assert_true(found);
    trace_result_close(&res);
    for (int lot = 0; lot < net.lot_count; lot++) {
        check_answer(lot, TRACE_BACKWARD, -1, before.tree_size);
        check_answer(lot, TRACE_FORWARD, -1, after.tree_size);
    }
}

#define OOM_PARENT "p0/pallet/OOM"

/* Plant p0 creates the lots of the aggregation below in one block: rule
 * version 1 aggregates only lots that exist and that the signer holds. */
static void create_oom_lots(const origo_key *plant)
{
    static const char *const lots[] = {"p0/case/OOM-1", "p0/case/OOM-2",
                                       "p0/case/OOM-3", OOM_PARENT};
    origo_buf bufs[4];
    ledger_envelope envs[4];
    ledger_outcome outcomes[4];
    ledger_block_result result = {.outcomes = outcomes};
    for (int i = 0; i < 4; i++) {
        origo_event ev;
        origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
        ev.net = origo_str_c(NET_ORIGIN);
        ev.ts = net.block_time;
        memcpy(ev.by, origo_key_public(plant), 32);
        ev.n_lots = 1;
        ev.lots[0] = (origo_lot_ref){ORIGO_LOT_SUBJECT, origo_str_c(lots[i]),
                                     origo_str_c("4"), origo_str_c("pcs")};
        ev.item = origo_str_c("CASE");
        origo_buf_init(&bufs[i], ORIGO_ENVELOPE_MAX);
        assert_int_equal(origo_event_seal(&ev, plant, &bufs[i], NULL), 0);
        envs[i] = (ledger_envelope){.data = bufs[i].data, .len = bufs[i].len};
    }
    assert_int_equal(ledger_apply_block(net.led, NULL, 1, ++net.raft_index,
                                        net.block_time, envs, 4, 0, &result),
                     0);
    assert_int_equal(result.rejected, 0);
    for (int i = 0; i < 4; i++) {
        origo_buf_close(&bufs[i]);
    }
    net.block_time += 1000;
    net.event_count += 4;
}

/* An EPCIS aggregation applied while the process runs out of memory, at
 * every allocation of decoding, validation, LMDB and trace indexing in
 * turn (a budget of 0, 1, 2... allocations): each attempt
 * either aborts the whole block with ORIGO_E_NOMEM, leaving the ledger as
 * it was, or accepts the event with all its edges. Never a rejection (the
 * other validators accept it) and never an event indexed without edges. */
static void test_out_of_memory_aborts_the_block_never_rejects(void **state)
{
    (void)state;
    if (!testutil_alloc_available()) {
        skip(); /* AddressSanitizer owns the allocator */
    }
    const origo_key *plant = net.parties[4]; /* p0 */
    create_oom_lots(plant);
    char text[512], when[32];
    testutil_rfc3339(net.block_time, when);
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"childEPCs\":[\"p0/case/OOM-1\",\"p0/case/"
             "OOM-2\"],\"childQuantityList\":[{\"epcClass\":\"p0/case/OOM-3\","
             "\"quantity\":4}],\"eventTime\":\"%s\",\"parentID\":"
             "\"" OOM_PARENT "\",\"type\":\"AggregationEvent\"}",
             when);
    origo_event ev;
    origo_buf envelope;
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    ev.epcis = origo_str_c(text);
    ev.net = origo_str_c(NET_ORIGIN);
    ev.ts = net.block_time;
    memcpy(ev.by, origo_key_public(plant), 32);
    origo_buf_init(&envelope, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_event_seal(&ev, plant, &envelope, NULL), 0);
    ledger_envelope env = {.data = envelope.data, .len = envelope.len};

    ledger_state before, now;
    assert_int_equal(ledger_get_state(net.led, NULL, &before), 0);
    int rc = ORIGO_E_NOMEM;
    long budget;
    ledger_outcome outcome;
    ledger_block_result result;
    for (budget = 0; budget < 100000 && rc == ORIGO_E_NOMEM; budget++) {
        memset(&result, 0, sizeof(result));
        result.outcomes = &outcome;
        testutil_alloc_budget(budget);
        rc = ledger_apply_block(net.led, NULL, 1, net.raft_index + 1,
                                net.block_time, &env, 1, 0, &result);
        testutil_alloc_budget(-1);
        if (rc != 0 && rc != ORIGO_E_NOMEM) {
            fail_msg("%ld allocations allowed: %s", budget, origo_strerror(rc));
        }
        if (rc == ORIGO_E_NOMEM) {
            assert_int_equal(ledger_get_state(net.led, NULL, &now), 0);
            assert_int_equal(now.height, before.height);
            assert_int_equal(now.tree_size, before.tree_size);
        }
    }
    assert_int_equal(rc, 0);
    if (outcome.status != 0) {
        fail_msg("%ld allocations allowed: rejected with %s", budget - 1,
                 origo_strerror(outcome.status));
    }
    assert_true(budget > 1); /* the loop did meet failures */
    assert_int_equal(result.rejected, 0);
    net.raft_index++;
    net.block_time += 1000;
    net.event_count++;
    origo_buf_close(&envelope);

    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {
        .lot = OOM_PARENT,
        .lot_len = strlen(OOM_PARENT),
        .direction = TRACE_BACKWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
    };
    assert_int_equal(ledger_txn_begin(net.led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, &res), 0);
    assert_int_equal(res.lot_count, 4);
    assert_int_equal(res.edge_count, 3);
    trace_result_close(&res);
    mdb_txn_abort(txn);
}

static int count_cb(void *ctx, uint64_t leaf_index)
{
    (void)leaf_index;
    (*(int *)ctx)++;
    return 0;
}

struct leaves {
    uint64_t leaf[NET_MAX_EDGES];
    size_t count;
};

static void add_leaf(struct leaves *set, uint64_t leaf)
{
    for (size_t i = 0; i < set->count; i++) {
        if (set->leaf[i] == leaf) {
            return;
        }
    }
    set->leaf[set->count++] = leaf;
}

static void sort_leaves(struct leaves *set)
{
    for (size_t i = 1; i < set->count; i++) {
        for (size_t j = i; j > 0 && set->leaf[j - 1] > set->leaf[j]; j--) {
            uint64_t t = set->leaf[j];
            set->leaf[j] = set->leaf[j - 1];
            set->leaf[j - 1] = t;
        }
    }
}

static int collect_cb(void *ctx, uint64_t leaf_index)
{
    struct leaves *set = ctx;
    set->leaf[set->count++] = leaf_index;
    return 0;
}

static void test_lot_exists_and_secondary_indexes(void **state)
{
    (void)state;
    MDB_txn *txn;
    struct trace_tables tables;
    assert_int_equal(ledger_txn_begin(net.led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    for (int lot = 0; lot < net.lot_count; lot++) {
        assert_int_equal(trace_lot_exists(txn, &tables, net.lots[lot],
                                          strlen(net.lots[lot])),
                         1);
    }
    assert_int_equal(trace_lot_exists(txn, &tables, "zz/none/X1", 10), 0);
    /* A COA hash finds its attestation. */
    uint8_t coa[32];
    int count = 0;
    crypto_hash_sha256(coa, (const uint8_t *)net.lots[net.raw_first],
                       strlen(net.lots[net.raw_first]));
    assert_int_equal(trace_list_events(txn, tables.doc_events, coa, 32,
                                       TRACE_TREE_SIZE_ALL, count_cb, &count),
                     0);
    assert_int_equal(count, 1);
    /* Every lot: exactly the events the generator made about it, in log
     * order, whether they state edges or not. */
    for (int lot = 0; lot < net.lot_count; lot++) {
        struct leaves got = {0}, want = {0};
        for (int e = 0; e < net.edge_count; e++) {
            if (net.edges[e].from == lot || net.edges[e].to == lot) {
                add_leaf(&want, net.edges[e].leaf);
            }
        }
        for (int r = 0; r < net.record_count; r++) {
            if (net.records[r].lot == lot) {
                add_leaf(&want, net.records[r].leaf);
            }
        }
        sort_leaves(&want);
        assert_int_equal(trace_lot_list_events(
                             txn, &tables, net.lots[lot], strlen(net.lots[lot]),
                             TRACE_TREE_SIZE_ALL, collect_cb, &got),
                         0);
        assert_int_equal(got.count, want.count);
        for (size_t i = 0; i < got.count; i++) {
            assert_int_equal(got.leaf[i], want.leaf[i]);
        }
    }
    mdb_txn_abort(txn);
}

static void test_unknown_lot_answers_itself(void **state)
{
    (void)state;
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {
        .lot = "zz/none/X1",
        .lot_len = 10,
        .direction = TRACE_FORWARD,
        .max_depth = TRACE_DEPTH_ANY,
        .tree_size = TRACE_TREE_SIZE_ALL,
        .flags = TRACE_WITH_RECALL,
    };
    assert_int_equal(ledger_txn_begin(net.led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, &res), 0);
    assert_int_equal(res.lot_count, 1);
    assert_int_equal(res.edge_count, 0);
    assert_int_equal(res.event_count, 0);
    assert_false(res.lots[0].has_custody);
    trace_result_close(&res);
    mdb_txn_abort(txn);
}

static int setup(void **state)
{
    (void)state;
    trace_net_build(&net, 0x5eed);
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
        cmocka_unit_test(test_backward_and_forward_sets_match_generator),
        cmocka_unit_test(test_depth_limits_are_respected),
        cmocka_unit_test(test_shared_raw_lots_reach_several_products),
        cmocka_unit_test(test_cycle_attempt_terminates_and_is_reported),
        cmocka_unit_test(test_recall_scope_lists_last_custodian_and_holds),
        cmocka_unit_test(test_recall_requires_forward),
        cmocka_unit_test(test_lot_exists_and_secondary_indexes),
        cmocka_unit_test(test_unknown_lot_answers_itself),
        /* Last: these extend the ledger. */
        cmocka_unit_test(test_answers_at_older_tree_size_ignore_later_events),
        cmocka_unit_test(test_out_of_memory_aborts_the_block_never_rejects),
    };
    /* Before any jansson call, so every jansson block comes from it. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
