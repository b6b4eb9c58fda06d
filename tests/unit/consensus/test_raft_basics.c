/* Unit tests of the Raft core's basics: configuration encoding, option
 * checks, elections, replication and apply, durability before answers,
 * flow control, fast backtracking and leadership transfer. Clusters are
 * driven by hand through the simulator harness. */
#include "raft_test.h"

static uint64_t fixed_rand(void *ctx)
{
    (void)ctx;
    return 3;
}

static void config_encoding_round_trips_and_rejects_bad_input(void **state)
{
    (void)state;
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.n_voters = 3;
    c.voters[0] = 1;
    c.voters[1] = 2;
    c.voters[2] = 9;
    c.n_learners = 1;
    c.learners[0] = 4;
    uint8_t buf[RAFT_CONFIG_ENCODED_MAX];
    size_t len = raft_config_encode(&c, buf, sizeof(buf));
    assert_int_equal(len, 8 + 8 * 4);
    struct raft_config d;
    assert_int_equal(raft_config_decode(buf, len, &d), 0);
    assert_int_equal(d.n_voters, 3);
    assert_int_equal(d.voters[2], 9);
    assert_int_equal(d.learners[0], 4);
    assert_true(raft_config_is_voter(&d, 2));
    assert_true(raft_config_is_learner(&d, 4));
    assert_false(raft_config_is_voter(&d, 4));
    assert_int_equal(raft_config_encode(&c, buf, 10), 0);
    assert_int_equal(raft_config_decode(buf, len - 1, &d), ORIGO_E_RAFT_CONFIG);
    buf[8 + 8] = 1; /* second voter becomes 1 again: duplicate */
    memset(buf + 8 + 8 + 1, 0, 7);
    assert_int_equal(raft_config_decode(buf, len, &d), ORIGO_E_RAFT_CONFIG);
    memset(buf + 8, 0, 8); /* id 0 */
    assert_int_equal(raft_config_decode(buf, len, &d), ORIGO_E_RAFT_CONFIG);
}

static void new_rejects_bad_options(void **state)
{
    (void)state;
    struct raft_options o;
    struct raft *r = NULL;
    raft_options_default(&o);
    o.id = 1;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL); /* no rand */
    o.rand_fn = fixed_rand;
    o.election_ticks = 1;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
    o.election_ticks = 10;
    o.id = RAFT_NONE;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
    o.id = 1;
    assert_int_equal(raft_new(&o, NULL, &r), 0);
    assert_int_equal(raft_propose(r, (const uint8_t *)"x", 1, NULL),
                     ORIGO_E_NOT_LEADER);
    raft_free(r);
    raft_free(NULL);
}

static void single_node_elects_itself_and_commits_after_persisting(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.n_voters = 1;
    o.auto_sync = false;
    struct sim_cluster *c = sim_new(&o);
    for (int i = 0; i < 30 && rt_status(c, 1).role != RAFT_LEADER; i++) {
        sim_tick(c, 1);
        sim_sync(c, 1); /* its own vote must be durable before it leads */
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    uint64_t index;
    assert_int_equal(sim_propose(c, 1, "one", &index), 0);
    assert_int_equal(index, 2); /* after the leader's no-op */
    assert_true(rt_status(c, 1).commit < index);
    sim_sync(c, 1);
    assert_int_equal(rt_status(c, 1).commit, index);
    assert_int_equal(sim_applied(c, 1), index);
    assert_true(sim_check(c));
    sim_free(c);
}

static void three_nodes_elect_replicate_and_apply(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 0);
    assert_true(sim_elect(c, 1));
    assert_int_equal(rt_status(c, 2).leader, 1);
    uint64_t index = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sim_propose(c, 1, "entry", &index), 0);
    }
    assert_int_equal(sim_propose(c, 2, "no", NULL), ORIGO_E_NOT_LEADER);
    sim_deliver_all(c, 20);
    rt_tick_all(c, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        assert_int_equal(rt_status(c, id).commit, index);
        assert_int_equal(sim_applied(c, id), index);
    }
    assert_true(sim_check(c));
    sim_free(c);
}

static void votes_leave_only_after_the_vote_is_durable(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.pre_vote = false;
    o.auto_sync = false;
    struct sim_cluster *c = sim_new(&o);
    for (int i = 0; i < 30 && rt_status(c, 1).role != RAFT_CANDIDATE; i++) {
        sim_tick(c, 1);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_CANDIDATE);
    /* The candidate's own vote is not durable yet: no request is out. */
    assert_int_equal(sim_count(c, 1, 0, RAFT_MSG_VOTE), 0);
    sim_sync(c, 1);
    assert_int_equal(sim_count(c, 1, 0, RAFT_MSG_VOTE), 2);
    sim_deliver_only(c, 1, 0);
    /* Voters hold their grant until their vote is durable. */
    assert_int_equal(sim_count(c, 0, 1, RAFT_MSG_VOTE_RESP), 0);
    sim_sync(c, 2);
    assert_int_equal(sim_count(c, 2, 1, RAFT_MSG_VOTE_RESP), 1);
    sim_deliver_only(c, 2, 1);
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    sim_free(c);
}

/* A follower whose committed entry differs from the leader's (the log of
 * one of them lost or changed a committed entry: docs/incidents/
 * 2026-12-06-divergence.md, where a follower applied an entry the leader
 * had never stored) refuses the leader's appends with ORIGO_E_DIVERGED,
 * whichever way they overlap its committed prefix, and changes nothing;
 * an append that agrees goes on as before. Before, it answered with its
 * commit index and rejected the next probe, forever, while serving its
 * own history. */
static void a_contradicted_commit_is_refused(void **state)
{
    (void)state;
    struct raft_options o;
    raft_options_default(&o);
    o.id = 2;
    o.rand_fn = fixed_rand;
    uint8_t bytes[8] = {0};
    struct raft_entry log[3] = {
        {.index = 1, .term = 1, .type = RAFT_ENTRY_NOOP},
        {.index = 2, .term = 1, .data = {bytes, 8}},
        {.index = 3, .term = 2, .data = {bytes, 8}},
    };
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.bootstrap.n_voters = 3;
    for (uint32_t i = 0; i < 3; i++)
        rs.bootstrap.voters[i] = i + 1;
    rs.hard_state = (struct raft_hard_state){2, 0, 3}; /* 3 is committed */
    rs.entries = log;
    rs.n_entries = 3;
    struct raft *r;
    assert_int_equal(raft_new(&o, &rs, &r), 0);
    struct raft_entry theirs = {.index = 3, .term = 3, .data = {bytes, 8}};
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = 1;
    m.to = 2;
    m.term = 3;
    /* The leader's entry 3 is of term 3: prev (3, 3) contradicts ours. */
    m.u.append.prev_index = 3;
    m.u.append.prev_term = 3;
    m.u.append.commit = 3;
    assert_int_equal(raft_step(r, &m), ORIGO_E_DIVERGED);
    /* The same entry sent as an entry after prev (2, 1). */
    m.u.append.prev_index = 2;
    m.u.append.prev_term = 1;
    m.u.append.entries = &theirs;
    m.u.append.n_entries = 1;
    assert_int_equal(raft_step(r, &m), ORIGO_E_DIVERGED);
    struct raft_status st;
    raft_status(r, &st);
    assert_int_equal(st.last_index, 3);
    assert_int_equal(st.last_term, 2);
    assert_int_equal(st.commit, 3);
    /* A leader whose log agrees: prev (3, 2), a new entry 4. */
    theirs.index = 4;
    m.u.append.prev_index = 3;
    m.u.append.prev_term = 2;
    m.u.append.commit = 4;
    assert_int_equal(raft_step(r, &m), 0);
    raft_status(r, &st);
    assert_int_equal(st.last_index, 4);
    assert_int_equal(st.last_term, 3);
    assert_int_equal(st.commit, 4);
    raft_free(r);
}

static void leader_counts_only_its_own_persisted_entries(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_unsynced_cluster(40);
    sim_crash(c, 3);
    uint64_t index;
    assert_int_equal(sim_propose(c, 1, "x", &index), 0);
    /* Follower 2 makes it durable and acknowledges; the leader has not
     * synced: one durable copy of three is not a majority. */
    sim_deliver_all(c, 1);
    sim_sync(c, 2);
    sim_deliver_all(c, 1);
    assert_true(rt_status(c, 1).commit < index);
    sim_sync(c, 1);
    assert_int_equal(rt_status(c, 1).commit, index);
    sim_free(c);
}

static void flow_control_bounds_appends_in_flight(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.max_inflight_msgs = 2;
    o.max_msg_entries = 1;
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 3);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sim_propose(c, 1, "e", NULL), 0);
    }
    assert_int_equal(sim_count(c, 1, 2, RAFT_MSG_APPEND), 2);
    assert_int_equal(sim_count(c, 1, 3, RAFT_MSG_APPEND), 2);
    sim_deliver_all(c, 100);
    assert_int_equal(rt_status(c, 2).last_index, rt_status(c, 1).last_index);
    sim_free(c);
}

static void conflicting_log_is_repaired_in_few_round_trips(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    /* Leader 1 is cut off and writes 40 entries nobody else gets. */
    sim_isolate(c, 1, true);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(sim_propose(c, 1, "stale", NULL), 0);
    }
    sim_drop_all(c);
    /* Node 2 or 3 wins and writes 40 entries of its own term. */
    uint64_t leader = rt_elect_among(c, 2, 3, 60);
    assert_true(leader != 0);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(sim_propose(c, leader, "fresh", NULL), 0);
    }
    sim_deliver_all(c, 20);
    sim_isolate(c, 1, false);
    sim_tick(c, leader); /* heartbeat reaches 1: it learns the new term */
    int rounds = 0;
    while (rounds < 100 &&
           (rt_status(c, 1).last_term != rt_status(c, leader).last_term ||
            rt_status(c, 1).last_index != rt_status(c, leader).last_index)) {
        sim_deliver_all(c, 1);
        rounds++;
        if (sim_queued(c) == 0) {
            sim_tick(c, leader);
        }
    }
    /* One hint skips the whole conflicting term: a handful of rounds, not
     * one per conflicting entry. */
    print_message("repaired in %d rounds\n", rounds);
    assert_true(rounds <= 8);
    assert_true(sim_check(c));
    sim_free(c);
}

static void leadership_transfer_hands_over_to_the_target(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    uint64_t term = rt_status(c, 1).term;
    assert_int_equal(raft_transfer(sim_raft(c, 1), 1), ORIGO_E_RAFT_CONFIG);
    assert_int_equal(raft_transfer(sim_raft(c, 1), 3), 0);
    assert_int_equal(sim_propose(c, 1, "x", NULL), ORIGO_E_TRANSFER);
    sim_deliver_all(c, 20);
    assert_int_equal(rt_status(c, 3).role, RAFT_LEADER);
    assert_int_equal(rt_status(c, 3).term, term + 1);
    assert_int_equal(rt_status(c, 1).role, RAFT_FOLLOWER);
    assert_int_equal(sim_propose(c, 3, "y", NULL), 0);
    rt_tick_all(c, 3);
    assert_true(sim_check(c));
    sim_free(c);
}

static void transfer_to_a_lagging_target_waits_for_catch_up(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    sim_isolate(c, 3, true);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sim_propose(c, 1, "while 3 lags", NULL), 0);
    }
    sim_deliver_all(c, 20);
    sim_isolate(c, 3, false);
    assert_int_equal(raft_transfer(sim_raft(c, 1), 3), 0);
    sim_drain(c, 1);
    /* Not caught up yet: no TIMEOUT_NOW is out. */
    assert_int_equal(sim_count(c, 1, 3, RAFT_MSG_TIMEOUT_NOW), 0);
    uint64_t term = rt_status(c, 1).term;
    for (int i = 0; i < 10 && rt_status(c, 3).role != RAFT_LEADER; i++) {
        rt_tick_all(c, 3);
    }
    assert_int_equal(rt_status(c, 3).role, RAFT_LEADER);
    assert_int_equal(rt_status(c, 3).term, term + 1); /* by transfer */
    assert_int_equal(rt_status(c, 3).last_index, rt_status(c, 1).last_index);
    assert_true(sim_check(c));
    sim_free(c);
}

static void transfer_to_an_unreachable_target_is_abandoned(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    sim_isolate(c, 3, true);
    assert_int_equal(sim_propose(c, 1, "x", NULL), 0);
    assert_int_equal(raft_transfer(sim_raft(c, 1), 3), 0);
    sim_drain(c, 1);
    assert_int_equal(sim_propose(c, 1, "refused", NULL), ORIGO_E_TRANSFER);
    for (int i = 0; i < 12; i++) {
        sim_tick(c, 1);
        sim_tick(c, 2);
        sim_deliver_all(c, 10);
    }
    assert_int_equal(rt_status(c, 1).role, RAFT_LEADER);
    assert_int_equal(rt_status(c, 1).transfer_target, RAFT_NONE);
    assert_int_equal(sim_propose(c, 1, "accepted again", NULL), 0);
    sim_free(c);
}

static void stale_and_malformed_messages_are_ignored(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    struct raft *r2 = sim_raft(c, 2);
    struct raft_status before = rt_status(c, 2);
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = 99;
    m.from = 1;
    m.to = 2;
    m.term = before.term + 5;
    assert_int_equal(raft_step(r2, &m), 0);
    m.type = RAFT_MSG_APPEND;
    m.to = 3; /* not for node 2 */
    assert_int_equal(raft_step(r2, &m), 0);
    struct raft_entry e = {.term = before.term + 9, .index = 0};
    m.to = 2;
    m.term = before.term;
    m.u.append.prev_index = before.last_index;
    m.u.append.prev_term = before.last_term;
    m.u.append.entries = &e; /* entry term above the message term */
    m.u.append.n_entries = 1;
    assert_int_equal(raft_step(r2, &m), 0);
    struct raft_status after = rt_status(c, 2);
    assert_int_equal(after.term, before.term);
    assert_int_equal(after.last_index, before.last_index);
    sim_free(c);
}

static void allocation_failures_never_break_safety(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.alloc_fail = 30; /* 3% of the cores' allocations fail */
    struct sim_cluster *c = sim_new(&o);
    for (int i = 0; i < 1500; i++) {
        for (uint64_t id = 1; id <= 3; id++) {
            sim_tick(c, id);
            if (rt_status(c, id).role == RAFT_LEADER) {
                sim_propose(c, id, "under memory pressure", NULL);
            }
        }
        sim_deliver_all(c, 3);
        assert_true(sim_check(c));
    }
    uint64_t committed = rt_status(c, 1).commit;
    sim_set_alloc_fail(c, 0);
    uint64_t leader = 0;
    for (int i = 0; i < 100 && leader == 0; i++) {
        rt_tick_all(c, 3);
        for (uint64_t id = 1; id <= 3; id++) {
            if (rt_status(c, id).role == RAFT_LEADER) {
                leader = id;
            }
        }
    }
    assert_true(leader != 0);
    uint64_t index;
    assert_int_equal(sim_propose(c, leader, "after", &index), 0);
    for (int i = 0; i < 5; i++) {
        rt_tick_all(c, 3);
    }
    for (uint64_t id = 1; id <= 3; id++) {
        assert_true(sim_applied(c, id) >= index);
    }
    assert_true(index > committed);
    assert_true(sim_check(c));
    sim_free(c);
}

/* Arbitrary (well-typed) messages from the network must never crash a
 * node or break its local invariants. */
static void random_messages_keep_local_invariants(void **state)
{
    (void)state;
    struct sim_rng g;
    sim_rng_seed(&g, 77);
    struct raft_options o;
    raft_options_default(&o);
    o.id = 1;
    o.rand_fn = fixed_rand;
    o.snapshot_chunk_bytes = 8;
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.bootstrap.n_voters = 3;
    rs.bootstrap.voters[0] = 1;
    rs.bootstrap.voters[1] = 2;
    rs.bootstrap.voters[2] = 3;
    struct raft *r;
    assert_int_equal(raft_new(&o, &rs, &r), 0);
    uint8_t bytes[64];
    struct raft_entry ents[4];
    size_t diverged = 0;
    for (int i = 0; i < 200000; i++) {
        struct raft_status st;
        raft_status(r, &st);
        struct raft_msg m;
        memset(&m, 0, sizeof(m));
        m.type = (uint8_t)(1 + sim_rng_below(&g, RAFT_MSG_TYPE_MAX));
        m.from = 2 + sim_rng_below(&g, 3); /* 4 is not a member */
        m.to = 1;
        m.term = st.term + sim_rng_below(&g, 3) - (st.term > 0 ? 1 : 0);
        uint64_t near = st.last_index + 2 - sim_rng_below(&g, 5);
        if (near > st.last_index + 2) {
            near = 0;
        }
        switch (m.type) {
        case RAFT_MSG_APPEND: {
            size_t n = (size_t)sim_rng_below(&g, 4);
            m.u.append.prev_index = near;
            raft_term_at(r, near, &m.u.append.prev_term);
            if (sim_rng_chance(&g, 200)) {
                m.u.append.prev_term = sim_rng_below(&g, m.term + 1);
            }
            uint64_t t = m.u.append.prev_term;
            for (size_t k = 0; k < n; k++) {
                if (t < m.term && sim_rng_chance(&g, 300)) {
                    t++;
                }
                ents[k].term = t == 0 ? 1 : t;
                ents[k].index = 0;
                ents[k].type = (uint8_t)sim_rng_below(&g, 3);
                ents[k].data.base = bytes;
                ents[k].data.len = (size_t)sim_rng_below(&g, sizeof(bytes));
            }
            m.u.append.entries = ents;
            m.u.append.n_entries = n;
            m.u.append.commit = near + sim_rng_below(&g, 3);
            break;
        }
        case RAFT_MSG_APPEND_RESP:
            m.u.append_resp.reject = sim_rng_chance(&g, 500);
            m.u.append_resp.index = near;
            m.u.append_resp.hint_index = sim_rng_below(&g, near + 1);
            m.u.append_resp.hint_term = sim_rng_below(&g, st.term + 1);
            break;
        case RAFT_MSG_SNAPSHOT:
            m.u.snapshot.meta.index = near + sim_rng_below(&g, 10);
            m.u.snapshot.meta.term = m.term;
            m.u.snapshot.meta.config = rs.bootstrap;
            m.u.snapshot.total_size = 16;
            m.u.snapshot.offset = 8 * sim_rng_below(&g, 2);
            m.u.snapshot.chunk.base = bytes;
            m.u.snapshot.chunk.len = 8;
            m.u.snapshot.done = m.u.snapshot.offset == 8;
            break;
        case RAFT_MSG_SNAPSHOT_RESP:
            m.u.snapshot_resp.index = near;
            m.u.snapshot_resp.next_offset = sim_rng_below(&g, 20);
            m.u.snapshot_resp.done = sim_rng_chance(&g, 300);
            m.u.snapshot_resp.reject = sim_rng_chance(&g, 100);
            break;
        case RAFT_MSG_HEARTBEAT:
            m.u.heartbeat.commit = near;
            break;
        default:
            m.u.vote.last_log_index = near;
            m.u.vote.last_log_term = sim_rng_below(&g, m.term + 1);
            m.u.vote_resp.granted = sim_rng_chance(&g, 600);
            break;
        }
        /* An append that contradicts a committed entry cannot come from a
         * leader in a correct cluster: the core refuses it with
         * ORIGO_E_DIVERGED (the node stops) and changes neither its log
         * nor its commit index. */
        struct raft_status before;
        raft_status(r, &before);
        int rc = raft_step(r, &m);
        if (rc == ORIGO_E_DIVERGED) {
            assert_int_equal(m.type, RAFT_MSG_APPEND);
            raft_status(r, &st);
            assert_int_equal(st.last_index, before.last_index);
            assert_int_equal(st.commit, before.commit);
            diverged++;
        } else {
            assert_int_equal(rc, 0);
        }
        if (sim_rng_chance(&g, 100)) {
            assert_int_equal(raft_tick(r), 0);
        }
        if (sim_rng_chance(&g, 50)) {
            (void)raft_propose(r, bytes, 8, NULL);
        }
        if (sim_rng_chance(&g, 300)) {
            struct raft_ready rd;
            assert_int_equal(raft_ready(r, &rd), 0);
            uint64_t seq = rd.seq;
            raft_advance(r, &rd);
            raft_persisted(r, seq);
        }
        raft_status(r, &st);
        assert_true(st.commit <= st.last_index);
        assert_true(st.applied <= st.commit);
        assert_true(st.snapshot_index <= st.commit);
        assert_true(st.persisted_index <= st.last_index);
        if (sim_rng_chance(&g, 20) && st.applied > st.snapshot_index) {
            assert_int_equal(raft_snapshot_taken(r, st.applied, bytes, 16), 0);
        }
    }
    assert_true(diverged > 0); /* the random appends do contradict some */
    raft_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_encoding_round_trips_and_rejects_bad_input),
        cmocka_unit_test(new_rejects_bad_options),
        cmocka_unit_test(
            single_node_elects_itself_and_commits_after_persisting),
        cmocka_unit_test(three_nodes_elect_replicate_and_apply),
        cmocka_unit_test(votes_leave_only_after_the_vote_is_durable),
        cmocka_unit_test(leader_counts_only_its_own_persisted_entries),
        cmocka_unit_test(a_contradicted_commit_is_refused),
        cmocka_unit_test(flow_control_bounds_appends_in_flight),
        cmocka_unit_test(conflicting_log_is_repaired_in_few_round_trips),
        cmocka_unit_test(leadership_transfer_hands_over_to_the_target),
        cmocka_unit_test(transfer_to_a_lagging_target_waits_for_catch_up),
        cmocka_unit_test(transfer_to_an_unreachable_target_is_abandoned),
        cmocka_unit_test(stale_and_malformed_messages_are_ignored),
        cmocka_unit_test(allocation_failures_never_break_safety),
        cmocka_unit_test(random_messages_keep_local_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
