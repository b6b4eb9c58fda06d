/* Internal to the ledger: the membership history table. Each change of a
 * member is a new row keyed (public key, first leaf index it applies to),
 * so validation can ask "who was this key at this point of the log" with
 * one cursor seek, and nothing is ever overwritten. */
#ifndef ORIGO_LEDGER_MEMBERS_H
#define ORIGO_LEDGER_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A member as of some point of the log. */
typedef struct member_record {
    int active;     /* 0 once removed, or once its key was rotated away */
    uint32_t roles; /* ORIGO_ROLE_* bits */
    uint64_t from;  /* first leaf index this record applies to */
    /* The member's identity: the key it first had. Lots, namespaces, holds
     * and names refer to members by it, so a key rotation keeps them. */
    uint8_t identity[32];
    uint64_t revoked_from; /* this key counts as compromised from this Unix
                              ms time on (0: never) */
    char name[GENESIS_NAME_MAX + 1];
} member_record;

/* Writes the row (pub, from_leaf) of a member whose identity is its own
 * key. Returns 0, ORIGO_E_INVAL (name too long), ORIGO_E_MAP_FULL,
 * ORIGO_E_STORE. */
int members_put(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                uint64_t from_leaf, int active, uint32_t roles,
                const char *name, size_t name_len);
/* The same with an explicit identity and revocation time (key rotation). */
int members_put_ex(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                   uint64_t from_leaf, int active, uint32_t roles,
                   const char *name, size_t name_len,
                   const uint8_t identity[32], uint64_t revoked_from);

/* The record of `pub` that applies to an event at leaf position `position`
 * (the newest row with from <= position). Returns 0, ORIGO_E_NOTFOUND,
 * ORIGO_E_CORRUPT, ORIGO_E_STORE. */
int members_get(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                uint64_t position, member_record *out);

/* Member names are unique for good (authority.md, "Governance"): the
 * `member_names` table maps every name a member ever had to the member's
 * current key, so no other member can take it, even after the member is
 * removed.
 * members_name_get: 0 and pub, ORIGO_E_NOTFOUND, ORIGO_E_CORRUPT,
 * ORIGO_E_STORE. members_name_put: 0, ORIGO_E_STORE, ORIGO_E_MAP_FULL. */
int members_name_get(ledger *led, MDB_txn *txn, const char *name, size_t len,
                     uint8_t pub[32]);
int members_name_put(ledger *led, MDB_txn *txn, const char *name, size_t len,
                     const uint8_t pub[32]);

/* Calls fn(ctx, leaf) for the leaf of every member event at which a
 * membership change took effect below `tree_size` (a row applying from
 * leaf + 1), in no order and possibly more than once for one leaf (a
 * rotation writes two rows). Returns 0, fn's error or a store error. */
int members_change_leaves(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          int (*fn)(void *ctx, uint64_t leaf), void *ctx);

#endif
