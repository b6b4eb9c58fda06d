/* Checkpoints: the tlog-checkpoint body for any tree size, validator
 * signature lines stored per tree size after verification against the
 * validator set as of that size, the quorum as of that size, and the latest
 * quorum-signed checkpoint as a C2SP signed note. Signature lines are parsed
 * and verified with the SDK's signed-note API (origo/note.h), so the ledger
 * stores only lines that any note parser accepts and it has checked. */
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"

#include "checkpoint.h"
#include "lotindex.h"
#include "store.h"

int ledger_checkpoint_body(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           char **body, size_t *body_len)
{
    uint8_t root[32];
    int rc = ledger_root_at(led, txn, tree_size, root);
    if (rc)
        return rc;
    origo_checkpoint cp = {.tree_size = tree_size};
    memcpy(cp.origin, led->gen->origin, strlen(led->gen->origin) + 1);
    memcpy(cp.root, root, 32);
    origo_buf buf;
    origo_buf_init(&buf, sizeof(cp.origin) + 24 + 48);
    rc = origo_checkpoint_format(&cp, &buf);
    origo_buf_append(&buf, "", 1); /* NUL, not counted */
    if (rc || buf.err) {
        /* The origin passed genesis_origin_ok(), so only memory can fail. */
        rc = buf.err == ORIGO_E_NOMEM ? ORIGO_E_NOMEM : ORIGO_E_INTERNAL;
        origo_buf_close(&buf);
        return rc;
    }
    size_t len;
    *body = (char *)origo_buf_steal(&buf, &len);
    *body_len = len - 1;
    return 0;
}

/* Parses body || "\n" || line || "\n" as a signed note with exactly one
 * Ed25519 signature line. */
static int parse_line(const char *body, size_t body_len, const char *line,
                      size_t len, origo_note **out)
{
    if (len && line[len - 1] == '\n')
        len--;
    if (len == 0 || len > CHECKPOINT_LINE_MAX || memchr(line, '\n', len))
        return ORIGO_E_NOTE_FORMAT;
    size_t total = body_len + 1 + len + 1;
    char *text = malloc(total);
    if (!text)
        return ORIGO_E_NOMEM;
    memcpy(text, body, body_len);
    text[body_len] = '\n';
    memcpy(text + body_len + 1, line, len);
    text[total - 1] = '\n';
    origo_note *note = NULL;
    int rc = origo_note_parse((const uint8_t *)text, total, &note);
    free(text);
    if (rc == ORIGO_E_NOMEM)
        return rc;
    if (rc)
        return ORIGO_E_NOTE_FORMAT;
    if (note->sig_count != 1 || note->sigs[0].sig_len != 64) {
        origo_note_free(note);
        return ORIGO_E_NOTE_FORMAT;
    }
    *out = note;
    return 0;
}

/* The validator the signature names: same name, and the key ID of that
 * name and its key. */
static int find_signer(const store_validator *validators, size_t count,
                       const origo_note_sig *sig, origo_vkey *vkey,
                       size_t *which)
{
    size_t name_len = strlen(sig->name);
    for (size_t i = 0; i < count; i++) {
        if (strlen(validators[i].name) != name_len ||
            memcmp(validators[i].name, sig->name, name_len) != 0)
            continue;
        uint8_t key_id[ORIGO_KEYID_LEN];
        if (origo_vkey_id(validators[i].name, name_len, validators[i].pub,
                          key_id) != 0 ||
            memcmp(key_id, sig->key_id, ORIGO_KEYID_LEN) != 0)
            continue;
        memset(vkey, 0, sizeof(*vkey));
        memcpy(vkey->name, sig->name, name_len);
        vkey->name_len = name_len;
        memcpy(vkey->key_id, key_id, ORIGO_KEYID_LEN);
        memcpy(vkey->pub, validators[i].pub, ORIGO_PUBKEY_LEN);
        *which = i;
        return 0;
    }
    return ORIGO_E_PERM;
}

int checkpoint_check_line(const store_validator *validators, size_t count,
                          const char *body, size_t body_len, const char *line,
                          size_t line_len, size_t *which)
{
    origo_note *note;
    origo_vkey vkey;
    size_t index = 0;
    int rc = parse_line(body, body_len, line, line_len, &note);
    if (rc)
        return rc;
    if ((rc = find_signer(validators, count, &note->sigs[0], &vkey, &index)))
        goto out;
    origo_note_policy policy = {
        .signers = &vkey, .signer_count = 1, .quorum = 1};
    rc = origo_note_verify(note, &policy, NULL);
    if (rc == ORIGO_E_NOTE_QUORUM || rc == ORIGO_E_KEY)
        rc = ORIGO_E_SIGNATURE;
    if (rc == 0)
        *which = index;
out:
    origo_note_free(note);
    return rc;
}

/* What validators sign: the checkpoint, or the lot index note that binds
 * the index root to it (docs/formats/lot-index.md). Both keep signature
 * lines per tree size and the latest size with a quorum the same way. */
enum sig_kind { KIND_CHECKPOINT, KIND_INDEX };

static MDB_dbi kind_table(const ledger *led, enum sig_kind kind)
{
    return kind == KIND_CHECKPOINT ? led->ckpt_sigs : led->lotidx_sigs;
}

static const char *kind_latest(enum sig_kind kind)
{
    return kind == KIND_CHECKPOINT ? "ckpt_latest" : "lidx_latest";
}

static int kind_body(ledger *led, MDB_txn *txn, enum sig_kind kind,
                     uint64_t tree_size, char **body, size_t *body_len)
{
    return kind == KIND_CHECKPOINT
               ? ledger_checkpoint_body(led, txn, tree_size, body, body_len)
               : ledger_lot_index_note_body(led, txn, tree_size, body,
                                            body_len);
}

int ledger_lot_index_note_body(ledger *led, MDB_txn *txn, uint64_t tree_size,
                               char **body, size_t *body_len)
{
    uint8_t root[32], index_root[32];
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    if ((rc = ledger_root_at(led, use, tree_size, root)) == 0)
        rc = ledger_lot_index_root(led, use, tree_size, index_root);
    store_read_end(use, own);
    if (rc == ORIGO_E_NOTFOUND)
        rc = ORIGO_E_TREE_SIZE; /* no block ends at that size */
    return rc ? rc
              : lotindex_note_body(led->gen->origin, tree_size, root,
                                   index_root, body, body_len);
}

/* Counts stored signatures for `tree_size` (rows share the size prefix). */
static int count_sigs(ledger *led, MDB_txn *txn, enum sig_kind kind,
                      uint64_t tree_size, size_t *count)
{
    MDB_cursor *cur;
    uint8_t prefix[8];
    size_t n = 0;
    int rc = mdb_cursor_open(txn, kind_table(led, kind), &cur);
    if (rc)
        return store_err(rc);
    store_put_be64(prefix, tree_size);
    MDB_val key = {8, prefix}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && key.mv_size == 40 && memcmp(key.mv_data, prefix, 8) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return store_err(rc);
    *count = n;
    return 0;
}

static int latest_size(ledger *led, MDB_txn *txn, enum sig_kind kind,
                       uint64_t *size)
{
    MDB_val key = {11, (void *)kind_latest(kind)}, val;
    int rc = mdb_get(txn, led->meta, &key, &val);
    if (rc)
        return store_err(rc);
    if (val.mv_size != 8)
        return ORIGO_E_CORRUPT;
    *size = store_get_be64(val.mv_data);
    return 0;
}

int checkpoint_latest_size(ledger *led, MDB_txn *txn, uint64_t *size)
{
    return latest_size(led, txn, KIND_CHECKPOINT, size);
}

int lotindex_latest_size(ledger *led, MDB_txn *txn, uint64_t *size)
{
    return latest_size(led, txn, KIND_INDEX, size);
}

typedef struct add_job {
    enum sig_kind kind;
    uint64_t tree_size;
    const char *line;
    size_t line_len;
} add_job;

static int add_in_txn(ledger *led, MDB_txn *txn, void *ctx)
{
    add_job *job = ctx;
    store_validator *validators = NULL;
    size_t count = 0, which = 0;
    char *body = NULL;
    size_t body_len;
    int rc = kind_body(led, txn, job->kind, job->tree_size, &body, &body_len);
    if (rc)
        return rc;
    if ((rc =
             members_validators(led, txn, job->tree_size, &validators, &count)))
        goto out_body;
    if ((rc = checkpoint_check_line(validators, count, body, body_len,
                                    job->line, job->line_len, &which)))
        goto out_validators;
    uint8_t key_buf[40];
    store_put_be64(key_buf, job->tree_size);
    memcpy(key_buf + 8, validators[which].pub, 32);
    size_t len = job->line_len;
    if (len && job->line[len - 1] == '\n')
        len--;
    MDB_val key = {40, key_buf}, val = {len, (void *)job->line};
    rc = mdb_put(txn, kind_table(led, job->kind), &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        rc = 0; /* a validator's second signature (same or not) is ignored */
        goto out_validators;
    }
    if ((rc = store_err(rc)))
        goto out_validators;
    size_t have = 0;
    if ((rc = count_sigs(led, txn, job->kind, job->tree_size, &have)))
        goto out_validators;
    uint64_t latest = 0;
    rc = latest_size(led, txn, job->kind, &latest);
    int none = rc == ORIGO_E_NOTFOUND;
    if (rc && !none)
        goto out_validators;
    rc = 0;
    if (have >= members_quorum(led, count) &&
        (none || job->tree_size > latest)) {
        uint8_t size_buf[8];
        store_put_be64(size_buf, job->tree_size);
        MDB_val k2 = {11, (void *)kind_latest(job->kind)}, v2 = {8, size_buf};
        rc = store_err(mdb_put(txn, led->meta, &k2, &v2, 0));
    }
out_validators:
    free(validators);
out_body:
    free(body);
    return rc;
}

int ledger_checkpoint_add_signature(ledger *led, MDB_txn *txn,
                                    uint64_t tree_size, const char *line,
                                    size_t line_len)
{
    add_job job = {KIND_CHECKPOINT, tree_size, line, line_len};
    return txn ? add_in_txn(led, txn, &job)
               : store_write(led, add_in_txn, &job);
}

int ledger_lot_index_add_signature(ledger *led, MDB_txn *txn,
                                   uint64_t tree_size, const char *line,
                                   size_t line_len)
{
    add_job job = {KIND_INDEX, tree_size, line, line_len};
    return txn ? add_in_txn(led, txn, &job)
               : store_write(led, add_in_txn, &job);
}

/* The note of `kind` at `size` with every signature stored for it. */
static int note_at(ledger *led, MDB_txn *txn, enum sig_kind kind, uint64_t size,
                   char **note, size_t *note_len)
{
    char *body;
    size_t body_len;
    int rc = kind_body(led, txn, kind, size, &body, &body_len);
    if (rc)
        return rc;
    origo_buf buf;
    origo_buf_init(&buf, 1u << 20);
    origo_buf_append(&buf, body, body_len);
    origo_buf_append(&buf, "\n", 1);
    free(body);
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, kind_table(led, kind), &cur))) {
        origo_buf_close(&buf);
        return store_err(rc);
    }
    uint8_t prefix[8];
    store_put_be64(prefix, size);
    MDB_val key = {8, prefix}, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && key.mv_size == 40 && memcmp(key.mv_data, prefix, 8) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        origo_buf_append(&buf, val.mv_data, val.mv_size);
        origo_buf_append(&buf, "\n", 1);
    }
    mdb_cursor_close(cur);
    origo_buf_append(&buf, "", 1); /* NUL, not counted */
    if (buf.err) {
        rc = buf.err;
        origo_buf_close(&buf);
        return rc;
    }
    size_t len;
    uint8_t *data = origo_buf_steal(&buf, &len);
    *note = (char *)data;
    *note_len = len - 1;
    return 0;
}

static int latest_note(ledger *led, MDB_txn *txn, enum sig_kind kind,
                       char **note, size_t *note_len, uint64_t *tree_size)
{
    MDB_txn *use;
    int own, rc;
    uint64_t size = 0;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    if ((rc = latest_size(led, use, kind, &size)) == 0)
        rc = note_at(led, use, kind, size, note, note_len);
    store_read_end(use, own);
    if (rc == 0 && tree_size)
        *tree_size = size;
    return rc;
}

int ledger_checkpoint_latest(ledger *led, MDB_txn *txn, char **note,
                             size_t *note_len, uint64_t *tree_size)
{
    return latest_note(led, txn, KIND_CHECKPOINT, note, note_len, tree_size);
}

int ledger_lot_index_latest(ledger *led, MDB_txn *txn, char **note,
                            size_t *note_len, uint64_t *tree_size)
{
    return latest_note(led, txn, KIND_INDEX, note, note_len, tree_size);
}

int ledger_checkpoint_note_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                              char **note, size_t *note_len)
{
    MDB_txn *use;
    int own, rc;
    size_t have = 0, count = 0;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    if ((rc = count_sigs(led, use, KIND_CHECKPOINT, tree_size, &have)) == 0)
        rc = members_validator_count(led, use, tree_size, &count);
    if (rc == 0 && have < members_quorum(led, count))
        rc = ORIGO_E_NOTFOUND;
    if (rc == 0)
        rc = note_at(led, use, KIND_CHECKPOINT, tree_size, note, note_len);
    store_read_end(use, own);
    return rc;
}

int ledger_checkpoint_quorum_at(ledger *led, MDB_txn *txn, uint64_t tree_size,
                                size_t *quorum)
{
    MDB_txn *use;
    int own, rc;
    size_t count;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = members_validator_count(led, use, tree_size, &count);
    store_read_end(use, own);
    if (rc == 0)
        *quorum = members_quorum(led, count);
    return rc;
}
