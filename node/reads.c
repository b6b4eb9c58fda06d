/* Reads of event content: RFC 9421 signed requests, the read policy and
 * the endpoints that return envelopes, proofs, a lot's events and trace
 * reports (node/README.md, "Signed reads"). On the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api_internal.h"
#include "log.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/httpsig.h"
#include "origo/note.h"
#include "origo/proof.h"
#include "report.h"
#include "route.h"
#include "trace.h"

/* How far a request's `created` may be from the node's clock, and how
 * long its nonce is remembered. */
#define WINDOW_S 300

/* ---- nonces ------------------------------------------------------------- */

/* Seen nonces: an open-addressed table of keyed hashes of (key, nonce)
 * with the time each may be forgotten. A nonce is remembered for twice
 * the window, longer than any request that could carry it is accepted. */
#define NONCE_SLOTS 65536u
#define NONCE_PROBE 64u

typedef struct nonce_slot {
    uint64_t hash;
    int64_t forget_at;
} nonce_slot;

static nonce_slot *nonces;
static uint8_t nonce_key[crypto_shorthash_KEYBYTES];

/* Returns 0 (new, now remembered), ORIGO_E_REPLAY, ORIGO_E_BUSY (the
 * table is full around it), ORIGO_E_NOMEM. */
static int nonce_remember(const uint8_t pub[32], const char *nonce, int64_t now)
{
    if (!nonces) {
        nonces = calloc(NONCE_SLOTS, sizeof(*nonces));
        if (!nonces)
            return ORIGO_E_NOMEM;
        randombytes_buf(nonce_key, sizeof(nonce_key));
    }
    uint8_t in[32 + 65];
    size_t len = strlen(nonce);
    memcpy(in, pub, 32);
    memcpy(in + 32, nonce, len);
    uint64_t h;
    crypto_shorthash((uint8_t *)&h, in, 32 + len, nonce_key);
    h |= 1; /* 0 marks an empty slot */
    nonce_slot *free_slot = NULL;
    for (uint32_t i = 0; i < NONCE_PROBE; i++) {
        nonce_slot *s = &nonces[(h + i) % NONCE_SLOTS];
        int live = s->hash && s->forget_at > now;
        if (live && s->hash == h)
            return ORIGO_E_REPLAY;
        if (!live && !free_slot)
            free_slot = s;
    }
    if (!free_slot)
        return ORIGO_E_BUSY;
    free_slot->hash = h;
    free_slot->forget_at = now + 2 * WINDOW_S;
    return 0;
}

/* ---- who asks ----------------------------------------------------------- */

static const char *req_header(void *ctx, const char *name)
{
    http_request *req = ctx;
    if (!strcmp(name, "content-digest"))
        return req->content_digest[0] ? req->content_digest : NULL;
    if (!strcmp(name, "host"))
        return req->host[0] ? req->host : NULL;
    return NULL;
}

static const char how[] =
    "sign the request (RFC 9421) with a member key: Signature-Input "
    "covering \"@method\" \"@path\" \"@query\", with created, keyid (the "
    "public key in hex) and nonce; see docs/api.md, \"Signed requests\"";

int reads_authenticate(node *n, http_request *req, reader *out)
{
    memset(out, 0, sizeof(*out));
    if (req->header_too_long) {
        api_problem(n, req, 400, ORIGO_E_HTTPSIG,
                    "a signature field or the request target is too long");
        return -1;
    }
    if (!req->sig_input[0] || !req->signature[0]) {
        api_problem(n, req, 401, ORIGO_E_HTTPSIG, "%s", how);
        return -1;
    }
    origo_httpsig sig;
    int rc = origo_httpsig_parse(req->sig_input, req->signature, &sig);
    if (rc) {
        api_problem(n, req, 401, ORIGO_E_HTTPSIG,
                    "Signature-Input or Signature is malformed (%s); %s",
                    origo_strerror(rc), how);
        return -1;
    }
    int64_t created, expires;
    const char *keyid = origo_httpsig_param_str(&sig, "keyid");
    const char *nonce = origo_httpsig_param_str(&sig, "nonce");
    const char *alg = origo_httpsig_param_str(&sig, "alg");
    if (!origo_httpsig_covers(&sig, "@method") ||
        !origo_httpsig_covers(&sig, "@path") ||
        !origo_httpsig_covers(&sig, "@query") ||
        (req->body_len && !origo_httpsig_covers(&sig, "content-digest")) ||
        origo_httpsig_param_int(&sig, "created", &created) != 0 || !keyid ||
        !nonce || !nonce[0] || strlen(nonce) > 64 ||
        (alg && strcmp(alg, "ed25519"))) {
        api_problem(n, req, 401, ORIGO_E_HTTPSIG, "%s", how);
        return -1;
    }
    size_t got = 0;
    if (strlen(keyid) != 64 ||
        sodium_hex2bin(out->pub, 32, keyid, 64, NULL, &got, NULL) != 0 ||
        got != 32) {
        api_problem(n, req, 401, ORIGO_E_HTTPSIG,
                    "keyid must be the signing member's public key, 64 hex "
                    "digits");
        return -1;
    }
    int64_t now = (int64_t)(node_now_ms() / 1000u);
    if (created > now + WINDOW_S || created < now - WINDOW_S ||
        (origo_httpsig_param_int(&sig, "expires", &expires) == 0 &&
         expires < now)) {
        api_problem(n, req, 401, ORIGO_E_TIMESTAMP,
                    "the signature's created time is more than %d s from "
                    "the node's clock (%lld), or it expired: sign again now",
                    WINDOW_S, (long long)now);
        return -1;
    }
    if (req->body_len) {
        char digest[ORIGO_CONTENT_DIGEST_LEN];
        origo_content_digest(req->body, req->body_len, digest);
        if (strcmp(digest, req->content_digest)) {
            api_problem(n, req, 401, ORIGO_E_HTTPSIG,
                        "Content-Digest is not the body's sha-256");
            return -1;
        }
    }
    char path[sizeof(req->raw_target)], query[sizeof(req->raw_target)];
    if (route_split_target(req->raw_target, path, sizeof(path), query,
                           sizeof(query)) != 0) {
        api_problem(n, req, 400, ORIGO_E_HTTPSIG,
                    "the request target is too long");
        return -1;
    }
    origo_httpsig_request hr = {req->method, path,       query,
                                req->host,   req_header, req};
    if ((rc = origo_httpsig_verify(&sig, &hr, out->pub)) != 0) {
        api_problem(n, req, 401, rc,
                    "the request signature does not verify under keyid "
                    "(sign exactly the method, path and query sent)");
        return -1;
    }
    ledger_state st;
    ledger *led = replica_ledger(n->rep);
    if (ledger_get_state(led, NULL, &st) != 0 ||
        ledger_member_at(led, NULL, out->pub, st.tree_size, &out->member) !=
            0 ||
        !out->member.active) {
        api_problem(n, req, 403, ORIGO_E_PERM,
                    "keyid is not an active member of this network");
        return -1;
    }
    if ((rc = nonce_remember(out->pub, nonce, now)) != 0) {
        api_problem(n, req, rc == ORIGO_E_REPLAY ? 401 : 503, rc,
                    rc == ORIGO_E_REPLAY
                        ? "this nonce was used before: every request needs "
                          "a fresh one"
                        : "too many signed requests in the window; retry");
        return -1;
    }
    out->all = (out->member.roles & (ORIGO_ROLE_AUDITOR | ORIGO_ROLE_ADMIN |
                                     ORIGO_ROLE_VALIDATOR)) != 0;
    return 0;
}

/* ---- the read policy ---------------------------------------------------- */

typedef struct leaf_set {
    uint64_t *leaf;
    size_t n, cap;
    int err;
} leaf_set;

static int collect_leaf(void *ctx, uint64_t leaf)
{
    leaf_set *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *p = realloc(s->leaf, cap * sizeof(*p));
        if (!p)
            return s->err = ORIGO_E_NOMEM;
        s->leaf = p;
        s->cap = cap;
    }
    s->leaf[s->n++] = leaf;
    return 0;
}

static int has_leaf(const leaf_set *s, uint64_t leaf)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->leaf[mid] == leaf)
            return 1;
        if (s->leaf[mid] < leaf)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

typedef struct lot_probe {
    const leaf_set *own;
} lot_probe;

static int lot_event_is_own(void *ctx, uint64_t leaf)
{
    const lot_probe *p = ctx;
    return has_leaf(p->own, leaf) ? 1 : 0;
}

/* Whether the reader's own events name `lot`: its events, listed by
 * signing key (ascending), meet the lot's events. */
static int may_read_lot(node *n, const reader *r, MDB_txn *txn,
                        const struct trace_tables *t, const char *lot,
                        size_t len, uint64_t tree_size)
{
    if (r->all)
        return 1;
    leaf_set own = {0};
    int rc = trace_list_events(txn, t->by_events, r->pub, 32, tree_size,
                               collect_leaf, &own);
    lot_probe p = {&own};
    int found = rc == 0 && !own.err &&
                trace_lot_list_events(txn, t, lot, len, tree_size,
                                      lot_event_is_own, &p) == 1;
    free(own.leaf);
    (void)n;
    return found;
}

/* Whether the reader may read the event (envelope bytes at `leaf`): its
 * own, or one naming a lot its own events name. */
static int may_read_event(node *n, const reader *r, MDB_txn *txn,
                          const struct trace_tables *t, const uint8_t *env,
                          size_t len, uint64_t tree_size)
{
    if (r->all)
        return 1;
    origo_envelope e;
    origo_event ev;
    if (origo_envelope_decode(env, len, &e) != 0 ||
        origo_event_decode_body(e.body, e.body_len, &ev) != 0)
        return 0;
    if (!memcmp(ev.by, r->pub, 32))
        return 1;
    for (size_t i = 0; i < ev.n_lots; i++)
        if (may_read_lot(n, r, txn, t, ev.lots[i].lot.ptr, ev.lots[i].lot.len,
                         tree_size))
            return 1;
    return 0;
}

static const char denied[] =
    "the read policy lets a member read its own events, events naming a "
    "lot its own events name, and traces from such a lot (auditors, admins "
    "and validators read everything)";

/* ---- endpoints ---------------------------------------------------------- */

typedef struct found_event {
    uint64_t leaf;
    const uint8_t *env;
    size_t len;
} found_event;

/* Looks up a committed event by hex ID inside txn. Answers and returns
 * -1 when it cannot. */
static int find_event(node *n, http_request *req, MDB_txn *txn,
                      const char *hexid, found_event *out)
{
    uint8_t id[32];
    size_t got = 0;
    ledger_event_info info;
    if (strlen(hexid) != 64 ||
        sodium_hex2bin(id, 32, hexid, 64, NULL, &got, NULL) != 0 || got != 32) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "an event ID is 64 hex digits (SHA-256 of the event "
                    "body)");
        return -1;
    }
    ledger *led = replica_ledger(n->rep);
    if (ledger_event_lookup(led, txn, id, &info) != 0 ||
        info.status != LEDGER_EVENT_COMMITTED ||
        ledger_event_at(led, txn, info.leaf_index, &out->env, &out->len) != 0) {
        api_problem(n, req, 404, ORIGO_E_NOTFOUND, "no committed event %s here",
                    hexid);
        return -1;
    }
    out->leaf = info.leaf_index;
    return 0;
}

static char *b64(const uint8_t *p, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (s)
        sodium_bin2base64(s, cap, p, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

typedef struct read_ctx {
    MDB_txn *txn;
    struct trace_tables t;
    ledger_state st;
} read_ctx;

static int begin(node *n, http_request *req, read_ctx *rc)
{
    ledger *led = replica_ledger(n->rep);
    if (report_trace_tables(led, &rc->t) != 0 ||
        ledger_txn_begin(led, 1, &rc->txn) != 0) {
        api_problem(n, req, 500, ORIGO_E_STORE, "cannot read the ledger");
        return -1;
    }
    if (ledger_get_state(led, rc->txn, &rc->st) != 0) {
        mdb_txn_abort(rc->txn);
        api_problem(n, req, 500, ORIGO_E_STORE, "cannot read the ledger");
        return -1;
    }
    return 0;
}

void reads_get_envelope(node *n, http_request *req, const char *hexid)
{
    reader r;
    read_ctx c;
    found_event e;
    if (reads_authenticate(n, req, &r) || begin(n, req, &c))
        return;
    if (find_event(n, req, c.txn, hexid, &e) == 0) {
        if (!may_read_event(n, &r, c.txn, &c.t, e.env, e.len, c.st.tree_size)) {
            api_problem(n, req, 403, ORIGO_E_PERM, "%s", denied);
        } else {
            char *s = b64(e.env, e.len);
            api_respond_json(n, req, 200,
                             json_pack("{s:s, s:I, s:s?}", "id", hexid, "leaf",
                                       (json_int_t)e.leaf, "envelope", s));
            free(s);
        }
    }
    mdb_txn_abort(c.txn);
}

/* A tlog-proof@v1 file for the event at the latest quorum checkpoint,
 * which `origo verify` checks offline. */
void reads_get_proof(node *n, http_request *req, const char *hexid)
{
    reader r;
    read_ctx c;
    found_event e;
    if (reads_authenticate(n, req, &r) || begin(n, req, &c))
        return;
    ledger *led = replica_ledger(n->rep);
    char *note_text = NULL;
    size_t note_len;
    uint64_t size;
    origo_note *note = NULL;
    origo_buf out;
    origo_buf_init(&out, ORIGO_TLOG_PROOF_MAX_BYTES);
    if (find_event(n, req, c.txn, hexid, &e) != 0)
        goto done;
    if (!may_read_event(n, &r, c.txn, &c.t, e.env, e.len, c.st.tree_size)) {
        api_problem(n, req, 403, ORIGO_E_PERM, "%s", denied);
        goto done;
    }
    int rc = ledger_checkpoint_latest(led, c.txn, &note_text, &note_len, &size);
    if (rc == 0 && e.leaf >= size)
        rc = ORIGO_E_TREE_SIZE;
    if (rc) {
        api_problem(n, req, rc == ORIGO_E_NOTFOUND ? 404 : 503,
                    rc == ORIGO_E_TREE_SIZE ? ORIGO_E_AGAIN : rc,
                    "no quorum checkpoint covers leaf %llu yet; retry shortly",
                    (unsigned long long)e.leaf);
        goto done;
    }
    uint8_t hashes[65][32];
    size_t count;
    if ((rc = ledger_inclusion_proof(led, c.txn, e.leaf, size, hashes, 65,
                                     &count)) != 0 ||
        (rc = origo_note_parse((const uint8_t *)note_text, note_len, &note)) !=
            0 ||
        (rc = origo_tlog_proof_write(e.env, e.len, e.leaf,
                                     (const uint8_t(*)[32])hashes, count, note,
                                     &out)) != 0) {
        api_problem(n, req, 500, rc, "cannot build the proof");
        goto done;
    }
    api_respond_bytes(n, req, 200, "text/x.tlog-proof", out.data, out.len);
done:
    origo_buf_close(&out);
    origo_note_free(note);
    free(note_text);
    mdb_txn_abort(c.txn);
}

typedef struct lot_list {
    node *n;
    MDB_txn *txn;
    json_t *events;
    int err;
} lot_list;

static int add_lot_event(void *ctx, uint64_t leaf)
{
    lot_list *l = ctx;
    const uint8_t *env;
    size_t len;
    if (ledger_event_at(replica_ledger(l->n->rep), l->txn, leaf, &env, &len))
        return l->err = ORIGO_E_STORE;
    origo_envelope e;
    uint8_t id[32];
    char hexid[65];
    if (origo_envelope_decode(env, len, &e) != 0)
        return l->err = ORIGO_E_CORRUPT;
    origo_event_id(e.body, e.body_len, id);
    sodium_bin2hex(hexid, sizeof(hexid), id, 32);
    char *s = b64(env, len);
    json_array_append_new(l->events, json_pack("{s:I, s:s, s:s?}", "leaf",
                                               (json_int_t)leaf, "id", hexid,
                                               "envelope", s));
    free(s);
    return 0;
}

void reads_get_lot_events(node *n, http_request *req, const char *rest)
{
    (void)rest;
    reader r;
    read_ctx c;
    const char *lot = api_arg(req, "lot");
    if (!lot || !*lot) {
        api_problem(n, req, 400, ORIGO_E_INVAL, "give lot=LOT");
        return;
    }
    if (reads_authenticate(n, req, &r) || begin(n, req, &c))
        return;
    size_t len = strlen(lot);
    if (!may_read_lot(n, &r, c.txn, &c.t, lot, len, c.st.tree_size)) {
        api_problem(n, req, 403, ORIGO_E_PERM, "%s", denied);
    } else {
        lot_list l = {n, c.txn, json_array(), 0};
        int rc = trace_lot_list_events(c.txn, &c.t, lot, len, c.st.tree_size,
                                       add_lot_event, &l);
        if (rc || l.err) {
            json_decref(l.events);
            api_problem(n, req, 500, rc ? rc : l.err, "cannot list the lot");
        } else {
            api_respond_json(n, req, 200,
                             json_pack("{s:s, s:I, s:o}", "lot", lot,
                                       "tree_size", (json_int_t)c.st.tree_size,
                                       "events", l.events));
        }
    }
    mdb_txn_abort(c.txn);
}

/* A trace report (docs/formats/trace-report.md) at the latest quorum
 * checkpoint: lots, edges and every event behind them with its proof. */
void reads_get_trace(node *n, http_request *req, const char *rest)
{
    (void)rest;
    reader r;
    read_ctx c;
    const char *lot = api_arg(req, "lot");
    const char *dir = api_arg(req, "direction");
    const char *recall = api_arg(req, "recall");
    const char *events = api_arg(req, "lot_events");
    const char *format = api_arg(req, "format");
    uint64_t depth = TRACE_DEPTH_ANY;
    int d = api_arg_u64(req, "depth", &depth);
    if (!lot || !*lot ||
        (dir && strcmp(dir, "backward") && strcmp(dir, "forward")) || d == -2 ||
        depth > TRACE_DEPTH_ANY ||
        (recall && strcmp(recall, "0") && strcmp(recall, "1")) ||
        (events && strcmp(events, "0") && strcmp(events, "1")) ||
        (format && strcmp(format, "v1") && strcmp(format, "v2"))) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "give lot=LOT, and optionally direction=backward "
                    "(default) or forward, depth=N, recall=1 (forward "
                    "with custody and holds: the recall scope), "
                    "lot_events=1 (every event naming a lot of the answer), "
                    "format=v2 (default: complete under the lot index) or "
                    "v1");
        return;
    }
    if (reads_authenticate(n, req, &r) || begin(n, req, &c))
        return;
    size_t len = strlen(lot);
    int allowed = may_read_lot(n, &r, c.txn, &c.t, lot, len, c.st.tree_size);
    mdb_txn_abort(c.txn);
    if (!allowed) {
        api_problem(n, req, 403, ORIGO_E_PERM, "%s", denied);
        return;
    }
    int rec = recall && !strcmp(recall, "1");
    struct report_request rr = {
        .lot = lot,
        .lot_len = len,
        .direction = rec || (dir && !strcmp(dir, "forward")) ? TRACE_FORWARD
                                                             : TRACE_BACKWARD,
        .max_depth = (uint32_t)depth,
        .flags = (rec ? TRACE_WITH_RECALL : 0) |
                 (events && !strcmp(events, "1") ? TRACE_WITH_LOT_EVENTS : 0),
        .version = format && !strcmp(format, "v1") ? 1 : 2,
    };
    char *json = NULL, err[256] = "";
    size_t json_len;
    int rc = report_build(replica_ledger(n->rep), &rr, &json, &json_len, NULL,
                          err, sizeof(err));
    if (rc) {
        api_problem(n, req,
                    rc == ORIGO_E_NOTFOUND ? 404
                    : rc == ORIGO_E_BUSY   ? 503
                                           : 400,
                    rc, "cannot build the trace report: %s", err);
        return;
    }
    api_respond_bytes(n, req, 200, "application/json", (uint8_t *)json,
                      json_len);
    free(json);
}

/* The active members: name, key and roles (any member may ask). */
void reads_get_members(node *n, http_request *req, const char *rest)
{
    (void)rest;
    reader r;
    if (reads_authenticate(n, req, &r))
        return;
    ledger *led = replica_ledger(n->rep);
    ledger_state st;
    ledger_party *list = NULL;
    size_t count = 0;
    if (ledger_get_state(led, NULL, &st) != 0 ||
        ledger_members_with_role(led, NULL, st.tree_size, 0, &list, &count) !=
            0) {
        api_problem(n, req, 500, ORIGO_E_STORE, "cannot read the members");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        ledger_member m;
        char hexkey[65];
        sodium_bin2hex(hexkey, sizeof(hexkey), list[i].pub, 32);
        json_t *roles = json_array();
        if (ledger_member_at(led, NULL, list[i].pub, st.tree_size, &m) == 0)
            for (unsigned b = 0; b < 7; b++)
                if (m.roles & (1u << b))
                    json_array_append_new(
                        roles, json_string(origo_role_name(1u << b)));
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:o}", "name", list[i].name,
                                        "key", hexkey, "roles", roles));
    }
    free(list);
    api_respond_json(n, req, 200,
                     json_pack("{s:I, s:o}", "tree_size",
                               (json_int_t)st.tree_size, "members", arr));
}
