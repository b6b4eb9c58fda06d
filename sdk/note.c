/* C2SP signed notes v1.0.0: strict parsing and formatting, Ed25519 (0x01)
 * signing, tlog-cosignature/v1 (0x04) cosigning, quorum verification, witness
 * verifier keys, and tlog-checkpoint v1.0.0 bodies. The parser accepts only
 * what the formatter emits, so parse-then-format reproduces the input bytes;
 * the fuzz harness tests/fuzz/sdk/fuzz_note.c holds it to that. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "note_priv.h"
#include "origo/hash.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"

#define EM_DASH "\xe2\x80\x94"
#define SIG_PREFIX EM_DASH " "
#define SIG_PREFIX_LEN 4
#define COSIG_HEADER "cosignature/v1\n"
#define COSIG_LEN (8 + 64)

/* ---- shared text helpers ------------------------------------------------- */

int note_base64_decode(const char *text, size_t len, uint8_t *out,
                       size_t out_max, size_t *out_len)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    if (len % 4 != 0 || len / 4 * 3 > out_max + 2)
        return -1;
    size_t got = 0;
    const char *end = NULL;
    if (len > 0 && sodium_base642bin(out, out_max, text, len, NULL, &got, &end,
                                     variant) != 0)
        return -1;
    if (len > 0 && end != text + len)
        return -1;
    /* Canonical: re-encoding gives the same text (no stray bits). */
    size_t enc_cap = sodium_base64_encoded_len(got, variant);
    char *again = malloc(enc_cap);
    if (!again)
        return -1;
    sodium_bin2base64(again, enc_cap, out, got, variant);
    int same = strlen(again) == len && memcmp(again, text, len) == 0;
    free(again);
    if (!same)
        return -1;
    *out_len = got;
    return 0;
}

void note_base64_append(origo_buf *buf, const uint8_t *bytes, size_t len)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t cap = sodium_base64_encoded_len(len, variant);
    char *text = malloc(cap);
    if (!text) {
        if (buf->err == 0)
            buf->err = ORIGO_E_NOMEM;
        return;
    }
    sodium_bin2base64(text, cap, bytes, len, variant);
    origo_buf_append(buf, text, strlen(text));
    free(text);
}

int note_decimal_parse(const char *text, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20 || (len > 1 && text[0] == '0'))
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

void note_decimal_append(origo_buf *buf, uint64_t value)
{
    char digits[24];
    size_t pos = sizeof(digits);
    do {
        digits[--pos] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    origo_buf_append(buf, digits + pos, sizeof(digits) - pos);
}

/* Decodes one UTF-8 sequence at text[*pos]; returns the code point or -1. */
static long utf8_next(const unsigned char *text, size_t len, size_t *pos)
{
    unsigned char c = text[*pos];
    size_t extra;
    long cp, min;
    if (c < 0x80) {
        (*pos)++;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        extra = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        extra = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - *pos <= extra)
        return -1;
    for (size_t i = 1; i <= extra; i++) {
        unsigned char cont = text[*pos + i];
        if ((cont & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (cont & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *pos += extra + 1;
    return cp;
}

int note_text_check(const char *text, size_t len)
{
    const unsigned char *bytes = (const unsigned char *)text;
    size_t pos = 0;
    while (pos < len) {
        long cp = utf8_next(bytes, len, &pos);
        if (cp < 0 || (cp < 0x20 && cp != '\n'))
            return -1;
    }
    return 0;
}

/* Unicode White_Space code points (what Go's unicode.IsSpace reports). */
static int is_unicode_space(long cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
           cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

/* Key names: non-empty, valid text, no Unicode space, no '+'. */
static int name_check(const char *name, size_t len)
{
    if (len == 0 || len > ORIGO_KEYNAME_MAX)
        return -1;
    const unsigned char *bytes = (const unsigned char *)name;
    size_t pos = 0;
    while (pos < len) {
        long cp = utf8_next(bytes, len, &pos);
        if (cp < 0x20 || cp == '+' || is_unicode_space(cp))
            return -1;
    }
    return 0;
}

/* Checks a note text: non-empty, ends in "\n", text rules, line limit. */
static int text_check(const char *text, size_t len)
{
    if (len == 0 || text[len - 1] != '\n')
        return ORIGO_E_NOTE_FORMAT;
    if (len > ORIGO_NOTE_MAX_BYTES)
        return ORIGO_E_TOOBIG;
    size_t line_start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n')
            continue;
        if (i - line_start > ORIGO_NOTE_MAX_LINE)
            return ORIGO_E_TOOBIG;
        line_start = i + 1;
    }
    return note_text_check(text, len) == 0 ? 0 : ORIGO_E_NOTE_FORMAT;
}

/* ---- keys --------------------------------------------------------------- */

void origo_note_key_id(const char *name, size_t name_len, uint8_t alg,
                       const uint8_t pub[ORIGO_PUBKEY_LEN],
                       uint8_t key_id[ORIGO_KEYID_LEN])
{
    static const uint8_t newline = '\n';
    origo_sha256_state st;
    uint8_t digest[ORIGO_SHA256_LEN];
    origo_sha256_init(&st);
    origo_sha256_update(&st, name, name_len);
    origo_sha256_update(&st, &newline, 1);
    origo_sha256_update(&st, &alg, 1);
    origo_sha256_update(&st, pub, ORIGO_PUBKEY_LEN);
    origo_sha256_final(&st, digest);
    memcpy(key_id, digest, ORIGO_KEYID_LEN);
}

int origo_witness_key_from_pub(const char *name, size_t name_len,
                               const uint8_t pub[ORIGO_PUBKEY_LEN],
                               origo_witness_key *out)
{
    if (!name || !pub || !out || origo_keyname_check(name, name_len) != 0)
        return ORIGO_E_VKEY;
    origo_witness_key key;
    memset(&key, 0, sizeof(key));
    memcpy(key.name, name, name_len);
    key.name_len = name_len;
    memcpy(key.pub, pub, ORIGO_PUBKEY_LEN);
    origo_note_key_id(name, name_len, ORIGO_NOTE_ALG_COSIGNATURE_V1, pub,
                      key.key_id);
    *out = key;
    return 0;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int origo_witness_key_parse(const char *text, size_t len,
                            origo_witness_key *out)
{
    if (!text || !out)
        return ORIGO_E_VKEY;
    const char *plus1 = memchr(text, '+', len);
    if (!plus1)
        return ORIGO_E_VKEY;
    size_t name_len = (size_t)(plus1 - text);
    size_t rest = len - name_len - 1;
    if (rest < 9 || plus1[9] != '+')
        return ORIGO_E_VKEY;
    uint8_t key_id[ORIGO_KEYID_LEN];
    for (size_t i = 0; i < ORIGO_KEYID_LEN; i++) {
        int hi = hex_nibble(plus1[1 + 2 * i]),
            lo = hex_nibble(plus1[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return ORIGO_E_VKEY;
        key_id[i] = (uint8_t)(hi << 4 | lo);
    }
    uint8_t raw[1 + ORIGO_PUBKEY_LEN + 2];
    size_t raw_len = 0;
    if (note_base64_decode(plus1 + 10, rest - 9, raw, sizeof(raw), &raw_len) !=
            0 ||
        raw_len != 1 + ORIGO_PUBKEY_LEN ||
        raw[0] != ORIGO_NOTE_ALG_COSIGNATURE_V1)
        return ORIGO_E_VKEY;
    if (origo_pubkey_check(raw + 1) != 0)
        return ORIGO_E_VKEY;
    origo_witness_key key;
    int rc = origo_witness_key_from_pub(text, name_len, raw + 1, &key);
    if (rc != 0)
        return rc;
    if (memcmp(key.key_id, key_id, ORIGO_KEYID_LEN) != 0)
        return ORIGO_E_VKEY;
    *out = key;
    return 0;
}

int origo_witness_key_format(const origo_witness_key *key, char *out,
                             size_t out_size, size_t *out_len)
{
    if (!key || !out)
        return ORIGO_E_INVAL;
    origo_buf buf;
    origo_buf_init(&buf, ORIGO_VKEY_MAX + 1);
    origo_buf_append(&buf, key->name, key->name_len);
    char hex[2 * ORIGO_KEYID_LEN + 3];
    sodium_bin2hex(hex + 1, sizeof(hex) - 1, key->key_id, ORIGO_KEYID_LEN);
    hex[0] = '+';
    hex[sizeof(hex) - 2] = '+';
    origo_buf_append(&buf, hex, sizeof(hex) - 1);
    uint8_t raw[1 + ORIGO_PUBKEY_LEN];
    raw[0] = ORIGO_NOTE_ALG_COSIGNATURE_V1;
    memcpy(raw + 1, key->pub, ORIGO_PUBKEY_LEN);
    note_base64_append(&buf, raw, sizeof(raw));
    int rc = buf.err;
    if (rc == 0 && buf.len + 1 > out_size)
        rc = ORIGO_E_TOOBIG;
    if (rc == 0) {
        memcpy(out, buf.data, buf.len);
        out[buf.len] = '\0';
        if (out_len)
            *out_len = buf.len;
    }
    origo_buf_close(&buf);
    return rc;
}

/* ---- note objects -------------------------------------------------------- */

static int note_alloc(const char *text, size_t text_len, size_t sig_cap,
                      origo_note **out)
{
    origo_note *note = calloc(1, sizeof(*note));
    if (!note)
        return ORIGO_E_NOMEM;
    note->text = malloc(text_len + 1);
    if (!note->text)
        goto err_after_note;
    memcpy(note->text, text, text_len);
    note->text[text_len] = '\0';
    note->text_len = text_len;
    if (sig_cap > 0) {
        note->sigs = calloc(sig_cap, sizeof(*note->sigs));
        if (!note->sigs)
            goto err_after_text;
    }
    *out = note;
    return 0;
err_after_text:
    free(note->text);
err_after_note:
    free(note);
    return ORIGO_E_NOMEM;
}

void origo_note_free(origo_note *note)
{
    if (!note)
        return;
    free(note->text);
    free(note->sigs);
    free(note);
}

int origo_note_new(const char *text, size_t text_len, origo_note **out)
{
    if (!text || !out)
        return ORIGO_E_INVAL;
    int rc = text_check(text, text_len);
    if (rc != 0)
        return rc;
    return note_alloc(text, text_len, 0, out);
}

/* Parses one signature line (without its "\n"). */
static int sig_line_parse(const char *line, size_t len, origo_note_sig *out)
{
    if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
        return ORIGO_E_NOTE_FORMAT;
    const char *name = line + SIG_PREFIX_LEN;
    size_t rest = len - SIG_PREFIX_LEN;
    const char *space = memchr(name, ' ', rest);
    if (!space)
        return ORIGO_E_NOTE_FORMAT;
    size_t name_len = (size_t)(space - name);
    if (name_check(name, name_len) != 0)
        return ORIGO_E_NOTE_FORMAT;
    const char *b64 = space + 1;
    size_t b64_len = rest - name_len - 1;
    uint8_t raw[ORIGO_KEYID_LEN + ORIGO_NOTE_MAX_SIG_LEN];
    size_t raw_len = 0;
    if (b64_len / 4 * 3 > sizeof(raw) + 2)
        return ORIGO_E_TOOBIG;
    if (note_base64_decode(b64, b64_len, raw, sizeof(raw), &raw_len) != 0 ||
        raw_len <= ORIGO_KEYID_LEN)
        return ORIGO_E_NOTE_FORMAT;
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name, name_len);
    memcpy(out->key_id, raw, ORIGO_KEYID_LEN);
    out->sig_len = raw_len - ORIGO_KEYID_LEN;
    memcpy(out->sig, raw + ORIGO_KEYID_LEN, out->sig_len);
    return 0;
}

/* The signature block starts after the last "\n\n"; returns its offset or
 * 0 when there is none. */
static size_t find_sig_block(const uint8_t *data, size_t len)
{
    for (size_t i = len; i >= 2; i--) {
        if (data[i - 1] == '\n' && data[i - 2] == '\n')
            return i;
    }
    return 0;
}

int origo_note_parse(const uint8_t *data, size_t len, origo_note **out)
{
    if (!data || !out)
        return ORIGO_E_INVAL;
    if (len > ORIGO_NOTE_MAX_BYTES)
        return ORIGO_E_TOOBIG;
    if (len < 3 || data[len - 1] != '\n')
        return ORIGO_E_NOTE_FORMAT;
    int rc = text_check((const char *)data, len);
    if (rc != 0)
        return rc;
    size_t block = find_sig_block(data, len);
    if (block == 0)
        return ORIGO_E_NOTE_FORMAT;
    if (block == len)
        return ORIGO_E_NOTE_NO_SIG;
    size_t sig_count = 0;
    for (size_t i = block; i < len; i++)
        sig_count += data[i] == '\n';
    if (sig_count > ORIGO_NOTE_MAX_SIGS)
        return ORIGO_E_TOOBIG;
    origo_note *note = NULL;
    rc = note_alloc((const char *)data, block - 1, sig_count, &note);
    if (rc != 0)
        return rc;
    size_t pos = block;
    while (pos < len) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        size_t line_len = (size_t)(nl - (data + pos));
        rc = sig_line_parse((const char *)data + pos, line_len,
                            &note->sigs[note->sig_count]);
        if (rc != 0)
            goto err_after_note;
        note->sig_count++;
        pos += line_len + 1;
    }
    *out = note;
    return 0;
err_after_note:
    origo_note_free(note);
    return rc;
}

/* Appends one signature line of a well-formed signature. */
static void sig_line_append(const origo_note_sig *sig, origo_buf *out)
{
    uint8_t raw[ORIGO_KEYID_LEN + ORIGO_NOTE_MAX_SIG_LEN];
    memcpy(raw, sig->key_id, ORIGO_KEYID_LEN);
    memcpy(raw + ORIGO_KEYID_LEN, sig->sig, sig->sig_len);
    origo_buf_append(out, SIG_PREFIX, SIG_PREFIX_LEN);
    origo_buf_append(out, sig->name, strlen(sig->name));
    origo_buf_append(out, " ", 1);
    note_base64_append(out, raw, ORIGO_KEYID_LEN + sig->sig_len);
    origo_buf_append(out, "\n", 1);
}

int origo_note_format(const origo_note *note, origo_buf *out)
{
    if (!note || !out)
        return ORIGO_E_INVAL;
    if (note->sig_count == 0)
        return ORIGO_E_NOTE_NO_SIG;
    origo_buf_append(out, note->text, note->text_len);
    origo_buf_append(out, "\n", 1);
    for (size_t i = 0; i < note->sig_count; i++)
        sig_line_append(&note->sigs[i], out);
    return out->err;
}

/* The checks origo_note_add_sig() applies to a signature from elsewhere. */
static int sig_check(const origo_note_sig *sig)
{
    size_t name_len = strnlen(sig->name, sizeof(sig->name));
    if (name_len == sizeof(sig->name) || name_check(sig->name, name_len) != 0 ||
        sig->sig_len == 0 || sig->sig_len > ORIGO_NOTE_MAX_SIG_LEN)
        return ORIGO_E_NOTE_FORMAT;
    return 0;
}

int origo_note_sig_format(const origo_note_sig *sig, origo_buf *out)
{
    if (!sig || !out)
        return ORIGO_E_INVAL;
    int rc = sig_check(sig);
    if (rc != 0)
        return rc;
    sig_line_append(sig, out);
    return out->err;
}

int origo_note_add_sig(origo_note *note, const origo_note_sig *sig)
{
    if (!note || !sig)
        return ORIGO_E_INVAL;
    if (sig_check(sig) != 0)
        return ORIGO_E_NOTE_FORMAT;
    if (note->sig_count >= ORIGO_NOTE_MAX_SIGS)
        return ORIGO_E_TOOBIG;
    origo_note_sig *grown =
        realloc(note->sigs, (note->sig_count + 1) * sizeof(*grown));
    if (!grown)
        return ORIGO_E_NOMEM;
    note->sigs = grown;
    note->sigs[note->sig_count++] = *sig;
    return 0;
}

/* ---- signing --------------------------------------------------------------
 */

/* Fills the name and key ID of a signature by `name` with public key `pub`
 * under algorithm `alg`. */
static int sig_header(const char *name, const uint8_t pub[ORIGO_PUBKEY_LEN],
                      uint8_t alg, origo_note_sig *sig)
{
    if (!name)
        return ORIGO_E_VKEY;
    size_t name_len = strnlen(name, ORIGO_KEYNAME_MAX + 1);
    if (origo_keyname_check(name, name_len) != 0 ||
        name_check(name, name_len) != 0)
        return ORIGO_E_VKEY;
    memset(sig, 0, sizeof(*sig));
    memcpy(sig->name, name, name_len);
    origo_note_key_id(name, name_len, alg, pub, sig->key_id);
    return 0;
}

int origo_note_sign_text(const char *text, size_t text_len, const char *name,
                         const unsigned char secret_key[64],
                         origo_note_sig *out)
{
    if (!text || !out)
        return ORIGO_E_INVAL;
    if (!secret_key)
        return ORIGO_E_VKEY;
    if (sodium_init() < 0)
        return ORIGO_E_SODIUM;
    origo_note_sig sig;
    int rc = sig_header(name, secret_key + 32, ORIGO_NOTE_ALG_ED25519, &sig);
    if (rc != 0)
        return rc;
    crypto_sign_detached(sig.sig, NULL, (const unsigned char *)text, text_len,
                         secret_key);
    sig.sig_len = crypto_sign_BYTES;
    *out = sig;
    return 0;
}

int origo_note_sign_text_key(const char *text, size_t text_len,
                             const origo_key *key, origo_note_sig *out)
{
    if (!text || !key || !out)
        return ORIGO_E_INVAL;
    origo_note_sig sig;
    int rc = sig_header(origo_key_name(key), origo_key_public(key),
                        ORIGO_NOTE_ALG_ED25519, &sig);
    if (rc == 0)
        rc = origo_key_sign(key, (const uint8_t *)text, text_len, sig.sig);
    if (rc != 0)
        return rc;
    sig.sig_len = ORIGO_SIG_LEN;
    *out = sig;
    return 0;
}

int origo_note_sign(origo_note *note, const char *name,
                    const unsigned char secret_key[64])
{
    if (!note)
        return ORIGO_E_INVAL;
    origo_note_sig sig;
    int rc = origo_note_sign_text(note->text, note->text_len, name, secret_key,
                                  &sig);
    if (rc != 0)
        return rc;
    return origo_note_add_sig(note, &sig);
}

int origo_note_sign_key(origo_note *note, const origo_key *key)
{
    if (!note)
        return ORIGO_E_INVAL;
    origo_note_sig sig;
    int rc = origo_note_sign_text_key(note->text, note->text_len, key, &sig);
    if (rc != 0)
        return rc;
    return origo_note_add_sig(note, &sig);
}

/* Builds "cosignature/v1\ntime <t>\n" || text into buf. */
static int cosig_message(const char *text, size_t text_len, uint64_t timestamp,
                         origo_buf *buf)
{
    origo_buf_append(buf, COSIG_HEADER, strlen(COSIG_HEADER));
    origo_buf_append(buf, "time ", 5);
    note_decimal_append(buf, timestamp);
    origo_buf_append(buf, "\n", 1);
    origo_buf_append(buf, text, text_len);
    return buf->err;
}

/* A cosignature's header and timestamp, once the note is known to hold a
 * checkpoint. */
static int cosig_start(const origo_note *note, const char *name,
                       const uint8_t pub[ORIGO_PUBKEY_LEN], uint64_t timestamp,
                       origo_note_sig *sig)
{
    origo_checkpoint checkpoint;
    if (origo_checkpoint_parse(note->text, note->text_len, &checkpoint) != 0)
        return ORIGO_E_CHECKPOINT;
    int rc = sig_header(name, pub, ORIGO_NOTE_ALG_COSIGNATURE_V1, sig);
    if (rc != 0)
        return rc;
    for (int i = 0; i < 8; i++)
        sig->sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
    sig->sig_len = COSIG_LEN;
    return 0;
}

int origo_note_cosign(origo_note *note, const char *name,
                      const unsigned char secret_key[64], uint64_t timestamp)
{
    if (!note)
        return ORIGO_E_INVAL;
    if (!secret_key)
        return ORIGO_E_VKEY;
    if (sodium_init() < 0)
        return ORIGO_E_SODIUM;
    origo_note_sig sig;
    int rc = cosig_start(note, name, secret_key + 32, timestamp, &sig);
    if (rc != 0)
        return rc;
    origo_buf msg;
    origo_buf_init(&msg, ORIGO_NOTE_MAX_BYTES + 64);
    rc = cosig_message(note->text, note->text_len, timestamp, &msg);
    if (rc == 0) {
        crypto_sign_detached(sig.sig + 8, NULL, msg.data, msg.len, secret_key);
        rc = origo_note_add_sig(note, &sig);
    }
    origo_buf_close(&msg);
    return rc;
}

int origo_note_cosign_key(origo_note *note, const origo_key *key,
                          uint64_t timestamp)
{
    if (!note || !key)
        return ORIGO_E_INVAL;
    origo_note_sig sig;
    int rc = cosig_start(note, origo_key_name(key), origo_key_public(key),
                         timestamp, &sig);
    if (rc != 0)
        return rc;
    /* The header and time line go in as the prefix: the note text is
     * signed where it lies, without a copy. */
    origo_buf header;
    origo_buf_init(&header, 64);
    rc = cosig_message("", 0, timestamp, &header);
    if (rc == 0)
        rc = origo_key_sign_prefixed(key, header.data, header.len,
                                     (const uint8_t *)note->text,
                                     note->text_len, sig.sig + 8);
    origo_buf_close(&header);
    if (rc == 0)
        rc = origo_note_add_sig(note, &sig);
    return rc;
}

int origo_cosig_decode(const origo_note_sig *sig, uint64_t *timestamp,
                       uint8_t ed25519_sig[64])
{
    if (!sig || !timestamp || !ed25519_sig)
        return ORIGO_E_INVAL;
    if (sig->sig_len != COSIG_LEN)
        return ORIGO_E_NOTE_FORMAT;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = (t << 8) | sig->sig[i];
    *timestamp = t;
    memcpy(ed25519_sig, sig->sig + 8, 64);
    return 0;
}

/* ---- verification ---------------------------------------------------------
 */

/* Index of the first entry with the same public key as entry i. Quorum
 * counts distinct keys, not names: one key listed under two names (say,
 * after a validator was renamed and the old line kept) signs as one party
 * and must count once. */
static size_t signer_canonical(const origo_vkey *keys, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (memcmp(keys[j].pub, keys[i].pub, ORIGO_PUBKEY_LEN) == 0)
            return j;
    }
    return i;
}

static size_t witness_canonical(const origo_witness_key *keys, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (memcmp(keys[j].pub, keys[i].pub, ORIGO_PUBKEY_LEN) == 0)
            return j;
    }
    return i;
}

static int name_matches(const origo_note_sig *sig, const char *name,
                        size_t name_len)
{
    return strlen(sig->name) == name_len &&
           memcmp(sig->name, name, name_len) == 0;
}

/* Checks one line against the trusted signers. Returns 1 when it names a
 * trusted key (and then *ok says whether one of them verified it, marking
 * `seen`), 0 when it names none. */
static int check_signer_line(const origo_note *note, const origo_note_sig *sig,
                             const origo_note_policy *policy, uint8_t *seen,
                             int *ok)
{
    int known = 0;
    for (size_t k = 0; k < policy->signer_count; k++) {
        const origo_vkey *key = &policy->signers[k];
        if (!name_matches(sig, key->name, key->name_len) ||
            memcmp(sig->key_id, key->key_id, ORIGO_KEYID_LEN) != 0)
            continue;
        known = 1;
        if (origo_ed25519_verify(key->pub, ORIGO_PUBKEY_LEN,
                                 (const uint8_t *)note->text, note->text_len,
                                 sig->sig, sig->sig_len) == 0) {
            seen[signer_canonical(policy->signers, k)] = 1;
            *ok = 1;
        }
    }
    return known;
}

static int check_witness_line(const origo_note *note, const origo_note_sig *sig,
                              const origo_note_policy *policy, uint8_t *seen,
                              int *ok, uint64_t *latest)
{
    int known = 0;
    uint64_t timestamp = 0;
    uint8_t ed_sig[64];
    int decoded = origo_cosig_decode(sig, &timestamp, ed_sig) == 0;
    for (size_t k = 0; k < policy->witness_count; k++) {
        const origo_witness_key *key = &policy->witnesses[k];
        if (!name_matches(sig, key->name, key->name_len) ||
            memcmp(sig->key_id, key->key_id, ORIGO_KEYID_LEN) != 0)
            continue;
        known = 1;
        if (!decoded)
            continue;
        origo_buf msg;
        origo_buf_init(&msg, ORIGO_NOTE_MAX_BYTES + 64);
        int rc = cosig_message(note->text, note->text_len, timestamp, &msg);
        if (rc == 0 &&
            origo_ed25519_verify(key->pub, ORIGO_PUBKEY_LEN, msg.data, msg.len,
                                 ed_sig, sizeof(ed_sig)) == 0) {
            seen[witness_canonical(policy->witnesses, k)] = 1;
            *ok = 1;
            if (timestamp > *latest)
                *latest = timestamp;
        }
        origo_buf_close(&msg);
    }
    return known;
}

static size_t count_marks(const uint8_t *seen, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += seen[i];
    return total;
}

static size_t count_distinct_signers(const origo_note_policy *policy)
{
    size_t total = 0;
    for (size_t i = 0; i < policy->signer_count; i++)
        total += signer_canonical(policy->signers, i) == i;
    return total;
}

static size_t count_distinct_witnesses(const origo_note_policy *policy)
{
    size_t total = 0;
    for (size_t i = 0; i < policy->witness_count; i++)
        total += witness_canonical(policy->witnesses, i) == i;
    return total;
}

int origo_note_verify(const origo_note *note, const origo_note_policy *policy,
                      origo_note_verdict *verdict)
{
    if (!note || !policy || (policy->signer_count > 0 && !policy->signers) ||
        (policy->witness_count > 0 && !policy->witnesses))
        return ORIGO_E_INVAL;
    size_t distinct = count_distinct_signers(policy);
    size_t quorum = policy->quorum ? policy->quorum : distinct / 2 + 1;
    if (distinct == 0 || quorum > distinct ||
        policy->witness_quorum > count_distinct_witnesses(policy))
        return ORIGO_E_INVAL;
    if (sodium_init() < 0)
        return ORIGO_E_SODIUM;
    uint8_t *seen = calloc(policy->signer_count + policy->witness_count + 1, 1);
    if (!seen)
        return ORIGO_E_NOMEM;
    uint8_t *seen_witness = seen + policy->signer_count;
    uint64_t latest = 0;
    int rc = 0;
    for (size_t i = 0; i < note->sig_count && rc == 0; i++) {
        const origo_note_sig *sig = &note->sigs[i];
        int ok = 0, known = 0;
        known |= check_signer_line(note, sig, policy, seen, &ok);
        known |=
            check_witness_line(note, sig, policy, seen_witness, &ok, &latest);
        if (known && !ok)
            rc = ORIGO_E_SIGNATURE;
    }
    if (rc == 0) {
        origo_note_verdict result = {
            .signers = count_marks(seen, policy->signer_count),
            .witnesses = count_marks(seen_witness, policy->witness_count),
            .quorum = quorum,
            .latest_cosign = latest,
        };
        if (result.signers < quorum ||
            result.witnesses < policy->witness_quorum)
            rc = ORIGO_E_NOTE_QUORUM;
        if (verdict)
            *verdict = result;
    }
    free(seen);
    return rc;
}

/* ---- checkpoints ----------------------------------------------------------
 */

/* Returns the length of the line at text[pos] (up to "\n"), or -1 when the
 * text ends without one. */
static long line_len(const char *text, size_t len, size_t pos)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    return nl ? (long)(nl - (text + pos)) : -1;
}

int origo_checkpoint_parse(const char *body, size_t len, origo_checkpoint *out)
{
    if (!body || !out || text_check(body, len) != 0)
        return ORIGO_E_CHECKPOINT;
    origo_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    size_t pos = 0;
    long origin_len = line_len(body, len, pos);
    if (origin_len <= 0 || origin_len > ORIGO_CHECKPOINT_MAX_ORIGIN)
        return ORIGO_E_CHECKPOINT;
    memcpy(cp.origin, body, (size_t)origin_len);
    pos += (size_t)origin_len + 1;
    long size_len = pos < len ? line_len(body, len, pos) : -1;
    if (size_len <= 0 ||
        note_decimal_parse(body + pos, (size_t)size_len, &cp.tree_size) != 0)
        return ORIGO_E_CHECKPOINT;
    pos += (size_t)size_len + 1;
    long root_len = pos < len ? line_len(body, len, pos) : -1;
    size_t root_got = 0;
    if (root_len <= 0 ||
        note_base64_decode(body + pos, (size_t)root_len, cp.root,
                           sizeof(cp.root), &root_got) != 0 ||
        root_got != sizeof(cp.root))
        return ORIGO_E_CHECKPOINT;
    pos += (size_t)root_len + 1;
    if (pos < len) {
        /* Extension lines: each non-empty. */
        for (size_t i = pos; i < len; i++) {
            if (body[i] == '\n' && (i == pos || body[i - 1] == '\n'))
                return ORIGO_E_CHECKPOINT;
        }
        cp.extensions = body + pos;
        cp.extensions_len = len - pos;
    }
    *out = cp;
    return 0;
}

int origo_checkpoint_format(const origo_checkpoint *checkpoint, origo_buf *out)
{
    if (!checkpoint || !out)
        return ORIGO_E_INVAL;
    size_t origin_len = strnlen(checkpoint->origin, sizeof(checkpoint->origin));
    if (origin_len == 0 || origin_len == sizeof(checkpoint->origin) ||
        memchr(checkpoint->origin, '\n', origin_len) ||
        note_text_check(checkpoint->origin, origin_len) != 0)
        return ORIGO_E_CHECKPOINT;
    size_t ext_len = checkpoint->extensions_len;
    const char *ext = checkpoint->extensions;
    if (ext_len > 0) {
        if (!ext || ext[ext_len - 1] != '\n' || ext[0] == '\n' ||
            note_text_check(ext, ext_len) != 0)
            return ORIGO_E_CHECKPOINT;
        for (size_t i = 1; i < ext_len; i++) {
            if (ext[i] == '\n' && ext[i - 1] == '\n')
                return ORIGO_E_CHECKPOINT;
        }
    }
    origo_buf_append(out, checkpoint->origin, origin_len);
    origo_buf_append(out, "\n", 1);
    note_decimal_append(out, checkpoint->tree_size);
    origo_buf_append(out, "\n", 1);
    note_base64_append(out, checkpoint->root, sizeof(checkpoint->root));
    origo_buf_append(out, "\n", 1);
    if (ext_len > 0)
        origo_buf_append(out, ext, ext_len);
    return out->err;
}

int origo_checkpoint_open(const uint8_t *data, size_t len,
                          const origo_note_policy *policy, const char *origin,
                          origo_checkpoint *checkpoint_out,
                          origo_note **note_out)
{
    if (!data || !policy || !checkpoint_out || !note_out)
        return ORIGO_E_INVAL;
    origo_note *note = NULL;
    int rc = origo_note_parse(data, len, &note);
    if (rc != 0)
        return rc;
    origo_checkpoint checkpoint;
    rc = origo_checkpoint_parse(note->text, note->text_len, &checkpoint);
    if (rc != 0)
        goto err_after_parse;
    if (origin && strcmp(origin, checkpoint.origin) != 0) {
        rc = ORIGO_E_ORIGIN;
        goto err_after_parse;
    }
    rc = origo_note_verify(note, policy, NULL);
    if (rc != 0)
        goto err_after_parse;
    *checkpoint_out = checkpoint;
    *note_out = note;
    return 0;
err_after_parse:
    origo_note_free(note);
    return rc;
}
