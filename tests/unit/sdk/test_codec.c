/* Canonical MessagePack: the writer emits shortest forms, the strict reader
 * accepts exactly those and round-trips them byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "testutil.h"

static void uint_boundaries_use_shortest_form(void **state)
{
    (void)state;
    static const struct {
        uint64_t value;
        size_t len;
    } cases[] = {{0, 1},          {127, 1},       {128, 2},   {255, 2},
                 {256, 3},        {65535, 3},     {65536, 5}, {UINT32_MAX, 5},
                 {1ull << 32, 9}, {UINT64_MAX, 9}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        origo_buf buf;
        origo_buf_init(&buf, 64);
        origo_mp_put_uint(&buf, cases[i].value);
        assert_int_equal(buf.err, 0);
        assert_int_equal(buf.len, cases[i].len);
        origo_mp_reader rd;
        origo_mp_reader_init(&rd, buf.data, buf.len);
        uint64_t got = 0;
        assert_int_equal(origo_mp_read_uint(&rd, &got), 0);
        assert_int_equal(origo_mp_reader_finish(&rd), 0);
        assert_true(got == cases[i].value);
        origo_buf_close(&buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uint_boundaries_use_shortest_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
