/* Builds trace reports (docs/formats/trace-report.md): the answer of one
 * trace query as of the latest quorum-signed checkpoint, with every event
 * behind it, its envelope and inclusion proof, so that a single JSON file
 * proves the whole answer offline. Everything is read in one LMDB read
 * transaction, so the answer, the proofs and the checkpoint agree. */
#include "report.h"

#include "lotindex.h"
#include "lotindex_mem.h"
#include "block.h"
#include "members.h"
#include "store.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <origo/codec.h>
#include <origo/error.h>
#include <origo/merkle.h>
#include <openssl/evp.h>
#include <sodium.h>

#define PROOF_MAX 65

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
{
    if (errmsg == NULL || size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, size, fmt, ap);
    va_end(ap);
}

int report_trace_tables(const ledger *led, struct trace_tables *out)
{
    if (led->trace == NULL) {
        return ORIGO_E_NOTFOUND;
    }
    *out = *(const struct trace_tables *)led->trace;
    return 0;
}

const char *report_kind_name(int kind)
{
    switch (kind) {
    case TRACE_CUSTODY_SHIP:
        return "ship";
    case TRACE_CUSTODY_RECEIVE:
        return "receive";
    case TRACE_HOLD:
        return "hold";
    case TRACE_RELEASE:
        return "release";
    case TRACE_RECALL:
        return "recall";
    default:
        return NULL;
    }
}

/* ---- a direct JSON writer ---------------------------------------------
 * The report is written straight into a growable buffer rather than built
 * as a jansson tree and dumped: for a 1,000-event answer that halves the
 * time. Strings are escaped per RFC 8259 (quote, backslash, control
 * characters); other bytes pass through, so UTF-8 text stays as is. */

/* The verifier's cap (REPORT_MAX_BYTES of report_verify.h): a larger
 * report could not be checked, so it is not written. */
#define REPORT_MAX_JSON ((size_t)128 << 20)

static void put_raw(origo_buf *out, const char *text)
{
    origo_buf_append(out, text, strlen(text));
}

static void put_string(origo_buf *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    origo_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        origo_buf_append(out, text + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char escaped[2] = {'\\', (char)c};
            origo_buf_append(out, escaped, 2);
        } else if (c == '\n') {
            origo_buf_append(out, "\\n", 2);
        } else {
            char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            origo_buf_append(out, escaped, 6);
        }
    }
    origo_buf_append(out, text + run, len - run);
    origo_buf_append(out, "\"", 1);
}

static void put_cstring(origo_buf *out, const char *text)
{
    put_string(out, text, strlen(text));
}

static void put_u64(origo_buf *out, uint64_t value)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    origo_buf_append(out, text, (size_t)n);
}

/* Base64 through libcrypto's EVP_EncodeBlock: what it encodes is public
 * (envelopes, hashes), so libsodium's constant-time encoder, four times
 * slower here, buys nothing; the bytes are the same (RFC 4648, padded). */
static void put_base64(origo_buf *out, const uint8_t *bytes, size_t len)
{
    char stack[128];
    size_t size = 4 * ((len + 2) / 3) + 1;
    char *text = size <= sizeof(stack) ? stack : malloc(size);
    if (text == NULL || len > INT_MAX / 2) {
        out->err = out->err ? out->err : ORIGO_E_NOMEM;
        if (text != stack) {
            free(text);
        }
        return;
    }
    int n = EVP_EncodeBlock((unsigned char *)text, bytes, (int)len);
    origo_buf_append(out, "\"", 1);
    origo_buf_append(out, text, (size_t)n);
    origo_buf_append(out, "\"", 1);
    if (text != stack) {
        free(text);
    }
}

/* A custody or hold kind by name. The trace answer checks the kinds it
 * reads from the store; an unknown one here is corruption all the same,
 * never a NULL string. */
static void put_kind(origo_buf *out, int kind)
{
    const char *name = report_kind_name(kind);
    if (name == NULL) {
        out->err = out->err ? out->err : ORIGO_E_CORRUPT;
        return;
    }
    put_cstring(out, name);
}

static void put_query(origo_buf *out, const struct report_request *request)
{
    put_raw(out, "\"query\":{\"lot\":");
    put_string(out, request->lot, request->lot_len);
    put_raw(out, request->direction == TRACE_BACKWARD
                     ? ",\"direction\":\"backward\",\"max_depth\":"
                     : ",\"direction\":\"forward\",\"max_depth\":");
    if (request->max_depth == TRACE_DEPTH_ANY) {
        put_raw(out, "null");
    } else {
        put_u64(out, request->max_depth);
    }
    put_raw(out, (request->flags & TRACE_WITH_RECALL) ? ",\"recall\":true"
                                                      : ",\"recall\":false");
    put_raw(out, (request->flags & TRACE_WITH_LOT_EVENTS)
                     ? ",\"lot_events\":true},"
                     : ",\"lot_events\":false},");
}

static void put_recall(origo_buf *out, const struct trace_result *res,
                       const struct trace_lot *lot)
{
    if (lot->has_custody) {
        put_raw(out, ",\"custody\":{\"leaf\":");
        put_u64(out, lot->custody_leaf);
        put_raw(out, ",\"kind\":");
        put_kind(out, lot->custody_kind);
        put_raw(out, ",\"from\":");
        put_cstring(out, lot->custody_from);
        put_raw(out, ",\"to\":");
        put_cstring(out, lot->custodian);
        put_raw(out, "}");
    }
    put_raw(out, ",\"holds\":[");
    for (size_t h = 0; h < lot->hold_count; h++) {
        const struct trace_hold *hold = &res->holds[lot->hold_first + h];
        put_raw(out, h ? ",{\"leaf\":" : "{\"leaf\":");
        put_u64(out, hold->leaf_index);
        put_raw(out, ",\"kind\":");
        put_kind(out, hold->kind);
        put_raw(out, "}");
    }
    put_raw(out, "]");
}

static void put_lots(origo_buf *out, const struct trace_result *res, int recall)
{
    put_raw(out, "\"lots\":[");
    for (size_t i = 0; i < res->lot_count; i++) {
        const struct trace_lot *lot = &res->lots[i];
        put_raw(out, i ? ",{\"lot\":" : "{\"lot\":");
        put_string(out, lot->lot, lot->len);
        put_raw(out, ",\"depth\":");
        put_u64(out, lot->depth);
        if (recall) {
            put_recall(out, res, lot);
        }
        put_raw(out, "}");
    }
    put_raw(out, "],");
}

static void put_edges(origo_buf *out, const struct trace_result *res)
{
    put_raw(out, "\"edges\":[");
    for (size_t i = 0; i < res->edge_count; i++) {
        const struct trace_edge *edge = &res->edges[i];
        put_raw(out, i ? ",{\"from\":" : "{\"from\":");
        put_string(out, res->lots[edge->from].lot, res->lots[edge->from].len);
        put_raw(out, ",\"to\":");
        put_string(out, res->lots[edge->to].lot, res->lots[edge->to].len);
        put_raw(out, ",\"leaf\":");
        put_u64(out, edge->leaf_index);
        put_raw(out, "}");
    }
    put_raw(out, "],");
    put_raw(out, res->cycle_edge_count ? "\"cycle\":true,\"cycle_edges\":["
                                       : "\"cycle\":false,\"cycle_edges\":[");
    for (size_t i = 0; i < res->cycle_edge_count; i++) {
        if (i) {
            put_raw(out, ",");
        }
        put_u64(out, res->cycle_edges[i]);
    }
    put_raw(out, res->depth_limited ? "],\"depth_limited\":true,"
                                    : "],\"depth_limited\":false,");
}

/* ---- proofs for many leaves --------------------------------------------
 * All proofs of a report are against one tree size, so the upper Merkle
 * nodes they need are largely the same. A small direct-mapped cache in
 * front of the store's node reader (mlog_get_node) serves those again
 * without another LMDB lookup; events come in ascending leaf order, which
 * also lets the reader's own group cache help neighbouring leaves. */

#define NODE_CACHE_SLOTS 4096

struct node_cache {
    mlog_reader reader;
    struct {
        uint64_t key; /* level << 58 | index, plus one; 0 = empty */
        uint8_t hash[LEDGER_HASH_LEN];
    } slots[NODE_CACHE_SLOTS];
};

static int cached_get_node(void *ctx, unsigned level, uint64_t index,
                           uint8_t out[ORIGO_HASH_LEN])
{
    struct node_cache *cache = ctx;
    if (level < MLOG_MIN_STORED_LEVEL || level >= 64 || index >> 58 != 0) {
        return mlog_get_node(&cache->reader, level, index, out);
    }
    uint64_t key = ((uint64_t)level << 58 | index) + 1;
    size_t slot =
        (size_t)((key * 0x9e3779b97f4a7c15ull) >> 52) % NODE_CACHE_SLOTS;
    if (cache->slots[slot].key == key) {
        memcpy(out, cache->slots[slot].hash, ORIGO_HASH_LEN);
        return 0;
    }
    int rc = mlog_get_node(&cache->reader, level, index, out);
    if (rc == 0) {
        cache->slots[slot].key = key;
        memcpy(cache->slots[slot].hash, out, ORIGO_HASH_LEN);
    }
    return rc;
}

/* v2: the block that committed the last event asked about, so that
 * neighbouring leaves need no other lookup. */
struct block_span {
    uint64_t first, count, time;
};

/* The time of the block that committed `leaf`. */
static int leaf_block_time(ledger *led, MDB_txn *txn, struct block_span *span,
                           uint64_t leaf, uint64_t *time)
{
    if (leaf < span->first || leaf - span->first >= span->count) {
        uint64_t height;
        ledger_block_header header;
        int rc = block_height_of_leaf(led, txn, leaf, &height);
        if (rc == 0) {
            rc = ledger_block_get(led, txn, height, &header, NULL);
        }
        if (rc != 0) {
            return rc;
        }
        span->first = header.first_leaf;
        span->count = header.leaf_count;
        span->time = header.block_time;
    }
    *time = span->time;
    return 0;
}

/* One event entry: leaf, (v2) its block's time, base64 envelope, base64
 * proof hashes. */
static int put_event(ledger *led, MDB_txn *txn, struct node_cache *cache,
                     struct block_span *span, uint64_t leaf, uint64_t tree_size,
                     int first, origo_buf *out, char *errmsg,
                     size_t errmsg_size)
{
    const uint8_t *data;
    size_t len, proof_len;
    uint64_t block_time = 0;
    uint8_t proof[PROOF_MAX][LEDGER_HASH_LEN];
    int rc = ledger_event_at(led, txn, leaf, &data, &len);
    if (rc == 0 && span != NULL) {
        rc = leaf_block_time(led, txn, span, leaf, &block_time);
    }
    if (rc == 0) {
        rc = origo_merkle_inclusion_proof(cached_get_node, cache, leaf,
                                          tree_size, proof, PROOF_MAX,
                                          &proof_len);
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "leaf %llu: %s", (unsigned long long)leaf,
                origo_strerror(rc));
        return rc;
    }
    put_raw(out, first ? "{\"leaf\":" : ",{\"leaf\":");
    put_u64(out, leaf);
    if (span != NULL) {
        put_raw(out, ",\"block_time\":");
        put_u64(out, block_time);
    }
    put_raw(out, ",\"envelope\":");
    put_base64(out, data, len);
    put_raw(out, ",\"proof\":[");
    for (size_t i = 0; i < proof_len; i++) {
        if (i) {
            put_raw(out, ",");
        }
        put_base64(out, proof[i], LEDGER_HASH_LEN);
    }
    put_raw(out, "]}");
    return 0;
}

/* v2: the proofs of the chains the query needs (lot-index.md). */
struct bchain {
    size_t lot; /* index into trace_result.lots */
    int role;
    uint64_t count;           /* the chain's length the proof shows */
    size_t json_at, json_len; /* its proof's JSON, in v2_parts.proofs */
};

struct v2_parts {
    const char *index_note;
    struct bchain *chains;
    size_t chain_count;
    const uint8_t *genesis; /* the genesis file's bytes (in the txn) */
    size_t genesis_len;
    lotindex_proof members; /* the membership chain */
    /* Each chain's proof, written as JSON when it is made: a proof in
     * memory is 8 KB (LOTINDEX_MAX_DEPTH siblings), its JSON about 1 KB. */
    origo_buf proofs;
};

/* The members of one lot index proof after its opening brace. */
static void put_proof(origo_buf *out, const lotindex_proof *p)
{
    put_raw(out, "\"siblings\":[");
    for (unsigned k = 0; k < p->depth; k++) {
        if (k) {
            put_raw(out, ",");
        }
        put_base64(out, p->siblings[k], 32);
    }
    put_raw(out, p->end == LOTINDEX_END_EMPTY  ? "],\"end\":\"empty\""
                 : p->end == LOTINDEX_END_LEAF ? "],\"end\":\"leaf\""
                                               : "],\"end\":\"other\"");
    if (p->end != LOTINDEX_END_EMPTY) {
        put_raw(out, ",\"count\":");
        put_u64(out, p->count);
        put_raw(out, ",\"head\":");
        put_base64(out, p->head, 32);
    }
    if (p->end == LOTINDEX_END_OTHER) {
        put_raw(out, ",\"other_key\":");
        put_base64(out, p->other_key, 32);
    }
}

static void put_index(origo_buf *out, const struct trace_result *res,
                      const struct v2_parts *v2)
{
    put_raw(out, "\"index\":[");
    for (size_t i = 0; i < v2->chain_count; i++) {
        const struct bchain *c = &v2->chains[i];
        put_raw(out, i ? ",{\"lot\":" : "{\"lot\":");
        put_string(out, res->lots[c->lot].lot, res->lots[c->lot].len);
        put_raw(out, ",\"role\":");
        put_cstring(out, lotindex_role_name(c->role));
        put_raw(out, ",");
        origo_buf_append(out, (const char *)v2->proofs.data + c->json_at,
                         c->json_len);
        put_raw(out, "}");
    }
    put_raw(out, "],");
}

static int answer_json(ledger *led, MDB_txn *txn,
                       const struct report_request *request,
                       const struct trace_result *res, const char *note,
                       const struct v2_parts *v2, origo_buf *out, char *errmsg,
                       size_t errmsg_size)
{
    put_raw(out, v2 ? "{\"format\":\"" REPORT_FORMAT_V2 "\",\"origin\":"
                    : "{\"format\":\"" REPORT_FORMAT "\",\"origin\":");
    put_cstring(out, ledger_origin(led));
    put_raw(out, ",");
    put_query(out, request);
    put_raw(out, "\"tree_size\":");
    put_u64(out, res->tree_size);
    put_raw(out, ",\"checkpoint\":");
    put_cstring(out, note);
    if (v2) {
        put_raw(out, ",\"index_note\":");
        put_cstring(out, v2->index_note);
        put_raw(out, ",\"genesis\":");
        put_base64(out, v2->genesis, v2->genesis_len);
        put_raw(out, ",\"members\":{");
        put_proof(out, &v2->members);
        put_raw(out, "}");
    }
    put_raw(out, ",");
    put_lots(out, res, (request->flags & TRACE_WITH_RECALL) != 0);
    put_edges(out, res);
    if (v2) {
        put_index(out, res, v2);
    }
    put_raw(out, "\"events\":[");
    struct node_cache *cache = calloc(1, sizeof(*cache));
    if (cache == NULL) {
        return ORIGO_E_NOMEM;
    }
    mlog_reader_init(&cache->reader, led, txn);
    struct block_span span = {0};
    for (size_t i = 0; i < res->event_count; i++) {
        int rc = put_event(led, txn, cache, v2 ? &span : NULL, res->events[i],
                           res->tree_size, i == 0, out, errmsg, errmsg_size);
        if (rc != 0) {
            free(cache);
            return rc;
        }
    }
    free(cache);
    put_raw(out, "]}");
    origo_buf_append(out, "", 1); /* the NUL terminator */
    if (out->err != 0) {
        set_msg(errmsg, errmsg_size, "writing the report: %s",
                origo_strerror(out->err));
        return out->err;
    }
    return 0;
}

/* Reads the latest quorum-signed checkpoint and checks the requested size
 * against it. */
static int checkpoint_for(ledger *led, MDB_txn *txn,
                          const struct report_request *request, char **note,
                          uint64_t *tree_size, char *errmsg, size_t errmsg_size)
{
    size_t note_len;
    int rc = ledger_checkpoint_latest(led, txn, note, &note_len, tree_size);
    if (rc == ORIGO_E_NOTFOUND) {
        set_msg(errmsg, errmsg_size,
                "no quorum-signed checkpoint in the ledger yet: a report "
                "needs one to prove its events against");
        return rc;
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "reading the latest checkpoint: %s",
                origo_strerror(rc));
        return rc;
    }
    if (request->tree_size != 0 && request->tree_size != *tree_size) {
        set_msg(errmsg, errmsg_size,
                "tree size %llu: the latest quorum-signed checkpoint is at "
                "%llu, and reports can only be built against it",
                (unsigned long long)request->tree_size,
                (unsigned long long)*tree_size);
        free(*note);
        return ORIGO_E_TREE_SIZE;
    }
    return 0;
}

static int run_query(ledger *led, MDB_txn *txn,
                     const struct report_request *request, uint64_t tree_size,
                     struct trace_result *res, char *errmsg, size_t errmsg_size)
{
    struct trace_tables tables;
    struct trace_query query = {
        .lot = request->lot,
        .lot_len = request->lot_len,
        .direction = request->direction,
        .max_depth = request->max_depth,
        .tree_size = tree_size,
        .flags = request->flags,
        .max_lots = request->max_lots,
    };
    int rc = report_trace_tables(led, &tables);
    if (rc == 0) {
        rc = trace_query_run(txn, &tables, &query, res);
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "trace of lot '%.*s': %s",
                (int)(request->lot_len > 200 ? 200 : request->lot_len),
                request->lot, origo_strerror(rc));
    }
    return rc;
}

/* ---- v2: the chains of the lot index ----------------------------------- */

/* Leaves gathered for a v2 report. */
struct leafset {
    uint64_t *leaves;
    size_t count, cap;
};

static int leafset_add(struct leafset *set, uint64_t leaf)
{
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        uint64_t *more = realloc(set->leaves, cap * sizeof(*more));
        if (more == NULL) {
            return ORIGO_E_NOMEM;
        }
        set->leaves = more;
        set->cap = cap;
    }
    set->leaves[set->count++] = leaf;
    return 0;
}

/* One lot's pass over the events that name it: which of its full chains
 * each is in. */
struct chain_walk {
    ledger *led;
    MDB_txn *txn;
    const struct trace_lot *lot;
    unsigned full; /* roles whose events go in the report */
    uint64_t counts[LOTINDEX_ROLES + 1];
    origo_event *ev;
    struct trace_facts *facts;
    struct leafset *set;
};

static int walk_event(void *ctx, uint64_t leaf)
{
    struct chain_walk *w = ctx;
    const uint8_t *data;
    size_t len;
    origo_envelope env;
    int rc = ledger_event_at(w->led, w->txn, leaf, &data, &len);
    if (rc == 0) {
        rc = origo_envelope_decode(data, len, &env);
    }
    if (rc == 0) {
        rc = origo_event_decode_body(env.body, env.body_len, w->ev);
    }
    if (rc == 0) {
        rc = trace_facts_from_event(w->ev, w->facts);
    }
    if (rc != 0) {
        return rc == ORIGO_E_NOMEM ? rc : ORIGO_E_CORRUPT;
    }
    for (size_t j = 0; j < w->facts->lot_count; j++) {
        const struct trace_text *t = &w->facts->lots[j];
        if (t->len != w->lot->len || memcmp(t->ptr, w->lot->lot, t->len)) {
            continue;
        }
        unsigned mask = lotindex_roles(w->facts, j) & w->full;
        for (int r = 1; r <= LOTINDEX_ROLES; r++) {
            if (mask & LOTINDEX_ROLE_BIT(r)) {
                w->counts[r]++;
            }
        }
        if (mask && (rc = leafset_add(w->set, leaf))) {
            return rc;
        }
        break;
    }
    return 0;
}

static int leafset_add_cb(void *ctx, uint64_t leaf)
{
    return leafset_add(ctx, leaf);
}

static void leafset_sort(struct leafset *set)
{
    if (set->count > 1) {
        qsort(set->leaves, set->count, sizeof(uint64_t), store_cmp_u64);
    }
    size_t m = 0;
    for (size_t i = 0; i < set->count; i++) {
        if (m == 0 || set->leaves[m - 1] != set->leaves[i]) {
            set->leaves[m++] = set->leaves[i];
        }
    }
    set->count = m;
}

/* v2: the genesis and the membership chain (lot-index.md, "The membership
 * chain"): its proof and every member event in it, which go into `set`. */
static int gather_members(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          struct v2_parts *v2, struct leafset *set,
                          char *errmsg, size_t errmsg_size)
{
    struct leafset changes = {0};
    int rc = store_genesis_json(led, txn, &v2->genesis, &v2->genesis_len);
    if (rc == 0) {
        rc = ledger_lot_index_prove(led, txn, tree_size, "", 0,
                                    LOTINDEX_MEMBERS, &v2->members);
    }
    if (rc == 0) {
        rc = members_change_leaves(led, txn, tree_size, leafset_add_cb,
                                   &changes);
    }
    if (rc == 0) {
        leafset_sort(&changes);
        uint64_t proven =
            v2->members.end == LOTINDEX_END_LEAF ? v2->members.count : 0;
        if (proven != changes.count + 1) {
            set_msg(errmsg, errmsg_size,
                    "the lot index's membership chain holds %llu entries, "
                    "the member table %zu changes and the genesis (run "
                    "origo audit)",
                    (unsigned long long)proven, changes.count);
            rc = ORIGO_E_CORRUPT;
        }
    }
    for (size_t i = 0; rc == 0 && i < changes.count; i++) {
        rc = leafset_add(set, changes.leaves[i]);
    }
    free(changes.leaves);
    return rc;
}

/* The chains the query needs and the events of the full ones, decided as
 * the verifier decides them (lotindex_query_roles(), lotindex_chain_full()).
 */
static int gather_v2(ledger *led, MDB_txn *txn,
                     const struct report_request *request,
                     const struct trace_result *res, struct v2_parts *v2,
                     struct leafset *set, char *errmsg, size_t errmsg_size)
{
    int backward = request->direction == TRACE_BACKWARD;
    int all = (request->flags & TRACE_WITH_LOT_EVENTS) != 0;
    unsigned roles = lotindex_query_roles(
        backward, (request->flags & TRACE_WITH_RECALL) != 0, all);
    size_t per_lot = (size_t)__builtin_popcount(roles);
    struct trace_tables tables;
    struct chain_walk w = {.led = led, .txn = txn, .set = set};
    int rc = report_trace_tables(led, &tables);
    v2->chains = calloc(res->lot_count * per_lot + 1, sizeof(*v2->chains));
    w.ev = malloc(sizeof(*w.ev));
    w.facts = malloc(sizeof(*w.facts));
    lotindex_proof *proof = malloc(sizeof(*proof));
    if (rc == 0 && (!v2->chains || !w.ev || !w.facts || !proof)) {
        rc = ORIGO_E_NOMEM;
    }
    for (size_t l = 0; rc == 0 && l < res->lot_count; l++) {
        w.lot = &res->lots[l];
        w.full = 0;
        memset(w.counts, 0, sizeof(w.counts));
        size_t first = v2->chain_count;
        for (int r = 1; r <= LOTINDEX_ROLES && rc == 0; r++) {
            if (!(roles & LOTINDEX_ROLE_BIT(r))) {
                continue;
            }
            struct bchain *c = &v2->chains[v2->chain_count++];
            c->lot = l;
            c->role = r;
            if (lotindex_chain_full(backward, all, r, w.lot->depth,
                                    request->max_depth)) {
                w.full |= LOTINDEX_ROLE_BIT(r);
            }
            rc = ledger_lot_index_prove(led, txn, res->tree_size, w.lot->lot,
                                        w.lot->len, r, proof);
            if (rc == 0) {
                c->count = proof->end == LOTINDEX_END_LEAF ? proof->count : 0;
                c->json_at = v2->proofs.len;
                put_proof(&v2->proofs, proof);
                c->json_len = v2->proofs.len - c->json_at;
                rc = v2->proofs.err;
            }
        }
        if (rc == 0 && w.full) {
            rc = trace_lot_list_events(txn, &tables, w.lot->lot, w.lot->len,
                                       res->tree_size, walk_event, &w);
        }
        for (size_t k = first; rc == 0 && k < v2->chain_count; k++) {
            const struct bchain *c = &v2->chains[k];
            uint64_t proven = c->count;
            if ((w.full & LOTINDEX_ROLE_BIT(c->role)) &&
                proven != w.counts[c->role]) {
                set_msg(errmsg, errmsg_size,
                        "lot '%.200s': the lot index holds %llu %s events, "
                        "the trace tables %llu (run origo audit)",
                        w.lot->lot, (unsigned long long)proven,
                        lotindex_role_name(c->role),
                        (unsigned long long)w.counts[c->role]);
                rc = ORIGO_E_CORRUPT;
            }
        }
    }
    free(w.ev);
    free(w.facts);
    free(proof);
    if (rc == 0) {
        rc = gather_members(led, txn, res->tree_size, v2, set, errmsg,
                            errmsg_size);
    }
    if (rc == ORIGO_E_NOTFOUND) {
        set_msg(errmsg, errmsg_size,
                "the lot index at tree size %llu is no longer held (a node "
                "keeps the trees of its last %d blocks, and of its own size "
                "after a restart): ask again once the validators have "
                "cosigned a newer size",
                (unsigned long long)res->tree_size, LOTINDEX_MEM_VERSIONS);
        return ORIGO_E_BUSY;
    }
    if (rc != 0) {
        if (errmsg && errmsg[0] == '\0') {
            set_msg(errmsg, errmsg_size, "proving the lot index: %s",
                    origo_strerror(rc));
        }
        return rc;
    }
    leafset_sort(set);
    return 0;
}

/* v2: the latest lot index note with a quorum, and the checkpoint of the
 * same size (validators sign both together). */
static int notes_v2(ledger *led, MDB_txn *txn,
                    const struct report_request *request, char **note,
                    char **index_note, uint64_t *tree_size, char *errmsg,
                    size_t errmsg_size)
{
    size_t len;
    int rc = ledger_lot_index_latest(led, txn, index_note, &len, tree_size);
    if (rc == 0) {
        rc = ledger_checkpoint_note_at(led, txn, *tree_size, note, &len);
        if (rc != 0) {
            free(*index_note);
            *index_note = NULL;
        }
    }
    if (rc == ORIGO_E_NOTFOUND) {
        set_msg(errmsg, errmsg_size,
                "no lot index note and checkpoint with a quorum of validator "
                "signatures at one tree size yet: a complete report needs "
                "both");
        return rc;
    }
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "reading the signed notes: %s",
                origo_strerror(rc));
        return rc;
    }
    if (request->tree_size != 0 && request->tree_size != *tree_size) {
        set_msg(errmsg, errmsg_size,
                "tree size %llu: the latest cosigned lot index is at %llu, "
                "and reports can only be built against it",
                (unsigned long long)request->tree_size,
                (unsigned long long)*tree_size);
        free(*note);
        free(*index_note);
        *note = *index_note = NULL;
        return ORIGO_E_TREE_SIZE;
    }
    return 0;
}

int report_build(ledger *led, const struct report_request *request, char **json,
                 size_t *json_len, struct trace_result *result, char *errmsg,
                 size_t errmsg_size)
{
    MDB_txn *txn;
    char *note = NULL, *index_note = NULL;
    uint64_t tree_size;
    struct trace_result res;
    struct v2_parts v2 = {0};
    struct leafset set = {0};
    int complete = request->version >= 2;
    origo_buf_init(&v2.proofs, REPORT_MAX_JSON);
    int rc = ledger_txn_begin(led, 1, &txn);
    if (rc != 0) {
        set_msg(errmsg, errmsg_size, "cannot begin a read transaction: %s",
                origo_strerror(rc));
        return rc;
    }
    rc = complete ? notes_v2(led, txn, request, &note, &index_note, &tree_size,
                             errmsg, errmsg_size)
                  : checkpoint_for(led, txn, request, &note, &tree_size, errmsg,
                                   errmsg_size);
    if (rc != 0) {
        goto out_txn;
    }
    rc = run_query(led, txn, request, tree_size, &res, errmsg, errmsg_size);
    if (rc != 0) {
        goto out_note;
    }
    if (complete) {
        if (errmsg && errmsg_size) {
            errmsg[0] = '\0';
        }
        rc = gather_v2(led, txn, request, &res, &v2, &set, errmsg, errmsg_size);
        if (rc != 0) {
            goto out_result;
        }
        /* The report's events: exactly those of the full chains. */
        free(res.events);
        res.events = set.leaves;
        res.event_count = set.count;
        set.leaves = NULL;
        v2.index_note = index_note;
    }
    origo_buf out;
    origo_buf_init(&out, REPORT_MAX_JSON);
    rc = answer_json(led, txn, request, &res, note, complete ? &v2 : NULL, &out,
                     errmsg, errmsg_size);
    if (rc != 0) {
        origo_buf_close(&out);
        goto out_result;
    }
    *json_len = out.len - 1;
    *json = (char *)origo_buf_steal(&out, &out.len);
    if (result != NULL) {
        *result = res;
        memset(&res, 0, sizeof(res));
    }
out_result:
    trace_result_close(&res);
out_note:
    free(note);
    free(index_note);
    free(v2.chains);
    origo_buf_close(&v2.proofs);
    free(set.leaves);
out_txn:
    mdb_txn_abort(txn);
    return rc;
}
