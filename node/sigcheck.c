/* One entry's signatures, shared by the crypto pool and the applier
 * (sigcheck.h). */
#include "sigcheck.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "origo/error.h"
#include "origo/event.h"
#include "replica.h"

struct sigcheck {
    uint8_t *data; /* the entry's bytes; envs point into them */
    ledger_envelope *envs;
    size_t count;
    char *origin;
    atomic_size_t next;       /* the next event to take */
    atomic_size_t here;       /* verified inside sigcheck_finish() */
    atomic_size_t seen_count; /* found in seen */
    sigseen *seen;
    pthread_mutex_t mu;      /* guards done and bad */
    pthread_cond_t all_done; /* done == count */
    size_t done;
    int bad;
    void (*hook)(void *ctx, size_t i, int finishing);
    void *hook_ctx;
};

struct sigseen {
    pthread_mutex_t mu;
    size_t mask;
    uint8_t (*slot)[32];
};

sigseen *sigseen_new(size_t slots_log2)
{
    sigseen *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->mask = ((size_t)1 << slots_log2) - 1;
    /* All zeroes is no envelope's digest (with the probability of a
     * preimage). */
    t->slot = calloc(t->mask + 1, sizeof(*t->slot));
    if (!t->slot) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

static size_t seen_digest(const sigseen *t, const uint8_t *env, size_t len,
                          uint8_t d[32])
{
    crypto_generichash(d, 32, env, len, NULL, 0);
    return ((size_t)d[0] | (size_t)d[1] << 8 | (size_t)d[2] << 16 |
            (size_t)d[3] << 24) &
           t->mask;
}

void sigseen_add(sigseen *t, const uint8_t *envelope, size_t len)
{
    uint8_t d[32];
    size_t i = seen_digest(t, envelope, len, d);
    pthread_mutex_lock(&t->mu);
    memcpy(t->slot[i], d, 32);
    pthread_mutex_unlock(&t->mu);
}

int sigseen_has(sigseen *t, const uint8_t *envelope, size_t len)
{
    uint8_t d[32];
    size_t i = seen_digest(t, envelope, len, d);
    pthread_mutex_lock(&t->mu);
    int hit = memcmp(t->slot[i], d, 32) == 0;
    pthread_mutex_unlock(&t->mu);
    return hit;
}

void sigseen_free(sigseen *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->slot);
    free(t);
}

int sigcheck_new(const uint8_t *data, size_t len, const char *origin,
                 sigseen *seen, sigcheck **out)
{
    sigcheck *s = calloc(1, sizeof(*s));
    if (!s)
        return ORIGO_E_NOMEM;
    s->data = malloc(len ? len : 1);
    s->origin = strdup(origin);
    if (!s->data || !s->origin) {
        free(s->data);
        free(s->origin);
        free(s);
        return ORIGO_E_NOMEM;
    }
    if (len)
        memcpy(s->data, data, len);
    uint64_t time_ms;
    long count = replica_decode_proposal(s->data, len, &s->envs, &time_ms);
    if (count <= 0) {
        free(s->data);
        free(s->origin);
        free(s);
        return count == -2 ? ORIGO_E_NOMEM : ORIGO_E_INVAL;
    }
    s->count = (size_t)count;
    s->seen = seen;
    atomic_init(&s->next, 0);
    atomic_init(&s->here, 0);
    atomic_init(&s->seen_count, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->all_done, NULL);
    *out = s;
    return 0;
}

static void take(sigcheck *s, int finishing)
{
    size_t n_origin = strlen(s->origin);
    for (;;) {
        size_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->count)
            return;
        if (s->hook)
            s->hook(s->hook_ctx, i, finishing);
        int ok;
        if (s->seen && sigseen_has(s->seen, s->envs[i].data, s->envs[i].len)) {
            ok = 1;
            atomic_fetch_add(&s->seen_count, 1);
        } else {
            ok = origo_envelope_verify(s->envs[i].data, s->envs[i].len,
                                       s->origin, n_origin, NULL, NULL) == 0;
            if (finishing)
                atomic_fetch_add(&s->here, 1);
        }
        pthread_mutex_lock(&s->mu);
        s->bad |= !ok;
        if (++s->done == s->count)
            pthread_cond_broadcast(&s->all_done);
        pthread_mutex_unlock(&s->mu);
    }
}

void sigcheck_work(sigcheck *s)
{
    take(s, 0);
}

int sigcheck_finish(sigcheck *s)
{
    take(s, 1);
    pthread_mutex_lock(&s->mu);
    while (s->done < s->count)
        pthread_cond_wait(&s->all_done, &s->mu);
    int ok = !s->bad;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

size_t sigcheck_finished_here(const sigcheck *s)
{
    return atomic_load(&s->here);
}

size_t sigcheck_seen(const sigcheck *s)
{
    return atomic_load(&s->seen_count);
}

size_t sigcheck_count(const sigcheck *s)
{
    return s->count;
}

void sigcheck_set_hook(sigcheck *s,
                       void (*hook)(void *ctx, size_t i, int finishing),
                       void *ctx)
{
    s->hook = hook;
    s->hook_ctx = ctx;
}

void sigcheck_free(sigcheck *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->all_done);
    free(s->envs);
    free(s->data);
    free(s->origin);
    free(s);
}
