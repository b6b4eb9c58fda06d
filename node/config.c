/* The node's INI configuration: a table of keys, each with its kind, range
 * and default; libinih splits the lines, this file judges them. Lines are
 * handed to inih one at a time by our own reader, which counts them (so
 * every message has its line whatever inih was built with) and refuses the
 * lines different inih builds read differently. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"
#include "origo/file.h"

#include "genesis.h"

enum kind { K_PATH, K_LEVEL, K_LISTEN, K_U64, K_ADDRESS };

typedef struct key_spec {
    const char *section, *name;
    enum kind kind;
    size_t offset;
    uint64_t min, max;
    const char *unit;
} key_spec;

#define AT(field) offsetof(node_config, field)
#define SECTIONS "[node], [peer], [http], [raft], [submit] and [cosign]"

static const key_spec keys[] = {
    {"node", "data", K_PATH, AT(data), 0, 0, NULL},
    {"node", "key", K_PATH, AT(key), 0, 0, NULL},
    {"node", "genesis", K_PATH, AT(genesis), 0, 0, NULL},
    {"node", "log_level", K_LEVEL, AT(log_level), 0, 0, NULL},
    {"node", "map_size", K_U64, AT(map_size), 1048576, 1099511627776, "bytes"},
    {"node", "seal", K_U64, AT(seal), 0, 1, "(1: on, 0: off)"},
    {"peer", "listen", K_LISTEN, AT(listen), 0, 0, NULL},
    {"peer", "advertise", K_ADDRESS, AT(advertise), 0, 0, NULL},
    {"peer", "frame_cap", K_U64, AT(frame_cap), 65536, 268435456, "bytes"},
    {"peer", "send_queue_max", K_U64, AT(send_queue_max), 1048576, 4294967296,
     "bytes"},
    {"peer", "handshake_timeout_ms", K_U64, AT(handshake_timeout_ms), 100,
     60000, "ms"},
    {"peer", "idle_timeout_ms", K_U64, AT(idle_timeout_ms), 0, 3600000,
     "ms (0: never)"},
    {"peer", "reconnect_min_ms", K_U64, AT(reconnect_min_ms), 10, 60000, "ms"},
    {"peer", "reconnect_max_ms", K_U64, AT(reconnect_max_ms), 10, 3600000,
     "ms"},
    {"http", "listen", K_LISTEN, AT(http_listen), 0, 0, NULL},
    {"http", "max_body", K_U64, AT(http_max_body), 1024, 67108864, "bytes"},
    {"http", "max_header", K_U64, AT(http_max_header), 4096, 1048576, "bytes"},
    {"http", "max_connections", K_U64, AT(http_max_connections), 1, 65536,
     "connections"},
    {"http", "max_per_client", K_U64, AT(http_max_per_client), 0, 65536,
     "connections (0: no limit)"},
    {"http", "timeout_ms", K_U64, AT(http_timeout_ms), 1000, 3600000, "ms"},
    {"http", "tls_cert", K_PATH, AT(http_tls_cert), 0, 0, NULL},
    {"http", "tls_key", K_PATH, AT(http_tls_key), 0, 0, NULL},
    {"raft", "tick_ms", K_U64, AT(tick_ms), 10, 10000, "ms"},
    {"raft", "election_ticks", K_U64, AT(election_ticks), 3, 1000, "ticks"},
    {"raft", "snapshot_every", K_U64, AT(snapshot_every), 16, 1000000000,
     "entries"},
    {"raft", "log_tail", K_U64, AT(log_tail), 1, 1000000000, "entries"},
    {"submit", "batch_ms", K_U64, AT(batch_ms), 0, 1000, "ms"},
    {"submit", "batch_max_events", K_U64, AT(batch_max_events), 1, 4096,
     "events"},
    {"submit", "queue_max_events", K_U64, AT(queue_max_events), 16, 10000000,
     "events"},
    {"submit", "queue_max_bytes", K_U64, AT(queue_max_bytes), 1048576,
     17179869184, "bytes"},
    {"submit", "prevalidate", K_U64, AT(prevalidate), 0, 1, "(1: on, 0: off)"},
    {"cosign", "interval_ms", K_U64, AT(cosign_interval_ms), 0, 60000, "ms"},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const levels[] = {"debug", "info", "warn", "error"};

static size_t key_index(const char *section, const char *name)
{
    size_t k = 0;
    while (k < N_KEYS - 1 &&
           (strcmp(keys[k].section, section) || strcmp(keys[k].name, name)))
        k++;
    return k;
}

void config_defaults(node_config *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = CONFIG_LOG_INFO;
    c->map_size = 64u << 20;
    memcpy(c->listen.host, "0.0.0.0", sizeof("0.0.0.0"));
    c->listen.port = 7400;
    c->frame_cap = 16u << 20;
    c->send_queue_max = 64u << 20;
    c->handshake_timeout_ms = 5000;
    c->idle_timeout_ms = 10000;
    c->reconnect_min_ms = 100;
    c->reconnect_max_ms = 10000;
    memcpy(c->http_listen.host, "127.0.0.1", sizeof("127.0.0.1"));
    c->http_listen.port = 7401;
    c->http_max_body = 16u << 20;
    c->http_max_header = 16384;
    c->http_max_connections = 1024;
    c->http_max_per_client = 64;
    c->http_timeout_ms = 30000;
    c->tick_ms = 100;
    c->election_ticks = 10;
    c->snapshot_every = 4096;
    c->log_tail = 1024;
    c->batch_ms = 5;
    c->batch_max_events = 1024;
    c->queue_max_events = 100000;
    c->queue_max_bytes = 256u << 20;
    c->prevalidate = 1;
    c->seal = 1;
    c->cosign_interval_ms = 50;
}

/* ---- reading lines ---- */

typedef struct parse {
    const char *name;
    const char *p, *end;
    int line;
    node_config *c;
    int err_line; /* first error of ours, 0: none */
    int err_code;
    char *msg;
    size_t msg_size;
    int seen[N_KEYS]; /* line where each key was set, 0: not yet */
} parse;

static void fail(parse *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(parse *s, int code, const char *fmt, ...)
{
    if (s->err_line)
        return; /* the first error is the one reported */
    s->err_line = s->line ? s->line : 1;
    s->err_code = code;
    int n = snprintf(s->msg, s->msg_size, "%s:%d: ", s->name, s->err_line);
    if (n < 0 || (size_t)n >= s->msg_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg + n, s->msg_size - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Whether the len bytes at p are spaces and tabs only. */
static int blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

/* inih's reader: one line per call, counted. A line inih could read
 * differently on another build is refused and handed over blank. */
/* Whether a "[...]" line names one of the sections of keys[] (the
 * parser's own spelling: spaces inside the brackets are trimmed). A line
 * without "]" is left to the parser, which refuses it. */
static int known_section(const char *line, size_t len)
{
    const char *close = memchr(line, ']', len);
    if (!close)
        return 1;
    const char *name = line + 1;
    while (name < close && (*name == ' ' || *name == '\t'))
        name++;
    const char *end = close;
    while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - name);
    for (size_t k = 0; k < N_KEYS; k++)
        if (strlen(keys[k].section) == n && !memcmp(keys[k].section, name, n))
            return 1;
    return 0;
}

static char *read_line(char *str, int num, void *stream)
{
    parse *s = stream;
    if (s->p >= s->end)
        return NULL;
    const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
    const char *stop = nl ? nl : s->end;
    size_t len = (size_t)(stop - s->p);
    if (len && stop[-1] == '\r')
        len--;
    s->line++;
    const char *line = s->p;
    s->p = nl ? nl + 1 : s->end;
    str[0] = '\0';
    if (memchr(line, '\0', len))
        fail(s, ORIGO_E_CONFIG, "the line holds a NUL byte");
    else if (len > CONFIG_MAX_LINE || (int)len + 2 > num)
        fail(s, ORIGO_E_CONFIG, "the line is longer than %d characters",
             CONFIG_MAX_LINE);
    else if (len && (line[0] == ' ' || line[0] == '\t') && !blank(line, len))
        fail(s, ORIGO_E_CONFIG,
             "an indented line: write every key at the start of its line "
             "(continuation lines are not allowed)");
    else if (len && line[0] == '[' && !known_section(line, len))
        /* Here, not in on_pair(): a section with no key under it never
         * reaches the pair handler, and must not pass unnoticed. */
        fail(s, ORIGO_E_CONFIG, "%.*s: unknown section; sections are " SECTIONS,
             (int)(len > 80 ? 80 : len), line);
    else {
        memcpy(str, line, len);
        str[len] = '\n';
        str[len + 1] = '\0';
    }
    return str;
}

static int parse_into(const char *name, const char *text, size_t len,
                      node_config *c, char *msg, size_t msg_size);

/* ---- values ---- */

static int parse_u64(const char *v, uint64_t *out)
{
    if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 20)
        return -1;
    uint64_t n = 0;
    for (; *v; v++) {
        uint64_t d = (uint64_t)(*v - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* ip:port or [v6]:port.
 * Returns NULL or what is wrong. */
static const char *parse_addr(const char *v, config_addr *out)
{
    const char *colon, *host = v;
    size_t host_len;
    int v6 = 0;
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':')
            return "an IPv6 address is written [address]:port";
        host = v + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        v6 = 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon || colon == v)
            return "write host:port";
        host_len = (size_t)(colon - v);
        if (memchr(v, ':', host_len))
            return "an IPv6 address is written [address]:port";
    }
    uint64_t port;
    if (parse_u64(colon + 1, &port) || port < 1 || port > 65535)
        return "the port is a whole number from 1 to 65535";
    if (host_len == 0 || host_len >= sizeof(out->host))
        return "the host is empty or too long";
    char h[sizeof(out->host)];
    memcpy(h, host, host_len);
    h[host_len] = '\0';
    uint8_t ip[16];
    int numeric = inet_pton(v6 ? AF_INET6 : AF_INET, h, ip) == 1;
    if (v6 && !numeric)
        return "not an IPv6 address";
    if (!numeric)
        return "the address to listen on is an IP address (0.0.0.0: all)";
    memcpy(out->host, h, host_len + 1);
    out->port = (uint16_t)port;
    return NULL;
}

static void set_value(parse *s, size_t k, const char *section, const char *name,
                      const char *value)
{
    const key_spec *spec = &keys[k];
    node_config *c = s->c;
    char *field = (char *)c + spec->offset;
    const char *why;
    uint64_t n;
    switch (spec->kind) {
    case K_PATH:
        if (!*value || strlen(value) >= sizeof(c->data))
            fail(s, ORIGO_E_CONFIG, "[%s] %s: a path of 1 to %zu bytes",
                 section, name, sizeof(c->data) - 1);
        else
            memcpy(field, value, strlen(value) + 1); /* length checked */
        return;
    case K_LEVEL:
        for (size_t i = 0; i < 4; i++)
            if (strcmp(value, levels[i]) == 0) {
                c->log_level = (enum config_log_level)(i + 1);
                return;
            }
        fail(s, ORIGO_E_CONFIG,
             "[%s] %s = %s: allowed: debug, info, warn, error (default info)",
             section, name, value);
        return;
    case K_LISTEN:
        if ((why = parse_addr(value, (config_addr *)(void *)field)) != NULL)
            fail(s, ORIGO_E_CONFIG, "[%s] %s = %s: %s (default %s)", section,
                 name, value, why,
                 spec->offset == AT(listen) ? "0.0.0.0:7400"
                                            : "127.0.0.1:7401");
        return;
    case K_ADDRESS:
        if (!genesis_address_ok(value, strlen(value)))
            fail(s, ORIGO_E_CONFIG,
                 "[%s] %s = %s: allowed: host:port where other validators "
                 "reach this one (a name or an IP address, a port 1-65535; "
                 "default: the listen address unless it is 0.0.0.0 or ::)",
                 section, name, value);
        else
            memcpy(field, value, strlen(value) + 1); /* length checked */
        return;
    case K_U64:
        if (parse_u64(value, &n) || n < spec->min || n > spec->max)
            fail(s, ORIGO_E_CONFIG,
                 "[%s] %s = %s: allowed: a whole number from %llu to %llu %s",
                 section, name, value, (unsigned long long)spec->min,
                 (unsigned long long)spec->max, spec->unit);
        else
            memcpy(field, &n, sizeof(n));
        return;
    }
}

static int on_pair(void *user, const char *section, const char *name,
                   const char *value)
{
    parse *s = user;
    int section_known = 0;
    for (size_t k = 0; k < N_KEYS; k++) {
        if (strcmp(keys[k].section, section) != 0)
            continue;
        section_known = 1;
        if (strcmp(keys[k].name, name) != 0)
            continue;
        if (s->seen[k]) {
            fail(s, ORIGO_E_CONFIG,
                 "[%s] %s: set twice (first on line %d); keep one", section,
                 name, s->seen[k]);
            return 1;
        }
        s->seen[k] = s->line;
        set_value(s, k, section, name, value);
        return 1;
    }
    if (!section[0]) {
        fail(s, ORIGO_E_CONFIG,
             "%s: a key before any [section]; sections are " SECTIONS, name);
    } else if (!section_known) {
        fail(s, ORIGO_E_CONFIG, "[%s]: unknown section; sections are " SECTIONS,
             section);
    } else {
        char list[512] = "";
        size_t at = 0;
        for (size_t k = 0; k < N_KEYS; k++)
            if (strcmp(keys[k].section, section) == 0 && at < sizeof(list)) {
                int n = snprintf(list + at, sizeof(list) - at, "%s%s",
                                 at ? ", " : "", keys[k].name);
                at += n > 0 ? (size_t)n : 0;
            }
        fail(s, ORIGO_E_CONFIG, "[%s] %s: unknown key; the keys of [%s] are %s",
             section, name, section, list);
    }
    return 1; /* keep going: inih's own errors are counted separately */
}

int config_parse(const char *name, const char *text, size_t len,
                 node_config *out, char *msg, size_t msg_size)
{
    /* Into a copy: a file with an error changes nothing. */
    node_config *c = malloc(sizeof(*c));
    if (!c)
        return ORIGO_E_NOMEM;
    int rc = parse_into(name, text, len, c, msg, msg_size);
    if (rc == 0)
        memcpy(out, c, sizeof(*c));
    free(c);
    return rc;
}

static int parse_into(const char *name, const char *text, size_t len,
                      node_config *c, char *msg, size_t msg_size)
{
    parse s = {.name = name,
               .p = text,
               .end = text + len,
               .c = c,
               .msg = msg,
               .msg_size = msg_size};
    if (msg_size)
        msg[0] = '\0';
    config_defaults(c);
    int rc = ini_parse_stream(read_line, &s, on_pair, &s);
    if (rc < 0)
        return ORIGO_E_NOMEM; /* inih could not allocate its line */
    if (rc > 0 && (!s.err_line || rc < s.err_line)) {
        s.err_line = 0;
        s.line = rc;
        fail(&s, ORIGO_E_CONFIG,
             "not a `key = value` line, a [section] or a comment");
    }
    if (!s.err_line) {
        s.line = 0;
        if (!c->data[0]) {
            snprintf(msg, msg_size,
                     "%s: [node] data is required: the directory that holds "
                     "this validator's ledger",
                     name);
            return ORIGO_E_CONFIG;
        }
        if (c->reconnect_max_ms < c->reconnect_min_ms) {
            int max_line = s.seen[key_index("peer", "reconnect_max_ms")];
            s.line = max_line ? max_line
                              : s.seen[key_index("peer", "reconnect_min_ms")];
            fail(&s, ORIGO_E_CONFIG,
                 "[peer] reconnect_max_ms (%llu) is below reconnect_min_ms "
                 "(%llu)",
                 (unsigned long long)c->reconnect_max_ms,
                 (unsigned long long)c->reconnect_min_ms);
        }
    }
    return s.err_line ? s.err_code : 0;
}

int config_load(const char *path, node_config *c, char *msg, size_t msg_size)
{
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = origo_read_file(path, 1u << 20, &text, &len);
    if (rc) {
        snprintf(msg, msg_size, "%s: cannot read: %s", path,
                 rc == ORIGO_E_IO || rc == ORIGO_E_NOTFOUND
                     ? strerror(errno)
                     : origo_strerror(rc));
        return rc == ORIGO_E_NOTFOUND ? ORIGO_E_IO : rc;
    }
    rc = config_parse(path, (const char *)text, len, c, msg, msg_size);
    free(text);
    return rc;
}
