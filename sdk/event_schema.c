/* The event schema of docs/formats/event.md: one function per rule family
 * (text, decimals, lot identifiers, per-type fields), shared by the encoder
 * and the decoder so that both accept exactly the same events. Lot
 * identifier and decimal syntax checks are public because tools and the
 * ledger validate user input with them too. */
#include <stdint.h>
#include <string.h>

#include "event_internal.h"
#include "origo/error.h"
#include "origo/keys.h"

/* ---- text --------------------------------------------------------------- */

enum text_kind {
    TEXT_LINE,      /* no control characters at all */
    TEXT_MULTILINE, /* LF and TAB allowed */
};

/* Valid UTF-8 (no overlongs, surrogates or values past U+10FFFF) and no
 * control characters beyond what `kind` allows. */
static int text_ok(const char *text, size_t len, enum text_kind kind)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t pos = 0;
    while (pos < len) {
        uint8_t b = s[pos];
        if (b < 0x80) {
            int control = b < 0x20 || b == 0x7f;
            if (control &&
                !(kind == TEXT_MULTILINE && (b == '\n' || b == '\t')))
                return 0;
            pos++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((b & 0xe0) == 0xc0)
            need = 2, min = 0x80, cp = b & 0x1f;
        else if ((b & 0xf0) == 0xe0)
            need = 3, min = 0x800, cp = b & 0x0f;
        else if ((b & 0xf8) == 0xf0)
            need = 4, min = 0x10000, cp = b & 0x07;
        else
            return 0;
        if (len - pos < need)
            return 0;
        for (size_t i = 1; i < need; i++) {
            if ((s[pos + i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[pos + i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        /* C1 controls are controls too. */
        if (cp < 0xa0)
            return 0;
        pos += need;
    }
    return 1;
}

/* A required text field of 1..max bytes. */
static int check_text(origo_str s, size_t max, enum text_kind kind)
{
    if (!s.ptr || s.len == 0 || s.len > max)
        return ORIGO_E_SCHEMA;
    return text_ok(s.ptr, s.len, kind) ? 0 : ORIGO_E_SCHEMA;
}

/* Printable ASCII without space, 1..max bytes (net, unit). */
static int check_token(origo_str s, size_t max)
{
    if (!s.ptr || s.len == 0 || s.len > max)
        return ORIGO_E_SCHEMA;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < 0x21 || s.ptr[i] > 0x7e)
            return ORIGO_E_SCHEMA;
    }
    return 0;
}

static int str_eq(origo_str a, origo_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int zero_bytes(const uint8_t *bytes, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= bytes[i];
    return acc == 0;
}

/* ---- decimals ----------------------------------------------------------- */

int origo_decimal_check(const char *text, size_t len, int allow_negative)
{
    if (!text || len == 0 || len > ORIGO_DECIMAL_MAX)
        return ORIGO_E_SCHEMA;
    size_t pos = 0;
    int negative = text[0] == '-';
    if (negative) {
        if (!allow_negative)
            return ORIGO_E_SCHEMA;
        pos++;
    }
    size_t int_start = pos;
    while (pos < len && text[pos] >= '0' && text[pos] <= '9')
        pos++;
    size_t int_len = pos - int_start;
    /* One integer digit at least, and no leading zero unless it is "0". */
    if (int_len == 0 || (int_len > 1 && text[int_start] == '0'))
        return ORIGO_E_SCHEMA;
    int all_zero = int_len == 1 && text[int_start] == '0';
    if (pos < len) {
        if (text[pos] != '.')
            return ORIGO_E_SCHEMA;
        pos++;
        size_t frac_start = pos;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
            if (text[pos] != '0')
                all_zero = 0;
            pos++;
        }
        /* A fraction has digits and no trailing zero: "1.50" is "1.5". */
        if (pos != len || pos == frac_start || text[len - 1] == '0')
            return ORIGO_E_SCHEMA;
    }
    if (all_zero && (negative || !allow_negative))
        return ORIGO_E_SCHEMA; /* "-0", or a zero quantity */
    return 0;
}

/* Compares two unsigned canonical decimals. */
static int magnitude_cmp(const char *a, size_t a_len, const char *b,
                         size_t b_len)
{
    const char *a_dot = memchr(a, '.', a_len), *b_dot = memchr(b, '.', b_len);
    size_t a_int = a_dot ? (size_t)(a_dot - a) : a_len;
    size_t b_int = b_dot ? (size_t)(b_dot - b) : b_len;
    if (a_int != b_int)
        return a_int < b_int ? -1 : 1;
    int c = memcmp(a, b, a_int);
    if (c)
        return c;
    /* Same integer part: compare fractions digit by digit, missing = 0. */
    const char *a_frac = a_dot ? a_dot + 1 : a + a_len;
    const char *b_frac = b_dot ? b_dot + 1 : b + b_len;
    size_t a_flen = (size_t)(a + a_len - a_frac);
    size_t b_flen = (size_t)(b + b_len - b_frac);
    size_t n = a_flen > b_flen ? a_flen : b_flen;
    for (size_t i = 0; i < n; i++) {
        char da = i < a_flen ? a_frac[i] : '0';
        char db = i < b_flen ? b_frac[i] : '0';
        if (da != db)
            return da < db ? -1 : 1;
    }
    return 0;
}

int origo_decimal_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int a_neg = a_len && a[0] == '-', b_neg = b_len && b[0] == '-';
    if (a_neg != b_neg)
        return a_neg ? -1 : 1;
    int c = magnitude_cmp(a + a_neg, a_len - (size_t)a_neg, b + b_neg,
                          b_len - (size_t)b_neg);
    return a_neg ? -c : c;
}

/* An unsigned canonical decimal split at its point. */
struct decimal {
    const char *int_part, *frac;
    size_t int_len, frac_len;
};

static void decimal_split(const char *text, size_t len, struct decimal *d)
{
    const char *dot = memchr(text, '.', len);
    d->int_part = text;
    d->int_len = dot ? (size_t)(dot - text) : len;
    d->frac = dot ? dot + 1 : text + len;
    d->frac_len = dot ? (size_t)(text + len - d->frac) : 0;
}

/* The digit of weight 10^pos (pos < 0: the fraction). */
static int decimal_digit(const struct decimal *d, long pos)
{
    if (pos >= 0)
        return (size_t)pos < d->int_len
                   ? d->int_part[d->int_len - 1 - (size_t)pos] - '0'
                   : 0;
    size_t f = (size_t)(-pos - 1);
    return f < d->frac_len ? d->frac[f] - '0' : 0;
}

/* |a| + |b|, or |a| - |b| when subtract (|a| >= |b|), written canonically
 * with a leading '-' when negative (and not zero). Digit arithmetic only. */
static int decimal_combine(const struct decimal *a, const struct decimal *b,
                           int subtract, int negative, char *out,
                           size_t out_size, size_t *out_len)
{
    char digits[2 * ORIGO_DECIMAL_MAX + 8];
    long hi = (long)(a->int_len > b->int_len ? a->int_len : b->int_len);
    long lo = -(long)(a->frac_len > b->frac_len ? a->frac_len : b->frac_len);
    int carry = 0;
    /* digits[k] holds the digit of weight 10^(lo + k). */
    for (long pos = lo; pos <= hi; pos++) {
        int v = decimal_digit(a, pos) +
                (subtract ? -decimal_digit(b, pos) : decimal_digit(b, pos)) +
                carry;
        carry = v < 0 ? -1 : v / 10;
        digits[pos - lo] = (char)('0' + (v + 10) % 10);
    }
    long top = hi, bottom = lo;
    while (top > 0 && digits[top - lo] == '0')
        top--;
    while (bottom < 0 && digits[bottom - lo] == '0')
        bottom++;
    int zero = top == 0 && bottom == 0 && digits[-lo] == '0';
    size_t n = 0, need = (size_t)(top + 1) + (bottom < 0 ? 1 : 0) +
                         (size_t)(bottom < 0 ? -bottom : 0) +
                         (negative && !zero);
    if (need > ORIGO_DECIMAL_MAX || need + 1 > out_size)
        return ORIGO_E_TOOBIG;
    if (negative && !zero)
        out[n++] = '-';
    for (long pos = top; pos >= bottom; pos--) {
        if (pos == -1)
            out[n++] = '.';
        out[n++] = digits[pos - lo];
    }
    out[n] = '\0';
    *out_len = n;
    return 0;
}

int origo_decimal_add(const char *a, size_t a_len, const char *b, size_t b_len,
                      int subtract, char *out, size_t out_size, size_t *out_len)
{
    if (!a || !b || !out || origo_decimal_check(a, a_len, 1) ||
        origo_decimal_check(b, b_len, 1))
        return ORIGO_E_INVAL;
    int a_neg = a[0] == '-';
    int b_neg = (b[0] == '-') != (subtract != 0); /* b's sign as added */
    struct decimal x, y;
    decimal_split(a + a_neg, a_len - (size_t)a_neg, &x);
    decimal_split(b + (b[0] == '-'), b_len - (size_t)(b[0] == '-'), &y);
    if (a_neg == b_neg)
        return decimal_combine(&x, &y, 0, a_neg, out, out_size, out_len);
    int c = magnitude_cmp(a + a_neg, a_len - (size_t)a_neg, b + (b[0] == '-'),
                          b_len - (size_t)(b[0] == '-'));
    if (c >= 0)
        return decimal_combine(&x, &y, 1, a_neg, out, out_size, out_len);
    return decimal_combine(&y, &x, 1, b_neg, out, out_size, out_len);
}

/* ---- lot identifiers ---------------------------------------------------- */

#define LOT_CHARS_MAX 20 /* GS1 AI (10): up to 20 characters */
#define SEGMENT_MAX 64   /* party, part, path segment */

/* The GS1 lot value of a URN or Digital Link: characters of the GS1 AI
 * encodable set 82, those that URIs reserve written as upper-case %XX
 * escapes. Returns 1 when `text` is 1..20 such characters. */
static int gs1_lot_ok(const char *text, size_t len)
{
    static const char raw[] = "!'()*+,-.:;=_";
    static const char *const escapes[] = {"22", "25", "26", "2F",
                                          "3C", "3E", "3F"};
    size_t chars = 0, pos = 0;
    while (pos < len) {
        char c = text[pos];
        if (c == '%') {
            if (len - pos < 3)
                return 0;
            int known = 0;
            for (size_t i = 0; i < 7; i++)
                known |= memcmp(text + pos + 1, escapes[i], 2) == 0;
            if (!known)
                return 0;
            pos += 3;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || (c && strchr(raw, c))) {
            pos++;
        } else {
            return 0;
        }
        chars++;
    }
    return chars >= 1 && chars <= LOT_CHARS_MAX;
}

static int all_digits(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
    }
    return len > 0;
}

/* urn:epc:class:lgtin:<company prefix>.<indicator+item ref>.<lot>, the two
 * numeric parts 13 digits together, the company prefix 6..12 of them. */
static int lgtin_ok(const char *lot, size_t len)
{
    static const char prefix[] = "urn:epc:class:lgtin:";
    size_t plen = sizeof(prefix) - 1;
    if (len <= plen || memcmp(lot, prefix, plen) != 0)
        return 0;
    const char *cp = lot + plen, *end = lot + len;
    const char *dot1 = memchr(cp, '.', (size_t)(end - cp));
    if (!dot1)
        return 0;
    const char *item = dot1 + 1;
    const char *dot2 = memchr(item, '.', (size_t)(end - item));
    if (!dot2)
        return 0;
    size_t cp_len = (size_t)(dot1 - cp), item_len = (size_t)(dot2 - item);
    return all_digits(cp, cp_len) && all_digits(item, item_len) &&
           cp_len >= 6 && cp_len <= 12 && cp_len + item_len == 13 &&
           gs1_lot_ok(dot2 + 1, (size_t)(end - dot2 - 1));
}

static int gtin14_ok(const char *gtin, size_t len)
{
    if (len != 14 || !all_digits(gtin, len))
        return 0;
    int sum = 0;
    for (size_t i = 0; i < 13; i++)
        sum += (gtin[i] - '0') * (i % 2 == 0 ? 3 : 1);
    return (10 - sum % 10) % 10 == gtin[13] - '0';
}

static int seg_is(const char *seg, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(seg, lit, len) == 0;
}

/* Lower-case host name with an optional port. */
static int host_ok(const char *host, size_t len)
{
    if (len == 0)
        return 0;
    const char *colon = memchr(host, ':', len);
    size_t name_len = colon ? (size_t)(colon - host) : len;
    if (name_len == 0)
        return 0;
    for (size_t i = 0; i < name_len; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.'))
            return 0;
    }
    if (colon) {
        size_t port_len = len - name_len - 1;
        if (port_len < 1 || port_len > 5 || !all_digits(colon + 1, port_len))
            return 0;
    }
    return 1;
}

/* A path segment before /01/: RFC 3986 unreserved characters only. */
static int path_segment_ok(const char *seg, size_t len)
{
    if (len == 0 || len > SEGMENT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = seg[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
              c == '~'))
            return 0;
    }
    return 1;
}

#define DL_MAX_SEGMENTS 16

/* https://<host>[/<path>...]/01/<GTIN-14>[/22/<cpv>]/10/<lot>, nothing
 * after the lot (no query, no fragment, no trailing slash). */
static int digital_link_ok(const char *lot, size_t len)
{
    static const char scheme[] = "https://";
    size_t slen = sizeof(scheme) - 1;
    if (len <= slen || memcmp(lot, scheme, slen) != 0)
        return 0;
    const char *seg[DL_MAX_SEGMENTS];
    size_t seg_len[DL_MAX_SEGMENTS], n = 0;
    const char *pos = lot + slen, *end = lot + len;
    for (;;) {
        const char *slash = memchr(pos, '/', (size_t)(end - pos));
        const char *stop = slash ? slash : end;
        if (n == DL_MAX_SEGMENTS)
            return 0;
        seg[n] = pos;
        seg_len[n++] = (size_t)(stop - pos);
        if (!slash)
            break;
        pos = slash + 1;
    }
    /* host, 01, gtin, 10, lot at least. */
    if (n < 5 || !seg_is(seg[n - 2], seg_len[n - 2], "10") ||
        !gs1_lot_ok(seg[n - 1], seg_len[n - 1]))
        return 0;
    size_t key = n - 4; /* index of "01" without a /22/ qualifier */
    if (n >= 7 && seg_is(seg[n - 4], seg_len[n - 4], "22") &&
        seg_is(seg[n - 6], seg_len[n - 6], "01")) {
        if (!gs1_lot_ok(seg[n - 3], seg_len[n - 3]))
            return 0;
        key = n - 6;
    }
    if (!seg_is(seg[key], seg_len[key], "01") ||
        !gtin14_ok(seg[key + 1], seg_len[key + 1]) ||
        !host_ok(seg[0], seg_len[0]))
        return 0;
    for (size_t i = 1; i < key; i++) {
        if (!path_segment_ok(seg[i], seg_len[i]))
            return 0;
    }
    return 1;
}

/* <party>/<part>/<lot>: three segments of 1..64 characters from
 * [A-Za-z0-9._-], none made of dots only. */
static int party_ok(const char *lot, size_t len)
{
    size_t segments = 0, seg_len = 0;
    int only_dots = 1;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || lot[i] == '/') {
            if (seg_len == 0 || seg_len > SEGMENT_MAX || only_dots)
                return 0;
            segments++;
            seg_len = 0;
            only_dots = 1;
            continue;
        }
        char c = lot[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return 0;
        if (c != '.')
            only_dots = 0;
        seg_len++;
    }
    return segments == 3;
}

int origo_lot_check(const char *lot, size_t len, enum origo_lot_kind *kind)
{
    if (!lot || len == 0 || len > ORIGO_LOT_MAX)
        return ORIGO_E_LOT;
    enum origo_lot_kind found;
    if (lgtin_ok(lot, len))
        found = ORIGO_LOTID_LGTIN;
    else if (digital_link_ok(lot, len))
        found = ORIGO_LOTID_DIGITAL_LINK;
    else if (party_ok(lot, len))
        found = ORIGO_LOTID_PARTY;
    else
        return ORIGO_E_LOT;
    if (kind)
        *kind = found;
    return 0;
}

/* A GS1 Digital Link lot identifier followed by one "/21/<serial>": the
 * serialised item names its lot. The serial follows the lot's character
 * rules (GS1 AI (21) is of the same set 82, 1..20 characters). */
static size_t serial_lot_prefix(const char *epc, size_t len)
{
    const char *mark = NULL;
    for (size_t i = len; i > 4; i--) {
        if (memcmp(epc + i - 4, "/21/", 4) == 0) {
            mark = epc + i - 4;
            break;
        }
    }
    if (!mark)
        return 0;
    size_t lot_len = (size_t)(mark - epc), serial_at = lot_len + 4;
    enum origo_lot_kind kind;
    if (!gs1_lot_ok(epc + serial_at, len - serial_at) ||
        origo_lot_check(epc, lot_len, &kind) != 0 ||
        kind != ORIGO_LOTID_DIGITAL_LINK)
        return 0;
    return lot_len;
}

int origo_epc_lot(const char *epc, size_t len, size_t *lot_len)
{
    if (!epc || len == 0 || len > ORIGO_EPCIS_MAX)
        return ORIGO_E_LOT;
    size_t found = origo_lot_check(epc, len, NULL) == 0
                       ? len
                       : serial_lot_prefix(epc, len);
    if (found == 0)
        return ORIGO_E_LOT;
    if (lot_len)
        *lot_len = found;
    return 0;
}

/* ---- enum names --------------------------------------------------------- */

static const char *const stage_names[] = {NULL,  "IQC", "IPQC",
                                          "OQC", "FAI", "LAB"};
static const char *const result_names[] = {NULL, "pass", "fail", "conditional"};
static const char *const role_names[] = {"admin",     "auditor", "carrier",
                                         "inspector", "plant",   "supplier",
                                         "validator"};
#define ROLE_COUNT (sizeof(role_names) / sizeof(role_names[0]))

static int name_index(const char *const *names, size_t count, const char *text,
                      size_t len)
{
    for (size_t i = 0; i < count; i++) {
        if (names[i] && strlen(names[i]) == len &&
            memcmp(names[i], text, len) == 0)
            return (int)i;
    }
    return -1;
}

const char *event_schema_stage_name(enum origo_stage stage)
{
    return stage >= ORIGO_STAGE_IQC && stage <= ORIGO_STAGE_LAB
               ? stage_names[stage]
               : NULL;
}

const char *event_schema_result_name(enum origo_result result)
{
    return result >= ORIGO_RESULT_PASS && result <= ORIGO_RESULT_CONDITIONAL
               ? result_names[result]
               : NULL;
}

int event_schema_stage_parse(const char *text, size_t len,
                             enum origo_stage *out)
{
    int i = name_index(stage_names, 6, text, len);
    if (i < 0)
        return ORIGO_E_SCHEMA;
    *out = (enum origo_stage)i;
    return 0;
}

int event_schema_result_parse(const char *text, size_t len,
                              enum origo_result *out)
{
    int i = name_index(result_names, 4, text, len);
    if (i < 0)
        return ORIGO_E_SCHEMA;
    *out = (enum origo_result)i;
    return 0;
}

const char *origo_role_name(unsigned role_bit)
{
    for (size_t i = 0; i < ROLE_COUNT; i++) {
        if (role_bit == 1u << i)
            return role_names[i];
    }
    return NULL;
}

unsigned event_schema_role_parse(const char *text, size_t len)
{
    int i = name_index(role_names, ROLE_COUNT, text, len);
    return i < 0 ? 0 : 1u << i;
}

/* ---- per-type rules ----------------------------------------------------- */

/* Which optional struct fields each type uses; the others must be empty so
 * that nothing a producer sets is silently dropped by the encoder. */
enum {
    USE_LOTS = 1 << 0,
    USE_ITEM = 1 << 1,
    USE_INSPECTION = 1 << 2, /* stage, result, report, measures */
    USE_COA = 1 << 3,        /* coa, issuer */
    USE_CUSTODY = 1 << 4,    /* from, to, ref */
    USE_REASON = 1 << 5,
    USE_MEMBER = 1 << 6,  /* member */
    USE_PROFILE = 1 << 7, /* name, roles */
    USE_EPCIS = 1 << 8,
    USE_ROTATE = 1 << 9, /* new_key, revoked */
};

static unsigned type_uses(enum origo_event_type type)
{
    switch (type) {
    case ORIGO_EV_LOT_CREATE:
        return USE_LOTS | USE_ITEM;
    case ORIGO_EV_LOT_TRANSFORM:
        return USE_LOTS;
    case ORIGO_EV_INSPECTION:
        return USE_LOTS | USE_INSPECTION;
    case ORIGO_EV_COA_ATTEST:
        return USE_LOTS | USE_COA;
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        return USE_LOTS | USE_CUSTODY;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
    case ORIGO_EV_QUALITY_RECALL:
        return USE_LOTS | USE_REASON;
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
        return USE_MEMBER | USE_PROFILE;
    case ORIGO_EV_MEMBER_REMOVE:
        return USE_MEMBER;
    case ORIGO_EV_EPCIS:
        /* lots is output for epcis: whatever the caller left is ignored. */
        return USE_LOTS | USE_EPCIS;
    case ORIGO_EV_MEMBER_ROTATE:
        return USE_MEMBER | USE_ROTATE;
    }
    return 0;
}

static int unused_fields_empty(const origo_event *ev, unsigned uses)
{
    int empty = 1;
    if (!(uses & USE_LOTS))
        empty &= ev->n_lots == 0;
    if (!(uses & USE_ITEM))
        empty &= ev->item.len == 0;
    if (!(uses & USE_INSPECTION))
        empty &= ev->stage == 0 && ev->result == 0 && ev->n_measures == 0 &&
                 zero_bytes(ev->report, sizeof(ev->report));
    if (!(uses & USE_COA))
        empty &= ev->issuer.len == 0 && zero_bytes(ev->coa, sizeof(ev->coa));
    if (!(uses & USE_CUSTODY))
        empty &= ev->from.len == 0 && ev->to.len == 0 && ev->ref.len == 0;
    if (!(uses & USE_REASON))
        empty &= ev->reason.len == 0;
    if (!(uses & USE_MEMBER))
        empty &= zero_bytes(ev->member, sizeof(ev->member));
    if (!(uses & USE_PROFILE))
        empty &= ev->name.len == 0 && ev->roles == 0 && ev->n_owns == 0;
    if (!(uses & USE_EPCIS))
        empty &= ev->epcis.len == 0;
    if (!(uses & USE_ROTATE))
        empty &=
            ev->revoked == 0 && zero_bytes(ev->new_key, sizeof(ev->new_key));
    return empty ? 0 : ORIGO_E_SCHEMA;
}

/* A quantity-carrying lot reference (lot.create, lot.transform). */
static int check_lot_qty(const origo_lot_ref *ref)
{
    int rc = origo_lot_check(ref->lot.ptr, ref->lot.len, NULL);
    if (rc)
        return rc;
    if (origo_decimal_check(ref->qty.ptr, ref->qty.len, 0) != 0)
        return ORIGO_E_SCHEMA;
    return check_token(ref->unit, ORIGO_UNIT_MAX);
}

/* A plain lot reference: the role given, no quantity. */
static int check_lot_plain(const origo_lot_ref *ref)
{
    if (ref->role != ORIGO_LOT_SUBJECT || ref->qty.len || ref->unit.len)
        return ORIGO_E_SCHEMA;
    return origo_lot_check(ref->lot.ptr, ref->lot.len, NULL);
}

/* No lot appears twice in lots[0..n). Quadratic, n <= 128. */
static int lots_distinct(const origo_lot_ref *lots, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (str_eq(lots[i].lot, lots[j].lot))
                return ORIGO_E_SCHEMA;
        }
    }
    return 0;
}

static int check_subject_lots(const origo_event *ev, size_t min, size_t max)
{
    if (ev->n_lots > ORIGO_EVENT_MAX_LOTS)
        return ORIGO_E_TOOBIG;
    if (ev->n_lots < min || ev->n_lots > max)
        return ORIGO_E_SCHEMA;
    for (size_t i = 0; i < ev->n_lots; i++) {
        int rc = check_lot_plain(&ev->lots[i]);
        if (rc)
            return rc;
    }
    return lots_distinct(ev->lots, ev->n_lots);
}

static int check_lot_create(const origo_event *ev)
{
    if (ev->n_lots != 1 || ev->lots[0].role != ORIGO_LOT_SUBJECT)
        return ORIGO_E_SCHEMA;
    int rc = check_lot_qty(&ev->lots[0]);
    return rc ? rc : check_text(ev->item, ORIGO_TEXT_MAX, TEXT_LINE);
}

static int check_transform(const origo_event *ev)
{
    if (ev->n_lots > ORIGO_EVENT_MAX_LOTS)
        return ORIGO_E_TOOBIG;
    size_t inputs = 0, outputs = 0;
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        if (ref->role == ORIGO_LOT_INPUT)
            inputs++;
        else if (ref->role == ORIGO_LOT_OUTPUT)
            outputs++;
        else
            return ORIGO_E_SCHEMA;
        int rc = check_lot_qty(ref);
        if (rc)
            return rc;
    }
    if (inputs == 0 || outputs == 0)
        return ORIGO_E_SCHEMA;
    /* A lot may not be consumed twice, produced twice, or both. */
    return lots_distinct(ev->lots, ev->n_lots);
}

static int check_measure(const origo_measure *m)
{
    int rc = check_text(m->name, ORIGO_TEXT_MAX, TEXT_LINE);
    if (rc)
        return rc;
    if (origo_decimal_check(m->value.ptr, m->value.len, 1) != 0)
        return ORIGO_E_SCHEMA;
    rc = check_token(m->unit, ORIGO_UNIT_MAX);
    if (rc)
        return rc;
    if (m->lower.len && origo_decimal_check(m->lower.ptr, m->lower.len, 1))
        return ORIGO_E_SCHEMA;
    if (m->upper.len && origo_decimal_check(m->upper.ptr, m->upper.len, 1))
        return ORIGO_E_SCHEMA;
    if (m->lower.len && m->upper.len &&
        origo_decimal_cmp(m->lower.ptr, m->lower.len, m->upper.ptr,
                          m->upper.len) > 0)
        return ORIGO_E_SCHEMA;
    return 0;
}

static int check_inspection(const origo_event *ev)
{
    int rc = check_subject_lots(ev, 1, 1);
    if (rc)
        return rc;
    if (!event_schema_stage_name(ev->stage) ||
        !event_schema_result_name(ev->result))
        return ORIGO_E_SCHEMA;
    if (ev->n_measures > ORIGO_EVENT_MAX_MEASURE)
        return ORIGO_E_TOOBIG;
    for (size_t i = 0; i < ev->n_measures; i++) {
        rc = check_measure(&ev->measures[i]);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (str_eq(ev->measures[i].name, ev->measures[j].name))
                return ORIGO_E_SCHEMA;
        }
    }
    return 0;
}

static int check_custody(const origo_event *ev)
{
    int rc = check_subject_lots(ev, 1, ORIGO_EVENT_MAX_LOTS);
    if (!rc)
        rc = check_text(ev->from, ORIGO_TEXT_MAX, TEXT_LINE);
    if (!rc)
        rc = check_text(ev->to, ORIGO_TEXT_MAX, TEXT_LINE);
    if (!rc)
        rc = check_text(ev->ref, ORIGO_TEXT_MAX, TEXT_LINE);
    return rc;
}

int origo_namespace_check(const char *ns, size_t len)
{
    size_t dots = 0, body_len;
    const char *body;
    int gs1;
    if (!ns || len > ORIGO_NAMESPACE_MAX)
        return ORIGO_E_SCHEMA;
    if (len > 6 && memcmp(ns, "party:", 6) == 0)
        gs1 = 0, body = ns + 6, body_len = len - 6;
    else if (len > 4 && memcmp(ns, "gs1:", 4) == 0)
        gs1 = 1, body = ns + 4, body_len = len - 4;
    else
        return ORIGO_E_SCHEMA;
    for (size_t i = 0; i < body_len; i++) {
        char c = body[i];
        int digit = c >= '0' && c <= '9';
        if (gs1 ? !digit
                : !digit && !(c >= 'a' && c <= 'z') &&
                      !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' &&
                      c != '-')
            return ORIGO_E_SCHEMA;
        dots += c == '.';
    }
    if (gs1 ? body_len < 6 || body_len > 12 : body_len > 64 || dots == body_len)
        return ORIGO_E_SCHEMA;
    return 0;
}

static int check_member(const origo_event *ev, int with_profile)
{
    int rc = origo_pubkey_check(ev->member);
    if (rc || !with_profile)
        return rc;
    rc = check_text(ev->name, ORIGO_TEXT_MAX, TEXT_LINE);
    if (rc)
        return rc;
    if (ev->roles == 0 || (ev->roles & ~ORIGO_ROLE_ALL))
        return ORIGO_E_SCHEMA;
    if (ev->n_owns > ORIGO_EVENT_MAX_OWNS)
        return ORIGO_E_TOOBIG;
    for (size_t i = 0; i < ev->n_owns; i++) {
        if (!ev->owns[i].ptr ||
            origo_namespace_check(ev->owns[i].ptr, ev->owns[i].len))
            return ORIGO_E_SCHEMA;
        /* Strictly increasing: one spelling of a set, no duplicates. */
        if (i > 0 && origo_mp_keycmp(ev->owns[i - 1].ptr, ev->owns[i - 1].len,
                                     ev->owns[i].ptr, ev->owns[i].len) >= 0)
            return ORIGO_E_SCHEMA;
    }
    return 0;
}

static int check_type_fields(const origo_event *ev, origo_lot_ref *lots_out,
                             size_t *n_lots_out, origo_epcis_info *info_out)
{
    switch (ev->type) {
    case ORIGO_EV_LOT_CREATE:
        return check_lot_create(ev);
    case ORIGO_EV_LOT_TRANSFORM:
        return check_transform(ev);
    case ORIGO_EV_INSPECTION:
        return check_inspection(ev);
    case ORIGO_EV_COA_ATTEST: {
        int rc = check_subject_lots(ev, 1, 1);
        return rc ? rc : check_text(ev->issuer, ORIGO_TEXT_MAX, TEXT_LINE);
    }
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        return check_custody(ev);
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
    case ORIGO_EV_QUALITY_RECALL: {
        int rc = check_subject_lots(ev, 1, ORIGO_EVENT_MAX_LOTS);
        return rc ? rc
                  : check_text(ev->reason, ORIGO_REASON_MAX, TEXT_MULTILINE);
    }
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
        return check_member(ev, 1);
    case ORIGO_EV_MEMBER_REMOVE:
        return check_member(ev, 0);
    case ORIGO_EV_MEMBER_ROTATE: {
        /* Two valid keys, not the same, and a revocation time in range. */
        int rc = check_member(ev, 0);
        if (!rc)
            rc = origo_pubkey_check(ev->new_key);
        if (!rc && memcmp(ev->new_key, ev->member, ORIGO_PUBKEY_LEN) == 0)
            rc = ORIGO_E_SCHEMA;
        if (!rc && ev->revoked > ORIGO_TS_MAX)
            rc = ORIGO_E_TIMESTAMP;
        return rc;
    }
    case ORIGO_EV_EPCIS:
        if (!ev->epcis.ptr || ev->epcis.len == 0)
            return ORIGO_E_SCHEMA;
        if (ev->epcis.len > ORIGO_EPCIS_MAX)
            return ORIGO_E_TOOBIG;
        return event_epcis_check(ev->epcis.ptr, ev->epcis.len, lots_out,
                                 ORIGO_EVENT_MAX_LOTS, n_lots_out, info_out);
    }
    return ORIGO_E_EVENT_TYPE;
}

/* ---- common fields ------------------------------------------------------ */

static int check_docs(const origo_event *ev)
{
    if (ev->n_docs > ORIGO_EVENT_MAX_DOCS)
        return ORIGO_E_TOOBIG;
    for (size_t i = 1; i < ev->n_docs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (memcmp(ev->docs[i], ev->docs[j], ORIGO_HASH_LEN) == 0)
                return ORIGO_E_SCHEMA;
        }
    }
    return 0;
}

static int check_ext(const origo_event *ev)
{
    if (ev->n_ext > ORIGO_EVENT_MAX_EXT)
        return ORIGO_E_TOOBIG;
    for (size_t i = 0; i < ev->n_ext; i++) {
        const origo_ext_entry *e = &ev->ext[i];
        if (check_text(e->key, ORIGO_EXT_KEY_MAX, TEXT_LINE) != 0)
            return ORIGO_E_SCHEMA;
        if (e->value.len > ORIGO_EXT_VALUE_MAX ||
            (e->value.len && !e->value.ptr) ||
            !text_ok(e->value.ptr, e->value.len, TEXT_MULTILINE))
            return ORIGO_E_SCHEMA;
        /* Keys strictly increasing bytewise: canonical and duplicate-free. */
        if (i == 0)
            continue;
        int order =
            origo_mp_keycmp(ev->ext[i - 1].key.ptr, ev->ext[i - 1].key.len,
                            e->key.ptr, e->key.len);
        if (order == 0)
            return ORIGO_E_DUPLICATE_KEY;
        if (order > 0)
            return ORIGO_E_KEY_ORDER;
    }
    return 0;
}

int event_schema_check(const origo_event *ev, origo_lot_ref *lots_out,
                       size_t *n_lots_out, origo_epcis_info *info_out)
{
    if (!ev)
        return ORIGO_E_INVAL;
    unsigned uses = type_uses(ev->type);
    if (uses == 0)
        return ORIGO_E_EVENT_TYPE;
    int rc = check_token(ev->net, ORIGO_NET_MAX);
    if (rc)
        return rc;
    if (ev->ts == 0 || ev->ts > ORIGO_TS_MAX)
        return ORIGO_E_TIMESTAMP;
    rc = unused_fields_empty(ev, uses);
    if (!rc)
        rc = check_type_fields(ev, lots_out, n_lots_out, info_out);
    if (!rc)
        rc = check_docs(ev);
    if (!rc)
        rc = check_ext(ev);
    return rc;
}
