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
 *                              returns that count (a short write);
 *   ORIGO_FAULT_POWER_AT=N     a power loss at the N-th flush boundary
 *   [ORIGO_FAULT_POWER_SEED=S] (below);
 *   [ORIGO_FAULT_POWER_LIES=1] with it, a disk that lies: flushes return
 *                              success and make nothing durable (to show
 *                              that the tests catch what that loses).
 *
 * Writes to sockets, pipes and the standard streams are never touched:
 * only the disk fails.
 *
 * Power loss. A disk keeps what was written since the last flush in its
 * cache; on a power loss some of it reaches the platter and some does not,
 * in any order, a page at a time. The shim emulates that: every write to
 * a regular file goes through (so the process, and LMDB's map, read what
 * they wrote) but its pre-image is kept, per 4 KiB page, until the file is
 * flushed: fsync()/fdatasync() of any descriptor of that file, or the
 * write itself when the descriptor was opened with O_DSYNC or O_SYNC (as
 * LMDB writes its meta pages). Flushes and synchronous writes are the
 * flush boundaries, counted from 1 from the start of the process. At the
 * N-th, before or after it (the seed decides), the shim restores the
 * pre-image of each page written since its file's last flush with
 * probability 1/2, latest first, so each page ends up new, old or at an
 * intermediate version, and the process SIGKILLs itself: what the files
 * hold then is what a disk could hold after losing power there. Every
 * write and flush is serialised behind one lock, so no thread writes while
 * the pages are put back. Not emulated: metadata (a file's size, creation
 * or rename lost with the power; a page written beyond the end of the file
 * is put back as zeros). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, the ...64 declarations */
#endif
/* Both pwrite and pwrite64 (and the pwritev pair) are defined here, as
 * libraries call either: the build's _FILE_OFFSET_BITS=64 would make the
 * headers name the first of each pair like the second. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- power loss ---- */

#define PAGE 4096

struct undo {
    dev_t dev;
    ino_t ino;
    off64_t off; /* page-aligned */
    size_t len;  /* bytes of the page that existed before (rest: zeros) */
    unsigned char old[PAGE];
};

static pthread_mutex_t power_lock = PTHREAD_MUTEX_INITIALIZER;
static struct undo **undos;
static size_t n_undos, cap_undos;
static long boundaries;
static uint64_t power_rng;

static long power_at(void)
{
    static long at = -2;
    if (at == -2) {
        at = setting("ORIGO_FAULT_POWER_AT");
        long seed = setting("ORIGO_FAULT_POWER_SEED");
        power_rng = (uint64_t)(seed > 0 ? seed : 1) * 0x9E3779B97F4A7C15ull;
    }
    return at;
}

static uint64_t next_random(void)
{
    power_rng ^= power_rng << 13;
    power_rng ^= power_rng >> 7;
    power_rng ^= power_rng << 17;
    return power_rng;
}

static ssize_t (*real_pread)(int, void *, size_t, off64_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off64_t);

static void resolve(void)
{
    if (!real_pread) {
        real_pread = (ssize_t(*)(int, void *, size_t, off64_t))dlsym(RTLD_NEXT,
                                                                     "pread64");
        real_pwrite = (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(
            RTLD_NEXT, "pwrite64");
    }
}

/* The power goes: put back about half the unflushed pages, then die. */
static void lose_power(void)
{
    resolve();
    for (size_t i = n_undos; i-- > 0;) {
        struct undo *u = undos[i];
        if (next_random() & 1)
            continue; /* this page reached the disk */
        unsigned char page[PAGE];
        memset(page, 0, sizeof page);
        memcpy(page, u->old, u->len);
        /* Through any open descriptor of the file that takes the write,
         * and never beyond its end. */
        for (int fd = 3; fd < 1024; fd++) {
            struct stat st;
            if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
                st.st_dev != u->dev || st.st_ino != u->ino)
                continue;
            size_t len =
                st.st_size > u->off ? (size_t)(st.st_size - u->off) : 0;
            if (len > PAGE)
                len = PAGE;
            if (len == 0 || real_pwrite(fd, page, len, u->off) == (ssize_t)len)
                break;
        }
    }
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}

/* Counts a flush boundary (a flush, or a synchronous write); 1 if the
 * power goes at this one, and `*after` says whether after it or before. */
static int boundary_is_power_loss(int *after)
{
    long at = power_at();
    if (at < 0 || ++boundaries != at)
        return 0;
    *after = (int)(next_random() & 1);
    return 1;
}

static void forget(dev_t dev, ino_t ino, off64_t from, off64_t to)
{
    static long lies = -2;
    if (lies == -2)
        lies = setting("ORIGO_FAULT_POWER_LIES");
    if (lies == 1)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < n_undos; i++) {
        struct undo *u = undos[i];
        if (u->dev == dev && u->ino == ino && u->off < to &&
            u->off + PAGE > from)
            free(u);
        else
            undos[kept++] = u;
    }
    n_undos = kept;
}

/* Keeps the pre-image of the pages [off, off + len) of `fd`'s file. */
static void remember(int fd, const struct stat *st, off64_t off, size_t len)
{
    resolve();
    for (off64_t page = off & ~(off64_t)(PAGE - 1); page < off + (off64_t)len;
         page += PAGE) {
        if (n_undos == cap_undos) {
            size_t cap = cap_undos ? cap_undos * 2 : 256;
            struct undo **grown = realloc(undos, cap * sizeof *grown);
            if (!grown)
                abort(); /* a test shim: no way to go on faithfully */
            undos = grown;
            cap_undos = cap;
        }
        struct undo *u = malloc(sizeof *u);
        if (!u)
            abort();
        u->dev = st->st_dev;
        u->ino = st->st_ino;
        u->off = page;
        ssize_t got = real_pread(fd, u->old, PAGE, page);
        if (got < 0) {
            /* A write-only descriptor: read through another one. */
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            int rd = open(path, O_RDONLY | O_CLOEXEC);
            got = rd >= 0 ? real_pread(rd, u->old, PAGE, page) : -1;
            if (rd >= 0)
                close(rd);
        }
        u->len = got > 0 ? (size_t)got : 0;
        undos[n_undos++] = u;
    }
}

/* One write or flush in progress while a power loss is set. */
struct around {
    int active;    /* the lock is held */
    int dsync;     /* a synchronous write: a flush boundary itself */
    int die_after; /* the power goes once it is done */
    dev_t dev;
    ino_t ino;
    off64_t off;
};

/* Before every write to a regular file when a power loss is set: takes the
 * lock, keeps the pre-images, or loses the power before a synchronous
 * write. `off` < 0: the descriptor's own position. */
static void write_begin(struct around *a, int fd, off64_t off, size_t len)
{
    struct stat st;
    a->active = 0;
    if (power_at() < 0 || fd <= 2 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    pthread_mutex_lock(&power_lock);
    a->active = 1;
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    int flags = fcntl(fd, F_GETFL);
    a->dsync = flags >= 0 && (flags & (O_DSYNC | O_SYNC));
    if (off < 0)
        off = (flags >= 0 && (flags & O_APPEND)) ? st.st_size
                                                 : lseek(fd, 0, SEEK_CUR);
    a->off = off;
    a->die_after = 0;
    if (a->dsync && boundary_is_power_loss(&a->die_after) && !a->die_after)
        lose_power();
    remember(fd, &st, off, len); /* a synchronous write forgets it after */
}

static void write_done(struct around *a, ssize_t wrote)
{
    if (!a->active)
        return;
    if (a->dsync && wrote > 0)
        forget(a->dev, a->ino, a->off, a->off + wrote);
    if (a->die_after)
        lose_power();
    pthread_mutex_unlock(&power_lock);
}

/* Around fsync()/fdatasync(): a flush boundary. */
static void flush_begin(struct around *a)
{
    a->active = 0;
    if (power_at() < 0)
        return;
    pthread_mutex_lock(&power_lock);
    a->active = 1;
    a->die_after = 0;
    if (boundary_is_power_loss(&a->die_after) && !a->die_after)
        lose_power();
}

static void flush_done(struct around *a, int fd, int rc)
{
    struct stat st;
    if (!a->active)
        return;
    if (rc == 0 && fstat(fd, &st) == 0)
        forget(st.st_dev, st.st_ino, 0, INT64_MAX);
    if (a->die_after)
        lose_power();
    pthread_mutex_unlock(&power_lock);
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
    struct around a;
    flush_begin(&a);
    int rc = real(fd);
    flush_done(&a, fd, rc);
    return rc;
}

int fsync(int fd)
{
    REAL(int, "fsync", (int));
    if (sync_failing()) {
        errno = EIO;
        return -1;
    }
    struct around a;
    flush_begin(&a);
    int rc = real(fd);
    flush_done(&a, fd, rc);
    return rc;
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
    default: {
        struct around a;
        write_begin(&a, fd, -1, len);
        ssize_t n = real(fd, buf, len);
        write_done(&a, n);
        return n;
    }
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
    default: {
        struct around a;
        write_begin(&a, fd, off, len);
        ssize_t n = real(fd, buf, len, off);
        write_done(&a, n);
        return n;
    }
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
    struct around a;
    write_begin(&a, fd, at ? off : -1, len);
    ssize_t n = at ? real(fd, iov, count, off) : plain(fd, iov, count);
    write_done(&a, n);
    return n;
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
