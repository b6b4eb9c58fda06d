/* One entry's signatures, shared by the crypto pool and the applier
 * (sigcheck.h). */
#include "sigcheck.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"
#include "origo/event.h"
#include "replica.h"

struct sigcheck {
    uint8_t *data; /* the entry's bytes; envs point into them */
    ledger_envelope *envs;
    size_t count;
    char *origin;
    atomic_size_t next;      /* the next event to take */
    atomic_size_t here;      /* verified inside sigcheck_finish() */
    pthread_mutex_t mu;      /* guards done and bad */
    pthread_cond_t all_done; /* done == count */
    size_t done;
    int bad;
    void (*hook)(void *ctx, size_t i, int finishing);
    void *hook_ctx;
};

int sigcheck_new(const uint8_t *data, size_t len, const char *origin,
                 sigcheck **out)
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
    atomic_init(&s->next, 0);
    atomic_init(&s->here, 0);
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
        int ok = origo_envelope_verify(s->envs[i].data, s->envs[i].len,
                                       s->origin, n_origin, NULL, NULL) == 0;
        if (finishing)
            atomic_fetch_add(&s->here, 1);
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
