/* The Raft log in named tables of an LMDB environment shared with the
 * ledger: entries keyed by big-endian index, the hard state, the snapshot
 * record and the payload-release watermark. Everything here is a short
 * function over one transaction, so the node decides what commits together
 * (persist entries, apply a block, release its payload). */
#include "raftlog.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

/* Entry record: version, type, flags, reserved, term, payload length,
 * SipHash-2-4 of the payload, then the payload unless released. */
#define RECORD_VERSION 1
#define RECORD_HEADER 28
#define FLAG_RELEASED 0x01
#define HARD_STATE_LEN 25
#define SNAPSHOT_FIXED 17

static const char KEY_HARD_STATE[] = "hard_state";
static const char KEY_SNAPSHOT[] = "snapshot";
static const char KEY_RELEASED[] = "released";

/* A fixed, public key: the hash guards against storage damage and against
 * a payload hook returning other bytes, not against an adversary. */
static const uint8_t HASH_KEY[crypto_shorthash_KEYBYTES] = "origo/raftlog/v";

struct raftlog {
    MDB_env *env;
    MDB_dbi entries;
    MDB_dbi meta;
    raftlog_payload_fn payload_fn;
    void *payload_ctx;
};

/* Decoded entry record header. */
struct record {
    uint8_t type;
    uint8_t flags;
    uint64_t term;
    uint64_t len;
    uint8_t hash[crypto_shorthash_BYTES];
    const uint8_t *payload; /* NULL when released */
};

int raftlog_mdb_error(int mdb_rc)
{
    switch (mdb_rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return ORIGO_E_NOTFOUND;
    case MDB_MAP_FULL:
        return ORIGO_E_MAP_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        return ORIGO_E_CORRUPT;
    case MDB_READERS_FULL:
        return ORIGO_E_BUSY;
    case MDB_MAP_RESIZED:
        return ORIGO_E_AGAIN;
    case ENOMEM:
        return ORIGO_E_NOMEM;
    case EACCES:
        return ORIGO_E_PERM;
    case EINVAL:
        return ORIGO_E_INVAL;
    default:
        /* A system error passed through by LMDB (ENOSPC, EIO...): kept for
         * the log (origo_os_cause()). */
        if (mdb_rc > 0)
            origo_set_os_cause(mdb_rc); /* kept through a later MDB_PANIC */
        return ORIGO_E_LOG_STORE;
    }
}

static void put_be64(uint8_t *p, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)value;
        value >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | p[i];
    return value;
}

static void payload_hash(uint8_t out[crypto_shorthash_BYTES],
                         const uint8_t *data, size_t len)
{
    static const uint8_t empty[1];
    crypto_shorthash(out, data ? data : empty, len, HASH_KEY);
}

/* ---- transactions ---- */

/* Uses the caller's transaction or begins one of our own (*own set). */
static int txn_enter(raftlog *log, MDB_txn **txn, int read_only, int *own)
{
    *own = 0;
    if (*txn)
        return 0;
    int rc = mdb_txn_begin(log->env, NULL, read_only ? MDB_RDONLY : 0, txn);
    if (rc)
        return raftlog_mdb_error(rc);
    *own = 1;
    return 0;
}

/* Ends our own transaction: commits on success, aborts on failure. */
static int txn_leave(MDB_txn *txn, int own, int rc)
{
    if (!own)
        return rc;
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return raftlog_mdb_error(mdb_txn_commit(txn));
}

/* ---- records ---- */

static int record_decode(const MDB_val *value, struct record *out)
{
    const uint8_t *p = value->mv_data;
    if (value->mv_size < RECORD_HEADER || p[0] != RECORD_VERSION ||
        (p[2] & ~FLAG_RELEASED) || p[3] != 0)
        return ORIGO_E_CORRUPT;
    out->type = p[1];
    out->flags = p[2];
    out->term = get_be64(p + 4);
    out->len = get_be64(p + 12);
    memcpy(out->hash, p + 20, sizeof(out->hash));
    size_t body = value->mv_size - RECORD_HEADER;
    if (out->flags & FLAG_RELEASED) {
        if (body != 0)
            return ORIGO_E_CORRUPT;
        out->payload = NULL;
    } else {
        if (body != out->len)
            return ORIGO_E_CORRUPT;
        out->payload = p + RECORD_HEADER;
    }
    return 0;
}

static void record_header(uint8_t *p, uint8_t type, uint8_t flags,
                          uint64_t term, uint64_t len, const uint8_t *hash)
{
    p[0] = RECORD_VERSION;
    p[1] = type;
    p[2] = flags;
    p[3] = 0;
    put_be64(p + 4, term);
    put_be64(p + 12, len);
    memcpy(p + 20, hash, crypto_shorthash_BYTES);
}

/* Fetches and checks the payload of a record into *entry. */
static int record_payload(raftlog *log, MDB_txn *txn, uint64_t index,
                          const struct record *rec, struct raft_entry *entry)
{
    const uint8_t *data = rec->payload;
    size_t len = (size_t)rec->len;
    if (!data) {
        if (!log->payload_fn)
            return ORIGO_E_CORRUPT;
        int rc = log->payload_fn(log->payload_ctx, txn, index, rec->term,
                                 rec->type, &data, &len);
        if (rc)
            return rc;
        if (len != rec->len || (len && !data))
            return ORIGO_E_CORRUPT;
    }
    uint8_t hash[crypto_shorthash_BYTES];
    payload_hash(hash, data, len);
    if (sodium_memcmp(hash, rec->hash, sizeof(hash)) != 0)
        return ORIGO_E_CORRUPT;
    entry->index = index;
    entry->term = rec->term;
    entry->type = rec->type;
    /* Read-only map memory; the header says not to write through it. */
    entry->data.base = (uint8_t *)(uintptr_t)data;
    entry->data.len = len;
    return 0;
}

static int meta_get(raftlog *log, MDB_txn *txn, const char *name,
                    MDB_val *value)
{
    MDB_val key = {strlen(name), (void *)(uintptr_t)name};
    return raftlog_mdb_error(mdb_get(txn, log->meta, &key, value));
}

static int meta_put(raftlog *log, MDB_txn *txn, const char *name,
                    const void *bytes, size_t len)
{
    MDB_val key = {strlen(name), (void *)(uintptr_t)name};
    MDB_val value = {len, (void *)(uintptr_t)bytes};
    return raftlog_mdb_error(mdb_put(txn, log->meta, &key, &value, 0));
}

/* Reads the snapshot record and decodes its fixed part; *value keeps the
 * whole record (the configuration follows at SNAPSHOT_FIXED).
 * ORIGO_E_NOTFOUND when there is no snapshot. */
static int snapshot_get(raftlog *log, MDB_txn *txn, MDB_val *value,
                        uint64_t *index, uint64_t *term)
{
    int rc = meta_get(log, txn, KEY_SNAPSHOT, value);
    if (rc)
        return rc;
    const uint8_t *p = value->mv_data;
    if (value->mv_size < SNAPSHOT_FIXED || p[0] != RECORD_VERSION)
        return ORIGO_E_CORRUPT;
    *index = get_be64(p + 1);
    *term = get_be64(p + 9);
    return 0;
}

/* The payload-release watermark, 0 when none is stored. */
static int released_get(raftlog *log, MDB_txn *txn, uint64_t *upto)
{
    MDB_val value;
    int rc = meta_get(log, txn, KEY_RELEASED, &value);
    if (rc == ORIGO_E_NOTFOUND) {
        *upto = 0;
        return 0;
    }
    if (rc)
        return rc;
    if (value.mv_size != 8)
        return ORIGO_E_CORRUPT;
    *upto = get_be64(value.mv_data);
    return 0;
}

static int released_put(raftlog *log, MDB_txn *txn, uint64_t upto)
{
    uint8_t bytes[8];
    put_be64(bytes, upto);
    return meta_put(log, txn, KEY_RELEASED, bytes, sizeof(bytes));
}

/* Snapshot index and term, 0/0 when there is none. */
static int snapshot_point(raftlog *log, MDB_txn *txn, uint64_t *index,
                          uint64_t *term)
{
    MDB_val value;
    int rc = snapshot_get(log, txn, &value, index, term);
    if (rc == ORIGO_E_NOTFOUND) {
        *index = 0;
        *term = 0;
        return 0;
    }
    return rc;
}

/* The first or last stored key (op MDB_FIRST / MDB_LAST); ORIGO_E_NOTFOUND
 * for an empty table. With `rec` set, also decodes the record. */
static int edge_entry(raftlog *log, MDB_txn *txn, MDB_cursor_op op,
                      uint64_t *index, struct record *rec)
{
    MDB_cursor *cursor;
    int rc = raftlog_mdb_error(mdb_cursor_open(txn, log->entries, &cursor));
    if (rc)
        return rc;
    MDB_val key, value;
    rc = raftlog_mdb_error(mdb_cursor_get(cursor, &key, &value, op));
    if (!rc && key.mv_size != 8)
        rc = ORIGO_E_CORRUPT;
    if (!rc)
        *index = get_be64(key.mv_data);
    if (!rc && rec)
        rc = record_decode(&value, rec);
    mdb_cursor_close(cursor);
    return rc;
}

/* First and last index as the header defines them. */
static int bounds(raftlog *log, MDB_txn *txn, uint64_t *first, uint64_t *last)
{
    uint64_t snap_index, snap_term, lo, hi;
    int rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (rc)
        return rc;
    rc = edge_entry(log, txn, MDB_FIRST, &lo, NULL);
    if (rc == ORIGO_E_NOTFOUND) {
        *first = snap_index + 1;
        *last = snap_index;
        return 0;
    }
    if (!rc)
        rc = edge_entry(log, txn, MDB_LAST, &hi, NULL);
    if (rc)
        return rc;
    if (lo == 0 || lo > snap_index + 1 || hi < snap_index)
        return ORIGO_E_CORRUPT;
    *first = lo;
    *last = hi;
    return 0;
}

/* Term at index inside one transaction (see raftlog_term()). */
static int term_at(raftlog *log, MDB_txn *txn, uint64_t index, uint64_t *term)
{
    if (index == 0) {
        *term = 0;
        return 0;
    }
    uint8_t key_bytes[8];
    put_be64(key_bytes, index);
    MDB_val key = {8, key_bytes}, value;
    int rc = raftlog_mdb_error(mdb_get(txn, log->entries, &key, &value));
    if (!rc) {
        struct record rec;
        rc = record_decode(&value, &rec);
        if (!rc)
            *term = rec.term;
        return rc;
    }
    if (rc != ORIGO_E_NOTFOUND)
        return rc;
    uint64_t snap_index, snap_term, first, last;
    rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (rc)
        return rc;
    if (index == snap_index) {
        *term = snap_term;
        return 0;
    }
    rc = bounds(log, txn, &first, &last);
    if (rc)
        return rc;
    if (index < first)
        return ORIGO_E_COMPACTED;
    if (index > last)
        return ORIGO_E_NOTFOUND;
    return ORIGO_E_LOG_GAP;
}

/* Deletes entries with from <= index <= to. */
static int delete_range(raftlog *log, MDB_txn *txn, uint64_t from, uint64_t to)
{
    if (from > to)
        return 0;
    MDB_cursor *cursor;
    int rc = raftlog_mdb_error(mdb_cursor_open(txn, log->entries, &cursor));
    if (rc)
        return rc;
    int mdb_rc;
    /* Seek afresh after every delete: where a cursor stands after
     * mdb_cursor_del() at the end of a page or of the table is subtle, a
     * seek is not. */
    do {
        uint8_t key_bytes[8];
        put_be64(key_bytes, from);
        MDB_val key = {8, key_bytes}, value;
        mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
        if (mdb_rc)
            break;
        if (key.mv_size != 8) {
            mdb_rc = MDB_CORRUPTED;
            break;
        }
        if (get_be64(key.mv_data) > to)
            break;
        mdb_rc = mdb_cursor_del(cursor, 0);
    } while (mdb_rc == 0);
    mdb_cursor_close(cursor);
    return mdb_rc == MDB_NOTFOUND ? 0 : raftlog_mdb_error(mdb_rc);
}

/* ---- open / close ---- */

int raftlog_open(MDB_env *env, MDB_txn *txn, const raftlog_options *options,
                 raftlog **out)
{
    if (!env || !out)
        return ORIGO_E_INVAL;
    if (sodium_init() < 0)
        return ORIGO_E_SODIUM;
    raftlog *log = calloc(1, sizeof(*log));
    if (!log)
        return ORIGO_E_NOMEM;
    log->env = env;
    if (options) {
        log->payload_fn = options->payload_fn;
        log->payload_ctx = options->payload_ctx;
    }
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        goto err_after_alloc;
    rc = raftlog_mdb_error(
        mdb_dbi_open(txn, RAFTLOG_DBI_ENTRIES, MDB_CREATE, &log->entries));
    if (!rc)
        rc = raftlog_mdb_error(
            mdb_dbi_open(txn, RAFTLOG_DBI_META, MDB_CREATE, &log->meta));
    if (rc == ORIGO_E_NOTFOUND || rc == ORIGO_E_INVAL)
        rc = ORIGO_E_LOG_STORE; /* MDB_DBS_FULL and the like */
    if (!rc) {
        /* Refuse records written in a format this code does not know. */
        uint64_t first, last;
        rc = bounds(log, txn, &first, &last);
    }
    rc = txn_leave(txn, own, rc);
    if (rc)
        goto err_after_alloc;
    *out = log;
    return 0;

err_after_alloc:
    free(log);
    return rc;
}

void raftlog_close(raftlog *log)
{
    free(log);
}

/* ---- append / truncate ---- */

static int check_batch(const struct raft_entry *entries, size_t count)
{
    if (!entries || count == 0 || entries[0].index == 0)
        return ORIGO_E_INVAL;
    for (size_t i = 0; i < count; i++) {
        const struct raft_entry *e = &entries[i];
        if (e->data.len > RAFTLOG_MAX_ENTRY_BYTES)
            return ORIGO_E_TOOBIG;
        if (e->data.len && !e->data.base)
            return ORIGO_E_INVAL;
        if (i > 0 && (e->index != entries[i - 1].index + 1 ||
                      e->term < entries[i - 1].term))
            return ORIGO_E_INVAL;
    }
    return 0;
}

static int put_entry(raftlog *log, MDB_txn *txn, const struct raft_entry *e)
{
    uint8_t key_bytes[8];
    put_be64(key_bytes, e->index);
    MDB_val key = {8, key_bytes};
    MDB_val value = {RECORD_HEADER + e->data.len, NULL};
    int rc = mdb_put(txn, log->entries, &key, &value, MDB_APPEND | MDB_RESERVE);
    if (rc)
        return raftlog_mdb_error(rc);
    uint8_t hash[crypto_shorthash_BYTES];
    payload_hash(hash, e->data.base, e->data.len);
    uint8_t *p = value.mv_data;
    record_header(p, e->type, 0, e->term, e->data.len, hash);
    if (e->data.len)
        memcpy(p + RECORD_HEADER, e->data.base, e->data.len);
    return 0;
}

static int append_in(raftlog *log, MDB_txn *txn,
                     const struct raft_entry *entries, size_t count)
{
    uint64_t snap_index, snap_term, first, last, prev_term;
    int rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (!rc)
        rc = bounds(log, txn, &first, &last);
    if (rc)
        return rc;
    size_t skip = 0;
    while (skip < count && entries[skip].index <= snap_index)
        skip++;
    if (skip == count)
        return 0;
    entries += skip;
    count -= skip;
    if (entries[0].index > last + 1)
        return ORIGO_E_LOG_GAP;
    rc = term_at(log, txn, entries[0].index - 1, &prev_term);
    if (rc == 0 && entries[0].term < prev_term)
        return ORIGO_E_INVAL;
    if (rc && rc != ORIGO_E_COMPACTED)
        return rc;
    rc = delete_range(log, txn, entries[0].index, UINT64_MAX);
    for (size_t i = 0; !rc && i < count; i++)
        rc = put_entry(log, txn, &entries[i]);
    return rc;
}

int raftlog_append(raftlog *log, MDB_txn *txn, const struct raft_entry *entries,
                   size_t count)
{
    if (!log)
        return ORIGO_E_INVAL;
    int rc = check_batch(entries, count);
    if (rc)
        return rc;
    int own;
    rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    return txn_leave(txn, own, append_in(log, txn, entries, count));
}

int raftlog_truncate(raftlog *log, MDB_txn *txn, uint64_t from_index)
{
    if (!log || from_index == 0)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    uint64_t snap_index, snap_term;
    rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (!rc && from_index <= snap_index)
        rc = ORIGO_E_COMPACTED;
    if (!rc)
        rc = delete_range(log, txn, from_index, UINT64_MAX);
    return txn_leave(txn, own, rc);
}

/* ---- reads ---- */

static int read_range(raftlog *log, MDB_txn *txn, uint64_t lo, uint64_t hi,
                      size_t max_bytes, struct raft_entry *out, size_t cap,
                      size_t *count)
{
    uint64_t first, last;
    int rc = bounds(log, txn, &first, &last);
    if (rc)
        return rc;
    if (lo < first)
        return ORIGO_E_COMPACTED;
    if (hi - 1 > last)
        return ORIGO_E_NOTFOUND;
    MDB_cursor *cursor;
    rc = raftlog_mdb_error(mdb_cursor_open(txn, log->entries, &cursor));
    if (rc)
        return rc;
    uint8_t key_bytes[8];
    put_be64(key_bytes, lo);
    MDB_val key = {8, key_bytes}, value;
    MDB_cursor_op op = MDB_SET_KEY;
    size_t n = 0, bytes = 0;
    for (uint64_t index = lo; index < hi && n < cap; index++) {
        rc = raftlog_mdb_error(mdb_cursor_get(cursor, &key, &value, op));
        op = MDB_NEXT;
        if (rc == ORIGO_E_NOTFOUND ||
            (!rc && (key.mv_size != 8 || get_be64(key.mv_data) != index)))
            rc = ORIGO_E_LOG_GAP;
        struct record rec;
        if (!rc)
            rc = record_decode(&value, &rec);
        if (rc)
            break;
        if (n > 0 && (rec.len > max_bytes || bytes > max_bytes - rec.len))
            break;
        rc = record_payload(log, txn, index, &rec, &out[n]);
        if (rc)
            break;
        bytes += (size_t)rec.len;
        n++;
    }
    mdb_cursor_close(cursor);
    if (!rc)
        *count = n;
    return rc;
}

int raftlog_entries(raftlog *log, MDB_txn *txn, uint64_t lo, uint64_t hi,
                    size_t max_bytes, struct raft_entry *out, size_t cap,
                    size_t *count)
{
    if (!log || !txn || !out || !count || cap == 0 || lo == 0 || lo >= hi)
        return ORIGO_E_INVAL;
    return read_range(log, txn, lo, hi, max_bytes, out, cap, count);
}

/* bounds() in the caller's transaction or a read-only one of our own;
 * writes the index that `want_last` picks to *out only on success. */
static int read_bound(raftlog *log, MDB_txn *txn, int want_last, uint64_t *out)
{
    if (!log || !out)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 1, &own);
    if (rc)
        return rc;
    uint64_t first, last;
    rc = txn_leave(txn, own, bounds(log, txn, &first, &last));
    if (!rc)
        *out = want_last ? last : first;
    return rc;
}

int raftlog_first_index(raftlog *log, MDB_txn *txn, uint64_t *out)
{
    return read_bound(log, txn, 0, out);
}

int raftlog_last_index(raftlog *log, MDB_txn *txn, uint64_t *out)
{
    return read_bound(log, txn, 1, out);
}

static int last_in(raftlog *log, MDB_txn *txn, uint64_t *index, uint64_t *term)
{
    struct record rec;
    int rc = edge_entry(log, txn, MDB_LAST, index, &rec);
    if (!rc) {
        *term = rec.term;
        return 0;
    }
    if (rc != ORIGO_E_NOTFOUND)
        return rc;
    return snapshot_point(log, txn, index, term);
}

int raftlog_last(raftlog *log, MDB_txn *txn, uint64_t *index, uint64_t *term)
{
    if (!log || !index || !term)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 1, &own);
    if (rc)
        return rc;
    uint64_t last_index, last_term;
    rc = txn_leave(txn, own, last_in(log, txn, &last_index, &last_term));
    if (!rc) {
        *index = last_index;
        *term = last_term;
    }
    return rc;
}

int raftlog_term(raftlog *log, MDB_txn *txn, uint64_t index, uint64_t *out)
{
    if (!log || !out)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 1, &own);
    if (rc)
        return rc;
    uint64_t term;
    rc = txn_leave(txn, own, term_at(log, txn, index, &term));
    if (!rc)
        *out = term;
    return rc;
}

/* ---- hard state ---- */

int raftlog_save_hard_state(raftlog *log, MDB_txn *txn,
                            const struct raft_hard_state *state)
{
    if (!log || !state)
        return ORIGO_E_INVAL;
    uint8_t bytes[HARD_STATE_LEN];
    bytes[0] = RECORD_VERSION;
    put_be64(bytes + 1, state->term);
    put_be64(bytes + 9, state->vote);
    put_be64(bytes + 17, state->commit);
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    rc = meta_put(log, txn, KEY_HARD_STATE, bytes, sizeof(bytes));
    return txn_leave(txn, own, rc);
}

static int load_hard_state_in(raftlog *log, MDB_txn *txn,
                              struct raft_hard_state *state)
{
    MDB_val value;
    int rc = meta_get(log, txn, KEY_HARD_STATE, &value);
    if (rc == ORIGO_E_NOTFOUND) {
        memset(state, 0, sizeof(*state));
        return 0;
    }
    if (rc)
        return rc;
    const uint8_t *p = value.mv_data;
    if (value.mv_size != HARD_STATE_LEN || p[0] != RECORD_VERSION)
        return ORIGO_E_CORRUPT;
    state->term = get_be64(p + 1);
    state->vote = get_be64(p + 9);
    state->commit = get_be64(p + 17);
    return 0;
}

int raftlog_load_hard_state(raftlog *log, MDB_txn *txn,
                            struct raft_hard_state *out)
{
    if (!log || !out)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 1, &own);
    if (rc)
        return rc;
    struct raft_hard_state state;
    rc = txn_leave(txn, own, load_hard_state_in(log, txn, &state));
    if (!rc)
        *out = state;
    return rc;
}

/* ---- snapshots ---- */

/* The snapshot record, encoded before anything is written. */
struct snapshot_record {
    uint8_t bytes[SNAPSHOT_FIXED + RAFT_CONFIG_ENCODED_MAX];
    size_t len;
};

static int snapshot_encode(const struct raft_snapshot_meta *snapshot,
                           struct snapshot_record *out)
{
    size_t conf_len =
        raft_config_encode(&snapshot->config, out->bytes + SNAPSHOT_FIXED,
                           RAFT_CONFIG_ENCODED_MAX);
    /* Refuse what raftlog_load_snapshot() would call corrupt later. */
    struct raft_config check;
    if (conf_len == 0 ||
        raft_config_decode(out->bytes + SNAPSHOT_FIXED, conf_len, &check) != 0)
        return ORIGO_E_INVAL;
    out->bytes[0] = RECORD_VERSION;
    put_be64(out->bytes + 1, snapshot->index);
    put_be64(out->bytes + 9, snapshot->term);
    out->len = SNAPSHOT_FIXED + conf_len;
    return 0;
}

static int put_snapshot(raftlog *log, MDB_txn *txn,
                        const struct snapshot_record *record)
{
    return meta_put(log, txn, KEY_SNAPSHOT, record->bytes, record->len);
}

/* Checks that `snapshot` is not older than the stored one. */
static int snapshot_newer(raftlog *log, MDB_txn *txn,
                          const struct raft_snapshot_meta *snapshot)
{
    uint64_t snap_index, snap_term;
    int rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (rc)
        return rc;
    if (snapshot->index < snap_index ||
        (snapshot->index == snap_index && snapshot->term != snap_term))
        return ORIGO_E_SNAPSHOT;
    return 0;
}

/* Encodes `snapshot` into *record and checks it against the stored one:
 * the first step of both saving and installing a snapshot. */
static int snapshot_prepare(raftlog *log, MDB_txn *txn,
                            const struct raft_snapshot_meta *snapshot,
                            struct snapshot_record *record)
{
    int rc = snapshot_encode(snapshot, record);
    if (!rc)
        rc = snapshot_newer(log, txn, snapshot);
    return rc;
}

static int save_snapshot_in(raftlog *log, MDB_txn *txn,
                            const struct raft_snapshot_meta *snapshot)
{
    struct snapshot_record record;
    int rc = snapshot_prepare(log, txn, snapshot, &record);
    if (rc)
        return rc;
    uint64_t term;
    rc = term_at(log, txn, snapshot->index, &term);
    if (rc == ORIGO_E_NOTFOUND || rc == ORIGO_E_COMPACTED ||
        (!rc && term != snapshot->term))
        return ORIGO_E_SNAPSHOT;
    if (rc)
        return rc;
    return put_snapshot(log, txn, &record);
}

/* save_snapshot_in() or install_snapshot_in(). */
typedef int (*snapshot_step)(raftlog *log, MDB_txn *txn,
                             const struct raft_snapshot_meta *snapshot);

/* The argument checks saving and installing share, then `step` in the
 * caller's transaction or a write transaction of our own. */
static int snapshot_write(raftlog *log, MDB_txn *txn,
                          const struct raft_snapshot_meta *snapshot,
                          snapshot_step step)
{
    if (!log || !snapshot || snapshot->index == 0)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    return txn_leave(txn, own, step(log, txn, snapshot));
}

int raftlog_save_snapshot(raftlog *log, MDB_txn *txn,
                          const struct raft_snapshot_meta *snapshot)
{
    return snapshot_write(log, txn, snapshot, save_snapshot_in);
}

static int install_snapshot_in(raftlog *log, MDB_txn *txn,
                               const struct raft_snapshot_meta *snapshot)
{
    struct snapshot_record record;
    int rc = snapshot_prepare(log, txn, snapshot, &record);
    if (!rc)
        rc = raftlog_mdb_error(mdb_drop(txn, log->entries, 0));
    if (!rc)
        rc = put_snapshot(log, txn, &record);
    if (rc)
        return rc;
    /* Entries after the snapshot are new: none of them is released yet. */
    uint64_t released;
    rc = released_get(log, txn, &released);
    if (rc || released <= snapshot->index)
        return rc;
    return released_put(log, txn, snapshot->index);
}

int raftlog_install_snapshot(raftlog *log, MDB_txn *txn,
                             const struct raft_snapshot_meta *snapshot)
{
    return snapshot_write(log, txn, snapshot, install_snapshot_in);
}

static int load_snapshot_in(raftlog *log, MDB_txn *txn,
                            struct raft_snapshot_meta *out)
{
    MDB_val value;
    int rc = snapshot_get(log, txn, &value, &out->index, &out->term);
    if (rc)
        return rc;
    const uint8_t *p = value.mv_data;
    if (raft_config_decode(p + SNAPSHOT_FIXED, value.mv_size - SNAPSHOT_FIXED,
                           &out->config) != 0)
        return ORIGO_E_CORRUPT;
    return 0;
}

int raftlog_load_snapshot(raftlog *log, MDB_txn *txn,
                          struct raft_snapshot_meta *out)
{
    if (!log || !out)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 1, &own);
    if (rc)
        return rc;
    struct raft_snapshot_meta meta;
    rc = txn_leave(txn, own, load_snapshot_in(log, txn, &meta));
    if (!rc)
        *out = meta;
    return rc;
}

int raftlog_compact(raftlog *log, MDB_txn *txn, uint64_t upto)
{
    if (!log)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    uint64_t snap_index, snap_term;
    rc = snapshot_point(log, txn, &snap_index, &snap_term);
    if (!rc && upto > snap_index)
        rc = ORIGO_E_SNAPSHOT;
    if (!rc)
        rc = delete_range(log, txn, 1, upto);
    return txn_leave(txn, own, rc);
}

/* ---- payload release ---- */

/* Replaces the record under the cursor by its header with FLAG_RELEASED. */
static int release_one(MDB_cursor *cursor, uint64_t index,
                       const struct record *rec)
{
    /* The key must not point into the page being rewritten: LMDB deletes
     * and re-inserts a node whose size changes. */
    uint8_t key_bytes[8];
    put_be64(key_bytes, index);
    MDB_val key = {8, key_bytes};
    uint8_t header[RECORD_HEADER];
    record_header(header, rec->type, FLAG_RELEASED, rec->term, rec->len,
                  rec->hash);
    MDB_val value = {sizeof(header), header};
    return raftlog_mdb_error(mdb_cursor_put(cursor, &key, &value, MDB_CURRENT));
}

static int release_in(raftlog *log, MDB_txn *txn, uint64_t upto, uint8_t type)
{
    uint64_t done;
    int rc = released_get(log, txn, &done);
    if (rc)
        return rc;
    /* The watermark never passes the last entry: entries appended later at
     * lower indexes than upto must still be released by a later call. */
    uint64_t first, last;
    rc = bounds(log, txn, &first, &last);
    if (rc)
        return rc;
    if (upto > last)
        upto = last;
    if (upto <= done)
        return 0;
    MDB_cursor *cursor;
    rc = raftlog_mdb_error(mdb_cursor_open(txn, log->entries, &cursor));
    if (rc)
        return rc;
    uint8_t key_bytes[8];
    put_be64(key_bytes, done + 1);
    MDB_val key = {8, key_bytes}, value;
    int mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (mdb_rc == 0) {
        struct record rec;
        if (key.mv_size != 8 || record_decode(&value, &rec) != 0) {
            mdb_rc = MDB_CORRUPTED;
            break;
        }
        uint64_t index = get_be64(key.mv_data);
        if (index > upto)
            break;
        if (rec.type == type && rec.payload && rec.len > 0) {
            rc = release_one(cursor, index, &rec);
            if (rc)
                break;
        }
        mdb_rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    if (!rc && mdb_rc != MDB_NOTFOUND)
        rc = raftlog_mdb_error(mdb_rc);
    if (rc)
        return rc;
    return released_put(log, txn, upto);
}

int raftlog_release(raftlog *log, MDB_txn *txn, uint64_t upto, uint8_t type)
{
    if (!log || !log->payload_fn)
        return ORIGO_E_INVAL;
    int own;
    int rc = txn_enter(log, &txn, 0, &own);
    if (rc)
        return rc;
    return txn_leave(txn, own, release_in(log, txn, upto, type));
}

/* ---- restore ---- */

static int restore_entries(raftlog *log, MDB_txn *txn, uint64_t from,
                           struct raft_restore *out)
{
    uint64_t first, last;
    int rc = bounds(log, txn, &first, &last);
    if (rc || last < from)
        return rc;
    if (last - from + 1 > SIZE_MAX / sizeof(struct raft_entry))
        return ORIGO_E_NOMEM;
    size_t count = (size_t)(last - from + 1);
    struct raft_entry *entries = calloc(count, sizeof(*entries));
    if (!entries)
        return ORIGO_E_NOMEM;
    size_t done = 0;
    while (done < count) {
        size_t n;
        rc = read_range(log, txn, from + done, last + 1, SIZE_MAX,
                        entries + done, count - done, &n);
        if (rc)
            goto err_after_alloc;
        done += n;
    }
    out->entries = entries;
    out->n_entries = count;
    return 0;

err_after_alloc:
    free(entries);
    return rc;
}

int raftlog_restore(raftlog *log, MDB_txn *txn, struct raft_restore *out)
{
    if (!log || !txn || !out)
        return ORIGO_E_INVAL;
    struct raft_restore restore;
    memset(&restore, 0, sizeof(restore));
    int rc = load_hard_state_in(log, txn, &restore.hard_state);
    if (rc)
        return rc;
    rc = load_snapshot_in(log, txn, &restore.snapshot);
    if (rc == ORIGO_E_NOTFOUND) {
        memset(&restore.snapshot, 0, sizeof(restore.snapshot));
        rc = 0;
    }
    if (!rc)
        rc = restore_entries(log, txn, restore.snapshot.index + 1, &restore);
    if (rc)
        return rc;
    *out = restore;
    return 0;
}

void raftlog_restore_release(struct raft_restore *restore)
{
    if (!restore)
        return;
    free((void *)(uintptr_t)restore->entries);
    restore->entries = NULL;
    restore->n_entries = 0;
}
