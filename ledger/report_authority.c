/* Offline authority checks for v2 trace reports (report_authority.h): the
 * rules of ledger/authority.c, replayed over memory from what a report
 * proves. Function names follow authority.c's, so the two read side by
 * side. */
#include "report_authority.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "origo/error.h"
#include "origo/event.h"

#include "trace_facts.h"

/* A key's latest membership record (members.h, member_record). */
struct mrec {
    uint8_t key[32];
    uint8_t identity[32];
    uint32_t roles;
    int active;
    uint64_t revoked; /* Unix ms; 0: never */
    char name[GENESIS_NAME_MAX + 1];
};

/* member_names: a name and the key that has (or had) it. */
struct mname {
    char name[GENESIS_NAME_MAX + 1];
    uint8_t key[32];
};

/* namespaces: "party:<segment>" or "gs1:<prefix>" and its owner. */
struct mns {
    char text[GENESIS_NAMESPACE_MAX + 8];
    size_t len;
    uint8_t owner[32];
};

/* A tracked lot (authority.h, authority_lot, and its holds). */
struct tlot {
    const char *ptr;
    size_t len;
    int exists;
    uint8_t owner[32], holder[32], transit[32];
    uint64_t created_ts, since_ts;
    char unit[ORIGO_UNIT_MAX + 1];
    uint8_t (*holds)[32];
    size_t hold_count, hold_cap;
};

/* An open-addressing index over one of the tables below: slot values are
 * item + 1 (0: empty); SipHash with a random key, so that a report cannot
 * choose keys that collide (a verifier reads untrusted files). */
struct hindex {
    uint32_t *slots;
    size_t cap; /* a power of two, at least twice the items */
};

struct rauth {
    const genesis *gen;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
    struct mrec *m;
    size_t m_count, m_cap;
    struct hindex m_index;
    struct mname *names;
    size_t name_count, name_cap;
    struct hindex name_index;
    struct mns *ns;
    size_t ns_count, ns_cap;
    struct hindex ns_index;
    struct tlot *lots;
    size_t lot_count;
    int quality;
    origo_event *ev;
    uint64_t block_time; /* of the event's block */
    const uint8_t *id;   /* the signer's identity */
    const struct mrec *who;
    char *errbuf;
    size_t errlen;
    char why[400]; /* the failed rule, for the message */
};

static const uint8_t zero_key[32];

const char *rauth_standing_name(int standing)
{
    switch (standing) {
    case RAUTH_CREATOR:
        return "creator";
    case RAUTH_OWNER:
        return "owner";
    case RAUTH_HOLDER:
        return "holder";
    case RAUTH_RECEIVER:
        return "receiver";
    case RAUTH_THIRD_PARTY:
        return "third party";
    default:
        return "membership change";
    }
}

int rauth_is_member_event(int type)
{
    return type == ORIGO_EV_MEMBER_ADD || type == ORIGO_EV_MEMBER_UPDATE ||
           type == ORIGO_EV_MEMBER_REMOVE || type == ORIGO_EV_MEMBER_ROTATE;
}

static int grow(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return 0;
    }
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need) {
        n *= 2;
    }
    void *p = realloc(*items, n * size);
    if (p == NULL) {
        return ORIGO_E_NOMEM;
    }
    *items = p;
    *cap = n;
    return 0;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int
why(struct rauth *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof(a->why), fmt, ap);
    va_end(ap);
    return code;
}

#define TEXT_ARG(s) (int)((s).len > 120 ? 120 : (s).len), (s).ptr

/* ---- membership ---------------------------------------------------------- */

/* The bytes an item of each table is found by. */
static void item_key(const struct rauth *a, const struct hindex *ix,
                     uint32_t item, const void **p, size_t *n)
{
    if (ix == &a->m_index) {
        *p = a->m[item].key;
        *n = 32;
    } else if (ix == &a->name_index) {
        *p = a->names[item].name;
        *n = strlen(a->names[item].name);
    } else {
        *p = a->ns[item].text;
        *n = a->ns[item].len;
    }
}

static size_t slot_of(const struct rauth *a, const struct hindex *ix,
                      const void *p, size_t n)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, p, n, a->hash_key);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | h[i];
    }
    return (size_t)(v & (ix->cap - 1));
}

/* The item of `ix` found by p[0..n), or -1. */
static long hfind(const struct rauth *a, const struct hindex *ix, const void *p,
                  size_t n)
{
    if (ix->cap == 0) {
        return -1;
    }
    for (size_t s = slot_of(a, ix, p, n);; s = (s + 1) & (ix->cap - 1)) {
        uint32_t v = ix->slots[s];
        if (v == 0) {
            return -1;
        }
        const void *q;
        size_t m;
        item_key(a, ix, v - 1, &q, &m);
        if (m == n && memcmp(p, q, n) == 0) {
            return (long)(v - 1);
        }
    }
}

/* Indexes item `item` (of `count` items now in its table). */
static int hadd(struct rauth *a, struct hindex *ix, uint32_t item, size_t count)
{
    if (2 * count > ix->cap) {
        size_t cap = ix->cap ? 2 * ix->cap : 64;
        uint32_t *slots = calloc(cap, sizeof(*slots));
        if (slots == NULL) {
            return ORIGO_E_NOMEM;
        }
        uint32_t *old = ix->slots;
        size_t old_cap = ix->cap;
        ix->slots = slots;
        ix->cap = cap;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i] != 0) {
                hadd(a, ix, old[i] - 1, 0);
            }
        }
        free(old);
    }
    const void *p;
    size_t n;
    item_key(a, ix, item, &p, &n);
    size_t s = slot_of(a, ix, p, n);
    while (ix->slots[s] != 0) {
        s = (s + 1) & (ix->cap - 1);
    }
    ix->slots[s] = item + 1;
    return 0;
}

static struct mrec *rec_get(struct rauth *a, const uint8_t key[32])
{
    long i = hfind(a, &a->m_index, key, 32);
    return i < 0 ? NULL : &a->m[i];
}

static int rec_put(struct rauth *a, const uint8_t key[32], int active,
                   uint32_t roles, const char *name, size_t name_len,
                   const uint8_t identity[32], uint64_t revoked)
{
    struct mrec *r = rec_get(a, key);
    if (r == NULL) {
        if (a->m_count >= UINT32_MAX / 2 ||
            grow((void **)&a->m, &a->m_cap, a->m_count + 1, sizeof(*a->m))) {
            return ORIGO_E_NOMEM;
        }
        r = &a->m[a->m_count++];
        memcpy(r->key, key, 32);
        if (hadd(a, &a->m_index, (uint32_t)(a->m_count - 1), a->m_count)) {
            return ORIGO_E_NOMEM;
        }
    }
    r->active = active;
    r->roles = roles;
    snprintf(r->name, sizeof(r->name), "%.*s", (int)name_len, name);
    memcpy(r->identity, identity, 32);
    r->revoked = revoked;
    return 0;
}

static const uint8_t *name_get(const struct rauth *a, const char *name,
                               size_t len)
{
    long i = hfind(a, &a->name_index, name, len);
    return i < 0 ? NULL : a->names[i].key;
}

static int name_put(struct rauth *a, const char *name, size_t len,
                    const uint8_t key[32])
{
    long i = hfind(a, &a->name_index, name, len);
    if (i >= 0) {
        memcpy(a->names[i].key, key, 32);
        return 0;
    }
    if (len > GENESIS_NAME_MAX || a->name_count >= UINT32_MAX / 2 ||
        grow((void **)&a->names, &a->name_cap, a->name_count + 1,
             sizeof(*a->names))) {
        return ORIGO_E_NOMEM;
    }
    struct mname *n = &a->names[a->name_count++];
    memcpy(n->name, name, len);
    n->name[len] = '\0';
    memcpy(n->key, key, 32);
    return hadd(a, &a->name_index, (uint32_t)(a->name_count - 1),
                a->name_count);
}

static const uint8_t *ns_get(const struct rauth *a, const char *text,
                             size_t len)
{
    long i = hfind(a, &a->ns_index, text, len);
    return i < 0 ? NULL : a->ns[i].owner;
}

static int ns_put(struct rauth *a, const char *text, size_t len,
                  const uint8_t owner[32])
{
    long i = hfind(a, &a->ns_index, text, len);
    if (i >= 0) {
        memcpy(a->ns[i].owner, owner, 32);
        return 0;
    }
    if (len >= sizeof(a->ns[0].text) || a->ns_count >= UINT32_MAX / 2 ||
        grow((void **)&a->ns, &a->ns_cap, a->ns_count + 1, sizeof(*a->ns))) {
        return ORIGO_E_NOMEM;
    }
    struct mns *n = &a->ns[a->ns_count++];
    memcpy(n->text, text, len);
    n->len = len;
    memcpy(n->owner, owner, 32);
    return hadd(a, &a->ns_index, (uint32_t)(a->ns_count - 1), a->ns_count);
}

static const uint8_t *gs1_owner(const struct rauth *a, const char digits[12])
{
    char text[4 + 12] = "gs1:";
    memcpy(text + 4, digits, 12);
    for (size_t n = 6; n <= 12; n++) {
        const uint8_t *owner = ns_get(a, text, 4 + n);
        if (owner != NULL) {
            return owner;
        }
    }
    return NULL;
}

static const uint8_t *lot_owner(const struct rauth *a, origo_str lot)
{
    char text[6 + 64] = "party:", digits[12];
    size_t seg_len = 0;
    switch (
        genesis_lot_namespace(lot.ptr, lot.len, text + 6, &seg_len, digits)) {
    case GENESIS_NS_PARTY:
        return ns_get(a, text, 6 + seg_len);
    case GENESIS_NS_GS1:
        return gs1_owner(a, digits);
    default:
        return NULL;
    }
}

static int namespace_taken(const struct rauth *a, origo_str ns,
                           const uint8_t member[32])
{
    for (size_t i = 0; i < a->ns_count; i++) {
        const struct mns *n = &a->ns[i];
        if (memcmp(n->owner, member, 32) == 0) {
            continue;
        }
        int overlap = n->len == ns.len && memcmp(n->text, ns.ptr, ns.len) == 0;
        if (ns.len > 4 && memcmp(ns.ptr, "gs1:", 4) == 0 && n->len > 4 &&
            memcmp(n->text, "gs1:", 4) == 0) {
            size_t shorter = n->len < ns.len ? n->len : ns.len;
            overlap = memcmp(n->text, ns.ptr, shorter) == 0;
        }
        if (overlap) {
            return ORIGO_E_NAMESPACE_TAKEN;
        }
    }
    return 0;
}

/* The active member named `name`: its identity. */
static int named_member(const struct rauth *a, origo_str name,
                        const uint8_t **identity)
{
    const uint8_t *key = name_get(a, name.ptr, name.len);
    const struct mrec *r = key ? rec_get((struct rauth *)a, key) : NULL;
    if (r == NULL || !r->active) {
        return ORIGO_E_PARTY;
    }
    *identity = r->identity;
    return 0;
}

/* The member whose identity is `identity`, as it is now. */
static const struct mrec *current_member(struct rauth *a,
                                         const uint8_t identity[32])
{
    const struct mrec *first = rec_get(a, identity);
    const uint8_t *key =
        first ? name_get(a, first->name, strlen(first->name)) : NULL;
    const struct mrec *r = key ? rec_get(a, key) : NULL;
    return r && memcmp(r->identity, identity, 32) == 0 ? r : NULL;
}

static int party_member(struct rauth *a, origo_str party,
                        const uint8_t **identity)
{
    char digits[12];
    if (party.len == 0 || party.len > ORIGO_TEXT_MAX ||
        !genesis_party_digits(party.ptr, party.len, digits)) {
        return why(a, ORIGO_E_PARTY, "party \"%.*s\" names no member",
                   TEXT_ARG(party));
    }
    const uint8_t *owner = gs1_owner(a, digits);
    const struct mrec *r = owner ? current_member(a, owner) : NULL;
    if (r == NULL || !r->active) {
        return why(a, ORIGO_E_PARTY, "party \"%.*s\" names no active member",
                   TEXT_ARG(party));
    }
    *identity = owner;
    return 0;
}

static const char *name_of(struct rauth *a, const uint8_t identity[32])
{
    const struct mrec *r = rec_get(a, identity);
    return r ? r->name : "(not a member)";
}

/* ---- lots ---------------------------------------------------------------- */

static int cmp_text(const char *p, size_t n, const char *q, size_t m)
{
    if (n != m) {
        return n < m ? -1 : 1;
    }
    return memcmp(p, q, n);
}

static int cmp_tlot(const void *x, const void *y)
{
    const struct tlot *a = x, *b = y;
    return cmp_text(a->ptr, a->len, b->ptr, b->len);
}

static struct tlot *tracked(struct rauth *a, origo_str lot)
{
    size_t lo = 0, hi = a->lot_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_text(lot.ptr, lot.len, a->lots[mid].ptr, a->lots[mid].len);
        if (c == 0) {
            return &a->lots[mid];
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

static int check_new(struct rauth *a, origo_str lot)
{
    const struct tlot *t = tracked(a, lot);
    if (t && t->exists) {
        return why(a, ORIGO_E_LOT_EXISTS,
                   "lot \"%.*s\" already exists (created by %s)", TEXT_ARG(lot),
                   name_of(a, t->owner));
    }
    const uint8_t *owner = lot_owner(a, lot);
    if (owner == NULL || memcmp(owner, a->id, 32) != 0) {
        return why(a, ORIGO_E_NAMESPACE,
                   "lot \"%.*s\" is not in a namespace of the signer (%s)",
                   TEXT_ARG(lot),
                   owner ? "it is in one of another member's"
                         : "it is in no member's");
    }
    return 0;
}

static int check_held(struct rauth *a, origo_str lot, int missing)
{
    const struct tlot *t = tracked(a, lot);
    if (t == NULL) {
        return 0;
    }
    if (!t->exists) {
        return why(a, missing, "lot \"%.*s\" was never created", TEXT_ARG(lot));
    }
    if (memcmp(t->holder, a->id, 32) != 0) {
        return why(a, ORIGO_E_NOT_HOLDER,
                   "the signer does not hold lot \"%.*s\" (%s does)",
                   TEXT_ARG(lot), name_of(a, t->holder));
    }
    if (memcmp(t->transit, zero_key, 32) != 0) {
        return why(a, ORIGO_E_NOT_HOLDER, "lot \"%.*s\" is in transit to %s",
                   TEXT_ARG(lot), name_of(a, t->transit));
    }
    if (a->ev->ts < t->since_ts) {
        return why(a, ORIGO_E_BEFORE_LOT,
                   "dated before the signer got lot \"%.*s\"", TEXT_ARG(lot));
    }
    return 0;
}

static int check_about(struct rauth *a, origo_str lot)
{
    const struct tlot *t = tracked(a, lot);
    if (t == NULL) {
        return 0;
    }
    if (!t->exists) {
        return why(a, ORIGO_E_LOT_UNKNOWN, "lot \"%.*s\" was never created",
                   TEXT_ARG(lot));
    }
    if (a->ev->ts < t->created_ts) {
        return why(a, ORIGO_E_BEFORE_LOT,
                   "dated before lot \"%.*s\" was created", TEXT_ARG(lot));
    }
    return 0;
}

static int each_lot(struct rauth *a, enum origo_lot_role role, int holder,
                    int missing)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        if (a->ev->lots[i].role != role) {
            continue;
        }
        int rc = holder ? check_held(a, a->ev->lots[i].lot, missing)
                        : check_about(a, a->ev->lots[i].lot);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static int each_new(struct rauth *a, enum origo_lot_role role)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        if (a->ev->lots[i].role == role) {
            int rc = check_new(a, a->ev->lots[i].lot);
            if (rc) {
                return rc;
            }
        }
    }
    return 0;
}

static int str_is(origo_str s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static int check_units(struct rauth *a)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        const origo_lot_ref *in = &a->ev->lots[i];
        const struct tlot *t =
            in->role == ORIGO_LOT_INPUT ? tracked(a, in->lot) : NULL;
        if (t && t->unit[0] && !str_is(in->unit, t->unit)) {
            return why(a, ORIGO_E_UNIT,
                       "consumes lot \"%.*s\" in \"%.*s\", made in \"%s\"",
                       TEXT_ARG(in->lot), TEXT_ARG(in->unit), t->unit);
        }
    }
    return 0;
}

static int check_ship(struct rauth *a)
{
    const uint8_t *to;
    int rc = each_lot(a, ORIGO_LOT_SUBJECT, 1, ORIGO_E_LOT_UNKNOWN);
    if (rc) {
        return rc;
    }
    if (!str_is(a->ev->from, a->who->name)) {
        return why(a, ORIGO_E_PARTY, "from \"%.*s\" is not the signer (%s)",
                   TEXT_ARG(a->ev->from), a->who->name);
    }
    if (named_member(a, a->ev->to, &to) || memcmp(to, a->id, 32) == 0) {
        return why(a, ORIGO_E_PARTY, "to \"%.*s\" names no other member",
                   TEXT_ARG(a->ev->to));
    }
    return 0;
}

static int check_receive(struct rauth *a)
{
    if (!str_is(a->ev->to, a->who->name)) {
        return why(a, ORIGO_E_PARTY, "to \"%.*s\" is not the signer (%s)",
                   TEXT_ARG(a->ev->to), a->who->name);
    }
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        origo_str lot = a->ev->lots[i].lot;
        const struct tlot *t = tracked(a, lot);
        if (t == NULL) {
            continue;
        }
        if (!t->exists) {
            return why(a, ORIGO_E_LOT_UNKNOWN, "lot \"%.*s\" was never created",
                       TEXT_ARG(lot));
        }
        if (memcmp(t->transit, a->id, 32) != 0) {
            return why(a, ORIGO_E_NO_SHIPMENT,
                       "lot \"%.*s\" was not shipped to the signer",
                       TEXT_ARG(lot));
        }
        if (a->ev->ts < t->since_ts) {
            return why(a, ORIGO_E_BEFORE_LOT,
                       "dated before lot \"%.*s\" was shipped", TEXT_ARG(lot));
        }
        if (!str_is(a->ev->from, name_of(a, t->holder))) {
            return why(a, ORIGO_E_PARTY,
                       "from \"%.*s\" is not the shipper (%s)",
                       TEXT_ARG(a->ev->from), name_of(a, t->holder));
        }
    }
    return 0;
}

static int check_release(struct rauth *a)
{
    int rc = each_lot(a, ORIGO_LOT_SUBJECT, 0, 0);
    if (rc || (a->who->roles & ORIGO_ROLE_AUDITOR) || !a->quality) {
        return rc;
    }
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        const struct tlot *t = tracked(a, a->ev->lots[i].lot);
        for (size_t h = 0; t && h < t->hold_count; h++) {
            if (memcmp(t->holds[h], a->id, 32) != 0) {
                return why(a, ORIGO_E_NOT_AUTHOR,
                           "lifts a hold on lot \"%.*s\" placed by %s",
                           TEXT_ARG(a->ev->lots[i].lot),
                           name_of(a, t->holds[h]));
            }
        }
    }
    return 0;
}

static int check_recall(struct rauth *a)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        origo_str lot = a->ev->lots[i].lot;
        int rc = check_about(a, lot);
        if (rc) {
            return rc;
        }
        const struct tlot *t = tracked(a, lot);
        if (t && !(a->who->roles & ORIGO_ROLE_AUDITOR) &&
            memcmp(t->owner, a->id, 32) != 0) {
            return why(a, ORIGO_E_NOT_OWNER,
                       "recalls lot \"%.*s\", owned by %s", TEXT_ARG(lot),
                       name_of(a, t->owner));
        }
    }
    return 0;
}

/* ---- member events ------------------------------------------------------- */

static int check_member(struct rauth *a)
{
    const origo_event *ev = a->ev;
    const struct mrec *target = rec_get(a, ev->member);
    int active = target && target->active;
    if (ev->type == ORIGO_EV_MEMBER_ADD ? active : !active) {
        return why(a, active ? ORIGO_E_EXISTS : ORIGO_E_NOTFOUND,
                   active ? "adds a member that is already active"
                          : "changes a member that is not active");
    }
    const uint8_t *target_id = target ? target->identity : ev->member;
    if (memcmp(target_id, a->id, 32) == 0) {
        return why(a, ORIGO_E_SELF_GRANT,
                   "an admin changes its own membership");
    }
    if (ev->type == ORIGO_EV_MEMBER_ADD || ev->type == ORIGO_EV_MEMBER_UPDATE) {
        const uint8_t *holder = name_get(a, ev->name.ptr, ev->name.len);
        if (holder && memcmp(holder, ev->member, 32) != 0) {
            return why(a, ORIGO_E_NAME_TAKEN, "name \"%.*s\" is another's",
                       TEXT_ARG(ev->name));
        }
    }
    for (size_t i = 0; i < ev->n_owns; i++) {
        if (namespace_taken(a, ev->owns[i], target_id)) {
            return why(a, ORIGO_E_NAMESPACE_TAKEN,
                       "namespace \"%.*s\" overlaps another member's",
                       TEXT_ARG(ev->owns[i]));
        }
    }
    int drops_admin = target && target->active &&
                      (target->roles & ORIGO_ROLE_ADMIN) &&
                      (ev->type == ORIGO_EV_MEMBER_REMOVE ||
                       (ev->type == ORIGO_EV_MEMBER_UPDATE &&
                        !(ev->roles & ORIGO_ROLE_ADMIN)));
    if (drops_admin) {
        size_t admins = 0;
        for (size_t i = 0; i < a->m_count; i++) {
            admins += a->m[i].active && (a->m[i].roles & ORIGO_ROLE_ADMIN);
        }
        if (admins - 1 < a->gen->admin_quorum) {
            return why(a, ORIGO_E_ADMIN_QUORUM,
                       "would leave fewer admins than the admin quorum");
        }
    }
    return 0;
}

static int check_rotate(struct rauth *a, int self)
{
    const origo_event *ev = a->ev;
    if (!self && !(a->who->roles & ORIGO_ROLE_ADMIN)) {
        return why(a, ORIGO_E_ROLE, "rotates another member's key");
    }
    const struct mrec *r = rec_get(a, ev->member);
    if (r == NULL || !r->active) {
        return why(a, ORIGO_E_NOTFOUND, "rotates a key that is not active");
    }
    if (rec_get(a, ev->new_key) != NULL) {
        return why(a, ORIGO_E_EXISTS, "the new key was a member's before");
    }
    return ev->revoked > a->block_time
               ? why(a, ORIGO_E_TIMESTAMP,
                     "revokes the key from a time after its block's")
               : 0;
}

/* |t - block time| within the genesis window (block.md, step 8). */
static int in_window(const struct rauth *a, uint64_t t)
{
    uint64_t bt = a->block_time;
    return (t > bt ? t - bt : bt - t) <= a->gen->ts_window_ms;
}

/* change_member() of authority.c: takes effect from the next leaf, which
 * here is the next event. */
static int change_member(struct rauth *a)
{
    const origo_event *ev = a->ev;
    struct mrec *prev = rec_get(a, ev->member);
    uint8_t identity[32];
    uint64_t revoked = prev ? prev->revoked : 0;
    memcpy(identity, prev ? prev->identity : ev->member, 32);
    if (ev->type == ORIGO_EV_MEMBER_REMOVE ||
        ev->type == ORIGO_EV_MEMBER_ROTATE) {
        if (prev == NULL) {
            return ORIGO_E_INTERNAL; /* checked active above */
        }
        struct mrec old = *prev;
        if (ev->type == ORIGO_EV_MEMBER_ROTATE && ev->revoked) {
            revoked = ev->revoked;
        }
        int rc = rec_put(a, ev->member, 0, old.roles, old.name,
                         strlen(old.name), identity, revoked);
        if (rc || ev->type == ORIGO_EV_MEMBER_REMOVE) {
            return rc;
        }
        rc = rec_put(a, ev->new_key, 1, old.roles, old.name, strlen(old.name),
                     identity, 0);
        return rc ? rc : name_put(a, old.name, strlen(old.name), ev->new_key);
    }
    int rc = rec_put(a, ev->member, 1, ev->roles, ev->name.ptr, ev->name.len,
                     identity, revoked);
    if (rc == 0) {
        rc = name_put(a, ev->name.ptr, ev->name.len, ev->member);
    }
    for (size_t i = 0; i < ev->n_owns && rc == 0; i++) {
        rc = ns_put(a, ev->owns[i].ptr, ev->owns[i].len, identity);
    }
    return rc;
}

/* ---- EPCIS --------------------------------------------------------------- */

static int role_may(const struct rauth *a, int type)
{
    return (a->who->roles & genesis_roles_for_type(type)) != 0;
}

static int check_epcis_ship(struct rauth *a)
{
    const origo_epcis_info *info = &a->ev->epcis_info;
    const uint8_t *pub;
    int rc = each_lot(a, ORIGO_LOT_SUBJECT, 1, ORIGO_E_LOT_UNKNOWN);
    if (rc) {
        return rc;
    }
    if (info->source_party.len) {
        if ((rc = party_member(a, info->source_party, &pub))) {
            return rc;
        }
        if (memcmp(pub, a->id, 32) != 0) {
            return why(a, ORIGO_E_PARTY, "the source is not the signer");
        }
    }
    if ((rc = party_member(a, info->destination_party, &pub))) {
        return rc;
    }
    return memcmp(pub, a->id, 32) == 0
               ? why(a, ORIGO_E_PARTY, "the destination is the signer")
               : 0;
}

static int check_epcis_receive(struct rauth *a)
{
    const origo_epcis_info *info = &a->ev->epcis_info;
    const uint8_t *shipper, *pub;
    int rc = party_member(a, info->source_party, &shipper);
    if (rc) {
        return rc;
    }
    if (info->destination_party.len) {
        if ((rc = party_member(a, info->destination_party, &pub))) {
            return rc;
        }
        if (memcmp(pub, a->id, 32) != 0) {
            return why(a, ORIGO_E_PARTY, "the destination is not the signer");
        }
    }
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        origo_str lot = a->ev->lots[i].lot;
        const struct tlot *t = tracked(a, lot);
        if (t == NULL) {
            continue;
        }
        if (!t->exists) {
            return why(a, ORIGO_E_LOT_UNKNOWN, "lot \"%.*s\" was never created",
                       TEXT_ARG(lot));
        }
        if (memcmp(t->transit, a->id, 32) != 0) {
            return why(a, ORIGO_E_NO_SHIPMENT,
                       "lot \"%.*s\" was not shipped to the signer",
                       TEXT_ARG(lot));
        }
        if (memcmp(t->holder, shipper, 32) != 0) {
            return why(a, ORIGO_E_PARTY, "the source did not ship lot \"%.*s\"",
                       TEXT_ARG(lot));
        }
        if (a->ev->ts < t->since_ts) {
            return why(a, ORIGO_E_BEFORE_LOT,
                       "dated before lot \"%.*s\" was shipped", TEXT_ARG(lot));
        }
    }
    return 0;
}

static int need_role(struct rauth *a, int type)
{
    return role_may(a, type)
               ? 0
               : why(a, ORIGO_E_ROLE,
                     "the signer's roles may not state what it means (%s)",
                     origo_event_type_name(type));
}

static int check_epcis(struct rauth *a)
{
    int rc;
    if (!in_window(a, a->ev->epcis_info.event_time)) {
        return why(a, ORIGO_E_TIMESTAMP,
                   "its EPCIS eventTime is more than %llu ms from its block's "
                   "time",
                   (unsigned long long)a->gen->ts_window_ms);
    }
    switch (trace_facts_epcis_meaning(a->ev)) {
    case TRACE_EPCIS_TRANSFORM:
        if ((rc = need_role(a, ORIGO_EV_LOT_TRANSFORM)) ||
            (rc = each_lot(a, ORIGO_LOT_INPUT, 1, ORIGO_E_INPUT_LOT))) {
            return rc;
        }
        return each_new(a, ORIGO_LOT_OUTPUT);
    case TRACE_EPCIS_COMMISSION:
        return (rc = need_role(a, ORIGO_EV_LOT_CREATE))
                   ? rc
                   : each_new(a, ORIGO_LOT_SUBJECT);
    case TRACE_EPCIS_AGGREGATE:
        rc = each_lot(a, ORIGO_LOT_CHILD, 1, ORIGO_E_LOT_UNKNOWN);
        return rc ? rc : each_lot(a, ORIGO_LOT_PARENT, 1, ORIGO_E_LOT_UNKNOWN);
    case TRACE_EPCIS_SHIP:
        return (rc = need_role(a, ORIGO_EV_CUSTODY_SHIP)) ? rc
                                                          : check_epcis_ship(a);
    case TRACE_EPCIS_RECEIVE:
        return (rc = need_role(a, ORIGO_EV_CUSTODY_RECEIVE))
                   ? rc
                   : check_epcis_receive(a);
    case TRACE_EPCIS_RECALL:
        return (rc = need_role(a, ORIGO_EV_QUALITY_RECALL)) ? rc
                                                            : check_recall(a);
    default:
        return 0;
    }
}

/* ---- one event ------------------------------------------------------------
 */

static int check_event(struct rauth *a, int self)
{
    const origo_event *ev = a->ev;
    int rc;
    switch (ev->type) {
    case ORIGO_EV_LOT_CREATE:
        return check_new(a, ev->lots[0].lot);
    case ORIGO_EV_LOT_TRANSFORM:
        if ((rc = each_lot(a, ORIGO_LOT_INPUT, 1, ORIGO_E_INPUT_LOT)) ||
            (rc = check_units(a))) {
            return rc;
        }
        return each_new(a, ORIGO_LOT_OUTPUT);
    case ORIGO_EV_INSPECTION:
    case ORIGO_EV_QUALITY_HOLD:
        return each_lot(a, ORIGO_LOT_SUBJECT, 0, 0);
    case ORIGO_EV_COA_ATTEST:
        if ((rc = each_lot(a, ORIGO_LOT_SUBJECT, 0, 0))) {
            return rc;
        }
        return str_is(ev->issuer, a->who->name)
                   ? 0
                   : why(a, ORIGO_E_PARTY,
                         "issuer \"%.*s\" is not the signer (%s)",
                         TEXT_ARG(ev->issuer), a->who->name);
    case ORIGO_EV_CUSTODY_SHIP:
        return check_ship(a);
    case ORIGO_EV_CUSTODY_RECEIVE:
        return check_receive(a);
    case ORIGO_EV_QUALITY_RELEASE:
        return check_release(a);
    case ORIGO_EV_QUALITY_RECALL:
        return check_recall(a);
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
        return check_member(a);
    case ORIGO_EV_MEMBER_ROTATE:
        return check_rotate(a, self);
    case ORIGO_EV_EPCIS:
        return check_epcis(a);
    }
    return 0;
}

static void create_lots(struct rauth *a, enum origo_lot_role role)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        const origo_lot_ref *ref = &a->ev->lots[i];
        struct tlot *t = ref->role == role ? tracked(a, ref->lot) : NULL;
        if (t == NULL) {
            continue;
        }
        t->exists = 1;
        memcpy(t->owner, a->id, 32);
        memcpy(t->holder, a->id, 32);
        t->created_ts = t->since_ts = a->ev->ts;
        snprintf(t->unit, sizeof(t->unit), "%.*s", (int)ref->unit.len,
                 ref->unit.ptr);
    }
}

static void move_lots(struct rauth *a, const uint8_t *to)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        struct tlot *t = tracked(a, a->ev->lots[i].lot);
        if (t == NULL) {
            continue;
        }
        if (to != NULL) {
            memcpy(t->transit, to, 32);
        } else {
            memcpy(t->holder, a->id, 32);
            memset(t->transit, 0, 32);
        }
        t->since_ts = a->ev->ts;
    }
}

/* The receiver of a shipment: an identity (authority.c, shipment_target). */
static void ship(struct rauth *a)
{
    const uint8_t *to = NULL;
    char digits[12];
    if (a->ev->type == ORIGO_EV_CUSTODY_SHIP) {
        (void)named_member(a, a->ev->to, &to);
    } else if (genesis_party_digits(a->ev->epcis_info.destination_party.ptr,
                                    a->ev->epcis_info.destination_party.len,
                                    digits)) {
        to = gs1_owner(a, digits);
    }
    if (to != NULL) {
        uint8_t copy[32];
        memcpy(copy, to, 32);
        move_lots(a, copy);
    }
}

static int record_holds(struct rauth *a)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        struct tlot *t = tracked(a, a->ev->lots[i].lot);
        if (t == NULL) {
            continue;
        }
        if (a->ev->type != ORIGO_EV_QUALITY_HOLD) {
            t->hold_count = 0;
            continue;
        }
        int seen = 0;
        for (size_t h = 0; h < t->hold_count; h++) {
            seen |= memcmp(t->holds[h], a->id, 32) == 0;
        }
        if (seen) {
            continue;
        }
        if (grow((void **)&t->holds, &t->hold_cap, t->hold_count + 1,
                 sizeof(*t->holds))) {
            return ORIGO_E_NOMEM;
        }
        memcpy(t->holds[t->hold_count++], a->id, 32);
    }
    return 0;
}

static int apply_event(struct rauth *a)
{
    switch (a->ev->type) {
    case ORIGO_EV_LOT_CREATE:
        create_lots(a, ORIGO_LOT_SUBJECT);
        return 0;
    case ORIGO_EV_LOT_TRANSFORM:
        create_lots(a, ORIGO_LOT_OUTPUT);
        return 0;
    case ORIGO_EV_CUSTODY_SHIP:
        ship(a);
        return 0;
    case ORIGO_EV_CUSTODY_RECEIVE:
        move_lots(a, NULL);
        return 0;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
        return record_holds(a);
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
    case ORIGO_EV_MEMBER_ROTATE:
        return change_member(a);
    case ORIGO_EV_EPCIS:
        switch (trace_facts_epcis_meaning(a->ev)) {
        case TRACE_EPCIS_TRANSFORM:
            create_lots(a, ORIGO_LOT_OUTPUT);
            return 0;
        case TRACE_EPCIS_COMMISSION:
            create_lots(a, ORIGO_LOT_SUBJECT);
            return 0;
        case TRACE_EPCIS_SHIP:
            ship(a);
            return 0;
        case TRACE_EPCIS_RECEIVE:
            move_lots(a, NULL);
            return 0;
        default:
            return 0;
        }
    default:
        return 0;
    }
}

/* How the signer stands to the first answer lot the event names. */
static int standing(struct rauth *a)
{
    for (size_t i = 0; i < a->ev->n_lots; i++) {
        const struct tlot *t = tracked(a, a->ev->lots[i].lot);
        if (t == NULL) {
            continue;
        }
        if (!t->exists) {
            return RAUTH_CREATOR;
        }
        int holds = memcmp(t->holder, a->id, 32) == 0;
        if (holds && memcmp(t->owner, a->id, 32) == 0) {
            return RAUTH_OWNER;
        }
        if (holds) {
            return RAUTH_HOLDER;
        }
        return memcmp(t->transit, a->id, 32) == 0 ? RAUTH_RECEIVER
                                                  : RAUTH_THIRD_PARTY;
    }
    return RAUTH_NO_LOT;
}

static int from_genesis(struct rauth *a)
{
    const genesis *gen = a->gen;
    for (size_t i = 0; i < gen->party_count; i++) {
        const genesis_party *p = &gen->parties[i];
        int rc = rec_put(a, p->pub, 1, p->roles, p->name, strlen(p->name),
                         p->pub, 0);
        if (rc || (rc = name_put(a, p->name, strlen(p->name), p->pub))) {
            return rc;
        }
    }
    for (size_t i = 0; i < gen->namespace_count; i++) {
        const genesis_namespace *ns = &gen->namespaces[i];
        char text[GENESIS_NAMESPACE_MAX + 8];
        int n =
            snprintf(text, sizeof(text), "%s:%s",
                     ns->kind == GENESIS_NS_PARTY ? "party" : "gs1", ns->text);
        int rc = ns_put(a, text, (size_t)n, gen->parties[ns->party].pub);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* Who signed an event (its key's record) and when it says it was made. */
struct signed_at {
    size_t rec;
    uint64_t ts;
};

static int one_event(struct rauth *a, const struct rauth_event *e,
                     struct rauth_signer *signer, struct signed_at *at)
{
    origo_envelope env;
    int rc = origo_envelope_decode(e->envelope, e->len, &env);
    if (rc == 0) {
        rc = origo_event_decode_body(env.body, env.body_len, a->ev);
    }
    if (rc) {
        return why(a, rc, "cannot decode the event: %s", origo_strerror(rc));
    }
    const origo_event *ev = a->ev;
    struct mrec *who = rec_get(a, ev->by);
    a->who = NULL;
    if (who == NULL || !who->active) {
        return why(a, ORIGO_E_NOT_MEMBER,
                   "the signer is not an active member at this leaf");
    }
    at->rec = (size_t)(who - a->m);
    at->ts = ev->ts;
    a->who = who;
    a->id = who->identity;
    if (!role_may(a, ev->type)) {
        return why(a, ORIGO_E_ROLE, "%s (roles 0x%x) may not submit %s",
                   who->name, (unsigned)who->roles,
                   origo_event_type_name(ev->type));
    }
    a->block_time = e->block_time;
    if (!in_window(a, ev->ts)) {
        return why(a, ORIGO_E_TIMESTAMP,
                   "dated %llu ms from its block's time (%llu), more than "
                   "the window of %llu ms",
                   (unsigned long long)(ev->ts > e->block_time
                                            ? ev->ts - e->block_time
                                            : e->block_time - ev->ts),
                   (unsigned long long)e->block_time,
                   (unsigned long long)a->gen->ts_window_ms);
    }
    if (signer != NULL) {
        signer->leaf = e->leaf;
        signer->type = origo_event_type_name(ev->type);
        snprintf(signer->name, sizeof(signer->name), "%s", who->name);
        signer->roles = who->roles;
        signer->standing = standing(a);
    }
    int self = memcmp(ev->by, ev->member, 32) == 0;
    if ((rc = check_event(a, self))) {
        return rc;
    }
    /* A change may move the record the signer pointer points into. */
    return apply_event(a);
}

int report_authority_check(const genesis *gen, const struct rauth_event *events,
                           size_t n, const struct rauth_lot *lots,
                           size_t lot_count, int quality,
                           struct rauth_signer *signers, size_t *failed,
                           char *errbuf, size_t errlen)
{
    struct rauth a;
    memset(&a, 0, sizeof(a));
    a.gen = gen;
    if (sodium_init() < 0) { /* idempotent: for the hash key's randomness */
        return ORIGO_E_SODIUM;
    }
    crypto_shorthash_keygen(a.hash_key);
    a.quality = quality;
    a.errbuf = errbuf;
    a.errlen = errlen;
    a.lots = calloc(lot_count ? lot_count : 1, sizeof(*a.lots));
    a.ev = malloc(sizeof(*a.ev));
    struct signed_at *who = malloc((n ? n : 1) * sizeof(*who));
    int rc = a.lots && a.ev && who ? from_genesis(&a) : ORIGO_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < lot_count; i++) {
        a.lots[i].ptr = lots[i].ptr;
        a.lots[i].len = lots[i].len;
    }
    a.lot_count = lot_count;
    if (rc == 0 && lot_count > 1) {
        qsort(a.lots, lot_count, sizeof(*a.lots), cmp_tlot);
    }
    size_t i = 0;
    for (; rc == 0 && i < n; i++) {
        rc = one_event(&a, &events[i], signers ? &signers[i] : NULL, &who[i]);
    }
    if (rc == ORIGO_E_NOMEM) {
        snprintf(errbuf, errlen, "checking authority: out of memory");
    } else if (rc != 0) {
        *failed = i - 1;
        if (rc == ORIGO_E_NOT_MEMBER || a.who == NULL) {
            snprintf(errbuf, errlen, "%s", a.why);
        } else {
            snprintf(errbuf, errlen, "%s signed by %s: %s",
                     origo_event_type_name(a.ev->type), a.who->name, a.why);
        }
    } else if (signers != NULL) {
        /* Marked once every rotation is known: an event its key signed at
         * or after the revocation time its member stated later. */
        for (size_t k = 0; k < n; k++) {
            const struct mrec *r = &a.m[who[k].rec];
            signers[k].revoked = r->revoked && who[k].ts >= r->revoked;
        }
    }
    for (size_t k = 0; a.lots && k < lot_count; k++) {
        free(a.lots[k].holds);
    }
    free(who);
    free(a.lots);
    free(a.ev);
    free(a.m);
    free(a.names);
    free(a.ns);
    free(a.m_index.slots);
    free(a.name_index.slots);
    free(a.ns_index.slots);
    return rc;
}
