/* The data directory's lock: one origo-node per directory. Two processes
 * sharing one ledger would each believe they are the validator, and vote
 * twice in a term.
 *
 * Loop thread, at start. */
#ifndef ORIGO_NODE_DATADIR_H
#define ORIGO_NODE_DATADIR_H

#include <stddef.h>

/* Takes DIR/LOCK with flock(LOCK_EX | LOCK_NB) and writes this process's
 * ID into it. The lock lasts while *fd stays open (the process's life).
 * Returns 0; ORIGO_E_BUSY with msg naming the process that holds it and
 * what to do; ORIGO_E_IO with msg naming the file and the reason. */
int datadir_lock(const char *dir, int *fd, char *msg, size_t msg_size);

#endif
