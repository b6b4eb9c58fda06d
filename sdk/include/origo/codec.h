/* Canonical MessagePack (docs/FORMATS.md, section "Canonical encoding").
 *
 * The writer always emits the shortest form of every integer, string, binary,
 * array and map header. The reader accepts only that form: it rejects
 * non-minimal integers and lengths, floats, ext types, invalid UTF-8,
 * truncated values and, through origo_mp_reader_finish(), trailing bytes.
 * Map key order is fixed by each format's spec, so the reader offers
 * origo_mp_read_key()/origo_mp_next_is_key() and the format decoders check
 * the order; a generic map (an `ext` string map) is canonical when its keys
 * are strictly increasing in bytewise order, which also forbids duplicates.
 *
 * Nothing here allocates except origo_buf. All functions may be called from
 * any thread on distinct objects. */
#ifndef ORIGO_CODEC_H
#define ORIGO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hard limits shared by every decoder of the project. */
#define ORIGO_MP_MAX_DEPTH 16
#define ORIGO_MP_MAX_ITEMS 65536       /* array or map entries */
#define ORIGO_MP_MAX_BYTES (16u << 20) /* one str or bin */

/* A growable byte buffer with a maximum size. Errors latch: after the first
 * failed append `err` holds the code and every later append is a no-op, so a
 * writer can emit a whole value and check once at the end. */
typedef struct origo_buf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends beyond this fail with ORIGO_E_TOOBIG */
    int err;    /* 0 or the first error */
} origo_buf;

/* Initialises an empty buffer that may grow to `max` bytes. */
void origo_buf_init(origo_buf *buf, size_t max);
/* Frees the storage; the buffer may be initialised again. */
void origo_buf_close(origo_buf *buf);
/* Empties the buffer and clears a latched error; keeps the storage. */
void origo_buf_reset(origo_buf *buf);
/* Appends `len` bytes. Returns 0, ORIGO_E_NOMEM or ORIGO_E_TOOBIG (and
 * latches the error). */
int origo_buf_append(origo_buf *buf, const void *bytes, size_t len);
/* Hands the storage to the caller (free() it) and leaves the buffer empty.
 * Returns NULL when the buffer holds an error or nothing. */
uint8_t *origo_buf_steal(origo_buf *buf, size_t *len);

/* Canonical writers. Each appends one value (or a container header that the
 * caller follows with exactly `count` values or key/value pairs). Errors
 * latch in `buf` (check buf->err once at the end). The writers choose the
 * shortest form but do not judge content: origo_mp_put_str() does not check
 * UTF-8 and origo_mp_put_map() does not check key order, so callers that
 * emit caller-supplied text or generic maps validate those first (the
 * reader rejects both). */
void origo_mp_put_nil(origo_buf *buf);
void origo_mp_put_bool(origo_buf *buf, int value);
void origo_mp_put_uint(origo_buf *buf, uint64_t value);
void origo_mp_put_int(origo_buf *buf, int64_t value);
void origo_mp_put_str(origo_buf *buf, const char *text, size_t len);
/* NUL-terminated convenience form of origo_mp_put_str(). */
void origo_mp_put_cstr(origo_buf *buf, const char *text);
void origo_mp_put_bin(origo_buf *buf, const uint8_t *bytes, size_t len);
void origo_mp_put_array(origo_buf *buf, uint32_t count);
void origo_mp_put_map(origo_buf *buf, uint32_t count);

/* Value kinds as seen by origo_mp_peek(). */
enum origo_mp_kind {
    ORIGO_MP_NIL = 1,
    ORIGO_MP_BOOL,
    ORIGO_MP_UINT, /* a non-negative integer */
    ORIGO_MP_INT,  /* a negative integer */
    ORIGO_MP_STR,
    ORIGO_MP_BIN,
    ORIGO_MP_ARRAY,
    ORIGO_MP_MAP,
};

/* A strict reader over a borrowed byte range. Pointers it returns point into
 * that range and stay valid as long as the caller keeps the bytes. Errors
 * latch like origo_buf's: after a failure every call returns the same code. */
typedef struct origo_mp_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    unsigned depth; /* containers opened; decoders call origo_mp_leave() */
    int err;
} origo_mp_reader;

void origo_mp_reader_init(origo_mp_reader *rd, const uint8_t *data, size_t len);
/* Returns ORIGO_E_TRAILING if bytes remain, else the latched error or 0. */
int origo_mp_reader_finish(origo_mp_reader *rd);

/* Returns the kind of the next value (>0) or a negative error
 * (ORIGO_E_TRUNCATED, ORIGO_E_RESERVED_TYPE for floats and ext). */
int origo_mp_peek(origo_mp_reader *rd);

int origo_mp_read_nil(origo_mp_reader *rd);
int origo_mp_read_bool(origo_mp_reader *rd, int *value);
int origo_mp_read_uint(origo_mp_reader *rd, uint64_t *value);
/* Accepts either integer family; fails with ORIGO_E_RANGE past int64. */
int origo_mp_read_int(origo_mp_reader *rd, int64_t *value);
/* Reads UTF-8 text of at most `max_len` bytes (ORIGO_E_TOOBIG beyond). The
 * text is not NUL-terminated. */
int origo_mp_read_str(origo_mp_reader *rd, const char **text, size_t *len,
                      size_t max_len);
/* Reads a binary of at most `max_len` bytes. */
int origo_mp_read_bin(origo_mp_reader *rd, const uint8_t **bytes, size_t *len,
                      size_t max_len);
/* Reads a binary of exactly `len` bytes into `out` (ORIGO_E_SCHEMA if the
 * length differs). */
int origo_mp_read_bin_exact(origo_mp_reader *rd, uint8_t *out, size_t len);
/* Reads a container header of at most `max_count` entries and enters it
 * (depth + 1, ORIGO_E_DEPTH past ORIGO_MP_MAX_DEPTH). Call origo_mp_leave()
 * once its entries have been read. */
int origo_mp_read_array(origo_mp_reader *rd, uint32_t *count,
                        uint32_t max_count);
int origo_mp_read_map(origo_mp_reader *rd, uint32_t *count, uint32_t max_count);
void origo_mp_leave(origo_mp_reader *rd);
/* Reads a map key and checks that it is exactly `key`. Returns
 * ORIGO_E_MISSING_KEY when the key differs (the reader does not advance). */
int origo_mp_read_key(origo_mp_reader *rd, const char *key);
/* Returns 1 when the next value is the str `key` (without consuming it), 0
 * otherwise. For optional fields. */
int origo_mp_next_is_key(origo_mp_reader *rd, const char *key);
/* Skips one whole value, checking it is canonical. Maps skipped this way
 * must have str keys in strictly increasing bytewise order. */
int origo_mp_skip(origo_mp_reader *rd);

/* Checks that `data` holds exactly one canonical value (as origo_mp_skip()
 * defines it) and nothing after it. */
int origo_mp_validate(const uint8_t *data, size_t len);

/* Returns <0, 0, >0 comparing two byte strings bytewise, shorter first on a
 * common prefix: the canonical order of generic map keys. */
int origo_mp_keycmp(const char *a, size_t a_len, const char *b, size_t b_len);

#ifdef __cplusplus
}
#endif
#endif
