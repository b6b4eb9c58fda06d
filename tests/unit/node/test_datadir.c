/* The data directory's lock with two real processes: while a child holds
 * it, the parent is refused with a message naming the child's process ID;
 * once the child has exited (however: the kernel drops the lock), the
 * parent takes it. A second lock in the same process is refused too. The
 * processes synchronise through pipes, never by sleeping.
 *
 * The store's seal: a store sealed and unchanged passes once (the seal is
 * then gone); no seal passes; one flipped bit, a byte more, a seal signed
 * by another key, a seal edited or cut short are each refused with
 * ORIGO_E_CORRUPT and a message that says which. */
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
    /* Sealed, unchanged: passes, and the seal is gone. */
    assert_int_equal(datadir_seal(dir, key, msg, sizeof(msg)), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_process_per_directory),
        cmocka_unit_test(test_the_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
