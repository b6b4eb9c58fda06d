/* Conversion between origo_event and the CLI's JSON form of an event. The
 * JSON names follow the struct in origo/event.h; every unknown field is
 * refused so a typo in an operator's file is reported, not ignored. */
#include "event_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/json.h"

static const char *const stage_names[] = {NULL,  "IQC", "IPQC",
                                          "OQC", "FAI", "LAB"};
static const char *const result_names[] = {NULL, "pass", "fail", "conditional"};

const char *event_json_stage_name(enum origo_stage stage)
{
    return stage >= ORIGO_STAGE_IQC && stage <= ORIGO_STAGE_LAB
               ? stage_names[stage]
               : NULL;
}

const char *event_json_result_name(enum origo_result result)
{
    return result >= ORIGO_RESULT_PASS && result <= ORIGO_RESULT_CONDITIONAL
               ? result_names[result]
               : NULL;
}

/* Parsing context: the error buffer and the first error seen. */
struct ctx {
    char *err;
    size_t err_len;
    int rc;
};

static int bad(struct ctx *c, const char *field, const char *expected)
{
    if (!c->rc) {
        snprintf(c->err, c->err_len, "field '%s': expected %s", field,
                 expected);
        c->rc = ORIGO_E_JSON;
    }
    return c->rc;
}

/* Reads an optional string field into *out. */
static void get_str(struct ctx *c, json_t *obj, const char *field,
                    origo_str *out)
{
    json_t *value = json_object_get(obj, field);
    if (!value)
        return;
    if (!json_is_string(value)) {
        bad(c, field, "a string");
        return;
    }
    out->ptr = json_string_value(value);
    out->len = json_string_length(value);
}

static void get_hash(struct ctx *c, json_t *value, const char *field,
                     uint8_t out[32])
{
    if (!json_is_string(value) || cli_unhex(json_string_value(value), out, 32))
        bad(c, field, "64 hex digits (a SHA-256 hash)");
}

/* A lot reference: "LOT" or {"lot": ..., "qty": ..., "unit": ...}. */
static void get_lot(struct ctx *c, json_t *value, const char *field,
                    enum origo_lot_role role, origo_event *ev)
{
    if (ev->n_lots >= ORIGO_EVENT_MAX_LOTS) {
        bad(c, field, "at most 128 lots per event");
        return;
    }
    origo_lot_ref *ref = &ev->lots[ev->n_lots];
    memset(ref, 0, sizeof(*ref));
    ref->role = role;
    if (json_is_string(value)) {
        ref->lot.ptr = json_string_value(value);
        ref->lot.len = json_string_length(value);
    } else if (json_is_object(value)) {
        const char *key;
        json_t *member;
        json_object_foreach(value, key, member)
        {
            if (strcmp(key, "lot") && strcmp(key, "qty") && strcmp(key, "unit"))
                bad(c, field, "lot objects with only lot, qty and unit");
        }
        get_str(c, value, "lot", &ref->lot);
        get_str(c, value, "qty", &ref->qty);
        get_str(c, value, "unit", &ref->unit);
        if (!ref->lot.len)
            bad(c, field, "a 'lot' in each lot object");
    } else {
        bad(c, field, "a lot identifier or {lot, qty, unit}");
        return;
    }
    ev->n_lots++;
}

static void get_lots(struct ctx *c, json_t *obj, const char *field,
                     enum origo_lot_role role, origo_event *ev)
{
    json_t *value = json_object_get(obj, field);
    if (!value)
        return;
    if (!json_is_array(value)) {
        bad(c, field, "an array of lots");
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) get_lot(c, item, field, role, ev);
}

static void get_measures(struct ctx *c, json_t *obj, origo_event *ev)
{
    json_t *value = json_object_get(obj, "measurements");
    if (!value)
        return;
    if (!json_is_array(value) ||
        json_array_size(value) > ORIGO_EVENT_MAX_MEASURE) {
        bad(c, "measurements", "an array of at most 64 measurement objects");
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        if (!json_is_object(item)) {
            bad(c, "measurements", "objects {name, value, unit, lower, upper}");
            return;
        }
        origo_measure *m = &ev->measures[ev->n_measures++];
        get_str(c, item, "name", &m->name);
        get_str(c, item, "value", &m->value);
        get_str(c, item, "unit", &m->unit);
        get_str(c, item, "lower", &m->lower);
        get_str(c, item, "upper", &m->upper);
    }
}

static void get_roles(struct ctx *c, json_t *obj, origo_event *ev)
{
    json_t *value = json_object_get(obj, "roles");
    if (!value)
        return;
    if (!json_is_array(value)) {
        bad(c, "roles", "an array of role names");
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        unsigned bit = 0;
        for (unsigned b = 1; b <= ORIGO_ROLE_ALL; b <<= 1) {
            const char *name = origo_role_name(b);
            if (json_is_string(item) && name &&
                !strcmp(name, json_string_value(item)))
                bit = b;
        }
        if (!bit) {
            bad(c, "roles",
                "role names among admin, auditor, carrier, "
                "inspector, plant, supplier, validator");
            return;
        }
        ev->roles |= bit;
    }
}

static void get_key_field(struct ctx *c, json_t *obj, const char *field,
                          uint8_t out[32]);

static void get_member(struct ctx *c, json_t *obj, origo_event *ev)
{
    get_key_field(c, obj, "member", ev->member);
    get_key_field(c, obj, "key", ev->new_key);
    json_t *revoked = json_object_get(obj, "revoked");
    if (revoked) {
        if (!json_is_integer(revoked) || json_integer_value(revoked) <= 0)
            bad(c, "revoked", "Unix time in milliseconds");
        else
            ev->revoked = (uint64_t)json_integer_value(revoked);
    }
}

/* A public key field: 64 hex digits or a verifier key. */
static void get_key_field(struct ctx *c, json_t *obj, const char *field,
                          uint8_t out[32])
{
    json_t *value = json_object_get(obj, field);
    if (!value)
        return;
    const char *text = json_string_value(value);
    if (!text) {
        bad(c, field, "a public key (hex or verifier key)");
        return;
    }
    size_t len = strlen(text);
    origo_vkey vkey;
    if (origo_pubkey_from_hex(text, len, out) == 0)
        return;
    if (origo_vkey_parse(text, len, &vkey) == 0) {
        memcpy(out, vkey.pub, 32);
        return;
    }
    bad(c, field, "a public key (hex or verifier key)");
}

/* member.add/update "owns": namespaces, sorted here into the canonical
 * (strictly increasing) order the event schema requires. */
static int owns_cmp(const void *a, const void *b)
{
    const origo_str *x = a, *y = b;
    return origo_mp_keycmp(x->ptr, x->len, y->ptr, y->len);
}

static void get_owns(struct ctx *c, json_t *obj, origo_event *ev)
{
    json_t *list = json_object_get(obj, "owns"), *item;
    size_t i;
    if (!list)
        return;
    if (!json_is_array(list) || json_array_size(list) > ORIGO_EVENT_MAX_OWNS) {
        bad(c, "owns", "an array of at most 16 namespaces");
        return;
    }
    json_array_foreach(list, i, item)
    {
        if (!json_is_string(item) ||
            origo_namespace_check(json_string_value(item),
                                  json_string_length(item))) {
            bad(c, "owns",
                "namespaces such as \"party:acme\" or \"gs1:4012345\"");
            return;
        }
        ev->owns[ev->n_owns++] =
            (origo_str){json_string_value(item), json_string_length(item)};
    }
    qsort(ev->owns, ev->n_owns, sizeof(ev->owns[0]), owns_cmp);
}

static void get_docs_ext(struct ctx *c, json_t *obj, origo_event *ev)
{
    json_t *docs = json_object_get(obj, "doc");
    if (docs) {
        if (!json_is_array(docs) ||
            json_array_size(docs) > ORIGO_EVENT_MAX_DOCS) {
            bad(c, "doc", "an array of at most 16 SHA-256 hex hashes");
            return;
        }
        size_t i;
        json_t *item;
        json_array_foreach(docs, i, item)
            get_hash(c, item, "doc", ev->docs[ev->n_docs++]);
    }
    json_t *ext = json_object_get(obj, "ext");
    if (ext) {
        if (!json_is_object(ext) ||
            json_object_size(ext) > ORIGO_EVENT_MAX_EXT) {
            bad(c, "ext", "an object of at most 16 string values");
            return;
        }
        /* The wire form needs keys in increasing bytewise order. */
        const char *keys[ORIGO_EVENT_MAX_EXT];
        size_t count = 0;
        const char *key;
        json_t *value;
        json_object_foreach(ext, key, value) keys[count++] = key;
        for (size_t i = 1; i < count; i++)
            for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
                const char *tmp = keys[j];
                keys[j] = keys[j - 1];
                keys[j - 1] = tmp;
            }
        for (size_t i = 0; i < count; i++) {
            value = json_object_get(ext, keys[i]);
            if (!json_is_string(value)) {
                bad(c, "ext", "string values");
                return;
            }
            ev->ext[ev->n_ext].key = origo_str_c(keys[i]);
            ev->ext[ev->n_ext].value.ptr = json_string_value(value);
            ev->ext[ev->n_ext].value.len = json_string_length(value);
            ev->n_ext++;
        }
    }
}

static int parse_enum(const char *const *names, int count, const char *text)
{
    for (int i = 1; i < count; i++)
        if (text && !strcmp(names[i], text))
            return i;
    return 0;
}

static void get_inspection(struct ctx *c, json_t *obj, origo_event *ev)
{
    json_t *stage = json_object_get(obj, "stage");
    json_t *result = json_object_get(obj, "result");
    json_t *report = json_object_get(obj, "report");
    if (stage) {
        ev->stage = parse_enum(stage_names, 6, json_string_value(stage));
        if (!ev->stage)
            bad(c, "stage", "one of IQC, IPQC, OQC, FAI, LAB");
    }
    if (result) {
        ev->result = parse_enum(result_names, 4, json_string_value(result));
        if (!ev->result)
            bad(c, "result", "one of pass, fail, conditional");
    }
    if (report)
        get_hash(c, report, "report", ev->report);
    json_t *coa = json_object_get(obj, "coa");
    if (coa)
        get_hash(c, coa, "coa", ev->coa);
    get_measures(c, obj, ev);
}

/* The epcis field: an EPCIS 2.0 event object, brought into canonical JSON
 * from the file's own bytes (numbers keep their decimal lexemes; a parse
 * through jansson would turn them into doubles), or a string that already
 * holds the canonical text (as `origo event` prints it). */
static void get_epcis(struct ctx *c, json_t *obj, const origo_str *source,
                      origo_event *ev, char **epcis_text)
{
    json_t *value = json_object_get(obj, "epcis");
    origo_str canonical;
    char detail[160] = "";
    if (!value)
        return;
    origo_buf buf;
    origo_buf_init(&buf, 4 * (size_t)ORIGO_EVENT_BODY_MAX);
    if (json_is_string(value)) {
        canonical =
            (origo_str){json_string_value(value), json_string_length(value)};
    } else if (!json_is_object(value)) {
        bad(c, "epcis", "one EPCIS 2.0 event object");
        goto done;
    } else if (!source || !source->ptr) {
        bad(c, "epcis", "an EPCIS event given in the --json file");
        goto done;
    } else if (origo_json_canonicalize(source->ptr, source->len, &buf, detail,
                                       sizeof(detail)) != 0 ||
               !origo_json_member((origo_str){(const char *)buf.data, buf.len},
                                  "epcis", &canonical)) {
        snprintf(c->err, c->err_len, "field 'epcis': %s",
                 detail[0] ? detail : "not found in the file");
        c->rc = ORIGO_E_JSON;
        goto done;
    }
    size_t at = 0;
    if (origo_json_check(canonical.ptr, canonical.len, &at) != 0) {
        snprintf(c->err, c->err_len,
                 "field 'epcis': not canonical JSON at byte %zu (give the "
                 "EPCIS event as an object and origo canonicalizes it; "
                 "docs/formats/event.md, \"Canonical JSON\")",
                 at);
        c->rc = ORIGO_E_JSON;
        goto done;
    }
    char *text = malloc(canonical.len + 1);
    if (!text) {
        bad(c, "epcis", "an object that fits in memory");
        goto done;
    }
    memcpy(text, canonical.ptr, canonical.len);
    text[canonical.len] = '\0';
    *epcis_text = text;
    ev->epcis = (origo_str){text, canonical.len};
done:
    origo_buf_close(&buf);
}

static const char *const known_fields[] = {
    "net",    "type",  "ts",     "lots",   "inputs",       "outputs",
    "item",   "stage", "result", "report", "measurements", "coa",
    "issuer", "from",  "to",     "ref",    "reason",       "member",
    "name",   "roles", "owns",   "key",    "revoked",      "epcis",
    "doc",    "ext",   "by",     "id",     "sig",          NULL,
};

int event_json_parse(json_t *obj, const origo_str *source, origo_event *ev,
                     char **epcis_text, char *err, size_t err_len)
{
    struct ctx c = {err, err_len, 0};
    *epcis_text = NULL;
    if (!json_is_object(obj))
        return bad(&c, "(top level)", "a JSON object");
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        int known = 0;
        for (int i = 0; known_fields[i]; i++)
            known |= !strcmp(known_fields[i], key);
        if (!known) {
            snprintf(err, err_len, "unknown field '%s'", key);
            return ORIGO_E_JSON;
        }
    }
    json_t *type = json_object_get(obj, "type");
    if (type) {
        enum origo_event_type parsed;
        if (!json_is_string(type) ||
            origo_event_type_parse(json_string_value(type),
                                   json_string_length(type), &parsed))
            return bad(&c, "type", "an event type such as lot.create");
        if (ev->type && ev->type != parsed)
            return bad(&c, "type", "the same type as --type");
        origo_event_init(ev, parsed);
    }
    if (!ev->type)
        return bad(&c, "type", "an event type such as lot.create");
    get_str(&c, obj, "net", &ev->net);
    json_t *ts = json_object_get(obj, "ts");
    if (ts) {
        if (!json_is_integer(ts) || json_integer_value(ts) <= 0)
            bad(&c, "ts", "Unix time in milliseconds");
        else
            ev->ts = (uint64_t)json_integer_value(ts);
    }
    get_lots(&c, obj, "lots", ORIGO_LOT_SUBJECT, ev);
    get_lots(&c, obj, "inputs", ORIGO_LOT_INPUT, ev);
    get_lots(&c, obj, "outputs", ORIGO_LOT_OUTPUT, ev);
    get_str(&c, obj, "item", &ev->item);
    get_inspection(&c, obj, ev);
    get_str(&c, obj, "issuer", &ev->issuer);
    get_str(&c, obj, "from", &ev->from);
    get_str(&c, obj, "to", &ev->to);
    get_str(&c, obj, "ref", &ev->ref);
    get_str(&c, obj, "reason", &ev->reason);
    get_member(&c, obj, ev);
    get_owns(&c, obj, ev);
    get_str(&c, obj, "name", &ev->name);
    get_roles(&c, obj, ev);
    get_epcis(&c, obj, source, ev, epcis_text);
    get_docs_ext(&c, obj, ev);
    return c.rc;
}

static void set_str(json_t *obj, const char *field, origo_str s)
{
    if (s.len)
        json_object_set_new(obj, field, json_stringn(s.ptr, s.len));
}

static void set_hash(json_t *obj, const char *field, const uint8_t hash[32])
{
    char hex[65];
    cli_hex(hash, 32, hex);
    json_object_set_new(obj, field, json_string(hex));
}

static json_t *dump_lot(const origo_lot_ref *ref)
{
    if (!ref->qty.len)
        return json_stringn(ref->lot.ptr, ref->lot.len);
    json_t *obj = json_object();
    set_str(obj, "lot", ref->lot);
    set_str(obj, "qty", ref->qty);
    set_str(obj, "unit", ref->unit);
    return obj;
}

static void dump_lots(json_t *obj, const origo_event *ev)
{
    static const char *const fields[] = {NULL, "lots", "inputs", "outputs"};
    for (int role = ORIGO_LOT_SUBJECT; role <= ORIGO_LOT_OUTPUT; role++) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ev->n_lots; i++)
            if ((int)ev->lots[i].role == role)
                json_array_append_new(arr, dump_lot(&ev->lots[i]));
        if (json_array_size(arr))
            json_object_set_new(obj, fields[role], arr);
        else
            json_decref(arr);
    }
}

static void dump_type_fields(json_t *obj, const origo_event *ev)
{
    static const uint8_t zero[32];
    set_str(obj, "item", ev->item);
    if (ev->type == ORIGO_EV_INSPECTION) {
        json_object_set_new(obj, "stage",
                            json_string(event_json_stage_name(ev->stage)));
        json_object_set_new(obj, "result",
                            json_string(event_json_result_name(ev->result)));
        set_hash(obj, "report", ev->report);
        json_t *measures = json_array();
        for (size_t i = 0; i < ev->n_measures; i++) {
            const origo_measure *m = &ev->measures[i];
            json_t *item = json_object();
            set_str(item, "name", m->name);
            set_str(item, "value", m->value);
            set_str(item, "unit", m->unit);
            set_str(item, "lower", m->lower);
            set_str(item, "upper", m->upper);
            json_array_append_new(measures, item);
        }
        json_object_set_new(obj, "measurements", measures);
    }
    if (ev->type == ORIGO_EV_COA_ATTEST)
        set_hash(obj, "coa", ev->coa);
    set_str(obj, "issuer", ev->issuer);
    set_str(obj, "from", ev->from);
    set_str(obj, "to", ev->to);
    set_str(obj, "ref", ev->ref);
    set_str(obj, "reason", ev->reason);
    if (memcmp(ev->member, zero, 32))
        set_hash(obj, "member", ev->member);
    if (memcmp(ev->new_key, zero, 32))
        set_hash(obj, "key", ev->new_key);
    if (ev->revoked)
        json_object_set_new(obj, "revoked",
                            json_integer((json_int_t)ev->revoked));
    set_str(obj, "name", ev->name);
    if (ev->roles) {
        json_t *roles = json_array();
        for (unsigned b = 1; b <= ORIGO_ROLE_ALL; b <<= 1)
            if (ev->roles & b)
                json_array_append_new(roles, json_string(origo_role_name(b)));
        json_object_set_new(obj, "roles", roles);
    }
    if (ev->n_owns) {
        json_t *owns = json_array();
        for (size_t i = 0; i < ev->n_owns; i++)
            json_array_append_new(
                owns, json_stringn(ev->owns[i].ptr, ev->owns[i].len));
        json_object_set_new(obj, "owns", owns);
    }
    /* The canonical text itself: jansson would print its numbers through
     * doubles, which is not what was signed. */
    set_str(obj, "epcis", ev->epcis);
}

json_t *event_json_dump(const origo_event *ev)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    set_str(obj, "net", ev->net);
    json_object_set_new(obj, "type",
                        json_string(origo_event_type_name(ev->type)));
    set_hash(obj, "by", ev->by);
    json_object_set_new(obj, "ts", json_integer((json_int_t)ev->ts));
    dump_lots(obj, ev);
    dump_type_fields(obj, ev);
    if (ev->n_docs) {
        json_t *docs = json_array();
        for (size_t i = 0; i < ev->n_docs; i++) {
            char hex[65];
            cli_hex(ev->docs[i], 32, hex);
            json_array_append_new(docs, json_string(hex));
        }
        json_object_set_new(obj, "doc", docs);
    }
    if (ev->n_ext) {
        json_t *ext = json_object();
        for (size_t i = 0; i < ev->n_ext; i++) {
            char key[ORIGO_EXT_KEY_MAX + 1];
            size_t len = ev->ext[i].key.len;
            memcpy(key, ev->ext[i].key.ptr, len);
            key[len] = 0;
            json_object_set_new(
                ext, key,
                json_stringn(ev->ext[i].value.ptr, ev->ext[i].value.len));
        }
        json_object_set_new(obj, "ext", ext);
    }
    return obj;
}
