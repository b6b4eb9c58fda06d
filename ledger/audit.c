/* Audit: re-verifies a store from its genesis by replaying every block into
 * a scratch store with full validation (signatures included), comparing
 * each decision and block header (which commits to every envelope, rejected
 * ones included) as it goes, then every table byte for byte (events, Merkle
 * hashes, blocks, rejects, event IDs, members, created lots, head, trace
 * indexes), then every stored checkpoint signature, then the optional
 * external anchors (expected genesis, trusted checkpoint quorum). It stops
 * at the first discrepancy and names the table, key, expected and found
 * values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "origo/error.h"
#include "origo/note.h"

#include "block.h"
#include "checkpoint.h"
#include "genesis.h"
#include "store.h"

typedef struct audit {
    ledger *src, *dst;
    MDB_txn *rtxn; /* read transaction on src for the whole audit */
    ledger_audit_report *rep;
    const ledger_audit_options *opt;
} audit;

static void field(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void field(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

static void hex_field(char *out, size_t size, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    size_t room = (size - 4) / 2, n = len < room ? len : room, o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = digits[p[i] >> 4];
        out[o++] = digits[p[i] & 15];
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Records the first discrepancy; returns 1 so callers can `return found()`. */
static int found(audit *au, const char *table, const char *detail)
{
    au->rep->clean = 0;
    field(au->rep->table, sizeof(au->rep->table), "%s", table);
    field(au->rep->detail, sizeof(au->rep->detail), "%s", detail);
    return 1;
}

static const char *decision(int status, char *buf, size_t size)
{
    if (status == 0)
        snprintf(buf, size, "accepted");
    else
        snprintf(buf, size, "rejected (%s: %s)", origo_errname(status),
                 origo_strerror(status));
    return buf;
}

/* ---- block replay ----------------------------------------------------------
 */

typedef struct collected {
    ledger_envelope *envs;
    int *status;
    size_t count, cap;
} collected;

static int collect(void *ctx, uint32_t position, const uint8_t *data,
                   size_t len, int status)
{
    collected *c = ctx;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        ledger_envelope *envs = realloc(c->envs, cap * sizeof(*envs));
        if (!envs)
            return ORIGO_E_NOMEM;
        c->envs = envs;
        int *st = realloc(c->status, cap * sizeof(*st));
        if (!st)
            return ORIGO_E_NOMEM;
        c->status = st;
        c->cap = cap;
    }
    if (position != c->count)
        return ORIGO_E_CORRUPT;
    c->envs[c->count] = (ledger_envelope){data, len, 0};
    c->status[c->count] = status;
    c->count++;
    return 0;
}

/* Names the first header field that differs. */
/* The envelopes of a block do not hash to its header's envelopes_hash
 * while its leaves and root agree: a rejected envelope was altered (or, when
 * the block has none, the header field itself). Names the block's rejects. */
static int envelopes_differ(audit *au, uint64_t height,
                            const ledger_block_header *want,
                            const ledger_block_header *got, const collected *c)
{
    ledger_audit_report *rep = au->rep;
    char positions[64] = "";
    size_t used = 0, rejects = 0;
    for (size_t i = 0; i < c->count; i++) {
        if (c->status[i] == 0)
            continue;
        if (used < sizeof(positions) - 12) {
            int n = snprintf(positions + used, sizeof(positions) - used,
                             "%s%zu", rejects ? "," : "", i);
            used += n > 0 ? (size_t)n : 0;
        }
        rejects++;
    }
    if (rejects == 0) {
        hex_field(rep->expected, sizeof(rep->expected), want->envelopes_hash,
                  32);
        hex_field(rep->found, sizeof(rep->found), got->envelopes_hash, 32);
        field(rep->key, sizeof(rep->key), "height %llu field envelopes_hash",
              (unsigned long long)height);
        return found(au, LEDGER_DBI_BLOCKS,
                     "the block's envelopes do not hash to its header's "
                     "envelopes_hash");
    }
    field(rep->key, sizeof(rep->key), "height %llu position%s %s",
          (unsigned long long)height, rejects > 1 ? "s" : "", positions);
    /* Here the header is the authority: expected = its commitment, found =
     * the hash of the envelopes the store holds. */
    hex_field(rep->expected, sizeof(rep->expected), got->envelopes_hash, 32);
    hex_field(rep->found, sizeof(rep->found), want->envelopes_hash, 32);
    return found(au, LEDGER_DBI_REJECTS,
                 "rejected envelopes of the block differ from those its "
                 "header's envelopes_hash commits to (altered reject)");
}

static int compare_headers(audit *au, uint64_t height,
                           const ledger_block_header *want,
                           const ledger_block_header *got, const collected *c)
{
    ledger_audit_report *rep = au->rep;
    struct {
        const char *name;
        uint64_t want, got;
    } ints[] = {
        {"height", want->height, got->height},
        {"time", want->block_time, got->block_time},
        {"raft_term", want->raft_term, got->raft_term},
        {"raft_index", want->raft_index, got->raft_index},
        {"envelope_count", want->envelope_count, got->envelope_count},
        {"first_leaf", want->first_leaf, got->first_leaf},
        {"leaf_count", want->leaf_count, got->leaf_count},
        {"tree_size", want->tree_size, got->tree_size},
    };
    field(rep->key, sizeof(rep->key), "height %llu",
          (unsigned long long)height);
    if (memcmp(want->prev_hash, got->prev_hash, 32) != 0) {
        field(rep->key, sizeof(rep->key), "height %llu field prev",
              (unsigned long long)height);
        hex_field(rep->expected, sizeof(rep->expected), want->prev_hash, 32);
        hex_field(rep->found, sizeof(rep->found), got->prev_hash, 32);
        return found(au, LEDGER_DBI_BLOCKS,
                     "chain link broken: prev is not the hash of the previous "
                     "block's header as replayed");
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (ints[i].want == ints[i].got)
            continue;
        field(rep->key, sizeof(rep->key), "height %llu field %s",
              (unsigned long long)height, ints[i].name);
        field(rep->expected, sizeof(rep->expected), "%llu",
              (unsigned long long)ints[i].want);
        field(rep->found, sizeof(rep->found), "%llu",
              (unsigned long long)ints[i].got);
        return found(au, LEDGER_DBI_BLOCKS, "block header field differs");
    }
    if (memcmp(want->root, got->root, 32) != 0) {
        field(rep->key, sizeof(rep->key), "height %llu field root",
              (unsigned long long)height);
        hex_field(rep->expected, sizeof(rep->expected), want->root, 32);
        hex_field(rep->found, sizeof(rep->found), got->root, 32);
        return found(au, LEDGER_DBI_BLOCKS,
                     "Merkle root after the block "
                     "differs from the recomputed one");
    }
    if (memcmp(want->envelopes_hash, got->envelopes_hash, 32) != 0)
        return envelopes_differ(au, height, want, got, c);
    return 0;
}

static int compare_outcomes(audit *au, uint64_t height,
                            const ledger_block_header *stored,
                            const collected *c, const ledger_outcome *out)
{
    ledger_audit_report *rep = au->rep;
    uint64_t leaf = stored->first_leaf;
    char a[128], b[128];
    for (size_t i = 0; i < c->count; i++) {
        int was = c->status[i], now = out[i].status;
        if (was == 0 && now != 0) {
            field(rep->key, sizeof(rep->key),
                  "leaf %llu (block %llu "
                  "position %zu)",
                  (unsigned long long)leaf, (unsigned long long)height, i);
            field(rep->expected, sizeof(rep->expected), "%s",
                  decision(now, a, sizeof(a)));
            field(rep->found, sizeof(rep->found), "accepted");
            return found(au, LEDGER_DBI_EVENTS,
                         "stored event fails validation on replay");
        }
        if (was != now) {
            field(rep->key, sizeof(rep->key), "height %llu position %zu",
                  (unsigned long long)height, i);
            field(rep->expected, sizeof(rep->expected), "%s",
                  decision(now, a, sizeof(a)));
            field(rep->found, sizeof(rep->found), "%s",
                  decision(was, b, sizeof(b)));
            return found(au, LEDGER_DBI_REJECTS,
                         "stored rejection differs from the replayed "
                         "validation decision");
        }
        if (was == 0)
            leaf++;
    }
    return 0;
}

/* The stored envelopes of a block do not add up to its header. */
static int incomplete_block(audit *au, uint64_t height,
                            const ledger_block_header *stored,
                            const block_gap *gap)
{
    ledger_audit_report *rep = au->rep;
    if (strcmp(gap->table, LEDGER_DBI_EVENTS) == 0)
        field(rep->key, sizeof(rep->key), "leaf %llu (block %llu position %u)",
              (unsigned long long)gap->leaf, (unsigned long long)height,
              gap->position);
    else if (strcmp(gap->table, LEDGER_DBI_REJECTS) == 0)
        field(rep->key, sizeof(rep->key), "height %llu position %u",
              (unsigned long long)height, gap->position);
    else
        field(rep->key, sizeof(rep->key), "height %llu",
              (unsigned long long)height);
    field(rep->expected, sizeof(rep->expected),
          "%llu envelopes: %llu leaves from %llu and %llu rejects",
          (unsigned long long)stored->envelope_count,
          (unsigned long long)stored->leaf_count,
          (unsigned long long)stored->first_leaf,
          (unsigned long long)(stored->envelope_count > stored->leaf_count
                                   ? stored->envelope_count - stored->leaf_count
                                   : 0));
    field(rep->found, sizeof(rep->found), "%s", gap->what);
    return found(au, gap->table, "block contents incomplete");
}

static int replay_block(audit *au, uint64_t height)
{
    ledger_block_header stored, replayed;
    ledger_audit_report *rep = au->rep;
    collected c = {0};
    ledger_outcome *out = NULL;
    ledger_state before;
    int rc = ledger_block_get(au->src, au->rtxn, height, &stored, NULL);
    field(rep->key, sizeof(rep->key), "height %llu",
          (unsigned long long)height);
    if (rc == ORIGO_E_CORRUPT || rc == ORIGO_E_NOTFOUND) {
        field(rep->expected, sizeof(rep->expected), "a canonical block header");
        field(rep->found, sizeof(rep->found), "%s",
              rc == ORIGO_E_NOTFOUND ? "no header" : "an undecodable header");
        return found(au, LEDGER_DBI_BLOCKS, "block header unreadable");
    }
    if (rc)
        return rc;
    if ((rc = ledger_get_state(au->dst, NULL, &before)))
        return rc;
    block_gap gap = {LEDGER_DBI_EVENTS, 0, 0, "malformed entries"};
    rc = block_walk(au->src, au->rtxn, &stored, collect, &c, &gap);
    if (rc == ORIGO_E_CORRUPT) {
        rc = incomplete_block(au, height, &stored, &gap);
        goto out;
    }
    if (rc)
        goto out;
    out = calloc(c.count ? c.count : 1, sizeof(*out));
    if (!out) {
        rc = ORIGO_E_NOMEM;
        goto out;
    }
    ledger_block_result res = {.outcomes = out};
    rc = ledger_apply_block(au->dst, NULL, stored.raft_term, stored.raft_index,
                            stored.block_time, c.envs, c.count, 0, &res);
    if (rc == ORIGO_E_BLOCK_TIME || rc == ORIGO_E_EXISTS) {
        field(rep->key, sizeof(rep->key), "height %llu field %s",
              (unsigned long long)height,
              rc == ORIGO_E_BLOCK_TIME ? "time" : "raft_index");
        field(rep->expected, sizeof(rep->expected), "greater than %llu",
              (unsigned long long)(rc == ORIGO_E_BLOCK_TIME
                                       ? before.last_block_time
                                       : before.raft_index));
        field(rep->found, sizeof(rep->found), "%llu",
              (unsigned long long)(rc == ORIGO_E_BLOCK_TIME
                                       ? stored.block_time
                                       : stored.raft_index));
        rc = found(au, LEDGER_DBI_BLOCKS, "block does not extend the chain");
        goto out;
    }
    if (rc)
        goto out;
    if ((rc = compare_outcomes(au, height, &stored, &c, out)))
        goto out;
    if ((rc = ledger_block_get(au->dst, NULL, height, &replayed, NULL)))
        goto out;
    rc = compare_headers(au, height, &replayed, &stored, &c);
    au->rep->events += c.count;
out:
    free(c.envs);
    free(c.status);
    free(out);
    return rc;
}

/* ---- table comparison ------------------------------------------------------
 */

static void format_key(const char *table, const MDB_val *key, char *out,
                       size_t size)
{
    const uint8_t *k = key->mv_data;
    if (strcmp(table, LEDGER_DBI_META) == 0) {
        field(out, size, "%.*s", (int)key->mv_size, (const char *)k);
    } else if (key->mv_size == 8 && strcmp(table, LEDGER_DBI_EVENTS) == 0) {
        field(out, size, "leaf %llu", (unsigned long long)store_get_be64(k));
    } else if (key->mv_size == 8 && strcmp(table, LEDGER_DBI_BLOCKS) == 0) {
        field(out, size, "height %llu", (unsigned long long)store_get_be64(k));
    } else if (key->mv_size == 8 && strcmp(table, LEDGER_DBI_BLOCK_RAFT) == 0) {
        field(out, size, "raft index %llu",
              (unsigned long long)store_get_be64(k));
    } else if (key->mv_size == 8 && strcmp(table, LEDGER_DBI_MLOG) == 0) {
        field(out, size,
              "group %llu (level 2 node %llu and the nodes it "
              "completes)",
              (unsigned long long)store_get_be64(k),
              (unsigned long long)store_get_be64(k));
    } else if (key->mv_size == 12 && strcmp(table, LEDGER_DBI_REJECTS) == 0) {
        field(out, size, "height %llu position %u",
              (unsigned long long)store_get_be64(k), store_get_be32(k + 8));
    } else if (key->mv_size == 40 && strcmp(table, LEDGER_DBI_MEMBERS) == 0) {
        char hex[80];
        hex_field(hex, sizeof(hex), k, 32);
        field(out, size, "%s from leaf %llu", hex,
              (unsigned long long)store_get_be64(k + 32));
    } else {
        hex_field(out, size, k, key->mv_size);
    }
}

static int val_cmp(const MDB_val *a, const MDB_val *b)
{
    size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
    int c = n ? memcmp(a->mv_data, b->mv_data, n) : 0;
    if (c)
        return c;
    return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

static int is_latest_pointer(const MDB_val *key)
{
    return key->mv_size == 11 &&
           (memcmp(key->mv_data, "ckpt_latest", 11) == 0 ||
            memcmp(key->mv_data, "lidx_latest", 11) == 0);
}

/* Walks both tables in key order (and duplicate order for dupsort
 * tables) and reports the first difference. */
static int compare_table(audit *au, MDB_txn *dtxn, const char *name)
{
    MDB_dbi sdbi, ddbi;
    MDB_cursor *sc = NULL, *dc = NULL;
    ledger_audit_report *rep = au->rep;
    int rc;
    int s_missing = mdb_dbi_open(au->rtxn, name, 0, &sdbi) != 0;
    int d_missing = mdb_dbi_open(dtxn, name, 0, &ddbi) != 0;
    if (s_missing || d_missing) {
        if (s_missing && d_missing)
            return 0;
        field(rep->key, sizeof(rep->key), "(table)");
        field(rep->expected, sizeof(rep->expected), "%s",
              d_missing ? "no such table" : "the table");
        field(rep->found, sizeof(rep->found), "%s",
              s_missing ? "no such table" : "the table");
        return found(au, name, "table presence differs");
    }
    if ((rc = mdb_cursor_open(au->rtxn, sdbi, &sc)) ||
        (rc = mdb_cursor_open(dtxn, ddbi, &dc))) {
        rc = store_err(rc);
        goto out;
    }
    MDB_val sk, sv, dk, dv;
    int s_rc = mdb_cursor_get(sc, &sk, &sv, MDB_FIRST);
    int d_rc = mdb_cursor_get(dc, &dk, &dv, MDB_FIRST);
    for (;;) {
        if (s_rc == MDB_NOTFOUND && d_rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if ((s_rc && s_rc != MDB_NOTFOUND) || (d_rc && d_rc != MDB_NOTFOUND)) {
            rc = ORIGO_E_STORE;
            break;
        }
        int skip_meta = 0;
        if (strcmp(name, LEDGER_DBI_META) == 0) {
            /* The checkpoint and lot index note pointers are audited
             * with the signatures. */
            if (s_rc == 0 && is_latest_pointer(&sk)) {
                s_rc = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT);
                skip_meta = 1;
            }
            if (d_rc == 0 && is_latest_pointer(&dk)) {
                d_rc = mdb_cursor_get(dc, &dk, &dv, MDB_NEXT);
                skip_meta = 1;
            }
            if (skip_meta)
                continue;
        }
        int order = s_rc ? 1 : d_rc ? -1 : val_cmp(&sk, &dk);
        if (order != 0) {
            const MDB_val *k = order < 0 ? &sk : &dk;
            format_key(name, k, rep->key, sizeof(rep->key));
            if (order < 0) {
                field(rep->expected, sizeof(rep->expected), "no such key");
                hex_field(rep->found, sizeof(rep->found), sv.mv_data,
                          sv.mv_size);
                rc = found(au, name,
                           "stored key that the replay does not "
                           "produce");
            } else {
                hex_field(rep->expected, sizeof(rep->expected), dv.mv_data,
                          dv.mv_size);
                field(rep->found, sizeof(rep->found), "no such key");
                rc = found(au, name, "key missing from the store");
            }
            break;
        }
        if (val_cmp(&sv, &dv) != 0) {
            format_key(name, &sk, rep->key, sizeof(rep->key));
            hex_field(rep->expected, sizeof(rep->expected), dv.mv_data,
                      dv.mv_size);
            hex_field(rep->found, sizeof(rep->found), sv.mv_data, sv.mv_size);
            rc = found(au, name, "stored value differs from the replayed one");
            break;
        }
        s_rc = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT);
        d_rc = mdb_cursor_get(dc, &dk, &dv, MDB_NEXT);
    }
out:
    if (sc)
        mdb_cursor_close(sc);
    if (dc)
        mdb_cursor_close(dc);
    return rc;
}

/* Names of the trace tables (all "trace_*" names in src or dst). */
static int compare_trace_tables(audit *au, MDB_txn *dtxn)
{
    MDB_dbi main_dbi;
    MDB_cursor *cur;
    int rc = mdb_dbi_open(dtxn, NULL, 0, &main_dbi);
    if (rc)
        return store_err(rc);
    if ((rc = mdb_cursor_open(dtxn, main_dbi, &cur)))
        return store_err(rc);
    MDB_val k, v;
    char names[32][64];
    size_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < 32;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size > 6 && k.mv_size < 64 &&
            memcmp(k.mv_data, "trace_", 6) == 0) {
            memcpy(names[n], k.mv_data, k.mv_size);
            names[n][k.mv_size] = '\0';
            n++;
        }
    }
    mdb_cursor_close(cur);
    for (size_t i = 0; i < n; i++) {
        if ((rc = compare_table(au, dtxn, names[i])))
            return rc;
    }
    return 0;
}

static int compare_tables(audit *au)
{
    static const char *const tables[] = {
        LEDGER_DBI_EVENTS,
        LEDGER_DBI_MLOG,
        LEDGER_DBI_BLOCKS,
        LEDGER_DBI_BLOCK_RAFT,
        LEDGER_DBI_REJECTS,
        LEDGER_DBI_EVENT_IDS,
        LEDGER_DBI_MEMBERS,
        LEDGER_DBI_LOTS,
        LEDGER_DBI_LOT_HOLDS,
        LEDGER_DBI_MEMBER_NAMES,
        LEDGER_DBI_APPROVALS,
        LEDGER_DBI_NAMESPACES,
        /* The lot index, recomputed from the events at every block: its
         * chains and the root at each block's end. */
        LEDGER_DBI_LOTIDX_CHAINS,
        LEDGER_DBI_LOTIDX_ROOTS,
        LEDGER_DBI_META,
    };
    MDB_txn *dtxn;
    int rc = ledger_txn_begin(au->dst, 1, &dtxn);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        if ((rc = compare_table(au, dtxn, tables[i])))
            break;
    }
    if (rc == 0)
        rc = compare_trace_tables(au, dtxn);
    mdb_txn_abort(dtxn);
    return rc;
}

/* ---- checkpoint signatures -------------------------------------------------
 */

/* The two notes validators sign: the checkpoint, and the lot index note
 * (docs/formats/lot-index.md). */
struct note_kind {
    const char *table, *latest, *what;
    int (*body)(ledger *, MDB_txn *, uint64_t, char **, size_t *);
    int (*latest_size)(ledger *, MDB_txn *, uint64_t *);
};

static const struct note_kind KINDS[2] = {
    {LEDGER_DBI_CKPT_SIGS, "ckpt_latest", "checkpoint", ledger_checkpoint_body,
     checkpoint_latest_size},
    {LEDGER_DBI_LOTIDX_SIGS, "lidx_latest", "lot index note",
     ledger_lot_index_note_body, lotindex_latest_size},
};

static int check_one_sig(audit *au, MDB_txn *dtxn, const struct note_kind *kind,
                         const MDB_val *key, const MDB_val *val,
                         uint64_t tree_size, size_t *quorum)
{
    ledger_audit_report *rep = au->rep;
    store_validator *validators = NULL;
    size_t count = 0, which = 0;
    char *body = NULL;
    size_t body_len;
    char hex[80];
    hex_field(hex, sizeof(hex), (const uint8_t *)key->mv_data + 8, 32);
    field(rep->key, sizeof(rep->key), "tree size %llu key %s",
          (unsigned long long)tree_size, hex);
    if (tree_size > rep->tree_size) {
        field(rep->expected, sizeof(rep->expected), "tree size <= %llu",
              (unsigned long long)rep->tree_size);
        field(rep->found, sizeof(rep->found), "%llu",
              (unsigned long long)tree_size);
        return found(au, kind->table,
                     "signature for a tree the "
                     "ledger does not have");
    }
    int rc = kind->body(au->dst, dtxn, tree_size, &body, &body_len);
    if (rc == ORIGO_E_TREE_SIZE) {
        field(rep->expected, sizeof(rep->expected),
              "a tree size where a block ends");
        field(rep->found, sizeof(rep->found), "%llu",
              (unsigned long long)tree_size);
        return found(au, kind->table,
                     "signature for a tree the ledger does "
                     "not have");
    }
    if (rc)
        return rc;
    if ((rc =
             members_validators(au->dst, dtxn, tree_size, &validators, &count)))
        goto out;
    *quorum = members_quorum(au->dst, count);
    rc = checkpoint_check_line(validators, count, body, body_len, val->mv_data,
                               val->mv_size, &which);
    if (rc == 0 && memcmp(validators[which].pub,
                          (const uint8_t *)key->mv_data + 8, 32) != 0)
        rc = ORIGO_E_PERM;
    if (rc == ORIGO_E_NOTE_FORMAT || rc == ORIGO_E_SIGNATURE ||
        rc == ORIGO_E_PERM) {
        field(rep->expected, sizeof(rep->expected),
              "a valid signature by this validator over the %s", kind->what);
        field(rep->found, sizeof(rep->found), "%.*s (%s)",
              (int)(val->mv_size < 120 ? val->mv_size : 120),
              (const char *)val->mv_data, origo_strerror(rc));
        rc = found(au, kind->table, "signature invalid");
    }
out:
    free(validators);
    free(body);
    return rc;
}

static int check_signatures_of(audit *au, const struct note_kind *kind)
{
    MDB_txn *dtxn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t size = UINT64_MAX, latest_quorum = 0;
    size_t per_size = 0;
    int have_latest = 0;
    int rc = ledger_txn_begin(au->dst, 1, &dtxn);
    if (rc)
        return rc;
    MDB_dbi table =
        kind == &KINDS[0] ? au->src->ckpt_sigs : au->src->lotidx_sigs;
    if ((rc = mdb_cursor_open(au->rtxn, table, &cur))) {
        mdb_txn_abort(dtxn);
        return store_err(rc);
    }
    size_t quorum = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 40) {
            hex_field(au->rep->key, sizeof(au->rep->key), k.mv_data, k.mv_size);
            field(au->rep->expected, sizeof(au->rep->expected),
                  "a 40-byte key");
            field(au->rep->found, sizeof(au->rep->found), "%zu bytes",
                  k.mv_size);
            rc = found(au, kind->table, "malformed key");
            break;
        }
        uint64_t this_size = store_get_be64(k.mv_data);
        if (this_size != size) {
            size = this_size;
            per_size = 0;
        }
        if ((rc = check_one_sig(au, dtxn, kind, &k, &v, this_size, &quorum)))
            break;
        au->rep->signatures++;
        if (++per_size == quorum) {
            latest_quorum = this_size;
            have_latest = 1;
        }
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc == 0) {
        uint64_t stored = 0;
        int src_rc = kind->latest_size(au->src, au->rtxn, &stored);
        int stored_has = src_rc == 0;
        if (src_rc && src_rc != ORIGO_E_NOTFOUND) {
            stored_has = -1;
        }
        if (stored_has != have_latest ||
            (have_latest && stored != latest_quorum)) {
            field(au->rep->key, sizeof(au->rep->key), "%s", kind->latest);
            if (have_latest)
                field(au->rep->expected, sizeof(au->rep->expected), "%llu",
                      (unsigned long long)latest_quorum);
            else
                field(au->rep->expected, sizeof(au->rep->expected), "absent");
            if (stored_has == 1)
                field(au->rep->found, sizeof(au->rep->found), "%llu",
                      (unsigned long long)stored);
            else
                field(au->rep->found, sizeof(au->rep->found), "%s",
                      stored_has == 0 ? "absent" : "malformed");
            rc = found(au, LEDGER_DBI_META,
                       "latest quorum-signed note pointer is wrong");
        }
    }
    mdb_txn_abort(dtxn);
    return rc;
}

static int check_signatures(audit *au)
{
    int rc = check_signatures_of(au, &KINDS[0]);
    return rc ? rc : check_signatures_of(au, &KINDS[1]);
}

/* ---- external anchors ------------------------------------------------------
 */

/* The stored genesis must be the one the auditor expects. */
static int anchor_genesis(audit *au)
{
    ledger_audit_report *rep = au->rep;
    genesis *expected;
    char msg[200] = "";
    int rc = genesis_parse(au->opt->genesis_json, au->opt->genesis_len,
                           &expected, msg, sizeof(msg));
    if (rc) {
        field(rep->detail, sizeof(rep->detail), "expected genesis: %s", msg);
        return rc == ORIGO_E_NOMEM ? rc : ORIGO_E_GENESIS;
    }
    int same = memcmp(expected->hash, au->src->genesis_hash, 32) == 0;
    if (!same) {
        field(rep->key, sizeof(rep->key), "genesis_hash");
        hex_field(rep->expected, sizeof(rep->expected), expected->hash, 32);
        hex_field(rep->found, sizeof(rep->found), au->src->genesis_hash, 32);
    }
    genesis_free(expected);
    if (!same)
        return found(au, LEDGER_DBI_META,
                     "the store was created from another genesis than the "
                     "expected one");
    rep->genesis_anchored = 1;
    return 0;
}

static int checkpoint_unanchored(audit *au, uint64_t size, const char *found_,
                                 const char *detail)
{
    ledger_audit_report *rep = au->rep;
    field(rep->key, sizeof(rep->key), "ckpt_latest (tree size %llu)",
          (unsigned long long)size);
    field(rep->expected, sizeof(rep->expected),
          "a checkpoint signed by a quorum of the trusted keys");
    field(rep->found, sizeof(rep->found), "%s", found_);
    return found(au, LEDGER_DBI_META, detail);
}

/* Verifies the parsed latest checkpoint note under the trusted policy and
 * against the replayed root at its size. */
static int anchor_note(audit *au, const origo_note *note, uint64_t size)
{
    ledger_audit_report *rep = au->rep;
    origo_note_verdict verdict = {0};
    char what[160];
    int rc = origo_note_verify(note, au->opt->trust, &verdict);
    if (rc == ORIGO_E_INVAL)
        return rc;
    if (rc == ORIGO_E_NOTE_QUORUM) {
        field(what, sizeof(what),
              "%zu of the trusted keys signed it, quorum %zu", verdict.signers,
              verdict.quorum);
        return checkpoint_unanchored(au, size, what,
                                     "latest checkpoint lacks a trusted "
                                     "quorum");
    }
    if (rc)
        return checkpoint_unanchored(au, size,
                                     "a trusted key's line that does not "
                                     "verify",
                                     "latest checkpoint signature invalid");
    origo_checkpoint cp;
    uint8_t root[32];
    if (origo_checkpoint_parse(note->text, note->text_len, &cp) != 0)
        return checkpoint_unanchored(au, size, "a malformed body",
                                     "latest checkpoint body malformed");
    if (au->opt->trust_origin && strcmp(cp.origin, au->opt->trust_origin)) {
        field(what, sizeof(what), "origin \"%.100s\" (trusted: \"%.40s\")",
              cp.origin, au->opt->trust_origin);
        return checkpoint_unanchored(au, size, what,
                                     "latest checkpoint is of another "
                                     "network");
    }
    if ((rc = ledger_root_at(au->dst, NULL, size, root)))
        return rc;
    if (cp.tree_size != size || memcmp(cp.root, root, 32) != 0)
        return checkpoint_unanchored(au, size, "another root or size",
                                     "latest checkpoint differs from the "
                                     "replayed tree");
    rep->checkpoint_anchored = 1;
    rep->anchored_size = size;
    rep->anchored_signers = verdict.signers;
    rep->anchored_quorum = verdict.quorum;
    return 0;
}

/* The latest quorum-signed checkpoint (its stored lines over the body of
 * the replayed tree, all re-verified by then) must also carry a quorum of
 * the keys the auditor trusts. */
static int anchor_checkpoint(audit *au)
{
    uint64_t size = 0;
    char *text;
    size_t text_len;
    origo_note *note;
    int rc = checkpoint_latest_size(au->src, au->rtxn, &size);
    if (rc == ORIGO_E_NOTFOUND)
        return checkpoint_unanchored(au, 0, "no quorum-signed checkpoint",
                                     "nothing to anchor the store to");
    if (rc)
        return rc;
    if ((rc = ledger_checkpoint_latest(au->src, au->rtxn, &text, &text_len,
                                       NULL)))
        return rc;
    rc = origo_note_parse((const uint8_t *)text, text_len, &note);
    free(text);
    if (rc == ORIGO_E_NOMEM)
        return rc;
    if (rc)
        return checkpoint_unanchored(au, size, "a note that does not parse",
                                     "latest checkpoint note malformed");
    rc = anchor_note(au, note, size);
    origo_note_free(note);
    return rc;
}

/* ---- driver ----------------------------------------------------------------
 */

static void remove_scratch(const char *path)
{
    char file[4096 + 16];
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    unlink(file);
    snprintf(file, sizeof(file), "%s/lock.mdb", path);
    unlink(file);
    rmdir(path);
}

static int run(audit *au)
{
    ledger_state head;
    int rc = ledger_get_state(au->src, au->rtxn, &head);
    if (rc == ORIGO_E_CORRUPT) {
        field(au->rep->key, sizeof(au->rep->key), "state");
        field(au->rep->expected, sizeof(au->rep->expected),
              "a well-formed head record");
        field(au->rep->found, sizeof(au->rep->found), "a malformed one");
        return found(au, LEDGER_DBI_META, "head record unreadable");
    }
    if (rc)
        return rc;
    if (au->opt->genesis_json && (rc = anchor_genesis(au)))
        return rc;
    for (uint64_t h = 1; h <= head.height; h++) {
        if ((rc = replay_block(au, h)))
            return rc;
        au->rep->blocks++;
    }
    ledger_state replayed;
    if ((rc = ledger_get_state(au->dst, NULL, &replayed)))
        return rc;
    au->rep->tree_size = replayed.tree_size;
    memcpy(au->rep->root, replayed.root, 32);
    if (memcmp(head.last_block_hash, replayed.last_block_hash, 32) != 0) {
        /* Nothing after the last block links to it but the head record. */
        field(au->rep->key, sizeof(au->rep->key), "height %llu",
              (unsigned long long)head.height);
        hex_field(au->rep->expected, sizeof(au->rep->expected),
                  head.last_block_hash, 32);
        hex_field(au->rep->found, sizeof(au->rep->found),
                  replayed.last_block_hash, 32);
        return found(au, LEDGER_DBI_BLOCKS,
                     "hash of the last block's stored header differs from the "
                     "head record (meta/state)");
    }
    if ((rc = compare_tables(au)))
        return rc;
    if ((rc = check_signatures(au)))
        return rc;
    return au->opt->trust ? anchor_checkpoint(au) : 0;
}

int ledger_audit(const char *dir, const char *scratch_dir,
                 ledger_audit_report *report)
{
    ledger_audit_options options = {.scratch_dir = scratch_dir};
    return ledger_audit_ex(dir, &options, report);
}

int ledger_audit_ex(const char *dir, const ledger_audit_options *options,
                    ledger_audit_report *report)
{
    audit au = {.rep = report, .opt = options};
    const char *scratch_dir = options->scratch_dir;
    ledger_options ro = {.read_only = 1};
    char msg[256] = "", scratch[4096];
    int rc;
    memset(report, 0, sizeof(*report));
    report->clean = 1;
    rc = ledger_open(dir, NULL, 0, &ro, &au.src, msg, sizeof(msg));
    if (rc == ORIGO_E_CORRUPT) {
        field(report->key, sizeof(report->key), "genesis");
        field(report->expected, sizeof(report->expected),
              "a genesis that parses and matches its stored hash");
        field(report->found, sizeof(report->found), "%s", msg);
        found(&au, LEDGER_DBI_META, msg);
        return 0;
    }
    if (rc) {
        field(report->detail, sizeof(report->detail), "%s", msg);
        return rc;
    }
    memcpy(report->genesis_hash, au.src->genesis_hash, 32);
    if (!scratch_dir)
        scratch_dir = getenv("TMPDIR");
    snprintf(scratch, sizeof(scratch), "%s/origo-audit-XXXXXX",
             scratch_dir ? scratch_dir : "/tmp");
    if (!mkdtemp(scratch)) {
        field(report->detail, sizeof(report->detail),
              "%s: cannot create the scratch directory: %s", scratch,
              strerror(errno));
        rc = ORIGO_E_IO;
        goto out_src;
    }
    MDB_val key = {12, "genesis_json"}, val;
    if ((rc = ledger_txn_begin(au.src, 1, &au.rtxn)))
        goto out_scratch;
    if ((rc = store_err(mdb_get(au.rtxn, au.src->meta, &key, &val))))
        goto out_rtxn;
    ledger_options scratch_opts = {.nosync = 1};
    if ((rc = ledger_open(scratch, val.mv_data, val.mv_size, &scratch_opts,
                          &au.dst, msg, sizeof(msg)))) {
        field(report->detail, sizeof(report->detail), "scratch store: %s", msg);
        goto out_rtxn;
    }
    rc = run(&au);
    if (rc > 0)
        rc = 0;
    else if (rc < 0 && !report->detail[0])
        field(report->detail, sizeof(report->detail), "audit stopped: %s",
              origo_strerror(rc));
    ledger_close(au.dst);
out_rtxn:
    mdb_txn_abort(au.rtxn);
out_scratch:
    remove_scratch(scratch);
out_src:
    ledger_close(au.src);
    return rc;
}
