/* Peer links between validators over TCP on a libuv loop: the handshake
 * and frames of transport.h on real sockets (docs/formats/transport.md).
 * A link delivers whole messages, in order, from an authenticated
 * validator; any fault closes it, with the reason, and the caller
 * reconnects.
 *
 * Loop thread only. */
#ifndef ORIGO_NODE_PEER_H
#define ORIGO_NODE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "transport.h"

typedef struct peer_link peer_link;
typedef struct peer_listener peer_listener;
typedef struct peer_dialer peer_dialer;

typedef struct peer_callbacks {
    /* The handshake finished: `key` is the peer's static key. */
    void (*on_open)(peer_link *link, const uint8_t key[32], void *ctx);
    /* One whole message (borrowed until the callback returns). */
    void (*on_message)(peer_link *link, const uint8_t *msg, size_t len,
                       void *ctx);
    /* The link is closed and about to be freed: reason is 0 (closed by
     * peer_close()), ORIGO_E_PEER_UNKNOWN, ORIGO_E_HANDSHAKE, ORIGO_E_FRAME,
     * ORIGO_E_TOOBIG, ORIGO_E_TIMEOUT (no handshake in time), ORIGO_E_BUSY
     * (send queue full), ORIGO_E_IO (the connection failed or ended) or
     * ORIGO_E_NOMEM. Called once per link, open or not. */
    void (*on_close)(peer_link *link, int reason, void *ctx);
} peer_callbacks;

typedef struct peer_options {
    transport_params params; /* the handshake's (copied; origin and
                              * genesis_hash must outlive the links) */
    size_t frame_cap;        /* 0: TRANSPORT_DEFAULT_CAP */
    uint64_t rekey_every;    /* 0: TRANSPORT_DEFAULT_REKEY */
    size_t send_queue_max;   /* bytes queued to the socket before a link
                              * is closed with ORIGO_E_BUSY; 0: 64 MiB */
    uint64_t handshake_ms;   /* 0: 5000 */
    size_t max_pending;      /* a listener's accepted links still in their
                              * handshake; one more is closed at once with
                              * ORIGO_E_BUSY; 0: 64 */
    uint64_t idle_ms;        /* an open link that receives nothing for this
                              * long closes with ORIGO_E_TIMEOUT; 0: never
                              * (the node sets a few heartbeat intervals) */
    peer_callbacks cb;
    void *ctx;
} peer_options;

/* Listens on `addr` (port 0: any free port; peer_listener_port() tells).
 * Every accepted connection becomes a responder link with `opts`. Returns
 * 0, ORIGO_E_IO (with the libuv error in *uv_err when not NULL) or
 * ORIGO_E_NOMEM. */
int peer_listen(uv_loop_t *loop, const struct sockaddr *addr,
                const peer_options *opts, peer_listener **out, int *uv_err);
int peer_listener_port(const peer_listener *l);
/* Stops listening; links already accepted live on. */
void peer_listener_close(peer_listener *l);
/* Stops listening and closes every link it accepted (shutdown). */
void peer_listener_close_all(peer_listener *l);
/* Calls fn for each open link the listener accepted. */
void peer_listener_each_open(peer_listener *l,
                             void (*fn)(peer_link *link, void *ctx), void *ctx);

/* Dials `addr` as initiator. The link exists at once; on_open or on_close
 * follows (a connection refused included). Returns 0 or ORIGO_E_NOMEM. */
int peer_connect(uv_loop_t *loop, const struct sockaddr *addr,
                 const peer_options *opts, peer_link **out);

/* Keeps one link to `addr`: dials, and after every close dials again,
 * waiting a random time between backoff/2 and backoff, where backoff
 * starts at min_ms, doubles after each close up to max_ms, and starts
 * over once a link opens. The callbacks of `opts` see every link the
 * dialer makes. Returns 0, ORIGO_E_INVAL (min_ms 0, max_ms < min_ms or
 * over 2^32-1) or ORIGO_E_NOMEM. */
int peer_dial(uv_loop_t *loop, const struct sockaddr *addr,
              const peer_options *opts, uint64_t min_ms, uint64_t max_ms,
              peer_dialer **out);
/* The dialer's open link, or NULL. */
peer_link *peer_dialer_link(const peer_dialer *d);
/* Connections attempted so far. */
unsigned peer_dialer_attempts(const peer_dialer *d);
/* Stops: closes the current link (its on_close follows) and frees the
 * dialer from the loop. */
void peer_dialer_stop(peer_dialer *d);

/* Sends one message on an open link. Returns 0, ORIGO_E_INVAL (not open
 * yet, or closing), ORIGO_E_TOOBIG (over the frame cap: nothing sent, the
 * link stays open) or an error that also closes the link (ORIGO_E_BUSY,
 * ORIGO_E_NOMEM, ORIGO_E_IO). */
int peer_send(peer_link *link, const uint8_t *msg, size_t len);
/* Closes the link; on_close(link, 0) follows from the loop. */
void peer_close(peer_link *link);
/* The peer's static key once open (still during its on_close), else
 * NULL. */
const uint8_t *peer_key(const peer_link *link);

#endif
