/* Command-line driver of the cluster simulator: runs a range of seeds (the
 * default test and long campaigns) or replays one seed step for step. With
 * --expect-violation it is the mutation check: it passes only if some seed
 * finds a safety violation, and says how many seeds that took. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define DEFAULT_FAULT_STEPS 3000
#define DEFAULT_LIVENESS_STEPS 4000

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: sim [--seed N | --seeds N [--start S]] [--steps F]\n"
        "           [--liveness L] [--voters V] [--verbose]\n"
        "           [--harsh] [--expect-violation]\n"
        "  --seed N            replay one seed (deterministic)\n"
        "  --seeds N           run seeds S .. S+N-1 (default 2000 from 1)\n"
        "  --steps F           fault-phase steps per seed (default %d)\n"
        "  --liveness L        steps allowed to recover (default %d)\n"
        "  --voters V          every seed starts with V voters (1..5)\n"
        "  --harsh             long delays, heavy duplication, partial and\n"
        "                      late syncs, crashes keeping unreported\n"
        "                      writes, failed snapshot provision, terms\n"
        "                      near the maximum\n"
        "  --expect-violation  pass iff some seed violates an invariant\n",
        DEFAULT_FAULT_STEPS, DEFAULT_LIVENESS_STEPS);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    uint64_t start = 1, count = 2000, steps = DEFAULT_FAULT_STEPS;
    uint64_t liveness = DEFAULT_LIVENESS_STEPS;
    bool verbose = false, expect_violation = false, one = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(a, "--seed") == 0 && v != NULL) {
            rc = parse_u64(v, &start);
            count = 1;
            one = true;
            i++;
        } else if (strcmp(a, "--seeds") == 0 && v != NULL) {
            rc = parse_u64(v, &count);
            i++;
        } else if (strcmp(a, "--start") == 0 && v != NULL) {
            rc = parse_u64(v, &start);
            i++;
        } else if (strcmp(a, "--steps") == 0 && v != NULL) {
            rc = parse_u64(v, &steps);
            i++;
        } else if (strcmp(a, "--liveness") == 0 && v != NULL) {
            rc = parse_u64(v, &liveness);
            i++;
        } else if (strcmp(a, "--voters") == 0 && v != NULL) {
            uint64_t n = 0;
            rc = parse_u64(v, &n);
            if (rc == 0 && (n == 0 || n > 5)) {
                rc = -1;
            }
            sim_set_run_voters((uint32_t)n);
            i++;
        } else if (strcmp(a, "--harsh") == 0) {
            sim_set_harsh(true);
        } else if (strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "--expect-violation") == 0) {
            expect_violation = true;
        } else {
            rc = -1;
        }
        if (rc != 0) {
            usage();
            return 2;
        }
    }
    struct sim_stats stats;
    memset(&stats, 0, sizeof(stats));
    double t0 = now_seconds();
    uint64_t failures = 0, ran = 0;
    for (uint64_t seed = start; seed < start + count; seed++) {
        ran++;
        if (sim_run_seed(seed, steps, liveness, verbose, stdout, &stats) != 0) {
            failures++;
            if (expect_violation) {
                break;
            }
        }
    }
    double dt = now_seconds() - t0;
    printf("sim: %" PRIu64 " seeds from %" PRIu64 " in %.2f s (%.1f seeds/s), "
           "%" PRIu64 " violating\n",
           ran, start, dt, dt > 0 ? (double)ran / dt : 0.0, failures);
    printf("sim: elections %" PRIu64 ", committed entries %" PRIu64
           ", crashes %" PRIu64 ", partitions %" PRIu64
           ", config changes %" PRIu64 ", transfers %" PRIu64
           ", snapshots taken %" PRIu64 " installed %" PRIu64
           ", messages %" PRIu64 "\n",
           stats.elections, stats.max_commit, stats.crashes, stats.partitions,
           stats.config_changes, stats.transfers, stats.snapshots_taken,
           stats.snapshots_installed, stats.msgs_sent);
    if (expect_violation) {
        if (failures > 0) {
            printf("mutation caught: first violation after %" PRIu64 " seeds\n",
                   ran);
            return 0;
        }
        printf("mutation NOT caught within %" PRIu64 " seeds\n", ran);
        return 1;
    }
    (void)one;
    return failures == 0 ? 0 : 1;
}
