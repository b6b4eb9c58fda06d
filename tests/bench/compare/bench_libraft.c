/* Throughput of Debian's libraft 0.15 (canonical/raft) for three servers in
 * one process, with the workload of tests/bench/bench_raft.c (our core): a
 * leader is elected, then, batch after batch, entries of a fixed size are
 * proposed and the cluster is driven until every server has applied them;
 * the figure is entries committed on all nodes per second of wall time
 * (CLOCK_MONOTONIC), printed with the process's CPU time because the
 * machine is shared. Only libraft's public API is used.
 *
 * Two I/O backends drive the servers:
 *  - "direct" (default): a minimal raft_io written here against the public
 *    struct raft_io, playing the part of bench_raft.c's pump(): appends are
 *    reported durable without copying, every message is copied once
 *    (entries into one batch buffer, as a receiver holds them) and delivered
 *    in FIFO order with no delay. When nothing is pending, time moves one
 *    heartbeat interval and every server ticks: that is bench_raft.c's
 *    raft_tick(leader) after each batch, which lets followers learn the
 *    final commit index. Snapshots every 16384 entries keeping none behind,
 *    as bench_raft.c compacts.
 *  - "fixture": libraft's own raft_fixture (stub I/O, fake time) with
 *    network and disk latency set to 0, the minimum: every write and message
 *    completes at the same fake instant. The fixture copies each appended
 *    entry into its stub disk, and after every single event it also copies
 *    the leader's whole in-memory log and compares it byte for byte with the
 *    previous copy (its Leader Append-Only check). That cost is the
 *    fixture's, not the library's, and grows with the log, so snapshots stay
 *    at libraft's defaults here (every 1024 entries, 128 kept).
 *
 * Batching: bench_raft.c makes one raft_propose() call per entry and then
 * one pass over the readies, which sends one append message per follower
 * for the whole batch. libraft sends at once on every raft_apply(), so the
 * same messages come from one raft_apply() of n entries (--apply batch, the
 * default); --apply single makes one raft_apply() per entry instead, which
 * gives libraft one append message per entry and per follower.
 *
 * Other differences from bench_raft.c: pump() hands message pointers to the
 * receiving core, while libraft's callback I/O makes this file queue a copy
 * of each message and run send and append completions as events of their
 * own (a cost charged to libraft's figure); our core caps an append at
 * 1 MiB, libraft does not; our core runs pre-vote, check-quorum and flow
 * control, libraft here runs without pre-vote (its default). None of these
 * fire in steady state. See README.md for the figures.
 *
 * Builds only when meson finds libraft and -Dbench_libraft=true. It must not
 * link liborigo's consensus library, whose raft_* names clash with
 * libraft's. */
#include <raft.h>
#include <raft/fixture.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SERVERS 3

/* ------------------------------------------------------------ options -- */

struct bench_opts {
    bool use_fixture;       /* raft_fixture instead of the direct backend */
    bool single_apply;      /* one raft_apply() per entry, not per batch */
    uint64_t total;         /* entries per run (256-byte runs) */
    unsigned batch;         /* 0: bench_raft.c's matrix of runs */
    size_t entry_size;      /* 0: bench_raft.c's matrix of runs */
    unsigned snap_thresh;   /* entries between snapshots */
    unsigned snap_trailing; /* entries kept behind a snapshot */
};

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--io direct|fixture] [--apply batch|single]\n"
            "          [--entries N] [--batch N] [--entry-size N]\n"
            "          [--snapshot-threshold N] [--snapshot-trailing N]\n"
            "Without --batch and --entry-size it runs bench_raft.c's matrix:\n"
            "batches 1, 16, 128, 1024 of 256-byte entries (N each), then\n"
            "batch 128 of 4096-byte entries (N/4).\n",
            prog);
}

static int parse_u64(const char *text, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    char *end = NULL;
    unsigned long long value;

    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' ||
        value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

static int parse_choice(const char *text, const char *yes, const char *no,
                        bool *out)
{
    if (strcmp(text, yes) != 0 && strcmp(text, no) != 0)
        return -1;
    *out = strcmp(text, yes) == 0;
    return 0;
}

static int parse_opt_value(const char *name, const char *text,
                           struct bench_opts *o)
{
    uint64_t value = 0;

    if (strcmp(name, "--io") == 0)
        return parse_choice(text, "fixture", "direct", &o->use_fixture);
    if (strcmp(name, "--apply") == 0)
        return parse_choice(text, "single", "batch", &o->single_apply);
    if (strcmp(name, "--batch") == 0 && parse_u64(text, 1, 65536, &value) == 0)
        o->batch = (unsigned)value;
    else if (strcmp(name, "--entry-size") == 0 &&
             parse_u64(text, 1, 1 << 20, &value) == 0)
        o->entry_size = (size_t)value;
    else if (strcmp(name, "--entries") == 0 &&
             parse_u64(text, 4, UINT64_C(1) << 32, &value) == 0)
        o->total = value;
    else if (strcmp(name, "--snapshot-threshold") == 0 &&
             parse_u64(text, 1, UINT_MAX, &value) == 0)
        o->snap_thresh = (unsigned)value;
    else if (strcmp(name, "--snapshot-trailing") == 0 &&
             parse_u64(text, 0, UINT_MAX, &value) == 0)
        o->snap_trailing = (unsigned)value;
    else
        return -1;
    return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    bool thresh_set = false, trailing_set = false;
    int i;

    memset(o, 0, sizeof *o);
    o->total = 200000;
    for (i = 1; i < argc; i += 2) {
        if (i + 1 >= argc || parse_opt_value(argv[i], argv[i + 1], o) != 0) {
            usage(argv[0]);
            return -1;
        }
        thresh_set |= strcmp(argv[i], "--snapshot-threshold") == 0;
        trailing_set |= strcmp(argv[i], "--snapshot-trailing") == 0;
    }
    if (!thresh_set)
        o->snap_thresh = o->use_fixture ? 1024 : 16384;
    if (!trailing_set)
        o->snap_trailing = o->use_fixture ? 128 : 0;
    return 0;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- FSM -- */

/* The state machine counts applied entries; its snapshot is that count. */
struct bench_fsm_state {
    uint64_t applied;
};

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                     void **result)
{
    struct bench_fsm_state *st = fsm->data;

    (void)buf;
    st->applied++;
    *result = NULL;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
    struct bench_fsm_state *st = fsm->data;
    struct raft_buffer *arr = raft_malloc(sizeof *arr);

    if (arr == NULL)
        return RAFT_NOMEM;
    arr->len = sizeof st->applied;
    arr->base = raft_malloc(arr->len);
    if (arr->base == NULL) {
        raft_free(arr);
        return RAFT_NOMEM;
    }
    memcpy(arr->base, &st->applied, arr->len);
    *bufs = arr;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm,
                                 struct raft_buffer *bufs[], unsigned *n_bufs)
{
    unsigned i;

    (void)fsm;
    for (i = 0; i < *n_bufs; i++)
        raft_free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/* libraft hands restore() ownership of buf->base. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct bench_fsm_state *st = fsm->data;

    if (buf->len == sizeof st->applied)
        memcpy(&st->applied, buf->base, sizeof st->applied);
    raft_free(buf->base);
    return 0;
}

static void fsm_setup(struct raft_fsm *fsm, struct bench_fsm_state *st)
{
    memset(fsm, 0, sizeof *fsm);
    memset(st, 0, sizeof *st);
    fsm->version = 2;
    fsm->data = st;
    fsm->apply = fsm_apply;
    fsm->snapshot = fsm_snapshot;
    fsm->snapshot_finalize = fsm_snapshot_finalize;
    fsm->restore = fsm_restore;
}

/* ------------------------------------------------------- direct raft_io -- */

enum dio_event_type {
    DIO_APPEND_DONE,
    DIO_SEND_DONE,
    DIO_DELIVER,
    DIO_SNAPSHOT_DONE,
};

struct dio_event {
    int type;
    unsigned node;           /* whose callback runs */
    void *req;               /* raft_io_append or raft_io_send */
    struct raft_message msg; /* DIO_DELIVER: owned copy */
};

struct dio_node {
    struct raft raft;
    struct raft_io io;
    struct raft_fsm fsm;
    struct bench_fsm_state fsm_state;
    struct dio_cluster *cluster;
    unsigned index;
    raft_id id;
    char address[16];
    raft_term term;
    raft_id vote;
    struct raft_buffer bootstrap_conf; /* encoded, owned */
    raft_io_tick_cb tick_cb;
    raft_io_recv_cb recv_cb;
    unsigned tick_interval;
};

/* A FIFO of pending completions and deliveries in a growable ring. */
struct dio_cluster {
    struct dio_node nodes[N_SERVERS];
    raft_time now;
    struct dio_event *ring;
    size_t cap, head, count;
};

static void dio_die(const char *what)
{
    fprintf(stderr, "bench_libraft: %s\n", what);
    exit(1);
}

static void dio_push(struct dio_cluster *c, const struct dio_event *ev)
{
    if (c->count == c->cap) {
        size_t new_cap = c->cap ? c->cap * 2 : 256;
        struct dio_event *ring = malloc(new_cap * sizeof *ring);
        size_t i;

        if (ring == NULL)
            dio_die("out of memory (event ring)");
        for (i = 0; i < c->count; i++)
            ring[i] = c->ring[(c->head + i) % c->cap];
        free(c->ring);
        c->ring = ring;
        c->cap = new_cap;
        c->head = 0;
    }
    c->ring[(c->head + c->count) % c->cap] = *ev;
    c->count++;
}

static bool dio_pop(struct dio_cluster *c, struct dio_event *out)
{
    if (c->count == 0)
        return false;
    *out = c->ring[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    return true;
}

static struct dio_node *dio_node_of(struct raft_io *io)
{
    return io->impl;
}

static int dio_init(struct raft_io *io, raft_id id, const char *address)
{
    (void)io;
    (void)id;
    (void)address;
    return 0;
}

static void dio_close(struct raft_io *io, raft_io_close_cb cb)
{
    if (cb != NULL)
        cb(io);
}

/* Returns the bootstrap configuration entry (the only entry ever "stored"
 * before start); libraft takes ownership of the array and of the batch. */
static int dio_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
                    struct raft_snapshot **snapshot, raft_index *start_index,
                    struct raft_entry *entries[], size_t *n_entries)
{
    struct dio_node *n = dio_node_of(io);
    struct raft_entry *arr = NULL;

    *term = n->term;
    *voted_for = n->vote;
    *snapshot = NULL;
    *start_index = 1;
    *n_entries = 0;
    *entries = NULL;
    if (n->bootstrap_conf.base == NULL)
        return 0;
    arr = raft_malloc(sizeof *arr);
    if (arr == NULL)
        return RAFT_NOMEM;
    arr->term = 1;
    arr->type = RAFT_CHANGE;
    arr->buf.len = n->bootstrap_conf.len;
    arr->buf.base = raft_malloc(arr->buf.len);
    if (arr->buf.base == NULL) {
        raft_free(arr);
        return RAFT_NOMEM;
    }
    memcpy(arr->buf.base, n->bootstrap_conf.base, arr->buf.len);
    arr->batch = arr->buf.base;
    *entries = arr;
    *n_entries = 1;
    return 0;
}

static int dio_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                     raft_io_recv_cb recv)
{
    struct dio_node *n = dio_node_of(io);

    n->tick_interval = msecs;
    n->tick_cb = tick;
    n->recv_cb = recv;
    return 0;
}

static int dio_bootstrap(struct raft_io *io,
                         const struct raft_configuration *conf)
{
    struct dio_node *n = dio_node_of(io);
    int rv;

    if (n->term != 0)
        return RAFT_CANTBOOTSTRAP;
    rv = raft_configuration_encode(conf, &n->bootstrap_conf);
    if (rv != 0)
        return rv;
    n->term = 1;
    return 0;
}

static int dio_recover(struct raft_io *io,
                       const struct raft_configuration *conf)
{
    (void)io;
    (void)conf;
    return RAFT_NOTFOUND;
}

static int dio_set_term(struct raft_io *io, raft_term term)
{
    struct dio_node *n = dio_node_of(io);

    n->term = term;
    n->vote = 0;
    return 0;
}

static int dio_set_vote(struct raft_io *io, raft_id server_id)
{
    dio_node_of(io)->vote = server_id;
    return 0;
}

/* Copies the entries of an AppendEntries message into one batch buffer, as a
 * receiver reading them off a socket would hold them. */
static int dio_copy_entries(const struct raft_append_entries *src,
                            struct raft_append_entries *dst)
{
    size_t total = 0;
    unsigned i;
    uint8_t *start, *batch;

    dst->entries = NULL;
    if (src->n_entries == 0)
        return 0;
    for (i = 0; i < src->n_entries; i++)
        total += src->entries[i].buf.len;
    dst->entries = raft_malloc(src->n_entries * sizeof *dst->entries);
    start = raft_malloc(total > 0 ? total : 1);
    if (dst->entries == NULL || start == NULL)
        return RAFT_NOMEM;
    batch = start;
    for (i = 0; i < src->n_entries; i++) {
        const struct raft_entry *from = &src->entries[i];
        struct raft_entry *to = &dst->entries[i];

        to->term = from->term;
        to->type = from->type;
        to->buf.len = from->buf.len;
        to->buf.base = batch;
        to->batch = start;
        memcpy(batch, from->buf.base, from->buf.len);
        batch += from->buf.len;
    }
    return 0;
}

static int dio_send(struct raft_io *io, struct raft_io_send *req,
                    const struct raft_message *message, raft_io_send_cb cb)
{
    struct dio_node *n = dio_node_of(io);
    struct dio_event done = {.type = DIO_SEND_DONE, .node = n->index};
    struct dio_event deliver = {.type = DIO_DELIVER};

    if (message->server_id < 1 || message->server_id > N_SERVERS)
        return RAFT_NOCONNECTION;
    if (message->type == RAFT_IO_INSTALL_SNAPSHOT)
        dio_die("unexpected InstallSnapshot (no follower should lag behind)");
    deliver.node = (unsigned)message->server_id - 1;
    deliver.msg = *message;
    deliver.msg.server_id = n->id;
    deliver.msg.server_address = n->address;
    if (message->type == RAFT_IO_APPEND_ENTRIES &&
        dio_copy_entries(&message->append_entries,
                         &deliver.msg.append_entries) != 0)
        dio_die("out of memory (message copy)");
    req->cb = cb;
    done.req = req;
    dio_push(n->cluster, &done);
    dio_push(n->cluster, &deliver);
    return 0;
}

/* Nothing is copied: persistence is reported done on the next turn. */
static int dio_append(struct raft_io *io, struct raft_io_append *req,
                      const struct raft_entry entries[], unsigned n_entries,
                      raft_io_append_cb cb)
{
    struct dio_node *n = dio_node_of(io);
    struct dio_event done = {.type = DIO_APPEND_DONE, .node = n->index};

    (void)entries;
    (void)n_entries;
    req->cb = cb;
    done.req = req;
    dio_push(n->cluster, &done);
    return 0;
}

static int dio_truncate(struct raft_io *io, raft_index index)
{
    (void)io;
    (void)index;
    return 0;
}

/* The snapshot is "stored" without a copy: no follower lags behind far
 * enough to need it sent (snapshot_get aborts the run if one does). */
static int dio_snapshot_put(struct raft_io *io, unsigned trailing,
                            struct raft_io_snapshot_put *req,
                            const struct raft_snapshot *snapshot,
                            raft_io_snapshot_put_cb cb)
{
    struct dio_node *n = dio_node_of(io);
    struct dio_event done = {.type = DIO_SNAPSHOT_DONE, .node = n->index};

    (void)trailing;
    (void)snapshot;
    req->cb = cb;
    done.req = req;
    dio_push(n->cluster, &done);
    return 0;
}

static int dio_snapshot_get(struct raft_io *io,
                            struct raft_io_snapshot_get *req,
                            raft_io_snapshot_get_cb cb)
{
    (void)io;
    (void)req;
    (void)cb;
    dio_die("unexpected snapshot_get (no follower should lag behind)");
    return RAFT_IOERR;
}

static raft_time dio_time(struct raft_io *io)
{
    return dio_node_of(io)->cluster->now;
}

/* Server 0 draws the shortest election timeout, so it is elected first. */
static int dio_random(struct raft_io *io, int min, int max)
{
    return dio_node_of(io)->index == 0 ? min : max;
}

static void dio_run_event(struct dio_cluster *c, struct dio_event *ev)
{
    struct dio_node *n = &c->nodes[ev->node];

    switch (ev->type) {
    case DIO_APPEND_DONE: {
        struct raft_io_append *req = ev->req;
        req->cb(req, 0);
        break;
    }
    case DIO_SEND_DONE: {
        struct raft_io_send *req = ev->req;
        if (req->cb != NULL)
            req->cb(req, 0);
        break;
    }
    case DIO_SNAPSHOT_DONE: {
        struct raft_io_snapshot_put *req = ev->req;
        req->cb(req, 0);
        break;
    }
    case DIO_DELIVER:
        /* libraft takes ownership of the message's entries and batch. */
        n->recv_cb(&n->io, &ev->msg);
        break;
    default:
        dio_die("bad event");
    }
}

/* Runs every pending event; when none is left, moves time to the next tick
 * and fires every server's tick. */
static void dio_step(struct dio_cluster *c)
{
    struct dio_event ev;
    unsigned i;

    if (dio_pop(c, &ev)) {
        dio_run_event(c, &ev);
        return;
    }
    c->now += c->nodes[0].tick_interval;
    for (i = 0; i < N_SERVERS; i++)
        c->nodes[i].tick_cb(&c->nodes[i].io);
}

static void dio_io_setup(struct dio_node *n)
{
    struct raft_io *io = &n->io;

    memset(io, 0, sizeof *io);
    io->version = 1;
    io->impl = n;
    io->init = dio_init;
    io->close = dio_close;
    io->load = dio_load;
    io->start = dio_start;
    io->bootstrap = dio_bootstrap;
    io->recover = dio_recover;
    io->set_term = dio_set_term;
    io->set_vote = dio_set_vote;
    io->send = dio_send;
    io->append = dio_append;
    io->truncate = dio_truncate;
    io->snapshot_put = dio_snapshot_put;
    io->snapshot_get = dio_snapshot_get;
    io->time = dio_time;
    io->random = dio_random;
}

static int dio_configuration(struct raft_configuration *conf)
{
    unsigned i;
    char address[16];

    raft_configuration_init(conf);
    for (i = 0; i < N_SERVERS; i++) {
        snprintf(address, sizeof address, "%u", i + 1);
        if (raft_configuration_add(conf, i + 1, address, RAFT_VOTER) != 0)
            return -1;
    }
    return 0;
}

static int dio_cluster_start(struct dio_cluster *c, const struct bench_opts *o)
{
    struct raft_configuration conf;
    unsigned i;

    memset(c, 0, sizeof *c);
    if (dio_configuration(&conf) != 0)
        return -1;
    for (i = 0; i < N_SERVERS; i++) {
        struct dio_node *n = &c->nodes[i];

        n->cluster = c;
        n->index = i;
        n->id = i + 1;
        snprintf(n->address, sizeof n->address, "%u", i + 1);
        dio_io_setup(n);
        fsm_setup(&n->fsm, &n->fsm_state);
        if (raft_init(&n->raft, &n->io, &n->fsm, n->id, n->address) != 0 ||
            raft_bootstrap(&n->raft, &conf) != 0)
            goto err_after_conf;
        raft_set_snapshot_threshold(&n->raft, o->snap_thresh);
        raft_set_snapshot_trailing(&n->raft, o->snap_trailing);
        if (raft_start(&n->raft) != 0)
            goto err_after_conf;
    }
    raft_configuration_close(&conf);
    return 0;

err_after_conf:
    fprintf(stderr, "bench_libraft: start of server %u failed: %s\n", i + 1,
            raft_errmsg(&c->nodes[i].raft));
    raft_configuration_close(&conf);
    return -1;
}

static void dio_closed(struct raft *r)
{
    (void)r;
}

static void dio_cluster_close(struct dio_cluster *c)
{
    unsigned i;
    struct dio_event ev;

    /* Let every pending completion and message run first, so that no
     * request of libraft's is left without its callback. */
    while (dio_pop(c, &ev))
        dio_run_event(c, &ev);
    for (i = 0; i < N_SERVERS; i++)
        raft_close(&c->nodes[i].raft, dio_closed);
    while (dio_pop(c, &ev)) {
        if (ev.type == DIO_DELIVER) {
            if (ev.msg.type == RAFT_IO_APPEND_ENTRIES &&
                ev.msg.append_entries.entries != NULL) {
                raft_free(ev.msg.append_entries.entries[0].batch);
                raft_free(ev.msg.append_entries.entries);
            }
        }
    }
    for (i = 0; i < N_SERVERS; i++)
        raft_free(c->nodes[i].bootstrap_conf.base);
    free(c->ring);
}

/* ---------------------------------------------- the measured workload -- */

/* What the workload needs from either backend. */
struct bench_driver {
    struct raft *(*server)(void *ctx, unsigned i);
    struct raft *(*leader)(void *ctx); /* NULL if none */
    void (*step)(void *ctx);           /* one event, or time moves on */
    void *ctx;
};

struct bench_run {
    unsigned batch;
    size_t entry_size;
    uint64_t total;
};

struct run_result {
    double seconds;     /* wall time, CLOCK_MONOTONIC */
    double cpu_seconds; /* this process's CPU time: the machine is shared */
    uint64_t steps;     /* events and ticks the driver ran */
    uint64_t applied;   /* lowest applied index over the servers, at end */
};

static void bench_die(const char *what)
{
    fprintf(stderr, "bench_libraft: %s\n", what);
    exit(1);
}

static void apply_done(struct raft_apply *req, int status, void *result)
{
    (void)req;
    (void)result;
    if (status != 0) {
        fprintf(stderr, "bench_libraft: apply failed: %s\n",
                raft_strerror(status));
        exit(1);
    }
}

/* Proposes n entries of run->entry_size bytes, each a copy of payload with
 * its sequence number in front (as bench_raft.c fills them): through one
 * raft_apply() of n entries, or with --apply single through n calls of one
 * entry each (reqs has n slots). libraft takes ownership of each entry's
 * buffer, which must come from raft_malloc(). Returns the index of the last
 * entry proposed. */
static raft_index propose(struct raft *leader, struct raft_apply *reqs,
                          struct raft_buffer *bufs, unsigned n,
                          uint8_t *payload, const struct bench_run *run,
                          bool single_apply, uint64_t *seqno)
{
    unsigned i;
    int rv = 0;

    for (i = 0; i < n; i++, (*seqno)++) {
        memcpy(payload, seqno, sizeof *seqno);
        bufs[i].len = run->entry_size;
        bufs[i].base = raft_malloc(run->entry_size);
        if (bufs[i].base == NULL)
            bench_die("out of memory (entry)");
        memcpy(bufs[i].base, payload, run->entry_size);
    }
    if (!single_apply)
        rv = raft_apply(leader, &reqs[0], bufs, n, apply_done);
    for (i = 0; single_apply && i < n && rv == 0; i++)
        rv = raft_apply(leader, &reqs[i], &bufs[i], 1, apply_done);
    if (rv != 0) {
        fprintf(stderr, "bench_libraft: raft_apply: %s\n", raft_strerror(rv));
        exit(1);
    }
    return raft_last_index(leader);
}

static raft_index lowest_applied(const struct bench_driver *d)
{
    raft_index lowest = raft_last_applied(d->server(d->ctx, 0));
    unsigned i;

    for (i = 1; i < N_SERVERS; i++) {
        raft_index applied = raft_last_applied(d->server(d->ctx, i));
        if (applied < lowest)
            lowest = applied;
    }
    return lowest;
}

/* Steps until every server has applied index; the leader must not change. */
static void drive_until_applied(const struct bench_driver *d,
                                struct raft *leader, raft_index index,
                                uint64_t *steps)
{
    uint64_t idle = 0;

    while (lowest_applied(d) < index) {
        d->step(d->ctx);
        (*steps)++;
        if (++idle > 10000000)
            bench_die("no progress after 10^7 steps");
        if (d->leader(d->ctx) != leader)
            bench_die("leadership changed during the run");
    }
}

/* bench_raft.c's loop: propose a batch, then drive the cluster until every
 * server has applied it, until run->total entries are in. */
static void run_workload(const struct bench_driver *d,
                         const struct bench_run *run, bool single_apply,
                         struct run_result *res)
{
    struct raft *leader = d->leader(d->ctx);
    struct raft_apply *reqs = calloc(run->batch, sizeof *reqs);
    struct raft_buffer *bufs = calloc(run->batch, sizeof *bufs);
    uint8_t *payload = calloc(1, run->entry_size + sizeof(uint64_t));
    uint64_t proposed = 0;
    double t0, cpu0;

    if (reqs == NULL || bufs == NULL || payload == NULL)
        bench_die("out of memory (workload)");
    memset(res, 0, sizeof *res);
    t0 = clock_seconds(CLOCK_MONOTONIC);
    cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    while (proposed < run->total) {
        uint64_t left = run->total - proposed;
        unsigned n = left < run->batch ? (unsigned)left : run->batch;
        raft_index last = propose(leader, reqs, bufs, n, payload, run,
                                  single_apply, &proposed);

        drive_until_applied(d, leader, last, &res->steps);
    }
    res->seconds = clock_seconds(CLOCK_MONOTONIC) - t0;
    res->cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    res->applied = lowest_applied(d);
    free(payload);
    free(bufs);
    free(reqs);
}

/* ------------------------------------------------------------ drivers -- */

static struct raft *dio_server(void *ctx, unsigned i)
{
    struct dio_cluster *c = ctx;

    return &c->nodes[i].raft;
}

static struct raft *dio_leader(void *ctx)
{
    struct dio_cluster *c = ctx;
    unsigned i;

    for (i = 0; i < N_SERVERS; i++)
        if (raft_state(&c->nodes[i].raft) == RAFT_LEADER)
            return &c->nodes[i].raft;
    return NULL;
}

static void dio_step_ctx(void *ctx)
{
    dio_step(ctx);
}

/* Elects server 0 (it draws the shortest timeout) and lets the entries it
 * appends on election reach every server. */
static int dio_elect(struct dio_cluster *c)
{
    struct bench_driver d = {dio_server, dio_leader, dio_step_ctx, c};
    unsigned guard;

    for (guard = 0; guard < 100000 && dio_leader(c) == NULL; guard++)
        dio_step(c);
    if (dio_leader(c) == NULL) {
        fprintf(stderr, "bench_libraft: no leader elected\n");
        return -1;
    }
    for (guard = 0; guard < 100000; guard++) {
        if (lowest_applied(&d) >= raft_last_index(dio_leader(c)))
            return 0;
        dio_step(c);
    }
    fprintf(stderr, "bench_libraft: election entries not applied\n");
    return -1;
}

static int run_direct(const struct bench_opts *o, const struct bench_run *run,
                      struct run_result *res)
{
    struct dio_cluster *c = malloc(sizeof *c);
    struct bench_driver d = {dio_server, dio_leader, dio_step_ctx, NULL};

    if (c == NULL)
        return -1;
    if (dio_cluster_start(c, o) != 0)
        goto err_after_alloc;
    if (dio_elect(c) != 0)
        goto err_after_start;
    d.ctx = c;
    run_workload(&d, run, o->single_apply, res);
    dio_cluster_close(c);
    free(c);
    return 0;

err_after_start:
    dio_cluster_close(c);
err_after_alloc:
    free(c);
    return -1;
}

static struct raft *fixture_server(void *ctx, unsigned i)
{
    return raft_fixture_get(ctx, i);
}

static struct raft *fixture_leader(void *ctx)
{
    struct raft_fixture *f = ctx;
    unsigned i = raft_fixture_leader_index(f);

    if (i >= raft_fixture_n(f))
        return NULL;
    return raft_fixture_get(f, i);
}

static void fixture_step_ctx(void *ctx)
{
    raft_fixture_step(ctx);
}

static int fixture_setup(struct raft_fixture *f, struct raft_fsm *fsms,
                         struct bench_fsm_state *states,
                         const struct bench_opts *o)
{
    struct raft_configuration conf;
    unsigned i;

    if (raft_fixture_initialize(f) != 0)
        return -1;
    for (i = 0; i < N_SERVERS; i++) {
        fsm_setup(&fsms[i], &states[i]);
        if (raft_fixture_grow(f, &fsms[i]) != 0)
            goto err_after_fixture;
        /* The minimum the fixture allows: delivered and written at once. */
        raft_fixture_set_network_latency(f, i, 0);
        raft_fixture_set_disk_latency(f, i, 0);
        raft_set_snapshot_threshold(raft_fixture_get(f, i), o->snap_thresh);
        raft_set_snapshot_trailing(raft_fixture_get(f, i), o->snap_trailing);
    }
    if (raft_fixture_configuration(f, N_SERVERS, &conf) != 0)
        goto err_after_fixture;
    if (raft_fixture_bootstrap(f, &conf) != 0)
        goto err_after_conf;
    raft_configuration_close(&conf);
    if (raft_fixture_start(f) != 0)
        goto err_after_fixture;
    raft_fixture_elect(f, 0);
    if (!raft_fixture_step_until_applied(
            f, N_SERVERS, raft_last_index(raft_fixture_get(f, 0)), 10000))
        goto err_after_fixture;
    return 0;

err_after_conf:
    raft_configuration_close(&conf);
err_after_fixture:
    raft_fixture_close(f);
    return -1;
}

static int run_fixture(const struct bench_opts *o, const struct bench_run *run,
                       struct run_result *res)
{
    struct raft_fixture *f = calloc(1, sizeof *f); /* grow() needs zeros */
    struct raft_fsm fsms[N_SERVERS];
    struct bench_fsm_state states[N_SERVERS];
    struct bench_driver d = {fixture_server, fixture_leader, fixture_step_ctx,
                             NULL};

    if (f == NULL)
        return -1;
    if (fixture_setup(f, fsms, states, o) != 0) {
        fprintf(stderr, "bench_libraft: fixture setup or election failed\n");
        free(f);
        return -1;
    }
    d.ctx = f;
    if (fixture_leader(f) == NULL) {
        fprintf(stderr, "bench_libraft: no stable leader\n");
        raft_fixture_close(f);
        free(f);
        return -1;
    }
    run_workload(&d, run, o->single_apply, res);
    raft_fixture_close(f);
    free(f);
    return 0;
}

/* --------------------------------------------------------------- main -- */

static double per_second(uint64_t count, double seconds)
{
    return seconds > 0 ? (double)count / seconds : 0.0;
}

static int run_one(const struct bench_opts *o, const struct bench_run *run)
{
    struct run_result res;
    int rv =
        o->use_fixture ? run_fixture(o, run, &res) : run_direct(o, run, &res);

    if (rv != 0)
        return rv;
    printf("bench_libraft: 3 nodes, %zu-byte entries, batch %4u: %10.0f "
           "entries/s committed on all nodes (%llu in %.3f s; cpu %.3f s, "
           "%.0f entries/cpu-s; io=%s apply=%s snapshot=%u/%u steps=%llu)\n",
           run->entry_size, run->batch, per_second(run->total, res.seconds),
           (unsigned long long)run->total, res.seconds, res.cpu_seconds,
           per_second(run->total, res.cpu_seconds),
           o->use_fixture ? "fixture" : "direct",
           o->single_apply ? "single" : "batch", o->snap_thresh,
           o->snap_trailing, (unsigned long long)res.steps);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const unsigned batches[] = {1, 16, 128, 1024};
    struct bench_opts o;
    struct bench_run run;
    size_t i;

    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    if (o.batch != 0 || o.entry_size != 0) {
        run.batch = o.batch != 0 ? o.batch : 128;
        run.entry_size = o.entry_size != 0 ? o.entry_size : 256;
        run.total = o.total;
        return run_one(&o, &run) == 0 ? 0 : 1;
    }
    for (i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        run.batch = batches[i];
        run.entry_size = 256;
        run.total = o.total;
        if (run_one(&o, &run) != 0)
            return 1;
    }
    run.batch = 128;
    run.entry_size = 4096;
    run.total = o.total / 4;
    return run_one(&o, &run) == 0 ? 0 : 1;
}
