/* Who may state what (docs/formats/authority.md, rule version 1): lots are
 * created once, by the owner of their namespace; only the holder consumes,
 * ships or aggregates a lot; a shipment names a member and only that member
 * receives it; quality events, inspections and COAs name lots that exist;
 * a hold is lifted by its authors or an auditor, a recall is made by the
 * owner or an auditor; member names are unique, no admin changes its own
 * membership, and a member change takes effect once params.admin_quorum
 * admins have approved it. The checks read only the event,
 * the ledger state of the transaction and the block time, so every validator
 * reaches the same verdict. */
#include "authority.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/error.h"

#include "trace_facts.h"

/* The fixed part of a `lots` value; then three length-prefixed texts:
 * quantity, unit, consumed. */
#define LOT_RECORD_LEN (3 * 32 + 3 * 8)
#define LOT_RECORD_MAX                                                         \
    (LOT_RECORD_LEN + 3 + 2 * ORIGO_DECIMAL_MAX + ORIGO_UNIT_MAX)

static const uint8_t zero_key[32];

/* Store failures abort the block; every other code is a verdict. */
static int is_fatal(int rc)
{
    return rc == ORIGO_E_STORE || rc == ORIGO_E_CORRUPT ||
           rc == ORIGO_E_NOMEM || rc == ORIGO_E_MAP_FULL ||
           rc == ORIGO_E_TXN_FULL;
}

/* ---- the lots table ------------------------------------------------------ */

/* Reads one length-prefixed text of at most `max` bytes into out. */
static int get_text(const uint8_t **pos, const uint8_t *end, char *out,
                    size_t max)
{
    if (*pos >= end || (size_t) * *pos > max ||
        (size_t)(end - *pos - 1) < **pos)
        return ORIGO_E_CORRUPT;
    size_t n = **pos;
    memcpy(out, *pos + 1, n);
    out[n] = '\0';
    *pos += 1 + n;
    return 0;
}

int authority_lot_get(ledger *led, MDB_txn *txn, const char *lot, size_t len,
                      authority_lot *out)
{
    MDB_val key = {len, (void *)lot}, val;
    int rc = mdb_get(txn, led->lots, &key, &val);
    if (rc)
        return store_err(rc);
    const uint8_t *v = val.mv_data, *end = v + val.mv_size;
    if (val.mv_size < LOT_RECORD_LEN + 3 || val.mv_size > LOT_RECORD_MAX)
        return ORIGO_E_CORRUPT;
    memcpy(out->owner, v, 32);
    memcpy(out->holder, v + 32, 32);
    memcpy(out->transit_to, v + 64, 32);
    out->created_leaf = store_get_be64(v + 96);
    out->created_ts = store_get_be64(v + 104);
    out->since_ts = store_get_be64(v + 112);
    const uint8_t *pos = v + LOT_RECORD_LEN;
    if ((rc = get_text(&pos, end, out->qty, ORIGO_DECIMAL_MAX)) ||
        (rc = get_text(&pos, end, out->unit, ORIGO_UNIT_MAX)) ||
        (rc = get_text(&pos, end, out->consumed, ORIGO_DECIMAL_MAX)))
        return rc;
    return pos == end ? 0 : ORIGO_E_CORRUPT;
}

static void put_text(uint8_t **pos, const char *text)
{
    size_t n = strlen(text);
    **pos = (uint8_t)n;
    memcpy(*pos + 1, text, n);
    *pos += 1 + n;
}

static int lot_put(ledger *led, MDB_txn *txn, origo_str lot,
                   const authority_lot *rec)
{
    uint8_t v[LOT_RECORD_MAX], *pos = v + LOT_RECORD_LEN;
    memcpy(v, rec->owner, 32);
    memcpy(v + 32, rec->holder, 32);
    memcpy(v + 64, rec->transit_to, 32);
    store_put_be64(v + 96, rec->created_leaf);
    store_put_be64(v + 104, rec->created_ts);
    store_put_be64(v + 112, rec->since_ts);
    put_text(&pos, rec->qty);
    put_text(&pos, rec->unit);
    put_text(&pos, rec->consumed);
    MDB_val key = {lot.len, (void *)lot.ptr}, val = {(size_t)(pos - v), v};
    return store_err(mdb_put(txn, led->lots, &key, &val, 0));
}

/* The lot's record; `missing` is the verdict when it does not exist. */
static int existing(ledger *led, MDB_txn *txn, origo_str lot, int missing,
                    authority_lot *rec)
{
    int rc = authority_lot_get(led, txn, lot.ptr, lot.len, rec);
    return rc == ORIGO_E_NOTFOUND ? missing : rc;
}

/* ---- namespaces ------------------------------------------------------------
 * The `namespaces` table maps "party:<segment>" and "gs1:<company prefix>"
 * to the key of the member that owns it (from genesis, or from member events
 * once approved); a namespace never changes owner. */

static int namespace_get(ledger *led, MDB_txn *txn, const char *text,
                         size_t len, uint8_t owner[32])
{
    MDB_val key = {len, (void *)text}, val;
    int rc = mdb_get(txn, led->namespaces, &key, &val);
    if (rc)
        return store_err(rc);
    if (val.mv_size != 32)
        return ORIGO_E_CORRUPT;
    memcpy(owner, val.mv_data, 32);
    return 0;
}

/* The owner of the gs1: namespace that prefixes 12 GS1 digits. */
static int gs1_owner(ledger *led, MDB_txn *txn, const char digits[12],
                     uint8_t owner[32])
{
    char text[4 + 12] = "gs1:";
    memcpy(text + 4, digits, 12);
    for (size_t n = 6; n <= 12; n++) {
        int rc = namespace_get(led, txn, text, 4 + n, owner);
        if (rc != ORIGO_E_NOTFOUND)
            return rc;
    }
    return ORIGO_E_NOTFOUND;
}

/* The key of the member owning the lot's namespace; ORIGO_E_NOTFOUND. */
static int lot_owner(ledger *led, MDB_txn *txn, origo_str lot,
                     uint8_t owner[32])
{
    char text[6 + 64] = "party:", digits[12];
    size_t seg_len = 0;
    switch (
        genesis_lot_namespace(lot.ptr, lot.len, text + 6, &seg_len, digits)) {
    case GENESIS_NS_PARTY:
        return namespace_get(led, txn, text, 6 + seg_len, owner);
    case GENESIS_NS_GS1:
        return gs1_owner(led, txn, digits, owner);
    default:
        return ORIGO_E_NOTFOUND;
    }
}

/* Whether namespace `ns` overlaps one that a member other than `member`
 * owns: the same party segment, or a company prefix that starts it or
 * that it starts (GS1 prefixes vary in length). */
static int namespace_taken(ledger *led, MDB_txn *txn, origo_str ns,
                           const uint8_t member[32])
{
    uint8_t owner[32];
    int rc;
    if (ns.len > 4 && memcmp(ns.ptr, "gs1:", 4) == 0) {
        for (size_t n = 4 + 6; n < ns.len; n++) {
            rc = namespace_get(led, txn, ns.ptr, n, owner);
            if (rc == 0 && memcmp(owner, member, 32) != 0)
                return ORIGO_E_NAMESPACE_TAKEN;
            if (rc && rc != ORIGO_E_NOTFOUND)
                return rc;
        }
        MDB_cursor *cur;
        MDB_val key = {ns.len, (void *)ns.ptr}, val;
        if ((rc = mdb_cursor_open(txn, led->namespaces, &cur)))
            return store_err(rc);
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        for (; rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
            if (key.mv_size < ns.len || memcmp(key.mv_data, ns.ptr, ns.len))
                break;
            if (val.mv_size != 32 || memcmp(val.mv_data, member, 32) != 0) {
                mdb_cursor_close(cur);
                return ORIGO_E_NAMESPACE_TAKEN;
            }
        }
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
    }
    rc = namespace_get(led, txn, ns.ptr, ns.len, owner);
    if (rc == ORIGO_E_NOTFOUND)
        return 0;
    return rc ? rc : memcmp(owner, member, 32) ? ORIGO_E_NAMESPACE_TAKEN : 0;
}

/* ---- checks on lots ------------------------------------------------------ */

static int str_is(origo_str s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

/* A lot the event brings into being: not created before, and in a
 * namespace the signer owns. */
static int check_new(ledger *led, MDB_txn *txn, const origo_event *ev,
                     origo_str lot)
{
    authority_lot rec;
    int rc = authority_lot_get(led, txn, lot.ptr, lot.len, &rec);
    if (rc == 0)
        return ORIGO_E_LOT_EXISTS;
    if (rc != ORIGO_E_NOTFOUND)
        return rc;
    uint8_t owner[32];
    rc = lot_owner(led, txn, lot, owner);
    if (rc == ORIGO_E_NOTFOUND || (rc == 0 && memcmp(owner, ev->by, 32) != 0))
        return ORIGO_E_NAMESPACE;
    return rc;
}

/* A lot the signer acts on as its holder (consumes, ships, aggregates):
 * it exists, the signer holds it, it is not in transit, and the event is
 * not dated before the signer got it. */
static int check_held(ledger *led, MDB_txn *txn, const origo_event *ev,
                      origo_str lot, int missing)
{
    authority_lot rec;
    int rc = existing(led, txn, lot, missing, &rec);
    if (rc)
        return rc;
    if (memcmp(rec.holder, ev->by, 32) != 0 ||
        memcmp(rec.transit_to, zero_key, 32) != 0)
        return ORIGO_E_NOT_HOLDER;
    return ev->ts < rec.since_ts ? ORIGO_E_BEFORE_LOT : 0;
}

/* A lot the event is about (quality, inspection, COA): it exists and was
 * created no later than the event. */
static int check_about(ledger *led, MDB_txn *txn, const origo_event *ev,
                       origo_str lot, authority_lot *rec)
{
    int rc = existing(led, txn, lot, ORIGO_E_LOT_UNKNOWN, rec);
    if (rc)
        return rc;
    return ev->ts < rec->created_ts ? ORIGO_E_BEFORE_LOT : 0;
}

static int each_lot(ledger *led, MDB_txn *txn, const origo_event *ev,
                    enum origo_lot_role role, int holder, int missing)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        if (ev->lots[i].role != role)
            continue;
        authority_lot rec;
        int rc = holder ? check_held(led, txn, ev, ev->lots[i].lot, missing)
                        : check_about(led, txn, ev, ev->lots[i].lot, &rec);
        if (rc)
            return rc;
    }
    return 0;
}

/* A native transform states how much of each input it consumed: in the
 * lot's own unit, when the lot has one (authority.md, "Quantities"). */
static int check_units(ledger *led, MDB_txn *txn, const origo_event *ev)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *in = &ev->lots[i];
        authority_lot rec;
        if (in->role != ORIGO_LOT_INPUT)
            continue;
        int rc = authority_lot_get(led, txn, in->lot.ptr, in->lot.len, &rec);
        if (rc)
            return rc;
        if (rec.unit[0] && !str_is(in->unit, rec.unit))
            return ORIGO_E_UNIT;
        char sum[ORIGO_DECIMAL_MAX + 1];
        size_t sum_len;
        if (rec.qty[0] &&
            origo_decimal_add(rec.consumed, strlen(rec.consumed), in->qty.ptr,
                              in->qty.len, 0, sum, sizeof(sum), &sum_len))
            return ORIGO_E_TOOBIG; /* more than 40 digits consumed */
    }
    return 0;
}

static int each_new(ledger *led, MDB_txn *txn, const origo_event *ev,
                    enum origo_lot_role role)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        if (ev->lots[i].role != role)
            continue;
        int rc = check_new(led, txn, ev, ev->lots[i].lot);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- custody ------------------------------------------------------------- */

/* The active member named `name`, as of `position`. */
static int named_member(ledger *led, MDB_txn *txn, origo_str name,
                        uint64_t position, uint8_t identity[32])
{
    uint8_t key[32];
    int rc = members_name_get(led, txn, name.ptr, name.len, key);
    if (rc == ORIGO_E_NOTFOUND)
        return ORIGO_E_PARTY;
    if (rc)
        return rc;
    member_record rec;
    rc = members_get(led, txn, key, position, &rec);
    if (rc == ORIGO_E_NOTFOUND || (rc == 0 && !rec.active))
        return ORIGO_E_PARTY;
    if (rc == 0)
        memcpy(identity, rec.identity, 32);
    return rc;
}

/* The member whose identity is `identity`, as it is now: its current key's
 * record (a rotation leaves the identity's first key inactive). */
static int current_member(ledger *led, MDB_txn *txn, const uint8_t identity[32],
                          uint64_t position, member_record *out)
{
    member_record first;
    uint8_t key[32];
    int rc = members_get(led, txn, identity, position, &first);
    if (rc)
        return rc;
    rc = members_name_get(led, txn, first.name, strlen(first.name), key);
    if (rc == ORIGO_E_NOTFOUND)
        return ORIGO_E_NOTFOUND;
    if (rc)
        return rc;
    rc = members_get(led, txn, key, position, out);
    if (rc == 0 && memcmp(out->identity, identity, 32) != 0)
        return ORIGO_E_NOTFOUND; /* the name went to another member */
    return rc;
}

/* Ship: the signer holds every lot and writes its own name as `from`; `to`
 * names another active member, who alone may receive them. */
static int check_ship(ledger *led, MDB_txn *txn, const origo_event *ev,
                      const member_record *who, uint64_t position)
{
    uint8_t to[32];
    int rc = each_lot(led, txn, ev, ORIGO_LOT_SUBJECT, 1, ORIGO_E_LOT_UNKNOWN);
    if (rc)
        return rc;
    if (!str_is(ev->from, who->name))
        return ORIGO_E_PARTY;
    if ((rc = named_member(led, txn, ev->to, position, to)))
        return rc;
    return memcmp(to, ev->by, 32) == 0 ? ORIGO_E_PARTY : 0;
}

/* Receive: every lot is in transit to the signer, who writes its own name
 * as `to` and the shipper's as `from`. */
static int check_receive(ledger *led, MDB_txn *txn, const origo_event *ev,
                         const member_record *who, uint64_t position)
{
    if (!str_is(ev->to, who->name))
        return ORIGO_E_PARTY;
    for (size_t i = 0; i < ev->n_lots; i++) {
        authority_lot rec;
        member_record shipper;
        int rc = existing(led, txn, ev->lots[i].lot, ORIGO_E_LOT_UNKNOWN, &rec);
        if (rc)
            return rc;
        if (memcmp(rec.transit_to, ev->by, 32) != 0)
            return ORIGO_E_NO_SHIPMENT;
        if (ev->ts < rec.since_ts)
            return ORIGO_E_BEFORE_LOT;
        if ((rc = members_get(led, txn, rec.holder, position, &shipper)))
            return rc;
        if (!str_is(ev->from, shipper.name))
            return ORIGO_E_PARTY;
    }
    return 0;
}

/* ---- quality ------------------------------------------------------------- */

/* A release lifts every hold in force on its lots (trace-report.md), so the
 * signer must be the author of each of them, or an auditor (the regulator
 * role). */
static int check_release(ledger *led, MDB_txn *txn, const origo_event *ev,
                         const member_record *who)
{
    int rc = each_lot(led, txn, ev, ORIGO_LOT_SUBJECT, 0, 0);
    if (rc || (who->roles & ORIGO_ROLE_AUDITOR))
        return rc;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, led->lot_holds, &cur)))
        return store_err(rc);
    for (size_t i = 0; i < ev->n_lots && rc == 0; i++) {
        MDB_val key = {ev->lots[i].lot.len, (void *)ev->lots[i].lot.ptr}, val;
        int mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY);
        while (mrc == 0 && rc == 0) {
            if (val.mv_size != 32)
                rc = ORIGO_E_CORRUPT;
            else if (memcmp(val.mv_data, ev->by, 32) != 0)
                rc = ORIGO_E_NOT_AUTHOR;
            mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP);
        }
        if (rc == 0 && mrc != MDB_NOTFOUND)
            rc = store_err(mrc);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* A recall is the owner's decision or a regulator's (auditor role). */
static int check_recall(ledger *led, MDB_txn *txn, const origo_event *ev,
                        const member_record *who)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        authority_lot rec;
        int rc = check_about(led, txn, ev, ev->lots[i].lot, &rec);
        if (rc)
            return rc;
        if (!(who->roles & ORIGO_ROLE_AUDITOR) &&
            memcmp(rec.owner, ev->by, 32) != 0)
            return ORIGO_E_NOT_OWNER;
    }
    return 0;
}

/* ---- membership ---------------------------------------------------------- */

static int check_member(ledger *led, MDB_txn *txn, const origo_event *ev,
                        uint64_t position)
{
    /* ev->by is the signer's identity here (authority_check()). */
    member_record target;
    int rc = members_get(led, txn, ev->member, position, &target);
    if (rc && rc != ORIGO_E_NOTFOUND)
        return rc;
    int exists = rc == 0;
    const uint8_t *target_id = exists ? target.identity : ev->member;
    if (memcmp(target_id, ev->by, 32) == 0)
        return ORIGO_E_SELF_GRANT;
    if (ev->type == ORIGO_EV_MEMBER_ADD || ev->type == ORIGO_EV_MEMBER_UPDATE) {
        uint8_t holder[32];
        rc = members_name_get(led, txn, ev->name.ptr, ev->name.len, holder);
        if (rc == 0 && memcmp(holder, ev->member, 32) != 0)
            return ORIGO_E_NAME_TAKEN;
        if (rc && rc != ORIGO_E_NOTFOUND)
            return rc;
    }
    for (size_t i = 0; i < ev->n_owns; i++) {
        rc = namespace_taken(led, txn, ev->owns[i], target_id);
        if (rc)
            return rc;
    }
    /* Enough admins must remain to approve the next change. (The signer,
     * an admin that is not the target, always remains: the admins never
     * run out.) */
    if (!exists)
        return 0;
    int drops_admin = target.active && (target.roles & ORIGO_ROLE_ADMIN) &&
                      (ev->type == ORIGO_EV_MEMBER_REMOVE ||
                       (ev->type == ORIGO_EV_MEMBER_UPDATE &&
                        !(ev->roles & ORIGO_ROLE_ADMIN)));
    if (!drops_admin)
        return 0;
    store_validator *admins;
    size_t count;
    if ((rc = members_with_role(led, txn, position, ORIGO_ROLE_ADMIN, &admins,
                                &count)))
        return rc;
    free(admins);
    return count - 1 < led->gen->admin_quorum ? ORIGO_E_ADMIN_QUORUM : 0;
}

/* member.rotate: the member itself (signing with the key it rotates away
 * from) or admins (M of N, for a lost or stolen key) give an active
 * member a key no member ever had; a revocation time is not in the
 * future. */
static int check_rotate(ledger *led, MDB_txn *txn, const origo_event *ev,
                        const member_record *who, int self, uint64_t position,
                        uint64_t block_time)
{
    member_record rec;
    if (!self && !(who->roles & ORIGO_ROLE_ADMIN))
        return ORIGO_E_ROLE;
    int rc = members_get(led, txn, ev->member, position, &rec);
    if (rc == ORIGO_E_NOTFOUND || (rc == 0 && !rec.active))
        return ORIGO_E_NOTFOUND;
    if (rc)
        return rc;
    rc = members_get(led, txn, ev->new_key, UINT64_MAX, &rec);
    if (rc == 0)
        return ORIGO_E_EXISTS; /* a key is never reused */
    if (rc != ORIGO_E_NOTFOUND)
        return rc;
    return ev->revoked > block_time ? ORIGO_E_TIMESTAMP : 0;
}

/* ---- member changes by M of N admins --------------------------------------
 */

/* What a member event changes, as one 32-byte name: admins approve the
 * same change by signing member events with the same type, member, name,
 * roles and namespaces (each its own event, with its own ID). Variable
 * fields are hashed after their lengths, so no two changes share an
 * encoding. */
static void proposal_id(const origo_event *ev, uint8_t out[32])
{
    static const char domain[] = "origo/member-change/v1";
    uint8_t head[1 + 32 + 4];
    head[0] = (uint8_t)ev->type;
    memcpy(head + 1, ev->member, 32);
    store_put_be32(head + 33, ev->roles);
    origo_sha256_state st;
    origo_sha256_init(&st);
    origo_sha256_update(&st, (const uint8_t *)domain, sizeof(domain));
    origo_sha256_update(&st, head, sizeof(head));
    uint8_t name_len[2] = {(uint8_t)(ev->name.len >> 8), (uint8_t)ev->name.len};
    origo_sha256_update(&st, name_len, 2);
    origo_sha256_update(&st, (const uint8_t *)ev->name.ptr, ev->name.len);
    uint8_t rotation[32 + 8];
    memcpy(rotation, ev->new_key, 32);
    store_put_be64(rotation + 32, ev->revoked);
    origo_sha256_update(&st, rotation, sizeof(rotation));
    /* The namespaces too, each after its length: approving "owns A" is not
     * approving "owns B". */
    for (size_t i = 0; i < ev->n_owns; i++) {
        uint8_t len = (uint8_t)ev->owns[i].len;
        origo_sha256_update(&st, &len, 1);
        origo_sha256_update(&st, (const uint8_t *)ev->owns[i].ptr,
                            ev->owns[i].len);
    }
    origo_sha256_final(&st, out);
}

/* Records the signer's approval of the event's change and counts the
 * distinct admins, still active admins as of `leaf`, whose approval is
 * younger than the approval window. */
static int approve(ledger *led, MDB_txn *txn, const origo_event *ev,
                   uint64_t leaf, uint64_t block_time, const uint8_t id[32],
                   size_t *count)
{
    uint8_t key_buf[64], time_buf[8];
    memcpy(key_buf, id, 32);
    memcpy(key_buf + 32, ev->by, 32);
    store_put_be64(time_buf, block_time);
    MDB_val key = {64, key_buf}, val = {8, time_buf};
    int rc = store_err(mdb_put(txn, led->approvals, &key, &val, 0));
    if (rc)
        return rc;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, led->approvals, &cur)))
        return store_err(rc);
    memset(key_buf + 32, 0, 32);
    key.mv_size = 64;
    key.mv_data = key_buf;
    size_t n = 0;
    int mrc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    while (mrc == 0 && rc == 0 && key.mv_size == 64 &&
           memcmp(key.mv_data, id, 32) == 0) {
        uint64_t when = val.mv_size == 8 ? store_get_be64(val.mv_data) : 0;
        if (when + led->gen->approval_window_ms < block_time) {
            /* Expired: it will never count again. LMDB leaves the cursor
             * on the next pair, which MDB_NEXT then returns. */
            rc = store_err(mdb_cursor_del(cur, 0));
        } else {
            member_record admin;
            rc = current_member(led, txn, (const uint8_t *)key.mv_data + 32,
                                leaf, &admin);
            if (rc == 0 && admin.active && (admin.roles & ORIGO_ROLE_ADMIN))
                n++;
            if (rc == ORIGO_E_NOTFOUND)
                rc = 0;
        }
        if (rc == 0)
            mrc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = store_err(mrc);
    *count = n;
    return rc;
}

static int forget_approvals(ledger *led, MDB_txn *txn, const uint8_t id[32])
{
    MDB_cursor *cur;
    uint8_t key_buf[64] = {0};
    memcpy(key_buf, id, 32);
    MDB_val key = {64, key_buf}, val;
    int rc = mdb_cursor_open(txn, led->approvals, &cur);
    if (rc)
        return store_err(rc);
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == 64 && memcmp(key.mv_data, id, 32) == 0) {
        if ((rc = mdb_cursor_del(cur, 0)))
            break;
        rc = mdb_cursor_get(cur, &key, &val, MDB_GET_CURRENT);
        if (rc == EINVAL || rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* The change itself, from the leaf after the approving event. A member
 * keeps its identity across updates, removal and re-adding, and key
 * rotations. */
static int change_member(ledger *led, MDB_txn *txn, const origo_event *ev,
                         uint64_t leaf)
{
    member_record prev;
    int rc = members_get(led, txn, ev->member, leaf, &prev);
    if (rc && rc != ORIGO_E_NOTFOUND)
        return rc;
    int existed = rc == 0;
    const uint8_t *identity = existed ? prev.identity : ev->member;
    uint64_t revoked = existed ? prev.revoked_from : 0;
    if (ev->type == ORIGO_EV_MEMBER_REMOVE ||
        ev->type == ORIGO_EV_MEMBER_ROTATE) {
        if (!existed)
            return ORIGO_E_INTERNAL; /* authority_check() saw it active */
        if (ev->type == ORIGO_EV_MEMBER_ROTATE && ev->revoked)
            revoked = ev->revoked;
        rc = members_put_ex(led, txn, ev->member, leaf + 1, 0, prev.roles,
                            prev.name, strlen(prev.name), identity, revoked);
        if (rc || ev->type == ORIGO_EV_MEMBER_REMOVE)
            return rc;
        /* The new key: same identity, roles and name; the name now points
         * to it. */
        rc = members_put_ex(led, txn, ev->new_key, leaf + 1, 1, prev.roles,
                            prev.name, strlen(prev.name), identity, 0);
        return rc ? rc
                  : members_name_put(led, txn, prev.name, strlen(prev.name),
                                     ev->new_key);
    }
    if (ev->name.len > GENESIS_NAME_MAX)
        return ORIGO_E_SCHEMA;
    rc = members_put_ex(led, txn, ev->member, leaf + 1, 1, ev->roles,
                        ev->name.ptr, ev->name.len, identity, revoked);
    if (!rc)
        rc = members_name_put(led, txn, ev->name.ptr, ev->name.len, ev->member);
    /* Namespaces are added, never taken away: a lot ID stays its owner's. */
    for (size_t i = 0; i < ev->n_owns && !rc; i++) {
        MDB_val key = {ev->owns[i].len, (void *)ev->owns[i].ptr};
        MDB_val val = {32, (void *)identity};
        rc = store_err(mdb_put(txn, led->namespaces, &key, &val, 0));
    }
    return rc;
}

static int apply_member(ledger *led, MDB_txn *txn, const origo_event *ev,
                        int self, uint64_t leaf, uint64_t block_time,
                        int *changed)
{
    uint8_t id[32];
    size_t count = 0;
    /* A member rotating its own key needs no approvals. */
    if (led->gen->admin_quorum <= 1 ||
        (ev->type == ORIGO_EV_MEMBER_ROTATE && self)) {
        *changed = 1;
        return change_member(led, txn, ev, leaf);
    }
    proposal_id(ev, id);
    int rc = approve(led, txn, ev, leaf, block_time, id, &count);
    if (rc || count < led->gen->admin_quorum)
        return rc;
    *changed = 1;
    rc = forget_approvals(led, txn, id);
    return rc ? rc : change_member(led, txn, ev, leaf);
}

/* ---- EPCIS --------------------------------------------------------------- */

/* The active member an EPCIS party identifier names (genesis.h,
 * genesis_party_owner()): its key. */
static int party_member(ledger *led, MDB_txn *txn, origo_str party,
                        uint64_t position, uint8_t pub[32])
{
    char digits[12];
    if (party.len == 0 || party.len > ORIGO_TEXT_MAX ||
        !genesis_party_digits(party.ptr, party.len, digits))
        return ORIGO_E_PARTY;
    int rc = gs1_owner(led, txn, digits, pub);
    if (rc == ORIGO_E_NOTFOUND)
        return ORIGO_E_PARTY;
    if (rc)
        return rc;
    member_record rec;
    rc = current_member(led, txn, pub, position, &rec);
    if (rc == ORIGO_E_NOTFOUND || (rc == 0 && !rec.active))
        return ORIGO_E_PARTY;
    return rc;
}

/* An EPCIS shipping event: custody.ship's rules, with the parties named by
 * destinationList (required) and sourceList (when given, the signer). */
static int check_epcis_ship(ledger *led, MDB_txn *txn, const origo_event *ev,
                            uint64_t position)
{
    const origo_epcis_info *info = &ev->epcis_info;
    uint8_t pub[32];
    int rc = each_lot(led, txn, ev, ORIGO_LOT_SUBJECT, 1, ORIGO_E_LOT_UNKNOWN);
    if (rc)
        return rc;
    if (info->source_party.len) {
        if ((rc = party_member(led, txn, info->source_party, position, pub)))
            return rc;
        if (memcmp(pub, ev->by, 32) != 0)
            return ORIGO_E_PARTY;
    }
    if ((rc = party_member(led, txn, info->destination_party, position, pub)))
        return rc;
    return memcmp(pub, ev->by, 32) == 0 ? ORIGO_E_PARTY : 0;
}

/* An EPCIS receiving event: custody.receive's rules; sourceList (required)
 * names the shipper, destinationList (when given) the signer. */
static int check_epcis_receive(ledger *led, MDB_txn *txn, const origo_event *ev,
                               uint64_t position)
{
    const origo_epcis_info *info = &ev->epcis_info;
    uint8_t shipper[32], pub[32];
    int rc = party_member(led, txn, info->source_party, position, shipper);
    if (rc)
        return rc;
    if (info->destination_party.len) {
        if ((rc = party_member(led, txn, info->destination_party, position,
                               pub)))
            return rc;
        if (memcmp(pub, ev->by, 32) != 0)
            return ORIGO_E_PARTY;
    }
    for (size_t i = 0; i < ev->n_lots; i++) {
        authority_lot rec;
        rc = existing(led, txn, ev->lots[i].lot, ORIGO_E_LOT_UNKNOWN, &rec);
        if (rc)
            return rc;
        if (memcmp(rec.transit_to, ev->by, 32) != 0)
            return ORIGO_E_NO_SHIPMENT;
        if (memcmp(rec.holder, shipper, 32) != 0)
            return ORIGO_E_PARTY;
        if (ev->ts < rec.since_ts)
            return ORIGO_E_BEFORE_LOT;
    }
    return 0;
}

static int role_may(const member_record *who, int type)
{
    return (who->roles & genesis_roles_for_type(type)) != 0;
}

/* An epcis event passes the rules of the native event it means
 * (authority.md, "EPCIS"; trace_facts_epcis_meaning() decides which, for
 * the trace indexes and report verifier too); one that means none states
 * nothing about lots and needs no authority beyond its role. */
static int check_epcis(ledger *led, MDB_txn *txn, const origo_event *ev,
                       const member_record *who, uint64_t position,
                       uint64_t block_time, uint64_t window)
{
    uint64_t t = ev->epcis_info.event_time;
    if ((t > block_time ? t - block_time : block_time - t) > window)
        return ORIGO_E_TIMESTAMP;
    int rc;
    switch (trace_facts_epcis_meaning(ev)) {
    case TRACE_EPCIS_TRANSFORM:
        if (!role_may(who, ORIGO_EV_LOT_TRANSFORM))
            return ORIGO_E_ROLE;
        rc = each_lot(led, txn, ev, ORIGO_LOT_INPUT, 1, ORIGO_E_INPUT_LOT);
        return rc ? rc : each_new(led, txn, ev, ORIGO_LOT_OUTPUT);
    case TRACE_EPCIS_COMMISSION:
        if (!role_may(who, ORIGO_EV_LOT_CREATE))
            return ORIGO_E_ROLE;
        return each_new(led, txn, ev, ORIGO_LOT_SUBJECT);
    case TRACE_EPCIS_AGGREGATE:
        rc = each_lot(led, txn, ev, ORIGO_LOT_CHILD, 1, ORIGO_E_LOT_UNKNOWN);
        return rc ? rc
                  : each_lot(led, txn, ev, ORIGO_LOT_PARENT, 1,
                             ORIGO_E_LOT_UNKNOWN);
    case TRACE_EPCIS_SHIP:
        if (!role_may(who, ORIGO_EV_CUSTODY_SHIP))
            return ORIGO_E_ROLE;
        return check_epcis_ship(led, txn, ev, position);
    case TRACE_EPCIS_RECEIVE:
        if (!role_may(who, ORIGO_EV_CUSTODY_RECEIVE))
            return ORIGO_E_ROLE;
        return check_epcis_receive(led, txn, ev, position);
    case TRACE_EPCIS_RECALL:
        if (!role_may(who, ORIGO_EV_QUALITY_RECALL))
            return ORIGO_E_ROLE;
        return check_recall(led, txn, ev, who);
    default:
        return 0;
    }
}

/* ---- the entry points ---------------------------------------------------- */

static int check_event(ledger *led, MDB_txn *txn, const origo_event *ev,
                       const member_record *who, int self, uint64_t position,
                       uint64_t block_time)
{
    int rc;
    switch (ev->type) {
    case ORIGO_EV_LOT_CREATE:
        return check_new(led, txn, ev, ev->lots[0].lot);
    case ORIGO_EV_LOT_TRANSFORM:
        rc = each_lot(led, txn, ev, ORIGO_LOT_INPUT, 1, ORIGO_E_INPUT_LOT);
        if (!rc)
            rc = check_units(led, txn, ev);
        return rc ? rc : each_new(led, txn, ev, ORIGO_LOT_OUTPUT);
    case ORIGO_EV_INSPECTION:
    case ORIGO_EV_QUALITY_HOLD:
        return each_lot(led, txn, ev, ORIGO_LOT_SUBJECT, 0, 0);
    case ORIGO_EV_COA_ATTEST:
        rc = each_lot(led, txn, ev, ORIGO_LOT_SUBJECT, 0, 0);
        /* The issuer is the signer: no free-text attribution. */
        return rc ? rc : str_is(ev->issuer, who->name) ? 0 : ORIGO_E_PARTY;
    case ORIGO_EV_CUSTODY_SHIP:
        return check_ship(led, txn, ev, who, position);
    case ORIGO_EV_CUSTODY_RECEIVE:
        return check_receive(led, txn, ev, who, position);
    case ORIGO_EV_QUALITY_RELEASE:
        return check_release(led, txn, ev, who);
    case ORIGO_EV_QUALITY_RECALL:
        return check_recall(led, txn, ev, who);
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
        return check_member(led, txn, ev, position);
    case ORIGO_EV_MEMBER_ROTATE:
        return check_rotate(led, txn, ev, who, self, position, block_time);
    case ORIGO_EV_EPCIS:
        return check_epcis(led, txn, ev, who, position, block_time,
                           led->gen->ts_window_ms);
    }
    return 0;
}

/* The rules speak of members by identity (the key a member first had):
 * when the signer's key was rotated in, they see the event as signed by
 * its identity. The copy shares the body's strings. */
static int as_identity(ledger *led, MDB_txn *txn, const origo_event *ev,
                       uint64_t position, const origo_event **use,
                       origo_event **copy)
{
    member_record rec;
    *copy = NULL;
    *use = ev;
    int rc = members_get(led, txn, ev->by, position, &rec);
    if (rc == ORIGO_E_NOTFOUND)
        return 0;
    if (rc || memcmp(rec.identity, ev->by, 32) == 0)
        return rc;
    *copy = malloc(sizeof(**copy));
    if (!*copy)
        return ORIGO_E_NOMEM;
    memcpy(*copy, ev, sizeof(*ev));
    memcpy((*copy)->by, rec.identity, 32);
    *use = *copy;
    return 0;
}

int authority_check(ledger *led, MDB_txn *txn, const origo_event *ev,
                    const member_record *who, uint64_t position,
                    uint64_t block_time, int *reason)
{
    const origo_event *use;
    origo_event *copy;
    int self = memcmp(ev->by, ev->member, 32) == 0;
    *reason = 0;
    int rc = as_identity(led, txn, ev, position, &use, &copy);
    if (rc)
        return rc;
    rc = check_event(led, txn, use, who, self, position, block_time);
    free(copy);
    if (rc == 0)
        return 0;
    if (is_fatal(rc))
        return rc;
    *reason = rc;
    return 0;
}

/* ---- effects ------------------------------------------------------------- */

static int create_lots(ledger *led, MDB_txn *txn, const origo_event *ev,
                       enum origo_lot_role role, uint64_t leaf)
{
    authority_lot rec;
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.owner, ev->by, 32);
    memcpy(rec.holder, ev->by, 32);
    rec.created_leaf = leaf;
    rec.created_ts = rec.since_ts = ev->ts;
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        if (ref->role != role)
            continue;
        /* The schema bounds both (ORIGO_DECIMAL_MAX, ORIGO_UNIT_MAX). */
        snprintf(rec.qty, sizeof(rec.qty), "%.*s", (int)ref->qty.len,
                 ref->qty.ptr);
        snprintf(rec.unit, sizeof(rec.unit), "%.*s", (int)ref->unit.len,
                 ref->unit.ptr);
        snprintf(rec.consumed, sizeof(rec.consumed), "%s",
                 ref->qty.len ? "0" : "");
        int rc = lot_put(led, txn, ref->lot, &rec);
        if (rc)
            return rc;
    }
    return 0;
}

/* Adds what a native transform consumed to each input's balance. Over-
 * consumption is recorded, not refused: plants have yields, rework and
 * counting errors, and a refusal would stop them recording production;
 * the trace shows the balance instead. */
static int consume(ledger *led, MDB_txn *txn, const origo_event *ev)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *in = &ev->lots[i];
        authority_lot rec;
        size_t len;
        if (in->role != ORIGO_LOT_INPUT)
            continue;
        int rc = authority_lot_get(led, txn, in->lot.ptr, in->lot.len, &rec);
        if (rc)
            return rc == ORIGO_E_NOTFOUND ? ORIGO_E_INTERNAL : rc;
        if (!rec.qty[0])
            continue;
        char sum[ORIGO_DECIMAL_MAX + 1];
        if (origo_decimal_add(rec.consumed, strlen(rec.consumed), in->qty.ptr,
                              in->qty.len, 0, sum, sizeof(sum), &len))
            return ORIGO_E_INTERNAL; /* check_units() refused this */
        memcpy(rec.consumed, sum, len + 1);
        if ((rc = lot_put(led, txn, in->lot, &rec)))
            return rc;
    }
    return 0;
}

/* Ship opens a shipment to `to`; receive closes it and makes the receiver
 * the holder. */
static int move_lots(ledger *led, MDB_txn *txn, const origo_event *ev, int ship,
                     const uint8_t to[32])
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        authority_lot rec;
        int rc = authority_lot_get(led, txn, ev->lots[i].lot.ptr,
                                   ev->lots[i].lot.len, &rec);
        if (rc)
            return rc == ORIGO_E_NOTFOUND ? ORIGO_E_INTERNAL : rc;
        if (ship) {
            memcpy(rec.transit_to, to, 32);
        } else {
            memcpy(rec.holder, ev->by, 32);
            memset(rec.transit_to, 0, 32);
        }
        rec.since_ts = ev->ts;
        if ((rc = lot_put(led, txn, ev->lots[i].lot, &rec)))
            return rc;
    }
    return 0;
}

/* The receiver of a shipment: the member named `to` (native) or by the
 * destination party (EPCIS). authority_check() proved it exists. */
static int shipment_target(ledger *led, MDB_txn *txn, const origo_event *ev,
                           uint64_t leaf, uint8_t to[32])
{
    if (ev->type == ORIGO_EV_CUSTODY_SHIP) {
        /* The named member's identity, as check_receive() compares it: the
         * name points to the member's current key, which differs from its
         * identity once the member rotated its key. */
        uint8_t key[32];
        member_record rec;
        int rc = members_name_get(led, txn, ev->to.ptr, ev->to.len, key);
        if (rc == 0)
            rc = members_get(led, txn, key, leaf, &rec);
        if (rc == 0)
            memcpy(to, rec.identity, 32);
        return rc == ORIGO_E_NOTFOUND ? ORIGO_E_INTERNAL : rc;
    }
    const origo_str *party = &ev->epcis_info.destination_party;
    char digits[12];
    if (!genesis_party_digits(party->ptr, party->len, digits))
        return ORIGO_E_INTERNAL;
    int rc = gs1_owner(led, txn, digits, to);
    return rc == ORIGO_E_NOTFOUND ? ORIGO_E_INTERNAL : rc;
}

static int ship(ledger *led, MDB_txn *txn, const origo_event *ev, uint64_t leaf)
{
    uint8_t to[32];
    int rc = shipment_target(led, txn, ev, leaf, to);
    return rc ? rc : move_lots(led, txn, ev, 1, to);
}

/* Holds in force, with their authors, for the release rule; a release
 * lifts all of them (recalls are not holds here: they are never lifted). */
static int record_holds(ledger *led, MDB_txn *txn, const origo_event *ev)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        MDB_val key = {ev->lots[i].lot.len, (void *)ev->lots[i].lot.ptr};
        MDB_val val = {32, (void *)ev->by};
        int rc;
        if (ev->type == ORIGO_EV_QUALITY_HOLD)
            rc = mdb_put(txn, led->lot_holds, &key, &val, MDB_NODUPDATA);
        else
            rc = mdb_del(txn, led->lot_holds, &key, NULL);
        if (rc && rc != MDB_KEYEXIST && rc != MDB_NOTFOUND)
            return store_err(rc);
    }
    return 0;
}

static int apply_event(ledger *led, MDB_txn *txn, const origo_event *ev,
                       int self, uint64_t leaf, uint64_t block_time,
                       int *changed)
{
    switch (ev->type) {
    case ORIGO_EV_LOT_CREATE:
        return create_lots(led, txn, ev, ORIGO_LOT_SUBJECT, leaf);
    case ORIGO_EV_LOT_TRANSFORM: {
        int rc = consume(led, txn, ev);
        return rc ? rc : create_lots(led, txn, ev, ORIGO_LOT_OUTPUT, leaf);
    }
    case ORIGO_EV_CUSTODY_SHIP:
        return ship(led, txn, ev, leaf);
    case ORIGO_EV_CUSTODY_RECEIVE:
        return move_lots(led, txn, ev, 0, NULL);
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
        return record_holds(led, txn, ev);
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
    case ORIGO_EV_MEMBER_ROTATE:
        return apply_member(led, txn, ev, self, leaf, block_time, changed);
    case ORIGO_EV_EPCIS:
        switch (trace_facts_epcis_meaning(ev)) {
        case TRACE_EPCIS_TRANSFORM:
            return create_lots(led, txn, ev, ORIGO_LOT_OUTPUT, leaf);
        case TRACE_EPCIS_COMMISSION:
            return create_lots(led, txn, ev, ORIGO_LOT_SUBJECT, leaf);
        case TRACE_EPCIS_SHIP:
            return ship(led, txn, ev, leaf);
        case TRACE_EPCIS_RECEIVE:
            return move_lots(led, txn, ev, 0, NULL);
        default:
            return 0;
        }
    default:
        return 0;
    }
}

int authority_apply(ledger *led, MDB_txn *txn, const origo_event *ev,
                    uint64_t leaf, uint64_t block_time, int *member_changed)
{
    *member_changed = 0;
    const origo_event *use;
    origo_event *copy;
    int self = memcmp(ev->by, ev->member, 32) == 0;
    int rc = as_identity(led, txn, ev, leaf, &use, &copy);
    if (rc)
        return rc;
    rc = apply_event(led, txn, use, self, leaf, block_time, member_changed);
    free(copy);
    return rc;
}

/* ---- the public view ------------------------------------------------------
 */

int ledger_lot_get(ledger *led, MDB_txn *txn, const char *lot, size_t len,
                   ledger_lot *out)
{
    MDB_txn *use;
    int own;
    authority_lot rec;
    int rc = store_read_begin(led, txn, &use, &own);
    if (rc)
        return rc;
    rc = authority_lot_get(led, use, lot, len, &rec);
    store_read_end(use, own);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    memcpy(out->owner, rec.owner, 32);
    memcpy(out->holder, rec.holder, 32);
    memcpy(out->transit_to, rec.transit_to, 32);
    out->in_transit = memcmp(rec.transit_to, zero_key, 32) != 0;
    out->created_leaf = rec.created_leaf;
    memcpy(out->qty, rec.qty, sizeof(out->qty));
    memcpy(out->unit, rec.unit, sizeof(out->unit));
    memcpy(out->consumed, rec.consumed, sizeof(out->consumed));
    return 0;
}

int ledger_member_at(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                     uint64_t position, ledger_member *out)
{
    MDB_txn *use;
    int own;
    member_record rec;
    int rc = store_read_begin(led, txn, &use, &own);
    if (rc)
        return rc;
    rc = members_get(led, use, pub, position, &rec);
    store_read_end(use, own);
    if (rc)
        return rc;
    out->active = rec.active;
    out->roles = rec.roles;
    memcpy(out->identity, rec.identity, 32);
    out->revoked_from = rec.revoked_from;
    snprintf(out->name, sizeof(out->name), "%s", rec.name);
    return 0;
}
