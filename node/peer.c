/* Peer links on libuv: each TCP connection runs the transport handshake
 * (responder on accept, initiator on connect), then carries frames. Bytes
 * read are buffered until a whole handshake message, header or frame is
 * there; everything a link writes goes through one bounded send queue. */
#include "peer.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

#define READ_CHUNK 65536

enum link_state {
    WAIT_M1 = 1, /* responder */
    WAIT_M2,     /* initiator */
    WAIT_M3,     /* responder */
    WAIT_HEADER,
    OPEN,
};

struct peer_listener {
    uv_tcp_t tcp;
    peer_options opts;
    peer_link *links; /* accepted and not yet closed */
    size_t pending;   /* of those, still in their handshake */
};

struct peer_link {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    peer_options opts;
    enum link_state state;
    int closing, handles_open, reason;
    transport_hs hs;
    transport_session session;
    transport_tx tx;
    transport_rx rx;
    origo_buf in; /* bytes read, not yet used from `at` on */
    size_t at;
    origo_buf msg;        /* the message being delivered */
    size_t queued;        /* bytes handed to libuv, not yet written */
    peer_listener *owner; /* the listener that accepted it, while open */
    peer_link *next, **prevp;
};

/* One write in flight, with its bytes. */
typedef struct write_req {
    uv_write_t req;
    peer_link *link;
    size_t len;
    uint8_t data[];
} write_req;

static void fill_defaults(peer_options *o)
{
    if (!o->frame_cap)
        o->frame_cap = TRANSPORT_DEFAULT_CAP;
    if (!o->rekey_every)
        o->rekey_every = TRANSPORT_DEFAULT_REKEY;
    if (!o->send_queue_max)
        o->send_queue_max = 64u << 20;
    if (!o->handshake_ms)
        o->handshake_ms = 5000;
    if (!o->max_pending)
        o->max_pending = 64;
}

/* ---- closing ---- */

/* Close callback of a handle that is the first member of its allocation. */
static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void on_handle_closed(uv_handle_t *h)
{
    peer_link *link = h->data;
    if (--link->handles_open > 0)
        return;
    if (link->owner) { /* off its listener's list */
        if (link->state != OPEN)
            link->owner->pending--;
        *link->prevp = link->next;
        if (link->next)
            link->next->prevp = link->prevp;
    }
    if (link->opts.cb.on_close)
        link->opts.cb.on_close(link, link->reason, link->opts.ctx);
    sodium_memzero(&link->hs, sizeof(link->hs));
    transport_session_wipe(&link->session);
    sodium_memzero(&link->tx, sizeof(link->tx));
    sodium_memzero(&link->rx, sizeof(link->rx));
    origo_buf_close(&link->in);
    if (link->msg.data)
        sodium_memzero(link->msg.data, link->msg.cap);
    origo_buf_close(&link->msg);
    free(link);
}

/* Closes the link with `reason` (the first reason wins). */
static void link_fail(peer_link *link, int reason)
{
    if (link->closing)
        return;
    link->closing = 1;
    link->reason = reason;
    uv_close((uv_handle_t *)&link->timer, on_handle_closed);
    uv_close((uv_handle_t *)&link->tcp, on_handle_closed);
}

void peer_close(peer_link *link)
{
    link_fail(link, 0);
}

const uint8_t *peer_key(const peer_link *link)
{
    return link->state == OPEN ? link->session.peer : NULL;
}

/* ---- writing ---- */

static void on_written(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    peer_link *link = w->link;
    link->queued -= w->len;
    free(w);
    if (status < 0)
        link_fail(link, ORIGO_E_IO);
}

/* A write request with room for len bytes, within the bounded queue: a
 * peer that does not read is dropped, never buffered without end. NULL
 * when the link is closed for it (the reason is in link->reason). */
static write_req *reserve(peer_link *link, size_t len)
{
    if (link->queued + len > link->opts.send_queue_max) {
        link_fail(link, ORIGO_E_BUSY);
        return NULL;
    }
    write_req *w = malloc(sizeof(*w) + len);
    if (!w) {
        link_fail(link, ORIGO_E_NOMEM);
        return NULL;
    }
    w->link = link;
    w->len = len;
    return w;
}

/* Hands a filled request to libuv (and owns it either way). */
static int submit(peer_link *link, write_req *w)
{
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&link->tcp, &buf, 1, on_written)) {
        free(w);
        link_fail(link, ORIGO_E_IO);
        return ORIGO_E_IO;
    }
    link->queued += w->len;
    return 0;
}

/* Queues a + b (b may be empty) for the socket. */
static int write_bytes(peer_link *link, const uint8_t *a, size_t alen,
                       const uint8_t *b, size_t blen)
{
    write_req *w = reserve(link, alen + blen);
    if (!w)
        return link->reason;
    if (alen)
        memcpy(w->data, a, alen);
    if (blen)
        memcpy(w->data + alen, b, blen);
    return submit(link, w);
}

int peer_send(peer_link *link, const uint8_t *msg, size_t len)
{
    if (link->closing || link->state != OPEN)
        return ORIGO_E_INVAL;
    if (len > link->opts.frame_cap)
        return ORIGO_E_TOOBIG;
    /* Sealed straight into the write request: one pass over the bytes. */
    write_req *w = reserve(link, len + TRANSPORT_FRAME_OVERHEAD);
    if (!w)
        return link->reason;
    int rc = transport_seal_to(&link->tx, msg, len, w->data);
    if (rc) {
        free(w);
        link_fail(link, rc);
        return rc;
    }
    return submit(link, w);
}

/* ---- reading ---- */

static void on_timeout(uv_timer_t *t)
{
    link_fail(t->data, ORIGO_E_TIMEOUT);
}

/* Starts the sending direction and writes `first` (M3 or nothing) and the
 * stream header. */
static int start_tx(peer_link *link, const uint8_t *first, size_t first_len)
{
    int rc = transport_hs_finish(&link->hs, &link->session);
    if (rc)
        return rc;
    uint8_t header[TRANSPORT_HEADER_LEN];
    if ((rc = transport_tx_init(&link->tx, link->session.tx, header,
                                link->opts.frame_cap, link->opts.rekey_every)))
        return rc;
    return write_bytes(link, first, first_len, header, sizeof(header));
}

/* Handles the next handshake message or header if all its bytes are
 * there. Returns 1 when it used some, 0 when it needs more, or an error. */
static int step_handshake(peer_link *link, const uint8_t *p, size_t avail)
{
    int rc;
    switch (link->state) {
    case WAIT_M1:
        /* An outsider is refused on its first 32 bytes. */
        if (avail >= 32 &&
            !link->opts.params.is_validator(link->opts.params.ctx, p))
            return ORIGO_E_PEER_UNKNOWN;
        if (avail < TRANSPORT_M1_LEN)
            return 0;
        uint8_t m2[TRANSPORT_M2_LEN];
        if ((rc = transport_hs_read_m1(&link->hs, p, TRANSPORT_M1_LEN)) ||
            (rc = transport_hs_write_m2(&link->hs, m2)) ||
            (rc = write_bytes(link, m2, sizeof(m2), NULL, 0)))
            return rc;
        link->at += TRANSPORT_M1_LEN;
        link->state = WAIT_M3;
        return 1;
    case WAIT_M2:
        if (avail < TRANSPORT_M2_LEN)
            return 0;
        uint8_t m3[TRANSPORT_M3_LEN];
        if ((rc = transport_hs_read_m2(&link->hs, p, TRANSPORT_M2_LEN)) ||
            (rc = transport_hs_write_m3(&link->hs, m3)) ||
            (rc = start_tx(link, m3, sizeof(m3))))
            return rc;
        link->at += TRANSPORT_M2_LEN;
        link->state = WAIT_HEADER;
        return 1;
    case WAIT_M3:
        if (avail < TRANSPORT_M3_LEN)
            return 0;
        if ((rc = transport_hs_read_m3(&link->hs, p, TRANSPORT_M3_LEN)) ||
            (rc = start_tx(link, NULL, 0)))
            return rc;
        link->at += TRANSPORT_M3_LEN;
        link->state = WAIT_HEADER;
        return 1;
    case WAIT_HEADER:
        if (avail < TRANSPORT_HEADER_LEN)
            return 0;
        if ((rc = transport_rx_init(&link->rx, link->session.rx, p,
                                    link->opts.frame_cap)))
            return rc;
        link->at += TRANSPORT_HEADER_LEN;
        link->state = OPEN;
        if (link->owner)
            link->owner->pending--;
        if (link->opts.idle_ms)
            uv_timer_start(&link->timer, on_timeout, link->opts.idle_ms, 0);
        else
            uv_timer_stop(&link->timer);
        if (link->opts.cb.on_open)
            link->opts.cb.on_open(link, link->session.peer, link->opts.ctx);
        return 1;
    case OPEN:
        break;
    }
    return ORIGO_E_INTERNAL;
}

/* Uses every whole message, header or frame in the input. */
static void process(peer_link *link)
{
    while (!link->closing) {
        const uint8_t *p = link->in.data + link->at;
        size_t avail = link->in.len - link->at;
        int rc;
        if (link->state != OPEN) {
            rc = step_handshake(link, p, avail);
            if (rc < 0)
                link_fail(link, rc);
            if (rc <= 0)
                break;
            continue;
        }
        size_t used = 0;
        origo_buf_reset(&link->msg);
        rc = transport_open(&link->rx, p, avail, &used, &link->msg);
        if (rc == ORIGO_E_TRUNCATED)
            break;
        if (rc) {
            link_fail(link, rc);
            break;
        }
        link->at += used;
        if (link->opts.cb.on_message)
            link->opts.cb.on_message(link, link->msg.data, link->msg.len,
                                     link->opts.ctx);
    }
    /* Keep only the unused tail. */
    if (!link->closing && link->at) {
        size_t rest = link->in.len - link->at;
        memmove(link->in.data, link->in.data + link->at, rest);
        link->in.len = rest;
        link->at = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    char *base = malloc(READ_CHUNK);
    *buf = uv_buf_init(base, base ? READ_CHUNK : 0);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    peer_link *link = s->data;
    if (n < 0) {
        free(buf->base);
        link_fail(link, n == UV_ENOBUFS ? ORIGO_E_NOMEM : ORIGO_E_IO);
        return;
    }
    if (n == 0 || link->closing) {
        free(buf->base);
        return;
    }
    int rc = origo_buf_append(&link->in, buf->base, (size_t)n);
    free(buf->base);
    if (rc) {
        link_fail(link, rc);
        return;
    }
    /* An open link that hears nothing for idle_ms is dead (Raft's
     * heartbeats keep a live one busy). */
    if (link->state == OPEN && link->opts.idle_ms)
        uv_timer_start(&link->timer, on_timeout, link->opts.idle_ms, 0);
    process(link);
}

/* A new link with its handles initialised (tcp must be initialised by the
 * caller's uv_tcp_init just before). */
static peer_link *link_new(uv_loop_t *loop, const peer_options *opts,
                           enum transport_role role)
{
    peer_link *link = calloc(1, sizeof(*link));
    if (!link)
        return NULL;
    link->opts = *opts;
    fill_defaults(&link->opts);
    if (transport_hs_init(&link->hs, role, &link->opts.params, NULL)) {
        free(link);
        return NULL;
    }
    link->state = role == TRANSPORT_INITIATOR ? WAIT_M2 : WAIT_M1;
    /* One partial frame plus one read. */
    origo_buf_init(&link->in, link->opts.frame_cap + TRANSPORT_FRAME_OVERHEAD +
                                  READ_CHUNK);
    origo_buf_init(&link->msg, link->opts.frame_cap);
    uv_tcp_init(loop, &link->tcp);
    uv_timer_init(loop, &link->timer);
    link->tcp.data = link->timer.data = link;
    link->handles_open = 2;
    uv_timer_start(&link->timer, on_timeout, link->opts.handshake_ms, 0);
    return link;
}

/* ---- connecting ---- */

static void on_connected(uv_connect_t *req, int status)
{
    peer_link *link = req->data;
    if (link->closing)
        return;
    if (status < 0) {
        link_fail(link, ORIGO_E_IO);
        return;
    }
    uint8_t m1[TRANSPORT_M1_LEN];
    if (uv_read_start((uv_stream_t *)&link->tcp, on_alloc, on_read)) {
        link_fail(link, ORIGO_E_IO);
        return;
    }
    int rc = transport_hs_write_m1(&link->hs, m1);
    if (rc)
        link_fail(link, rc);
    else
        write_bytes(link, m1, sizeof(m1), NULL, 0);
}

int peer_connect(uv_loop_t *loop, const struct sockaddr *addr,
                 const peer_options *opts, peer_link **out)
{
    peer_link *link = link_new(loop, opts, TRANSPORT_INITIATOR);
    if (!link)
        return ORIGO_E_NOMEM;
    link->connect.data = link;
    /* A failure at once is reported like a later one, through on_close. */
    if (uv_tcp_connect(&link->connect, &link->tcp, addr, on_connected))
        link_fail(link, ORIGO_E_IO);
    *out = link;
    return 0;
}

/* ---- listening ---- */

static void on_connection(uv_stream_t *server, int status)
{
    peer_listener *l = server->data;
    if (status < 0)
        return;
    peer_link *link = link_new(server->loop, &l->opts, TRANSPORT_RESPONDER);
    if (!link) {
        /* Take the connection off the backlog and drop it. */
        uv_tcp_t *tmp = malloc(sizeof(*tmp));
        if (tmp && uv_tcp_init(server->loop, tmp) == 0 &&
            uv_accept(server, (uv_stream_t *)tmp) == 0)
            uv_close((uv_handle_t *)tmp, free_handle);
        else
            free(tmp);
        return;
    }
    link->owner = l;
    link->next = l->links;
    link->prevp = &l->links;
    if (l->links)
        l->links->prevp = &link->next;
    l->links = link;
    l->pending++;
    if (uv_accept(server, (uv_stream_t *)&link->tcp))
        link_fail(link, ORIGO_E_IO);
    else if (l->pending > link->opts.max_pending)
        link_fail(link, ORIGO_E_BUSY); /* too many handshakes at once */
    else if (uv_read_start((uv_stream_t *)&link->tcp, on_alloc, on_read))
        link_fail(link, ORIGO_E_IO);
}

int peer_listen(uv_loop_t *loop, const struct sockaddr *addr,
                const peer_options *opts, peer_listener **out, int *uv_err)
{
    peer_listener *l = calloc(1, sizeof(*l));
    if (!l)
        return ORIGO_E_NOMEM;
    l->opts = *opts;
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    int err = uv_tcp_bind(&l->tcp, addr, 0);
    if (!err)
        err = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
    if (err) {
        if (uv_err)
            *uv_err = err;
        uv_close((uv_handle_t *)&l->tcp, free_handle);
        return ORIGO_E_IO;
    }
    *out = l;
    return 0;
}

int peer_listener_port(const peer_listener *l)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len))
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Leaves the accepted links to themselves (they outlive the listener). */
static void detach_links(peer_listener *l)
{
    for (peer_link *k = l->links; k; k = k->next)
        k->owner = NULL;
    l->links = NULL;
}

void peer_listener_close(peer_listener *l)
{
    detach_links(l);
    uv_close((uv_handle_t *)&l->tcp, free_handle);
}

void peer_listener_close_all(peer_listener *l)
{
    peer_link *k = l->links;
    detach_links(l);
    while (k) {
        peer_link *next = k->next;
        peer_close(k);
        k = next;
    }
    uv_close((uv_handle_t *)&l->tcp, free_handle);
}

void peer_listener_each_open(peer_listener *l,
                             void (*fn)(peer_link *link, void *ctx), void *ctx)
{
    for (peer_link *k = l->links; k;) {
        peer_link *next = k->next; /* fn may close k */
        if (peer_key(k))
            fn(k, ctx);
        k = next;
    }
}

/* ---- dialling with backoff ---- */

struct peer_dialer {
    uv_timer_t timer; /* first: freed through its handle */
    uv_loop_t *loop;
    struct sockaddr_storage addr;
    peer_options opts; /* the links', with the callbacks below */
    peer_callbacks user;
    void *user_ctx;
    uint64_t min_ms, max_ms, backoff_ms;
    unsigned attempts;
    peer_link *link; /* connecting or open; NULL while waiting */
    int stopping;
};

static void dial(peer_dialer *d);
static void schedule_redial(peer_dialer *d);

static void dialer_free_if_done(peer_dialer *d)
{
    if (d->stopping && !d->link)
        uv_close((uv_handle_t *)&d->timer, free_handle);
}

static void dialer_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    peer_dialer *d = ctx;
    d->backoff_ms = d->min_ms;
    if (d->user.on_open)
        d->user.on_open(link, key, d->user_ctx);
}

static void dialer_message(peer_link *link, const uint8_t *msg, size_t len,
                           void *ctx)
{
    peer_dialer *d = ctx;
    if (d->user.on_message)
        d->user.on_message(link, msg, len, d->user_ctx);
}

static void on_redial(uv_timer_t *t)
{
    dial(t->data);
}

static void dialer_close(peer_link *link, int reason, void *ctx)
{
    peer_dialer *d = ctx;
    if (d->user.on_close)
        d->user.on_close(link, reason, d->user_ctx);
    d->link = NULL;
    if (d->stopping)
        dialer_free_if_done(d);
    else
        schedule_redial(d);
}

static void schedule_redial(peer_dialer *d)
{
    /* Wait between backoff/2 and backoff (jitter, so that validators
     * restarted together do not dial in step), then double it. */
    uint64_t wait = d->backoff_ms / 2 +
                    randombytes_uniform((uint32_t)(d->backoff_ms / 2 + 1));
    d->backoff_ms =
        d->backoff_ms > d->max_ms / 2 ? d->max_ms : d->backoff_ms * 2;
    uv_timer_start(&d->timer, on_redial, wait, 0);
}

static void dial(peer_dialer *d)
{
    d->attempts++;
    peer_link *link = NULL;
    if (peer_connect(d->loop, (const struct sockaddr *)&d->addr, &d->opts,
                     &link) == 0)
        d->link = link; /* on_open or on_close follows */
    else
        schedule_redial(d); /* out of memory: try again later */
}

int peer_dial(uv_loop_t *loop, const struct sockaddr *addr,
              const peer_options *opts, uint64_t min_ms, uint64_t max_ms,
              peer_dialer **out)
{
    if (min_ms == 0 || max_ms < min_ms || max_ms > UINT32_MAX)
        return ORIGO_E_INVAL;
    peer_dialer *d = calloc(1, sizeof(*d));
    if (!d)
        return ORIGO_E_NOMEM;
    d->loop = loop;
    memcpy(&d->addr, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                       : sizeof(struct sockaddr_in));
    d->opts = *opts;
    d->user = opts->cb;
    d->user_ctx = opts->ctx;
    d->opts.cb = (peer_callbacks){dialer_open, dialer_message, dialer_close};
    d->opts.ctx = d;
    d->min_ms = d->backoff_ms = min_ms;
    d->max_ms = max_ms;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    dial(d);
    *out = d;
    return 0;
}

peer_link *peer_dialer_link(const peer_dialer *d)
{
    return d->link && peer_key(d->link) && !d->link->closing ? d->link : NULL;
}

unsigned peer_dialer_attempts(const peer_dialer *d)
{
    return d->attempts;
}

void peer_dialer_stop(peer_dialer *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    uv_timer_stop(&d->timer);
    if (d->link)
        peer_close(d->link);
    dialer_free_if_done(d);
}
