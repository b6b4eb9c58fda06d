/* Two independent views of canonical MessagePack, shared by the codec unit
 * test and the codec fuzz harness (test code only, header-only on purpose so
 * that both programs stay one file each plus this model).
 *
 * model_copy() walks a value with the strict reader and re-emits it with the
 * writer: for every input the reader accepts, the copy must equal the input.
 * model_is_canonical() is a separate, lenient decoder written without the
 * reader: it parses any MessagePack form, applies the project's rules (str
 * keys in strictly increasing bytewise order, strict UTF-8, depth, item and
 * byte limits, no floats or ext) and re-encodes in shortest form; the input
 * is canonical exactly when that re-encoding equals it. The validator must
 * accept exactly the canonical inputs. */
#ifndef ORIGO_TEST_CODEC_MODEL_H
#define ORIGO_TEST_CODEC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"

/* Copies one value from `rd` to `out` through the strict reader's typed
 * calls. Returns 0 or the reader's error. Map keys are copied as whatever
 * value they are; order is the validator's business, not the copier's. */
static inline int model_copy(origo_mp_reader *rd, origo_buf *out)
{
    int kind = origo_mp_peek(rd);
    int rc = 0;
    switch (kind) {
    case ORIGO_MP_NIL:
        rc = origo_mp_read_nil(rd);
        if (!rc)
            origo_mp_put_nil(out);
        return rc;
    case ORIGO_MP_BOOL: {
        int value = 0;
        rc = origo_mp_read_bool(rd, &value);
        if (!rc)
            origo_mp_put_bool(out, value);
        return rc;
    }
    case ORIGO_MP_UINT: {
        uint64_t value = 0;
        rc = origo_mp_read_uint(rd, &value);
        if (!rc)
            origo_mp_put_uint(out, value);
        return rc;
    }
    case ORIGO_MP_INT: {
        int64_t value = 0;
        rc = origo_mp_read_int(rd, &value);
        if (!rc)
            origo_mp_put_int(out, value);
        return rc;
    }
    case ORIGO_MP_STR: {
        const char *text = NULL;
        size_t len = 0;
        rc = origo_mp_read_str(rd, &text, &len, ORIGO_MP_MAX_BYTES);
        if (!rc)
            origo_mp_put_str(out, text, len);
        return rc;
    }
    case ORIGO_MP_BIN: {
        const uint8_t *bytes = NULL;
        size_t len = 0;
        rc = origo_mp_read_bin(rd, &bytes, &len, ORIGO_MP_MAX_BYTES);
        if (!rc)
            origo_mp_put_bin(out, bytes, len);
        return rc;
    }
    case ORIGO_MP_ARRAY:
    case ORIGO_MP_MAP: {
        uint32_t count = 0;
        int is_map = kind == ORIGO_MP_MAP;
        rc = is_map ? origo_mp_read_map(rd, &count, ORIGO_MP_MAX_ITEMS)
                    : origo_mp_read_array(rd, &count, ORIGO_MP_MAX_ITEMS);
        if (rc)
            return rc;
        if (is_map)
            origo_mp_put_map(out, count);
        else
            origo_mp_put_array(out, count);
        uint64_t children = is_map ? 2 * (uint64_t)count : count;
        for (uint64_t i = 0; !rc && i < children; i++)
            rc = model_copy(rd, out);
        origo_mp_leave(rd);
        return rc;
    }
    default:
        return kind < 0 ? kind : ORIGO_E_INTERNAL;
    }
}

/* Copies the whole of `data` into `out`; requires exactly one value. */
static inline int model_copy_all(const uint8_t *data, size_t len,
                                 origo_buf *out)
{
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    int rc = model_copy(&rd, out);
    if (!rc)
        rc = origo_mp_reader_finish(&rd);
    if (!rc && out->err)
        rc = out->err;
    return rc;
}

/* ---- the independent lenient model ---- */

struct model_in {
    const uint8_t *data;
    size_t len;
    size_t pos;
};

/* Reads `width` big-endian bytes; returns -1 if the input is too short. */
static inline int model_be(struct model_in *in, unsigned width, uint64_t *value)
{
    if (in->len - in->pos < width)
        return -1;
    uint64_t acc = 0;
    for (unsigned i = 0; i < width; i++)
        acc = acc * 256 + in->data[in->pos + i];
    in->pos += width;
    *value = acc;
    return 0;
}

/* Strict UTF-8, decoded by counting the lead byte's high one bits and then
 * comparing the code point with the smallest one of that length. */
static inline int model_utf8_ok(const uint8_t *s, size_t len)
{
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < len) {
        unsigned ones = 0;
        while (ones < 8 && (s[i] & (0x80u >> ones)))
            ones++;
        if (ones == 0) {
            i++;
            continue;
        }
        if (ones == 1 || ones > 4 || len - i < ones)
            return 0;
        uint32_t cp = s[i] & (0xffu >> (ones + 1));
        for (unsigned k = 1; k < ones; k++) {
            if ((s[i + k] >> 6) != 2)
                return 0;
            cp = cp * 64 + (s[i + k] & 0x3f);
        }
        if (cp < smallest[ones] || cp > 0x10ffff ||
            (cp >= 0xd800 && cp < 0xe000))
            return 0;
        i += ones;
    }
    return 1;
}

static inline int model_value(struct model_in *in, unsigned depth,
                              origo_buf *out, const uint8_t **str_out,
                              size_t *str_len);

/* Parses a str or bin payload of `len` bytes. */
static inline int model_bytes(struct model_in *in, int is_str, uint64_t len,
                              origo_buf *out, const uint8_t **str_out,
                              size_t *str_len)
{
    if (len > ORIGO_MP_MAX_BYTES || in->len - in->pos < len)
        return -1;
    const uint8_t *payload = in->data + in->pos;
    in->pos += (size_t)len;
    if (is_str) {
        if (!model_utf8_ok(payload, (size_t)len))
            return -1;
        origo_mp_put_str(out, (const char *)payload, (size_t)len);
        if (str_out) {
            *str_out = payload;
            *str_len = (size_t)len;
        }
    } else {
        origo_mp_put_bin(out, payload, (size_t)len);
    }
    return 0;
}

static inline int model_container(struct model_in *in, int is_map,
                                  uint64_t count, unsigned depth,
                                  origo_buf *out)
{
    if (depth >= ORIGO_MP_MAX_DEPTH || count > ORIGO_MP_MAX_ITEMS)
        return -1;
    if (is_map)
        origo_mp_put_map(out, (uint32_t)count);
    else
        origo_mp_put_array(out, (uint32_t)count);
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (is_map) {
            const uint8_t *key = NULL;
            size_t key_len = 0;
            if (model_value(in, depth + 1, out, &key, &key_len) || !key)
                return -1;
            if (prev) {
                size_t common = prev_len < key_len ? prev_len : key_len;
                int c = common ? memcmp(prev, key, common) : 0;
                if (c > 0 || (c == 0 && prev_len >= key_len))
                    return -1;
            }
            prev = key;
            prev_len = key_len;
        }
        if (model_value(in, depth + 1, out, NULL, NULL))
            return -1;
    }
    return 0;
}

/* Parses one value in any MessagePack form and writes its shortest form.
 * `depth` counts the containers around it. When `str_out` is given and the
 * value is a str, its payload is returned there (for map keys). */
static inline int model_value(struct model_in *in, unsigned depth,
                              origo_buf *out, const uint8_t **str_out,
                              size_t *str_len)
{
    if (in->pos >= in->len)
        return -1;
    uint8_t type = in->data[in->pos++];
    uint64_t raw = 0;
    if (type < 0x80) {
        origo_mp_put_uint(out, type);
        return 0;
    }
    if (type >= 0xe0) {
        origo_mp_put_int(out, (int64_t)type - 256);
        return 0;
    }
    if (type >= 0xa0 && type <= 0xbf)
        return model_bytes(in, 1, type - 0xa0u, out, str_out, str_len);
    if (type >= 0x80 && type <= 0x8f)
        return model_container(in, 1, type - 0x80u, depth, out);
    if (type >= 0x90 && type <= 0x9f)
        return model_container(in, 0, type - 0x90u, depth, out);
    switch (type) {
    case 0xc0:
        origo_mp_put_nil(out);
        return 0;
    case 0xc2:
    case 0xc3:
        origo_mp_put_bool(out, type == 0xc3);
        return 0;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        if (model_be(in, 1u << (type - 0xcc), &raw))
            return -1;
        origo_mp_put_uint(out, raw);
        return 0;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        unsigned width = 1u << (type - 0xd0);
        if (model_be(in, width, &raw))
            return -1;
        int64_t value;
        if (width == 8) {
            memcpy(&value, &raw, sizeof(value));
        } else {
            uint64_t half = UINT64_C(1) << (8 * width - 1);
            value =
                raw >= half ? (int64_t)raw - (int64_t)(2 * half) : (int64_t)raw;
        }
        origo_mp_put_int(out, value);
        return 0;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
        if (model_be(in, 1u << (type - 0xd9), &raw))
            return -1;
        return model_bytes(in, 1, raw, out, str_out, str_len);
    case 0xc4:
    case 0xc5:
    case 0xc6:
        if (model_be(in, 1u << (type - 0xc4), &raw))
            return -1;
        return model_bytes(in, 0, raw, out, NULL, NULL);
    case 0xdc:
    case 0xdd:
        if (model_be(in, type == 0xdc ? 2 : 4, &raw))
            return -1;
        return model_container(in, 0, raw, depth, out);
    case 0xde:
    case 0xdf:
        if (model_be(in, type == 0xde ? 2 : 4, &raw))
            return -1;
        return model_container(in, 1, raw, depth, out);
    default:
        return -1; /* 0xc1, floats, ext, fixext */
    }
}

/* Returns 1 when `data` is exactly one canonical value, else 0. `scratch`
 * is a buffer the caller owns (reset here). */
static inline int model_is_canonical(const uint8_t *data, size_t len,
                                     origo_buf *scratch)
{
    struct model_in in = {data, len, 0};
    origo_buf_reset(scratch);
    if (model_value(&in, 0, scratch, NULL, NULL) || in.pos != len ||
        scratch->err)
        return 0;
    return scratch->len == len &&
           (len == 0 || !memcmp(scratch->data, data, len));
}

#endif
