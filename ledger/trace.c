/* The trace indexes and their traversal: which lots went into which, who
 * holds a lot, which holds are in force. Apply feeds every accepted event
 * to trace_index_event() inside its write transaction; queries walk the
 * dupsort tables breadth-first with a visited set so that any recorded
 * cycle terminates and is reported rather than followed. */
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <origo/error.h>

#include "store.h"
#include "trace_internal.h"

_Static_assert(ORIGO_TEXT_MAX <= TRACE_PARTY_MAX,
               "custody parties must fit trace_custody whole");

#define DEFAULT_MAX_LOTS 1000000u
#define LEAF_LEN 8

static const char *const table_names[TRACE_TABLE_COUNT] = {
    "trace_lot_events", "trace_lot_inputs", "trace_lot_outputs",
    "trace_doc_events", "trace_by_events",  "trace_custody",
    "trace_holds",
};

static const unsigned table_flags[TRACE_TABLE_COUNT] = {
    MDB_DUPSORT | MDB_DUPFIXED,
    MDB_DUPSORT,
    MDB_DUPSORT,
    MDB_DUPSORT | MDB_DUPFIXED,
    MDB_DUPSORT | MDB_DUPFIXED,
    MDB_DUPSORT,
    MDB_DUPSORT,
};

static int map_mdb(int rc)
{
    if (rc == 0) {
        return 0;
    }
    if (rc == MDB_NOTFOUND) {
        return ORIGO_E_NOTFOUND;
    }
    if (rc == MDB_MAP_FULL) {
        return ORIGO_E_MAP_FULL;
    }
    if (rc == ENOMEM) {
        return ORIGO_E_NOMEM;
    }
    if (rc > 0) {
        origo_set_os_cause(rc); /* ENOSPC, EIO...: for the log */
    }
    return ORIGO_E_STORE;
}

void trace_put_be64(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(value & 0xff);
        value >>= 8;
    }
}

uint64_t trace_get_be64(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) {
        value = (value << 8) | in[i];
    }
    return value;
}

int trace_open(MDB_txn *txn, struct trace_tables *out)
{
    MDB_dbi dbis[TRACE_TABLE_COUNT];

    for (int i = 0; i < TRACE_TABLE_COUNT; i++) {
        int rc = mdb_dbi_open(txn, table_names[i], table_flags[i], &dbis[i]);
        if (rc == MDB_NOTFOUND) {
            /* Missing: create it, which a read-only transaction refuses. */
            rc = mdb_dbi_open(txn, table_names[i], table_flags[i] | MDB_CREATE,
                              &dbis[i]);
            if (rc == EACCES) {
                return ORIGO_E_NOTFOUND;
            }
        }
        if (rc != 0) {
            return map_mdb(rc);
        }
    }
    out->lot_events = dbis[0];
    out->lot_inputs = dbis[1];
    out->lot_outputs = dbis[2];
    out->doc_events = dbis[3];
    out->by_events = dbis[4];
    out->custody = dbis[5];
    out->holds = dbis[6];
    return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Puts one dupsort value; an identical value already present is fine (an
 * event that names a lot twice indexes it once). */
static int put_dup(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t key_len,
                   const void *value, size_t value_len)
{
    MDB_val k = {key_len, (void *)key};
    MDB_val v = {value_len, (void *)value};
    int rc = mdb_put(txn, dbi, &k, &v, MDB_NODUPDATA);
    if (rc == MDB_KEYEXIST) {
        return 0;
    }
    return map_mdb(rc);
}

static int check_lot(const char *lot, size_t len)
{
    if (len == 0 || len > TRACE_LOT_MAX) {
        return ORIGO_E_LOT;
    }
    return 0;
}

int trace_put_lot_event(MDB_txn *txn, const struct trace_tables *tables,
                        const char *lot, size_t len, uint64_t leaf_index)
{
    uint8_t value[LEAF_LEN];
    int rc = check_lot(lot, len);
    if (rc != 0) {
        return rc;
    }
    trace_put_be64(value, leaf_index);
    return put_dup(txn, tables->lot_events, lot, len, value, LEAF_LEN);
}

/* key -> leaf || lot */
static int put_leaf_lot(MDB_txn *txn, MDB_dbi dbi, const char *key,
                        size_t key_len, uint64_t leaf_index, const char *lot,
                        size_t lot_len)
{
    uint8_t value[LEAF_LEN + TRACE_LOT_MAX];
    trace_put_be64(value, leaf_index);
    memcpy(value + LEAF_LEN, lot, lot_len);
    return put_dup(txn, dbi, key, key_len, value, LEAF_LEN + lot_len);
}

int trace_put_edge(MDB_txn *txn, const struct trace_tables *tables,
                   const char *from, size_t from_len, const char *to,
                   size_t to_len, uint64_t leaf_index)
{
    int rc = check_lot(from, from_len);
    if (rc == 0) {
        rc = check_lot(to, to_len);
    }
    if (rc == 0) {
        rc = put_leaf_lot(txn, tables->lot_inputs, to, to_len, leaf_index, from,
                          from_len);
    }
    if (rc == 0) {
        rc = put_leaf_lot(txn, tables->lot_outputs, from, from_len, leaf_index,
                          to, to_len);
    }
    return rc;
}

int trace_put_custody(MDB_txn *txn, const struct trace_tables *tables,
                      const char *lot, size_t len, uint64_t leaf_index,
                      int kind, const char *from, size_t from_len,
                      const char *to, size_t to_len)
{
    /* leaf || kind || from_len || from || to, parties cut at
     * TRACE_PARTY_MAX bytes (the event itself keeps the full names). */
    uint8_t value[LEAF_LEN + 2 + 2 * TRACE_PARTY_MAX];
    size_t pos = LEAF_LEN;
    int rc = check_lot(lot, len);
    if (rc != 0) {
        return rc;
    }
    if (from_len > TRACE_PARTY_MAX) {
        from_len = TRACE_PARTY_MAX;
    }
    if (to_len > TRACE_PARTY_MAX) {
        to_len = TRACE_PARTY_MAX;
    }
    trace_put_be64(value, leaf_index);
    value[pos++] = (uint8_t)kind;
    value[pos++] = (uint8_t)from_len;
    memcpy(value + pos, from, from_len);
    pos += from_len;
    memcpy(value + pos, to, to_len);
    pos += to_len;
    return put_dup(txn, tables->custody, lot, len, value, pos);
}

int trace_put_hold(MDB_txn *txn, const struct trace_tables *tables,
                   const char *lot, size_t len, uint64_t leaf_index, int kind)
{
    uint8_t value[LEAF_LEN + 1];
    int rc = check_lot(lot, len);
    if (rc != 0) {
        return rc;
    }
    trace_put_be64(value, leaf_index);
    value[LEAF_LEN] = (uint8_t)kind;
    return put_dup(txn, tables->holds, lot, len, value, sizeof(value));
}

int trace_put_key_event(MDB_txn *txn, MDB_dbi dbi, const uint8_t key[32],
                        uint64_t leaf_index)
{
    uint8_t value[LEAF_LEN];
    trace_put_be64(value, leaf_index);
    return put_dup(txn, dbi, key, 32, value, LEAF_LEN);
}

int trace_lot_exists(MDB_txn *txn, const struct trace_tables *tables,
                     const char *lot, size_t len)
{
    /* Named without an edge, produced by an edge, or consumed by one. */
    const MDB_dbi dbis[3] = {tables->lot_events, tables->lot_inputs,
                             tables->lot_outputs};
    if (len == 0 || len > TRACE_LOT_MAX) {
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        MDB_val k = {len, (void *)lot};
        MDB_val v;
        int rc = mdb_get(txn, dbis[i], &k, &v);
        if (rc == 0) {
            return 1;
        }
        if (rc != MDB_NOTFOUND) {
            return map_mdb(rc);
        }
    }
    return 0;
}

/* ---- indexing an event ------------------------------------------------ */

static int index_facts(MDB_txn *txn, const struct trace_tables *tables,
                       uint64_t leaf_index, const struct trace_facts *facts)
{
    int rc = 0;
    /* A lot that is an end of one of this event's edges is found through
     * the edge tables; trace_lot_events keeps only the other mentions,
     * which saves an entry per transformed lot. */
    uint8_t on_edge[TRACE_FACTS_MAX_LOTS] = {0};
    for (size_t i = 0; i < facts->edge_count; i++) {
        on_edge[facts->edges[i].from] = 1;
        on_edge[facts->edges[i].to] = 1;
    }
    for (size_t i = 0; i < facts->lot_count && rc == 0; i++) {
        if (!on_edge[i]) {
            rc = trace_put_lot_event(txn, tables, facts->lots[i].ptr,
                                     facts->lots[i].len, leaf_index);
        }
    }
    for (size_t i = 0; i < facts->edge_count && rc == 0; i++) {
        const struct trace_text *from = &facts->lots[facts->edges[i].from];
        const struct trace_text *to = &facts->lots[facts->edges[i].to];
        rc = trace_put_edge(txn, tables, from->ptr, from->len, to->ptr, to->len,
                            leaf_index);
    }
    for (size_t i = 0; i < facts->subject_count && rc == 0; i++) {
        const struct trace_text *lot = &facts->lots[facts->subjects[i]];
        if (facts->kind == TRACE_CUSTODY_SHIP ||
            facts->kind == TRACE_CUSTODY_RECEIVE) {
            rc = trace_put_custody(
                txn, tables, lot->ptr, lot->len, leaf_index, facts->kind,
                facts->from.ptr, facts->from.len, facts->to.ptr, facts->to.len);
        } else {
            rc = trace_put_hold(txn, tables, lot->ptr, lot->len, leaf_index,
                                facts->kind);
        }
    }
    for (size_t i = 0; i < facts->doc_count && rc == 0; i++) {
        rc = trace_put_key_event(txn, tables->doc_events, facts->docs[i],
                                 leaf_index);
    }
    if (rc == 0) {
        rc = trace_put_key_event(txn, tables->by_events, facts->by, leaf_index);
    }
    return rc;
}

int trace_index_facts(MDB_txn *txn, const struct trace_tables *tables,
                      uint64_t leaf_index, const struct trace_facts *facts)
{
    return index_facts(txn, tables, leaf_index, facts);
}

int trace_index_event(MDB_txn *txn, const struct trace_tables *tables,
                      uint64_t leaf_index, const origo_event *event,
                      const uint8_t event_id[32])
{
    (void)event_id; /* the ledger's event_ids table maps IDs to leaves */
    struct trace_facts *facts = malloc(sizeof(*facts));
    if (facts == NULL) {
        return ORIGO_E_NOMEM;
    }
    int rc = trace_facts_from_event(event, facts);
    if (rc == 0) {
        rc = index_facts(txn, tables, leaf_index, facts);
    }
    free(facts);
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

/* Positions `cursor` on the first duplicate of `key` and returns it in *v;
 * ORIGO_E_NOTFOUND when the key has none. */
static int first_dup(MDB_cursor *cursor, const void *key, size_t key_len,
                     MDB_val *v)
{
    MDB_val k = {key_len, (void *)key};
    return map_mdb(mdb_cursor_get(cursor, &k, v, MDB_SET_KEY));
}

int trace_list_events(MDB_txn *txn, MDB_dbi table, const void *key,
                      size_t key_len, uint64_t tree_size,
                      int (*fn)(void *ctx, uint64_t leaf_index), void *ctx)
{
    MDB_cursor *cursor;
    MDB_val k = {key_len, (void *)key};
    MDB_val v;
    int rc = map_mdb(mdb_cursor_open(txn, table, &cursor));
    if (rc != 0) {
        return rc;
    }
    int mrc = mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY);
    while (mrc == 0) {
        if (v.mv_size < LEAF_LEN) {
            rc = ORIGO_E_CORRUPT;
            break;
        }
        uint64_t leaf = trace_get_be64(v.mv_data);
        if (leaf >= tree_size) {
            break;
        }
        rc = fn(ctx, leaf);
        if (rc != 0) {
            break;
        }
        mrc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP);
    }
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND) {
        rc = map_mdb(mrc);
    }
    mdb_cursor_close(cursor);
    return rc;
}

/* One ascending stream of a lot's leaf indexes: the duplicates of the lot
 * in one table. */
struct leaf_stream {
    MDB_cursor *cursor;
    uint64_t head; /* UINT64_MAX when exhausted */
};

static int stream_load(struct leaf_stream *stream, int mdb_rc, const MDB_val *v)
{
    if (mdb_rc == MDB_NOTFOUND) {
        stream->head = UINT64_MAX;
        return 0;
    }
    if (mdb_rc != 0) {
        return map_mdb(mdb_rc);
    }
    if (v->mv_size < LEAF_LEN) {
        return ORIGO_E_CORRUPT;
    }
    stream->head = trace_get_be64(v->mv_data);
    return 0;
}

static int stream_open(struct leaf_stream *stream, MDB_txn *txn, MDB_dbi dbi,
                       const char *lot, size_t len)
{
    MDB_val k = {len, (void *)lot}, v;
    int rc = map_mdb(mdb_cursor_open(txn, dbi, &stream->cursor));
    if (rc != 0) {
        stream->cursor = NULL;
        return rc;
    }
    return stream_load(stream,
                       mdb_cursor_get(stream->cursor, &k, &v, MDB_SET_KEY), &v);
}

static int stream_next(struct leaf_stream *stream)
{
    MDB_val k, v;
    return stream_load(
        stream, mdb_cursor_get(stream->cursor, &k, &v, MDB_NEXT_DUP), &v);
}

int trace_lot_list_events(MDB_txn *txn, const struct trace_tables *tables,
                          const char *lot, size_t len, uint64_t tree_size,
                          int (*fn)(void *ctx, uint64_t leaf_index), void *ctx)
{
    const MDB_dbi dbis[3] = {tables->lot_events, tables->lot_inputs,
                             tables->lot_outputs};
    struct leaf_stream streams[3] = {
        {NULL, UINT64_MAX}, {NULL, UINT64_MAX}, {NULL, UINT64_MAX}};
    uint64_t last = UINT64_MAX;
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = stream_open(&streams[i], txn, dbis[i], lot, len);
    }
    /* Merge the three ascending streams; equal leaves come out once. */
    while (rc == 0) {
        int min = 0;
        for (int i = 1; i < 3; i++) {
            if (streams[i].head < streams[min].head) {
                min = i;
            }
        }
        uint64_t leaf = streams[min].head;
        if (leaf == UINT64_MAX || leaf >= tree_size) {
            break;
        }
        if (leaf != last) {
            rc = fn(ctx, leaf);
            last = leaf;
        }
        if (rc == 0) {
            rc = stream_next(&streams[min]);
        }
    }
    for (int i = 0; i < 3; i++) {
        if (streams[i].cursor != NULL) {
            mdb_cursor_close(streams[i].cursor);
        }
    }
    return rc;
}

/* ---- query state ------------------------------------------------------ */

/* Growable arrays, a string -> lot index hash set, and the BFS frontier. */
struct query_state {
    MDB_txn *txn;
    const struct trace_tables *tables;
    const struct trace_query *query;
    struct trace_result res;
    size_t lot_cap, edge_cap, event_cap, hold_cap;
    uint32_t *slots; /* open addressing: lot index + 1, 0 = empty */
    size_t slot_count;
    size_t max_lots;
};

static uint64_t hash_bytes(const char *bytes, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)bytes[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t new_cap = *cap ? *cap * 2 : 64;
    while (new_cap < need) {
        new_cap *= 2;
    }
    void *bigger = realloc(*array, new_cap * elem);
    if (bigger == NULL) {
        return ORIGO_E_NOMEM;
    }
    *array = bigger;
    *cap = new_cap;
    return 0;
}

static int rehash(struct query_state *st)
{
    size_t count = st->slot_count ? st->slot_count * 2 : 256;
    uint32_t *slots = calloc(count, sizeof(*slots));
    if (slots == NULL) {
        return ORIGO_E_NOMEM;
    }
    for (size_t i = 0; i < st->res.lot_count; i++) {
        const struct trace_lot *lot = &st->res.lots[i];
        size_t pos = hash_bytes(lot->lot, lot->len) & (count - 1);
        while (slots[pos] != 0) {
            pos = (pos + 1) & (count - 1);
        }
        slots[pos] = (uint32_t)i + 1;
    }
    free(st->slots);
    st->slots = slots;
    st->slot_count = count;
    return 0;
}

/* Finds `lot` among the answer's lots; adds it at `depth` when absent.
 * *index receives its position, *added whether it is new. */
static int intern_lot(struct query_state *st, const char *lot, size_t len,
                      uint32_t depth, uint32_t *index, int *added)
{
    if ((st->res.lot_count + 1) * 2 > st->slot_count) {
        int rc = rehash(st);
        if (rc != 0) {
            return rc;
        }
    }
    size_t mask = st->slot_count - 1;
    size_t pos = hash_bytes(lot, len) & mask;
    while (st->slots[pos] != 0) {
        const struct trace_lot *have = &st->res.lots[st->slots[pos] - 1];
        if (have->len == len && memcmp(have->lot, lot, len) == 0) {
            *index = st->slots[pos] - 1;
            *added = 0;
            return 0;
        }
        pos = (pos + 1) & mask;
    }
    if (st->res.lot_count >= st->max_lots) {
        return ORIGO_E_TOOBIG;
    }
    int rc = grow((void **)&st->res.lots, &st->lot_cap, st->res.lot_count + 1,
                  sizeof(struct trace_lot));
    if (rc != 0) {
        return rc;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        return ORIGO_E_NOMEM;
    }
    memcpy(copy, lot, len);
    copy[len] = '\0';
    struct trace_lot *entry = &st->res.lots[st->res.lot_count];
    memset(entry, 0, sizeof(*entry));
    entry->lot = copy;
    entry->len = len;
    entry->depth = depth;
    st->slots[pos] = (uint32_t)st->res.lot_count + 1;
    *index = (uint32_t)st->res.lot_count++;
    *added = 1;
    return 0;
}

static int add_event(struct query_state *st, uint64_t leaf_index)
{
    int rc = grow((void **)&st->res.events, &st->event_cap,
                  st->res.event_count + 1, sizeof(uint64_t));
    if (rc == 0) {
        st->res.events[st->res.event_count++] = leaf_index;
    }
    return rc;
}

static int add_edge(struct query_state *st, uint32_t from, uint32_t to,
                    uint64_t leaf_index)
{
    int rc = grow((void **)&st->res.edges, &st->edge_cap,
                  st->res.edge_count + 1, sizeof(struct trace_edge));
    if (rc != 0) {
        return rc;
    }
    st->res.edges[st->res.edge_count++] =
        (struct trace_edge){from, to, leaf_index};
    return add_event(st, leaf_index);
}

/* ---- traversal -------------------------------------------------------- */

/* Expands lot `index`: every edge of it below the tree size becomes an
 * answer edge; unseen neighbours join the answer one level deeper. */
static int expand_lot(struct query_state *st, MDB_cursor *cursor,
                      uint32_t index)
{
    const int backward = st->query->direction == TRACE_BACKWARD;
    uint32_t depth = st->res.lots[index].depth;
    MDB_val v;
    /* Copy the key: interning may move the lots array. */
    char key[TRACE_LOT_MAX];
    size_t key_len = st->res.lots[index].len;
    memcpy(key, st->res.lots[index].lot, key_len);

    int rc = first_dup(cursor, key, key_len, &v);
    while (rc == 0) {
        if (v.mv_size <= LEAF_LEN || v.mv_size > LEAF_LEN + TRACE_LOT_MAX) {
            return ORIGO_E_CORRUPT;
        }
        uint64_t leaf = trace_get_be64(v.mv_data);
        if (leaf >= st->query->tree_size) {
            return 0;
        }
        uint32_t other;
        int added;
        rc = intern_lot(st, (const char *)v.mv_data + LEAF_LEN,
                        v.mv_size - LEAF_LEN, depth + 1, &other, &added);
        if (rc != 0) {
            return rc;
        }
        rc = backward ? add_edge(st, other, index, leaf)
                      : add_edge(st, index, other, leaf);
        if (rc != 0) {
            return rc;
        }
        MDB_val k;
        rc = map_mdb(mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP));
    }
    return rc == ORIGO_E_NOTFOUND ? 0 : rc;
}

/* Returns 1 when lot `index` has an edge below the tree size (so a depth
 * limit that stops there hides something) and its first such edge's leaf
 * in *leaf, 0 otherwise, or an error. */
static int has_edges(struct query_state *st, MDB_cursor *cursor, uint32_t index,
                     uint64_t *leaf)
{
    MDB_val v;
    int rc =
        first_dup(cursor, st->res.lots[index].lot, st->res.lots[index].len, &v);
    if (rc == ORIGO_E_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    if (v.mv_size < LEAF_LEN) {
        return ORIGO_E_CORRUPT;
    }
    *leaf = trace_get_be64(v.mv_data);
    return *leaf < st->query->tree_size;
}

static int traverse(struct query_state *st)
{
    MDB_dbi dbi = st->query->direction == TRACE_BACKWARD
                      ? st->tables->lot_inputs
                      : st->tables->lot_outputs;
    MDB_cursor *cursor;
    int rc = map_mdb(mdb_cursor_open(st->txn, dbi, &cursor));
    if (rc != 0) {
        return rc;
    }
    /* The lots array is the BFS queue: lots are appended in discovery
     * order, so lots[next] is always the shallowest unexpanded one. */
    for (size_t next = 0; next < st->res.lot_count && rc == 0; next++) {
        if (st->res.lots[next].depth >= st->query->max_depth) {
            uint64_t leaf;
            rc = has_edges(st, cursor, (uint32_t)next, &leaf);
            if (rc > 0) {
                /* The first such edge's event joins the answer as the
                 * evidence that makes depth_limited provable. */
                rc = st->res.depth_limited ? 0 : add_event(st, leaf);
                st->res.depth_limited = 1;
            }
            continue;
        }
        rc = expand_lot(st, cursor, (uint32_t)next);
    }
    mdb_cursor_close(cursor);
    return rc;
}

/* ---- cycle detection -------------------------------------------------- */

/* The ends of answer edge `e` in traversal direction. */
static void answer_edge_ends(const void *ctx, size_t e, uint32_t *source,
                             uint32_t *target)
{
    const struct query_state *st = ctx;
    const struct trace_edge *edge = &st->res.edges[e];
    const int backward = st->query->direction == TRACE_BACKWARD;
    *source = backward ? edge->to : edge->from;
    *target = backward ? edge->from : edge->to;
}

/* Finds the edges that close a cycle in the answer graph (in traversal
 * direction): trace_facts_back_edges(), which the report verifier runs
 * too, so that both agree on report.cycle_edges. */
static int find_cycles(struct query_state *st)
{
    return trace_facts_back_edges(st->res.lot_count, st->res.edge_count,
                                  answer_edge_ends, st, &st->res.cycle_edges,
                                  &st->res.cycle_edge_count);
}

/* ---- recall scope ----------------------------------------------------- */

/* The last custody value of `lot` below the tree size, or NOTFOUND. */
static int last_custody(struct query_state *st, MDB_cursor *cursor,
                        const struct trace_lot *lot, MDB_val *v)
{
    MDB_val k = {lot->len, lot->lot};
    int rc = mdb_cursor_get(cursor, &k, v, MDB_SET_KEY);
    if (rc != 0) {
        return map_mdb(rc);
    }
    if (st->query->tree_size == TRACE_TREE_SIZE_ALL) {
        return map_mdb(mdb_cursor_get(cursor, &k, v, MDB_LAST_DUP));
    }
    uint8_t bound[LEAF_LEN];
    trace_put_be64(bound, st->query->tree_size);
    MDB_val probe = {LEAF_LEN, bound};
    rc = mdb_cursor_get(cursor, &k, &probe, MDB_GET_BOTH_RANGE);
    if (rc == MDB_NOTFOUND) {
        /* Every value is below the bound: the last one is the answer. */
        return map_mdb(mdb_cursor_get(cursor, &k, v, MDB_LAST_DUP));
    }
    if (rc != 0) {
        return map_mdb(rc);
    }
    return map_mdb(mdb_cursor_get(cursor, &k, v, MDB_PREV_DUP));
}

static char *dup_bytes(const uint8_t *bytes, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, bytes, len);
        copy[len] = '\0';
    }
    return copy;
}

static int lot_custody(struct query_state *st, MDB_cursor *cursor,
                       struct trace_lot *lot)
{
    MDB_val v;
    int rc = last_custody(st, cursor, lot, &v);
    if (rc == ORIGO_E_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    const uint8_t *bytes = v.mv_data;
    if (v.mv_size < LEAF_LEN + 2 ||
        (size_t)LEAF_LEN + 2 + bytes[9] > v.mv_size) {
        return ORIGO_E_CORRUPT;
    }
    int kind = bytes[LEAF_LEN];
    if (kind != TRACE_CUSTODY_SHIP && kind != TRACE_CUSTODY_RECEIVE) {
        return ORIGO_E_CORRUPT;
    }
    size_t from_len = bytes[9];
    const uint8_t *from = bytes + LEAF_LEN + 2;
    const uint8_t *to = from + from_len;
    size_t to_len = v.mv_size - LEAF_LEN - 2 - from_len;
    char *from_copy = dup_bytes(from, from_len);
    char *to_copy = dup_bytes(to, to_len);
    if (from_copy == NULL || to_copy == NULL) {
        free(from_copy);
        free(to_copy);
        return ORIGO_E_NOMEM;
    }
    lot->has_custody = 1;
    lot->custody_leaf = trace_get_be64(bytes);
    lot->custody_kind = kind;
    lot->custody_from = from_copy;
    lot->custodian = to_copy;
    return add_event(st, lot->custody_leaf);
}

/* Replays the lot's hold values in log order: a hold or recall is added, a
 * release lifts the holds placed before it (a recall stays). Every one of
 * these events joins the answer's events. */
static int lot_holds(struct query_state *st, MDB_cursor *cursor, uint32_t index)
{
    struct trace_lot *lot = &st->res.lots[index];
    MDB_val k = {lot->len, lot->lot};
    MDB_val v;
    size_t first = st->res.hold_count, settled = first;
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY);
    while (rc == 0) {
        if (v.mv_size != LEAF_LEN + 1) {
            return ORIGO_E_CORRUPT;
        }
        uint64_t leaf = trace_get_be64(v.mv_data);
        if (leaf >= st->query->tree_size) {
            break;
        }
        int kind = ((const uint8_t *)v.mv_data)[LEAF_LEN];
        /* Every quality event goes into the answer, lifted or not, so that
         * a verifier can replay the lot's holds from the events alone. */
        int erc = add_event(st, leaf);
        if (erc != 0) {
            return erc;
        }
        if (kind == TRACE_RELEASE) {
            /* Everything before `settled` is a recall that an earlier
             * release kept: only what came since needs a look, so many
             * releases after many recalls stay linear. */
            size_t keep = settled;
            for (size_t i = settled; i < st->res.hold_count; i++) {
                if (st->res.holds[i].kind == TRACE_RECALL) {
                    st->res.holds[keep++] = st->res.holds[i];
                }
            }
            st->res.hold_count = keep;
            settled = keep;
        } else if (kind == TRACE_HOLD || kind == TRACE_RECALL) {
            int grc = grow((void **)&st->res.holds, &st->hold_cap,
                           st->res.hold_count + 1, sizeof(struct trace_hold));
            if (grc != 0) {
                return grc;
            }
            st->res.holds[st->res.hold_count++] =
                (struct trace_hold){index, kind, leaf};
        } else {
            return ORIGO_E_CORRUPT;
        }
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return map_mdb(rc);
    }
    lot = &st->res.lots[index];
    lot->hold_first = first;
    lot->hold_count = st->res.hold_count - first;
    return 0;
}

static int recall_scope(struct query_state *st)
{
    MDB_cursor *custody, *holds;
    int rc = map_mdb(mdb_cursor_open(st->txn, st->tables->custody, &custody));
    if (rc != 0) {
        return rc;
    }
    rc = map_mdb(mdb_cursor_open(st->txn, st->tables->holds, &holds));
    if (rc != 0) {
        goto out_custody;
    }
    for (size_t i = 0; i < st->res.lot_count && rc == 0; i++) {
        rc = lot_custody(st, custody, &st->res.lots[i]);
        if (rc == 0) {
            rc = lot_holds(st, holds, (uint32_t)i);
        }
    }
    mdb_cursor_close(holds);
out_custody:
    mdb_cursor_close(custody);
    return rc;
}

static int lot_event_cb(void *ctx, uint64_t leaf_index)
{
    return add_event(ctx, leaf_index);
}

static int all_lot_events(struct query_state *st)
{
    for (size_t i = 0; i < st->res.lot_count; i++) {
        int rc = trace_lot_list_events(st->txn, st->tables, st->res.lots[i].lot,
                                       st->res.lots[i].len,
                                       st->query->tree_size, lot_event_cb, st);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void sort_unique_events(struct trace_result *res)
{
    if (res->event_count == 0) {
        return;
    }
    qsort(res->events, res->event_count, sizeof(uint64_t), store_cmp_u64);
    size_t keep = 1;
    for (size_t i = 1; i < res->event_count; i++) {
        if (res->events[i] != res->events[keep - 1]) {
            res->events[keep++] = res->events[i];
        }
    }
    res->event_count = keep;
}

static int check_query(const struct trace_query *query)
{
    if (query->lot == NULL || check_lot(query->lot, query->lot_len) != 0) {
        return ORIGO_E_INVAL;
    }
    if (query->direction != TRACE_BACKWARD &&
        query->direction != TRACE_FORWARD) {
        return ORIGO_E_INVAL;
    }
    if ((query->flags & TRACE_WITH_RECALL) &&
        query->direction != TRACE_FORWARD) {
        return ORIGO_E_INVAL;
    }
    return 0;
}

int trace_query_run(MDB_txn *txn, const struct trace_tables *tables,
                    const struct trace_query *query, struct trace_result *out)
{
    struct query_state st;
    uint32_t start;
    int added;
    int rc = check_query(query);
    if (rc != 0) {
        return rc;
    }
    memset(&st, 0, sizeof(st));
    st.txn = txn;
    st.tables = tables;
    st.query = query;
    st.max_lots = query->max_lots ? query->max_lots : DEFAULT_MAX_LOTS;
    st.res.tree_size = query->tree_size;
    st.res.direction = query->direction;
    st.res.max_depth = query->max_depth;

    rc = intern_lot(&st, query->lot, query->lot_len, 0, &start, &added);
    if (rc == 0) {
        rc = traverse(&st);
    }
    if (rc == 0) {
        rc = find_cycles(&st);
    }
    if (rc == 0 && (query->flags & TRACE_WITH_RECALL)) {
        rc = recall_scope(&st);
    }
    if (rc == 0 && (query->flags & TRACE_WITH_LOT_EVENTS)) {
        rc = all_lot_events(&st);
    }
    free(st.slots);
    if (rc != 0) {
        trace_result_close(&st.res);
        return rc;
    }
    sort_unique_events(&st.res);
    *out = st.res;
    return 0;
}

void trace_result_close(struct trace_result *result)
{
    for (size_t i = 0; i < result->lot_count; i++) {
        free(result->lots[i].lot);
        free(result->lots[i].custodian);
        free(result->lots[i].custody_from);
    }
    free(result->lots);
    free(result->edges);
    free(result->events);
    free(result->holds);
    free(result->cycle_edges);
    memset(result, 0, sizeof(*result));
}
