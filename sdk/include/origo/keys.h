/* Ed25519 keys: secret key handles, key files, strict verification and the
 * public-key text forms (docs/formats/keys.md).
 *
 * A secret key lives in sodium_malloc() memory behind the opaque origo_key
 * handle and is wiped when the handle is freed. Public keys are plain 32-byte
 * arrays. Every verifier here uses libsodium's strict verification
 * (crypto_sign_verify_detached of libsodium >= 1.0.18, which rejects
 * small-order R and A and non-canonical S) and additionally rejects public
 * keys that are not canonical points of the prime-order subgroup.
 *
 * Threads: a key handle may be used for signing by several threads at once
 * (signing only reads it); freeing it must not race with any use. All other
 * functions are pure and may be called from any thread. None of them needs
 * a prior sodium_init(): they initialise libsodium themselves and return
 * ORIGO_E_SODIUM if that fails. */
#ifndef ORIGO_KEYS_H
#define ORIGO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ORIGO_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define ORIGO_WARN_UNUSED
#endif

#define ORIGO_PUBKEY_LEN 32 /* Ed25519 public key */
#define ORIGO_SEED_LEN 32   /* Ed25519 secret seed */
#define ORIGO_SIG_LEN 64    /* Ed25519 signature */
#define ORIGO_KEYID_LEN 4   /* C2SP note key ID */
/* Longest key name in bytes. Names are non-empty UTF-8 with no
 * whitespace (ASCII controls and space, DEL, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and no '+', as
 * C2SP signed-note v1.0.0 requires of key names. */
#define ORIGO_KEYNAME_MAX 255
/* Longest verifier-key string: name + '+' + 8 hex + '+' + base64 of 33
 * bytes (44 chars), without the terminating NUL. */
#define ORIGO_VKEY_MAX (ORIGO_KEYNAME_MAX + 1 + 8 + 1 + 44)
/* A key file is small; anything larger is rejected before parsing. */
#define ORIGO_KEYFILE_MAX 1024

/* ---- secret keys -------------------------------------------------------- */

/* Opaque handle: name, seed, secret and public key, in sodium_malloc()
 * memory (guarded pages, wiped and freed by origo_key_free()). */
typedef struct origo_key origo_key;

/* Generates a fresh random key called `name` (NUL-terminated; rules above).
 * Returns 0 and *out, ORIGO_E_INVAL (bad name), ORIGO_E_NOMEM,
 * ORIGO_E_SODIUM. The caller owns *out and frees it with origo_key_free(). */
int origo_key_generate(const char *name, origo_key **out);

/* Derives the key from a 32-byte seed (RFC 8032 secret key). Same returns
 * and ownership as origo_key_generate(). */
int origo_key_from_seed(const char *name, const uint8_t seed[ORIGO_SEED_LEN],
                        origo_key **out);

/* Wipes and frees the key. NULL is a no-op. */
void origo_key_free(origo_key *key);

/* Borrowed views, valid until origo_key_free(key). */
const uint8_t *origo_key_public(const origo_key *key); /* 32 bytes */
const char *origo_key_name(const origo_key *key);      /* NUL-terminated */

/* Signs `msg` with plain Ed25519 (no prefix: callers that need a domain
 * separator, such as events and notes, prepend it to msg themselves).
 * Writes 64 bytes to sig. Returns 0 or ORIGO_E_INVAL. */
int origo_key_sign(const origo_key *key, const uint8_t *msg, size_t msg_len,
                   uint8_t sig[ORIGO_SIG_LEN]);

/* Like origo_key_sign() over the concatenation prefix || msg, without
 * copying msg. Returns 0, ORIGO_E_INVAL or ORIGO_E_NOMEM. */
int origo_key_sign_prefixed(const origo_key *key, const uint8_t *prefix,
                            size_t prefix_len, const uint8_t *msg,
                            size_t msg_len, uint8_t sig[ORIGO_SIG_LEN]);

/* ---- key files (docs/formats/keys.md) ------------------------------------
 * Text, exactly four LF-terminated lines:
 *     origo-key v1
 *     name <key name>
 *     seed <base64 (standard, padded) of the 32-byte seed>
 *     public <lower-case hex of the 32-byte public key>
 * The public line must match the seed (it catches corrupted files and lets
 * an operator read the public key without tools). */

/* Flags for origo_key_save(). */
#define ORIGO_KEY_SAVE_OVERWRITE 1u /* replace an existing file */

/* Writes the key file atomically: a temporary file (mode 0600) in the same
 * directory, fsync, then link() (default: fails with ORIGO_E_EXISTS if
 * `path` exists) or rename() (ORIGO_KEY_SAVE_OVERWRITE), then fsync of the
 * directory. Returns 0, ORIGO_E_EXISTS, ORIGO_E_IO, ORIGO_E_NOMEM or
 * ORIGO_E_INVAL. On failure no file is left behind at `path` that was not
 * there before. */
int origo_key_save(const origo_key *key, const char *path, unsigned flags);

/* Reads and parses a key file. Refuses files readable or writable by group
 * or others (ORIGO_E_PERM), like ssh does. Returns 0 and *out (caller frees
 * with origo_key_free()), ORIGO_E_IO, ORIGO_E_NOTFOUND, ORIGO_E_PERM,
 * ORIGO_E_TOOBIG, ORIGO_E_KEYFILE (malformed), ORIGO_E_NOMEM. The file's
 * bytes are read into sodium memory and wiped. */
int origo_key_load(const char *path, origo_key **out);

/* Parses key-file text held in memory (the caller wipes `text`). Same
 * returns and ownership as origo_key_load() minus the I/O codes. */
int origo_key_parse(const char *text, size_t len, origo_key **out);

/* ---- public keys and strict verification -------------------------------- */

/* Returns 0 when `pub` is a canonical encoding of a point of the
 * prime-order subgroup that is not of small order, else ORIGO_E_KEY.
 * ORIGO_E_SODIUM if libsodium cannot initialise. The subgroup check costs
 * about one signature verification, so each thread caches up to 256 keys it
 * has found valid (never an invalid one). */
ORIGO_WARN_UNUSED int origo_pubkey_check(const uint8_t pub[ORIGO_PUBKEY_LEN]);

/* Strict Ed25519 verification of `sig` over `msg` under `pub`. Lengths are
 * passed so that callers holding untrusted byte strings can hand them over
 * unchanged. Returns 0 when valid; ORIGO_E_KEY (pub_len != 32 or weak key),
 * ORIGO_E_SIGNATURE (sig_len != 64, small-order R, non-canonical S, or
 * mismatch), ORIGO_E_SODIUM. */
ORIGO_WARN_UNUSED int origo_ed25519_verify(const uint8_t *pub, size_t pub_len,
                                           const uint8_t *msg, size_t msg_len,
                                           const uint8_t *sig, size_t sig_len);

/* As origo_ed25519_verify() over prefix || msg (copies into a temporary
 * buffer; ORIGO_E_NOMEM possible). */
ORIGO_WARN_UNUSED int
origo_ed25519_verify_prefixed(const uint8_t *pub, size_t pub_len,
                              const uint8_t *prefix, size_t prefix_len,
                              const uint8_t *msg, size_t msg_len,
                              const uint8_t *sig, size_t sig_len);

/* Writes 64 lower-case hex digits and a NUL into out. */
void origo_pubkey_to_hex(const uint8_t pub[ORIGO_PUBKEY_LEN], char out[65]);

/* Parses exactly 64 hex digits (either case). Returns 0 and writes out, or
 * ORIGO_E_KEY for bad hex or length. Does not check the point; call
 * origo_pubkey_check() for that. */
int origo_pubkey_from_hex(const char *hex, size_t len,
                          uint8_t out[ORIGO_PUBKEY_LEN]);

/* ---- C2SP verifier keys: <name>+<hex keyid>+<base64(0x01 || pubkey)> ---- */

/* A parsed verifier key; `name` is NUL-terminated. */
typedef struct origo_vkey {
    char name[ORIGO_KEYNAME_MAX + 1];
    size_t name_len;
    uint8_t key_id[ORIGO_KEYID_LEN];
    uint8_t pub[ORIGO_PUBKEY_LEN];
} origo_vkey;

/* Checks a key name against the rules above: 0 or ORIGO_E_INVAL. */
int origo_keyname_check(const char *name, size_t len);

/* key_id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || pub). Returns 0,
 * ORIGO_E_INVAL (bad name) or ORIGO_E_SODIUM. */
int origo_vkey_id(const char *name, size_t name_len,
                  const uint8_t pub[ORIGO_PUBKEY_LEN],
                  uint8_t key_id[ORIGO_KEYID_LEN]);

/* Formats the verifier key into out (NUL-terminated). out_size must be at
 * least ORIGO_VKEY_MAX + 1 or the string's length + 1. Returns 0 and, if
 * out_len is not NULL, the length; ORIGO_E_INVAL (bad name), ORIGO_E_TOOBIG
 * (out too small). */
int origo_vkey_format(const char *name, size_t name_len,
                      const uint8_t pub[ORIGO_PUBKEY_LEN], char *out,
                      size_t out_size, size_t *out_len);

/* Formats the verifier key of a secret key's public half. Same returns. */
int origo_key_vkey(const origo_key *key, char *out, size_t out_size,
                   size_t *out_len);

/* Parses a verifier-key string (no surrounding whitespace, no newline).
 * Checks: name rules, 8 lower-case hex key ID, canonical padded base64 of
 * exactly 33 bytes, algorithm byte 0x01 (Ed25519), key ID equal to the
 * computed one, and origo_pubkey_check(). Returns 0 and *out, ORIGO_E_VKEY
 * (syntax, algorithm or key-ID mismatch) or ORIGO_E_KEY (weak key). */
int origo_vkey_parse(const char *text, size_t len, origo_vkey *out);

#ifdef __cplusplus
}
#endif
#endif
