/* The epcis type: one GS1 EPCIS 2.0 event carried as canonical JSON text
 * (origo/json.h). Whether a text is valid, which lots it names in which
 * role and what it states (type, action, time, business step) are decided
 * here from the bytes alone, with no allocation, so that every validator
 * reaches the same verdict whatever its libraries, locale or memory. */
#include <string.h>

#include "event_internal.h"
#include "origo/error.h"
#include "origo/json.h"

static const char *const epcis_types[] = {
    NULL,
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
};
#define TYPE_BIT(t) (1u << (t))
#define OBJ TYPE_BIT(ORIGO_EPCIS_OBJECT)
#define AGG TYPE_BIT(ORIGO_EPCIS_AGGREGATION)
#define TRX TYPE_BIT(ORIGO_EPCIS_TRANSACTION)
#define TRF TYPE_BIT(ORIGO_EPCIS_TRANSFORMATION)
#define ASC TYPE_BIT(ORIGO_EPCIS_ASSOCIATION)

static const char *const actions[] = {NULL, "ADD", "OBSERVE", "DELETE"};

/* The members that name lots, the role they give, and the event types of
 * EPCIS 2.0 that define them; a member in any other type is refused. */
enum list_kind { LIST_EPCS, LIST_QUANTITIES, LIST_SINGLE };
static const struct {
    const char *key;
    enum list_kind kind;
    enum origo_lot_role role;
    unsigned types;
} epcis_lists[] = {
    {"epcList", LIST_EPCS, ORIGO_LOT_SUBJECT, OBJ | TRX},
    {"quantityList", LIST_QUANTITIES, ORIGO_LOT_SUBJECT, OBJ | TRX},
    {"parentID", LIST_SINGLE, ORIGO_LOT_PARENT, AGG | TRX | ASC},
    {"childEPCs", LIST_EPCS, ORIGO_LOT_CHILD, AGG | ASC},
    {"childQuantityList", LIST_QUANTITIES, ORIGO_LOT_CHILD, AGG | ASC},
    {"inputEPCList", LIST_EPCS, ORIGO_LOT_INPUT, TRF},
    {"inputQuantityList", LIST_QUANTITIES, ORIGO_LOT_INPUT, TRF},
    {"outputEPCList", LIST_EPCS, ORIGO_LOT_OUTPUT, TRF},
    {"outputQuantityList", LIST_QUANTITIES, ORIGO_LOT_OUTPUT, TRF},
};
#define LIST_COUNT (sizeof(epcis_lists) / sizeof(epcis_lists[0]))

struct collect {
    origo_lot_ref *lots;
    size_t max, n;
};

/* The role that may not name the same lot as `role`: a lot transformed
 * into itself, or aggregated into itself. */
static enum origo_lot_role opposite(enum origo_lot_role role)
{
    switch (role) {
    case ORIGO_LOT_INPUT:
        return ORIGO_LOT_OUTPUT;
    case ORIGO_LOT_OUTPUT:
        return ORIGO_LOT_INPUT;
    case ORIGO_LOT_PARENT:
        return ORIGO_LOT_CHILD;
    case ORIGO_LOT_CHILD:
        return ORIGO_LOT_PARENT;
    default:
        return 0;
    }
}

static int add_lot(struct collect *c, origo_str epc, enum origo_lot_role role)
{
    size_t len;
    if (origo_epc_lot(epc.ptr, epc.len, &len) != 0)
        return 0; /* names no lot */
    for (size_t i = 0; i < c->n; i++) {
        const origo_lot_ref *seen = &c->lots[i];
        if (seen->lot.len != len || memcmp(seen->lot.ptr, epc.ptr, len) != 0)
            continue;
        if (seen->role == role)
            return 0; /* named twice in one role: one reference */
        if (seen->role == opposite(role))
            return ORIGO_E_SCHEMA;
    }
    if (c->n == c->max)
        return ORIGO_E_TOOBIG;
    origo_lot_ref *ref = &c->lots[c->n++];
    memset(ref, 0, sizeof(*ref));
    ref->role = role;
    ref->lot.ptr = epc.ptr;
    ref->lot.len = len;
    return 0;
}

/* A JSON string item: its content when it needs no escape (an identifier
 * never does; one that does names no lot). */
static int add_string(struct collect *c, origo_str value,
                      enum origo_lot_role role)
{
    origo_str content;
    if (value.len == 0 || value.ptr[0] != '"')
        return ORIGO_E_SCHEMA;
    if (!origo_json_string(value, &content))
        return 0;
    return add_lot(c, content, role);
}

static int add_list(struct collect *c, origo_str list, enum list_kind kind,
                    enum origo_lot_role role)
{
    if (kind == LIST_SINGLE)
        return add_string(c, list, role);
    if (list.ptr[0] != '[')
        return ORIGO_E_SCHEMA;
    size_t cursor = 0;
    origo_str item;
    while (origo_json_next(list, &cursor, &item)) {
        int rc;
        if (kind == LIST_EPCS) {
            rc = add_string(c, item, role);
        } else {
            /* Quantity elements: {"epcClass": ..., "quantity": ...}. */
            origo_str epc_class;
            if (item.ptr[0] != '{' ||
                !origo_json_member(item, "epcClass", &epc_class))
                return ORIGO_E_SCHEMA;
            rc = add_string(c, epc_class, role);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Index of a string member's content in `names` (entries from 1), or 0
 * when absent, not a plain string, or not one of them. *present says
 * whether the member exists at all. */
static int member_name(origo_str event, const char *key,
                       const char *const *names, size_t count, int *present)
{
    origo_str value, content;
    *present = origo_json_member(event, key, &value);
    if (!*present || !origo_json_string(value, &content))
        return 0;
    for (size_t i = 1; i < count; i++) {
        if (strlen(names[i]) == content.len &&
            memcmp(names[i], content.ptr, content.len) == 0)
            return (int)i;
    }
    return 0;
}

/* ---- eventTime ---------------------------------------------------------- */

static int digits_at(const char *text, size_t count, unsigned *out)
{
    unsigned value = 0;
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (unsigned)(text[i] - '0');
    }
    *out = value;
    return 0;
}

static int leap(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Days from 1970-01-01 to the given date (year >= 1970). */
static uint64_t days_since_epoch(unsigned year, unsigned month, unsigned day)
{
    static const unsigned before_month[] = {0,   31,  59,  90,  120, 151,
                                            181, 212, 243, 273, 304, 334};
    uint64_t y = year - 1;
    uint64_t leaps =
        y / 4 - y / 100 + y / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
    uint64_t days = 365 * (uint64_t)(year - 1970) + leaps +
                    before_month[month - 1] + (day - 1);
    return days + (month > 2 && leap(year));
}

/* An xsd:dateTimeStamp as EPCIS 2.0 requires for eventTime:
 * YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), year 1970..9999, as Unix
 * milliseconds (digits of the fraction past the third are dropped). */
static int parse_event_time(origo_str text, uint64_t *ms_out)
{
    const char *t = text.ptr;
    size_t len = text.len, pos = 19;
    unsigned year, month, day, hour, minute, second, frac_ms = 0;
    if (len < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' ||
        t[13] != ':' || t[16] != ':' || digits_at(t, 4, &year) ||
        digits_at(t + 5, 2, &month) || digits_at(t + 8, 2, &day) ||
        digits_at(t + 11, 2, &hour) || digits_at(t + 14, 2, &minute) ||
        digits_at(t + 17, 2, &second))
        return ORIGO_E_SCHEMA;
    static const unsigned month_days[] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    if (year < 1970 || month < 1 || month > 12 || day < 1 ||
        day > month_days[month - 1] + (month == 2 && leap(year)) || hour > 23 ||
        minute > 59 || second > 59)
        return ORIGO_E_SCHEMA;
    if (t[pos] == '.') {
        size_t first = ++pos;
        while (pos < len && t[pos] >= '0' && t[pos] <= '9') {
            if (pos - first < 3)
                frac_ms = frac_ms * 10 + (unsigned)(t[pos] - '0');
            pos++;
        }
        if (pos == first || pos - first > 9)
            return ORIGO_E_SCHEMA;
        for (size_t i = pos - first; i < 3; i++)
            frac_ms *= 10;
    }
    int64_t offset_min = 0;
    if (pos + 1 == len && t[pos] == 'Z') {
        pos++;
    } else if (len - pos == 6 && (t[pos] == '+' || t[pos] == '-') &&
               t[pos + 3] == ':') {
        unsigned oh, om;
        if (digits_at(t + pos + 1, 2, &oh) || digits_at(t + pos + 4, 2, &om) ||
            om > 59 || oh * 60 + om > 14 * 60)
            return ORIGO_E_SCHEMA;
        offset_min = (int64_t)(oh * 60 + om) * (t[pos] == '-' ? -1 : 1);
    } else {
        return ORIGO_E_SCHEMA;
    }
    int64_t ms = (int64_t)days_since_epoch(year, month, day) * 86400000 +
                 (int64_t)(hour * 3600 + minute * 60 + second) * 1000 +
                 frac_ms - offset_min * 60000;
    if (ms <= 0 || (uint64_t)ms > ORIGO_TS_MAX)
        return ORIGO_E_SCHEMA;
    *ms_out = (uint64_t)ms;
    return 0;
}

/* ---- the event ---------------------------------------------------------- */

/* type, action and eventTime, as EPCIS 2.0 requires them: action is
 * exactly ADD, OBSERVE or DELETE (the vocabulary is case-sensitive) in
 * every type but TransformationEvent, which has none. */
static int check_header(origo_str event, origo_epcis_info *info)
{
    int present;
    int type =
        member_name(event, "type", epcis_types,
                    sizeof(epcis_types) / sizeof(epcis_types[0]), &present);
    if (type == 0)
        return ORIGO_E_SCHEMA;
    int action = member_name(event, "action", actions, 4, &present);
    if (type == ORIGO_EPCIS_TRANSFORMATION ? present : action == 0)
        return ORIGO_E_SCHEMA;
    origo_str value, time;
    if (!origo_json_member(event, "eventTime", &value) ||
        !origo_json_string(value, &time) ||
        parse_event_time(time, &info->event_time) != 0)
        return ORIGO_E_SCHEMA;
    info->type = (enum origo_epcis_type)type;
    info->action = (enum origo_epcis_action)action;
    return 0;
}

/* Optional code-valued string members (bizStep, disposition): a string
 * when present; its content is kept when it needs no escape. */
static int code_member(origo_str event, const char *key, origo_str *out)
{
    origo_str value;
    out->ptr = NULL;
    out->len = 0;
    if (!origo_json_member(event, key, &value))
        return 0;
    if (value.ptr[0] != '"')
        return ORIGO_E_SCHEMA;
    if (!origo_json_string(value, out))
        out->len = 0;
    return 0;
}

int origo_cbv_is(origo_str value, enum origo_cbv_vocab vocab, const char *code)
{
    static const char *const urn[] = {
        NULL, "urn:epcglobal:cbv:bizstep:", "urn:epcglobal:cbv:disp:",
        "urn:epcglobal:cbv:sdt:"};
    static const char *const web[] = {NULL, "https://ref.gs1.org/cbv/BizStep-",
                                      "https://ref.gs1.org/cbv/Disp-",
                                      "https://ref.gs1.org/cbv/SDT-"};
    if (vocab < ORIGO_CBV_BIZSTEP || vocab > ORIGO_CBV_SOURCE_DEST_TYPE ||
        !code)
        return 0;
    const char *const prefixes[] = {"", urn[vocab], web[vocab]};
    size_t code_len = strlen(code);
    for (size_t i = 0; i < 3; i++) {
        size_t p = strlen(prefixes[i]);
        if (value.len == p + code_len &&
            memcmp(value.ptr, prefixes[i], p) == 0 &&
            memcmp(value.ptr + p, code, code_len) == 0)
            return 1;
    }
    return 0;
}

/* sourceList / destinationList: arrays of {type, source|destination}
 * strings; keeps the possessing party, else the owning party. */
static int party_list(origo_str event, const char *key, const char *member,
                      origo_str *out)
{
    origo_str list, item, type, party, value;
    origo_str owning = {NULL, 0};
    size_t cursor = 0;
    out->ptr = NULL;
    out->len = 0;
    if (!origo_json_member(event, key, &list))
        return 0;
    if (list.ptr[0] != '[')
        return ORIGO_E_SCHEMA;
    while (origo_json_next(list, &cursor, &item)) {
        if (item.ptr[0] != '{' || !origo_json_member(item, "type", &value) ||
            value.ptr[0] != '"' || !origo_json_member(item, member, &party) ||
            party.ptr[0] != '"')
            return ORIGO_E_SCHEMA;
        origo_str content;
        if (!origo_json_string(value, &type) ||
            !origo_json_string(party, &content))
            continue; /* escaped text names no party we map */
        if (origo_cbv_is(type, ORIGO_CBV_SOURCE_DEST_TYPE,
                         "possessing_party") &&
            !out->len)
            *out = content;
        else if (origo_cbv_is(type, ORIGO_CBV_SOURCE_DEST_TYPE,
                              "owning_party") &&
                 !owning.len)
            owning = content;
    }
    if (!out->len)
        *out = owning;
    return 0;
}

int event_epcis_check(const char *text, size_t len, origo_lot_ref *lots,
                      size_t max_lots, size_t *n_lots, origo_epcis_info *info)
{
    origo_str event = {text, len};
    origo_epcis_info found = {0};
    if (origo_json_check(text, len, NULL) != 0 || len < 2 || text[0] != '{')
        return ORIGO_E_SCHEMA;
    int rc = check_header(event, &found);
    if (!rc)
        rc = code_member(event, "bizStep", &found.biz_step);
    if (!rc)
        rc = code_member(event, "disposition", &found.disposition);
    if (!rc)
        rc = party_list(event, "sourceList", "source", &found.source_party);
    if (!rc)
        rc = party_list(event, "destinationList", "destination",
                        &found.destination_party);
    if (rc)
        return rc;
    struct collect c = {lots, max_lots, 0};
    for (size_t i = 0; i < LIST_COUNT; i++) {
        origo_str list;
        if (!origo_json_member(event, epcis_lists[i].key, &list))
            continue;
        if (!(epcis_lists[i].types & TYPE_BIT(found.type)))
            return ORIGO_E_SCHEMA; /* not a member of this event type */
        rc = add_list(&c, list, epcis_lists[i].kind, epcis_lists[i].role);
        if (rc)
            return rc;
    }
    *n_lots = c.n;
    *info = found;
    return 0;
}
