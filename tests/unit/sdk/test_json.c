/* Canonical JSON (docs/formats/event.md, "Canonical JSON"): the checker
 * accepts exactly the canonical form, the importer writes it, the reader
 * reads it, and origo_epc_lot() decides which lot an EPC names. The RFC
 * 8785 member-order example is reproduced; random documents check that the
 * checker and the importer agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "origo/error.h"
#include "origo/event.h"
#include "origo/json.h"

static int check(const char *text)
{
    return origo_json_check(text, strlen(text), NULL);
}

static void canonical_texts_are_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}",
        "[]",
        "\"\"",
        "0",
        "-1.5",
        "123456789012345678901234567890",
        "0.000000000000000000000000000000000001",
        "true",
        "false",
        "null",
        "{\"a\":[1,{\"b\":null}],\"b\":\"x\"}",
        "\"\\u001f\\u0001\\b\\t\\n\\f\\r\\\"\\\\\"",
        "\"\xc3\xa9/\x7f\xe2\x80\xa8\xf0\x9f\x98\x80\"",
        "{\"\":1,\"a\":2,\"aa\":3,\"b\":4}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (check(good[i]) != 0)
            fail_msg("refused: %s", good[i]);
    }
}

static void non_canonical_texts_are_refused_where_they_fail(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t at; /* offset of the first fault */
    } bad[] = {
        {" {}", 0},
        {"{} ", 2},
        {"{\"a\": 1}", 5},
        {"{\"b\":1,\"a\":2}", 7},
        {"{\"a\":1,\"a\":2}", 7},
        {"1.0", 0},
        {"1.50", 0},
        {"1e3", 1},
        {"1E3", 1},
        {"01", 0},
        {"-0", 0},
        {"+1", 0},
        {".5", 0},
        {"1.", 0},
        {"12345678901234567890123456789012345678901", 0},
        {"\"\\/\"", 1},
        {"\"\\u00e9\"", 1},
        {"\"\\u001F\"", 1},
        {"\"\\u000a\"", 1},
        {"\"\\u0000\"", 1},
        {"\"\\x\"", 1},
        {"\"\x01\"", 1},
        {"\"\xc3\"", 1},
        {"\"\xc0\xaf\"", 1},
        {"\"\xed\xa0\x80\"", 1},
        {"\"\xf4\x90\x80\x80\"", 1},
        {"\"abc", 4},
        {"tru", 0},
        {"nul", 0},
        {"[1,]", 3},
        {"{\"a\":1,}", 7},
        {"{,}", 1},
        {"[1 2]", 2},
        {"\xef\xbb\xbf{}", 0},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         32},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t at = 9999;
        int rc = origo_json_check(bad[i].text, strlen(bad[i].text), &at);
        if (rc != ORIGO_E_SCHEMA)
            fail_msg("accepted: %s", bad[i].text);
        if (at != bad[i].at)
            fail_msg("%s: fault reported at %zu, expected %zu", bad[i].text, at,
                     bad[i].at);
    }
}

static char *canon(const char *text, char *err, size_t err_size, int *rc)
{
    origo_buf out;
    origo_buf_init(&out, 1 << 20);
    *rc = origo_json_canonicalize(text, strlen(text), &out, err, err_size);
    if (*rc) {
        origo_buf_close(&out);
        return NULL;
    }
    origo_buf_append(&out, "", 1);
    size_t len;
    return (char *)origo_buf_steal(&out, &len);
}

static void expect_canon(const char *in, const char *want)
{
    char err[200] = "";
    int rc;
    char *got = canon(in, err, sizeof(err), &rc);
    if (!got)
        fail_msg("%s: refused: %s", in, err);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got %s, expected %s", in, got, want);
    if (check(got) != 0)
        fail_msg("%s: output %s is not canonical", in, got);
    free(got);
}

static void expect_refused(const char *in, const char *message)
{
    char err[200] = "";
    int rc;
    char *got = canon(in, err, sizeof(err), &rc);
    if (got)
        fail_msg("%s: accepted as %s", in, got);
    assert_int_equal(rc, ORIGO_E_SCHEMA);
    if (!strstr(err, message))
        fail_msg("%s: message \"%s\" lacks \"%s\"", in, err, message);
}

/* RFC 8785, section 3.2.3: members are sorted by their UTF-16 code units,
 * so U+1F600 (D83D DE00) sorts before U+FB33 although its code point is
 * larger, and the checker holds texts to the same order. */
static void members_sort_by_utf16_code_units_as_in_rfc8785(void **state)
{
    (void)state;
    expect_canon("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"\\r\": \"Carriage "
                 "Return\",\n  \"\\ufb33\": \"Hebrew Letter Dalet With "
                 "Dagesh\",\n  \"1\": \"One\",\n  \"\\ud83d\\ude00\": "
                 "\"Emoji: Grinning Face\",\n  \"\\u0080\": \"Control\",\n "
                 " \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n}",
                 "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":"
                 "\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
                 "Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98"
                 "\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew "
                 "Letter Dalet With Dagesh\"}");
    /* Bytewise (code point) order would put U+FB33 first: refused. */
    assert_int_equal(check("{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x80\":2}"),
                     ORIGO_E_SCHEMA);
    assert_int_equal(check("{\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":1}"), 0);
}

/* Numbers keep their decimal value, computed on the digits: no double
 * ever holds them, so 0.1 stays 0.1 and 2^53 + 1 stays exact. */
static void numbers_become_plain_decimals_without_floating_point(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"1E3", "1000"},
        {"1e+3", "1000"},
        {"1.50", "1.5"},
        {"-0", "0"},
        {"-0.0e5", "0"},
        {"0e-99999999999", "0"},
        {"1e-7", "0.0000001"},
        {"12.34e1", "123.4"},
        {"0.10", "0.1"},
        {"0.1", "0.1"},
        {"0.10000000000000001", "0.10000000000000001"},
        {"100e-2", "1"},
        {"5E+2", "500"},
        {"-12.5e-1", "-1.25"},
        {"9007199254740993", "9007199254740993"},
        {"[1.0,2.00e0,-3]", "[1,2,-3]"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        expect_canon(pairs[i][0], pairs[i][1]);
    expect_refused("1e40", "at most 40 characters");
    expect_refused("1e999999999999999", "at most 40 characters");
    expect_refused("0.1e-45", "at most 40 characters");
    expect_refused("01", "unexpected text");
    expect_refused("1.", "after the decimal point");
    expect_refused("1e", "exponent");
    expect_refused("-", "expected a digit");
}

static void strings_get_the_canonical_escapes(void **state)
{
    (void)state;
    expect_canon("\"\\u00e9\\/\\u001F\\u000A\\ud83d\\ude00\\\"\"",
                 "\"\xc3\xa9/\\u001f\\n\xf0\x9f\x98\x80\\\"\"");
    expect_canon("\"\\u007f\\u2028\"", "\"\x7f\xe2\x80\xa8\"");
    expect_refused("\"\\ud83d\"", "without its low surrogate");
    expect_refused("\"\\ude00\"", "lone low surrogate");
    expect_refused("\"\\u0000\"", "U+0000");
    expect_refused("\"\\q\"", "unknown escape");
    expect_refused("\"\x01\"", "control character");
    expect_refused("\"\xff\"", "invalid UTF-8");
}

static void structure_errors_name_line_and_column(void **state)
{
    (void)state;
    expect_canon(" { \"b\" : [ 1 , 2 ] ,\r\n\t\"a\" : { } } ",
                 "{\"a\":{},\"b\":[1,2]}");
    expect_refused("{\"a\":1,\n \"\\u0061\":2}", "line 1, column 1");
    expect_refused("{\"a\":1,\n \"\\u0061\":2}", "names member \"a\" twice");
    expect_refused("{\"a\":1\n ,}", "line 2, column 3");
    expect_refused("[1,\n2 3]", "line 2, column 3");
    expect_refused("{} {}", "unexpected text after");
    expect_refused("", "found the end");
    char deep[80];
    memset(deep, '[', 33);
    deep[33] = '\0';
    expect_refused(deep, "deeper than 32");
}

/* ---- random documents: checker and importer agree ---------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void put(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n < cap) {
        memcpy(buf + *len, s, n);
        *len += n;
        buf[*len] = 0;
    }
}

static void gen_string(char *buf, size_t *len, size_t cap)
{
    static const char *const pieces[] = {
        "a",
        "b",
        "Z",
        "\\\"",
        "\\\\",
        "\\/",
        "\\n",
        "\\u0001",
        "\\u00e9",
        "\xc3\xa9",
        "\\ud83d\\ude00",
        " ",
        "\\t",
        "\xe2\x82\xac",
        "\xef\xac\xb3",
        "1",
        "\x7f",
    };
    put(buf, len, cap, "\"");
    for (uint32_t n = next() % 4; n > 0; n--)
        put(buf, len, cap, pieces[next() % (sizeof(pieces) / sizeof(*pieces))]);
    put(buf, len, cap, "\"");
}

static void gen_value(char *buf, size_t *len, size_t cap, int depth)
{
    static const char *const scalars[] = {
        "0",    "-0",    "1",    "12.50", "1e2", "-3.25E-1", "0.1",
        "true", "false", "null", "7",     "100", "2.0",      "1e-3",
    };
    uint32_t kind = depth > 3 ? next() % 2 : next() % 4;
    const char *ws = next() % 3 == 0 ? " " : "";
    put(buf, len, cap, ws);
    if (kind == 0) {
        put(buf, len, cap,
            scalars[next() % (sizeof(scalars) / sizeof(*scalars))]);
    } else if (kind == 1) {
        gen_string(buf, len, cap);
    } else if (kind == 2) {
        put(buf, len, cap, "[");
        for (uint32_t n = next() % 4, i = 0; i < n; i++) {
            if (i)
                put(buf, len, cap, ",");
            gen_value(buf, len, cap, depth + 1);
        }
        put(buf, len, cap, "]");
    } else {
        put(buf, len, cap, "{");
        for (uint32_t n = next() % 4, i = 0; i < n; i++) {
            if (i)
                put(buf, len, cap, ",");
            gen_string(buf, len, cap);
            put(buf, len, cap, ":");
            gen_value(buf, len, cap, depth + 1);
        }
        put(buf, len, cap, "}");
    }
    put(buf, len, cap, ws);
}

/* For random documents (some with duplicate names, which the importer
 * refuses): the importer's output is canonical and a fixed point; and for
 * every single-byte change of that output, the checker accepts it exactly
 * when the importer gives it back unchanged. */
static void checker_and_importer_agree_on_random_documents(void **state)
{
    (void)state;
    size_t imported = 0, mutants_accepted = 0;
    for (int doc = 0; doc < 3000; doc++) {
        char text[4096] = "";
        size_t len = 0;
        gen_value(text, &len, sizeof(text), 0);
        char err[200];
        int rc;
        char *once = canon(text, err, sizeof(err), &rc);
        if (!once) {
            assert_int_equal(rc, ORIGO_E_SCHEMA);
            continue;
        }
        imported++;
        assert_int_equal(check(once), 0);
        char *twice = canon(once, err, sizeof(err), &rc);
        assert_non_null(twice);
        assert_string_equal(once, twice);
        free(twice);
        size_t once_len = strlen(once);
        static const char bytes[] = " \"\\,:{}[]01e.-aZ\x01\xc3";
        for (int m = 0; m < 8 && once_len > 0; m++) {
            char mutant[4096];
            memcpy(mutant, once, once_len + 1);
            mutant[next() % once_len] = bytes[next() % (sizeof(bytes) - 1)];
            int canonical = check(mutant) == 0;
            char *back = canon(mutant, err, sizeof(err), &rc);
            int fixed = back && strcmp(back, mutant) == 0;
            if (canonical != fixed)
                fail_msg("checker says %d, importer says %d: %s", canonical,
                         fixed, mutant);
            mutants_accepted += (size_t)canonical;
            free(back);
        }
        free(once);
    }
    assert_true(imported > 1000);
    assert_true(mutants_accepted > 100);
}

/* ---- the reader --------------------------------------------------------- */

static void reader_finds_members_items_and_strings(void **state)
{
    (void)state;
    const char *text = "{\"a\":[1,\"x\\\"y\",{\"k\":\"v\"}],\"b\":\"plain\","
                       "\"c\":{\"a\":2}}";
    assert_int_equal(check(text), 0);
    origo_str doc = origo_str_c(text), value, item, content;
    assert_int_equal(origo_json_member(doc, "b", &value), 1);
    assert_int_equal(origo_json_string(value, &content), 1);
    assert_int_equal(content.len, 5);
    assert_memory_equal(content.ptr, "plain", 5);
    assert_int_equal(origo_json_member(doc, "zz", &value), 0);
    assert_int_equal(origo_json_member(doc, "c", &value), 1);
    assert_int_equal(value.len, 7);
    assert_int_equal(origo_json_member(doc, "a", &value), 1);
    size_t cursor = 0, count = 0;
    const char *const items[] = {"1", "\"x\\\"y\"", "{\"k\":\"v\"}"};
    while (origo_json_next(value, &cursor, &item)) {
        assert_true(count < 3);
        assert_int_equal(item.len, strlen(items[count]));
        assert_memory_equal(item.ptr, items[count], item.len);
        count++;
    }
    assert_int_equal(count, 3);
    /* A string with an escape is not read as plain content. */
    cursor = 0;
    origo_json_next(value, &cursor, &item);
    origo_json_next(value, &cursor, &item);
    assert_int_equal(origo_json_string(item, &content), 0);
    assert_int_equal(origo_json_next(origo_str_c("[]"), &(size_t){0}, &item),
                     0);
}

/* ---- which lot an EPC names -------------------------------------------- */

static void epc_lot_names_a_lot_or_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *epc;
        const char *lot; /* NULL: names no lot */
    } cases[] = {
        {"acme/cell/L1", "acme/cell/L1"},
        {"urn:epc:class:lgtin:4012345.012345.L2026-001",
         "urn:epc:class:lgtin:4012345.012345.L2026-001"},
        {"https://id.gs1.org/01/09506000134352/10/ABC123",
         "https://id.gs1.org/01/09506000134352/10/ABC123"},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/0001",
         "https://id.gs1.org/01/09506000134352/10/ABC123"},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/A%2FB",
         "https://id.gs1.org/01/09506000134352/10/ABC123"},
        /* Not a lot: */
        {"acme/x/C2/21/7", NULL},
        {"https://id.gs1.org/01/09506000134352/21/0001", NULL},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/", NULL},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/a b", NULL},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/"
         "123456789012345678901",
         NULL},
        {"https://id.gs1.org/01/09506000134352/10/ABC123/21/1/21/2", NULL},
        {"urn:epc:id:sgtin:4012345.012345.1", NULL},
        {"urn:epc:id:sscc:4012345.0000000001", NULL},
        {"urn:epc:idpat:sgtin:4012345.012345.*", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = 0;
        int rc = origo_epc_lot(cases[i].epc, strlen(cases[i].epc), &len);
        if (cases[i].lot == NULL) {
            if (rc != ORIGO_E_LOT)
                fail_msg("%s names a lot", cases[i].epc);
            continue;
        }
        if (rc != 0)
            fail_msg("%s names no lot", cases[i].epc);
        assert_int_equal(len, strlen(cases[i].lot));
        assert_memory_equal(cases[i].epc, cases[i].lot, len);
    }
}

static void cbv_codes_match_in_all_three_spellings(void **state)
{
    (void)state;
    assert_true(
        origo_cbv_is(origo_str_c("shipping"), ORIGO_CBV_BIZSTEP, "shipping"));
    assert_true(origo_cbv_is(origo_str_c("urn:epcglobal:cbv:bizstep:shipping"),
                             ORIGO_CBV_BIZSTEP, "shipping"));
    assert_true(
        origo_cbv_is(origo_str_c("https://ref.gs1.org/cbv/BizStep-shipping"),
                     ORIGO_CBV_BIZSTEP, "shipping"));
    assert_true(origo_cbv_is(origo_str_c("urn:epcglobal:cbv:disp:recalled"),
                             ORIGO_CBV_DISPOSITION, "recalled"));
    assert_true(origo_cbv_is(origo_str_c("urn:epcglobal:cbv:sdt:owning_party"),
                             ORIGO_CBV_SOURCE_DEST_TYPE, "owning_party"));
    /* Another vocabulary's prefix, another case, a suffix: no. */
    assert_false(origo_cbv_is(origo_str_c("urn:epcglobal:cbv:disp:shipping"),
                              ORIGO_CBV_BIZSTEP, "shipping"));
    assert_false(
        origo_cbv_is(origo_str_c("Shipping"), ORIGO_CBV_BIZSTEP, "shipping"));
    assert_false(
        origo_cbv_is(origo_str_c("shipping2"), ORIGO_CBV_BIZSTEP, "shipping"));
    assert_false(origo_cbv_is(origo_str_c("shipping"), 0, "shipping"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_texts_are_accepted),
        cmocka_unit_test(non_canonical_texts_are_refused_where_they_fail),
        cmocka_unit_test(members_sort_by_utf16_code_units_as_in_rfc8785),
        cmocka_unit_test(numbers_become_plain_decimals_without_floating_point),
        cmocka_unit_test(strings_get_the_canonical_escapes),
        cmocka_unit_test(structure_errors_name_line_and_column),
        cmocka_unit_test(checker_and_importer_agree_on_random_documents),
        cmocka_unit_test(reader_finds_members_items_and_strings),
        cmocka_unit_test(epc_lot_names_a_lot_or_nothing),
        cmocka_unit_test(cbv_codes_match_in_all_three_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
