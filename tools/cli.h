/* Small helpers shared by the origo CLI's verbs: atomic writes, hex, and a
 * uniform way to report errors that name the file, the field and what was
 * expected. Whole-file reads are origo_read_file() (origo/file.h). */
#ifndef ORIGO_TOOLS_CLI_H
#define ORIGO_TOOLS_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Writes a file atomically (temp file in the same directory, fsync,
 * rename) with the given mode. Returns 0 or ORIGO_E_IO. */
int cli_write_file(const char *path, const void *data, size_t len,
                   unsigned mode);
/* Writes `data` to the file `path` (atomically, mode 0644) or, when path is
 * NULL, to standard output. Prints an error naming the destination and
 * returns ORIGO_E_IO on failure. */
int cli_output(const char *verb, const char *path, const void *data,
               size_t len);
/* Lower-case hex of len bytes into out (2*len+1 chars). */
void cli_hex(const uint8_t *bytes, size_t len, char *out);
/* Role names of an ORIGO_ROLE_* mask, comma-separated, into out. */
void cli_roles(uint32_t roles, char *out, size_t size);
/* Parses exactly out_len bytes of hex. Returns 0 or ORIGO_E_INVAL. */
int cli_unhex(const char *hex, uint8_t *out, size_t out_len);
/* "s" unless n is 1: "%zu lot%s", n, cli_s(n). */
static inline const char *cli_s(size_t n)
{
    return n == 1 ? "" : "s";
}

/* Prints "origo <verb>: <message>\n" to stderr, printf-style. */
void cli_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
