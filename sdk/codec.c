/* The canonical MessagePack writer and strict reader. Every byte format of
 * Origo (events, blocks, Raft messages) is built on these few functions, so
 * the rules of "one value, one encoding" live in one place. We do not use
 * msgpack-c here: its unpacker accepts non-minimal forms, and the SDK core
 * must stay small enough for an ERP to embed. */
#include "origo/codec.h"

#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

void origo_buf_init(origo_buf *buf, size_t max)
{
    memset(buf, 0, sizeof(*buf));
    buf->max = max;
}

void origo_buf_close(origo_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
    buf->err = 0;
}

void origo_buf_reset(origo_buf *buf)
{
    buf->len = 0;
    buf->err = 0;
}

int origo_buf_append(origo_buf *buf, const void *bytes, size_t len)
{
    if (buf->err)
        return buf->err;
    if (len > buf->max || buf->len > buf->max - len)
        return buf->err = ORIGO_E_TOOBIG;
    if (buf->len + len > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap < buf->len + len)
            cap = cap > SIZE_MAX / 2 ? buf->len + len : cap * 2;
        if (cap > buf->max)
            cap = buf->max;
        uint8_t *grown = realloc(buf->data, cap);
        if (!grown)
            return buf->err = ORIGO_E_NOMEM;
        buf->data = grown;
        buf->cap = cap;
    }
    if (len)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    return 0;
}

uint8_t *origo_buf_steal(origo_buf *buf, size_t *len)
{
    if (buf->err || !buf->data)
        return NULL;
    uint8_t *data = buf->data;
    *len = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

/* Writes a type byte followed by `width` big-endian bytes of `value`. */
static void put_be(origo_buf *buf, uint8_t type, uint64_t value, int width)
{
    uint8_t out[9];
    out[0] = type;
    for (int i = 0; i < width; i++)
        out[1 + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
    origo_buf_append(buf, out, (size_t)width + 1);
}

void origo_mp_put_nil(origo_buf *buf)
{
    uint8_t byte = 0xc0;
    origo_buf_append(buf, &byte, 1);
}

void origo_mp_put_bool(origo_buf *buf, int value)
{
    uint8_t byte = value ? 0xc3 : 0xc2;
    origo_buf_append(buf, &byte, 1);
}

void origo_mp_put_uint(origo_buf *buf, uint64_t value)
{
    if (value < 0x80) {
        uint8_t byte = (uint8_t)value;
        origo_buf_append(buf, &byte, 1);
    } else if (value <= UINT8_MAX) {
        put_be(buf, 0xcc, value, 1);
    } else if (value <= UINT16_MAX) {
        put_be(buf, 0xcd, value, 2);
    } else if (value <= UINT32_MAX) {
        put_be(buf, 0xce, value, 4);
    } else {
        put_be(buf, 0xcf, value, 8);
    }
}

void origo_mp_put_int(origo_buf *buf, int64_t value)
{
    if (value >= 0) {
        origo_mp_put_uint(buf, (uint64_t)value);
    } else if (value >= -32) {
        uint8_t byte = (uint8_t)(int8_t)value;
        origo_buf_append(buf, &byte, 1);
    } else if (value >= INT8_MIN) {
        put_be(buf, 0xd0, (uint64_t)value & 0xff, 1);
    } else if (value >= INT16_MIN) {
        put_be(buf, 0xd1, (uint64_t)value & 0xffff, 2);
    } else if (value >= INT32_MIN) {
        put_be(buf, 0xd2, (uint64_t)value & 0xffffffff, 4);
    } else {
        put_be(buf, 0xd3, (uint64_t)value, 8);
    }
}

/* Writes the shortest header for a length: `fix` is the fix-form base (0 when
 * there is none), `fix_max` its largest length, `t8`/`t16`/`t32` the
 * explicit forms (0 when absent). */
static void put_len(origo_buf *buf, uint64_t len, uint8_t fix, uint64_t fix_max,
                    uint8_t t8, uint8_t t16, uint8_t t32)
{
    if (fix && len <= fix_max) {
        uint8_t byte = (uint8_t)(fix | len);
        origo_buf_append(buf, &byte, 1);
    } else if (t8 && len <= UINT8_MAX) {
        put_be(buf, t8, len, 1);
    } else if (len <= UINT16_MAX) {
        put_be(buf, t16, len, 2);
    } else if (len <= UINT32_MAX) {
        put_be(buf, t32, len, 4);
    } else if (!buf->err) {
        buf->err = ORIGO_E_TOOBIG;
    }
}

void origo_mp_put_str(origo_buf *buf, const char *text, size_t len)
{
    put_len(buf, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
    origo_buf_append(buf, text, len);
}

void origo_mp_put_cstr(origo_buf *buf, const char *text)
{
    origo_mp_put_str(buf, text, strlen(text));
}

void origo_mp_put_bin(origo_buf *buf, const uint8_t *bytes, size_t len)
{
    put_len(buf, len, 0, 0, 0xc4, 0xc5, 0xc6);
    origo_buf_append(buf, bytes, len);
}

void origo_mp_put_array(origo_buf *buf, uint32_t count)
{
    put_len(buf, count, 0x90, 15, 0, 0xdc, 0xdd);
}

void origo_mp_put_map(origo_buf *buf, uint32_t count)
{
    put_len(buf, count, 0x80, 15, 0, 0xde, 0xdf);
}

/* ---- reader ---- */

void origo_mp_reader_init(origo_mp_reader *rd, const uint8_t *data, size_t len)
{
    memset(rd, 0, sizeof(*rd));
    rd->data = data;
    rd->len = len;
}

static int fail(origo_mp_reader *rd, int code)
{
    if (!rd->err)
        rd->err = code;
    return rd->err;
}

int origo_mp_reader_finish(origo_mp_reader *rd)
{
    if (rd->err)
        return rd->err;
    if (rd->pos != rd->len)
        return fail(rd, ORIGO_E_TRAILING);
    return 0;
}

/* Reads `width` big-endian bytes at pos+1 after checking they are there. */
static int read_be(origo_mp_reader *rd, int width, uint64_t *value)
{
    if (rd->len - rd->pos < (size_t)width + 1)
        return fail(rd, ORIGO_E_TRUNCATED);
    uint64_t acc = 0;
    for (int i = 0; i < width; i++)
        acc = (acc << 8) | rd->data[rd->pos + 1 + i];
    *value = acc;
    return 0;
}

/* A decoded header: kind, and the integer value or the length/count.
 * `size` is the number of header bytes. */
struct head {
    int kind;
    uint64_t value;
    int negative;
    size_t size;
};

/* Decodes the header at the current position without consuming it and
 * rejects any form that is not the shortest one. */
static int decode_head(origo_mp_reader *rd, struct head *h)
{
    if (rd->err)
        return rd->err;
    if (rd->pos >= rd->len)
        return fail(rd, ORIGO_E_TRUNCATED);
    uint8_t type = rd->data[rd->pos];
    memset(h, 0, sizeof(*h));
    h->size = 1;
    if (type <= 0x7f) {
        h->kind = ORIGO_MP_UINT;
        h->value = type;
        return 0;
    }
    if (type >= 0xe0) {
        h->kind = ORIGO_MP_INT;
        h->negative = 1;
        h->value = (uint64_t)(int64_t)(int8_t)type;
        return 0;
    }
    if ((type & 0xf0) == 0x80 || (type & 0xf0) == 0x90) {
        h->kind = (type & 0xf0) == 0x80 ? ORIGO_MP_MAP : ORIGO_MP_ARRAY;
        h->value = type & 0x0f;
        return 0;
    }
    if ((type & 0xe0) == 0xa0) {
        h->kind = ORIGO_MP_STR;
        h->value = type & 0x1f;
        return 0;
    }
    int width = 0;
    uint64_t min = 0; /* smallest value that needs this form */
    switch (type) {
    case 0xc0:
        h->kind = ORIGO_MP_NIL;
        return 0;
    case 0xc2:
    case 0xc3:
        h->kind = ORIGO_MP_BOOL;
        h->value = type == 0xc3;
        return 0;
    case 0xcc:
        h->kind = ORIGO_MP_UINT;
        width = 1;
        min = 0x80;
        break;
    case 0xcd:
        h->kind = ORIGO_MP_UINT;
        width = 2;
        min = 0x100;
        break;
    case 0xce:
        h->kind = ORIGO_MP_UINT;
        width = 4;
        min = 0x10000;
        break;
    case 0xcf:
        h->kind = ORIGO_MP_UINT;
        width = 8;
        min = 0x100000000;
        break;
    case 0xd9:
        h->kind = ORIGO_MP_STR;
        width = 1;
        min = 32;
        break;
    case 0xda:
        h->kind = ORIGO_MP_STR;
        width = 2;
        min = 0x100;
        break;
    case 0xdb:
        h->kind = ORIGO_MP_STR;
        width = 4;
        min = 0x10000;
        break;
    case 0xc4:
        h->kind = ORIGO_MP_BIN;
        width = 1;
        min = 0;
        break;
    case 0xc5:
        h->kind = ORIGO_MP_BIN;
        width = 2;
        min = 0x100;
        break;
    case 0xc6:
        h->kind = ORIGO_MP_BIN;
        width = 4;
        min = 0x10000;
        break;
    case 0xdc:
        h->kind = ORIGO_MP_ARRAY;
        width = 2;
        min = 16;
        break;
    case 0xdd:
        h->kind = ORIGO_MP_ARRAY;
        width = 4;
        min = 0x10000;
        break;
    case 0xde:
        h->kind = ORIGO_MP_MAP;
        width = 2;
        min = 16;
        break;
    case 0xdf:
        h->kind = ORIGO_MP_MAP;
        width = 4;
        min = 0x10000;
        break;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        h->kind = ORIGO_MP_INT;
        h->negative = 1;
        width = 1 << (type - 0xd0);
        break;
    default:
        /* 0xc1 (never used), floats, ext and fixext. */
        return fail(rd, ORIGO_E_RESERVED_TYPE);
    }
    uint64_t raw = 0;
    int rc = read_be(rd, width, &raw);
    if (rc)
        return rc;
    h->size = (size_t)width + 1;
    if (!h->negative) {
        if (raw < min)
            return fail(rd, ORIGO_E_NONCANONICAL);
        h->value = raw;
        return 0;
    }
    /* Signed forms: sign-extend, then require that the value is negative
     * (non-negative values have unsigned forms) and needs this width. */
    int bits = width * 8;
    int64_t sval = bits == 64 ? (int64_t)raw
                              : (int64_t)(raw << (64 - bits)) >> (64 - bits);
    int64_t lower = bits == 8 ? -32 : -(INT64_C(1) << (bits / 2 - 1));
    if (sval >= 0 || sval >= lower)
        return fail(rd, ORIGO_E_NONCANONICAL);
    h->value = (uint64_t)sval;
    return 0;
}

int origo_mp_peek(origo_mp_reader *rd)
{
    struct head h;
    int rc = decode_head(rd, &h);
    return rc ? rc : h.kind;
}

/* Decodes the next header and checks its kind; consumes the header. */
static int take(origo_mp_reader *rd, int kind, struct head *h)
{
    int rc = decode_head(rd, h);
    if (rc)
        return rc;
    if (h->kind != kind)
        return fail(rd, ORIGO_E_TYPE);
    rd->pos += h->size;
    return 0;
}

int origo_mp_read_nil(origo_mp_reader *rd)
{
    struct head h;
    return take(rd, ORIGO_MP_NIL, &h);
}

int origo_mp_read_bool(origo_mp_reader *rd, int *value)
{
    struct head h;
    int rc = take(rd, ORIGO_MP_BOOL, &h);
    if (!rc)
        *value = (int)h.value;
    return rc;
}

int origo_mp_read_uint(origo_mp_reader *rd, uint64_t *value)
{
    struct head h;
    int rc = take(rd, ORIGO_MP_UINT, &h);
    if (!rc)
        *value = h.value;
    return rc;
}

int origo_mp_read_int(origo_mp_reader *rd, int64_t *value)
{
    struct head h;
    int rc = decode_head(rd, &h);
    if (rc)
        return rc;
    if (h.kind != ORIGO_MP_UINT && h.kind != ORIGO_MP_INT)
        return fail(rd, ORIGO_E_TYPE);
    if (h.kind == ORIGO_MP_UINT && h.value > INT64_MAX)
        return fail(rd, ORIGO_E_RANGE);
    rd->pos += h.size;
    *value = (int64_t)h.value;
    return 0;
}

/* Checks strict UTF-8: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
static int utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* Consumes a str or bin header of `kind` and returns its payload. */
static int take_bytes(origo_mp_reader *rd, int kind, const uint8_t **bytes,
                      size_t *len, size_t max_len)
{
    struct head h;
    int rc = decode_head(rd, &h);
    if (rc)
        return rc;
    if (h.kind != kind)
        return fail(rd, ORIGO_E_TYPE);
    if (h.value > max_len || h.value > ORIGO_MP_MAX_BYTES)
        return fail(rd, ORIGO_E_TOOBIG);
    if (rd->len - rd->pos - h.size < h.value)
        return fail(rd, ORIGO_E_TRUNCATED);
    const uint8_t *payload = rd->data + rd->pos + h.size;
    if (kind == ORIGO_MP_STR && !utf8_valid(payload, (size_t)h.value))
        return fail(rd, ORIGO_E_UTF8);
    rd->pos += h.size + (size_t)h.value;
    *bytes = payload;
    *len = (size_t)h.value;
    return 0;
}

int origo_mp_read_str(origo_mp_reader *rd, const char **text, size_t *len,
                      size_t max_len)
{
    const uint8_t *bytes;
    int rc = take_bytes(rd, ORIGO_MP_STR, &bytes, len, max_len);
    if (!rc)
        *text = (const char *)bytes;
    return rc;
}

int origo_mp_read_bin(origo_mp_reader *rd, const uint8_t **bytes, size_t *len,
                      size_t max_len)
{
    return take_bytes(rd, ORIGO_MP_BIN, bytes, len, max_len);
}

int origo_mp_read_bin_exact(origo_mp_reader *rd, uint8_t *out, size_t len)
{
    /* A latched error stays what it was: only this call's own length
     * mismatch becomes ORIGO_E_SCHEMA. */
    if (rd->err)
        return rd->err;
    const uint8_t *bytes;
    size_t got;
    int rc = take_bytes(rd, ORIGO_MP_BIN, &bytes, &got, len);
    if (rc == ORIGO_E_TOOBIG || (!rc && got != len)) {
        rd->err = ORIGO_E_SCHEMA;
        return rd->err;
    }
    if (!rc && len)
        memcpy(out, bytes, len);
    return rc;
}

static int enter(origo_mp_reader *rd, int kind, uint32_t *count,
                 uint32_t max_count)
{
    struct head h;
    int rc = decode_head(rd, &h);
    if (rc)
        return rc;
    if (h.kind != kind)
        return fail(rd, ORIGO_E_TYPE);
    if (h.value > max_count || h.value > ORIGO_MP_MAX_ITEMS)
        return fail(rd, ORIGO_E_TOOBIG);
    if (rd->depth >= ORIGO_MP_MAX_DEPTH)
        return fail(rd, ORIGO_E_DEPTH);
    /* Each entry takes at least one byte (two for a map pair): refuse
     * counts the remaining input cannot hold before anyone allocates. */
    uint64_t min_bytes = kind == ORIGO_MP_MAP ? h.value * 2 : h.value;
    if (rd->len - rd->pos - h.size < min_bytes)
        return fail(rd, ORIGO_E_TRUNCATED);
    rd->pos += h.size;
    rd->depth++;
    *count = (uint32_t)h.value;
    return 0;
}

int origo_mp_read_array(origo_mp_reader *rd, uint32_t *count,
                        uint32_t max_count)
{
    return enter(rd, ORIGO_MP_ARRAY, count, max_count);
}

int origo_mp_read_map(origo_mp_reader *rd, uint32_t *count, uint32_t max_count)
{
    return enter(rd, ORIGO_MP_MAP, count, max_count);
}

void origo_mp_leave(origo_mp_reader *rd)
{
    if (rd->depth)
        rd->depth--;
}

int origo_mp_next_is_key(origo_mp_reader *rd, const char *key)
{
    origo_mp_reader probe = *rd;
    const char *text;
    size_t len;
    if (origo_mp_read_str(&probe, &text, &len, ORIGO_MP_MAX_BYTES))
        return 0;
    return len == strlen(key) && memcmp(text, key, len) == 0;
}

int origo_mp_read_key(origo_mp_reader *rd, const char *key)
{
    /* One decode on a probe: a malformed key keeps its own code, a wrong
     * one is ORIGO_E_MISSING_KEY, and only a match consumes it. */
    origo_mp_reader probe = *rd;
    const char *text;
    size_t len;
    int rc = origo_mp_read_str(&probe, &text, &len, ORIGO_MP_MAX_BYTES);
    if (rc)
        return fail(rd, rc);
    if (len != strlen(key) || memcmp(text, key, len) != 0)
        return fail(rd, ORIGO_E_MISSING_KEY);
    *rd = probe;
    return 0;
}

int origo_mp_keycmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t common = a_len < b_len ? a_len : b_len;
    int c = common ? memcmp(a, b, common) : 0;
    if (c)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

static int skip_map(origo_mp_reader *rd)
{
    uint32_t count;
    int rc = origo_mp_read_map(rd, &count, ORIGO_MP_MAX_ITEMS);
    if (rc)
        return rc; /* not entered, so nothing to leave */
    const char *prev = NULL;
    size_t prev_len = 0;
    for (uint32_t i = 0; !rc && i < count; i++) {
        const char *key;
        size_t key_len;
        rc = origo_mp_read_str(rd, &key, &key_len, ORIGO_MP_MAX_BYTES);
        if (rc)
            break;
        if (prev) {
            int c = origo_mp_keycmp(prev, prev_len, key, key_len);
            if (c >= 0) {
                rc = fail(rd,
                          c == 0 ? ORIGO_E_DUPLICATE_KEY : ORIGO_E_KEY_ORDER);
                break;
            }
        }
        prev = key;
        prev_len = key_len;
        rc = origo_mp_skip(rd);
    }
    origo_mp_leave(rd);
    return rc;
}

int origo_mp_skip(origo_mp_reader *rd)
{
    int kind = origo_mp_peek(rd);
    if (kind < 0)
        return kind;
    const uint8_t *bytes;
    size_t len;
    uint32_t count;
    int rc;
    switch (kind) {
    case ORIGO_MP_STR:
        return take_bytes(rd, kind, &bytes, &len, ORIGO_MP_MAX_BYTES);
    case ORIGO_MP_BIN:
        return take_bytes(rd, kind, &bytes, &len, ORIGO_MP_MAX_BYTES);
    case ORIGO_MP_ARRAY:
        rc = origo_mp_read_array(rd, &count, ORIGO_MP_MAX_ITEMS);
        if (rc)
            return rc; /* not entered, so nothing to leave */
        for (uint32_t i = 0; !rc && i < count; i++)
            rc = origo_mp_skip(rd);
        origo_mp_leave(rd);
        return rc;
    case ORIGO_MP_MAP:
        return skip_map(rd);
    default: {
        struct head h;
        return take(rd, kind, &h);
    }
    }
}

int origo_mp_validate(const uint8_t *data, size_t len)
{
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    int rc = origo_mp_skip(&rd);
    return rc ? rc : origo_mp_reader_finish(&rd);
}
