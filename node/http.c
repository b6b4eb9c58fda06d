/* The node's HTTP server: libmicrohttpd's thread reads requests, the libuv
 * loop answers them (http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

#include "log.h"

/* http_request.state */
enum { ST_READING, ST_QUEUED, ST_ANSWERED };

/* Connections open from one client address. */
struct client {
    uint8_t addr[16]; /* IPv4 in the first 4 bytes */
    int family;
    unsigned open;
};

struct http_server {
    http_options o;
    struct MHD_Daemon *mhd;
    uv_async_t async;
    pthread_mutex_t mu;
    http_request *head, *tail; /* whole requests for the loop */
    http_request *pending;     /* handed to the loop, not answered */
    size_t n_pending;
    int stopping;
    /* The connection limits, kept here rather than by libmicrohttpd,
     * which closes a connection over them without a word: the operator
     * of a plant whose ERP opens too many connections would see only
     * the ERP's errors. Under mu. */
    struct client *clients; /* addresses with connections open */
    size_t n_clients, cap_clients;
    unsigned open;
    uint64_t refused[HTTP_REFUSED_REASONS];
    uint64_t logged_ms[HTTP_REFUSED_REASONS];
    uint64_t refused_logged[HTTP_REFUSED_REASONS];
};

uint64_t http_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void copy_header(http_request *req, struct MHD_Connection *c,
                        const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    if (v && strlen(v) >= size)
        req->header_too_long = 1;
    snprintf(out, size, "%s", v ? v : "");
}

/* libmicrohttpd hands over the request target as sent before it decodes
 * it: kept for signature bases. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    http_request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    if (strlen(uri) >= sizeof(req->raw_target))
        req->header_too_long = 1;
    snprintf(req->raw_target, sizeof(req->raw_target), "%s", uri);
    return req;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    (void)kind;
    http_request *req = cls;
    if (req->n_args == HTTP_MAX_ARGS ||
        strlen(key) >= sizeof(req->args[0].key) ||
        (value && strlen(value) >= sizeof(req->args[0].value))) {
        req->bad_args = 1;
        return MHD_NO;
    }
    snprintf(req->args[req->n_args].key, sizeof(req->args[0].key), "%s", key);
    snprintf(req->args[req->n_args].value, sizeof(req->args[0].value), "%s",
             value ? value : "");
    req->n_args++;
    return MHD_YES;
}

/* Runs on the loop: hands queued requests to the handler. */
static void on_async(uv_async_t *a)
{
    http_server *s = a->data;
    pthread_mutex_lock(&s->mu);
    http_request *req = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (req) {
        http_request *next = req->next;
        req->next = NULL;
        req->pnext = s->pending;
        req->pprev = NULL;
        if (s->pending)
            s->pending->pprev = req;
        s->pending = req;
        s->n_pending++;
        s->o.handle(s->o.ctx, req);
        req = next;
    }
}

static enum MHD_Result queue_answer(struct MHD_Connection *c, http_request *req)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        req->resp_len, req->resp ? req->resp : (void *)"",
        req->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    req->resp = NULL;
    if (!resp)
        return MHD_NO;
    if (req->resp_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                req->resp_type);
    if (req->retry_after[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
                                req->retry_after);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result r = MHD_queue_response(c, req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    http_request *req = *con_cls;
    if (!req || !req->conn) {
        if (!req && !(req = calloc(1, sizeof(*req))))
            return MHD_NO;
        *con_cls = req;
        req->conn = c;
        req->started_ms = http_monotonic_ms();
        snprintf(req->method, sizeof(req->method), "%s", method);
        if (strlen(url) >= sizeof(req->path))
            req->bad_args = 1;
        snprintf(req->path, sizeof(req->path), "%s", url);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, req);
        copy_header(req, c, MHD_HTTP_HEADER_ACCEPT, req->accept,
                    sizeof(req->accept));
        copy_header(req, c, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type,
                    sizeof(req->content_type));
        copy_header(req, c, MHD_HTTP_HEADER_HOST, req->host, sizeof(req->host));
        copy_header(req, c, "Signature-Input", req->sig_input,
                    sizeof(req->sig_input));
        copy_header(req, c, "Signature", req->signature,
                    sizeof(req->signature));
        copy_header(req, c, "Content-Digest", req->content_digest,
                    sizeof(req->content_digest));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                          req->client, sizeof(req->client));
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6,
                          &((const struct sockaddr_in6 *)sa)->sin6_addr,
                          req->client, sizeof(req->client));
        }
        return MHD_YES;
    }
    if (req->state == ST_READING && *upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (req->body_too_big || req->body_len + n > s->o.max_body) {
            req->body_too_big = 1; /* read on and drop */
            free(req->body);
            req->body = NULL;
            req->body_len = 0;
            return MHD_YES;
        }
        uint8_t *p = realloc(req->body, req->body_len + n);
        if (!p)
            return MHD_NO;
        memcpy(p + req->body_len, upload, n);
        req->body = p;
        req->body_len += n;
        return MHD_YES;
    }
    if (req->state == ST_READING) {
        /* The whole request is in: hand it to the loop. */
        req->state = ST_QUEUED;
        pthread_mutex_lock(&s->mu);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            req->state = ST_ANSWERED;
            req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            return queue_answer(c, req);
        }
        MHD_suspend_connection(c);
        if (s->tail)
            s->tail->next = req;
        else
            s->head = req;
        s->tail = req;
        pthread_mutex_unlock(&s->mu);
        uv_async_send(&s->async);
        return MHD_YES;
    }
    if (req->state == ST_ANSWERED)
        return queue_answer(c, req);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    http_request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    free(req->body);
    free(req->resp);
    free(req);
}

void http_respond(http_server *s, http_request *req, unsigned status,
                  const char *type, char *body, size_t len,
                  unsigned retry_after)
{
    if (req->pprev)
        req->pprev->pnext = req->pnext;
    else
        s->pending = req->pnext;
    if (req->pnext)
        req->pnext->pprev = req->pprev;
    s->n_pending--;
    req->status = status;
    req->resp_type = type;
    req->resp = body;
    req->resp_len = len;
    if (retry_after)
        snprintf(req->retry_after, sizeof(req->retry_after), "%u", retry_after);
    req->state = ST_ANSWERED;
    MHD_resume_connection(req->conn);
}

size_t http_pending(const http_server *s)
{
    return s->n_pending;
}

unsigned http_port(const http_server *s)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

static void free_server(uv_handle_t *h)
{
    http_server *s = h->data;
    free(s->clients);
    free(s);
}

/* ---- connection limits --------------------------------------------------
 */

static int client_addr(const struct sockaddr *sa, uint8_t addr[16], int *family)
{
    memset(addr, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        *family = AF_INET;
        return 1;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        *family = AF_INET6;
        return 1;
    }
    return 0;
}

static struct client *client_find(http_server *s, const uint8_t addr[16],
                                  int family)
{
    for (size_t i = 0; i < s->n_clients; i++)
        if (s->clients[i].family == family &&
            !memcmp(s->clients[i].addr, addr, 16))
            return &s->clients[i];
    return NULL;
}

/* A new entry (open 0) for a client, or NULL if memory ran out. */
static struct client *client_add(http_server *s, const uint8_t addr[16],
                                 int family)
{
    if (s->n_clients == s->cap_clients) {
        size_t cap = s->cap_clients ? 2 * s->cap_clients : 16;
        struct client *m = realloc(s->clients, cap * sizeof(*m));
        if (!m)
            return NULL;
        s->clients = m;
        s->cap_clients = cap;
    }
    struct client *c = &s->clients[s->n_clients++];
    memcpy(c->addr, addr, 16);
    c->family = family;
    c->open = 0;
    return c;
}

/* One line a reason at most every ten seconds, with what was refused
 * since the last one (a client retrying in a loop would otherwise flood
 * the log). */
static void log_refused(http_server *s, int reason, const uint8_t addr[16],
                        int family)
{
    uint64_t now = http_monotonic_ms();
    if (s->logged_ms[reason] && now - s->logged_ms[reason] < 10000)
        return;
    s->logged_ms[reason] = now;
    char who[INET6_ADDRSTRLEN] = "?", n[24], limit[16];
    inet_ntop(family, addr, who, sizeof(who));
    snprintf(
        n, sizeof(n), "%llu",
        (unsigned long long)(s->refused[reason] - s->refused_logged[reason]));
    s->refused_logged[reason] = s->refused[reason];
    if (reason == HTTP_REFUSED_PER_CLIENT) {
        snprintf(limit, sizeof(limit), "%u", s->o.max_per_client);
        LOG_WARN("HTTP connections refused: one client holds the most "
                 "connections allowed",
                 "client", who, "limit", limit, "refused", n, "hint",
                 "the client should reuse its connections (keep-alive) or "
                 "open fewer; raise [http] max_per_client (0: no limit) if "
                 "many users share this address");
    } else {
        snprintf(limit, sizeof(limit), "%u", s->o.max_connections);
        LOG_WARN("HTTP connections refused: the node holds the most "
                 "connections allowed",
                 "client", who, "limit", limit, "refused", n, "hint",
                 "raise [http] max_connections, or lower [http] "
                 "timeout_ms so idle connections close sooner");
    }
}

/* Before a connection is accepted. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
                                 socklen_t len)
{
    http_server *s = cls;
    (void)len;
    uint8_t addr[16];
    int family = 0, reason = -1;
    if (!client_addr(sa, addr, &family))
        return MHD_YES;
    pthread_mutex_lock(&s->mu);
    const struct client *c = client_find(s, addr, family);
    if (s->o.max_per_client && c && c->open >= s->o.max_per_client)
        reason = HTTP_REFUSED_PER_CLIENT;
    else if (s->open >= s->o.max_connections)
        reason = HTTP_REFUSED_TOTAL;
    if (reason >= 0) {
        s->refused[reason]++;
        log_refused(s, reason, addr, family);
    }
    pthread_mutex_unlock(&s->mu);
    return reason >= 0 ? MHD_NO : MHD_YES;
}

/* A connection opened or closed (counted by client). */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *s = cls;
    (void)socket_context;
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    uint8_t addr[16];
    int family = 0;
    int known = i && client_addr(i->client_addr, addr, &family);
    pthread_mutex_lock(&s->mu);
    struct client *c = known ? client_find(s, addr, family) : NULL;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        s->open++;
        if (known && !c)
            c = client_add(s, addr, family);
        if (c)
            c->open++; /* not counted only if memory ran out */
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        s->open--;
        if (c && --c->open == 0)
            *c = s->clients[--s->n_clients];
    }
    pthread_mutex_unlock(&s->mu);
}

void http_refused(http_server *s, uint64_t refused[HTTP_REFUSED_REASONS])
{
    pthread_mutex_lock(&s->mu);
    memcpy(refused, s->refused, sizeof(s->refused));
    pthread_mutex_unlock(&s->mu);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap; /* libmicrohttpd's own messages: the node logs outcomes */
}

int http_start(uv_loop_t *loop, const http_options *opts, http_server **out,
               char *msg, size_t msg_size)
{
    http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return ORIGO_E_NOMEM;
    s->o = *opts;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (strchr(opts->host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)opts->port);
        if (inet_pton(AF_INET6, opts->host, &a->sin6_addr) != 1)
            goto bad_addr;
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)opts->port);
        if (inet_pton(AF_INET, opts->host, &a->sin_addr) != 1)
            goto bad_addr;
    }
    if (opts->tls_cert_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(msg, msg_size,
                     "this libmicrohttpd has no TLS: unset http_tls_cert");
            free(s);
            return ORIGO_E_UNSUPPORTED;
        }
        flags |= MHD_USE_TLS;
    }
    if (uv_async_init(loop, &s->async, on_async) != 0) {
        free(s);
        return ORIGO_E_NOMEM;
    }
    s->async.data = s;
    struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
    if (opts->tls_cert_pem) {
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                         (void *)opts->tls_cert_pem};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                         (void *)opts->tls_key_pem};
    }
    /* The limits are on_accept()'s; libmicrohttpd's own stays above
     * them, for connections that are closing. */
    s->mhd = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)opts->max_header,
        MHD_OPTION_CONNECTION_LIMIT, opts->max_connections + 16,
        MHD_OPTION_CONNECTION_TIMEOUT, opts->timeout_s,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(msg, msg_size,
                 "cannot serve HTTP on %s:%u (address in use, or not this "
                 "machine's; set [http] listen)",
                 opts->host, opts->port);
        uv_close((uv_handle_t *)&s->async, free_server);
        pthread_mutex_destroy(&s->mu);
        return ORIGO_E_IO;
    }
    *out = s;
    return 0;
bad_addr:
    snprintf(msg, msg_size, "[http] listen: %s is not a numeric address",
             opts->host);
    free(s);
    return ORIGO_E_CONFIG;
}

void http_stop(http_server *s, void (*refuse)(void *ctx, http_request *req),
               void *ctx)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    http_request *q = s->head;
    s->head = s->tail = NULL;
    pthread_mutex_unlock(&s->mu);
    /* Requests still queued for the loop join the pending ones. */
    while (q) {
        http_request *next = q->next;
        q->pnext = s->pending;
        q->pprev = NULL;
        if (s->pending)
            s->pending->pprev = q;
        s->pending = q;
        s->n_pending++;
        q = next;
    }
    while (s->pending)
        refuse(ctx, s->pending);
    /* Let libmicrohttpd send those answers, then close. */
    MHD_quiesce_daemon(s->mhd);
    for (int i = 0; i < 50 && MHD_get_daemon_info(
                                  s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS)
                                      ->num_connections > 0;
         i++)
        uv_sleep(10);
    MHD_stop_daemon(s->mhd);
    pthread_mutex_destroy(&s->mu);
    uv_close((uv_handle_t *)&s->async, free_server);
}
