/* Scenario: a follower that fell behind a compacted log receives the
 * leader's snapshot in chunks while new entries keep being proposed and
 * replicated to the others; it installs the snapshot, then catches up on
 * the entries after it, and every node ends with the same state. */
#include "raft_test.h"

static void snapshot_installed_while_entries_arrive(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.snapshot_chunk_bytes = 48; /* the 200-byte snapshot takes 5 chunks */
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 3);

    sim_isolate(c, 3, true);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(sim_propose(c, 1, "while 3 is away", NULL), 0);
    }
    rt_tick_all(c, 3);
    assert_int_equal(sim_snapshot(c, 1), 0);
    assert_int_equal(sim_snapshot(c, 2), 0);
    uint64_t snap_index = rt_status(c, 1).snapshot_index;
    assert_true(snap_index > rt_status(c, 3).last_index + 1);
    assert_null(raft_entry_at(sim_raft(c, 1), snap_index)); /* compacted */

    /* 3 comes back; chunks and new entries interleave, one network round
     * at a time. */
    sim_isolate(c, 3, false);
    uint64_t commit_at_start = rt_status(c, 1).commit;
    size_t chunks_seen = 0;
    for (int i = 0; i < 40; i++) {
        assert_int_equal(sim_propose(c, 1, "during transfer", NULL), 0);
        if (i % 3 == 0) {
            sim_tick(c, 1);
        }
        chunks_seen += sim_count(c, 1, 3, RAFT_MSG_SNAPSHOT);
        sim_deliver_all(c, 1);
    }
    assert_true(chunks_seen >= 5);
    assert_true(rt_status(c, 1).commit > commit_at_start + 30);
    for (int i = 0; i < 10; i++) {
        rt_tick_all(c, 3);
    }
    struct raft_status s3 = rt_status(c, 3);
    assert_true(s3.snapshot_index >= snap_index);
    assert_true(sim_stats(c)->snapshots_installed >= 1);
    assert_int_equal(s3.last_index, rt_status(c, 1).last_index);
    assert_int_equal(sim_applied(c, 3), sim_applied(c, 1));
    assert_true(sim_check(c)); /* same state machine hash everywhere */
    sim_free(c);
}

static void restart_from_snapshot_restores_state(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 0);
    assert_true(sim_elect(c, 1));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sim_propose(c, 1, "x", NULL), 0);
    }
    rt_tick_all(c, 3);
    assert_int_equal(sim_snapshot(c, 2), 0);
    assert_int_equal(sim_propose(c, 1, "after snapshot", NULL), 0);
    rt_tick_all(c, 3);
    uint64_t applied = sim_applied(c, 2);
    sim_crash(c, 2);
    sim_restart(c, 2);
    struct raft_status s2 = rt_status(c, 2);
    assert_true(s2.snapshot_index > 0);
    assert_int_equal(sim_applied(c, 2), applied); /* re-applied after it */
    assert_true(sim_check(c));
    sim_free(c);
}

static void snapshot_rejects_unapplied_index(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    struct raft_status st = rt_status(c, 1);
    uint8_t data[4] = {0};
    assert_int_equal(
        raft_snapshot_taken(sim_raft(c, 1), st.applied + 1, data, sizeof(data)),
        ORIGO_E_INVAL);
    assert_int_equal(raft_snapshot_taken(sim_raft(c, 1), 0, data, 4),
                     ORIGO_E_INVAL);
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(snapshot_installed_while_entries_arrive),
        cmocka_unit_test(restart_from_snapshot_restores_state),
        cmocka_unit_test(snapshot_rejects_unapplied_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
