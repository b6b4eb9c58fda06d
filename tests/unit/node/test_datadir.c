/* The data directory's lock with two real processes: while a child holds
 * it, the parent is refused with a message naming the child's process ID;
 * once the child has exited (however: the kernel drops the lock), the
 * parent takes it. A second lock in the same process is refused too. The
 * processes synchronise through pipes, never by sleeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "datadir.h"
#include "origo/error.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_process_per_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
