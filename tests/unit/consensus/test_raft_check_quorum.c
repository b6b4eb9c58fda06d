/* Scenario: a leader cut off from its followers must notice within an
 * election timeout that it no longer hears a quorum and step down
 * (check-quorum), so it stops accepting proposals it can never commit; the
 * majority side elects a new leader and the old one rejoins as follower. */
#include "raft_test.h"

static void stale_leader_after_partition_steps_down(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    uint64_t old_term = rt_status(c, 1).term;

    sim_isolate(c, 1, true);
    uint64_t stale_index;
    assert_int_equal(sim_propose(c, 1, "stale", &stale_index), 0);
    int ticks = 0;
    while (rt_status(c, 1).role == RAFT_LEADER && ticks < 100) {
        sim_tick(c, 1);
        sim_drop_all(c);
        ticks++;
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_FOLLOWER);
    assert_true(ticks <= 2 * 10); /* within two election timeouts */
    assert_int_equal(rt_status(c, 1).term, old_term); /* no term bump */
    assert_int_equal(sim_propose(c, 1, "refused", NULL), ORIGO_E_NOT_LEADER);

    /* The majority side elects a new leader and commits. */
    uint64_t leader = rt_elect_among(c, 2, 3, 100);
    assert_true(leader != 0);
    uint64_t index;
    assert_int_equal(sim_propose(c, leader, "fresh", &index), 0);
    rt_tick_all(c, 3);

    /* The old leader rejoins, its stale entry is replaced, never applied. */
    sim_heal(c);
    for (int i = 0; i < 5; i++) {
        rt_tick_all(c, 3);
    }
    assert_int_equal(rt_status(c, 1).leader, leader);
    assert_int_equal(sim_applied(c, 1), sim_applied(c, leader));
    uint64_t term;
    assert_true(raft_term_at(sim_raft(c, 1), stale_index, &term));
    assert_true(term > old_term);
    assert_true(sim_check(c));
    sim_free(c);
}

static void healthy_leader_keeps_leading(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 0);
    assert_true(sim_elect(c, 1));
    uint64_t term = rt_status(c, 1).term;
    for (int i = 0; i < 100; i++) {
        rt_tick_all(c, 3);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    assert_int_equal(rt_status(c, 1).term, term);
    sim_free(c);
}

static void leader_hearing_only_a_minority_steps_down(void **state)
{
    (void)state;
    /* Five nodes; the leader still hears one follower: two of five is not
     * a quorum. */
    struct sim_cluster *c = rt_cluster_led(5);
    for (uint64_t id = 3; id <= 5; id++) {
        sim_block(c, 1, id, true);
        sim_block(c, id, 1, true);
    }
    for (int i = 0; i < 30 && rt_status(c, 1).role == RAFT_LEADER; i++) {
        sim_tick(c, 1);
        sim_tick(c, 2);
        sim_deliver_all(c, 5);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_FOLLOWER);
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_leader_after_partition_steps_down),
        cmocka_unit_test(healthy_leader_keeps_leading),
        cmocka_unit_test(leader_hearing_only_a_minority_steps_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
