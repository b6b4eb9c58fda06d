/* Applying blocks: one test per validation rule (bad signature, non-member,
 * wrong role, removed member, admin-only member events, duplicate ID,
 * timestamp window, strict input lots, block time), plus the queries over
 * what apply wrote (event status, blocks, envelopes in order, proofs),
 * checkpoint signatures and genesis binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "origo/error.h"
#include "origo/merkle.h"

#include "genesis.h"
#include "ledger.h"
#include "ledgertest.h"
#include "testutil.h"

#define WINDOW LT_WINDOW

typedef lt_fixture fixture; /* ledgertest.h */

/* Applies f->block as the next block, one second after the last. */
static void apply(fixture *f)
{
    f->time += 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
}

static void next_block(fixture *f)
{
    lt_block_clear(&f->block);
}

static void test_valid_event_is_committed_and_queryable(void **state)
{
    fixture *f = *state;
    uint8_t id[32];
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p1/L1", LT_T0 + 1000,
                  id);
    apply(f);
    assert_int_equal(f->out[0].status, 0);
    assert_int_equal(f->out[0].leaf_index, 0);
    assert_memory_equal(f->out[0].event_id, id, 32);

    ledger_event_info info;
    assert_int_equal(ledger_event_lookup(f->led, NULL, id, &info), 0);
    assert_int_equal(info.status, LEDGER_EVENT_COMMITTED);
    assert_int_equal(info.leaf_index, 0);
    assert_int_equal(info.height, 1);
    uint8_t unknown[32] = {1};
    assert_int_equal(ledger_event_lookup(f->led, NULL, unknown, &info), 0);
    assert_int_equal(info.status, LEDGER_EVENT_UNKNOWN);

    MDB_txn *txn;
    const uint8_t *data;
    size_t len;
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    assert_int_equal(ledger_event_at(f->led, txn, 0, &data, &len), 0);
    assert_int_equal(len, f->block.envs[0].len);
    assert_memory_equal(data, f->block.envs[0].data, len);
    assert_int_equal(ledger_event_at(f->led, txn, 1, &data, &len),
                     ORIGO_E_NOTFOUND);
    mdb_txn_abort(txn);

    ledger_state st;
    ledger_block_header h;
    uint8_t hash[32], leaf_hash[32];
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.height, 1);
    assert_int_equal(st.tree_size, 1);
    assert_int_equal(ledger_block_get(f->led, NULL, 1, &h, hash), 0);
    assert_memory_equal(hash, st.last_block_hash, 32);
    assert_memory_equal(h.prev_hash, st.genesis_hash, 32);
    assert_memory_equal(h.root, st.root, 32);
    assert_int_equal(h.block_time, LT_T0 + 1000);
    assert_int_equal(h.leaf_count, 1);
    uint64_t height;
    assert_int_equal(ledger_block_by_raft_index(f->led, NULL, 1, &height), 0);
    assert_int_equal(height, 1);
    origo_merkle_leaf_hash(f->block.envs[0].data, f->block.envs[0].len,
                           leaf_hash);
    assert_memory_equal(leaf_hash, st.root, 32);
}

static void test_bad_signature_is_rejected(void **state)
{
    fixture *f = *state;
    lt_lot_create_forged(&f->block, &f->net, LT_SUPPLIER, LT_PLANT,
                         "acme/p1/L1", LT_T0 + 1000);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_SIGNATURE);
    ledger_event_info info;
    assert_int_equal(
        ledger_event_lookup(f->led, NULL, f->out[0].event_id, &info), 0);
    assert_int_equal(info.status, LEDGER_EVENT_REJECTED);
    assert_int_equal(info.reason, ORIGO_E_SIGNATURE);
    assert_int_equal(info.height, 1);
    ledger_state st;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.tree_size, 0);
    assert_int_equal(st.height, 1);
}

static void test_non_member_is_rejected(void **state)
{
    fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "x/p/L", LT_T0 + 1000, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_NOT_MEMBER);
}

static void test_wrong_role_is_rejected(void **state)
{
    fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_CARRIER, "truck/p/L", LT_T0 + 1000,
                  NULL);
    lt_lot_create(&f->block, &f->net, LT_PLANT, "plant1/p/L", LT_T0 + 1000,
                  NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_ROLE);
    assert_int_equal(f->out[1].status, 0);
    assert_int_equal(f->out[1].leaf_index, 0);
}

static void test_removed_member_cannot_submit_after_removal_leaf(void **state)
{
    fixture *f = *state;
    const uint8_t *supplier = origo_key_public(f->net.keys[LT_SUPPLIER]);
    uint64_t ts = LT_T0 + 1000;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/A", ts, NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, supplier,
              NULL, 0, ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/B", ts, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, 0);
    assert_int_equal(f->out[1].status, 0);
    assert_int_equal(f->out[1].leaf_index, 1);
    assert_int_equal(f->out[2].status, ORIGO_E_NOT_MEMBER);
    /* Its committed event stays a duplicate, not a "non-member" rejection
     * that would overwrite the ID's commit record. */
    lt_block dup = {0};
    uint8_t first_id[32];
    memcpy(first_id, f->out[0].event_id, 32);
    lt_block_add(&dup, f->block.envs[0].data, f->block.envs[0].len);
    f->time += 1000;
    lt_apply(f->led, &dup, ++f->raft_index, f->time, f->out);
    assert_int_equal(f->out[0].status, ORIGO_E_DUPLICATE_EVENT);
    lt_block_clear(&dup);
    ledger_event_info info;
    assert_int_equal(ledger_event_lookup(f->led, NULL, first_id, &info), 0);
    assert_int_equal(info.status, LEDGER_EVENT_COMMITTED);
    assert_int_equal(info.leaf_index, 0);
    /* Still out in a later block; back in after a member.add. */
    next_block(f);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/C", ts + 1000, NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD, supplier,
              "acme", ORIGO_ROLE_SUPPLIER, ts + 1000, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/D", ts + 1000, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_NOT_MEMBER);
    assert_int_equal(f->out[1].status, 0);
    assert_int_equal(f->out[2].status, 0);
    /* Removing a non-member and adding a member twice are rejected. */
    next_block(f);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE,
              origo_key_public(f->net.keys[LT_OUTSIDER]), NULL, 0, ts + 2000,
              NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD, supplier,
              "acme", ORIGO_ROLE_SUPPLIER, ts + 2000, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_NOTFOUND);
    assert_int_equal(f->out[1].status, ORIGO_E_EXISTS);
}

static void test_member_events_are_admin_only(void **state)
{
    fixture *f = *state;
    const uint8_t *outsider = origo_key_public(f->net.keys[LT_OUTSIDER]);
    uint64_t ts = LT_T0 + 1000;
    lt_member(&f->block, &f->net, LT_SUPPLIER, ORIGO_EV_MEMBER_ADD, outsider,
              "mallory", ORIGO_ROLE_SUPPLIER, ts, NULL);
    lt_member(&f->block, &f->net, LT_PLANT, ORIGO_EV_MEMBER_REMOVE,
              origo_key_public(f->net.keys[LT_SUPPLIER]), NULL, 0, ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "m/p/L", ts, NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD, outsider,
              "mallory", ORIGO_ROLE_SUPPLIER, ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "m/p/L2", ts, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_ROLE);
    assert_int_equal(f->out[1].status, ORIGO_E_ROLE);
    assert_int_equal(f->out[2].status, ORIGO_E_NOT_MEMBER);
    assert_int_equal(f->out[3].status, 0);
    /* Membership and role are not enough: mallory owns no namespace, so
     * it may create no lot (authority.md, "Ownership"). */
    assert_int_equal(f->out[4].status, ORIGO_E_NAMESPACE);
    /* member.update changes roles from the next event on. */
    next_block(f);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, outsider,
              "mallory", ORIGO_ROLE_CARRIER, ts + 1000, NULL);
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "m/p/L3", ts + 1000, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, 0);
    assert_int_equal(f->out[1].status, ORIGO_E_ROLE);
}

static void test_duplicate_event_id_is_rejected(void **state)
{
    fixture *f = *state;
    uint8_t id[32];
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/L", LT_T0 + 1000,
                  id);
    lt_block_add(&f->block, f->block.envs[0].data, f->block.envs[0].len);
    apply(f);
    assert_int_equal(f->out[0].status, 0);
    assert_int_equal(f->out[1].status, ORIGO_E_DUPLICATE_EVENT);
    /* ... and in a later block; the ID still answers with its commit. */
    f->time = LT_T0 + 1500;
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_DUPLICATE_EVENT);
    assert_int_equal(f->out[1].status, ORIGO_E_DUPLICATE_EVENT);
    ledger_event_info info;
    assert_int_equal(ledger_event_lookup(f->led, NULL, id, &info), 0);
    assert_int_equal(info.status, LEDGER_EVENT_COMMITTED);
    assert_int_equal(info.leaf_index, 0);
    assert_int_equal(info.height, 1);
}

static void test_timestamp_outside_window_is_rejected(void **state)
{
    fixture *f = *state;
    uint64_t block_time = f->time + 1000;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/1",
                  block_time + WINDOW + 1, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/2",
                  block_time - WINDOW - 1, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/3",
                  block_time + WINDOW, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/4",
                  block_time - WINDOW, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_TIMESTAMP);
    assert_int_equal(f->out[1].status, ORIGO_E_TIMESTAMP);
    assert_int_equal(f->out[2].status, 0);
    assert_int_equal(f->out[3].status, 0);
}

static void test_strict_input_lot_must_exist(void **state)
{
    fixture *f = *state;
    const char *in[] = {"acme/p/IN"}, *out[] = {"plant1/p/OUT"};
    uint64_t ts = LT_T0 + 1000;
    lt_transform(&f->block, &f->net, LT_PLANT, in, 1, out, 1, ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/IN", ts, NULL);
    lt_transform(&f->block, &f->net, LT_PLANT, in, 1, out, 1, ts + 1, NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_INPUT_LOT);
    assert_int_equal(f->out[1].status, 0);
    /* Existing is not enough: the plant does not hold acme's lot. */
    assert_int_equal(f->out[2].status, ORIGO_E_NOT_HOLDER);
}

static void test_block_time_must_increase_and_raft_index_advance(void **state)
{
    fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/L", LT_T0, NULL);
    assert_int_equal(ledger_apply_block(f->led, NULL, 1, 5, LT_T0,
                                        f->block.envs, 1, 0, NULL),
                     0);
    ledger_state before, after;
    assert_int_equal(ledger_get_state(f->led, NULL, &before), 0);
    next_block(f);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/M", LT_T0, NULL);
    assert_int_equal(ledger_apply_block(f->led, NULL, 1, 6, LT_T0,
                                        f->block.envs, 1, 0, NULL),
                     ORIGO_E_BLOCK_TIME);
    assert_int_equal(ledger_apply_block(f->led, NULL, 1, 6, LT_T0 - 1,
                                        f->block.envs, 1, 0, NULL),
                     ORIGO_E_BLOCK_TIME);
    assert_int_equal(ledger_apply_block(f->led, NULL, 1, 5, LT_T0 + 1,
                                        f->block.envs, 1, 0, NULL),
                     ORIGO_E_EXISTS);
    assert_int_equal(ledger_get_state(f->led, NULL, &after), 0);
    assert_memory_equal(&before, &after, sizeof(before));
    assert_int_equal(ledger_apply_block(f->led, NULL, 2, 7, LT_T0 + 1,
                                        f->block.envs, 1, 0, NULL),
                     0);
}

static void test_block_in_callers_transaction_commits_or_aborts(void **state)
{
    fixture *f = *state;
    MDB_txn *txn;
    ledger_state st;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/L", LT_T0, NULL);
    /* Aborted: nothing of the block remains. */
    assert_int_equal(ledger_txn_begin(f->led, 0, &txn), 0);
    assert_int_equal(
        ledger_apply_block(f->led, txn, 1, 1, LT_T0, f->block.envs, 1, 0, NULL),
        0);
    assert_int_equal(ledger_get_state(f->led, txn, &st), 0);
    assert_int_equal(st.height, 1);
    mdb_txn_abort(txn);
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.height, 0);
    assert_int_equal(st.tree_size, 0);
    /* Committed by the caller, together with a table of its own. */
    MDB_dbi own;
    assert_int_equal(ledger_txn_begin(f->led, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "raft_test", MDB_CREATE, &own), 0);
    MDB_val k = {1, "k"}, v = {1, "v"};
    assert_int_equal(mdb_put(txn, own, &k, &v, 0), 0);
    assert_int_equal(
        ledger_apply_block(f->led, txn, 1, 1, LT_T0, f->block.envs, 1, 0, NULL),
        0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.height, 1);
    assert_int_equal(st.tree_size, 1);
}

static int collect_status(void *ctx, uint32_t position, const uint8_t *data,
                          size_t len, int status)
{
    int *statuses = ctx;
    statuses[position] = status;
    return 0;
}

static void test_block_envelopes_come_back_in_order(void **state)
{
    fixture *f = *state;
    uint64_t ts = LT_T0 + 1000;
    lt_lot_create(&f->block, &f->net, LT_CARRIER, "t/p/1", ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/2", ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "x/p/3", ts, NULL);
    lt_lot_create(&f->block, &f->net, LT_PLANT, "plant1/p/4", ts, NULL);
    uint8_t garbage[3] = {0xc1, 0, 0};
    lt_block_add(&f->block, garbage, 3);
    apply(f);
    int statuses[5] = {1, 1, 1, 1, 1};
    MDB_txn *txn;
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    assert_int_equal(
        ledger_block_envelopes(f->led, txn, 1, collect_status, statuses), 0);
    mdb_txn_abort(txn);
    assert_int_equal(statuses[0], ORIGO_E_ROLE);
    assert_int_equal(statuses[1], 0);
    assert_int_equal(statuses[2], ORIGO_E_NOT_MEMBER);
    assert_int_equal(statuses[3], 0);
    assert_true(statuses[4] < 0);
    assert_int_equal(f->out[4].has_id, 0);
}

static void test_proofs_of_committed_events_verify(void **state)
{
    fixture *f = *state;
    for (int b = 0; b < 5; b++) {
        next_block(f);
        for (int i = 0; i < 7; i++) {
            char lot[32];
            snprintf(lot, sizeof(lot), "acme/p/%d-%d", b, i);
            lt_lot_create(&f->block, &f->net, LT_SUPPLIER, lot, f->time + 1000,
                          NULL);
        }
        apply(f);
    }
    ledger_state st;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.tree_size, 35);
    MDB_txn *txn;
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    for (uint64_t leaf = 0; leaf < 35; leaf++) {
        uint8_t proof[ORIGO_MERKLE_MAX_PROOF][32], lh[32];
        size_t len, data_len;
        const uint8_t *data;
        assert_int_equal(ledger_event_at(f->led, txn, leaf, &data, &data_len),
                         0);
        origo_merkle_leaf_hash(data, data_len, lh);
        assert_int_equal(ledger_inclusion_proof(f->led, txn, leaf, 35, proof,
                                                ORIGO_MERKLE_MAX_PROOF, &len),
                         0);
        assert_int_equal(
            origo_merkle_verify_inclusion(leaf, 35, lh, proof, len, st.root),
            0);
    }
    for (uint64_t h = 1; h < 5; h++) {
        ledger_block_header old;
        uint8_t proof[ORIGO_MERKLE_MAX_PROOF][32];
        size_t len;
        assert_int_equal(ledger_block_get(f->led, txn, h, &old, NULL), 0);
        assert_int_equal(ledger_consistency_proof(f->led, txn, old.tree_size,
                                                  35, proof,
                                                  ORIGO_MERKLE_MAX_PROOF, &len),
                         0);
        assert_int_equal(origo_merkle_verify_consistency(
                             old.tree_size, 35, old.root, st.root, proof, len),
                         0);
    }
    mdb_txn_abort(txn);
}

static void test_checkpoint_signatures_and_quorum(void **state)
{
    fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/L", LT_T0 + 1000,
                  NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/p/M", LT_T0 + 1000,
                  NULL);
    apply(f);
    char *body, *note, line[256], other[256];
    size_t body_len, note_len;
    uint64_t size;
    assert_int_equal(ledger_checkpoint_body(f->led, NULL, 2, &body, &body_len),
                     0);
    assert_string_equal(body + body_len - 1, "\n");
    assert_int_equal(strncmp(body, LT_NET "\n2\n", strlen(LT_NET) + 3), 0);
    assert_int_equal(
        ledger_checkpoint_latest(f->led, NULL, &note, &note_len, &size),
        ORIGO_E_NOTFOUND);
    lt_sign_checkpoint(&f->net, LT_V1, body, body_len, line, sizeof(line));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, line, strlen(line)),
        0);
    /* Idempotent; one validator is below the quorum of 2. */
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, line, strlen(line)),
        0);
    assert_int_equal(
        ledger_checkpoint_latest(f->led, NULL, &note, &note_len, &size),
        ORIGO_E_NOTFOUND);
    /* A signature over another size's body fails; a non-validator is
     * refused; a garbled line is malformed. */
    char *body1;
    size_t body1_len;
    assert_int_equal(
        ledger_checkpoint_body(f->led, NULL, 1, &body1, &body1_len), 0);
    lt_sign_checkpoint(&f->net, LT_V2, body1, body1_len, other, sizeof(other));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, other, strlen(other)),
        ORIGO_E_SIGNATURE);
    lt_sign_checkpoint(&f->net, LT_ADMIN, body, body_len, other, sizeof(other));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, other, strlen(other)),
        ORIGO_E_PERM);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, "- v1 AAAA", 9),
        ORIGO_E_NOTE_FORMAT);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 3, line, strlen(line)),
        ORIGO_E_TREE_SIZE);
    lt_sign_checkpoint(&f->net, LT_V2, body, body_len, other, sizeof(other));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 2, other, strlen(other)),
        0);
    assert_int_equal(
        ledger_checkpoint_latest(f->led, NULL, &note, &note_len, &size), 0);
    assert_int_equal(size, 2);
    assert_int_equal(note_len, body_len + 1 + strlen(line) + strlen(other));
    assert_memory_equal(note, body, body_len);
    assert_true(strstr(note, line) != NULL);
    assert_true(strstr(note, other) != NULL);
    /* An older size reaching quorum later does not move "latest" back. */
    lt_sign_checkpoint(&f->net, LT_V1, body1, body1_len, line, sizeof(line));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, line, strlen(line)),
        0);
    lt_sign_checkpoint(&f->net, LT_V3, body1, body1_len, line, sizeof(line));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, line, strlen(line)),
        0);
    free(note);
    assert_int_equal(
        ledger_checkpoint_latest(f->led, NULL, &note, &note_len, &size), 0);
    assert_int_equal(size, 2);
    free(note);
    free(body);
    free(body1);
}

static void test_store_is_bound_to_its_genesis(void **state)
{
    fixture *f = *state;
    lt_net other;
    char msg[256] = "";
    ledger *led;
    lt_net_init(&other, WINDOW + 1); /* another genesis hash */
    ledger_close(f->led);
    f->led = NULL;
    assert_int_equal(ledger_open(f->dir, (const uint8_t *)other.genesis_json,
                                 other.genesis_len, NULL, &led, msg,
                                 sizeof(msg)),
                     ORIGO_E_GENESIS);
    assert_true(strstr(msg, "another genesis") != NULL);
    assert_int_equal(
        ledger_open(f->dir, NULL, 0, NULL, &f->led, msg, sizeof(msg)), 0);
    assert_string_equal(ledger_origin(f->led), LT_NET);
    lt_net_close(&other);
}

/* A store of an older format is refused with a message that says why, and
 * so is one of an unknown format. */
static void set_store_format(const char *dir, uint8_t format)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {6, (void *)"format"}, v = {1, &format};
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_META, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_older_stores_are_refused_with_the_reason(void **state)
{
    fixture *f = *state;
    static const struct {
        uint8_t format;
        const char *says;
    } cases[] = {
        {2, "made before rule version 1"},
        {4, "made before the lot index's membership chain"},
        {9, "store format 9 found, 5 expected"},
    };
    ledger_close(f->led);
    f->led = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[512] = "";
        ledger *led = NULL;
        set_store_format(f->dir, cases[i].format);
        assert_int_equal(
            ledger_open(f->dir, NULL, 0, NULL, &led, msg, sizeof(msg)),
            ORIGO_E_VERSION);
        if (!strstr(msg, cases[i].says))
            fail_msg("format %u: '%s'", cases[i].format, msg);
    }
    set_store_format(f->dir, 5);
    char msg[512] = "";
    assert_int_equal(
        ledger_open(f->dir, NULL, 0, NULL, &f->led, msg, sizeof(msg)), 0);
}

static void expect_genesis_error(const char *json, const char *needle)
{
    genesis *gen = NULL;
    char msg[256] = "";
    int rc = genesis_parse((const uint8_t *)json, strlen(json), &gen, msg,
                           sizeof(msg));
    if (rc == 0 || !strstr(msg, needle))
        fprintf(stderr, "genesis error for %s: rc %d msg '%s'\n", needle, rc,
                msg);
    assert_true(rc < 0);
    assert_non_null(strstr(msg, needle));
    assert_null(gen);
}

static void test_genesis_errors_name_the_field(void **state)
{
    fixture *f = *state;
    char *json = f->net.genesis_json, buf[9000];
    /* Baseline parses. */
    genesis *gen;
    char msg[256];
    assert_int_equal(genesis_parse((const uint8_t *)json, strlen(json), &gen,
                                   msg, sizeof(msg)),
                     0);
    assert_int_equal(gen->validator_count, 3);
    assert_int_equal(gen->party_count, 8);
    assert_int_equal(gen->checkpoint_quorum, 2);
    genesis_free(gen);
    expect_genesis_error("[]", "top level");
    expect_genesis_error("{\"format\":\"origo-genesis/v1\",\"bogus\":1}",
                         "bogus: unknown field");
    expect_genesis_error("{\"format\":\"origo-genesis/v2\"}", "format");
    expect_genesis_error(
        "{\"format\":\"origo-genesis/v1\",\"origin\":\"x\"}",
        "rules: missing. This genesis predates rule version 1");
    expect_genesis_error("{\"format\":\"origo-genesis/v1\",\"origin\":\"x\","
                         "\"rules\":2}",
                         "rule version 1 only");
    expect_genesis_error("{\"format\":\"origo-genesis/v1\",\"origin\":\"x\","
                         "\"rules\":1}",
                         "validators: missing");
    expect_genesis_error("{\"format\":\"origo-genesis/v1\",\"origin\":\"x\","
                         "\"rules\":1,\"validators\":[{\"name\":\"v\",\"key\":"
                         "\"zz\",\"address\":\"h:1\"}]}",
                         "validators[0].key");
    /* Namespaces: well formed, and no lot with two owners. */
    snprintf(buf, sizeof(buf), "%s", json);
    char *p = strstr(buf, "\"party:plant1\"");
    memcpy(p, "\"party:acme\"  ", 14);
    expect_genesis_error(buf, "members[1].owns[0]: overlaps \"party:acme\", "
                              "owned by \"acme\"");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"party:plant1\"");
    memcpy(p, "\"gs1:40123456\"", 14);
    expect_genesis_error(buf, "overlaps \"gs1:4012345\"");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"party:plant1\"");
    memcpy(p, "\"gs1:12345\"   ", 14);
    expect_genesis_error(buf, "members[1].owns[0]: expected");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"party:plant1\"");
    memcpy(p, "\"plant1\"      ", 14);
    expect_genesis_error(buf, "members[1].owns[0]: expected");
    /* Role names and parameters, in a copy of the good genesis. */
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"supplier\"");
    memcpy(p, "\"supplieX\"", 10);
    expect_genesis_error(buf, "members[0].roles[0]");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"checkpoint_quorum\":2");
    memcpy(p, "\"checkpoint_quorum\":9", 21);
    expect_genesis_error(buf, "params.checkpoint_quorum");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "127.0.0.1:7402");
    memcpy(p, "127.0.0.1:0000", 14);
    expect_genesis_error(buf, "validators[1].address");
    snprintf(buf, sizeof(buf), "%s", json);
    p = strstr(buf, "\"checkpoint_quorum\":2");
    memcpy(p, "\"input_lots\":\"strict\"", 21);
    expect_genesis_error(buf, "params.input_lots: removed in rule version 1");
    lt_net months;
    lt_net_init(&months, 3600001); /* an hour and a millisecond */
    expect_genesis_error(months.genesis_json,
                         "params.ts_window_ms: expected an integer from 1 "
                         "to 3600000");
    lt_net_close(&months);
    expect_genesis_error("{\"format\":", "line 1");
}

/* ledger_readers(): the reader table as /metrics shows it. A read
 * transaction held open is one active reader that falls behind by one
 * for each write transaction committed after it began. */
static void test_reader_table_counts_open_readers(void **state)
{
    lt_fixture *f = *state;
    size_t active = 9;
    uint64_t lag = 9;
    assert_int_equal(ledger_readers(f->led, &active, &lag), 0);
    assert_int_equal(active, 0);
    assert_int_equal(lag, 0);
    MDB_txn *reader, *writer;
    assert_int_equal(ledger_txn_begin(f->led, 1, &reader), 0);
    assert_int_equal(ledger_readers(f->led, &active, &lag), 0);
    assert_int_equal(active, 1);
    assert_int_equal(lag, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ledger_txn_begin(f->led, 0, &writer), 0);
        MDB_dbi dbi;
        assert_int_equal(mdb_dbi_open(writer, "meta", 0, &dbi), 0);
        MDB_val k = {5, "probe"}, v = {1, "x"};
        assert_int_equal(mdb_put(writer, dbi, &k, &v, 0), 0);
        assert_int_equal(mdb_txn_commit(writer), 0);
    }
    assert_int_equal(ledger_readers(f->led, &active, &lag), 0);
    assert_int_equal(active, 1);
    assert_int_equal(lag, 3);
    mdb_txn_abort(reader);
    assert_int_equal(ledger_readers(f->led, &active, &lag), 0);
    assert_int_equal(active, 0);
    assert_int_equal(lag, 0);
}

int main(void)
{
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, lt_fixture_setup, lt_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_valid_event_is_committed_and_queryable),
        T(test_bad_signature_is_rejected),
        T(test_non_member_is_rejected),
        T(test_wrong_role_is_rejected),
        T(test_removed_member_cannot_submit_after_removal_leaf),
        T(test_member_events_are_admin_only),
        T(test_duplicate_event_id_is_rejected),
        T(test_timestamp_outside_window_is_rejected),
        T(test_strict_input_lot_must_exist),
        T(test_block_time_must_increase_and_raft_index_advance),
        T(test_block_in_callers_transaction_commits_or_aborts),
        T(test_block_envelopes_come_back_in_order),
        T(test_proofs_of_committed_events_verify),
        T(test_checkpoint_signatures_and_quorum),
        T(test_store_is_bound_to_its_genesis),
        T(test_older_stores_are_refused_with_the_reason),
        T(test_genesis_errors_name_the_field),
        T(test_reader_table_counts_open_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
