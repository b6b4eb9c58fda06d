/* Canonical MessagePack: the writer emits shortest forms at every boundary,
 * the strict reader accepts exactly those and round-trips them byte for
 * byte, and every hand-made non-canonical or malformed encoding is rejected
 * with the error code that names what is wrong. Randomised round-trip and
 * mutation tests compare the validator with an independent model
 * (tests/fuzz/sdk/codec_model.h). Set ORIGO_TEST_SEED to replay a seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "testutil.h"

#include "../../fuzz/sdk/codec_model.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BIG_BUF (64u << 20)

/* ---- small helpers ---- */

static uint64_t test_seed;

/* splitmix64: tiny, deterministic, good enough to spread test inputs. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *state, uint64_t bound)
{
    return bound ? rng_next(state) % bound : 0;
}

static int setup_seed(void **state)
{
    (void)state;
    const char *env = getenv("ORIGO_TEST_SEED");
    test_seed = UINT64_C(20261121);
    if (env && *env) {
        char *end = NULL;
        unsigned long long parsed = strtoull(env, &end, 0);
        if (end && *end == '\0')
            test_seed = parsed;
    }
    printf("# codec test seed: %llu (ORIGO_TEST_SEED replays it)\n",
           (unsigned long long)test_seed);
    return 0;
}

/* Asserts that `buf` holds exactly `want` (hex-dumped on mismatch). */
static void assert_bytes(const uint8_t *got, size_t got_len,
                         const uint8_t *want, size_t want_len)
{
    if (got_len != want_len || (want_len && memcmp(got, want, want_len))) {
        size_t show = got_len < 64 ? got_len : 64;
        char hex[129];
        testutil_hex(got, show, hex);
        print_error("got %zu bytes %s..., want %zu bytes\n", got_len, hex,
                    want_len);
        fail();
    }
}

/* Asserts that the value in `data` is accepted and survives a decode walk
 * and re-encode unchanged, and that the independent model agrees. */
static void assert_roundtrip(const uint8_t *data, size_t len)
{
    assert_int_equal(origo_mp_validate(data, len), 0);
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, data, len);
    assert_int_equal(origo_mp_skip(&rd), 0);
    assert_int_equal(rd.pos, len);
    assert_int_equal(rd.depth, 0);
    origo_buf copy;
    origo_buf_init(&copy, BIG_BUF);
    assert_int_equal(model_copy_all(data, len, &copy), 0);
    assert_bytes(copy.data, copy.len, data, len);
    assert_true(model_is_canonical(data, len, &copy));
    origo_buf_close(&copy);
}

/* ---- writer: shortest forms at every boundary ---- */

static void uint_boundaries_use_shortest_form(void **state)
{
    (void)state;
    static const struct {
        uint64_t value;
        size_t len;
        uint8_t type;
    } cases[] = {
        {0, 1, 0x00},          {127, 1, 0x7f},        {128, 2, 0xcc},
        {255, 2, 0xcc},        {256, 3, 0xcd},        {65535, 3, 0xcd},
        {65536, 5, 0xce},      {UINT32_MAX, 5, 0xce}, {1ull << 32, 9, 0xcf},
        {UINT64_MAX, 9, 0xcf},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        origo_buf buf;
        origo_buf_init(&buf, 64);
        origo_mp_put_uint(&buf, cases[i].value);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].len);
        assert_int_equal(buf.data[0], cases[i].type);
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        uint64_t got = 0;
        assert_int_equal(origo_mp_read_uint(&rd, &got), 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_true(got == cases[i].value);
        assert_roundtrip(buf.data, buf.len);
        origo_buf_close(&buf);
    }
}

static void int_boundaries_use_shortest_form(void **state)
{
    (void)state;
    static const struct {
        int64_t value;
        size_t len;
        uint8_t type;
    } cases[] = {
        {0, 1, 0x00},
        {127, 1, 0x7f},
        {128, 2, 0xcc},
        {INT64_MAX, 9, 0xcf},
        {-1, 1, 0xff},
        {-32, 1, 0xe0},
        {-33, 2, 0xd0},
        {-128, 2, 0xd0},
        {-129, 3, 0xd1},
        {-32768, 3, 0xd1},
        {-32769, 5, 0xd2},
        {INT32_MIN, 5, 0xd2},
        {(int64_t)INT32_MIN - 1, 9, 0xd3},
        {INT64_MIN, 9, 0xd3},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        origo_buf buf;
        origo_buf_init(&buf, 64);
        origo_mp_put_int(&buf, cases[i].value);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].len);
        assert_int_equal(buf.data[0], cases[i].type);
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        int expect_kind = cases[i].value < 0 ? ORIGO_MP_INT : ORIGO_MP_UINT;
        assert_int_equal(origo_mp_peek(&rd), expect_kind);
        int64_t got = 0;
        assert_int_equal(origo_mp_read_int(&rd, &got), 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_true(got == cases[i].value);
        assert_roundtrip(buf.data, buf.len);
        origo_buf_close(&buf);
    }
}

static void nil_and_bool_have_one_form(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 64);
    origo_mp_put_nil(&buf);
    origo_mp_put_bool(&buf, 0);
    origo_mp_put_bool(&buf, 1);
    origo_mp_put_bool(&buf, 42); /* any non-zero is true */
    static const uint8_t want[] = {0xc0, 0xc2, 0xc3, 0xc3};
    assert_bytes(buf.data, buf.len, want, sizeof(want));
    origo_mp_reader rd;
    origo_mp_reader_init(&rd, buf.data, buf.len);
    int value = -1;
    assert_int_equal(origo_mp_read_nil(&rd), 0);
    assert_int_equal(origo_mp_read_bool(&rd, &value), 0);
    assert_int_equal(value, 0);
    assert_int_equal(origo_mp_read_bool(&rd, &value), 0);
    assert_int_equal(value, 1);
    assert_int_equal(origo_mp_read_bool(&rd, &value), 0);
    assert_int_equal(value, 1);
    assert_int_equal(origo_mp_reader_finish(&rd), 0);
    origo_buf_close(&buf);
}

/* Fills `out` with `len` bytes of valid ASCII text. */
static void fill_text(char *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (char)('a' + i % 26);
}

static void str_and_bin_lengths_use_shortest_header(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        size_t str_head;
        uint8_t str_type;
        size_t bin_head;
        uint8_t bin_type;
    } cases[] = {
        {0, 1, 0xa0, 2, 0xc4},      {1, 1, 0xa1, 2, 0xc4},
        {31, 1, 0xbf, 2, 0xc4},     {32, 2, 0xd9, 2, 0xc4},
        {255, 2, 0xd9, 2, 0xc4},    {256, 3, 0xda, 3, 0xc5},
        {65535, 3, 0xda, 3, 0xc5},  {65536, 5, 0xdb, 5, 0xc6},
        {100000, 5, 0xdb, 5, 0xc6},
    };
    char *text = malloc(100000);
    assert_non_null(text);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        size_t len = cases[i].len;
        fill_text(text, len);
        origo_buf buf;
        origo_buf_init(&buf, BIG_BUF);

        origo_mp_put_str(&buf, text, len);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].str_head + len);
        assert_int_equal(buf.data[0], cases[i].str_type);
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        assert_int_equal(origo_mp_peek(&rd), ORIGO_MP_STR);
        const char *got = NULL;
        size_t got_len = 0;
        assert_int_equal(origo_mp_read_str(&rd, &got, &got_len, len), 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_int_equal(got_len, len);
        assert_true(len == 0 || memcmp(got, text, len) == 0);
        assert_roundtrip(buf.data, buf.len);

        origo_buf_reset(&buf);
        origo_mp_put_bin(&buf, (const uint8_t *)text, len);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].bin_head + len);
        assert_int_equal(buf.data[0], cases[i].bin_type);
        origo_mp_reader_init(&rd, buf.data, buf.len);
        assert_int_equal(origo_mp_peek(&rd), ORIGO_MP_BIN);
        const uint8_t *bytes = NULL;
        assert_int_equal(origo_mp_read_bin(&rd, &bytes, &got_len, len), 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_int_equal(got_len, len);
        assert_true(len == 0 || memcmp(bytes, text, len) == 0);
        assert_roundtrip(buf.data, buf.len);
        origo_buf_close(&buf);
    }
    free(text);
}

/* Writes a map of `count` pairs whose keys are zero-padded hex numbers (so
 * bytewise order is numeric order) and whose values are nil. */
static void put_sorted_map(origo_buf *buf, uint32_t count)
{
    origo_mp_put_map(buf, count);
    for (uint32_t i = 0; i < count; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "%05x", (unsigned)i);
        assert_true(n == 5);
        origo_mp_put_str(buf, key, 5);
        origo_mp_put_nil(buf);
    }
}

static void array_and_map_counts_use_shortest_header(void **state)
{
    (void)state;
    static const struct {
        uint32_t count;
        size_t head;
        uint8_t array_type;
        uint8_t map_type;
    } cases[] = {
        {0, 1, 0x90, 0x80},     {1, 1, 0x91, 0x81},
        {15, 1, 0x9f, 0x8f},    {16, 3, 0xdc, 0xde},
        {65535, 3, 0xdc, 0xde}, {ORIGO_MP_MAX_ITEMS, 5, 0xdd, 0xdf},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint32_t count = cases[i].count;
        origo_buf buf;
        origo_buf_init(&buf, BIG_BUF);

        origo_mp_put_array(&buf, count);
        for (uint32_t k = 0; k < count; k++)
            origo_mp_put_nil(&buf);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].head + count);
        assert_int_equal(buf.data[0], cases[i].array_type);
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        uint32_t got = 0;
        assert_int_equal(origo_mp_read_array(&rd, &got, count), 0);
        assert_int_equal(got, count);
        assert_int_equal(rd.depth, 1);
        for (uint32_t k = 0; k < count; k++)
            assert_int_equal(origo_mp_read_nil(&rd), 0);
        origo_mp_leave(&rd);
        assert_int_equal(rd.depth, 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_roundtrip(buf.data, buf.len);

        origo_buf_reset(&buf);
        put_sorted_map(&buf, count);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].head + 7 * (size_t)count);
        assert_int_equal(buf.data[0], cases[i].map_type);
        origo_mp_reader_init(&rd, buf.data, buf.len);
        assert_int_equal(origo_mp_read_map(&rd, &got, count), 0);
        assert_int_equal(got, count);
        origo_mp_leave(&rd);
        assert_roundtrip(buf.data, buf.len);
        origo_buf_close(&buf);
    }
}

static void buffer_limit_latches_toobig(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4);
    origo_mp_put_cstr(&buf, "abc");
    assert_int_equal(buf.err, 0);
    assert_int_equal(buf.len, 4);
    origo_mp_put_nil(&buf);
    assert_int_equal(buf.err, ORIGO_E_TOOBIG);
    assert_int_equal(buf.len, 4);
    /* Latched: even an append that would fit is refused. */
    origo_buf_reset(&buf);
    assert_int_equal(buf.err, 0);
    origo_mp_put_cstr(&buf, "abcdefgh");
    assert_int_equal(buf.err, ORIGO_E_TOOBIG);
    assert_int_equal(origo_buf_append(&buf, "", 0), ORIGO_E_TOOBIG);
    size_t len = 0;
    assert_null(origo_buf_steal(&buf, &len));
    origo_buf_close(&buf);

    origo_buf_init(&buf, 16);
    origo_mp_put_uint(&buf, 7);
    uint8_t *stolen = origo_buf_steal(&buf, &len);
    assert_non_null(stolen);
    assert_int_equal(len, 1);
    assert_int_equal(stolen[0], 7);
    free(stolen);
    assert_int_equal(buf.len, 0);
    origo_buf_close(&buf);
}

/* ---- hand-made non-canonical and malformed encodings ---- */

struct bad_case {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    int err;
};

#define BAD(name, err, ...)                                                    \
    {                                                                          \
        name, (const uint8_t[]){__VA_ARGS__},                                  \
            sizeof((const uint8_t[]){__VA_ARGS__}), err                        \
    }

static const struct bad_case bad_cases[] = {
    /* non-minimal unsigned integers */
    BAD("uint8 holding 0", ORIGO_E_NONCANONICAL, 0xcc, 0x00),
    BAD("uint8 holding 127", ORIGO_E_NONCANONICAL, 0xcc, 0x7f),
    BAD("uint16 holding 255", ORIGO_E_NONCANONICAL, 0xcd, 0x00, 0xff),
    BAD("uint16 holding 1", ORIGO_E_NONCANONICAL, 0xcd, 0x00, 0x01),
    BAD("uint32 holding 65535", ORIGO_E_NONCANONICAL, 0xce, 0x00, 0x00, 0xff,
        0xff),
    BAD("uint64 holding 2^32-1", ORIGO_E_NONCANONICAL, 0xcf, 0, 0, 0, 0, 0xff,
        0xff, 0xff, 0xff),
    BAD("uint64 holding 0", ORIGO_E_NONCANONICAL, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0),
    /* non-minimal negative integers */
    BAD("int8 holding -1", ORIGO_E_NONCANONICAL, 0xd0, 0xff),
    BAD("int8 holding -32", ORIGO_E_NONCANONICAL, 0xd0, 0xe0),
    BAD("int16 holding -128", ORIGO_E_NONCANONICAL, 0xd1, 0xff, 0x80),
    BAD("int16 holding -33", ORIGO_E_NONCANONICAL, 0xd1, 0xff, 0xdf),
    BAD("int32 holding -32768", ORIGO_E_NONCANONICAL, 0xd2, 0xff, 0xff, 0x80,
        0x00),
    BAD("int64 holding INT32_MIN", ORIGO_E_NONCANONICAL, 0xd3, 0xff, 0xff, 0xff,
        0xff, 0x80, 0x00, 0x00, 0x00),
    BAD("int64 holding -1", ORIGO_E_NONCANONICAL, 0xd3, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff),
    /* signed forms for non-negative values */
    BAD("int8 holding 5", ORIGO_E_NONCANONICAL, 0xd0, 0x05),
    BAD("int8 holding 0", ORIGO_E_NONCANONICAL, 0xd0, 0x00),
    BAD("int16 holding 200", ORIGO_E_NONCANONICAL, 0xd1, 0x00, 0xc8),
    BAD("int32 holding 70000", ORIGO_E_NONCANONICAL, 0xd2, 0x00, 0x01, 0x11,
        0x70),
    BAD("int64 holding INT64_MAX", ORIGO_E_NONCANONICAL, 0xd3, 0x7f, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff),
    /* non-minimal string, binary and container headers */
    BAD("str8 for a 5-byte string", ORIGO_E_NONCANONICAL, 0xd9, 0x05, 'h', 'e',
        'l', 'l', 'o'),
    BAD("str8 for an empty string", ORIGO_E_NONCANONICAL, 0xd9, 0x00),
    BAD("str16 for a 5-byte string", ORIGO_E_NONCANONICAL, 0xda, 0x00, 0x05,
        'h', 'e', 'l', 'l', 'o'),
    BAD("str32 for a 1-byte string", ORIGO_E_NONCANONICAL, 0xdb, 0, 0, 0, 1,
        'x'),
    BAD("bin16 for 3 bytes", ORIGO_E_NONCANONICAL, 0xc5, 0x00, 0x03, 1, 2, 3),
    BAD("bin32 for 0 bytes", ORIGO_E_NONCANONICAL, 0xc6, 0, 0, 0, 0),
    BAD("array16 with no entries", ORIGO_E_NONCANONICAL, 0xdc, 0x00, 0x00),
    BAD("array16 with one entry", ORIGO_E_NONCANONICAL, 0xdc, 0x00, 0x01, 0xc0),
    BAD("array32 with one entry", ORIGO_E_NONCANONICAL, 0xdd, 0, 0, 0, 1, 0xc0),
    BAD("map16 with one pair", ORIGO_E_NONCANONICAL, 0xde, 0x00, 0x01, 0xa1,
        'a', 0xc0),
    BAD("map32 with no pairs", ORIGO_E_NONCANONICAL, 0xdf, 0, 0, 0, 0),
    /* non-minimal forms nested inside an accepted container */
    BAD("uint8 inside an array", ORIGO_E_NONCANONICAL, 0x92, 0x01, 0xcc, 0x02),
    BAD("str8 as a map value", ORIGO_E_NONCANONICAL, 0x81, 0xa1, 'k', 0xd9,
        0x01, 'v'),
    BAD("str8 as a map key", ORIGO_E_NONCANONICAL, 0x81, 0xd9, 0x01, 'k', 0xc0),
    /* types that canonical Origo never uses */
    BAD("float32", ORIGO_E_RESERVED_TYPE, 0xca, 0x3f, 0x80, 0x00, 0x00),
    BAD("float64", ORIGO_E_RESERVED_TYPE, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0),
    BAD("ext8", ORIGO_E_RESERVED_TYPE, 0xc7, 0x01, 0x05, 0x00),
    BAD("ext16", ORIGO_E_RESERVED_TYPE, 0xc8, 0x00, 0x01, 0x05, 0x00),
    BAD("ext32", ORIGO_E_RESERVED_TYPE, 0xc9, 0, 0, 0, 1, 0x05, 0x00),
    BAD("fixext1", ORIGO_E_RESERVED_TYPE, 0xd4, 0x05, 0x00),
    BAD("fixext2", ORIGO_E_RESERVED_TYPE, 0xd5, 0x05, 0x00, 0x00),
    BAD("fixext4", ORIGO_E_RESERVED_TYPE, 0xd6, 0x05, 0, 0, 0, 0),
    BAD("fixext8", ORIGO_E_RESERVED_TYPE, 0xd7, 0x05, 0, 0, 0, 0, 0, 0, 0, 0),
    BAD("fixext16", ORIGO_E_RESERVED_TYPE, 0xd8, 0x05, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0),
    BAD("timestamp ext -1", ORIGO_E_RESERVED_TYPE, 0xd6, 0xff, 0, 0, 0, 0),
    BAD("never-used 0xc1", ORIGO_E_RESERVED_TYPE, 0xc1),
    BAD("float inside a map", ORIGO_E_RESERVED_TYPE, 0x81, 0xa1, 'f', 0xca, 0,
        0, 0, 0),
    /* truncated headers and payloads */
    BAD("uint16 missing a byte", ORIGO_E_TRUNCATED, 0xcd, 0x01),
    BAD("uint64 header only", ORIGO_E_TRUNCATED, 0xcf),
    BAD("int32 missing bytes", ORIGO_E_TRUNCATED, 0xd2, 0xff, 0x00),
    BAD("str8 without length", ORIGO_E_TRUNCATED, 0xd9),
    BAD("str16 half a length", ORIGO_E_TRUNCATED, 0xda, 0x01),
    BAD("fixstr short payload", ORIGO_E_TRUNCATED, 0xa5, 'h', 'e', 'l'),
    BAD("str8 short payload", ORIGO_E_TRUNCATED, 0xd9, 0x40, 'x'),
    BAD("bin8 without length", ORIGO_E_TRUNCATED, 0xc4),
    BAD("bin8 short payload", ORIGO_E_TRUNCATED, 0xc4, 0x05, 1, 2),
    BAD("array16 without count", ORIGO_E_TRUNCATED, 0xdc, 0x00),
    BAD("map32 without count", ORIGO_E_TRUNCATED, 0xdf, 0x00, 0x00),
    BAD("fixarray missing an entry", ORIGO_E_TRUNCATED, 0x92, 0x01),
    BAD("fixmap missing a value", ORIGO_E_TRUNCATED, 0x81, 0xa1, 'a'),
    BAD("map missing the last value", ORIGO_E_TRUNCATED, 0x82, 0xa1, 'a', 0x01,
        0xa1, 'b'),
    BAD("nested array cut short", ORIGO_E_TRUNCATED, 0x91, 0x92, 0x01),
    /* counts and lengths the remaining input cannot hold */
    BAD("array16 of 65535 with 2 bytes", ORIGO_E_TRUNCATED, 0xdc, 0xff, 0xff,
        0xc0, 0xc0),
    BAD("map16 of 16 pairs with 31 bytes", ORIGO_E_TRUNCATED, 0xde, 0x00, 0x10,
        0xa0, 0xc0, 0xa1, 'a', 0xc0, 0xa1, 'b', 0xc0, 0xa1, 'c', 0xc0, 0xa1,
        'd', 0xc0, 0xa1, 'e', 0xc0, 0xa1, 'f', 0xc0, 0xa1, 'g', 0xc0, 0xa1, 'h',
        0xc0, 0xa1, 'i', 0xc0, 0xa1, 'j'),
    BAD("str32 of 65536 with 3 bytes", ORIGO_E_TRUNCATED, 0xdb, 0x00, 0x01,
        0x00, 0x00, 'a', 'b', 'c'),
    BAD("bin32 of 65536 with 1 byte", ORIGO_E_TRUNCATED, 0xc6, 0x00, 0x01, 0x00,
        0x00, 0x00),
    /* sizes over the fixed limits */
    BAD("array32 over MAX_ITEMS", ORIGO_E_TOOBIG, 0xdd, 0x00, 0x01, 0x00, 0x01),
    BAD("map32 of 2^32-1 pairs", ORIGO_E_TOOBIG, 0xdf, 0xff, 0xff, 0xff, 0xff),
    BAD("str32 over MAX_BYTES", ORIGO_E_TOOBIG, 0xdb, 0x01, 0x00, 0x00, 0x01),
    BAD("bin32 of 2^32-1 bytes", ORIGO_E_TOOBIG, 0xc6, 0xff, 0xff, 0xff, 0xff),
    /* trailing bytes */
    BAD("nil then nil", ORIGO_E_TRAILING, 0xc0, 0xc0),
    BAD("uint then a zero byte", ORIGO_E_TRAILING, 0x01, 0x00),
    BAD("array then an extra entry", ORIGO_E_TRAILING, 0x91, 0x01, 0x02),
    BAD("map then a stray key", ORIGO_E_TRAILING, 0x81, 0xa1, 'a', 0x01, 0xa1,
        'b'),
    /* invalid UTF-8 */
    BAD("overlong 2-byte NUL", ORIGO_E_UTF8, 0xa2, 0xc0, 0x80),
    BAD("overlong 2-byte 0x7f", ORIGO_E_UTF8, 0xa2, 0xc1, 0xbf),
    BAD("overlong 3-byte", ORIGO_E_UTF8, 0xa3, 0xe0, 0x80, 0x80),
    BAD("overlong 3-byte U+07FF", ORIGO_E_UTF8, 0xa3, 0xe0, 0x9f, 0xbf),
    BAD("overlong 4-byte", ORIGO_E_UTF8, 0xa4, 0xf0, 0x8f, 0xbf, 0xbf),
    BAD("surrogate U+D800", ORIGO_E_UTF8, 0xa3, 0xed, 0xa0, 0x80),
    BAD("surrogate U+DFFF", ORIGO_E_UTF8, 0xa3, 0xed, 0xbf, 0xbf),
    BAD("surrogate pair as CESU-8", ORIGO_E_UTF8, 0xa6, 0xed, 0xa0, 0xbd, 0xed,
        0xb8, 0x80),
    BAD("U+110000", ORIGO_E_UTF8, 0xa4, 0xf4, 0x90, 0x80, 0x80),
    BAD("lead byte 0xf5", ORIGO_E_UTF8, 0xa4, 0xf5, 0x80, 0x80, 0x80),
    BAD("lead byte 0xff", ORIGO_E_UTF8, 0xa1, 0xff),
    BAD("lone continuation byte", ORIGO_E_UTF8, 0xa1, 0x80),
    BAD("continuation after ASCII", ORIGO_E_UTF8, 0xa2, 'a', 0xbf),
    BAD("truncated 3-byte sequence", ORIGO_E_UTF8, 0xa2, 0xe2, 0x82),
    BAD("truncated 4-byte sequence", ORIGO_E_UTF8, 0xa3, 0xf0, 0x9f, 0x98),
    BAD("lead byte then ASCII", ORIGO_E_UTF8, 0xa2, 0xc3, 'A'),
    BAD("invalid UTF-8 in a map key", ORIGO_E_UTF8, 0x81, 0xa1, 0x80, 0xc0),
    /* generic maps: key order, duplicates, key types */
    BAD("keys out of order", ORIGO_E_KEY_ORDER, 0x82, 0xa1, 'b', 0x01, 0xa1,
        'a', 0x02),
    BAD("longer key before its prefix", ORIGO_E_KEY_ORDER, 0x82, 0xa2, 'a', 'a',
        0x01, 0xa1, 'a', 0x02),
    BAD("empty key after another", ORIGO_E_KEY_ORDER, 0x82, 0xa1, 'a', 0x01,
        0xa0, 0x02),
    BAD("keys compare as unsigned bytes", ORIGO_E_KEY_ORDER, 0x82, 0xa2, 0xc3,
        0xa9, 0x01, 0xa1, 'z', 0x02),
    BAD("third key out of order", ORIGO_E_KEY_ORDER, 0x83, 0xa1, 'a', 0x01,
        0xa1, 'c', 0x02, 0xa1, 'b', 0x03),
    BAD("nested map out of order", ORIGO_E_KEY_ORDER, 0x91, 0x82, 0xa1, 'y',
        0xc0, 0xa1, 'x', 0xc0),
    BAD("duplicate key", ORIGO_E_DUPLICATE_KEY, 0x82, 0xa1, 'a', 0x01, 0xa1,
        'a', 0x02),
    BAD("duplicate empty key", ORIGO_E_DUPLICATE_KEY, 0x82, 0xa0, 0x01, 0xa0,
        0x02),
    BAD("duplicate key in a nested map", ORIGO_E_DUPLICATE_KEY, 0x81, 0xa1, 'm',
        0x82, 0xa1, 'k', 0xc0, 0xa1, 'k', 0xc0),
    BAD("integer key", ORIGO_E_TYPE, 0x81, 0x01, 0x02),
    BAD("bin key", ORIGO_E_TYPE, 0x81, 0xc4, 0x01, 'a', 0x01),
    BAD("nil key", ORIGO_E_TYPE, 0x81, 0xc0, 0x01),
    BAD("array key", ORIGO_E_TYPE, 0x81, 0x90, 0x01),
    BAD("integer second key", ORIGO_E_TYPE, 0x82, 0xa1, 'a', 0x01, 0x05, 0x02),
    /* no value at all */
    {"empty input", (const uint8_t *)"", 0, ORIGO_E_TRUNCATED},
};

static void bad_encodings_rejected_with_right_error(void **state)
{
    (void)state;
    assert_true(ARRAY_LEN(bad_cases) >= 30);
    origo_buf scratch;
    origo_buf_init(&scratch, BIG_BUF);
    int failures = 0;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        int rc = origo_mp_validate(c->bytes, c->len);
        if (rc != c->err) {
            print_error("%s: got %s, want %s\n", c->name, origo_errname(rc),
                        origo_errname(c->err));
            failures++;
        }
        /* The independent model must call each of them non-canonical. */
        if (model_is_canonical(c->bytes, c->len, &scratch)) {
            print_error("%s: the model accepts it\n", c->name);
            failures++;
        }
    }
    origo_buf_close(&scratch);
    assert_int_equal(failures, 0);
}

/* Builds `levels` nested containers (arrays, or maps with key "k") around
 * a nil. */
static void put_nested(origo_buf *buf, unsigned levels, int maps)
{
    for (unsigned i = 0; i < levels; i++) {
        if (maps) {
            origo_mp_put_map(buf, 1);
            origo_mp_put_cstr(buf, "k");
        } else {
            origo_mp_put_array(buf, 1);
        }
    }
    origo_mp_put_nil(buf);
}

static void nesting_past_max_depth_rejected(void **state)
{
    (void)state;
    for (int maps = 0; maps <= 1; maps++) {
        origo_buf buf;
        origo_buf_init(&buf, 4096);
        put_nested(&buf, ORIGO_MP_MAX_DEPTH, maps);
        assert_roundtrip(buf.data, buf.len);
        origo_buf_reset(&buf);
        put_nested(&buf, ORIGO_MP_MAX_DEPTH + 1, maps);
        assert_int_equal(origo_mp_validate(buf.data, buf.len), ORIGO_E_DEPTH);
        origo_buf_reset(&buf);
        put_nested(&buf, 1000, maps);
        assert_int_equal(origo_mp_validate(buf.data, buf.len), ORIGO_E_DEPTH);
        origo_buf_close(&buf);
    }
    /* Depth is about nesting, not about how many containers there are. */
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    origo_mp_put_array(&buf, 40);
    for (int i = 0; i < 40; i++)
        put_nested(&buf, ORIGO_MP_MAX_DEPTH - 1, i & 1);
    assert_roundtrip(buf.data, buf.len);
    origo_buf_close(&buf);
}

/* ---- typed reader errors ---- */

static void read_key_mismatch_is_missing_key(void **state)
{
    (void)state;
    static const uint8_t map[] = {0x82, 0xa1, 'a', 0x01, 0xa2, 'b', 'c', 0x02};
    origo_mp_reader rd;
    uint32_t count = 0;
    uint64_t value = 0;

    origo_mp_reader_init(&rd, map, sizeof(map));
    assert_int_equal(origo_mp_read_map(&rd, &count, 2), 0);
    assert_int_equal(count, 2);
    assert_int_equal(origo_mp_next_is_key(&rd, "a"), 1);
    assert_int_equal(origo_mp_next_is_key(&rd, "b"), 0);
    assert_int_equal(origo_mp_read_key(&rd, "a"), 0);
    assert_int_equal(origo_mp_read_uint(&rd, &value), 0);
    assert_int_equal(value, 1);
    assert_int_equal(origo_mp_read_key(&rd, "bc"), 0);
    assert_int_equal(origo_mp_read_uint(&rd, &value), 0);
    assert_int_equal(value, 2);
    origo_mp_leave(&rd);
    assert_int_equal(origo_mp_reader_finish(&rd), 0);

    /* A different key, a prefix of the key, and a longer key. */
    static const char *const wrong[] = {"b", "", "aa"};
    for (size_t i = 0; i < ARRAY_LEN(wrong); i++) {
        origo_mp_reader_init(&rd, map, sizeof(map));
        assert_int_equal(origo_mp_read_map(&rd, &count, 2), 0);
        assert_int_equal(origo_mp_read_key(&rd, wrong[i]), ORIGO_E_MISSING_KEY);
        /* Errors latch: the right key no longer helps. */
        assert_int_equal(origo_mp_read_key(&rd, "a"), ORIGO_E_MISSING_KEY);
        assert_int_equal(origo_mp_reader_finish(&rd), ORIGO_E_MISSING_KEY);
    }

    /* A key that is not a str, or not canonical, reports that instead. */
    static const uint8_t int_key[] = {0x81, 0x01, 0x02};
    origo_mp_reader_init(&rd, int_key, sizeof(int_key));
    assert_int_equal(origo_mp_read_map(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_next_is_key(&rd, "a"), 0);
    assert_int_equal(origo_mp_read_key(&rd, "a"), ORIGO_E_TYPE);
    static const uint8_t str8_key[] = {0x81, 0xd9, 0x01, 'a', 0x02};
    origo_mp_reader_init(&rd, str8_key, sizeof(str8_key));
    assert_int_equal(origo_mp_read_map(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_read_key(&rd, "a"), ORIGO_E_NONCANONICAL);
    static const uint8_t bad_utf8_key[] = {0x81, 0xa1, 0xff, 0x02};
    origo_mp_reader_init(&rd, bad_utf8_key, sizeof(bad_utf8_key));
    assert_int_equal(origo_mp_read_map(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_read_key(&rd, "a"), ORIGO_E_UTF8);
    static const uint8_t no_key[] = {0x81};
    origo_mp_reader_init(&rd, no_key, sizeof(no_key));
    assert_int_equal(origo_mp_read_map(&rd, &count, 1), ORIGO_E_TRUNCATED);
    assert_int_equal(origo_mp_read_key(&rd, "a"), ORIGO_E_TRUNCATED);
}

static void read_bin_exact_wrong_length_is_schema(void **state)
{
    (void)state;
    uint8_t out[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    origo_mp_reader rd;

    static const uint8_t four[] = {0xc4, 0x04, 1, 2, 3, 4};
    origo_mp_reader_init(&rd, four, sizeof(four));
    assert_int_equal(origo_mp_read_bin_exact(&rd, out, 4), 0);
    assert_int_equal(origo_mp_reader_finish(&rd), 0);
    assert_memory_equal(out, ((const uint8_t[]){1, 2, 3, 4}), 4);

    static const uint8_t three[] = {0xc4, 0x03, 9, 9, 9};
    static const uint8_t five[] = {0xc4, 0x05, 9, 9, 9, 9, 9};
    static const uint8_t empty[] = {0xc4, 0x00};
    const struct {
        const uint8_t *bytes;
        size_t len;
        int err;
    } cases[] = {
        {three, sizeof(three), ORIGO_E_SCHEMA},
        {five, sizeof(five), ORIGO_E_SCHEMA},
        {empty, sizeof(empty), ORIGO_E_SCHEMA},
        {(const uint8_t[]){0xa4, 'a', 'b', 'c', 'd'}, 5, ORIGO_E_TYPE},
        {(const uint8_t[]){0xc5, 0x00, 0x04, 1, 2, 3, 4}, 7,
         ORIGO_E_NONCANONICAL},
        {(const uint8_t[]){0xc4, 0x04, 1, 2}, 4, ORIGO_E_TRUNCATED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        memset(out, 0xaa, sizeof(out));
        origo_mp_reader_init(&rd, cases[i].bytes, cases[i].len);
        assert_int_equal(origo_mp_read_bin_exact(&rd, out, 4), cases[i].err);
        assert_int_equal(origo_mp_reader_finish(&rd), cases[i].err);
        /* *out parameters are written only on success. */
        assert_memory_equal(out, ((const uint8_t[]){0xaa, 0xaa, 0xaa, 0xaa}),
                            4);
    }

    /* A latched error is reported as it was, not turned into SCHEMA. */
    static const uint8_t after_long_str[] = {0xa3, 'a', 'b', 'c', 0xc4,
                                             0x04, 1,   2,   3,   4};
    origo_mp_reader_init(&rd, after_long_str, sizeof(after_long_str));
    const char *text = NULL;
    size_t len = 0;
    assert_int_equal(origo_mp_read_str(&rd, &text, &len, 2), ORIGO_E_TOOBIG);
    assert_int_equal(origo_mp_read_bin_exact(&rd, out, 4), ORIGO_E_TOOBIG);

    /* Zero-length exact reads need no output buffer. */
    origo_mp_reader_init(&rd, empty, sizeof(empty));
    assert_int_equal(origo_mp_read_bin_exact(&rd, NULL, 0), 0);
    assert_int_equal(origo_mp_reader_finish(&rd), 0);
}

static void typed_reads_reject_wrong_kind_and_range(void **state)
{
    (void)state;
    origo_mp_reader rd;
    uint64_t u = 7;
    int64_t s = 7;
    uint32_t count = 0;
    const char *text = NULL;
    const uint8_t *bytes = NULL;
    size_t len = 0;

    static const uint8_t neg[] = {0xff};
    origo_mp_reader_init(&rd, neg, 1);
    assert_int_equal(origo_mp_read_uint(&rd, &u), ORIGO_E_TYPE);
    assert_int_equal(u, 7);

    static const uint8_t huge[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
    origo_mp_reader_init(&rd, huge, sizeof(huge));
    assert_int_equal(origo_mp_read_int(&rd, &s), ORIGO_E_RANGE);
    assert_int_equal(s, 7);
    static const uint8_t max_int[] = {0xcf, 0x7f, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff};
    origo_mp_reader_init(&rd, max_int, sizeof(max_int));
    assert_int_equal(origo_mp_read_int(&rd, &s), 0);
    assert_true(s == INT64_MAX);

    static const uint8_t str[] = {0xa3, 'a', 'b', 'c'};
    origo_mp_reader_init(&rd, str, sizeof(str));
    assert_int_equal(origo_mp_read_bin(&rd, &bytes, &len, 10), ORIGO_E_TYPE);
    origo_mp_reader_init(&rd, str, sizeof(str));
    assert_int_equal(origo_mp_read_int(&rd, &s), ORIGO_E_TYPE);
    origo_mp_reader_init(&rd, str, sizeof(str));
    assert_int_equal(origo_mp_read_str(&rd, &text, &len, 2), ORIGO_E_TOOBIG);
    origo_mp_reader_init(&rd, str, sizeof(str));
    assert_int_equal(origo_mp_read_str(&rd, &text, &len, 3), 0);
    assert_int_equal(len, 3);

    static const uint8_t bin[] = {0xc4, 0x01, 'a'};
    origo_mp_reader_init(&rd, bin, sizeof(bin));
    assert_int_equal(origo_mp_read_str(&rd, &text, &len, 10), ORIGO_E_TYPE);
    origo_mp_reader_init(&rd, bin, sizeof(bin));
    assert_int_equal(origo_mp_read_bin(&rd, &bytes, &len, 0), ORIGO_E_TOOBIG);

    static const uint8_t arr[] = {0x93, 1, 2, 3};
    origo_mp_reader_init(&rd, arr, sizeof(arr));
    assert_int_equal(origo_mp_read_map(&rd, &count, 10), ORIGO_E_TYPE);
    origo_mp_reader_init(&rd, arr, sizeof(arr));
    assert_int_equal(origo_mp_read_array(&rd, &count, 2), ORIGO_E_TOOBIG);
    origo_mp_reader_init(&rd, arr, sizeof(arr));
    assert_int_equal(origo_mp_read_bool(&rd, &(int){0}), ORIGO_E_TYPE);
    origo_mp_reader_init(&rd, arr, sizeof(arr));
    assert_int_equal(origo_mp_read_nil(&rd), ORIGO_E_TYPE);

    /* Reading past the end, and finishing early. */
    origo_mp_reader_init(&rd, arr, sizeof(arr));
    assert_int_equal(origo_mp_read_array(&rd, &count, 3), 0);
    assert_int_equal(origo_mp_reader_finish(&rd), ORIGO_E_TRAILING);
    origo_mp_reader_init(&rd, arr, 1);
    assert_int_equal(origo_mp_read_array(&rd, &count, 3), ORIGO_E_TRUNCATED);
    origo_mp_reader_init(&rd, NULL, 0);
    assert_int_equal(origo_mp_peek(&rd), ORIGO_E_TRUNCATED);

    /* Peek reports reserved types and bad headers without a kind. */
    static const uint8_t flt[] = {0xca, 0, 0, 0, 0};
    origo_mp_reader_init(&rd, flt, sizeof(flt));
    assert_int_equal(origo_mp_peek(&rd), ORIGO_E_RESERVED_TYPE);
    static const uint8_t nonmin[] = {0xcc, 0x01};
    origo_mp_reader_init(&rd, nonmin, sizeof(nonmin));
    assert_int_equal(origo_mp_peek(&rd), ORIGO_E_NONCANONICAL);
}

static void failed_reads_leave_depth_balanced(void **state)
{
    (void)state;
    /* A container whose header fails must not count as entered, and a
     * failed skip must not leave containers its caller entered. */
    origo_mp_reader rd;
    uint32_t count = 0;
    static const uint8_t trunc[] = {0x92, 0xc0};
    origo_mp_reader_init(&rd, trunc, sizeof(trunc));
    assert_int_equal(origo_mp_read_array(&rd, &count, 4), ORIGO_E_TRUNCATED);
    assert_int_equal(rd.depth, 0);

    static const uint8_t inner_bad[] = {0x91, 0xdc, 0x00, 0x01, 0xc0};
    origo_mp_reader_init(&rd, inner_bad, sizeof(inner_bad));
    assert_int_equal(origo_mp_read_array(&rd, &count, 1), 0);
    assert_int_equal(rd.depth, 1);
    assert_int_equal(origo_mp_skip(&rd), ORIGO_E_NONCANONICAL);
    assert_int_equal(rd.depth, 1);

    static const uint8_t map_bad[] = {0x91, 0x81, 0x01, 0xc0};
    origo_mp_reader_init(&rd, map_bad, sizeof(map_bad));
    assert_int_equal(origo_mp_read_array(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_skip(&rd), ORIGO_E_TYPE);
    assert_int_equal(rd.depth, 1);

    static const uint8_t map_order[] = {0x91, 0x82, 0xa1, 'b',
                                        0xc0, 0xa1, 'a',  0xc0};
    origo_mp_reader_init(&rd, map_order, sizeof(map_order));
    assert_int_equal(origo_mp_read_array(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_skip(&rd), ORIGO_E_KEY_ORDER);
    assert_int_equal(rd.depth, 1);

    /* A successful skip of nested containers is balanced. */
    static const uint8_t nested[] = {0x91, 0x91, 0x81, 0xa1, 'a', 0x90};
    origo_mp_reader_init(&rd, nested, sizeof(nested));
    assert_int_equal(origo_mp_read_array(&rd, &count, 1), 0);
    assert_int_equal(origo_mp_skip(&rd), 0);
    assert_int_equal(rd.depth, 1);
}

static void keycmp_orders_bytewise_shorter_first(void **state)
{
    (void)state;
    assert_int_equal(origo_mp_keycmp("", 0, "", 0), 0);
    assert_true(origo_mp_keycmp("", 0, "a", 1) < 0);
    assert_true(origo_mp_keycmp("a", 1, "", 0) > 0);
    assert_true(origo_mp_keycmp("a", 1, "aa", 2) < 0);
    assert_true(origo_mp_keycmp("ab", 2, "b", 1) < 0);
    assert_true(origo_mp_keycmp("\xc3\xa9", 2, "z", 1) > 0);
    assert_int_equal(origo_mp_keycmp("abc", 3, "abc", 3), 0);
    assert_true(origo_mp_keycmp("a\0b", 3, "a\0c", 3) < 0);
}

/* ---- randomised canonical values ---- */

/* Random code point whose UTF-8 form needs 1-4 bytes, boundaries often. */
static uint32_t random_code_point(uint64_t *rng, unsigned bytes)
{
    static const uint32_t edges[4][4] = {
        {0x00, 0x01, 0x7e, 0x7f},
        {0x80, 0x81, 0x7fe, 0x7ff},
        {0x800, 0xd7ff, 0xe000, 0xffff},
        {0x10000, 0x10001, 0x10fffe, 0x10ffff},
    };
    static const uint32_t lo[4] = {0, 0x80, 0x800, 0x10000};
    static const uint32_t hi[4] = {0x7f, 0x7ff, 0xffff, 0x10ffff};
    if (rng_below(rng, 4) == 0)
        return edges[bytes - 1][rng_below(rng, 4)];
    uint32_t cp = lo[bytes - 1] +
                  (uint32_t)rng_below(rng, hi[bytes - 1] - lo[bytes - 1] + 1);
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp -= 0x800; /* stay out of the surrogates */
    return cp;
}

static size_t utf8_put(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* Fills `out` with exactly `len` bytes of valid, mixed-width UTF-8. */
static void random_text(uint64_t *rng, uint8_t *out, size_t len)
{
    size_t used = 0;
    while (used < len) {
        unsigned bytes = 1 + (unsigned)rng_below(rng, 4);
        if (bytes > len - used)
            bytes = (unsigned)(len - used);
        used += utf8_put(random_code_point(rng, bytes), out + used);
    }
}

/* A length near a header boundary, or a small one. */
static size_t random_length(uint64_t *rng, int allow_big)
{
    static const size_t edges[] = {0, 1, 15, 16, 31, 32, 33, 255, 256, 257};
    uint64_t pick = rng_below(rng, 100);
    if (pick < 15)
        return edges[rng_below(rng, ARRAY_LEN(edges))];
    if (allow_big && pick == 99)
        return rng_below(rng, 2) ? 65535 : 65536;
    return (size_t)rng_below(rng, 24);
}

static uint64_t random_uint(uint64_t *rng)
{
    static const uint64_t edges[] = {
        0,       0x7f,       0x80,       0xff,           0x100,     0xffff,
        0x10000, UINT32_MAX, 1ull << 32, UINT64_MAX - 1, UINT64_MAX};
    if (rng_below(rng, 3) == 0)
        return edges[rng_below(rng, ARRAY_LEN(edges))];
    return rng_next(rng) >> (rng_below(rng, 64));
}

static int64_t random_negative(uint64_t *rng)
{
    static const int64_t edges[] = {-1,
                                    -32,
                                    -33,
                                    -128,
                                    -129,
                                    -32768,
                                    -32769,
                                    INT32_MIN,
                                    (int64_t)INT32_MIN - 1,
                                    INT64_MIN + 1,
                                    INT64_MIN};
    if (rng_below(rng, 3) == 0)
        return edges[rng_below(rng, ARRAY_LEN(edges))];
    uint64_t magnitude = (rng_next(rng) >> (rng_below(rng, 64))) | 1;
    if (magnitude > (uint64_t)INT64_MAX)
        return INT64_MIN;
    return -(int64_t)magnitude;
}

struct key {
    uint8_t text[32];
    size_t len;
};

static int key_order(const void *a, const void *b)
{
    const struct key *ka = a, *kb = b;
    return origo_mp_keycmp((const char *)ka->text, ka->len,
                           (const char *)kb->text, kb->len);
}

static void random_value(uint64_t *rng, origo_buf *buf, unsigned depth,
                         uint8_t *scratch);

/* A map of distinct random keys in canonical order. */
static void random_map(uint64_t *rng, origo_buf *buf, unsigned depth,
                       uint8_t *scratch)
{
    struct key keys[20];
    size_t want = (size_t)rng_below(rng, depth < 2 ? ARRAY_LEN(keys) + 1 : 5);
    for (size_t i = 0; i < want; i++) {
        keys[i].len = (size_t)rng_below(rng, 8);
        random_text(rng, keys[i].text, keys[i].len);
    }
    qsort(keys, want, sizeof(keys[0]), key_order);
    size_t unique = 0;
    for (size_t i = 0; i < want; i++) {
        if (unique && key_order(&keys[unique - 1], &keys[i]) == 0)
            continue;
        keys[unique++] = keys[i];
    }
    origo_mp_put_map(buf, (uint32_t)unique);
    for (size_t i = 0; i < unique; i++) {
        origo_mp_put_str(buf, (const char *)keys[i].text, keys[i].len);
        random_value(rng, buf, depth + 1, scratch);
    }
}

/* Writes one random canonical value; `depth` counts enclosing containers.
 * `scratch` holds at least 65536 bytes. */
static void random_value(uint64_t *rng, origo_buf *buf, unsigned depth,
                         uint8_t *scratch)
{
    int can_nest = depth < ORIGO_MP_MAX_DEPTH;
    /* Deeper levels prefer scalars so values stay small, but a chain to the
     * full depth still happens now and then. */
    uint64_t kind = rng_below(rng, !can_nest ? 7 : depth < 3 ? 10 : 8);
    if (can_nest && depth >= 3 && rng_below(rng, 4) == 0)
        kind = 8 + rng_below(rng, 2);
    switch (kind) {
    case 0:
        origo_mp_put_nil(buf);
        break;
    case 1:
        origo_mp_put_bool(buf, (int)rng_below(rng, 2));
        break;
    case 2:
        origo_mp_put_uint(buf, random_uint(rng));
        break;
    case 3:
        origo_mp_put_int(buf, random_negative(rng));
        break;
    case 4:
    case 5: {
        size_t len = random_length(rng, depth == 0);
        random_text(rng, scratch, len);
        origo_mp_put_str(buf, (const char *)scratch, len);
        break;
    }
    case 6: {
        size_t len = random_length(rng, depth == 0);
        for (size_t i = 0; i < len; i++)
            scratch[i] = (uint8_t)rng_next(rng);
        origo_mp_put_bin(buf, scratch, len);
        break;
    }
    case 7:
    case 8: {
        uint32_t count = (uint32_t)rng_below(rng, depth < 2 ? 18 : 4);
        origo_mp_put_array(buf, count);
        for (uint32_t i = 0; i < count; i++)
            random_value(rng, buf, depth + 1, scratch);
        break;
    }
    default:
        random_map(rng, buf, depth, scratch);
        break;
    }
}

/* Writes `levels` random containers around a random value, the value at
 * a random position among random siblings, so that values reach the full
 * nesting depth often (plain random trees rarely do). */
static void random_spine(uint64_t *rng, origo_buf *buf, unsigned levels,
                         unsigned depth, uint8_t *scratch)
{
    if (levels == 0) {
        random_value(rng, buf, depth, scratch);
        return;
    }
    if (rng_below(rng, 3) == 0) {
        uint8_t key[8];
        size_t key_len = (size_t)rng_below(rng, sizeof(key));
        random_text(rng, key, key_len);
        origo_mp_put_map(buf, 1);
        origo_mp_put_str(buf, (const char *)key, key_len);
        random_spine(rng, buf, levels - 1, depth + 1, scratch);
        return;
    }
    uint32_t count = 1 + (uint32_t)rng_below(rng, 3);
    uint32_t spine_at = (uint32_t)rng_below(rng, count);
    origo_mp_put_array(buf, count);
    for (uint32_t i = 0; i < count; i++) {
        if (i == spine_at)
            random_spine(rng, buf, levels - 1, depth + 1, scratch);
        else
            random_value(rng, buf, depth + 1, scratch);
    }
}

/* Writes one random top-level value: a plain random tree, or one wrapped
 * in up to ORIGO_MP_MAX_DEPTH containers. */
static void random_top(uint64_t *rng, origo_buf *buf, uint8_t *scratch)
{
    if (rng_below(rng, 3) == 0)
        random_spine(rng, buf, (unsigned)rng_below(rng, ORIGO_MP_MAX_DEPTH + 1),
                     0, scratch);
    else
        random_value(rng, buf, 0, scratch);
}

/* The deepest container nesting in one canonical value. */
static unsigned nesting(origo_mp_reader *rd)
{
    int kind = origo_mp_peek(rd);
    if (kind != ORIGO_MP_ARRAY && kind != ORIGO_MP_MAP) {
        assert_int_equal(origo_mp_skip(rd), 0);
        return 0;
    }
    uint32_t count = 0;
    if (kind == ORIGO_MP_MAP)
        assert_int_equal(origo_mp_read_map(rd, &count, UINT32_MAX), 0);
    else
        assert_int_equal(origo_mp_read_array(rd, &count, UINT32_MAX), 0);
    uint64_t children = kind == ORIGO_MP_MAP ? 2 * (uint64_t)count : count;
    unsigned deepest = 0;
    for (uint64_t i = 0; i < children; i++) {
        unsigned d = nesting(rd);
        deepest = d > deepest ? d : deepest;
    }
    origo_mp_leave(rd);
    return deepest + 1;
}

static void random_values_round_trip(void **state)
{
    (void)state;
    uint64_t rng = test_seed;
    uint8_t *scratch = malloc(65536);
    assert_non_null(scratch);
    origo_buf buf;
    origo_buf_init(&buf, BIG_BUF);
    size_t total = 0;
    unsigned deepest = 0;
    for (int round = 0; round < 3000; round++) {
        origo_buf_reset(&buf);
        random_top(&rng, &buf, scratch);
        assert_int_equal(buf.err, 0);
        total += buf.len;
        /* encode -> validate */
        int rc = origo_mp_validate(buf.data, buf.len);
        if (rc) {
            print_error("round %d: %s\n", round, origo_errname(rc));
            fail();
        }
        /* decode via skip consumes exactly the value */
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        assert_int_equal(origo_mp_skip(&rd), 0);
        assert_int_equal(rd.pos, buf.len);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        /* encode(decode(b)) == b, and the model agrees */
        assert_roundtrip(buf.data, buf.len);
        origo_mp_reader_init(&rd, buf.data, buf.len);
        unsigned depth = nesting(&rd);
        deepest = depth > deepest ? depth : deepest;
    }
    print_message("random round-trip: %zu bytes in 3000 values\n", total);
    /* The generator must reach the full nesting depth to prove it works. */
    assert_int_equal(deepest, ORIGO_MP_MAX_DEPTH);
    origo_buf_close(&buf);
    free(scratch);
}

/* Applies one random mutation to `data` (length *len, capacity cap). */
static void mutate(uint64_t *rng, uint8_t *data, size_t *len, size_t cap)
{
    static const uint8_t interesting[] = {
        0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
        0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xca, 0xcb, 0xcc, 0xcd, 0xce,
        0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd9, 0xda, 0xdb, 0xdc,
        0xdd, 0xde, 0xdf, 0xe0, 0xed, 0xf4, 0xf5, 0xff};
    size_t pos = *len ? (size_t)rng_below(rng, *len) : 0;
    switch (rng_below(rng, 6)) {
    case 0: /* flip one bit */
        if (*len)
            data[pos] ^= (uint8_t)(1u << rng_below(rng, 8));
        break;
    case 1: /* overwrite with an interesting byte */
        if (*len)
            data[pos] = interesting[rng_below(rng, ARRAY_LEN(interesting))];
        break;
    case 2: /* +-1 on a byte (lengths and counts) */
        if (*len)
            data[pos] = (uint8_t)(data[pos] + (rng_below(rng, 2) ? 1 : 255));
        break;
    case 3: /* insert a byte */
        if (*len < cap) {
            memmove(data + pos + 1, data + pos, *len - pos);
            data[pos] =
                rng_below(rng, 2)
                    ? interesting[rng_below(rng, ARRAY_LEN(interesting))]
                    : (uint8_t)rng_next(rng);
            (*len)++;
        }
        break;
    case 4: /* delete a byte */
        if (*len) {
            memmove(data + pos, data + pos + 1, *len - pos - 1);
            (*len)--;
        }
        break;
    default: /* truncate */
        *len = pos;
        break;
    }
}

static int is_codec_error(int rc)
{
    return (rc <= ORIGO_E_TRUNCATED && rc >= ORIGO_E_RESERVED_TYPE) ||
           rc == ORIGO_E_TOOBIG;
}

static void mutated_inputs_accepted_only_when_canonical(void **state)
{
    (void)state;
    uint64_t rng = test_seed ^ UINT64_C(0x5eed);
    uint8_t *scratch = malloc(65536);
    assert_non_null(scratch);
    enum { CAP = 4096 };
    uint8_t *mutant = malloc(CAP);
    assert_non_null(mutant);
    origo_buf base, copy, model;
    origo_buf_init(&base, BIG_BUF);
    origo_buf_init(&copy, BIG_BUF);
    origo_buf_init(&model, BIG_BUF);
    unsigned long accepted = 0, rejected = 0, changed_accepted = 0;
    for (int round = 0; round < 1500; round++) {
        origo_buf_reset(&base);
        random_top(&rng, &base, scratch);
        if (base.len > CAP / 2)
            continue;
        for (int m = 0; m < 40; m++) {
            size_t len = base.len;
            memcpy(mutant, base.data, len);
            unsigned steps = 1 + (unsigned)rng_below(&rng, 3);
            for (unsigned s = 0; s < steps; s++)
                mutate(&rng, mutant, &len, CAP);
            int rc = origo_mp_validate(mutant, len);
            int canonical = model_is_canonical(mutant, len, &model);
            if ((rc == 0) != canonical) {
                char hex[2 * 64 + 1];
                testutil_hex(mutant, len < 64 ? len : 64, hex);
                print_error("round %d: validate %s, model %d on %s\n", round,
                            origo_errname(rc), canonical, hex);
                fail();
            }
            if (rc) {
                assert_true(is_codec_error(rc));
                rejected++;
                continue;
            }
            accepted++;
            if (len != base.len || memcmp(mutant, base.data, len))
                changed_accepted++;
            origo_buf_reset(&copy);
            assert_int_equal(model_copy_all(mutant, len, &copy), 0);
            assert_bytes(copy.data, copy.len, mutant, len);
        }
    }
    print_message("mutation: %lu accepted (%lu changed), %lu rejected\n",
                  accepted, changed_accepted, rejected);
    /* The test must exercise both outcomes to prove anything. */
    assert_true(changed_accepted > 1000);
    assert_true(rejected > 1000);
    origo_buf_close(&base);
    origo_buf_close(&copy);
    origo_buf_close(&model);
    free(mutant);
    free(scratch);
}

/* Checks one input against the model and, if accepted, the copier. */
static void check_short_input(const uint8_t *input, size_t len, origo_buf *copy,
                              origo_buf *model, unsigned long *accepted)
{
    int rc = origo_mp_validate(input, len);
    int canonical = model_is_canonical(input, len, model);
    if ((rc == 0) != canonical) {
        char hex[2 * 8 + 1];
        testutil_hex(input, len, hex);
        print_error("%s: validate %s, model %d\n", hex, origo_errname(rc),
                    canonical);
        fail();
    }
    if (rc) {
        assert_true(is_codec_error(rc));
        return;
    }
    (*accepted)++;
    origo_buf_reset(copy);
    assert_int_equal(model_copy_all(input, len, copy), 0);
    assert_bytes(copy->data, copy->len, input, len);
}

/* Every input of up to two bytes, and every 3-byte input whose last byte is
 * a boundary value or one of a few random ones (all 16M 3-byte inputs take
 * too long under the sanitizers): the validator accepts exactly what the
 * model calls canonical, and accepted inputs copy to themselves. */
static void short_inputs_match_model(void **state)
{
    (void)state;
    static const uint8_t last_bytes[] = {
        0x00, 0x01, 0x05, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7e,
        0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0,
        0xc1, 0xc2, 0xc3, 0xc4, 0xca, 0xcc, 0xd0, 0xd4, 0xd9, 0xdc,
        0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xfe, 0xff};
    uint64_t rng = test_seed ^ UINT64_C(0x3b17e);
    origo_buf copy, model;
    origo_buf_init(&copy, 64);
    origo_buf_init(&model, 64);
    unsigned long accepted = 0, checked = 0;
    uint8_t input[3];
    for (size_t len = 0; len <= 2; len++) {
        for (uint32_t n = 0; n < (1u << (8 * len)); n++) {
            for (size_t i = 0; i < len; i++)
                input[i] = (uint8_t)(n >> (8 * i));
            check_short_input(input, len, &copy, &model, &accepted);
            checked++;
        }
    }
    for (uint32_t n = 0; n < 65536; n++) {
        input[0] = (uint8_t)n;
        input[1] = (uint8_t)(n >> 8);
        for (size_t k = 0; k < ARRAY_LEN(last_bytes) + 6; k++) {
            input[2] = k < ARRAY_LEN(last_bytes) ? last_bytes[k]
                                                 : (uint8_t)rng_next(&rng);
            check_short_input(input, 3, &copy, &model, &accepted);
            checked++;
        }
    }
    print_message("short inputs: %lu of %lu canonical\n", accepted, checked);
    assert_true(accepted > 1000);
    origo_buf_close(&copy);
    origo_buf_close(&model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uint_boundaries_use_shortest_form),
        cmocka_unit_test(int_boundaries_use_shortest_form),
        cmocka_unit_test(nil_and_bool_have_one_form),
        cmocka_unit_test(str_and_bin_lengths_use_shortest_header),
        cmocka_unit_test(array_and_map_counts_use_shortest_header),
        cmocka_unit_test(buffer_limit_latches_toobig),
        cmocka_unit_test(bad_encodings_rejected_with_right_error),
        cmocka_unit_test(nesting_past_max_depth_rejected),
        cmocka_unit_test(read_key_mismatch_is_missing_key),
        cmocka_unit_test(read_bin_exact_wrong_length_is_schema),
        cmocka_unit_test(typed_reads_reject_wrong_kind_and_range),
        cmocka_unit_test(failed_reads_leave_depth_balanced),
        cmocka_unit_test(keycmp_orders_bytewise_shorter_first),
        cmocka_unit_test(random_values_round_trip),
        cmocka_unit_test(mutated_inputs_accepted_only_when_canonical),
        cmocka_unit_test(short_inputs_match_model),
    };
    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
