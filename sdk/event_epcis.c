/* The epcis event type: one GS1 EPCIS 2.0 event carried as canonical JSON
 * text. This is the only part of the SDK core that parses JSON (with
 * jansson); it checks that the text is exactly jansson's compact,
 * key-sorted dump of itself, so one event has one spelling and one ID, and
 * collects the lot identifiers the event names. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "event_internal.h"
#include "origo/error.h"

static const char *const epcis_types[] = {
    "ObjectEvent",         "AggregationEvent", "TransactionEvent",
    "TransformationEvent", "AssociationEvent",
};

/* Where each EPCIS list puts its lots. */
enum list_kind { LIST_EPCS, LIST_QUANTITIES, LIST_SINGLE };
static const struct {
    const char *key;
    enum list_kind kind;
    enum origo_lot_role role;
} epcis_lists[] = {
    {"epcList", LIST_EPCS, ORIGO_LOT_SUBJECT},
    {"quantityList", LIST_QUANTITIES, ORIGO_LOT_SUBJECT},
    {"parentID", LIST_SINGLE, ORIGO_LOT_SUBJECT},
    {"childEPCs", LIST_EPCS, ORIGO_LOT_SUBJECT},
    {"childQuantityList", LIST_QUANTITIES, ORIGO_LOT_SUBJECT},
    {"inputEPCList", LIST_EPCS, ORIGO_LOT_INPUT},
    {"inputQuantityList", LIST_QUANTITIES, ORIGO_LOT_INPUT},
    {"outputEPCList", LIST_EPCS, ORIGO_LOT_OUTPUT},
    {"outputQuantityList", LIST_QUANTITIES, ORIGO_LOT_OUTPUT},
};

struct collect {
    const char *text; /* the event text: lots point into it */
    size_t text_len;
    origo_lot_ref *lots;
    size_t max, n;
};

/* The lot named by an EPC or class string, if any: a lot identifier as is,
 * or the lot-level prefix of a Digital Link that adds /21/<serial> to a
 * lot. Other identifiers (SGTIN, SSCC, GTIN classes without a lot) name no
 * lot and yield 0. */
static size_t lot_prefix(const char *epc, size_t len)
{
    if (origo_lot_check(epc, len, NULL) == 0)
        return len;
    if (len < 9 || memcmp(epc, "https://", 8) != 0)
        return 0;
    /* Strip one trailing "/21/<serial>". */
    const char *end = epc + len, *last = NULL, *prev = NULL;
    for (const char *p = epc + 8; p < end; p++) {
        if (*p == '/')
            prev = last, last = p;
    }
    if (!prev || last - prev != 3 || memcmp(prev, "/21/", 4) != 0 ||
        last + 1 == end)
        return 0;
    size_t cut = (size_t)(prev - epc);
    enum origo_lot_kind kind;
    if (origo_lot_check(epc, cut, &kind) != 0)
        return 0;
    return kind == ORIGO_LOTID_DIGITAL_LINK ? cut : 0;
}

/* Finds the bytes of `lot` inside the event text so the reference can
 * borrow them. Lot identifiers hold no character that jansson escapes, so
 * a string that starts with them appears verbatim after a quote. */
static const char *locate(const struct collect *c, const char *lot, size_t len)
{
    const char *pos = c->text, *end = c->text + c->text_len;
    while (pos < end) {
        const char *quote = memchr(pos, '"', (size_t)(end - pos));
        if (!quote || (size_t)(end - quote - 1) < len)
            return NULL;
        if (memcmp(quote + 1, lot, len) == 0)
            return quote + 1;
        pos = quote + 1;
    }
    return NULL;
}

static int add_lot(struct collect *c, const char *epc, size_t epc_len,
                   enum origo_lot_role role)
{
    size_t len = lot_prefix(epc, epc_len);
    if (len == 0)
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->lots[i].lot.len == len &&
            memcmp(c->lots[i].lot.ptr, epc, len) == 0) {
            if (c->lots[i].role == role)
                return 0; /* named twice in one role: one reference */
            if ((c->lots[i].role == ORIGO_LOT_INPUT &&
                 role == ORIGO_LOT_OUTPUT) ||
                (c->lots[i].role == ORIGO_LOT_OUTPUT &&
                 role == ORIGO_LOT_INPUT))
                return ORIGO_E_SCHEMA; /* a lot transformed into itself */
        }
    }
    if (c->n == c->max)
        return ORIGO_E_TOOBIG;
    const char *at = locate(c, epc, len);
    if (!at)
        return ORIGO_E_SCHEMA;
    origo_lot_ref *ref = &c->lots[c->n++];
    memset(ref, 0, sizeof(*ref));
    ref->role = role;
    ref->lot.ptr = at;
    ref->lot.len = len;
    return 0;
}

static int add_string(struct collect *c, json_t *value,
                      enum origo_lot_role role)
{
    if (!json_is_string(value))
        return ORIGO_E_SCHEMA;
    return add_lot(c, json_string_value(value), json_string_length(value),
                   role);
}

static int add_list(struct collect *c, json_t *list, enum list_kind kind,
                    enum origo_lot_role role)
{
    if (kind == LIST_SINGLE)
        return add_string(c, list, role);
    if (!json_is_array(list))
        return ORIGO_E_SCHEMA;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        int rc;
        if (kind == LIST_EPCS) {
            rc = add_string(c, item, role);
        } else {
            /* Quantity elements: {"epcClass": ..., "quantity": ...}. */
            if (!json_is_object(item))
                return ORIGO_E_SCHEMA;
            rc = add_string(c, json_object_get(item, "epcClass"), role);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int check_header(json_t *event)
{
    json_t *type = json_object_get(event, "type");
    if (!json_is_string(type) ||
        !json_is_string(json_object_get(event, "eventTime")))
        return ORIGO_E_SCHEMA;
    const char *name = json_string_value(type);
    for (size_t i = 0; i < sizeof(epcis_types) / sizeof(epcis_types[0]); i++) {
        if (strcmp(name, epcis_types[i]) == 0)
            return 0;
    }
    return ORIGO_E_SCHEMA;
}

/* The text must be what jansson dumps for its own parse: compact, keys
 * sorted, no insignificant whitespace, one spelling of every string and
 * number. */
static int check_canonical(json_t *event, const char *text, size_t len)
{
    char *dump = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS);
    if (!dump)
        return ORIGO_E_NOMEM;
    int same = strlen(dump) == len && memcmp(dump, text, len) == 0;
    free(dump);
    return same ? 0 : ORIGO_E_SCHEMA;
}

/* Whether json_loadb() of `text` failed for want of memory rather than
 * because of the text. This must never call a bad text a memory failure
 * (every validator would then abort the block containing it, forever), and
 * should recognise every memory failure (a validator short of memory would
 * otherwise reject, for the text's sake, an event the others accept).
 * jansson 2.14 does not report json_error_out_of_memory from its parser;
 * its allocation failures show as:
 *  - NULL with no error text at all (a value, a key, an object member or
 *    the token buffer could not be allocated): every genuine parse error
 *    sets a text;
 *  - "invalid token" (or, in key position, "string or '}' expected") right
 *    after a string's closing quote: the string's copy could not be
 *    allocated. A genuine error inside a string is reported at its cause
 *    first (jansson keeps the first error), and no other token ends in '"'.
 * Later jansson versions may say json_error_out_of_memory; that counts too.
 * What remains undetected: jansson 2.14 drops bytes of a token longer than
 * 15 bytes when its token buffer cannot grow and allocation then succeeds
 * again; the canonical-form check below then rejects the text as SCHEMA. */
static int load_failed_for_memory(const json_error_t *error, const char *text,
                                  size_t len)
{
    static const char invalid_token[] = "invalid token";
    static const char key_expected[] = "string or '}' expected";
    if (error->text[0] == '\0')
        return 1;
    enum json_error_code code = json_error_code(error);
    if (code == json_error_out_of_memory)
        return 1;
    if (code != json_error_invalid_syntax)
        return 0;
    if (strncmp(error->text, invalid_token, sizeof(invalid_token) - 1) != 0 &&
        strncmp(error->text, key_expected, sizeof(key_expected) - 1) != 0)
        return 0;
    return error->position >= 1 && (size_t)error->position <= len &&
           text[error->position - 1] == '"';
}

/* Whether the text holds a raw control character. jansson's compact dump
 * escapes every one, so no canonical text does; refusing them before
 * parsing also keeps jansson 2.14 from an assertion failure it hits when an
 * allocation fails inside a long string that a control character ends. */
static int has_control(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] < 0x20)
            return 1;
    }
    return 0;
}

int event_epcis_check(const char *text, size_t len, origo_lot_ref *lots,
                      size_t max_lots, size_t *n_lots)
{
    json_error_t error;
    if (has_control(text, len))
        return ORIGO_E_SCHEMA;
    json_t *event = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!event)
        return load_failed_for_memory(&error, text, len) ? ORIGO_E_NOMEM
                                                         : ORIGO_E_SCHEMA;
    int rc = ORIGO_E_SCHEMA;
    if (!json_is_object(event))
        goto err_after_load;
    rc = check_canonical(event, text, len);
    if (!rc)
        rc = check_header(event);
    if (rc)
        goto err_after_load;
    struct collect c = {text, len, lots, max_lots, 0};
    for (size_t i = 0; i < sizeof(epcis_lists) / sizeof(epcis_lists[0]); i++) {
        json_t *list = json_object_get(event, epcis_lists[i].key);
        if (!list)
            continue;
        rc = add_list(&c, list, epcis_lists[i].kind, epcis_lists[i].role);
        if (rc)
            goto err_after_load;
    }
    *n_lots = c.n;
err_after_load:
    json_decref(event);
    return rc;
}
