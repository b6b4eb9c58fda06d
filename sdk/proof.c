/* C2SP tlog-proof@v1 files: the offline proof that one entry (in Origo, one
 * event envelope carried in the extra line) is in the log. Parsing is strict
 * and formatting reproduces the parsed bytes; verification checks the
 * checkpoint's signatures under a quorum policy and then the RFC 9162
 * inclusion of SHA-256(0x00 || extra) in the checkpointed tree. */
#include <stdlib.h>
#include <string.h>

#include "note_priv.h"
#include "origo/error.h"
#include "origo/proof.h"

#define EXTRA_PREFIX "extra "
#define INDEX_PREFIX "index "

/* A cursor over the file's lines. */
typedef struct line_reader {
    const char *data;
    size_t len;
    size_t pos;
} line_reader;

/* Returns the next line (without "\n") in *line and *line_len, or -1 when no
 * complete line is left. */
static int next_line(line_reader *rd, const char **line, size_t *line_len)
{
    if (rd->pos >= rd->len)
        return -1;
    const char *start = rd->data + rd->pos;
    const char *nl = memchr(start, '\n', rd->len - rd->pos);
    if (!nl)
        return -1;
    *line = start;
    *line_len = (size_t)(nl - start);
    rd->pos += *line_len + 1;
    return 0;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return len >= plen && memcmp(line, prefix, plen) == 0;
}

void origo_tlog_proof_free(origo_tlog_proof *proof)
{
    if (!proof)
        return;
    free(proof->extra);
    origo_note_free(proof->note);
    free(proof);
}

static int parse_extra(origo_tlog_proof *proof, const char *b64, size_t len)
{
    size_t max = len / 4 * 3;
    if (max > ORIGO_TLOG_PROOF_MAX_EXTRA)
        return ORIGO_E_TOOBIG;
    proof->extra = malloc(max + 1);
    if (!proof->extra)
        return ORIGO_E_NOMEM;
    if (note_base64_decode(b64, len, proof->extra, max, &proof->extra_len) != 0)
        return ORIGO_E_PROOF_FORMAT;
    proof->has_extra = 1;
    return 0;
}

/* Parses the lines before the empty line: header, extra, index, hashes. */
static int parse_head(origo_tlog_proof *proof, line_reader *rd)
{
    const char *line;
    size_t len;
    if (next_line(rd, &line, &len) != 0 ||
        len != strlen(ORIGO_TLOG_PROOF_HEADER) ||
        memcmp(line, ORIGO_TLOG_PROOF_HEADER, len) != 0)
        return ORIGO_E_PROOF_FORMAT;
    if (next_line(rd, &line, &len) != 0)
        return ORIGO_E_PROOF_FORMAT;
    if (has_prefix(line, len, EXTRA_PREFIX)) {
        size_t skip = strlen(EXTRA_PREFIX);
        int rc = parse_extra(proof, line + skip, len - skip);
        if (rc != 0)
            return rc;
        if (next_line(rd, &line, &len) != 0)
            return ORIGO_E_PROOF_FORMAT;
    }
    size_t skip = strlen(INDEX_PREFIX);
    if (!has_prefix(line, len, INDEX_PREFIX) ||
        note_decimal_parse(line + skip, len - skip, &proof->index) != 0)
        return ORIGO_E_PROOF_FORMAT;
    for (;;) {
        if (next_line(rd, &line, &len) != 0)
            return ORIGO_E_PROOF_FORMAT;
        if (len == 0)
            return 0;
        if (proof->hash_count == ORIGO_MERKLE_MAX_PROOF)
            return ORIGO_E_PROOF_FORMAT;
        size_t got = 0;
        if (note_base64_decode(line, len, proof->hashes[proof->hash_count],
                               ORIGO_HASH_LEN, &got) != 0 ||
            got != ORIGO_HASH_LEN)
            return ORIGO_E_PROOF_FORMAT;
        proof->hash_count++;
    }
}

int origo_tlog_proof_parse(const uint8_t *data, size_t len,
                           origo_tlog_proof **out)
{
    if (!data || !out)
        return ORIGO_E_INVAL;
    if (len > ORIGO_TLOG_PROOF_MAX_BYTES)
        return ORIGO_E_TOOBIG;
    origo_tlog_proof *proof = calloc(1, sizeof(*proof));
    if (!proof)
        return ORIGO_E_NOMEM;
    line_reader rd = {.data = (const char *)data, .len = len, .pos = 0};
    int rc = parse_head(proof, &rd);
    if (rc != 0)
        goto err_after_alloc;
    rc = origo_note_parse(data + rd.pos, len - rd.pos, &proof->note);
    if (rc != 0)
        goto err_after_alloc;
    rc = origo_checkpoint_parse(proof->note->text, proof->note->text_len,
                                &proof->checkpoint);
    if (rc != 0)
        goto err_after_alloc;
    *out = proof;
    return 0;
err_after_alloc:
    origo_tlog_proof_free(proof);
    return rc;
}

int origo_tlog_proof_write(const uint8_t *extra, size_t extra_len,
                           uint64_t index,
                           const uint8_t (*hashes)[ORIGO_HASH_LEN],
                           size_t hash_count, const origo_note *checkpoint,
                           origo_buf *out)
{
    if (!checkpoint || !out || (hash_count > 0 && !hashes) ||
        (extra_len > 0 && !extra))
        return ORIGO_E_INVAL;
    if (hash_count > ORIGO_MERKLE_MAX_PROOF ||
        extra_len > ORIGO_TLOG_PROOF_MAX_EXTRA)
        return ORIGO_E_TOOBIG;
    origo_buf_append(out, ORIGO_TLOG_PROOF_HEADER "\n",
                     strlen(ORIGO_TLOG_PROOF_HEADER) + 1);
    if (extra) {
        origo_buf_append(out, EXTRA_PREFIX, strlen(EXTRA_PREFIX));
        note_base64_append(out, extra, extra_len);
        origo_buf_append(out, "\n", 1);
    }
    origo_buf_append(out, INDEX_PREFIX, strlen(INDEX_PREFIX));
    note_decimal_append(out, index);
    origo_buf_append(out, "\n", 1);
    for (size_t i = 0; i < hash_count; i++) {
        note_base64_append(out, hashes[i], ORIGO_HASH_LEN);
        origo_buf_append(out, "\n", 1);
    }
    origo_buf_append(out, "\n", 1);
    if (out->err != 0)
        return out->err;
    return origo_note_format(checkpoint, out);
}

int origo_tlog_proof_format(const origo_tlog_proof *proof, origo_buf *out)
{
    if (!proof || !proof->note ||
        (proof->has_extra && proof->extra_len > 0 && !proof->extra))
        return ORIGO_E_INVAL;
    static const uint8_t empty = 0;
    const uint8_t *extra = NULL;
    if (proof->has_extra)
        extra = proof->extra ? proof->extra : &empty;
    return origo_tlog_proof_write(
        extra, proof->extra_len, proof->index,
        (const uint8_t(*)[ORIGO_HASH_LEN])proof->hashes, proof->hash_count,
        proof->note, out);
}

int origo_tlog_proof_verify(const uint8_t *data, size_t len,
                            const origo_note_policy *policy, const char *origin,
                            origo_tlog_proof **out, origo_note_verdict *verdict)
{
    if (!data || !policy)
        return ORIGO_E_INVAL;
    origo_tlog_proof *proof = NULL;
    int rc = origo_tlog_proof_parse(data, len, &proof);
    if (rc != 0)
        return rc;
    if (origin && strcmp(origin, proof->checkpoint.origin) != 0) {
        rc = ORIGO_E_ORIGIN;
        goto err_after_parse;
    }
    origo_note_verdict result;
    rc = origo_note_verify(proof->note, policy, &result);
    if (rc != 0)
        goto err_after_parse;
    if (!proof->has_extra) {
        rc = ORIGO_E_PROOF_FORMAT;
        goto err_after_parse;
    }
    uint8_t leaf_hash[ORIGO_HASH_LEN];
    origo_merkle_leaf_hash(proof->extra, proof->extra_len, leaf_hash);
    rc = origo_merkle_verify_inclusion(
        proof->index, proof->checkpoint.tree_size, leaf_hash,
        (const uint8_t(*)[ORIGO_HASH_LEN])proof->hashes, proof->hash_count,
        proof->checkpoint.root);
    if (rc != 0)
        goto err_after_parse;
    if (verdict)
        *verdict = result;
    if (out)
        *out = proof;
    else
        origo_tlog_proof_free(proof);
    return 0;
err_after_parse:
    origo_tlog_proof_free(proof);
    return rc;
}
