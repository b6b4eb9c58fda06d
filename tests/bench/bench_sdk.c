/* Micro-benchmark of liborigo's hot paths on one thread: Ed25519 sign and
 * verify, event body encode and decode, envelope verification and Merkle
 * inclusion proofs. It prints operations per second and never fails on a
 * number; it exits non-zero only if an operation it times returns an error,
 * because a benchmark of a failing path measures nothing.
 *
 * Usage: bench_sdk [SECONDS]  (CPU time spent on each measurement, default
 * 1). Rates are printed per wall-clock second and per CPU second of the
 * benchmark thread. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "origo/merkle.h"

#define BENCH_NET "origo-bench"
#define BENCH_TREE_SIZE 1000000u
#define BENCH_PROOFS 4096u

static double seconds_per_case = 1.0;

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_sdk: %s failed: %s (%s)\n", what, origo_errname(rc),
            origo_strerror(rc));
    exit(1);
}

/* One timed operation: called with the iteration number, returns 0 or an
 * error code (which stops the benchmark). */
typedef int (*bench_fn)(void *ctx, uint64_t iteration);

/* Runs `fn` in growing batches until it has used `seconds_per_case` of
 * this thread's CPU time (or five times that in wall time, on a machine
 * busy with other work) and prints two rates: per wall-clock second and per
 * CPU second. On a shared machine the second is the one to compare with
 * other machines; they agree when the machine is otherwise idle. */
static void bench(const char *name, bench_fn fn, void *ctx)
{
    uint64_t done = 0, batch = 1;
    double wall_start = now_seconds();
    double cpu_start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    double wall = 0, cpu = 0;
    while (cpu < seconds_per_case && wall < 5 * seconds_per_case) {
        for (uint64_t i = 0; i < batch; i++) {
            int rc = fn(ctx, done + i);
            if (rc)
                die(name, rc);
        }
        done += batch;
        wall = now_seconds() - wall_start;
        cpu = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
        if (batch < (UINT64_C(1) << 20))
            batch *= 2;
    }
    double cpu_rate = (double)done / cpu;
    printf("%-34s %11.0f /s %11.0f /cpu-s %9.3f us/op  (%" PRIu64
           " ops, %.2f s)\n",
           name, (double)done / wall, cpu_rate, 1e6 / cpu_rate, done, wall);
    fflush(stdout);
}

/* ---- fixtures ---- */

struct fixture {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sodium_sig[crypto_sign_BYTES]; /* by sk over body */
    origo_key *key;
    origo_event event; /* the producer's view */
    origo_event decoded;
    uint8_t *body;
    size_t body_len;
    uint8_t sig[ORIGO_SIG_LEN];
    uint8_t *envelope;
    size_t envelope_len;
    origo_buf scratch;
    origo_merkle_tree *tree;
    uint64_t proof_index[BENCH_PROOFS];
    uint8_t proof_leaf[BENCH_PROOFS][ORIGO_HASH_LEN];
    uint8_t (*proofs)[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t proof_len[BENCH_PROOFS];
    uint8_t root[ORIGO_HASH_LEN];
};

/* A typical transform: two input lots, one output, a document hash and an
 * ext entry (about the size of an ERP's production booking). */
static void fill_event(struct fixture *fx)
{
    origo_event *ev = &fx->event;
    origo_event_init(ev, ORIGO_EV_LOT_TRANSFORM);
    ev->net = origo_str_c(BENCH_NET);
    memcpy(ev->by, origo_key_public(fx->key), ORIGO_PUBKEY_LEN);
    ev->ts = UINT64_C(1763700000000);
    static const struct {
        enum origo_lot_role role;
        const char *lot, *qty, *unit;
    } lots[] = {
        {ORIGO_LOT_INPUT, "acme-resins/PA66-GF30/L2026-1107-A", "250", "kg"},
        {ORIGO_LOT_INPUT, "urn:epc:class:lgtin:4012345.012345.B77-19", "12.5",
         "kg"},
        {ORIGO_LOT_OUTPUT, "plant-3/housing-7731/L2026-1121-04", "1800", "pcs"},
    };
    ev->n_lots = sizeof(lots) / sizeof(lots[0]);
    for (size_t i = 0; i < ev->n_lots; i++) {
        ev->lots[i].role = lots[i].role;
        ev->lots[i].lot = origo_str_c(lots[i].lot);
        ev->lots[i].qty = origo_str_c(lots[i].qty);
        ev->lots[i].unit = origo_str_c(lots[i].unit);
    }
    ev->n_docs = 1;
    crypto_hash_sha256(ev->docs[0], (const unsigned char *)"work order 4711",
                       15);
    ev->n_ext = 1;
    ev->ext[0].key = origo_str_c("erp.order");
    ev->ext[0].value = origo_str_c("WO-2026-004711");
}

static void setup_events(struct fixture *fx)
{
    int rc = origo_key_generate("bench", &fx->key);
    if (rc)
        die("origo_key_generate", rc);
    crypto_sign_keypair(fx->pk, fx->sk);
    fill_event(fx);

    origo_buf buf;
    origo_buf_init(&buf, ORIGO_ENVELOPE_MAX);
    rc = origo_event_encode_body(&fx->event, &buf);
    if (rc)
        die("origo_event_encode_body", rc);
    fx->body = origo_buf_steal(&buf, &fx->body_len);
    crypto_sign_detached(fx->sodium_sig, NULL, fx->body, fx->body_len, fx->sk);
    rc = origo_event_sign(fx->key, fx->body, fx->body_len, fx->sig);
    if (rc)
        die("origo_event_sign", rc);
    origo_buf_init(&buf, ORIGO_ENVELOPE_MAX);
    rc = origo_envelope_encode(fx->body, fx->body_len, fx->sig, &buf);
    if (rc || buf.err)
        die("origo_envelope_encode", rc ? rc : buf.err);
    fx->envelope = origo_buf_steal(&buf, &fx->envelope_len);
    origo_buf_init(&fx->scratch, ORIGO_ENVELOPE_MAX);
    rc = origo_envelope_verify(fx->envelope, fx->envelope_len, BENCH_NET,
                               strlen(BENCH_NET), &fx->decoded, NULL);
    if (rc)
        die("origo_envelope_verify (setup)", rc);
    printf("event: lot.transform, body %zu bytes, envelope %zu bytes\n",
           fx->body_len, fx->envelope_len);
}

/* ---- sodium ---- */

static int op_sodium_sign(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    unsigned char sig[crypto_sign_BYTES];
    (void)iteration;
    return crypto_sign_detached(sig, NULL, fx->body, fx->body_len, fx->sk)
               ? ORIGO_E_INTERNAL
               : 0;
}

static int op_sodium_verify(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    (void)iteration;
    return crypto_sign_verify_detached(fx->sodium_sig, fx->body, fx->body_len,
                                       fx->pk)
               ? ORIGO_E_SIGNATURE
               : 0;
}

static int op_event_sign(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    uint8_t sig[ORIGO_SIG_LEN];
    (void)iteration;
    return origo_event_sign(fx->key, fx->body, fx->body_len, sig);
}

static int op_event_verify_sig(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    (void)iteration;
    return origo_event_verify_sig(origo_key_public(fx->key), ORIGO_PUBKEY_LEN,
                                  fx->body, fx->body_len, fx->sig,
                                  ORIGO_SIG_LEN);
}

/* ---- codec and events ---- */

static int op_validate(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    (void)iteration;
    return origo_mp_validate(fx->envelope, fx->envelope_len);
}

static int op_event_encode(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    (void)iteration;
    origo_buf_reset(&fx->scratch);
    return origo_event_encode_body(&fx->event, &fx->scratch);
}

static int op_event_decode(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    (void)iteration;
    return origo_event_decode_body(fx->body, fx->body_len, &fx->decoded);
}

static int op_envelope_decode(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    origo_envelope env;
    (void)iteration;
    return origo_envelope_decode(fx->envelope, fx->envelope_len, &env);
}

static int op_envelope_verify(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    uint8_t id[ORIGO_EVENT_ID_LEN];
    (void)iteration;
    return origo_envelope_verify(fx->envelope, fx->envelope_len, BENCH_NET,
                                 strlen(BENCH_NET), &fx->decoded, id);
}

static int op_event_id(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    uint8_t id[ORIGO_EVENT_ID_LEN];
    (void)iteration;
    origo_event_id(fx->body, fx->body_len, id);
    return 0;
}

/* ---- Merkle ---- */

static void setup_tree(struct fixture *fx)
{
    int rc = origo_merkle_tree_new(&fx->tree);
    if (rc)
        die("origo_merkle_tree_new", rc);
    double start = now_seconds();
    for (uint32_t i = 0; i < BENCH_TREE_SIZE; i++) {
        uint8_t leaf[8];
        for (int b = 0; b < 8; b++)
            leaf[b] = (uint8_t)((uint64_t)i >> (8 * b));
        rc = origo_merkle_tree_append(fx->tree, leaf, sizeof(leaf));
        if (rc)
            die("origo_merkle_tree_append", rc);
    }
    double built = now_seconds() - start;
    rc = origo_merkle_root(origo_merkle_tree_get_node, fx->tree,
                           BENCH_TREE_SIZE, fx->root);
    if (rc)
        die("origo_merkle_root", rc);
    fx->proofs = calloc(BENCH_PROOFS, sizeof(*fx->proofs));
    if (!fx->proofs)
        die("calloc", ORIGO_E_NOMEM);
    uint64_t state = 0x0123456789abcdefu;
    for (uint32_t i = 0; i < BENCH_PROOFS; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        uint64_t index = (state >> 16) % BENCH_TREE_SIZE;
        fx->proof_index[i] = index;
        rc = origo_merkle_tree_get_node(fx->tree, 0, index, fx->proof_leaf[i]);
        if (rc)
            die("origo_merkle_tree_get_node", rc);
        rc = origo_merkle_inclusion_proof(
            origo_merkle_tree_get_node, fx->tree, index, BENCH_TREE_SIZE,
            fx->proofs[i], ORIGO_MERKLE_MAX_PROOF, &fx->proof_len[i]);
        if (rc)
            die("origo_merkle_inclusion_proof", rc);
    }
    printf("merkle: %u leaves appended in %.2f s (%.0f leaves/s), "
           "proofs of %zu hashes\n",
           BENCH_TREE_SIZE, built, BENCH_TREE_SIZE / built, fx->proof_len[0]);
}

static int op_inclusion_verify(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    size_t i = (size_t)(iteration % BENCH_PROOFS);
    return origo_merkle_verify_inclusion(
        fx->proof_index[i], BENCH_TREE_SIZE, (const uint8_t *)fx->proof_leaf[i],
        (const uint8_t(*)[ORIGO_HASH_LEN])fx->proofs[i], fx->proof_len[i],
        fx->root);
}

static int op_inclusion_build(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    uint8_t proof[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t proof_len;
    size_t i = (size_t)(iteration % BENCH_PROOFS);
    return origo_merkle_inclusion_proof(
        origo_merkle_tree_get_node, fx->tree, fx->proof_index[i],
        BENCH_TREE_SIZE, proof, ORIGO_MERKLE_MAX_PROOF, &proof_len);
}

static int op_leaf_hash(void *ctx, uint64_t iteration)
{
    struct fixture *fx = ctx;
    uint8_t hash[ORIGO_HASH_LEN];
    (void)iteration;
    origo_merkle_leaf_hash(fx->envelope, fx->envelope_len, hash);
    return 0;
}

static void print_machine(void)
{
    char model[256] = "unknown";
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo) {
        char line[512];
        while (fgets(line, sizeof(line), cpuinfo)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *colon = strchr(line, ':');
                if (colon) {
                    snprintf(model, sizeof(model), "%s", colon + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(cpuinfo);
    }
    printf("machine: %s, %ld online cpus; libsodium %s; one thread\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), sodium_version_string());
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    if (argc == 2) {
        char *end = NULL;
        errno = 0;
        seconds_per_case = strtod(argv[1], &end);
        if (errno || !end || *end || !(seconds_per_case > 0) ||
            seconds_per_case > 600) {
            fprintf(stderr, "bench_sdk: SECONDS must be in (0, 600]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        die("sodium_init", ORIGO_E_SODIUM);
    print_machine();

    static struct fixture fx;
    setup_events(&fx);
    bench("ed25519 sign (sodium, body)", op_sodium_sign, &fx);
    bench("ed25519 verify (sodium, body)", op_sodium_verify, &fx);
    bench("origo_event_sign", op_event_sign, &fx);
    bench("origo_event_verify_sig", op_event_verify_sig, &fx);
    bench("origo_mp_validate (envelope)", op_validate, &fx);
    bench("event encode (body)", op_event_encode, &fx);
    bench("event decode (body)", op_event_decode, &fx);
    bench("event id (sha-256 of body)", op_event_id, &fx);
    bench("envelope decode (no verify)", op_envelope_decode, &fx);
    bench("envelope verify (full)", op_envelope_verify, &fx);

    setup_tree(&fx);
    bench("merkle leaf hash (envelope)", op_leaf_hash, &fx);
    bench("inclusion proof build (1M tree)", op_inclusion_build, &fx);
    bench("inclusion proof verify (1M tree)", op_inclusion_verify, &fx);

    origo_merkle_tree_free(fx.tree);
    free(fx.proofs);
    origo_buf_close(&fx.scratch);
    free(fx.body);
    free(fx.envelope);
    origo_key_free(fx.key);
    sodium_memzero(fx.sk, sizeof(fx.sk));
    return 0;
}
