/* The data directory's lock with two real processes: while a child holds
 * it, the parent is refused with a message naming the child's process ID;
 * once the child has exited (however: the kernel drops the lock), the
 * parent takes it. A second lock in the same process is refused too. The
 * processes synchronise through pipes, never by sleeping.
 *
 * The store's seal: a store sealed and unchanged passes once (the seal is
 * then gone); no seal passes; one flipped bit, a byte more, a seal signed
 * by another key, a seal edited or cut short are each refused with
 * ORIGO_E_CORRUPT and a message that says which. The seal's hash (v2) is
 * checked against its definition computed here, on one to four threads
 * and files of every chunk shape; a v1 seal from an older node is still
 * checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "datadir.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "testutil.h"

static void test_one_process_per_directory(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char msg[512];
    int locked[2], release[2];
    assert_int_equal(pipe(locked), 0);
    assert_int_equal(pipe(release), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd;
        char c = datadir_lock(dir, &fd, msg, sizeof(msg)) == 0 ? 'y' : 'n';
        if (write(locked[1], &c, 1) != 1)
            _exit(2);
        /* Hold the lock until told; then die without unlocking. */
        if (read(release[0], &c, 1) != 1)
            _exit(3);
        _exit(0);
    }
    char c;
    assert_int_equal(read(locked[0], &c, 1), 1);
    assert_int_equal(c, 'y');

    int fd;
    assert_int_equal(datadir_lock(dir, &fd, msg, sizeof(msg)), ORIGO_E_BUSY);
    char want[64];
    snprintf(want, sizeof(want), "(process %ld)", (long)child);
    if (!strstr(msg, want) || !strstr(msg, "in use by another origo-node"))
        fail_msg("message: %s", msg);

    assert_int_equal(write(release[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    assert_int_equal(datadir_lock(dir, &fd, msg, sizeof(msg)), 0);
    int again;
    assert_int_equal(datadir_lock(dir, &again, msg, sizeof(msg)), ORIGO_E_BUSY);
    snprintf(want, sizeof(want), "(process %ld)", (long)getpid());
    assert_non_null(strstr(msg, want));
    close(fd);
    /* Closed: free again. */
    assert_int_equal(datadir_lock(dir, &fd, msg, sizeof(msg)), 0);
    close(fd);

    assert_int_equal(datadir_lock("/nonexistent/origo", &fd, msg, sizeof(msg)),
                     ORIGO_E_IO);
    assert_non_null(strstr(msg, "/nonexistent/origo/LOCK: cannot open"));
    testutil_rmtree(dir);
    free(dir);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static size_t read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap, f);
    fclose(f);
    return n;
}

static void test_the_seal(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir(), store[4200], seal[4200], msg[1024];
    char text[600];
    snprintf(store, sizeof(store), "%s/data.mdb", dir);
    snprintf(seal, sizeof(seal), "%s/seal", dir);
    origo_key *key, *other;
    assert_int_equal(origo_key_generate("v1", &key), 0);
    assert_int_equal(origo_key_generate("v2", &other), 0);
    static char data[100000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7);
    write_file(store, data, sizeof(data));

    /* No seal: nothing to check. */
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)), 0);
    /* Sealed, unchanged: passes, and the seal is gone. A seal is v2, its
     * hash datadir_seal_hash()'s. */
    assert_int_equal(datadir_seal(dir, key, msg, sizeof(msg)), 0);
    {
        uint64_t size;
        uint8_t h[32];
        char hex[65], want[200];
        assert_int_equal(datadir_seal_hash(store, DATADIR_SEAL_CHUNK, 1, &size,
                                           h, msg, sizeof(msg)),
                         0);
        sodium_bin2hex(hex, sizeof(hex), h, 32);
        snprintf(want, sizeof(want), "origo store seal v2\n%zu\n%s\n",
                 sizeof(data), hex);
        size_t n = read_file(seal, text, sizeof(text));
        assert_true(n > strlen(want));
        assert_memory_equal(text, want, strlen(want));
    }
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)), 0);
    struct stat st;
    assert_int_not_equal(stat(seal, &st), 0);

    /* One bit, anywhere. */
    assert_int_equal(datadir_seal(dir, key, msg, sizeof(msg)), 0);
    data[54321] ^= 0x10;
    write_file(store, data, sizeof(data));
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                     ORIGO_E_CORRUPT);
    assert_non_null(strstr(msg, "changed while the node was stopped"));
    assert_non_null(strstr(msg, "new member"));
    assert_int_equal(stat(seal, &st), 0); /* kept: refused again next time */
    data[54321] ^= 0x10;

    /* A byte more. */
    write_file(store, data, sizeof(data) - 1);
    assert_int_equal(datadir_seal(dir, key, msg, sizeof(msg)), 0);
    write_file(store, data, sizeof(data));
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                     ORIGO_E_CORRUPT);

    /* Signed by another key, or edited: the seal itself is refused. */
    assert_int_equal(datadir_seal(dir, other, msg, sizeof(msg)), 0);
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                     ORIGO_E_CORRUPT);
    assert_non_null(strstr(msg, "not signed by this validator's key"));
    assert_int_equal(datadir_seal(dir, key, msg, sizeof(msg)), 0);
    size_t len = read_file(seal, text, sizeof(text));
    char *digit = strchr(text, '\n') + 1; /* the size line */
    *digit = *digit == '9' ? '8' : (char)(*digit + 1);
    write_file(seal, text, len);
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                     ORIGO_E_CORRUPT);
    assert_non_null(strstr(msg, "not signed by this validator's key"));
    write_file(seal, text, len / 2);
    assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                     ORIGO_E_CORRUPT);
    assert_non_null(strstr(msg, "damaged"));

    origo_key_free(key);
    origo_key_free(other);
    testutil_rmtree(dir);
    free(dir);
}

/* The v2 hash computed here, from its definition in datadir.h, one
 * chunk after another. */
static void seal_hash_by_hand(const uint8_t *data, uint64_t size,
                              uint64_t chunk, uint8_t out[32])
{
    static const char domain[] = "origo/store-seal/v2";
    uint8_t be[16];
    for (int i = 0; i < 8; i++) {
        be[i] = (uint8_t)(size >> (56 - 8 * i));
        be[8 + i] = (uint8_t)(chunk >> (56 - 8 * i));
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
    crypto_generichash_update(&st, be, sizeof(be));
    for (uint64_t at = 0; at < size; at += chunk) {
        uint8_t h[32];
        uint64_t n = size - at < chunk ? size - at : chunk;
        crypto_generichash(h, 32, data + at, n, NULL, 0);
        crypto_generichash_update(&st, h, 32);
    }
    crypto_generichash_final(&st, out, 32);
}

/* The seal's hash is the same whoever computes its chunks, and is what
 * its definition says, for files of no chunk, part of one, whole ones
 * and a part. */
static void test_seal_hash(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir(), path[4200], msg[256];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    static uint8_t data[5 * 4096 + 123];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + (i >> 8));
    const size_t sizes[] = {0, 1, 4095, 4096, 4097, 3 * 4096, sizeof(data)};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        write_file(path, (const char *)data, sizes[s]);
        uint8_t want[32], got[32];
        seal_hash_by_hand(data, sizes[s], 4096, want);
        for (unsigned threads = 1; threads <= 4; threads++) {
            uint64_t size = 99;
            assert_int_equal(datadir_seal_hash(path, 4096, threads, &size, got,
                                               msg, sizeof(msg)),
                             0);
            assert_int_equal(size, sizes[s]);
            assert_memory_equal(got, want, 32);
        }
        /* Another chunk size is another hash (the size is hashed in). */
        if (sizes[s] > 0) {
            uint64_t size;
            assert_int_equal(
                datadir_seal_hash(path, 8192, 2, &size, got, msg, sizeof(msg)),
                0);
            assert_memory_not_equal(got, want, 32);
        }
    }
    /* One bit anywhere changes it. */
    write_file(path, (const char *)data, sizeof(data));
    uint8_t before[32], after[32];
    uint64_t size;
    assert_int_equal(
        datadir_seal_hash(path, 4096, 2, &size, before, msg, sizeof(msg)), 0);
    data[3 * 4096 + 7] ^= 1;
    write_file(path, (const char *)data, sizeof(data));
    assert_int_equal(
        datadir_seal_hash(path, 4096, 2, &size, after, msg, sizeof(msg)), 0);
    assert_memory_not_equal(before, after, 32);
    data[3 * 4096 + 7] ^= 1;
    /* No such file: ORIGO_E_IO, naming it. */
    testutil_rmtree(dir);
    assert_int_equal(
        datadir_seal_hash(path, 4096, 2, &size, after, msg, sizeof(msg)),
        ORIGO_E_IO);
    assert_non_null(strstr(msg, "data.mdb"));
    free(dir);
}

/* A seal written by an older node (v1: BLAKE2b-256 of the whole file) is
 * still checked: passes for the store it sealed, refuses a changed one. */
static void test_seal_v1_still_checked(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir(), store[4200], seal[4200], msg[1024];
    char body[256], text[600];
    snprintf(store, sizeof(store), "%s/data.mdb", dir);
    snprintf(seal, sizeof(seal), "%s/seal", dir);
    origo_key *key;
    assert_int_equal(origo_key_generate("v1", &key), 0);
    static char data[70000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 13);
    for (int changed = 0; changed < 2; changed++) {
        write_file(store, data, sizeof(data));
        uint8_t h[32], sig[64];
        char hex[65],
            b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
        crypto_generichash(h, 32, (const uint8_t *)data, sizeof(data), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), h, 32);
        int len = snprintf(body, sizeof(body), "origo store seal v1\n%zu\n%s\n",
                           sizeof(data), hex);
        static const char domain[] = "origo/store-seal/v1";
        assert_int_equal(origo_key_sign_prefixed(
                             key, (const uint8_t *)domain, sizeof(domain),
                             (const uint8_t *)body, (size_t)len, sig),
                         0);
        sodium_bin2base64(b64, sizeof(b64), sig, 64,
                          sodium_base64_VARIANT_ORIGINAL);
        len = snprintf(text, sizeof(text), "%s%s\n", body, b64);
        write_file(seal, text, (size_t)len);
        if (changed) {
            data[60000] ^= 0x40;
            write_file(store, data, sizeof(data));
            assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)),
                             ORIGO_E_CORRUPT);
            assert_non_null(strstr(msg, "changed while the node was stopped"));
        } else {
            assert_int_equal(datadir_check_seal(dir, key, msg, sizeof(msg)), 0);
        }
    }
    origo_key_free(key);
    testutil_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_process_per_directory),
        cmocka_unit_test(test_the_seal),
        cmocka_unit_test(test_seal_hash),
        cmocka_unit_test(test_seal_v1_still_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
