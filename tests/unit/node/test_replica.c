/* Replicas (node/replica.c) with real LMDB stores, three in one process,
 * their messages carried by the test: blocks proposed at the leader are
 * applied everywhere with the same root; a restarted replica catches up
 * from its log, one that fell behind the compacted log from a snapshot
 * (an LMDB copy of the leader's store); a proposal lost in a leader change
 * is seen as lost; a store whose Raft state is gone refuses to start; a
 * leader whose disk fails while it stores its own proposal stops for good
 * (no later step counts that entry as stored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <lmdb.h>
#include <sys/stat.h>

#include "ledgertest.h"
#include "log.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "replica.h"
#include "sigcheck.h"
#include "testutil.h"

#define N 3

typedef struct msg {
    uint64_t to;
    uint8_t *data;
    size_t len;
} msg;

typedef struct cluster {
    lt_net net;
    char *root;
    char dirs[N][512];
    uint64_t ids[N];
    replica *r[N];
    int down[N];   /* closed */
    int cut[N];    /* partitioned: its messages in and out are dropped */
    int broken[N]; /* its disk failed: its calls may return an error */
    msg *q;
    size_t nq, capq;
    /* What each replica applied: term per index (0: not a NORMAL entry). */
    uint64_t applied_term[N][512];
    uint64_t snap_every, tail;
} cluster;

typedef struct ctx {
    cluster *c;
    int self;
} ctx;
static ctx ctxs[N];

static int index_of(cluster *c, uint64_t id)
{
    for (int i = 0; i < N; i++)
        if (c->ids[i] == id)
            return i;
    return -1;
}

static void on_send(void *p, uint64_t to, const uint8_t *data, size_t len)
{
    ctx *x = p;
    cluster *c = x->c;
    assert_int_equal(data[0], 7); /* the prefix byte */
    if (c->cut[x->self])
        return;
    if (c->nq == c->capq) {
        c->capq = c->capq ? 2 * c->capq : 64;
        c->q = realloc(c->q, c->capq * sizeof(*c->q));
        assert_non_null(c->q);
    }
    msg *m = &c->q[c->nq++];
    m->to = to;
    m->len = len - 1;
    m->data = malloc(m->len + 1);
    memcpy(m->data, data + 1, m->len);
}

static size_t forged_refused[N]; /* outcomes ORIGO_E_SIGNATURE */

static void on_applied(void *p, uint64_t index, uint64_t term,
                       const ledger_block_result *res)
{
    ctx *x = p;
    for (size_t i = 0; res && i < res->leaf_count + res->rejected; i++)
        forged_refused[x->self] += res->outcomes[i].status == ORIGO_E_SIGNATURE;
    assert_true(index < 512);
    x->c->applied_term[x->self][index] = res ? term : 0;
}

/* Signatures checked as entries arrive, through the node's own sigcheck
 * (node/sigcheck.h): for entries at even indexes the "pool" (this thread,
 * synchronously) checks at once; at odd ones nobody has yet when apply
 * asks, so the applier joins and checks them all: both paths decide the
 * verdicts apply consults. */
static struct {
    uint64_t index, term;
    sigcheck *sc;
    int bad; /* not a proposal */
} checks[N][512];
static size_t arrived[N];

static void on_arriving(void *p, uint64_t index, uint64_t term,
                        const uint8_t *data, size_t len)
{
    ctx *x = p;
    sigcheck *sc = NULL;
    int rc = sigcheck_new(data, len, LT_NET, NULL, &sc);
    assert_true(rc == 0 || rc == ORIGO_E_INVAL);
    if (sc && index % 2 == 0)
        sigcheck_work(sc);
    sigcheck_free(checks[x->self][index % 512].sc);
    checks[x->self][index % 512].index = index;
    checks[x->self][index % 512].term = term;
    checks[x->self][index % 512].sc = sc;
    checks[x->self][index % 512].bad = rc != 0;
    arrived[x->self]++;
}

static int on_checked(void *p, uint64_t index, uint64_t term)
{
    ctx *x = p;
    if (checks[x->self][index % 512].index != index ||
        checks[x->self][index % 512].term != term ||
        checks[x->self][index % 512].bad)
        return 0;
    return sigcheck_finish(checks[x->self][index % 512].sc);
}

static void checks_free(void)
{
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < 512; k++) {
            sigcheck_free(checks[i][k].sc);
            checks[i][k].sc = NULL;
        }
}

/* The first map size of the replicas' stores (0: the ledger's default). */
static size_t map_size;

static void open_one(cluster *c, int i)
{
    replica_options o = {
        .map_size = map_size,
        .dir = c->dirs[i],
        .genesis_json = (const uint8_t *)c->net.genesis_json,
        .genesis_len = c->net.genesis_len,
        .id = c->ids[i],
        .election_ticks = 10,
        .snapshot_every = c->snap_every,
        .log_tail = c->tail,
        .msg_prefix = 7,
        .send = on_send,
        .applied = on_applied,
        .arriving = on_arriving,
        .checked = on_checked,
        .ctx = &ctxs[i],
    };
    o.founders.n_voters = N;
    for (int k = 0; k < N; k++)
        o.founders.voters[k] = c->ids[k];
    char err[512];
    int rc = replica_open(&o, &c->r[i], err, sizeof(err));
    if (rc)
        fail_msg("replica %d: %s", i, err);
    c->down[i] = 0;
}

static void close_one(cluster *c, int i)
{
    replica_close(c->r[i]);
    c->r[i] = NULL;
    c->down[i] = 1;
}

static cluster *cluster_new(uint64_t snap_every, uint64_t tail)
{
    cluster *c = calloc(1, sizeof(*c));
    /* Verdicts are per network: a new cluster starts with none. */
    memset(checks, 0, sizeof(checks));
    memset(arrived, 0, sizeof(arrived));
    lt_net_init(&c->net, LT_WINDOW);
    c->root = testutil_tmpdir();
    c->snap_every = snap_every;
    c->tail = tail;
    for (int i = 0; i < N; i++) {
        snprintf(c->dirs[i], sizeof(c->dirs[i]), "%s/v%d", c->root, i);
        c->ids[i] = replica_id_of(origo_key_public(c->net.keys[LT_V1 + i]));
        ctxs[i] = (ctx){c, i};
    }
    for (int i = 0; i < N; i++)
        open_one(c, i);
    return c;
}

static void cluster_free(cluster *c)
{
    checks_free();
    for (int i = 0; i < N; i++)
        replica_close(c->r[i]);
    for (size_t k = 0; k < c->nq; k++)
        free(c->q[k].data);
    free(c->q);
    testutil_rmtree(c->root);
    free(c->root);
    lt_net_close(&c->net);
    free(c);
}

/* Delivers queued messages (and those they cause) until none is left. */
static void deliver(cluster *c)
{
    for (int guard = 0; c->nq > 0; guard++) {
        assert_true(guard < 100000);
        msg m = c->q[0];
        memmove(c->q, c->q + 1, (c->nq - 1) * sizeof(*c->q));
        c->nq--;
        int to = index_of(c, m.to);
        if (to >= 0 && !c->down[to] && !c->cut[to]) {
            int rc = replica_receive(c->r[to], m.data, m.len);
            if (!c->broken[to])
                assert_int_equal(rc, 0);
        }
        free(m.data);
    }
}

static void tick_all(cluster *c)
{
    for (int i = 0; i < N; i++)
        if (!c->down[i]) {
            int rc = replica_tick(c->r[i]);
            if (!c->broken[i])
                assert_int_equal(rc, 0);
        }
    deliver(c);
}

/* Ticks until one replica outside `except` leads; returns its index. */
static int await_leader(cluster *c, int except)
{
    for (int t = 0; t < 1000; t++) {
        tick_all(c);
        for (int i = 0; i < N; i++) {
            if (c->down[i] || c->cut[i] || i == except)
                continue;
            struct raft_status st;
            replica_status(c->r[i], &st);
            if (st.role == RAFT_LEADER)
                return i;
        }
    }
    fail_msg("no leader after 1000 ticks");
    return -1;
}

static void propose_block(cluster *c, int leader, uint64_t k, uint64_t *index,
                          uint64_t *term)
{
    lt_block b = {0};
    lt_random_block(&c->net, 42, k, 4, &b);
    /* As the node does: the envelopes whose signatures verify are proposed
     * as verified (the leader skips that check at apply, the followers do
     * it); the others go in unverified blocks of their own, which every
     * replica checks. */
    ledger_envelope good[64], bad[64];
    size_t n_good = 0, n_bad = 0;
    assert_true(b.count <= 64);
    for (size_t i = 0; i < b.count; i++) {
        if (origo_envelope_verify(b.envs[i].data, b.envs[i].len, LT_NET,
                                  strlen(LT_NET), NULL, NULL) == 0)
            good[n_good++] = b.envs[i];
        else
            bad[n_bad++] = b.envs[i];
    }
    if (n_good)
        assert_int_equal(replica_propose(c->r[leader], lt_block_time(k), good,
                                         n_good, 1, index, term),
                         0);
    if (n_bad)
        assert_int_equal(replica_propose(c->r[leader], lt_block_time(k), bad,
                                         n_bad, 0, index, term),
                         0);
    lt_block_clear(&b);
    free(b.envs);
    deliver(c);
}

static void assert_same_state(cluster *c)
{
    ledger_state ref, st;
    int have = 0;
    for (int i = 0; i < N; i++) {
        if (c->down[i])
            continue;
        assert_int_equal(ledger_get_state(replica_ledger(c->r[i]), NULL, &st),
                         0);
        if (!have) {
            ref = st;
            have = 1;
            continue;
        }
        assert_int_equal(st.height, ref.height);
        assert_int_equal(st.tree_size, ref.tree_size);
        assert_memory_equal(st.root, ref.root, 32);
        assert_memory_equal(st.last_block_hash, ref.last_block_hash, 32);
    }
}

/* Ticks (heartbeats carry the commit index) until every live replica has
 * applied `index`. */
static void await_applied(cluster *c, uint64_t index)
{
    for (int t = 0; t < 200; t++) {
        int all = 1;
        for (int i = 0; i < N; i++)
            if (!c->down[i] && !c->cut[i] && replica_applied(c->r[i]) < index)
                all = 0;
        if (all)
            return;
        tick_all(c);
    }
    fail_msg("index %llu not applied everywhere", (unsigned long long)index);
}

static void test_blocks_apply_everywhere(void **state)
{
    (void)state;
    cluster *c = cluster_new(0, 0);
    int leader = await_leader(c, -1);
    uint64_t index = 0, term = 0;
    for (uint64_t k = 1; k <= 12; k++)
        propose_block(c, leader, k, &index, &term);
    await_applied(c, index);
    assert_same_state(c);
    ledger_state st;
    assert_int_equal(ledger_get_state(replica_ledger(c->r[leader]), NULL, &st),
                     0);
    assert_int_equal(st.height, 12);
    assert_true(st.tree_size > 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(c->applied_term[i][index], term);
    /* The followers saw the entries arrive and applied them with the
     * verdicts. A forged envelope (the supplier's lot, signed by the
     * plant) is refused by every replica: whoever checks it, nobody skips
     * it. */
    for (int i = 0; i < N; i++)
        if (i != leader)
            assert_true(arrived[i] > 0);
    memset(forged_refused, 0, sizeof(forged_refused));
    lt_block forged = {0};
    lt_lot_create_forged(&forged, &c->net, LT_SUPPLIER, LT_PLANT,
                         "acme/forged/F-1", lt_block_time(13));
    assert_int_equal(replica_propose(c->r[leader], lt_block_time(13),
                                     forged.envs, forged.count, 0, &index,
                                     &term),
                     0);
    lt_block_clear(&forged);
    free(forged.envs);
    deliver(c);
    await_applied(c, index);
    for (int i = 0; i < N; i++)
        assert_int_equal(forged_refused[i], 1);
    assert_same_state(c);

    /* A follower restarts and catches up from its own log and the
     * leader's. */
    int f = (leader + 1) % N;
    close_one(c, f);
    for (uint64_t k = 14; k <= 17; k++)
        propose_block(c, leader, k, &index, &term);
    open_one(c, f);
    await_applied(c, index);
    assert_same_state(c);
    cluster_free(c);
}

static void test_snapshot_catch_up(void **state)
{
    (void)state;
    FILE *logf = tmpfile();
    assert_non_null(logf);
    log_init(logf, CONFIG_LOG_INFO);
    cluster *c = cluster_new(4, 2); /* compact often, keep 2 entries */
    int leader = await_leader(c, -1);
    int f = (leader + 1) % N;
    uint64_t index = 0, term = 0;
    propose_block(c, leader, 1, &index, &term);
    await_applied(c, index);
    close_one(c, f);
    for (uint64_t k = 2; k <= 30; k++)
        propose_block(c, leader, k, &index, &term);
    struct raft_status st;
    replica_status(c->r[leader], &st);
    assert_true(st.snapshot_index > replica_applied(c->r[leader]) - 10);
    open_one(c, f);
    await_applied(c, index);
    assert_same_state(c);
    /* It came back through a snapshot: the leader copied its store, the
     * follower installed it. */
    fflush(logf);
    rewind(logf);
    char line[1024];
    int provided = 0, installed = 0;
    while (fgets(line, sizeof(line), logf)) {
        provided += strstr(line, "msg=\"providing a snapshot\"") != NULL;
        installed +=
            strstr(line, "msg=\"installed a snapshot from the leader\"") !=
            NULL;
    }
    assert_int_equal(provided, 1);
    assert_int_equal(installed, 1);
    log_init(stderr, CONFIG_LOG_WARN);
    fclose(logf);
    /* The follower's store is whole: it serves the proofs of every event
     * and goes on applying. */
    for (uint64_t k = 31; k <= 33; k++)
        propose_block(c, leader, k, &index, &term);
    await_applied(c, index);
    assert_same_state(c);
    /* And it restarts from the installed store. */
    close_one(c, f);
    open_one(c, f);
    propose_block(c, leader, 34, &index, &term);
    await_applied(c, index);
    assert_same_state(c);
    cluster_free(c);
}

/* The follower's map is smaller than the leader's store: the installed
 * copy opens with a map that is full already, and writing the follower's
 * Raft state into it must grow the map, not stop the node (found by the
 * fault campaign: a 5-validator cluster with 1 MiB maps, where a restarted
 * validator stopped with ORIGO_E_MAP_FULL at every install). */
static void test_snapshot_into_a_full_map(void **state)
{
    (void)state;
    map_size = 256u << 10;
    cluster *c = cluster_new(4, 2);
    int leader = await_leader(c, -1);
    int f = (leader + 1) % N;
    uint64_t index = 0, term = 0;
    propose_block(c, leader, 1, &index, &term);
    await_applied(c, index);
    close_one(c, f);
    for (uint64_t k = 2; k <= 250; k++)
        propose_block(c, leader, k, &index, &term);
    char path[600];
    struct stat st;
    snprintf(path, sizeof(path), "%s/data.mdb", c->dirs[leader]);
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size > map_size); /* the map had to grow */
    open_one(c, f);
    await_applied(c, index);
    assert_same_state(c);
    cluster_free(c);
    map_size = 0;
}

static void test_lost_proposal(void **state)
{
    (void)state;
    cluster *c = cluster_new(0, 0);
    int old = await_leader(c, -1);
    uint64_t index = 0, term = 0;
    propose_block(c, old, 1, &index, &term);
    await_applied(c, index);
    /* The leader is cut off; what it proposes now never commits. */
    c->cut[old] = 1;
    uint64_t lost_index, lost_term;
    propose_block(c, old, 2, &lost_index, &lost_term);
    int fresh = await_leader(c, old);
    assert_int_not_equal(fresh, old);
    uint64_t i2, t2;
    propose_block(c, fresh, 3, &i2, &t2);
    propose_block(c, fresh, 4, &i2, &t2);
    assert_true(t2 > lost_term);
    c->cut[old] = 0;
    await_applied(c, i2);
    assert_same_state(c);
    /* At the lost proposal's index every replica applied something of
     * another term: the node tells its client to submit again. */
    for (int i = 0; i < N; i++)
        assert_int_not_equal(c->applied_term[i][lost_index], lost_term);
    /* A leader whose clock runs behind the blocks it applied as a
     * follower still gives its block a later time, so it applies (a block
     * time that does not increase would make it a no-op). */
    c->cut[fresh] = 1;
    int next = await_leader(c, fresh);
    lt_block b = {0};
    lt_random_block(&c->net, 42, 5, 4, &b);
    assert_int_equal(
        replica_propose(c->r[next], 1, b.envs, b.count, 0, &i2, &t2), 0);
    lt_block_clear(&b);
    free(b.envs);
    deliver(c);
    c->cut[fresh] = 0;
    await_applied(c, i2);
    for (int i = 0; i < N; i++)
        assert_int_equal(c->applied_term[i][i2], t2);
    cluster_free(c);
}

/* mdb_txn_commit() is wrapped (-Wl,--wrap, tests/unit/node/meson.build)
 * so that a test can make the next commits of one store fail as a disk
 * that returns EIO from fdatasync() does: LMDB then aborts the
 * transaction and keeps nothing of it. */
static MDB_env *failing_env;
static int failing_commits;
int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn)
{
    if (failing_commits > 0 && mdb_txn_env(txn) == failing_env) {
        failing_commits--;
        mdb_txn_abort(txn);
        return EIO;
    }
    return __real_mdb_txn_commit(txn);
}

/* The leader's write of its own proposal fails once (a disk error that
 * may be transient: the next write would succeed). The append has already
 * gone to the followers (a leader sends while it writes), which store and
 * acknowledge it. The leader must never count the entry as stored: no
 * follower may learn a commit index that covers it, and every later call
 * into the failed replica refuses. Before the fix the node went on: the
 * next ready, with nothing to write, "succeeded" and declared the failed
 * one durable too, the leader committed the entry with one follower's
 * acknowledgement, that follower applied it, and the leader, restarted
 * without it, let another entry take its index elsewhere: two validators
 * with different events at one leaf, seen once in a fault run
 * (docs/incidents/2026-12-06-divergence.md). */
static void test_failed_write_is_final(void **state)
{
    (void)state;
    cluster *c = cluster_new(0, 0);
    int lead = await_leader(c, -1);
    uint64_t index = 0, term = 0;
    propose_block(c, lead, 1, &index, &term);
    await_applied(c, index);
    struct raft_status st;
    replica_status(c->r[lead], &st);
    uint64_t lost = st.last_index + 1;
    failing_env = ledger_env(replica_ledger(c->r[lead]));
    failing_commits = 1;
    c->broken[lead] = 1;
    lt_block b = {0};
    lt_random_block(&c->net, 42, 2, 4, &b);
    int rc = replica_propose(c->r[lead], lt_block_time(2), b.envs, b.count, 0,
                             &index, &term);
    lt_block_clear(&b);
    free(b.envs);
    assert_int_equal(failing_commits, 0); /* the write did fail */
    assert_int_equal(index, lost);
    assert_int_not_equal(rc, 0);
    assert_int_equal(replica_failed(c->r[lead]), rc);
    /* The followers store the entry and acknowledge it; the leader ticks
     * (heartbeats: a ready with nothing to write) for several heartbeat
     * intervals, fewer ticks than an election timeout, so the followers
     * still follow it (a new leader could commit the entry rightly). */
    for (int t = 0; t < 5; t++)
        tick_all(c);
    for (int i = 0; i < N; i++) {
        if (i == lead)
            continue;
        replica_status(c->r[i], &st);
        assert_int_equal(st.term, term);
        assert_int_equal(st.leader, c->ids[lead]);
        assert_true(st.last_index >= lost); /* it did arrive */
        assert_true(st.commit < lost);
        assert_true(replica_applied(c->r[i]) < lost);
    }
    /* Every later call refuses with the same error; nothing is sent. */
    size_t queued = c->nq;
    assert_int_equal(replica_tick(c->r[lead]), rc);
    lt_random_block(&c->net, 42, 3, 4, &b);
    assert_int_equal(replica_propose(c->r[lead], lt_block_time(3), b.envs,
                                     b.count, 0, &index, &term),
                     rc);
    lt_block_clear(&b);
    free(b.envs);
    assert_int_equal(c->nq, queued);
    /* The node stops; restarted, its store holds what it stored before
     * the failure, and the cluster goes on as one. */
    close_one(c, lead);
    c->broken[lead] = 0;
    open_one(c, lead);
    replica_status(c->r[lead], &st);
    assert_true(st.last_index < lost);
    int next = await_leader(c, -1);
    propose_block(c, next, 4, &index, &term);
    await_applied(c, index);
    assert_same_state(c);
    for (int i = 1; i < N; i++)
        assert_int_equal(c->applied_term[i][lost], c->applied_term[0][lost]);
    cluster_free(c);
}

static void test_wiped_raft_state_refused(void **state)
{
    (void)state;
    lt_fixture *f = lt_fixture_new(LT_WINDOW);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/cell/L-1", LT_T0 + 5,
                  NULL);
    lt_apply(f->led, &f->block, 1, LT_T0 + 10, NULL);
    ledger_close(f->led);
    f->led = NULL;
    replica_options o = {
        .dir = f->dir,
        .genesis_json = (const uint8_t *)f->net.genesis_json,
        .genesis_len = f->net.genesis_len,
        .id = 99,
        .send = on_send,
        .applied = on_applied,
    };
    o.founders.n_voters = 1;
    o.founders.voters[0] = 99;
    replica *r = NULL;
    char err[512] = "";
    assert_int_equal(replica_open(&o, &r, err, sizeof(err)), ORIGO_E_WIPED);
    assert_null(r);
    assert_non_null(strstr(err, "wiped"));
    lt_fixture_free(f);
}

/* A leader that is buggy or dishonest proposes bytes that are not a
 * proposal: every replica decodes them the same way, as nothing (the entry
 * is a no-op everywhere, docs/formats/block.md "Raft entries"); only the
 * one canonical form of a proposal decodes. */
static void test_proposal_bytes_decode_one_way(void **state)
{
    (void)state;
    /* [1, 1000, [bin "ab"]] */
    static const uint8_t good[] = {0x93, 0x01, 0xcd, 0x03, 0xe8,
                                   0x91, 0xc4, 0x02, 'a',  'b'};
    ledger_envelope *envs = NULL;
    uint64_t t = 0;
    assert_int_equal(replica_decode_proposal(good, sizeof(good), &envs, &t), 1);
    assert_int_equal(t, 1000);
    assert_int_equal(envs[0].len, 2);
    assert_memory_equal(envs[0].data, "ab", 2);
    free(envs);
    static const struct {
        const char *what;
        uint8_t bytes[16];
        size_t len;
    } bad[] = {
        {"version 2",
         {0x93, 0x02, 0xcd, 0x03, 0xe8, 0x91, 0xc4, 0x02, 'a', 'b'},
         10},
        {"four items", {0x94, 0x01, 0x01, 0x91, 0xc4, 0x00, 0x01}, 7},
        {"no envelopes", {0x93, 0x01, 0xcd, 0x03, 0xe8, 0x90}, 6},
        {"trailing byte",
         {0x93, 0x01, 0xcd, 0x03, 0xe8, 0x91, 0xc4, 0x02, 'a', 'b', 0x00},
         11},
        {"an envelope as str", {0x93, 0x01, 0x01, 0x91, 0xa2, 'a', 'b'}, 7},
        {"time not in its shortest form",
         {0x93, 0x01, 0xce, 0x00, 0x00, 0x03, 0xe8, 0x91, 0xc4, 0x02, 'a', 'b'},
         12},
        {"a map", {0x81, 0x01, 0x01}, 3},
        {"truncated", {0x93, 0x01, 0xcd, 0x03}, 4},
        {"empty", {0}, 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        envs = NULL;
        long n = replica_decode_proposal(bad[i].bytes, bad[i].len, &envs, &t);
        if (n != -1)
            fail_msg("%s: decoded as %ld envelopes", bad[i].what, n);
        assert_null(envs);
    }
}

/* Pre-validation (replica_preview): what apply would decide, against the
 * applied state alone or after the entries in flight, and nothing stored.
 * A transform of a lot whose lot.create is in flight (stored at the
 * leader, not committed: its followers are cut off) is rejected against
 * the applied state and accepted after the entries in flight; a lot in
 * another member's namespace is rejected both ways; and the ledger is the
 * same afterwards. */
static void test_preview(void **state)
{
    (void)state;
    cluster *c = cluster_new(0, 0);
    int lead = await_leader(c, -1);
    lt_block made = {0}, next = {0};
    uint64_t t = lt_block_time(1);
    lt_lot_create(&made, &c->net, LT_SUPPLIER, "acme/pre/A-1", t, NULL);
    uint64_t index, term;
    for (int i = 0; i < N; i++)
        c->cut[i] = i != lead;
    assert_int_equal(
        replica_propose(c->r[lead], t, made.envs, made.count, 1, &index, &term),
        0);
    deliver(c);
    assert_true(replica_applied(c->r[lead]) < index);
    const char *in[] = {"acme/pre/A-1"}, *out[] = {"acme/pre/B-1"};
    lt_transform(&next, &c->net, LT_SUPPLIER, in, 1, out, 1, t + 1, NULL);
    lt_lot_create(&next, &c->net, LT_SUPPLIER, "plant1/pre/X-1", t + 1, NULL);
    ledger_state before, after;
    ledger *led = replica_ledger(c->r[lead]);
    assert_int_equal(ledger_get_state(led, NULL, &before), 0);
    ledger_outcome now[2], later[2];
    assert_int_equal(
        replica_preview(c->r[lead], t + 1, next.envs, next.count, 0, now), 0);
    assert_int_equal(
        replica_preview(c->r[lead], t + 1, next.envs, next.count, 1, later), 0);
    assert_int_equal(now[0].status, ORIGO_E_INPUT_LOT);
    assert_int_equal(later[0].status, 0);
    assert_int_equal(now[1].status, ORIGO_E_NAMESPACE);
    assert_int_equal(later[1].status, ORIGO_E_NAMESPACE);
    assert_int_equal(ledger_get_state(led, NULL, &after), 0);
    assert_int_equal(after.tree_size, before.tree_size);
    assert_int_equal(after.height, before.height);
    assert_memory_equal(after.root, before.root, 32);
    ledger_event_info info;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ledger_event_lookup(led, NULL, now[i].event_id, &info),
                         0);
        assert_int_equal(info.status, LEDGER_EVENT_UNKNOWN);
    }
    /* Healed, the create commits; the transform then passes both ways. */
    for (int i = 0; i < N; i++)
        c->cut[i] = 0;
    await_applied(c, index);
    lead = await_leader(c, -1);
    assert_int_equal(replica_preview(c->r[lead], t + 2, next.envs, 1, 0, now),
                     0);
    assert_int_equal(now[0].status, 0);
    lt_block_clear(&made);
    lt_block_clear(&next);
    free(made.envs);
    free(next.envs);
    cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_apply_everywhere),
        cmocka_unit_test(test_snapshot_catch_up),
        cmocka_unit_test(test_snapshot_into_a_full_map),
        cmocka_unit_test(test_lost_proposal),
        cmocka_unit_test(test_failed_write_is_final),
        cmocka_unit_test(test_wiped_raft_state_refused),
        cmocka_unit_test(test_proposal_bytes_decode_one_way),
        cmocka_unit_test(test_preview),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
