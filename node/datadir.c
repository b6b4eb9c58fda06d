/* The data directory's lock: see datadir.h. flock() locks belong to the
 * open file description, so a second open in the same process is refused
 * too, and the kernel drops the lock when the process dies, however it
 * dies: there is no stale lock to clean up. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "origo/error.h"

int datadir_lock(const char *dir, int *fd_out, char *msg, size_t msg_size)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/LOCK", dir) >= (int)sizeof(path)) {
        snprintf(msg, msg_size, "%s: path too long", dir);
        return ORIGO_E_IO;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, msg_size, "%s: cannot open: %s", path, strerror(errno));
        return ORIGO_E_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (err == EWOULDBLOCK) {
            snprintf(msg, msg_size,
                     "%s is in use by another origo-node (process %s); stop "
                     "it first, or give this one another data directory",
                     dir, holder[0] ? holder : "unknown");
            return ORIGO_E_BUSY;
        }
        snprintf(msg, msg_size, "%s: cannot lock: %s", path, strerror(err));
        return ORIGO_E_IO;
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        snprintf(msg, msg_size, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return ORIGO_E_IO;
    }
    *fd_out = fd;
    return 0;
}
