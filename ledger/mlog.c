/* The Merkle log's storage. Leaves are the envelopes in `events` (leaf
 * index -> envelope); the `mlog` table keeps only the perfect-subtree hashes
 * at levels >= MLOG_MIN_STORED_LEVEL (3): 1/4 hash per leaf instead of 2.
 * A lower node is recomputed from at most 8 envelopes of one aligned group,
 * so any proof still costs O(log n) reads (at most 8 + log2 n). The head
 * record carries the frontier, so appends read nothing. Proofs come from
 * the SDK's generic generators over mlog_get_node(). */
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

#include "store.h"

#define GROUP_LEAVES (1u << MLOG_MIN_STORED_LEVEL)

static void node_key(uint8_t out[9], unsigned level, uint64_t index)
{
    out[0] = (uint8_t)level;
    store_put_be64(out + 1, index);
}

void mlog_reader_init(mlog_reader *rd, ledger *led, MDB_txn *txn)
{
    rd->led = led;
    rd->txn = txn;
    rd->cached_group = UINT64_MAX;
    rd->cached_count = 0;
}

/* Loads the leaf hashes of group `group` (leaves [group*8, group*8+8)),
 * as many as exist (a partial last group is fine: only perfect nodes inside
 * the tree are ever asked for). */
static int load_group(mlog_reader *rd, uint64_t group)
{
    uint8_t key_buf[8];
    MDB_val key = {8, key_buf}, val;
    unsigned count = 0;
    for (unsigned i = 0; i < GROUP_LEAVES; i++) {
        store_put_be64(key_buf, group * GROUP_LEAVES + i);
        int rc = mdb_get(rd->txn, rd->led->events, &key, &val);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc)
            return store_err(rc);
        origo_merkle_leaf_hash(val.mv_data, val.mv_size, rd->cache[i]);
        count++;
    }
    rd->cached_group = group;
    rd->cached_count = count;
    return 0;
}

int mlog_get_node(void *ctx, unsigned level, uint64_t index,
                  uint8_t out[ORIGO_HASH_LEN])
{
    mlog_reader *rd = ctx;
    if (level >= 64)
        return ORIGO_E_TREE_SIZE;
    if (level >= MLOG_MIN_STORED_LEVEL) {
        uint8_t key_buf[9];
        node_key(key_buf, level, index);
        MDB_val key = {9, key_buf}, val;
        int rc = mdb_get(rd->txn, rd->led->mlog, &key, &val);
        if (rc == MDB_NOTFOUND)
            return ORIGO_E_TREE_SIZE;
        if (rc)
            return store_err(rc);
        if (val.mv_size != ORIGO_HASH_LEN)
            return ORIGO_E_CORRUPT;
        memcpy(out, val.mv_data, ORIGO_HASH_LEN);
        return 0;
    }
    /* A low node: fold its leaves from the group cache. */
    uint64_t first = index << level;
    uint64_t group = first / GROUP_LEAVES;
    if (rd->cached_group != group) {
        int rc = load_group(rd, group);
        if (rc)
            return rc;
    }
    unsigned offset = (unsigned)(first % GROUP_LEAVES);
    unsigned width = 1u << level;
    if (offset + width > rd->cached_count)
        return ORIGO_E_TREE_SIZE;
    uint8_t level_hashes[GROUP_LEAVES][ORIGO_HASH_LEN];
    memcpy(level_hashes, rd->cache[offset], (size_t)width * ORIGO_HASH_LEN);
    for (unsigned w = width; w > 1; w /= 2) {
        for (unsigned i = 0; i < w / 2; i++)
            origo_merkle_node_hash(level_hashes[2 * i], level_hashes[2 * i + 1],
                                   level_hashes[i]);
    }
    memcpy(out, level_hashes[0], ORIGO_HASH_LEN);
    return 0;
}

typedef struct put_ctx {
    ledger *led;
    MDB_txn *txn;
} put_ctx;

static int put_node(void *ctx, unsigned level, uint64_t index,
                    const uint8_t hash[ORIGO_HASH_LEN])
{
    put_ctx *pc = ctx;
    if (level < MLOG_MIN_STORED_LEVEL)
        return 0;
    uint8_t key_buf[9];
    node_key(key_buf, level, index);
    MDB_val key = {9, key_buf}, val = {ORIGO_HASH_LEN, (void *)hash};
    return store_err(
        mdb_put(pc->txn, pc->led->mlog, &key, &val, MDB_NOOVERWRITE));
}

int mlog_append(ledger *led, MDB_txn *txn, store_head *head,
                const uint8_t *leaf, size_t leaf_len)
{
    uint8_t key_buf[8], leaf_hash[ORIGO_HASH_LEN];
    store_put_be64(key_buf, head->state.tree_size);
    MDB_val key = {8, key_buf}, val = {leaf_len, (void *)leaf};
    int rc =
        mdb_put(txn, led->events, &key, &val, MDB_NOOVERWRITE | MDB_APPEND);
    if (rc)
        return store_err(rc);
    origo_merkle_leaf_hash(leaf, leaf_len, leaf_hash);
    put_ctx pc = {led, txn};
    rc =
        origo_merkle_frontier_append(&head->frontier, leaf_hash, put_node, &pc);
    if (rc)
        return rc;
    head->state.tree_size = head->frontier.tree_size;
    return 0;
}

/* ---- public proof API ------------------------------------------------------
 */

static int check_size(ledger *led, MDB_txn *txn, uint64_t tree_size)
{
    store_head head;
    int rc = store_head_get(led, txn, &head);
    if (rc)
        return rc;
    return tree_size > head.state.tree_size ? ORIGO_E_TREE_SIZE : 0;
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
    if ((rc = check_size(led, use, tree_size)) == 0) {
        mlog_reader rd;
        mlog_reader_init(&rd, led, use);
        rc = origo_merkle_inclusion_proof(mlog_get_node, &rd, leaf_index,
                                          tree_size, proof, proof_max,
                                          proof_len);
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
