/* Offline authority checks for v2 trace reports (docs/formats/
 * trace-report.md, "Authority"; docs/formats/authority.md): replays, from
 * the genesis and the membership chain a report carries, who every signer
 * was at its leaf, and from the lots' full creation, custody and quality
 * chains, who owned and held each lot of the answer at every event; then
 * checks every included event against the rules of rule version 1 as far
 * as they concern those lots. A report that depends on an event the rules
 * refuse (accepted by a ledger that did not apply them) does not verify.
 *
 * A second implementation of ledger/authority.c's rules, over memory
 * instead of LMDB: a verifier must not trust the ledger's code to judge
 * the ledger. Tests hold the two to the same verdicts.
 *
 * Block times come with the events: each chain step of the lot index
 * binds its event's block time, so the timestamp window is checked too.
 * What it cannot check offline: that a membership change had its
 * admin_quorum approvals within the approval window (the membership chain,
 * cosigned by the validators, states which member events took effect).
 *
 * No LMDB; any thread, distinct objects. */
#ifndef ORIGO_LEDGER_REPORT_AUTHORITY_H
#define ORIGO_LEDGER_REPORT_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>

#include "genesis.h"

/* One included event, in leaf order; the envelope was verified already,
 * and its block time proven by the lot index chains it is in. */
struct rauth_event {
    uint64_t leaf;
    uint64_t block_time; /* Unix ms */
    const uint8_t *envelope;
    size_t len;
};

/* A lot of the answer: the report holds its full in, other and custody
 * chains (and quality chain when the query needs it). */
struct rauth_lot {
    const char *ptr;
    size_t len;
};

/* How the signer stood to the first answer lot its event names, just
 * before the event. */
enum rauth_standing {
    RAUTH_NO_LOT = 0,  /* names no lot of the answer (a member event) */
    RAUTH_CREATOR,     /* brings the lot into being */
    RAUTH_OWNER,       /* created it and holds it */
    RAUTH_HOLDER,      /* holds it (possessing party), not its owner */
    RAUTH_RECEIVER,    /* the lot is in transit to it */
    RAUTH_THIRD_PARTY, /* none of these: an inspection, COA or hold */
};
const char *rauth_standing_name(int standing);

/* 1 when `type` (enum origo_event_type) is a member event: member events
 * are in a report for the membership chain. */
int rauth_is_member_event(int type);

/* Who signed one event, as of its leaf. */
struct rauth_signer {
    uint64_t leaf;
    const char *type; /* the event type's name (static) */
    char name[GENESIS_NAME_MAX + 1];
    uint32_t roles; /* ORIGO_ROLE_* */
    int standing;   /* enum rauth_standing */
    int revoked;    /* dated at or after its key's stated revocation */
};

/* Checks `events` (n, strictly increasing leaves) under `gen`, tracking
 * `lots` (lot_count); `quality` says the quality chains of those lots are
 * full (holds can be replayed). `signers` (n entries, may be NULL)
 * receives each event's attribution. Returns 0, or the rule's code
 * (ORIGO_E_NOT_MEMBER, ORIGO_E_ROLE, ORIGO_E_LOT_EXISTS, ORIGO_E_NAMESPACE,
 * ORIGO_E_INPUT_LOT, ORIGO_E_NOT_HOLDER, ORIGO_E_BEFORE_LOT,
 * ORIGO_E_LOT_UNKNOWN, ORIGO_E_NO_SHIPMENT, ORIGO_E_PARTY, ORIGO_E_UNIT,
 * ORIGO_E_NOT_AUTHOR, ORIGO_E_NOT_OWNER, ORIGO_E_SELF_GRANT,
 * ORIGO_E_NAME_TAKEN, ORIGO_E_NAMESPACE_TAKEN, ORIGO_E_ADMIN_QUORUM,
 * ORIGO_E_NOTFOUND, ORIGO_E_EXISTS) with *failed the index of the event
 * and errbuf naming the rule; or ORIGO_E_NOMEM, or a decoding error. */
int report_authority_check(const genesis *gen, const struct rauth_event *events,
                           size_t n, const struct rauth_lot *lots,
                           size_t lot_count, int quality,
                           struct rauth_signer *signers, size_t *failed,
                           char *errbuf, size_t errlen);

#endif
