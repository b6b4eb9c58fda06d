/* Benchmark of the Raft core alone: three nodes in one process, messages
 * handed from one core to another at once, persistence reported done at
 * once, so what is measured is the core's own cost per committed entry.
 * Proposals are batched (many proposals, then one pass over the readies).
 * Prints entries/s committed; never fails. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft.h"

#define NODES 3

struct bench {
    struct raft *nodes[NODES];
    uint64_t rng[NODES];
    uint64_t applied[NODES];
};

static uint64_t bench_rand(void *ctx)
{
    uint64_t *x = ctx;
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 17;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Processes readies on every node until all are quiet. */
static void pump(struct bench *b)
{
    bool busy = true;
    while (busy) {
        busy = false;
        for (int i = 0; i < NODES; i++) {
            struct raft *r = b->nodes[i];
            if (!raft_has_ready(r)) {
                continue;
            }
            busy = true;
            struct raft_ready rd;
            if (raft_ready(r, &rd) != 0) {
                fprintf(stderr, "bench_raft: ready failed\n");
                exit(1);
            }
            for (size_t m = 0; m < rd.n_msgs; m++) {
                uint64_t to = rd.msgs[m].to;
                if (to >= 1 && to <= NODES) {
                    raft_step(b->nodes[to - 1], &rd.msgs[m]);
                }
            }
            if (rd.n_committed > 0) {
                b->applied[i] = rd.committed[rd.n_committed - 1].index;
            }
            uint64_t seq = rd.seq;
            raft_advance(r, &rd);
            raft_persisted(r, seq);
        }
    }
}

static void setup(struct bench *b)
{
    memset(b, 0, sizeof(*b));
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.bootstrap.n_voters = NODES;
    for (int i = 0; i < NODES; i++) {
        rs.bootstrap.voters[i] = (uint64_t)i + 1;
    }
    for (int i = 0; i < NODES; i++) {
        struct raft_options o;
        raft_options_default(&o);
        o.id = (uint64_t)i + 1;
        o.max_inflight_msgs = 256;
        b->rng[i] = (uint64_t)i + 42;
        o.rand_fn = bench_rand;
        o.rand_ctx = &b->rng[i];
        if (raft_new(&o, &rs, &b->nodes[i]) != 0) {
            fprintf(stderr, "bench_raft: raft_new failed\n");
            exit(1);
        }
    }
    struct raft_status st;
    for (int t = 0; t < 100; t++) {
        raft_tick(b->nodes[0]);
        pump(b);
        raft_status(b->nodes[0], &st);
        if (st.role == RAFT_LEADER) {
            return;
        }
    }
    fprintf(stderr, "bench_raft: no leader\n");
    exit(1);
}

static void run(uint64_t total, size_t batch, size_t entry_bytes)
{
    struct bench b;
    setup(&b);
    uint8_t *payload = calloc(1, entry_bytes);
    if (payload == NULL) {
        exit(1);
    }
    struct raft *leader = b.nodes[0];
    struct raft_status st;
    raft_status(leader, &st);
    uint64_t start_index = st.commit;
    uint64_t target = start_index + total;
    uint8_t snap[16] = {0};
    double t0 = now_seconds();
    uint64_t proposed = 0;
    while (b.applied[1] < target || b.applied[2] < target ||
           b.applied[0] < target) {
        for (size_t k = 0; k < batch && proposed < total; k++, proposed++) {
            memcpy(payload, &proposed, sizeof(proposed));
            if (raft_propose(leader, payload, entry_bytes, NULL) != 0) {
                fprintf(stderr, "bench_raft: propose failed\n");
                exit(1);
            }
        }
        pump(&b);
        raft_tick(leader); /* heartbeats carry the last commit index */
        pump(&b);
        /* Compact every 16384 entries so memory stays bounded. */
        for (int i = 0; i < NODES; i++) {
            raft_status(b.nodes[i], &st);
            if (st.applied >= st.snapshot_index + 16384) {
                raft_snapshot_taken(b.nodes[i], st.applied, snap, sizeof(snap));
            }
        }
    }
    double dt = now_seconds() - t0;
    printf("bench_raft: 3 nodes, %zu-byte entries, batch %4zu: %10.0f "
           "entries/s committed on all nodes (%" PRIu64 " in %.3f s)\n",
           entry_bytes, batch, (double)total / dt, total, dt);
    free(payload);
    for (int i = 0; i < NODES; i++) {
        raft_free(b.nodes[i]);
    }
}

int main(int argc, char **argv)
{
    uint64_t total = 200000;
    if (argc > 1) {
        char *end = NULL;
        unsigned long long v = strtoull(argv[1], &end, 10);
        if (end != NULL && *end == '\0' && v > 0) {
            total = v;
        }
    }
    static const size_t batches[] = {1, 16, 128, 1024};
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        run(total, batches[i], 256);
    }
    run(total / 4, 128, 4096);
    return 0;
}
