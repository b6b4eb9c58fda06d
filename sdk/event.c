/* Event bodies and envelopes on the wire: the canonical MessagePack encoder
 * and strict decoder of docs/formats/event.md, event IDs, the domain-
 * separated signature and the full envelope check that validators and
 * offline verifiers run. The schema rules themselves live in
 * event_schema.c so that encode and decode share them. */
#include <sodium.h>
#include <string.h>

#include "event_internal.h"
#include "origo/hash.h"
#include "origo/error.h"

/* Any string of a body is read with this cap; the schema then applies the
 * field's own limit, so encode and decode report the same error. */
#define STR_READ_MAX ORIGO_EPCIS_MAX
#define BODY_MAX_FIELDS 16
#define SIG_READ_MAX 1024

static const char *const type_names[] = {
    NULL,
    "lot.create",
    "lot.transform",
    "inspection",
    "coa.attest",
    "custody.ship",
    "custody.receive",
    "quality.hold",
    "quality.release",
    "quality.recall",
    "member.add",
    "member.update",
    "member.remove",
    "epcis",
    "member.rotate",
};

const char *origo_event_type_name(enum origo_event_type type)
{
    if (type < ORIGO_EV_LOT_CREATE || type > ORIGO_EV_MEMBER_ROTATE)
        return NULL;
    return type_names[type];
}

int origo_event_type_parse(const char *name, size_t len,
                           enum origo_event_type *out)
{
    for (int t = ORIGO_EV_LOT_CREATE; t <= ORIGO_EV_MEMBER_ROTATE; t++) {
        if (name && strlen(type_names[t]) == len &&
            memcmp(type_names[t], name, len) == 0) {
            *out = (enum origo_event_type)t;
            return 0;
        }
    }
    return ORIGO_E_EVENT_TYPE;
}

void origo_event_init(origo_event *ev, enum origo_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
}

int origo_event_validate(origo_event *ev)
{
    if (!ev)
        return ORIGO_E_INVAL;
    origo_lot_ref lots[ORIGO_EVENT_MAX_LOTS];
    size_t n_lots = 0;
    origo_epcis_info info;
    int rc = event_schema_check(ev, lots, &n_lots, &info);
    if (rc == 0 && ev->type == ORIGO_EV_EPCIS) {
        memcpy(ev->lots, lots, n_lots * sizeof(lots[0]));
        ev->n_lots = n_lots;
        ev->epcis_info = info;
    }
    return rc;
}

/* ---- type-specific fields: keys in spec order --------------------------- */

/* The keys each type adds between ts and doc. */
static size_t type_keys(enum origo_event_type type, const char **keys)
{
    static const char *const create[] = {"lot", "item", "qty", "unit"};
    static const char *const transform[] = {"inputs", "outputs"};
    static const char *const inspection[] = {"lot", "stage", "result", "report",
                                             "measurements"};
    static const char *const coa[] = {"lot", "coa", "issuer"};
    static const char *const custody[] = {"lots", "from", "to", "ref"};
    static const char *const quality[] = {"lots", "reason"};
    static const char *const member[] = {"member", "name", "roles", "owns"};
    static const char *const epcis[] = {"epcis"};
    static const char *const rotate[] = {"member", "key", "revoked"};
    const char *const *src = NULL;
    size_t n = 0;
#define USE(arr) (src = (arr), n = sizeof(arr) / sizeof((arr)[0]))
    switch (type) {
    case ORIGO_EV_LOT_CREATE:
        USE(create);
        break;
    case ORIGO_EV_LOT_TRANSFORM:
        USE(transform);
        break;
    case ORIGO_EV_INSPECTION:
        USE(inspection);
        break;
    case ORIGO_EV_COA_ATTEST:
        USE(coa);
        break;
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        USE(custody);
        break;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
    case ORIGO_EV_QUALITY_RECALL:
        USE(quality);
        break;
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
        USE(member);
        break;
    case ORIGO_EV_MEMBER_REMOVE:
        src = member, n = 1;
        break;
    case ORIGO_EV_EPCIS:
        USE(epcis);
        break;
    case ORIGO_EV_MEMBER_ROTATE:
        USE(rotate);
        break;
    }
#undef USE
    for (size_t i = 0; i < n; i++)
        keys[i] = src[i];
    return n;
}

/* ---- encoder ------------------------------------------------------------ */

static void put_str(origo_buf *out, origo_str s)
{
    origo_mp_put_str(out, s.ptr, s.len);
}

static size_t count_role(const origo_event *ev, enum origo_lot_role role)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n_lots; i++)
        n += ev->lots[i].role == role;
    return n;
}

static void put_qty_list(origo_buf *out, const origo_event *ev,
                         enum origo_lot_role role)
{
    origo_mp_put_array(out, (uint32_t)count_role(ev, role));
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        if (ref->role != role)
            continue;
        origo_mp_put_map(out, 3);
        origo_mp_put_cstr(out, "lot");
        put_str(out, ref->lot);
        origo_mp_put_cstr(out, "qty");
        put_str(out, ref->qty);
        origo_mp_put_cstr(out, "unit");
        put_str(out, ref->unit);
    }
}

static void put_lot_list(origo_buf *out, const origo_event *ev)
{
    origo_mp_put_array(out, (uint32_t)ev->n_lots);
    for (size_t i = 0; i < ev->n_lots; i++)
        put_str(out, ev->lots[i].lot);
}

static void put_measures(origo_buf *out, const origo_event *ev)
{
    origo_mp_put_array(out, (uint32_t)ev->n_measures);
    for (size_t i = 0; i < ev->n_measures; i++) {
        const origo_measure *m = &ev->measures[i];
        origo_mp_put_map(out, 3 + (m->lower.len > 0) + (m->upper.len > 0));
        origo_mp_put_cstr(out, "name");
        put_str(out, m->name);
        origo_mp_put_cstr(out, "value");
        put_str(out, m->value);
        origo_mp_put_cstr(out, "unit");
        put_str(out, m->unit);
        if (m->lower.len) {
            origo_mp_put_cstr(out, "lower");
            put_str(out, m->lower);
        }
        if (m->upper.len) {
            origo_mp_put_cstr(out, "upper");
            put_str(out, m->upper);
        }
    }
}

static void put_roles(origo_buf *out, unsigned roles)
{
    uint32_t n = 0;
    for (unsigned bit = 1; bit <= ORIGO_ROLE_ALL; bit <<= 1)
        n += (roles & bit) != 0;
    origo_mp_put_array(out, n);
    /* Bit order is the names' bytewise order, so this is canonical. */
    for (unsigned bit = 1; bit <= ORIGO_ROLE_ALL; bit <<= 1) {
        if (roles & bit)
            origo_mp_put_cstr(out, origo_role_name(bit));
    }
}

/* Writes the type's fields; `key` walks the keys of type_keys(). */
static void put_type_fields(origo_buf *out, const origo_event *ev)
{
    switch (ev->type) {
    case ORIGO_EV_LOT_CREATE:
        origo_mp_put_cstr(out, "lot");
        put_str(out, ev->lots[0].lot);
        origo_mp_put_cstr(out, "item");
        put_str(out, ev->item);
        origo_mp_put_cstr(out, "qty");
        put_str(out, ev->lots[0].qty);
        origo_mp_put_cstr(out, "unit");
        put_str(out, ev->lots[0].unit);
        break;
    case ORIGO_EV_LOT_TRANSFORM:
        origo_mp_put_cstr(out, "inputs");
        put_qty_list(out, ev, ORIGO_LOT_INPUT);
        origo_mp_put_cstr(out, "outputs");
        put_qty_list(out, ev, ORIGO_LOT_OUTPUT);
        break;
    case ORIGO_EV_INSPECTION:
        origo_mp_put_cstr(out, "lot");
        put_str(out, ev->lots[0].lot);
        origo_mp_put_cstr(out, "stage");
        origo_mp_put_cstr(out, event_schema_stage_name(ev->stage));
        origo_mp_put_cstr(out, "result");
        origo_mp_put_cstr(out, event_schema_result_name(ev->result));
        origo_mp_put_cstr(out, "report");
        origo_mp_put_bin(out, ev->report, ORIGO_HASH_LEN);
        if (ev->n_measures) {
            origo_mp_put_cstr(out, "measurements");
            put_measures(out, ev);
        }
        break;
    case ORIGO_EV_COA_ATTEST:
        origo_mp_put_cstr(out, "lot");
        put_str(out, ev->lots[0].lot);
        origo_mp_put_cstr(out, "coa");
        origo_mp_put_bin(out, ev->coa, ORIGO_HASH_LEN);
        origo_mp_put_cstr(out, "issuer");
        put_str(out, ev->issuer);
        break;
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        origo_mp_put_cstr(out, "lots");
        put_lot_list(out, ev);
        origo_mp_put_cstr(out, "from");
        put_str(out, ev->from);
        origo_mp_put_cstr(out, "to");
        put_str(out, ev->to);
        origo_mp_put_cstr(out, "ref");
        put_str(out, ev->ref);
        break;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
    case ORIGO_EV_QUALITY_RECALL:
        origo_mp_put_cstr(out, "lots");
        put_lot_list(out, ev);
        origo_mp_put_cstr(out, "reason");
        put_str(out, ev->reason);
        break;
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
        origo_mp_put_cstr(out, "member");
        origo_mp_put_bin(out, ev->member, ORIGO_PUBKEY_LEN);
        if (ev->type == ORIGO_EV_MEMBER_REMOVE)
            break;
        origo_mp_put_cstr(out, "name");
        put_str(out, ev->name);
        origo_mp_put_cstr(out, "roles");
        put_roles(out, ev->roles);
        if (ev->n_owns) {
            origo_mp_put_cstr(out, "owns");
            origo_mp_put_array(out, (uint32_t)ev->n_owns);
            for (size_t i = 0; i < ev->n_owns; i++)
                put_str(out, ev->owns[i]);
        }
        break;
    case ORIGO_EV_EPCIS:
        origo_mp_put_cstr(out, "epcis");
        put_str(out, ev->epcis);
        break;
    case ORIGO_EV_MEMBER_ROTATE:
        origo_mp_put_cstr(out, "member");
        origo_mp_put_bin(out, ev->member, ORIGO_PUBKEY_LEN);
        origo_mp_put_cstr(out, "key");
        origo_mp_put_bin(out, ev->new_key, ORIGO_PUBKEY_LEN);
        if (ev->revoked) {
            origo_mp_put_cstr(out, "revoked");
            origo_mp_put_uint(out, ev->revoked);
        }
        break;
    }
}

/* Number of type fields actually written (optional ones only if set). */
static uint32_t type_field_count(const origo_event *ev)
{
    const char *keys[8];
    size_t n = type_keys(ev->type, keys);
    if (ev->type == ORIGO_EV_INSPECTION && ev->n_measures == 0)
        n--;
    if ((ev->type == ORIGO_EV_MEMBER_ADD ||
         ev->type == ORIGO_EV_MEMBER_UPDATE) &&
        ev->n_owns == 0)
        n--;
    if (ev->type == ORIGO_EV_MEMBER_ROTATE && ev->revoked == 0)
        n--;
    return (uint32_t)n;
}

int origo_event_encode_body(const origo_event *ev, origo_buf *out)
{
    if (!ev || !out)
        return ORIGO_E_INVAL;
    origo_lot_ref scratch[ORIGO_EVENT_MAX_LOTS];
    size_t n_scratch = 0;
    origo_epcis_info info;
    int rc = event_schema_check(ev, scratch, &n_scratch, &info);
    if (rc)
        return rc;
    if (out->err)
        return out->err;
    size_t start = out->len;
    uint32_t fields =
        5 + type_field_count(ev) + (ev->n_docs > 0) + (ev->n_ext > 0);
    origo_mp_put_map(out, fields);
    origo_mp_put_cstr(out, "v");
    origo_mp_put_uint(out, ORIGO_EVENT_VERSION);
    origo_mp_put_cstr(out, "net");
    put_str(out, ev->net);
    origo_mp_put_cstr(out, "type");
    origo_mp_put_cstr(out, origo_event_type_name(ev->type));
    origo_mp_put_cstr(out, "by");
    origo_mp_put_bin(out, ev->by, ORIGO_PUBKEY_LEN);
    origo_mp_put_cstr(out, "ts");
    origo_mp_put_uint(out, ev->ts);
    put_type_fields(out, ev);
    if (ev->n_docs) {
        origo_mp_put_cstr(out, "doc");
        origo_mp_put_array(out, (uint32_t)ev->n_docs);
        for (size_t i = 0; i < ev->n_docs; i++)
            origo_mp_put_bin(out, ev->docs[i], ORIGO_HASH_LEN);
    }
    if (ev->n_ext) {
        origo_mp_put_cstr(out, "ext");
        origo_mp_put_map(out, (uint32_t)ev->n_ext);
        for (size_t i = 0; i < ev->n_ext; i++) {
            put_str(out, ev->ext[i].key);
            put_str(out, ev->ext[i].value);
        }
    }
    if (out->err)
        return out->err;
    if (out->len - start > ORIGO_EVENT_BODY_MAX)
        return ORIGO_E_TOOBIG;
    return 0;
}

/* ---- decoder: maps with keys in spec order ------------------------------ */

/* Reads the entries of one map whose keys the spec orders. Keys are
 * consumed in order; a key out of place is classified so the caller gets
 * the precise error (duplicate, out of order, missing, unknown). */
struct fields {
    origo_mp_reader *rd;
    const char *keys[BODY_MAX_FIELDS];
    size_t n_keys;
    uint32_t count; /* entries in the map */
    uint32_t used;  /* entries consumed */
    size_t next;    /* index of the first key that may still come */
    uint32_t seen;  /* bit i: keys[i] consumed */
};

static int fields_open(struct fields *f, origo_mp_reader *rd,
                       const char *const *keys, size_t n_keys)
{
    memset(f, 0, sizeof(*f));
    f->rd = rd;
    for (size_t i = 0; i < n_keys; i++)
        f->keys[i] = keys[i];
    f->n_keys = n_keys;
    /* Extra entries are let in here and reported by fields_close() as the
     * unknown or duplicate keys they are. */
    return origo_mp_read_map(rd, &f->count, BODY_MAX_FIELDS);
}

static void fields_add_keys(struct fields *f, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n && f->n_keys < BODY_MAX_FIELDS; i++)
        f->keys[f->n_keys++] = keys[i];
}

/* Skips one value whose maps may be in spec order (origo_mp_skip() wants
 * generic, sorted maps). */
static int skip_value(origo_mp_reader *rd)
{
    int kind = origo_mp_peek(rd);
    if (kind != ORIGO_MP_ARRAY && kind != ORIGO_MP_MAP)
        return origo_mp_skip(rd);
    uint32_t count;
    int rc = kind == ORIGO_MP_ARRAY
                 ? origo_mp_read_array(rd, &count, ORIGO_MP_MAX_ITEMS)
                 : origo_mp_read_map(rd, &count, ORIGO_MP_MAX_ITEMS);
    uint32_t values = kind == ORIGO_MP_MAP ? 2 * count : count;
    for (uint32_t i = 0; i < values && !rc; i++)
        rc = skip_value(rd);
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

/* Returns 1 when `key` is among the map's remaining entries (read through a
 * copy of the reader, so nothing is consumed). */
static int key_later(const struct fields *f, const char *key)
{
    origo_mp_reader probe = *f->rd;
    for (uint32_t i = f->used; i < f->count; i++) {
        if (origo_mp_next_is_key(&probe, key))
            return 1;
        if (skip_value(&probe) || skip_value(&probe))
            return 0;
    }
    return 0;
}

/* The next key is not `expected` (NULL at the end of the map): say why. */
static int fields_misplaced(struct fields *f, const char *expected)
{
    origo_mp_reader probe = *f->rd;
    const char *text;
    size_t len;
    int rc = origo_mp_read_str(&probe, &text, &len, STR_READ_MAX);
    if (rc)
        return rc;
    for (size_t i = 0; i < f->n_keys; i++) {
        if (strlen(f->keys[i]) != len || memcmp(f->keys[i], text, len) != 0)
            continue;
        if (f->seen & (1u << i))
            return ORIGO_E_DUPLICATE_KEY;
        if (i < f->next || !expected)
            return ORIGO_E_KEY_ORDER;
        /* A later key stands where `expected` should: is `expected`
         * further on (out of order) or nowhere (missing)? */
        return key_later(f, expected) ? ORIGO_E_KEY_ORDER : ORIGO_E_MISSING_KEY;
    }
    return ORIGO_E_UNKNOWN_KEY;
}

static size_t key_index(const struct fields *f, const char *key)
{
    for (size_t i = 0; i < f->n_keys; i++) {
        if (strcmp(f->keys[i], key) == 0)
            return i;
    }
    return f->n_keys; /* not reached: callers pass their own keys */
}

/* Consumes `key` if it comes next; 1 if it did, 0 if not, <0 on error. */
static int fields_take(struct fields *f, const char *key)
{
    if (f->rd->err)
        return f->rd->err;
    /* Read on a probe: a key that is not `key` leaves f->rd untouched. */
    origo_mp_reader probe = *f->rd;
    if (f->used == f->count || origo_mp_read_key(&probe, key) != 0)
        return 0;
    *f->rd = probe;
    size_t i = key_index(f, key);
    f->used++;
    f->seen |= 1u << i;
    f->next = i + 1;
    return 1;
}

static int fields_req(struct fields *f, const char *key)
{
    int rc = fields_take(f, key);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return 0;
    return f->used == f->count ? ORIGO_E_MISSING_KEY : fields_misplaced(f, key);
}

/* An optional key; 1 present, 0 absent. Absent keys may not come later. */
static int fields_opt(struct fields *f, const char *key)
{
    int rc = fields_take(f, key);
    if (rc == 0)
        f->next = key_index(f, key) + 1;
    return rc;
}

static int fields_close(struct fields *f)
{
    if (f->rd->err)
        return f->rd->err;
    if (f->used != f->count) {
        f->next = f->n_keys;
        return fields_misplaced(f, NULL);
    }
    origo_mp_leave(f->rd);
    return 0;
}

static int read_text(origo_mp_reader *rd, origo_str *out)
{
    return origo_mp_read_str(rd, &out->ptr, &out->len, STR_READ_MAX);
}

/* A quantity element {lot, qty, unit}. */
static int read_qty_ref(origo_mp_reader *rd, origo_lot_ref *ref,
                        enum origo_lot_role role)
{
    static const char *const keys[] = {"lot", "qty", "unit"};
    struct fields f;
    int rc = fields_open(&f, rd, keys, 3);
    memset(ref, 0, sizeof(*ref));
    ref->role = role;
    if (!rc)
        rc = fields_req(&f, "lot");
    if (!rc)
        rc = read_text(rd, &ref->lot);
    if (!rc)
        rc = fields_req(&f, "qty");
    if (!rc)
        rc = read_text(rd, &ref->qty);
    if (!rc)
        rc = fields_req(&f, "unit");
    if (!rc)
        rc = read_text(rd, &ref->unit);
    return rc ? rc : fields_close(&f);
}

static int read_qty_list(origo_mp_reader *rd, origo_event *ev,
                         enum origo_lot_role role)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, ORIGO_EVENT_MAX_LOTS);
    if (rc)
        return rc;
    if (count > ORIGO_EVENT_MAX_LOTS - ev->n_lots)
        return ORIGO_E_TOOBIG;
    for (uint32_t i = 0; i < count && !rc; i++)
        rc = read_qty_ref(rd, &ev->lots[ev->n_lots++], role);
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

static int read_lot_list(origo_mp_reader *rd, origo_event *ev)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, ORIGO_EVENT_MAX_LOTS);
    for (uint32_t i = 0; i < count && !rc; i++) {
        origo_lot_ref *ref = &ev->lots[ev->n_lots++];
        ref->role = ORIGO_LOT_SUBJECT;
        rc = read_text(rd, &ref->lot);
    }
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

static int read_subject(origo_mp_reader *rd, origo_event *ev)
{
    ev->lots[0].role = ORIGO_LOT_SUBJECT;
    ev->n_lots = 1;
    return read_text(rd, &ev->lots[0].lot);
}

static int read_measure(origo_mp_reader *rd, origo_measure *m)
{
    static const char *const keys[] = {"name", "value", "unit", "lower",
                                       "upper"};
    struct fields f;
    int rc = fields_open(&f, rd, keys, 5);
    if (!rc)
        rc = fields_req(&f, "name");
    if (!rc)
        rc = read_text(rd, &m->name);
    if (!rc)
        rc = fields_req(&f, "value");
    if (!rc)
        rc = read_text(rd, &m->value);
    if (!rc)
        rc = fields_req(&f, "unit");
    if (!rc)
        rc = read_text(rd, &m->unit);
    for (int i = 0; i < 2 && !rc; i++) {
        origo_str *limit = i == 0 ? &m->lower : &m->upper;
        rc = fields_opt(&f, keys[3 + i]);
        if (rc == 1) {
            rc = read_text(rd, limit);
            /* Present means non-empty: absence is how "no limit" is
             * spelled. */
            if (!rc && limit->len == 0)
                rc = ORIGO_E_SCHEMA;
        }
    }
    return rc ? rc : fields_close(&f);
}

static int read_measures(origo_mp_reader *rd, origo_event *ev)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, ORIGO_EVENT_MAX_MEASURE);
    if (!rc && count == 0)
        return ORIGO_E_SCHEMA; /* omitted, not empty */
    for (uint32_t i = 0; i < count && !rc; i++)
        rc = read_measure(rd, &ev->measures[ev->n_measures++]);
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

static int read_owns(origo_mp_reader *rd, origo_event *ev)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, ORIGO_EVENT_MAX_OWNS);
    if (!rc && count == 0)
        return ORIGO_E_SCHEMA; /* absent, not empty */
    for (uint32_t i = 0; i < count && !rc; i++)
        rc = read_text(rd, &ev->owns[i]);
    if (!rc) {
        ev->n_owns = count;
        origo_mp_leave(rd);
    }
    return rc;
}

static int read_roles(origo_mp_reader *rd, unsigned *roles)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, 16);
    unsigned last = 0;
    for (uint32_t i = 0; i < count && !rc; i++) {
        origo_str name;
        rc = read_text(rd, &name);
        if (rc)
            break;
        unsigned bit = event_schema_role_parse(name.ptr, name.len);
        /* Known names, strictly increasing: one spelling per role set. */
        if (bit == 0 || bit <= last)
            return ORIGO_E_SCHEMA;
        *roles |= bit;
        last = bit;
    }
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

static int read_enum_field(origo_mp_reader *rd, origo_event *ev, int stage)
{
    origo_str text;
    int rc = read_text(rd, &text);
    if (rc)
        return rc;
    return stage ? event_schema_stage_parse(text.ptr, text.len, &ev->stage)
                 : event_schema_result_parse(text.ptr, text.len, &ev->result);
}

/* Reads the value of type field `key`. */
static int read_type_value(origo_mp_reader *rd, origo_event *ev,
                           const char *key)
{
    if (strcmp(key, "lot") == 0)
        return read_subject(rd, ev);
    if (strcmp(key, "item") == 0)
        return read_text(rd, &ev->item);
    if (strcmp(key, "qty") == 0)
        return read_text(rd, &ev->lots[0].qty);
    if (strcmp(key, "unit") == 0)
        return read_text(rd, &ev->lots[0].unit);
    if (strcmp(key, "inputs") == 0)
        return read_qty_list(rd, ev, ORIGO_LOT_INPUT);
    if (strcmp(key, "outputs") == 0)
        return read_qty_list(rd, ev, ORIGO_LOT_OUTPUT);
    if (strcmp(key, "stage") == 0)
        return read_enum_field(rd, ev, 1);
    if (strcmp(key, "result") == 0)
        return read_enum_field(rd, ev, 0);
    if (strcmp(key, "report") == 0)
        return origo_mp_read_bin_exact(rd, ev->report, ORIGO_HASH_LEN);
    if (strcmp(key, "measurements") == 0)
        return read_measures(rd, ev);
    if (strcmp(key, "coa") == 0)
        return origo_mp_read_bin_exact(rd, ev->coa, ORIGO_HASH_LEN);
    if (strcmp(key, "issuer") == 0)
        return read_text(rd, &ev->issuer);
    if (strcmp(key, "lots") == 0)
        return read_lot_list(rd, ev);
    if (strcmp(key, "from") == 0)
        return read_text(rd, &ev->from);
    if (strcmp(key, "to") == 0)
        return read_text(rd, &ev->to);
    if (strcmp(key, "ref") == 0)
        return read_text(rd, &ev->ref);
    if (strcmp(key, "reason") == 0)
        return read_text(rd, &ev->reason);
    if (strcmp(key, "member") == 0)
        return origo_mp_read_bin_exact(rd, ev->member, ORIGO_PUBKEY_LEN);
    if (strcmp(key, "name") == 0)
        return read_text(rd, &ev->name);
    if (strcmp(key, "roles") == 0)
        return read_roles(rd, &ev->roles);
    if (strcmp(key, "owns") == 0)
        return read_owns(rd, ev);
    if (strcmp(key, "epcis") == 0)
        return read_text(rd, &ev->epcis);
    if (strcmp(key, "key") == 0)
        return origo_mp_read_bin_exact(rd, ev->new_key, ORIGO_PUBKEY_LEN);
    if (strcmp(key, "revoked") == 0) {
        int rc = origo_mp_read_uint(rd, &ev->revoked);
        /* Present means set: 0 would have been left out. */
        return rc ? rc : ev->revoked == 0 ? ORIGO_E_SCHEMA : 0;
    }
    return ORIGO_E_INTERNAL;
}

static int read_docs(origo_mp_reader *rd, origo_event *ev)
{
    uint32_t count;
    int rc = origo_mp_read_array(rd, &count, ORIGO_EVENT_MAX_DOCS);
    if (!rc && count == 0)
        return ORIGO_E_SCHEMA; /* omitted, not empty */
    for (uint32_t i = 0; i < count && !rc; i++)
        rc =
            origo_mp_read_bin_exact(rd, ev->docs[ev->n_docs++], ORIGO_HASH_LEN);
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

static int read_ext(origo_mp_reader *rd, origo_event *ev)
{
    uint32_t count;
    int rc = origo_mp_read_map(rd, &count, ORIGO_EVENT_MAX_EXT);
    if (!rc && count == 0)
        return ORIGO_E_SCHEMA;
    for (uint32_t i = 0; i < count && !rc; i++) {
        origo_ext_entry *e = &ev->ext[ev->n_ext++];
        rc = read_text(rd, &e->key);
        if (!rc)
            rc = read_text(rd, &e->value);
    }
    if (!rc)
        origo_mp_leave(rd);
    return rc;
}

/* v, net, type, by, ts. */
static int read_common(struct fields *f, origo_event *ev)
{
    origo_mp_reader *rd = f->rd;
    uint64_t version;
    int rc = fields_req(f, "v");
    if (!rc)
        rc = origo_mp_read_uint(rd, &version);
    if (!rc && version != ORIGO_EVENT_VERSION)
        rc = ORIGO_E_VERSION;
    if (!rc)
        rc = fields_req(f, "net");
    if (!rc)
        rc = read_text(rd, &ev->net);
    origo_str type;
    if (!rc)
        rc = fields_req(f, "type");
    if (!rc)
        rc = read_text(rd, &type);
    if (!rc)
        rc = origo_event_type_parse(type.ptr, type.len, &ev->type);
    if (!rc)
        rc = fields_req(f, "by");
    if (!rc)
        rc = origo_mp_read_bin_exact(rd, ev->by, ORIGO_PUBKEY_LEN);
    if (!rc)
        rc = fields_req(f, "ts");
    if (!rc)
        rc = origo_mp_read_uint(rd, &ev->ts);
    return rc;
}

static int read_body(origo_mp_reader *rd, origo_event *ev)
{
    static const char *const common[] = {"v", "net", "type", "by", "ts"};
    static const char *const trailer[] = {"doc", "ext"};
    struct fields f;
    int rc = fields_open(&f, rd, common, 5);
    if (!rc)
        rc = read_common(&f, ev);
    if (rc)
        return rc;
    const char *keys[8];
    size_t n = type_keys(ev->type, keys);
    fields_add_keys(&f, keys, n);
    fields_add_keys(&f, trailer, 2);
    for (size_t i = 0; i < n && !rc; i++) {
        int optional = strcmp(keys[i], "measurements") == 0 ||
                       strcmp(keys[i], "owns") == 0 ||
                       strcmp(keys[i], "revoked") == 0;
        if (optional) {
            rc = fields_opt(&f, keys[i]);
            if (rc == 1)
                rc = read_type_value(rd, ev, keys[i]);
        } else {
            rc = fields_req(&f, keys[i]);
            if (!rc)
                rc = read_type_value(rd, ev, keys[i]);
        }
    }
    if (rc < 0)
        return rc;
    rc = fields_opt(&f, "doc");
    if (rc == 1)
        rc = read_docs(rd, ev);
    if (rc < 0)
        return rc;
    rc = fields_opt(&f, "ext");
    if (rc == 1)
        rc = read_ext(rd, ev);
    if (rc < 0)
        return rc;
    return fields_close(&f);
}

int origo_event_decode_body(const uint8_t *body, size_t len, origo_event *out)
{
    if (!body || !out)
        return ORIGO_E_INVAL;
    if (len > ORIGO_EVENT_BODY_MAX)
        return ORIGO_E_TOOBIG;
    origo_event ev;
    memset(&ev, 0, sizeof(ev));
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, body, len);
    int rc = read_body(&rd, &ev);
    if (!rc)
        rc = origo_mp_reader_finish(&rd);
    if (!rc)
        rc = origo_event_validate(&ev);
    if (rc)
        return rc;
    memcpy(out, &ev, sizeof(ev));
    return 0;
}

/* ---- IDs and signatures ------------------------------------------------- */

static const uint8_t sig_domain[ORIGO_EVENT_SIG_DOMAIN_LEN] =
    ORIGO_EVENT_SIG_DOMAIN; /* the terminating NUL is part of it */

void origo_event_id(const uint8_t *body, size_t len,
                    uint8_t id[ORIGO_EVENT_ID_LEN])
{
    origo_sha256(body, len, id);
}

int origo_event_sign(const origo_key *key, const uint8_t *body, size_t len,
                     uint8_t sig[ORIGO_SIG_LEN])
{
    return origo_key_sign_prefixed(key, sig_domain, sizeof(sig_domain), body,
                                   len, sig);
}

int origo_event_verify_sig(const uint8_t *pub, size_t pub_len,
                           const uint8_t *body, size_t len, const uint8_t *sig,
                           size_t sig_len)
{
    return origo_ed25519_verify_prefixed(
        pub, pub_len, sig_domain, sizeof(sig_domain), body, len, sig, sig_len);
}

/* ---- envelopes ---------------------------------------------------------- */

int origo_envelope_encode(const uint8_t *body, size_t body_len,
                          const uint8_t sig[ORIGO_SIG_LEN], origo_buf *out)
{
    if (!body || !sig || !out)
        return ORIGO_E_INVAL;
    if (body_len > ORIGO_EVENT_BODY_MAX)
        return ORIGO_E_TOOBIG;
    origo_mp_put_map(out, 2);
    origo_mp_put_cstr(out, "body");
    origo_mp_put_bin(out, body, body_len);
    origo_mp_put_cstr(out, "sig");
    origo_mp_put_bin(out, sig, ORIGO_SIG_LEN);
    return out->err;
}

int origo_envelope_decode(const uint8_t *data, size_t len, origo_envelope *out)
{
    static const char *const keys[] = {"body", "sig"};
    if (!data || !out)
        return ORIGO_E_INVAL;
    if (len > ORIGO_ENVELOPE_MAX)
        return ORIGO_E_TOOBIG;
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    struct fields f;
    const uint8_t *body = NULL, *sig = NULL;
    size_t body_len = 0, sig_len = 0;
    int rc = fields_open(&f, &rd, keys, 2);
    if (!rc)
        rc = fields_req(&f, "body");
    if (!rc)
        rc = origo_mp_read_bin(&rd, &body, &body_len, ORIGO_EVENT_BODY_MAX);
    if (!rc)
        rc = fields_req(&f, "sig");
    if (!rc)
        rc = origo_mp_read_bin(&rd, &sig, &sig_len, SIG_READ_MAX);
    if (!rc && sig_len != ORIGO_SIG_LEN)
        rc = ORIGO_E_SIGNATURE;
    if (!rc)
        rc = fields_close(&f);
    if (!rc)
        rc = origo_mp_reader_finish(&rd);
    if (rc)
        return rc;
    out->body = body;
    out->body_len = body_len;
    memcpy(out->sig, sig, ORIGO_SIG_LEN);
    return 0;
}

int origo_envelope_verify(const uint8_t *data, size_t len, const char *net,
                          size_t net_len, origo_event *ev,
                          uint8_t id[ORIGO_EVENT_ID_LEN])
{
    if (!net)
        return ORIGO_E_INVAL;
    origo_envelope env;
    int rc = origo_envelope_decode(data, len, &env);
    if (rc)
        return rc;
    origo_event decoded;
    rc = origo_event_decode_body(env.body, env.body_len, &decoded);
    if (rc)
        return rc;
    if (decoded.net.len != net_len ||
        memcmp(decoded.net.ptr, net, net_len) != 0)
        return ORIGO_E_NETWORK;
    rc = origo_event_verify_sig(decoded.by, ORIGO_PUBKEY_LEN, env.body,
                                env.body_len, env.sig, ORIGO_SIG_LEN);
    if (rc)
        return rc;
    if (ev)
        memcpy(ev, &decoded, sizeof(decoded));
    if (id)
        origo_event_id(env.body, env.body_len, id);
    return 0;
}

int origo_event_seal(const origo_event *ev, const origo_key *key,
                     origo_buf *out, uint8_t id[ORIGO_EVENT_ID_LEN])
{
    if (!ev || !key || !out)
        return ORIGO_E_INVAL;
    if (sodium_memcmp(ev->by, origo_key_public(key), ORIGO_PUBKEY_LEN) != 0)
        return ORIGO_E_KEY;
    origo_buf body;
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    uint8_t sig[ORIGO_SIG_LEN];
    int rc = origo_event_encode_body(ev, &body);
    if (!rc)
        rc = origo_event_sign(key, body.data, body.len, sig);
    if (!rc)
        rc = origo_envelope_encode(body.data, body.len, sig, out);
    if (!rc && id)
        origo_event_id(body.data, body.len, id);
    origo_buf_close(&body);
    return rc;
}
