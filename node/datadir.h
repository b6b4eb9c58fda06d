/* The data directory's lock: one origo-node per directory. Two processes
 * sharing one ledger would each believe they are the validator, and vote
 * twice in a term.
 *
 * Loop thread, at start. */
#ifndef ORIGO_NODE_DATADIR_H
#define ORIGO_NODE_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "origo/keys.h"

/* Takes DIR/LOCK with flock(LOCK_EX | LOCK_NB) and writes this process's
 * ID into it. The lock lasts while *fd stays open (the process's life).
 * Returns 0; ORIGO_E_BUSY with msg naming the process that holds it and
 * what to do; ORIGO_E_IO with msg naming the file and the reason. */
int datadir_lock(const char *dir, int *fd, char *msg, size_t msg_size);

/* The store's seal (node/README.md, "A store changed at rest"): at a clean
 * stop, once the store is closed, datadir_seal() writes LEDGER_DIR/seal:
 * the size and hash (datadir_seal_hash()) of LEDGER_DIR/data.mdb, signed
 * with the validator's key, durably (a temporary file, fsync, rename, fsync of
 * the directory). At the next start, before the store is opened,
 * datadir_check_seal() recomputes them: a store whose bytes changed while
 * the node was stopped (a disk that rots, an edit) is refused, so nothing
 * it holds is served or voted on; a matching seal is removed before the
 * store is written again. No seal (the last stop was not clean, or the
 * directory is new): nothing to check, 0.
 *
 * Both return 0; datadir_check_seal() ORIGO_E_CORRUPT with msg saying what
 * changed and what to do; ORIGO_E_IO with msg naming the file and the
 * reason. */
int datadir_seal(const char *ledger_dir, const origo_key *key, char *msg,
                 size_t msg_size);

/* The seal's hash (v2, node/README.md, "A store changed at rest"): the
 * file in chunks of `chunk` bytes, each chunk's BLAKE2b-256, then
 * BLAKE2b-256("origo/store-seal/v2" NUL || size || chunk, both 8 bytes
 * big-endian || the chunks' hashes in order). The chunks are hashed by
 * `threads` threads (this one among them): the same hash however many.
 * A seal uses DATADIR_SEAL_CHUNK; tests use small chunks. Returns 0,
 * ORIGO_E_IO (msg says why) or ORIGO_E_NOMEM. */
#define DATADIR_SEAL_CHUNK ((uint64_t)64 << 20)
int datadir_seal_hash(const char *path, uint64_t chunk, unsigned threads,
                      uint64_t *size, uint8_t hash[32], char *msg,
                      size_t msg_size);
int datadir_check_seal(const char *ledger_dir, const origo_key *key, char *msg,
                       size_t msg_size);

#endif
