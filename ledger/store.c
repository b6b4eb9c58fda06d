/* The ledger's LMDB environment: opening it (tables, genesis binding, stale
 * readers), growing the map when it fills, the head record with the Merkle
 * frontier, and the membership history table that validation reads "as of"
 * a point of the log. Everything that touches the environment as a whole
 * lives here; the per-block logic is in apply.c. */
#include "lotindex_mem.h"
#include "lotindex_store.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "origo/error.h"

#include "members.h"
#include "trace.h"

void store_put_be64(uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)value;
        value >>= 8;
    }
}

uint64_t store_get_be64(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | in[i];
    return value;
}

int store_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void store_put_be32(uint8_t out[4], uint32_t value)
{
    for (int i = 3; i >= 0; i--) {
        out[i] = (uint8_t)value;
        value >>= 8;
    }
}

uint32_t store_get_be32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
           (uint32_t)in[2] << 8 | in[3];
}

int store_err(int mdb_rc)
{
    switch (mdb_rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_MAP_FULL:
        return ORIGO_E_MAP_FULL;
    case MDB_TXN_FULL:
        /* Too many dirty pages for one transaction: a bigger map does not
         * help, so this is not MAP_FULL and is never retried. */
        return ORIGO_E_TXN_FULL;
    case MDB_NOTFOUND:
        return ORIGO_E_NOTFOUND;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
        return ORIGO_E_CORRUPT;
    case ENOMEM:
        return ORIGO_E_NOMEM;
    default:
        /* LMDB passes the system's errors through (positive errno values:
         * ENOSPC, EIO...); keep the cause for the log. */
        if (mdb_rc > 0)
            origo_set_os_cause(mdb_rc); /* not cleared: after a failed
                                           commit LMDB answers MDB_PANIC,
                                           whose cause is this one */
        return ORIGO_E_STORE;
    }
}

/* ---- head record ---------------------------------------------------------
 * version(1) height(8) tree_size(8) root(32) last_block_hash(32)
 * last_block_time(8) raft_term(8) raft_index(8), then one 32-byte frontier
 * hash per set bit of tree_size, lowest level first. */

#define HEAD_FIXED (1 + 8 + 8 + 32 + 32 + 8 + 8 + 8)

int store_head_get(ledger *led, MDB_txn *txn, store_head *out)
{
    MDB_val key = {5, "state"}, val;
    int rc = mdb_get(txn, led->meta, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? ORIGO_E_CORRUPT : store_err(rc);
    const uint8_t *p = val.mv_data;
    if (val.mv_size < HEAD_FIXED || p[0] != 1)
        return ORIGO_E_CORRUPT;
    store_head head;
    memset(&head, 0, sizeof(head));
    head.state.height = store_get_be64(p + 1);
    head.state.tree_size = store_get_be64(p + 9);
    memcpy(head.state.root, p + 17, 32);
    memcpy(head.state.last_block_hash, p + 49, 32);
    head.state.last_block_time = store_get_be64(p + 81);
    head.state.raft_term = store_get_be64(p + 89);
    head.state.raft_index = store_get_be64(p + 97);
    memcpy(head.state.genesis_hash, led->genesis_hash, 32);
    head.frontier.tree_size = head.state.tree_size;
    size_t need =
        HEAD_FIXED + 32 * (size_t)__builtin_popcountll(head.state.tree_size);
    if (val.mv_size != need)
        return ORIGO_E_CORRUPT;
    p += HEAD_FIXED;
    for (unsigned level = 0; level < 64; level++) {
        if (head.state.tree_size >> level & 1) {
            memcpy(head.frontier.hash[level], p, 32);
            p += 32;
        }
    }
    *out = head;
    return 0;
}

int store_head_tree_size(ledger *led, MDB_txn *txn, uint64_t *tree_size)
{
    MDB_val key = {5, "state"}, val;
    int rc = mdb_get(txn, led->meta, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? ORIGO_E_CORRUPT : store_err(rc);
    const uint8_t *p = val.mv_data;
    if (val.mv_size < HEAD_FIXED || p[0] != 1)
        return ORIGO_E_CORRUPT;
    *tree_size = store_get_be64(p + 9);
    return 0;
}

int store_head_put(ledger *led, MDB_txn *txn, const store_head *head)
{
    uint8_t buf[HEAD_FIXED + 64 * 32];
    uint8_t *p = buf;
    *p++ = 1;
    store_put_be64(p, head->state.height);
    store_put_be64(p + 8, head->state.tree_size);
    memcpy(p + 16, head->state.root, 32);
    memcpy(p + 48, head->state.last_block_hash, 32);
    store_put_be64(p + 80, head->state.last_block_time);
    store_put_be64(p + 88, head->state.raft_term);
    store_put_be64(p + 96, head->state.raft_index);
    p += HEAD_FIXED - 1;
    for (unsigned level = 0; level < 64; level++) {
        if (head->state.tree_size >> level & 1) {
            memcpy(p, head->frontier.hash[level], 32);
            p += 32;
        }
    }
    MDB_val key = {5, "state"}, val = {(size_t)(p - buf), buf};
    return store_err(mdb_put(txn, led->meta, &key, &val, 0));
}

/* ---- transactions ---------------------------------------------------------
 */

int ledger_txn_begin(ledger *led, int read_only, MDB_txn **out)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = mdb_txn_begin(led->env, NULL, read_only ? MDB_RDONLY : 0, out);
        if (rc == MDB_MAP_RESIZED) {
            /* Another process grew the map: adopt its size. */
            if (mdb_env_set_mapsize(led->env, 0) != 0)
                return ORIGO_E_STORE;
            continue;
        }
        return store_err(rc);
    }
    return ORIGO_E_STORE;
}

int ledger_grow_map(ledger *led)
{
    MDB_envinfo info;
    if (mdb_env_info(led->env, &info) != 0)
        return ORIGO_E_STORE;
    size_t size =
        info.me_mapsize > led->map_size ? info.me_mapsize : led->map_size;
    if (size >= STORE_MAX_MAP_SIZE)
        return ORIGO_E_MAP_FULL;
    size *= 2;
    if (mdb_env_set_mapsize(led->env, size) != 0)
        return ORIGO_E_STORE;
    led->map_size = size;
    return 0;
}

int ledger_write(ledger *led, int (*fn)(ledger *, MDB_txn *, void *), void *ctx)
{
    return store_write(led, fn, ctx);
}

int store_write(ledger *led, int (*fn)(ledger *, MDB_txn *, void *), void *ctx)
{
    for (;;) {
        MDB_txn *txn;
        int rc = ledger_txn_begin(led, 0, &txn);
        if (rc)
            return rc;
        rc = fn(led, txn, ctx);
        if (rc == 0)
            rc = store_err(mdb_txn_commit(txn));
        else
            mdb_txn_abort(txn);
        if (rc != ORIGO_E_MAP_FULL)
            return rc;
        if ((rc = ledger_grow_map(led)))
            return rc;
    }
}

int store_read_begin(ledger *led, MDB_txn *txn, MDB_txn **use, int *own)
{
    if (txn) {
        *use = txn;
        *own = 0;
        return 0;
    }
    *own = 1;
    return ledger_txn_begin(led, 1, use);
}

void store_read_end(MDB_txn *use, int own)
{
    if (own)
        mdb_txn_abort(use);
}

/* ---- opening --------------------------------------------------------------
 */

int store_open_tables(ledger *led, MDB_txn *txn, int create)
{
    struct {
        const char *name;
        MDB_dbi *dbi;
    } tables[] = {
        {LEDGER_DBI_META, &led->meta},
        {LEDGER_DBI_EVENTS, &led->events},
        {LEDGER_DBI_EVENT_IDS, &led->event_ids},
        {LEDGER_DBI_MLOG, &led->mlog},
        {LEDGER_DBI_BLOCKS, &led->blocks},
        {LEDGER_DBI_BLOCK_RAFT, &led->block_raft},
        {LEDGER_DBI_REJECTS, &led->rejects},
        {LEDGER_DBI_MEMBERS, &led->members},
        {LEDGER_DBI_CKPT_SIGS, &led->ckpt_sigs},
        {LEDGER_DBI_LOTS, &led->lots},
        {LEDGER_DBI_LOT_HOLDS, &led->lot_holds},
        {LEDGER_DBI_MEMBER_NAMES, &led->member_names},
        {LEDGER_DBI_APPROVALS, &led->approvals},
        {LEDGER_DBI_NAMESPACES, &led->namespaces},
        {LEDGER_DBI_LOTIDX_CHAINS, &led->lotidx_chains},
        {LEDGER_DBI_LOTIDX_ROOTS, &led->lotidx_roots},
        {LEDGER_DBI_LOTIDX_SIGS, &led->lotidx_sigs},
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        unsigned flags = create ? MDB_CREATE : 0;
        if (tables[i].dbi == &led->lot_holds)
            flags |= MDB_DUPSORT | MDB_DUPFIXED;
        int rc = mdb_dbi_open(txn, tables[i].name, flags, tables[i].dbi);
        if (rc)
            return store_err(rc);
    }
    return 0;
}

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *errmsg, size_t size, const char *fmt, ...)
{
    if (errmsg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, size, fmt, ap);
        va_end(ap);
    }
}

static int meta_get(ledger *led, MDB_txn *txn, const char *name, MDB_val *val)
{
    MDB_val key = {strlen(name), (void *)name};
    return mdb_get(txn, led->meta, &key, val);
}

static int meta_put(ledger *led, MDB_txn *txn, const char *name,
                    const void *data, size_t len)
{
    MDB_val key = {strlen(name), (void *)name}, val = {len, (void *)data};
    return store_err(mdb_put(txn, led->meta, &key, &val, 0));
}

int store_genesis_json(ledger *led, MDB_txn *txn, const uint8_t **json,
                       size_t *len)
{
    MDB_val val;
    int rc = meta_get(led, txn, "genesis_json", &val);
    if (rc)
        return rc == MDB_NOTFOUND ? ORIGO_E_CORRUPT : store_err(rc);
    *json = val.mv_data;
    *len = val.mv_size;
    return 0;
}

/* Initialises an empty store from a parsed genesis. */
static int init_store(ledger *led, MDB_txn *txn, const uint8_t *json,
                      size_t json_len)
{
    uint8_t format = STORE_FORMAT_VERSION;
    int rc;
    if ((rc = meta_put(led, txn, "format", &format, 1)) ||
        (rc = meta_put(led, txn, "genesis_json", json, json_len)) ||
        (rc = meta_put(led, txn, "genesis_hash", led->gen->hash, 32)))
        return rc;
    store_head head;
    memset(&head, 0, sizeof(head));
    origo_merkle_frontier_init(&head.frontier);
    origo_merkle_empty_root(head.state.root);
    memcpy(head.state.last_block_hash, led->gen->hash, 32);
    if ((rc = store_head_put(led, txn, &head)) ||
        (rc = lotindex_seed(led, txn, led->gen->hash)))
        return rc;
    for (size_t i = 0; i < led->gen->party_count; i++) {
        const genesis_party *p = &led->gen->parties[i];
        if ((rc = members_put(led, txn, p->pub, 0, 1, p->roles, p->name,
                              strlen(p->name))) ||
            (rc = members_name_put(led, txn, p->name, strlen(p->name), p->pub)))
            return rc;
    }
    /* Genesis namespaces go into the table member events add to. */
    for (size_t i = 0; i < led->gen->namespace_count; i++) {
        const genesis_namespace *ns = &led->gen->namespaces[i];
        char text[GENESIS_NAMESPACE_MAX + 8];
        int n =
            snprintf(text, sizeof(text), "%s:%s",
                     ns->kind == GENESIS_NS_PARTY ? "party" : "gs1", ns->text);
        MDB_val key = {(size_t)n, text};
        MDB_val val = {32, led->gen->parties[ns->party].pub};
        if ((rc = store_err(mdb_put(txn, led->namespaces, &key, &val, 0))))
            return rc;
    }
    return 0;
}

/* Binds the handle to the stored genesis, or stores the given one. */
static int bind_genesis(ledger *led, MDB_txn *txn, const uint8_t *json,
                        size_t json_len, char *errmsg, size_t errmsg_size)
{
    MDB_val stored;
    int rc = meta_get(led, txn, "genesis_json", &stored);
    if (rc == MDB_NOTFOUND) {
        if (!json) {
            set_msg(errmsg, errmsg_size, "%s: no ledger store here%s", led->dir,
                    " (and no genesis given to create one)");
            return ORIGO_E_NOTFOUND;
        }
        if (led->options.read_only)
            return ORIGO_E_NOTFOUND;
        if ((rc =
                 genesis_parse(json, json_len, &led->gen, errmsg, errmsg_size)))
            return rc;
        memcpy(led->genesis_hash, led->gen->hash, 32);
        return init_store(led, txn, json, json_len);
    }
    if (rc)
        return store_err(rc);
    MDB_val format;
    if (meta_get(led, txn, "format", &format) != 0 || format.mv_size != 1 ||
        *(const uint8_t *)format.mv_data != STORE_FORMAT_VERSION) {
        int found = format.mv_size == 1 ? *(const uint8_t *)format.mv_data : -1;
        set_msg(errmsg, errmsg_size,
                found == 2 ? "%s: meta/format: store format %d was made before "
                             "rule version 1 (who may state what: "
                             "docs/formats/authority.md); this build applies "
                             "only rule version 1 and cannot continue this "
                             "ledger. Start a new network from a genesis "
                             "that says \"rules\": 1"
                : found == 3 || found == 4
                    ? "%s: meta/format: store format %d was made before the "
                      "lot index's membership chain (store format %d, "
                      "docs/formats/lot-index.md), which v2 trace reports "
                      "need to prove who may state what; this build cannot "
                      "continue it. Start a new network"
                    : "%s: meta/format: store format %d found, %d expected "
                      "(a store written by another version of origo)",
                led->dir, found, STORE_FORMAT_VERSION);
        return ORIGO_E_VERSION;
    }
    char inner[256] = "";
    if ((rc = genesis_parse(stored.mv_data, stored.mv_size, &led->gen, inner,
                            sizeof(inner)))) {
        set_msg(errmsg, errmsg_size, "meta/genesis_json: stored genesis %s%s",
                "does not parse: ", inner);
        return ORIGO_E_CORRUPT;
    }
    memcpy(led->genesis_hash, led->gen->hash, 32);
    MDB_val hash;
    if (meta_get(led, txn, "genesis_hash", &hash) != 0 || hash.mv_size != 32 ||
        memcmp(hash.mv_data, led->gen->hash, 32) != 0) {
        set_msg(errmsg, errmsg_size, "meta/genesis_hash: %s%s",
                "does not match the hash of meta/genesis_json", "");
        return ORIGO_E_CORRUPT;
    }
    if (json) {
        genesis *given;
        if ((rc = genesis_parse(json, json_len, &given, errmsg, errmsg_size)))
            return rc;
        int same = memcmp(given->hash, led->gen->hash, 32) == 0;
        genesis_free(given);
        if (!same) {
            set_msg(errmsg, errmsg_size,
                    "%s: the store is bound to another genesis (hash "
                    "differs)%s",
                    led->dir, "");
            return ORIGO_E_GENESIS;
        }
    }
    return 0;
}

static int open_env(ledger *led, char *errmsg, size_t errmsg_size)
{
    unsigned flags = MDB_NOTLS;
    int rc;
    if (led->options.nosync)
        flags |= MDB_NOSYNC;
    if (led->options.read_only)
        flags |= MDB_RDONLY;
    else if (mkdir(led->dir, 0700) != 0 && errno != EEXIST) {
        set_msg(errmsg, errmsg_size, "%s: cannot create directory: %s",
                led->dir, strerror(errno));
        return ORIGO_E_IO;
    }
    if ((rc = mdb_env_create(&led->env)))
        return store_err(rc);
    unsigned extra = led->options.extra_dbs ? led->options.extra_dbs
                                            : STORE_DEFAULT_EXTRA_DBS;
    if ((rc = mdb_env_set_maxdbs(led->env,
                                 STORE_LEDGER_DBS + STORE_TRACE_DBS + extra)) ||
        (rc = mdb_env_set_mapsize(led->env, led->map_size)) ||
        (rc = mdb_env_open(led->env, led->dir, flags, 0600))) {
        set_msg(errmsg, errmsg_size, "%s: cannot open the LMDB store: %s",
                led->dir, mdb_strerror(rc));
        mdb_env_close(led->env);
        led->env = NULL;
        return rc == ENOENT ? ORIGO_E_NOTFOUND : ORIGO_E_STORE;
    }
    int dead = 0;
    mdb_reader_check(led->env, &dead);
    MDB_envinfo info;
    if (mdb_env_info(led->env, &info) == 0 && info.me_mapsize > led->map_size)
        led->map_size = info.me_mapsize;
    return 0;
}

static int open_tables_and_genesis(ledger *led, const uint8_t *json,
                                   size_t json_len, char *errmsg,
                                   size_t errmsg_size)
{
    MDB_txn *txn;
    int ro = led->options.read_only;
    int rc = ledger_txn_begin(led, ro, &txn);
    if (rc)
        return rc;
    if ((rc = store_open_tables(led, txn, !ro))) {
        set_msg(errmsg, errmsg_size, "%s: ledger tables missing: %s", led->dir,
                origo_strerror(rc));
        goto err_after_txn;
    }
    if ((rc = bind_genesis(led, txn, json, json_len, errmsg, errmsg_size)))
        goto err_after_txn;
    struct trace_tables *tables = calloc(1, sizeof(*tables));
    if (!tables) {
        rc = ORIGO_E_NOMEM;
        goto err_after_txn;
    }
    led->trace = tables;
    if ((rc = trace_open(txn, tables))) {
        set_msg(errmsg, errmsg_size, "%s: trace tables: %s", led->dir,
                origo_strerror(rc));
        goto err_after_txn;
    }
    /* Commit even a read-only transaction: handles opened in an aborted
     * one would be closed. */
    return store_err(mdb_txn_commit(txn));
err_after_txn:
    mdb_txn_abort(txn);
    return rc;
}

int ledger_open(const char *dir, const uint8_t *genesis_json,
                size_t genesis_len, const ledger_options *options, ledger **out,
                char *errmsg, size_t errmsg_size)
{
    int rc;
    ledger *led = calloc(1, sizeof(*led));
    if (!led)
        return ORIGO_E_NOMEM;
    if (options)
        led->options = *options;
    led->map_size =
        led->options.map_size ? led->options.map_size : STORE_DEFAULT_MAP_SIZE;
    led->dir = strdup(dir);
    if (!led->dir || lotindex_mem_new(&led->lotidx) != 0) {
        rc = ORIGO_E_NOMEM;
        goto err_after_alloc;
    }
    if ((rc = open_env(led, errmsg, errmsg_size)))
        goto err_after_alloc;
    for (;;) {
        rc = open_tables_and_genesis(led, genesis_json, genesis_len, errmsg,
                                     errmsg_size);
        if (rc != ORIGO_E_MAP_FULL)
            break;
        genesis_free(led->gen);
        led->gen = NULL;
        free(led->trace);
        led->trace = NULL;
        if ((rc = ledger_grow_map(led)))
            break;
    }
    if (rc)
        goto err_after_alloc;
    *out = led;
    return 0;
err_after_alloc:
    ledger_close(led);
    return rc;
}

void ledger_close(ledger *led)
{
    if (!led)
        return;
    if (led->env)
        mdb_env_close(led->env);
    genesis_free(led->gen);
    free(led->trace);
    lotindex_mem_free(led->lotidx);
    free(led->dir);
    free(led);
}

MDB_env *ledger_env(ledger *led)
{
    return led->env;
}

const char *ledger_origin(const ledger *led)
{
    return led->gen->origin;
}

int ledger_get_state(ledger *led, MDB_txn *txn, ledger_state *out)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    store_head head;
    rc = store_head_get(led, use, &head);
    store_read_end(use, own);
    if (rc == 0)
        *out = head.state;
    return rc;
}

/* mdb_reader_list() hands one formatted line per reader slot (after a
 * header): "pid thread txnid", txnid "-" for a slot not in a transaction. */
struct reader_scan {
    size_t active;
    uint64_t oldest;
};

static int reader_line(const char *line, void *ctx)
{
    struct reader_scan *s = ctx;
    unsigned long long pid, txnid;
    char thread[32];
    if (sscanf(line, " %llu %31s %llu", &pid, thread, &txnid) == 3) {
        s->active++;
        if (s->oldest == 0 || txnid < s->oldest)
            s->oldest = txnid;
    }
    return 0;
}

int ledger_readers(ledger *led, size_t *active, uint64_t *oldest_lag)
{
    struct reader_scan s = {0};
    MDB_envinfo info;
    if (mdb_reader_list(led->env, reader_line, &s) < 0 ||
        mdb_env_info(led->env, &info) != 0)
        return ORIGO_E_STORE;
    *active = s.active;
    *oldest_lag = s.active && info.me_last_txnid > s.oldest
                      ? info.me_last_txnid - s.oldest
                      : 0;
    return 0;
}
