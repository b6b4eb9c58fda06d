/* Canonical JSON: the checker that decides, from the bytes alone, whether
 * an EPCIS text is in the one form every validator accepts; the importer
 * that brings any JSON text into that form; and a reader for checked texts.
 * The checker and reader allocate nothing and call no library function
 * whose result depends on a locale, a version or a rounding mode: numbers
 * are decimal lexemes compared as text, never converted to doubles. */
#include "origo/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

/* ---- characters --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence (no overlong form, surrogate or value
 * past U+10FFFF) at s, and its code point; 0 when invalid. */
static size_t utf8_char(const uint8_t *s, size_t avail, uint32_t *cp_out)
{
    uint8_t b = s[0];
    size_t need;
    uint32_t cp, min;
    if (b < 0x80) {
        *cp_out = b;
        return 1;
    }
    if ((b & 0xe0) == 0xc0)
        need = 2, min = 0x80, cp = b & 0x1f;
    else if ((b & 0xf0) == 0xe0)
        need = 3, min = 0x800, cp = b & 0x0f;
    else if ((b & 0xf8) == 0xf0)
        need = 4, min = 0x10000, cp = b & 0x07;
    else
        return 0;
    if (avail < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_out = cp;
    return need;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The UTF-16 code units of a string, one at a time: member names are
 * ordered by them (RFC 8785 section 3.2.3). `escaped` strings are the
 * content of a canonical JSON string (whose only escapes are the canonical
 * ones); others are plain, valid UTF-8. */
struct units {
    const uint8_t *pos, *end;
    int escaped;
    uint16_t pending; /* low surrogate still to yield, or 0 */
};

static uint32_t escaped_char(struct units *u)
{
    uint8_t e = u->pos[1];
    u->pos += 2;
    switch (e) {
    case 'b':
        return 0x08;
    case 't':
        return 0x09;
    case 'n':
        return 0x0a;
    case 'f':
        return 0x0c;
    case 'r':
        return 0x0d;
    case 'u':
        if (u->end - u->pos < 4)
            return 0;
        u->pos += 4;
        return (uint32_t)(hex_value(u->pos[-2]) << 4 | hex_value(u->pos[-1]));
    default:
        return e; /* '"' or '\\' */
    }
}

static int next_unit(struct units *u, uint16_t *unit)
{
    if (u->pending) {
        *unit = u->pending;
        u->pending = 0;
        return 1;
    }
    if (u->pos >= u->end)
        return 0;
    uint32_t cp;
    if (u->escaped && u->pos[0] == '\\' && u->end - u->pos >= 2) {
        cp = escaped_char(u);
    } else {
        size_t n = utf8_char(u->pos, (size_t)(u->end - u->pos), &cp);
        u->pos += n ? n : 1;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *unit = (uint16_t)(0xd800 | (cp >> 10));
        u->pending = (uint16_t)(0xdc00 | (cp & 0x3ff));
    } else {
        *unit = (uint16_t)cp;
    }
    return 1;
}

/* <0, 0, >0 as a sorts before, equal to or after b by UTF-16 code units. */
static int units_cmp(const void *a, size_t a_len, const void *b, size_t b_len,
                     int escaped)
{
    struct units ua = {a, (const uint8_t *)a + a_len, escaped, 0};
    struct units ub = {b, (const uint8_t *)b + b_len, escaped, 0};
    for (;;) {
        uint16_t x, y;
        int more_a = next_unit(&ua, &x), more_b = next_unit(&ub, &y);
        if (!more_a || !more_b)
            return more_a - more_b;
        if (x != y)
            return x < y ? -1 : 1;
    }
}

/* ---- the checker -------------------------------------------------------- */

struct check {
    const uint8_t *s;
    size_t len, pos;
};

/* Whether `e` (after "\u00") ends a canonical \u escape: two lower-case hex
 * digits naming a control character that has no short escape, and not
 * U+0000. */
static int canonical_u_escape(const uint8_t *e)
{
    if (e[0] != '0' || e[1] != '0' || (e[2] != '0' && e[2] != '1'))
        return 0;
    int low = hex_value(e[3]);
    if (low < 0 || (e[3] >= 'A' && e[3] <= 'F'))
        return 0;
    int value = (e[2] - '0') << 4 | low;
    return value != 0 && value != 0x08 && value != 0x09 && value != 0x0a &&
           value != 0x0c && value != 0x0d;
}

/* A string at c->pos (which holds '"'); its content span on success. */
static int check_string(struct check *c, const uint8_t **content, size_t *len)
{
    size_t start = ++c->pos;
    while (c->pos < c->len) {
        uint8_t b = c->s[c->pos];
        if (b == '"') {
            *content = c->s + start;
            *len = c->pos - start;
            c->pos++;
            return 0;
        }
        if (b < 0x20)
            return -1;
        if (b == '\\') {
            if (c->len - c->pos < 2)
                return -1;
            uint8_t e = c->s[c->pos + 1];
            if (e == 'u') {
                if (c->len - c->pos < 6 ||
                    !canonical_u_escape(c->s + c->pos + 2))
                    return -1;
                c->pos += 6;
            } else if (e && strchr("\"\\btnfr", e)) {
                c->pos += 2;
            } else {
                return -1;
            }
            continue;
        }
        uint32_t cp;
        size_t n = utf8_char(c->s + c->pos, c->len - c->pos, &cp);
        if (n == 0)
            return -1;
        c->pos += n;
    }
    return -1;
}

static int check_number(struct check *c)
{
    size_t start = c->pos;
    while (c->pos < c->len && ((c->s[c->pos] >= '0' && c->s[c->pos] <= '9') ||
                               c->s[c->pos] == '-' || c->s[c->pos] == '.'))
        c->pos++;
    if (origo_decimal_check((const char *)c->s + start, c->pos - start, 1)) {
        c->pos = start;
        return -1;
    }
    return 0;
}

static int check_literal(struct check *c, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
        return -1;
    c->pos += n;
    return 0;
}

static int check_value(struct check *c, int depth);

static int check_object(struct check *c, int depth)
{
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    c->pos++;
    if (c->pos < c->len && c->s[c->pos] == '}') {
        c->pos++;
        return 0;
    }
    for (;;) {
        const uint8_t *key;
        size_t key_len, key_at = c->pos;
        if (c->pos >= c->len || c->s[c->pos] != '"' ||
            check_string(c, &key, &key_len))
            return -1;
        /* Strictly increasing: sorted, and no name twice. */
        if (prev && units_cmp(prev, prev_len, key, key_len, 1) >= 0) {
            c->pos = key_at;
            return -1;
        }
        prev = key, prev_len = key_len;
        if (c->pos >= c->len || c->s[c->pos] != ':')
            return -1;
        c->pos++;
        if (check_value(c, depth))
            return -1;
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == '}') {
            c->pos++;
            return 0;
        }
        return -1;
    }
}

static int check_array(struct check *c, int depth)
{
    c->pos++;
    if (c->pos < c->len && c->s[c->pos] == ']') {
        c->pos++;
        return 0;
    }
    for (;;) {
        if (check_value(c, depth))
            return -1;
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == ']') {
            c->pos++;
            return 0;
        }
        return -1;
    }
}

static int check_value(struct check *c, int depth)
{
    if (c->pos >= c->len)
        return -1;
    uint8_t b = c->s[c->pos];
    const uint8_t *content;
    size_t content_len;
    switch (b) {
    case '{':
    case '[':
        if (depth + 1 > ORIGO_JSON_DEPTH_MAX)
            return -1;
        return b == '{' ? check_object(c, depth + 1)
                        : check_array(c, depth + 1);
    case '"':
        return check_string(c, &content, &content_len);
    case 't':
        return check_literal(c, "true");
    case 'f':
        return check_literal(c, "false");
    case 'n':
        return check_literal(c, "null");
    default:
        if (b == '-' || (b >= '0' && b <= '9'))
            return check_number(c);
        return -1;
    }
}

int origo_json_check(const char *text, size_t len, size_t *error_at)
{
    struct check c = {(const uint8_t *)text, text ? len : 0, 0};
    if (check_value(&c, 0) == 0 && c.pos == c.len)
        return 0;
    if (error_at)
        *error_at = c.pos;
    return ORIGO_E_SCHEMA;
}

/* ---- the reader --------------------------------------------------------- */

static size_t skip_string(const char *s, size_t len, size_t pos)
{
    pos++;
    while (pos < len && s[pos] != '"')
        pos += s[pos] == '\\' ? 2 : 1;
    return pos < len ? pos + 1 : len;
}

/* End (exclusive) of the value that starts at pos. */
static size_t skip_value(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    if (s[pos] == '"')
        return skip_string(s, len, pos);
    if (s[pos] == '{' || s[pos] == '[') {
        size_t depth = 0;
        while (pos < len) {
            char b = s[pos];
            if (b == '"') {
                pos = skip_string(s, len, pos);
                continue;
            }
            if (b == '{' || b == '[')
                depth++;
            else if (b == '}' || b == ']')
                depth--;
            pos++;
            if (depth == 0)
                return pos;
        }
        return len;
    }
    while (pos < len && s[pos] != ',' && s[pos] != ']' && s[pos] != '}')
        pos++;
    return pos;
}

int origo_json_member(origo_str object, const char *key, origo_str *value)
{
    const char *s = object.ptr;
    size_t len = object.len, key_len = strlen(key), pos = 1;
    if (len < 2 || s[0] != '{')
        return 0;
    while (pos < len && s[pos] == '"') {
        size_t key_end = skip_string(s, len, pos);
        int match = key_end - pos == key_len + 2 &&
                    memcmp(s + pos + 1, key, key_len) == 0;
        pos = key_end;
        if (pos >= len || s[pos] != ':')
            return 0;
        pos++;
        size_t end = skip_value(s, len, pos);
        if (end == pos)
            return 0;
        if (match) {
            value->ptr = s + pos;
            value->len = end - pos;
            return 1;
        }
        pos = end;
        if (pos >= len || s[pos] != ',')
            return 0;
        pos++;
    }
    return 0;
}

int origo_json_next(origo_str array, size_t *cursor, origo_str *item)
{
    const char *s = array.ptr;
    size_t len = array.len, pos = *cursor ? *cursor : 1;
    if (len < 2 || s[0] != '[' || pos >= len || s[pos] == ']')
        return 0;
    size_t end = skip_value(s, len, pos);
    if (end == pos)
        return 0;
    item->ptr = s + pos;
    item->len = end - pos;
    *cursor = end < len && s[end] == ',' ? end + 1 : end;
    return 1;
}

int origo_json_string(origo_str value, origo_str *content)
{
    if (value.len < 2 || value.ptr[0] != '"' ||
        value.ptr[value.len - 1] != '"' ||
        memchr(value.ptr + 1, '\\', value.len - 2))
        return 0;
    content->ptr = value.ptr + 1;
    content->len = value.len - 2;
    return 1;
}

/* ---- the importer ------------------------------------------------------- */

struct canon {
    const uint8_t *s;
    size_t len, pos;
    size_t max; /* bound of every intermediate buffer */
    char *err;
    size_t err_size;
};

static int canon_fail_at(struct canon *c, size_t at, const char *what)
{
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < c->len; i++) {
        if (c->s[i] == '\n')
            line++, column = 1;
        else
            column++;
    }
    if (c->err && c->err_size)
        snprintf(c->err, c->err_size, "line %zu, column %zu: %s", line, column,
                 what);
    return ORIGO_E_SCHEMA;
}

static int canon_fail(struct canon *c, const char *what)
{
    return canon_fail_at(c, c->pos, what);
}

static void skip_ws(struct canon *c)
{
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
                               c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

static int put_utf8(origo_buf *out, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12), n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18), n = 4;
    }
    for (size_t i = 1; i < n; i++)
        b[i] = (uint8_t)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
    return origo_buf_append(out, b, n);
}

/* Four hex digits at c->pos + 2 (after "\u"); -1 when not. */
static long hex4(const struct canon *c, size_t at)
{
    if (c->len - at < 4)
        return -1;
    long value = 0;
    for (size_t i = 0; i < 4; i++) {
        int digit = hex_value(c->s[at + i]);
        if (digit < 0)
            return -1;
        value = value << 4 | digit;
    }
    return value;
}

/* A \u escape at c->pos (with its low surrogate, if it is a high one). */
static int decode_u_escape(struct canon *c, uint32_t *cp)
{
    long unit = hex4(c, c->pos + 2);
    if (unit < 0)
        return canon_fail(c, "\\u must be followed by four hex digits");
    if (unit >= 0xdc00 && unit <= 0xdfff)
        return canon_fail(c, "a lone low surrogate escape");
    c->pos += 6;
    if (unit >= 0xd800 && unit <= 0xdbff) {
        long low = c->len - c->pos >= 2 && c->s[c->pos] == '\\' &&
                           c->s[c->pos + 1] == 'u'
                       ? hex4(c, c->pos + 2)
                       : -1;
        if (low < 0xdc00 || low > 0xdfff)
            return canon_fail(c, "a high surrogate escape without its low "
                                 "surrogate");
        c->pos += 6;
        *cp = 0x10000 + (((uint32_t)unit - 0xd800) << 10) +
              ((uint32_t)low - 0xdc00);
        return 0;
    }
    if (unit == 0)
        return canon_fail_at(c, c->pos - 6,
                             "U+0000 is not allowed in a "
                             "string");
    *cp = (uint32_t)unit;
    return 0;
}

/* Decodes the string at c->pos into plain UTF-8 in `out`. */
static int parse_string(struct canon *c, origo_buf *out)
{
    c->pos++;
    while (c->pos < c->len) {
        uint8_t b = c->s[c->pos];
        uint32_t cp = 0;
        int rc;
        if (b == '"') {
            c->pos++;
            return out->err;
        }
        if (b < 0x20)
            return canon_fail(c, "a control character must be escaped in "
                                 "a string");
        if (b == '\\') {
            uint8_t e = c->pos + 1 < c->len ? c->s[c->pos + 1] : 0;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *hit = e && e != 'u' ? strchr(from, e) : NULL;
            if (e == 'u') {
                if ((rc = decode_u_escape(c, &cp)))
                    return rc;
            } else if (hit) {
                cp = (uint8_t)to[hit - from];
                c->pos += 2;
            } else {
                return canon_fail(c, "unknown escape");
            }
            put_utf8(out, cp);
            continue;
        }
        size_t n = utf8_char(c->s + c->pos, c->len - c->pos, &cp);
        if (n == 0)
            return canon_fail(c, "invalid UTF-8");
        origo_buf_append(out, c->s + c->pos, n);
        c->pos += n;
    }
    return canon_fail(c, "unterminated string");
}

/* Writes plain UTF-8 as a canonical string: only '"', '\\' and controls
 * escaped, the five with short forms by them, the others as lower-case
 * \u00xx. */
static void emit_string(origo_buf *out, const uint8_t *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    origo_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = text[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (b) {
        case '"':
        case '\\':
            esc[1] = (char)b;
            break;
        case 0x08:
            esc[1] = 'b';
            break;
        case 0x09:
            esc[1] = 't';
            break;
        case 0x0a:
            esc[1] = 'n';
            break;
        case 0x0c:
            esc[1] = 'f';
            break;
        case 0x0d:
            esc[1] = 'r';
            break;
        default:
            if (b >= 0x20) {
                origo_buf_append(out, &text[i], 1);
                continue;
            }
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[b >> 4];
            esc[5] = hex[b & 15];
            n = 6;
        }
        origo_buf_append(out, esc, n);
    }
    origo_buf_append(out, "\"", 1);
}

static int is_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

/* The digits of a number as one string D = integer digits then fraction
 * digits, read in place. */
struct digits {
    const uint8_t *int_part, *frac;
    size_t int_len, frac_len;
};

static uint8_t digit_at(const struct digits *d, size_t i)
{
    return i < d->int_len ? d->int_part[i] : d->frac[i - d->int_len];
}

/* Writes sig x 10^exp (sig: digits [first, last] of d, no leading or
 * trailing zero) as a plain decimal into buf; its length, or 0 when it
 * would exceed ORIGO_DECIMAL_MAX. */
static size_t plain_decimal(const struct digits *d, size_t first, size_t last,
                            long long exp, int negative, char *buf)
{
    long long sig_len = (long long)(last - first + 1);
    long long point = sig_len + exp; /* digits before the decimal point */
    long long total = negative + (exp >= 0    ? sig_len + exp
                                  : point > 0 ? sig_len + 1
                                              : 2 - point + sig_len);
    if (sig_len > ORIGO_DECIMAL_MAX || exp > ORIGO_DECIMAL_MAX ||
        exp < -2 * ORIGO_DECIMAL_MAX || total > ORIGO_DECIMAL_MAX)
        return 0;
    size_t n = 0;
    if (negative)
        buf[n++] = '-';
    if (point <= 0) {
        buf[n++] = '0';
        buf[n++] = '.';
        for (long long i = 0; i < -point; i++)
            buf[n++] = '0';
    }
    for (long long i = 0; i < sig_len; i++) {
        if (point > 0 && i == point)
            buf[n++] = '.';
        buf[n++] = (char)digit_at(d, first + (size_t)i);
    }
    for (long long i = 0; i < exp; i++)
        buf[n++] = '0';
    return n;
}

/* A number (RFC 8259 grammar) at c->pos, written as its canonical decimal:
 * the same value, computed on the digits, never through a double. */
static int parse_number(struct canon *c, origo_buf *out)
{
    size_t start = c->pos;
    int negative = c->s[c->pos] == '-';
    struct digits d = {0};
    long long exp = 0;
    c->pos += (size_t)negative;
    d.int_part = c->s + c->pos;
    if (c->pos < c->len && c->s[c->pos] == '0') {
        c->pos++;
    } else if (c->pos < c->len && is_digit(c->s[c->pos])) {
        while (c->pos < c->len && is_digit(c->s[c->pos]))
            c->pos++;
    } else {
        return canon_fail(c, "expected a digit");
    }
    d.int_len = (size_t)(c->s + c->pos - d.int_part);
    if (c->pos < c->len && c->s[c->pos] == '.') {
        d.frac = c->s + ++c->pos;
        while (c->pos < c->len && is_digit(c->s[c->pos]))
            c->pos++;
        d.frac_len = (size_t)(c->s + c->pos - d.frac);
        if (d.frac_len == 0)
            return canon_fail(c, "expected a digit after the decimal point");
    }
    if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
        c->pos++;
        int exp_negative = c->pos < c->len && c->s[c->pos] == '-';
        if (c->pos < c->len && (c->s[c->pos] == '-' || c->s[c->pos] == '+'))
            c->pos++;
        if (c->pos >= c->len || !is_digit(c->s[c->pos]))
            return canon_fail(c, "expected a digit in the exponent");
        while (c->pos < c->len && is_digit(c->s[c->pos])) {
            if (exp < 1000000) /* saturates: far past any decimal we keep */
                exp = exp * 10 + (c->s[c->pos] - '0');
            c->pos++;
        }
        exp = exp_negative ? -exp : exp;
    }
    size_t count = d.int_len + d.frac_len, first = 0, last = count;
    while (first < count && digit_at(&d, first) == '0')
        first++;
    if (first == count)
        return origo_buf_append(out, "0", 1); /* zero, and -0, is "0" */
    while (digit_at(&d, last - 1) == '0')
        last--;
    /* value = D[first, last) x 10^(exp - frac_len + trailing zeros) */
    exp = exp - (long long)d.frac_len + (long long)(count - last);
    char buf[ORIGO_DECIMAL_MAX + 8];
    size_t n = plain_decimal(&d, first, last - 1, exp, negative, buf);
    if (n == 0 || origo_decimal_check(buf, n, 1) != 0)
        return canon_fail_at(c, start,
                             "number too long: its plain decimal form must "
                             "have at most 40 characters");
    return origo_buf_append(out, buf, n);
}

struct member {
    origo_buf name;  /* plain UTF-8 */
    origo_buf value; /* canonical text */
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    return units_cmp(x->name.data, x->name.len, y->name.data, y->name.len, 0);
}

static int canon_value(struct canon *c, origo_buf *out, int depth);

static void free_members(struct member *members, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        origo_buf_close(&members[i].name);
        origo_buf_close(&members[i].value);
    }
    free(members);
}

static int emit_members(struct canon *c, size_t object_at, origo_buf *out,
                        struct member *members, size_t count)
{
    qsort(members, count, sizeof(*members), member_cmp);
    origo_buf_append(out, "{", 1);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && member_cmp(&members[i - 1], &members[i]) == 0) {
            char what[128];
            snprintf(what, sizeof(what),
                     "the object that starts here names member \"%.60s\" "
                     "twice",
                     (const char *)members[i].name.data);
            return canon_fail_at(c, object_at, what);
        }
        if (i > 0)
            origo_buf_append(out, ",", 1);
        emit_string(out, members[i].name.data, members[i].name.len);
        origo_buf_append(out, ":", 1);
        origo_buf_append(out, members[i].value.data, members[i].value.len);
    }
    origo_buf_append(out, "}", 1);
    return out->err;
}

static int parse_member(struct canon *c, struct member *m, int depth)
{
    origo_buf_init(&m->name, c->max);
    origo_buf_init(&m->value, c->max);
    skip_ws(c);
    if (c->pos >= c->len || c->s[c->pos] != '"')
        return canon_fail(c, "expected a member name (a string)");
    int rc = parse_string(c, &m->name);
    if (rc)
        return rc;
    origo_buf_append(&m->name, "", 1); /* NUL for messages; not compared */
    if (m->name.err)
        return m->name.err;
    m->name.len--;
    skip_ws(c);
    if (c->pos >= c->len || c->s[c->pos] != ':')
        return canon_fail(c, "expected ':' after the member name");
    c->pos++;
    return canon_value(c, &m->value, depth);
}

static int parse_object(struct canon *c, origo_buf *out, int depth)
{
    size_t object_at = c->pos, count = 0, cap = 0;
    struct member *members = NULL;
    int rc = 0;
    c->pos++;
    skip_ws(c);
    if (c->pos < c->len && c->s[c->pos] == '}') {
        c->pos++;
        return origo_buf_append(out, "{}", 2);
    }
    for (;;) {
        if (count == cap) {
            size_t grown = cap ? cap * 2 : 8;
            struct member *more = realloc(members, grown * sizeof(*more));
            if (!more) {
                rc = ORIGO_E_NOMEM;
                break;
            }
            members = more, cap = grown;
        }
        rc = parse_member(c, &members[count++], depth);
        if (rc)
            break;
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == '}') {
            c->pos++;
            rc = emit_members(c, object_at, out, members, count);
        } else {
            rc = canon_fail(c, "expected ',' or '}' in an object");
        }
        break;
    }
    free_members(members, count);
    return rc;
}

static int parse_array(struct canon *c, origo_buf *out, int depth)
{
    c->pos++;
    origo_buf_append(out, "[", 1);
    skip_ws(c);
    if (c->pos < c->len && c->s[c->pos] == ']') {
        c->pos++;
        return origo_buf_append(out, "]", 1);
    }
    for (;;) {
        int rc = canon_value(c, out, depth);
        if (rc)
            return rc;
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            origo_buf_append(out, ",", 1);
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == ']') {
            c->pos++;
            return origo_buf_append(out, "]", 1);
        }
        return canon_fail(c, "expected ',' or ']' in an array");
    }
}

static int canon_literal(struct canon *c, origo_buf *out, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
        return canon_fail(c, "expected a JSON value");
    c->pos += n;
    return origo_buf_append(out, word, n);
}

static int canon_value(struct canon *c, origo_buf *out, int depth)
{
    skip_ws(c);
    if (c->pos >= c->len)
        return canon_fail(c, "expected a JSON value, found the end");
    uint8_t b = c->s[c->pos];
    if ((b == '{' || b == '[') && depth + 1 > ORIGO_JSON_DEPTH_MAX)
        return canon_fail(c, "nested deeper than 32 levels");
    switch (b) {
    case '{':
        return parse_object(c, out, depth + 1);
    case '[':
        return parse_array(c, out, depth + 1);
    case '"': {
        origo_buf text;
        origo_buf_init(&text, c->max);
        int rc = parse_string(c, &text);
        if (!rc)
            emit_string(out, text.data, text.len);
        origo_buf_close(&text);
        return rc ? rc : out->err;
    }
    case 't':
        return canon_literal(c, out, "true");
    case 'f':
        return canon_literal(c, out, "false");
    case 'n':
        return canon_literal(c, out, "null");
    default:
        if (b == '-' || is_digit(b))
            return parse_number(c, out);
        return canon_fail(c, "expected a JSON value");
    }
}

int origo_json_canonicalize(const char *text, size_t len, origo_buf *out,
                            char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!text || !out)
        return ORIGO_E_INVAL;
    struct canon c = {(const uint8_t *)text, len, 0, out->max, err, err_size};
    int rc = canon_value(&c, out, 0);
    if (rc == 0) {
        skip_ws(&c);
        if (c.pos != c.len)
            rc = canon_fail(&c, "unexpected text after the JSON value");
    }
    if (rc == 0)
        rc = out->err;
    if ((rc == ORIGO_E_NOMEM || rc == ORIGO_E_TOOBIG) && err && err_size)
        snprintf(err, err_size, "%s", origo_strerror(rc));
    return rc;
}
