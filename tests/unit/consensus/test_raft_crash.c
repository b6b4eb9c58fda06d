/* Scenario: crashes that lose writes not yet reported durable. Entries a
 * node had only in memory vanish, but an entry is committed only once a
 * majority holds it durably (the leader counting its own durable log), so
 * no crash loses a committed entry and the next leader has them all. */
#include "raft_test.h"

static uint64_t elect_any(struct sim_cluster *c)
{
    for (int i = 0; i < 200; i++) {
        for (uint64_t id = 1; id <= 3; id++) {
            if (rt_status(c, id).role == RAFT_LEADER &&
                sim_raft(c, id) != NULL) {
                return id;
            }
        }
        rt_tick_all(c, 3);
    }
    return 0;
}

static void crash_losing_unsynced_entries_keeps_committed_ones(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_unsynced_cluster(60);
    uint64_t committed = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sim_propose(c, 1, "durable", &committed), 0);
    }
    rt_settle(c, 3, 10);
    assert_int_equal(rt_status(c, 1).commit, committed);

    /* Five more reach every node's memory, nobody syncs, all crash. */
    uint64_t lost = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sim_propose(c, 1, "volatile", &lost), 0);
    }
    sim_deliver_all(c, 3);
    assert_int_equal(rt_status(c, 2).last_index, lost);
    assert_true(rt_status(c, 1).commit < committed + 1);
    for (uint64_t id = 1; id <= 3; id++) {
        sim_crash(c, id);
    }
    sim_drop_all(c);
    for (uint64_t id = 1; id <= 3; id++) {
        sim_restart(c, id);
        assert_int_equal(rt_status(c, id).last_index, committed);
    }
    uint64_t leader = elect_any(c);
    assert_true(leader != 0);
    rt_tick_all(c, 3); /* heartbeats carry the commit index */
    for (uint64_t id = 1; id <= 3; id++) {
        assert_true(rt_status(c, id).commit > committed);
        assert_true(sim_applied(c, id) > committed);
    }
    assert_true(sim_check(c));
    sim_free(c);
}

static void leader_crash_after_commit_keeps_entry(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_unsynced_cluster(60);
    uint64_t index;
    assert_int_equal(sim_propose(c, 1, "committed", &index), 0);
    /* Leader and follower 2 sync: a durable majority, so it commits. */
    sim_deliver_all(c, 1);
    sim_sync(c, 1);
    sim_sync(c, 2);
    sim_deliver_all(c, 1);
    assert_int_equal(rt_status(c, 1).commit, index);
    /* More entries the leader never syncs, then it and 3 crash. */
    uint64_t volatile_index;
    assert_int_equal(sim_propose(c, 1, "gone", &volatile_index), 0);
    sim_crash(c, 1);
    sim_crash(c, 3);
    sim_drop_all(c);
    sim_restart(c, 1);
    sim_restart(c, 3);
    assert_true(rt_status(c, 1).last_index < volatile_index);
    uint64_t leader = elect_any(c);
    assert_true(leader != 0);
    /* Leader completeness is checked by sim_check on every election. */
    uint64_t term;
    assert_true(raft_term_at(sim_raft(c, leader), index, &term));
    rt_tick_all(c, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        assert_true(sim_applied(c, id) >= index);
    }
    assert_true(sim_check(c));
    sim_free(c);
}

static void follower_ack_waits_for_its_sync(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_unsynced_cluster(60);
    uint64_t index;
    assert_int_equal(sim_propose(c, 1, "x", &index), 0);
    sim_deliver_all(c, 1);
    assert_int_equal(rt_status(c, 2).last_index, index);
    assert_int_equal(sim_count(c, 2, 1, RAFT_MSG_APPEND_RESP), 0);
    sim_sync(c, 2);
    assert_int_equal(sim_count(c, 2, 1, RAFT_MSG_APPEND_RESP), 1);
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_losing_unsynced_entries_keeps_committed_ones),
        cmocka_unit_test(leader_crash_after_commit_keeps_entry),
        cmocka_unit_test(follower_ack_waits_for_its_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
