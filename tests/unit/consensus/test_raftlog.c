/* The LMDB Raft log: round trips of entries, hard state and snapshot
 * records, suffix replacement, compaction, payload release through the
 * hook, persistence across close/open, map-full handling, and a crash test
 * that SIGKILLs a writer process at random moments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "origo/error.h"
#include "raft.h"
#include "raftlog.h"
#include "testutil.h"

/* ---- fixture ---- */

struct fixture {
    char *dir;
    MDB_env *env;
    raftlog *log;
    MDB_dbi ledger; /* stands in for the ledger's block table */
};

static MDB_env *env_open(const char *dir, size_t map_size)
{
    MDB_env *env;
    if (mdb_env_create(&env))
        return NULL;
    if (mdb_env_set_maxdbs(env, 8) || mdb_env_set_mapsize(env, map_size) ||
        mdb_env_open(env, dir, 0, 0644)) {
        mdb_env_close(env);
        return NULL;
    }
    return env;
}

/* The payload hook: the "ledger" table holds blocks keyed like the log. */
static int ledger_payload(void *ctx, MDB_txn *txn, uint64_t index,
                          uint64_t term, uint8_t type, const uint8_t **data,
                          size_t *len)
{
    (void)term;
    (void)type;
    struct fixture *fx = ctx;
    uint8_t key_bytes[8];
    for (int i = 0; i < 8; i++)
        key_bytes[i] = (uint8_t)(index >> (56 - 8 * i));
    MDB_val key = {8, key_bytes}, value;
    int rc = mdb_get(txn, fx->ledger, &key, &value);
    if (rc)
        return rc == MDB_NOTFOUND ? ORIGO_E_NOTFOUND : ORIGO_E_LOG_STORE;
    *data = value.mv_data;
    *len = value.mv_size;
    return 0;
}

static void fixture_open(struct fixture *fx, size_t map_size)
{
    fx->env = env_open(fx->dir, map_size);
    assert_non_null(fx->env);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "ledger", MDB_CREATE, &fx->ledger), 0);
    raftlog_options options = {ledger_payload, fx};
    assert_int_equal(raftlog_open(fx->env, txn, &options, &fx->log), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

static void fixture_close(struct fixture *fx)
{
    raftlog_close(fx->log);
    fx->log = NULL;
    mdb_env_close(fx->env);
    fx->env = NULL;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->dir = testutil_tmpdir();
    assert_non_null(fx->dir);
    fixture_open(fx, 64u << 20);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->env)
        fixture_close(fx);
    testutil_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ---- */

/* Deterministic payload of entry (index, term): length and bytes follow
 * from both, so a read-back check needs nothing stored. */
static size_t payload_len(uint64_t index, uint64_t term)
{
    return (size_t)((index * 37 + term * 11) % 300);
}

static void payload_fill(uint8_t *out, uint64_t index, uint64_t term)
{
    size_t len = payload_len(index, term);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(index * 131 + term * 7 + i);
}

static uint8_t payload_buf[1024][300];

/* Appends indexes lo..hi with `term` (type NORMAL) in their own txn. */
static int append_range(raftlog *log, MDB_txn *txn, uint64_t lo, uint64_t hi,
                        uint64_t term)
{
    size_t count = (size_t)(hi - lo + 1);
    struct raft_entry *entries = calloc(count, sizeof(*entries));
    assert_non_null(entries);
    for (size_t i = 0; i < count; i++) {
        uint64_t index = lo + i;
        uint8_t *data = payload_buf[index % 1024];
        payload_fill(data, index, term);
        entries[i] = (struct raft_entry){
            .term = term,
            .index = index,
            .type = RAFT_ENTRY_NORMAL,
            .data = {data, payload_len(index, term)},
        };
    }
    int rc = raftlog_append(log, txn, entries, count);
    free(entries);
    return rc;
}

/* Checks entries lo..hi read back with terms given by term_of(index). */
static void check_range(raftlog *log, MDB_env *env, uint64_t lo, uint64_t hi,
                        uint64_t (*term_of)(uint64_t))
{
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    uint64_t index = lo;
    while (index <= hi) {
        struct raft_entry out[64];
        size_t count = 0;
        assert_int_equal(
            raftlog_entries(log, txn, index, hi + 1, SIZE_MAX, out, 64, &count),
            0);
        assert_true(count > 0);
        for (size_t i = 0; i < count; i++, index++) {
            uint64_t term = term_of(index);
            uint8_t expect[300];
            payload_fill(expect, index, term);
            assert_int_equal(out[i].index, index);
            assert_int_equal(out[i].term, term);
            assert_int_equal(out[i].type, RAFT_ENTRY_NORMAL);
            assert_int_equal(out[i].data.len, payload_len(index, term));
            if (out[i].data.len)
                assert_memory_equal(out[i].data.base, expect, out[i].data.len);
        }
    }
    mdb_txn_abort(txn);
}

static uint64_t term_one(uint64_t index)
{
    (void)index;
    return 1;
}

static uint64_t term_split_6(uint64_t index)
{
    return index < 6 ? 1 : 2;
}

static void expect_bounds(raftlog *log, uint64_t first, uint64_t last)
{
    uint64_t got;
    assert_int_equal(raftlog_first_index(log, NULL, &got), 0);
    assert_int_equal(got, first);
    assert_int_equal(raftlog_last_index(log, NULL, &got), 0);
    assert_int_equal(got, last);
}

static struct raft_config three_voters(void)
{
    struct raft_config config = {.n_voters = 3, .voters = {1, 2, 3}};
    return config;
}

/* ---- tests ---- */

static void fresh_log_is_empty(void **state)
{
    struct fixture *fx = *state;
    expect_bounds(fx->log, 1, 0);
    uint64_t index = 9, term = 9;
    assert_int_equal(raftlog_last(fx->log, NULL, &index, &term), 0);
    assert_int_equal(index, 0);
    assert_int_equal(term, 0);
    assert_int_equal(raftlog_term(fx->log, NULL, 0, &term), 0);
    assert_int_equal(term, 0);
    assert_int_equal(raftlog_term(fx->log, NULL, 1, &term), ORIGO_E_NOTFOUND);
    struct raft_hard_state hs = {7, 7, 7};
    assert_int_equal(raftlog_load_hard_state(fx->log, NULL, &hs), 0);
    assert_int_equal(hs.term + hs.vote + hs.commit, 0);
    struct raft_snapshot_meta meta;
    assert_int_equal(raftlog_load_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_NOTFOUND);
}

static void append_then_read_round_trips(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 200, 1), 0);
    expect_bounds(fx->log, 1, 200);
    check_range(fx->log, fx->env, 1, 200, term_one);
    uint64_t index, term;
    assert_int_equal(raftlog_last(fx->log, NULL, &index, &term), 0);
    assert_int_equal(index, 200);
    assert_int_equal(term, 1);
    /* An empty payload and a non-NORMAL type survive too. */
    struct raft_entry noop = {.term = 3, .index = 201, .type = RAFT_ENTRY_NOOP};
    assert_int_equal(raftlog_append(fx->log, NULL, &noop, 1), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    struct raft_entry out[2];
    size_t count;
    assert_int_equal(raftlog_entries(fx->log, txn, 201, 202, 0, out, 2, &count),
                     0);
    assert_int_equal(count, 1);
    assert_int_equal(out[0].type, RAFT_ENTRY_NOOP);
    assert_int_equal(out[0].term, 3);
    assert_int_equal(out[0].data.len, 0);
    mdb_txn_abort(txn);
}

static void read_stops_at_cap_and_byte_budget(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 50, 1), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    struct raft_entry out[50];
    size_t count;
    assert_int_equal(
        raftlog_entries(fx->log, txn, 1, 51, SIZE_MAX, out, 7, &count), 0);
    assert_int_equal(count, 7);
    /* A zero budget still yields the first entry. */
    assert_int_equal(raftlog_entries(fx->log, txn, 3, 51, 0, out, 50, &count),
                     0);
    assert_int_equal(count, 1);
    size_t budget = payload_len(10, 1) + payload_len(11, 1);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 10, 51, budget, out, 50, &count), 0);
    assert_int_equal(count, 2);
    mdb_txn_abort(txn);
}

static void append_replaces_conflicting_suffix(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 10, 1), 0);
    /* A new leader's entries at 6..8 replace 6..10 of the old term. */
    assert_int_equal(append_range(fx->log, NULL, 6, 8, 2), 0);
    expect_bounds(fx->log, 1, 8);
    check_range(fx->log, fx->env, 1, 8, term_split_6);
    uint64_t term;
    assert_int_equal(raftlog_term(fx->log, NULL, 9, &term), ORIGO_E_NOTFOUND);
    /* And the log continues after them. */
    assert_int_equal(append_range(fx->log, NULL, 9, 12, 2), 0);
    check_range(fx->log, fx->env, 1, 12, term_split_6);
}

static void append_rejects_bad_batches(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 5, 3), 0);
    /* A gap after the last index. */
    assert_int_equal(append_range(fx->log, NULL, 7, 8, 3), ORIGO_E_LOG_GAP);
    /* Index 0, non-consecutive indexes, decreasing terms. */
    struct raft_entry bad[2] = {{.term = 3, .index = 0}, {.term = 3}};
    assert_int_equal(raftlog_append(fx->log, NULL, bad, 1), ORIGO_E_INVAL);
    bad[0].index = 6;
    bad[1].index = 8;
    assert_int_equal(raftlog_append(fx->log, NULL, bad, 2), ORIGO_E_INVAL);
    bad[1].index = 7;
    bad[1].term = 2;
    assert_int_equal(raftlog_append(fx->log, NULL, bad, 2), ORIGO_E_INVAL);
    /* A term below the entry it follows. */
    struct raft_entry lower = {.term = 2, .index = 6};
    assert_int_equal(raftlog_append(fx->log, NULL, &lower, 1), ORIGO_E_INVAL);
    /* A payload over the limit is refused before anything is read. */
    struct raft_entry big = {.term = 3, .index = 6};
    big.data.base = payload_buf[0];
    big.data.len = RAFTLOG_MAX_ENTRY_BYTES + 1;
    assert_int_equal(raftlog_append(fx->log, NULL, &big, 1), ORIGO_E_TOOBIG);
    assert_int_equal(raftlog_append(fx->log, NULL, NULL, 0), ORIGO_E_INVAL);
    /* Nothing of that changed the log. */
    expect_bounds(fx->log, 1, 5);
}

static void out_of_range_reads_fail_cleanly(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 20, 1), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    struct raft_entry out[4];
    size_t count = 99;
    assert_int_equal(
        raftlog_entries(fx->log, txn, 19, 22, SIZE_MAX, out, 4, &count),
        ORIGO_E_NOTFOUND);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 21, 22, SIZE_MAX, out, 4, &count),
        ORIGO_E_NOTFOUND);
    assert_int_equal(count, 99); /* out parameters untouched on failure */
    assert_int_equal(
        raftlog_entries(fx->log, txn, 5, 5, SIZE_MAX, out, 4, &count),
        ORIGO_E_INVAL);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 0, 3, SIZE_MAX, out, 4, &count),
        ORIGO_E_INVAL);
    assert_int_equal(
        raftlog_entries(fx->log, NULL, 1, 3, SIZE_MAX, out, 4, &count),
        ORIGO_E_INVAL);
    mdb_txn_abort(txn);

    struct raft_snapshot_meta meta = {.index = 10, .term = 1};
    meta.config = three_voters();
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    assert_int_equal(raftlog_compact(fx->log, NULL, 10), 0);
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 10, 12, SIZE_MAX, out, 4, &count),
        ORIGO_E_COMPACTED);
    mdb_txn_abort(txn);
    uint64_t term = 99;
    assert_int_equal(raftlog_term(fx->log, NULL, 9, &term), ORIGO_E_COMPACTED);
    assert_int_equal(raftlog_term(fx->log, NULL, 21, &term), ORIGO_E_NOTFOUND);
    assert_int_equal(term, 99);
}

static void missing_entry_inside_log_is_a_gap(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 10, 1), 0);
    /* Damage the table behind the log's back: delete index 5. */
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, RAFTLOG_DBI_ENTRIES, 0, &dbi), 0);
    uint8_t key_bytes[8] = {0, 0, 0, 0, 0, 0, 0, 5};
    MDB_val key = {8, key_bytes};
    assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
    struct raft_entry out[10];
    size_t count;
    assert_int_equal(
        raftlog_entries(fx->log, txn, 1, 11, SIZE_MAX, out, 10, &count),
        ORIGO_E_LOG_GAP);
    uint64_t term;
    assert_int_equal(raftlog_term(fx->log, txn, 5, &term), ORIGO_E_LOG_GAP);
    /* A flipped payload byte fails the record's hash. */
    key_bytes[7] = 7;
    MDB_val value;
    assert_int_equal(mdb_get(txn, dbi, &key, &value), 0);
    uint8_t *copy = malloc(value.mv_size);
    assert_non_null(copy);
    memcpy(copy, value.mv_data, value.mv_size);
    copy[value.mv_size - 1] ^= 1;
    MDB_val damaged = {value.mv_size, copy};
    assert_int_equal(mdb_put(txn, dbi, &key, &damaged, 0), 0);
    free(copy);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 7, 8, SIZE_MAX, out, 10, &count),
        ORIGO_E_CORRUPT);
    mdb_txn_abort(txn);
}

static void truncate_drops_suffix(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 30, 1), 0);
    assert_int_equal(raftlog_truncate(fx->log, NULL, 31), 0);
    expect_bounds(fx->log, 1, 30);
    assert_int_equal(raftlog_truncate(fx->log, NULL, 12), 0);
    expect_bounds(fx->log, 1, 11);
    check_range(fx->log, fx->env, 1, 11, term_one);
    assert_int_equal(raftlog_truncate(fx->log, NULL, 0), ORIGO_E_INVAL);
}

static void hard_state_round_trips(void **state)
{
    struct fixture *fx = *state;
    struct raft_hard_state cases[] = {
        {1, 2, 3}, {0, 0, 0}, {UINT64_MAX, UINT64_MAX, UINT64_MAX}, {9, 0, 4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(raftlog_save_hard_state(fx->log, NULL, &cases[i]), 0);
        struct raft_hard_state got;
        assert_int_equal(raftlog_load_hard_state(fx->log, NULL, &got), 0);
        assert_int_equal(got.term, cases[i].term);
        assert_int_equal(got.vote, cases[i].vote);
        assert_int_equal(got.commit, cases[i].commit);
    }
}

static void snapshot_then_compact_keeps_term(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 5, 1), 0);
    assert_int_equal(append_range(fx->log, NULL, 6, 10, 2), 0);
    struct raft_snapshot_meta meta = {.index = 7, .term = 2};
    meta.config = three_voters();
    meta.config.n_learners = 1;
    meta.config.learners[0] = 4;
    /* Wrong term at the index, or an index the log lacks: refused. */
    meta.term = 1;
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_SNAPSHOT);
    meta.term = 2;
    meta.index = 11;
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_SNAPSHOT);
    meta.index = 7;
    /* Compaction needs a snapshot covering it. */
    assert_int_equal(raftlog_compact(fx->log, NULL, 3), ORIGO_E_SNAPSHOT);
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    /* Entries behind the snapshot stay until compacted. */
    expect_bounds(fx->log, 1, 10);
    assert_int_equal(raftlog_compact(fx->log, NULL, 4), 0);
    expect_bounds(fx->log, 5, 10);
    assert_int_equal(raftlog_compact(fx->log, NULL, 8), ORIGO_E_SNAPSHOT);
    assert_int_equal(raftlog_compact(fx->log, NULL, 7), 0);
    expect_bounds(fx->log, 8, 10);
    uint64_t term;
    assert_int_equal(raftlog_term(fx->log, NULL, 7, &term), 0);
    assert_int_equal(term, 2);
    assert_int_equal(raftlog_term(fx->log, NULL, 6, &term), ORIGO_E_COMPACTED);
    check_range(fx->log, fx->env, 8, 10, term_split_6);
    struct raft_snapshot_meta got;
    assert_int_equal(raftlog_load_snapshot(fx->log, NULL, &got), 0);
    assert_int_equal(got.index, 7);
    assert_int_equal(got.term, 2);
    assert_int_equal(got.config.n_voters, 3);
    assert_int_equal(got.config.n_learners, 1);
    assert_int_equal(got.config.learners[0], 4);
    /* An older snapshot is refused; compacting everything empties the log
     * and it continues after the snapshot. */
    meta.index = 5;
    meta.term = 1;
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_SNAPSHOT);
    meta.index = 10;
    meta.term = 2;
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    assert_int_equal(raftlog_compact(fx->log, NULL, 10), 0);
    expect_bounds(fx->log, 11, 10);
    uint64_t index;
    assert_int_equal(raftlog_last(fx->log, NULL, &index, &term), 0);
    assert_int_equal(index, 10);
    assert_int_equal(term, 2);
    assert_int_equal(append_range(fx->log, NULL, 12, 12, 2), ORIGO_E_LOG_GAP);
    assert_int_equal(append_range(fx->log, NULL, 11, 12, 2), 0);
    expect_bounds(fx->log, 11, 12);
    /* Entries the snapshot covers are skipped, not rewritten. */
    assert_int_equal(append_range(fx->log, NULL, 9, 13, 2), 0);
    expect_bounds(fx->log, 11, 13);
}

static void install_snapshot_resets_log(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 30, 1), 0);
    struct raft_snapshot_meta meta = {.index = 100, .term = 5};
    meta.config = three_voters();
    assert_int_equal(raftlog_install_snapshot(fx->log, NULL, &meta), 0);
    expect_bounds(fx->log, 101, 100);
    uint64_t term;
    assert_int_equal(raftlog_term(fx->log, NULL, 100, &term), 0);
    assert_int_equal(term, 5);
    assert_int_equal(append_range(fx->log, NULL, 101, 103, 4), ORIGO_E_INVAL);
    assert_int_equal(append_range(fx->log, NULL, 101, 103, 5), 0);
    expect_bounds(fx->log, 101, 103);
    /* A snapshot inside the log that conflicts with it also resets it. */
    meta.index = 102;
    meta.term = 6;
    assert_int_equal(raftlog_install_snapshot(fx->log, NULL, &meta), 0);
    expect_bounds(fx->log, 103, 102);
    meta.index = 50;
    assert_int_equal(raftlog_install_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_SNAPSHOT);
    meta.index = 0;
    assert_int_equal(raftlog_install_snapshot(fx->log, NULL, &meta),
                     ORIGO_E_INVAL);
    /* A configuration listing an id twice is refused before anything is
     * written: the caller's transaction still holds the log. */
    assert_int_equal(append_range(fx->log, NULL, 103, 104, 6), 0);
    meta.index = 200;
    meta.config.voters[1] = meta.config.voters[0];
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(raftlog_install_snapshot(fx->log, txn, &meta),
                     ORIGO_E_INVAL);
    uint64_t last;
    assert_int_equal(raftlog_last_index(fx->log, txn, &last), 0);
    assert_int_equal(last, 104);
    mdb_txn_abort(txn);
    struct raft_snapshot_meta got;
    assert_int_equal(raftlog_load_snapshot(fx->log, NULL, &got), 0);
    assert_int_equal(got.index, 102);
}

/* Stores the log's entries lo..hi in the stand-in ledger table. */
static void ledger_store(struct fixture *fx, MDB_txn *txn, uint64_t lo,
                         uint64_t hi)
{
    struct raft_entry out[64];
    for (uint64_t index = lo; index <= hi;) {
        size_t count;
        assert_int_equal(raftlog_entries(fx->log, txn, index, hi + 1, SIZE_MAX,
                                         out, 64, &count),
                         0);
        for (size_t i = 0; i < count; i++, index++) {
            uint8_t key_bytes[8];
            for (int b = 0; b < 8; b++)
                key_bytes[b] = (uint8_t)(index >> (56 - 8 * b));
            MDB_val key = {8, key_bytes};
            MDB_val value = {out[i].data.len, out[i].data.base};
            assert_int_equal(mdb_put(txn, fx->ledger, &key, &value, 0), 0);
        }
    }
}

static size_t stored_record_size(struct fixture *fx, uint64_t index)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, RAFTLOG_DBI_ENTRIES, 0, &dbi), 0);
    uint8_t key_bytes[8];
    for (int b = 0; b < 8; b++)
        key_bytes[b] = (uint8_t)(index >> (56 - 8 * b));
    MDB_val key = {8, key_bytes}, value;
    assert_int_equal(mdb_get(txn, dbi, &key, &value), 0);
    size_t size = value.mv_size;
    mdb_txn_abort(txn);
    return size;
}

static void release_keeps_one_copy_and_reads_through_hook(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 40, 1), 0);
    struct raft_entry conf = {
        .term = 1, .index = 41, .type = RAFT_ENTRY_CONFIG};
    uint8_t conf_bytes[RAFT_CONFIG_ENCODED_MAX];
    struct raft_config config = three_voters();
    conf.data.len = raft_config_encode(&config, conf_bytes, sizeof(conf_bytes));
    conf.data.base = conf_bytes;
    assert_int_equal(raftlog_append(fx->log, NULL, &conf, 1), 0);
    assert_int_equal(append_range(fx->log, NULL, 42, 50, 1), 0);

    /* Apply 1..45: the ledger stores the blocks and the log drops its copy
     * of NORMAL payloads in the same transaction. */
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    ledger_store(fx, txn, 1, 45);
    assert_int_equal(raftlog_release(fx->log, txn, 45, RAFT_ENTRY_NORMAL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    assert_int_equal(stored_record_size(fx, 10), 28);
    assert_int_equal(stored_record_size(fx, 41), 28 + conf.data.len);
    assert_int_equal(stored_record_size(fx, 46), 28 + payload_len(46, 1));
    check_range(fx->log, fx->env, 1, 40, term_one);
    check_range(fx->log, fx->env, 42, 50, term_one);
    /* Releasing again, or less, is a no-op; further on it continues. */
    assert_int_equal(raftlog_release(fx->log, NULL, 20, RAFT_ENTRY_NORMAL), 0);

    /* The ledger returning other bytes is caught by the stored hash. */
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    uint8_t key_bytes[8] = {0, 0, 0, 0, 0, 0, 0, 10};
    MDB_val key = {8, key_bytes};
    uint8_t wrong[300];
    payload_fill(wrong, 10, 1);
    wrong[0] ^= 0x80;
    MDB_val value = {payload_len(10, 1), wrong};
    assert_int_equal(mdb_put(txn, fx->ledger, &key, &value, 0), 0);
    struct raft_entry out[2];
    size_t count;
    assert_int_equal(
        raftlog_entries(fx->log, txn, 10, 11, SIZE_MAX, out, 2, &count),
        ORIGO_E_CORRUPT);
    /* And a ledger that lost it reports the hook's error. */
    assert_int_equal(mdb_del(txn, fx->ledger, &key, NULL), 0);
    assert_int_equal(
        raftlog_entries(fx->log, txn, 10, 11, SIZE_MAX, out, 2, &count),
        ORIGO_E_NOTFOUND);
    mdb_txn_abort(txn);
}

static void release_without_hook_is_refused(void **state)
{
    struct fixture *fx = *state;
    raftlog *plain;
    assert_int_equal(raftlog_open(fx->env, NULL, NULL, &plain), 0);
    assert_int_equal(append_range(plain, NULL, 1, 3, 1), 0);
    assert_int_equal(raftlog_release(plain, NULL, 3, RAFT_ENTRY_NORMAL),
                     ORIGO_E_INVAL);
    raftlog_close(plain);
}

static void watermark_stops_at_last_entry(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 5, 1), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    ledger_store(fx, txn, 1, 5);
    /* upto past the end releases what exists and no more. */
    assert_int_equal(raftlog_release(fx->log, txn, 100, RAFT_ENTRY_NORMAL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(append_range(fx->log, NULL, 6, 8, 1), 0);
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    ledger_store(fx, txn, 6, 8);
    assert_int_equal(raftlog_release(fx->log, txn, 8, RAFT_ENTRY_NORMAL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    for (uint64_t index = 1; index <= 8; index++)
        assert_int_equal(stored_record_size(fx, index), 28);
    check_range(fx->log, fx->env, 1, 8, term_one);
}

static void caller_transaction_commits_or_aborts_together(void **state)
{
    struct fixture *fx = *state;
    MDB_txn *txn;
    struct raft_hard_state hs = {4, 2, 0};
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(append_range(fx->log, txn, 1, 10, 4), 0);
    assert_int_equal(raftlog_save_hard_state(fx->log, txn, &hs), 0);
    mdb_txn_abort(txn);
    expect_bounds(fx->log, 1, 0);
    struct raft_hard_state got;
    assert_int_equal(raftlog_load_hard_state(fx->log, NULL, &got), 0);
    assert_int_equal(got.term, 0);

    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    assert_int_equal(append_range(fx->log, txn, 1, 10, 4), 0);
    assert_int_equal(raftlog_save_hard_state(fx->log, txn, &hs), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    expect_bounds(fx->log, 1, 10);
    assert_int_equal(raftlog_load_hard_state(fx->log, NULL, &got), 0);
    assert_int_equal(got.term, 4);
    assert_int_equal(got.vote, 2);
}

static void reopen_keeps_everything(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(append_range(fx->log, NULL, 1, 5, 1), 0);
    assert_int_equal(append_range(fx->log, NULL, 6, 300, 2), 0);
    struct raft_hard_state hs = {2, 3, 250};
    assert_int_equal(raftlog_save_hard_state(fx->log, NULL, &hs), 0);
    struct raft_snapshot_meta meta = {.index = 100, .term = 2};
    meta.config = three_voters();
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    assert_int_equal(raftlog_compact(fx->log, NULL, 50), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    ledger_store(fx, txn, 51, 120);
    assert_int_equal(raftlog_release(fx->log, txn, 120, RAFT_ENTRY_NORMAL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    fixture_close(fx);
    fixture_open(fx, 64u << 20);

    expect_bounds(fx->log, 51, 300);
    check_range(fx->log, fx->env, 51, 300, term_split_6);
    struct raft_hard_state got;
    assert_int_equal(raftlog_load_hard_state(fx->log, NULL, &got), 0);
    assert_int_equal(got.term, 2);
    assert_int_equal(got.vote, 3);
    assert_int_equal(got.commit, 250);
    struct raft_snapshot_meta snap;
    assert_int_equal(raftlog_load_snapshot(fx->log, NULL, &snap), 0);
    assert_int_equal(snap.index, 100);
    assert_int_equal(snap.term, 2);
    assert_int_equal(snap.config.n_voters, 3);
    assert_int_equal(stored_record_size(fx, 120), 28);
}

static void restore_hands_the_core_its_durable_state(void **state)
{
    struct fixture *fx = *state;
    MDB_txn *txn;
    struct raft_restore rs;
    /* A fresh log restores to nothing. */
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(raftlog_restore(fx->log, txn, &rs), 0);
    assert_int_equal(rs.n_entries, 0);
    assert_int_equal(rs.snapshot.index, 0);
    assert_int_equal(rs.hard_state.term, 0);
    raftlog_restore_release(&rs);
    mdb_txn_abort(txn);

    assert_int_equal(append_range(fx->log, NULL, 1, 5, 1), 0);
    assert_int_equal(append_range(fx->log, NULL, 6, 150, 2), 0);
    struct raft_hard_state hs = {2, 1, 140};
    assert_int_equal(raftlog_save_hard_state(fx->log, NULL, &hs), 0);
    struct raft_snapshot_meta meta = {.index = 60, .term = 2};
    meta.config = three_voters();
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    assert_int_equal(raftlog_compact(fx->log, NULL, 40), 0);
    assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
    ledger_store(fx, txn, 41, 100);
    assert_int_equal(raftlog_release(fx->log, txn, 100, RAFT_ENTRY_NORMAL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);

    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(raftlog_restore(fx->log, txn, &rs), 0);
    assert_int_equal(rs.hard_state.term, 2);
    assert_int_equal(rs.hard_state.commit, 140);
    assert_int_equal(rs.snapshot.index, 60);
    assert_int_equal(rs.snapshot.config.n_voters, 3);
    /* Entries start after the snapshot, not at the first kept entry. */
    assert_int_equal(rs.n_entries, 90);
    for (size_t i = 0; i < rs.n_entries; i++) {
        const struct raft_entry *e = &rs.entries[i];
        uint8_t expect[300];
        payload_fill(expect, 61 + i, 2);
        assert_int_equal(e->index, 61 + i);
        assert_int_equal(e->data.len, payload_len(61 + i, 2));
        if (e->data.len)
            assert_memory_equal(e->data.base, expect, e->data.len);
    }
    raftlog_restore_release(&rs);
    raftlog_restore_release(&rs);
    mdb_txn_abort(txn);
}

static void long_log_truncates_and_compacts_across_pages(void **state)
{
    struct fixture *fx = *state;
    for (uint64_t lo = 1; lo <= 5000; lo += 500)
        assert_int_equal(append_range(fx->log, NULL, lo, lo + 499, 1), 0);
    expect_bounds(fx->log, 1, 5000);
    assert_int_equal(append_range(fx->log, NULL, 2501, 2600, 2), 0);
    expect_bounds(fx->log, 1, 2600);
    struct raft_snapshot_meta meta = {.index = 2000, .term = 1};
    meta.config = three_voters();
    assert_int_equal(raftlog_save_snapshot(fx->log, NULL, &meta), 0);
    assert_int_equal(raftlog_compact(fx->log, NULL, 1999), 0);
    expect_bounds(fx->log, 2000, 2600);
    check_range(fx->log, fx->env, 2000, 2500, term_one);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat stat;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, RAFTLOG_DBI_ENTRIES, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &stat), 0);
    assert_int_equal(stat.ms_entries, 601);
    mdb_txn_abort(txn);
}

static void map_full_is_reported_and_recoverable(void **state)
{
    struct fixture *fx = *state;
    fixture_close(fx);
    testutil_rmtree(fx->dir);
    free(fx->dir);
    fx->dir = testutil_tmpdir();
    fixture_open(fx, 256u << 10);
    static uint8_t big[64u << 10];
    memset(big, 0x5a, sizeof(big));
    uint64_t index = 1;
    int rc = 0;
    MDB_txn *txn = NULL;
    while (index < 1000) {
        assert_int_equal(mdb_txn_begin(fx->env, NULL, 0, &txn), 0);
        struct raft_entry e = {.term = 1, .index = index, .data = {big, 0}};
        e.data.len = sizeof(big);
        rc = raftlog_append(fx->log, txn, &e, 1);
        if (rc)
            break;
        assert_int_equal(mdb_txn_commit(txn), 0);
        index++;
    }
    assert_int_equal(rc, ORIGO_E_MAP_FULL);
    mdb_txn_abort(txn);
    /* The caller grows the map and retries. */
    assert_int_equal(mdb_env_set_mapsize(fx->env, 8u << 20), 0);
    struct raft_entry e = {.term = 1, .index = index, .data = {big, 0}};
    e.data.len = sizeof(big);
    assert_int_equal(raftlog_append(fx->log, NULL, &e, 1), 0);
    expect_bounds(fx->log, 1, index);
}

static void error_mapping_covers_lmdb_codes(void **state)
{
    (void)state;
    assert_int_equal(raftlog_mdb_error(0), 0);
    assert_int_equal(raftlog_mdb_error(MDB_NOTFOUND), ORIGO_E_NOTFOUND);
    assert_int_equal(raftlog_mdb_error(MDB_MAP_FULL), ORIGO_E_MAP_FULL);
    assert_int_equal(raftlog_mdb_error(MDB_CORRUPTED), ORIGO_E_CORRUPT);
    assert_int_equal(raftlog_mdb_error(MDB_READERS_FULL), ORIGO_E_BUSY);
    assert_int_equal(raftlog_mdb_error(MDB_DBS_FULL), ORIGO_E_LOG_STORE);
    assert_int_equal(raftlog_mdb_error(EIO), ORIGO_E_LOG_STORE);
}

/* ---- crash test ---- */

/* Payload written by the crashing child: index, term, filler and an FNV-1a
 * checksum over all of it, so a torn or misplaced entry shows. */
static uint64_t fnv1a(const uint8_t *data, size_t len)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static void put64(uint8_t *p, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        p[i] = (uint8_t)value;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | p[i];
    return value;
}

static size_t crash_payload(uint8_t *out, uint64_t index, uint64_t term)
{
    size_t filler = (size_t)((index * 2654435761u) % 2000);
    put64(out, index);
    put64(out + 8, term);
    for (size_t i = 0; i < filler; i++)
        out[16 + i] = (uint8_t)(index ^ (i * 31));
    put64(out + 16 + filler, fnv1a(out, 16 + filler));
    return 24 + filler;
}

static int crash_payload_ok(const struct raft_entry *e)
{
    const uint8_t *p = e->data.base;
    if (e->data.len < 24)
        return 0;
    size_t body = e->data.len - 8;
    return get64(p) == e->index && get64(p + 8) == e->term &&
           get64(p + body) == fnv1a(p, body);
}

/* Hard states the child writes: term t with vote and commit derived from
 * it, so the parent can tell a written one from a torn or invented one. */
static struct raft_hard_state crash_hard_state(uint64_t term)
{
    struct raft_hard_state hs = {term, term % 5 + 1, term * 3};
    return hs;
}

/* The child: appends batches forever, sometimes a new term replacing a
 * suffix, writes the hard state, applies and releases, snapshots and
 * compacts, and reports the last index of every committed append on
 * report_fd. Exits non-zero only on an error. */
static void crash_child(const char *dir, int report_fd)
{
    struct fixture fx = {0};
    fx.env = env_open(dir, 256u << 20);
    if (!fx.env)
        _exit(10);
    MDB_txn *txn;
    if (mdb_txn_begin(fx.env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, "ledger", MDB_CREATE, &fx.ledger))
        _exit(11);
    raftlog_options options = {ledger_payload, &fx};
    if (raftlog_open(fx.env, txn, &options, &fx.log) || mdb_txn_commit(txn))
        _exit(12);
    struct raft_hard_state hs;
    uint64_t last, last_term;
    if (raftlog_load_hard_state(fx.log, NULL, &hs) ||
        raftlog_last(fx.log, NULL, &last, &last_term))
        _exit(13);
    uint64_t term = hs.term > last_term ? hs.term : last_term;
    if (term == 0)
        term = 1;
    static uint8_t bufs[8][2100];
    for (uint64_t round = 0;; round++) {
        uint64_t start = last + 1;
        if (round % 7 == 3 && last > 4) {
            term++; /* a new leader overwrites the last three entries */
            start = last - 2;
        }
        struct raft_entry batch[8];
        size_t count = 1 + round % 8;
        for (size_t i = 0; i < count; i++) {
            batch[i] = (struct raft_entry){.term = term, .index = start + i};
            batch[i].data.base = bufs[i];
            batch[i].data.len = crash_payload(bufs[i], start + i, term);
        }
        hs = crash_hard_state(term);
        if (mdb_txn_begin(fx.env, NULL, 0, &txn) ||
            raftlog_append(fx.log, txn, batch, count) ||
            raftlog_save_hard_state(fx.log, txn, &hs) || mdb_txn_commit(txn))
            _exit(14);
        last = start + count - 1;
        /* Acknowledge the durable commit to the parent. */
        uint8_t report[8];
        put64(report, last);
        if (write(report_fd, report, sizeof(report)) != sizeof(report))
            _exit(20);
        if (round % 5 == 4 && last > 20) {
            /* Apply everything but the last ten entries. */
            uint64_t applied = last - 10;
            struct raft_snapshot_meta meta = {.index = applied, .term = 0};
            meta.config = three_voters();
            if (mdb_txn_begin(fx.env, NULL, 0, &txn) ||
                raftlog_term(fx.log, txn, applied, &meta.term))
                _exit(15);
            uint64_t first;
            if (raftlog_first_index(fx.log, txn, &first))
                _exit(16);
            struct raft_entry out[64];
            for (uint64_t index = first; index <= applied;) {
                size_t n;
                if (raftlog_entries(fx.log, txn, index, applied + 1, SIZE_MAX,
                                    out, 64, &n))
                    _exit(17);
                for (size_t i = 0; i < n; i++, index++) {
                    uint8_t key_bytes[8];
                    put64(key_bytes, index);
                    MDB_val key = {8, key_bytes}, held;
                    MDB_val value = {out[i].data.len, out[i].data.base};
                    /* Released entries come from the ledger already. */
                    if (mdb_get(txn, fx.ledger, &key, &held) == 0)
                        continue;
                    if (mdb_put(txn, fx.ledger, &key, &value, 0))
                        _exit(18);
                }
            }
            if (raftlog_release(fx.log, txn, applied, RAFT_ENTRY_NORMAL) ||
                raftlog_save_snapshot(fx.log, txn, &meta) ||
                raftlog_compact(fx.log, txn, applied - 5) ||
                mdb_txn_commit(txn))
                _exit(19);
        }
    }
}

/* After a crash: a contiguous log of intact entries with non-decreasing
 * terms, a hard state that was written, and a term no lower than the log's.
 * Returns the last index. */
static uint64_t crash_verify(struct fixture *fx)
{
    uint64_t first, last;
    assert_int_equal(raftlog_first_index(fx->log, NULL, &first), 0);
    assert_int_equal(raftlog_last_index(fx->log, NULL, &last), 0);
    MDB_txn *txn;
    assert_int_equal(mdb_txn_begin(fx->env, NULL, MDB_RDONLY, &txn), 0);
    uint64_t prev_term = 0;
    for (uint64_t index = first; index <= last;) {
        struct raft_entry out[64];
        size_t count;
        assert_int_equal(raftlog_entries(fx->log, txn, index, last + 1,
                                         SIZE_MAX, out, 64, &count),
                         0);
        for (size_t i = 0; i < count; i++, index++) {
            assert_int_equal(out[i].index, index);
            assert_true(crash_payload_ok(&out[i]));
            assert_true(out[i].term >= prev_term);
            prev_term = out[i].term;
        }
    }
    struct raft_hard_state hs;
    assert_int_equal(raftlog_load_hard_state(fx->log, txn, &hs), 0);
    if (last > 0) {
        struct raft_hard_state expect = crash_hard_state(hs.term);
        assert_int_equal(hs.vote, expect.vote);
        assert_int_equal(hs.commit, expect.commit);
        assert_true(hs.term >= prev_term);
    }
    mdb_txn_abort(txn);
    return last;
}

/* Reads one 8-byte report of the child; 0 at end of file. */
static int read_report(int fd, uint64_t *last)
{
    uint8_t bytes[8];
    size_t got = 0;
    while (got < sizeof(bytes)) {
        ssize_t n = read(fd, bytes + got, sizeof(bytes) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    *last = get64(bytes);
    return 1;
}

static void crash_at_random_moments_leaves_a_valid_prefix(void **state)
{
    struct fixture *fx = *state;
    fixture_close(fx);
    unsigned seed = (unsigned)time(NULL);
    printf("crash test seed %u\n", seed);
    srand(seed);
    uint64_t last = 0;
    int rounds = 50;
    unsigned long reports = 0;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(fx->dir, fds[1]);
        }
        close(fds[1]);
        /* Let the child report a random number of commits (a wait on its
         * progress, not on time), then kill it after a random pause: the
         * pause only places the fault somewhere in the writes that follow. */
        uint64_t reported = 0, seen;
        int want = rand() % 16;
        for (int i = 0; i < want && read_report(fds[0], &seen); i++) {
            reported = seen;
            reports++;
        }
        struct timespec pause = {0, (long)(rand() % 3000) * 1000};
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        /* Commits reported before the kill count as acknowledged too. */
        while (read_report(fds[0], &seen)) {
            reported = seen;
            reports++;
        }
        close(fds[0]);
        /* The child never exits on its own: any exit is a storage error. */
        if (!WIFSIGNALED(status))
            printf("crash child exited with %d\n", WEXITSTATUS(status));
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        fixture_open(fx, 256u << 20);
        uint64_t now = crash_verify(fx);
        fixture_close(fx);
        /* An acknowledged commit is never lost: later rounds rewrite at
         * most the last three entries, so the log ends no more than two
         * before the last reported index (and the previous round's). */
        assert_true(now + 2 >= reported);
        assert_true(now + 2 >= last);
        last = now;
    }
    printf("crash test: %d kills, %lu acknowledged commits, final last index "
           "%llu\n",
           rounds, reports, (unsigned long long)last);
    fixture_open(fx, 64u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(fresh_log_is_empty),
        T(append_then_read_round_trips),
        T(read_stops_at_cap_and_byte_budget),
        T(append_replaces_conflicting_suffix),
        T(append_rejects_bad_batches),
        T(out_of_range_reads_fail_cleanly),
        T(missing_entry_inside_log_is_a_gap),
        T(truncate_drops_suffix),
        T(hard_state_round_trips),
        T(snapshot_then_compact_keeps_term),
        T(install_snapshot_resets_log),
        T(release_keeps_one_copy_and_reads_through_hook),
        T(release_without_hook_is_refused),
        T(watermark_stops_at_last_entry),
        T(caller_transaction_commits_or_aborts_together),
        T(reopen_keeps_everything),
        T(restore_hands_the_core_its_durable_state),
        T(long_log_truncates_and_compacts_across_pages),
        T(map_full_is_reported_and_recoverable),
        T(error_mapping_covers_lmdb_codes),
        T(crash_at_random_moments_leaves_a_valid_prefix),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
