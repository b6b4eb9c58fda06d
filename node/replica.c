/* A replica: the Raft core, its log in LMDB and the ledger, carried out by
 * consensus/README.md's contract (node/README.md, "Replica"). */
#include "replica.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "be.h"
#include "log.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "raftlog.h"
#include "raftmsg.h"

#define NODE_DBI "node"
/* Keys of the node table: the last Raft index applied (u64 big-endian). */
#define KEY_APPLIED "applied"
/* Own proposals remembered as verified (a ring). */
#define OWN_MAX 256

/* One applied NORMAL entry, reported after its transaction commits. */
typedef struct applied_note {
    uint64_t index, term;
    int noop;
    ledger_block_result result;
} applied_note;

struct replica {
    replica_options o;
    char dir[4096];
    ledger *led;
    raftlog *log;
    MDB_dbi node_dbi;
    struct raft *core;
    uint64_t applied;          /* last index applied and durable */
    uint64_t last_time;        /* block time of the last proposal or block */
    struct raft_hard_state hs; /* last durable hard state */
    origo_buf out;             /* an outgoing message */
    applied_note *notes;
    size_t n_notes, cap_notes;
    /* Snapshots stream through files (raft_snapshot_io): the leader's
     * copy of its store (unlinked, open while it may be sent) and the
     * follower's incoming one in <dir>.in/data.mdb. */
    struct raft_snapshot_io snap_io;
    int out_fd, in_fd;
    uint64_t out_index, in_index;
    /* Entries this replica proposed from envelopes its node verified. */
    struct {
        uint64_t index, term;
    } own[OWN_MAX];
    size_t own_next;
    int failed; /* the error that stopped replica_process(), or 0 */
};

uint64_t replica_id_of(const uint8_t pub[32])
{
    static const char tag[] = "origo/raft-id/v1"; /* and its NUL */
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)tag, sizeof(tag));
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    uint64_t id = be_get64(h);
    return id ? id : 1;
}

static uint64_t rand64(void *ctx)
{
    (void)ctx;
    uint64_t v;
    randombytes_buf(&v, sizeof(v));
    return v;
}

static int mdb_to_origo(int rc)
{
    return rc == 0 ? 0 : raftlog_mdb_error(rc);
}

static int node_get_u64(replica *r, MDB_txn *txn, const char *key,
                        uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(txn, r->node_dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc)
        return mdb_to_origo(rc);
    if (v.mv_size != 8)
        return ORIGO_E_CORRUPT;
    *out = be_get64(v.mv_data);
    return 0;
}

static int node_put_u64(replica *r, MDB_txn *txn, const char *key,
                        uint64_t value)
{
    uint8_t b[8];
    be_put64(b, value);
    MDB_val k = {strlen(key), (void *)key}, v = {8, b};
    return mdb_to_origo(mdb_put(txn, r->node_dbi, &k, &v, 0));
}

/* Opens the ledger in r->dir and the log and node tables in its
 * environment. */
static int open_store(replica *r, const char *dir, ledger **led_out,
                      raftlog **log_out, MDB_dbi *dbi_out, char *msg,
                      size_t msg_size)
{
    ledger_options lo = {.map_size = r->o.map_size,
                         .extra_dbs = RAFTLOG_DBI_COUNT + 1};
    ledger *led = NULL;
    char lmsg[256] = "";
    int rc = ledger_open(dir, r->o.genesis_json, r->o.genesis_len, &lo, &led,
                         lmsg, sizeof(lmsg));
    if (rc) {
        snprintf(msg, msg_size, "%s: %s%s%s", dir, origo_strerror(rc),
                 lmsg[0] ? ": " : "", lmsg);
        return rc;
    }
    MDB_txn *txn;
    raftlog *log = NULL;
    if ((rc = ledger_txn_begin(led, 0, &txn)) == 0) {
        rc = raftlog_open(ledger_env(led), txn, NULL, &log);
        if (rc == 0)
            rc = mdb_to_origo(mdb_dbi_open(txn, NODE_DBI, MDB_CREATE, dbi_out));
        if (rc == 0)
            rc = mdb_to_origo(mdb_txn_commit(txn));
        else
            mdb_txn_abort(txn);
    }
    if (rc) {
        snprintf(msg, msg_size, "%s: cannot open the Raft tables: %s", dir,
                 origo_strerror(rc));
        raftlog_close(log);
        ledger_close(led);
        return rc;
    }
    *led_out = led;
    *log_out = log;
    return 0;
}

/* ---- snapshot files ---------------------------------------------------- */

static int snap_read(void *ctx, uint64_t index, uint64_t offset, uint8_t *out,
                     size_t len)
{
    replica *r = ctx;
    if (r->out_fd < 0 || index != r->out_index)
        return ORIGO_E_SNAPSHOT;
    while (len > 0) {
        ssize_t n = pread(r->out_fd, out, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ORIGO_E_IO;
        out += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Offset 0 begins <dir>.in/data.mdb afresh. */
static int snap_write(void *ctx, uint64_t index, uint64_t offset,
                      const uint8_t *data, size_t len)
{
    replica *r = ctx;
    char in[4096 + 8], path[4096 + 32];
    snprintf(in, sizeof(in), "%s.in", r->dir);
    if (offset == 0) {
        if (r->in_fd >= 0)
            close(r->in_fd);
        r->in_fd = -1;
        snprintf(path, sizeof(path), "%s/lock.mdb", in);
        unlink(path);
        if (mkdir(in, 0700) != 0 && errno != EEXIST)
            return ORIGO_E_IO;
        snprintf(path, sizeof(path), "%s/data.mdb", in);
        r->in_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (r->in_fd < 0)
            return ORIGO_E_IO;
        r->in_index = index;
    } else if (r->in_fd < 0 || index != r->in_index) {
        return ORIGO_E_SNAPSHOT;
    }
    while (len > 0) {
        ssize_t n = pwrite(r->in_fd, data, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ORIGO_E_IO;
        data += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int restore_core(replica *r, char *msg, size_t msg_size)
{
    MDB_txn *txn;
    int rc = ledger_txn_begin(r->led, 1, &txn);
    if (rc)
        return rc;
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    ledger_state st;
    rc = raftlog_restore(r->log, txn, &rs);
    if (rc == 0)
        rc = node_get_u64(r, txn, KEY_APPLIED, &r->applied);
    if (rc == 0)
        rc = ledger_get_state(r->led, txn, &st);
    if (rc) {
        snprintf(msg, msg_size, "%s: cannot read the Raft state: %s", r->dir,
                 origo_strerror(rc));
        goto out;
    }
    if (rs.hard_state.term == 0 && rs.snapshot.index == 0 && st.height > 0) {
        snprintf(msg, msg_size,
                 "%s: the ledger holds %llu blocks but the Raft state is "
                 "empty: this store was wiped or copied in part, and would "
                 "vote a second time in terms it already voted in. Bring "
                 "the validator back as a new member (node/README.md, "
                 "\"A wiped validator\")",
                 r->dir, (unsigned long long)st.height);
        rc = ORIGO_E_WIPED;
        goto out;
    }
    r->hs = rs.hard_state;
    r->last_time = st.last_block_time;
    rs.bootstrap = r->o.founders;
    struct raft_options ro;
    raft_options_default(&ro);
    ro.id = r->o.id;
    ro.election_ticks = r->o.election_ticks ? r->o.election_ticks : 10;
    ro.heartbeat_ticks = r->o.heartbeat_ticks ? r->o.heartbeat_ticks : 1;
    ro.max_snapshot_bytes =
        r->o.max_snapshot_bytes ? r->o.max_snapshot_bytes : (uint64_t)1 << 40;
    r->snap_io = (struct raft_snapshot_io){snap_read, snap_write, r};
    ro.snap_io = &r->snap_io;
    ro.rand_fn = rand64;
    rc = raft_new(&ro, &rs, &r->core);
    if (rc)
        snprintf(msg, msg_size, "%s: cannot restore Raft: %s", r->dir,
                 origo_strerror(rc));
out:
    raftlog_restore_release(&rs);
    mdb_txn_abort(txn);
    return rc;
}

int replica_open(const replica_options *opts, replica **out, char *msg,
                 size_t msg_size)
{
    replica *r = calloc(1, sizeof(*r));
    if (!r)
        return ORIGO_E_NOMEM;
    r->o = *opts;
    r->out_fd = r->in_fd = -1;
    if (!r->o.snapshot_every)
        r->o.snapshot_every = 4096;
    if (!r->o.log_tail)
        r->o.log_tail = 1024;
    snprintf(r->dir, sizeof(r->dir), "%s", opts->dir);
    origo_buf_init(&r->out, RAFTMSG_MAX_FRAME + 1);
    if (mkdir(r->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, msg_size, "%s: cannot create: %s", r->dir,
                 strerror(errno));
        replica_close(r);
        return ORIGO_E_IO;
    }
    int rc =
        open_store(r, r->dir, &r->led, &r->log, &r->node_dbi, msg, msg_size);
    if (rc == 0)
        rc = restore_core(r, msg, msg_size);
    if (rc) {
        replica_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void replica_close(replica *r)
{
    if (!r)
        return;
    raft_free(r->core);
    raftlog_close(r->log);
    ledger_close(r->led);
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i].result.outcomes);
    free(r->notes);
    origo_buf_close(&r->out);
    if (r->out_fd >= 0)
        close(r->out_fd);
    if (r->in_fd >= 0)
        close(r->in_fd);
    free(r);
}

ledger *replica_ledger(replica *r)
{
    return r->led;
}

uint64_t replica_applied(const replica *r)
{
    return r->applied;
}

void replica_status(const replica *r, struct raft_status *out)
{
    raft_status(r->core, out);
}

/* ---- proposals ---------------------------------------------------------- */

/* Whether entry (index, term) is one this replica proposed from verified
 * envelopes. */
static int own_verified(const replica *r, uint64_t index, uint64_t term)
{
    for (size_t i = 0; i < OWN_MAX; i++)
        if (r->own[i].index == index && r->own[i].term == term && index)
            return 1;
    return 0;
}

int replica_propose(replica *r, uint64_t time_ms, const ledger_envelope *envs,
                    size_t count, int verified, uint64_t *index, uint64_t *term)
{
    if (count == 0 || count > REPLICA_MAX_PROPOSAL_EVENTS)
        return ORIGO_E_TOOBIG;
    if (time_ms <= r->last_time)
        time_ms = r->last_time + 1;
    origo_buf b;
    origo_buf_init(&b, REPLICA_MAX_PROPOSAL_BYTES);
    origo_mp_put_array(&b, 3);
    origo_mp_put_uint(&b, 1);
    origo_mp_put_uint(&b, time_ms);
    origo_mp_put_array(&b, (uint32_t)count);
    for (size_t i = 0; i < count; i++)
        origo_mp_put_bin(&b, envs[i].data, envs[i].len);
    int rc = b.err;
    if (rc == 0)
        rc = raft_propose(r->core, b.data, b.len, index);
    origo_buf_close(&b);
    if (rc)
        return rc;
    r->last_time = time_ms;
    struct raft_status st;
    raft_status(r->core, &st);
    *term = st.term;
    if (verified) {
        r->own[r->own_next].index = *index;
        r->own[r->own_next].term = *term;
        r->own_next = (r->own_next + 1) % OWN_MAX;
    }
    return replica_process(r);
}

/* Applies the stored entries after the applied index (proposed, not yet
 * applied) in txn, as apply will. */
static int preview_pending(replica *r, MDB_txn *txn, uint64_t *next_index)
{
    uint64_t last = 0;
    int rc = raftlog_last_index(r->log, txn, &last);
    *next_index = (last > r->applied ? last : r->applied) + 1;
    for (uint64_t lo = r->applied + 1; rc == 0 && lo <= last;) {
        struct raft_entry e[16];
        size_t got = 0;
        rc = raftlog_entries(r->log, txn, lo, last + 1, SIZE_MAX, e, 16, &got);
        for (size_t i = 0; rc == 0 && i < got; i++) {
            ledger_envelope *envs = NULL;
            uint64_t time_ms = 0;
            long count =
                e[i].type == RAFT_ENTRY_NORMAL
                    ? replica_decode_proposal(e[i].data.base, e[i].data.len,
                                              &envs, &time_ms)
                    : 0;
            if (count == -2)
                rc = ORIGO_E_NOMEM;
            else if (count > 0)
                rc = ledger_apply_block(
                    r->led, txn, e[i].term, e[i].index, time_ms, envs,
                    (size_t)count,
                    LEDGER_APPLY_SIGS_VERIFIED | LEDGER_APPLY_DRY_RUN, NULL);
            free(envs);
            /* The same no-ops apply makes. */
            if (rc == ORIGO_E_BLOCK_TIME || rc == ORIGO_E_TOOBIG)
                rc = 0;
        }
        if (rc == 0 && got == 0)
            rc = ORIGO_E_INTERNAL;
        lo += got;
    }
    return rc;
}

int replica_preview(replica *r, uint64_t time_ms, const ledger_envelope *envs,
                    size_t count, int pending, ledger_outcome *outcomes)
{
    MDB_txn *txn;
    int rc = ledger_txn_begin(r->led, 0, &txn);
    if (rc)
        return rc;
    uint64_t index = 0;
    if (pending) {
        rc = preview_pending(r, txn, &index);
    } else {
        ledger_state st;
        rc = ledger_get_state(r->led, txn, &st);
        index = st.raft_index + 1;
    }
    if (time_ms <= r->last_time)
        time_ms = r->last_time + 1;
    ledger_block_result result = {.outcomes = outcomes};
    if (rc == 0)
        rc = ledger_apply_block(
            r->led, txn, 0, index, time_ms, envs, count,
            LEDGER_APPLY_SIGS_VERIFIED | LEDGER_APPLY_DRY_RUN, &result);
    mdb_txn_abort(txn);
    return rc;
}

int replica_add_learner(replica *r, uint64_t id)
{
    int rc = raft_add_learner(r->core, id);
    return rc ? rc : replica_process(r);
}

int replica_promote(replica *r, uint64_t id)
{
    int rc = raft_promote(r->core, id);
    return rc ? rc : replica_process(r);
}

int replica_remove(replica *r, uint64_t id)
{
    int rc = raft_remove(r->core, id);
    return rc ? rc : replica_process(r);
}

/* A proposal that does not decode is a no-op on every replica alike. */
long replica_decode_proposal(const uint8_t *data, size_t len,
                             ledger_envelope **envs, uint64_t *time_ms)
{
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    uint32_t n, count;
    uint64_t version;
    if (origo_mp_read_array(&rd, &n, 3) || n != 3 ||
        origo_mp_read_uint(&rd, &version) || version != 1 ||
        origo_mp_read_uint(&rd, time_ms) ||
        origo_mp_read_array(&rd, &count, REPLICA_MAX_PROPOSAL_EVENTS) ||
        count == 0)
        return -1;
    ledger_envelope *e = calloc(count, sizeof(*e));
    if (!e)
        return -2;
    for (uint32_t i = 0; i < count; i++) {
        if (origo_mp_read_bin(&rd, &e[i].data, &e[i].len, len)) {
            free(e);
            return -1;
        }
    }
    origo_mp_leave(&rd);
    origo_mp_leave(&rd);
    if (origo_mp_reader_finish(&rd)) {
        free(e);
        return -1;
    }
    *envs = e;
    return count;
}

static int note_push(replica *r, const applied_note *n)
{
    if (r->n_notes == r->cap_notes) {
        size_t cap = r->cap_notes ? 2 * r->cap_notes : 16;
        applied_note *p = realloc(r->notes, cap * sizeof(*p));
        if (!p)
            return ORIGO_E_NOMEM;
        r->notes = p;
        r->cap_notes = cap;
    }
    r->notes[r->n_notes++] = *n;
    return 0;
}

static void notes_drop(replica *r)
{
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i].result.outcomes);
    r->n_notes = 0;
}

/* Applies one committed entry in txn. */
static int apply_entry(replica *r, MDB_txn *txn, const struct raft_entry *e)
{
    if (e->type != RAFT_ENTRY_NORMAL)
        return 0;
    applied_note note = {.index = e->index, .term = e->term, .noop = 1};
    ledger_envelope *envs = NULL;
    uint64_t time_ms = 0;
    long count =
        replica_decode_proposal(e->data.base, e->data.len, &envs, &time_ms);
    if (count == -2)
        return ORIGO_E_NOMEM;
    if (count > 0) {
        note.result.outcomes = calloc((size_t)count, sizeof(ledger_outcome));
        if (!note.result.outcomes) {
            free(envs);
            return ORIGO_E_NOMEM;
        }
        unsigned flags =
            own_verified(r, e->index, e->term) ||
                    (r->o.checked && r->o.checked(r->o.ctx, e->index, e->term))
                ? LEDGER_APPLY_SIGS_VERIFIED
                : 0;
        int rc = ledger_apply_block(r->led, txn, e->term, e->index, time_ms,
                                    envs, (size_t)count, flags, &note.result);
        free(envs);
        if (rc == 0) {
            note.noop = 0;
            /* A replica that leads later proposes after this block's time,
             * whatever its clock says. */
            if (time_ms > r->last_time)
                r->last_time = time_ms;
        } else if (rc == ORIGO_E_BLOCK_TIME || rc == ORIGO_E_TOOBIG) {
            /* The same bytes make the same no-op everywhere. */
            char idx[24];
            snprintf(idx, sizeof(idx), "%llu", (unsigned long long)e->index);
            LOG_WARN("raft entry applied as a no-op", "index", idx, "reason",
                     origo_errname(rc));
        } else {
            free(note.result.outcomes);
            return rc;
        }
    }
    int rc = note_push(r, &note);
    if (rc)
        free(note.result.outcomes);
    return rc;
}

/* Makes a ready's entries and hard state durable and applies its committed
 * entries, in one write transaction. */
static int persist_and_apply(replica *r, const struct raft_ready *rd)
{
    MDB_txn *txn;
    int rc = ledger_txn_begin(r->led, 0, &txn);
    if (rc)
        return rc;
    uint64_t applied = r->applied;
    if (rd->n_entries)
        rc = raftlog_append(r->log, txn, rd->entries, rd->n_entries);
    if (rc == 0 && rd->hard_state_changed)
        rc = raftlog_save_hard_state(r->log, txn, &rd->hard_state);
    for (size_t i = 0; rc == 0 && i < rd->n_committed; i++) {
        if (rd->committed[i].index <= applied)
            continue; /* applied before a restart */
        rc = apply_entry(r, txn, &rd->committed[i]);
        if (rc == 0)
            applied = rd->committed[i].index;
    }
    if (rc == 0 && applied != r->applied)
        rc = node_put_u64(r, txn, KEY_APPLIED, applied);
    if (rc == 0)
        rc = mdb_to_origo(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    if (rc)
        return rc;
    r->applied = applied;
    if (rd->hard_state_changed)
        r->hs = rd->hard_state;
    return 0;
}

/* Every transaction of this process runs on the loop, between readies:
 * none is open here, as ledger_grow_map() requires. */
static int grow_map(replica *r)
{
    return ledger_grow_map(r->led);
}

/* ---- snapshots ---------------------------------------------------------- */

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return ORIGO_E_IO;
    int rc = fsync(fd) == 0 ? 0 : ORIGO_E_IO;
    close(fd);
    return rc;
}

/* Installs the leader's snapshot: an LMDB copy of its store as of
 * rd->snapshot.index. It is checked (our genesis, the index it claims) and
 * given this replica's Raft state in a directory beside ours, then renamed
 * over our data file in one step. */
/* Writes this replica's Raft state into the leader's store, once the store
 * is checked to be of the index the snapshot claims. */
struct install_ctx {
    replica *r;
    raftlog *log;
    MDB_dbi dbi;
    const struct raft_ready *rd;
    const struct raft_hard_state *hs;
};

static int install_raft_state(ledger *led, MDB_txn *txn, void *p)
{
    (void)led;
    struct install_ctx *ic = p;
    replica *r = ic->r;
    MDB_dbi saved = r->node_dbi;
    uint64_t at = 0;
    r->node_dbi = ic->dbi;
    int rc = node_get_u64(r, txn, KEY_APPLIED, &at);
    r->node_dbi = saved;
    if (rc == 0 && at != ic->rd->snapshot.index) {
        char a[24], b[24];
        snprintf(a, sizeof(a), "%llu", (unsigned long long)at);
        snprintf(b, sizeof(b), "%llu",
                 (unsigned long long)ic->rd->snapshot.index);
        LOG_ERROR("snapshot from the leader is of another index", "holds", a,
                  "claims", b);
        rc = ORIGO_E_SNAPSHOT;
    }
    if (rc == 0)
        rc = raftlog_install_snapshot(ic->log, txn, &ic->rd->snapshot);
    if (rc == 0)
        rc = raftlog_save_hard_state(ic->log, txn, ic->hs);
    return rc;
}

static int install_snapshot(replica *r, const struct raft_ready *rd)
{
    char in[4096 + 8], path[4096 + 32], msg[512];
    snprintf(in, sizeof(in), "%s.in", r->dir);
    snprintf(path, sizeof(path), "%s/data.mdb", in);
    /* The core checked the stream's SHA-256; snap_write() put it here. */
    if (r->in_fd < 0 || r->in_index != rd->snapshot.index ||
        rd->snapshot_data.len != 0)
        return ORIGO_E_SNAPSHOT;
    int rc = fsync(r->in_fd) == 0 ? 0 : ORIGO_E_IO;
    close(r->in_fd);
    r->in_fd = -1;
    if (rc)
        return rc;
    ledger *led;
    raftlog *log;
    MDB_dbi dbi;
    if ((rc = open_store(r, in, &led, &log, &dbi, msg, sizeof(msg))) != 0) {
        LOG_ERROR("snapshot from the leader does not open", "error", msg);
        return ORIGO_E_SNAPSHOT;
    }
    struct raft_hard_state hs = rd->hard_state_changed ? rd->hard_state : r->hs;
    /* The leader's store is copied compacted: the map it opens with may be
     * full already, so the Raft state is written with room to grow. */
    struct install_ctx ic = {r, log, dbi, rd, &hs};
    rc = ledger_write(led, install_raft_state, &ic);
    ledger_state st;
    if (rc == 0)
        rc = ledger_get_state(led, NULL, &st);
    raftlog_close(log);
    ledger_close(led);
    if (rc)
        return rc;
    /* The swap: every transaction of this process runs on the loop, so
     * none holds the old map now. */
    raftlog_close(r->log);
    ledger_close(r->led);
    r->log = NULL;
    r->led = NULL;
    char to[4096 + 32];
    snprintf(to, sizeof(to), "%s/data.mdb", r->dir);
    if (rename(path, to) != 0 || fsync_dir(r->dir) != 0)
        rc = ORIGO_E_IO;
    snprintf(path, sizeof(path), "%s/lock.mdb", in);
    unlink(path);
    rmdir(in);
    if (rc == 0)
        rc = open_store(r, r->dir, &r->led, &r->log, &r->node_dbi, msg,
                        sizeof(msg));
    if (rc)
        return rc;
    r->applied = rd->snapshot.index;
    r->last_time = st.last_block_time;
    r->hs = hs;
    char idx[24];
    snprintf(idx, sizeof(idx), "%llu", (unsigned long long)rd->snapshot.index);
    LOG_INFO("installed a snapshot from the leader", "index", idx);
    return 0;
}

struct meta_ctx {
    replica *r;
    const struct raft_snapshot_meta *meta;
};

static int write_snapshot_meta(ledger *led, MDB_txn *txn, void *p)
{
    (void)led;
    struct meta_ctx *mc = p;
    int rc = raftlog_save_snapshot(mc->r->log, txn, mc->meta);
    return rc ? rc : raftlog_compact(mc->r->log, txn, mc->meta->index);
}

/* Records the core's current snapshot in storage and drops the log behind
 * it (in a map grown when full). */
static int save_snapshot_meta(replica *r)
{
    struct raft_snapshot_meta meta;
    raft_snapshot_info(r->core, &meta);
    struct meta_ctx mc = {r, &meta};
    return ledger_write(r->led, write_snapshot_meta, &mc);
}

/* The core must send its snapshot `want` and has no bytes: copy the store
 * (it stands at r->applied: nothing writes on this thread meanwhile) into
 * a file that is unlinked at once and stays open while the core reads it
 * chunk by chunk (snap_read()), and tell the core its size and SHA-256, as
 * a newer snapshot if the store moved on. A failure is not fatal: the core
 * asks again. */
static void provide_snapshot(replica *r, uint64_t want)
{
    char path[4096 + 32];
    snprintf(path, sizeof(path), "%s.out", r->dir);
    if (r->out_fd >= 0)
        close(r->out_fd);
    r->out_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    unlink(path);
    if (r->out_fd < 0)
        return;
    struct stat sb = {0};
    uint8_t digest[32];
    int rc = mdb_env_copyfd2(ledger_env(r->led), r->out_fd, MDB_CP_COMPACT);
    if (rc == 0 && (fstat(r->out_fd, &sb) != 0 || sb.st_size <= 0))
        rc = ORIGO_E_IO;
    if (rc == 0) {
        /* The digest that binds every chunk (consensus/README.md). */
        crypto_hash_sha256_state h;
        uint8_t *block = malloc(1u << 20);
        crypto_hash_sha256_init(&h);
        rc = block ? 0 : ORIGO_E_NOMEM;
        r->out_index = 0;
        for (uint64_t off = 0; rc == 0 && off < (uint64_t)sb.st_size;) {
            size_t len = (uint64_t)sb.st_size - off < (1u << 20)
                             ? (size_t)((uint64_t)sb.st_size - off)
                             : (1u << 20);
            ssize_t n = pread(r->out_fd, block, len, (off_t)off);
            if (n <= 0) {
                rc = ORIGO_E_IO;
                break;
            }
            crypto_hash_sha256_update(&h, block, (size_t)n);
            off += (uint64_t)n;
        }
        free(block);
        crypto_hash_sha256_final(&h, digest);
    }
    if (rc == 0 && r->applied != want) {
        if ((rc = raft_snapshot_taken(r->core, r->applied, NULL, 0)) == 0)
            rc = save_snapshot_meta(r);
    }
    if (rc == 0) {
        r->out_index = r->applied;
        rc = raft_snapshot_provide_stream(r->core, r->applied,
                                          (uint64_t)sb.st_size, digest);
    }
    char idx[24], size[24];
    snprintf(idx, sizeof(idx), "%llu", (unsigned long long)r->applied);
    snprintf(size, sizeof(size), "%lld", (long long)sb.st_size);
    if (rc) {
        close(r->out_fd);
        r->out_fd = -1;
        LOG_WARN("cannot provide a snapshot", "index", idx, "error",
                 rc > 0 ? mdb_strerror(rc) : origo_errname(rc));
    } else {
        LOG_INFO("providing a snapshot", "index", idx, "bytes", size);
    }
}

/* Compacts the in-memory and stored log behind the ledger, keeping a tail
 * for followers that lag a little. */
static void maybe_compact(replica *r)
{
    struct raft_snapshot_meta meta;
    raft_snapshot_info(r->core, &meta);
    if (r->applied < meta.index + r->o.snapshot_every + r->o.log_tail)
        return;
    uint64_t at = r->applied - r->o.log_tail;
    if (raft_snapshot_taken(r->core, at, NULL, 0) == 0)
        save_snapshot_meta(r);
}

/* ---- the ready loop ----------------------------------------------------- */

static void send_msgs(replica *r, const struct raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_msgs; i++) {
        origo_buf_reset(&r->out);
        origo_buf_append(&r->out, &r->o.msg_prefix, 1);
        if (raftmsg_encode(&rd->msgs[i], &r->out) != 0 || r->out.err)
            continue; /* dropped; Raft sends again */
        r->o.send(r->o.ctx, rd->msgs[i].to, r->out.data, r->out.len);
    }
}

static int process(replica *r);

/* A failure is final. The ready that failed was handed out by the core
 * and never declared durable; if this replica went on, the next ready that
 * stores nothing (LMDB commits an empty transaction without touching the
 * disk) would be declared durable, and raft_persisted() covers every
 * earlier ready too: the failed entries would count as stored, be
 * acknowledged as a follower or committed as a leader, and be lost when
 * the node restarts without them (docs/incidents/2026-12-06-divergence.md).
 * So it returns the same error from then on, without handing out, sending
 * or writing anything: every call that would (tick, receive, propose, the
 * membership changes) comes through here. */
int replica_process(replica *r)
{
    if (r->failed)
        return r->failed;
    int rc = process(r);
    if (rc)
        r->failed = rc;
    return rc;
}

static int process(replica *r)
{
    while (raft_has_ready(r->core)) {
        struct raft_ready rd;
        int rc = raft_ready(r->core, &rd);
        if (rc)
            return rc;
        /* Appends leave while our own write is under way (dissertation
         * 10.2.1): the core counts us only once raft_persisted() says so. */
        send_msgs(r, &rd);
        if (rd.snapshot_install && (rc = install_snapshot(r, &rd)) != 0) {
            raft_advance(r->core, &rd);
            return rc;
        }
        /* A full map is grown and an allocation failure retried: the
         * same entries are applied again, never skipped. */
        for (int attempt = 0;; attempt++) {
            rc = persist_and_apply(r, &rd);
            if (rc == 0)
                break;
            notes_drop(r);
            if (rc == ORIGO_E_MAP_FULL && attempt < 8 &&
                (rc = grow_map(r)) == 0)
                continue;
            if (rc == ORIGO_E_NOMEM && attempt < 3)
                continue;
            break;
        }
        if (rc) {
            raft_advance(r->core, &rd);
            return rc;
        }
        raft_persisted(r->core, rd.seq);
        bool wanted = rd.snapshot_wanted;
        uint64_t want = rd.snapshot_wanted_index;
        raft_advance(r->core, &rd);
        for (size_t i = 0; i < r->n_notes; i++)
            r->o.applied(r->o.ctx, r->notes[i].index, r->notes[i].term,
                         r->notes[i].noop ? NULL : &r->notes[i].result);
        notes_drop(r);
        if (wanted)
            provide_snapshot(r, want);
        maybe_compact(r);
    }
    return 0;
}

int replica_failed(const replica *r)
{
    return r->failed;
}

int replica_tick(replica *r)
{
    int rc = raft_tick(r->core);
    return rc ? rc : replica_process(r);
}

int replica_receive(replica *r, const uint8_t *msg, size_t len)
{
    struct raft_msg m;
    if (raftmsg_decode(msg, len, &m) != 0)
        return 0;
    if (m.to == r->o.id && m.type == RAFT_MSG_APPEND && r->o.arriving)
        for (size_t i = 0; i < m.u.append.n_entries; i++) {
            const struct raft_entry *e = &m.u.append.entries[i];
            if (e->type == RAFT_ENTRY_NORMAL)
                r->o.arriving(r->o.ctx, e->index, e->term, e->data.base,
                              e->data.len);
        }
    int rc = m.to == r->o.id ? raft_step(r->core, &m) : 0;
    raftmsg_release(&m);
    return rc ? rc : replica_process(r);
}
