/* One entry's signatures checked once, by the crypto pool and the applier
 * together (node/sigcheck.h), with real signed envelopes and real threads:
 *
 * - alone, either side verifies every event and the answer is right: 1
 *   when every signature verifies, 0 with one forged event (signed by
 *   another member than the one it names) or one from another network,
 *   wherever it sits;
 * - the applier joins a worker that holds an event: it verifies the rest,
 *   waits for that one (the worker is released only once the applier has
 *   taken the last event, so the wait is certain, not likely), and each
 *   event is verified exactly once;
 * - two workers and the applier at once, many rounds: each event once, the
 *   answer right;
 * - envelopes this node verified before (sigseen) are not verified again,
 *   and only those exact bytes: the same body with another signature is
 *   verified and refused; a digest pushed out of its slot is verified
 *   again;
 * - bytes that are not a proposal are ORIGO_E_INVAL.
 * Threads synchronise with a mutex and condition variables, never by
 * sleeping. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledgertest.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "sigcheck.h"

#define EVENTS 64

/* A block proposal of b's envelopes (docs/formats/block.md). */
static void proposal(const lt_block *b, origo_buf *out)
{
    origo_buf_init(out, 1 << 24);
    origo_mp_put_array(out, 3);
    origo_mp_put_uint(out, 1);
    origo_mp_put_uint(out, LT_T0);
    origo_mp_put_array(out, (uint32_t)b->count);
    for (size_t i = 0; i < b->count; i++)
        origo_mp_put_bin(out, b->envs[i].data, b->envs[i].len);
    assert_int_equal(out->err, 0);
}

/* EVENTS lot.create events by the supplier; event `forged` (if < EVENTS)
 * signed by the plant's key while naming the supplier. */
static void block_of(const lt_net *net, size_t forged, lt_block *b)
{
    for (size_t i = 0; i < EVENTS; i++) {
        char lot[64];
        snprintf(lot, sizeof(lot), "acme/p1/L%zu", i);
        if (i == forged)
            lt_lot_create_forged(b, net, LT_SUPPLIER, LT_PLANT, lot, LT_T0);
        else
            lt_lot_create(b, net, LT_SUPPLIER, lot, LT_T0, NULL);
    }
}

static sigcheck *make(const lt_block *b, const char *origin)
{
    origo_buf p;
    proposal(b, &p);
    sigcheck *s = NULL;
    assert_int_equal(sigcheck_new(p.data, p.len, origin, NULL, &s), 0);
    origo_buf_close(&p);
    assert_int_equal(sigcheck_count(s), b->count);
    return s;
}

/* Counts each event's verifications; optionally holds the worker on the
 * first event it takes until the applier has taken the last one. */
typedef struct watch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int times[EVENTS];
    int hold, worker_holds, applier_took_last;
    size_t count;
} watch;

static void on_take(void *ctx, size_t i, int finishing)
{
    watch *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->times[i]++;
    if (w->hold && !finishing && !w->worker_holds) {
        w->worker_holds = 1;
        pthread_cond_broadcast(&w->cv);
        while (!w->applier_took_last)
            pthread_cond_wait(&w->cv, &w->mu);
    }
    if (finishing && i == w->count - 1) {
        w->applier_took_last = 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

static void *worker(void *arg)
{
    sigcheck_work(arg);
    return NULL;
}

static void assert_each_once(const watch *w)
{
    for (size_t i = 0; i < w->count; i++)
        if (w->times[i] != 1)
            fail_msg("event %zu verified %d times", i, w->times[i]);
}

static void test_alone(void **state)
{
    (void)state;
    lt_net net;
    lt_net_init(&net, LT_WINDOW);
    size_t forged_at[] = {EVENTS, 0, EVENTS / 2, EVENTS - 1};
    for (size_t f = 0; f < sizeof(forged_at) / sizeof(*forged_at); f++) {
        lt_block b = {0};
        block_of(&net, forged_at[f], &b);
        int want = forged_at[f] == EVENTS;
        /* The applier alone (the pool never got to it)... */
        sigcheck *s = make(&b, LT_NET);
        assert_int_equal(sigcheck_finish(s), want);
        assert_int_equal(sigcheck_finished_here(s), EVENTS);
        sigcheck_work(s); /* the pool, late: nothing left */
        assert_int_equal(sigcheck_finish(s), want);
        assert_int_equal(sigcheck_finished_here(s), EVENTS);
        sigcheck_free(s);
        /* ...and the pool alone, then the applier. */
        s = make(&b, LT_NET);
        sigcheck_work(s);
        assert_int_equal(sigcheck_finish(s), want);
        assert_int_equal(sigcheck_finished_here(s), 0);
        sigcheck_free(s);
        lt_block_clear(&b);
    }
    /* Good signatures from another network do not pass. */
    lt_block b = {0};
    block_of(&net, EVENTS, &b);
    sigcheck *s = make(&b, "origo.test/other");
    assert_int_equal(sigcheck_finish(s), 0);
    sigcheck_free(s);
    lt_block_clear(&b);
    lt_net_close(&net);
}

static void test_applier_waits_for_held_event(void **state)
{
    (void)state;
    lt_net net;
    lt_net_init(&net, LT_WINDOW);
    for (int forged = 0; forged < 2; forged++) {
        lt_block b = {0};
        /* The forged event is the first: the one the worker holds. */
        block_of(&net, forged ? 0 : EVENTS, &b);
        sigcheck *s = make(&b, LT_NET);
        watch w = {.hold = 1, .count = EVENTS};
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        sigcheck_set_hook(s, on_take, &w);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, worker, s), 0);
        pthread_mutex_lock(&w.mu);
        while (!w.worker_holds)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        /* The worker holds event 0; the applier takes the other 63 and
         * must wait for event 0's answer. */
        assert_int_equal(sigcheck_finish(s), !forged);
        assert_int_equal(sigcheck_finished_here(s), EVENTS - 1);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_each_once(&w);
        sigcheck_free(s);
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        lt_block_clear(&b);
    }
    lt_net_close(&net);
}

static void test_many_threads(void **state)
{
    (void)state;
    lt_net net;
    lt_net_init(&net, LT_WINDOW);
    lt_block good = {0}, bad = {0};
    block_of(&net, EVENTS, &good);
    block_of(&net, EVENTS / 3, &bad);
    for (int round = 0; round < 40; round++) {
        const lt_block *b = round % 2 ? &bad : &good;
        sigcheck *s = make(b, LT_NET);
        watch w = {.count = EVENTS};
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        sigcheck_set_hook(s, on_take, &w);
        pthread_t t[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_create(&t[k], NULL, worker, s), 0);
        assert_int_equal(sigcheck_finish(s), b == &good);
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_join(t[k], NULL), 0);
        assert_each_once(&w);
        sigcheck_free(s);
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
    }
    lt_block_clear(&good);
    lt_block_clear(&bad);
    lt_net_close(&net);
}

static void test_seen(void **state)
{
    (void)state;
    lt_net net;
    lt_net_init(&net, LT_WINDOW);
    lt_block b = {0}, forged = {0};
    block_of(&net, EVENTS, &b);
    sigseen *seen = sigseen_new(12);
    assert_non_null(seen);
    for (size_t i = 0; i < EVENTS; i += 2) /* verified at submission */
        sigseen_add(seen, b.envs[i].data, b.envs[i].len);
    origo_buf p;
    proposal(&b, &p);
    sigcheck *s = NULL;
    assert_int_equal(sigcheck_new(p.data, p.len, LT_NET, seen, &s), 0);
    origo_buf_close(&p);
    assert_int_equal(sigcheck_finish(s), 1);
    assert_int_equal(sigcheck_seen(s), EVENTS / 2);
    sigcheck_free(s);

    /* Event 0's body under another member's signature: not the bytes
     * that were seen, so it is verified, and fails. */
    origo_envelope e0;
    assert_int_equal(origo_envelope_decode(b.envs[0].data, b.envs[0].len, &e0),
                     0);
    uint8_t sig[ORIGO_SIG_LEN];
    assert_int_equal(
        origo_event_sign(net.keys[LT_PLANT], e0.body, e0.body_len, sig), 0);
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    assert_int_equal(origo_envelope_encode(e0.body, e0.body_len, sig, &env), 0);
    lt_block_add(&forged, env.data, env.len);
    origo_buf_close(&env);
    assert_false(sigseen_has(seen, forged.envs[0].data, forged.envs[0].len));
    proposal(&forged, &p);
    assert_int_equal(sigcheck_new(p.data, p.len, LT_NET, seen, &s), 0);
    origo_buf_close(&p);
    assert_int_equal(sigcheck_finish(s), 0);
    assert_int_equal(sigcheck_seen(s), 0);
    sigcheck_free(s);
    sigseen_free(seen);

    /* One slot: the second digest pushes the first out. */
    seen = sigseen_new(0);
    sigseen_add(seen, b.envs[0].data, b.envs[0].len);
    assert_true(sigseen_has(seen, b.envs[0].data, b.envs[0].len));
    sigseen_add(seen, b.envs[1].data, b.envs[1].len);
    assert_false(sigseen_has(seen, b.envs[0].data, b.envs[0].len));
    assert_true(sigseen_has(seen, b.envs[1].data, b.envs[1].len));
    sigseen_free(seen);
    lt_block_clear(&b);
    lt_block_clear(&forged);
    lt_net_close(&net);
}

static void test_not_a_proposal(void **state)
{
    (void)state;
    static const uint8_t junk[] = {0x93, 0x02, 0x00, 0x90};
    sigcheck *s = NULL;
    assert_int_equal(sigcheck_new(junk, sizeof(junk), LT_NET, NULL, &s),
                     ORIGO_E_INVAL);
    assert_int_equal(sigcheck_new(junk, 0, LT_NET, NULL, &s), ORIGO_E_INVAL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone),
        cmocka_unit_test(test_applier_waits_for_held_event),
        cmocka_unit_test(test_many_threads),
        cmocka_unit_test(test_seen),
        cmocka_unit_test(test_not_a_proposal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
