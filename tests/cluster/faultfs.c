/* An LD_PRELOAD shim for disk faults (docs/reliability.md), used by
 * tests/cluster/test_faults.py: a validator whose disk fails must stop
 * without acknowledging what it could not store. Set one of:
 *
 *   ORIGO_FAULT_SYNC_AFTER=N   after N successful fsync()/fdatasync()
 *                              calls, every later one fails with EIO (a
 *                              disk that stopped taking writes);
 *   ORIGO_FAULT_NOSPACE_AFTER=N  after N writes to regular files, every
 *                              later one fails with ENOSPC (a full disk);
 *   ORIGO_FAULT_SHORT_AFTER=N  after N writes to regular files, every
 *                              later one writes half its bytes and
 *                              returns that count (a short write).
 *
 * Writes to sockets, pipes and the standard streams are never touched:
 * only the disk fails. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, the ...64 declarations */
#endif
/* Both pwrite and pwrite64 (and the pwritev pair) are defined here, as
 * libraries call either: the build's _FILE_OFFSET_BITS=64 would make the
 * headers name the first of each pair like the second. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long syncs, writes;

static long setting(const char *name)
{
    const char *value = getenv(name);
    return value ? strtol(value, NULL, 10) : -1;
}

static int sync_failing(void)
{
    long after = setting("ORIGO_FAULT_SYNC_AFTER");
    return after >= 0 && atomic_fetch_add(&syncs, 1) >= after;
}

/* What a write to `fd` of `len` bytes does: 0 (goes through), -1 (fails
 * with ENOSPC) or 1 (short). */
static int write_fault(int fd, size_t len)
{
    long nospace = setting("ORIGO_FAULT_NOSPACE_AFTER");
    long shorten = setting("ORIGO_FAULT_SHORT_AFTER");
    struct stat st;
    /* Not stdout or stderr either: the node must be able to say why it
     * stopped (the test sends its log to a file). */
    if ((nospace < 0 && shorten < 0) || fd <= 2 || len < 2 ||
        fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    long n = atomic_fetch_add(&writes, 1);
    if (nospace >= 0 && n >= nospace)
        return -1;
    return shorten >= 0 && n >= shorten ? 1 : 0;
}

#define REAL(type, name, args)                                                 \
    static type(*real) args;                                                   \
    if (!real)                                                                 \
    real = (type(*) args)dlsym(RTLD_NEXT, name)

int fdatasync(int fd)
{
    REAL(int, "fdatasync", (int));
    if (sync_failing()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fsync(int fd)
{
    REAL(int, "fsync", (int));
    if (sync_failing()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(ssize_t, "write", (int, const void *, size_t));
    switch (write_fault(fd, len)) {
    case -1:
        errno = ENOSPC;
        return -1;
    case 1:
        return real(fd, buf, len / 2);
    default:
        return real(fd, buf, len);
    }
}

static ssize_t positioned(const char *name, int fd, const void *buf, size_t len,
                          off64_t off)
{
    /* Both names resolve to the same call on a 64-bit system. */
    ssize_t (*real)(int, const void *, size_t, off64_t) =
        (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, name);
    switch (write_fault(fd, len)) {
    case -1:
        errno = ENOSPC;
        return -1;
    case 1:
        return real(fd, buf, len / 2, off);
    default:
        return real(fd, buf, len, off);
    }
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    return positioned("pwrite", fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    return positioned("pwrite64", fd, buf, len, off);
}

/* Vectored writes: the fault applies to the whole call; a short one
 * writes the first half of the first buffer. */
static ssize_t vectored(int fd, const struct iovec *iov, int count, off64_t off,
                        int at)
{
    REAL(ssize_t, "pwritev64", (int, const struct iovec *, int, off64_t));
    static ssize_t (*plain)(int, const struct iovec *, int);
    if (!plain)
        plain = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT,
                                                                  "writev");
    size_t len = 0;
    for (int i = 0; i < count; i++)
        len += iov[i].iov_len;
    int fault = write_fault(fd, len);
    if (fault < 0) {
        errno = ENOSPC;
        return -1;
    }
    if (fault > 0 && count > 0) {
        struct iovec half = {iov[0].iov_base, iov[0].iov_len / 2};
        return at ? real(fd, &half, 1, off) : plain(fd, &half, 1);
    }
    return at ? real(fd, iov, count, off) : plain(fd, iov, count);
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off)
{
    return vectored(fd, iov, count, off, 1);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int count, off64_t off)
{
    return vectored(fd, iov, count, off, 1);
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
    return vectored(fd, iov, count, 0, 0);
}
