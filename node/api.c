/* The HTTP API's routes and the submission path (node/README.md, "HTTP
 * API" and "Submissions"). Runs on the loop; parsing and signature checks
 * of submissions run on libuv's thread pool. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "log.h"
#include "api_internal.h"
#include "be.h"
#include "node.h"
#include "sigcheck.h"
#include "route.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"

enum waiter_state {
    W_ADMIT,     /* on the thread pool */
    W_QUEUED,    /* at the leader, not proposed yet */
    W_FORWARDED, /* sent to the leader, no answer yet */
    W_INFLIGHT,  /* carried by Raft entry (index, term) */
};

static const char *const JSON_TYPE = "application/json";
static const char *const PROBLEM_TYPE = "application/problem+json";

/* ---- lists -------------------------------------------------------------- */

static void list_push(waiter_list *l, waiter *w)
{
    w->next = NULL;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    l->count++;
}

static void list_remove(waiter_list *l, waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    w->next = w->prev = NULL;
    l->count--;
}

static void waiter_free(waiter *w)
{
    if (!w)
        return;
    free(w->blob);
    free(w->envs);
    free(w->ids);
    free(w->verdicts);
    free(w);
}

/* ---- answers ------------------------------------------------------------ */

static void respond_json(node *n, http_request *req, unsigned status,
                         const char *type, json_t *doc, unsigned retry_after)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    size_t len = text ? strlen(text) : 0;
    if (text) {
        char *t = realloc(text, len + 2);
        if (t) {
            t[len++] = '\n';
            t[len] = '\0';
            text = t;
        }
    }
    n->m.http_requests++;
    http_respond(n->http, req, text ? status : 500, type, text, len,
                 retry_after);
}

/* RFC 9457 problem details with Origo's stable error code. */

/* The problem document, with the members of `extra` (taken, may be NULL)
 * added. */
static void problem(node *n, http_request *req, unsigned status, int code,
                    const char *detail, json_t *extra)
{
    char type[96];
    snprintf(type, sizeof(type), "urn:origo:problem:%s", origo_errname(code));
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title",
                            origo_strerror(code), "status", (int)status, "code",
                            origo_errname(code), "detail", detail);
    if (extra) {
        json_object_update(doc, extra);
        json_decref(extra);
    }
    if (status == 429)
        n->m.http_429++;
    unsigned retry = status == 429 || status == 503 ? 1 : 0;
    respond_json(n, req, status, PROBLEM_TYPE, doc, retry);
}

void api_problem(node *n, http_request *req, unsigned status, int code,
                 const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    problem(n, req, status, code, detail, NULL);
}

void api_respond_json(node *n, http_request *req, unsigned status, json_t *doc)
{
    respond_json(n, req, status, JSON_TYPE, doc, 0);
}

void api_respond_bytes(node *n, http_request *req, unsigned status,
                       const char *type, const uint8_t *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (copy && len)
        memcpy(copy, text, len);
    n->m.http_requests++;
    http_respond(n->http, req, copy ? status : 500, type, copy, copy ? len : 0,
                 0);
}

/* Lower-case hex of a 32-byte value (out: 65 bytes). */
static void hex(const uint8_t *b, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, b, len);
}

/* What became of one event ID: a JSON object, or NULL when this node never
 * saw it decided (*unknown set). */
static json_t *event_result(node *n, const uint8_t id[32], int *unknown)
{
    ledger_event_info info;
    char h[65];
    hex(id, 32, h);
    if (ledger_event_lookup(replica_ledger(n->rep), NULL, id, &info) != 0 ||
        info.status == LEDGER_EVENT_UNKNOWN) {
        *unknown = 1;
        return NULL;
    }
    if (info.status == LEDGER_EVENT_COMMITTED)
        return json_pack("{s:s, s:s, s:I, s:I}", "id", h, "status", "committed",
                         "leaf", (json_int_t)info.leaf_index, "block",
                         (json_int_t)info.height);
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", h, "status", "rejected",
                     "code", origo_errname(info.reason), "reason",
                     origo_strerror(info.reason), "block",
                     (json_int_t)info.height);
}

static uint64_t now_us(void)
{
    return uv_hrtime() / 1000u;
}

static void observe_latency(node *n, const waiter *w)
{
    /* Where the time went: verification on the pool, then until the Raft
     * index is known (the batch at the leader; for one forwarded, the hop
     * to the leader and back), then until this node applied it
     * (replication, commit and apply). */
    uint64_t now = now_us();
    if (w->t_verified && w->t_indexed) {
        n->m.stage_us[0] += w->t_verified - w->t_received;
        n->m.stage_us[1] += w->t_indexed - w->t_verified;
        n->m.stage_us[2] += now - w->t_indexed;
        n->m.stage_count++;
    }
    static const uint64_t bounds[] = {1,   2,   5,    10,   20,   50,   100,
                                      200, 500, 1000, 2000, 5000, 10000};
    uint64_t ms = (now - w->t_received) / 1000u;
    size_t b = 0;
    while (b < sizeof(bounds) / sizeof(bounds[0]) && ms > bounds[b])
        b++;
    n->m.lat_buckets[b]++;
    n->m.lat_count++;
    n->m.lat_sum_ms += ms;
}

/* Answers a submission whose entry applied here. */
static void answer_committed(node *n, waiter *w)
{
    json_t *results = json_array();
    int unknown = 0;
    size_t rejected = 0;
    for (size_t i = 0; i < w->n; i++) {
        json_t *r = event_result(n, w->ids[i], &unknown);
        if (!r)
            break;
        if (!strcmp(json_string_value(json_object_get(r, "status")),
                    "rejected"))
            rejected++;
        json_array_append_new(results, r);
    }
    if (unknown) {
        json_decref(results);
        n->m.lost++;
        api_problem(
            n, w->req, 503, ORIGO_E_LOST,
            "the leader changed before the block holding these events "
            "committed; submit the same envelopes again (events already "
            "committed are answered with their first commit)");
        return;
    }
    ledger_state st;
    ledger_get_state(replica_ledger(n->rep), NULL, &st);
    observe_latency(n, w);
    respond_json(n, w->req, 200, JSON_TYPE,
                 json_pack("{s:o, s:I, s:I}", "results", results, "tree_size",
                           (json_int_t)st.tree_size, "rejected",
                           (json_int_t)rejected),
                 0);
}

/* A submission refused because of one of its envelopes (at admission or
 * by pre-validation): a problem naming the envelope and its event ID
 * (extension members "envelope" and "event"); nothing was proposed. */
static void problem_envelope(node *n, http_request *req, int code, size_t i,
                             const uint8_t id[32], const char *why)
{
    static const uint8_t none[32]; /* an envelope that does not decode */
    char h[65], detail[1024];
    hex(id, 32, h);
    int named = sodium_memcmp(id, none, 32) != 0;
    snprintf(detail, sizeof(detail),
             "envelope %zu%s%s%s: %s%s; nothing was submitted (fix or drop it "
             "and submit again)",
             i, named ? " (event " : "", named ? h : "", named ? ")" : "",
             origo_strerror(code), why);
    json_t *extra = json_pack("{s:I}", "envelope", (json_int_t)i);
    if (named)
        json_object_set_new(extra, "event", json_string(h));
    problem(n, req, 422, code, detail, extra);
}

/* ---- admission (thread pool) -------------------------------------------- */

static int set_error(waiter *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_error(waiter *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error_msg, sizeof(w->error_msg), fmt, ap);
    va_end(ap);
    w->error = code;
    return code;
}

/* Lays out n envelopes back to back in w->blob (one allocation), from a
 * list of (pointer, length). */
static int take_envelopes(waiter *w, const uint8_t *const *data,
                          const size_t *lens, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    w->blob = malloc(total ? total : 1);
    w->envs = calloc(n, sizeof(*w->envs));
    w->ids = calloc(n, sizeof(*w->ids));
    w->verdicts = calloc(n, sizeof(*w->verdicts));
    if (!w->blob || !w->envs || !w->ids || !w->verdicts)
        return set_error(w, ORIGO_E_NOMEM, "out of memory; try again");
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(w->blob + off, data[i], lens[i]);
        w->envs[i].data = w->blob + off;
        w->envs[i].len = lens[i];
        off += lens[i];
    }
    w->n = n;
    w->blob_len = total;
    return 0;
}

static int parse_json_item(waiter *w, json_t *item, size_t i, uint8_t *buf,
                           size_t *len, uint8_t claimed[32], int *has_claim)
{
    const char *key;
    json_t *v;
    const char *b64 = NULL;
    *has_claim = 0;
    if (!json_is_object(item))
        return set_error(w, ORIGO_E_JSON,
                         "item %zu: expected an object with \"envelope\"", i);
    json_object_foreach(item, key, v)
    {
        if (!strcmp(key, "envelope") && json_is_string(v)) {
            b64 = json_string_value(v);
        } else if (!strcmp(key, "id") && json_is_string(v)) {
            if (sodium_hex2bin(claimed, 32, json_string_value(v),
                               json_string_length(v), NULL, NULL, NULL) != 0 ||
                json_string_length(v) != 64)
                return set_error(w, ORIGO_E_JSON,
                                 "item %zu: \"id\" is not 64 hex digits", i);
            *has_claim = 1;
        } else if (!strcmp(key, "event")) {
            /* what `origo event` prints beside the envelope: informative */
        } else {
            return set_error(w, ORIGO_E_JSON,
                             "item %zu: unknown field \"%s\" (allowed: "
                             "envelope, id, event)",
                             i, key);
        }
    }
    if (!b64)
        return set_error(w, ORIGO_E_JSON,
                         "item %zu: \"envelope\" (base64 string) is missing",
                         i);
    const char *end;
    if (sodium_base642bin(buf, ORIGO_ENVELOPE_MAX, b64, strlen(b64), NULL, len,
                          &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0')
        return set_error(w, ORIGO_E_JSON,
                         "item %zu: \"envelope\" is not standard padded "
                         "base64 of at most %u bytes",
                         i, (unsigned)ORIGO_ENVELOPE_MAX);
    return 0;
}

static void parse_json_body(waiter *w, const uint8_t *body, size_t len)
{
    json_error_t jerr;
    json_t *doc =
        json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        set_error(w, ORIGO_E_JSON, "invalid JSON at line %d column %d: %s",
                  jerr.line, jerr.column, jerr.text);
        return;
    }
    size_t n = json_is_array(doc) ? json_array_size(doc) : 1;
    if (n == 0 || n > REPLICA_MAX_PROPOSAL_EVENTS) {
        set_error(w, n ? ORIGO_E_TOOBIG : ORIGO_E_JSON,
                  "give 1 to %u envelopes", REPLICA_MAX_PROPOSAL_EVENTS);
        json_decref(doc);
        return;
    }
    uint8_t **bufs = calloc(n, sizeof(*bufs));
    size_t *lens = calloc(n, sizeof(*lens));
    uint8_t claimed[32];
    int has_claim;
    if (!bufs || !lens) {
        set_error(w, ORIGO_E_NOMEM, "out of memory; try again");
    } else {
        for (size_t i = 0; i < n && !w->error; i++) {
            json_t *item = json_is_array(doc) ? json_array_get(doc, i) : doc;
            if (!(bufs[i] = malloc(ORIGO_ENVELOPE_MAX))) {
                set_error(w, ORIGO_E_NOMEM, "out of memory; try again");
                break;
            }
            if (parse_json_item(w, item, i, bufs[i], &lens[i], claimed,
                                &has_claim) == 0 &&
                has_claim) {
                /* The claimed ID must be the envelope's. */
                origo_envelope env;
                uint8_t id[32];
                if (origo_envelope_decode(bufs[i], lens[i], &env) == 0) {
                    origo_event_id(env.body, env.body_len, id);
                    if (memcmp(id, claimed, 32) != 0)
                        set_error(w, ORIGO_E_JSON,
                                  "item %zu: \"id\" is not the ID of the "
                                  "envelope",
                                  i);
                }
            }
        }
        if (!w->error)
            take_envelopes(w, (const uint8_t *const *)bufs, lens, n);
    }
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(lens);
    json_decref(doc);
}

/* application/msgpack: one envelope, or an array of envelopes as bin. */
static void parse_msgpack_body(waiter *w, const uint8_t *body, size_t len)
{
    if (len == 0) {
        set_error(w, ORIGO_E_TYPE, "empty body");
        return;
    }
    uint8_t b = body[0];
    if (!((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd)) {
        const uint8_t *one[1] = {body};
        take_envelopes(w, one, &len, 1);
        return;
    }
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, body, len);
    uint32_t n;
    if (origo_mp_read_array(&rd, &n, REPLICA_MAX_PROPOSAL_EVENTS) || n == 0) {
        set_error(w, ORIGO_E_TYPE,
                  "expected a MessagePack array of 1 to %u envelopes (bin)",
                  REPLICA_MAX_PROPOSAL_EVENTS);
        return;
    }
    const uint8_t **data = calloc(n, sizeof(*data));
    size_t *lens = calloc(n, sizeof(*lens));
    if (!data || !lens) {
        set_error(w, ORIGO_E_NOMEM, "out of memory; try again");
    } else {
        for (uint32_t i = 0; i < n && !w->error; i++)
            if (origo_mp_read_bin(&rd, &data[i], &lens[i],
                                  ORIGO_ENVELOPE_MAX) != 0)
                set_error(w, ORIGO_E_TYPE,
                          "item %u: expected an envelope as bin of at most %u "
                          "bytes",
                          i, (unsigned)ORIGO_ENVELOPE_MAX);
        origo_mp_leave(&rd);
        if (!w->error && origo_mp_reader_finish(&rd) != 0)
            set_error(w, ORIGO_E_TYPE, "trailing bytes after the array");
        if (!w->error)
            take_envelopes(w, data, lens, n);
    }
    free(data);
    free(lens);
}

static void admit_work(uv_work_t *work)
{
    waiter *w = work->data;
    node *n = w->node;
    if (w->input_msgpack)
        parse_msgpack_body(w, w->input, w->input_len);
    else
        parse_json_body(w, w->input, w->input_len);
    if (w->error)
        return;
    const char *origin = n->gen->origin;
    for (size_t i = 0; i < w->n; i++) {
        w->verdicts[i] =
            origo_envelope_verify(w->envs[i].data, w->envs[i].len, origin,
                                  strlen(origin), NULL, w->ids[i]);
        /* Kept for when its entry comes back from the leader; one that a
         * follower forwarded here is never forwarded again. */
        if (w->verdicts[i] == 0 && !w->forwarded)
            sigseen_add(n->seen, w->envs[i].data, w->envs[i].len);
        origo_envelope env; /* a refused one is named by its ID if it has one */
        if (w->verdicts[i] &&
            origo_envelope_decode(w->envs[i].data, w->envs[i].len, &env) == 0)
            origo_event_id(env.body, env.body_len, w->ids[i]);
    }
}

/* ---- proposing ---------------------------------------------------------- */

static void send_answer(node *n, waiter *w, int code)
{
    uint8_t b[28];
    be_put64(b, w->fwd_id);
    be_put32(b + 8, (uint32_t)code);
    be_put64(b + 12, w->index);
    be_put64(b + 20, w->term);
    node_send_to(n, node_peer_link(n, w->from_key), MSG_ANSWER, b, sizeof(b),
                 NULL, 0);
}

/* Answers a submission that cannot go on; frees forwarded ones. */
static void fail_waiter(node *n, waiter *w, unsigned status, int code,
                        const char *detail)
{
    if (w->req)
        api_problem(n, w->req, status, code, "%s", detail);
    else if (w->forwarded)
        send_answer(n, w, code);
    waiter_free(w);
}

static int is_leader(node *n)
{
    struct raft_status st;
    replica_status(n->rep, &st);
    return st.role == RAFT_LEADER;
}

/* The first envelope of w whose verdict is a refusal, or -1. A duplicate
 * is never refused here: apply answers it with its first commit. */
static long first_refused(const waiter *w, const ledger_outcome *out)
{
    for (size_t i = 0; i < w->n; i++)
        if (out[i].status && out[i].status != ORIGO_E_DUPLICATE_EVENT)
            return (long)i;
    return -1;
}

/* Pre-validation (docs/api.md, "Pre-validation"): the batch of `subs`
 * queued submissions is run through apply without storing it, against the
 * applied state; a submission with an envelope apply would reject is
 * checked again after the blocks in flight, and refused (422, nothing
 * proposed) only when both say so: an event that needs a block in flight,
 * or that only a block in flight would make fail, is proposed, and apply
 * decides. Returns how many submissions were refused; 0 also when the
 * preview could not run (apply decides). */
static size_t prevalidate(node *n, size_t subs, const ledger_envelope *envs,
                          size_t count, uint64_t time_ms)
{
    ledger_outcome *now = calloc(count, sizeof(*now));
    ledger_outcome *later = calloc(count, sizeof(*later));
    size_t refused = 0, suspects = 0, k = 0;
    waiter *w = n->queued.head;
    if (!now || !later ||
        replica_preview(n->rep, time_ms, envs, count, 0, now) != 0)
        goto out;
    for (size_t s = 0; s < subs; s++, w = w->next) {
        w->previewed = 1;
        suspects += first_refused(w, now + k) >= 0;
        k += w->n;
    }
    struct raft_status st;
    replica_status(n->rep, &st);
    int in_flight = st.last_index > replica_applied(n->rep);
    const ledger_outcome *after = in_flight ? later : now;
    if (!suspects || (in_flight && replica_preview(n->rep, time_ms, envs, count,
                                                   1, later) != 0))
        goto out;
    k = 0;
    w = n->queued.head;
    for (size_t s = 0; s < subs; s++) {
        waiter *next = w->next;
        long i = first_refused(w, now + k);
        long j = first_refused(w, after + k);
        k += w->n;
        if (i >= 0 && j >= 0) {
            int code = after[k - w->n + (size_t)j].status;
            list_remove(&n->queued, w);
            n->queued_events -= w->n;
            n->queued_bytes -= w->blob_len;
            n->m.refused[-code & 0xff]++;
            refused++;
            if (w->req) {
                problem_envelope(n, w->req, code, (size_t)j, w->ids[j],
                                 ": the ledger would reject it");
                waiter_free(w);
            } else {
                w->index = (uint64_t)j; /* the envelope, for the follower */
                fail_waiter(n, w, 422, code, "");
            }
        }
        w = next;
    }
out:
    free(now);
    free(later);
    return refused;
}

static void api_flush(node *n)
{
    uv_timer_stop(&n->batch);
    while (n->queued.head) {
        /* One block: whole submissions, up to the batch's bounds. */
        size_t count = 0, bytes = 0, subs = 0;
        int fresh = 0;
        for (waiter *w = n->queued.head; w; w = w->next) {
            if (subs > 0 && (count + w->n > n->cfg.batch_max_events ||
                             bytes + w->blob_len + 16 * w->n >
                                 REPLICA_MAX_PROPOSAL_BYTES - 64))
                break;
            count += w->n;
            bytes += w->blob_len + 16 * w->n;
            subs++;
            fresh |= !w->previewed;
        }
        ledger_envelope *envs = calloc(count, sizeof(*envs));
        if (!envs)
            return; /* the next flush tries again */
        size_t k = 0;
        waiter *w = n->queued.head;
        for (size_t s = 0; s < subs; s++, w = w->next)
            for (size_t i = 0; i < w->n; i++)
                envs[k++] = w->envs[i];
        uint64_t time_ms = node_block_time_ms(n, NULL);
        if (fresh && n->cfg.prevalidate &&
            prevalidate(n, subs, envs, count, time_ms) > 0) {
            free(envs); /* gather the batch again without them */
            continue;
        }
        uint64_t index = 0, term = 0;
        int rc =
            replica_propose(n->rep, time_ms, envs, count, 1, &index, &term);
        free(envs);
        /* A failed write is fatal: these waiters hear why, then the node
         * stops (after the loop: stopping fails the queued ones). */
        int failed = replica_failed(n->rep);
        for (size_t s = 0; s < subs; s++) {
            waiter *x = n->queued.head;
            list_remove(&n->queued, x);
            n->queued_events -= x->n;
            n->queued_bytes -= x->blob_len;
            if (rc) {
                fail_waiter(n, x, 503, rc,
                            failed ? "this node could not store the block and "
                                     "is stopping; submit again"
                                   : "this node lost the leadership before "
                                     "proposing; submit again");
                continue;
            }
            x->index = index;
            x->term = term;
            x->t_indexed = now_us();
            if (!x->req) {
                send_answer(n, x, 0);
                waiter_free(x);
            } else if (!x->wait_commit) {
                char h[65];
                json_t *ids = json_array();
                for (size_t i = 0; i < x->n; i++) {
                    hex(x->ids[i], 32, h);
                    json_array_append_new(ids, json_pack("{s:s, s:s}", "id", h,
                                                         "status", "pending"));
                }
                respond_json(n, x->req, 202, JSON_TYPE,
                             json_pack("{s:o, s:I, s:I}", "results", ids,
                                       "raft_index", (json_int_t)index,
                                       "raft_term", (json_int_t)term),
                             0);
                waiter_free(x);
            } else {
                x->state = W_INFLIGHT;
                list_push(&n->inflight, x);
                n->inflight_events += x->n;
                n->inflight_bytes += x->blob_len;
            }
        }
        if (rc && rc != ORIGO_E_TOOBIG && rc != ORIGO_E_NOMEM)
            break;
    }
    node_check_replica(n, "propose");
}

static void on_batch_timer(uv_timer_t *t)
{
    node *n = t->data;
    api_flush(n);
    api_on_applied(n);
}

static void encode_forward(waiter *w, origo_buf *b)
{
    uint8_t id[8];
    be_put64(id, w->fwd_id);
    origo_buf_append(b, id, 8);
    origo_mp_put_array(b, (uint32_t)w->n);
    for (size_t i = 0; i < w->n; i++)
        origo_mp_put_bin(b, w->envs[i].data, w->envs[i].len);
}

/* After admission, on the loop: refuse, answer from the ledger, queue at
 * the leader, or forward to it. */
static void admit_done(uv_work_t *work, int status)
{
    (void)status;
    waiter *w = work->data;
    node *n = w->node;
    w->t_verified = now_us();
    list_remove(&n->admitting, w);
    free(w->input);
    w->input = NULL;
    if (n->stopping || (!w->req && !w->forwarded)) {
        if (w->req)
            api_problem(n, w->req, 503, ORIGO_E_SHUTDOWN,
                        "the node is stopping; submit to another node");
        waiter_free(w);
        return;
    }
    if (w->error) {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s", w->error_msg);
        fail_waiter(n, w, w->error == ORIGO_E_NOMEM ? 503 : 400, w->error,
                    detail);
        return;
    }
    n->m.verified += w->n;
    for (size_t i = 0; i < w->n; i++) {
        if (!w->verdicts[i])
            continue;
        if (w->req) {
            problem_envelope(n, w->req, w->verdicts[i], i, w->ids[i], "");
            waiter_free(w);
        } else {
            w->index = i; /* the envelope, for the follower */
            fail_waiter(n, w, 422, w->verdicts[i], "");
        }
        return;
    }
    /* Known events are answered with their first commit. */
    size_t known = 0;
    for (size_t i = 0; i < w->n; i++) {
        ledger_event_info info;
        if (ledger_event_lookup(replica_ledger(n->rep), NULL, w->ids[i],
                                &info) == 0 &&
            info.status == LEDGER_EVENT_COMMITTED)
            known++;
    }
    if (known == w->n && w->req && w->wait_commit) {
        answer_committed(n, w);
        waiter_free(w);
        return;
    }
    if (n->queued_events + n->inflight_events + w->n >
            n->cfg.queue_max_events ||
        n->queued_bytes + n->inflight_bytes + w->blob_len >
            n->cfg.queue_max_bytes) {
        fail_waiter(n, w, 429, ORIGO_E_BUSY,
                    "the node's submission queue is full; retry after the "
                    "Retry-After delay");
        return;
    }
    if (is_leader(n)) {
        w->state = W_QUEUED;
        list_push(&n->queued, w);
        n->queued_events += w->n;
        n->queued_bytes += w->blob_len;
        if (n->queued_events >= n->cfg.batch_max_events ||
            n->cfg.batch_ms == 0) {
            api_flush(n);
            api_on_applied(n);
        } else if (!uv_is_active((uv_handle_t *)&n->batch)) {
            uv_timer_start(&n->batch, on_batch_timer, n->cfg.batch_ms, 0);
        }
        return;
    }
    if (!w->req) {
        fail_waiter(n, w, 503, ORIGO_E_NOT_LEADER, "not the leader");
        return;
    }
    peer_link *leader = node_leader_link(n);
    if (!leader) {
        fail_waiter(n, w, 503, ORIGO_E_NOT_LEADER,
                    "no leader is known right now (an election is under "
                    "way, or this node is cut off); retry shortly");
        return;
    }
    w->fwd_id = ++n->next_fwd_id;
    origo_buf b;
    origo_buf_init(&b, REPLICA_MAX_PROPOSAL_BYTES + 16);
    encode_forward(w, &b);
    if (b.err) {
        origo_buf_close(&b);
        fail_waiter(n, w, 503, b.err, "cannot forward; try again");
        return;
    }
    node_send_to(n, leader, MSG_FORWARD, b.data, b.len, NULL, 0);
    origo_buf_close(&b);
    w->state = W_FORWARDED;
    list_push(&n->inflight, w);
    n->inflight_events += w->n;
    n->inflight_bytes += w->blob_len;
}

/* Parses and verifies a submission on the thread pool; takes `body`. */
static void admit(node *n, waiter *w, uint8_t *body, size_t len, int msgpack)
{
    w->node = n;
    w->state = W_ADMIT;
    w->t_received = now_us();
    w->deadline_ms = http_monotonic_ms() + n->cfg.http_timeout_ms;
    w->input = body;
    w->input_len = len;
    w->input_msgpack = msgpack;
    w->work.data = w;
    n->m.submitted++;
    if (uv_queue_work(&n->loop, &w->work, admit_work, admit_done) != 0) {
        free(w->input);
        w->input = NULL;
        fail_waiter(n, w, 503, ORIGO_E_SHUTDOWN, "the node is stopping");
        return;
    }
    /* Listed, so that a request answered at shutdown is detached. */
    list_push(&n->admitting, w);
}

/* A follower's forwarded submission, at (what it thinks is) the leader. */
void api_on_forward(node *n, peer_link *from, const uint8_t *msg, size_t len)
{
    if (len < 9)
        return;
    waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return; /* the follower's request times out */
    w->fwd_id = be_get64(msg);
    const uint8_t *key = peer_key(from);
    if (!key) {
        free(w);
        return;
    }
    w->forwarded = 1;
    memcpy(w->from_key, key, 32);
    /* The body must outlive the work: keep a copy in blob until parsed. */
    uint8_t *copy = malloc(len - 8);
    if (!copy) {
        free(w);
        return;
    }
    memcpy(copy, msg + 8, len - 8);
    w->wait_commit = 1;
    admit(n, w, copy, len - 8, 1);
}

/* The leader's answer to one of our forwarded submissions. */
void api_on_answer(node *n, const uint8_t *msg, size_t len)
{
    if (len != 28)
        return;
    uint64_t id = be_get64(msg), index = be_get64(msg + 12),
             term = be_get64(msg + 20);
    uint32_t code = be_get32(msg + 8);
    for (waiter *w = n->inflight.head; w; w = w->next) {
        if (w->state != W_FORWARDED || w->fwd_id != id)
            continue;
        if (code != 0) {
            list_remove(&n->inflight, w);
            n->inflight_events -= w->n;
            n->inflight_bytes -= w->blob_len;
            int c = (int32_t)code;
            if (c == ORIGO_E_NOT_LEADER || c == ORIGO_E_BUSY ||
                c == ORIGO_E_SHUTDOWN || c == ORIGO_E_NOMEM) {
                fail_waiter(n, w, 503, c,
                            "the leader could not take the submission (a "
                            "leader change, or it is busy); submit again");
            } else if (w->req && index < w->n) {
                problem_envelope(n, w->req, c, (size_t)index, w->ids[index],
                                 " (the leader refused it)");
                waiter_free(w);
            } else {
                fail_waiter(n, w, 422, c, "the leader refused the submission");
            }
            return;
        }
        w->state = W_INFLIGHT;
        w->index = index;
        w->term = term;
        w->t_indexed = now_us();
        api_on_applied(n);
        return;
    }
}

/* Answers every submission whose entry this node has applied. */
void api_on_applied(node *n)
{
    uint64_t applied = replica_applied(n->rep);
    waiter *w = n->inflight.head;
    while (w) {
        waiter *next = w->next;
        if (w->state == W_INFLIGHT && w->index <= applied) {
            list_remove(&n->inflight, w);
            n->inflight_events -= w->n;
            n->inflight_bytes -= w->blob_len;
            answer_committed(n, w);
            waiter_free(w);
        }
        w = next;
    }
}

/* Submissions past their deadline are answered 503. */
void api_sweep(node *n)
{
    uint64_t now = http_monotonic_ms();
    waiter_list *lists[2] = {&n->queued, &n->inflight};
    for (int l = 0; l < 2; l++) {
        waiter *w = lists[l]->head;
        while (w) {
            waiter *next = w->next;
            if (now >= w->deadline_ms) {
                list_remove(lists[l], w);
                if (l == 0) {
                    n->queued_events -= w->n;
                    n->queued_bytes -= w->blob_len;
                } else {
                    n->inflight_events -= w->n;
                    n->inflight_bytes -= w->blob_len;
                }
                fail_waiter(n, w, 503, ORIGO_E_TIMEOUT,
                            "not committed within the request timeout; ask "
                            "GET /v1/events/{id} or submit again");
            }
            w = next;
        }
    }
}

static void detach(waiter_list *l, http_request *req)
{
    for (waiter *w = l->head; w; w = w->next)
        if (w->req == req)
            w->req = NULL;
}

void api_refuse(void *ctx, http_request *req)
{
    node *n = ctx;
    detach(&n->admitting, req);
    detach(&n->queued, req);
    detach(&n->inflight, req);
    api_problem(n, req, 503, ORIGO_E_SHUTDOWN,
                "the node is stopping; submit to another node or try again "
                "when it is back");
}

void api_stop(node *n)
{
    waiter_list *lists[2] = {&n->queued, &n->inflight};
    for (int l = 0; l < 2; l++)
        while (lists[l]->head) {
            waiter *w = lists[l]->head;
            list_remove(lists[l], w);
            if (w->req)
                api_problem(n, w->req, 503, ORIGO_E_SHUTDOWN,
                            "the node is stopping");
            waiter_free(w);
        }
}

/* ---- reads -------------------------------------------------------------- */

const char *api_arg(const http_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_args; i++)
        if (!strcmp(req->args[i].key, key))
            return req->args[i].value;
    return NULL;
}

/* A query argument as a whole number; -1 when absent, -2 when malformed. */
int api_arg_u64(const http_request *req, const char *key, uint64_t *out)
{
    const char *v = api_arg(req, key);
    if (!v)
        return -1;
    return route_parse_u64(v, out) == 0 ? 0 : -2;
}

static json_t *hashes_json(const uint8_t (*h)[32], size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; i < count; i++) {
        char b64[64];
        sodium_bin2base64(b64, sizeof(b64), h[i], 32,
                          sodium_base64_VARIANT_ORIGINAL);
        json_array_append_new(a, json_string(b64));
    }
    return a;
}

/* The latest checkpoint, or lot index note, with a quorum. */
static void get_note(node *n, http_request *req, int index)
{
    char *note = NULL;
    size_t len;
    uint64_t size;
    ledger *led = replica_ledger(n->rep);
    int rc = index ? ledger_lot_index_latest(led, NULL, &note, &len, &size)
                   : ledger_checkpoint_latest(led, NULL, &note, &len, &size);
    if (rc == ORIGO_E_NOTFOUND) {
        api_problem(n, req, 404, rc,
                    "no %s has a quorum of validator signatures yet; one "
                    "follows the first committed event",
                    index ? "lot index note" : "checkpoint");
        return;
    }
    if (rc) {
        api_problem(n, req, 500, rc, "cannot read the %s",
                    index ? "lot index note" : "checkpoint");
        return;
    }
    n->m.http_requests++;
    http_respond(n->http, req, 200, "text/plain; charset=utf-8", note, len, 0);
}

static void get_checkpoint(node *n, http_request *req, const char *rest)
{
    (void)rest;
    get_note(n, req, 0);
}

static void get_lot_index_note(node *n, http_request *req, const char *rest)
{
    (void)rest;
    get_note(n, req, 1);
}

static void get_inclusion(node *n, http_request *req, const char *rest)
{
    (void)rest;
    ledger *led = replica_ledger(n->rep);
    uint64_t leaf, size;
    int a = api_arg_u64(req, "leaf", &leaf),
        b = api_arg_u64(req, "size", &size);
    if (a != 0 || b == -2) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "give leaf=N (a leaf index) and optionally size=M (a tree "
                    "size; default: the latest checkpoint's)");
        return;
    }
    char *note = NULL;
    size_t note_len = 0;
    if (b == -1) {
        uint64_t s;
        int rc = ledger_checkpoint_latest(led, NULL, &note, &note_len, &s);
        if (rc) {
            api_problem(n, req, rc == ORIGO_E_NOTFOUND ? 404 : 500, rc,
                        "no quorum checkpoint yet: give size=M");
            return;
        }
        size = s;
    }
    uint8_t hashes[65][32];
    size_t count;
    int rc = ledger_inclusion_proof(led, NULL, leaf, size, hashes, 65, &count);
    if (rc) {
        free(note);
        api_problem(n, req, 400, rc,
                    "no inclusion proof of leaf %llu in a tree of %llu leaves "
                    "(the leaf must be below the size, the size at most this "
                    "node's tree)",
                    (unsigned long long)leaf, (unsigned long long)size);
        return;
    }
    json_t *doc =
        json_pack("{s:I, s:I, s:o}", "leaf", (json_int_t)leaf, "tree_size",
                  (json_int_t)size, "hashes", hashes_json(hashes, count));
    if (note)
        json_object_set_new(doc, "checkpoint", json_stringn(note, note_len));
    free(note);
    respond_json(n, req, 200, JSON_TYPE, doc, 0);
}

static void get_consistency(node *n, http_request *req, const char *rest)
{
    (void)rest;
    uint64_t old_size, new_size;
    if (api_arg_u64(req, "old", &old_size) != 0 ||
        api_arg_u64(req, "new", &new_size) != 0) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "give old=N and new=M, two tree sizes with N <= M");
        return;
    }
    uint8_t hashes[130][32];
    size_t count;
    int rc = ledger_consistency_proof(replica_ledger(n->rep), NULL, old_size,
                                      new_size, hashes, 130, &count);
    if (rc) {
        api_problem(
            n, req, 400, rc,
            "no consistency proof from %llu to %llu leaves (need old <= "
            "new <= this node's tree size)",
            (unsigned long long)old_size, (unsigned long long)new_size);
        return;
    }
    respond_json(n, req, 200, JSON_TYPE,
                 json_pack("{s:I, s:I, s:o}", "old", (json_int_t)old_size,
                           "new", (json_int_t)new_size, "hashes",
                           hashes_json(hashes, count)),
                 0);
}

/* A C2SP tlog-tiles hash tile (public: hashes only; entry tiles, which
 * would carry event bytes, are not served). */
static void get_tile(node *n, http_request *req, const char *rest)
{
    unsigned level, width;
    uint64_t index;
    if (route_parse_tile(rest, &level, &index, &width) != 0) {
        api_problem(n, req, 404, ORIGO_E_NOTFOUND,
                    "not a hash tile path: /tile/<L>/<N>[.p/<W>] with L "
                    "0..7, N in groups of three digits (x001/234), W "
                    "1..255 (C2SP tlog-tiles); entry tiles are not served");
        return;
    }
    uint8_t *data = malloc((size_t)width * 32);
    if (!data) {
        api_problem(n, req, 503, ORIGO_E_NOMEM, "out of memory; try again");
        return;
    }
    int rc =
        ledger_tile(replica_ledger(n->rep), NULL, level, index, width, data);
    if (rc == 0) {
        n->m.http_requests++;
        http_respond(n->http, req, 200, "application/octet-stream",
                     (char *)data, (size_t)width * 32, 0);
        return;
    }
    free(data);
    api_problem(n, req, rc == ORIGO_E_TREE_SIZE ? 404 : 500, rc,
                "the tree does not have this tile yet (or, for a partial "
                "tile, only a wider one)");
}

/* A block header (public: hashes and counts, no event content). */
static void get_block(node *n, http_request *req, const char *rest)
{
    uint64_t height = 0;
    if (route_parse_u64(rest, &height) != 0 || height == 0) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "a block height is a whole number from 1");
        return;
    }
    ledger_block_header h;
    uint8_t hash[32];
    int rc = ledger_block_get(replica_ledger(n->rep), NULL, height, &h, hash);
    if (rc) {
        api_problem(n, req, rc == ORIGO_E_NOTFOUND ? 404 : 500, rc,
                    "no block %llu here", (unsigned long long)height);
        return;
    }
    char hx[65], prev[65], env[65], root[65];
    hex(hash, 32, hx);
    hex(h.prev_hash, 32, prev);
    hex(h.envelopes_hash, 32, env);
    hex(h.root, 32, root);
    api_respond_json(
        n, req, 200,
        json_pack(
            "{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I, "
            "s:s}",
            "height", (json_int_t)h.height, "hash", hx, "prev", prev, "time",
            (json_int_t)h.block_time, "raft_term", (json_int_t)h.raft_term,
            "raft_index", (json_int_t)h.raft_index, "envelope_count",
            (json_int_t)h.envelope_count, "envelopes_hash", env, "first_leaf",
            (json_int_t)h.first_leaf, "leaf_count", (json_int_t)h.leaf_count,
            "tree_size", (json_int_t)h.tree_size, "root", root));
}

static int in_list(const waiter_list *l, const uint8_t id[32])
{
    for (const waiter *w = l->head; w; w = w->next)
        for (size_t i = 0; i < w->n; i++)
            if (!memcmp(w->ids[i], id, 32))
                return 1;
    return 0;
}

static void get_event(node *n, http_request *req, const char *hexid)
{
    uint8_t id[32];
    size_t got = 0;
    if (strlen(hexid) != 64 ||
        sodium_hex2bin(id, 32, hexid, 64, NULL, &got, NULL) != 0 || got != 32) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "an event ID is 64 hex digits (SHA-256 of the event body)");
        return;
    }
    int unknown = 0;
    json_t *r = event_result(n, id, &unknown);
    if (r) {
        respond_json(n, req, 200, JSON_TYPE, r, 0);
        return;
    }
    if (in_list(&n->queued, id) || in_list(&n->inflight, id)) {
        respond_json(n, req, 200, JSON_TYPE,
                     json_pack("{s:s, s:s}", "id", hexid, "status", "pending"),
                     0);
        return;
    }
    api_problem(n, req, 404, ORIGO_E_NOTFOUND,
                "this node knows no event %s (not committed, not rejected, not "
                "pending here)",
                hexid);
}

static const char *peer_name(node *n, uint64_t id)
{
    if (id == n->self_id)
        return n->self_name;
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->id == id)
            return n->peers[i]->name;
    return NULL;
}

static size_t peers_active(node *n)
{
    size_t k = 0;
    for (size_t i = 0; i < n->n_peers; i++)
        k += n->peers[i]->active;
    return k;
}

static size_t peers_up(node *n)
{
    size_t up = 0;
    for (size_t i = 0; i < n->n_peers; i++)
        up += n->peers[i]->link != NULL;
    return up;
}

static void get_status(node *n, http_request *req, const char *rest)
{
    (void)rest;
    struct raft_status st;
    replica_status(n->rep, &st);
    ledger_state ls;
    ledger_get_state(replica_ledger(n->rep), NULL, &ls);
    const char *leader = peer_name(n, st.leader);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "network", n->gen->origin, "validator", n->self_name, "role",
        raft_role_name(st.role), "term", (json_int_t)st.term, "commit",
        (json_int_t)st.commit, "applied", (json_int_t)replica_applied(n->rep),
        "height", (json_int_t)ls.height, "tree_size", (json_int_t)ls.tree_size,
        "peers", (json_int_t)peers_active(n), "peers_up",
        (json_int_t)peers_up(n), "queued", (json_int_t)n->queued_events,
        "inflight", (json_int_t)n->inflight_events);
    json_object_set_new(doc, "leader",
                        leader ? json_string(leader) : json_null());
    /* This validator's clock against the network's median (what a block
     * it proposed now would be dated), and how many peers' clocks that
     * median counts. */
    size_t heard;
    int64_t offset = node_clock_offset_ms(n, &heard);
    json_object_set_new(doc, "clocks_heard", json_integer((json_int_t)heard));
    json_object_set_new(doc, "clock_offset_ms", json_integer(offset));
    json_t *voters = json_array(), *learners = json_array();
    for (uint32_t i = 0; i < st.config.n_voters; i++) {
        const char *v = peer_name(n, st.config.voters[i]);
        json_array_append_new(voters, json_string(v ? v : "?"));
    }
    for (uint32_t i = 0; i < st.config.n_learners; i++) {
        const char *v = peer_name(n, st.config.learners[i]);
        json_array_append_new(learners, json_string(v ? v : "?"));
    }
    json_object_set_new(doc, "voters", voters);
    json_object_set_new(doc, "learners", learners);
    respond_json(n, req, 200, JSON_TYPE, doc, 0);
}

static void get_metrics(node *n, http_request *req, const char *rest)
{
    (void)rest;
    struct raft_status st;
    replica_status(n->rep, &st);
    ledger_state ls;
    ledger_get_state(replica_ledger(n->rep), NULL, &ls);
    origo_buf b;
    origo_buf_init(&b, 1u << 20);
    char line[256];
#define PUT(...)                                                               \
    do {                                                                       \
        int w_ = snprintf(line, sizeof(line), __VA_ARGS__);                    \
        if (w_ > 0)                                                            \
            origo_buf_append(&b, line,                                         \
                             (size_t)w_ < sizeof(line) ? (size_t)w_            \
                                                       : sizeof(line) - 1);    \
    } while (0)
    PUT("# TYPE origo_commit_index gauge\norigo_commit_index %llu\n",
        (unsigned long long)st.commit);
    PUT("# TYPE origo_applied_index gauge\norigo_applied_index %llu\n",
        (unsigned long long)replica_applied(n->rep));
    PUT("# TYPE origo_tree_size gauge\norigo_tree_size %llu\n",
        (unsigned long long)ls.tree_size);
    PUT("# TYPE origo_term gauge\norigo_term %llu\n",
        (unsigned long long)st.term);
    PUT("# TYPE origo_is_leader gauge\norigo_is_leader %d\n",
        st.role == RAFT_LEADER);
    size_t readers = 0;
    uint64_t lag = 0;
    if (ledger_readers(replica_ledger(n->rep), &readers, &lag) == 0)
        PUT("# TYPE origo_lmdb_readers gauge\norigo_lmdb_readers %zu\n"
            "# TYPE origo_lmdb_oldest_reader_lag gauge\n"
            "origo_lmdb_oldest_reader_lag %llu\n",
            readers, (unsigned long long)lag);
    long size = 0, pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm && fscanf(statm, "%ld %ld", &size, &pages) == 2)
        PUT("# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes %lld\n",
            (long long)pages * (long long)sysconf(_SC_PAGESIZE));
    if (statm)
        fclose(statm);
    PUT("# TYPE origo_peers_up gauge\norigo_peers_up %zu\n", peers_up(n));
    PUT("# TYPE origo_queue_events gauge\norigo_queue_events{state=\"queued\"} "
        "%zu\norigo_queue_events{state=\"inflight\"} %zu\n",
        n->queued_events, n->inflight_events);
    PUT("# TYPE origo_submitted_total counter\norigo_submitted_total %llu\n",
        (unsigned long long)n->m.submitted);
    PUT("# TYPE origo_verified_total counter\norigo_verified_total %llu\n",
        (unsigned long long)n->m.verified);
    PUT("# TYPE origo_blocks_checked_ahead_total counter\n"
        "origo_blocks_checked_ahead_total %llu\n",
        (unsigned long long)n->m.checked_ahead);
    PUT("# TYPE origo_blocks_checked_joined_total counter\n"
        "origo_blocks_checked_joined_total %llu\n",
        (unsigned long long)n->m.checked_joined);
    PUT("# TYPE origo_events_checked_by_applier_total counter\n"
        "origo_events_checked_by_applier_total %llu\n",
        (unsigned long long)n->m.checked_here);
    PUT("# TYPE origo_events_checked_at_submission_total counter\n"
        "origo_events_checked_at_submission_total %llu\n",
        (unsigned long long)n->m.checked_seen);
    PUT("# TYPE origo_committed_events_total counter\n"
        "origo_committed_events_total %llu\n",
        (unsigned long long)n->m.committed);
    PUT("# TYPE origo_blocks_applied_total counter\n"
        "origo_blocks_applied_total %llu\n",
        (unsigned long long)n->m.blocks);
    PUT("# TYPE origo_rejected_total counter\n");
    for (int c = 1; c < 256; c++)
        if (n->m.rejected[c])
            PUT("origo_rejected_total{code=\"%s\"} %llu\n", origo_errname(-c),
                (unsigned long long)n->m.rejected[c]);
    PUT("# TYPE origo_refused_total counter\n");
    for (int c = 1; c < 256; c++)
        if (n->m.refused[c])
            PUT("origo_refused_total{code=\"%s\"} %llu\n", origo_errname(-c),
                (unsigned long long)n->m.refused[c]);
    PUT("# TYPE origo_lost_total counter\norigo_lost_total %llu\n",
        (unsigned long long)n->m.lost);
    PUT("# TYPE origo_http_requests_total counter\n"
        "origo_http_requests_total %llu\n",
        (unsigned long long)n->m.http_requests);
    PUT("# TYPE origo_http_throttled_total counter\n"
        "origo_http_throttled_total %llu\n",
        (unsigned long long)n->m.http_429);
    uint64_t refused[HTTP_REFUSED_REASONS] = {0};
    if (n->http)
        http_refused(n->http, refused);
    PUT("# TYPE origo_http_refused_connections_total counter\n"
        "origo_http_refused_connections_total{reason=\"max_per_client\"} "
        "%llu\n"
        "origo_http_refused_connections_total{reason=\"max_connections\"} "
        "%llu\n",
        (unsigned long long)refused[HTTP_REFUSED_PER_CLIENT],
        (unsigned long long)refused[HTTP_REFUSED_TOTAL]);
    static const char *const le[] = {"0.001", "0.002", "0.005", "0.01", "0.02",
                                     "0.05",  "0.1",   "0.2",   "0.5",  "1",
                                     "2",     "5",     "10",    "+Inf"};
    PUT("# TYPE origo_submit_commit_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < 14; i++) {
        cum += n->m.lat_buckets[i];
        PUT("origo_submit_commit_seconds_bucket{le=\"%s\"} %llu\n", le[i],
            (unsigned long long)cum);
    }
    PUT("origo_submit_commit_seconds_sum %.3f\n",
        (double)n->m.lat_sum_ms / 1000.0);
    PUT("origo_submit_commit_seconds_count %llu\n",
        (unsigned long long)n->m.lat_count);
    static const char *const stage[] = {"verify", "index", "apply"};
    PUT("# TYPE origo_submit_stage_seconds summary\n");
    for (size_t i = 0; i < 3; i++)
        PUT("origo_submit_stage_seconds_sum{stage=\"%s\"} %.6f\n", stage[i],
            (double)n->m.stage_us[i] / 1e6);
    for (size_t i = 0; i < 3; i++)
        PUT("origo_submit_stage_seconds_count{stage=\"%s\"} %llu\n", stage[i],
            (unsigned long long)n->m.stage_count);
#undef PUT
    if (b.err) {
        origo_buf_close(&b);
        api_problem(n, req, 500, ORIGO_E_NOMEM, "out of memory");
        return;
    }
    api_respond_bytes(n, req, 200, "text/plain; version=0.0.4", b.data, b.len);
    origo_buf_close(&b);
}

/* ---- routing ------------------------------------------------------------ */

static void post_events(node *n, http_request *req, const char *rest)
{
    (void)rest;
    if (req->body_too_big) {
        api_problem(n, req, 413, ORIGO_E_TOOBIG,
                    "the body is over [http] max_body (%llu bytes); submit "
                    "fewer envelopes per request",
                    (unsigned long long)n->cfg.http_max_body);
        return;
    }
    const char *wait = api_arg(req, "wait");
    if (wait && strcmp(wait, "commit") && strcmp(wait, "none")) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "wait is commit (the default: answer once committed) "
                    "or none (answer once proposed)");
        return;
    }
    int msgpack = !strncmp(req->content_type, "application/msgpack", 19);
    if (!msgpack && req->content_type[0] &&
        strncmp(req->content_type, "application/json", 16) &&
        strncmp(req->content_type, "application/x-www-form-urlencoded", 33)) {
        api_problem(n, req, 415, ORIGO_E_UNSUPPORTED,
                    "send application/json ({\"envelope\": base64} or an "
                    "array of them) or application/msgpack");
        return;
    }
    waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        api_problem(n, req, 503, ORIGO_E_NOMEM, "out of memory; try again");
        return;
    }
    w->req = req;
    w->wait_commit = !wait || !strcmp(wait, "commit");
    /* The body moves to the submission: the request may be answered
     * (at shutdown) while the thread pool still parses it. */
    uint8_t *body = req->body;
    req->body = NULL;
    admit(n, w, body, req->body_len, msgpack);
}

static void get_healthz(node *n, http_request *req, const char *rest)
{
    (void)rest;
    respond_json(n, req, n->fatal ? 503 : 200, JSON_TYPE,
                 json_pack("{s:s}", "status", n->fatal ? "failed" : "ok"), 0);
}

/* Every route; docs/api.yaml documents each (tests/cluster/test_node.py
 * checks both ways). A path ending in '/' matches any one segment after
 * it, handed to the handler as `rest`. */
typedef struct route {
    route_pattern pattern; /* first: route_find() reads it */
    void (*fn)(node *n, http_request *req, const char *rest);
} route;

static const route routes[] = {
    {{"POST", "/v1/events"}, post_events},
    {{"GET", "/v1/events/"}, get_event},
    {{"GET", "/v1/envelopes/"}, reads_get_envelope},
    {{"GET", "/v1/proofs/"}, reads_get_proof},
    {{"GET", "/v1/lots/events"}, reads_get_lot_events},
    {{"GET", "/v1/trace"}, reads_get_trace},
    {{"GET", "/v1/members"}, reads_get_members},
    {{"GET", "/v1/blocks/"}, get_block},
    {{"GET", "/tile/**"}, get_tile},
    {{"GET", "/v1/proof/inclusion"}, get_inclusion},
    {{"GET", "/v1/proof/consistency"}, get_consistency},
    {{"GET", "/v1/status"}, get_status},
    {{"GET", "/checkpoint"}, get_checkpoint},
    {{"GET", "/v1/lot-index/note"}, get_lot_index_note},
    {{"GET", "/healthz"}, get_healthz},
    {{"GET", "/metrics"}, get_metrics},
};

void api_handle(void *ctx, http_request *req)
{
    node *n = ctx;
    const char *p = req->path;
    if (req->bad_args) {
        api_problem(n, req, 400, ORIGO_E_INVAL,
                    "too many or too long query arguments (at most %d, values "
                    "under 160 bytes)",
                    HTTP_MAX_ARGS);
        return;
    }
    const char *rest = "", *allowed = NULL;
    int i = route_find(routes, sizeof(routes) / sizeof(routes[0]),
                       sizeof(routes[0]), req->method, p, &rest, &allowed);
    if (i >= 0)
        routes[i].fn(n, req, rest);
    else if (i == ROUTE_WRONG_METHOD)
        api_problem(n, req, 405, ORIGO_E_INVAL, "%s takes %s", p, allowed);
    else
        api_problem(n, req, 404, ORIGO_E_NOTFOUND,
                    "no such endpoint: %s (see docs/api.yaml)", p);
}
