/* The node's HTTP server on libmicrohttpd (node/README.md, "HTTP").
 *
 * libmicrohttpd reads requests on its own thread; each whole request (head
 * and body, within limits) is handed to the libuv loop, the connection
 * suspended until the loop answers with http_respond(), so nothing the
 * loop owns is touched off the loop. Malformed HTTP, oversized headers and
 * connections beyond the limits are answered by libmicrohttpd itself. */
#ifndef ORIGO_NODE_HTTP_H
#define ORIGO_NODE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_server http_server;

#define HTTP_MAX_ARGS 8

/* A request as the loop sees it. Read-only for the handler, which answers
 * it exactly once with http_respond(). */
typedef struct http_request {
    char method[8];
    char path[256]; /* decoded path, without the query */
    struct {
        char key[32];
        char value[160];
    } args[HTTP_MAX_ARGS]; /* decoded query arguments */
    size_t n_args;
    int bad_args; /* too many, or too long: answered 400 */
    char accept[128];
    char content_type[128];
    /* For RFC 9421 request signatures: the target as sent (still
     * percent-encoded, with its query) and the fields a signature covers. */
    char raw_target[2048];
    char host[256];
    char sig_input[1024];
    char signature[256];
    char content_digest[128];
    int header_too_long; /* one of those did not fit: answered 400 */
    uint8_t *body;
    size_t body_len;
    int body_too_big; /* answered 413 */
    char client[64];  /* the peer's address */
    uint64_t started_ms;
    /* Private to http.c. */
    struct http_request *next;          /* MHD -> loop queue */
    struct http_request *pnext, *pprev; /* pending on the loop */
    void *conn;
    int state;
    unsigned status;
    char *resp;
    size_t resp_len;
    const char *resp_type;
    char retry_after[16];
} http_request;

typedef struct http_options {
    const char *host;  /* listen address (numeric) */
    unsigned port;     /* 0: any free port (http_port() tells) */
    size_t max_body;   /* bytes */
    size_t max_header; /* bytes of the request head (connection memory) */
    unsigned max_connections;
    unsigned max_per_client;
    unsigned timeout_s;       /* idle connection timeout */
    const char *tls_cert_pem; /* both or neither: HTTPS */
    const char *tls_key_pem;
    /* Called on the loop for each whole request. */
    void (*handle)(void *ctx, http_request *req);
    void *ctx;
} http_options;

/* Starts listening. Returns 0, ORIGO_E_IO (cannot listen: msg says why),
 * ORIGO_E_UNSUPPORTED (TLS asked, the library has none), ORIGO_E_NOMEM. */
int http_start(uv_loop_t *loop, const http_options *opts, http_server **out,
               char *msg, size_t msg_size);
unsigned http_port(const http_server *s);
/* Answers a request (on the loop). body is malloc()ed and taken over (may
 * be NULL when len is 0); type is a static string; retry_after (seconds,
 * 0: none) sets Retry-After. */
void http_respond(http_server *s, http_request *req, unsigned status,
                  const char *type, char *body, size_t len,
                  unsigned retry_after);
/* Connections refused (never accepted, closed at once) since the start,
 * by reason: the client already held [http] max_per_client connections,
 * or the node [http] max_connections. Each reason is also logged, at most
 * a line every ten seconds. Any thread. */
enum {
    HTTP_REFUSED_PER_CLIENT = 0,
    HTTP_REFUSED_TOTAL = 1,
    HTTP_REFUSED_REASONS = 2
};
void http_refused(http_server *s, uint64_t refused[HTTP_REFUSED_REASONS]);
/* Requests handed to the loop and not answered yet. */
size_t http_pending(const http_server *s);
/* Milliseconds of CLOCK_MONOTONIC: the clock of request times (started_ms)
 * and of the node's timers. */
uint64_t http_monotonic_ms(void);
/* Stops: every request not yet answered is answered 503 by the caller's
 * `refuse` first; then the listener and the connections close. */
void http_stop(http_server *s, void (*refuse)(void *ctx, http_request *req),
               void *ctx);

#endif
