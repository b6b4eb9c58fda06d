/* Raft messages on the wire: canonical MessagePack maps with a fixed key
 * order per message type, written with origo_mp_put_* and read with the
 * strict origo_mp_read_* reader. One validator holds the rules both
 * directions share, so the encoder never emits what the decoder refuses and
 * decoding then re-encoding reproduces the input byte for byte. */
#include "raftmsg.h"

#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

/* ---- layout ---- */

#define MAX_KEYS 12

/* The keys of each message type, in wire order; the first four are shared. */
static const char *const LAYOUT[RAFT_MSG_TYPE_MAX + 1][MAX_KEYS + 1] = {
    [RAFT_MSG_PREVOTE] = {"t", "from", "to", "term", "last_index", "last_term",
                          "transfer"},
    [RAFT_MSG_PREVOTE_RESP] = {"t", "from", "to", "term", "granted"},
    [RAFT_MSG_VOTE] = {"t", "from", "to", "term", "last_index", "last_term",
                       "transfer"},
    [RAFT_MSG_VOTE_RESP] = {"t", "from", "to", "term", "granted"},
    [RAFT_MSG_APPEND] = {"t", "from", "to", "term", "prev_index", "prev_term",
                         "commit", "entries"},
    [RAFT_MSG_APPEND_RESP] = {"t", "from", "to", "term", "reject", "index",
                              "hint_index", "hint_term"},
    [RAFT_MSG_HEARTBEAT] = {"t", "from", "to", "term", "commit"},
    [RAFT_MSG_HEARTBEAT_RESP] = {"t", "from", "to", "term", "last_index"},
    [RAFT_MSG_SNAPSHOT] = {"t", "from", "to", "term", "snap_index", "snap_term",
                           "config", "total_size", "digest", "offset", "chunk",
                           "done"},
    [RAFT_MSG_SNAPSHOT_RESP] = {"t", "from", "to", "term", "index",
                                "next_offset", "done", "reject"},
    [RAFT_MSG_TIMEOUT_NOW] = {"t", "from", "to", "term"},
};

static const char *const ENTRY_KEYS[] = {"term", "type", "data", NULL};
static const char *const CONFIG_KEYS[] = {"voters", "learners", NULL};

static uint32_t key_count(const char *const *keys)
{
    uint32_t n = 0;
    while (keys[n])
        n++;
    return n;
}

/* ---- shared rules ---- */

static int check_entry(const struct raft_entry *e)
{
    if (e->data.len > RAFTMSG_MAX_ENTRY_BYTES)
        return ORIGO_E_TOOBIG;
    if (e->data.len && !e->data.base)
        return ORIGO_E_RAFT_MSG;
    switch (e->type) {
    case RAFT_ENTRY_NORMAL:
        return 0;
    case RAFT_ENTRY_NOOP:
        return e->data.len == 0 ? 0 : ORIGO_E_RAFT_MSG;
    case RAFT_ENTRY_CONFIG: {
        struct raft_config config;
        return raft_config_decode(e->data.base, e->data.len, &config);
    }
    default:
        return ORIGO_E_RAFT_MSG;
    }
}

/* Entries follow prev_index with consecutive indexes and terms in
 * [max(prev_term, 1), term], non-decreasing, as any real log has them. */
static int check_append(const struct raft_msg *m)
{
    const struct raft_msg_append *a = &m->u.append;
    if (a->n_entries > RAFTMSG_MAX_ENTRIES)
        return ORIGO_E_TOOBIG;
    if (a->n_entries && !a->entries)
        return ORIGO_E_RAFT_MSG;
    if (a->prev_index > UINT64_MAX - a->n_entries)
        return ORIGO_E_RAFT_MSG;
    uint64_t prev_term = a->prev_term;
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *e = &a->entries[i];
        if (e->index != a->prev_index + 1 + i || e->term == 0 ||
            e->term < prev_term || e->term > m->term)
            return ORIGO_E_RAFT_MSG;
        int rc = check_entry(e);
        if (rc)
            return rc;
        prev_term = e->term;
    }
    return 0;
}

static int check_snapshot(const struct raft_msg *m)
{
    const struct raft_msg_snapshot *s = &m->u.snapshot;
    if (s->chunk.len > RAFTMSG_MAX_CHUNK_BYTES)
        return ORIGO_E_TOOBIG;
    if ((s->chunk.len && !s->chunk.base) || s->meta.index == 0 ||
        s->meta.term == 0 || s->meta.term > m->term ||
        s->offset > s->total_size || s->chunk.len > s->total_size - s->offset ||
        (s->done && s->offset + s->chunk.len != s->total_size))
        return ORIGO_E_RAFT_MSG;
    return raft_config_check(&s->meta.config);
}

/* The rules of the header comment, for both directions. Returns 0,
 * ORIGO_E_RAFT_MSG, ORIGO_E_RAFT_CONFIG or ORIGO_E_TOOBIG. */
static int check_msg(const struct raft_msg *m)
{
    if (m->type == 0 || m->type > RAFT_MSG_TYPE_MAX)
        return ORIGO_E_RAFT_MSG;
    if (m->from == RAFT_NONE || m->to == RAFT_NONE)
        return ORIGO_E_RAFT_MSG;
    if (m->type == RAFT_MSG_APPEND)
        return check_append(m);
    if (m->type == RAFT_MSG_SNAPSHOT)
        return check_snapshot(m);
    return 0;
}

/* ---- encoder ---- */

static void put_key(origo_buf *buf, const char *key)
{
    origo_mp_put_cstr(buf, key);
}

static void put_uint_field(origo_buf *buf, const char *key, uint64_t value)
{
    put_key(buf, key);
    origo_mp_put_uint(buf, value);
}

static void put_bool_field(origo_buf *buf, const char *key, bool value)
{
    put_key(buf, key);
    origo_mp_put_bool(buf, value);
}

static void put_ids(origo_buf *buf, const uint64_t *ids, uint32_t n)
{
    origo_mp_put_array(buf, n);
    for (uint32_t i = 0; i < n; i++)
        origo_mp_put_uint(buf, ids[i]);
}

static void put_entries(origo_buf *buf, const struct raft_msg_append *a)
{
    origo_mp_put_array(buf, (uint32_t)a->n_entries);
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *e = &a->entries[i];
        origo_mp_put_map(buf, 3);
        put_uint_field(buf, "term", e->term);
        put_uint_field(buf, "type", e->type);
        put_key(buf, "data");
        origo_mp_put_bin(buf, e->data.base, e->data.len);
    }
}

static void put_body(origo_buf *buf, const struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        put_uint_field(buf, "last_index", m->u.vote.last_log_index);
        put_uint_field(buf, "last_term", m->u.vote.last_log_term);
        put_bool_field(buf, "transfer", m->u.vote.transfer);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        put_bool_field(buf, "granted", m->u.vote_resp.granted);
        break;
    case RAFT_MSG_APPEND:
        put_uint_field(buf, "prev_index", m->u.append.prev_index);
        put_uint_field(buf, "prev_term", m->u.append.prev_term);
        put_uint_field(buf, "commit", m->u.append.commit);
        put_key(buf, "entries");
        put_entries(buf, &m->u.append);
        break;
    case RAFT_MSG_APPEND_RESP:
        put_bool_field(buf, "reject", m->u.append_resp.reject);
        put_uint_field(buf, "index", m->u.append_resp.index);
        put_uint_field(buf, "hint_index", m->u.append_resp.hint_index);
        put_uint_field(buf, "hint_term", m->u.append_resp.hint_term);
        break;
    case RAFT_MSG_HEARTBEAT:
        put_uint_field(buf, "commit", m->u.heartbeat.commit);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        put_uint_field(buf, "last_index", m->u.heartbeat_resp.last_index);
        break;
    case RAFT_MSG_SNAPSHOT: {
        const struct raft_msg_snapshot *s = &m->u.snapshot;
        put_uint_field(buf, "snap_index", s->meta.index);
        put_uint_field(buf, "snap_term", s->meta.term);
        put_key(buf, "config");
        origo_mp_put_map(buf, 2);
        put_key(buf, "voters");
        put_ids(buf, s->meta.config.voters, s->meta.config.n_voters);
        put_key(buf, "learners");
        put_ids(buf, s->meta.config.learners, s->meta.config.n_learners);
        put_uint_field(buf, "total_size", s->total_size);
        put_key(buf, "digest");
        origo_mp_put_bin(buf, s->digest, sizeof(s->digest));
        put_uint_field(buf, "offset", s->offset);
        put_key(buf, "chunk");
        origo_mp_put_bin(buf, s->chunk.base, s->chunk.len);
        put_bool_field(buf, "done", s->done);
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        put_uint_field(buf, "index", m->u.snapshot_resp.index);
        put_uint_field(buf, "next_offset", m->u.snapshot_resp.next_offset);
        put_bool_field(buf, "done", m->u.snapshot_resp.done);
        put_bool_field(buf, "reject", m->u.snapshot_resp.reject);
        break;
    default:
        break;
    }
}

/* Payload bytes a message carries, to refuse an oversized one before
 * writing any of it. */
static uint64_t payload_bytes(const struct raft_msg *m)
{
    uint64_t total = 0;
    if (m->type == RAFT_MSG_APPEND) {
        for (size_t i = 0; i < m->u.append.n_entries; i++)
            total += m->u.append.entries[i].data.len;
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        total = m->u.snapshot.chunk.len;
    }
    return total;
}

int raftmsg_encode(const struct raft_msg *msg, origo_buf *out)
{
    if (!msg || !out)
        return ORIGO_E_INVAL;
    if (out->err)
        return out->err;
    int rc = check_msg(msg);
    if (rc)
        return rc == ORIGO_E_TOOBIG ? rc : ORIGO_E_INVAL;
    if (payload_bytes(msg) > RAFTMSG_MAX_FRAME)
        return ORIGO_E_TOOBIG;
    size_t start = out->len;
    const char *const *keys = LAYOUT[msg->type];
    origo_mp_put_map(out, key_count(keys));
    put_uint_field(out, "t", msg->type);
    put_uint_field(out, "from", msg->from);
    put_uint_field(out, "to", msg->to);
    put_uint_field(out, "term", msg->term);
    put_body(out, msg);
    rc = out->err;
    if (!rc && out->len - start > RAFTMSG_MAX_FRAME)
        rc = ORIGO_E_TOOBIG;
    if (rc) {
        out->len = start;
        out->err = 0;
    }
    return rc;
}

/* ---- decoder ---- */

static int reader_fail(origo_mp_reader *rd, int code)
{
    if (!rd->err)
        rd->err = code;
    return rd->err;
}

/* Walks the keys of one map in their fixed order. */
struct fields {
    origo_mp_reader *rd;
    const char *const *keys;
    uint32_t pos;
};

/* Enters a map that must hold exactly the keys of `keys`. */
static int fields_enter(struct fields *f, origo_mp_reader *rd,
                        const char *const *keys)
{
    f->rd = rd;
    f->keys = keys;
    f->pos = 0;
    uint32_t count, want = key_count(keys);
    int rc = origo_mp_read_map(rd, &count, MAX_KEYS + 1);
    if (rc)
        return rc;
    if (count < want)
        return reader_fail(rd, ORIGO_E_MISSING_KEY);
    if (count > want)
        return reader_fail(rd, ORIGO_E_UNKNOWN_KEY);
    return 0;
}

/* Consumes the next key, which must be keys[pos]; otherwise tells a key
 * seen before, a key due later and a stranger apart. */
static int fields_key(struct fields *f)
{
    origo_mp_reader *rd = f->rd;
    if (rd->err)
        return rd->err;
    const char *want = f->keys[f->pos];
    if (origo_mp_next_is_key(rd, want)) {
        f->pos++;
        return origo_mp_read_key(rd, want);
    }
    origo_mp_reader probe = *rd;
    const char *text;
    size_t len;
    int rc = origo_mp_read_str(&probe, &text, &len, 64);
    if (rc)
        return reader_fail(rd, rc);
    for (uint32_t i = 0; f->keys[i]; i++) {
        if (strlen(f->keys[i]) == len && memcmp(f->keys[i], text, len) == 0)
            return reader_fail(rd, i < f->pos ? ORIGO_E_DUPLICATE_KEY
                                              : ORIGO_E_KEY_ORDER);
    }
    return reader_fail(rd, ORIGO_E_UNKNOWN_KEY);
}

static int fields_uint(struct fields *f, uint64_t *value)
{
    int rc = fields_key(f);
    return rc ? rc : origo_mp_read_uint(f->rd, value);
}

static int fields_bool(struct fields *f, bool *value)
{
    int flag = 0;
    int rc = fields_key(f);
    if (!rc)
        rc = origo_mp_read_bool(f->rd, &flag);
    if (!rc)
        *value = flag != 0;
    return rc;
}

static int fields_bin(struct fields *f, struct raft_buf *out, size_t max)
{
    const uint8_t *bytes;
    size_t len;
    int rc = fields_key(f);
    if (!rc)
        rc = origo_mp_read_bin(f->rd, &bytes, &len, max);
    if (!rc) {
        /* Borrowed from the input; raftmsg.h forbids writing through it. */
        out->base = len ? (uint8_t *)(uintptr_t)bytes : NULL;
        out->len = len;
    }
    return rc;
}

/* A 32-byte binary value (a SHA-256). */
static int fields_digest(struct fields *f, uint8_t out[32])
{
    int rc = fields_key(f);
    return rc ? rc : origo_mp_read_bin_exact(f->rd, out, 32);
}

static void fields_leave(struct fields *f)
{
    origo_mp_leave(f->rd);
}

static int read_ids(origo_mp_reader *rd, uint64_t *ids, uint32_t *n)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, RAFT_MAX_MEMBERS);
    for (uint32_t i = 0; !rc && i < count; i++)
        rc = origo_mp_read_uint(rd, &ids[i]);
    if (rc)
        return rc;
    origo_mp_leave(rd);
    *n = count;
    return 0;
}

static int read_config(struct fields *outer, struct raft_config *config)
{
    struct fields f;
    int rc = fields_key(outer);
    if (!rc)
        rc = fields_enter(&f, outer->rd, CONFIG_KEYS);
    if (!rc)
        rc = fields_key(&f);
    if (!rc)
        rc = read_ids(f.rd, config->voters, &config->n_voters);
    if (!rc)
        rc = fields_key(&f);
    if (!rc)
        rc = read_ids(f.rd, config->learners, &config->n_learners);
    if (!rc)
        fields_leave(&f);
    return rc;
}

static int read_entry(origo_mp_reader *rd, struct raft_entry *e)
{
    struct fields f;
    uint64_t type = 0;
    int rc = fields_enter(&f, rd, ENTRY_KEYS);
    if (!rc)
        rc = fields_uint(&f, &e->term);
    if (!rc)
        rc = fields_uint(&f, &type);
    if (!rc && type > UINT8_MAX)
        rc = reader_fail(rd, ORIGO_E_RAFT_MSG);
    e->type = (uint8_t)type;
    if (!rc)
        rc = fields_bin(&f, &e->data, RAFTMSG_MAX_ENTRY_BYTES);
    if (!rc)
        fields_leave(&f);
    return rc;
}

static int read_entries(struct fields *outer, struct raft_msg_append *a)
{
    uint32_t count;
    int rc = fields_key(outer);
    if (!rc)
        rc = origo_mp_read_array(outer->rd, &count, RAFTMSG_MAX_ENTRIES);
    if (rc)
        return rc;
    if (count > 0) {
        a->entries = calloc(count, sizeof(*a->entries));
        if (!a->entries)
            return reader_fail(outer->rd, ORIGO_E_NOMEM);
    }
    for (uint32_t i = 0; !rc && i < count; i++) {
        a->entries[i].index = a->prev_index + 1 + i;
        rc = read_entry(outer->rd, &a->entries[i]);
        a->n_entries = i + 1;
    }
    if (!rc)
        origo_mp_leave(outer->rd);
    return rc;
}

static int read_body(struct fields *f, struct raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        fields_uint(f, &m->u.vote.last_log_index);
        fields_uint(f, &m->u.vote.last_log_term);
        return fields_bool(f, &m->u.vote.transfer);
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        return fields_bool(f, &m->u.vote_resp.granted);
    case RAFT_MSG_APPEND:
        fields_uint(f, &m->u.append.prev_index);
        fields_uint(f, &m->u.append.prev_term);
        fields_uint(f, &m->u.append.commit);
        return read_entries(f, &m->u.append);
    case RAFT_MSG_APPEND_RESP:
        fields_bool(f, &m->u.append_resp.reject);
        fields_uint(f, &m->u.append_resp.index);
        fields_uint(f, &m->u.append_resp.hint_index);
        return fields_uint(f, &m->u.append_resp.hint_term);
    case RAFT_MSG_HEARTBEAT:
        return fields_uint(f, &m->u.heartbeat.commit);
    case RAFT_MSG_HEARTBEAT_RESP:
        return fields_uint(f, &m->u.heartbeat_resp.last_index);
    case RAFT_MSG_SNAPSHOT:
        fields_uint(f, &m->u.snapshot.meta.index);
        fields_uint(f, &m->u.snapshot.meta.term);
        read_config(f, &m->u.snapshot.meta.config);
        fields_uint(f, &m->u.snapshot.total_size);
        fields_digest(f, m->u.snapshot.digest);
        fields_uint(f, &m->u.snapshot.offset);
        fields_bin(f, &m->u.snapshot.chunk, RAFTMSG_MAX_CHUNK_BYTES);
        return fields_bool(f, &m->u.snapshot.done);
    case RAFT_MSG_SNAPSHOT_RESP:
        fields_uint(f, &m->u.snapshot_resp.index);
        fields_uint(f, &m->u.snapshot_resp.next_offset);
        fields_bool(f, &m->u.snapshot_resp.done);
        return fields_bool(f, &m->u.snapshot_resp.reject);
    default:
        return 0; /* TIMEOUT_NOW has no body */
    }
}

/* Reads the map and the type; the type decides the keys that follow.
 * Errors latch in the reader, so a sequence of field reads reports the
 * first failure. */
static int read_msg(origo_mp_reader *rd, struct raft_msg *m)
{
    uint32_t count;
    uint64_t type;
    int rc = origo_mp_read_map(rd, &count, MAX_KEYS + 1);
    if (rc)
        return rc;
    /* TIMEOUT_NOW has exactly the common keys. */
    struct fields f = {rd, LAYOUT[RAFT_MSG_TIMEOUT_NOW], 0};
    rc = fields_uint(&f, &type);
    if (rc)
        return rc;
    if (type == 0 || type > RAFT_MSG_TYPE_MAX)
        return reader_fail(rd, ORIGO_E_RAFT_MSG);
    m->type = (uint8_t)type;
    f.keys = LAYOUT[type];
    uint32_t want = key_count(f.keys);
    if (count < want)
        return reader_fail(rd, ORIGO_E_MISSING_KEY);
    if (count > want)
        return reader_fail(rd, ORIGO_E_UNKNOWN_KEY);
    fields_uint(&f, &m->from);
    fields_uint(&f, &m->to);
    fields_uint(&f, &m->term);
    read_body(&f, m);
    if (rd->err)
        return rd->err;
    origo_mp_leave(rd);
    return 0;
}

int raftmsg_decode(const uint8_t *data, size_t len, struct raft_msg *out)
{
    if ((!data && len) || !out)
        return ORIGO_E_INVAL;
    if (len > RAFTMSG_MAX_FRAME)
        return ORIGO_E_TOOBIG;
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    struct raft_msg msg;
    memset(&msg, 0, sizeof(msg));
    int rc = read_msg(&rd, &msg);
    if (!rc)
        rc = origo_mp_reader_finish(&rd);
    if (!rc)
        rc = check_msg(&msg);
    if (rc) {
        raftmsg_release(&msg);
        return rc;
    }
    *out = msg;
    return 0;
}

void raftmsg_release(struct raft_msg *msg)
{
    if (!msg || msg->type != RAFT_MSG_APPEND)
        return;
    free(msg->u.append.entries);
    msg->u.append.entries = NULL;
    msg->u.append.n_entries = 0;
}
