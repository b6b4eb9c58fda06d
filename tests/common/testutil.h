/* Helpers shared by the test programs: reading files and vectors, hex. */
#ifndef ORIGO_TESTUTIL_H
#define ORIGO_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a whole file into a malloc()ed buffer (NUL-terminated for
 * convenience; the terminator is not counted in *len). NULL on failure. */
uint8_t *testutil_read_file(const char *path, size_t *len);
/* Loads tests/vectors/<name> as JSON; aborts the test program on failure. */
json_t *testutil_load_vector(const char *name);
/* Decodes lower- or upper-case hex into out (at most out_max bytes).
 * Returns the byte count, or -1 on malformed input. */
long testutil_unhex(const char *hex, uint8_t *out, size_t out_max);
/* Writes 2*len+1 chars of lower-case hex into out. */
void testutil_hex(const uint8_t *bytes, size_t len, char *out);
/* Process-wide allocation-failure injection (alloc_fault.c): after
 * testutil_alloc_budget(n), n more calls of malloc, calloc or realloc
 * succeed and every further one fails with ENOMEM (n < 0: no limit, the
 * default). Not available under AddressSanitizer, which owns the
 * allocator: testutil_alloc_available() is then 0 and a budget does
 * nothing. */
int testutil_alloc_available(void);
void testutil_alloc_budget(long budget);
/* Writes Unix time `ms` as an RFC 3339 UTC time with milliseconds
 * ("2026-11-21T10:00:00.000Z", an EPCIS eventTime) into out. */
void testutil_rfc3339(uint64_t ms, char out[32]);
/* A key whose 32-byte seed is `fill` repeated (the worked examples'
 * validators: 01.., 02..); aborts the test program on failure. */
struct origo_key;
struct origo_key *testutil_key_filled(const char *name, uint8_t fill);
/* Creates a fresh temporary directory; returns a static-lifetime malloc()ed
 * path the caller frees. */
char *testutil_tmpdir(void);
/* Removes a directory tree (best effort). */
void testutil_rmtree(const char *path);

#endif
