/* Internals of the trace module shared by trace.c, trace_event.c and the
 * tests: the raw index writers that trace_index_event() is built from, and
 * the big-endian leaf encoding of the index values. Not a public API. */
#ifndef ORIGO_LEDGER_TRACE_INTERNAL_H
#define ORIGO_LEDGER_TRACE_INTERNAL_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

void trace_put_be64(uint8_t out[8], uint64_t value);
uint64_t trace_get_be64(const uint8_t in[8]);

/* Each writer adds one dupsort value inside `txn` (a write transaction);
 * writing a value that is already there is a no-op. Lots must be 1 to
 * TRACE_LOT_MAX bytes (ORIGO_E_LOT otherwise). Return 0, ORIGO_E_LOT,
 * ORIGO_E_MAP_FULL or ORIGO_E_STORE. */

/* lot -> leaf in trace_lot_events. */
int trace_put_lot_event(MDB_txn *txn, const struct trace_tables *tables,
                        const char *lot, size_t len, uint64_t leaf_index);
/* Genealogy edge `from` went into `to`, stated by leaf `leaf_index`: both
 * trace_lot_inputs[to] and trace_lot_outputs[from]. */
int trace_put_edge(MDB_txn *txn, const struct trace_tables *tables,
                   const char *from, size_t from_len, const char *to,
                   size_t to_len, uint64_t leaf_index);
/* Custody record (TRACE_CUSTODY_SHIP or _RECEIVE) of `lot`: sender `from`,
 * receiver `to` (each cut at TRACE_PARTY_MAX bytes). */
int trace_put_custody(MDB_txn *txn, const struct trace_tables *tables,
                      const char *lot, size_t len, uint64_t leaf_index,
                      int kind, const char *from, size_t from_len,
                      const char *to, size_t to_len);
/* Hold, release or recall (TRACE_HOLD, TRACE_RELEASE, TRACE_RECALL). */
int trace_put_hold(MDB_txn *txn, const struct trace_tables *tables,
                   const char *lot, size_t len, uint64_t leaf_index, int kind);
/* 32-byte key (document hash or submitter key) -> leaf in `dbi`. */
int trace_put_key_event(MDB_txn *txn, MDB_dbi dbi, const uint8_t key[32],
                        uint64_t leaf_index);

#endif
