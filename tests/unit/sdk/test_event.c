/* Events: every type encodes, decodes and re-encodes to the same bytes;
 * lots come out with their roles; each schema rule of docs/formats/event.md
 * rejects a violation with its error code, on the encoder and on the
 * decoder; the worked example of the spec still matches the code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "event_samples.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "testutil.h"

static uint8_t sample_by[32];

static int setup_all(void **state)
{
    (void)state;
    origo_key *key = sample_key();
    if (!key)
        return -1;
    memcpy(sample_by, origo_key_public(key), 32);
    origo_key_free(key);
    return 0;
}

/* Encodes ev into a fresh buffer; returns the code, body in *buf. */
static int encode(const origo_event *ev, origo_buf *buf)
{
    origo_buf_init(buf, 1u << 20);
    return origo_event_encode_body(ev, buf);
}

/* Encodes `ev` (must succeed), then replaces the first occurrence of `from`
 * in the body with `to` (same length) and decodes the result. */
static int decode_patched(const origo_event *ev, const char *from,
                          const char *to)
{
    origo_buf buf;
    assert_int_equal(encode(ev, &buf), 0);
    size_t len = strlen(from);
    assert_int_equal(len, strlen(to));
    uint8_t *hit = memmem(buf.data, buf.len, from, len);
    assert_non_null(hit);
    memcpy(hit, to, len);
    origo_event out;
    int rc = origo_event_decode_body(buf.data, buf.len, &out);
    origo_buf_close(&buf);
    return rc;
}

static int str_is(origo_str s, const char *text)
{
    return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

/* ---- round trips -------------------------------------------------------- */

static void every_type_encodes_decodes_and_reencodes_identically(void **state)
{
    (void)state;
    for (int t = ORIGO_EV_LOT_CREATE; t <= ORIGO_EV_MEMBER_ROTATE; t++) {
        origo_event ev, view;
        sample_event(&ev, (enum origo_event_type)t, sample_by);
        origo_buf first, second;
        int rc = encode(&ev, &first);
        if (rc)
            fail_msg("type %s: encode %s", origo_event_type_name(t),
                     origo_errname(rc));
        rc = origo_event_decode_body(first.data, first.len, &view);
        if (rc)
            fail_msg("type %s: decode %s", origo_event_type_name(t),
                     origo_errname(rc));
        assert_int_equal(view.type, t);
        assert_true(str_is(view.net, SAMPLE_NET));
        assert_memory_equal(view.by, sample_by, 32);
        assert_true(view.ts == ev.ts);
        assert_int_equal(encode(&view, &second), 0);
        assert_int_equal(first.len, second.len);
        assert_memory_equal(first.data, second.data, first.len);
        origo_buf_close(&first);
        origo_buf_close(&second);
    }
}

static void decoded_fields_equal_what_was_encoded(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_INSPECTION, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.stage, ORIGO_STAGE_OQC);
    assert_int_equal(view.result, ORIGO_RESULT_PASS);
    assert_memory_equal(view.report, ev.report, 32);
    assert_int_equal(view.n_measures, 3);
    assert_true(str_is(view.measures[0].name, "hole diameter"));
    assert_true(str_is(view.measures[0].upper, "8.05"));
    assert_true(str_is(view.measures[1].lower, "38"));
    assert_int_equal(view.measures[1].upper.len, 0);
    /* Borrowed pointers point into the decoded buffer. */
    assert_true((const uint8_t *)view.measures[0].name.ptr > buf.data &&
                (const uint8_t *)view.measures[0].name.ptr <
                    buf.data + buf.len);
    origo_buf_close(&buf);

    sample_event(&ev, ORIGO_EV_MEMBER_UPDATE, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_memory_equal(view.member, ev.member, 32);
    assert_true(str_is(view.name, "ACME Steel"));
    assert_int_equal(view.roles, ORIGO_ROLE_SUPPLIER | ORIGO_ROLE_INSPECTOR);
    origo_buf_close(&buf);

    sample_event(&ev, ORIGO_EV_LOT_CREATE, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_docs, 1);
    assert_memory_equal(view.docs[0], ev.docs[0], 32);
    assert_int_equal(view.n_ext, 2);
    assert_true(str_is(view.ext[1].key, "site"));
    assert_true(str_is(view.item, "bolt M8x40 A2-70"));
    origo_buf_close(&buf);
}

static void transform_lots_have_input_and_output_roles(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_LOT_TRANSFORM, sample_by);
    /* Interleave the roles: the wire groups inputs before outputs. */
    origo_lot_ref out = ev.lots[2];
    ev.lots[2] = ev.lots[1];
    ev.lots[1] = out;
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_lots, 3);
    assert_int_equal(view.lots[0].role, ORIGO_LOT_INPUT);
    assert_true(str_is(view.lots[0].lot, SAMPLE_LOT_COIL));
    assert_true(str_is(view.lots[0].qty, "2.5"));
    assert_true(str_is(view.lots[0].unit, "TNE"));
    assert_int_equal(view.lots[1].role, ORIGO_LOT_INPUT);
    assert_true(str_is(view.lots[1].lot, SAMPLE_LOT_DL));
    assert_int_equal(view.lots[2].role, ORIGO_LOT_OUTPUT);
    assert_true(str_is(view.lots[2].lot, SAMPLE_LOT_BRACKET));
    origo_buf_close(&buf);
}

static void custody_and_quality_lots_are_subjects(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_CUSTODY_SHIP, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_lots, 2);
    for (size_t i = 0; i < view.n_lots; i++) {
        assert_int_equal(view.lots[i].role, ORIGO_LOT_SUBJECT);
        assert_int_equal(view.lots[i].qty.len, 0);
    }
    assert_true(str_is(view.lots[1].lot, SAMPLE_LOT_LGTIN));
    origo_buf_close(&buf);
}

static void epcis_lots_come_from_its_lists(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_EPCIS, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    /* epcList: the DL item URI names lot ABC123 (serial stripped), the
     * SGTIN names no lot; quantityList: the LGTIN. */
    assert_int_equal(view.n_lots, 2);
    assert_int_equal(view.lots[0].role, ORIGO_LOT_SUBJECT);
    assert_true(str_is(view.lots[0].lot, SAMPLE_LOT_DL));
    assert_int_equal(view.lots[1].role, ORIGO_LOT_SUBJECT);
    assert_true(str_is(view.lots[1].lot, SAMPLE_LOT_LGTIN));
    origo_buf_close(&buf);

    ev.epcis = origo_str_c(SAMPLE_EPCIS_TRANSFORM);
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_lots, 3);
    assert_int_equal(view.lots[0].role, ORIGO_LOT_INPUT);
    assert_true(str_is(view.lots[0].lot, SAMPLE_LOT_COIL));
    assert_int_equal(view.lots[1].role, ORIGO_LOT_INPUT);
    assert_true(str_is(view.lots[1].lot, SAMPLE_LOT_DL));
    assert_int_equal(view.lots[2].role, ORIGO_LOT_OUTPUT);
    assert_true(str_is(view.lots[2].lot, SAMPLE_LOT_BRACKET));
    origo_buf_close(&buf);

    /* origo_event_validate() derives the same lots for a producer. */
    origo_event mine;
    sample_event(&mine, ORIGO_EV_EPCIS, sample_by);
    assert_int_equal(origo_event_validate(&mine), 0);
    assert_int_equal(mine.n_lots, 2);
}

static void epcis_parent_and_children_are_subjects(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_EPCIS, sample_by);
    ev.epcis = origo_str_c(
        "{\"action\":\"ADD\",\"childEPCs\":[\"ACME/steel-coil/C-7781\"],"
        "\"childQuantityList\":[{\"epcClass\":\"ORIGO/bracket/B-2026-0042\"}"
        "],\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"parentID\":"
        "\"urn:epc:id:sscc:4012345.0000000001\",\"type\":"
        "\"AggregationEvent\"}");
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_lots, 2);
    assert_true(str_is(view.lots[0].lot, SAMPLE_LOT_COIL));
    assert_true(str_is(view.lots[1].lot, SAMPLE_LOT_BRACKET));
    origo_buf_close(&buf);
}

/* Checking an epcis event's JSON allocates nothing, so a validator short
 * of memory can never reach another verdict than its peers: with every
 * allocation of the process failing, decoding and validation still give
 * the same answer (the texts include a real with many digits, escapes and
 * non-ASCII). */
static void epcis_check_allocates_nothing(void **state)
{
    (void)state;
    if (!testutil_alloc_available())
        skip(); /* AddressSanitizer owns the allocator */
    static const char *const texts[] = {
        SAMPLE_EPCIS_OBJECT,
        SAMPLE_EPCIS_TRANSFORM,
        "{\"action\":\"ADD\",\"childEPCs\":[\"ACME/steel-coil/C-7781\"],"
        "\"childQuantityList\":[{\"epcClass\":\"ORIGO/bracket/B-2026-0042\","
        "\"quantity\":2.50000000000000000001}],\"eventTime\":"
        "\"2026-01-01T00:00:00.000Z\",\"note\":\"\xc3\xa9t\xc3\xa9 \\\"q\\\"\","
        "\"parentID\":\"urn:epc:id:sscc:4012345.0000000001\",\"readPoint\":"
        "{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"},\"type\":"
        "\"AggregationEvent\"}",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        origo_event ev, view;
        origo_buf buf;
        sample_event(&ev, ORIGO_EV_EPCIS, sample_by);
        ev.epcis = origo_str_c(texts[t]);
        assert_int_equal(encode(&ev, &buf), 0);
        testutil_alloc_budget(0);
        int decoded = origo_event_decode_body(buf.data, buf.len, &view);
        int validated = origo_event_validate(&ev);
        testutil_alloc_budget(-1);
        assert_int_equal(decoded, 0);
        assert_int_equal(validated, 0);
        assert_true(view.n_lots > 0);
        assert_int_equal(view.n_lots, ev.n_lots);
        origo_buf_close(&buf);
    }
}

/* The memory-failure classification never excuses a malformed text: errors
 * next to strings, in key and value position, stay schema errors. */
static void epcis_syntax_errors_near_strings_stay_schema(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"eventTime\":\"x\" \"type\":\"ObjectEvent\"}",
        "{\"eventTime\" \"x\",\"type\":\"ObjectEvent\"}",
        "{\"eventTime\":\"x\",\"type\":\"ObjectEvent\",}",
        "{\"eventTime\":\"x\",1:\"ObjectEvent\"}",
        "{\"eventTime\":\"x\",\"type\":\"Object\\qEvent\"}",
        "{\"eventTime\":\"x\",\"type\":[\"a\" \"b\"]}",
        "{\"eventTime\":\"x\",\"type\":\"ObjectEvent\"}\"",
        "{\"eventTime\":\"x\",\"type\":\"Obj\x01\"}",
        "{\"eventTime\":\"x\",\"type\":\"Obj\xff\"}",
        "{\"eventTime\":\"x\",\"type\":\"\\u0000\"}",
        "{\"eventTime\":\"x\",\"type\":tru}",
        "\"ObjectEvent\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        origo_event ev;
        sample_event(&ev, ORIGO_EV_EPCIS, sample_by);
        ev.epcis = origo_str_c(bad[i]);
        int rc = origo_event_validate(&ev);
        if (rc != ORIGO_E_SCHEMA)
            fail_msg("text %zu: %s, expected ORIGO_E_SCHEMA", i,
                     origo_strerror(rc));
    }
}

static void event_id_is_sha256_of_body(void **state)
{
    (void)state;
    origo_event ev;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_COA_ATTEST, sample_by);
    assert_int_equal(encode(&ev, &buf), 0);
    uint8_t id[32], want[32];
    origo_event_id(buf.data, buf.len, id);
    crypto_hash_sha256(want, buf.data, buf.len);
    assert_memory_equal(id, want, 32);
    origo_buf_close(&buf);
}

static void type_names_round_trip(void **state)
{
    (void)state;
    for (int t = ORIGO_EV_LOT_CREATE; t <= ORIGO_EV_MEMBER_ROTATE; t++) {
        const char *name = origo_event_type_name(t);
        enum origo_event_type back;
        assert_int_equal(origo_event_type_parse(name, strlen(name), &back), 0);
        assert_int_equal(back, t);
    }
    enum origo_event_type back;
    assert_int_equal(origo_event_type_parse("lot.Create", 10, &back),
                     ORIGO_E_EVENT_TYPE);
    assert_null(origo_event_type_name(0));
    assert_null(origo_event_type_name(ORIGO_EV_MEMBER_ROTATE + 1));
}

/* ---- lot identifiers and decimals --------------------------------------- */

static void lot_identifier_syntax(void **state)
{
    (void)state;
    static const struct {
        const char *lot;
        int kind; /* 0 = invalid */
    } cases[] = {
        {"urn:epc:class:lgtin:4012345.012345.L2026-001", ORIGO_LOTID_LGTIN},
        {"urn:epc:class:lgtin:401234567890.0.A%2FB", ORIGO_LOTID_LGTIN},
        {"urn:epc:class:lgtin:4012345.01234.L1", 0},    /* 12 digits */
        {"urn:epc:class:lgtin:40123.01234567.L1", 0},   /* prefix < 6 */
        {"urn:epc:class:lgtin:4012345.012345.", 0},     /* empty lot */
        {"urn:epc:class:lgtin:4012345.012345.A/B", 0},  /* raw '/' */
        {"urn:epc:class:lgtin:4012345.012345.A%2f", 0}, /* lower-case hex */
        {"urn:epc:class:lgtin:4012345.012345.123456789012345678901", 0},
        {"https://id.gs1.org/01/09506000134352/10/ABC123",
         ORIGO_LOTID_DIGITAL_LINK},
        {"https://example.com:8443/dl/01/09506000134352/22/V2/10/A-1",
         ORIGO_LOTID_DIGITAL_LINK},
        {"https://id.gs1.org/01/09506000134353/10/ABC123", 0}, /* check */
        {"https://id.gs1.org/01/9506000134352/10/ABC123", 0},  /* 13 */
        {"https://id.gs1.org/01/09506000134352/10/ABC123?x=1", 0},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/", 0},
        {"https://ID.gs1.org/01/09506000134352/10/ABC123", 0}, /* host */
        {"http://id.gs1.org/01/09506000134352/10/ABC123", 0},
        {"https://id.gs1.org/01/09506000134352/21/ABC123", 0},
        {"ACME/steel-coil/C-7781", ORIGO_LOTID_PARTY},
        {"ACME/steel-coil", 0},
        {"ACME/steel coil/C-7781", 0},
        {"ACME//C-7781", 0},
        {"ACME/../C-7781", 0},
        {"ACME/a/b/c", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum origo_lot_kind kind = 0;
        int rc = origo_lot_check(cases[i].lot, strlen(cases[i].lot), &kind);
        if (cases[i].kind) {
            if (rc != 0)
                fail_msg("rejected valid lot %s", cases[i].lot);
            assert_int_equal(kind, cases[i].kind);
        } else if (rc != ORIGO_E_LOT) {
            fail_msg("accepted invalid lot %s", cases[i].lot);
        }
    }
    char long_lot[ORIGO_LOT_MAX + 2];
    memset(long_lot, 'a', sizeof(long_lot));
    long_lot[4] = '/';
    long_lot[8] = '/';
    assert_int_equal(origo_lot_check(long_lot, ORIGO_LOT_MAX + 1, NULL),
                     ORIGO_E_LOT);
}

/* Writes v / 10^scale as a canonical decimal (the test's oracle: exact
 * integer arithmetic). */
static void scaled(long long v, int scale, char *out, size_t size)
{
    char raw[24], digits[48];
    int neg = v < 0;
    unsigned long long m = neg ? (unsigned long long)-v : (unsigned long long)v;
    snprintf(raw, sizeof(raw), "%llu", m);
    size_t pad =
        strlen(raw) <= (size_t)scale ? (size_t)scale + 1 - strlen(raw) : 0;
    memset(digits, '0', pad);
    memcpy(digits + pad, raw, strlen(raw) + 1);
    size_t len = strlen(digits), int_len = len - (size_t)scale;
    size_t frac_end = len;
    while (frac_end > int_len && digits[frac_end - 1] == '0')
        frac_end--;
    snprintf(out, size, "%s%.*s%s%.*s", neg && m ? "-" : "", (int)int_len,
             digits, frac_end > int_len ? "." : "", (int)(frac_end - int_len),
             digits + int_len);
}

/* Decimal sums and differences computed on digits agree with exact integer
 * arithmetic, and stay canonical; a result past 40 characters is TOOBIG. */
static void decimal_add_and_subtract_exactly(void **state)
{
    (void)state;
    uint64_t r = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < 20000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        int scale = (int)(r % 7);
        long long a = (long long)((r >> 8) % 2000000000001ull) - 1000000000000;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        long long b = (long long)((r >> 8) % 2000000000001ull) - 1000000000000;
        int subtract = (int)(r & 1);
        char as[48], bs[48], want[48], got[ORIGO_DECIMAL_MAX + 1];
        size_t got_len;
        scaled(a, scale, as, sizeof(as));
        scaled(b, scale, bs, sizeof(bs));
        scaled(subtract ? a - b : a + b, scale, want, sizeof(want));
        assert_int_equal(origo_decimal_add(as, strlen(as), bs, strlen(bs),
                                           subtract, got, sizeof(got),
                                           &got_len),
                         0);
        if (strcmp(got, want) != 0)
            fail_msg("%s %c %s = %s, expected %s", as, subtract ? '-' : '+', bs,
                     got, want);
        assert_int_equal(got_len, strlen(want));
        assert_int_equal(origo_decimal_check(got, got_len, 1), 0);
    }
    char out[ORIGO_DECIMAL_MAX + 1];
    size_t len;
    const char *big = "9999999999999999999999999999999999999999"; /* 40 */
    assert_int_equal(
        origo_decimal_add(big, 40, "1", 1, 0, out, sizeof(out), &len),
        ORIGO_E_TOOBIG);
    assert_int_equal(
        origo_decimal_add("0.1", 3, "0.2", 3, 0, out, sizeof(out), &len), 0);
    assert_string_equal(out, "0.3");
    assert_int_equal(
        origo_decimal_add("1.5", 3, "1.5", 3, 1, out, sizeof(out), &len), 0);
    assert_string_equal(out, "0");
    assert_int_equal(
        origo_decimal_add("1.0", 3, "1", 1, 0, out, sizeof(out), &len),
        ORIGO_E_INVAL);
}

/* A member event with namespaces encodes them after roles and decodes to
 * the same list; without them the key is absent (an empty array never
 * appears on the wire). */
static void member_owns_round_trip(void **state)
{
    (void)state;
    origo_event ev, view;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_MEMBER_ADD, sample_by);
    ev.n_owns = 2;
    ev.owns[0] = origo_str_c("gs1:4012345");
    ev.owns[1] = origo_str_c("party:acme");
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_owns, 2);
    assert_int_equal(view.owns[1].len, 10);
    assert_memory_equal(view.owns[1].ptr, "party:acme", 10);
    origo_buf again;
    assert_int_equal(encode(&view, &again), 0);
    assert_int_equal(again.len, buf.len);
    assert_memory_equal(again.data, buf.data, buf.len);
    origo_buf_close(&again);
    origo_buf_close(&buf);
    ev.n_owns = 0;
    assert_int_equal(encode(&ev, &buf), 0);
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_owns, 0);
    origo_buf_close(&buf);
}

static void decimal_syntax_and_order(void **state)
{
    (void)state;
    static const char *const good_qty[] = {"1", "0.5", "1200", "2.25",
                                           "10.000001"};
    static const char *const bad_qty[] = {"0",   "01", "1.50", "1.",
                                          ".5",  "-1", "1e3",  "+1",
                                          "1,5", " 1", "0.0",  ""};
    for (size_t i = 0; i < sizeof(good_qty) / sizeof(good_qty[0]); i++)
        assert_int_equal(
            origo_decimal_check(good_qty[i], strlen(good_qty[i]), 0), 0);
    for (size_t i = 0; i < sizeof(bad_qty) / sizeof(bad_qty[0]); i++) {
        if (origo_decimal_check(bad_qty[i], strlen(bad_qty[i]), 0) !=
            ORIGO_E_SCHEMA)
            fail_msg("accepted quantity '%s'", bad_qty[i]);
    }
    assert_int_equal(origo_decimal_check("0", 1, 1), 0);
    assert_int_equal(origo_decimal_check("-0.25", 5, 1), 0);
    assert_int_equal(origo_decimal_check("-0", 2, 1), ORIGO_E_SCHEMA);
    assert_int_equal(origo_decimal_check("--1", 3, 1), ORIGO_E_SCHEMA);
    char long_num[ORIGO_DECIMAL_MAX + 1];
    memset(long_num, '9', sizeof(long_num));
    assert_int_equal(origo_decimal_check(long_num, ORIGO_DECIMAL_MAX, 0), 0);
    assert_int_equal(origo_decimal_check(long_num, ORIGO_DECIMAL_MAX + 1, 0),
                     ORIGO_E_SCHEMA);
    assert_true(origo_decimal_cmp("7.95", 4, "8.05", 4) < 0);
    assert_true(origo_decimal_cmp("10", 2, "9.99", 4) > 0);
    assert_true(origo_decimal_cmp("-2", 2, "-1.5", 4) < 0);
    assert_true(origo_decimal_cmp("-1", 2, "0", 1) < 0);
    assert_true(origo_decimal_cmp("1.5", 3, "1.5", 3) == 0);
    assert_true(origo_decimal_cmp("1.05", 4, "1.5", 3) < 0);
}

/* ---- schema rules: one test each ---------------------------------------- */

/* Defines a test that takes the valid sample of TYPE, applies MUTATE (a
 * statement over `ev`) and requires encode to fail with CODE. */
#define RULE(name, type, code, mutate)                                         \
    static void name(void **state)                                             \
    {                                                                          \
        (void)state;                                                           \
        origo_event ev;                                                        \
        sample_event(&ev, type, sample_by);                                    \
        mutate;                                                                \
        origo_buf buf;                                                         \
        int rc = encode(&ev, &buf);                                            \
        origo_buf_close(&buf);                                                 \
        if (rc != (code))                                                      \
            fail_msg("expected %s, got %s", origo_errname(code),               \
                     origo_errname(rc));                                       \
    }

static char long_text[ORIGO_EPCIS_MAX + 2];
static const uint8_t small_order_point[32] = {1}; /* the identity */

RULE(rule_type_must_be_known, ORIGO_EV_LOT_CREATE, ORIGO_E_EVENT_TYPE,
     ev.type = 99)
RULE(rule_net_must_not_be_empty, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.net = origo_str_c(""))
RULE(rule_net_is_printable_ascii_without_space, ORIGO_EV_LOT_CREATE,
     ORIGO_E_SCHEMA, ev.net = origo_str_c("origo example"))
RULE(rule_net_at_most_255_bytes, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     (ev.net.ptr = long_text, ev.net.len = ORIGO_NET_MAX + 1))
RULE(rule_ts_not_zero, ORIGO_EV_LOT_CREATE, ORIGO_E_TIMESTAMP, ev.ts = 0)
RULE(rule_ts_before_year_10000, ORIGO_EV_LOT_CREATE, ORIGO_E_TIMESTAMP,
     ev.ts = ORIGO_TS_MAX + 1)
RULE(rule_lot_syntax_checked, ORIGO_EV_LOT_CREATE, ORIGO_E_LOT,
     ev.lots[0].lot = origo_str_c("not a lot"))
RULE(rule_lot_at_most_256_bytes, ORIGO_EV_QUALITY_HOLD, ORIGO_E_LOT,
     (ev.lots[0].lot.ptr = long_text, ev.lots[0].lot.len = ORIGO_LOT_MAX + 1))
RULE(rule_create_has_exactly_one_lot, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     sample_lot(&ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_COIL, "1", "EA"))
RULE(rule_create_lot_is_subject, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.lots[0].role = ORIGO_LOT_OUTPUT)
RULE(rule_quantity_is_positive, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.lots[0].qty = origo_str_c("0"))
RULE(rule_quantity_is_canonical_decimal, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.lots[0].qty = origo_str_c("1200.0"))
RULE(rule_quantity_has_no_exponent, ORIGO_EV_LOT_TRANSFORM, ORIGO_E_SCHEMA,
     ev.lots[1].qty = origo_str_c("4e1"))
RULE(rule_unit_required, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.lots[0].unit = origo_str_c(""))
RULE(rule_unit_has_no_space, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.lots[0].unit = origo_str_c("k g"))
RULE(rule_unit_at_most_32_bytes, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     (ev.lots[0].unit.ptr = long_text,
      ev.lots[0].unit.len = ORIGO_UNIT_MAX + 1))
RULE(rule_create_item_required, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.item = origo_str_c(""))
RULE(rule_text_has_no_control_characters, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     ev.item = origo_str_c("bolt\tM8"))
RULE(rule_text_is_valid_utf8, ORIGO_EV_COA_ATTEST, ORIGO_E_SCHEMA,
     ev.issuer = origo_str_c("ACME \xc3\x28"))
RULE(rule_text_has_no_overlong_utf8, ORIGO_EV_COA_ATTEST, ORIGO_E_SCHEMA,
     ev.issuer = origo_str_c("ACME \xc0\xaf"))
RULE(rule_text_at_most_128_bytes, ORIGO_EV_COA_ATTEST, ORIGO_E_SCHEMA,
     (ev.issuer.ptr = long_text, ev.issuer.len = ORIGO_TEXT_MAX + 1))
RULE(rule_transform_needs_an_output, ORIGO_EV_LOT_TRANSFORM, ORIGO_E_SCHEMA,
     ev.n_lots = 2)
RULE(rule_transform_needs_an_input, ORIGO_EV_LOT_TRANSFORM, ORIGO_E_SCHEMA,
     (ev.lots[0] = ev.lots[2], ev.n_lots = 1))
RULE(rule_transform_roles_are_input_or_output, ORIGO_EV_LOT_TRANSFORM,
     ORIGO_E_SCHEMA, ev.lots[0].role = ORIGO_LOT_SUBJECT)
RULE(rule_transform_lot_not_both_input_and_output, ORIGO_EV_LOT_TRANSFORM,
     ORIGO_E_SCHEMA, ev.lots[2].lot = ev.lots[0].lot)
RULE(rule_transform_quantities_required, ORIGO_EV_LOT_TRANSFORM, ORIGO_E_SCHEMA,
     ev.lots[2].qty = origo_str_c(""))
RULE(rule_at_most_128_lots, ORIGO_EV_QUALITY_RECALL, ORIGO_E_TOOBIG,
     ev.n_lots = ORIGO_EVENT_MAX_LOTS + 1)
RULE(rule_inspection_stage_known, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.stage = ORIGO_STAGE_LAB + 1)
RULE(rule_inspection_result_known, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.result = 0)
RULE(rule_inspection_has_one_lot, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     sample_lot(&ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_COIL, NULL, NULL))
RULE(rule_inspection_lot_has_no_quantity, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.lots[0].qty = origo_str_c("1"))
RULE(rule_measure_value_is_decimal, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[0].value = origo_str_c("8,02"))
RULE(rule_measure_value_not_negative_zero, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[2].value = origo_str_c("-0"))
RULE(rule_measure_lower_not_above_upper, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[0].lower = origo_str_c("8.06"))
RULE(rule_measure_limit_is_decimal, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[1].lower = origo_str_c("38.0"))
RULE(rule_measure_names_distinct, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[1].name = ev.measures[0].name)
RULE(rule_measure_unit_required, ORIGO_EV_INSPECTION, ORIGO_E_SCHEMA,
     ev.measures[1].unit = origo_str_c(""))
RULE(rule_at_most_64_measures, ORIGO_EV_INSPECTION, ORIGO_E_TOOBIG,
     ev.n_measures = ORIGO_EVENT_MAX_MEASURE + 1)
RULE(rule_coa_issuer_required, ORIGO_EV_COA_ATTEST, ORIGO_E_SCHEMA,
     ev.issuer = origo_str_c(""))
RULE(rule_custody_lots_distinct, ORIGO_EV_CUSTODY_SHIP, ORIGO_E_SCHEMA,
     ev.lots[1] = ev.lots[0])
RULE(rule_custody_needs_a_lot, ORIGO_EV_CUSTODY_RECEIVE, ORIGO_E_SCHEMA,
     ev.n_lots = 0)
RULE(rule_custody_from_required, ORIGO_EV_CUSTODY_SHIP, ORIGO_E_SCHEMA,
     ev.from = origo_str_c(""))
RULE(rule_custody_ref_required, ORIGO_EV_CUSTODY_SHIP, ORIGO_E_SCHEMA,
     ev.ref = origo_str_c(""))
RULE(rule_custody_lots_have_no_quantity, ORIGO_EV_CUSTODY_SHIP, ORIGO_E_SCHEMA,
     ev.lots[0].unit = origo_str_c("EA"))
RULE(rule_quality_reason_required, ORIGO_EV_QUALITY_HOLD, ORIGO_E_SCHEMA,
     ev.reason = origo_str_c(""))
RULE(rule_quality_reason_at_most_1024_bytes, ORIGO_EV_QUALITY_RELEASE,
     ORIGO_E_SCHEMA,
     (ev.reason.ptr = long_text, ev.reason.len = ORIGO_REASON_MAX + 1))
RULE(rule_member_key_is_a_valid_point, ORIGO_EV_MEMBER_ADD, ORIGO_E_KEY,
     memcpy(ev.member, small_order_point, 32))
RULE(rule_member_remove_key_is_a_valid_point, ORIGO_EV_MEMBER_REMOVE,
     ORIGO_E_KEY, memcpy(ev.member, small_order_point, 32))
RULE(rule_member_needs_a_role, ORIGO_EV_MEMBER_ADD, ORIGO_E_SCHEMA,
     ev.roles = 0)
RULE(rule_member_roles_known, ORIGO_EV_MEMBER_UPDATE, ORIGO_E_SCHEMA,
     ev.roles |= 1u << 7)
RULE(rule_member_name_required, ORIGO_EV_MEMBER_ADD, ORIGO_E_SCHEMA,
     ev.name = origo_str_c(""))
RULE(rule_member_remove_carries_no_name, ORIGO_EV_MEMBER_REMOVE, ORIGO_E_SCHEMA,
     ev.name = origo_str_c("ACME"))
RULE(rule_member_owns_valid_namespaces, ORIGO_EV_MEMBER_ADD, ORIGO_E_SCHEMA,
     (ev.n_owns = 1, ev.owns[0] = origo_str_c("acme")))
RULE(rule_member_owns_gs1_prefix_of_6_to_12_digits, ORIGO_EV_MEMBER_UPDATE,
     ORIGO_E_SCHEMA, (ev.n_owns = 1, ev.owns[0] = origo_str_c("gs1:12345")))
RULE(rule_member_owns_sorted_and_distinct, ORIGO_EV_MEMBER_ADD, ORIGO_E_SCHEMA,
     (ev.n_owns = 2, ev.owns[0] = origo_str_c("party:b"),
      ev.owns[1] = origo_str_c("party:a")))
RULE(rule_member_owns_at_most_16, ORIGO_EV_MEMBER_ADD, ORIGO_E_TOOBIG,
     ev.n_owns = ORIGO_EVENT_MAX_OWNS + 1)
RULE(rule_member_remove_owns_nothing, ORIGO_EV_MEMBER_REMOVE, ORIGO_E_SCHEMA,
     (ev.n_owns = 1, ev.owns[0] = origo_str_c("party:acme")))
RULE(rule_unused_fields_must_be_empty, ORIGO_EV_CUSTODY_SHIP, ORIGO_E_SCHEMA,
     ev.item = origo_str_c("bolt"))
RULE(rule_unused_hash_must_be_zero, ORIGO_EV_QUALITY_HOLD, ORIGO_E_SCHEMA,
     ev.coa[5] = 1)
RULE(rule_docs_distinct, ORIGO_EV_COA_ATTEST, ORIGO_E_SCHEMA,
     (memcpy(ev.docs[1], ev.docs[0], 32), ev.n_docs = 2))
RULE(rule_at_most_16_docs, ORIGO_EV_COA_ATTEST, ORIGO_E_TOOBIG,
     ev.n_docs = ORIGO_EVENT_MAX_DOCS + 1)
RULE(rule_ext_keys_increasing, ORIGO_EV_LOT_CREATE, ORIGO_E_KEY_ORDER,
     (ev.ext[0].key = origo_str_c("zone")))
RULE(rule_ext_keys_distinct, ORIGO_EV_LOT_CREATE, ORIGO_E_DUPLICATE_KEY,
     (ev.ext[0].key = origo_str_c("site")))
RULE(rule_ext_key_not_empty, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     (ev.ext[0].key = origo_str_c("")))
RULE(rule_ext_key_at_most_64_bytes, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     (ev.ext[1].key.ptr = long_text, ev.ext[1].key.len = ORIGO_EXT_KEY_MAX + 1))
RULE(rule_ext_value_at_most_1024_bytes, ORIGO_EV_LOT_CREATE, ORIGO_E_SCHEMA,
     (ev.ext[1].value.ptr = long_text,
      ev.ext[1].value.len = ORIGO_EXT_VALUE_MAX + 1))
RULE(rule_at_most_16_ext_entries, ORIGO_EV_LOT_CREATE, ORIGO_E_TOOBIG,
     ev.n_ext = ORIGO_EVENT_MAX_EXT + 1)
RULE(rule_epcis_text_required, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c(""))
RULE(rule_epcis_at_most_64_kib, ORIGO_EV_EPCIS, ORIGO_E_TOOBIG,
     (ev.epcis.ptr = long_text, ev.epcis.len = ORIGO_EPCIS_MAX + 1))
RULE(rule_epcis_is_json, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"type\":"))
RULE(rule_epcis_is_compact, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"eventTime\":\"2026-01-01T00:00:00Z\", "
                            "\"type\":\"ObjectEvent\"}"))
RULE(rule_epcis_keys_sorted, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"type\":\"ObjectEvent\","
                            "\"eventTime\":\"2026-01-01T00:00:00Z\"}"))
RULE(rule_epcis_strings_unescaped_where_possible, ORIGO_EV_EPCIS,
     ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"eventTime\":\"2026-01-01T00:00:00Z\","
                            "\"type\":\"Object\\u0045vent\"}"))
RULE(rule_epcis_keys_unique, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"eventTime\":\"2026-01-01T00:00:00Z\","
                            "\"type\":\"ObjectEvent\","
                            "\"type\":\"ObjectEvent\"}"))
RULE(rule_epcis_is_an_object, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("[1,2]"))
RULE(rule_epcis_type_known, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"eventTime\":\"2026-01-01T00:00:00Z\","
                            "\"type\":\"FooEvent\"}"))
RULE(rule_epcis_event_time_required, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"type\":\"ObjectEvent\"}"))
RULE(rule_epcis_lists_hold_strings, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c("{\"epcList\":[1],\"eventTime\":"
                            "\"2026-01-01T00:00:00Z\",\"type\":"
                            "\"ObjectEvent\"}"))
RULE(rule_epcis_lot_not_both_input_and_output, ORIGO_EV_EPCIS, ORIGO_E_SCHEMA,
     ev.epcis = origo_str_c(
         "{\"eventTime\":\"2026-01-01T00:00:00Z\",\"inputEPCList\":["
         "\"ACME/coil/C1\"],\"outputEPCList\":[\"ACME/coil/C1\"],\"type\":"
         "\"TransformationEvent\"}"))

/* ---- decoder-only rules ------------------------------------------------- */

/* Writes the common head of a body with `fields` entries in total. */
static void put_head(origo_buf *buf, uint32_t fields, uint64_t version,
                     const char *type)
{
    origo_mp_put_map(buf, fields);
    origo_mp_put_cstr(buf, "v");
    origo_mp_put_uint(buf, version);
    origo_mp_put_cstr(buf, "net");
    origo_mp_put_cstr(buf, SAMPLE_NET);
    origo_mp_put_cstr(buf, "type");
    origo_mp_put_cstr(buf, type);
    origo_mp_put_cstr(buf, "by");
    origo_mp_put_bin(buf, sample_by, 32);
    origo_mp_put_cstr(buf, "ts");
    origo_mp_put_uint(buf, SAMPLE_TS);
}

static void put_hold_fields(origo_buf *buf)
{
    origo_mp_put_cstr(buf, "lots");
    origo_mp_put_array(buf, 1);
    origo_mp_put_cstr(buf, SAMPLE_LOT_COIL);
    origo_mp_put_cstr(buf, "reason");
    origo_mp_put_cstr(buf, "rust");
}

/* Starts a quality.hold body of `fields` entries in total with its own
 * fields written; a test appends what it wants to break. */
static void start_hold(origo_buf *buf, uint32_t fields, uint64_t version,
                       const char *type)
{
    origo_buf_init(buf, 4096);
    put_head(buf, fields, version, type);
    put_hold_fields(buf);
}

static int decode_buf(origo_buf *buf)
{
    assert_int_equal(buf->err, 0);
    origo_event view;
    int rc = origo_event_decode_body(buf->data, buf->len, &view);
    origo_buf_close(buf);
    return rc;
}

static void decode_hand_built_valid_body(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 7, 1, "quality.hold");
    assert_int_equal(decode_buf(&buf), 0);
}

static void decode_rejects_other_version(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 7, 2, "quality.hold");
    assert_int_equal(decode_buf(&buf), ORIGO_E_VERSION);
}

static void decode_rejects_unknown_type(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 7, 1, "quality.pause");
    assert_int_equal(decode_buf(&buf), ORIGO_E_EVENT_TYPE);
}

static void decode_rejects_keys_out_of_order(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    put_head(&buf, 7, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "reason");
    origo_mp_put_cstr(&buf, "rust");
    origo_mp_put_cstr(&buf, "lots");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_cstr(&buf, SAMPLE_LOT_COIL);
    assert_int_equal(decode_buf(&buf), ORIGO_E_KEY_ORDER);
}

static void decode_rejects_missing_key(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    put_head(&buf, 6, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "reason");
    origo_mp_put_cstr(&buf, "rust");
    assert_int_equal(decode_buf(&buf), ORIGO_E_MISSING_KEY);
    /* The map ends before a required key. */
    origo_buf_init(&buf, 4096);
    put_head(&buf, 6, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "lots");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_cstr(&buf, SAMPLE_LOT_COIL);
    assert_int_equal(decode_buf(&buf), ORIGO_E_MISSING_KEY);
}

static void decode_rejects_duplicate_key(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 8, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "reason");
    origo_mp_put_cstr(&buf, "rust");
    assert_int_equal(decode_buf(&buf), ORIGO_E_DUPLICATE_KEY);
}

static void decode_rejects_unknown_key(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 8, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "zzz");
    origo_mp_put_cstr(&buf, "x");
    assert_int_equal(decode_buf(&buf), ORIGO_E_UNKNOWN_KEY);
}

static void decode_rejects_field_of_other_type(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 8, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "issuer");
    origo_mp_put_cstr(&buf, "x");
    assert_int_equal(decode_buf(&buf), ORIGO_E_UNKNOWN_KEY);
}

static void decode_rejects_trailing_bytes(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 7, 1, "quality.hold");
    origo_mp_put_nil(&buf);
    assert_int_equal(decode_buf(&buf), ORIGO_E_TRAILING);
}

static void decode_rejects_empty_doc_array(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 8, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "doc");
    origo_mp_put_array(&buf, 0);
    assert_int_equal(decode_buf(&buf), ORIGO_E_SCHEMA);
}

static void decode_rejects_empty_ext_map(void **state)
{
    (void)state;
    origo_buf buf;
    start_hold(&buf, 8, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "ext");
    origo_mp_put_map(&buf, 0);
    assert_int_equal(decode_buf(&buf), ORIGO_E_SCHEMA);
}

static void decode_rejects_doc_after_ext(void **state)
{
    (void)state;
    origo_buf buf;
    uint8_t hash[32] = {0};
    start_hold(&buf, 9, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "ext");
    origo_mp_put_map(&buf, 1);
    origo_mp_put_cstr(&buf, "a");
    origo_mp_put_cstr(&buf, "b");
    origo_mp_put_cstr(&buf, "doc");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_bin(&buf, hash, 32);
    assert_int_equal(decode_buf(&buf), ORIGO_E_KEY_ORDER);
}

static void decode_rejects_short_submitter_key(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    origo_mp_put_map(&buf, 7);
    origo_mp_put_cstr(&buf, "v");
    origo_mp_put_uint(&buf, 1);
    origo_mp_put_cstr(&buf, "net");
    origo_mp_put_cstr(&buf, SAMPLE_NET);
    origo_mp_put_cstr(&buf, "type");
    origo_mp_put_cstr(&buf, "quality.hold");
    origo_mp_put_cstr(&buf, "by");
    origo_mp_put_bin(&buf, sample_by, 31);
    origo_mp_put_cstr(&buf, "ts");
    origo_mp_put_uint(&buf, SAMPLE_TS);
    put_hold_fields(&buf);
    assert_int_equal(decode_buf(&buf), ORIGO_E_SCHEMA);
}

static void decode_rejects_ts_as_string(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    origo_mp_put_map(&buf, 7);
    origo_mp_put_cstr(&buf, "v");
    origo_mp_put_uint(&buf, 1);
    origo_mp_put_cstr(&buf, "net");
    origo_mp_put_cstr(&buf, SAMPLE_NET);
    origo_mp_put_cstr(&buf, "type");
    origo_mp_put_cstr(&buf, "quality.hold");
    origo_mp_put_cstr(&buf, "by");
    origo_mp_put_bin(&buf, sample_by, 32);
    origo_mp_put_cstr(&buf, "ts");
    origo_mp_put_cstr(&buf, "1767225600000");
    put_hold_fields(&buf);
    assert_int_equal(decode_buf(&buf), ORIGO_E_TYPE);
}

static void decode_rejects_non_minimal_timestamp(void **state)
{
    (void)state;
    origo_event ev;
    origo_buf buf;
    sample_event(&ev, ORIGO_EV_QUALITY_HOLD, sample_by);
    ev.ts = 100; /* encoded as one byte: 0x64 */
    assert_int_equal(encode(&ev, &buf), 0);
    /* Re-spell "ts" 100 as uint16 0xcd 0x00 0x64. */
    uint8_t *ts = memmem(buf.data, buf.len, "\xa2ts\x64", 4);
    assert_non_null(ts);
    size_t at = (size_t)(ts - buf.data) + 3;
    uint8_t patched[4096];
    memcpy(patched, buf.data, at);
    patched[at] = 0xcd;
    patched[at + 1] = 0x00;
    patched[at + 2] = 0x64;
    memcpy(patched + at + 3, buf.data + at + 1, buf.len - at - 1);
    origo_event view;
    assert_int_equal(origo_event_decode_body(patched, buf.len + 2, &view),
                     ORIGO_E_NONCANONICAL);
    origo_buf_close(&buf);
}

static void decode_rejects_unknown_or_unordered_roles(void **state)
{
    (void)state;
    origo_event ev;
    sample_event(&ev, ORIGO_EV_MEMBER_UPDATE, sample_by);
    /* An unknown role name. */
    assert_int_equal(decode_patched(&ev, "inspector", "inspectrx"),
                     ORIGO_E_SCHEMA);
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    uint8_t member[32];
    sample_member_pub(member);
    put_head(&buf, 8, 1, "member.add");
    origo_mp_put_cstr(&buf, "member");
    origo_mp_put_bin(&buf, member, 32);
    origo_mp_put_cstr(&buf, "name");
    origo_mp_put_cstr(&buf, "ACME");
    origo_mp_put_cstr(&buf, "roles");
    origo_mp_put_array(&buf, 2);
    origo_mp_put_cstr(&buf, "supplier");
    origo_mp_put_cstr(&buf, "inspector");
    assert_int_equal(decode_buf(&buf), ORIGO_E_SCHEMA);
}

static void decode_rejects_measure_keys_out_of_order(void **state)
{
    (void)state;
    uint8_t report[32] = {0};
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    put_head(&buf, 10, 1, "inspection");
    origo_mp_put_cstr(&buf, "lot");
    origo_mp_put_cstr(&buf, SAMPLE_LOT_COIL);
    origo_mp_put_cstr(&buf, "stage");
    origo_mp_put_cstr(&buf, "IQC");
    origo_mp_put_cstr(&buf, "result");
    origo_mp_put_cstr(&buf, "fail");
    origo_mp_put_cstr(&buf, "report");
    origo_mp_put_bin(&buf, report, 32);
    origo_mp_put_cstr(&buf, "measurements");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_map(&buf, 3);
    origo_mp_put_cstr(&buf, "name");
    origo_mp_put_cstr(&buf, "width");
    origo_mp_put_cstr(&buf, "unit");
    origo_mp_put_cstr(&buf, "mm");
    origo_mp_put_cstr(&buf, "value");
    origo_mp_put_cstr(&buf, "3");
    assert_int_equal(decode_buf(&buf), ORIGO_E_KEY_ORDER);
}

static void decode_rejects_unknown_key_in_lot_quantity(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    put_head(&buf, 7, 1, "lot.transform");
    origo_mp_put_cstr(&buf, "inputs");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_map(&buf, 4);
    origo_mp_put_cstr(&buf, "lot");
    origo_mp_put_cstr(&buf, SAMPLE_LOT_COIL);
    origo_mp_put_cstr(&buf, "qty");
    origo_mp_put_cstr(&buf, "1");
    origo_mp_put_cstr(&buf, "unit");
    origo_mp_put_cstr(&buf, "KGM");
    origo_mp_put_cstr(&buf, "note");
    origo_mp_put_cstr(&buf, "x");
    origo_mp_put_cstr(&buf, "outputs");
    origo_mp_put_array(&buf, 0);
    assert_int_equal(decode_buf(&buf), ORIGO_E_UNKNOWN_KEY);
}

static void decode_rejects_lot_as_bin(void **state)
{
    (void)state;
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    put_head(&buf, 7, 1, "quality.hold");
    origo_mp_put_cstr(&buf, "lots");
    origo_mp_put_array(&buf, 1);
    origo_mp_put_bin(&buf, (const uint8_t *)SAMPLE_LOT_COIL,
                     strlen(SAMPLE_LOT_COIL));
    origo_mp_put_cstr(&buf, "reason");
    origo_mp_put_cstr(&buf, "rust");
    assert_int_equal(decode_buf(&buf), ORIGO_E_TYPE);
}

static void decode_applies_schema_to_lots(void **state)
{
    (void)state;
    origo_event ev;
    sample_event(&ev, ORIGO_EV_CUSTODY_SHIP, sample_by);
    assert_int_equal(decode_patched(&ev, "B-2026-0042", "B 2026-0042"),
                     ORIGO_E_LOT);
    sample_event(&ev, ORIGO_EV_LOT_TRANSFORM, sample_by);
    assert_int_equal(decode_patched(&ev, "5000", "0500"), ORIGO_E_SCHEMA);
    sample_event(&ev, ORIGO_EV_INSPECTION, sample_by);
    assert_int_equal(decode_patched(&ev, "OQC", "XQC"), ORIGO_E_SCHEMA);
    assert_int_equal(decode_patched(&ev, "8.05", "7.90"), ORIGO_E_SCHEMA);
    sample_event(&ev, ORIGO_EV_EPCIS, sample_by);
    assert_int_equal(decode_patched(&ev, "\"action\"", "\"zction\""),
                     ORIGO_E_SCHEMA);
}

static void decode_rejects_empty_measure_limit(void **state)
{
    (void)state;
    origo_event ev;
    sample_event(&ev, ORIGO_EV_INSPECTION, sample_by);
    ev.n_measures = 1;
    ev.measures[0].upper = origo_str_c("");
    origo_buf buf;
    assert_int_equal(encode(&ev, &buf), 0);
    /* The measure map (array of one fixmap of 4: 0x91 0x84) is the body's
     * last value: grow it to 5 and append "upper": "". */
    uint8_t patched[4096];
    uint8_t *m = memmem(buf.data, buf.len, "\x91\x84\xa4name", 7);
    assert_non_null(m);
    memcpy(patched, buf.data, buf.len);
    patched[m - buf.data + 1] = 0x85;
    memcpy(patched + buf.len, "\xa5upper\xa0", 7);
    origo_event view;
    assert_int_equal(origo_event_decode_body(patched, buf.len + 7, &view),
                     ORIGO_E_SCHEMA);
    origo_buf_close(&buf);
}

static void decode_rejects_oversized_body(void **state)
{
    (void)state;
    size_t len = ORIGO_EVENT_BODY_MAX + 1;
    uint8_t *big = calloc(1, len);
    assert_non_null(big);
    origo_event view;
    assert_int_equal(origo_event_decode_body(big, len, &view), ORIGO_E_TOOBIG);
    free(big);
}

static void decode_leaves_output_untouched_on_error(void **state)
{
    (void)state;
    origo_event view;
    memset(&view, 0xa5, sizeof(view));
    uint8_t junk[3] = {0x81, 0xa1, 'v'};
    assert_int_not_equal(origo_event_decode_body(junk, 3, &view), 0);
    uint8_t *bytes = (uint8_t *)&view;
    for (size_t i = 0; i < sizeof(view); i++)
        assert_int_equal(bytes[i], 0xa5);
}

static void reason_may_span_lines(void **state)
{
    (void)state;
    origo_event ev;
    sample_event(&ev, ORIGO_EV_QUALITY_RECALL, sample_by);
    origo_buf buf;
    assert_int_equal(encode(&ev, &buf), 0); /* the sample holds a '\n' */
    origo_buf_close(&buf);
}

static void long_lots_and_ext_fit_the_body_limit(void **state)
{
    (void)state;
    /* 128 custody lots of 192 bytes and 16 ext values of 1 KiB: near the
     * largest custody event, still inside ORIGO_EVENT_BODY_MAX. */
    static char lots[ORIGO_EVENT_MAX_LOTS][ORIGO_LOT_MAX];
    static char keys[ORIGO_EVENT_MAX_EXT][8];
    origo_event ev;
    sample_event(&ev, ORIGO_EV_CUSTODY_SHIP, sample_by);
    ev.n_lots = 0;
    for (int i = 0; i < ORIGO_EVENT_MAX_LOTS; i++) {
        snprintf(lots[i], sizeof(lots[i]), "%063d/%063d/", i, i);
        memset(lots[i] + 128, 'b', 64);
        sample_lot(&ev, ORIGO_LOT_SUBJECT, NULL, NULL, NULL);
        ev.lots[i].lot.ptr = lots[i];
        ev.lots[i].lot.len = 192;
    }
    for (int i = 0; i < ORIGO_EVENT_MAX_EXT; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%02d", i);
        ev.ext[i].key = origo_str_c(keys[i]);
        ev.ext[i].value.ptr = long_text;
        ev.ext[i].value.len = ORIGO_EXT_VALUE_MAX;
    }
    ev.n_ext = ORIGO_EVENT_MAX_EXT;
    origo_buf buf;
    assert_int_equal(encode(&ev, &buf), 0);
    assert_true(buf.len > 40000 && buf.len <= ORIGO_EVENT_BODY_MAX);
    origo_event view;
    assert_int_equal(origo_event_decode_body(buf.data, buf.len, &view), 0);
    assert_int_equal(view.n_lots, ORIGO_EVENT_MAX_LOTS);
    origo_buf_close(&buf);
}

/* ---- the worked example of docs/formats/event.md ------------------------ */

static char *json_str(json_t *root, const char *key)
{
    json_t *value = json_object_get(root, key);
    assert_true(json_is_string(value));
    return (char *)json_string_value(value);
}

static void spec_example_matches_code_and_doc(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("event-example.json");
    origo_key *key = sample_key();
    assert_non_null(key);
    /* The generator's bytes are still what the vector file holds. */
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(sample_envelope(ORIGO_EV_LOT_CREATE, key, &env), 0);
    char *hex = malloc(2 * env.len + 1);
    assert_non_null(hex);
    testutil_hex(env.data, env.len, hex);
    assert_string_equal(hex, json_str(vec, "envelope_hex"));
    /* ... whose ID, body and signature are as stated ... */
    origo_envelope dec;
    assert_int_equal(origo_envelope_decode(env.data, env.len, &dec), 0);
    uint8_t id[32];
    origo_event_id(dec.body, dec.body_len, id);
    char id_hex[65];
    testutil_hex(id, 32, id_hex);
    assert_string_equal(id_hex, json_str(vec, "event_id_hex"));
    char *body_hex = malloc(2 * dec.body_len + 1);
    assert_non_null(body_hex);
    testutil_hex(dec.body, dec.body_len, body_hex);
    assert_string_equal(body_hex, json_str(vec, "body_hex"));
    char pub_hex[65];
    origo_pubkey_to_hex(origo_key_public(key), pub_hex);
    assert_string_equal(pub_hex, json_str(vec, "public_key_hex"));
    uint8_t got_id[32];
    assert_int_equal(origo_envelope_verify(env.data, env.len, SAMPLE_NET,
                                           strlen(SAMPLE_NET), NULL, got_id),
                     0);
    /* ... and the spec shows the same hex (whitespace aside). */
    size_t doc_len;
    char path[1024];
    snprintf(path, sizeof(path), "%s/../../docs/formats/event.md",
             ORIGO_TEST_VECTORS);
    char *doc = (char *)testutil_read_file(path, &doc_len);
    assert_non_null(doc);
    size_t out = 0;
    for (size_t i = 0; i < doc_len; i++) {
        if (doc[i] != ' ' && doc[i] != '\n')
            doc[out++] = doc[i];
    }
    doc[out] = '\0';
    assert_non_null(strstr(doc, hex));
    assert_non_null(strstr(doc, id_hex));
    free(doc);
    free(body_hex);
    free(hex);
    origo_buf_close(&env);
    origo_key_free(key);
    json_decref(vec);
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    memset(long_text, 'a', sizeof(long_text) - 1);
    /* Before any jansson call, so every jansson block comes from it. */
    const struct CMUnitTest tests[] = {
        T(every_type_encodes_decodes_and_reencodes_identically),
        T(decoded_fields_equal_what_was_encoded),
        T(transform_lots_have_input_and_output_roles),
        T(custody_and_quality_lots_are_subjects),
        T(epcis_lots_come_from_its_lists),
        T(epcis_parent_and_children_are_subjects),
        T(epcis_check_allocates_nothing),
        T(epcis_syntax_errors_near_strings_stay_schema),
        T(event_id_is_sha256_of_body),
        T(type_names_round_trip),
        T(lot_identifier_syntax),
        T(decimal_syntax_and_order),
        T(decimal_add_and_subtract_exactly),
        T(rule_type_must_be_known),
        T(rule_net_must_not_be_empty),
        T(rule_net_is_printable_ascii_without_space),
        T(rule_net_at_most_255_bytes),
        T(rule_ts_not_zero),
        T(rule_ts_before_year_10000),
        T(rule_lot_syntax_checked),
        T(rule_lot_at_most_256_bytes),
        T(rule_create_has_exactly_one_lot),
        T(rule_create_lot_is_subject),
        T(rule_quantity_is_positive),
        T(rule_quantity_is_canonical_decimal),
        T(rule_quantity_has_no_exponent),
        T(rule_unit_required),
        T(rule_unit_has_no_space),
        T(rule_unit_at_most_32_bytes),
        T(rule_create_item_required),
        T(rule_text_has_no_control_characters),
        T(rule_text_is_valid_utf8),
        T(rule_text_has_no_overlong_utf8),
        T(rule_text_at_most_128_bytes),
        T(rule_transform_needs_an_output),
        T(rule_transform_needs_an_input),
        T(rule_transform_roles_are_input_or_output),
        T(rule_transform_lot_not_both_input_and_output),
        T(rule_transform_quantities_required),
        T(rule_at_most_128_lots),
        T(rule_inspection_stage_known),
        T(rule_inspection_result_known),
        T(rule_inspection_has_one_lot),
        T(rule_inspection_lot_has_no_quantity),
        T(rule_measure_value_is_decimal),
        T(rule_measure_value_not_negative_zero),
        T(rule_measure_lower_not_above_upper),
        T(rule_measure_limit_is_decimal),
        T(rule_measure_names_distinct),
        T(rule_measure_unit_required),
        T(rule_at_most_64_measures),
        T(rule_coa_issuer_required),
        T(rule_custody_lots_distinct),
        T(rule_custody_needs_a_lot),
        T(rule_custody_from_required),
        T(rule_custody_ref_required),
        T(rule_custody_lots_have_no_quantity),
        T(rule_quality_reason_required),
        T(rule_quality_reason_at_most_1024_bytes),
        T(rule_member_key_is_a_valid_point),
        T(rule_member_remove_key_is_a_valid_point),
        T(rule_member_needs_a_role),
        T(rule_member_roles_known),
        T(rule_member_name_required),
        T(rule_member_remove_carries_no_name),
        T(rule_member_owns_valid_namespaces),
        T(rule_member_owns_gs1_prefix_of_6_to_12_digits),
        T(rule_member_owns_sorted_and_distinct),
        T(rule_member_owns_at_most_16),
        T(rule_member_remove_owns_nothing),
        T(member_owns_round_trip),
        T(rule_unused_fields_must_be_empty),
        T(rule_unused_hash_must_be_zero),
        T(rule_docs_distinct),
        T(rule_at_most_16_docs),
        T(rule_ext_keys_increasing),
        T(rule_ext_keys_distinct),
        T(rule_ext_key_not_empty),
        T(rule_ext_key_at_most_64_bytes),
        T(rule_ext_value_at_most_1024_bytes),
        T(rule_at_most_16_ext_entries),
        T(rule_epcis_text_required),
        T(rule_epcis_at_most_64_kib),
        T(rule_epcis_is_json),
        T(rule_epcis_is_compact),
        T(rule_epcis_keys_sorted),
        T(rule_epcis_strings_unescaped_where_possible),
        T(rule_epcis_keys_unique),
        T(rule_epcis_is_an_object),
        T(rule_epcis_type_known),
        T(rule_epcis_event_time_required),
        T(rule_epcis_lists_hold_strings),
        T(rule_epcis_lot_not_both_input_and_output),
        T(decode_hand_built_valid_body),
        T(decode_rejects_other_version),
        T(decode_rejects_unknown_type),
        T(decode_rejects_keys_out_of_order),
        T(decode_rejects_missing_key),
        T(decode_rejects_duplicate_key),
        T(decode_rejects_unknown_key),
        T(decode_rejects_field_of_other_type),
        T(decode_rejects_trailing_bytes),
        T(decode_rejects_empty_doc_array),
        T(decode_rejects_empty_ext_map),
        T(decode_rejects_doc_after_ext),
        T(decode_rejects_short_submitter_key),
        T(decode_rejects_ts_as_string),
        T(decode_rejects_non_minimal_timestamp),
        T(decode_rejects_unknown_or_unordered_roles),
        T(decode_rejects_measure_keys_out_of_order),
        T(decode_rejects_unknown_key_in_lot_quantity),
        T(decode_rejects_lot_as_bin),
        T(decode_applies_schema_to_lots),
        T(decode_rejects_empty_measure_limit),
        T(decode_rejects_oversized_body),
        T(decode_leaves_output_untouched_on_error),
        T(reason_may_span_lines),
        T(long_lots_and_ext_fit_the_body_limit),
        T(spec_example_matches_code_and_doc),
    };
    return cmocka_run_group_tests(tests, setup_all, NULL);
}
