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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_voter_waits_for_durable_vote),
        cmocka_unit_test(single_voter_crash_never_reuses_a_term),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
