/* Scenario: a node cut off from the cluster keeps timing out. With pre-vote
 * it never raises its term, so when it rejoins it does not depose the
 * working leader; without pre-vote and leases (the contrast case) it does. */
#include "raft_test.h"

static void run_rejoin(bool pre_vote, uint64_t *term_before,
                       uint64_t *term_after, uint64_t *isolated_term,
                       bool *leader_kept)
{
    struct sim_options o;
    sim_options_default(&o);
    o.pre_vote = pre_vote;
    o.check_quorum = pre_vote;
    o.leader_lease = pre_vote;
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 3);
    *term_before = rt_status(c, 1).term;

    sim_isolate(c, 3, true);
    for (int i = 0; i < 200; i++) {
        sim_tick(c, 3);
        if (i % 2 == 0) {
            sim_tick(c, 1);
            sim_tick(c, 2);
        }
        sim_deliver_all(c, 10);
        if (i % 20 == 0) {
            sim_propose(c, 1, "work", NULL);
        }
    }
    *isolated_term = rt_status(c, 3).term;

    sim_isolate(c, 3, false);
    for (int i = 0; i < 3; i++) {
        sim_tick(c, 1);
        sim_tick(c, 2);
        sim_tick(c, 3);
        sim_deliver_all(c, 10);
    }
    *term_after = rt_status(c, 1).term;
    *leader_kept = rt_status(c, 1).role == RAFT_LEADER;
    for (int i = 0; i < 50; i++) {
        rt_tick_all(c, 3);
    }
    assert_true(sim_check(c));
    sim_free(c);
}

static void disrupting_rejoining_node_does_not_raise_terms(void **state)
{
    (void)state;
    uint64_t before, after, isolated;
    bool kept;
    run_rejoin(true, &before, &after, &isolated, &kept);
    assert_int_equal(isolated, before); /* pre-votes never bump the term */
    assert_int_equal(after, before);
    assert_true(kept);
}

static void without_pre_vote_the_rejoining_node_disrupts(void **state)
{
    (void)state;
    uint64_t before, after, isolated;
    bool kept;
    run_rejoin(false, &before, &after, &isolated, &kept);
    assert_true(isolated > before + 5);
    assert_true(after >= isolated); /* the cluster had to follow its term */
    assert_false(kept);
}

static void followers_in_lease_ignore_vote_requests(void **state)
{
    (void)state;
    /* Check-quorum without pre-vote: a node that times out with a higher
     * term is ignored while the others hear a live leader. */
    struct sim_options o;
    sim_options_default(&o);
    o.pre_vote = false;
    o.check_quorum = true;
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 3);
    uint64_t term = rt_status(c, 1).term;
    sim_block(c, 1, 3, true); /* 3 stops hearing the leader, one way */
    for (int i = 0; i < 40; i++) {
        sim_tick(c, 1);
        sim_tick(c, 2);
        sim_tick(c, 3);
        sim_deliver_all(c, 10);
    }
    assert_true(rt_status(c, 3).term > term);
    assert_int_equal(rt_status(c, 1).term, term);
    assert_int_equal(rt_status(c, 2).term, term);
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disrupting_rejoining_node_does_not_raise_terms),
        cmocka_unit_test(without_pre_vote_the_rejoining_node_disrupts),
        cmocka_unit_test(followers_in_lease_ignore_vote_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
