/* The Origo client over libcurl (origo/client.h). */
#include "origo/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "origo/error.h"
#include "origo/event.h"
#include "origo/httpsig.h"
#include "origo/merkle.h"
#include "origo/proof.h"
#include "report_verify.h"

#define SKIP_MS 5000 /* a failed node is skipped this long */
#define MAX_BODY (256u << 20)

struct origo_client {
    char *urls[ORIGO_CLIENT_MAX_NODES];
    uint64_t skip_until[ORIGO_CLIENT_MAX_NODES];
    size_t n_urls, preferred;
    const origo_key *key;
    origo_vkey *signers;
    origo_witness_key *witnesses;
    origo_note_policy policy;
    int has_trust;
    char origin[ORIGO_CHECKPOINT_MAX_ORIGIN + 1];
    char *state_file;
    long timeout_ms;
    pthread_mutex_t mu;
    /* The last accepted checkpoint (size 0: none). */
    uint64_t size;
    uint8_t root[32];
};

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int origo_client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0
                                                             : ORIGO_E_NOMEM;
}

/* ---- the state file ----------------------------------------------------- */

/* "origo-client-state v1\n<origin>\n<size>\n<hex root>\n" */
static int load_state(origo_client *c, char *err, size_t err_size)
{
    FILE *f = fopen(c->state_file, "r");
    if (!f)
        return errno == ENOENT ? 0 : ORIGO_E_IO;
    char head[64], origin[300], hexroot[80];
    unsigned long long size;
    int ok = fscanf(f, "%63s %*s %299s %llu %79s", head, origin, &size,
                    hexroot) == 4;
    fclose(f);
    size_t got = 0;
    if (!ok || strcmp(head, "origo-client-state") ||
        strcmp(origin, c->origin) ||
        sodium_hex2bin(c->root, 32, hexroot, strlen(hexroot), NULL, &got,
                       NULL) != 0 ||
        got != 32) {
        set_err(err, err_size,
                "%s: not a client state file of network %s (remove it to "
                "trust the network's next checkpoint afresh)",
                c->state_file, c->origin);
        return ORIGO_E_CORRUPT;
    }
    c->size = size;
    return 0;
}

static int save_state(origo_client *c)
{
    if (!c->state_file)
        return 0;
    char tmp[4200], hexroot[65];
    snprintf(tmp, sizeof(tmp), "%s.tmp", c->state_file);
    sodium_bin2hex(hexroot, sizeof(hexroot), c->root, 32);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ORIGO_E_IO;
    char text[512];
    int n =
        snprintf(text, sizeof(text), "origo-client-state v1\n%s\n%llu\n%s\n",
                 c->origin, (unsigned long long)c->size, hexroot);
    int ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, c->state_file) != 0) {
        unlink(tmp);
        return ORIGO_E_IO;
    }
    return 0;
}

/* ---- handle ------------------------------------------------------------- */

void origo_client_free(origo_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->signers);
    free(c->witnesses);
    free(c->state_file);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int origo_client_new(const origo_client_options *o, origo_client **out,
                     char *err, size_t err_size)
{
    if (!o || !o->n_urls || o->n_urls > ORIGO_CLIENT_MAX_NODES) {
        set_err(err, err_size, "give 1 to %d node URLs",
                ORIGO_CLIENT_MAX_NODES);
        return ORIGO_E_INVAL;
    }
    origo_client *c = calloc(1, sizeof(*c));
    if (!c)
        return ORIGO_E_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->key = o->key;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
    for (size_t i = 0; i < o->n_urls; i++) {
        size_t len = strlen(o->urls[i]);
        while (len && o->urls[i][len - 1] == '/')
            len--;
        if (!(c->urls[i] = strndup(o->urls[i], len)))
            goto nomem;
        c->n_urls++;
    }
    if (o->trust) {
        c->has_trust = 1;
        c->policy = *o->trust;
        c->signers = calloc(o->trust->signer_count + 1, sizeof(origo_vkey));
        c->witnesses =
            calloc(o->trust->witness_count + 1, sizeof(origo_witness_key));
        if (!c->signers || !c->witnesses)
            goto nomem;
        memcpy(c->signers, o->trust->signers,
               o->trust->signer_count * sizeof(origo_vkey));
        if (o->trust->witness_count)
            memcpy(c->witnesses, o->trust->witnesses,
                   o->trust->witness_count * sizeof(origo_witness_key));
        c->policy.signers = c->signers;
        c->policy.witnesses = c->witnesses;
    }
    snprintf(c->origin, sizeof(c->origin), "%s", o->origin ? o->origin : "");
    if (o->state_file) {
        if (!(c->state_file = strdup(o->state_file)))
            goto nomem;
        int rc = load_state(c, err, err_size);
        if (rc) {
            origo_client_free(c);
            return rc;
        }
    }
    *out = c;
    return 0;
nomem:
    origo_client_free(c);
    return ORIGO_E_NOMEM;
}

/* ---- one HTTP exchange -------------------------------------------------- */

typedef struct sink {
    origo_buf *buf;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    return origo_buf_append(s->buf, p, size * n) == 0 ? size * n : 0;
}

static const char *sig_header(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

/* Performs one request against node `i`. Returns 0 when the node answered
 * (*status set), ORIGO_E_IO otherwise. */
static int exchange(origo_client *c, size_t i, const char *method,
                    const char *target, int sign, const char *ctype,
                    const uint8_t *body, size_t body_len, origo_buf *out,
                    long *status, char *err, size_t err_size)
{
    CURL *h = curl_easy_init();
    if (!h)
        return ORIGO_E_NOMEM;
    char url[4200];
    snprintf(url, sizeof(url), "%s%s", c->urls[i], target);
    struct curl_slist *hdrs = NULL;
    char line[ORIGO_HTTPSIG_INPUT_MAX + 64];
    int rc = 0;
    if (sign) {
        if (!c->key) {
            set_err(err, err_size,
                    "this read needs a member key to sign it (--key)");
            curl_easy_cleanup(h);
            return ORIGO_E_INVAL;
        }
        char path[4200], nonce[33], input[ORIGO_HTTPSIG_INPUT_MAX],
            signature[ORIGO_HTTPSIG_SIGNATURE_MAX];
        snprintf(path, sizeof(path), "%s", target);
        char *q = strchr(path, '?');
        char query[4200] = "";
        if (q) {
            snprintf(query, sizeof(query), "%s", q);
            *q = '\0';
        }
        uint8_t rnd[16];
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2hex(nonce, sizeof(nonce), rnd, sizeof(rnd));
        origo_httpsig_request hr = {method, path,       query,
                                    NULL,   sig_header, NULL};
        static const char *const comps[] = {"@method", "@path", "@query"};
        rc = origo_httpsig_sign(c->key, &hr, comps, 3, (int64_t)time(NULL),
                                nonce, input, sizeof(input), signature,
                                sizeof(signature));
        if (rc) {
            curl_easy_cleanup(h);
            return rc;
        }
        snprintf(line, sizeof(line), "Signature-Input: %s", input);
        hdrs = curl_slist_append(hdrs, line);
        snprintf(line, sizeof(line), "Signature: %s", signature);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (body) {
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, line);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    sink s = {out};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    size_t mark = out->len;
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    } else {
        out->len = mark;
        set_err(err, err_size, "%s: %s", c->urls[i], curl_easy_strerror(cc));
        rc = ORIGO_E_IO;
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

/* Tries the nodes from the preferred one on, skipping those that failed
 * recently, until one answers below 500 (or answers 5xx when it is the
 * last left). */
static int request(origo_client *c, const char *method, const char *target,
                   int sign, const char *ctype, const uint8_t *body,
                   size_t body_len, origo_buf *out, long *status, char *err,
                   size_t err_size)
{
    pthread_mutex_lock(&c->mu);
    size_t start = c->preferred;
    pthread_mutex_unlock(&c->mu);
    int rc = ORIGO_E_IO;
    uint64_t now = mono_ms();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < c->n_urls; k++) {
            size_t i = (start + k) % c->n_urls;
            pthread_mutex_lock(&c->mu);
            int skip = pass == 0 && c->skip_until[i] > now;
            pthread_mutex_unlock(&c->mu);
            if (skip)
                continue;
            size_t mark = out->len;
            rc = exchange(c, i, method, target, sign, ctype, body, body_len,
                          out, status, err, err_size);
            if (rc == ORIGO_E_INVAL || rc == ORIGO_E_NOMEM)
                return rc;
            if (rc == 0 && *status < 500) {
                pthread_mutex_lock(&c->mu);
                c->preferred = i;
                pthread_mutex_unlock(&c->mu);
                return 0;
            }
            pthread_mutex_lock(&c->mu);
            c->skip_until[i] = mono_ms() + SKIP_MS;
            pthread_mutex_unlock(&c->mu);
            if (rc == 0 && k + 1 == c->n_urls && pass == 1)
                return 0; /* every node answered 5xx: hand over the last */
            if (rc == 0) {
                set_err(err, err_size, "%s answered %ld", c->urls[i], *status);
                out->len = mark;
            }
        }
    }
    return rc ? rc : ORIGO_E_IO;
}

int origo_client_get(origo_client *c, const char *target, int sign,
                     origo_buf *out, long *status, char *err, size_t err_size)
{
    return request(c, "GET", target, sign, NULL, NULL, 0, out, status, err,
                   err_size);
}

/* Percent-encodes a query value (RFC 3986 unreserved characters stay).
 * Returns 0, or -1 when out is too small. */
static int percent_encode(const char *value, char *out, size_t size)
{
    size_t k = 0;
    for (const char *p = value; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (k + 4 > size)
            return -1;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~')
            out[k++] = (char)ch;
        else
            k += (size_t)snprintf(out + k, 4, "%%%02X", ch);
    }
    out[k] = '\0';
    return 0;
}

/* The code of a problem+json answer, or NULL. */
static const char *problem_code(json_t *doc)
{
    return json_string_value(json_object_get(doc, "code"));
}

/* ---- submit ------------------------------------------------------------- */

static int fill_results(json_t *doc, size_t n, origo_submit_result *r)
{
    json_t *arr = json_object_get(doc, "results");
    if (json_array_size(arr) != n)
        return ORIGO_E_JSON;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        const char *st = json_string_value(json_object_get(it, "status"));
        const char *id = json_string_value(json_object_get(it, "id"));
        size_t got = 0;
        if (!st || !id ||
            sodium_hex2bin(r[i].id, 32, id, strlen(id), NULL, &got, NULL) ||
            got != 32)
            return ORIGO_E_JSON;
        r[i].leaf = (uint64_t)json_integer_value(json_object_get(it, "leaf"));
        r[i].block = (uint64_t)json_integer_value(json_object_get(it, "block"));
        r[i].code[0] = '\0';
        if (!strcmp(st, "committed")) {
            r[i].status = ORIGO_SUBMIT_COMMITTED;
        } else if (!strcmp(st, "rejected")) {
            r[i].status = ORIGO_SUBMIT_REJECTED;
            snprintf(r[i].code, sizeof(r[i].code), "%s",
                     json_string_value(json_object_get(it, "code")));
        } else {
            r[i].status = ORIGO_SUBMIT_PENDING;
        }
    }
    return 0;
}

/* A refusal that names one envelope (docs/api.md, problem members
 * "envelope" and "event"): that one REFUSED with its code, the others
 * NOT_SENT, every ID from the envelope itself. */
static void fill_refused(json_t *doc, const uint8_t *const *envelopes,
                         const size_t *lens, size_t n, origo_submit_result *r)
{
    json_t *at = json_object_get(doc, "envelope");
    const char *code = problem_code(doc);
    if (!json_is_integer(at) || !code || json_integer_value(at) < 0 ||
        (uint64_t)json_integer_value(at) >= n)
        return;
    size_t refused = (size_t)json_integer_value(at);
    for (size_t i = 0; i < n; i++) {
        origo_envelope env;
        memset(&r[i], 0, sizeof(r[i]));
        if (origo_envelope_decode(envelopes[i], lens[i], &env) == 0)
            origo_event_id(env.body, env.body_len, r[i].id);
        r[i].status =
            i == refused ? ORIGO_SUBMIT_REFUSED : ORIGO_SUBMIT_NOT_SENT;
        if (i == refused)
            snprintf(r[i].code, sizeof(r[i].code), "%s", code);
    }
}

int origo_client_submit(origo_client *c, const uint8_t *const *envelopes,
                        const size_t *lens, size_t n, int wait,
                        long deadline_ms, origo_submit_result *results,
                        char *err, size_t err_size)
{
    if (n == 0)
        return ORIGO_E_INVAL;
    origo_buf body;
    origo_buf_init(&body, MAX_BODY);
    origo_mp_put_array(&body, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        origo_mp_put_bin(&body, envelopes[i], lens[i]);
    if (body.err) {
        int rc = body.err;
        origo_buf_close(&body);
        return rc;
    }
    uint64_t end = mono_ms() + (uint64_t)(deadline_ms ? deadline_ms : 60000);
    const char *target =
        wait ? "/v1/events?wait=commit" : "/v1/events?wait=none";
    int rc = ORIGO_E_TIMEOUT;
    char last[512] = "";
    for (unsigned attempt = 0; mono_ms() < end; attempt++) {
        origo_buf out;
        origo_buf_init(&out, MAX_BODY);
        long status = 0;
        rc = request(c, "POST", target, 0, "application/msgpack", body.data,
                     body.len, &out, &status, err, err_size);
        json_t *doc = rc == 0
                          ? json_loadb((const char *)out.data, out.len, 0, NULL)
                          : NULL;
        if (rc == 0 && (status == 200 || status == 202)) {
            rc = doc ? fill_results(doc, n, results) : ORIGO_E_JSON;
            json_decref(doc);
            origo_buf_close(&out);
            break;
        }
        if (rc == 0 && status != 429 && status < 500) {
            /* Refused for good: say why, do not retry. */
            const char *code = doc ? problem_code(doc) : NULL;
            const char *detail =
                doc ? json_string_value(json_object_get(doc, "detail")) : NULL;
            set_err(err, err_size, "%s: %s", code ? code : "refused",
                    detail ? detail : "the node refused the submission");
            rc = code ? origo_errcode(code) : ORIGO_E_INVAL;
            if (doc)
                fill_refused(doc, envelopes, lens, n, results);
            json_decref(doc);
            origo_buf_close(&out);
            break;
        }
        /* 429, 5xx (a leader change, a lost proposal) or no node: the same
         * envelopes again after a pause; known events answer their first
         * commit. */
        if (rc)
            snprintf(last, sizeof(last), "%s", err ? err : "");
        else
            snprintf(last, sizeof(last), "%s",
                     doc && problem_code(doc) ? problem_code(doc) : "busy");
        json_decref(doc);
        origo_buf_close(&out);
        rc = ORIGO_E_TIMEOUT;
        unsigned pause = 50u << (attempt < 5 ? attempt : 5);
        usleep(pause * 1000u);
    }
    origo_buf_close(&body);
    if (rc == ORIGO_E_TIMEOUT)
        set_err(err, err_size,
                "not committed before the deadline (last: %s); submit the "
                "same envelopes again later: nothing is doubled",
                last[0] ? last : "no answer");
    return rc;
}

/* ---- checkpoints -------------------------------------------------------- */

static int fetch_consistency(origo_client *c, uint64_t old_size,
                             uint64_t new_size, uint8_t (*proof)[32],
                             size_t *count, char *err, size_t err_size)
{
    char target[128];
    snprintf(target, sizeof(target), "/v1/proof/consistency?old=%llu&new=%llu",
             (unsigned long long)old_size, (unsigned long long)new_size);
    origo_buf out;
    origo_buf_init(&out, 1u << 20);
    long status = 0;
    int rc = origo_client_get(c, target, 0, &out, &status, err, err_size);
    json_t *doc = rc == 0 && status == 200
                      ? json_loadb((const char *)out.data, out.len, 0, NULL)
                      : NULL;
    origo_buf_close(&out);
    if (!doc)
        return rc ? rc : ORIGO_E_IO;
    json_t *hashes = json_object_get(doc, "hashes");
    *count = json_array_size(hashes);
    rc = *count <= 130 ? 0 : ORIGO_E_PROOF_SIZE;
    for (size_t i = 0; rc == 0 && i < *count; i++) {
        const char *h = json_string_value(json_array_get(hashes, i));
        size_t got = 0;
        if (!h ||
            sodium_base642bin(proof[i], 32, h, strlen(h), NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) ||
            got != 32)
            rc = ORIGO_E_PROOF;
    }
    json_decref(doc);
    return rc;
}

/* Accepts checkpoint `cp` if it extends the one held (or is the first). */
static int accept_checkpoint(origo_client *c, const origo_checkpoint *cp,
                             char *err, size_t err_size)
{
    pthread_mutex_lock(&c->mu);
    uint64_t old_size = c->size;
    uint8_t old_root[32];
    memcpy(old_root, c->root, 32);
    pthread_mutex_unlock(&c->mu);
    char a[65], b[65];
    sodium_bin2hex(a, sizeof(a), old_root, 32);
    sodium_bin2hex(b, sizeof(b), cp->root, 32);
    if (old_size > cp->tree_size) {
        /* Older than what we hold: a node that lags (it cannot prove the
         * newer tree) or a rewritten history (it proves something else). */
        uint8_t proof[130][32];
        size_t count = 0;
        char ignored[256];
        int rc = fetch_consistency(c, cp->tree_size, old_size, proof, &count,
                                   ignored, sizeof(ignored));
        if (rc == 0 && origo_merkle_verify_consistency(
                           cp->tree_size, old_size, cp->root, old_root,
                           (const uint8_t(*)[32])proof, count) != 0) {
            set_err(err, err_size,
                    "history forked or rewritten: the checkpoint of %llu "
                    "leaves (root %s) is not a prefix of the accepted one of "
                    "%llu leaves (root %s)",
                    (unsigned long long)cp->tree_size, b,
                    (unsigned long long)old_size, a);
            return ORIGO_E_FORK;
        }
        set_err(err, err_size,
                "the node serves a checkpoint of %llu leaves, older than the "
                "%llu already accepted: it is behind, try another",
                (unsigned long long)cp->tree_size,
                (unsigned long long)old_size);
        return ORIGO_E_AGAIN;
    }
    if (old_size > 0) {
        uint8_t proof[130][32];
        size_t count = 0;
        int rc = old_size == cp->tree_size
                     ? 0
                     : fetch_consistency(c, old_size, cp->tree_size, proof,
                                         &count, err, err_size);
        if (rc == 0)
            rc = origo_merkle_verify_consistency(
                old_size, cp->tree_size, old_root, cp->root,
                (const uint8_t(*)[32])proof, count);
        if (rc) {
            set_err(err, err_size,
                    "history forked or rewritten: the checkpoint of %llu "
                    "leaves (root %s) does not extend the accepted one of "
                    "%llu leaves (root %s)",
                    (unsigned long long)cp->tree_size, b,
                    (unsigned long long)old_size, a);
            return ORIGO_E_FORK;
        }
    }
    pthread_mutex_lock(&c->mu);
    if (cp->tree_size >= c->size) {
        c->size = cp->tree_size;
        memcpy(c->root, cp->root, 32);
    }
    int rc = save_state(c);
    pthread_mutex_unlock(&c->mu);
    if (rc)
        set_err(err, err_size, "%s: cannot write the client state",
                c->state_file);
    return rc;
}

int origo_client_checkpoint(origo_client *c, origo_checkpoint *out,
                            char **note_out, char *err, size_t err_size)
{
    if (!c->has_trust) {
        set_err(err, err_size, "checking a checkpoint needs a trust file");
        return ORIGO_E_INVAL;
    }
    origo_buf body;
    origo_buf_init(&body, 1u << 20);
    long status = 0;
    int rc =
        origo_client_get(c, "/checkpoint", 0, &body, &status, err, err_size);
    if (rc == 0 && status == 404)
        rc = ORIGO_E_NOTFOUND;
    else if (rc == 0 && status != 200)
        rc = ORIGO_E_IO;
    origo_note *note = NULL;
    if (rc == 0) {
        rc = origo_checkpoint_open(body.data, body.len, &c->policy,
                                   c->origin[0] ? c->origin : NULL, out, &note);
        if (rc)
            set_err(err, err_size,
                    "the node's checkpoint fails the trust file: %s (short "
                    "of the quorum, unknown keys or another network)",
                    origo_strerror(rc));
    }
    if (rc == 0)
        rc = accept_checkpoint(c, out, err, err_size);
    if (rc == 0 && note_out) {
        *note_out = malloc(body.len + 1);
        if (*note_out) {
            memcpy(*note_out, body.data, body.len);
            (*note_out)[body.len] = '\0';
        }
    }
    origo_note_free(note);
    origo_buf_close(&body);
    return rc;
}

int origo_client_proof(origo_client *c, const uint8_t id[32], origo_buf *out,
                       char *err, size_t err_size)
{
    if (!c->has_trust) {
        set_err(err, err_size, "checking a proof needs a trust file");
        return ORIGO_E_INVAL;
    }
    char hexid[65], target[128];
    sodium_bin2hex(hexid, sizeof(hexid), id, 32);
    snprintf(target, sizeof(target), "/v1/proofs/%s", hexid);
    origo_buf body;
    origo_buf_init(&body, ORIGO_TLOG_PROOF_MAX_BYTES);
    long status = 0;
    int rc = origo_client_get(c, target, 1, &body, &status, err, err_size);
    if (rc == 0 && status != 200) {
        json_t *doc = json_loadb((const char *)body.data, body.len, 0, NULL);
        const char *code = doc ? problem_code(doc) : NULL;
        const char *detail =
            doc ? json_string_value(json_object_get(doc, "detail")) : NULL;
        set_err(err, err_size, "%s", detail ? detail : "refused");
        rc = code ? origo_errcode(code) : ORIGO_E_IO;
        json_decref(doc);
    }
    origo_tlog_proof *proof = NULL;
    if (rc == 0) {
        rc = origo_tlog_proof_verify(body.data, body.len, &c->policy,
                                     c->origin[0] ? c->origin : NULL, &proof,
                                     NULL);
        if (rc)
            set_err(err, err_size, "the node's proof does not verify: %s",
                    origo_strerror(rc));
    }
    if (rc == 0) {
        /* The proof's event must be the one asked for, and its checkpoint
         * must extend the accepted history. */
        origo_envelope env;
        uint8_t got[32];
        if (origo_envelope_decode(proof->extra, proof->extra_len, &env) != 0)
            rc = ORIGO_E_PROOF;
        else {
            origo_event_id(env.body, env.body_len, got);
            if (memcmp(got, id, 32))
                rc = ORIGO_E_PROOF;
        }
        if (rc)
            set_err(err, err_size, "the node's proof is for another event");
        else
            rc = accept_checkpoint(c, &proof->checkpoint, err, err_size);
    }
    if (rc == 0)
        rc = origo_buf_append(out, body.data, body.len);
    origo_tlog_proof_free(proof);
    origo_buf_close(&body);
    return rc;
}

int origo_client_trace(origo_client *c, const char *lot, int forward,
                       unsigned flags, uint32_t depth, origo_buf *out,
                       struct report_verdict *verdict, char *err,
                       size_t err_size)
{
    if (!c->has_trust) {
        set_err(err, err_size, "checking a trace report needs a trust file");
        return ORIGO_E_INVAL;
    }
    /* The lot, percent-encoded for the query. */
    char enc[3 * 256 + 1], target[1024];
    if (percent_encode(lot, enc, sizeof(enc)) != 0)
        return ORIGO_E_TOOBIG;
    char d[32] = "";
    if (flags & ORIGO_TRACE_ALL_EVENTS) {
        flags |= ORIGO_TRACE_LOT_EVENTS;
        snprintf(d, sizeof(d), "&depth=0");
    } else if (depth) {
        snprintf(d, sizeof(d), "&depth=%u", depth);
    }
    int recall = (flags & ORIGO_TRACE_RECALL) != 0;
    snprintf(target, sizeof(target), "/v1/trace?lot=%s&direction=%s%s%s%s%s",
             enc, forward || recall ? "forward" : "backward",
             recall ? "&recall=1" : "", d,
             flags & ORIGO_TRACE_LOT_EVENTS ? "&lot_events=1" : "",
             flags & ORIGO_TRACE_V1 ? "&format=v1" : "");
    origo_buf body;
    origo_buf_init(&body, REPORT_MAX_BYTES);
    long status = 0;
    int rc = origo_client_get(c, target, 1, &body, &status, err, err_size);
    if (rc == 0 && status != 200) {
        json_t *doc = json_loadb((const char *)body.data, body.len, 0, NULL);
        const char *code = doc ? problem_code(doc) : NULL;
        const char *detail =
            doc ? json_string_value(json_object_get(doc, "detail")) : NULL;
        set_err(err, err_size, "%s", detail ? detail : "refused");
        rc = code ? origo_errcode(code) : ORIGO_E_IO;
        json_decref(doc);
    }
    if (rc == 0) {
        struct report_verdict v;
        char why[512] = "";
        if (report_verify(body.data, body.len, &c->policy, &v, why,
                          sizeof(why)) != 0) {
            set_err(err, err_size,
                    "the node's trace report does not verify: %s", why);
            rc = ORIGO_E_PROOF;
        } else {
            if (verdict)
                *verdict = v;
            rc = origo_buf_append(out, body.data, body.len);
        }
    }
    origo_buf_close(&body);
    return rc;
}

/* ---- lots and blocks ---------------------------------------------------- */

void origo_lot_events_free(origo_lot_event *events, size_t count)
{
    for (size_t i = 0; events && i < count; i++)
        free(events[i].envelope);
    free(events);
}

static int hex32(const char *h, uint8_t out[32])
{
    size_t got = 0;
    return h && strlen(h) == 64 &&
                   sodium_hex2bin(out, 32, h, 64, NULL, &got, NULL) == 0 &&
                   got == 32
               ? 0
               : ORIGO_E_JSON;
}

/* Checks that `leaf_hash` is leaf `leaf` of the accepted tree. */
static int check_inclusion(origo_client *c, uint64_t leaf,
                           const uint8_t leaf_hash[32], char *err,
                           size_t err_size)
{
    pthread_mutex_lock(&c->mu);
    uint64_t size = c->size;
    uint8_t root[32];
    memcpy(root, c->root, 32);
    pthread_mutex_unlock(&c->mu);
    if (leaf >= size)
        return ORIGO_E_AGAIN;
    char target[128];
    snprintf(target, sizeof(target), "/v1/proof/inclusion?leaf=%llu&size=%llu",
             (unsigned long long)leaf, (unsigned long long)size);
    origo_buf body;
    origo_buf_init(&body, 1u << 20);
    long status = 0;
    int rc = origo_client_get(c, target, 0, &body, &status, err, err_size);
    json_t *doc = rc == 0 && status == 200
                      ? json_loadb((const char *)body.data, body.len, 0, NULL)
                      : NULL;
    origo_buf_close(&body);
    if (!doc)
        return rc ? rc : ORIGO_E_PROOF;
    json_t *hashes = json_object_get(doc, "hashes");
    size_t count = json_array_size(hashes);
    uint8_t proof[65][32];
    rc = count <= 65 ? 0 : ORIGO_E_PROOF_SIZE;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const char *h = json_string_value(json_array_get(hashes, i));
        size_t got = 0;
        if (!h ||
            sodium_base642bin(proof[i], 32, h, strlen(h), NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) ||
            got != 32)
            rc = ORIGO_E_PROOF;
    }
    json_decref(doc);
    if (rc == 0)
        rc = origo_merkle_verify_inclusion(
            leaf, size, leaf_hash, (const uint8_t(*)[32])proof, count, root);
    return rc;
}

int origo_client_lot_events(origo_client *c, const char *lot,
                            origo_lot_event **out, size_t *count, char *err,
                            size_t err_size)
{
    *out = NULL;
    *count = 0;
    origo_checkpoint cp;
    int rc = origo_client_checkpoint(c, &cp, NULL, err, err_size);
    if (rc)
        return rc;
    char enc[3 * 256 + 1], target[1024];
    if (percent_encode(lot, enc, sizeof(enc)) != 0)
        return ORIGO_E_TOOBIG;
    snprintf(target, sizeof(target), "/v1/lots/events?lot=%s", enc);
    origo_buf body;
    origo_buf_init(&body, MAX_BODY);
    long status = 0;
    rc = origo_client_get(c, target, 1, &body, &status, err, err_size);
    json_t *doc =
        rc == 0 ? json_loadb((const char *)body.data, body.len, 0, NULL) : NULL;
    origo_buf_close(&body);
    if (rc == 0 && status != 200) {
        const char *code = doc ? problem_code(doc) : NULL;
        const char *detail =
            doc ? json_string_value(json_object_get(doc, "detail")) : NULL;
        set_err(err, err_size, "%s", detail ? detail : "refused");
        rc = code ? origo_errcode(code) : ORIGO_E_IO;
    } else if (rc == 0 && !doc) {
        rc = ORIGO_E_JSON;
    }
    json_t *events = doc ? json_object_get(doc, "events") : NULL;
    size_t n = json_array_size(events);
    origo_lot_event *list = rc == 0 ? calloc(n ? n : 1, sizeof(*list)) : NULL;
    if (rc == 0 && !list)
        rc = ORIGO_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *e = json_array_get(events, i);
        const char *b64 = json_string_value(json_object_get(e, "envelope"));
        origo_lot_event *le = &list[i];
        le->leaf = (uint64_t)json_integer_value(json_object_get(e, "leaf"));
        le->envelope = malloc(ORIGO_ENVELOPE_MAX);
        if (!b64 || !le->envelope ||
            sodium_base642bin(le->envelope, ORIGO_ENVELOPE_MAX, b64,
                              strlen(b64), NULL, &le->len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            rc = ORIGO_E_JSON;
            break;
        }
        *count = i + 1;
        origo_event ev;
        rc = origo_envelope_verify(le->envelope, le->len, c->origin,
                                   strlen(c->origin), &ev, le->id);
        uint8_t leaf_hash[32];
        origo_merkle_leaf_hash(le->envelope, le->len, leaf_hash);
        if (rc == 0)
            rc = check_inclusion(c, le->leaf, leaf_hash, err, err_size);
        if (rc && rc != ORIGO_E_AGAIN) {
            set_err(err, err_size,
                    "the node's event at leaf %llu does not check: %s",
                    (unsigned long long)le->leaf, origo_strerror(rc));
            rc = ORIGO_E_PROOF;
        } else if (rc) {
            set_err(err, err_size,
                    "the event at leaf %llu is newer than the checkpoint; "
                    "ask again shortly",
                    (unsigned long long)le->leaf);
        }
    }
    json_decref(doc);
    if (rc) {
        origo_lot_events_free(list, *count);
        *count = 0;
        return rc;
    }
    *out = list;
    *count = n;
    return 0;
}

int origo_client_block(origo_client *c, uint64_t height, origo_block_info *out,
                       char *err, size_t err_size)
{
    origo_checkpoint cp;
    int rc = origo_client_checkpoint(c, &cp, NULL, err, err_size);
    if (rc)
        return rc;
    char target[64];
    snprintf(target, sizeof(target), "/v1/blocks/%llu",
             (unsigned long long)height);
    origo_buf body;
    origo_buf_init(&body, 1u << 20);
    long status = 0;
    rc = origo_client_get(c, target, 0, &body, &status, err, err_size);
    json_t *doc =
        rc == 0 ? json_loadb((const char *)body.data, body.len, 0, NULL) : NULL;
    origo_buf_close(&body);
    if (rc == 0 && status == 404)
        rc = ORIGO_E_NOTFOUND;
    else if (rc == 0 && (status != 200 || !doc))
        rc = ORIGO_E_IO;
    if (rc == 0) {
#define U(name) (uint64_t) json_integer_value(json_object_get(doc, name))
        out->height = U("height");
        out->time = U("time");
        out->raft_term = U("raft_term");
        out->raft_index = U("raft_index");
        out->envelope_count = U("envelope_count");
        out->first_leaf = U("first_leaf");
        out->leaf_count = U("leaf_count");
        out->tree_size = U("tree_size");
#undef U
        if (out->height != height ||
            hex32(json_string_value(json_object_get(doc, "hash")), out->hash) ||
            hex32(json_string_value(json_object_get(doc, "prev")), out->prev) ||
            hex32(json_string_value(json_object_get(doc, "envelopes_hash")),
                  out->envelopes_hash) ||
            hex32(json_string_value(json_object_get(doc, "root")), out->root))
            rc = ORIGO_E_JSON;
    }
    json_decref(doc);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    uint64_t size = c->size;
    uint8_t root[32];
    memcpy(root, c->root, 32);
    pthread_mutex_unlock(&c->mu);
    if (out->tree_size > size) {
        set_err(err, err_size,
                "block %llu is newer than the checkpoint; ask again shortly",
                (unsigned long long)height);
        return ORIGO_E_AGAIN;
    }
    uint8_t proof[130][32];
    size_t count = 0;
    if (out->tree_size < size)
        rc = fetch_consistency(c, out->tree_size, size, proof, &count, err,
                               err_size);
    if (rc == 0)
        rc = origo_merkle_verify_consistency(out->tree_size, size, out->root,
                                             root, (const uint8_t(*)[32])proof,
                                             count);
    if (rc) {
        set_err(err, err_size,
                "block %llu's tree (%llu leaves) is not a prefix of the "
                "accepted checkpoint",
                (unsigned long long)height, (unsigned long long)out->tree_size);
        return ORIGO_E_PROOF;
    }
    return 0;
}
