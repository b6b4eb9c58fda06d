/* Named regression tests for the findings of the consensus review
 * (review-raft.md): a single voter must not lead before its term and vote
 * are durable, the core's messages always fit the wire codec, snapshot
 * input from the wire is bounded, empty snapshot data is never shipped,
 * and a removed voter learns its removal. Each drives cores by hand, through
 * the simulator harness or directly. */
#include "raft_test.h"

#include <sodium.h>
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

/* ------------------------------------- finding 4: snapshots from wire -- */

/* Counts live blocks and the largest request; can fail the next realloc. */
struct rf_alloc {
    long live;
    size_t largest;
    bool fail_next_realloc;
    long malloc_budget; /* > 0: that many more mallocs succeed, then all
                           fail; 0: no limit */
};

static void *rf_malloc(void *ctx, size_t size)
{
    struct rf_alloc *a = ctx;
    if (a->malloc_budget > 0 && --a->malloc_budget == 0) {
        a->malloc_budget = -1;
    } else if (a->malloc_budget < 0) {
        return NULL;
    }
    if (size > a->largest) {
        a->largest = size;
    }
    void *p = malloc(size);
    if (p != NULL) {
        a->live++;
    }
    return p;
}

static void *rf_realloc(void *ctx, void *ptr, size_t size)
{
    struct rf_alloc *a = ctx;
    if (a->fail_next_realloc) {
        a->fail_next_realloc = false;
        return NULL;
    }
    if (size > a->largest) {
        a->largest = size;
    }
    void *p = realloc(ptr, size);
    if (p != NULL && ptr == NULL) {
        a->live++;
    }
    return p;
}

static void rf_free(void *ctx, void *ptr)
{
    struct rf_alloc *a = ctx;
    if (ptr != NULL) {
        a->live--;
    }
    free(ptr);
}

static void rf_counting(struct raft_options *o, struct rf_alloc *a)
{
    memset(a, 0, sizeof(*a));
    o->alloc.malloc_fn = rf_malloc;
    o->alloc.realloc_fn = rf_realloc;
    o->alloc.free_fn = rf_free;
    o->alloc.ctx = a;
}

/* A SNAPSHOT chunk from leader 1 to follower 2 in term 1. */
static struct raft_msg rf_snap_msg(uint64_t index, uint64_t total,
                                   uint64_t offset, uint8_t *chunk, size_t len,
                                   bool done)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT;
    m.from = 1;
    m.to = 2;
    m.term = 1;
    m.u.snapshot.meta.index = index;
    m.u.snapshot.meta.term = 1;
    m.u.snapshot.meta.config.n_voters = 1;
    m.u.snapshot.meta.config.voters[0] = 1;
    m.u.snapshot.meta.config.n_learners = 1;
    m.u.snapshot.meta.config.learners[0] = 2;
    m.u.snapshot.total_size = total;
    m.u.snapshot.offset = offset;
    m.u.snapshot.chunk.base = chunk;
    m.u.snapshot.chunk.len = len;
    m.u.snapshot.done = done;
    if (offset == 0 && len == total) {
        /* A whole snapshot in one chunk: its digest is the chunk's. */
        crypto_hash_sha256(m.u.snapshot.digest, chunk, len);
    }
    return m;
}

/* The messages of one type node r sends, handing out and persisting its
 * readies until it has nothing more to say (answers wait for durability). */
static size_t rf_take(struct raft *r, uint8_t type, struct raft_msg *last)
{
    size_t n = 0;
    while (raft_has_ready(r)) {
        struct raft_ready rd;
        assert_int_equal(raft_ready(r, &rd), 0);
        for (size_t i = 0; i < rd.n_msgs; i++) {
            if (rd.msgs[i].type == type) {
                n++;
                if (last != NULL) {
                    *last = rd.msgs[i]; /* pointers: advance frees them */
                    if (type == RAFT_MSG_SNAPSHOT) {
                        last->u.snapshot.chunk.base = NULL;
                    } else if (type == RAFT_MSG_APPEND) {
                        last->u.append.entries = NULL;
                    }
                }
            }
        }
        assert_false(rd.snapshot_install);
        uint64_t seq = rd.seq;
        raft_advance(r, &rd);
        raft_persisted(r, seq);
    }
    return n;
}

static void huge_snapshot_total_size_is_refused_unallocated(void **state)
{
    (void)state;
    struct raft_options o;
    struct rf_alloc a;
    rf_options(&o, 2);
    rf_counting(&o, &a);
    o.max_snapshot_bytes = 1u << 20;
    struct raft *r = rf_node(&o);
    uint8_t chunk[16] = {1};
    struct raft_msg m =
        rf_snap_msg(10, (uint64_t)16 << 30, 0, chunk, sizeof(chunk), false);
    assert_int_equal(raft_step(r, &m), 0);
    assert_true(a.largest < (1u << 20));
    struct raft_msg resp;
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT_RESP, &resp), 1);
    assert_true(resp.u.snapshot_resp.reject);
    raft_free(r);
    assert_int_equal(a.live, 0);
    rf_options(&o, 2);
    o.max_snapshot_bytes = 0;
    assert_int_equal(raft_new(&o, NULL, &r), ORIGO_E_INVAL);
}

/* Two snapshots complete before the node asks for its ready: the first
 * is superseded and freed, not leaked. */
static void two_snapshots_before_ready_do_not_leak(void **state)
{
    (void)state;
    struct raft_options o;
    struct rf_alloc a;
    rf_options(&o, 2);
    rf_counting(&o, &a);
    struct raft *r = rf_node(&o);
    uint8_t chunk[1000];
    memset(chunk, 's', sizeof(chunk));
    struct raft_msg m1 =
        rf_snap_msg(10, sizeof(chunk), 0, chunk, sizeof(chunk), true);
    struct raft_msg m2 =
        rf_snap_msg(20, sizeof(chunk), 0, chunk, sizeof(chunk), true);
    assert_int_equal(raft_step(r, &m1), 0);
    assert_int_equal(raft_step(r, &m2), 0);
    struct raft_ready rd;
    assert_int_equal(raft_ready(r, &rd), 0);
    assert_true(rd.snapshot_install);
    assert_int_equal(rd.snapshot.index, 20);
    raft_advance(r, &rd);
    raft_free(r);
    assert_int_equal(a.live, 0);
}

/* Indexes and terms near UINT64_MAX could wrap the core's arithmetic:
 * such messages are dropped. */
static void indexes_near_uint64_max_are_dropped(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 2);
    struct raft *r = rf_node(&o);
    uint8_t chunk[8] = {0};
    struct raft_msg m =
        rf_snap_msg(UINT64_MAX, sizeof(chunk), 0, chunk, sizeof(chunk), true);
    assert_int_equal(raft_step(r, &m), 0);
    struct raft_status st;
    raft_status(r, &st);
    assert_int_equal(st.snapshot_index, 0);
    assert_int_equal(st.term, 0);
    assert_false(raft_has_ready(r));

    struct raft_entry e = {.term = 1, .type = RAFT_ENTRY_NORMAL};
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = 1;
    m.to = 2;
    m.term = 1;
    m.u.append.prev_index = UINT64_MAX;
    m.u.append.commit = UINT64_MAX;
    m.u.append.entries = &e;
    m.u.append.n_entries = 1;
    assert_int_equal(raft_step(r, &m), 0);
    m.u.append.prev_index = 0;
    m.term = UINT64_MAX;
    assert_int_equal(raft_step(r, &m), 0);
    raft_status(r, &st);
    assert_int_equal(st.last_index, 0);
    assert_int_equal(st.term, 0);
    raft_free(r);
}

/* If the NOOP cannot be appended (out of memory), the node does not stay
 * a leader without an entry of its term. */
static void failed_noop_append_steps_down(void **state)
{
    (void)state;
    struct raft_options o;
    struct rf_alloc a;
    rf_options(&o, 1);
    rf_counting(&o, &a);
    struct raft *r = rf_node(&o);
    struct raft_status st;
    for (int i = 0; i < 100; i++) {
        raft_status(r, &st);
        if (st.role == RAFT_CANDIDATE) {
            break;
        }
        assert_int_equal(raft_tick(r), 0);
    }
    assert_int_equal(st.role, RAFT_CANDIDATE);
    struct raft_ready rd;
    assert_int_equal(raft_ready(r, &rd), 0);
    uint64_t seq = rd.seq;
    raft_advance(r, &rd);
    a.fail_next_realloc = true; /* the log's growth for the NOOP */
    raft_persisted(r, seq);
    raft_status(r, &st);
    assert_int_not_equal(st.role, RAFT_LEADER);
    assert_int_equal(st.last_index, 0);
    /* Memory is back: the next election yields a leader with its NOOP. */
    for (int i = 0; i < 100 && st.role != RAFT_LEADER; i++) {
        assert_int_equal(raft_tick(r), 0);
        rf_pump(r, NULL);
        raft_status(r, &st);
    }
    assert_int_equal(st.role, RAFT_LEADER);
    const struct raft_entry *e = raft_entry_at(r, st.last_index);
    assert_non_null(e);
    assert_int_equal(e->type, RAFT_ENTRY_NOOP);
    assert_int_equal(e->term, st.term);
    raft_free(r);
}

/* ------------------------------------------- finding 2: empty snapshot -- */

/* A follower refuses a snapshot without bytes: it would install nothing
 * as the state at its index. */
static void follower_refuses_empty_snapshot(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 2);
    struct raft *r = rf_node(&o);
    struct raft_msg m = rf_snap_msg(10, 0, 0, NULL, 0, true);
    assert_int_equal(raft_step(r, &m), 0);
    struct raft_msg resp;
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT_RESP, &resp), 1);
    assert_true(resp.u.snapshot_resp.reject);
    assert_false(resp.u.snapshot_resp.done);
    struct raft_status st;
    raft_status(r, &st);
    assert_int_equal(st.snapshot_index, 0);
    assert_int_equal(st.commit, 0);
    raft_free(r);
}

/* A leader restored from a snapshot without bytes (the ledger is its own
 * snapshot) sends no empty snapshot: it asks for the bytes, then sends
 * them. */
/* A single voter restored from a snapshot at index 10 (with `bytes`, which
 * may be NULL for a restart without snapshot data) whose learner 2 holds
 * nothing: elected, then told by the learner that it lacks index 10. */
static struct raft *rf_leader_with_empty_learner(const struct raft_options *o,
                                                 uint8_t *bytes, size_t len,
                                                 uint64_t *term)
{
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.hard_state.term = 1;
    rs.hard_state.commit = 10;
    rs.snapshot.index = 10;
    rs.snapshot.term = 1;
    rs.snapshot.config.n_voters = 1;
    rs.snapshot.config.voters[0] = 1;
    rs.snapshot.config.n_learners = 1;
    rs.snapshot.config.learners[0] = 2;
    rs.snapshot_data.base = bytes;
    rs.snapshot_data.len = len;
    struct raft *r = NULL;
    assert_int_equal(raft_new(o, &rs, &r), 0);
    struct raft_status st;
    for (int i = 0; i < 100; i++) {
        raft_status(r, &st);
        if (st.role == RAFT_LEADER) {
            break;
        }
        assert_int_equal(raft_tick(r), 0);
        rf_pump(r, NULL);
    }
    assert_int_equal(st.role, RAFT_LEADER);
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND_RESP;
    m.from = 2;
    m.to = 1;
    m.term = st.term;
    m.u.append_resp.reject = true;
    m.u.append_resp.index = 10;
    assert_int_equal(raft_step(r, &m), 0);
    *term = st.term;
    return r;
}

static void leader_asks_for_snapshot_bytes_instead_of_sending_none(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    uint64_t term;
    struct raft *r = rf_leader_with_empty_learner(&o, NULL, 0, &term);
    struct raft_ready rd;
    assert_int_equal(raft_ready(r, &rd), 0);
    for (size_t i = 0; i < rd.n_msgs; i++) {
        assert_int_not_equal(rd.msgs[i].type, RAFT_MSG_SNAPSHOT);
    }
    assert_true(rd.snapshot_wanted);
    assert_int_equal(rd.snapshot_wanted_index, 10);
    uint64_t seq = rd.seq;
    raft_advance(r, &rd);
    raft_persisted(r, seq);
    assert_int_equal(raft_tick(r), 0);
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT, NULL), 0);
    uint8_t bytes[300];
    memset(bytes, 'L', sizeof(bytes));
    assert_int_equal(raft_snapshot_provide(r, 9, bytes, sizeof(bytes)),
                     ORIGO_E_INVAL);
    assert_int_equal(raft_snapshot_provide(r, 10, bytes, 0), ORIGO_E_INVAL);
    assert_int_equal(raft_snapshot_provide(r, 10, bytes, sizeof(bytes)), 0);
    assert_int_equal(raft_tick(r), 0);
    struct raft_msg snap;
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT, &snap), 1);
    assert_int_equal(snap.u.snapshot.total_size, sizeof(bytes));
    assert_int_equal(snap.u.snapshot.meta.index, 10);
    raft_free(r);
}

/* ------------------------------------------ finding 5: removed voter -- */

/* Without pre-vote a removed voter that never hears of its removal keeps
 * raising its term. It must receive the change, learn that it committed,
 * and stay quiet. */
static void removed_voter_learns_removal_and_stays_quiet(void **state)
{
    (void)state;
    struct sim_options o;
    sim_options_default(&o);
    o.n_voters = 4;
    o.pre_vote = false;
    struct sim_cluster *c = sim_new(&o);
    assert_true(sim_elect(c, 1));
    for (int i = 0; i < 3; i++) {
        rt_tick_all(c, 4);
    }
    assert_int_equal(raft_remove(sim_raft(c, 1), 4), 0);
    sim_drain(c, 1);
    uint64_t change = rt_status(c, 1).last_index;
    assert_true(sim_count(c, 1, 4, RAFT_MSG_APPEND) > 0);
    for (int i = 0; i < 100; i++) {
        rt_tick_all(c, 4);
    }
    struct raft_status s1 = rt_status(c, 1);
    struct raft_status s4 = rt_status(c, 4);
    assert_int_equal(s1.role, RAFT_LEADER);
    assert_int_equal(s1.config.n_voters, 3);
    assert_false(raft_config_is_voter(&s4.config, 4));
    assert_true(s4.commit >= change);
    assert_int_equal(s4.role, RAFT_FOLLOWER);
    assert_int_equal(s4.term, s1.term);
    /* The leader let it go: nothing more is sent to it. */
    sim_drop_all(c);
    rt_tick_all(c, 4);
    assert_int_equal(sim_count(c, 1, 4, 0), 0);
    assert_true(sim_check(c));
    sim_free(c);
}

/* A follower that refuses a snapshot from its first chunk (over its
 * max_snapshot_bytes) is not sent it again at once, which would ping-pong
 * as fast as the network goes, but after the stall timer. */
static void refused_snapshot_is_retried_only_after_a_pause(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    o.election_ticks = 10;
    uint8_t bytes[100];
    memset(bytes, 'S', sizeof(bytes));
    uint64_t term;
    struct raft *r =
        rf_leader_with_empty_learner(&o, bytes, sizeof(bytes), &term);
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT, NULL), 1);
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT_RESP;
    m.from = 2;
    m.to = 1;
    m.term = term;
    m.u.snapshot_resp.index = 10;
    m.u.snapshot_resp.reject = true;
    assert_int_equal(raft_step(r, &m), 0);
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT, NULL), 0);
    size_t sent = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(raft_tick(r), 0);
        sent += rf_take(r, RAFT_MSG_SNAPSHOT, NULL);
    }
    assert_int_equal(sent, 2); /* once per half election timeout */
    raft_free(r);
}

/* ======================= second review (issue 15) ======================== */

/* Finding 1: the host could not provide the snapshot's bytes when first
 * asked (out of memory, say). The leader asks again every election timeout
 * instead of never, so the learner that needs them is not stuck. */
static void snapshot_bytes_are_asked_for_again(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    o.election_ticks = 10;
    uint64_t term;
    struct raft *r = rf_leader_with_empty_learner(&o, NULL, 0, &term);
    size_t asked = 0;
    for (int tick = 0; tick < 35; tick++) {
        while (raft_has_ready(r)) {
            struct raft_ready rd;
            assert_int_equal(raft_ready(r, &rd), 0);
            if (rd.snapshot_wanted) {
                assert_int_equal(rd.snapshot_wanted_index, 10);
                asked++; /* and the host fails to provide: nothing */
            }
            uint64_t seq = rd.seq;
            raft_advance(r, &rd);
            raft_persisted(r, seq);
        }
        assert_int_equal(raft_tick(r), 0);
    }
    /* Once at first, then once per election timeout: 35 ticks, 4 asks. */
    assert_int_equal(asked, 4);
    uint8_t bytes[64];
    memset(bytes, 'B', sizeof(bytes));
    assert_int_equal(raft_snapshot_provide(r, 10, bytes, sizeof(bytes)), 0);
    assert_int_equal(raft_tick(r), 0);
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT, NULL), 1);
    raft_free(r);
}

/* Finding 2: a leadership transfer to a follower that catches up by a
 * snapshot covering the whole log. Its install ends with match == last, so
 * no later ack advances match; the transfer must fire on the snapshot's
 * completion, well before it would be abandoned (an election timeout). */
static void transfer_fires_when_a_snapshot_catches_the_target_up(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 0);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 3);
    sim_isolate(c, 3, true);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sim_propose(c, 1, "while 3 is away", NULL), 0);
    }
    sim_deliver_all(c, 10);
    sim_tick(c, 1);
    sim_deliver_all(c, 10);
    assert_int_equal(sim_snapshot(c, 1), 0);
    struct raft_status s1 = rt_status(c, 1);
    assert_int_equal(s1.snapshot_index, s1.last_index); /* the whole log */
    assert_true(rt_status(c, 3).last_index < s1.snapshot_index);
    sim_isolate(c, 3, false);
    assert_int_equal(raft_transfer(sim_raft(c, 1), 3), 0);
    int led = 0;
    for (int i = 0; i < 8 && !led; i++) { /* < election_ticks (10) */
        sim_deliver_all(c, 10);
        led = rt_status(c, 3).role == RAFT_LEADER;
        sim_tick(c, 1);
    }
    assert_true(led);
    assert_true(sim_stats(c)->snapshots_installed >= 1);
    assert_true(sim_check(c));
    sim_free(c);
}

/* Finding 3: a message of term RAFT_INDEX_MAX leaves no room for the next
 * election's term + 1; it is dropped as malformed, so the leader keeps its
 * term and role. */
static void a_term_with_no_room_for_one_more_is_dropped(void **state)
{
    (void)state;
    struct raft_options o;
    rf_options(&o, 1);
    struct raft *r = rf_leader(&o);
    struct raft_status before, after;
    raft_status(r, &before);
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_HEARTBEAT;
    m.from = 2;
    m.to = 1;
    m.term = RAFT_INDEX_MAX;
    assert_int_equal(raft_step(r, &m), 0);
    m.term = RAFT_INDEX_MAX - 1; /* still room: a real higher term */
    assert_int_equal(raft_step(r, &m), 0);
    raft_status(r, &after);
    assert_int_equal(after.term, RAFT_INDEX_MAX - 1);
    assert_int_not_equal(after.role, RAFT_LEADER);
    /* At that term it does not campaign: term + 1 would be refused. */
    rf_pump(r, NULL);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(raft_tick(r), 0);
        rf_pump(r, NULL);
    }
    raft_status(r, &after);
    assert_int_equal(after.term, RAFT_INDEX_MAX - 1);
    (void)before;
    raft_free(r);
}

/* Finding 4: copying a proposed entry for a follower's append runs out of
 * memory after the entry is in the log. raft_propose() reports success,
 * since the entry will be committed and applied (a retry would make two),
 * and the follower gets the entry from the next round. */
static void a_proposal_in_the_log_is_reported_as_such(void **state)
{
    (void)state;
    struct raft_options o;
    struct rf_alloc a;
    rf_options(&o, 1);
    rf_counting(&o, &a);
    struct raft *r = rf_leader(&o);
    struct raft_status st;
    raft_status(r, &st);
    /* The learner acks the NOOP: it is in the replicate state now. */
    struct raft_msg ack;
    memset(&ack, 0, sizeof(ack));
    ack.type = RAFT_MSG_APPEND_RESP;
    ack.from = 2;
    ack.to = 1;
    ack.term = st.term;
    ack.u.append_resp.index = st.last_index;
    assert_int_equal(raft_step(r, &ack), 0);
    rf_pump(r, NULL);
    /* The log has room (a first proposal grows it); then mallocs fail. */
    uint64_t index = 0;
    assert_int_equal(raft_propose(r, (const uint8_t *)"warm", 4, &index), 0);
    rf_pump(r, NULL);
    /* One malloc left: the entry's copy in the log; the copy for the
     * follower's append fails. */
    a.malloc_budget = 2;
    int rc = raft_propose(r, (const uint8_t *)"once", 4, &index);
    a.malloc_budget = 0;
    assert_int_equal(rc, 0);
    raft_status(r, &st);
    assert_int_equal(st.last_index, index);
    const struct raft_entry *e = raft_entry_at(r, index);
    assert_non_null(e);
    assert_int_equal(e->data.len, 4);
    assert_memory_equal(e->data.base, "once", 4);
    /* The next round sends it. */
    size_t appends = 0;
    for (int i = 0; i < 10 && appends == 0; i++) {
        assert_int_equal(raft_tick(r), 0);
        appends += rf_pump(r, NULL);
    }
    assert_true(appends > 0);
    raft_free(r);
}

/* Node issue, finding (a): chunks of two different byte streams for one
 * snapshot index are never spliced. The leader refuses other bytes for the
 * index it is sending; a follower that gets a chunk of another stream (or
 * whose assembled bytes do not hash to the announced digest) starts over
 * and installs nothing. */
static void snapshot_chunks_are_bound_to_one_byte_stream(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    memset(a, 'A', sizeof(a));
    memset(b, 'B', sizeof(b));
    /* The leader's side. */
    struct raft_options o;
    rf_options(&o, 1);
    uint64_t term;
    struct raft *leader = rf_leader_with_empty_learner(&o, NULL, 0, &term);
    assert_int_equal(raft_snapshot_provide(leader, 10, a, sizeof(a)), 0);
    assert_int_equal(raft_snapshot_provide(leader, 10, b, sizeof(b)),
                     ORIGO_E_SNAPSHOT);
    assert_int_equal(raft_snapshot_provide(leader, 10, a, sizeof(a)), 0);
    raft_free(leader);
    /* The follower's side. */
    rf_options(&o, 2);
    struct raft *r = rf_node(&o);
    uint8_t digest_a[32], digest_b[32];
    crypto_hash_sha256(digest_a, a, sizeof(a));
    crypto_hash_sha256(digest_b, b, sizeof(b));
    struct raft_msg first = rf_snap_msg(10, 64, 0, a, 32, false);
    memcpy(first.u.snapshot.digest, digest_a, 32);
    struct raft_msg other = rf_snap_msg(10, 64, 32, b + 32, 32, true);
    memcpy(other.u.snapshot.digest, digest_b, 32);
    struct raft_msg forged = rf_snap_msg(10, 64, 32, b + 32, 32, true);
    memcpy(forged.u.snapshot.digest, digest_a, 32);
    struct raft_msg rest = rf_snap_msg(10, 64, 32, a + 32, 32, true);
    memcpy(rest.u.snapshot.digest, digest_a, 32);
    struct raft_msg resp;
    assert_int_equal(raft_step(r, &first), 0);
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT_RESP, &resp), 1);
    assert_int_equal(resp.u.snapshot_resp.next_offset, 32);
    assert_int_equal(raft_step(r, &other), 0); /* another stream's chunk */
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT_RESP, &resp), 1);
    assert_true(resp.u.snapshot_resp.reject);
    assert_int_equal(raft_step(r, &first), 0); /* starts over */
    rf_take(r, RAFT_MSG_SNAPSHOT_RESP, NULL);
    assert_int_equal(raft_step(r, &forged), 0); /* right digest, wrong bytes */
    assert_int_equal(rf_take(r, RAFT_MSG_SNAPSHOT_RESP, &resp), 1);
    assert_true(resp.u.snapshot_resp.reject);
    assert_false(resp.u.snapshot_resp.done);
    struct raft_status st;
    raft_status(r, &st);
    assert_int_equal(st.snapshot_index, 0);    /* nothing installed */
    assert_int_equal(raft_step(r, &first), 0); /* the real transfer */
    rf_take(r, RAFT_MSG_SNAPSHOT_RESP, NULL);
    assert_int_equal(raft_step(r, &rest), 0);
    struct raft_ready rd;
    assert_int_equal(raft_ready(r, &rd), 0);
    assert_true(rd.snapshot_install);
    assert_int_equal(rd.snapshot_data.len, 64);
    assert_memory_equal(rd.snapshot_data.base, a, 64);
    raft_advance(r, &rd);
    raft_free(r);
}

/* Node issue: snapshots streamed through the host (raft_options.snap_io)
 * so neither side holds one in memory. The leader is told the size and
 * digest, reads each chunk from the host as it sends it, refuses other
 * bytes for the index, and asks again when the host cannot read; the
 * follower writes each chunk through the host, hashes the stream and
 * installs with no bytes in the ready once the whole stream matches. */
struct rf_store {
    uint8_t bytes[200];
    int fail_read;
    size_t reads, writes;
};

static int rf_store_read(void *ctx, uint64_t index, uint64_t offset,
                         uint8_t *out, size_t len)
{
    struct rf_store *st = ctx;
    assert_int_equal(index, 10);
    if (st->fail_read || offset + len > sizeof(st->bytes)) {
        return ORIGO_E_IO;
    }
    memcpy(out, st->bytes + offset, len);
    st->reads++;
    return 0;
}

static int rf_store_write(void *ctx, uint64_t index, uint64_t offset,
                          const uint8_t *data, size_t len)
{
    struct rf_store *st = ctx;
    assert_int_equal(index, 10);
    assert_true(offset + len <= sizeof(st->bytes));
    memcpy(st->bytes + offset, data, len);
    st->writes++;
    return 0;
}

/* Carries every message `from` sends to `to`; returns the snapshot
 * installs `from` readied (their data length in *install_len). */
static int rf_carry(struct raft *from, struct raft *to, size_t *install_len)
{
    int installs = 0;
    while (raft_has_ready(from)) {
        struct raft_ready rd;
        assert_int_equal(raft_ready(from, &rd), 0);
        if (rd.snapshot_install) {
            installs++;
            *install_len = rd.snapshot_data.len;
        }
        for (size_t i = 0; i < rd.n_msgs; i++) {
            assert_int_equal(raft_step(to, &rd.msgs[i]), 0);
        }
        uint64_t seq = rd.seq;
        raft_advance(from, &rd);
        raft_persisted(from, seq);
    }
    return installs;
}

static void snapshot_streamed_through_the_host(void **state)
{
    (void)state;
    struct rf_store lead_store = {0}, follow_store = {0};
    for (size_t i = 0; i < sizeof(lead_store.bytes); i++) {
        lead_store.bytes[i] = (uint8_t)(i * 7 + 1);
    }
    uint8_t digest[32], other[32];
    crypto_hash_sha256(digest, lead_store.bytes, sizeof(lead_store.bytes));
    memset(other, 0x5a, sizeof(other));
    struct raft_snapshot_io lead_io = {rf_store_read, rf_store_write,
                                       &lead_store};
    struct raft_snapshot_io follow_io = {rf_store_read, rf_store_write,
                                         &follow_store};
    struct raft_options o;
    rf_options(&o, 1);
    o.snapshot_chunk_bytes = 48; /* 200 bytes: 5 chunks */
    o.snap_io = &lead_io;
    uint64_t term;
    struct raft *leader = rf_leader_with_empty_learner(&o, NULL, 0, &term);
    struct raft_ready rd;
    assert_int_equal(raft_ready(leader, &rd), 0);
    assert_true(rd.snapshot_wanted);
    uint64_t seq = rd.seq;
    raft_advance(leader, &rd);
    raft_persisted(leader, seq);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 0, digest),
                     ORIGO_E_INVAL);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 200, digest), 0);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 200, other),
                     ORIGO_E_SNAPSHOT);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 199, digest),
                     ORIGO_E_SNAPSHOT);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 200, digest), 0);
    assert_int_equal(raft_snapshot_provide(leader, 10, lead_store.bytes, 200),
                     ORIGO_E_SNAPSHOT);
    /* The follower, streaming too. */
    struct raft_options fo;
    rf_options(&fo, 2);
    fo.snap_io = &follow_io;
    struct raft *follower = rf_node(&fo);
    size_t install_len = 99;
    int installs = 0;
    for (int i = 0; i < 40 && installs == 0; i++) {
        assert_int_equal(raft_tick(leader), 0);
        rf_carry(leader, follower, NULL);
        installs += rf_carry(follower, leader, &install_len);
    }
    assert_int_equal(installs, 1);
    assert_int_equal(install_len, 0); /* the bytes are in the host's store */
    assert_int_equal(follow_store.writes, 5);
    assert_memory_equal(follow_store.bytes, lead_store.bytes, 200);
    struct raft_status st;
    raft_status(follower, &st);
    assert_int_equal(st.snapshot_index, 10);
    raft_free(follower);
    raft_free(leader);

    /* Bytes on the wire that do not hash to the announced digest (the
     * host's store changed under the transfer) are never installed. */
    rf_options(&o, 1);
    o.snapshot_chunk_bytes = 48;
    o.snap_io = &lead_io;
    leader = rf_leader_with_empty_learner(&o, NULL, 0, &term);
    rf_pump(leader, NULL);
    assert_int_equal(raft_snapshot_provide_stream(leader, 10, 200, digest), 0);
    lead_store.bytes[150] ^= 1;
    memset(&follow_store, 0, sizeof(follow_store));
    follower = rf_node(&fo);
    installs = 0;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(raft_tick(leader), 0);
        rf_carry(leader, follower, NULL);
        installs += rf_carry(follower, leader, &install_len);
    }
    assert_int_equal(installs, 0);
    assert_true(follow_store.writes >= 5);
    raft_status(follower, &st);
    assert_int_equal(st.snapshot_index, 0);
    raft_free(follower);

    /* A host that cannot read its bytes any more is asked for them
     * again. */
    lead_store.fail_read = 1;
    int wanted = 0;
    for (int i = 0; i < 40 && !wanted; i++) {
        assert_int_equal(raft_tick(leader), 0);
        while (raft_has_ready(leader)) {
            assert_int_equal(raft_ready(leader, &rd), 0);
            wanted |= rd.snapshot_wanted;
            seq = rd.seq;
            raft_advance(leader, &rd);
            raft_persisted(leader, seq);
        }
    }
    assert_true(wanted);
    raft_free(leader);
}

/* Node issue, finding (b): TIMEOUT_NOW is obeyed only from the leader of
 * the current term; from any other peer of that term it would start an
 * election that skips the lease and disrupts a healthy leader. */
static void timeout_now_only_from_the_leader(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster_led(3);
    struct raft_status before = rt_status(c, 2);
    assert_int_equal(before.leader, 1);
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_TIMEOUT_NOW;
    m.from = 3; /* a peer, not the leader */
    m.to = 2;
    m.term = before.term;
    assert_int_equal(raft_step(sim_raft(c, 2), &m), 0);
    struct raft_status after = rt_status(c, 2);
    assert_int_equal(after.term, before.term);
    assert_int_equal(after.role, RAFT_FOLLOWER);
    m.from = 1; /* the leader hands over */
    assert_int_equal(raft_step(sim_raft(c, 2), &m), 0);
    after = rt_status(c, 2);
    assert_true(after.term > before.term);
    sim_free(c);
}

/* Node issue, finding (c): a server removed and added again under the same
 * ID before its progress is released must not keep what it matched then
 * (its disk may have been wiped in between): the leader must not think it
 * caught up, here by refusing to promote it at once. */
static void a_returning_id_starts_from_scratch(void **state)
{
    (void)state;
    struct sim_cluster *c = rt_cluster(3, 1);
    assert_true(sim_elect(c, 1));
    rt_tick_all(c, 4);
    struct raft *leader = sim_raft(c, 1);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(sim_propose(c, 1, "before 4 joins", NULL), 0);
    }
    assert_int_equal(raft_add_learner(leader, 4), 0);
    for (int i = 0; i < 5; i++) {
        rt_tick_all(c, 4);
    }
    assert_int_equal(raft_promote(leader, 4), 0);
    rt_tick_all(c, 4);
    struct raft_status st = rt_status(c, 1);
    assert_true(raft_config_is_voter(&st.config, 4));
    /* 4 goes away (its disk will be wiped) before it hears of its
     * removal: the leader keeps its progress for an election timeout. */
    sim_isolate(c, 4, true);
    assert_int_equal(raft_remove(leader, 4), 0);
    rt_tick_all(c, 3);
    st = rt_status(c, 1);
    assert_true(st.commit >= st.last_index); /* the removal committed */
    assert_false(raft_config_is_voter(&st.config, 4));
    /* Back at once, before the leader lets its progress go. */
    assert_int_equal(raft_add_learner(leader, 4), 0);
    rt_tick_all(c, 3);
    st = rt_status(c, 1);
    assert_true(st.commit >= st.last_index); /* the addition committed */
    assert_true(raft_config_is_learner(&st.config, 4));
    /* It has heard nothing since: it is not caught up. */
    assert_int_equal(raft_promote(leader, 4), ORIGO_E_RAFT_CONFIG);
    sim_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_voter_waits_for_durable_vote),
        cmocka_unit_test(single_voter_crash_never_reuses_a_term),
        cmocka_unit_test(appends_always_fit_the_codec),
        cmocka_unit_test(options_beyond_the_codec_are_refused),
        cmocka_unit_test(oversized_proposal_is_refused),
        cmocka_unit_test(huge_snapshot_total_size_is_refused_unallocated),
        cmocka_unit_test(two_snapshots_before_ready_do_not_leak),
        cmocka_unit_test(indexes_near_uint64_max_are_dropped),
        cmocka_unit_test(failed_noop_append_steps_down),
        cmocka_unit_test(follower_refuses_empty_snapshot),
        cmocka_unit_test(
            leader_asks_for_snapshot_bytes_instead_of_sending_none),
        cmocka_unit_test(removed_voter_learns_removal_and_stays_quiet),
        cmocka_unit_test(refused_snapshot_is_retried_only_after_a_pause),
        cmocka_unit_test(snapshot_bytes_are_asked_for_again),
        cmocka_unit_test(transfer_fires_when_a_snapshot_catches_the_target_up),
        cmocka_unit_test(a_term_with_no_room_for_one_more_is_dropped),
        cmocka_unit_test(a_proposal_in_the_log_is_reported_as_such),
        cmocka_unit_test(snapshot_chunks_are_bound_to_one_byte_stream),
        cmocka_unit_test(snapshot_streamed_through_the_host),
        cmocka_unit_test(timeout_now_only_from_the_leader),
        cmocka_unit_test(a_returning_id_starts_from_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
