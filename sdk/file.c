/* origo_read_file(): see origo/file.h. */
#include "origo/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "origo/error.h"

int origo_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return errno == ENOENT ? ORIGO_E_NOTFOUND : ORIGO_E_IO;
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap + 1);
    int rc = buf ? 0 : ORIGO_E_NOMEM;
    while (!rc) {
        size_t got = fread(buf + used, 1, cap - used, file);
        used += got;
        if (got == 0) {
            if (ferror(file))
                rc = ORIGO_E_IO;
            break;
        }
        if (used > max) {
            rc = ORIGO_E_TOOBIG;
        } else if (used == cap) {
            uint8_t *grown = realloc(buf, cap * 2 + 1);
            if (!grown)
                rc = ORIGO_E_NOMEM;
            else
                buf = grown;
            cap *= 2;
        }
    }
    fclose(file);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[used] = 0;
    *data = buf;
    *len = used;
    return 0;
}
