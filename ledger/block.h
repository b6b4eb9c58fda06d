/* Internal to the ledger: block hashing and the encodings of the `rejects`
 * and `event_ids` tables shared by apply.c, block.c and audit.c. */
#ifndef ORIGO_LEDGER_BLOCK_H
#define ORIGO_LEDGER_BLOCK_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* SHA-256("origo/block/v1\0" || header). */
void block_hash(const uint8_t *header, size_t len, uint8_t out[32]);

/* `rejects` key: height (8, big-endian) || position in the block (4). */
void block_reject_key(uint8_t out[12], uint64_t height, uint32_t position);

/* Decodes an `event_ids` value. Returns 0 or ORIGO_E_CORRUPT. */
int block_id_decode(const MDB_val *val, ledger_event_info *out);

#endif
