/* The lot index's tree in memory on its own (prints numbers; never
 * pass/fail): a map of --keys keys (default 1,400,000, about the chains of
 * a 1,000,000-event ledger), then blocks of --block keys (default 3,000:
 * 1,000 events of three chain appends, two of them new keys as a transform
 * makes) put one version after another, 32 versions kept, as apply does.
 * Prints the time per block and per key put, and the tree's memory: the
 * part of bench_ledger's index cost that is not LMDB.
 *
 * With --grown the map is first grown block by block (10,000 new keys a
 * block), as a ledger's is, instead of built in one pass: a tree built in
 * one pass lays out each subtree's nodes together, a grown one scatters
 * them, and the cost of a put is mostly its cache misses. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <origo/error.h>
#include <sodium.h>

#include "lotindex_mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_key(const void *a, const void *b)
{
    return memcmp(((const lotindex_place *)a)->key,
                  ((const lotindex_place *)b)->key, 32);
}

static void key_of(uint64_t i, uint8_t key[32])
{
    uint8_t in[8];
    for (int b = 0; b < 8; b++)
        in[b] = (uint8_t)(i >> (56 - 8 * b));
    crypto_hash_sha256(key, in, sizeof in);
}

int main(int argc, char **argv)
{
    size_t keys = 1400000, block = 3000, blocks = 60;
    int grown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            keys = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--block") == 0 && i + 1 < argc)
            block = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc)
            blocks = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--grown") == 0)
            grown = 1;
        else {
            fprintf(stderr, "usage: bench_lot_tree [--keys N] [--block N] "
                            "[--blocks N] [--grown]\n");
            return 2;
        }
    }
    if (sodium_init() < 0 || keys == 0 || block == 0)
        return 1;
    lotindex_place *all = calloc(keys, sizeof(*all));
    lotindex_place *put = calloc(block, sizeof(*put));
    lotindex_mem *m;
    if (!all || !put || lotindex_mem_new(&m) != 0)
        return 1;
    for (size_t i = 0; i < keys; i++) {
        key_of(i, all[i].key);
        all[i].count = 1;
    }
    qsort(all, keys, sizeof(*all), by_key);
    uint8_t root[32];
    uint64_t size = 0;
    double t0 = now();
    int rc =
        lotindex_mem_rebuild(m, 0, grown ? NULL : all, grown ? 0 : keys, root);
    /* Grown: the same keys in blocks, in the order they were made. */
    for (size_t at = 0; grown && rc == 0 && at < keys; at += 10000) {
        size_t n = keys - at < 10000 ? keys - at : 10000;
        for (size_t i = 0; i < n; i++) {
            key_of(at + i, all[i].key);
            all[i].count = 1;
        }
        qsort(all, n, sizeof(*all), by_key);
        rc = lotindex_mem_update(m, size, root, size + 1, all, n, root);
        size++;
    }
    double built = now() - t0;
    if (rc != 0) {
        fprintf(stderr, "build: %s\n", origo_strerror(rc));
        return 1;
    }
    uint64_t next = keys, rng = 0x9e3779b97f4a7c15ull;
    double spent = 0;
    for (size_t b = 0; b < blocks; b++) {
        for (size_t i = 0; i < block; i++) {
            if (i % 3 == 0) { /* an existing key: a chain that grows */
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                key_of(rng % keys, put[i].key);
            } else {
                key_of(next++, put[i].key);
            }
            put[i].count = 2 + b;
            memset(put[i].head, (int)b, 32);
        }
        qsort(put, block, sizeof(*put), by_key);
        size_t n = 0; /* distinct keys only */
        for (size_t i = 0; i < block; i++)
            if (n == 0 || memcmp(put[n - 1].key, put[i].key, 32))
                put[n++] = put[i];
        uint8_t next_root[32];
        t0 = now();
        rc = lotindex_mem_update(m, size, root, size + 1, put, n, next_root);
        size++;
        spent += now() - t0;
        if (rc != 0) {
            fprintf(stderr, "update: %s\n", origo_strerror(rc));
            return 1;
        }
        memcpy(root, next_root, 32);
    }
    size_t nodes, leaves, bytes;
    lotindex_mem_stats(m, &nodes, &leaves, &bytes);
    printf("lot tree: %zu keys %s in %.2f s; %zu blocks of %zu keys: "
           "%.2f ms a block, %.2f us a key put (%.2f us an event of three); "
           "%zu internal nodes, %zu leaves, %.0f MB\n",
           keys, grown ? "grown in blocks of 10,000" : "built in one pass",
           built, blocks, block, spent / (double)blocks * 1e3,
           spent / (double)(blocks * block) * 1e6,
           3 * spent / (double)(blocks * block) * 1e6, nodes, leaves,
           (double)bytes / 1e6);
    lotindex_mem_free(m);
    free(all);
    free(put);
    return 0;
}
