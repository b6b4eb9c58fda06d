/* One outcome on every validator: the same blocks, applied in separate
 * processes that differ in locale (one with a two-byte decimal point), time
 * zone, floating-point rounding mode, allocator perturbation and injected
 * allocation failures, leave byte-identical tables. The blocks carry EPCIS
 * events with reals, many members and non-ASCII text, canonical and not,
 * beside native events, accepted and rejected.
 *
 * Each child first proves that its perturbation is in force (printf really
 * writes the locale's decimal point, localtime really differs from UTC, the
 * rounding mode really is upward), so the test cannot pass by perturbing
 * nothing. Locales are compiled by the test itself with localedef (Debian
 * package `locales`) into a temporary LOCPATH. */
#include <fenv.h>
#include <locale.h>
#include <malloc.h>
#include <setjmp.h>
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

#include "ledgertest.h"
#include "origo/error.h"
#include "testutil.h"

#define SEED 0x5eedf00dull
#define BLOCKS 24

static const char *const reals[] = {
    "0.1",       "0.10000000000000001",    "2.5", "1234.5678",
    "-0.000001", "3.14159265358979323846", "100", "9007199254740993",
};
#define REAL_COUNT (sizeof(reals) / sizeof(reals[0]))

/* An EPCIS aggregation onto a pallet (an SSCC, which names no lot, so the
 * event states no edge and needs no custody) with a real quantity, 40
 * extension members and non-ASCII text; `variant` > 0 spoils it in one of the
 * ways a library's dump differs from canonical JSON (the ledger must reject it
 * everywhere). */
static char *epcis_text(uint64_t k, size_t j, int variant)
{
    static char text[8192];
    size_t len = 0;
    const char *real = reals[(k * 7 + j) % REAL_COUNT];
    const char *spoilt[] = {real, "1.0", "0.1E0", real, real};
    len += (size_t)snprintf(
        text + len, sizeof(text) - len,
        "{\"action\":\"ADD\",\"childEPCs\":[\"d/case/%llu-%zu\"],"
        "\"childQuantityList\":[{\"epcClass\":\"d/bulk/%llu-%zu\","
        "\"quantity\":%s,\"uom\":\"KGM\"}],\"eventTime\":"
        "\"2023-11-14T23:13:20.123456+01:00\",",
        (unsigned long long)k, j, (unsigned long long)k, j, spoilt[variant]);
    for (int m = 0; m < 40; m++)
        len +=
            (size_t)snprintf(text + len, sizeof(text) - len,
                             "\"ex:k%02d\":\"B\xc3\xa4rbel %d \xe2\x98\x83\","
                             "",
                             m, m * (int)k);
    /* UTF-16 order: U+1F600 (D83D...) before U+FB33. */
    len += (size_t)snprintf(
        text + len, sizeof(text) - len,
        "\"ex:%s\":\"%s\",\"ex:\xef\xac\xb3\":[true,null,%s],"
        "\"parentID\":\"urn:epc:id:sscc:4012345.%010llu\",\"type\":"
        "\"AggregationEvent\"}",
        variant == 3 ? "\xef\xac\xb4" : "\xf0\x9f\x98\x80",
        variant == 4 ? "\\u00e9" : "\xc3\xa9\\n\\u001f", real,
        (unsigned long long)k);
    return text;
}

struct blocks {
    lt_net net;
    lt_block block[BLOCKS + 1];
};

static void build_blocks(struct blocks *bs)
{
    lt_net_init(&bs->net, LT_WINDOW);
    for (uint64_t k = 1; k <= BLOCKS; k++) {
        lt_block *b = &bs->block[k];
        lt_random_block(&bs->net, SEED, k, 12, b);
        for (size_t j = 0; j < 3; j++)
            lt_epcis(b, &bs->net, LT_PLANT, epcis_text(k, j, 0),
                     lt_block_time(k), NULL);
        lt_epcis_unchecked(b, &bs->net, LT_INSPECTOR,
                           epcis_text(k, 9, 1 + (int)(k % 4)),
                           lt_block_time(k));
    }
}

/* ---- the children ------------------------------------------------------- */

enum variant {
    V_BASELINE,
    V_LOCALE_COMMA,
    V_LOCALE_TWO_BYTE_POINT,
    V_TIME_ZONE,
    V_ROUNDING,
    V_ALLOCATOR,
    V_ALLOC_FAILURES,
    V_COUNT
};
static const char *const variant_names[V_COUNT] = {
    "baseline (C locale, UTC)",
    "locale de_DE.UTF-8 (decimal comma)",
    "locale ps_AF.UTF-8 (two-byte decimal point U+066B)",
    "time zone Pacific/Kiritimati (UTC+14) and America/St_Johns",
    "rounding mode FE_UPWARD",
    "allocator perturbation (M_PERTURB, tiny mmap threshold)",
    "injected allocation failures",
};

static char locpath[512];

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static int
child_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int use_locale(const char *name, const char *expect_half)
{
    char half[32];
    setenv("LOCPATH", locpath, 1);
    if (!setlocale(LC_ALL, name))
        return child_fail("setlocale(%s) failed: is the locale compiled?",
                          name);
    snprintf(half, sizeof(half), "%.1f", 0.5);
    if (strcmp(half, expect_half) != 0)
        return child_fail("%s: printf gives %s, expected %s", name, half,
                          expect_half);
    return 0;
}

static int perturb(enum variant v)
{
    switch (v) {
    case V_LOCALE_COMMA:
        return use_locale("de_DE.UTF-8", "0,5");
    case V_LOCALE_TWO_BYTE_POINT:
        return use_locale("ps_AF.UTF-8", "0\xd9\xab"
                                         "5");
    case V_TIME_ZONE: {
        setenv("TZ", "Pacific/Kiritimati", 1);
        tzset();
        time_t t = 0;
        struct tm local, utc;
        localtime_r(&t, &local);
        gmtime_r(&t, &utc);
        if (local.tm_hour == utc.tm_hour)
            return child_fail("TZ had no effect (tzdata missing?)");
        return 0;
    }
    case V_ROUNDING:
        if (fesetround(FE_UPWARD) != 0 || fegetround() != FE_UPWARD)
            return child_fail("cannot set FE_UPWARD");
        return 0;
    case V_ALLOCATOR:
        if (!mallopt(M_PERTURB, 0xa5) || !mallopt(M_MMAP_THRESHOLD, 4096))
            return child_fail("mallopt refused");
        return 0;
    default:
        return 0;
    }
}

/* Applies block k, with allocation failures when asked: budgets drawn from
 * the block number, doubled after each ORIGO_E_NOMEM (which must leave
 * the ledger as it was). Returns 0 or 1 (printed). */
static int apply_one(ledger *led, const lt_block *b, uint64_t k, int failures,
                     size_t *nomem_seen)
{
    ledger_outcome outcomes[64];
    ledger_block_result result = {.outcomes = outcomes};
    ledger_state before, after;
    long budget = failures ? (long)(k % 13) : -1;
    for (;;) {
        if (ledger_get_state(led, NULL, &before) != 0)
            return child_fail("ledger_get_state failed");
        testutil_alloc_budget(budget);
        int rc = ledger_apply_block(led, NULL, 1, k, lt_block_time(k), b->envs,
                                    b->count, 0, &result);
        testutil_alloc_budget(-1);
        if (rc == 0)
            return 0;
        if (rc != ORIGO_E_NOMEM || budget < 0)
            return child_fail("block %llu: %s with %ld allocations allowed",
                              (unsigned long long)k, origo_strerror(rc),
                              budget);
        (*nomem_seen)++;
        if (ledger_get_state(led, NULL, &after) != 0 ||
            after.height != before.height ||
            after.tree_size != before.tree_size)
            return child_fail("block %llu: ORIGO_E_NOMEM changed the ledger",
                              (unsigned long long)k);
        budget = budget * 2 + 1;
    }
}

static int run_child(const struct blocks *bs, enum variant v, char **dir)
{
    if (perturb(v) != 0)
        return 1;
    ledger *led = lt_store(&bs->net, dir, 0);
    size_t nomem_seen = 0;
    for (uint64_t k = 1; k <= BLOCKS; k++) {
        if (apply_one(led, &bs->block[k], k, v == V_ALLOC_FAILURES,
                      &nomem_seen))
            return 1;
    }
    ledger_close(led);
    if (v == V_ALLOC_FAILURES && nomem_seen < BLOCKS)
        return child_fail("only %zu allocation failures were met", nomem_seen);
    return 0;
}

/* Forks a child for variant v, which applies every block into a fresh
 * store; its directory comes back through a pipe. */
static char *apply_in_child(const struct blocks *bs, enum variant v)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char *dir = NULL;
        int status = run_child(bs, v, &dir);
        if (dir) {
            size_t len = strlen(dir) + 1;
            if (write(fds[1], dir, len) != (ssize_t)len)
                status = 1;
        }
        _exit(status);
    }
    close(fds[1]);
    char buf[1024] = "";
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("variant \"%s\" failed (see its message above)",
                 variant_names[v]);
    assert_true(got > 0);
    return strdup(buf);
}

static int compile_locales(void)
{
    static const char *const names[][2] = {{"de_DE", "de_DE.UTF-8"},
                                           {"ps_AF", "ps_AF.UTF-8"}};
    for (size_t i = 0; i < 2; i++) {
        char cmd[4096];
        snprintf(cmd, sizeof(cmd),
                 "localedef -c -i %s -f UTF-8 %s/%s >/dev/null 2>&1; "
                 "test -d %s/%s",
                 names[i][0], locpath, names[i][1], locpath, names[i][1]);
        if (system(cmd) != 0) {
            fprintf(stderr,
                    "localedef could not compile %s: install the "
                    "Debian package locales (scripts/setup does)\n",
                    names[i][1]);
            return -1;
        }
    }
    return 0;
}

static void test_same_blocks_same_tables_in_every_environment(void **state)
{
    (void)state;
    char *tmp = testutil_tmpdir();
    snprintf(locpath, sizeof(locpath), "%s", tmp);
    assert_int_equal(compile_locales(), 0);
    struct blocks *bs = calloc(1, sizeof(*bs));
    build_blocks(bs);
    char *dirs[V_COUNT] = {0};
    for (int v = 0; v < V_COUNT; v++) {
        if ((v == V_ALLOC_FAILURES || v == V_ALLOCATOR) &&
            !testutil_alloc_available()) {
            fprintf(stderr,
                    "note: %s not run (AddressSanitizer owns the "
                    "allocator; the plain build runs it)\n",
                    variant_names[v]);
            continue;
        }
        dirs[v] = apply_in_child(bs, (enum variant)v);
    }
    char msg[256];
    ledger *base;
    assert_int_equal(ledger_open(dirs[0], NULL, 0, NULL, &base, msg, 256), 0);
    ledger_state st;
    assert_int_equal(ledger_get_state(base, NULL, &st), 0);
    assert_int_equal(st.height, BLOCKS);
    for (int v = 1; v < V_COUNT; v++) {
        if (!dirs[v])
            continue;
        ledger *other;
        assert_int_equal(ledger_open(dirs[v], NULL, 0, NULL, &other, msg, 256),
                         0);
        if (lt_compare_envs(ledger_env(base), ledger_env(other), NULL) != 0)
            fail_msg("tables differ: \"%s\" vs \"%s\"", variant_names[0],
                     variant_names[v]);
        ledger_close(other);
        testutil_rmtree(dirs[v]);
        free(dirs[v]);
    }
    /* The blocks did what they were built to: EPCIS events with reals were
     * accepted and the spoilt ones rejected, on every validator alike. */
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat rejects, events;
    assert_int_equal(ledger_txn_begin(base, 1, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_REJECTS, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &rejects), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_EVENTS, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &events), 0);
    mdb_txn_abort(txn);
    assert_true(events.ms_entries >= 3 * BLOCKS);
    assert_true(rejects.ms_entries >= BLOCKS);
    ledger_close(base);
    testutil_rmtree(dirs[0]);
    free(dirs[0]);
    for (uint64_t k = 1; k <= BLOCKS; k++)
        lt_block_clear(&bs->block[k]);
    lt_net_close(&bs->net);
    free(bs);
    testutil_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_blocks_same_tables_in_every_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
