/* Peer links on real TCP sockets (127.0.0.1, a port the kernel picks) and
 * a real libuv loop: two validators open a link and exchange messages of
 * every size across read boundaries, in order, both ways; an outsider, a
 * validator of another network, a silent client, a frame over the cap and
 * a sender whose queue overflows are each dropped with their own reason.
 * Every test runs the loop until all handles are closed: no sleeps, no
 * timers in the test, only events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <uv.h>

#include "origo/error.h"
#include "origo/keys.h"
#include "peer.h"
#include "testutil.h"

static const uint8_t genesis[32] = {0x47, 0x45, 0x4e};

typedef struct world {
    uv_loop_t loop;
    origo_key *v[2];
    origo_key *outsider;
    peer_listener *listener;
    struct sockaddr_in addr;
    /* What each side saw: [0] the dialling side, [1] the listening side. */
    int opened[2], closed[2], reason[2];
    uint8_t open_key[2][32];
    size_t received[2];
    /* The exchange test. */
    int messages;
    int echo;
} world;

static int is_validator(void *ctx, const uint8_t pub[32])
{
    world *w = ctx;
    return memcmp(pub, origo_key_public(w->v[0]), 32) == 0 ||
           memcmp(pub, origo_key_public(w->v[1]), 32) == 0;
}

/* A message's bytes: its number and size decide every byte. */
static size_t message_size(int i)
{
    static const size_t sizes[] = {0, 1, 21, 1000, 65536, 65537, 300000};
    return sizes[i % 7] + (size_t)i;
}

static uint8_t message_byte(int i, size_t k)
{
    return (uint8_t)(i * 31 + k * 7);
}

/* The dialling side's link, and the listening side's once it opens. */
static peer_link *links[2];

static int side_of(world *w, peer_link *link)
{
    (void)w;
    return link == links[0] ? 0 : 1;
}

static void send_message(peer_link *link, int i)
{
    size_t len = message_size(i);
    uint8_t *m = malloc(len ? len : 1);
    assert_non_null(m);
    for (size_t k = 0; k < len; k++)
        m[k] = message_byte(i, k);
    assert_int_equal(peer_send(link, m, len), 0);
    free(m);
}

static void on_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    world *w = ctx;
    if (links[0] != link)
        links[1] = link;
    int s = side_of(w, link);
    w->opened[s]++;
    memcpy(w->open_key[s], key, 32);
    assert_memory_equal(peer_key(link), key, 32);
    if (s == 0)
        for (int i = 0; i < w->messages; i++)
            send_message(link, i);
}

static void on_message(peer_link *link, const uint8_t *msg, size_t len,
                       void *ctx)
{
    world *w = ctx;
    int s = side_of(w, link);
    int i = (int)w->received[s]++;
    assert_int_equal(len, message_size(i));
    for (size_t k = 0; k < len; k++)
        if (msg[k] != message_byte(i, k))
            fail_msg("message %d byte %zu differs", i, k);
    if (s == 1 && w->echo)
        assert_int_equal(peer_send(link, msg, len), 0);
    if (s == 0 && (int)w->received[0] == w->messages) {
        peer_close(link);
        peer_close(links[1]);
    }
}

static void on_close(peer_link *link, int reason, void *ctx)
{
    world *w = ctx;
    int s = link == links[0] ? 0 : 1;
    w->closed[s]++;
    w->reason[s] = reason;
    /* The listening side's links close on their own; when both sides have
     * closed, nothing is left to wait for but the listener. */
    if (w->closed[0] && w->closed[1] && w->listener) {
        peer_listener_close(w->listener);
        w->listener = NULL;
    }
}

static peer_options options(world *w, const origo_key *self, const char *origin)
{
    peer_options o = {.params = {.origin = origin,
                                 .genesis_hash = genesis,
                                 .self = self,
                                 .is_validator = is_validator,
                                 .ctx = w},
                      .cb = {on_open, on_message, on_close},
                      .ctx = w};
    return o;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    assert_int_equal(uv_loop_init(&w->loop), 0);
    w->v[0] = testutil_key_filled("v1", 1);
    w->v[1] = testutil_key_filled("v2", 2);
    w->outsider = testutil_key_filled("mallory", 9);
    links[0] = links[1] = NULL;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    /* Every handle must be closed: uv_loop_close fails otherwise. */
    assert_int_equal(uv_loop_close(&w->loop), 0);
    origo_key_free(w->v[0]);
    origo_key_free(w->v[1]);
    origo_key_free(w->outsider);
    free(w);
    return 0;
}

/* Starts the listener (v2, with `lopts`) and dials it with `dopts`. */
static void start(world *w, peer_options lopts, peer_options dopts)
{
    uv_ip4_addr("127.0.0.1", 0, &w->addr);
    int uv_err = 0;
    assert_int_equal(peer_listen(&w->loop, (struct sockaddr *)&w->addr, &lopts,
                                 &w->listener, &uv_err),
                     0);
    w->addr.sin_port = htons((uint16_t)peer_listener_port(w->listener));
    assert_true(ntohs(w->addr.sin_port) > 0);
    assert_int_equal(
        peer_connect(&w->loop, (struct sockaddr *)&w->addr, &dopts, &links[0]),
        0);
    assert_int_equal(uv_run(&w->loop, UV_RUN_DEFAULT), 0);
}

static void test_exchange(void **state)
{
    world *w = *state;
    w->messages = 120;
    w->echo = 1;
    start(w, options(w, w->v[1], "origo.test"),
          options(w, w->v[0], "origo.test"));
    assert_int_equal(w->opened[0], 1);
    assert_int_equal(w->opened[1], 1);
    assert_memory_equal(w->open_key[0], origo_key_public(w->v[1]), 32);
    assert_memory_equal(w->open_key[1], origo_key_public(w->v[0]), 32);
    assert_int_equal(w->received[1], 120);
    assert_int_equal(w->received[0], 120);
    assert_int_equal(w->closed[0], 1);
    assert_int_equal(w->closed[1], 1);
    assert_int_equal(w->reason[0], 0);
    assert_int_equal(w->reason[1], 0);
}

static void test_outsider(void **state)
{
    world *w = *state;
    start(w, options(w, w->v[1], "origo.test"),
          options(w, w->outsider, "origo.test"));
    assert_int_equal(w->opened[0] + w->opened[1], 0);
    assert_int_equal(w->reason[1], ORIGO_E_PEER_UNKNOWN);
    assert_int_equal(w->reason[0], ORIGO_E_IO); /* the listener hung up */
}

static void test_other_network(void **state)
{
    world *w = *state;
    start(w, options(w, w->v[1], "origo.test"),
          options(w, w->v[0], "origo.other"));
    assert_int_equal(w->opened[0] + w->opened[1], 0);
    assert_int_equal(w->reason[0], ORIGO_E_HANDSHAKE);
    assert_int_equal(w->reason[1], ORIGO_E_IO);
}

/* A client that connects and says nothing: the listener's handshake timer
 * drops it. The client is a bare libuv socket that waits for the EOF. */
static uv_tcp_t silent;
static uv_connect_t silent_req;
static int silent_eof;

static void silent_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
    static char space[64];
    (void)h;
    (void)n;
    *buf = uv_buf_init(space, sizeof(space));
}

static void silent_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n < 0) {
        silent_eof = 1;
        uv_close((uv_handle_t *)s, NULL);
    }
}

/* What the bare client writes once connected (nothing by default). */
static uint8_t silent_says[32];
static size_t silent_says_len;
static uv_write_t silent_write;

static void silent_connected(uv_connect_t *req, int status)
{
    assert_int_equal(status, 0);
    if (silent_says_len) {
        uv_buf_t b =
            uv_buf_init((char *)silent_says, (unsigned)silent_says_len);
        assert_int_equal(uv_write(&silent_write, req->handle, &b, 1, NULL), 0);
    }
    assert_int_equal(uv_read_start(req->handle, silent_alloc, silent_read), 0);
}

static void on_close_silent(peer_link *link, int reason, void *ctx)
{
    world *w = ctx;
    (void)link;
    w->closed[1]++;
    w->reason[1] = reason;
    peer_listener_close(w->listener);
}

/* Runs the bare client against a listener (v2) with handshake timeout ms. */
static void run_bare_client(world *w, uint64_t ms)
{
    peer_options lo = options(w, w->v[1], "origo.test");
    lo.handshake_ms = ms;
    lo.cb.on_close = on_close_silent;
    uv_ip4_addr("127.0.0.1", 0, &w->addr);
    assert_int_equal(peer_listen(&w->loop, (struct sockaddr *)&w->addr, &lo,
                                 &w->listener, NULL),
                     0);
    w->addr.sin_port = htons((uint16_t)peer_listener_port(w->listener));
    silent_eof = 0;
    uv_tcp_init(&w->loop, &silent);
    assert_int_equal(uv_tcp_connect(&silent_req, &silent,
                                    (struct sockaddr *)&w->addr,
                                    silent_connected),
                     0);
    assert_int_equal(uv_run(&w->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(silent_eof, 1);
}

static void test_handshake_timeout(void **state)
{
    world *w = *state;
    silent_says_len = 0;
    run_bare_client(w, 50);
    assert_int_equal(w->reason[1], ORIGO_E_TIMEOUT);
}

/* An outsider's key alone, 32 bytes and no more: refused at once, without
 * waiting for the rest (which never comes: the handshake timer, 10 s,
 * would end it as ORIGO_E_TIMEOUT instead). */
static void test_outsider_refused_on_key(void **state)
{
    world *w = *state;
    memcpy(silent_says, origo_key_public(w->outsider), 32);
    silent_says_len = 32;
    run_bare_client(w, 10000);
    assert_int_equal(w->reason[1], ORIGO_E_PEER_UNKNOWN);
}

/* A frame over the receiver's cap: the receiver drops the link on the
 * length prefix alone; the sender, whose cap is larger, sees the hang-up. */
static void test_frame_over_cap(void **state)
{
    world *w = *state;
    peer_options lo = options(w, w->v[1], "origo.test");
    lo.frame_cap = 1000;
    w->messages = 5; /* sizes 0, 2, 23, 1003: the fourth is over 1000 */
    start(w, lo, options(w, w->v[0], "origo.test"));
    assert_int_equal(w->received[1], 3);
    assert_int_equal(w->reason[1], ORIGO_E_TOOBIG);
    assert_int_equal(w->reason[0], ORIGO_E_IO);
}

/* The sender's queue is bounded: messages handed over faster than the
 * loop can write them close the link with ORIGO_E_BUSY, not grow memory. */
static void on_open_flood(peer_link *link, const uint8_t key[32], void *ctx)
{
    world *w = ctx;
    (void)key;
    if (link != links[0]) {
        links[1] = link;
        return;
    }
    static uint8_t block[100000];
    int rc = 0, sent = 0;
    while (rc == 0 && sent < 1000) {
        rc = peer_send(link, block, sizeof(block));
        if (rc == 0)
            sent++;
    }
    assert_int_equal(rc, ORIGO_E_BUSY);
    /* 1 MiB of queue: at most ten 100,000-byte frames fit. */
    assert_in_range(sent, 1, 10);
    w->messages = sent;
    /* Closed: sending again is refused without touching the socket. */
    assert_int_equal(peer_send(link, block, 1), ORIGO_E_INVAL);
}

static void test_send_queue_bounded(void **state)
{
    world *w = *state;
    peer_options d = options(w, w->v[0], "origo.test");
    d.send_queue_max = 1u << 20;
    d.cb.on_open = on_open_flood;
    peer_options l = options(w, w->v[1], "origo.test");
    l.cb.on_open = on_open_flood;
    l.cb.on_message = NULL;
    start(w, l, d);
    assert_int_equal(w->reason[0], ORIGO_E_BUSY);
    assert_int_equal(w->reason[1], ORIGO_E_IO);
}

/* An open link that hears nothing for idle_ms is closed as dead. */
static void test_idle_timeout(void **state)
{
    world *w = *state;
    peer_options lo = options(w, w->v[1], "origo.test");
    lo.idle_ms = 50;
    w->messages = 0; /* the dialler opens and then says nothing */
    start(w, lo, options(w, w->v[0], "origo.test"));
    assert_int_equal(w->opened[0], 1);
    assert_int_equal(w->opened[1], 1);
    assert_int_equal(w->reason[1], ORIGO_E_TIMEOUT);
    assert_int_equal(w->reason[0], ORIGO_E_IO);
}

/* The dialer: refused while nobody listens, it keeps dialling with
 * backoff; once a listener is there it opens; when the listener drops the
 * link it dials again and opens again. */
typedef struct redial {
    world *w;
    uv_loop_t *loop;
    struct sockaddr_in addr;
    peer_dialer *dialer;
    peer_listener *listener;
    int refused, opens, listener_closes;
    unsigned attempts_at_open[2];
} redial;

static void redial_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    redial *r = ctx;
    assert_memory_equal(key, origo_key_public(r->w->v[1]), 32);
    assert_ptr_equal(peer_dialer_link(r->dialer), link);
    r->attempts_at_open[r->opens++] = peer_dialer_attempts(r->dialer);
    if (r->opens == 2) {
        peer_dialer_stop(r->dialer);
        peer_listener_close(r->listener);
    }
}

/* The listening side drops the first link it opens, at once. */
static void listener_open_then_drop(peer_link *link, const uint8_t key[32],
                                    void *ctx)
{
    redial *r = ctx;
    (void)key;
    if (r->listener_closes++ == 0)
        peer_close(link);
}

static void redial_close(peer_link *link, int reason, void *ctx)
{
    redial *r = ctx;
    (void)link;
    if (r->opens == 0) {
        /* Nobody listens yet: refused. After three, start listening. */
        assert_int_equal(reason, ORIGO_E_IO);
        assert_null(peer_dialer_link(r->dialer));
        if (++r->refused == 3) {
            peer_options lo = options(r->w, r->w->v[1], "origo.test");
            lo.cb.on_open = listener_open_then_drop;
            lo.cb.on_close = NULL;
            lo.cb.on_message = NULL;
            lo.ctx = r;
            assert_int_equal(peer_listen(r->loop, (struct sockaddr *)&r->addr,
                                         &lo, &r->listener, NULL),
                             0);
        }
    }
}

static void test_dialer_reconnects(void **state)
{
    world *w = *state;
    redial r = {.w = w, .loop = &w->loop};
    /* A port that was free a moment ago: bind, read it, close. */
    peer_options lo = options(w, w->v[1], "origo.test");
    uv_ip4_addr("127.0.0.1", 0, &r.addr);
    peer_listener *probe;
    assert_int_equal(
        peer_listen(&w->loop, (struct sockaddr *)&r.addr, &lo, &probe, NULL),
        0);
    r.addr.sin_port = htons((uint16_t)peer_listener_port(probe));
    peer_listener_close(probe);

    peer_options d = options(w, w->v[0], "origo.test");
    d.cb.on_open = redial_open;
    d.cb.on_close = redial_close;
    d.cb.on_message = NULL;
    d.ctx = &r;
    assert_int_equal(
        peer_dial(&w->loop, (struct sockaddr *)&r.addr, &d, 0, 8, &r.dialer),
        ORIGO_E_INVAL);
    assert_int_equal(
        peer_dial(&w->loop, (struct sockaddr *)&r.addr, &d, 1, 8, &r.dialer),
        0);
    assert_int_equal(uv_run(&w->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.refused, 3);
    assert_int_equal(r.opens, 2);
    /* Three refused dials, then the fourth opened; the listener dropped
     * it, and the next dial opened again. */
    assert_int_equal(r.attempts_at_open[0], 4);
    assert_int_equal(r.attempts_at_open[1], 5);
}

/* Handshakes in progress are capped per listener: with max_pending 2,
 * the third silent client is closed at once with ORIGO_E_BUSY while the
 * first two wait (for a handshake timer of 10 s that never fires: the test
 * closes them as soon as the third is refused). */
typedef struct crowd {
    peer_listener *listener;
    int busy, others, eof;
    uv_tcp_t clients[3];
    uv_connect_t reqs[3];
} crowd;

static crowd the_crowd;

static void crowd_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n < 0) {
        the_crowd.eof++;
        uv_close((uv_handle_t *)s, NULL);
    }
}

static void crowd_connected(uv_connect_t *req, int status)
{
    assert_int_equal(status, 0);
    assert_int_equal(uv_read_start(req->handle, silent_alloc, crowd_read), 0);
}

static void crowd_close(peer_link *link, int reason, void *ctx)
{
    (void)link;
    (void)ctx;
    if (reason == ORIGO_E_BUSY) {
        the_crowd.busy++;
        peer_listener_close_all(the_crowd.listener);
    } else {
        the_crowd.others++;
        assert_int_equal(reason, 0);
    }
}

static void test_pending_handshakes_capped(void **state)
{
    world *w = *state;
    memset(&the_crowd, 0, sizeof(the_crowd));
    peer_options lo = options(w, w->v[1], "origo.test");
    lo.handshake_ms = 10000;
    lo.max_pending = 2;
    lo.cb.on_close = crowd_close;
    uv_ip4_addr("127.0.0.1", 0, &w->addr);
    assert_int_equal(peer_listen(&w->loop, (struct sockaddr *)&w->addr, &lo,
                                 &the_crowd.listener, NULL),
                     0);
    w->addr.sin_port = htons((uint16_t)peer_listener_port(the_crowd.listener));
    for (int i = 0; i < 3; i++) {
        uv_tcp_init(&w->loop, &the_crowd.clients[i]);
        assert_int_equal(
            uv_tcp_connect(&the_crowd.reqs[i], &the_crowd.clients[i],
                           (struct sockaddr *)&w->addr, crowd_connected),
            0);
    }
    assert_int_equal(uv_run(&w->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(the_crowd.busy, 1);
    assert_int_equal(the_crowd.others, 2);
    assert_int_equal(the_crowd.eof, 3);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outsider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outsider_refused_on_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frame_over_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_queue_bounded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dialer_reconnects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pending_handshakes_capped, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
