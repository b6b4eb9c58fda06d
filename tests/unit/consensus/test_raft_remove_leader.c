/* Scenario: single-server membership changes. A new node joins as a
 * non-voting learner, is promoted only once caught up, one change at a
 * time; then the current leader removes itself: it keeps leading until the
 * change commits, steps down, and the remaining voters carry on without it
 * while it never campaigns again. */
#include "raft_test.h"

static void learner_joins_and_is_promoted_when_caught_up(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 1);
    assert_true(sim_elect(c, 1));
    for (int i = 0; i < 30; i++) {
        assert_int_equal(sim_propose(c, 1, "before", NULL), 0);
    }
    rt_tick_all(c, 4);
    struct raft *r1 = sim_raft(c, 1);
    assert_int_equal(raft_add_learner(r1, 4), 0);
    /* One change at a time. */
    assert_int_equal(raft_remove(r1, 2), ORIGO_E_RAFT_CONFIG);
    /* Not caught up yet: the learner has nothing. */
    assert_int_equal(raft_promote(r1, 4), ORIGO_E_RAFT_CONFIG);
    sim_drain(c, 1);
    for (int i = 0; i < 5; i++) {
        rt_tick_all(c, 4);
    }
    struct raft_status s4 = rt_status(c, 4);
    assert_true(raft_config_is_learner(&s4.config, 4));
    assert_int_equal(sim_applied(c, 4), sim_applied(c, 1));
    assert_int_equal(raft_promote(r1, 4), 0);
    sim_drain(c, 1);
    for (int i = 0; i < 3; i++) {
        rt_tick_all(c, 4);
    }
    struct raft_status st = rt_status(c, 4);
    assert_true(raft_config_is_voter(&st.config, 4));
    assert_int_equal(st.config.n_voters, 4);
    assert_true(sim_check(c));
    sim_free(c);
}

static void removing_the_current_leader(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    struct raft *r1 = sim_raft(c, 1);
    uint64_t term = rt_status(c, 1).term;
    assert_int_equal(raft_remove(r1, 1), 0);
    /* Until the change commits, the leader still leads (and replicates it
     * without counting itself). */
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    sim_drain(c, 1);
    rt_tick_all(c, 3);
    struct raft_status s1 = rt_status(c, 1);
    assert_int_equal(s1.role, RAFT_FOLLOWER);
    assert_false(raft_config_is_voter(&s1.config, 1));
    assert_int_equal(s1.term, term);

    uint64_t leader = 0;
    for (int i = 0; i < 100 && leader == 0; i++) {
        rt_tick_all(c, 3);
        leader = rt_leader_among(c, 2, 3);
    }
    assert_true(leader != 0);
    struct raft_status sl = rt_status(c, leader);
    assert_int_equal(sl.config.n_voters, 2);
    uint64_t index;
    assert_int_equal(sim_propose(c, leader, "after", &index), 0);
    for (int i = 0; i < 30; i++) {
        rt_tick_all(c, 3);
    }
    assert_true(rt_status(c, leader).commit >= index);
    assert_int_equal(rt_status(c, leader).term, sl.term);  /* no disruption */
    assert_int_equal(rt_status(c, 1).role, RAFT_FOLLOWER); /* never runs */
    assert_true(sim_check(c));
    sim_free(c);
}

static void removing_a_follower_and_the_last_voter_rule(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.n_voters = 1;
    struct sim_cluster *c = sim_new(&o);
    for (int i = 0; i < 30 && rt_status(c, 1).role != RAFT_LEADER; i++) {
        sim_tick(c, 1);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    assert_int_equal(raft_remove(sim_raft(c, 1), 1), ORIGO_E_RAFT_CONFIG);
    assert_int_equal(raft_remove(sim_raft(c, 1), 7), ORIGO_E_RAFT_CONFIG);
    sim_free(c);
}

/* Ongaro's 2015 correction: a new leader must commit an entry of its own
 * term before it changes the configuration, or an uncommitted change of a
 * previous leader and its own could have disjoint majorities. */
static void config_change_waits_for_a_commit_in_the_leaders_term(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.n_spares = 1;
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 4);
    /* Node 2 takes over; its no-op has not reached anybody yet. */
    assert_int_equal(raft_transfer(sim_raft(c, 1), 2), 0);
    sim_drain(c, 1);
    sim_deliver_type(c, 1, 2, RAFT_MSG_TIMEOUT_NOW);
    sim_deliver_type(c, 2, 0, RAFT_MSG_VOTE);
    sim_deliver_type(c, 0, 2, RAFT_MSG_VOTE_RESP);
    struct raft_status s2 = rt_status(c, 2);
    assert_int_equal(s2.role, RAFT_LEADER);
    assert_true(s2.commit < s2.last_index);
    struct raft *r2 = sim_raft(c, 2);
    assert_int_equal(raft_add_learner(r2, 4), ORIGO_E_RAFT_CONFIG);
    assert_int_equal(raft_remove(r2, 3), ORIGO_E_RAFT_CONFIG);
    rt_tick_all(c, 4); /* the no-op commits */
    assert_int_equal(rt_status(c, 2).commit, rt_status(c, 2).last_index);
    assert_int_equal(raft_add_learner(r2, 4), 0);
    sim_drain(c, 2);
    rt_tick_all(c, 4);
    assert_true(sim_check(c));
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learner_joins_and_is_promoted_when_caught_up),
        cmocka_unit_test(removing_the_current_leader),
        cmocka_unit_test(removing_a_follower_and_the_last_voter_rule),
        cmocka_unit_test(config_change_waits_for_a_commit_in_the_leaders_term),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
