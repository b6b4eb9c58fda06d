/* The Merkle log's storage. Leaves are the envelopes in `events` (leaf index
 * -> envelope). The `mlog` table keeps only the perfect-subtree hashes at
 * levels >= MLOG_MIN_STORED_LEVEL (2), grouped: one row per 4-leaf group g,
 * written when its last leaf is appended, holding the level-2 node g and
 * every higher node that leaf completes (as many as g has trailing one
 * bits). Rows are appended in key order (MDB_APPEND, full pages): about 20
 * bytes per leaf. A node below level 2 is recomputed from the envelopes of
 * its group, hashing only the leaves asked for, so an inclusion proof
 * hashes 3 envelopes and reads one row per level above 2: O(log n). The
 * head record carries the frontier, so appends read nothing. Proofs come
 * from the SDK's generic generators over mlog_get_node(). */
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

#include "store.h"

/* The row that holds node (level >= MLOG_MIN_STORED_LEVEL, index): the
 * group whose last leaf completes it, and the node's slot in the row. */
static uint64_t node_row(unsigned level, uint64_t index, unsigned *slot)
{
    unsigned up = level - MLOG_MIN_STORED_LEVEL;
    *slot = up;
    return ((index + 1) << up) - 1;
}

void mlog_reader_init(mlog_reader *rd, ledger *led, MDB_txn *txn)
{
    rd->led = led;
    rd->txn = txn;
    rd->events_cur = NULL;
    rd->mlog_cur = NULL;
    rd->cached_group = UINT64_MAX;
    rd->hashed = 0;
    rd->missing = 0;
}

int mlog_reader_open(mlog_reader *rd, ledger *led, MDB_txn *txn)
{
    mlog_reader_init(rd, led, txn);
    if (mdb_cursor_open(txn, led->events, &rd->events_cur) != 0) {
        rd->events_cur = NULL;
        return ORIGO_E_STORE;
    }
    if (mdb_cursor_open(txn, led->mlog, &rd->mlog_cur) != 0) {
        mdb_cursor_close(rd->events_cur);
        rd->events_cur = rd->mlog_cur = NULL;
        return ORIGO_E_STORE;
    }
    return 0;
}

void mlog_reader_close(mlog_reader *rd)
{
    if (rd->events_cur)
        mdb_cursor_close(rd->events_cur);
    if (rd->mlog_cur)
        mdb_cursor_close(rd->mlog_cur);
    rd->events_cur = rd->mlog_cur = NULL;
}

/* mdb_get through the reader's cursor when it has one (a cursor skips the
 * descent from the root when the key is on the page it is on). */
static int lookup(MDB_txn *txn, MDB_dbi dbi, MDB_cursor *cur, MDB_val *key,
                  MDB_val *val)
{
    if (cur)
        return mdb_cursor_get(cur, key, val, MDB_SET);
    return mdb_get(txn, dbi, key, val);
}

/* The hash of leaf `offset` of the cached group, reading and hashing it on
 * first use. Returns 0, ORIGO_E_TREE_SIZE (no such leaf) or a store error. */
static int leaf_hash(mlog_reader *rd, unsigned offset)
{
    unsigned bit = 1u << offset;
    if (rd->hashed & bit)
        return 0;
    if (rd->missing & bit)
        return ORIGO_E_TREE_SIZE;
    uint8_t key_buf[8];
    store_put_be64(key_buf,
                   rd->cached_group * MLOG_GROUP_LEAVES + (uint64_t)offset);
    MDB_val key = {8, key_buf}, val;
    int rc = lookup(rd->txn, rd->led->events, rd->events_cur, &key, &val);
    if (rc == MDB_NOTFOUND) {
        rd->missing |= bit;
        return ORIGO_E_TREE_SIZE;
    }
    if (rc)
        return store_err(rc);
    origo_merkle_leaf_hash(val.mv_data, val.mv_size, rd->cache[offset]);
    rd->hashed |= bit;
    return 0;
}

/* A node below the stored levels: the fold of its leaves. */
static int low_node(mlog_reader *rd, unsigned level, uint64_t index,
                    uint8_t out[ORIGO_HASH_LEN])
{
    uint64_t first = index << level;
    uint64_t group = first / MLOG_GROUP_LEAVES;
    if (rd->cached_group != group) {
        rd->cached_group = group;
        rd->hashed = rd->missing = 0;
    }
    unsigned offset = (unsigned)(first % MLOG_GROUP_LEAVES);
    unsigned width = 1u << level;
    uint8_t level_hashes[MLOG_GROUP_LEAVES][ORIGO_HASH_LEN];
    for (unsigned i = 0; i < width; i++) {
        int rc = leaf_hash(rd, offset + i);
        if (rc)
            return rc;
        memcpy(level_hashes[i], rd->cache[offset + i], ORIGO_HASH_LEN);
    }
    for (unsigned w = width; w > 1; w /= 2) {
        for (unsigned i = 0; i < w / 2; i++)
            origo_merkle_node_hash(level_hashes[2 * i], level_hashes[2 * i + 1],
                                   level_hashes[i]);
    }
    memcpy(out, level_hashes[0], ORIGO_HASH_LEN);
    return 0;
}

int mlog_get_node(void *ctx, unsigned level, uint64_t index,
                  uint8_t out[ORIGO_HASH_LEN])
{
    mlog_reader *rd = ctx;
    if (level >= 64 || (level > 0 && index >> (64 - level) != 0))
        return ORIGO_E_TREE_SIZE;
    if (level < MLOG_MIN_STORED_LEVEL)
        return low_node(rd, level, index, out);
    unsigned slot;
    uint8_t key_buf[8];
    store_put_be64(key_buf, node_row(level, index, &slot));
    MDB_val key = {8, key_buf}, val;
    int rc = lookup(rd->txn, rd->led->mlog, rd->mlog_cur, &key, &val);
    if (rc == MDB_NOTFOUND)
        return ORIGO_E_TREE_SIZE;
    if (rc)
        return store_err(rc);
    if (val.mv_size % ORIGO_HASH_LEN != 0)
        return ORIGO_E_CORRUPT;
    if (val.mv_size < (size_t)(slot + 1) * ORIGO_HASH_LEN)
        return ORIGO_E_TREE_SIZE; /* the row's group does not complete it */
    memcpy(out, (const uint8_t *)val.mv_data + (size_t)slot * ORIGO_HASH_LEN,
           ORIGO_HASH_LEN);
    return 0;
}

/* Collects the stored-level nodes one append completes (bottom-up, so in
 * slot order) into one row. */
typedef struct put_ctx {
    uint64_t row;
    unsigned count;
    uint8_t hashes[64][ORIGO_HASH_LEN];
} put_ctx;

static int put_node(void *ctx, unsigned level, uint64_t index,
                    const uint8_t hash[ORIGO_HASH_LEN])
{
    put_ctx *pc = ctx;
    if (level < MLOG_MIN_STORED_LEVEL)
        return 0;
    unsigned slot;
    uint64_t row = node_row(level, index, &slot);
    if (pc->count == 0)
        pc->row = row;
    if (row != pc->row || slot != pc->count || slot >= 64)
        return ORIGO_E_INTERNAL;
    memcpy(pc->hashes[pc->count++], hash, ORIGO_HASH_LEN);
    return 0;
}

int mlog_append(ledger *led, MDB_txn *txn, store_head *head,
                const uint8_t *leaf, size_t leaf_len)
{
    uint8_t key_buf[8], leaf_hash_buf[ORIGO_HASH_LEN];
    store_put_be64(key_buf, head->state.tree_size);
    MDB_val key = {8, key_buf}, val = {leaf_len, (void *)leaf};
    int rc =
        mdb_put(txn, led->events, &key, &val, MDB_NOOVERWRITE | MDB_APPEND);
    if (rc)
        return store_err(rc);
    origo_merkle_leaf_hash(leaf, leaf_len, leaf_hash_buf);
    put_ctx pc;
    pc.count = 0;
    rc = origo_merkle_frontier_append(&head->frontier, leaf_hash_buf, put_node,
                                      &pc);
    if (rc)
        return rc;
    if (pc.count) {
        store_put_be64(key_buf, pc.row);
        MDB_val k2 = {8, key_buf},
                v2 = {(size_t)pc.count * ORIGO_HASH_LEN, pc.hashes};
        if ((rc = store_err(mdb_put(txn, led->mlog, &k2, &v2,
                                    MDB_NOOVERWRITE | MDB_APPEND))))
            return rc;
    }
    head->state.tree_size = head->frontier.tree_size;
    return 0;
}

/* ---- public proof API ------------------------------------------------------
 */

static int check_size(ledger *led, MDB_txn *txn, uint64_t tree_size)
{
    uint64_t current;
    int rc = store_head_tree_size(led, txn, &current);
    if (rc)
        return rc;
    return tree_size > current ? ORIGO_E_TREE_SIZE : 0;
}

int ledger_root_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                   uint8_t root[LEDGER_HASH_LEN])
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    if ((rc = check_size(led, use, tree_size)) == 0) {
        mlog_reader rd;
        mlog_reader_init(&rd, led, use);
        rc = origo_merkle_root(mlog_get_node, &rd, tree_size, root);
    }
    store_read_end(use, own);
    return rc;
}

int ledger_inclusion_proof(ledger *led, MDB_txn *txn, uint64_t leaf_index,
                           uint64_t tree_size,
                           uint8_t (*proof)[LEDGER_HASH_LEN], size_t proof_max,
                           size_t *proof_len)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    mlog_reader rd;
    if ((rc = check_size(led, use, tree_size)) == 0 &&
        (rc = mlog_reader_open(&rd, led, use)) == 0) {
        rc = origo_merkle_inclusion_proof(mlog_get_node, &rd, leaf_index,
                                          tree_size, proof, proof_max,
                                          proof_len);
        mlog_reader_close(&rd);
    }
    store_read_end(use, own);
    return rc;
}

int ledger_consistency_proof(ledger *led, MDB_txn *txn, uint64_t old_size,
                             uint64_t new_size,
                             uint8_t (*proof)[LEDGER_HASH_LEN],
                             size_t proof_max, size_t *proof_len)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    if ((rc = check_size(led, use, new_size)) == 0) {
        mlog_reader rd;
        mlog_reader_init(&rd, led, use);
        rc = origo_merkle_consistency_proof(mlog_get_node, &rd, old_size,
                                            new_size, proof, proof_max,
                                            proof_len);
    }
    store_read_end(use, own);
    return rc;
}

int ledger_tile(ledger *led, MDB_txn *txn, unsigned level, uint64_t index,
                unsigned width, uint8_t *out)
{
    if (level > 7 || width == 0 || width > 256 || index > (UINT64_MAX >> 9))
        return ORIGO_E_INVAL;
    MDB_txn *use;
    int own, rc = store_read_begin(led, txn, &use, &own);
    if (rc)
        return rc;
    uint64_t size;
    rc = store_head_tree_size(led, use, &size);
    unsigned height = 8 * level;
    if (rc == 0 && index * 256 + width > (size >> height))
        rc = ORIGO_E_TREE_SIZE;
    mlog_reader rd;
    if (rc == 0 && (rc = mlog_reader_open(&rd, led, use)) == 0) {
        for (unsigned i = 0; rc == 0 && i < width; i++)
            rc = mlog_get_node(&rd, height, index * 256 + i,
                               out + (size_t)i * ORIGO_HASH_LEN);
        mlog_reader_close(&rd);
    }
    store_read_end(use, own);
    return rc;
}

/* ---- test support -----------------------------------------------------------
 */

typedef struct raw_leaves {
    const uint8_t *const *leaves;
    const size_t *lens;
    size_t count;
} raw_leaves;

static int append_raw(ledger *led, MDB_txn *txn, void *ctx)
{
    raw_leaves *rl = ctx;
    store_head head;
    int rc = store_head_get(led, txn, &head);
    if (rc)
        return rc;
    for (size_t i = 0; i < rl->count; i++) {
        if ((rc = mlog_append(led, txn, &head, rl->leaves[i], rl->lens[i])))
            return rc;
    }
    origo_merkle_frontier_root(&head.frontier, head.state.root);
    return store_head_put(led, txn, &head);
}

int ledger_test_append_leaves(ledger *led, const uint8_t *const *leaves,
                              const size_t *lens, size_t count)
{
    raw_leaves rl = {leaves, lens, count};
    return store_write(led, append_raw, &rl);
}
