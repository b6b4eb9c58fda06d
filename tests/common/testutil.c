/* Shared test helpers: files, vectors and hex. Test programs only. */
#include "testutil.h"

#include "origo/keys.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

uint8_t *testutil_read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    size_t cap = 4096, used = 0;
    uint8_t *data = malloc(cap + 1);
    while (data) {
        size_t got = fread(data + used, 1, cap - used, file);
        used += got;
        if (got == 0)
            break;
        if (used == cap) {
            cap *= 2;
            uint8_t *grown = realloc(data, cap + 1);
            if (!grown) {
                free(data);
                data = NULL;
            }
            data = grown;
        }
    }
    fclose(file);
    if (!data)
        return NULL;
    data[used] = 0;
    *len = used;
    return data;
}

json_t *testutil_load_vector(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", ORIGO_TEST_VECTORS, name);
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!root) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, error.text,
                error.line);
        abort();
    }
    return root;
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

long testutil_unhex(const char *hex, uint8_t *out, size_t out_max)
{
    size_t len = strlen(hex);
    if (len % 2 || len / 2 > out_max)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

void testutil_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = 0;
}

void testutil_rfc3339(uint64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm utc;
    gmtime_r(&secs, &utc);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

char *testutil_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[1024];
    snprintf(tmpl, sizeof(tmpl), "%s/origo-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void testutil_rmtree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct origo_key *testutil_key_filled(const char *name, uint8_t fill)
{
    uint8_t seed[32];
    memset(seed, fill, sizeof(seed));
    origo_key *key = NULL;
    if (origo_key_from_seed(name, seed, &key) != 0) {
        fprintf(stderr, "testutil_key_filled: %s\n", name);
        abort();
    }
    return key;
}
