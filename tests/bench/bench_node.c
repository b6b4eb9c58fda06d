/* End-to-end throughput of origo-node: real node processes on loopback,
 * fsync on, concurrent HTTP clients (libcurl, keep-alive) submitting
 * pre-signed lot.create events with wait=commit. Prints committed events
 * per second, p50 and p99 submit-to-commit latency per request, and this
 * machine's Ed25519 verify rate in the same run, first for `--dev` (one
 * validator), then for three validators made with `origo genesis`.
 *
 *   bench_node ORIGO_NODE ORIGO_CLI [--events N] [--clients C] [--batch B]
 *   bench_node ORIGO_NODE ORIGO_CLI --soak SECONDS [--rate R] [--interval S]
 *
 * --soak (docs/reliability.md, "Soak"): three validators under a steady
 * load for SECONDS, R events a second (default: half the rate this run
 * first measures with --events, by 256 clients unless --clients says
 * otherwise), each sender signing its events as it goes and sending them
 * on a fixed schedule (R / 4 senders, at least 16: see soak()). Every S seconds
 * (default 60) one line: committed events, p50 and p99 latency in that interval
 * (from when each request was due, so a stall counts for every request behind
 * it), each node's resident heap (RssAnon: not the store's mapped pages),
 * its LMDB readers in a transaction and
 * how far the oldest is behind, and its store's size. Then the drift: p99
 * and memory of the last interval against the first.
 *
 * A benchmark, not a test: it prints numbers and passes unless something
 * fails outright (a node does not start, an event is not committed). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "testutil.h"

static const char *node_bin, *cli_bin;
static size_t n_events = 20000, n_clients = 16, batch = 1;
static double soak_seconds, soak_rate, soak_interval = 60;
static long batch_ms = -1; /* [submit] batch_ms of the validators, if set */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *verify_loop(void *arg)
{
    double *rate = arg;
    unsigned char pk[32], sk[64], sig[64], msg[200] = {0};
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
    size_t count = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 256; i++)
            if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
                abort();
        count += 256;
    } while ((t = now_s()) - t0 < 1.0);
    *rate = (double)count / (t - t0);
    return NULL;
}

/* Ed25519 verifications a second on one core, and on all of them at once
 * (the machine's bound: cores share caches, power and, in a VM, a host). */
static void verify_rates(double *one, double *all, long *cores)
{
    verify_loop(one);
    *cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (*cores < 1 || *cores > 256)
        *cores = 1;
    pthread_t th[256];
    double rates[256];
    *all = 0;
    for (long i = 0; i < *cores; i++)
        pthread_create(&th[i], NULL, verify_loop, &rates[i]);
    for (long i = 0; i < *cores; i++) {
        pthread_join(th[i], NULL);
        *all += rates[i];
    }
}

static int free_port(void)
{
    /* Ask the kernel for a free port by binding port 0 with curl-free
     * plain sockets. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench_node: failed: %s\n", cmd);
    return rc;
}

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct body {
    char *data;
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    body *b = ctx;
    char *q = realloc(b->data, b->len + size * n + 1);
    if (!q)
        return 0;
    memcpy(q + b->len, p, size * n);
    b->data = q;
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

static long get(CURL *c, const char *url, body *out)
{
    out->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* Waits until one of the URLs reports a leader. */
static int await_leader(char urls[][64], size_t n)
{
    CURL *c = curl_easy_init();
    body b = {0};
    for (int t = 0; t < 600; t++) {
        for (size_t i = 0; i < n; i++) {
            char u[128];
            snprintf(u, sizeof(u), "%s/v1/status", urls[i]);
            if (get(c, u, &b) == 200 && strstr(b.data, "\"role\":\"leader\"")) {
                free(b.data);
                curl_easy_cleanup(c);
                return 0;
            }
        }
        usleep(50000); /* polling a starting process */
    }
    free(b.data);
    curl_easy_cleanup(c);
    return -1;
}

/* ---- the load ------------------------------------------------------------ */

typedef struct load {
    origo_buf *bodies; /* one request each: a msgpack array of envelopes */
    size_t n_bodies;
    char (*urls)[64];
    size_t n_urls;
    size_t next;
    pthread_mutex_t mu;
    double *latency;
    size_t committed, retries, failed;
} load;

static void *client(void *arg)
{
    load *l = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/msgpack");
    h = curl_slist_append(h, "Expect:");
    body b = {0};
    for (;;) {
        pthread_mutex_lock(&l->mu);
        size_t i = l->next++;
        pthread_mutex_unlock(&l->mu);
        if (i >= l->n_bodies)
            break;
        char url[128];
        snprintf(url, sizeof(url), "%s/v1/events", l->urls[i % l->n_urls]);
        double t0 = now_s();
        long code = 0;
        CURLcode cres = CURLE_OK;
        for (int attempt = 0; attempt < 1000; attempt++) {
            b.len = 0;
            curl_easy_setopt(c, CURLOPT_URL, url);
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, l->bodies[i].data);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)l->bodies[i].len);
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
            code = 0;
            cres = curl_easy_perform(c);
            if (cres == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (code != 429 && code != 503)
                break;
            pthread_mutex_lock(&l->mu);
            l->retries++;
            pthread_mutex_unlock(&l->mu);
            usleep(2000); /* the node said: retry after a while */
        }
        double dt = now_s() - t0;
        size_t ok = 0;
        for (const char *p = b.data;
             code == 200 && p && (p = strstr(p, "\"committed\"")) != NULL; p++)
            ok++;
        pthread_mutex_lock(&l->mu);
        l->latency[i] = dt;
        l->committed += ok;
        if (ok != batch && l->failed++ == 0)
            fprintf(stderr,
                    "bench_node: first failed request: HTTP %ld (%s): %.300s\n",
                    code, curl_easy_strerror(cres),
                    b.data && b.len ? b.data : "(no body)");
        pthread_mutex_unlock(&l->mu);
    }
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Signs n lot.create events with `key` (lots PREFIX/bench/L-i) into
 * request bodies of `batch` envelopes each. */
static void presign(origo_key *key, const char *net, const char *prefix,
                    load *l)
{
    l->n_bodies = (n_events + batch - 1) / batch;
    l->bodies = calloc(l->n_bodies, sizeof(*l->bodies));
    uint64_t ts = (uint64_t)time(NULL) * 1000u;
    size_t e = 0;
    for (size_t i = 0; i < l->n_bodies; i++) {
        origo_buf_init(&l->bodies[i], 64u << 20);
        size_t count = batch;
        origo_mp_put_array(&l->bodies[i], (uint32_t)count);
        for (size_t k = 0; k < count; k++, e++) {
            char lot[96];
            snprintf(lot, sizeof(lot), "%s/bench/L-%zu-%llu", prefix, e,
                     (unsigned long long)ts);
            origo_event ev;
            origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
            ev.net = origo_str_c(net);
            memcpy(ev.by, origo_key_public(key), 32);
            ev.ts = ts;
            ev.n_lots = 1;
            ev.lots[0].role = ORIGO_LOT_SUBJECT;
            ev.lots[0].lot = origo_str_c(lot);
            ev.lots[0].qty = origo_str_c("100");
            ev.lots[0].unit = origo_str_c("pcs");
            ev.item = origo_str_c("bench-cell");
            origo_buf env;
            origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
            if (origo_event_seal(&ev, key, &env, NULL) != 0)
                abort();
            origo_mp_put_bin(&l->bodies[i], env.data, env.len);
            origo_buf_close(&env);
        }
    }
}

static double metric(CURL *c, const char *url, const char *name);

static int run_load(const char *label, origo_key *key, const char *net,
                    const char *prefix, char urls[][64], size_t n_urls,
                    double *rate)
{
    load l = {.urls = urls, .n_urls = n_urls};
    pthread_mutex_init(&l.mu, NULL);
    presign(key, net, prefix, &l);
    l.latency = calloc(l.n_bodies, sizeof(double));
    pthread_t *th = calloc(n_clients, sizeof(*th));
    double t0 = now_s();
    for (size_t i = 0; i < n_clients; i++)
        pthread_create(&th[i], NULL, client, &l);
    for (size_t i = 0; i < n_clients; i++)
        pthread_join(th[i], NULL);
    double dt = now_s() - t0;
    qsort(l.latency, l.n_bodies, sizeof(double), cmp_double);
    double p50 = l.latency[l.n_bodies / 2];
    double p99 = l.latency[(l.n_bodies * 99) / 100];
    if (rate)
        *rate = (double)l.committed / dt;
    printf("%-28s %8zu events  %6.2f s  %8.0f committed events/s  p50 %7.2f "
           "ms  p99 %7.2f ms  retries %zu  failed %zu\n",
           label, l.committed, dt, (double)l.committed / dt, p50 * 1e3,
           p99 * 1e3, l.retries, l.failed);
    /* The first node's blocks: each pays a commit, an fsync and a lot
     * index root, shared by its events. Read after the load only (the
     * setup's few blocks included): a connection opened before it may
     * still count against the clients' [http] max_per_client when they
     * connect, and one client refused fails all its requests. */
    CURL *mc = curl_easy_init();
    double blocks = mc ? metric(mc, urls[0], "origo_blocks_applied_total") : -1;
    if (blocks > 0)
        printf("%-28s %8.0f blocks applied on %s (the setup's included), "
               "%.1f events a block\n",
               "", blocks, urls[0], (double)l.committed / blocks);
    if (mc)
        curl_easy_cleanup(mc);
    fflush(stdout);
    for (size_t i = 0; i < l.n_bodies; i++)
        origo_buf_close(&l.bodies[i]);
    free(l.bodies);
    free(l.latency);
    free(th);
    return l.failed ? 1 : 0;
}

static int bench_dev(const char *dir)
{
    char data[600], http[48], urls[1][64], log[700];
    snprintf(data, sizeof(data), "%s/dev", dir);
    int port = free_port();
    snprintf(http, sizeof(http), "127.0.0.1:%d", port);
    snprintf(urls[0], sizeof(urls[0]), "http://%s", http);
    snprintf(log, sizeof(log), "%s/dev.log", dir);
    char *argv[] = {(char *)node_bin, "--dev", "--data", data,
                    "--http",         http,    NULL};
    pid_t pid = spawn(argv, log);
    int rc = await_leader(urls, 1);
    char path[700];
    snprintf(path, sizeof(path), "%s/supplier.key", data);
    origo_key *key = NULL;
    if (rc == 0 && origo_key_load(path, &key) == 0)
        rc = run_load("--dev (1 validator)", key, "origo.dev/local",
                      "dev-supplier", urls, 1, NULL);
    else
        rc = 1;
    origo_key_free(key);
    stop(pid);
    return rc;
}

/* Three validators on loopback, started; their HTTP URLs and pids. */
static int cluster_up(const char *dir, char urls[3][64], pid_t pids[3])
{
    char cmd[8192];
    int pport[3], hport[3];
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        pport[i] = free_port();
        hport[i] = free_port();
        snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d", hport[i]);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p %s/v%d && %s keygen --name v%d --out "
                 "%s/v%d/validator.key >/dev/null",
                 dir, i, cli_bin, i, dir, i);
        if (sh(cmd))
            return 1;
    }
    snprintf(cmd, sizeof(cmd),
             "%s keygen --name boss --out %s/admin.key >/dev/null && %s "
             "keygen --name acme --out %s/acme.key >/dev/null",
             cli_bin, dir, cli_bin, dir);
    if (sh(cmd))
        return 1;
    at = (size_t)snprintf(cmd, sizeof(cmd),
                          "%s genesis --origin bench.test --admin %s/admin.key "
                          "--member acme=%s/acme.key:supplier --owns "
                          "acme=party:acme --out %s/genesis.json",
                          cli_bin, dir, dir, dir);
    for (int i = 0; i < 3; i++)
        at += (size_t)snprintf(cmd + at, sizeof(cmd) - at,
                               " --validator v%d=%s/v%d/validator.key@127.0.0."
                               "1:%d",
                               i, dir, i, pport[i]);
    snprintf(cmd + at, sizeof(cmd) - at, " >/dev/null");
    if (sh(cmd))
        return 1;
    for (int i = 0; i < 3; i++) {
        char conf[700], log[700];
        snprintf(conf, sizeof(conf), "%s/v%d.conf", dir, i);
        snprintf(log, sizeof(log), "%s/v%d.log", dir, i);
        FILE *f = fopen(conf, "w");
        fprintf(f,
                "[node]\ndata = %s/v%d\ngenesis = %s/genesis.json\n"
                "[peer]\nlisten = 127.0.0.1:%d\nreconnect_min_ms = 10\n"
                "[http]\nlisten = 127.0.0.1:%d\nmax_per_client = 0\n"
                /* A soak's R / 4 senders each keep a connection to every
                 * node: the default 1,024 refused some at R = 5,000. */
                "max_connections = 8192\n"
                "[raft]\ntick_ms = 50\n",
                dir, i, dir, pport[i], hport[i]);
        if (batch_ms >= 0)
            fprintf(f, "[submit]\nbatch_ms = %ld\n", batch_ms);
        fclose(f);
        char *argv[] = {(char *)node_bin, "--config", conf, NULL};
        pids[i] = spawn(argv, log);
    }
    return await_leader(urls, 3);
}

static int soak(const char *dir, origo_key *key, char urls[3][64],
                const pid_t pids[3], double max_rate);

static int bench_cluster(const char *dir)
{
    char urls[3][64];
    pid_t pids[3];
    int rc = cluster_up(dir, urls, pids);
    char path[700];
    snprintf(path, sizeof(path), "%s/acme.key", dir);
    origo_key *key = NULL;
    double rate = 0;
    if (rc == 0 && origo_key_load(path, &key) == 0)
        rc = run_load("3 validators (all nodes)", key, "bench.test", "acme",
                      urls, 3, &rate);
    else
        rc = 1;
    if (rc == 0 && soak_seconds > 0)
        rc = soak(dir, key, urls, pids, rate);
    origo_key_free(key);
    for (int i = 0; i < 3; i++)
        stop(pids[i]);
    return rc;
}

/* ---- soak ---------------------------------------------------------------- */

typedef struct soak_state {
    origo_key *key;
    char (*urls)[64];
    double start, end, rate;
    size_t senders;
    pthread_mutex_t mu;
    double *lat; /* this interval's latencies */
    size_t n_lat, cap_lat, failed;
} soak_state;

typedef struct soak_client {
    soak_state *s;
    size_t index;
} soak_client;

/* One envelope, signed now, as a request body (a msgpack array of one). */
static void soak_body(origo_key *key, size_t client, size_t seq, origo_buf *out)
{
    char lot[96];
    snprintf(lot, sizeof(lot), "acme/soak/C%zu-%zu-%llu", client, seq,
             (unsigned long long)time(NULL));
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
    ev.net = origo_str_c("bench.test");
    memcpy(ev.by, origo_key_public(key), 32);
    ev.ts = (uint64_t)time(NULL) * 1000u;
    ev.n_lots = 1;
    ev.lots[0].role = ORIGO_LOT_SUBJECT;
    ev.lots[0].lot = origo_str_c(lot);
    ev.lots[0].qty = origo_str_c("100");
    ev.lots[0].unit = origo_str_c("pcs");
    ev.item = origo_str_c("soak-cell");
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    if (origo_event_seal(&ev, key, &env, NULL) != 0)
        abort();
    origo_buf_reset(out);
    origo_mp_put_array(out, 1);
    origo_mp_put_bin(out, env.data, env.len);
    origo_buf_close(&env);
}

static void *soak_run(void *arg)
{
    soak_client *me = arg;
    soak_state *s = me->s;
    CURL *c = curl_easy_init();
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/msgpack");
    h = curl_slist_append(h, "Expect:");
    body b = {0};
    origo_buf req;
    origo_buf_init(&req, 1u << 20);
    /* Sender k sends at start + (j * senders + k) / rate: open loop as
     * long as a request takes less than a period (soak()). */
    double period = (double)s->senders / s->rate;
    for (size_t j = 0;; j++) {
        double due =
            s->start +
            ((double)j + (double)me->index / (double)s->senders) * period;
        if (due >= s->end)
            break;
        double wait = due - now_s();
        if (wait > 0)
            usleep((useconds_t)(wait * 1e6)); /* the schedule, not a sync */
        soak_body(s->key, me->index, j, &req);
        char url[128];
        snprintf(url, sizeof(url), "%s/v1/events",
                 s->urls[(j + me->index) % 3]);
        long code = 0;
        for (int attempt = 0; attempt < 100 && now_s() < s->end + 30;
             attempt++) {
            b.len = 0;
            curl_easy_setopt(c, CURLOPT_URL, url);
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.data);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req.len);
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
            code = 0;
            if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (code != 429 && code != 503)
                break;
            usleep(2000); /* the node said: retry after a while */
        }
        double latency = now_s() - due;
        int ok = code == 200 && b.data && strstr(b.data, "\"committed\"");
        pthread_mutex_lock(&s->mu);
        if (!ok) {
            s->failed++;
        } else {
            if (s->n_lat == s->cap_lat) {
                s->cap_lat = s->cap_lat ? s->cap_lat * 2 : 4096;
                s->lat = realloc(s->lat, s->cap_lat * sizeof(double));
                if (!s->lat)
                    abort();
            }
            s->lat[s->n_lat++] = latency;
        }
        pthread_mutex_unlock(&s->mu);
    }
    origo_buf_close(&req);
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* A process's resident anonymous memory, MB (RssAnon: its heap and
 * stacks, not the store's pages it maps), or -1. */
static double rss_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double mb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "RssAnon:", 8) == 0)
            mb = strtod(line + 8, NULL) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

/* A gauge from a node's /metrics, or -1. */
static double metric(CURL *c, const char *url, const char *name)
{
    char u[128];
    body b = {0};
    double v = -1;
    snprintf(u, sizeof(u), "%s/metrics", url);
    if (get(c, u, &b) == 200) {
        size_t len = strlen(name);
        for (const char *p = b.data; p && *p; p = strchr(p, '\n')) {
            if (*p == '\n')
                p++;
            if (strncmp(p, name, len) == 0 && p[len] == ' ')
                v = strtod(p + len + 1, NULL);
        }
    }
    free(b.data);
    return v;
}

static double file_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : -1;
}

/* Whether `dir`'s disk holds the store a soak at `rate` will write: 0.95
 * KB an event a validator measured over 4 million events (reliability.md,
 * "Soak"); 1 KB here. A soak that fills the disk half-way measures the
 * disk, not the cluster. Says why not on stderr. */
static int soak_disk_ok(const char *dir, double rate)
{
    struct statvfs fs;
    double need = rate * soak_seconds * 1000.0 * 3;
    if (statvfs(dir, &fs) == 0 &&
        need > (double)fs.f_bavail * (double)fs.f_frsize) {
        fprintf(stderr,
                "soak: %.0f s at %.0f events/s writes about %.0f GB of store "
                "(1 KB an event on each of three validators), and %s has "
                "%.0f GB free: give a lower --rate or a shorter --soak, or "
                "set TMPDIR to a larger disk\n",
                soak_seconds, rate, need / 1e9, dir,
                (double)fs.f_bavail * (double)fs.f_frsize / 1e9);
        return 0;
    }
    return 1;
}

static int soak(const char *dir, origo_key *key, char urls[3][64],
                const pid_t pids[3], double max_rate)
{
    soak_state s = {.key = key, .urls = urls};
    s.rate = soak_rate > 0 ? soak_rate : max_rate / 2;
    if (s.rate < 1)
        s.rate = 1;
    /* Each sender waits for its answer before its next request, so the
     * senders offer the rate only while a request takes less than
     * senders / rate seconds: enough of them that this is 250 ms, five
     * times the p99 target, and a slower cluster shows as latency
     * (measured from when each request was due), not as a load the
     * benchmark quietly stopped offering. With 16 senders at 430/s, the
     * fourth session's soak stopped offering its rate once a request took
     * 37 ms. */
    s.senders = (size_t)(s.rate / 4) + 1;
    if (s.senders < 16)
        s.senders = 16;
    if (!soak_disk_ok(dir, s.rate))
        return 2;
    pthread_mutex_init(&s.mu, NULL);
    printf("soak: 3 validators, %.0f s at %.0f events/s (%s), %zu senders, "
           "a line every %.0f s\n",
           soak_seconds, s.rate,
           soak_rate > 0 ? "--rate" : "half the rate measured above", s.senders,
           soak_interval);
    printf("soak: t s | committed/s | p50 ms | p99 ms | heap MB v0 v1 v2 | "
           "LMDB readers (oldest lag) v0 v1 v2 | store MB v0 v1 v2\n");
    fflush(stdout);
    s.start = now_s() + 0.5;
    s.end = s.start + soak_seconds;
    soak_client *cl = calloc(s.senders, sizeof(*cl));
    pthread_t *th = calloc(s.senders, sizeof(*th));
    for (size_t i = 0; i < s.senders; i++) {
        cl[i] = (soak_client){&s, i};
        pthread_create(&th[i], NULL, soak_run, &cl[i]);
    }
    CURL *c = curl_easy_init();
    double first_p99 = -1, last_p99 = -1, max_p99 = 0, first_rss[3] = {0},
           last_rss[3] = {0}, max_lag = 0, max_readers = 0;
    size_t total = 0, intervals = 0, first_n = 0;
    for (double t = s.start + soak_interval; t <= s.end + 1e-9;
         t += soak_interval) {
        double wait = t - now_s();
        if (wait > 0)
            usleep((useconds_t)(wait * 1e6)); /* the reporting schedule */
        pthread_mutex_lock(&s.mu);
        double *lat = s.lat;
        size_t n = s.n_lat;
        s.lat = NULL;
        s.n_lat = s.cap_lat = 0;
        pthread_mutex_unlock(&s.mu);
        double p50 = 0, p99 = 0;
        if (n) {
            qsort(lat, n, sizeof(double), cmp_double);
            p50 = lat[n / 2] * 1e3;
            p99 = lat[(n * 99) / 100] * 1e3;
        }
        free(lat);
        total += n;
        char line[512];
        size_t at = (size_t)snprintf(
            line, sizeof(line), "soak: %6.0f | %8.0f | %6.1f | %7.1f |",
            t - s.start, (double)n / soak_interval, p50, p99);
        double rss[3], readers[3], lag[3], store[3];
        for (int i = 0; i < 3; i++) {
            char path[700];
            snprintf(path, sizeof(path), "%s/v%d/ledger/data.mdb", dir, i);
            rss[i] = rss_mb(pids[i]);
            readers[i] = metric(c, urls[i], "origo_lmdb_readers");
            lag[i] = metric(c, urls[i], "origo_lmdb_oldest_reader_lag");
            store[i] = file_mb(path);
            if (lag[i] > max_lag)
                max_lag = lag[i];
            if (readers[i] > max_readers)
                max_readers = readers[i];
        }
        at += (size_t)snprintf(line + at, sizeof(line) - at,
                               " %.0f %.0f %.0f | %.0f (%.0f) %.0f (%.0f) "
                               "%.0f (%.0f) | %.0f %.0f %.0f",
                               rss[0], rss[1], rss[2], readers[0], lag[0],
                               readers[1], lag[1], readers[2], lag[2], store[0],
                               store[1], store[2]);
        puts(line);
        fflush(stdout);
        if (intervals++ == 0) {
            first_p99 = p99;
            first_n = total;
            memcpy(first_rss, rss, sizeof(rss));
        }
        last_p99 = p99;
        memcpy(last_rss, rss, sizeof(rss));
        if (p99 > max_p99)
            max_p99 = p99;
    }
    for (size_t i = 0; i < s.senders; i++)
        pthread_join(th[i], NULL);
    curl_easy_cleanup(c);
    /* Heap per event committed after the first interval: the lot index
     * holds each new lot's chains in memory (lot-index.md), so a steady
     * figure is expected; one that climbs is a leak. */
    double later = (double)(total - first_n);
    printf("soak: %.0f s at %.0f events/s: %zu committed (%.0f/s), %zu "
           "failed; p99 first interval %.1f ms, last %.1f ms (x%.2f), worst "
           "%.1f ms; heap MB v0 %.0f -> %.0f, v1 %.0f -> %.0f, v2 %.0f -> "
           "%.0f (%.0f, %.0f, %.0f bytes per event committed after the "
           "first interval); LMDB readers at most %.0f, oldest reader at "
           "most %.0f write transactions behind\n",
           soak_seconds, s.rate, total, (double)total / soak_seconds, s.failed,
           first_p99, last_p99, first_p99 > 0 ? last_p99 / first_p99 : 0,
           max_p99, first_rss[0], last_rss[0], first_rss[1], last_rss[1],
           first_rss[2], last_rss[2],
           later > 0 ? (last_rss[0] - first_rss[0]) * 1048576.0 / later : 0,
           later > 0 ? (last_rss[1] - first_rss[1]) * 1048576.0 / later : 0,
           later > 0 ? (last_rss[2] - first_rss[2]) * 1048576.0 / later : 0,
           max_readers, max_lag);
    free(s.lat);
    free(cl);
    free(th);
    return s.failed && s.failed * 100 > total ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_node ORIGO_NODE ORIGO_CLI [--events N] "
                        "[--clients C] [--batch B] [--soak SECONDS [--rate R] "
                        "[--interval S]]\n");
        return 2;
    }
    node_bin = argv[1];
    cli_bin = argv[2];
    int clients_given = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
        size_t v = strtoul(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--soak"))
            soak_seconds = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--rate"))
            soak_rate = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--interval"))
            soak_interval = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--events"))
            n_events = v;
        else if (!strcmp(argv[i], "--clients"))
            n_clients = v, clients_given = 1;
        else if (!strcmp(argv[i], "--batch"))
            batch = v;
        else if (!strcmp(argv[i], "--batch-ms"))
            batch_ms = (long)v;
    }
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
        !n_events || !n_clients || !batch || batch > 4096)
        return 2;
    /* The soak's maximum is the cluster's, not its clients': with 16
     * clients, each waiting for its commit, the rate is 16 / latency
     * (822/s here, where 256 clients reach 2,982/s). */
    if (soak_seconds > 0 && !clients_given)
        n_clients = 256;
    n_events = (n_events + batch - 1) / batch * batch;
    printf("bench_node: %zu events, %zu clients, %zu events per request, "
           "%ld cores\n",
           n_events, n_clients, batch, sysconf(_SC_NPROCESSORS_ONLN));
    double one, all;
    long cores;
    verify_rates(&one, &all, &cores);
    printf("Ed25519 verify (libsodium): %.0f/s on one core, %.0f/s on all %ld "
           "at once\n",
           one, all, cores);
    fflush(stdout);
    char *dir = testutil_tmpdir();
    if (soak_interval <= 0)
        return 2;
    /* With --rate, before a minute of measuring the maximum for nothing. */
    if (soak_seconds > 0 && soak_rate > 0 && !soak_disk_ok(dir, soak_rate)) {
        testutil_rmtree(dir);
        free(dir);
        return 2;
    }
    int rc = (soak_seconds > 0 ? 0 : bench_dev(dir)) | bench_cluster(dir);
    testutil_rmtree(dir);
    free(dir);
    curl_global_cleanup();
    return rc;
}
