/* C2SP signed notes v1.0.0, verifier keys, tlog-checkpoint v1.0.0 bodies and
 * tlog-cosignature (cosignature/v1) lines (docs/formats/checkpoint.md).
 *
 * A signed note is a UTF-8 text ending in "\n", an empty line, then one or
 * more lines "\u2014 <key name> <base64(key ID || signature)>\n". The parser
 * is strict: valid UTF-8, no control characters but "\n" (so no "\r"), key
 * names non-empty without Unicode spaces or '+', canonical base64, fixed
 * limits on size, line length and signature count. Every accepted note
 * formats back to the identical bytes.
 *
 * Signature types: 0x01 = Ed25519 over the note text (checkpoint signers,
 * i.e. validators); 0x04 = tlog-cosignature/v1 (witnesses): Ed25519 over
 * "cosignature/v1\ntime <t>\n" || checkpoint text, carried as 8-byte
 * big-endian t || signature. Key ID = first 4 bytes of SHA-256(name ||
 * 0x0A || type || public key).
 *
 * Verification counts distinct trusted keys with a valid signature: lines
 * whose (name, key ID) match no trusted key are ignored, a key that signs
 * twice counts once, and a line that matches a trusted key but does not
 * verify fails the whole note (a trusted key never signs garbage).
 *
 * Objects are not shared between threads without external locking; all
 * functions may be called from any thread on distinct objects. */
#ifndef ORIGO_NOTE_H
#define ORIGO_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ORIGO_NOTE_WUR __attribute__((warn_unused_result))
#else
#define ORIGO_NOTE_WUR
#endif

/* Limits. A note (text and signatures) is at most ORIGO_NOTE_MAX_BYTES; no
 * line is longer than ORIGO_NOTE_MAX_LINE bytes without its "\n". A
 * signature may be up to ORIGO_NOTE_MAX_SIG_LEN bytes after its key ID, so
 * that notes carrying post-quantum signatures of unknown keys (nearly 5 kB,
 * as signed-note v1.0.0 warns) still parse; 16 such lines fit in a note. */
#define ORIGO_NOTE_MAX_BYTES 131072
#define ORIGO_NOTE_MAX_LINE 8192
#define ORIGO_NOTE_MAX_SIGS 64
#define ORIGO_NOTE_MAX_SIG_LEN 5000 /* decoded signature bytes after key ID */

/* Signature algorithm bytes (they enter the key ID). */
#define ORIGO_NOTE_ALG_ED25519 0x01
#define ORIGO_NOTE_ALG_COSIGNATURE_V1 0x04

/* ---- keys -------------------------------------------------------------
 * Checkpoint signers (validators) are identified by the type-0x01 verifier
 * keys of origo/keys.h (origo_vkey, origo_vkey_parse, origo_vkey_format).
 * Witnesses use the same string form with algorithm byte 0x04,
 * "<name>+<key ID hex8>+<base64(0x04 || pubkey)>", handled here because
 * keys.h deliberately accepts only 0x01. */

/* A witness (cosigner) public key. Plain data. */
typedef struct origo_witness_key {
    char name[ORIGO_KEYNAME_MAX + 1]; /* NUL-terminated */
    size_t name_len;
    uint8_t key_id[ORIGO_KEYID_LEN];
    uint8_t pub[ORIGO_PUBKEY_LEN];
} origo_witness_key;

/* Builds a witness key from its name and Ed25519 public key (computes the
 * type-0x04 key ID). Returns 0 or ORIGO_E_VKEY for a bad name. */
int origo_witness_key_from_pub(const char *name, size_t name_len,
                               const uint8_t pub[ORIGO_PUBKEY_LEN],
                               origo_witness_key *out);

/* Parses "<name>+<hex8>+<base64(0x04 || pub)>" (exactly `len` bytes): name
 * rules of keys.h, lower-case hex key ID equal to the computed one,
 * canonical base64 of 33 bytes starting with 0x04. Returns 0 or
 * ORIGO_E_VKEY. */
int origo_witness_key_parse(const char *text, size_t len,
                            origo_witness_key *out);

/* Writes the NUL-terminated string form into out (out_size >=
 * ORIGO_VKEY_MAX + 1 always suffices); *out_len (may be NULL) gets its
 * length. Returns 0 or ORIGO_E_TOOBIG. */
int origo_witness_key_format(const origo_witness_key *key, char *out,
                             size_t out_size, size_t *out_len);

/* Key ID of (name, algorithm byte, public key): the first 4 bytes of
 * SHA-256(name || 0x0A || alg || pub). */
void origo_note_key_id(const char *name, size_t name_len, uint8_t alg,
                       const uint8_t pub[ORIGO_PUBKEY_LEN],
                       uint8_t key_id[ORIGO_KEYID_LEN]);

/* ---- signed notes ----------------------------------------------------- */

/* One signature line. Plain data. */
typedef struct origo_note_sig {
    char name[ORIGO_KEYNAME_MAX + 1]; /* NUL-terminated key name */
    uint8_t key_id[4];
    uint8_t sig[ORIGO_NOTE_MAX_SIG_LEN]; /* bytes after the key ID */
    size_t sig_len;
} origo_note_sig;

/* A parsed or built note. The fields are read-only for callers. */
typedef struct origo_note {
    char *text;           /* owned, NUL-terminated, ends in "\n" */
    size_t text_len;      /* bytes of text without the NUL */
    origo_note_sig *sigs; /* owned array of sig_count entries, in order */
    size_t sig_count;
} origo_note;

/* Parses a signed note of exactly `len` bytes into a new note (*out).
 * Unknown signature types are kept (they round-trip) but never verify.
 * Returns 0; ORIGO_E_NOTE_FORMAT (with no partial output) for any
 * malformation; ORIGO_E_NOTE_NO_SIG when there are no signature lines;
 * ORIGO_E_TOOBIG past the limits above; ORIGO_E_NOMEM. */
int origo_note_parse(const uint8_t *data, size_t len, origo_note **out);

/* Creates an unsigned note over `text` (copied). The text must satisfy the
 * note rules: non-empty, valid UTF-8, no control characters but "\n", ends
 * in "\n", lines within ORIGO_NOTE_MAX_LINE. Returns 0, ORIGO_E_NOTE_FORMAT,
 * ORIGO_E_TOOBIG or ORIGO_E_NOMEM. */
int origo_note_new(const char *text, size_t text_len, origo_note **out);

/* Frees a note; NULL is a no-op. */
void origo_note_free(origo_note *note);

/* Appends the note's bytes (text, "\n", signature lines) to `out`. Returns 0,
 * ORIGO_E_NOTE_NO_SIG when the note has no signature, or the buffer's
 * error. */
int origo_note_format(const origo_note *note, origo_buf *out);

/* Signs the note text with Ed25519 (type 0x01) by `key` under the key's
 * own name (origo_key_name(), which is also the name its key ID is made
 * from) and appends the signature line. The secret stays in the key's
 * sodium_malloc() memory. Returns 0, ORIGO_E_INVAL (NULL argument),
 * ORIGO_E_VKEY (the key's name is not a valid note key name, e.g. it holds
 * a Unicode space), ORIGO_E_TOOBIG when the note is full, ORIGO_E_NOMEM.
 * Any thread; the key may be shared, the note may not. */
int origo_note_sign_key(origo_note *note, const origo_key *key);

/* Computes one Ed25519 (type 0x01) signature by `key` (under its own name)
 * over `text` without building a note, e.g. a validator signing a
 * checkpoint body to send to its peers; origo_note_sig_format() writes it as
 * a line. Returns 0, ORIGO_E_INVAL, ORIGO_E_VKEY as origo_note_sign_key(). */
int origo_note_sign_text_key(const char *text, size_t text_len,
                             const origo_key *key, origo_note_sig *out);

/* Adds a tlog-cosignature/v1 line (type 0x04) by witness `key` (under its
 * own name) with `timestamp` (seconds since the epoch). The note text must
 * be a valid checkpoint (ORIGO_E_CHECKPOINT otherwise). Other errors as
 * origo_note_sign_key(). */
int origo_note_cosign_key(origo_note *note, const origo_key *key,
                          uint64_t timestamp);

/* Appends one signature line, "\u2014 <name> <base64(key ID ||
 * signature)>\n", exactly as origo_note_format() writes it, to `out`.
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_NOTE_FORMAT (the checks of
 * origo_note_add_sig(): invalid name, empty or oversized signature), or
 * the buffer's error. */
int origo_note_sig_format(const origo_note_sig *sig, origo_buf *out);

/* The same three operations with a raw libsodium 64-byte Ed25519 secret key
 * (seed || pubkey, only read) and an explicit key name (NUL-terminated,
 * rules of origo_keyname_check). Prefer the origo_key forms above, which
 * keep the secret in guarded memory; these serve tests and callers whose
 * secret already lives elsewhere. */

/* Signs the note text (type 0x01) under `name` and appends the line.
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_VKEY for an invalid name or a NULL
 * secret key, ORIGO_E_TOOBIG when the note is full, ORIGO_E_NOMEM. */
int origo_note_sign(origo_note *note, const char *name,
                    const unsigned char secret_key[64]);

/* Adds a tlog-cosignature/v1 line (type 0x04) by witness `name` with
 * `timestamp` (seconds since the epoch). The note text must be a valid
 * checkpoint (ORIGO_E_CHECKPOINT otherwise). Errors as origo_note_sign(). */
int origo_note_cosign(origo_note *note, const char *name,
                      const unsigned char secret_key[64], uint64_t timestamp);

/* Appends a signature received from elsewhere (for example a peer's
 * signature over the same checkpoint) without checking it. Returns 0,
 * ORIGO_E_NOTE_FORMAT for an invalid name or empty signature,
 * ORIGO_E_TOOBIG when the note is full, ORIGO_E_NOMEM. */
int origo_note_add_sig(origo_note *note, const origo_note_sig *sig);

/* Computes one Ed25519 (type 0x01) signature over `text` under `name`
 * without building a note (raw-key form of origo_note_sign_text_key()).
 * Returns 0, ORIGO_E_INVAL, ORIGO_E_VKEY for an invalid name. */
int origo_note_sign_text(const char *text, size_t text_len, const char *name,
                         const unsigned char secret_key[64],
                         origo_note_sig *out);

/* Splits a cosignature/v1 signature into its timestamp and Ed25519
 * signature. Returns 0, or ORIGO_E_NOTE_FORMAT when sig_len != 72. */
int origo_cosig_decode(const origo_note_sig *sig, uint64_t *timestamp,
                       uint8_t ed25519_sig[64]);

/* Verification policy. A note passes when at least `quorum` distinct
 * trusted signer keys (type 0x01) signed it (0 means a majority:
 * floor(n / 2) + 1 of the distinct keys in `signers`) and at least
 * `witness_quorum` distinct witnesses cosigned it (0: none required). A key
 * listed twice counts once. The arrays are borrowed for the call. */
typedef struct origo_note_policy {
    const origo_vkey *signers;
    size_t signer_count;
    size_t quorum;
    const origo_witness_key *witnesses;
    size_t witness_count;
    size_t witness_quorum;
} origo_note_policy;

/* What verification found. */
typedef struct origo_note_verdict {
    size_t signers;         /* distinct trusted 0x01 keys that verified */
    size_t witnesses;       /* distinct trusted 0x04 keys that verified */
    size_t quorum;          /* the 0x01 quorum that was applied */
    uint64_t latest_cosign; /* newest verified cosignature time, 0 if none */
} origo_note_verdict;

/* Verifies the note's signatures under `policy`. *verdict (may be NULL) is
 * filled whenever the return is 0 or ORIGO_E_NOTE_QUORUM.
 * Returns 0 when the quorums are met; ORIGO_E_NOTE_QUORUM when they are
 * not; ORIGO_E_SIGNATURE when a line that names a trusted key (name and key
 * ID match) does not verify; ORIGO_E_INVAL when the policy has no signer
 * key, or a quorum larger than its distinct keys. */
ORIGO_NOTE_WUR int origo_note_verify(const origo_note *note,
                                     const origo_note_policy *policy,
                                     origo_note_verdict *verdict);

/* ---- tlog-checkpoint -------------------------------------------------- */

#define ORIGO_CHECKPOINT_MAX_ORIGIN 255

/* A checkpoint body "<origin>\n<tree size>\n<base64 root>\n[extensions]". */
typedef struct origo_checkpoint {
    char origin[ORIGO_CHECKPOINT_MAX_ORIGIN + 1]; /* NUL-terminated */
    uint64_t tree_size;
    uint8_t root[32];
    /* Extension lines, each non-empty and ending in "\n", concatenated;
     * NULL/0 when there are none. Borrowed: after parsing it points into the
     * parsed body and lives as long as those bytes. */
    const char *extensions;
    size_t extensions_len;
} origo_checkpoint;

/* Parses a checkpoint body (the note text, exactly `len` bytes): origin
 * non-empty, tree size decimal without leading zeros (except "0") and at
 * most 2^64 - 1, root canonical base64 of 32 bytes, optional non-empty
 * extension lines. Returns 0 or ORIGO_E_CHECKPOINT. */
int origo_checkpoint_parse(const char *body, size_t len, origo_checkpoint *out);

/* Appends the body to `out`. Returns 0, ORIGO_E_CHECKPOINT for an invalid
 * struct (empty origin, origin with "\n", bad extension lines) or the
 * buffer's error. */
int origo_checkpoint_format(const origo_checkpoint *checkpoint, origo_buf *out);

/* Parses a signed checkpoint note, verifies it under `policy`, parses the
 * body and, when `origin` is not NULL, requires that origin. On success
 * *note_out owns the note and *checkpoint_out borrows its extensions from
 * it. Returns 0, the errors of origo_note_parse(), origo_note_verify() and
 * origo_checkpoint_parse(), or ORIGO_E_ORIGIN. */
ORIGO_NOTE_WUR int origo_checkpoint_open(const uint8_t *data, size_t len,
                                         const origo_note_policy *policy,
                                         const char *origin,
                                         origo_checkpoint *checkpoint_out,
                                         origo_note **note_out);

#ifdef __cplusplus
}
#endif
#endif
