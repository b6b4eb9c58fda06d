/* Ed25519 key handles, key files and verifier-key strings (keys.h). Secrets
 * only ever sit in sodium_malloc() memory, including the text of a key file
 * while it is written or parsed; everything that verifies goes through
 * origo_ed25519_verify() so the strictness rules live in one place. */
#include "origo/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "origo/error.h"
#include "origo/note.h"

struct origo_key {
    char name[ORIGO_KEYNAME_MAX + 1];
    uint8_t seed[ORIGO_SEED_LEN];
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    uint8_t pub[ORIGO_PUBKEY_LEN];
};

static const char keyfile_magic[] = "origo-key v1\n";
#define SEED_B64_LEN 44 /* base64 of 32 bytes, padded */
#define VKEY_B64_LEN 44 /* base64 of 33 bytes */
#define STACK_MSG_MAX                                                          \
    4096 /* prefixed messages up to this size avoid malloc                     \
          */

static int sodium_ready(void)
{
    return sodium_init() < 0 ? ORIGO_E_SODIUM : 0;
}

/* ---- key names ---------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s[0..len) into *cp; returns its length or 0
 * when malformed (overlong, surrogate, past U+10FFFF, truncated). */
static size_t utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
    uint8_t b = s[0];
    size_t need;
    uint32_t min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if ((b & 0xe0) == 0xc0) {
        need = 2, min = 0x80, *cp = b & 0x1f;
    } else if ((b & 0xf0) == 0xe0) {
        need = 3, min = 0x800, *cp = b & 0x0f;
    } else if ((b & 0xf8) == 0xf0) {
        need = 4, min = 0x10000, *cp = b & 0x07;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return need;
}

static int unicode_space(uint32_t cp)
{
    return cp <= 0x20 || cp == 0x7f || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

int origo_keyname_check(const char *name, size_t len)
{
    if (!name || len == 0 || len > ORIGO_KEYNAME_MAX)
        return ORIGO_E_INVAL;
    const uint8_t *s = (const uint8_t *)name;
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp;
        size_t step = utf8_next(s + pos, len - pos, &cp);
        if (step == 0 || unicode_space(cp) || cp == '+')
            return ORIGO_E_INVAL;
        pos += step;
    }
    return 0;
}

/* ---- secret keys -------------------------------------------------------- */

static int key_new(const char *name, size_t name_len,
                   const uint8_t seed[ORIGO_SEED_LEN], origo_key **out)
{
    int rc = sodium_ready();
    if (rc)
        return rc;
    if (origo_keyname_check(name, name_len) != 0)
        return ORIGO_E_INVAL;
    origo_key *key = sodium_malloc(sizeof(*key));
    if (!key)
        return ORIGO_E_NOMEM;
    memcpy(key->name, name, name_len);
    key->name[name_len] = '\0';
    memcpy(key->seed, seed, ORIGO_SEED_LEN);
    if (crypto_sign_seed_keypair(key->pub, key->secret, key->seed) != 0) {
        sodium_free(key);
        return ORIGO_E_SODIUM;
    }
    *out = key;
    return 0;
}

int origo_key_from_seed(const char *name, const uint8_t seed[ORIGO_SEED_LEN],
                        origo_key **out)
{
    if (!name || !seed || !out)
        return ORIGO_E_INVAL;
    return key_new(name, strlen(name), seed, out);
}

int origo_key_generate(const char *name, origo_key **out)
{
    if (!name || !out)
        return ORIGO_E_INVAL;
    int rc = sodium_ready();
    if (rc)
        return rc;
    uint8_t *seed = sodium_malloc(ORIGO_SEED_LEN);
    if (!seed)
        return ORIGO_E_NOMEM;
    randombytes_buf(seed, ORIGO_SEED_LEN);
    rc = key_new(name, strlen(name), seed, out);
    sodium_free(seed);
    return rc;
}

void origo_key_free(origo_key *key)
{
    /* sodium_free() wipes the whole allocation before unmapping it. */
    if (key)
        sodium_free(key);
}

const uint8_t *origo_key_public(const origo_key *key)
{
    return key->pub;
}

const char *origo_key_name(const origo_key *key)
{
    return key->name;
}

int origo_key_sign(const origo_key *key, const uint8_t *msg, size_t msg_len,
                   uint8_t sig[ORIGO_SIG_LEN])
{
    if (!key || !sig || (!msg && msg_len))
        return ORIGO_E_INVAL;
    if (crypto_sign_detached(sig, NULL, msg, msg_len, key->secret) != 0)
        return ORIGO_E_INTERNAL;
    return 0;
}

/* Joins prefix || msg into `stack` when it fits, else into a heap buffer
 * stored in *heap (the caller frees it). Returns the joined bytes or NULL. */
static const uint8_t *join(const uint8_t *prefix, size_t prefix_len,
                           const uint8_t *msg, size_t msg_len, uint8_t *stack,
                           uint8_t **heap)
{
    *heap = NULL;
    if (msg_len > SIZE_MAX - prefix_len)
        return NULL;
    size_t total = prefix_len + msg_len;
    uint8_t *dst = stack;
    if (total > STACK_MSG_MAX) {
        dst = malloc(total);
        if (!dst)
            return NULL;
        *heap = dst;
    }
    if (prefix_len)
        memcpy(dst, prefix, prefix_len);
    if (msg_len)
        memcpy(dst + prefix_len, msg, msg_len);
    return dst;
}

int origo_key_sign_prefixed(const origo_key *key, const uint8_t *prefix,
                            size_t prefix_len, const uint8_t *msg,
                            size_t msg_len, uint8_t sig[ORIGO_SIG_LEN])
{
    if (!key || !sig || (!msg && msg_len) || (!prefix && prefix_len))
        return ORIGO_E_INVAL;
    uint8_t stack[STACK_MSG_MAX];
    uint8_t *heap;
    const uint8_t *joined =
        join(prefix, prefix_len, msg, msg_len, stack, &heap);
    if (!joined)
        return ORIGO_E_NOMEM;
    int rc = origo_key_sign(key, joined, prefix_len + msg_len, sig);
    free(heap);
    return rc;
}

/* ---- public keys and verification --------------------------------------- */

/* The subgroup check costs about as much as a signature verification, and
 * a ledger sees the same few member keys over and over. Validity is a pure
 * function of the 32 bytes, so each thread remembers keys it has found
 * valid, in a small direct-mapped table (public data: no secrecy or timing
 * concern). Invalid keys are never cached. */
#define VALID_CACHE_SLOTS 256
static _Thread_local uint8_t valid_cache[VALID_CACHE_SLOTS][ORIGO_PUBKEY_LEN];
static _Thread_local uint8_t valid_cache_used[VALID_CACHE_SLOTS];

int origo_pubkey_check(const uint8_t pub[ORIGO_PUBKEY_LEN])
{
    size_t slot = pub[0] % VALID_CACHE_SLOTS;
    if (valid_cache_used[slot] &&
        memcmp(valid_cache[slot], pub, ORIGO_PUBKEY_LEN) == 0)
        return 0;
    int rc = sodium_ready();
    if (rc)
        return rc;
    /* Rejects non-canonical encodings, points off the curve, small-order
     * points and points with a torsion component. */
    if (crypto_core_ed25519_is_valid_point(pub) != 1)
        return ORIGO_E_KEY;
    memcpy(valid_cache[slot], pub, ORIGO_PUBKEY_LEN);
    valid_cache_used[slot] = 1;
    return 0;
}

int origo_ed25519_verify(const uint8_t *pub, size_t pub_len, const uint8_t *msg,
                         size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    if (!pub || pub_len != ORIGO_PUBKEY_LEN)
        return ORIGO_E_KEY;
    if (!sig || sig_len != ORIGO_SIG_LEN)
        return ORIGO_E_SIGNATURE;
    if (!msg && msg_len)
        return ORIGO_E_INVAL;
    int rc = origo_pubkey_check(pub);
    if (rc)
        return rc;
    /* libsodium >= 1.0.18 rejects small-order R and S >= L here. */
    if (crypto_sign_verify_detached(sig, msg, msg_len, pub) != 0)
        return ORIGO_E_SIGNATURE;
    return 0;
}

int origo_ed25519_verify_prefixed(const uint8_t *pub, size_t pub_len,
                                  const uint8_t *prefix, size_t prefix_len,
                                  const uint8_t *msg, size_t msg_len,
                                  const uint8_t *sig, size_t sig_len)
{
    if ((!msg && msg_len) || (!prefix && prefix_len))
        return ORIGO_E_INVAL;
    uint8_t stack[STACK_MSG_MAX];
    uint8_t *heap;
    const uint8_t *joined =
        join(prefix, prefix_len, msg, msg_len, stack, &heap);
    if (!joined)
        return ORIGO_E_NOMEM;
    int rc = origo_ed25519_verify(pub, pub_len, joined, prefix_len + msg_len,
                                  sig, sig_len);
    free(heap);
    return rc;
}

void origo_pubkey_to_hex(const uint8_t pub[ORIGO_PUBKEY_LEN], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < ORIGO_PUBKEY_LEN; i++) {
        out[2 * i] = digits[pub[i] >> 4];
        out[2 * i + 1] = digits[pub[i] & 15];
    }
    out[64] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int origo_pubkey_from_hex(const char *hex, size_t len,
                          uint8_t out[ORIGO_PUBKEY_LEN])
{
    if (!hex || len != 2 * ORIGO_PUBKEY_LEN)
        return ORIGO_E_KEY;
    uint8_t tmp[ORIGO_PUBKEY_LEN];
    for (size_t i = 0; i < ORIGO_PUBKEY_LEN; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ORIGO_E_KEY;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, tmp, sizeof(tmp));
    return 0;
}

/* Decodes canonical padded standard base64 of exactly `want` bytes: the
 * text must be what sodium_bin2base64() gives back for the decoded bytes,
 * which rules out whitespace, missing padding and non-zero padding bits. */
static int b64_decode_exact(const char *text, size_t len, uint8_t *out,
                            size_t want)
{
    const int variant = sodium_base64_VARIANT_ORIGINAL;
    size_t enc_len = sodium_base64_encoded_len(want, variant) - 1;
    if (len != enc_len || want > 64)
        return -1;
    uint8_t bytes[64];
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(bytes, sizeof(bytes), text, len, NULL, &got, &end,
                          variant) != 0 ||
        got != want || end != text + len)
        return -1;
    char again[90];
    sodium_bin2base64(again, sizeof(again), bytes, want, variant);
    int same = memcmp(again, text, len) == 0;
    if (same)
        memcpy(out, bytes, want);
    sodium_memzero(bytes, sizeof(bytes));
    sodium_memzero(again, sizeof(again));
    return same ? 0 : -1;
}

/* ---- verifier keys ------------------------------------------------------ */

int origo_vkey_id(const char *name, size_t name_len,
                  const uint8_t pub[ORIGO_PUBKEY_LEN],
                  uint8_t key_id[ORIGO_KEYID_LEN])
{
    int rc = sodium_ready();
    if (rc)
        return rc;
    if (origo_keyname_check(name, name_len) != 0)
        return ORIGO_E_INVAL;
    origo_note_key_id(name, name_len, ORIGO_NOTE_ALG_ED25519, pub, key_id);
    return 0;
}

int origo_vkey_format(const char *name, size_t name_len,
                      const uint8_t pub[ORIGO_PUBKEY_LEN], char *out,
                      size_t out_size, size_t *out_len)
{
    uint8_t key_id[ORIGO_KEYID_LEN];
    int rc = origo_vkey_id(name, name_len, pub, key_id);
    if (rc)
        return rc;
    size_t total = name_len + 1 + 2 * ORIGO_KEYID_LEN + 1 + VKEY_B64_LEN;
    if (!out || out_size < total + 1)
        return ORIGO_E_TOOBIG;
    uint8_t raw[1 + ORIGO_PUBKEY_LEN];
    raw[0] = 0x01;
    memcpy(raw + 1, pub, ORIGO_PUBKEY_LEN);
    char *pos = out;
    memcpy(pos, name, name_len);
    pos += name_len;
    *pos++ = '+';
    sodium_bin2hex(pos, 2 * ORIGO_KEYID_LEN + 1, key_id, ORIGO_KEYID_LEN);
    pos += 2 * ORIGO_KEYID_LEN;
    *pos++ = '+';
    sodium_bin2base64(pos, VKEY_B64_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    if (out_len)
        *out_len = total;
    return 0;
}

int origo_key_vkey(const origo_key *key, char *out, size_t out_size,
                   size_t *out_len)
{
    if (!key)
        return ORIGO_E_INVAL;
    return origo_vkey_format(key->name, strlen(key->name), key->pub, out,
                             out_size, out_len);
}

int origo_vkey_parse(const char *text, size_t len, origo_vkey *out)
{
    if (!text || !out || len > ORIGO_VKEY_MAX)
        return ORIGO_E_VKEY;
    /* The name may not contain '+', so the first '+' ends it. */
    const char *plus = memchr(text, '+', len);
    if (!plus)
        return ORIGO_E_VKEY;
    size_t name_len = (size_t)(plus - text);
    if (origo_keyname_check(text, name_len) != 0)
        return ORIGO_E_VKEY;
    const char *id_hex = plus + 1;
    size_t rest = len - name_len - 1;
    if (rest != 2 * ORIGO_KEYID_LEN + 1 + VKEY_B64_LEN ||
        id_hex[2 * ORIGO_KEYID_LEN] != '+')
        return ORIGO_E_VKEY;
    uint8_t key_id[ORIGO_KEYID_LEN];
    for (size_t i = 0; i < ORIGO_KEYID_LEN; i++) {
        int hi = hex_digit(id_hex[2 * i]), lo = hex_digit(id_hex[2 * i + 1]);
        /* Lower case only: one spelling per key ID. */
        if (hi < 0 || lo < 0 ||
            (id_hex[2 * i] >= 'A' && id_hex[2 * i] <= 'F') ||
            (id_hex[2 * i + 1] >= 'A' && id_hex[2 * i + 1] <= 'F'))
            return ORIGO_E_VKEY;
        key_id[i] = (uint8_t)(hi << 4 | lo);
    }
    uint8_t raw[1 + ORIGO_PUBKEY_LEN];
    if (b64_decode_exact(id_hex + 2 * ORIGO_KEYID_LEN + 1, VKEY_B64_LEN, raw,
                         sizeof(raw)) != 0 ||
        raw[0] != 0x01)
        return ORIGO_E_VKEY;
    uint8_t expect[ORIGO_KEYID_LEN];
    int rc = origo_vkey_id(text, name_len, raw + 1, expect);
    if (rc)
        return rc == ORIGO_E_INVAL ? ORIGO_E_VKEY : rc;
    if (memcmp(expect, key_id, ORIGO_KEYID_LEN) != 0)
        return ORIGO_E_VKEY;
    rc = origo_pubkey_check(raw + 1);
    if (rc)
        return rc;
    memcpy(out->name, text, name_len);
    out->name[name_len] = '\0';
    out->name_len = name_len;
    memcpy(out->key_id, key_id, ORIGO_KEYID_LEN);
    memcpy(out->pub, raw + 1, ORIGO_PUBKEY_LEN);
    return 0;
}

/* ---- key file text ------------------------------------------------------ */

/* Upper bound of a key file: magic, "name " + name, "seed " + base64,
 * "public " + hex, newlines. */
#define KEYFILE_TEXT_MAX                                                       \
    (sizeof(keyfile_magic) + 5 + ORIGO_KEYNAME_MAX + 1 + 5 + SEED_B64_LEN +    \
     1 + 7 + 64 + 1)

/* Writes the key file text into sodium memory; returns its length or 0. */
static size_t keyfile_render(const origo_key *key, char *text, size_t size)
{
    char seed_b64[SEED_B64_LEN + 1];
    char pub_hex[65];
    sodium_bin2base64(seed_b64, sizeof(seed_b64), key->seed, ORIGO_SEED_LEN,
                      sodium_base64_VARIANT_ORIGINAL);
    origo_pubkey_to_hex(key->pub, pub_hex);
    int n = snprintf(text, size, "%sname %s\nseed %s\npublic %s\n",
                     keyfile_magic, key->name, seed_b64, pub_hex);
    sodium_memzero(seed_b64, sizeof(seed_b64));
    if (n < 0 || (size_t)n >= size)
        return 0;
    return (size_t)n;
}

/* Takes the next line starting with `tag` (e.g. "name ") from *pos; returns
 * its value and length (without the newline) or NULL. */
static const char *take_line(const char **pos, const char *end, const char *tag,
                             size_t *value_len)
{
    size_t tag_len = strlen(tag);
    size_t left = (size_t)(end - *pos);
    if (left < tag_len || memcmp(*pos, tag, tag_len) != 0)
        return NULL;
    const char *value = *pos + tag_len;
    const char *nl = memchr(value, '\n', (size_t)(end - value));
    if (!nl)
        return NULL;
    *value_len = (size_t)(nl - value);
    *pos = nl + 1;
    return value;
}

int origo_key_parse(const char *text, size_t len, origo_key **out)
{
    if (!text || !out)
        return ORIGO_E_INVAL;
    if (len > ORIGO_KEYFILE_MAX)
        return ORIGO_E_TOOBIG;
    const char *pos = text, *end = text + len;
    size_t magic_len = sizeof(keyfile_magic) - 1;
    if (len < magic_len || memcmp(text, keyfile_magic, magic_len) != 0) {
        /* "origo-key v<digits>\n" of another version: say so rather than
         * "malformed". */
        size_t digits = 0;
        while (11 + digits < len && text[11 + digits] >= '0' &&
               text[11 + digits] <= '9')
            digits++;
        if (len >= 11 && memcmp(text, "origo-key v", 11) == 0 && digits &&
            11 + digits < len && text[11 + digits] == '\n')
            return ORIGO_E_VERSION;
        return ORIGO_E_KEYFILE;
    }
    pos += magic_len;
    size_t name_len, seed_len, pub_len;
    const char *name = take_line(&pos, end, "name ", &name_len);
    const char *seed_b64 =
        name ? take_line(&pos, end, "seed ", &seed_len) : NULL;
    const char *pub_hex =
        seed_b64 ? take_line(&pos, end, "public ", &pub_len) : NULL;
    if (!pub_hex || pos != end || origo_keyname_check(name, name_len) != 0)
        return ORIGO_E_KEYFILE;
    uint8_t *seed = sodium_malloc(ORIGO_SEED_LEN);
    if (!seed)
        return ORIGO_E_NOMEM;
    int rc = ORIGO_E_KEYFILE;
    uint8_t pub[ORIGO_PUBKEY_LEN];
    if (b64_decode_exact(seed_b64, seed_len, seed, ORIGO_SEED_LEN) != 0 ||
        origo_pubkey_from_hex(pub_hex, pub_len, pub) != 0)
        goto err_after_seed;
    origo_key *key;
    rc = key_new(name, name_len, seed, &key);
    if (rc)
        goto err_after_seed;
    if (sodium_memcmp(key->pub, pub, ORIGO_PUBKEY_LEN) != 0) {
        rc = ORIGO_E_KEYFILE;
        origo_key_free(key);
        goto err_after_seed;
    }
    *out = key;
    rc = 0;
err_after_seed:
    sodium_free(seed);
    return rc;
}

/* ---- key file I/O ------------------------------------------------------- */

static int write_all(int fd, const char *bytes, size_t len)
{
    while (len) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ORIGO_E_IO;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Flushes the directory holding `path` so a rename or link survives a
 * crash. */
static int sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        memcpy(dir, ".", 2);
    } else if (slash == path) {
        memcpy(dir, "/", 2);
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(dir))
            return ORIGO_E_INVAL;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ORIGO_E_IO;
    int rc = fsync(fd) == 0 ? 0 : ORIGO_E_IO;
    close(fd);
    return rc;
}

/* Creates <path>.tmp.XXXXXX with mode 0600 and writes `text` into it. */
static int write_temp(const char *path, const char *text, size_t len, char *tmp,
                      size_t tmp_size)
{
    int n = snprintf(tmp, tmp_size, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= tmp_size)
        return ORIGO_E_INVAL;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno == ENOENT ? ORIGO_E_NOTFOUND : ORIGO_E_IO;
    int rc = fchmod(fd, 0600) == 0 ? 0 : ORIGO_E_IO;
    if (!rc)
        rc = write_all(fd, text, len);
    if (!rc && fsync(fd) != 0)
        rc = ORIGO_E_IO;
    if (close(fd) != 0 && !rc)
        rc = ORIGO_E_IO;
    if (rc)
        unlink(tmp);
    return rc;
}

int origo_key_save(const origo_key *key, const char *path, unsigned flags)
{
    if (!key || !path || !*path || (flags & ~ORIGO_KEY_SAVE_OVERWRITE))
        return ORIGO_E_INVAL;
    char *text = sodium_malloc(KEYFILE_TEXT_MAX);
    if (!text)
        return ORIGO_E_NOMEM;
    int rc = ORIGO_E_INTERNAL;
    size_t len = keyfile_render(key, text, KEYFILE_TEXT_MAX);
    if (len == 0)
        goto err_after_text;
    char tmp[PATH_MAX];
    rc = write_temp(path, text, len, tmp, sizeof(tmp));
    if (rc)
        goto err_after_text;
    if (flags & ORIGO_KEY_SAVE_OVERWRITE) {
        rc = rename(tmp, path) == 0 ? 0 : ORIGO_E_IO;
    } else {
        /* link() fails if path exists: an atomic "create, never replace". */
        rc = link(tmp, path) == 0 ? 0
             : errno == EEXIST    ? ORIGO_E_EXISTS
                                  : ORIGO_E_IO;
    }
    if (rc || !(flags & ORIGO_KEY_SAVE_OVERWRITE))
        unlink(tmp);
    if (!rc)
        rc = sync_parent(path);
err_after_text:
    sodium_free(text);
    return rc;
}

static int read_all(int fd, char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ORIGO_E_IO;
        got += (size_t)n;
    }
    return 0;
}

int origo_key_load(const char *path, origo_key **out)
{
    if (!path || !out)
        return ORIGO_E_INVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT   ? ORIGO_E_NOTFOUND
               : errno == EACCES ? ORIGO_E_PERM
                                 : ORIGO_E_IO;
    int rc;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = ORIGO_E_IO;
        goto err_after_open;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ORIGO_E_KEYFILE;
        goto err_after_open;
    }
    if (st.st_mode & 077) {
        rc = ORIGO_E_PERM;
        goto err_after_open;
    }
    if (st.st_size > ORIGO_KEYFILE_MAX) {
        rc = ORIGO_E_TOOBIG;
        goto err_after_open;
    }
    size_t len = (size_t)st.st_size;
    char *text = sodium_malloc(len + 1);
    if (!text) {
        rc = ORIGO_E_NOMEM;
        goto err_after_open;
    }
    rc = read_all(fd, text, len);
    if (!rc)
        rc = origo_key_parse(text, len, out);
    sodium_free(text);
err_after_open:
    close(fd);
    return rc;
}
