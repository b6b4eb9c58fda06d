/* origo-node: so far the validator mesh. It reads its configuration, locks
 * its data directory, loads the genesis and its key, listens for the other
 * validators and dials each at the address the genesis gives, keeps the
 * links up (keepalives, reconnects) and stops cleanly on SIGTERM or
 * SIGINT. Raft, the ledger and the HTTP API join in the next slices.
 *
 * Start, in order: config, log, lock, genesis, key, listener, dialers,
 * signals. Stop, in reverse: signals, dialers, listener and its links, then
 * the loop ends and the rest is freed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "datadir.h"
#include "genesis.h"
#include "log.h"
#include "origo/error.h"
#include "origo/file.h"
#include "origo/keys.h"
#include "peer.h"

#ifdef ORIGO_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#else
/* Without libsystemd there is no service manager to tell. */
static int sd_notify(int unset_environment, const char *state)
{
    (void)unset_environment;
    (void)state;
    return 0;
}
#endif

typedef struct node {
    uv_loop_t loop;
    node_config cfg;
    genesis *gen;
    origo_key *key;
    size_t self; /* index among the genesis validators */
    peer_listener *listener;
    peer_dialer **dialers;
    size_t n_dialers;
    uv_signal_t sigterm, sigint;
    uv_timer_t keepalive;
    int lock_fd, stopping;
} node;

static const char usage[] =
    "usage: origo-node --config FILE [--log-level debug|info|warn|error]\n"
    "  Runs one validator of an Origo network. FILE is an INI file; every\n"
    "  key and its default is in deploy/origo-node.conf.example.\n"
    "  So far the node forms the authenticated mesh between the genesis's\n"
    "  validators; consensus, the ledger and the HTTP API come next.\n";

static int is_validator(void *ctx, const uint8_t pub[32])
{
    node *n = ctx;
    for (size_t i = 0; i < n->gen->validator_count; i++)
        if (memcmp(n->gen->parties[i].pub, pub, 32) == 0)
            return 1;
    return 0;
}

static const char *validator_name(node *n, const uint8_t *pub)
{
    for (size_t i = 0; pub && i < n->gen->validator_count; i++)
        if (memcmp(n->gen->parties[i].pub, pub, 32) == 0)
            return n->gen->parties[i].name;
    return "-";
}

static void on_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    (void)link;
    LOG_INFO("peer link open", "peer", validator_name(ctx, key));
}

static void on_message(peer_link *link, const uint8_t *msg, size_t len,
                       void *ctx)
{
    (void)msg;
    if (len == 0)
        return; /* a keepalive */
    char bytes[24];
    snprintf(bytes, sizeof(bytes), "%zu", len);
    LOG_DEBUG("peer message", "peer", validator_name(ctx, peer_key(link)),
              "bytes", bytes);
}

static void on_close(peer_link *link, int reason, void *ctx)
{
    node *n = ctx;
    if (n->stopping && reason == 0)
        return;
    LOG_INFO("peer link closed", "peer", validator_name(n, peer_key(link)),
             "reason", reason ? origo_errname(reason) : "closed");
}

/* Keepalives: an empty message on every open link, three per idle
 * timeout, so a quiet but live link is never taken for dead. */
static void send_keepalive(peer_link *link, void *ctx)
{
    (void)ctx;
    peer_send(link, NULL, 0);
}

static void on_keepalive(uv_timer_t *t)
{
    node *n = t->data;
    for (size_t i = 0; i < n->n_dialers; i++) {
        peer_link *link = peer_dialer_link(n->dialers[i]);
        if (link)
            send_keepalive(link, n);
    }
    peer_listener_each_open(n->listener, send_keepalive, n);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    node *n = sig->data;
    if (n->stopping)
        return;
    n->stopping = 1;
    LOG_INFO("stopping", "signal", signum == SIGTERM ? "TERM" : "INT");
    sd_notify(0, "STOPPING=1");
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->keepalive, NULL);
    for (size_t i = 0; i < n->n_dialers; i++)
        peer_dialer_stop(n->dialers[i]);
    peer_listener_close_all(n->listener);
}

/* The path of a [node] file: as configured, or DIR/default. */
static void node_file(const node *n, const char *set, const char *dflt,
                      char out[4096 + 32])
{
    if (set[0])
        snprintf(out, 4096 + 32, "%s", set);
    else
        snprintf(out, 4096 + 32, "%s/%s", n->cfg.data, dflt);
}

/* Loads the genesis and this validator's key, and finds it among the
 * validators. */
static int load_identity(node *n, char *msg, size_t msg_size)
{
    char path[4096 + 32], gmsg[256];
    node_file(n, n->cfg.genesis, "genesis.json", path);
    size_t len;
    uint8_t *text = NULL;
    int rc = origo_read_file(path, 1u << 20, &text, &len);
    if (rc) {
        snprintf(msg, msg_size,
                 "%s: %s (the network's genesis file: make it with `origo "
                 "genesis`, or set [node] genesis)",
                 path,
                 rc == ORIGO_E_IO || rc == ORIGO_E_NOTFOUND
                     ? strerror(errno)
                     : origo_strerror(rc));
        return rc;
    }
    rc = genesis_parse(text, len, &n->gen, gmsg, sizeof(gmsg));
    free(text);
    if (rc) {
        snprintf(msg, msg_size, "%s: %s", path, gmsg);
        return rc;
    }
    char kpath[4096 + 32];
    node_file(n, n->cfg.key, "validator.key", kpath);
    if ((rc = origo_key_load(kpath, &n->key)) != 0) {
        snprintf(msg, msg_size,
                 "%s: %s (this validator's key: make it with `origo keygen`, "
                 "or set [node] key)",
                 kpath, origo_strerror(rc));
        return rc;
    }
    for (n->self = 0; n->self < n->gen->validator_count; n->self++)
        if (memcmp(n->gen->parties[n->self].pub, origo_key_public(n->key),
                   32) == 0)
            return 0;
    int w = snprintf(msg, msg_size,
                     "%.1000s is not the key of a validator of network "
                     "\"%.255s\"; give [node] key the validator's key file",
                     kpath, n->gen->origin);
    (void)w;
    return ORIGO_E_PERM;
}

/* Resolves a genesis address host:port (numeric or DNS; blocking, at
 * start only). */
static int resolve(uv_loop_t *loop, const char *address,
                   struct sockaddr_storage *out)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || (size_t)(colon - address) >= sizeof(host))
        return ORIGO_E_INVAL;
    size_t hlen = (size_t)(colon - address);
    if (address[0] == '[' && hlen >= 2 && address[hlen - 1] == ']') {
        memcpy(host, address + 1, hlen - 2);
        host[hlen - 2] = '\0';
    } else {
        memcpy(host, address, hlen);
        host[hlen] = '\0';
    }
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    if (uv_getaddrinfo(loop, &req, NULL, host, colon + 1, &hints) != 0 ||
        !req.addrinfo)
        return ORIGO_E_NOTFOUND;
    memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static int start_mesh(node *n, char *msg, size_t msg_size)
{
    peer_options o = {
        .params = {.origin = n->gen->origin,
                   .genesis_hash = n->gen->hash,
                   .self = n->key,
                   .is_validator = is_validator,
                   .ctx = n},
        .frame_cap = n->cfg.frame_cap,
        .send_queue_max = n->cfg.send_queue_max,
        .handshake_ms = n->cfg.handshake_timeout_ms,
        .idle_ms = n->cfg.idle_timeout_ms,
        .cb = {on_open, on_message, on_close},
        .ctx = n,
    };
    struct sockaddr_storage addr;
    const char *host = n->cfg.listen.host;
    int err = strchr(host, ':') ? uv_ip6_addr(host, n->cfg.listen.port,
                                              (struct sockaddr_in6 *)&addr)
                                : uv_ip4_addr(host, n->cfg.listen.port,
                                              (struct sockaddr_in *)&addr);
    if (!err && peer_listen(&n->loop, (struct sockaddr *)&addr, &o,
                            &n->listener, &err) != 0) {
        snprintf(msg, msg_size, "cannot listen on %s:%u: %s", host,
                 n->cfg.listen.port, uv_strerror(err));
        return ORIGO_E_IO;
    }
    n->dialers = calloc(n->gen->validator_count, sizeof(*n->dialers));
    if (!n->dialers)
        return ORIGO_E_NOMEM;
    for (size_t i = 0; i < n->gen->validator_count; i++) {
        /* One link per pair: the validator with the smaller key dials,
         * the other accepts. */
        const genesis_party *v = &n->gen->parties[i];
        if (i == n->self || memcmp(origo_key_public(n->key), v->pub, 32) > 0)
            continue;
        if (resolve(&n->loop, v->address, &addr) != 0) {
            snprintf(msg, msg_size,
                     "validator %s: cannot resolve its genesis address %s",
                     v->name, v->address);
            return ORIGO_E_NOTFOUND;
        }
        int rc = peer_dial(&n->loop, (struct sockaddr *)&addr, &o,
                           n->cfg.reconnect_min_ms, n->cfg.reconnect_max_ms,
                           &n->dialers[n->n_dialers]);
        if (rc)
            return rc;
        n->n_dialers++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *level = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            level = argv[++i];
        } else {
            fprintf(stderr, "origo-node: unknown or incomplete option %s\n%s",
                    argv[i], usage);
            return 2;
        }
    }
    if (!config_path) {
        fprintf(stderr, "origo-node: --config FILE is required\n%s", usage);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    static node n;
    char msg[10000];
    int rc = config_load(config_path, &n.cfg, msg, sizeof(msg));
    if (rc) {
        fprintf(stderr, "origo-node: %s\n", msg);
        return 2;
    }
    if (level) {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        size_t l = 0;
        while (l < 4 && strcmp(level, names[l]))
            l++;
        if (l == 4) {
            fprintf(stderr,
                    "origo-node: --log-level %s: allowed: debug, "
                    "info, warn, error\n",
                    level);
            return 2;
        }
        n.cfg.log_level = (enum config_log_level)(l + 1);
    }
    log_init(stderr, n.cfg.log_level);
    if ((rc = datadir_lock(n.cfg.data, &n.lock_fd, msg, sizeof(msg))) ||
        (rc = load_identity(&n, msg, sizeof(msg)))) {
        LOG_ERROR("cannot start", "error", msg, "code", origo_errname(rc));
        return 1;
    }
    uv_loop_init(&n.loop);
    if ((rc = start_mesh(&n, msg, sizeof(msg))) != 0) {
        LOG_ERROR("cannot start", "error", msg, "code", origo_errname(rc));
        return 1;
    }
    uv_signal_init(&n.loop, &n.sigterm);
    uv_signal_init(&n.loop, &n.sigint);
    n.sigterm.data = n.sigint.data = &n;
    uv_signal_start(&n.sigterm, on_signal, SIGTERM);
    uv_signal_start(&n.sigint, on_signal, SIGINT);
    uv_timer_init(&n.loop, &n.keepalive);
    n.keepalive.data = &n;
    uint64_t every = n.cfg.idle_timeout_ms ? n.cfg.idle_timeout_ms / 3 : 0;
    if (every)
        uv_timer_start(&n.keepalive, on_keepalive, every, every);
    char peers[24], port[8];
    snprintf(peers, sizeof(peers), "%zu", n.gen->validator_count - 1);
    snprintf(port, sizeof(port), "%u", n.cfg.listen.port);
    sd_notify(0, "READY=1");
    LOG_INFO("started", "validator", n.gen->parties[n.self].name, "network",
             n.gen->origin, "listen_port", port, "peers", peers);
    uv_run(&n.loop, UV_RUN_DEFAULT);
    uv_loop_close(&n.loop);
    LOG_INFO("stopped");
    free(n.dialers);
    origo_key_free(n.key);
    genesis_free(n.gen);
    close(n.lock_fd);
    return 0;
}
