/* Crash safety: a forked child applies blocks in a loop (fsync on, the
 * default) and is SIGKILLed at a random moment, 200 times. After each kill
 * the store is reopened and must hold exactly a prefix of whole blocks:
 * every header equal to a reference store's, nothing of the next block in
 * any table, and an audit that comes back clean. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "origo/error.h"

#include "ledger.h"
#include "ledgertest.h"
#include "testutil.h"

#define SEED 7
#define RUNS 200
#define RUNS_PER_STORE 25
#define MAX_EVENTS 4

static void child_apply_forever(const lt_net *net, const char *dir,
                                int ready_fd)
{
    char msg[256];
    ledger *led;
    ledger_state st;
    ledger_options opts = {.map_size = 1u << 20};
    if (ledger_open(dir, (const uint8_t *)net->genesis_json, net->genesis_len,
                    &opts, &led, msg, sizeof(msg)) ||
        ledger_get_state(led, NULL, &st))
        _exit(3);
    if (write(ready_fd, "r", 1) != 1)
        _exit(5);
    for (uint64_t k = st.height + 1;; k++) {
        lt_block b = {0};
        lt_random_block(net, SEED, k, MAX_EVENTS, &b);
        if (ledger_apply_block(led, NULL, 1, k, lt_block_time(k), b.envs,
                               b.count, 0, NULL))
            _exit(4);
        lt_block_clear(&b);
    }
}

static void extend_reference(const lt_net *net, ledger *ref, uint64_t height)
{
    ledger_state st;
    assert_int_equal(ledger_get_state(ref, NULL, &st), 0);
    for (uint64_t k = st.height + 1; k <= height; k++) {
        lt_block b = {0};
        lt_random_block(net, SEED, k, MAX_EVENTS, &b);
        lt_apply(ref, &b, k, lt_block_time(k), NULL);
        lt_block_clear(&b);
    }
}

static void check_prefix(const lt_net *net, ledger *ref, const char *dir,
                         uint64_t *height_out)
{
    char msg[256];
    ledger *led;
    ledger_state st;
    assert_int_equal(ledger_open(dir, (const uint8_t *)net->genesis_json,
                                 net->genesis_len, NULL, &led, msg,
                                 sizeof(msg)),
                     0);
    assert_int_equal(ledger_get_state(led, NULL, &st), 0);
    extend_reference(net, ref, st.height);
    for (uint64_t h = 1; h <= st.height; h++) {
        ledger_block_header a, b;
        uint8_t ha[32], hb[32];
        assert_int_equal(ledger_block_get(led, NULL, h, &a, ha), 0);
        assert_int_equal(ledger_block_get(ref, NULL, h, &b, hb), 0);
        assert_memory_equal(ha, hb, 32);
    }
    ledger_block_header last;
    if (st.height) {
        assert_int_equal(ledger_block_get(ref, NULL, st.height, &last, NULL),
                         0);
        assert_int_equal(st.tree_size, last.tree_size);
        assert_memory_equal(st.root, last.root, 32);
    } else {
        assert_int_equal(st.tree_size, 0);
    }
    /* Nothing of the next block. */
    ledger_block_header none;
    uint64_t h;
    MDB_txn *txn;
    const uint8_t *data;
    size_t len;
    assert_int_equal(ledger_block_get(led, NULL, st.height + 1, &none, NULL),
                     ORIGO_E_NOTFOUND);
    assert_int_equal(ledger_block_by_raft_index(led, NULL, st.height + 1, &h),
                     ORIGO_E_NOTFOUND);
    assert_int_equal(ledger_txn_begin(led, 1, &txn), 0);
    assert_int_equal(ledger_event_at(led, txn, st.tree_size, &data, &len),
                     ORIGO_E_NOTFOUND);
    mdb_txn_abort(txn);
    ledger_close(led);

    ledger_audit_report rep;
    assert_int_equal(ledger_audit(dir, NULL, &rep), 0);
    if (!rep.clean)
        fprintf(stderr, "audit: %s %s: expected %s found %s (%s)\n", rep.table,
                rep.key, rep.expected, rep.found, rep.detail);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.blocks, st.height);
    *height_out = st.height;
}

static void test_sigkill_leaves_a_prefix_of_whole_blocks(void **state)
{
    lt_net net;
    char *ref_dir, *dir = NULL;
    uint64_t seed = (uint64_t)time(NULL), total_blocks = 0, kills_mid = 0;
    lt_net_init(&net, 60000);
    ledger *ref = lt_store(&net, &ref_dir, 0);
    srand((unsigned)seed);
    fprintf(stderr, "crash test seed %llu\n", (unsigned long long)seed);
    uint64_t last_height = 0;
    for (int run = 0; run < RUNS; run++) {
        if (run % RUNS_PER_STORE == 0) {
            if (dir) {
                testutil_rmtree(dir);
                free(dir);
            }
            dir = testutil_tmpdir();
            last_height = 0;
        }
        int fds[2];
        char ready;
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_apply_forever(&net, dir, fds[1]);
        }
        close(fds[1]);
        /* Every 8th run kills the child while it opens the store; the
         * others once it has opened it, after a random delay: the kill
         * point is the random variable under test, any moment of the
         * child's life must be safe. */
        if (run % 8 != 0)
            assert_int_equal(read(fds[0], &ready, 1), 1);
        usleep((useconds_t)(rand() % 15000));
        kill(pid, SIGKILL);
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        uint64_t height;
        check_prefix(&net, ref, dir, &height);
        assert_true(height >= last_height);
        kills_mid += height > last_height;
        total_blocks += height - last_height;
        last_height = height;
    }
    fprintf(stderr,
            "%d kills, %llu blocks applied in total, %llu runs made "
            "progress\n",
            RUNS, (unsigned long long)total_blocks,
            (unsigned long long)kills_mid);
    assert_true(total_blocks > 0);
    testutil_rmtree(dir);
    free(dir);
    ledger_close(ref);
    testutil_rmtree(ref_dir);
    free(ref_dir);
    lt_net_close(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_leaves_a_prefix_of_whole_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
