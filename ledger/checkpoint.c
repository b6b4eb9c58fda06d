/* Checkpoints: the tlog-checkpoint body for any tree size, validator
 * signature lines stored per tree size after verification against the
 * validator set as of that size, and the latest quorum-signed checkpoint
 * as a C2SP signed note. Signature lines are parsed and verified here with
 * libsodium (Ed25519 type 0x01, key ID = SHA-256(name || 0x0A || 0x01 ||
 * pubkey)[:4]) so the ledger stores only lines it has checked. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"

#include "checkpoint.h"
#include "store.h"

#define EM_DASH "\xe2\x80\x94"
#define LINE_MAX_BYTES 512

int ledger_checkpoint_body(ledger *led, MDB_txn *txn, uint64_t tree_size,
                           char **body, size_t *body_len)
{
    uint8_t root[32];
    int rc = ledger_root_at(led, txn, tree_size, root);
    if (rc)
        return rc;
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), root, 32,
                      sodium_base64_VARIANT_ORIGINAL);
    size_t cap = strlen(led->gen->origin) + 24 + sizeof(b64) + 4;
    char *text = malloc(cap);
    if (!text)
        return ORIGO_E_NOMEM;
    int n = snprintf(text, cap, "%s\n%llu\n%s\n", led->gen->origin,
                     (unsigned long long)tree_size, b64);
    if (n < 0 || (size_t)n >= cap) {
        free(text);
        return ORIGO_E_INTERNAL;
    }
    *body = text;
    *body_len = (size_t)n;
    return 0;
}

int checkpoint_parse_line(const char *line, size_t len, checkpoint_line *out)
{
    checkpoint_line cl;
    memset(&cl, 0, sizeof(cl));
    if (len && line[len - 1] == '\n')
        len--;
    if (len < 5 || len > LINE_MAX_BYTES || memcmp(line, EM_DASH " ", 4) != 0)
        return ORIGO_E_NOTE_FORMAT;
    const char *name = line + 4;
    const char *space = memchr(name, ' ', len - 4);
    if (!space || space == name || (size_t)(space - name) > GENESIS_NAME_MAX)
        return ORIGO_E_NOTE_FORMAT;
    size_t name_len = (size_t)(space - name);
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c == 0x7f || c == '+')
            return ORIGO_E_NOTE_FORMAT;
    }
    memcpy(cl.name, name, name_len);
    const char *b64 = space + 1;
    size_t b64_len = len - (size_t)(b64 - line);
    uint8_t raw[68];
    size_t raw_len = 0;
    const char *end = NULL;
    if (sodium_base642bin(raw, sizeof(raw), b64, b64_len, NULL, &raw_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        raw_len != 68 || end != b64 + b64_len)
        return ORIGO_E_NOTE_FORMAT;
    memcpy(cl.key_id, raw, 4);
    memcpy(cl.sig, raw + 4, 64);
    *out = cl;
    return 0;
}

void checkpoint_key_id(const char *name, const uint8_t pub[32], uint8_t out[4])
{
    uint8_t hash[32], sep[2] = {0x0a, 0x01};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, sep, 2);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, hash);
    memcpy(out, hash, 4);
}

int checkpoint_verify_line(const store_validator *validators, size_t count,
                           const char *body, size_t body_len,
                           const checkpoint_line *cl, size_t *which)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t key_id[4];
        if (strcmp(validators[i].name, cl->name) != 0)
            continue;
        checkpoint_key_id(validators[i].name, validators[i].pub, key_id);
        if (memcmp(key_id, cl->key_id, 4) != 0)
            continue;
        if (crypto_sign_verify_detached(cl->sig, (const uint8_t *)body,
                                        body_len, validators[i].pub) != 0)
            return ORIGO_E_SIGNATURE;
        *which = i;
        return 0;
    }
    return ORIGO_E_PERM;
}

/* Counts stored signatures for `tree_size` (rows share the size prefix). */
static int count_sigs(ledger *led, MDB_txn *txn, uint64_t tree_size,
                      size_t *count)
{
    MDB_cursor *cur;
    uint8_t prefix[8];
    size_t n = 0;
    int rc = mdb_cursor_open(txn, led->ckpt_sigs, &cur);
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

int checkpoint_latest_size(ledger *led, MDB_txn *txn, uint64_t *size)
{
    MDB_val key = {11, "ckpt_latest"}, val;
    int rc = mdb_get(txn, led->meta, &key, &val);
    if (rc)
        return store_err(rc);
    if (val.mv_size != 8)
        return ORIGO_E_CORRUPT;
    *size = store_get_be64(val.mv_data);
    return 0;
}

typedef struct add_job {
    uint64_t tree_size;
    const char *line;
    size_t line_len;
} add_job;

static int add_in_txn(ledger *led, MDB_txn *txn, void *ctx)
{
    add_job *job = ctx;
    checkpoint_line cl;
    store_validator *validators = NULL;
    size_t count = 0, which = 0;
    char *body = NULL;
    size_t body_len;
    int rc = checkpoint_parse_line(job->line, job->line_len, &cl);
    if (rc)
        return rc;
    if ((rc = ledger_checkpoint_body(led, txn, job->tree_size, &body,
                                     &body_len)))
        return rc;
    if ((rc =
             members_validators(led, txn, job->tree_size, &validators, &count)))
        goto out_body;
    if ((rc = checkpoint_verify_line(validators, count, body, body_len, &cl,
                                     &which)))
        goto out_validators;
    uint8_t key_buf[40];
    store_put_be64(key_buf, job->tree_size);
    memcpy(key_buf + 8, validators[which].pub, 32);
    size_t len = job->line_len;
    if (len && job->line[len - 1] == '\n')
        len--;
    MDB_val key = {40, key_buf}, val = {len, (void *)job->line};
    rc = mdb_put(txn, led->ckpt_sigs, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        rc = 0; /* a validator's second signature (same or not) is ignored */
        goto out_validators;
    }
    if ((rc = store_err(rc)))
        goto out_validators;
    size_t have = 0;
    if ((rc = count_sigs(led, txn, job->tree_size, &have)))
        goto out_validators;
    uint64_t latest = 0;
    rc = checkpoint_latest_size(led, txn, &latest);
    int none = rc == ORIGO_E_NOTFOUND;
    if (rc && !none)
        goto out_validators;
    rc = 0;
    if (have >= led->gen->checkpoint_quorum &&
        (none || job->tree_size > latest)) {
        uint8_t size_buf[8];
        store_put_be64(size_buf, job->tree_size);
        MDB_val k2 = {11, "ckpt_latest"}, v2 = {8, size_buf};
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
    add_job job = {tree_size, line, line_len};
    return txn ? add_in_txn(led, txn, &job)
               : store_write(led, add_in_txn, &job);
}

static int latest_note(ledger *led, MDB_txn *txn, char **note, size_t *note_len,
                       uint64_t *tree_size)
{
    uint64_t size;
    char *body;
    size_t body_len;
    int rc = checkpoint_latest_size(led, txn, &size);
    if (rc)
        return rc;
    if ((rc = ledger_checkpoint_body(led, txn, size, &body, &body_len)))
        return rc;
    origo_buf buf;
    origo_buf_init(&buf, 1u << 20);
    origo_buf_append(&buf, body, body_len);
    origo_buf_append(&buf, "\n", 1);
    free(body);
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, led->ckpt_sigs, &cur))) {
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
    if (tree_size)
        *tree_size = size;
    return 0;
}

int ledger_checkpoint_latest(ledger *led, MDB_txn *txn, char **note,
                             size_t *note_len, uint64_t *tree_size)
{
    MDB_txn *use;
    int own, rc;
    if ((rc = store_read_begin(led, txn, &use, &own)))
        return rc;
    rc = latest_note(led, use, note, note_len, tree_size);
    store_read_end(use, own);
    return rc;
}
