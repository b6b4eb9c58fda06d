/* Helpers shared by the CLI verbs: atomic writes,
 * hex, and error printing. Kept here so that every verb reports problems
 * the same way. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "origo/error.h"
#include "origo/event.h"

int cli_write_file(const char *path, const void *data, size_t len,
                   unsigned mode)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return ORIGO_E_INVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, (mode_t)mode);
    if (fd < 0)
        return ORIGO_E_IO;
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t wrote = write(fd, p, left);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            goto err_after_open;
        p += wrote;
        left -= (size_t)wrote;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0)
        goto err_after_open;
    if (close(fd) != 0) {
        unlink(tmp);
        return ORIGO_E_IO;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return ORIGO_E_IO;
    }
    return 0;

err_after_open:
    close(fd);
    unlink(tmp);
    return ORIGO_E_IO;
}

int cli_output(const char *verb, const char *path, const void *data, size_t len)
{
    if (path) {
        int rc = cli_write_file(path, data, len, 0644);
        if (rc)
            cli_error(verb, "%s: cannot write: %s", path, origo_strerror(rc));
        return rc;
    }
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        cli_error(verb, "standard output: write failed");
        return ORIGO_E_IO;
    }
    return 0;
}

void cli_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cli_unhex(const char *hex, uint8_t *out, size_t out_len)
{
    if (strlen(hex) != 2 * out_len)
        return ORIGO_E_INVAL;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ORIGO_E_INVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "origo %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_roles(uint32_t roles, char *out, size_t size)
{
    out[0] = '\0';
    for (unsigned b = 1; b <= ORIGO_ROLE_ALL; b <<= 1) {
        if (roles & b) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%s%s", used ? "," : "",
                     origo_role_name(b));
        }
    }
}
