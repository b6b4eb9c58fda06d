/* An LD_PRELOAD shim for disk faults (docs/reliability.md): after
 * ORIGO_FAULT_SYNC_AFTER successful fsync()/fdatasync() calls, every later
 * one fails with EIO (a disk that stopped taking writes). Used by
 * tests/cluster/test_faults.py: a validator whose fsync fails must stop
 * without acknowledging what it could not store. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_long calls;

static int failing(void)
{
    const char *after = getenv("ORIGO_FAULT_SYNC_AFTER");
    return after && atomic_fetch_add(&calls, 1) >= strtol(after, NULL, 10);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (failing()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (failing()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
