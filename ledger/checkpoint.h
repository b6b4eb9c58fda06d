/* Internal to the ledger: checkpoint signature lines, shared by
 * checkpoint.c (storing) and audit.c (re-verifying). */
#ifndef ORIGO_LEDGER_CHECKPOINT_H
#define ORIGO_LEDGER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A parsed signature line "\u2014 <name> <base64(key ID || sig)>". */
typedef struct checkpoint_line {
    char name[GENESIS_NAME_MAX + 1];
    uint8_t key_id[4];
    uint8_t sig[64];
} checkpoint_line;

/* Parses one line (a final "\n" is allowed). Only Ed25519 (68-byte)
 * signatures are accepted. Returns 0 or ORIGO_E_NOTE_FORMAT. */
int checkpoint_parse_line(const char *line, size_t len, checkpoint_line *out);

/* The C2SP key ID of an Ed25519 (type 0x01) key. */
void checkpoint_key_id(const char *name, const uint8_t pub[32], uint8_t out[4]);

/* Finds the validator the line names (name and key ID) and verifies the
 * signature over `body`. Returns 0 and *which; ORIGO_E_PERM when no
 * validator matches; ORIGO_E_SIGNATURE when the match does not verify. */
int checkpoint_verify_line(const store_validator *validators, size_t count,
                           const char *body, size_t body_len,
                           const checkpoint_line *cl, size_t *which);

/* The tree size of the latest quorum-signed checkpoint (meta
 * "ckpt_latest"). Returns 0, ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT. */
int checkpoint_latest_size(ledger *led, MDB_txn *txn, uint64_t *size);

#endif
