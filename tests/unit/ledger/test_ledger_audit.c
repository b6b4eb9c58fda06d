/* Audit and determinism: the same random block sequence applied to two
 * stores gives identical tables; a clean store audits clean; flipping one
 * byte of an event, a stored Merkle hash, a block header, a rejected
 * envelope, an event-ID record, a member row or a checkpoint signature in
 * a copy of the store is found, and the report names the table and key;
 * so is deleting, altering or adding a rejected envelope. With external
 * anchors, a store from another genesis or without a checkpoint signed by
 * a trusted quorum fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"

#include "ledger.h"
#include "ledgertest.h"
#include "testutil.h"

#define SEED 42
#define BLOCKS 40

typedef lt_fixture fixture; /* ledgertest.h; the block fields stay unused */

static void build(lt_net *net, ledger *led, uint64_t seed, uint64_t blocks)
{
    for (uint64_t k = 1; k <= blocks; k++) {
        lt_block b = {0};
        lt_random_block(net, seed, k, 12, &b);
        lt_apply(led, &b, k, lt_block_time(k), NULL);
        lt_block_clear(&b);
    }
}

static int setup(void **state)
{
    fixture *f = lt_fixture_new(LT_WINDOW);
    build(&f->net, f->led, SEED, BLOCKS);
    /* Two validator signatures on the final checkpoint. */
    ledger_state st;
    char *body, line[256];
    size_t body_len;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(
        ledger_checkpoint_body(f->led, NULL, st.tree_size, &body, &body_len),
        0);
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_checkpoint_add_signature(
                             f->led, NULL, st.tree_size, line, strlen(line)),
                         0);
    }
    free(body);
    /* And on the lot index note of the same tree. */
    assert_int_equal(ledger_lot_index_note_body(f->led, NULL, st.tree_size,
                                                &body, &body_len),
                     0);
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_lot_index_add_signature(
                             f->led, NULL, st.tree_size, line, strlen(line)),
                         0);
    }
    free(body);
    ledger_close(f->led);
    f->led = NULL;
    *state = f;
    return 0;
}

static void test_same_blocks_give_identical_tables(void **state)
{
    fixture *f = *state;
    char *dir2, msg[256];
    ledger *a, *b = lt_store(&f->net, &dir2, 0);
    build(&f->net, b, SEED, BLOCKS);
    assert_int_equal(ledger_open(f->dir, NULL, 0, NULL, &a, msg, sizeof(msg)),
                     0);
    /* The checkpoint signatures were added to `a` only. */
    static const char *const skip[] = {
        LEDGER_DBI_CKPT_SIGS, LEDGER_DBI_LOTIDX_SIGS, LEDGER_DBI_META, NULL};
    assert_int_equal(lt_compare_envs(ledger_env(a), ledger_env(b), skip), 0);
    ledger_state sa, sb;
    assert_int_equal(ledger_get_state(a, NULL, &sa), 0);
    assert_int_equal(ledger_get_state(b, NULL, &sb), 0);
    assert_memory_equal(&sa, &sb, sizeof(sa));
    assert_true(sa.tree_size > BLOCKS);
    /* With the same signatures, meta and every other table match too. */
    ledger_close(b);
    testutil_rmtree(dir2);
    free(dir2);
    b = lt_store(&f->net, &dir2, 0);
    build(&f->net, b, SEED, BLOCKS);
    char *body, line[256];
    size_t body_len;
    assert_int_equal(
        ledger_checkpoint_body(b, NULL, sb.tree_size, &body, &body_len), 0);
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_checkpoint_add_signature(b, NULL, sb.tree_size,
                                                         line, strlen(line)),
                         0);
    }
    free(body);
    assert_int_equal(
        ledger_lot_index_note_body(b, NULL, sb.tree_size, &body, &body_len), 0);
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_lot_index_add_signature(b, NULL, sb.tree_size,
                                                        line, strlen(line)),
                         0);
    }
    free(body);
    assert_int_equal(lt_compare_envs(ledger_env(a), ledger_env(b), NULL), 0);
    /* A different sequence differs. */
    ledger_close(b);
    testutil_rmtree(dir2);
    free(dir2);
    b = lt_store(&f->net, &dir2, 0);
    build(&f->net, b, SEED + 1, BLOCKS);
    assert_int_equal(lt_compare_envs(ledger_env(a), ledger_env(b), skip), 1);
    ledger_close(a);
    ledger_close(b);
    testutil_rmtree(dir2);
    free(dir2);
}

static void test_clean_store_audits_clean(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    assert_int_equal(ledger_audit(f->dir, NULL, &rep), 0);
    if (!rep.clean)
        fprintf(stderr, "%s %s: expected %s found %s (%s)\n", rep.table,
                rep.key, rep.expected, rep.found, rep.detail);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.blocks, BLOCKS);
    assert_int_equal(rep.signatures, 4); /* checkpoint and index note */
    assert_true(rep.events >= rep.tree_size);
    ledger_state st;
    char msg[256];
    assert_int_equal(
        ledger_open(f->dir, NULL, 0, NULL, &f->led, msg, sizeof(msg)), 0);
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(rep.tree_size, st.tree_size);
    assert_memory_equal(rep.root, st.root, 32);
}

/* Copies the store with mdb_env_copy, flips one byte of the value of
 * `table`[key] (or of the first row when key is NULL) at `offset` (from
 * the end when negative), audits the copy and returns its report. */
static void tamper_and_audit(fixture *f, const char *table, const void *key,
                             size_t key_len, long offset,
                             ledger_audit_report *rep)
{
    char *copy = testutil_tmpdir(), msg[256];
    ledger *src;
    assert_int_equal(ledger_open(f->dir, NULL, 0, NULL, &src, msg, sizeof(msg)),
                     0);
    assert_int_equal(mdb_env_copy(ledger_env(src), copy), 0);
    ledger_close(src);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k = {key_len, (void *)key}, v;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, copy, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    assert_int_equal(mdb_cursor_get(cur, &k, &v, key ? MDB_SET_KEY : MDB_FIRST),
                     0);
    uint8_t *bytes = malloc(v.mv_size);
    memcpy(bytes, v.mv_data, v.mv_size);
    size_t at = offset >= 0 ? (size_t)offset : v.mv_size - (size_t)(-offset);
    assert_true(at < v.mv_size);
    bytes[at] ^= 0x01;
    MDB_val nv = {v.mv_size, bytes};
    assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
    mdb_cursor_close(cur);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(bytes);

    assert_int_equal(ledger_audit(copy, NULL, rep), 0);
    fprintf(stderr, "  audit: table %s key %s: expected %s, found %s (%s)\n",
            rep->table, rep->key, rep->expected, rep->found, rep->detail);
    assert_int_equal(rep->clean, 0);
    testutil_rmtree(copy);
    free(copy);
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static void test_flipped_event_byte_is_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    uint8_t key[8];
    be64(key, 17);
    tamper_and_audit(f, LEDGER_DBI_EVENTS, key, 8, -3, &rep); /* in the sig */
    assert_string_equal(rep.table, LEDGER_DBI_EVENTS);
    assert_non_null(strstr(rep.key, "leaf 17"));
    assert_non_null(strstr(rep.expected, "rejected"));
    tamper_and_audit(f, LEDGER_DBI_EVENTS, key, 8, 20, &rep); /* in the body */
    assert_string_equal(rep.table, LEDGER_DBI_EVENTS);
    assert_non_null(strstr(rep.key, "leaf 17"));
}

static void test_flipped_merkle_hash_is_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    uint8_t key[8];
    be64(key, 2);
    tamper_and_audit(f, LEDGER_DBI_MLOG, key, 8, 0, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_MLOG);
    assert_non_null(strstr(rep.key, "group 2 "));
    assert_int_equal(strlen(rep.expected), 64);
    assert_int_equal(strlen(rep.found), 64);
    assert_string_not_equal(rep.expected, rep.found);
}

static void test_flipped_block_header_is_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    uint8_t key[8];
    be64(key, 7);
    tamper_and_audit(f, LEDGER_DBI_BLOCKS, key, 8, -1, &rep); /* root */
    assert_string_equal(rep.table, LEDGER_DBI_BLOCKS);
    assert_string_equal(rep.key, "height 7 field root");
    /* A field that replay takes as input (the block time) breaks the link
     * from the next block. */
    be64(key, 9);
    tamper_and_audit(f, LEDGER_DBI_BLOCKS, key, 8, 64, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_BLOCKS);
    assert_non_null(strstr(rep.key, "height 10 field prev"));
    /* The last block's link is checked against the head record. */
    be64(key, BLOCKS);
    tamper_and_audit(f, LEDGER_DBI_BLOCKS, key, 8, 64, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_BLOCKS);
    assert_non_null(strstr(rep.key, "height 40"));
}

static void test_flipped_checkpoint_signature_is_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    tamper_and_audit(f, LEDGER_DBI_CKPT_SIGS, NULL, 0, -5, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_CKPT_SIGS);
    assert_non_null(strstr(rep.key, "tree size"));
}

/* The lot index is recomputed from the events at every block: one wrong
 * chain or root is named; so is a bad index note signature. */
static void test_flipped_lot_index_is_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    const char *tables[] = {LEDGER_DBI_LOTIDX_CHAINS, LEDGER_DBI_LOTIDX_ROOTS};
    for (size_t i = 0; i < 2; i++) {
        tamper_and_audit(f, tables[i], NULL, 0, -1, &rep);
        assert_string_equal(rep.table, tables[i]);
        assert_string_not_equal(rep.expected, rep.found);
    }
    tamper_and_audit(f, LEDGER_DBI_LOTIDX_SIGS, NULL, 0, -5, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_LOTIDX_SIGS);
    assert_non_null(strstr(rep.expected, "lot index note"));
}

static void test_flipped_rejects_ids_and_members_are_found(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    tamper_and_audit(f, LEDGER_DBI_REJECTS, NULL, 0, 0, &rep); /* reason */
    assert_string_equal(rep.table, LEDGER_DBI_REJECTS);
    assert_non_null(strstr(rep.key, "position"));
    tamper_and_audit(f, LEDGER_DBI_EVENT_IDS, NULL, 0, -1, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_EVENT_IDS);
    tamper_and_audit(f, LEDGER_DBI_MEMBERS, NULL, 0, -1, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_MEMBERS);
}

/* ---- rejected envelopes (review finding 3) -------------------------------
 * A block [valid lot.create by acme, lot.create by an outsider]: the second
 * is rejected (NOT_MEMBER) and lives only in `rejects` and `event_ids`. */

typedef struct reject_store {
    char *dir;
    uint8_t rejected_id[32];
} reject_store;

static void make_reject_store(fixture *f, reject_store *rs)
{
    lt_block b = {0};
    ledger_outcome out[2];
    ledger *led = lt_store(&f->net, &rs->dir, 0);
    lt_lot_create(&b, &f->net, LT_SUPPLIER, "acme/r/1", LT_T0 + 1000, NULL);
    lt_lot_create(&b, &f->net, LT_OUTSIDER, "acme/r/2", LT_T0 + 1000,
                  rs->rejected_id);
    lt_apply(led, &b, 1, LT_T0 + 1000, out);
    assert_int_equal(out[0].status, 0);
    assert_int_equal(out[1].status, ORIGO_E_NOT_MEMBER);
    lt_block_clear(&b);
    ledger_close(led);
}

/* Opens the LMDB environment of `dir` for raw tampering. */
static MDB_env *raw_env(const char *dir)
{
    MDB_env *env;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    return env;
}

static void raw_delete(MDB_env *env, const char *table, const void *key,
                       size_t key_len)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {key_len, (void *)key};
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
    assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

static void audit_dirty(const char *dir, ledger_audit_report *rep)
{
    assert_int_equal(ledger_audit(dir, NULL, rep), 0);
    fprintf(stderr, "  audit: table %s key %s: expected %s, found %s (%s)\n",
            rep->table, rep->key, rep->expected, rep->found, rep->detail);
    assert_int_equal(rep->clean, 0);
}

static void test_deleted_trailing_reject_is_found(void **state)
{
    fixture *f = *state;
    reject_store rs;
    ledger_audit_report rep;
    uint8_t key[12];
    make_reject_store(f, &rs);
    assert_int_equal(ledger_audit(rs.dir, NULL, &rep), 0);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.events, 2);
    /* The reviewer's case: the reject and its event-ID row both go. */
    MDB_env *env = raw_env(rs.dir);
    be64(key, 1);
    memset(key + 8, 0, 3);
    key[11] = 1;
    raw_delete(env, LEDGER_DBI_REJECTS, key, 12);
    raw_delete(env, LEDGER_DBI_EVENT_IDS, rs.rejected_id,
               16); /* keyed by the ID's first 128 bits */
    mdb_env_close(env);
    audit_dirty(rs.dir, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_REJECTS);
    assert_string_equal(rep.key, "height 1 position 1");
    testutil_rmtree(rs.dir);
    free(rs.dir);
}

static void test_altered_reject_is_found(void **state)
{
    fixture *f = *state;
    reject_store rs;
    ledger_audit_report rep;
    uint8_t key[12];
    make_reject_store(f, &rs);
    /* Flip a bit of the rejected envelope's signature: it still decodes,
     * still has the same event ID and is still rejected as NOT_MEMBER, so
     * only the header's envelopes_hash can tell. */
    MDB_env *env = raw_env(rs.dir);
    MDB_txn *txn;
    MDB_dbi dbi;
    be64(key, 1);
    memset(key + 8, 0, 3);
    key[11] = 1;
    MDB_val k = {12, key}, v;
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_REJECTS, 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t *bytes = malloc(v.mv_size);
    memcpy(bytes, v.mv_data, v.mv_size);
    bytes[v.mv_size - 3] ^= 0x01;
    MDB_val nv = {v.mv_size, bytes};
    assert_int_equal(mdb_put(txn, dbi, &k, &nv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(bytes);
    audit_dirty(rs.dir, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_REJECTS);
    assert_string_equal(rep.key, "height 1 position 1");
    assert_non_null(strstr(rep.detail, "envelopes_hash"));
    testutil_rmtree(rs.dir);
    free(rs.dir);
}

static void test_added_reject_is_found(void **state)
{
    fixture *f = *state;
    reject_store rs;
    ledger_audit_report rep;
    uint8_t key[12], val[3] = {0, 101, 0xc0};
    make_reject_store(f, &rs);
    /* A reject slipped in after the block's last envelope. */
    MDB_env *env = raw_env(rs.dir);
    MDB_txn *txn;
    MDB_dbi dbi;
    be64(key, 1);
    memset(key + 8, 0, 3);
    key[11] = 2;
    MDB_val k = {12, key}, v = {3, val};
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_REJECTS, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    audit_dirty(rs.dir, &rep);
    assert_string_equal(rep.table, LEDGER_DBI_REJECTS);
    assert_string_equal(rep.key, "height 1 position 2");
    testutil_rmtree(rs.dir);
    free(rs.dir);
}

/* ---- external anchors (review finding 6) ------------------------------- */

static void test_audit_anchors_to_expected_genesis(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    ledger_audit_options opts = {.genesis_json =
                                     (const uint8_t *)f->net.genesis_json,
                                 .genesis_len = f->net.genesis_len};
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.genesis_anchored, 1);
    assert_int_equal(rep.checkpoint_anchored, 0);
    /* The same network with another parameter is another genesis: a store
     * rewritten from it (consistent in itself) fails the anchor. */
    lt_net other;
    lt_net_init(&other, 61000);
    opts.genesis_json = (const uint8_t *)other.genesis_json;
    opts.genesis_len = other.genesis_len;
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 0);
    assert_string_equal(rep.table, LEDGER_DBI_META);
    assert_string_equal(rep.key, "genesis_hash");
    assert_int_equal(rep.genesis_anchored, 0);
    lt_net_close(&other);
    /* A genesis file that does not parse stops the audit. */
    opts.genesis_json = (const uint8_t *)"{}";
    opts.genesis_len = 2;
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), ORIGO_E_GENESIS);
}

static void test_audit_anchors_to_trusted_checkpoint(void **state)
{
    fixture *f = *state;
    ledger_audit_report rep;
    origo_vkey keys[LT_VALIDATORS];
    lt_validator_vkeys(&f->net, keys);
    origo_note_policy policy = {.signers = keys, .signer_count = 3};
    ledger_audit_options opts = {.trust = &policy, .trust_origin = LT_NET};
    /* The fixture's last checkpoint carries v1 and v2: 2 of 3. */
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.checkpoint_anchored, 1);
    assert_int_equal(rep.anchored_size, rep.tree_size);
    assert_int_equal(rep.anchored_signers, 2);
    assert_int_equal(rep.anchored_quorum, 2);
    /* Demanding all three fails and says how many signed. */
    policy.quorum = 3;
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 0);
    assert_string_equal(rep.table, LEDGER_DBI_META);
    assert_non_null(strstr(rep.found, "2 of the trusted keys"));
    /* Keys the auditor does not trust (right names, other keys) do not
     * count: a store re-signed by an attacker fails. */
    policy.quorum = 0;
    for (int v = 0; v < LT_VALIDATORS; v++) {
        memcpy(keys[v].pub, origo_key_public(f->net.keys[LT_SUPPLIER + v]), 32);
        assert_int_equal(
            origo_vkey_id(keys[v].name, 2, keys[v].pub, keys[v].key_id), 0);
    }
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 0);
    assert_int_equal(rep.checkpoint_anchored, 0);
    /* Another origin fails too. */
    lt_validator_vkeys(&f->net, keys);
    opts.trust_origin = "origo.test/other";
    assert_int_equal(ledger_audit_ex(f->dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 0);
    assert_non_null(strstr(rep.found, "origin"));
}

static void test_audit_with_trust_needs_a_checkpoint(void **state)
{
    fixture *f = *state;
    reject_store rs; /* any store without checkpoint signatures */
    ledger_audit_report rep;
    origo_vkey keys[LT_VALIDATORS];
    lt_validator_vkeys(&f->net, keys);
    origo_note_policy policy = {.signers = keys, .signer_count = 3};
    ledger_audit_options opts = {.trust = &policy};
    make_reject_store(f, &rs);
    assert_int_equal(ledger_audit_ex(rs.dir, &opts, &rep), 0);
    assert_int_equal(rep.clean, 0);
    assert_non_null(strstr(rep.found, "no quorum-signed checkpoint"));
    /* Without anchors the same store audits clean (internally). */
    assert_int_equal(ledger_audit(rs.dir, NULL, &rep), 0);
    assert_int_equal(rep.clean, 1);
    testutil_rmtree(rs.dir);
    free(rs.dir);
}

int main(void)
{
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, setup, lt_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_same_blocks_give_identical_tables),
        T(test_clean_store_audits_clean),
        T(test_flipped_event_byte_is_found),
        T(test_flipped_merkle_hash_is_found),
        T(test_flipped_block_header_is_found),
        T(test_flipped_checkpoint_signature_is_found),
        T(test_flipped_lot_index_is_found),
        T(test_flipped_rejects_ids_and_members_are_found),
        T(test_deleted_trailing_reject_is_found),
        T(test_altered_reject_is_found),
        T(test_added_reject_is_found),
        T(test_audit_anchors_to_expected_genesis),
        T(test_audit_anchors_to_trusted_checkpoint),
        T(test_audit_with_trust_needs_a_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
