/* Peer link throughput on 127.0.0.1: one validator sends N messages of a
 * given size to another over a real TCP socket (handshake, secretstream
 * frames, libuv) and the receiver counts them. Prints messages/s and MB/s
 * for a few sizes. One process, one loop: both ends share one core, so
 * these are a floor for one link.
 *   bench_peer [--count N] */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "origo/error.h"
#include "origo/keys.h"
#include "peer.h"

static const uint8_t genesis[32] = {1};
static origo_key *keys[2];
static peer_listener *listener;
static peer_link *dialer;
static uint8_t *payload;
static size_t size, count, received, sent;
static struct timespec t0;

static int is_validator(void *ctx, const uint8_t pub[32])
{
    (void)ctx;
    return !memcmp(pub, origo_key_public(keys[0]), 32) ||
           !memcmp(pub, origo_key_public(keys[1]), 32);
}

static void pump(peer_link *link)
{
    /* Keep at most 8 MiB in flight: send while the queue has room. */
    while (sent < count && (sent - received) * size < (8u << 20)) {
        if (peer_send(link, payload, size))
            abort();
        sent++;
    }
}

static void on_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    (void)key;
    (void)ctx;
    if (link == dialer) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pump(link);
    }
}

static void on_message(peer_link *link, const uint8_t *msg, size_t len,
                       void *ctx)
{
    (void)link;
    (void)msg;
    (void)ctx;
    if (len != size)
        abort();
    received++;
    if (received == count) {
        peer_close(dialer);
        peer_close(link);
    } else {
        pump(dialer);
    }
}

static void on_close(peer_link *link, int reason, void *ctx)
{
    (void)ctx;
    if (reason) {
        fprintf(stderr, "bench_peer: link closed: %s\n",
                origo_strerror(reason));
        exit(1);
    }
    if (link == dialer && listener) {
        peer_listener_close(listener);
        listener = NULL;
    }
}

int main(int argc, char **argv)
{
    size_t base_count = 20000;
    if (argc == 3 && !strcmp(argv[1], "--count"))
        base_count = strtoul(argv[2], NULL, 10);
    if (sodium_init() < 0)
        return 1;
    uint8_t seed[32] = {1};
    origo_key_from_seed("v1", seed, &keys[0]);
    seed[0] = 2;
    origo_key_from_seed("v2", seed, &keys[1]);
    size_t sizes[] = {100, 4096, 65536, 1u << 20};
    printf("%-10s %10s %12s %10s\n", "size", "messages", "messages/s", "MB/s");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size = sizes[s];
        count = size >= 65536 ? base_count / 20 : base_count;
        received = sent = 0;
        payload = calloc(1, size);
        uv_loop_t loop;
        uv_loop_init(&loop);
        peer_options o = {.params = {.origin = "bench",
                                     .genesis_hash = genesis,
                                     .is_validator = is_validator},
                          .cb = {on_open, on_message, on_close}};
        struct sockaddr_in addr;
        uv_ip4_addr("127.0.0.1", 0, &addr);
        o.params.self = keys[1];
        if (peer_listen(&loop, (struct sockaddr *)&addr, &o, &listener, NULL))
            return 1;
        addr.sin_port = htons((uint16_t)peer_listener_port(listener));
        o.params.self = keys[0];
        if (peer_connect(&loop, (struct sockaddr *)&addr, &o, &dialer))
            return 1;
        uv_run(&loop, UV_RUN_DEFAULT);
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs =
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("%-10zu %10zu %12.0f %10.1f\n", size, count, count / secs,
               count * (double)size / secs / 1e6);
        uv_loop_close(&loop);
        free(payload);
    }
    origo_key_free(keys[0]);
    origo_key_free(keys[1]);
    return 0;
}
