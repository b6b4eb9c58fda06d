/* origo/hash.h against the FIPS 180-2 known answers (the empty message,
 * "abc", the 448-bit two-block message, a million 'a' fed in uneven
 * pieces) and in steps against one shot at every split of a message that
 * crosses block boundaries. Built twice by meson, on Nettle and on
 * libsodium alone (sdk/hash.c is compiled into each executable with or
 * without ORIGO_HAVE_NETTLE), so both back ends answer the same bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "origo/hash.h"

static void hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void known(const char *msg, size_t len, const char *want)
{
    uint8_t d[32];
    char h[65];
    origo_sha256(msg, len, d);
    hex(d, h);
    assert_string_equal(h, want);
}

static void test_known_answers(void **state)
{
    (void)state;
    known("", 0,
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    known("abc", 3,
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    known(two, strlen(two),
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* A million 'a', in pieces of 1 to 997 bytes. */
    static char a[1000];
    memset(a, 'a', sizeof(a));
    origo_sha256_state st;
    origo_sha256_init(&st);
    size_t left = 1000000, piece = 1;
    while (left) {
        size_t n = piece < left ? piece : left;
        origo_sha256_update(&st, a, n);
        left -= n;
        piece = piece % 997 + 1;
    }
    uint8_t d[32];
    char h[65];
    origo_sha256_final(&st, d);
    hex(d, h);
    assert_string_equal(
        h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_steps_equal_one_shot(void **state)
{
    (void)state;
    uint8_t msg[300], one[32], steps[32];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 131 + 7);
    for (size_t len = 0; len <= sizeof(msg); len += 37) {
        origo_sha256(msg, len, one);
        for (size_t cut = 0; cut <= len; cut++) {
            origo_sha256_state st;
            origo_sha256_init(&st);
            origo_sha256_update(&st, msg, cut);
            origo_sha256_update(&st, msg + cut, 0); /* empty steps */
            origo_sha256_update(&st, msg + cut, len - cut);
            origo_sha256_final(&st, steps);
            assert_memory_equal(one, steps, 32);
        }
    }
}

static void test_backend(void **state)
{
    (void)state;
#ifdef ORIGO_HAVE_NETTLE
    assert_string_equal(origo_sha256_impl(), "nettle");
#else
    assert_string_equal(origo_sha256_impl(), "libsodium");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_steps_equal_one_shot),
        cmocka_unit_test(test_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
