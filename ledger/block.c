/* Block headers (docs/formats/block.md): their canonical msgpack encoding,
 * the block hash, and the read side of blocks: headers by height or Raft
 * index, and the envelopes of a block re-assembled in their original order
 * from `events` (accepted) and `rejects` (rejected). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"

#include "block.h"
#include "store.h"

#define BLOCK_DOMAIN "origo/block/v1"
#define BLOCK_DOMAIN_LEN 15 /* with its NUL */

void block_hash(const uint8_t *header, size_t len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)BLOCK_DOMAIN,
                              BLOCK_DOMAIN_LEN);
    crypto_hash_sha256_update(&st, header, len);
    crypto_hash_sha256_final(&st, out);
}

int ledger_block_encode(const ledger_block_header *h, uint8_t **out,
                        size_t *out_len, uint8_t hash[LEDGER_HASH_LEN])
{
    origo_buf buf;
    origo_buf_init(&buf, 1024);
    origo_mp_put_map(&buf, 10);
    origo_mp_put_cstr(&buf, "v");
    origo_mp_put_uint(&buf, 1);
    origo_mp_put_cstr(&buf, "height");
    origo_mp_put_uint(&buf, h->height);
    origo_mp_put_cstr(&buf, "prev");
    origo_mp_put_bin(&buf, h->prev_hash, 32);
    origo_mp_put_cstr(&buf, "time");
    origo_mp_put_uint(&buf, h->block_time);
    origo_mp_put_cstr(&buf, "raft_term");
    origo_mp_put_uint(&buf, h->raft_term);
    origo_mp_put_cstr(&buf, "raft_index");
    origo_mp_put_uint(&buf, h->raft_index);
    origo_mp_put_cstr(&buf, "first_leaf");
    origo_mp_put_uint(&buf, h->first_leaf);
    origo_mp_put_cstr(&buf, "leaf_count");
    origo_mp_put_uint(&buf, h->leaf_count);
    origo_mp_put_cstr(&buf, "tree_size");
    origo_mp_put_uint(&buf, h->tree_size);
    origo_mp_put_cstr(&buf, "root");
    origo_mp_put_bin(&buf, h->root, 32);
    if (buf.err) {
        int rc = buf.err;
        origo_buf_close(&buf);
        return rc;
    }
    size_t len;
    uint8_t *data = origo_buf_steal(&buf, &len);
    if (!data)
        return ORIGO_E_NOMEM;
    if (hash)
        block_hash(data, len, hash);
    *out = data;
    *out_len = len;
    return 0;
}

static void read_u64(origo_mp_reader *rd, const char *key, uint64_t *value)
{
    origo_mp_read_key(rd, key);
    origo_mp_read_uint(rd, value);
}

int ledger_block_decode(const uint8_t *data, size_t len,
                        ledger_block_header *out)
{
    origo_mp_reader rd;
    ledger_block_header h;
    uint32_t count;
    uint64_t version = 0;
    origo_mp_reader_init(&rd, data, len);
    origo_mp_read_map(&rd, &count, 16);
    if (rd.err == 0 && count != 10)
        return ORIGO_E_SCHEMA;
    read_u64(&rd, "v", &version);
    read_u64(&rd, "height", &h.height);
    origo_mp_read_key(&rd, "prev");
    origo_mp_read_bin_exact(&rd, h.prev_hash, 32);
    read_u64(&rd, "time", &h.block_time);
    read_u64(&rd, "raft_term", &h.raft_term);
    read_u64(&rd, "raft_index", &h.raft_index);
    read_u64(&rd, "first_leaf", &h.first_leaf);
    read_u64(&rd, "leaf_count", &h.leaf_count);
    read_u64(&rd, "tree_size", &h.tree_size);
    origo_mp_read_key(&rd, "root");
    origo_mp_read_bin_exact(&rd, h.root, 32);
    origo_mp_leave(&rd);
    int rc = origo_mp_reader_finish(&rd);
    if (rc)
        return rc;
    if (version != 1)
        return ORIGO_E_VERSION;
    *out = h;
    return 0;
}

int ledger_block_get(ledger *led, MDB_txn *txn, uint64_t height,
                     ledger_block_header *out, uint8_t hash[LEDGER_HASH_LEN])
{
    MDB_txn *use;
    int own, rc;
    uint8_t key_buf[8];
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    store_put_be64(key_buf, height);
    MDB_val key = {8, key_buf}, val;
    rc = mdb_get(use, led->blocks, &key, &val);
    if (rc) {
        rc = store_err(rc);
    } else {
        ledger_block_header h;
        rc = ledger_block_decode(val.mv_data, val.mv_size, &h);
        if (rc) {
            rc = ORIGO_E_CORRUPT;
        } else {
            if (hash)
                block_hash(val.mv_data, val.mv_size, hash);
            *out = h;
        }
    }
    store_read_end(use, own);
    return rc;
}

int ledger_block_by_raft_index(ledger *led, MDB_txn *txn, uint64_t raft_index,
                               uint64_t *height)
{
    MDB_txn *use;
    int own, rc;
    uint8_t key_buf[8];
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    store_put_be64(key_buf, raft_index);
    MDB_val key = {8, key_buf}, val;
    rc = mdb_get(use, led->block_raft, &key, &val);
    if (rc)
        rc = store_err(rc);
    else if (val.mv_size != 8)
        rc = ORIGO_E_CORRUPT;
    else
        *height = store_get_be64(val.mv_data);
    store_read_end(use, own);
    return rc;
}

void block_reject_key(uint8_t out[12], uint64_t height, uint32_t position)
{
    store_put_be64(out, height);
    store_put_be32(out + 8, position);
}

int ledger_block_envelopes(ledger *led, MDB_txn *txn, uint64_t height,
                           int (*visit)(void *ctx, uint32_t position,
                                        const uint8_t *data, size_t len,
                                        int status),
                           void *ctx)
{
    ledger_block_header h;
    MDB_cursor *cur;
    uint8_t rkey[12], lkey[8];
    int rc = ledger_block_get(led, txn, height, &h, NULL);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(txn, led->rejects, &cur)))
        return store_err(rc);
    block_reject_key(rkey, height, 0);
    MDB_val key = {12, rkey}, val;
    int more = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) == 0 &&
               key.mv_size == 12 && memcmp(key.mv_data, rkey, 8) == 0;
    uint64_t leaf = h.first_leaf;
    for (uint32_t pos = 0;; pos++) {
        if (more && store_get_be32((const uint8_t *)key.mv_data + 8) == pos) {
            const uint8_t *v = val.mv_data;
            if (val.mv_size < 2) {
                rc = ORIGO_E_CORRUPT;
                break;
            }
            int reason = -(int)((uint32_t)v[0] << 8 | v[1]);
            if ((rc = visit(ctx, pos, v + 2, val.mv_size - 2, reason)))
                break;
            more = mdb_cursor_get(cur, &key, &val, MDB_NEXT) == 0 &&
                   key.mv_size == 12 && memcmp(key.mv_data, rkey, 8) == 0;
            continue;
        }
        if (leaf == h.first_leaf + h.leaf_count) {
            if (more)
                rc = ORIGO_E_CORRUPT; /* a reject beyond the block's end */
            break;
        }
        store_put_be64(lkey, leaf);
        MDB_val k2 = {8, lkey}, v2;
        if ((rc = mdb_get(txn, led->events, &k2, &v2))) {
            rc = rc == MDB_NOTFOUND ? ORIGO_E_CORRUPT : store_err(rc);
            break;
        }
        if ((rc = visit(ctx, pos, v2.mv_data, v2.mv_size, 0)))
            break;
        leaf++;
    }
    mdb_cursor_close(cur);
    return rc;
}

int ledger_event_at(ledger *led, MDB_txn *txn, uint64_t leaf_index,
                    const uint8_t **data, size_t *len)
{
    uint8_t key_buf[8];
    store_put_be64(key_buf, leaf_index);
    MDB_val key = {8, key_buf}, val;
    int rc = mdb_get(txn, led->events, &key, &val);
    if (rc)
        return store_err(rc);
    *data = val.mv_data;
    *len = val.mv_size;
    return 0;
}

int block_id_decode(const MDB_val *val, ledger_event_info *out)
{
    const uint8_t *v = val->mv_data;
    ledger_event_info info;
    memset(&info, 0, sizeof(info));
    if (val->mv_size == 17 && v[0] == LEDGER_EVENT_COMMITTED) {
        info.status = LEDGER_EVENT_COMMITTED;
        info.leaf_index = store_get_be64(v + 1);
        info.height = store_get_be64(v + 9);
    } else if (val->mv_size == 15 && v[0] == LEDGER_EVENT_REJECTED) {
        info.status = LEDGER_EVENT_REJECTED;
        info.height = store_get_be64(v + 1);
        info.position = store_get_be32(v + 9);
        info.reason = -(int)((uint32_t)v[13] << 8 | v[14]);
    } else {
        return ORIGO_E_CORRUPT;
    }
    *out = info;
    return 0;
}

int ledger_event_lookup(ledger *led, MDB_txn *txn,
                        const uint8_t event_id[LEDGER_HASH_LEN],
                        ledger_event_info *out)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    MDB_val key = {32, (void *)event_id}, val;
    rc = mdb_get(use, led->event_ids, &key, &val);
    if (rc == MDB_NOTFOUND) {
        memset(out, 0, sizeof(*out));
        rc = 0;
    } else if (rc) {
        rc = store_err(rc);
    } else {
        rc = block_id_decode(&val, out);
    }
    store_read_end(use, own);
    return rc;
}
