/* Reading a whole file, bounded: for the small files every party reads
 * (genesis, trust files, reports, configuration). */
#ifndef ORIGO_FILE_H
#define ORIGO_FILE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a whole file of at most `max` bytes into a malloc()ed buffer with a
 * NUL after the data (not counted in *len); the caller frees it. Returns 0,
 * ORIGO_E_NOTFOUND, ORIGO_E_IO (errno tells why), ORIGO_E_TOOBIG or
 * ORIGO_E_NOMEM. Any thread. */
int origo_read_file(const char *path, size_t max, uint8_t **data, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
