/* Internal to the ledger: the lot index's writers, called by apply in the
 * block's write transaction (docs/formats/lot-index.md, "Storage"). */
#ifndef ORIGO_LEDGER_LOTINDEX_STORE_H
#define ORIGO_LEDGER_LOTINDEX_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "lotindex_mem.h"
#include "trace_facts.h"

/* The tree in memory, for benchmarks' statistics. */
struct lotindex_mem *ledger_lot_index_mem(ledger *led);

/* The keys a block touched, for one tree update at its end. */
typedef struct lotindex_batch {
    lotindex_place *places; /* each change: key, count and head after it */
    size_t n, cap;
} lotindex_batch;
void lotindex_batch_free(lotindex_batch *b);

/* Appends the event at `leaf`, committed by a block of `block_time`, to
 * the chain of every (lot, role) it names
 * (lotindex_roles()) and notes the keys in b. Returns 0, ORIGO_E_NOMEM or
 * a store error. */
int lotindex_add_event(ledger *led, MDB_txn *txn, lotindex_batch *b,
                       uint64_t leaf, uint64_t block_time,
                       const struct trace_facts *facts,
                       const uint8_t event_id[32]);
/* The same for one (lot, role). */
int lotindex_add(ledger *led, MDB_txn *txn, lotindex_batch *b, uint64_t leaf,
                 uint64_t block_time, int role, const char *lot, size_t lot_len,
                 const uint8_t event_id[32]);
/* Puts the keys of b into the map with their chains' values and stores
 * the root as the index root at `tree_size` (the block's end); empties
 * b. Returns 0, ORIGO_E_NOMEM or a store error. */
int lotindex_commit(ledger *led, MDB_txn *txn, lotindex_batch *b,
                    uint64_t tree_size);

/* Starts the membership chain with the genesis (lotindex_members_seed())
 * and stores the index root at tree size 0, in the transaction that
 * creates the store. Returns 0, ORIGO_E_NOMEM or a store error. */
int lotindex_seed(ledger *led, MDB_txn *txn, const uint8_t genesis_hash[32]);

#endif
