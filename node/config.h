/* origo-node's configuration file: INI (libinih), every key documented
 * with its default in deploy/origo-node.conf.example. Parsing is strict: an
 * unknown section or key, a value out of range, a key set twice, or a line
 * inih would read differently on another build (too long, indented
 * continuation) stops with one message naming the file, the line, the key
 * and what is allowed.
 *
 * Sections: [node], [peer], [http], [raft], [submit], [cosign]. */
#ifndef ORIGO_NODE_CONFIG_H
#define ORIGO_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_LINE 196 /* characters, without the line end */

/* host:port as written; host is an IPv4 or IPv6 address (written
 * [address]:port in the file). */
typedef struct config_addr {
    char host[254];
    uint16_t port;
} config_addr;

enum config_log_level {
    CONFIG_LOG_DEBUG = 1,
    CONFIG_LOG_INFO,
    CONFIG_LOG_WARN,
    CONFIG_LOG_ERROR,
};

typedef struct node_config {
    /* [node] */
    char data[4096];    /* data directory (required) */
    char key[4096];     /* validator key; "": <data>/validator.key */
    char genesis[4096]; /* genesis file; "": <data>/genesis.json */
    enum config_log_level log_level; /* info */
    /* [peer] */
    config_addr listen;      /* 0.0.0.0:7400 */
    char advertise[256];     /* host:port others dial; "": from listen */
    uint64_t frame_cap;      /* bytes */
    uint64_t send_queue_max; /* bytes */
    uint64_t handshake_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t reconnect_min_ms, reconnect_max_ms;
    /* [http] */
    config_addr http_listen; /* 127.0.0.1:7401 */
    uint64_t http_max_body, http_max_header;
    uint64_t http_max_connections, http_max_per_client;
    uint64_t http_timeout_ms;
    char http_tls_cert[4096], http_tls_key[4096]; /* "": plain HTTP */
    /* [raft] */
    uint64_t tick_ms, election_ticks, snapshot_every, log_tail;
    uint64_t map_size; /* [node] map_size: the ledger map's first size */
    uint64_t seal;     /* [node] seal: check the store at rest (datadir.h) */
    /* [submit] */
    uint64_t batch_ms, batch_max_events, queue_max_events, queue_max_bytes;
    uint64_t prevalidate; /* 1: refuse what apply would reject */
    /* [cosign] */
    uint64_t cosign_interval_ms;
} node_config;

/* The defaults (data left empty). */
void config_defaults(node_config *c);

/* Parses `len` bytes of INI text read from `name` (used in messages only)
 * over the defaults. Returns 0, or ORIGO_E_CONFIG with a one-line message
 * in msg ("FILE:LINE: [section] key: what is wrong; allowed: ...").
 * ORIGO_E_NOMEM is an error too, never a verdict. */
int config_parse(const char *name, const char *text, size_t len, node_config *c,
                 char *msg, size_t msg_size);

/* Reads and parses a file. ORIGO_E_IO names the file and the reason. */
int config_load(const char *path, node_config *c, char *msg, size_t msg_size);

#endif
