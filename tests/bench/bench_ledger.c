/* Ledger benchmark (prints numbers; never pass/fail). Builds a store of at
 * least --events events (default 1,000,000) through ledger_apply_block()
 * with fsync on, and prints: blocks/s and events/s applied with and without
 * signature checks, inclusion-proof build time, trace latency with proofs
 * for 1,000-lot genealogies (p50/p99), bytes on disk per event against the
 * raw envelope bytes, and reopen time.
 *
 * Event generation: every event is a real, signed envelope. Signing is done
 * in bulk per block before the block is applied and is excluded from the
 * apply timings; its own rate is printed. Five 1,000-lot genealogies
 * (900 raw lots -> 90 components -> 9 subassemblies -> 1 product) are
 * spread evenly through the log among the filler events.
 *
 * The lot index (docs/formats/lot-index.md): complete (v2) reports of the
 * same genealogies; proof size and build time for random present keys;
 * and its cost per event at the store's final size, measured on a copy of
 * the store (keys touched per block as apply touches them, each block
 * committed, so that the tree keeps its versions and takes its nodes
 * from the free ones of old versions, as in a node; aborted blocks would
 * reuse the nodes the previous one just made, still in cache); and, on
 * that copy, the apply with and without the index, alternated. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <origo/error.h>
#include <origo/event.h>
#include <origo/keys.h>
#include <sodium.h>

#include "ledger.h"
#include "lotindex_mem.h"
#include "lotindex_store.h"
#include "report.h"
#include "report_verify.h"
#include "testing.h"
#include "testutil.h"
#include "trace.h"

#define ORIGIN "origo.bench/ledger"
#define BLOCK_EVENTS 1000
#define MEMBERS 8
#define GENEALOGIES 5
#define GENEALOGY_EVENTS 1000
#define TRACE_RUNS 100
#define PROOF_RUNS 200000

static origo_key *members[MEMBERS];
static origo_key *validator;
static uint8_t validator_sk[64];
static uint64_t block_time = 1763700000000ull;
static uint64_t raft_index;
static uint64_t envelope_bytes;
static uint64_t events_total;
static double sign_seconds;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_ledger: %s: %s\n", what, origo_strerror(rc));
    exit(1);
}

static origo_key *make_key(const char *name)
{
    uint8_t seed[32];
    origo_key *key;
    crypto_hash_sha256(seed, (const uint8_t *)name, strlen(name));
    int rc = origo_key_from_seed(name, seed, &key);
    if (rc != 0) {
        die("key", rc);
    }
    return key;
}

static char *genesis_text(void)
{
    char hex[65];
    json_t *members_json = json_array();
    for (int m = 0; m < MEMBERS; m++) {
        origo_pubkey_to_hex(origo_key_public(members[m]), hex);
        char owns[32];
        snprintf(owns, sizeof(owns), "party:m%d", m);
        json_array_append_new(members_json,
                              json_pack("{s:s, s:s, s:[s,s,s], s:[s]}", "name",
                                        origo_key_name(members[m]), "key", hex,
                                        "roles", "carrier", "plant", "supplier",
                                        "owns", owns));
    }
    origo_pubkey_to_hex(origo_key_public(validator), hex);
    json_t *validators = json_pack("[{s:s, s:s, s:s}]", "name", "v0", "key",
                                   hex, "address", "127.0.0.1:7000");
    uint8_t admin_seed[32] = {1};
    uint8_t admin_pk[32], admin_sk[64];
    crypto_sign_seed_keypair(admin_pk, admin_sk, admin_seed);
    origo_pubkey_to_hex(admin_pk, hex);
    json_t *root = json_pack(
        "{s:s, s:s, s:i, s:o, s:[{s:s, s:s}], s:o, s:{s:i}}", "format",
        "origo-genesis/v1", "origin", ORIGIN, "rules", 1, "validators",
        validators, "admins", "name", "admin", "key", hex, "members",
        members_json, "params", "checkpoint_quorum", 1);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* ---- events ------------------------------------------------------------ */

struct block {
    origo_buf envelopes[BLOCK_EVENTS];
    ledger_envelope refs[BLOCK_EVENTS];
    size_t count;
};

static void seal(struct block *block, origo_event *ev, int member)
{
    origo_buf *buf = &block->envelopes[block->count];
    ev->net = origo_str_c(ORIGIN);
    memcpy(ev->by, origo_key_public(members[member]), 32);
    ev->ts = block_time;
    origo_buf_reset(buf);
    int rc = origo_event_seal(ev, members[member], buf, NULL);
    if (rc != 0) {
        die("seal", rc);
    }
    block->refs[block->count].data = buf->data;
    block->refs[block->count].len = buf->len;
    envelope_bytes += buf->len;
    block->count++;
}

static origo_lot_ref ref(const char *lot, enum origo_lot_role role,
                         const char *qty, const char *unit)
{
    origo_lot_ref r = {role, origo_str_c(lot), origo_str_c(qty),
                       origo_str_c(unit)};
    return r;
}

static void create(struct block *block, const char *lot, int member)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
    ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_SUBJECT, "100", "kg");
    ev.item = origo_str_c("PART-7");
    seal(block, &ev, member);
}

/* Filler: creations, two-input transforms of the member's own recent lots,
 * shipments to the next member and their receipts, and inspections, in a
 * fixed rotation, one event per call, every one valid under rule version 1
 * (authority.md): a member creates lots only in its own namespace "m<k>",
 * consumes only lots it holds, and ships to a member who then receives. */
static uint64_t filler_lots;
static uint64_t recent[MEMBERS][2]; /* the member's last two held lots */
static int recent_count[MEMBERS];

/* Filler lot n of member m is "m<m>/raw/L<n>". */
static void filler_name(char *out, size_t size, int member, uint64_t n)
{
    snprintf(out, size, "m%d/raw/L%08" PRIu64, member, n);
}

static void remember(int member, uint64_t n)
{
    recent[member][1] = recent[member][0];
    recent[member][0] = n;
    if (recent_count[member] < 2)
        recent_count[member]++;
}

static void member_name(char *out, size_t size, int member)
{
    snprintf(out, size, "%s", origo_key_name(members[member]));
}

static void filler(struct block *block)
{
    static uint64_t turn;
    static int shipping = -1, receiving = -1; /* member, or -1 */
    static uint64_t moving;                   /* the lot in custody moves */
    char lot[64], in0[64], in1[64], from[64], to[64];
    origo_event ev;
    int member = (int)(turn % MEMBERS), step = (int)(turn++ % 10);
    if (step == 8 && shipping >= 0) {
        int next = (shipping + 1) % MEMBERS;
        origo_event_init(&ev, ORIGO_EV_CUSTODY_SHIP);
        filler_name(lot, sizeof(lot), shipping, moving);
        ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_SUBJECT, "", "");
        member_name(from, sizeof(from), shipping);
        member_name(to, sizeof(to), next);
        ev.from = origo_str_c(from);
        ev.to = origo_str_c(to);
        snprintf(in0, sizeof(in0), "BOL-%" PRIu64, turn);
        ev.ref = origo_str_c(in0);
        seal(block, &ev, shipping);
        receiving = shipping;
        shipping = -1;
        return;
    }
    if (step == 9 && receiving >= 0) {
        int next = (receiving + 1) % MEMBERS;
        origo_event_init(&ev, ORIGO_EV_CUSTODY_RECEIVE);
        filler_name(lot, sizeof(lot), receiving, moving);
        ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_SUBJECT, "", "");
        member_name(from, sizeof(from), receiving);
        member_name(to, sizeof(to), next);
        ev.from = origo_str_c(from);
        ev.to = origo_str_c(to);
        snprintf(in0, sizeof(in0), "BOL-%" PRIu64, turn - 1);
        ev.ref = origo_str_c(in0);
        seal(block, &ev, next);
        receiving = -1;
        return;
    }
    if (step >= 4 && step <= 6 && recent_count[member] == 2) {
        uint64_t out = filler_lots++;
        origo_event_init(&ev, ORIGO_EV_LOT_TRANSFORM);
        filler_name(in0, sizeof(in0), member, recent[member][0]);
        filler_name(in1, sizeof(in1), member, recent[member][1]);
        filler_name(lot, sizeof(lot), member, out);
        ev.lots[ev.n_lots++] = ref(in0, ORIGO_LOT_INPUT, "1", "kg");
        ev.lots[ev.n_lots++] = ref(in1, ORIGO_LOT_INPUT, "1", "kg");
        ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_OUTPUT, "2", "kg");
        seal(block, &ev, member);
        remember(member, out);
        return;
    }
    if (step == 9 && recent_count[member] > 0) {
        origo_event_init(&ev, ORIGO_EV_INSPECTION);
        filler_name(lot, sizeof(lot), member, recent[member][0]);
        ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_SUBJECT, "", "");
        ev.stage = ORIGO_STAGE_IQC;
        ev.result = ORIGO_RESULT_PASS;
        crypto_hash_sha256(ev.report, (const uint8_t *)&turn, sizeof(turn));
        seal(block, &ev, member);
        return;
    }
    /* A creation; the one at step 7 is shipped at step 8 and received at
     * step 9, so it never joins the member's recent lots. */
    uint64_t n = filler_lots++;
    filler_name(lot, sizeof(lot), member, n);
    create(block, lot, member);
    if (step == 7 && shipping < 0 && receiving < 0) {
        shipping = member;
        moving = n;
    } else {
        remember(member, n);
    }
}

/* Genealogy g, step s (0..999): 900 raw creations, then 90 components of
 * 10 raws, 9 subassemblies of 10 components, 1 product of 9 subassemblies.
 * 1,000 lots, 100 transform events. */
static void genealogy_lot(char *out, size_t size, int g, int level, int n)
{
    static const char *const names[] = {"raw", "cmp", "sub", "fin"};
    snprintf(out, size, "m%d/g%d-%s/N%04d", g % MEMBERS, g, names[level], n);
}

static void genealogy_step(struct block *block, int g, int step)
{
    char lot[64];
    static char inputs[10][64];
    origo_event ev;
    int member = g % MEMBERS;
    if (step < 900) {
        genealogy_lot(lot, sizeof(lot), g, 0, step);
        create(block, lot, member);
        return;
    }
    int level, n, fan;
    if (step < 990) {
        level = 1, n = step - 900, fan = 10;
    } else if (step < 999) {
        level = 2, n = step - 990, fan = 10;
    } else {
        level = 3, n = 0, fan = 9;
    }
    origo_event_init(&ev, ORIGO_EV_LOT_TRANSFORM);
    for (int i = 0; i < fan; i++) {
        genealogy_lot(inputs[i], sizeof(inputs[i]), g, level - 1, n * fan + i);
        /* Raw lots are made in kg, transform outputs in pcs (a quantity
         * is in its lot's unit, docs/formats/authority.md). */
        ev.lots[ev.n_lots++] =
            ref(inputs[i], ORIGO_LOT_INPUT, "1", level == 1 ? "kg" : "pcs");
    }
    genealogy_lot(lot, sizeof(lot), g, level, n);
    ev.lots[ev.n_lots++] = ref(lot, ORIGO_LOT_OUTPUT, "1", "pcs");
    seal(block, &ev, member);
}

/* ---- applying ---------------------------------------------------------- */

struct apply_stats {
    double seconds;
    uint64_t blocks, events;
};

static uint64_t genealogy_next; /* steps emitted, over all genealogies */
static uint64_t genealogy_every;

static void fill_block(struct block *block, size_t count)
{
    double t0 = now();
    block->count = 0;
    while (block->count < count) {
        if (genealogy_next < (uint64_t)GENEALOGIES * GENEALOGY_EVENTS &&
            events_total % genealogy_every == 0) {
            genealogy_step(block, (int)(genealogy_next / GENEALOGY_EVENTS),
                           (int)(genealogy_next % GENEALOGY_EVENTS));
            genealogy_next++;
        } else {
            filler(block);
        }
        events_total++;
    }
    sign_seconds += now() - t0;
}

static void apply(ledger *led, struct block *block, unsigned flags,
                  struct apply_stats *stats)
{
    static ledger_outcome outcomes[BLOCK_EVENTS];
    ledger_block_result result;
    memset(&result, 0, sizeof(result));
    result.outcomes = outcomes;
    raft_index++;
    double t0 = now();
    int rc = ledger_apply_block(led, NULL, 1, raft_index, block_time,
                                block->refs, block->count, flags, &result);
    stats->seconds += now() - t0;
    if (rc != 0) {
        die("apply", rc);
    }
    if (result.rejected != 0) {
        for (size_t i = 0; i < block->count; i++) {
            if (outcomes[i].status != 0) {
                fprintf(stderr,
                        "bench_ledger: block %" PRIu64 ": %zu rejected, the "
                        "first at %zu: %s\n",
                        raft_index, result.rejected, i,
                        origo_strerror(outcomes[i].status));
                break;
            }
        }
        exit(1);
    }
    stats->blocks++;
    stats->events += block->count;
    block_time += 1000;
}

static void print_rate(const char *what, const struct apply_stats *s)
{
    printf("apply %-22s %8.0f blocks/s  %9.0f events/s  (%" PRIu64
           " blocks of %d, fsync on)\n",
           what, (double)s->blocks / s->seconds, (double)s->events / s->seconds,
           s->blocks, BLOCK_EVENTS);
}

/* v0 signs the checkpoint (index 0) or the lot index note (1). */
static void sign_note(ledger *led, int index)
{
    ledger_state state;
    char *body = NULL, line[256], b64[128];
    size_t body_len = 0;
    uint8_t raw[68];
    int rc = ledger_get_state(led, NULL, &state);
    if (rc == 0) {
        rc = index ? ledger_lot_index_note_body(led, NULL, state.tree_size,
                                                &body, &body_len)
                   : ledger_checkpoint_body(led, NULL, state.tree_size, &body,
                                            &body_len);
    }
    if (rc != 0) {
        die("note body", rc);
    }
    rc = origo_vkey_id("v0", 2, origo_key_public(validator), raw);
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)body, body_len,
                         validator_sk);
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(line, sizeof(line), "\xe2\x80\x94 v0 %s\n", b64);
    rc = index ? ledger_lot_index_add_signature(led, NULL, state.tree_size,
                                                line, (size_t)n)
               : ledger_checkpoint_add_signature(led, NULL, state.tree_size,
                                                 line, (size_t)n);
    free(body);
    if (rc != 0) {
        die("note signature", rc);
    }
}

static void sign_checkpoint(ledger *led)
{
    sign_note(led, 0);
    sign_note(led, 1);
}

/* ---- measurements ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *values, size_t count, double p)
{
    qsort(values, count, sizeof(double), cmp_double);
    size_t index = (size_t)(p * (double)(count - 1) + 0.5);
    return values[index];
}

static void bench_proofs(ledger *led)
{
    MDB_txn *txn;
    ledger_state state;
    uint8_t proof[65][32];
    size_t len;
    double *times = malloc(PROOF_RUNS * sizeof(double));
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    int rc = ledger_get_state(led, NULL, &state);
    if (rc == 0) {
        rc = ledger_txn_begin(led, 1, &txn);
    }
    if (rc != 0 || times == NULL) {
        die("proof setup", rc ? rc : ORIGO_E_NOMEM);
    }
    double t_all = now();
    for (int i = 0; i < PROOF_RUNS; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t leaf = rng % state.tree_size;
        double t0 = now();
        rc = ledger_inclusion_proof(led, txn, leaf, state.tree_size, proof, 65,
                                    &len);
        times[i] = now() - t0;
        if (rc != 0) {
            die("inclusion proof", rc);
        }
    }
    t_all = now() - t_all;
    mdb_txn_abort(txn);
    printf("inclusion proof (tree %" PRIu64 ", random leaves, %d runs): "
           "mean %.2f us  p50 %.2f us  p99 %.2f us\n",
           state.tree_size, PROOF_RUNS, t_all / PROOF_RUNS * 1e6,
           percentile(times, PROOF_RUNS, 0.50) * 1e6,
           percentile(times, PROOF_RUNS, 0.99) * 1e6);
    free(times);
}

/* The lot index's cost per event at this store's size: blocks of
 * index_block_events events, each appending to three chains as a
 * transform does (an input's out chain, a new output's in chain) plus a
 * new lot's other chain, one committed write transaction per block. The
 * store is a copy (bench_index_copy()): these chains name leaves the log
 * does not have. Proofs first, at the log's own size. */
static int index_blocks = 100;
static int index_block_events = BLOCK_EVENTS;

static void bench_lot_index(ledger *led)
{
    const int BLOCKS = index_blocks, EVENTS = index_block_events;
    double spent = 0, in_tree = 0;
    uint8_t id[32] = {1};
    char lot[64];
    ledger_state state;
    if (ledger_get_state(led, NULL, &state) != 0) {
        die("state", ORIGO_E_STORE);
    }
    MDB_txn *txn;
    MDB_stat st;
    MDB_dbi dbi;
    size_t keys = 0;
    if (ledger_txn_begin(led, 1, &txn) == 0) {
        if (mdb_dbi_open(txn, "lotidx_chains", 0, &dbi) == 0 &&
            mdb_stat(txn, dbi, &st) == 0) {
            keys = st.ms_entries;
        }
        mdb_txn_abort(txn);
    }
    /* Proofs of random present keys. */
    double times[2000];
    size_t depth_sum = 0, depth_max = 0;
    for (int i = 0; i < 2000; i++) {
        lotindex_proof proof;
        filler_name(lot, sizeof(lot), i % MEMBERS,
                    ((uint64_t)i * 2654435761u) %
                        (filler_lots ? filler_lots : 1));
        double t0 = now();
        int rc = ledger_lot_index_prove(led, NULL, state.tree_size, lot,
                                        strlen(lot), LOTINDEX_OTHER, &proof);
        times[i] = now() - t0;
        if (rc != 0) {
            die("lot index proof", rc);
        }
        depth_sum += proof.depth;
        depth_max = proof.depth > depth_max ? proof.depth : depth_max;
    }
    printf("lot index proof (random lots): p50 %.1f us p99 %.1f us; %.1f "
           "siblings on average, %zu at most (%.0f bytes binary, about %.0f "
           "in report JSON)\n",
           percentile(times, 2000, 0.5) * 1e6,
           percentile(times, 2000, 0.99) * 1e6, (double)depth_sum / 2000,
           depth_max, (double)depth_sum / 2000 * 32 + 72,
           (double)depth_sum / 2000 * 47 + 180);
    for (int b = 0; b < BLOCKS; b++) {
        lotindex_batch batch = {0};
        int rc = ledger_txn_begin(led, 0, &txn);
        double t0 = now();
        for (int e = 0; rc == 0 && e < EVENTS; e++) {
            uint64_t leaf = state.tree_size + (uint64_t)(b * EVENTS + e);
            filler_name(lot, sizeof(lot), e % MEMBERS,
                        (leaf * 2654435761u) % (filler_lots ? filler_lots : 1));
            rc = lotindex_add(led, txn, &batch, leaf, 0, LOTINDEX_OUT, lot,
                              strlen(lot), id);
            snprintf(lot, sizeof(lot), "bench/new/%" PRIu64, leaf);
            if (rc == 0) {
                rc = lotindex_add(led, txn, &batch, leaf, 0, LOTINDEX_IN, lot,
                                  strlen(lot), id);
            }
            snprintf(lot, sizeof(lot), "bench/raw/%" PRIu64, leaf);
            if (rc == 0) {
                rc = lotindex_add(led, txn, &batch, leaf, 0, LOTINDEX_OTHER,
                                  lot, strlen(lot), id);
            }
        }
        double t1 = now();
        if (rc == 0) {
            rc =
                lotindex_commit(led, txn, &batch,
                                state.tree_size + (uint64_t)((b + 1) * EVENTS));
        }
        in_tree += now() - t1;
        spent += now() - t0;
        lotindex_batch_free(&batch);
        if (rc == 0) {
            rc = mdb_txn_commit(txn) ? ORIGO_E_STORE : 0;
        } else {
            mdb_txn_abort(txn);
        }
        if (rc != 0) {
            die("lot index", rc);
        }
    }
    size_t nodes = 0, leaves = 0, mem = 0;
    lotindex_mem_stats(ledger_lot_index_mem(led), &nodes, &leaves, &mem);
    printf("lot index tree in memory: %zu internal nodes, %zu leaves, %.1f MB "
           "(%d recent versions kept)\n",
           nodes, leaves, (double)mem / 1e6, LOTINDEX_MEM_VERSIONS);
    printf("lot index: %zu keys ((lot, role) chains); apply cost %.2f us per "
           "event (3 chain appends each, %d committed blocks of %d, the "
           "commit and its fsync not counted: the block's own)\n",
           keys, spent / (BLOCKS * EVENTS) * 1e6, BLOCKS, EVENTS);
    printf("lot index cost split: chain records in LMDB %.2f us, tree in "
           "memory %.2f us per event\n",
           (spent - in_tree) / (BLOCKS * EVENTS) * 1e6,
           in_tree / (BLOCKS * EVENTS) * 1e6);
}

/* Verifies a report offline as `origo verify` does (v2: completeness and
 * the authority rules too), against v0's key; returns the seconds taken. */
static double verify_seconds(const char *json, size_t len)
{
    origo_vkey vkey;
    memset(&vkey, 0, sizeof(vkey));
    memcpy(vkey.name, "v0", 2);
    vkey.name_len = 2;
    memcpy(vkey.pub, origo_key_public(validator), 32);
    if (origo_vkey_id("v0", 2, vkey.pub, vkey.key_id) != 0) {
        die("vkey", ORIGO_E_INTERNAL);
    }
    origo_note_policy policy = {
        .signers = &vkey, .signer_count = 1, .quorum = 1};
    char err[512];
    double t0 = now();
    int rc = report_verify((const uint8_t *)json, len, &policy, NULL, err,
                           sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "verify: %s\n", err);
        die("verify", rc);
    }
    return now() - t0;
}

static void bench_trace(ledger *led, unsigned flags, const char *label,
                        int version)
{
    double query_times[TRACE_RUNS], proof_times[TRACE_RUNS],
        report_times[TRACE_RUNS], verify_times[TRACE_RUNS];
    size_t lots = 0, events = 0, bytes = 0;
    for (int run = 0; run < TRACE_RUNS; run++) {
        char lot[64];
        genealogy_lot(lot, sizeof(lot), run % GENEALOGIES, 3, 0);
        /* The trace alone, no proofs. */
        MDB_txn *txn;
        struct trace_tables tables;
        struct trace_result res;
        struct trace_query query = {
            .lot = lot,
            .lot_len = strlen(lot),
            .direction = TRACE_BACKWARD,
            .max_depth = TRACE_DEPTH_ANY,
            .tree_size = TRACE_TREE_SIZE_ALL,
            .flags = flags,
        };
        double t0 = now();
        int rc = ledger_txn_begin(led, 1, &txn);
        if (rc == 0) {
            rc = report_trace_tables(led, &tables);
        }
        if (rc == 0) {
            rc = trace_query_run(txn, &tables, &query, &res);
        }
        if (rc != 0) {
            die("trace", rc);
        }
        query_times[run] = now() - t0;
        /* Plus every envelope and inclusion proof, in the same txn. */
        ledger_state state;
        rc = ledger_get_state(led, txn, &state);
        for (size_t i = 0; rc == 0 && i < res.event_count; i++) {
            const uint8_t *data;
            size_t data_len, proof_len;
            uint8_t proof[65][32];
            rc = ledger_event_at(led, txn, res.events[i], &data, &data_len);
            if (rc == 0) {
                rc = ledger_inclusion_proof(led, txn, res.events[i],
                                            state.tree_size, proof, 65,
                                            &proof_len);
            }
        }
        if (rc != 0) {
            die("proofs", rc);
        }
        mdb_txn_abort(txn);
        proof_times[run] = now() - t0;
        trace_result_close(&res);

        /* The full report: trace, envelopes, proofs, checkpoint, JSON. */
        struct report_request request = {
            .lot = lot,
            .lot_len = strlen(lot),
            .direction = TRACE_BACKWARD,
            .max_depth = TRACE_DEPTH_ANY,
            .flags = flags,
            .version = version,
        };
        char *json, err[256];
        size_t len;
        t0 = now();
        rc = report_build(led, &request, &json, &len, &res, err, sizeof(err));
        report_times[run] = now() - t0;
        if (rc != 0) {
            fprintf(stderr, "report: %s\n", err);
            die("report", rc);
        }
        lots = res.lot_count;
        events = res.event_count;
        bytes = len;
        trace_result_close(&res);
        verify_times[run] = verify_seconds(json, len);
        free(json);
    }
    printf("trace %-14s %zu lots, %zu events: query only p50 %.2f ms p99 "
           "%.2f ms; query + envelopes + proofs p50 %.2f ms p99 %.2f ms; "
           "whole report (JSON) p50 %.2f ms p99 %.2f ms (%zu bytes); "
           "verified offline p50 %.2f ms p99 %.2f ms\n",
           label, lots, events, percentile(query_times, TRACE_RUNS, 0.5) * 1e3,
           percentile(query_times, TRACE_RUNS, 0.99) * 1e3,
           percentile(proof_times, TRACE_RUNS, 0.5) * 1e3,
           percentile(proof_times, TRACE_RUNS, 0.99) * 1e3,
           percentile(report_times, TRACE_RUNS, 0.5) * 1e3,
           percentile(report_times, TRACE_RUNS, 0.99) * 1e3, bytes,
           percentile(verify_times, TRACE_RUNS, 0.5) * 1e3,
           percentile(verify_times, TRACE_RUNS, 0.99) * 1e3);
}

static void bench_disk(const char *dir, ledger *led)
{
    char path[1024];
    struct stat st;
    MDB_envinfo info;
    MDB_stat env_stat;
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench_ledger: stat %s: %s\n", path, strerror(errno));
        return;
    }
    mdb_env_info(ledger_env(led), &info);
    mdb_env_stat(ledger_env(led), &env_stat);
    double used = (double)(info.me_last_pgno + 1) * env_stat.ms_psize;
    double allocated = (double)st.st_blocks * 512.0;
    printf("disk: %" PRIu64 " events, raw envelopes %.1f MB (%.1f B/event); "
           "store pages used %.1f MB (%.1f B/event, %.2fx raw); file "
           "blocks allocated %.1f MB (%.2fx raw)\n",
           events_total, (double)envelope_bytes / 1e6,
           (double)envelope_bytes / (double)events_total, used / 1e6,
           used / (double)events_total, used / (double)envelope_bytes,
           allocated / 1e6, allocated / (double)envelope_bytes);
}

/* Pages used by each named table, for the disk breakdown. */
static void bench_tables(ledger *led)
{
    MDB_txn *txn;
    MDB_dbi main_dbi;
    MDB_cursor *cursor;
    MDB_val key, value;
    if (ledger_txn_begin(led, 1, &txn) != 0 ||
        mdb_dbi_open(txn, NULL, 0, &main_dbi) != 0 ||
        mdb_cursor_open(txn, main_dbi, &cursor) != 0) {
        return;
    }
    printf("disk by table (MB, entries):");
    while (mdb_cursor_get(cursor, &key, &value, MDB_NEXT) == 0) {
        char name[64];
        MDB_dbi dbi;
        MDB_stat st;
        size_t len =
            key.mv_size < sizeof(name) - 1 ? key.mv_size : sizeof(name) - 1;
        memcpy(name, key.mv_data, len);
        name[len] = '\0';
        if (mdb_dbi_open(txn, name, 0, &dbi) != 0 ||
            mdb_stat(txn, dbi, &st) != 0) {
            continue;
        }
        double pages = (double)(st.ms_branch_pages + st.ms_leaf_pages +
                                st.ms_overflow_pages);
        printf(" %s %.1f/%zu", name, pages * st.ms_psize / 1e6, st.ms_entries);
    }
    printf("\n");
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
}

static ledger *open_ledger(const char *dir, const char *genesis)
{
    ledger *led;
    char errmsg[256] = "";
    ledger_options options = {.map_size = (size_t)8 << 30};
    int rc = ledger_open(dir, (const uint8_t *)genesis,
                         genesis ? strlen(genesis) : 0, &options, &led, errmsg,
                         sizeof(errmsg));
    if (rc != 0) {
        fprintf(stderr, "bench_ledger: open %s: %s: %s\n", dir,
                origo_strerror(rc), errmsg);
        exit(1);
    }
    return led;
}

/* The lot count a full run leaves in DIR/bench.lots, for --index-only. */
static void save_filler_lots(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/bench.lots", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%" PRIu64 "\n", filler_lots);
        fclose(f);
    }
}

/* The apply's cost with and without the lot index, at this store's size:
 * blocks of real filler events without signature checks, alternately
 * with the index and without it (ledger_testing_skip_index()), after a
 * group that warms the copy's pages, on a copy of the store that is thrown
 * away. Ends with the index on, so that the store's size has its root. */
static void bench_apply_index_share(ledger *led, struct block *block)
{
    enum { GROUPS = 8 };
    /* About 5,000 events a group, whatever the block size. */
    const int GROUP_BLOCKS = 5000 / index_block_events + 1;
    struct apply_stats with = {0}, without = {0}, warm = {0};
    /* The copy's pages are cold: a first group warms them, not counted. */
    for (int b = 0; b < GROUP_BLOCKS * 2; b++) {
        fill_block(block, (size_t)index_block_events);
        apply(led, block, LEDGER_APPLY_SIGS_VERIFIED, &warm);
    }
    for (int g = 0; g < GROUPS; g++) {
        int skip = g % 2 == 1;
        ledger_testing_skip_index(led, skip);
        for (int b = 0; b < GROUP_BLOCKS; b++) {
            fill_block(block, (size_t)index_block_events);
            apply(led, block, LEDGER_APPLY_SIGS_VERIFIED,
                  skip ? &without : &with);
        }
    }
    /* The last group skipped it: one more block with it, not counted. */
    ledger_testing_skip_index(led, 0);
    fill_block(block, (size_t)index_block_events);
    apply(led, block, LEDGER_APPLY_SIGS_VERIFIED, &warm);
    double us_with = with.seconds / (double)with.events * 1e6,
           us_without = without.seconds / (double)without.events * 1e6;
    printf("apply at the final size (blocks of %d real events, no signature "
           "checks, fsync on; %d blocks each way, alternated): %.1f us an "
           "event with the lot index, %.1f without it: the index %.1f us "
           "(%.0f %% of the apply)\n",
           index_block_events, GROUPS / 2 * GROUP_BLOCKS, us_with, us_without,
           us_with - us_without, (us_with - us_without) / us_with * 100);
}

/* bench_lot_index() on a copy of the store in dir, deleted afterwards:
 * the store itself stays as it was, so runs repeat. With a block to fill
 * (a full run, whose generator is set up), the apply with and without the
 * index first. */
static void bench_index_copy(const char *dir, struct block *block)
{
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s.index-copy", dir);
    testutil_rmtree(copy);
    if (mkdir(copy, 0700) != 0) {
        fprintf(stderr, "bench_ledger: mkdir %s: %s\n", copy, strerror(errno));
        exit(1);
    }
    /* LMDB's own copy, page for page (not compacted: the same layout). */
    ledger *from = open_ledger(dir, NULL);
    int copied = mdb_env_copy2(ledger_env(from), copy, 0);
    ledger_close(from);
    if (copied != 0) {
        fprintf(stderr, "bench_ledger: copy %s to %s: %s\n", dir, copy,
                mdb_strerror(copied));
        exit(1);
    }
    ledger *led = open_ledger(copy, NULL);
    size_t keys = 0;
    double t0 = now();
    int rc = ledger_lot_index_warm(led, &keys);
    if (rc != 0) {
        die("lot index build", rc);
    }
    printf("lot index built from %zu chain records in %.0f ms (on a copy of "
           "the store, for the cost below)\n",
           keys, (now() - t0) * 1e3);
    if (block) {
        bench_apply_index_share(led, block);
    }
    bench_lot_index(led);
    ledger_close(led);
    testutil_rmtree(copy);
}

/* Measures the lot index's cost again on a store a full run kept. */
static int bench_index_only(const char *dir)
{
    char path[4096];
    if (!dir) {
        fprintf(stderr, "bench_ledger: --index-only needs --dir of a store a "
                        "full run kept\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/bench.lots", dir);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%" SCNu64, &filler_lots) != 1) {
        fprintf(stderr,
                "bench_ledger: %s: not found or unreadable; make the store "
                "with a full run: bench_ledger --events N --dir %s\n",
                path, dir);
        if (f) {
            fclose(f);
        }
        return 2;
    }
    fclose(f);
    if (sodium_init() < 0) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_index_copy(dir, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t target = 1000000;
    const char *keep_dir = NULL;
    int index_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            target = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            keep_dir = argv[++i];
        } else if (strcmp(argv[i], "--index-only") == 0) {
            index_only = 1;
        } else if (strcmp(argv[i], "--index-block-events") == 0 &&
                   i + 1 < argc) {
            index_block_events = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--index-blocks") == 0 && i + 1 < argc) {
            index_blocks = (int)strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr,
                    "usage: bench_ledger [--events N] [--dir DIR] "
                    "[--index-only] [--index-blocks N] "
                    "[--index-block-events N]\n"
                    "  --index-only: only the lot index's apply cost, on the "
                    "store a full run left in DIR\n");
            return 2;
        }
    }
    if (index_blocks < 1) {
        index_blocks = 1;
    }
    if (index_block_events < 1 || index_block_events > BLOCK_EVENTS) {
        index_block_events = BLOCK_EVENTS;
    }
    if (index_only) {
        return bench_index_only(keep_dir);
    }
    if (target < 20 * BLOCK_EVENTS) {
        target = 20 * BLOCK_EVENTS;
    }
    if (sodium_init() < 0) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int m = 0; m < MEMBERS; m++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", m);
        members[m] = make_key(name);
    }
    validator = make_key("v0");
    uint8_t seed[32], pk[32];
    crypto_hash_sha256(seed, (const uint8_t *)"v0", 2);
    crypto_sign_seed_keypair(pk, validator_sk, seed);

    char *tmp_dir = keep_dir ? NULL : testutil_tmpdir();
    const char *dir = keep_dir ? keep_dir : tmp_dir;
    char *genesis = genesis_text();
    ledger *led = open_ledger(dir, genesis);
    genealogy_every = target / ((uint64_t)GENEALOGIES * GENEALOGY_EVENTS + 1);
    if (genealogy_every == 0) {
        genealogy_every = 1;
    }

    struct block *block = calloc(1, sizeof(*block));
    for (int i = 0; i < BLOCK_EVENTS; i++) {
        origo_buf_init(&block->envelopes[i], ORIGO_ENVELOPE_MAX);
    }
    printf("bench_ledger: %" PRIu64 " events in blocks of %d into %s\n", target,
           BLOCK_EVENTS, dir);
    /* A tenth of the store with signature checks, the rest without. */
    struct apply_stats checked = {0}, unchecked = {0};
    uint64_t checked_target = target / 10;
    while (events_total < target) {
        fill_block(block, BLOCK_EVENTS);
        int check = events_total <= checked_target;
        apply(led, block, check ? 0 : LEDGER_APPLY_SIGS_VERIFIED,
              check ? &checked : &unchecked);
    }
    print_rate("with signature checks", &checked);
    print_rate("without sig checks", &unchecked);
    printf("event generation (encode + sign): %.0f events/s, excluded from "
           "the apply rates\n",
           (double)events_total / sign_seconds);
    sign_checkpoint(led);

    bench_proofs(led);
    bench_trace(led, 0, "genealogy", 1);
    bench_trace(led, TRACE_WITH_LOT_EVENTS, "+lot events", 1);
    bench_trace(led, 0, "genealogy v2", 2);
    bench_trace(led, TRACE_WITH_LOT_EVENTS, "+lot events v2", 2);
    bench_disk(dir, led);
    bench_tables(led);
    save_filler_lots(dir);

    ledger_close(led);
    double t0 = now();
    led = open_ledger(dir, NULL);
    ledger_state state;
    int rc = ledger_get_state(led, NULL, &state);
    double reopen = now() - t0;
    if (rc != 0) {
        die("state after reopen", rc);
    }
    printf("reopen: %.2f ms (ledger_open + head read, tree size %" PRIu64 ")\n",
           reopen * 1e3, state.tree_size);
    /* The lot index tree lives in memory: the first block or proof after a
     * restart rebuilds it from every chain record (lotindex_store.c,
     * rebuild()). Part of the restart, so measured with it. */
    char lot[64];
    filler_name(lot, sizeof(lot), 0, 0);
    lotindex_proof proof;
    t0 = now();
    rc = ledger_lot_index_prove(led, NULL, state.tree_size, lot, strlen(lot),
                                LOTINDEX_OTHER, &proof);
    double first = now() - t0;
    if (rc != 0 && rc != ORIGO_E_NOTFOUND) {
        die("lot index proof after reopen", rc);
    }
    printf("reopen, then the first lot index proof (rebuilds the tree from "
           "its chain records): %.0f ms; restart total %.0f ms\n",
           first * 1e3, (reopen + first) * 1e3);
    ledger_close(led);
    bench_index_copy(dir, block);

    for (int i = 0; i < BLOCK_EVENTS; i++) {
        origo_buf_close(&block->envelopes[i]);
    }
    free(block);
    free(genesis);
    if (tmp_dir != NULL) {
        testutil_rmtree(tmp_dir);
        free(tmp_dir);
    }
    return 0;
}
