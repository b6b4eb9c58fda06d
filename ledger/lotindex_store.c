/* The lot index, store side (docs/formats/lot-index.md, "Storage"): each
 * key's chain (count and head) as of now, the sparse Merkle tree's nodes
 * by hash (immutable, so every root ever committed stays provable), and
 * the root at the end of every block. Apply calls lotindex_add_event() for
 * each accepted event and lotindex_commit() once per block, in the block's
 * write transaction. */
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

#include "lotindex.h"
#include "lotindex_store.h"
#include "store.h"

#define NODE_INTERNAL 1
#define NODE_LEAF 2
#define INTERNAL_LEN 65
#define LEAF_LEN 73

static const uint8_t ZERO[32];

static int is_zero(const uint8_t h[32])
{
    return memcmp(h, ZERO, 32) == 0;
}

void lotindex_batch_free(lotindex_batch *b)
{
    free(b->keys);
    memset(b, 0, sizeof(*b));
}

static int batch_push(lotindex_batch *b, const uint8_t key[32])
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        uint8_t(*k)[32] = realloc(b->keys, cap * sizeof(*k));
        if (!k)
            return ORIGO_E_NOMEM;
        b->keys = k;
        b->cap = cap;
    }
    memcpy(b->keys[b->n++], key, 32);
    return 0;
}

/* The chain of `key` now: count and head (0 and zeros when absent). */
static int chain_get(ledger *led, MDB_txn *txn, const uint8_t key[32],
                     uint64_t *count, uint8_t head[32])
{
    MDB_val k = {32, (void *)key}, v;
    int rc = mdb_get(txn, led->lotidx_chains, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *count = 0;
        memset(head, 0, 32);
        return 0;
    }
    if (rc)
        return store_err(rc);
    if (v.mv_size != 40)
        return ORIGO_E_CORRUPT;
    *count = store_get_be64(v.mv_data);
    memcpy(head, (const uint8_t *)v.mv_data + 8, 32);
    return 0;
}

int lotindex_add(ledger *led, MDB_txn *txn, lotindex_batch *b, uint64_t leaf,
                 int role, const char *lot, size_t lot_len,
                 const uint8_t event_id[32])
{
    uint8_t key[32], val[40], head[32];
    uint64_t count;
    lotindex_key(role, lot, lot_len, key);
    int rc = chain_get(led, txn, key, &count, head);
    if (rc)
        return rc;
    lotindex_chain_step(head, leaf, event_id);
    store_put_be64(val, count + 1);
    memcpy(val + 8, head, 32);
    MDB_val k = {32, key}, v = {40, val};
    if ((rc = store_err(mdb_put(txn, led->lotidx_chains, &k, &v, 0))))
        return rc;
    /* Repeats are dropped at commit; the last one cheaply here. */
    if (b->n && !memcmp(b->keys[b->n - 1], key, 32))
        return 0;
    return batch_push(b, key);
}

int lotindex_add_event(ledger *led, MDB_txn *txn, lotindex_batch *b,
                       uint64_t leaf, const struct trace_facts *facts,
                       const uint8_t event_id[32])
{
    for (size_t j = 0; j < facts->lot_count; j++) {
        unsigned roles = lotindex_roles(facts, j);
        for (int role = 1; role <= LOTINDEX_ROLES; role++) {
            if (!(roles & LOTINDEX_ROLE_BIT(role)))
                continue;
            int rc = lotindex_add(led, txn, b, leaf, role, facts->lots[j].ptr,
                                  facts->lots[j].len, event_id);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- the tree ------------------------------------------------------------ */

static int node_put(ledger *led, MDB_txn *txn, const uint8_t *bytes, size_t len,
                    uint8_t hash[32])
{
    if (bytes[0] == NODE_LEAF)
        lotindex_leaf_hash(bytes + 1, store_get_be64(bytes + 33), bytes + 41,
                           hash);
    else
        lotindex_node_hash(bytes + 1, bytes + 33, hash);
    MDB_val k = {32, hash}, v = {len, (void *)bytes};
    return store_err(mdb_put(txn, led->lotidx_nodes, &k, &v, 0));
}

static int node_get(ledger *led, MDB_txn *txn, const uint8_t hash[32],
                    uint8_t out[LEAF_LEN], size_t *len)
{
    MDB_val k = {32, (void *)hash}, v;
    int rc = mdb_get(txn, led->lotidx_nodes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return ORIGO_E_CORRUPT; /* a hash the tree points to must be there */
    if (rc)
        return store_err(rc);
    const uint8_t *d = v.mv_data;
    if (!((v.mv_size == INTERNAL_LEN && d[0] == NODE_INTERNAL) ||
          (v.mv_size == LEAF_LEN && d[0] == NODE_LEAF)))
        return ORIGO_E_CORRUPT;
    memcpy(out, d, v.mv_size);
    *len = v.mv_size;
    return 0;
}

/* A leaf to place: its key and value. */
typedef struct place {
    uint8_t key[32];
    uint64_t count;
    uint8_t head[32];
} place;

static int leaf_put(ledger *led, MDB_txn *txn, const place *p, uint8_t hash[32])
{
    uint8_t b[LEAF_LEN];
    b[0] = NODE_LEAF;
    memcpy(b + 1, p->key, 32);
    store_put_be64(b + 33, p->count);
    memcpy(b + 41, p->head, 32);
    return node_put(led, txn, b, LEAF_LEN, hash);
}

static int internal_put(ledger *led, MDB_txn *txn, const uint8_t left[32],
                        const uint8_t right[32], uint8_t hash[32])
{
    uint8_t b[INTERNAL_LEN];
    b[0] = NODE_INTERNAL;
    memcpy(b + 1, left, 32);
    memcpy(b + 33, right, 32);
    return node_put(led, txn, b, INTERNAL_LEN, hash);
}

/* Builds the canonical subtree at `depth` holding exactly places[0..n)
 * (sorted by key, distinct): empty for none, the leaf itself for one, an
 * internal node on every level above two or more (lot-index.md, "The
 * map"). */
static int build(ledger *led, MDB_txn *txn, unsigned depth, const place *pl,
                 size_t n, uint8_t hash[32])
{
    if (n == 0) {
        memset(hash, 0, 32);
        return 0;
    }
    if (n == 1)
        return leaf_put(led, txn, pl, hash);
    if (depth >= LOTINDEX_MAX_DEPTH)
        return ORIGO_E_INTERNAL; /* two equal keys */
    size_t split = 0;
    while (split < n && !lotindex_key_bit(pl[split].key, depth))
        split++;
    uint8_t l[32], r[32];
    int rc = build(led, txn, depth + 1, pl, split, l);
    if (rc == 0)
        rc = build(led, txn, depth + 1, pl + split, n - split, r);
    return rc ? rc : internal_put(led, txn, l, r, hash);
}

/* Updates the subtree `hash` at `depth` with places[0..n) (sorted,
 * distinct; new keys or new values of present keys), in place. */
static int update(ledger *led, MDB_txn *txn, unsigned depth, uint8_t hash[32],
                  const place *pl, size_t n)
{
    if (n == 0)
        return 0;
    if (is_zero(hash))
        return build(led, txn, depth, pl, n, hash);
    uint8_t node[LEAF_LEN];
    size_t len;
    int rc = node_get(led, txn, hash, node, &len);
    if (rc)
        return rc;
    if (node[0] == NODE_LEAF) {
        /* A lone leaf here: rebuild this subtree with it and the places,
         * unless one of them replaces it. */
        place old;
        memcpy(old.key, node + 1, 32);
        old.count = store_get_be64(node + 33);
        memcpy(old.head, node + 41, 32);
        place *all = malloc((n + 1) * sizeof(*all));
        if (!all)
            return ORIGO_E_NOMEM;
        size_t k = 0, i = 0;
        int placed = 0;
        for (; i < n; i++) {
            int c = memcmp(pl[i].key, old.key, 32);
            if (!placed && c >= 0) {
                placed = 1;
                if (c > 0)
                    all[k++] = old;
            }
            all[k++] = pl[i];
        }
        if (!placed)
            all[k++] = old;
        rc = build(led, txn, depth, all, k, hash);
        free(all);
        return rc;
    }
    size_t split = 0;
    while (split < n && !lotindex_key_bit(pl[split].key, depth))
        split++;
    uint8_t l[32], r[32];
    memcpy(l, node + 1, 32);
    memcpy(r, node + 33, 32);
    if ((rc = update(led, txn, depth + 1, l, pl, split)) ||
        (rc = update(led, txn, depth + 1, r, pl + split, n - split)))
        return rc;
    return internal_put(led, txn, l, r, hash);
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static int root_get(ledger *led, MDB_txn *txn, uint64_t tree_size,
                    uint8_t root[32], int exact)
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
        return 0;
    }
    if (rc)
        return store_err(rc);
    if (k.mv_size != 8 || v.mv_size != 32)
        return ORIGO_E_CORRUPT;
    memcpy(root, v.mv_data, 32);
    return 0;
}

int lotindex_commit(ledger *led, MDB_txn *txn, lotindex_batch *b,
                    uint64_t tree_size)
{
    uint8_t root[32];
    int rc = root_get(led, txn, tree_size, root, 0);
    if (rc)
        return rc;
    if (b->n) {
        qsort(b->keys, b->n, 32, key_cmp);
        size_t m = 0;
        for (size_t i = 0; i < b->n; i++)
            if (m == 0 || memcmp(b->keys[m - 1], b->keys[i], 32))
                memcpy(b->keys[m++], b->keys[i], 32);
        place *pl = malloc(m * sizeof(*pl));
        if (!pl)
            return ORIGO_E_NOMEM;
        for (size_t i = 0; i < m && rc == 0; i++) {
            memcpy(pl[i].key, b->keys[i], 32);
            rc = chain_get(led, txn, pl[i].key, &pl[i].count, pl[i].head);
        }
        if (rc == 0)
            rc = update(led, txn, 0, root, pl, m);
        free(pl);
        if (rc)
            return rc;
    }
    b->n = 0;
    uint8_t kb[8];
    store_put_be64(kb, tree_size);
    MDB_val k = {8, kb}, v = {32, root};
    return store_err(mdb_put(txn, led->lotidx_roots, &k, &v, 0));
}

/* ---- reading ------------------------------------------------------------- */

int ledger_lot_index_root(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          uint8_t root[32])
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = root_get(led, use, tree_size, root, 1);
    store_read_end(use, own);
    return rc;
}

static int prove(ledger *led, MDB_txn *txn, const uint8_t root[32],
                 const uint8_t key[32], lotindex_proof *p)
{
    uint8_t h[32], node[LEAF_LEN];
    size_t len;
    memcpy(h, root, 32);
    memset(p, 0, sizeof(*p));
    for (unsigned depth = 0;; depth++) {
        if (is_zero(h)) {
            p->depth = depth;
            p->end = LOTINDEX_END_EMPTY;
            return 0;
        }
        int rc = node_get(led, txn, h, node, &len);
        if (rc)
            return rc;
        if (node[0] == NODE_LEAF) {
            p->depth = depth;
            p->end = memcmp(node + 1, key, 32) ? LOTINDEX_END_OTHER
                                               : LOTINDEX_END_LEAF;
            memcpy(p->other_key, node + 1, 32);
            p->count = store_get_be64(node + 33);
            memcpy(p->head, node + 41, 32);
            if (p->end == LOTINDEX_END_LEAF)
                memset(p->other_key, 0, 32);
            return 0;
        }
        if (depth >= LOTINDEX_MAX_DEPTH)
            return ORIGO_E_CORRUPT;
        int bit = lotindex_key_bit(key, depth);
        memcpy(p->siblings[depth], node + (bit ? 1 : 33), 32);
        memcpy(h, node + (bit ? 33 : 1), 32);
    }
}

int ledger_lot_index_prove(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           const char *lot, size_t lot_len, int role,
                           lotindex_proof *proof)
{
    if (!lotindex_role_name(role))
        return ORIGO_E_INVAL;
    uint8_t key[32], root[32];
    lotindex_key(role, lot, lot_len, key);
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = root_get(led, use, tree_size, root, 1);
    if (rc == 0)
        rc = prove(led, use, root, key, proof);
    store_read_end(use, own);
    return rc;
}
