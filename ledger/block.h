/* Internal to the ledger: block hashing and the encodings of the `rejects`
 * and `event_ids` tables shared by apply.c, block.c and audit.c. */
#ifndef ORIGO_LEDGER_BLOCK_H
#define ORIGO_LEDGER_BLOCK_H

#include "origo/hash.h"
#include <lmdb.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* SHA-256("origo/block/v2\0" || header). */
void block_hash(const uint8_t *header, size_t len, uint8_t out[32]);

/* The header's envelopes_hash: SHA-256 over (u32 big-endian length ||
 * bytes) of every envelope of the block in order, accepted and rejected.
 * init, one add per envelope, final. */
void block_content_init(origo_sha256_state *st);
void block_content_add(origo_sha256_state *st, const uint8_t *envelope,
                       size_t len);
void block_content_final(origo_sha256_state *st, uint8_t out[32]);

/* Where block_walk() found the stored envelopes of a block incomplete. */
typedef struct block_gap {
    const char *table; /* LEDGER_DBI_EVENTS, _REJECTS or _BLOCKS */
    uint32_t position; /* envelope position in the block */
    uint64_t leaf;     /* events: the missing leaf index */
    const char *what;  /* static text */
} block_gap;

typedef int (*block_walk_fn)(void *ctx, uint32_t position, const uint8_t *data,
                             size_t len, int status);

/* ledger_block_envelopes() for a decoded header: visits exactly
 * h->envelope_count envelopes. Returns 0, the visitor's non-zero return,
 * ORIGO_E_CORRUPT with *gap (may be NULL) saying what is missing or extra,
 * or a store error. */
int block_walk(ledger *led, MDB_txn *txn, const ledger_block_header *h,
               block_walk_fn visit, void *ctx, block_gap *gap);

/* `event_ids` is keyed by the first 16 bytes of the event ID (docs/formats/
 * block.md, "Storage"): half the key bytes of the table that grows with
 * every event. */
#define BLOCK_ID_KEY_LEN 16

/* `rejects` key: height (8, big-endian) || position in the block (4). */
void block_reject_key(uint8_t out[12], uint64_t height, uint32_t position);

/* Decodes an `event_ids` value (a committed one has no height: 0). Returns
 * 0 or ORIGO_E_CORRUPT. */
int block_id_decode(const MDB_val *val, ledger_event_info *out);

/* The height of the block that committed `leaf`, by binary search over the
 * block headers (O(log height) reads). Returns 0, ORIGO_E_NOTFOUND (leaf
 * beyond the tree), ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int block_height_of_leaf(ledger *led, MDB_txn *txn, uint64_t leaf,
                         uint64_t *height);

#endif
