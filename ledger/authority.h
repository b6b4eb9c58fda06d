/* Internal to the ledger: who may state what (docs/formats/authority.md,
 * rule version 1). For every event, given the signer's membership, decide
 * from the ledger's state whether the signer had the right to state it,
 * and record what an accepted event changes: lots with their owner and
 * holder, open shipments, holds in force with their authors. The same
 * functions serve apply on every validator, audit's replay and, later, the
 * node's pre-validation. Deterministic: they read only the event, the
 * state in `txn` and the block time. */
#ifndef ORIGO_LEDGER_AUTHORITY_H
#define ORIGO_LEDGER_AUTHORITY_H

#include <stdint.h>

#include "origo/event.h"

#include "members.h"
#include "store.h"

/* A lot's record in the `lots` table (authority.md, "State"). */
typedef struct authority_lot {
    uint8_t owner[32];      /* the member that created it */
    uint8_t holder[32];     /* the member that has it (possessing party) */
    uint8_t transit_to[32]; /* shipped to this member, not yet received;
                               all zero when not in transit */
    uint64_t created_leaf;
    uint64_t created_ts; /* ts of the creating event */
    uint64_t since_ts;   /* ts of the last change of custody */
    /* Quantities (authority.md, "Quantities"): what was made, in its unit,
     * and the sum of what transforms consumed; empty for a lot created by
     * EPCIS commissioning, whose quantities stay in its JSON. */
    char qty[ORIGO_DECIMAL_MAX + 1];
    char unit[ORIGO_UNIT_MAX + 1];
    char consumed[ORIGO_DECIMAL_MAX + 1]; /* "0" until consumed */
} authority_lot;

/* Checks the event (already decoded, schema-valid, signed by the active
 * member `who`, whose role may submit its type) against the authority
 * rules as of the state in `txn`. Returns 0 with *reason 0 (allowed) or a
 * rejection code in *reason (ORIGO_E_LOT_EXISTS, ORIGO_E_NAMESPACE,
 * ORIGO_E_NOT_HOLDER, ORIGO_E_NO_SHIPMENT, ORIGO_E_PARTY,
 * ORIGO_E_LOT_UNKNOWN, ORIGO_E_INPUT_LOT, ORIGO_E_NOT_AUTHOR,
 * ORIGO_E_NOT_OWNER, ORIGO_E_NAME_TAKEN, ORIGO_E_ADMIN_QUORUM,
 * ORIGO_E_SELF_GRANT, ORIGO_E_BEFORE_LOT, ORIGO_E_UNIT, ORIGO_E_TIMESTAMP,
 * ORIGO_E_ROLE); or a negative store error (ORIGO_E_STORE,
 * ORIGO_E_CORRUPT, ORIGO_E_NOMEM) that aborts the block. */
int authority_check(ledger *led, MDB_txn *txn, const origo_event *ev,
                    const member_record *who, uint64_t position,
                    uint64_t block_time, int *reason);

/* Records what an accepted event changes (call after authority_check()
 * allowed it, in the same transaction): lots, custody, holds; for a member
 * event, the admin's approval, and the membership change itself once
 * params.admin_quorum distinct active admins have approved the same change
 * within params.approval_window_ms (it then applies from leaf + 1), with
 * *member_changed set to 1 (the event then joins the membership chain of
 * the lot index). Returns 0 or a store error. */
int authority_apply(ledger *led, MDB_txn *txn, const origo_event *ev,
                    uint64_t leaf, uint64_t block_time, int *member_changed);

/* Reads a lot's record: 0, ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT,
 * ORIGO_E_STORE. */
int authority_lot_get(ledger *led, MDB_txn *txn, const char *lot, size_t len,
                      authority_lot *out);

#endif
