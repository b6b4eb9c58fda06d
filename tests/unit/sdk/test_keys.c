/* Keys: the verifier-key string and key ID match the signed-note vector;
 * key files round-trip with mode 0600, are written atomically and refuse
 * to overwrite or to load when others can read them; malformed key files,
 * verifier keys and key names are rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "origo/error.h"
#include "origo/keys.h"
#include "testutil.h"

static const char *vec_str(json_t *vec, const char *key)
{
    json_t *value = json_object_get(vec, key);
    assert_true(json_is_string(value));
    return json_string_value(value);
}

static origo_key *vector_key(json_t *vec)
{
    uint8_t seed[32];
    assert_int_equal(testutil_unhex(vec_str(vec, "seed_hex"), seed, 32), 32);
    origo_key *key = NULL;
    assert_int_equal(origo_key_from_seed(vec_str(vec, "key_name"), seed, &key),
                     0);
    return key;
}

static void verifier_key_matches_signed_note_vector(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("signed-note.json");
    origo_key *key = vector_key(vec);
    char hex[65];
    origo_pubkey_to_hex(origo_key_public(key), hex);
    assert_string_equal(hex, vec_str(vec, "public_key_hex"));
    const char *name = vec_str(vec, "key_name");
    uint8_t key_id[4];
    assert_int_equal(
        origo_vkey_id(name, strlen(name), origo_key_public(key), key_id), 0);
    char id_hex[9];
    testutil_hex(key_id, 4, id_hex);
    assert_string_equal(id_hex, vec_str(vec, "key_id_hex"));
    char vkey[ORIGO_VKEY_MAX + 1];
    size_t vkey_len = 0;
    assert_int_equal(origo_key_vkey(key, vkey, sizeof(vkey), &vkey_len), 0);
    assert_string_equal(vkey, vec_str(vec, "verifier_key"));
    assert_int_equal(vkey_len, strlen(vkey));
    origo_key_free(key);
    json_decref(vec);
}

static void verifier_key_parses_to_name_id_and_key(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("signed-note.json");
    const char *text = vec_str(vec, "verifier_key");
    origo_vkey vk;
    assert_int_equal(origo_vkey_parse(text, strlen(text), &vk), 0);
    assert_string_equal(vk.name, vec_str(vec, "key_name"));
    assert_int_equal(vk.name_len, strlen(vk.name));
    uint8_t pub[32], id[4];
    assert_int_equal(testutil_unhex(vec_str(vec, "public_key_hex"), pub, 32),
                     32);
    assert_int_equal(testutil_unhex(vec_str(vec, "key_id_hex"), id, 4), 4);
    assert_memory_equal(vk.pub, pub, 32);
    assert_memory_equal(vk.key_id, id, 4);
    /* Format of the parse gives the text back. */
    char again[ORIGO_VKEY_MAX + 1];
    assert_int_equal(origo_vkey_format(vk.name, vk.name_len, vk.pub, again,
                                       sizeof(again), NULL),
                     0);
    assert_string_equal(again, text);
    json_decref(vec);
}

static void verifier_key_format_needs_room(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("signed-note.json");
    origo_key *key = vector_key(vec);
    const char *text = vec_str(vec, "verifier_key");
    char out[128];
    assert_int_equal(origo_key_vkey(key, out, strlen(text), NULL),
                     ORIGO_E_TOOBIG);
    assert_int_equal(origo_key_vkey(key, out, strlen(text) + 1, NULL), 0);
    origo_key_free(key);
    json_decref(vec);
}

static int parse_text(const char *text)
{
    origo_vkey vk;
    return origo_vkey_parse(text, strlen(text), &vk);
}

static void malformed_verifier_keys_rejected(void **state)
{
    (void)state;
    /* The vector: origo.example/network-1+032798ca+AQOhB7/zzhC+HXDdGOdLwJln
     * 5NYwm6UNXx3chmQSVTG4 */
    static const char *const bad[] = {
        /* key ID of another key */
        "origo.example/network-1+032798cb+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        /* upper-case hex key ID */
        "origo.example/network-1+032798CA+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        /* algorithm byte 0x02 (key ID then mismatches as well) */
        "origo.example/network-1+032798ca+"
        "AgOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        /* base64 with non-zero padding bits (…TG5) */
        "origo.example/network-1+032798ca+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG5",
        /* base64 one character short */
        "origo.example/network-1+032798ca+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG",
        /* trailing newline */
        "origo.example/network-1+032798ca+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4\n",
        /* name with a space */
        "origo example+032798ca+"
        "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        /* empty name */
        "+032798ca+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        /* missing key ID */
        "origo.example/network-1+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
        "",
        "origo.example/network-1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse_text(bad[i]);
        if (rc != ORIGO_E_VKEY)
            fail_msg("case %zu: got %s", i, origo_errname(rc));
    }
}

static void verifier_key_with_weak_key_rejected(void **state)
{
    (void)state;
    /* A well-formed string, correct key ID, for the identity point. */
    uint8_t weak[32] = {1};
    uint8_t key_id[4];
    assert_int_equal(origo_vkey_id("weak", 4, weak, key_id), 0);
    char text[ORIGO_VKEY_MAX + 1];
    assert_int_equal(
        origo_vkey_format("weak", 4, weak, text, sizeof(text), NULL), 0);
    assert_int_equal(parse_text(text), ORIGO_E_KEY);
}

static void key_names_follow_note_rules(void **state)
{
    (void)state;
    static const char *const good[] = {"origo.example/network-1", "a",
                                       "caf\xc3\xa9", "x:y@z"};
    static const char *const bad[] = {"",           "a b",
                                      "a+b",        "a\tb",
                                      "a\xc2\xa0z", "a\xe3\x80\x80z",
                                      "a\xc3\x28",  "a\xe2\x80\xa8z"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(origo_keyname_check(good[i], strlen(good[i])), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (origo_keyname_check(bad[i], strlen(bad[i])) != ORIGO_E_INVAL)
            fail_msg("accepted key name case %zu", i);
    }
    char name[ORIGO_KEYNAME_MAX + 2];
    memset(name, 'n', sizeof(name));
    assert_int_equal(origo_keyname_check(name, ORIGO_KEYNAME_MAX), 0);
    assert_int_equal(origo_keyname_check(name, ORIGO_KEYNAME_MAX + 1),
                     ORIGO_E_INVAL);
    origo_key *key;
    uint8_t seed[32] = {0};
    assert_int_equal(origo_key_from_seed("a b", seed, &key), ORIGO_E_INVAL);
}

static void pubkey_hex_round_trip(void **state)
{
    (void)state;
    origo_key *key;
    assert_int_equal(origo_key_generate("hex", &key), 0);
    char hex[65];
    origo_pubkey_to_hex(origo_key_public(key), hex);
    uint8_t back[32];
    assert_int_equal(origo_pubkey_from_hex(hex, 64, back), 0);
    assert_memory_equal(back, origo_key_public(key), 32);
    assert_int_equal(origo_pubkey_from_hex(hex, 63, back), ORIGO_E_KEY);
    hex[10] = 'g';
    assert_int_equal(origo_pubkey_from_hex(hex, 64, back), ORIGO_E_KEY);
    origo_key_free(key);
}

static char *path_in(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void key_file_round_trip_with_mode_0600(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = path_in(dir, "node.key");
    origo_key *key, *loaded;
    assert_int_equal(origo_key_generate("origo.example/node-1", &key), 0);
    assert_int_equal(origo_key_save(key, path, 0), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Nothing but the key file is left in the directory. */
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(origo_key_load(path, &loaded), 0);
    assert_string_equal(origo_key_name(loaded), "origo.example/node-1");
    assert_memory_equal(origo_key_public(loaded), origo_key_public(key), 32);
    static const uint8_t msg[] = "same key";
    uint8_t sig1[64], sig2[64];
    assert_int_equal(origo_key_sign(key, msg, 8, sig1), 0);
    assert_int_equal(origo_key_sign(loaded, msg, 8, sig2), 0);
    assert_memory_equal(sig1, sig2, 64);
    origo_key_free(loaded);
    origo_key_free(key);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static void key_file_text_is_the_documented_format(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("signed-note.json");
    origo_key *key = vector_key(vec);
    char *dir = testutil_tmpdir();
    char *path = path_in(dir, "k");
    assert_int_equal(origo_key_save(key, path, 0), 0);
    size_t len;
    char *text = (char *)testutil_read_file(path, &len);
    assert_non_null(text);
    assert_string_equal(
        text, "origo-key v1\n"
              "name origo.example/network-1\n"
              "seed AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
              "public "
              "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
              "\n");
    free(text);
    testutil_rmtree(dir);
    free(path);
    free(dir);
    origo_key_free(key);
    json_decref(vec);
}

static void key_file_save_refuses_to_overwrite_unless_asked(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = path_in(dir, "node.key");
    origo_key *first, *second, *loaded;
    assert_int_equal(origo_key_generate("first", &first), 0);
    assert_int_equal(origo_key_generate("second", &second), 0);
    assert_int_equal(origo_key_save(first, path, 0), 0);
    assert_int_equal(origo_key_save(second, path, 0), ORIGO_E_EXISTS);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(origo_key_load(path, &loaded), 0);
    assert_string_equal(origo_key_name(loaded), "first");
    origo_key_free(loaded);
    assert_int_equal(origo_key_save(second, path, ORIGO_KEY_SAVE_OVERWRITE), 0);
    assert_int_equal(dir_entries(dir), 1);
    assert_int_equal(origo_key_load(path, &loaded), 0);
    assert_string_equal(origo_key_name(loaded), "second");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    origo_key_free(loaded);
    origo_key_free(first);
    origo_key_free(second);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static void key_file_readable_by_others_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = path_in(dir, "node.key");
    origo_key *key, *loaded = NULL;
    assert_int_equal(origo_key_generate("k", &key), 0);
    assert_int_equal(origo_key_save(key, path, 0), 0);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(origo_key_load(path, &loaded), ORIGO_E_PERM);
    assert_null(loaded);
    origo_key_free(key);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static void key_file_missing_is_not_found(void **state)
{
    (void)state;
    origo_key *loaded = NULL;
    assert_int_equal(origo_key_load("/nonexistent/origo/node.key", &loaded),
                     ORIGO_E_NOTFOUND);
    char *dir = testutil_tmpdir();
    char *path = path_in(dir, "no/such/dir/k");
    origo_key *key;
    assert_int_equal(origo_key_generate("k", &key), 0);
    assert_int_not_equal(origo_key_save(key, path, 0), 0);
    origo_key_free(key);
    testutil_rmtree(dir);
    free(path);
    free(dir);
}

static int parse_keyfile(const char *text)
{
    origo_key *key = NULL;
    int rc = origo_key_parse(text, strlen(text), &key);
    origo_key_free(key);
    return rc;
}

#define GOOD_SEED "seed AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
#define GOOD_PUB                                                               \
    "public "                                                                  \
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\n"

static void malformed_key_files_rejected(void **state)
{
    (void)state;
    assert_int_equal(parse_keyfile("origo-key v1\nname n\n" GOOD_SEED GOOD_PUB),
                     0);
    assert_int_equal(parse_keyfile("origo-key v2\nname n\n" GOOD_SEED GOOD_PUB),
                     ORIGO_E_VERSION);
    static const char *const bad[] = {
        "",
        "origo-key v1\n",
        "origo-key\nname n\n" GOOD_SEED GOOD_PUB,
        "origo-key v1\r\nname n\n" GOOD_SEED GOOD_PUB,
        "origo-key v1\nname a b\n" GOOD_SEED GOOD_PUB,
        "origo-key v1\nname \n" GOOD_SEED GOOD_PUB,
        "origo-key v1\n" GOOD_SEED "name n\n" GOOD_PUB,
        "origo-key v1\nname n\n" GOOD_SEED,
        "origo-key v1\nname n\n" GOOD_SEED GOOD_PUB "\n",
        "origo-key v1\nname n\n" GOOD_SEED GOOD_PUB "extra 1\n",
        /* public key of another seed */
        "origo-key v1\nname n\n" GOOD_SEED "public "
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b9\n",
        /* seed without padding, seed of 31 bytes, seed with bad padding bits */
        "origo-key v1\nname n\nseed "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n" GOOD_PUB,
        "origo-key v1\nname n\nseed "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n" GOOD_PUB,
        "origo-key v1\nname n\nseed "
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n" GOOD_PUB,
        /* no final newline */
        "origo-key v1\nname n\n" GOOD_SEED "public "
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse_keyfile(bad[i]);
        if (rc != ORIGO_E_KEYFILE)
            fail_msg("case %zu: got %s", i, origo_errname(rc));
    }
    char big[ORIGO_KEYFILE_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(parse_keyfile(big), ORIGO_E_TOOBIG);
}

static void prefixed_signing_equals_signing_the_concatenation(void **state)
{
    (void)state;
    origo_key *key;
    assert_int_equal(origo_key_generate("p", &key), 0);
    /* Larger than the stack buffer, to cover the heap path. */
    size_t len = 10000;
    uint8_t *msg = malloc(len + 3);
    assert_non_null(msg);
    memcpy(msg, "ab\0", 3);
    for (size_t i = 0; i < len; i++)
        msg[3 + i] = (uint8_t)i;
    uint8_t sig1[64], sig2[64];
    assert_int_equal(origo_key_sign(key, msg, len + 3, sig1), 0);
    assert_int_equal(origo_key_sign_prefixed(key, msg, 3, msg + 3, len, sig2),
                     0);
    assert_memory_equal(sig1, sig2, 64);
    assert_int_equal(origo_ed25519_verify_prefixed(origo_key_public(key), 32,
                                                   msg, 3, msg + 3, len, sig1,
                                                   64),
                     0);
    free(msg);
    origo_key_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verifier_key_matches_signed_note_vector),
        cmocka_unit_test(verifier_key_parses_to_name_id_and_key),
        cmocka_unit_test(verifier_key_format_needs_room),
        cmocka_unit_test(malformed_verifier_keys_rejected),
        cmocka_unit_test(verifier_key_with_weak_key_rejected),
        cmocka_unit_test(key_names_follow_note_rules),
        cmocka_unit_test(pubkey_hex_round_trip),
        cmocka_unit_test(key_file_round_trip_with_mode_0600),
        cmocka_unit_test(key_file_text_is_the_documented_format),
        cmocka_unit_test(key_file_save_refuses_to_overwrite_unless_asked),
        cmocka_unit_test(key_file_readable_by_others_refused),
        cmocka_unit_test(key_file_missing_is_not_found),
        cmocka_unit_test(malformed_key_files_rejected),
        cmocka_unit_test(prefixed_signing_equals_signing_the_concatenation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
