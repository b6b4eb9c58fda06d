/* Block headers (docs/formats/block.md): their canonical msgpack encoding,
 * the block hash, the hash over a block's envelopes that the header carries,
 * and the read side of blocks: headers by height or Raft index, and the
 * envelopes of a block re-assembled in their original order from `events`
 * (accepted) and `rejects` (rejected). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"

#include "block.h"
#include "store.h"

#define BLOCK_DOMAIN "origo/block/v2"
#define BLOCK_DOMAIN_LEN 15 /* with its NUL */
#define BLOCK_VERSION 2
#define BLOCK_FIELDS 12

void block_hash(const uint8_t *header, size_t len, uint8_t out[32])
{
    origo_sha256_state st;
    origo_sha256_init(&st);
    origo_sha256_update(&st, (const uint8_t *)BLOCK_DOMAIN, BLOCK_DOMAIN_LEN);
    origo_sha256_update(&st, header, len);
    origo_sha256_final(&st, out);
}

void block_content_init(origo_sha256_state *st)
{
    origo_sha256_init(st);
}

void block_content_add(origo_sha256_state *st, const uint8_t *envelope,
                       size_t len)
{
    uint8_t len_buf[4];
    store_put_be32(len_buf, (uint32_t)len);
    origo_sha256_update(st, len_buf, 4);
    if (len)
        origo_sha256_update(st, envelope, len);
}

void block_content_final(origo_sha256_state *st, uint8_t out[32])
{
    origo_sha256_final(st, out);
}

int ledger_block_encode(const ledger_block_header *h, uint8_t **out,
                        size_t *out_len, uint8_t hash[LEDGER_HASH_LEN])
{
    origo_buf buf;
    origo_buf_init(&buf, 1024);
    origo_mp_put_map(&buf, BLOCK_FIELDS);
    origo_mp_put_cstr(&buf, "v");
    origo_mp_put_uint(&buf, BLOCK_VERSION);
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
    origo_mp_put_cstr(&buf, "envelope_count");
    origo_mp_put_uint(&buf, h->envelope_count);
    origo_mp_put_cstr(&buf, "envelopes_hash");
    origo_mp_put_bin(&buf, h->envelopes_hash, 32);
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
    if (rd.err == 0 && count != BLOCK_FIELDS)
        return ORIGO_E_SCHEMA;
    read_u64(&rd, "v", &version);
    read_u64(&rd, "height", &h.height);
    origo_mp_read_key(&rd, "prev");
    origo_mp_read_bin_exact(&rd, h.prev_hash, 32);
    read_u64(&rd, "time", &h.block_time);
    read_u64(&rd, "raft_term", &h.raft_term);
    read_u64(&rd, "raft_index", &h.raft_index);
    read_u64(&rd, "envelope_count", &h.envelope_count);
    origo_mp_read_key(&rd, "envelopes_hash");
    origo_mp_read_bin_exact(&rd, h.envelopes_hash, 32);
    read_u64(&rd, "first_leaf", &h.first_leaf);
    read_u64(&rd, "leaf_count", &h.leaf_count);
    read_u64(&rd, "tree_size", &h.tree_size);
    origo_mp_read_key(&rd, "root");
    origo_mp_read_bin_exact(&rd, h.root, 32);
    origo_mp_leave(&rd);
    int rc = origo_mp_reader_finish(&rd);
    if (rc)
        return rc;
    if (version != BLOCK_VERSION)
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

/* Reads the reject at the cursor if it belongs to block `prefix`. */
static int next_reject(MDB_cursor *cur, MDB_val *key, MDB_val *val,
                       MDB_cursor_op op, const uint8_t prefix[8])
{
    int rc = mdb_cursor_get(cur, key, val, op);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return store_err(rc);
    return key->mv_size == 12 && memcmp(key->mv_data, prefix, 8) == 0;
}

static int gap_at(block_gap *gap, const char *table, uint32_t position,
                  uint64_t leaf, const char *what)
{
    if (gap) {
        gap->table = table;
        gap->position = position;
        gap->leaf = leaf;
        gap->what = what;
    }
    return ORIGO_E_CORRUPT;
}

/* The envelope at `position`: the block's next reject if it sits there,
 * else its next leaf. */
static int walk_one(ledger *led, MDB_txn *txn, const ledger_block_header *h,
                    uint32_t pos, uint64_t *leaf, MDB_cursor *cur, MDB_val *key,
                    MDB_val *val, int *more, const uint8_t prefix[8],
                    block_walk_fn visit, void *ctx, block_gap *gap)
{
    int rc;
    if (*more && store_get_be32((const uint8_t *)key->mv_data + 8) == pos) {
        const uint8_t *v = val->mv_data;
        if (val->mv_size < 2)
            return gap_at(gap, LEDGER_DBI_REJECTS, pos, 0,
                          "malformed reject row");
        int reason = -(int)((uint32_t)v[0] << 8 | v[1]);
        if ((rc = visit(ctx, pos, v + 2, val->mv_size - 2, reason)))
            return rc;
        *more = next_reject(cur, key, val, MDB_NEXT, prefix);
        return *more < 0 ? *more : 0;
    }
    if (*leaf == h->first_leaf + h->leaf_count)
        return gap_at(gap, LEDGER_DBI_REJECTS, pos, 0,
                      "the header counts an envelope here, but the block's "
                      "leaves are used up and no reject is stored");
    uint8_t lkey[8];
    store_put_be64(lkey, *leaf);
    MDB_val k2 = {8, lkey}, v2;
    if ((rc = mdb_get(txn, led->events, &k2, &v2)))
        return rc == MDB_NOTFOUND ? gap_at(gap, LEDGER_DBI_EVENTS, pos, *leaf,
                                           "leaf of the block missing")
                                  : store_err(rc);
    if ((rc = visit(ctx, pos, v2.mv_data, v2.mv_size, 0)))
        return rc;
    (*leaf)++;
    return 0;
}

int block_walk(ledger *led, MDB_txn *txn, const ledger_block_header *h,
               block_walk_fn visit, void *ctx, block_gap *gap)
{
    MDB_cursor *cur;
    uint8_t prefix[12];
    int rc;
    if (h->envelope_count > LEDGER_MAX_BLOCK_EVENTS ||
        h->leaf_count > h->envelope_count)
        return gap_at(gap, LEDGER_DBI_BLOCKS, 0, 0,
                      "header counts are inconsistent");
    if ((rc = mdb_cursor_open(txn, led->rejects, &cur)))
        return store_err(rc);
    block_reject_key(prefix, h->height, 0);
    MDB_val key = {12, prefix}, val;
    int more = next_reject(cur, &key, &val, MDB_SET_RANGE, prefix);
    uint64_t leaf = h->first_leaf;
    rc = more < 0 ? more : 0;
    for (uint32_t pos = 0; rc == 0 && pos < h->envelope_count; pos++)
        rc = walk_one(led, txn, h, pos, &leaf, cur, &key, &val, &more, prefix,
                      visit, ctx, gap);
    if (rc == 0 && more)
        rc = gap_at(gap, LEDGER_DBI_REJECTS,
                    store_get_be32((const uint8_t *)key.mv_data + 8), 0,
                    "a reject beyond the envelopes the header counts");
    else if (rc == 0 && leaf != h->first_leaf + h->leaf_count)
        rc = gap_at(gap, LEDGER_DBI_BLOCKS, 0, leaf,
                    "header counts more leaves than envelope positions");
    mdb_cursor_close(cur);
    return rc;
}

int ledger_block_envelopes(ledger *led, MDB_txn *txn, uint64_t height,
                           int (*visit)(void *ctx, uint32_t position,
                                        const uint8_t *data, size_t len,
                                        int status),
                           void *ctx)
{
    ledger_block_header h;
    int rc = ledger_block_get(led, txn, height, &h, NULL);
    if (rc)
        return rc;
    return block_walk(led, txn, &h, visit, ctx, NULL);
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
    if (val->mv_size == 9 && v[0] == LEDGER_EVENT_COMMITTED) {
        /* The height is not stored (it would cost 8 bytes per event); see
         * block_height_of_leaf(). */
        info.status = LEDGER_EVENT_COMMITTED;
        info.leaf_index = store_get_be64(v + 1);
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

int block_height_of_leaf(ledger *led, MDB_txn *txn, uint64_t leaf,
                         uint64_t *height)
{
    uint64_t tree_size = 0;
    int rc = store_head_tree_size(led, txn, &tree_size);
    if (rc)
        return rc;
    if (leaf >= tree_size)
        return ORIGO_E_NOTFOUND;
    store_head head;
    if ((rc = store_head_get(led, txn, &head)))
        return rc;
    /* Blocks partition the leaves in height order: find the one whose
     * [first_leaf, first_leaf + leaf_count) holds `leaf`. */
    uint64_t low = 1, high = head.state.height;
    while (low <= high) {
        uint64_t mid = low + (high - low) / 2;
        ledger_block_header h;
        if ((rc = ledger_block_get(led, txn, mid, &h, NULL)))
            return rc == ORIGO_E_NOTFOUND ? ORIGO_E_CORRUPT : rc;
        if (leaf < h.first_leaf) {
            high = mid - 1;
        } else if (leaf - h.first_leaf >= h.leaf_count) {
            low = mid + 1;
        } else {
            *height = mid;
            return 0;
        }
    }
    return ORIGO_E_CORRUPT;
}

/* Whether the envelope `data` has event ID `event_id` (the index holds only
 * the first 128 bits, so a lookup checks the rest against the stored
 * envelope). */
static int same_event(const uint8_t *data, size_t len,
                      const uint8_t event_id[LEDGER_HASH_LEN])
{
    origo_envelope envelope;
    uint8_t id[LEDGER_HASH_LEN];
    if (origo_envelope_decode(data, len, &envelope) != 0)
        return 0;
    origo_event_id(envelope.body, envelope.body_len, id);
    return memcmp(id, event_id, LEDGER_HASH_LEN) == 0;
}

/* Checks the stored envelope an `event_ids` record points to. Returns 1
 * (the same event), 0 (another event sharing the key) or an error. */
static int record_matches(ledger *led, MDB_txn *txn,
                          const ledger_event_info *info,
                          const uint8_t event_id[LEDGER_HASH_LEN])
{
    MDB_val key, val;
    uint8_t key_buf[12];
    if (info->status == LEDGER_EVENT_COMMITTED) {
        store_put_be64(key_buf, info->leaf_index);
        key = (MDB_val){8, key_buf};
        if (mdb_get(txn, led->events, &key, &val) != 0)
            return ORIGO_E_CORRUPT;
        return same_event(val.mv_data, val.mv_size, event_id);
    }
    block_reject_key(key_buf, info->height, info->position);
    key = (MDB_val){12, key_buf};
    if (mdb_get(txn, led->rejects, &key, &val) != 0 || val.mv_size < 2)
        return ORIGO_E_CORRUPT;
    return same_event((const uint8_t *)val.mv_data + 2, val.mv_size - 2,
                      event_id);
}

int ledger_event_lookup(ledger *led, MDB_txn *txn,
                        const uint8_t event_id[LEDGER_HASH_LEN],
                        ledger_event_info *out)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    MDB_val key = {BLOCK_ID_KEY_LEN, (void *)event_id}, val;
    rc = mdb_get(use, led->event_ids, &key, &val);
    if (rc == MDB_NOTFOUND) {
        memset(out, 0, sizeof(*out));
        rc = 0;
    } else if (rc) {
        rc = store_err(rc);
    } else {
        ledger_event_info info;
        rc = block_id_decode(&val, &info);
        if (rc == 0 && info.status == LEDGER_EVENT_COMMITTED)
            rc = block_height_of_leaf(led, use, info.leaf_index, &info.height);
        if (rc == ORIGO_E_NOTFOUND)
            rc = ORIGO_E_CORRUPT; /* an ID pointing past the tree */
        int same = rc == 0 ? record_matches(led, use, &info, event_id) : 0;
        if (same < 0)
            rc = same;
        else if (rc == 0 && !same)
            memset(&info, 0, sizeof(info)); /* another event's record */
        if (rc == 0)
            *out = info;
    }
    store_read_end(use, own);
    return rc;
}
