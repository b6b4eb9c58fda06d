/* Internal to the ledger: checkpoint signature lines, shared by
 * checkpoint.c (storing) and audit.c (re-verifying). Lines are parsed and
 * verified with the SDK's signed-note API (origo/note.h), so there is one
 * implementation of the line format. */
#ifndef ORIGO_LEDGER_CHECKPOINT_H
#define ORIGO_LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Longest signature line the ledger stores (without "\n"): an Ed25519
 * line with a 255-byte name is about 350 bytes. */
#define CHECKPOINT_LINE_MAX 512

/* Checks one signature line ("\u2014 <name> <base64(key ID || sig)>", a
 * final "\n" allowed) over the checkpoint `body`: the note body || "\n" ||
 * line is parsed with origo_note_parse() (exactly one signature, Ed25519,
 * 64 bytes), the validator with that name and key ID (origo_vkey_id) is
 * looked up in `validators`, and origo_note_verify() verifies it under a
 * policy of that one key. Returns 0 and *which (index into validators);
 * ORIGO_E_NOTE_FORMAT (malformed line); ORIGO_E_PERM (no validator has
 * that name and key ID); ORIGO_E_SIGNATURE (it does not verify);
 * ORIGO_E_NOMEM. */
int checkpoint_check_line(const store_validator *validators, size_t count,
                          const char *body, size_t body_len, const char *line,
                          size_t line_len, size_t *which);

/* The tree size of the latest quorum-signed checkpoint (meta
 * "ckpt_latest"). Returns 0, ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT. */
int checkpoint_latest_size(ledger *led, MDB_txn *txn, uint64_t *size);
/* The same for the lot index note (meta "lidx_latest"). */
int lotindex_latest_size(ledger *led, MDB_txn *txn, uint64_t *size);

#endif
