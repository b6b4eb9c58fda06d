/* The lot index, verifier side (docs/formats/lot-index.md): hash domains,
 * roles, chain step, node hashes, proof verification and the index note.
 * No LMDB (lotindex_store.c keeps the map). */
#include "lotindex.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/error.h"
#include "origo/event.h"

/* Every hash of the index has its own domain, NUL included. */
static const char KEY_DOMAIN[] = "origo/lot-index/key/v1";
static const char CHAIN_DOMAIN[] = "origo/lot-index/chain/v2";
static const char LEAF_DOMAIN[] = "origo/lot-index/leaf/v1";
static const char NODE_DOMAIN[] = "origo/lot-index/node/v1";
static const char NOTE_FIRST_LINE[] = "origo lot index v1";

static void put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

unsigned lotindex_roles_of(int type, int kind,
                           const struct trace_fact_edge *edges,
                           size_t edge_count, const uint16_t *subjects,
                           size_t subject_count, size_t j)
{
    unsigned mask = 0;
    for (size_t e = 0; e < edge_count; e++) {
        if (edges[e].to == j)
            mask |= LOTINDEX_ROLE_BIT(LOTINDEX_IN);
        if (edges[e].from == j)
            mask |= LOTINDEX_ROLE_BIT(LOTINDEX_OUT);
    }
    int subject = 0;
    for (size_t s = 0; s < subject_count; s++)
        subject |= subjects[s] == j;
    if (subject &&
        (kind == TRACE_CUSTODY_SHIP || kind == TRACE_CUSTODY_RECEIVE))
        mask |= LOTINDEX_ROLE_BIT(LOTINDEX_CUSTODY);
    if ((subject && (kind == TRACE_HOLD || kind == TRACE_RELEASE ||
                     kind == TRACE_RECALL)) ||
        type == ORIGO_EV_INSPECTION || type == ORIGO_EV_COA_ATTEST)
        mask |= LOTINDEX_ROLE_BIT(LOTINDEX_QUALITY);
    return mask ? mask : LOTINDEX_ROLE_BIT(LOTINDEX_OTHER);
}

unsigned lotindex_roles(const struct trace_facts *f, size_t j)
{
    return lotindex_roles_of(f->type, f->kind, f->edges, f->edge_count,
                             f->subjects, f->subject_count, j);
}

unsigned lotindex_query_roles(int backward, int recall, int lot_events)
{
    if (lot_events)
        return LOTINDEX_ALL_ROLES;
    /* The direction's chain, and the chains the authority rules read for
     * every lot of the answer: its creation (in, other) and custody. */
    unsigned roles = LOTINDEX_ROLE_BIT(backward ? LOTINDEX_IN : LOTINDEX_OUT) |
                     LOTINDEX_ROLE_BIT(LOTINDEX_IN) |
                     LOTINDEX_ROLE_BIT(LOTINDEX_OTHER) |
                     LOTINDEX_ROLE_BIT(LOTINDEX_CUSTODY);
    if (recall)
        roles |= LOTINDEX_ROLE_BIT(LOTINDEX_CUSTODY) |
                 LOTINDEX_ROLE_BIT(LOTINDEX_QUALITY);
    return roles;
}

int lotindex_chain_full(int backward, int lot_events, int role, uint32_t depth,
                        uint32_t max_depth)
{
    /* Only a forward trace's out chain of a lot at the depth limit is
     * proven by its count alone: every other chain is one the authority
     * rules read, or one the answer expands. */
    return lot_events || backward || role != LOTINDEX_OUT || depth < max_depth;
}

static const char *const role_names[LOTINDEX_MEMBERS + 1] = {
    NULL, "in", "out", "custody", "quality", "other", "members"};

const char *lotindex_role_name(int role)
{
    return role >= 1 && role <= LOTINDEX_MEMBERS ? role_names[role] : NULL;
}

void lotindex_members_seed(const uint8_t genesis_hash[32], uint8_t head[32])
{
    memset(head, 0, 32);
    lotindex_chain_step(head, LOTINDEX_GENESIS_LEAF, 0, genesis_hash);
}

int lotindex_role_parse(const char *name)
{
    for (int r = 1; r <= LOTINDEX_ROLES; r++)
        if (!strcmp(name, role_names[r]))
            return r;
    return 0;
}

void lotindex_key(int role, const char *lot, size_t lot_len, uint8_t key[32])
{
    origo_sha256_state st;
    uint8_t r = (uint8_t)role;
    origo_sha256_init(&st);
    origo_sha256_update(&st, (const uint8_t *)KEY_DOMAIN, sizeof(KEY_DOMAIN));
    origo_sha256_update(&st, &r, 1);
    origo_sha256_update(&st, (const uint8_t *)lot, lot_len);
    origo_sha256_final(&st, key);
}

_Static_assert(sizeof(KEY_DOMAIN) + 1 == LOTINDEX_KEY_INPUT_MAX(0),
               "key input room");
_Static_assert(sizeof(CHAIN_DOMAIN) + 80 == LOTINDEX_CHAIN_INPUT_LEN,
               "chain input length");

size_t lotindex_key_input(int role, const char *lot, size_t lot_len,
                          uint8_t *out)
{
    size_t n = sizeof(KEY_DOMAIN);
    memcpy(out, KEY_DOMAIN, n);
    out[n] = (uint8_t)role;
    if (lot_len)
        memcpy(out + n + 1, lot, lot_len);
    return n + 1 + lot_len;
}

void lotindex_chain_step(uint8_t head[32], uint64_t leaf, uint64_t block_time,
                         const uint8_t event_id[32])
{
    uint8_t in[LOTINDEX_CHAIN_INPUT_LEN];
    origo_sha256(in, lotindex_chain_input(head, leaf, block_time, event_id, in),
                 head);
}

size_t lotindex_chain_input(const uint8_t head[32], uint64_t leaf,
                            uint64_t block_time, const uint8_t event_id[32],
                            uint8_t *out)
{
    size_t n = sizeof(CHAIN_DOMAIN);
    memcpy(out, CHAIN_DOMAIN, n);
    memcpy(out + n, head, 32);
    put_be64(out + n + 32, leaf);
    put_be64(out + n + 40, block_time);
    memcpy(out + n + 48, event_id, 32);
    return n + 80;
}

size_t lotindex_leaf_input(const uint8_t key[32], uint64_t count,
                           const uint8_t head[32], uint8_t *out)
{
    size_t n = sizeof(LEAF_DOMAIN);
    memcpy(out, LEAF_DOMAIN, n);
    memcpy(out + n, key, 32);
    put_be64(out + n + 32, count);
    memcpy(out + n + 40, head, 32);
    return n + 72;
}

size_t lotindex_node_input(const uint8_t left[32], const uint8_t right[32],
                           uint8_t *out)
{
    size_t n = sizeof(NODE_DOMAIN);
    memcpy(out, NODE_DOMAIN, n);
    memcpy(out + n, left, 32);
    memcpy(out + n + 32, right, 32);
    return n + 64;
}

void lotindex_leaf_hash(const uint8_t key[32], uint64_t count,
                        const uint8_t head[32], uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    origo_sha256(in, lotindex_leaf_input(key, count, head, in), out);
}

void lotindex_node_hash(const uint8_t left[32], const uint8_t right[32],
                        uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    origo_sha256(in, lotindex_node_input(left, right, in), out);
}

int lotindex_key_bit(const uint8_t key[32], unsigned i)
{
    return (key[i / 8] >> (7 - i % 8)) & 1;
}

static const uint8_t ZERO[32];

int lotindex_proof_verify(const lotindex_proof *p, const uint8_t key[32],
                          const uint8_t root[32], uint64_t *count,
                          uint8_t head[32])
{
    uint8_t h[32];
    if (p->depth > LOTINDEX_MAX_DEPTH)
        return ORIGO_E_PROOF;
    switch (p->end) {
    case LOTINDEX_END_EMPTY:
        memset(h, 0, 32);
        break;
    case LOTINDEX_END_LEAF:
        /* A chain of no events is no leaf: an absent key has count 0. */
        if (p->count == 0)
            return ORIGO_E_PROOF;
        lotindex_leaf_hash(key, p->count, p->head, h);
        break;
    case LOTINDEX_END_OTHER:
        /* Another key whose path shares ours down to `depth`: ours would
         * be below it, so it is not in the map. */
        if (p->count == 0 || !memcmp(p->other_key, key, 32))
            return ORIGO_E_PROOF;
        for (unsigned i = 0; i < p->depth; i++)
            if (lotindex_key_bit(p->other_key, i) != lotindex_key_bit(key, i))
                return ORIGO_E_PROOF;
        lotindex_leaf_hash(p->other_key, p->count, p->head, h);
        break;
    default:
        return ORIGO_E_PROOF;
    }
    for (unsigned i = p->depth; i-- > 0;) {
        if (lotindex_key_bit(key, i))
            lotindex_node_hash(p->siblings[i], h, h);
        else
            lotindex_node_hash(h, p->siblings[i], h);
    }
    if (sodium_memcmp(h, root, 32) != 0)
        return ORIGO_E_PROOF;
    if (p->end == LOTINDEX_END_LEAF) {
        *count = p->count;
        memcpy(head, p->head, 32);
    } else {
        *count = 0;
        memcpy(head, ZERO, 32);
    }
    return 0;
}

int lotindex_note_body(const char *origin, uint64_t tree_size,
                       const uint8_t log_root[32], const uint8_t index_root[32],
                       char **body, size_t *len)
{
    char a[48], b[48];
    sodium_bin2base64(a, sizeof(a), log_root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(b, sizeof(b), index_root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    size_t cap = strlen(origin) + 200;
    char *text = malloc(cap);
    if (!text)
        return ORIGO_E_NOMEM;
    int n = snprintf(text, cap, "%s\n%s\n%llu\n%s\n%s\n", NOTE_FIRST_LINE,
                     origin, (unsigned long long)tree_size, a, b);
    *body = text;
    *len = (size_t)n;
    return 0;
}

/* One line of [p, end): its bytes up to the newline (which must be
 * there); *p moves past it. */
static int take_line(const char **p, const char *end, const char **line,
                     size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return -1;
    *line = *p;
    *len = (size_t)(nl - *p);
    *p = nl + 1;
    return 0;
}

static int take_hash(const char *line, size_t len, uint8_t out[32])
{
    char again[48];
    size_t got = 0;
    if (len != 44 ||
        sodium_base642bin(out, 32, line, len, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != 32)
        return -1;
    sodium_bin2base64(again, sizeof(again), out, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    return memcmp(again, line, 44) == 0 ? 0 : -1;
}

int lotindex_note_parse(const char *body, size_t len, char *origin,
                        size_t origin_size, uint64_t *tree_size,
                        uint8_t log_root[32], uint8_t index_root[32])
{
    const char *p = body, *end = body + len, *line;
    size_t n;
    if (take_line(&p, end, &line, &n) || n != strlen(NOTE_FIRST_LINE) ||
        memcmp(line, NOTE_FIRST_LINE, n) != 0)
        return ORIGO_E_NOTE_FORMAT;
    if (take_line(&p, end, &line, &n) || n == 0 || n >= origin_size)
        return ORIGO_E_NOTE_FORMAT;
    memcpy(origin, line, n);
    origin[n] = '\0';
    if (take_line(&p, end, &line, &n) || n == 0 || n > 20 ||
        (line[0] == '0' && n > 1))
        return ORIGO_E_NOTE_FORMAT;
    uint64_t size = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] < '0' || line[i] > '9' ||
            size > (UINT64_MAX - (uint64_t)(line[i] - '0')) / 10)
            return ORIGO_E_NOTE_FORMAT;
        size = size * 10 + (uint64_t)(line[i] - '0');
    }
    *tree_size = size;
    if (take_line(&p, end, &line, &n) || take_hash(line, n, log_root) ||
        take_line(&p, end, &line, &n) || take_hash(line, n, index_root) ||
        p != end)
        return ORIGO_E_NOTE_FORMAT;
    return 0;
}
