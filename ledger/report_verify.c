/* Offline verifier of trace reports (docs/formats/trace-report.md). It
 * checks the cosigned checkpoint, every inclusion proof and every event
 * signature, then recomputes the trace answer from the included events
 * alone (with the indexer's own edge rules, trace_facts.c) and requires the
 * claimed lots, edges, custodians and holds to be exactly that answer.
 * Needs only liborigo and jansson: no LMDB, so it can move to the SDK. */
#include "report_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <origo/error.h>
#include <origo/file.h>
#include <origo/merkle.h>
#include <sodium.h>

#include "genesis.h"
#include "lotindex.h"
#include "report_authority.h"
#include "trace_facts.h"

#define REPORT_FORMAT_V1 "origo-trace-report/v1"
#define REPORT_FORMAT_V2 "origo-trace-report/v2"
#define DEPTH_ANY UINT32_MAX

/* The facts of one event, compacted: struct trace_facts reserves room for
 * the largest event (about 20 KB), which a report of many events must not
 * keep. Same field names, so the code reads either. One allocation. */
struct vfacts {
    int type, kind;
    struct trace_text from, to;
    size_t lot_count, edge_count, subject_count;
    struct trace_text *lots;
    struct trace_fact_edge *edges;
    uint16_t *subjects;
};

/* One included event. */
struct vevent {
    uint64_t leaf;
    uint64_t block_time; /* v2: the committing block's time (Unix ms) */
    uint8_t *envelope;   /* owned, decoded from base64 */
    size_t envelope_len;
    struct vfacts *facts; /* owned; borrows from envelope */
    int used;
    uint8_t id[32]; /* event ID */
};

/* v2: one (lot, role) of report.index, proven against the index root. */
struct vchain {
    uint32_t lot;
    int role;
    uint64_t count; /* proven */
    uint8_t head[32];
    int full;              /* the query needs all its events included */
    uint64_t have;         /* recomputed from the included events */
    uint8_t have_head[32]; /* likewise */
};

/* A lot of the recomputed graph. */
struct vlot {
    const char *ptr; /* borrowed from an envelope or the JSON */
    size_t len;
    uint32_t depth; /* DEPTH_ANY when not reached */
    uint32_t order; /* BFS order, for the queue */
    size_t adj_first, adj_count;
};

/* An edge of the recomputed graph (lot indexes into vstate.lots). */
struct vedge {
    uint32_t from, to;
    uint64_t leaf;
    uint32_t event; /* index into vstate.events */
};

struct vstate {
    json_t *root;
    char *errbuf;
    size_t errlen;
    const char *origin;
    uint64_t tree_size;
    uint8_t root_hash[32];
    const char *start; /* query.lot */
    size_t start_len;
    int backward, recall, lot_events;
    uint32_t max_depth;
    struct vevent *events;
    size_t event_count;
    struct vlot *lots;
    size_t lot_count, lot_cap;
    uint32_t *slots;
    size_t slot_count;
    struct vedge *edges; /* all edges the events state */
    size_t edge_count, edge_cap;
    uint32_t *adj; /* edge indexes grouped by traversal source */
    uint32_t *queue;
    size_t reached;       /* lots in the answer */
    struct vedge *answer; /* edges explored by the recomputed BFS */
    size_t answer_count;
    struct vedge *claimed; /* report.edges, in the report's order */
    size_t claimed_count;
    int cycle; /* the answer has a cycle (check_cycle) */
    int v2;    /* origo-trace-report/v2: the lot index proves completeness */
    uint8_t index_root[32];
    struct vchain *chains;
    size_t chain_count;
    long *chain_of; /* lot * LOTINDEX_ROLES + role - 1 -> chain, or -1 */
    genesis *gen;   /* v2: the report's genesis */
    uint64_t members_count; /* v2: the membership chain, proven */
    uint8_t members_head[32];
    struct rauth_signer *signers; /* v2: per event, when asked for */
};

/* A lot text for messages: at most 200 bytes, by length (lot texts borrowed
 * from envelopes are not NUL-terminated). */
#define LOT_FMT "\"%.*s\""
#define LOT_ARG(ptr, len) (int)((len) > 200 ? 200 : (len)), (ptr)

static int fail(struct vstate *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct vstate *st, int code, const char *fmt, ...)
{
    if (st->errbuf != NULL && st->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->errbuf, st->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- JSON field access ------------------------------------------------ */

static int get_string(struct vstate *st, const json_t *obj, const char *where,
                      const char *key, const char **out, size_t *len)
{
    const json_t *value = json_object_get(obj, key);
    if (!json_is_string(value)) {
        return fail(st, ORIGO_E_JSON, "%s.%s: expected a string", where, key);
    }
    *out = json_string_value(value);
    if (len != NULL) {
        *len = json_string_length(value);
    }
    return 0;
}

static int get_u64(struct vstate *st, const json_t *obj, const char *where,
                   const char *key, uint64_t *out)
{
    const json_t *value = json_object_get(obj, key);
    if (!json_is_integer(value) || json_integer_value(value) < 0) {
        return fail(st, ORIGO_E_JSON, "%s.%s: expected a non-negative integer",
                    where, key);
    }
    *out = (uint64_t)json_integer_value(value);
    return 0;
}

static int get_bool(struct vstate *st, const json_t *obj, const char *where,
                    const char *key, int *out)
{
    const json_t *value = json_object_get(obj, key);
    if (!json_is_boolean(value)) {
        return fail(st, ORIGO_E_JSON, "%s.%s: expected true or false", where,
                    key);
    }
    *out = json_is_true(value);
    return 0;
}

static int get_array(struct vstate *st, const json_t *obj, const char *where,
                     const char *key, json_t **out)
{
    json_t *value = json_object_get(obj, key);
    if (!json_is_array(value)) {
        return fail(st, ORIGO_E_JSON, "%s.%s: expected an array", where, key);
    }
    *out = value;
    return 0;
}

/* Decodes canonical standard base64 into a malloc()ed buffer. */
static int unbase64(const char *text, size_t len, uint8_t **out,
                    size_t *out_len)
{
    size_t max = len / 4 * 3 + 3;
    uint8_t *bytes = malloc(max ? max : 1);
    const char *end;
    if (bytes == NULL) {
        return ORIGO_E_NOMEM;
    }
    if (sodium_base642bin(bytes, max, text, len, NULL, out_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text + len) {
        free(bytes);
        return ORIGO_E_JSON;
    }
    *out = bytes;
    return 0;
}

/* ---- lot interning ---------------------------------------------------- */

static uint64_t hash_bytes(const char *bytes, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)bytes[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int rehash(struct vstate *st)
{
    size_t count = st->slot_count ? st->slot_count * 2 : 256;
    uint32_t *slots = calloc(count, sizeof(*slots));
    if (slots == NULL) {
        return ORIGO_E_NOMEM;
    }
    for (size_t i = 0; i < st->lot_count; i++) {
        size_t pos = hash_bytes(st->lots[i].ptr, st->lots[i].len) & (count - 1);
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

/* Finds a lot; with `add`, adds it when absent. *index = -1 when absent. */
static int lookup_lot(struct vstate *st, const char *ptr, size_t len, int add,
                      long *index)
{
    if ((st->lot_count + 1) * 2 > st->slot_count) {
        int rc = rehash(st);
        if (rc != 0) {
            return rc;
        }
    }
    size_t mask = st->slot_count - 1;
    size_t pos = hash_bytes(ptr, len) & mask;
    while (st->slots[pos] != 0) {
        const struct vlot *have = &st->lots[st->slots[pos] - 1];
        if (have->len == len && memcmp(have->ptr, ptr, len) == 0) {
            *index = (long)st->slots[pos] - 1;
            return 0;
        }
        pos = (pos + 1) & mask;
    }
    if (!add) {
        *index = -1;
        return 0;
    }
    if (st->lot_count == st->lot_cap) {
        size_t cap = st->lot_cap ? st->lot_cap * 2 : 256;
        struct vlot *lots = realloc(st->lots, cap * sizeof(*lots));
        if (lots == NULL) {
            return ORIGO_E_NOMEM;
        }
        st->lots = lots;
        st->lot_cap = cap;
    }
    st->lots[st->lot_count] = (struct vlot){ptr, len, DEPTH_ANY, 0, 0, 0};
    st->slots[pos] = (uint32_t)st->lot_count + 1;
    *index = (long)st->lot_count++;
    return 0;
}

/* ---- header and checkpoint -------------------------------------------- */

static int check_header(struct vstate *st)
{
    const char *format = NULL;
    const json_t *query = json_object_get(st->root, "query");
    uint64_t depth;
    int rc = get_string(st, st->root, "report", "format", &format, NULL);
    if (rc != 0) {
        return rc;
    }
    st->v2 = strcmp(format, REPORT_FORMAT_V2) == 0;
    if (!st->v2 && strcmp(format, REPORT_FORMAT_V1) != 0) {
        return fail(st, ORIGO_E_VERSION,
                    "report.format: expected \"%s\" or \"%s\", found "
                    "\"%.80s\"",
                    REPORT_FORMAT_V2, REPORT_FORMAT_V1, format);
    }
    if (!json_is_object(query)) {
        return fail(st, ORIGO_E_JSON, "report.query: expected an object");
    }
    const char *direction = NULL;
    if ((rc =
             get_string(st, st->root, "report", "origin", &st->origin, NULL)) ||
        (rc = get_u64(st, st->root, "report", "tree_size", &st->tree_size)) ||
        (rc = get_string(st, query, "query", "lot", &st->start,
                         &st->start_len)) ||
        (rc = get_string(st, query, "query", "direction", &direction, NULL)) ||
        (rc = get_bool(st, query, "query", "recall", &st->recall)) ||
        (rc = get_bool(st, query, "query", "lot_events", &st->lot_events))) {
        return rc;
    }
    if (strcmp(direction, "backward") == 0) {
        st->backward = 1;
    } else if (strcmp(direction, "forward") != 0) {
        return fail(st, ORIGO_E_JSON,
                    "query.direction: expected \"backward\" or \"forward\"");
    }
    if (st->recall && st->backward) {
        return fail(st, ORIGO_E_JSON,
                    "query.recall: a recall scope must be a forward trace");
    }
    if (json_is_null(json_object_get(query, "max_depth"))) {
        st->max_depth = DEPTH_ANY;
    } else if ((rc = get_u64(st, query, "query", "max_depth", &depth))) {
        return rc;
    } else {
        st->max_depth = depth >= DEPTH_ANY ? DEPTH_ANY : (uint32_t)depth;
    }
    return 0;
}

static int check_checkpoint(struct vstate *st, const origo_note_policy *policy,
                            size_t *signers)
{
    const char *text;
    size_t len;
    origo_checkpoint checkpoint;
    origo_note *note;
    origo_note_verdict verdict;
    int rc = get_string(st, st->root, "report", "checkpoint", &text, &len);
    if (rc != 0) {
        return rc;
    }
    rc = origo_checkpoint_open((const uint8_t *)text, len, policy, st->origin,
                               &checkpoint, &note);
    if (rc != 0) {
        return fail(st, rc,
                    "report.checkpoint: %s (expected a checkpoint of origin "
                    "\"%.100s\" signed by a quorum of the trusted validators)",
                    origo_strerror(rc), st->origin);
    }
    rc = origo_note_verify(note, policy, &verdict);
    memcpy(st->root_hash, checkpoint.root, 32);
    uint64_t size = checkpoint.tree_size;
    origo_note_free(note);
    if (rc != 0) {
        return fail(st, rc, "report.checkpoint: %s", origo_strerror(rc));
    }
    if (size != st->tree_size) {
        return fail(st, ORIGO_E_TREE_SIZE,
                    "report.tree_size: %llu, but the checkpoint is for tree "
                    "size %llu",
                    (unsigned long long)st->tree_size,
                    (unsigned long long)size);
    }
    *signers = verdict.signers;
    return 0;
}

/* ---- events ------------------------------------------------------------ */

static int check_proof(struct vstate *st, size_t i, const json_t *hashes,
                       const struct vevent *ev)
{
    uint8_t proof[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t count = json_array_size(hashes);
    uint8_t leaf_hash[ORIGO_HASH_LEN];
    if (count > ORIGO_MERKLE_MAX_PROOF) {
        return fail(st, ORIGO_E_PROOF_SIZE,
                    "events[%zu].proof: %zu hashes, at most %d expected", i,
                    count, ORIGO_MERKLE_MAX_PROOF);
    }
    for (size_t h = 0; h < count; h++) {
        const json_t *item = json_array_get(hashes, h);
        const char *end;
        size_t got;
        if (!json_is_string(item) ||
            sodium_base642bin(proof[h], ORIGO_HASH_LEN, json_string_value(item),
                              json_string_length(item), NULL, &got, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != ORIGO_HASH_LEN ||
            end != json_string_value(item) + json_string_length(item)) {
            return fail(st, ORIGO_E_JSON,
                        "events[%zu].proof[%zu]: expected the base64 of a "
                        "32-byte hash",
                        i, h);
        }
    }
    origo_merkle_leaf_hash(ev->envelope, ev->envelope_len, leaf_hash);
    int rc = origo_merkle_verify_inclusion(ev->leaf, st->tree_size, leaf_hash,
                                           (const uint8_t(*)[32])proof, count,
                                           st->root_hash);
    if (rc != 0) {
        return fail(st, rc,
                    "events[%zu].proof: %s (leaf %llu against the "
                    "checkpoint's root at tree size %llu)",
                    i, origo_strerror(rc), (unsigned long long)ev->leaf,
                    (unsigned long long)st->tree_size);
    }
    return 0;
}

static struct vfacts *compact_facts(const struct trace_facts *full)
{
    size_t lots = full->lot_count * sizeof(struct trace_text);
    size_t edges = full->edge_count * sizeof(struct trace_fact_edge);
    size_t subjects = full->subject_count * sizeof(uint16_t);
    struct vfacts *facts = malloc(sizeof(*facts) + lots + edges + subjects);
    if (facts == NULL) {
        return NULL;
    }
    facts->type = full->type;
    facts->kind = full->kind;
    facts->from = full->from;
    facts->to = full->to;
    facts->lot_count = full->lot_count;
    facts->edge_count = full->edge_count;
    facts->subject_count = full->subject_count;
    facts->lots = (struct trace_text *)(facts + 1);
    facts->edges = (struct trace_fact_edge *)((char *)facts->lots + lots);
    facts->subjects = (uint16_t *)((char *)facts->edges + edges);
    memcpy(facts->lots, full->lots, lots);
    memcpy(facts->edges, full->edges, edges);
    memcpy(facts->subjects, full->subjects, subjects);
    return facts;
}

static int check_event(struct vstate *st, size_t i, const json_t *item,
                       struct vevent *ev)
{
    char where[64];
    const char *text;
    size_t len;
    json_t *hashes = NULL;
    int rc;
    snprintf(where, sizeof(where), "events[%zu]", i);
    if (!json_is_object(item)) {
        return fail(st, ORIGO_E_JSON, "%s: expected an object", where);
    }
    if ((rc = get_u64(st, item, where, "leaf", &ev->leaf)) ||
        (st->v2 &&
         (rc = get_u64(st, item, where, "block_time", &ev->block_time))) ||
        (rc = get_string(st, item, where, "envelope", &text, &len)) ||
        (rc = get_array(st, item, where, "proof", &hashes))) {
        return rc;
    }
    if (ev->leaf >= st->tree_size) {
        return fail(st, ORIGO_E_TREE_SIZE,
                    "%s.leaf: %llu, expected below the tree size %llu", where,
                    (unsigned long long)ev->leaf,
                    (unsigned long long)st->tree_size);
    }
    if (i > 0 && ev->leaf <= st->events[i - 1].leaf) {
        return fail(st, ORIGO_E_JSON,
                    "%s.leaf: %llu, expected events in strictly increasing "
                    "leaf order",
                    where, (unsigned long long)ev->leaf);
    }
    rc = unbase64(text, len, &ev->envelope, &ev->envelope_len);
    if (rc != 0) {
        return fail(st, rc, "%s.envelope: expected standard padded base64",
                    where);
    }
    if ((rc = check_proof(st, i, hashes, ev))) {
        return rc;
    }
    struct trace_facts *scratch = malloc(sizeof(*scratch));
    if (scratch == NULL) {
        return fail(st, ORIGO_E_NOMEM, "%s: out of memory", where);
    }
    rc = trace_facts_from_envelope(ev->envelope, ev->envelope_len, st->origin,
                                   strlen(st->origin), scratch, ev->id);
    if (rc != 0) {
        free(scratch);
        return fail(st, rc,
                    "%s.envelope: %s (expected an event of network "
                    "\"%.100s\" strictly signed by its submitter)",
                    where, origo_strerror(rc), st->origin);
    }
    ev->facts = compact_facts(scratch);
    free(scratch);
    if (ev->facts == NULL) {
        return fail(st, ORIGO_E_NOMEM, "%s: out of memory", where);
    }
    return 0;
}

static int load_events(struct vstate *st)
{
    json_t *events = NULL;
    int rc = get_array(st, st->root, "report", "events", &events);
    if (rc != 0) {
        return rc;
    }
    st->event_count = json_array_size(events);
    st->events =
        calloc(st->event_count ? st->event_count : 1, sizeof(*st->events));
    if (st->events == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.events: out of memory");
    }
    for (size_t i = 0; i < st->event_count; i++) {
        rc = check_event(st, i, json_array_get(events, i), &st->events[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- recomputing the answer -------------------------------------------- */

static int add_vedge(struct vstate *st, uint32_t from, uint32_t to,
                     uint64_t leaf, uint32_t event)
{
    if (st->edge_count == st->edge_cap) {
        size_t cap = st->edge_cap ? st->edge_cap * 2 : 256;
        struct vedge *edges = realloc(st->edges, cap * sizeof(*edges));
        if (edges == NULL) {
            return ORIGO_E_NOMEM;
        }
        st->edges = edges;
        st->edge_cap = cap;
    }
    st->edges[st->edge_count++] = (struct vedge){from, to, leaf, event};
    return 0;
}

/* Interns every lot the events name and collects the edges they state. */
static int build_graph(struct vstate *st)
{
    long start;
    int rc = lookup_lot(st, st->start, st->start_len, 1, &start);
    for (size_t e = 0; e < st->event_count && rc == 0; e++) {
        const struct vfacts *facts = st->events[e].facts;
        long ids[TRACE_FACTS_MAX_LOTS];
        for (size_t l = 0; l < facts->lot_count && rc == 0; l++) {
            rc = lookup_lot(st, facts->lots[l].ptr, facts->lots[l].len, 1,
                            &ids[l]);
        }
        for (size_t k = 0; k < facts->edge_count && rc == 0; k++) {
            rc = add_vedge(st, (uint32_t)ids[facts->edges[k].from],
                           (uint32_t)ids[facts->edges[k].to],
                           st->events[e].leaf, (uint32_t)e);
        }
    }
    if (rc != 0) {
        return fail(st, rc, "recomputing the answer: %s", origo_strerror(rc));
    }
    return 0;
}

static uint32_t source_of(const struct vstate *st, const struct vedge *edge)
{
    return st->backward ? edge->to : edge->from;
}

static uint32_t target_of(const struct vstate *st, const struct vedge *edge)
{
    return st->backward ? edge->from : edge->to;
}

static int build_adjacency(struct vstate *st)
{
    st->adj = malloc((st->edge_count ? st->edge_count : 1) * sizeof(uint32_t));
    if (st->adj == NULL) {
        return ORIGO_E_NOMEM;
    }
    for (size_t e = 0; e < st->edge_count; e++) {
        st->lots[source_of(st, &st->edges[e])].adj_count++;
    }
    size_t pos = 0;
    for (size_t l = 0; l < st->lot_count; l++) {
        st->lots[l].adj_first = pos;
        pos += st->lots[l].adj_count;
        st->lots[l].adj_count = 0;
    }
    for (size_t e = 0; e < st->edge_count; e++) {
        struct vlot *lot = &st->lots[source_of(st, &st->edges[e])];
        st->adj[lot->adj_first + lot->adj_count++] = (uint32_t)e;
    }
    return 0;
}

/* The same breadth-first traversal as trace_query_run(), over the graph of
 * the included events only. */
static int recompute(struct vstate *st)
{
    int rc = build_adjacency(st);
    if (rc != 0) {
        return fail(st, rc, "recomputing the answer: out of memory");
    }
    st->queue = malloc(st->lot_count * sizeof(uint32_t));
    st->answer =
        malloc((st->edge_count ? st->edge_count : 1) * sizeof(struct vedge));
    if (st->queue == NULL || st->answer == NULL) {
        return fail(st, ORIGO_E_NOMEM, "recomputing the answer: out of memory");
    }
    st->lots[0].depth = 0; /* the start lot was interned first */
    st->queue[st->reached++] = 0;
    for (size_t next = 0; next < st->reached; next++) {
        struct vlot *lot = &st->lots[st->queue[next]];
        if (lot->depth >= st->max_depth) {
            continue;
        }
        for (size_t k = 0; k < lot->adj_count; k++) {
            const struct vedge *edge = &st->edges[st->adj[lot->adj_first + k]];
            struct vlot *other = &st->lots[target_of(st, edge)];
            st->answer[st->answer_count++] = *edge;
            st->events[edge->event].used = 1;
            if (other->depth == DEPTH_ANY) {
                other->depth = lot->depth + 1;
                other->order = (uint32_t)st->reached;
                st->queue[st->reached++] = target_of(st, edge);
            }
        }
    }
    return 0;
}

/* ---- comparing claims with the recomputed answer ----------------------- */

static int check_lots(struct vstate *st, const json_t *lots)
{
    size_t count = json_array_size(lots);
    uint8_t *seen = calloc(st->lot_count ? st->lot_count : 1, 1);
    int rc = 0;
    if (seen == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.lots: out of memory");
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        const json_t *item = json_array_get(lots, i);
        char where[64];
        const char *text;
        size_t len;
        uint64_t depth;
        long index;
        snprintf(where, sizeof(where), "lots[%zu]", i);
        if (!json_is_object(item)) {
            rc = fail(st, ORIGO_E_JSON, "%s: expected an object", where);
            break;
        }
        if ((rc = get_string(st, item, where, "lot", &text, &len)) ||
            (rc = get_u64(st, item, where, "depth", &depth)) ||
            (rc = lookup_lot(st, text, len, 0, &index))) {
            break;
        }
        if (index < 0 || st->lots[index].depth == DEPTH_ANY) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "%s.lot: " LOT_FMT " is not reached by the edges of the "
                      "included events",
                      where, LOT_ARG(text, len));
        } else if ((i == 0) != (index == 0)) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "%s.lot: " LOT_FMT "; expected the query's lot first, "
                      "and only there",
                      where, LOT_ARG(text, len));
        } else if (seen[index]) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "%s.lot: " LOT_FMT " listed twice", where,
                      LOT_ARG(text, len));
        } else if (depth != st->lots[index].depth) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "%s.depth: %llu, but the events put " LOT_FMT " at depth "
                      "%u",
                      where, (unsigned long long)depth, LOT_ARG(text, len),
                      st->lots[index].depth);
        } else {
            seen[index] = 1;
        }
    }
    free(seen);
    if (rc == 0 && count != st->reached) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "report.lots: %zu lots claimed, but the included events "
                  "imply %zu",
                  count, st->reached);
    }
    return rc;
}

static int cmp_vedge(const void *a, const void *b)
{
    const struct vedge *x = a, *y = b;
    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }
    if (x->to != y->to) {
        return x->to < y->to ? -1 : 1;
    }
    return (x->leaf > y->leaf) - (x->leaf < y->leaf);
}

static int claimed_edge(struct vstate *st, size_t i, const json_t *item,
                        struct vedge *out)
{
    char where[64];
    const char *from, *to;
    size_t from_len, to_len;
    long from_index, to_index;
    int rc;
    snprintf(where, sizeof(where), "edges[%zu]", i);
    if (!json_is_object(item)) {
        return fail(st, ORIGO_E_JSON, "%s: expected an object", where);
    }
    if ((rc = get_string(st, item, where, "from", &from, &from_len)) ||
        (rc = get_string(st, item, where, "to", &to, &to_len)) ||
        (rc = get_u64(st, item, where, "leaf", &out->leaf)) ||
        (rc = lookup_lot(st, from, from_len, 0, &from_index)) ||
        (rc = lookup_lot(st, to, to_len, 0, &to_index))) {
        return rc;
    }
    if (from_index < 0 || to_index < 0) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "%s: no included event names both " LOT_FMT " and " LOT_FMT,
                    where, LOT_ARG(from, from_len), LOT_ARG(to, to_len));
    }
    out->from = (uint32_t)from_index;
    out->to = (uint32_t)to_index;
    out->event = 0;
    return 0;
}

static int check_edges(struct vstate *st, const json_t *edges)
{
    size_t count = json_array_size(edges);
    struct vedge *claimed = malloc((count ? count : 1) * sizeof(*claimed));
    int rc = 0;
    if (claimed == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.edges: out of memory");
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = claimed_edge(st, i, json_array_get(edges, i), &claimed[i]);
    }
    /* A claimed edge that no included event states is named first: it is
     * the claim a reader must not believe. */
    qsort(st->answer, st->answer_count, sizeof(*st->answer), cmp_vedge);
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (bsearch(&claimed[i], st->answer, st->answer_count,
                    sizeof(*st->answer), cmp_vedge) == NULL) {
            const struct vlot *from = &st->lots[claimed[i].from];
            const struct vlot *to = &st->lots[claimed[i].to];
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "report.edges[%zu]: the edge " LOT_FMT " -> " LOT_FMT
                      " (leaf %llu) does not follow from the included events "
                      "(docs/formats/trace-report.md, \"Trace semantics\", "
                      "lists the events that state edges)",
                      i, LOT_ARG(from->ptr, from->len),
                      LOT_ARG(to->ptr, to->len),
                      (unsigned long long)claimed[i].leaf);
        }
    }
    if (rc == 0 && count != st->answer_count) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "report.edges: %zu edges claimed, but the included events "
                  "imply %zu",
                  count, st->answer_count);
    }
    struct vedge *sorted = NULL;
    if (rc == 0) {
        sorted = malloc((count ? count : 1) * sizeof(*sorted));
        if (sorted == NULL) {
            rc = fail(st, ORIGO_E_NOMEM, "report.edges: out of memory");
        }
    }
    if (rc == 0) {
        memcpy(sorted, claimed, count * sizeof(*sorted));
        qsort(sorted, count, sizeof(*sorted), cmp_vedge);
        qsort(st->answer, count, sizeof(*sorted), cmp_vedge);
        for (size_t i = 0; i < count && rc == 0; i++) {
            if (cmp_vedge(&sorted[i], &st->answer[i]) != 0) {
                /* Lot texts borrow from envelopes: not NUL-terminated. */
                const struct vlot *from = &st->lots[st->answer[i].from];
                const struct vlot *to = &st->lots[st->answer[i].to];
                rc = fail(st, ORIGO_E_REPORT_CLAIM,
                          "report.edges: the events imply the edge " LOT_FMT
                          " -> " LOT_FMT " (leaf %llu), which the report does "
                          "not list as such",
                          LOT_ARG(from->ptr, from->len),
                          LOT_ARG(to->ptr, to->len),
                          (unsigned long long)st->answer[i].leaf);
            }
        }
    }
    free(sorted);
    if (rc != 0) {
        free(claimed);
        return rc;
    }
    st->claimed = claimed;
    st->claimed_count = count;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The ends of report.edges[e] in traversal direction, for
 * trace_facts_back_edges(): the builder's own code finds the back edges, a
 * depth-first search from the start lot (interned first) over the answer's
 * edges in report order. */
static void claimed_edge_ends(const void *ctx, size_t e, uint32_t *source,
                              uint32_t *target)
{
    const struct vstate *st = ctx;
    *source = source_of(st, &st->claimed[e]);
    *target = target_of(st, &st->claimed[e]);
}

/* report.cycle_edges must list exactly the back edges of the answer (in any
 * order), and report.cycle says whether there is one. */
static int check_cycle(struct vstate *st)
{
    int claimed = 0;
    json_t *cycle_edges = NULL;
    uint32_t *found = NULL, *listed = NULL;
    size_t found_count = 0;
    int rc = get_bool(st, st->root, "report", "cycle", &claimed);
    if (rc == 0) {
        rc = get_array(st, st->root, "report", "cycle_edges", &cycle_edges);
    }
    if (rc != 0) {
        return rc;
    }
    size_t count = json_array_size(cycle_edges);
    listed = malloc((count ? count : 1) * sizeof(*listed));
    if (listed == NULL ||
        trace_facts_back_edges(st->lot_count, st->claimed_count,
                               claimed_edge_ends, st, &found,
                               &found_count) != 0) {
        free(listed);
        return fail(st, ORIGO_E_NOMEM, "report.cycle: out of memory");
    }
    st->cycle = found_count > 0;
    if (st->cycle != claimed) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "report.cycle: %s, but the included events %s a cycle",
                  claimed ? "true" : "false",
                  st->cycle ? "form" : "do not form");
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        const json_t *item = json_array_get(cycle_edges, i);
        if (!json_is_integer(item) || json_integer_value(item) < 0 ||
            (size_t)json_integer_value(item) >= st->claimed_count) {
            rc = fail(st, ORIGO_E_JSON,
                      "report.cycle_edges[%zu]: expected an index into edges",
                      i);
        } else {
            listed[i] = (uint32_t)json_integer_value(item);
        }
    }
    if (rc == 0 && count > 1) {
        qsort(listed, count, sizeof(*listed), cmp_u32);
    }
    if (rc == 0 && found_count > 1) {
        qsort(found, found_count, sizeof(*found), cmp_u32);
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (i > 0 && listed[i] == listed[i - 1]) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "report.cycle_edges: edge %u listed twice", listed[i]);
        } else if (i >= found_count || listed[i] != found[i]) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "report.cycle_edges: edge %u does not close a cycle "
                      "(expected the %zu edges that lead back onto the "
                      "depth-first path from the start lot)",
                      listed[i], found_count);
        }
    }
    if (rc == 0 && count != found_count) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "report.cycle_edges: %zu listed, but %zu edges close a "
                  "cycle",
                  count, found_count);
    }
    free(found);
    free(listed);
    return rc;
}

/* report.depth_limited must be true exactly when an included event states
 * an edge leading on (in the query's direction) from a lot at the depth
 * limit: the builder includes one such event as evidence, and such events
 * count as used. */
static int check_depth_limited(struct vstate *st)
{
    int claimed = 0, limited = 0;
    int rc = get_bool(st, st->root, "report", "depth_limited", &claimed);
    if (rc != 0) {
        return rc;
    }
    for (size_t e = 0; e < st->edge_count; e++) {
        const struct vlot *lot = &st->lots[source_of(st, &st->edges[e])];
        if (st->max_depth != DEPTH_ANY && lot->depth != DEPTH_ANY &&
            lot->depth >= st->max_depth) {
            limited = 1;
            st->events[st->edges[e].event].used = 1;
        }
    }
    if (limited != claimed) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "report.depth_limited: %s, but %s",
                    claimed ? "true" : "false",
                    limited ? "an included event states an edge beyond the "
                              "depth limit"
                            : "no included event states an edge beyond the "
                              "depth limit");
    }
    return 0;
}

/* ---- recall scope ------------------------------------------------------ */

/* A hold-kind event on a lot, for replay in leaf order. */
struct vhold {
    uint32_t lot;
    uint32_t event;
};

static int cmp_vhold(const void *a, const void *b)
{
    const struct vhold *x = a, *y = b;
    if (x->lot != y->lot) {
        return x->lot < y->lot ? -1 : 1;
    }
    return (x->event > y->event) - (x->event < y->event);
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {NULL,   "ship",    "receive",
                                        "hold", "release", "recall"};
    return kind >= 1 && kind <= 5 ? names[kind] : "?";
}

static int text_equal(const char *text, size_t len, const struct trace_text *t)
{
    return len == t->len && memcmp(text, t->ptr, len) == 0;
}

/* Compares lots[i].custody with the last custody event of the lot. */
static int check_custody(struct vstate *st, size_t i, const json_t *item,
                         long last)
{
    char where[64];
    const json_t *custody = json_object_get(item, "custody");
    snprintf(where, sizeof(where), "lots[%zu].custody", i);
    if (last < 0) {
        if (custody != NULL) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "%s: no included custody event names this lot", where);
        }
        return 0;
    }
    const struct vevent *ev = &st->events[last];
    uint64_t leaf;
    const char *kind = "", *from = "", *to = "";
    size_t from_len, to_len;
    int rc;
    if (!json_is_object(custody)) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "%s: missing, but event at leaf %llu is a custody event "
                    "of this lot",
                    where, (unsigned long long)ev->leaf);
    }
    if ((rc = get_u64(st, custody, where, "leaf", &leaf)) ||
        (rc = get_string(st, custody, where, "kind", &kind, NULL)) ||
        (rc = get_string(st, custody, where, "from", &from, &from_len)) ||
        (rc = get_string(st, custody, where, "to", &to, &to_len))) {
        return rc;
    }
    if (leaf != ev->leaf || strcmp(kind, kind_name(ev->facts->kind)) != 0 ||
        !text_equal(from, from_len, &ev->facts->from) ||
        !text_equal(to, to_len, &ev->facts->to)) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "%s: expected the last custody event, leaf %llu (%s), "
                    "with its from and to",
                    where, (unsigned long long)ev->leaf,
                    kind_name(ev->facts->kind));
    }
    return 0;
}

/* Replays the lot's hold events (hold/recall add, release lifts holds
 * placed before it) and compares the result with lots[i].holds. */
static int check_holds(struct vstate *st, size_t i, const json_t *item,
                       const struct vhold *holds, size_t count)
{
    char where[64];
    size_t n = 0, settled = 0;
    json_t *claimed = NULL;
    int rc;
    snprintf(where, sizeof(where), "lots[%zu]", i);
    if ((rc = get_array(st, item, where, "holds", &claimed))) {
        return rc;
    }
    uint32_t *list = malloc((count ? count : 1) * sizeof(uint32_t));
    if (list == NULL) {
        return fail(st, ORIGO_E_NOMEM, "%s.holds: out of memory", where);
    }
    for (size_t h = 0; h < count; h++) {
        int kind = st->events[holds[h].event].facts->kind;
        if (kind == TRACE_RELEASE) {
            /* list[0, settled) are recalls an earlier release kept. */
            size_t keep = settled;
            for (size_t k = settled; k < n; k++) {
                if (st->events[list[k]].facts->kind == TRACE_RECALL) {
                    list[keep++] = list[k];
                }
            }
            n = settled = keep;
        } else {
            list[n++] = holds[h].event;
        }
    }
    if (json_array_size(claimed) != n) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "%s.holds: %zu claimed, but the included events leave %zu "
                  "in force",
                  where, json_array_size(claimed), n);
    }
    for (size_t k = 0; k < n && rc == 0; k++) {
        const json_t *hold = json_array_get(claimed, k);
        const struct vevent *ev = &st->events[list[k]];
        uint64_t leaf = 0;
        const char *kind = "";
        snprintf(where, sizeof(where), "lots[%zu].holds[%zu]", i, k);
        if (!json_is_object(hold) ||
            (rc = get_u64(st, hold, where, "leaf", &leaf)) ||
            (rc = get_string(st, hold, where, "kind", &kind, NULL))) {
            rc = rc ? rc
                    : fail(st, ORIGO_E_JSON, "%s: expected an object", where);
            break;
        }
        if (leaf != ev->leaf || strcmp(kind, kind_name(ev->facts->kind))) {
            rc = fail(st, ORIGO_E_REPORT_CLAIM,
                      "%s: expected the %s at leaf %llu", where,
                      kind_name(ev->facts->kind), (unsigned long long)ev->leaf);
        }
    }
    free(list);
    return rc;
}

/* Collects, per reached lot, its last custody event and its hold events. */
static int collect_recall(struct vstate *st, long *last_custody,
                          struct vhold **holds_out, size_t *hold_count)
{
    size_t cap = 0, n = 0;
    struct vhold *holds = NULL;
    for (size_t l = 0; l < st->lot_count; l++) {
        last_custody[l] = -1;
    }
    for (size_t e = 0; e < st->event_count; e++) {
        const struct vfacts *facts = st->events[e].facts;
        for (size_t s = 0; s < facts->subject_count; s++) {
            const struct trace_text *t = &facts->lots[facts->subjects[s]];
            long lot;
            int rc = lookup_lot(st, t->ptr, t->len, 0, &lot);
            if (rc != 0) {
                free(holds);
                return rc;
            }
            if (lot < 0 || st->lots[lot].depth == DEPTH_ANY) {
                continue;
            }
            if (facts->kind == TRACE_CUSTODY_SHIP ||
                facts->kind == TRACE_CUSTODY_RECEIVE) {
                last_custody[lot] = (long)e; /* events ascend by leaf */
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct vhold *more = realloc(holds, cap * sizeof(*holds));
                if (more == NULL) {
                    free(holds);
                    return ORIGO_E_NOMEM;
                }
                holds = more;
            }
            holds[n++] = (struct vhold){(uint32_t)lot, (uint32_t)e};
            st->events[e].used = 1;
        }
    }
    if (n > 1) {
        qsort(holds, n, sizeof(*holds), cmp_vhold);
    }
    for (size_t l = 0; l < st->lot_count; l++) {
        if (last_custody[l] >= 0) {
            st->events[last_custody[l]].used = 1;
        }
    }
    *holds_out = holds;
    *hold_count = n;
    return 0;
}

/* Index of the first of `holds` (sorted by lot) on `lot`, or `count`:
 * a binary search, so a recall check is O((lots + holds) log holds). */
static size_t first_hold(const struct vhold *holds, size_t count, uint32_t lot)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (holds[mid].lot < lot) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    return low;
}

static int check_recall(struct vstate *st, const json_t *lots,
                        size_t *hold_total)
{
    long *last = malloc(st->lot_count * sizeof(long));
    struct vhold *holds = NULL;
    size_t hold_count = 0;
    int rc =
        last ? collect_recall(st, last, &holds, &hold_count) : ORIGO_E_NOMEM;
    if (rc != 0) {
        free(last);
        return fail(st, rc, "report.lots: %s", origo_strerror(rc));
    }
    *hold_total = 0;
    for (size_t i = 0; i < json_array_size(lots) && rc == 0; i++) {
        const json_t *item = json_array_get(lots, i);
        const json_t *name = json_object_get(item, "lot");
        long lot;
        rc = lookup_lot(st, json_string_value(name), json_string_length(name),
                        0, &lot);
        if (rc != 0) {
            break;
        }
        size_t first = first_hold(holds, hold_count, (uint32_t)lot);
        size_t end = first;
        while (end < hold_count && holds[end].lot == (uint32_t)lot) {
            end++;
        }
        rc = check_custody(st, i, item, last[lot]);
        if (rc == 0) {
            rc = check_holds(st, i, item, holds != NULL ? holds + first : NULL,
                             end - first);
        }
        if (rc == 0) {
            *hold_total += json_array_size(json_object_get(item, "holds"));
        }
    }
    free(holds);
    free(last);
    return rc;
}

static int check_no_recall_fields(struct vstate *st, const json_t *lots)
{
    for (size_t i = 0; i < json_array_size(lots); i++) {
        const json_t *item = json_array_get(lots, i);
        if (json_object_get(item, "custody") ||
            json_object_get(item, "holds")) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "lots[%zu]: custody or holds in a report whose query "
                        "is not a recall scope",
                        i);
        }
    }
    return 0;
}

/* With lot_events every event naming a lot of the answer belongs. */
static int mark_lot_events(struct vstate *st)
{
    for (size_t e = 0; e < st->event_count; e++) {
        const struct vfacts *facts = st->events[e].facts;
        for (size_t l = 0; l < facts->lot_count; l++) {
            long lot;
            int rc =
                lookup_lot(st, facts->lots[l].ptr, facts->lots[l].len, 0, &lot);
            if (rc != 0) {
                return fail(st, rc, "report.events: out of memory");
            }
            if (lot >= 0 && st->lots[lot].depth != DEPTH_ANY) {
                st->events[e].used = 1;
            }
        }
    }
    return 0;
}

static int check_all_used(struct vstate *st)
{
    for (size_t e = 0; e < st->event_count; e++) {
        if (!st->events[e].used) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "events[%zu] (leaf %llu): not behind any lot, edge, "
                        "custodian or hold of the answer",
                        e, (unsigned long long)st->events[e].leaf);
        }
    }
    return 0;
}

/* ---- v2: completeness from the lot index ------------------------------ */

/* report.index_note: a note signed by a quorum of the trusted validators
 * binding this origin, tree size and checkpoint root to an index root
 * (docs/formats/lot-index.md, "The index note"). */
static int check_index_note(struct vstate *st, const origo_note_policy *policy)
{
    const char *text;
    size_t len;
    origo_note *note = NULL;
    origo_note_verdict verdict;
    char origin[300];
    uint64_t size;
    uint8_t log_root[32];
    int rc = get_string(st, st->root, "report", "index_note", &text, &len);
    if (rc != 0) {
        return rc;
    }
    rc = origo_note_parse((const uint8_t *)text, len, &note);
    if (rc == 0) {
        rc = origo_note_verify(note, policy, &verdict);
    }
    if (rc != 0) {
        origo_note_free(note);
        return fail(st, rc,
                    "report.index_note: %s (expected a lot index note signed "
                    "by a quorum of the trusted validators)",
                    origo_strerror(rc));
    }
    rc = lotindex_note_parse(note->text, note->text_len, origin, sizeof(origin),
                             &size, log_root, st->index_root);
    origo_note_free(note);
    if (rc != 0) {
        return fail(st, rc,
                    "report.index_note: not a lot index note body (\"origo "
                    "lot index v1\", origin, size, log root, index root)");
    }
    if (strcmp(origin, st->origin) != 0 || size != st->tree_size ||
        memcmp(log_root, st->root_hash, 32) != 0) {
        return fail(st, ORIGO_E_CHECKPOINT,
                    "report.index_note: for origin \"%.100s\" at tree size "
                    "%llu, expected the report's origin, tree size %llu and "
                    "the checkpoint's root (an index root of another tree)",
                    origin, (unsigned long long)size,
                    (unsigned long long)st->tree_size);
    }
    return 0;
}

/* A JSON string of 32 bytes in base64 (`what` names it in errors). */
static int hash_value(struct vstate *st, const json_t *value, const char *what,
                      uint8_t out[32])
{
    const char *text = json_string_value(value);
    size_t got = 0;
    if (text == NULL ||
        sodium_base642bin(out, 32, text, json_string_length(value), NULL, &got,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != 32) {
        return fail(st, ORIGO_E_JSON, "%s: expected 32 bytes in base64", what);
    }
    return 0;
}

static int get_hash(struct vstate *st, const json_t *obj, const char *where,
                    const char *key, uint8_t out[32])
{
    char what[96];
    snprintf(what, sizeof(what), "%s.%s", where, key);
    return hash_value(st, json_object_get(obj, key), what, out);
}

/* Reads the proof members of `item` (siblings, end, count, head,
 * other_key) into *p. */
static int read_proof(struct vstate *st, const json_t *item, const char *where,
                      lotindex_proof *p)
{
    const char *end = "";
    json_t *siblings = NULL;
    int rc;
    if ((rc = get_string(st, item, where, "end", &end, NULL)) ||
        (rc = get_array(st, item, where, "siblings", &siblings))) {
        return rc;
    }
    p->end = !strcmp(end, "empty")   ? LOTINDEX_END_EMPTY
             : !strcmp(end, "leaf")  ? LOTINDEX_END_LEAF
             : !strcmp(end, "other") ? LOTINDEX_END_OTHER
                                     : -1;
    if (p->end < 0 || json_array_size(siblings) > LOTINDEX_MAX_DEPTH) {
        return fail(st, ORIGO_E_JSON,
                    "%s: expected end empty, leaf or other and at most %d "
                    "siblings",
                    where, LOTINDEX_MAX_DEPTH);
    }
    p->depth = (unsigned)json_array_size(siblings);
    for (unsigned k = 0; k < p->depth; k++) {
        char sw[96];
        snprintf(sw, sizeof(sw), "%s.siblings[%u]", where, k);
        if ((rc = hash_value(st, json_array_get(siblings, k), sw,
                             p->siblings[k]))) {
            return rc;
        }
    }
    if (p->end != LOTINDEX_END_EMPTY &&
        ((rc = get_u64(st, item, where, "count", &p->count)) ||
         (rc = get_hash(st, item, where, "head", p->head)))) {
        return rc;
    }
    if (p->end == LOTINDEX_END_OTHER &&
        (rc = get_hash(st, item, where, "other_key", p->other_key))) {
        return rc;
    }
    return 0;
}

/* Reads report.index[i] into a proof and checks it against the index
 * root. */
static int check_index_proof(struct vstate *st, size_t i, const json_t *item,
                             struct vchain *chain)
{
    char where[64];
    const char *lot_text = NULL, *role_name = "";
    size_t lot_len = 0;
    lotindex_proof *p = calloc(1, sizeof(*p));
    int rc;
    snprintf(where, sizeof(where), "index[%zu]", i);
    if (p == NULL) {
        return fail(st, ORIGO_E_NOMEM, "%s: out of memory", where);
    }
    if (!json_is_object(item)) {
        rc = fail(st, ORIGO_E_JSON, "%s: expected an object", where);
        goto out;
    }
    if ((rc = get_string(st, item, where, "lot", &lot_text, &lot_len)) ||
        (rc = get_string(st, item, where, "role", &role_name, NULL))) {
        goto out;
    }
    chain->role = lotindex_role_parse(role_name);
    long lot = -1;
    if (chain->role == 0) {
        rc =
            fail(st, ORIGO_E_JSON,
                 "%s.role: expected in, out, custody, quality or other", where);
        goto out;
    }
    if ((rc = lookup_lot(st, lot_text, lot_len, 0, &lot)) != 0) {
        rc = fail(st, rc, "%s: out of memory", where);
        goto out;
    }
    if (lot < 0 || st->lots[lot].depth == DEPTH_ANY) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "%s.lot: " LOT_FMT " is not a lot of the answer", where,
                  LOT_ARG(lot_text, lot_len));
        goto out;
    }
    chain->lot = (uint32_t)lot;
    if ((rc = read_proof(st, item, where, p))) {
        goto out;
    }
    uint8_t key[32];
    lotindex_key(chain->role, lot_text, lot_len, key);
    if (lotindex_proof_verify(p, key, st->index_root, &chain->count,
                              chain->head) != 0) {
        rc = fail(st, ORIGO_E_PROOF,
                  "%s: the proof of (" LOT_FMT ", %s) does not verify "
                  "against the index root of the index note",
                  where, LOT_ARG(lot_text, lot_len), role_name);
    }
out:
    free(p);
    return rc;
}

/* v2: the genesis the report carries, bound by the membership chain's
 * first element, and the membership chain's proof. */
static int check_members(struct vstate *st)
{
    const char *text;
    size_t len, got = 0;
    const json_t *members = json_object_get(st->root, "members");
    int rc = get_string(st, st->root, "report", "genesis", &text, &len);
    if (rc != 0) {
        return rc;
    }
    uint8_t *json = malloc(len + 1);
    if (json == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.genesis: out of memory");
    }
    char inner[200] = "";
    if (sodium_base642bin(json, len + 1, text, len, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        rc = fail(st, ORIGO_E_JSON,
                  "report.genesis: expected the genesis file in base64");
    } else if ((rc = genesis_parse(json, got, &st->gen, inner,
                                   sizeof(inner))) != 0) {
        rc = fail(st, rc, "report.genesis: %s", inner);
    } else if (strcmp(st->gen->origin, st->origin) != 0) {
        rc = fail(st, ORIGO_E_ORIGIN,
                  "report.genesis: origin \"%.100s\", expected the report's",
                  st->gen->origin);
    }
    free(json);
    if (rc != 0) {
        return rc;
    }
    if (!json_is_object(members)) {
        return fail(st, ORIGO_E_JSON, "report.members: expected an object");
    }
    lotindex_proof *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.members: out of memory");
    }
    uint8_t key[32], seed[32];
    lotindex_key(LOTINDEX_MEMBERS, "", 0, key);
    rc = read_proof(st, members, "members", p);
    if (rc == 0 &&
        lotindex_proof_verify(p, key, st->index_root, &st->members_count,
                              st->members_head) != 0) {
        rc = fail(st, ORIGO_E_PROOF,
                  "report.members: the proof of the membership chain does "
                  "not verify against the index root of the index note");
    }
    free(p);
    lotindex_members_seed(st->gen->hash, seed);
    if (rc == 0 && st->members_count == 0) {
        rc = fail(st, ORIGO_E_REPORT_CLAIM,
                  "report.members: the lot index has no membership chain");
    }
    return rc;
}

/* Every chain the query needs is proven, each full chain holds exactly the
 * included events that are in it (so none was left out, added, reordered
 * or repeated), every included event is in one, and depth_limited is true
 * exactly when a lot at the limit has events beyond it. */
static int check_index(struct vstate *st)
{
    json_t *index = NULL;
    int rc = get_array(st, st->root, "report", "index", &index);
    if (rc != 0) {
        return rc;
    }
    st->chain_count = json_array_size(index);
    st->chains =
        calloc(st->chain_count ? st->chain_count : 1, sizeof(*st->chains));
    st->chain_of = malloc(st->lot_count * LOTINDEX_ROLES * sizeof(long));
    if (st->chains == NULL || st->chain_of == NULL) {
        return fail(st, ORIGO_E_NOMEM, "report.index: out of memory");
    }
    for (size_t k = 0; k < st->lot_count * LOTINDEX_ROLES; k++) {
        st->chain_of[k] = -1;
    }
    for (size_t i = 0; i < st->chain_count; i++) {
        struct vchain *c = &st->chains[i];
        if ((rc = check_index_proof(st, i, json_array_get(index, i), c))) {
            return rc;
        }
        long *slot = &st->chain_of[c->lot * LOTINDEX_ROLES + c->role - 1];
        if (*slot >= 0) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "index[%zu]: (" LOT_FMT ", %s) is proven twice", i,
                        LOT_ARG(st->lots[c->lot].ptr, st->lots[c->lot].len),
                        lotindex_role_name(c->role));
        }
        *slot = (long)i;
        c->full = lotindex_chain_full(st->backward, st->lot_events, c->role,
                                      st->lots[c->lot].depth, st->max_depth);
    }
    unsigned roles =
        lotindex_query_roles(st->backward, st->recall, st->lot_events);
    int limited = 0;
    for (size_t l = 0; l < st->lot_count; l++) {
        const struct vlot *lot = &st->lots[l];
        if (lot->depth == DEPTH_ANY) {
            continue;
        }
        for (int r = 1; r <= LOTINDEX_ROLES; r++) {
            long c = st->chain_of[l * LOTINDEX_ROLES + r - 1];
            if (!(roles & LOTINDEX_ROLE_BIT(r))) {
                if (c >= 0) {
                    return fail(st, ORIGO_E_REPORT_CLAIM,
                                "index[%ld]: the query needs no %s chain", c,
                                lotindex_role_name(r));
                }
                continue;
            }
            if (c < 0) {
                return fail(
                    st, ORIGO_E_REPORT_CLAIM,
                    "report.index: no proof of the %s chain of lot " LOT_FMT
                    ", which the query needs",
                    lotindex_role_name(r), LOT_ARG(lot->ptr, lot->len));
            }
            if (r == (st->backward ? LOTINDEX_IN : LOTINDEX_OUT) &&
                lot->depth >= st->max_depth && st->chains[c].count > 0) {
                limited = 1; /* edges beyond the depth limit */
            }
        }
    }
    /* Recompute every full chain from the included events, in leaf order;
     * the membership chain from the genesis and the member events. */
    uint64_t members_have = 1;
    uint8_t members_head[32];
    lotindex_members_seed(st->gen->hash, members_head);
    for (size_t e = 0; e < st->event_count; e++) {
        struct vevent *ev = &st->events[e];
        const struct vfacts *f = ev->facts;
        ev->used = 0;
        if (rauth_is_member_event(f->type)) {
            members_have++;
            lotindex_chain_step(members_head, ev->leaf, ev->block_time, ev->id);
            ev->used = 1;
        }
        for (size_t j = 0; j < f->lot_count; j++) {
            long lot;
            if ((rc = lookup_lot(st, f->lots[j].ptr, f->lots[j].len, 0,
                                 &lot)) != 0) {
                return fail(st, rc, "report.events: out of memory");
            }
            if (lot < 0 || st->lots[lot].depth == DEPTH_ANY) {
                continue;
            }
            unsigned mask =
                lotindex_roles_of(f->type, f->kind, f->edges, f->edge_count,
                                  f->subjects, f->subject_count, j);
            for (int r = 1; r <= LOTINDEX_ROLES; r++) {
                long c = st->chain_of[lot * LOTINDEX_ROLES + r - 1];
                if (!(mask & LOTINDEX_ROLE_BIT(r)) || c < 0) {
                    continue;
                }
                struct vchain *chain = &st->chains[c];
                chain->have++;
                lotindex_chain_step(chain->have_head, ev->leaf, ev->block_time,
                                    ev->id);
                ev->used |= chain->full;
            }
        }
        if (!ev->used) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "events[%zu] (leaf %llu): in none of the chains the "
                        "query needs",
                        e, (unsigned long long)ev->leaf);
        }
    }
    for (size_t i = 0; i < st->chain_count; i++) {
        const struct vchain *c = &st->chains[i];
        if (!c->full) {
            continue;
        }
        if (c->have != c->count ||
            sodium_memcmp(c->have_head, c->head, 32) != 0) {
            return fail(st, ORIGO_E_REPORT_CLAIM,
                        "index[%zu]: the %s chain of lot " LOT_FMT
                        " has %llu events under the cosigned lot index, and "
                        "the included events give %llu%s: an event was left "
                        "out, added or changed",
                        i, lotindex_role_name(c->role),
                        LOT_ARG(st->lots[c->lot].ptr, st->lots[c->lot].len),
                        (unsigned long long)c->count,
                        (unsigned long long)c->have,
                        c->have == c->count ? " with another chain head" : "");
        }
    }
    if (members_have != st->members_count ||
        sodium_memcmp(members_head, st->members_head, 32) != 0) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "report.members: the membership chain has %llu entries "
                    "under the cosigned lot index, and the genesis and the "
                    "included member events give %llu%s: a member change was "
                    "left out, added or changed, or the genesis is another",
                    (unsigned long long)st->members_count,
                    (unsigned long long)members_have,
                    members_have == st->members_count
                        ? " with another chain head"
                        : "");
    }
    int claimed = 0;
    if ((rc = get_bool(st, st->root, "report", "depth_limited", &claimed))) {
        return rc;
    }
    if (claimed != limited) {
        return fail(st, ORIGO_E_REPORT_CLAIM,
                    "report.depth_limited: %s, but the lot index says %s",
                    claimed ? "true" : "false",
                    limited ? "a lot at the depth limit has further edges"
                            : "no lot at the depth limit has further edges");
    }
    return 0;
}

/* v2: every included event against the authority rules, replayed from
 * the genesis, the membership chain and the lots' full chains
 * (report_authority.h). */
static int check_authority(struct vstate *st, struct report_verdict *verdict)
{
    struct rauth_event *events =
        malloc((st->event_count ? st->event_count : 1) * sizeof(*events));
    struct rauth_lot *lots =
        malloc((st->reached ? st->reached : 1) * sizeof(*lots));
    struct rauth_signer *signers =
        calloc(st->event_count ? st->event_count : 1, sizeof(*signers));
    if (events == NULL || lots == NULL || signers == NULL) {
        free(events);
        free(lots);
        free(signers);
        return fail(st, ORIGO_E_NOMEM, "checking authority: out of memory");
    }
    for (size_t e = 0; e < st->event_count; e++) {
        events[e] = (struct rauth_event){
            st->events[e].leaf, st->events[e].block_time,
            st->events[e].envelope, st->events[e].envelope_len};
    }
    size_t n = 0;
    for (size_t l = 0; l < st->lot_count; l++) {
        if (st->lots[l].depth != DEPTH_ANY) {
            lots[n++] = (struct rauth_lot){st->lots[l].ptr, st->lots[l].len};
        }
    }
    unsigned roles =
        lotindex_query_roles(st->backward, st->recall, st->lot_events);
    size_t failed = 0;
    char why[512] = "";
    int rc = report_authority_check(
        st->gen, events, st->event_count, lots, n,
        (roles & LOTINDEX_ROLE_BIT(LOTINDEX_QUALITY)) != 0, signers, &failed,
        why, sizeof(why));
    free(events);
    free(lots);
    if (rc == ORIGO_E_NOMEM) {
        free(signers);
        return fail(st, rc, "checking authority: out of memory");
    }
    if (rc != 0) {
        free(signers);
        return fail(st, rc,
                    "events[%zu] (leaf %llu): refused by the authority rules "
                    "(docs/formats/authority.md): %s",
                    failed, (unsigned long long)st->events[failed].leaf, why);
    }
    for (size_t e = 0; e < st->event_count; e++) {
        verdict->third_party += signers[e].standing == RAUTH_THIRD_PARTY;
        verdict->revoked += signers[e].revoked;
    }
    verdict->authority = 1;
    st->signers = signers;
    return 0;
}

/* ---- entry points ------------------------------------------------------ */

static int verify_claims(struct vstate *st, struct report_verdict *verdict)
{
    json_t *lots = NULL, *edges = NULL;
    int rc;
    if ((rc = get_array(st, st->root, "report", "lots", &lots)) ||
        (rc = get_array(st, st->root, "report", "edges", &edges)) ||
        (rc = build_graph(st)) || (rc = recompute(st)) ||
        (rc = check_edges(st, edges)) || (rc = check_lots(st, lots)) ||
        (rc = check_cycle(st)) || (!st->v2 && (rc = check_depth_limited(st)))) {
        return rc;
    }
    verdict->holds = 0;
    if (st->recall) {
        rc = check_recall(st, lots, &verdict->holds);
    } else {
        rc = check_no_recall_fields(st, lots);
    }
    if (rc == 0 && st->v2) {
        rc = check_index(st);
        if (rc == 0) {
            rc = check_authority(st, verdict);
        }
    } else {
        if (rc == 0 && st->lot_events) {
            rc = mark_lot_events(st);
        }
        if (rc == 0) {
            rc = check_all_used(st);
        }
    }
    verdict->lots = st->reached;
    verdict->edges = st->answer_count;
    verdict->cycle = st->cycle;
    return rc;
}

static void vstate_close(struct vstate *st)
{
    for (size_t i = 0; i < st->event_count && st->events != NULL; i++) {
        free(st->events[i].envelope);
        free(st->events[i].facts);
    }
    free(st->events);
    free(st->lots);
    free(st->slots);
    free(st->edges);
    free(st->adj);
    free(st->queue);
    free(st->answer);
    free(st->claimed);
    free(st->chains);
    free(st->chain_of);
    free(st->signers);
    genesis_free(st->gen);
    json_decref(st->root);
}

int report_verify(const uint8_t *data, size_t len,
                  const origo_note_policy *policy,
                  struct report_verdict *verdict, char *errbuf, size_t errlen)
{
    return report_verify_attributed(data, len, policy, verdict, NULL, NULL,
                                    errbuf, errlen);
}

int report_verify_attributed(const uint8_t *data, size_t len,
                             const origo_note_policy *policy,
                             struct report_verdict *verdict,
                             struct rauth_signer **signers, size_t *count,
                             char *errbuf, size_t errlen)
{
    if (signers != NULL) {
        *signers = NULL;
        *count = 0;
    }
    struct vstate st;
    struct report_verdict result;
    json_error_t jerr;
    int rc;
    memset(&st, 0, sizeof(st));
    memset(&result, 0, sizeof(result));
    st.errbuf = errbuf;
    st.errlen = errlen;
    if (len > REPORT_MAX_BYTES) {
        return fail(&st, ORIGO_E_TOOBIG, "report: %zu bytes, at most %u", len,
                    REPORT_MAX_BYTES);
    }
    st.root =
        json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (st.root == NULL || !json_is_object(st.root)) {
        rc = st.root == NULL
                 ? fail(&st, ORIGO_E_JSON, "report: line %d column %d: %s",
                        jerr.line, jerr.column, jerr.text)
                 : fail(&st, ORIGO_E_JSON, "report: expected a JSON object");
        goto out_state;
    }
    if ((rc = check_header(&st)) ||
        (rc = check_checkpoint(&st, policy, &result.signers)) ||
        (st.v2 &&
         ((rc = check_index_note(&st, policy)) || (rc = check_members(&st)))) ||
        (rc = load_events(&st)) || (rc = verify_claims(&st, &result))) {
        goto out_state;
    }
    result.tree_size = st.tree_size;
    result.events = st.event_count;
    result.recall = st.recall;
    if (verdict != NULL) {
        *verdict = result;
    }
    if (signers != NULL && st.signers != NULL) {
        *signers = st.signers;
        *count = st.event_count;
        st.signers = NULL;
    }
out_state:
    vstate_close(&st);
    return rc;
}

int report_verify_file(const char *path, const origo_vkey *keys,
                       size_t key_count, unsigned quorum,
                       struct report_verdict *verdict, char *errbuf,
                       size_t errlen)
{
    uint8_t *data;
    size_t len;
    char inner[512];
    int rc = origo_read_file(path, REPORT_MAX_BYTES, &data, &len);
    if (rc != 0) {
        if (errbuf != NULL && errlen > 0) {
            snprintf(errbuf, errlen, "%s: cannot read: %s", path,
                     origo_strerror(rc));
        }
        return rc;
    }
    origo_note_policy policy = {
        .signers = keys,
        .signer_count = key_count,
        .quorum = quorum,
    };
    inner[0] = '\0';
    rc = report_verify(data, len, &policy, verdict, inner, sizeof(inner));
    free(data);
    if (rc != 0 && errbuf != NULL && errlen > 0) {
        snprintf(errbuf, errlen, "%s: %s", path, inner);
    }
    return rc;
}

int report_is_report(const uint8_t *data, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, 0, &jerr);
    const char *format = json_string_value(json_object_get(root, "format"));
    int is = format != NULL && (strcmp(format, REPORT_FORMAT_V1) == 0 ||
                                strcmp(format, REPORT_FORMAT_V2) == 0);
    json_decref(root);
    return is;
}
