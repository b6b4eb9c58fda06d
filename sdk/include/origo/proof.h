/* C2SP tlog-proof@v1 files (docs/formats/checkpoint.md): an offline proof
 * that one entry is in the log.
 *
 *   c2sp.org/tlog-proof@v1\n
 *   extra <base64>\n          (optional; Origo puts the event envelope here)
 *   index <decimal>\n
 *   <base64 proof hash>\n     (zero or more, RFC 9162 order)
 *   \n
 *   <signed checkpoint note>
 *
 * In Origo the logged leaf is the envelope itself, so the leaf hash is
 * SHA-256(0x00 || extra). Checking the event signature inside the envelope
 * is the caller's job (events API). Any thread, distinct objects. */
#ifndef ORIGO_PROOF_H
#define ORIGO_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/merkle.h"
#include "origo/note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORIGO_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* Largest accepted file and largest decoded extra. */
#define ORIGO_TLOG_PROOF_MAX_BYTES (4u << 20)
#define ORIGO_TLOG_PROOF_MAX_EXTRA (2u << 20)

/* A parsed proof. Fields are read-only for callers. */
typedef struct origo_tlog_proof {
    int has_extra;
    uint8_t *extra; /* owned decoded bytes (NULL when has_extra == 0) */
    size_t extra_len;
    uint64_t index;
    uint8_t hashes[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t hash_count;
    origo_note *note;            /* owned signed checkpoint */
    origo_checkpoint checkpoint; /* parsed from note->text (borrows it) */
} origo_tlog_proof;

/* Parses a tlog-proof file of exactly `len` bytes into *out (owned; free
 * with origo_tlog_proof_free). Strict: the header line, at most one extra
 * line (canonical base64, may be empty), index without leading zeros, at
 * most ORIGO_MERKLE_MAX_PROOF canonical 32-byte hashes, one empty line, then
 * a signed note whose text is a valid checkpoint. It does not verify
 * anything. Returns 0, ORIGO_E_PROOF_FORMAT, the note's parse errors,
 * ORIGO_E_CHECKPOINT, ORIGO_E_TOOBIG or ORIGO_E_NOMEM. */
int origo_tlog_proof_parse(const uint8_t *data, size_t len,
                           origo_tlog_proof **out);

/* Frees a proof; NULL is a no-op. */
void origo_tlog_proof_free(origo_tlog_proof *proof);

/* Appends the file form of `proof` to `out`: parse then format gives the
 * identical bytes. Returns 0, ORIGO_E_INVAL for an inconsistent struct, or
 * the buffer's / note's error. */
int origo_tlog_proof_format(const origo_tlog_proof *proof, origo_buf *out);

/* Builds a proof file from parts: `extra` (may be NULL to omit the line),
 * the leaf index, the inclusion proof and a signed checkpoint note (only
 * read). Appends to `out`. Does not verify. Returns 0, ORIGO_E_INVAL,
 * ORIGO_E_TOOBIG or the buffer's error. */
int origo_tlog_proof_write(const uint8_t *extra, size_t extra_len,
                           uint64_t index,
                           const uint8_t (*hashes)[ORIGO_HASH_LEN],
                           size_t hash_count, const origo_note *checkpoint,
                           origo_buf *out);

/* Parses and verifies a proof: the checkpoint note under `policy`, the
 * origin when `origin` is not NULL, an extra line present, and the
 * inclusion of SHA-256(0x00 || extra) at `index` in the checkpoint's tree.
 * On success *out (may be NULL) receives the parsed proof and *verdict (may
 * be NULL) the signature counts.
 * Returns 0; the parse errors; the errors of origo_note_verify();
 * ORIGO_E_ORIGIN; ORIGO_E_PROOF_FORMAT when there is no extra line;
 * ORIGO_E_TREE_SIZE, ORIGO_E_PROOF_SIZE or ORIGO_E_PROOF from the inclusion
 * check. */
ORIGO_NOTE_WUR int origo_tlog_proof_verify(const uint8_t *data, size_t len,
                                           const origo_note_policy *policy,
                                           const char *origin,
                                           origo_tlog_proof **out,
                                           origo_note_verdict *verdict);

#ifdef __cplusplus
}
#endif
#endif
