/* The lot index, store side (docs/formats/lot-index.md, "Storage"): each
 * key's chain (count and head) as of now and the root at the end of every
 * block in LMDB; the tree in memory (lotindex_mem.c), rebuilt from the
 * chains when first needed. Apply calls lotindex_add_event() for each
 * accepted event and lotindex_commit() once per block, in the block's
 * write transaction. */
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/error.h"

#include "lotindex.h"
#include "lotindex_mem.h"
#include "lotindex_store.h"
#include "store.h"

void lotindex_batch_free(lotindex_batch *b)
{
    free(b->places);
    memset(b, 0, sizeof(*b));
}

/* Notes a key's new value; repeats are resolved at commit (the largest
 * count of a key is its value after the block). */
static int batch_push(lotindex_batch *b, const uint8_t key[32], uint64_t count,
                      const uint8_t head[32])
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        lotindex_place *p = realloc(b->places, cap * sizeof(*p));
        if (!p)
            return ORIGO_E_NOMEM;
        b->places = p;
        b->cap = cap;
    }
    lotindex_place *p = &b->places[b->n++];
    memcpy(p->key, key, 32);
    p->count = count;
    memcpy(p->head, head, 32);
    return 0;
}

/* Chain records are stored under role || lot, not under their map key,
 * so that the lots one producer names one after another sit together in
 * LMDB (lot-index.md, "Storage"). */
static size_t chain_name(int role, const char *lot, size_t lot_len,
                         uint8_t out[1 + TRACE_LOT_MAX])
{
    out[0] = (uint8_t)role;
    memcpy(out + 1, lot, lot_len);
    return 1 + lot_len;
}

/* Appends to the chain of (role, lot) through one cursor, so that the
 * B-tree is searched once for the read and the write of a chain that
 * exists (most of them: a lot is named again and again). */
int lotindex_add(ledger *led, MDB_txn *txn, lotindex_batch *b, uint64_t leaf,
                 uint64_t block_time, int role, const char *lot, size_t lot_len,
                 const uint8_t event_id[32])
{
    uint8_t key[32], val[40], head[32] = {0}, name[1 + TRACE_LOT_MAX];
    uint64_t count = 0;
    if (lot_len > TRACE_LOT_MAX)
        return ORIGO_E_LOT;
    size_t name_len = chain_name(role, lot, lot_len, name);
    MDB_cursor *cur;
    int rc = store_err(mdb_cursor_open(txn, led->lotidx_chains, &cur));
    if (rc)
        return rc;
    MDB_val k = {name_len, name}, v;
    int found = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    if (found == 0 && v.mv_size != 40) {
        rc = ORIGO_E_CORRUPT;
    } else if (found == 0) {
        count = store_get_be64(v.mv_data);
        memcpy(head, (const uint8_t *)v.mv_data + 8, 32);
    } else if (found != MDB_NOTFOUND) {
        rc = store_err(found);
    }
    /* The same bytes as lotindex_chain_step() and lotindex_key() hash,
     * through Nettle: a quarter of libsodium's time here. */
    uint8_t
        in[LOTINDEX_KEY_INPUT_MAX(TRACE_LOT_MAX) + LOTINDEX_CHAIN_INPUT_LEN];
    if (rc == 0) {
        origo_sha256(in,
                     lotindex_chain_input(head, leaf, block_time, event_id, in),
                     head);
        store_put_be64(val, count + 1);
        memcpy(val + 8, head, 32);
        k = (MDB_val){name_len, name};
        v = (MDB_val){40, val};
        rc = store_err(
            mdb_cursor_put(cur, &k, &v, found == 0 ? MDB_CURRENT : 0));
    }
    mdb_cursor_close(cur);
    if (rc)
        return rc;
    origo_sha256(in, lotindex_key_input(role, lot, lot_len, in), key);
    return batch_push(b, key, count + 1, head);
}

int lotindex_add_event(ledger *led, MDB_txn *txn, lotindex_batch *b,
                       uint64_t leaf, uint64_t block_time,
                       const struct trace_facts *facts,
                       const uint8_t event_id[32])
{
    for (size_t j = 0; j < facts->lot_count; j++) {
        unsigned roles = lotindex_roles(facts, j);
        for (int role = 1; role <= LOTINDEX_ROLES; role++) {
            if (!(roles & LOTINDEX_ROLE_BIT(role)))
                continue;
            int rc =
                lotindex_add(led, txn, b, leaf, block_time, role,
                             facts->lots[j].ptr, facts->lots[j].len, event_id);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- the tree ------------------------------------------------------------ */

/* The root stored at `tree_size` (exact), or the one in force there
 * (the last at or below it; zeros before any), with its size. */
static int root_get(ledger *led, MDB_txn *txn, uint64_t tree_size,
                    uint8_t root[32], int exact, uint64_t *at)
{
    uint8_t kb[8];
    store_put_be64(kb, tree_size);
    MDB_val k = {8, kb}, v;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, led->lotidx_roots, &cur);
    if (rc)
        return store_err(rc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && store_get_be64(k.mv_data) != tree_size) {
        /* Past it: the root in force is the previous one. */
        rc = exact ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_PREV);
    } else if (rc == MDB_NOTFOUND && !exact) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        if (exact)
            return ORIGO_E_NOTFOUND;
        memset(root, 0, 32); /* before any block: the empty map */
        *at = 0;
        return 0;
    }
    if (rc)
        return store_err(rc);
    if (k.mv_size != 8 || v.mv_size != 32)
        return ORIGO_E_CORRUPT;
    memcpy(root, v.mv_data, 32);
    *at = store_get_be64(k.mv_data);
    return 0;
}

/* The tree of `tree_size` rebuilt from every chain in txn (which must be
 * the state at that size). */
static int rebuild(ledger *led, MDB_txn *txn, uint64_t tree_size,
                   uint8_t root[32])
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = store_err(mdb_stat(txn, led->lotidx_chains, &st));
    if (rc)
        return rc;
    lotindex_place *pl = malloc((st.ms_entries + 1) * sizeof(*pl));
    size_t n = 0;
    if (!pl)
        return ORIGO_E_NOMEM;
    if ((rc = store_err(mdb_cursor_open(txn, led->lotidx_chains, &cur)))) {
        free(pl);
        return rc;
    }
    for (int m = mdb_cursor_get(cur, &k, &v, MDB_FIRST); m == 0;
         m = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *name = k.mv_data;
        if (k.mv_size < 1 || !lotindex_role_name(name[0]) ||
            (k.mv_size == 1) != (name[0] == LOTINDEX_MEMBERS) ||
            v.mv_size != 40 || n > st.ms_entries) {
            rc = ORIGO_E_CORRUPT;
            break;
        }
        lotindex_key(name[0], (const char *)name + 1, k.mv_size - 1, pl[n].key);
        pl[n].count = store_get_be64(v.mv_data);
        memcpy(pl[n].head, (const uint8_t *)v.mv_data + 8, 32);
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == 0)
        lotindex_places_sort(pl, n);
    if (rc == 0)
        rc = lotindex_mem_rebuild(led->lotidx, tree_size, pl, n, root);
    free(pl);
    return rc;
}

int lotindex_commit(ledger *led, MDB_txn *txn, lotindex_batch *b,
                    uint64_t tree_size)
{
    uint8_t base_root[32], root[32];
    uint64_t base_size = 0;
    int rc = root_get(led, txn, tree_size, base_root, 0, &base_size);
    if (rc)
        return rc;
    /* Each key once, with its value after the block (the largest count). */
    size_t m = 0;
    lotindex_place *pl = b->places;
    lotindex_places_sort(pl, b->n); /* the last of a key: its value */
    for (size_t i = 0; i < b->n; i++) {
        if (m && !memcmp(pl[m - 1].key, pl[i].key, 32))
            m--;
        pl[m++] = pl[i];
    }
    rc = lotindex_mem_update(led->lotidx, base_size, base_root, tree_size, pl,
                             m, root);
    if (rc == ORIGO_E_NOTFOUND) /* first use, or history lost: rebuild */
        rc = rebuild(led, txn, tree_size, root);
    if (rc)
        return rc;
    b->n = 0;
    uint8_t kb[8];
    store_put_be64(kb, tree_size);
    MDB_val k = {8, kb}, v = {32, root};
    return store_err(mdb_put(txn, led->lotidx_roots, &k, &v, 0));
}

int lotindex_seed(ledger *led, MDB_txn *txn, const uint8_t genesis_hash[32])
{
    uint8_t head[32], key[32], val[40], name[1] = {LOTINDEX_MEMBERS};
    lotindex_members_seed(genesis_hash, head);
    store_put_be64(val, 1);
    memcpy(val + 8, head, 32);
    MDB_val k = {1, name}, v = {40, val};
    int rc = store_err(mdb_put(txn, led->lotidx_chains, &k, &v, 0));
    if (rc)
        return rc;
    lotindex_batch b = {0};
    lotindex_key(LOTINDEX_MEMBERS, "", 0, key);
    rc = batch_push(&b, key, 1, head);
    if (rc == 0)
        rc = lotindex_commit(led, txn, &b, 0);
    lotindex_batch_free(&b);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

struct lotindex_mem *ledger_lot_index_mem(ledger *led)
{
    return led->lotidx;
}

int ledger_lot_index_root(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          uint8_t root[32])
{
    MDB_txn *use;
    int own, rc;
    uint64_t at;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = root_get(led, use, tree_size, root, 1, &at);
    store_read_end(use, own);
    return rc;
}

/* The tree of (tree_size, root) in memory: found there, or rebuilt from
 * the chains when tree_size is the store's own size (no other can be).
 * Chains that do not give the root the store recorded are ORIGO_E_CORRUPT.
 * *keys (may be NULL): the chains read, 0 when the tree was there. */
static int tree_ready(ledger *led, MDB_txn *use, uint64_t tree_size,
                      const uint8_t root[32], size_t *keys)
{
    ledger_state st;
    uint8_t again[32];
    MDB_stat ms;
    if (keys)
        *keys = 0;
    if (lotindex_mem_has(led->lotidx, tree_size, root))
        return 0;
    int rc = ledger_get_state(led, use, &st);
    if (rc == 0 && st.tree_size != tree_size)
        rc = ORIGO_E_NOTFOUND;
    if (rc == 0)
        rc = store_err(mdb_stat(use, led->lotidx_chains, &ms));
    if (rc == 0)
        rc = rebuild(led, use, tree_size, again);
    if (rc == 0 && memcmp(again, root, 32) != 0)
        rc = ORIGO_E_CORRUPT;
    if (rc == 0 && keys)
        *keys = ms.ms_entries;
    return rc;
}

int ledger_lot_index_prove(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           const char *lot, size_t lot_len, int role,
                           lotindex_proof *proof)
{
    if (!lotindex_role_name(role))
        return ORIGO_E_INVAL;
    uint8_t key[32], root[32];
    uint64_t at;
    lotindex_key(role, lot, lot_len, key);
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = root_get(led, use, tree_size, root, 1, &at);
    if (rc == 0)
        rc = tree_ready(led, use, tree_size, root, NULL);
    if (rc == 0)
        rc = lotindex_mem_prove(led->lotidx, tree_size, root, key, proof);
    store_read_end(use, own);
    return rc;
}

int ledger_lot_index_warm(ledger *led, size_t *keys)
{
    MDB_txn *use;
    int own, rc;
    ledger_state st;
    uint8_t root[32];
    uint64_t at;
    *keys = 0;
    if ((rc = store_read_begin(led, NULL, &use, &own)))
        return rc;
    rc = ledger_get_state(led, use, &st);
    if (rc == 0)
        rc = root_get(led, use, st.tree_size, root, 1, &at);
    if (rc == 0)
        rc = tree_ready(led, use, st.tree_size, root, keys);
    else if (rc == ORIGO_E_NOTFOUND)
        rc = 0; /* no block yet: nothing to build */
    store_read_end(use, own);
    return rc;
}
