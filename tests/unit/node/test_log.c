/* The node's logfmt lines (node/log.c): each line parses back, with an
 * independent parser written here, to exactly the pairs given, whatever
 * bytes the values hold; levels below the minimum are dropped; an
 * oversized line keeps its whole leading pairs and says it was truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static char *out_buf;
static size_t out_len;
static FILE *out;

static int setup(void **state)
{
    (void)state;
    out = open_memstream(&out_buf, &out_len);
    log_init(out, CONFIG_LOG_INFO);
    return out ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fclose(out);
    free(out_buf);
    return 0;
}

typedef struct pair {
    char key[64];
    char value[8192];
} pair;

/* Parses one logfmt line into pairs; returns the count, -1 if malformed. */
static int parse_line(const char *p, pair *pairs, int max)
{
    int n = 0;
    while (*p && *p != '\n') {
        if (n == max)
            return -1;
        pair *x = &pairs[n++];
        size_t k = 0;
        while (*p && *p != '=' && *p != ' ' && k < sizeof(x->key) - 1)
            x->key[k++] = *p++;
        x->key[k] = '\0';
        if (*p++ != '=' || k == 0)
            return -1;
        size_t v = 0;
        if (*p == '"') {
            p++;
            while (*p != '"') {
                if (!*p || v >= sizeof(x->value) - 1)
                    return -1;
                if (*p != '\\') {
                    x->value[v++] = *p++;
                    continue;
                }
                p++;
                if (*p == 'n')
                    x->value[v++] = '\n';
                else if (*p == 't')
                    x->value[v++] = '\t';
                else if (*p == '"' || *p == '\\')
                    x->value[v++] = *p;
                else if (*p == 'x') {
                    unsigned b;
                    if (sscanf(p + 1, "%2x", &b) != 1)
                        return -1;
                    x->value[v++] = (char)b;
                    p += 2;
                } else
                    return -1;
                p++;
            }
            p++;
        } else {
            while (*p && *p != ' ' && *p != '\n')
                x->value[v++] = *p++;
            if (v == 0)
                return -1;
        }
        x->value[v] = '\0';
        if (*p == ' ')
            p++;
        else if (*p != '\n')
            return -1;
    }
    return *p == '\n' && p[1] == '\0' ? n : -1;
}

/* The last line written. */
static const char *last_line(void)
{
    fflush(out);
    const char *end = out_buf + out_len;
    const char *start = end - 1;
    while (start > out_buf && start[-1] != '\n')
        start--;
    return start;
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *values[] = {
        "plain",        "with space", "a=b",       "say \"hi\"",
        "back\\slash",  "two\nlines", "tab\there", "",
        "\x01\x1f\x7f", "Ünïcode ✓",  "-",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        size_t before = out_len;
        LOG_INFO("peer link open", "value", values[i], "n", "1");
        fflush(out);
        assert_true(out_len > before);
        pair pairs[8];
        int n = parse_line(last_line(), pairs, 8);
        if (n != 5)
            fail_msg("line %zu does not parse: %s", i, last_line());
        assert_string_equal(pairs[0].key, "ts");
        assert_int_equal(strlen(pairs[0].value), 24);
        assert_int_equal(pairs[0].value[10], 'T');
        assert_int_equal(pairs[0].value[23], 'Z');
        assert_string_equal(pairs[1].key, "level");
        assert_string_equal(pairs[1].value, "info");
        assert_string_equal(pairs[2].key, "msg");
        assert_string_equal(pairs[2].value, "peer link open");
        assert_string_equal(pairs[3].key, "value");
        assert_string_equal(pairs[3].value, values[i]);
        assert_string_equal(pairs[4].value, "1");
    }
}

static void test_levels(void **state)
{
    (void)state;
    fflush(out);
    size_t before = out_len;
    LOG_DEBUG("not shown");
    fflush(out);
    assert_int_equal(out_len, before);
    assert_false(log_enabled(CONFIG_LOG_DEBUG));
    LOG_ERROR("disk full", "path", "/var/lib/origo");
    pair pairs[4];
    assert_int_equal(parse_line(last_line(), pairs, 4), 4);
    assert_string_equal(pairs[1].value, "error");
    log_init(out, CONFIG_LOG_DEBUG);
    LOG_DEBUG("shown");
    assert_int_equal(parse_line(last_line(), pairs, 4), 3);
    assert_string_equal(pairs[1].value, "debug");
}

static void test_truncated(void **state)
{
    (void)state;
    static char big[6000];
    memset(big, '"', sizeof(big) - 1); /* each byte doubles when escaped */
    LOG_WARN("big", "first", "kept", "huge", big, "after", "dropped");
    pair pairs[8];
    const char *line = last_line();
    assert_true(strlen(line) <= 4096);
    assert_int_equal(parse_line(line, pairs, 8), 5);
    assert_string_equal(pairs[3].key, "first");
    assert_string_equal(pairs[3].value, "kept");
    assert_string_equal(pairs[4].key, "truncated");
    assert_string_equal(pairs[4].value, "true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
