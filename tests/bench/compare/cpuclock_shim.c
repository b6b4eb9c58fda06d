/* LD_PRELOAD shim for benchmarking on a shared, loaded machine: reads of
 * CLOCK_MONOTONIC return the calling process's CPU time instead, so a
 * benchmark that times itself with CLOCK_MONOTONIC (bench_raft.c,
 * bench_libraft.c) reports seconds of CPU it used rather than seconds it
 * spent waiting for a core. Meant for single-threaded benchmarks only; every
 * other clock passes through unchanged. */
#include <dlfcn.h>
#include <errno.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static clock_gettime_fn real_clock_gettime;

    if (real_clock_gettime == NULL) {
        void *sym = dlsym(RTLD_NEXT, "clock_gettime");

        if (sym == NULL) {
            errno = ENOSYS;
            return -1;
        }
        real_clock_gettime = (clock_gettime_fn)sym;
    }
    if (id == CLOCK_MONOTONIC)
        id = CLOCK_PROCESS_CPUTIME_ID;
    return real_clock_gettime(id, ts);
}
