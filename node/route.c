/* HTTP routing and its parsers (route.h). */
#include "route.h"

#include <stdio.h>
#include <string.h>

int route_find(const void *table, size_t count, size_t stride,
               const char *method, const char *path, const char **rest,
               const char **allowed)
{
    if (!strcmp(method, "HEAD"))
        method = "GET";
    *allowed = NULL;
    for (size_t i = 0; i < count; i++) {
        const route_pattern *r =
            (const route_pattern *)(const void *)((const char *)table +
                                                  i * stride);
        size_t len = strlen(r->path);
        int any = len >= 3 && !strcmp(r->path + len - 3, "/**");
        if (any)
            len -= 2; /* match up to and with the '/' */
        int prefix = any || (len > 0 && r->path[len - 1] == '/');
        if (prefix ? strncmp(path, r->path, len) != 0 || !path[len] ||
                         (!any && strchr(path + len, '/') != NULL)
                   : strcmp(path, r->path) != 0)
            continue;
        if (strcmp(method, r->method)) {
            *allowed = r->method;
            continue;
        }
        *rest = path + len;
        return (int)i;
    }
    return *allowed ? ROUTE_WRONG_METHOD : ROUTE_NOT_FOUND;
}

int route_parse_u64(const char *text, uint64_t *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 19 || (text[0] == '0' && len > 1))
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(text[i] - '0');
    }
    *out = x;
    return 0;
}

int route_split_target(const char *target, char *path, size_t path_size,
                       char *query, size_t query_size)
{
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    size_t qlen = q ? strlen(q) : 0;
    if (plen >= path_size || qlen >= query_size)
        return -1;
    memcpy(path, target, plen);
    path[plen] = '\0';
    memcpy(query, q ? q : "", qlen);
    query[qlen] = '\0';
    return 0;
}

/* Reads 1..digits decimal digits exactly (no sign). */
static int digits(const char **p, unsigned n, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int route_parse_tile(const char *path, unsigned *level, uint64_t *index,
                     unsigned *width)
{
    const char *p = path;
    if (*p < '0' || *p > '7' || p[1] != '/')
        return -1;
    *level = (unsigned)(*p - '0');
    p += 2;
    uint64_t n = 0, group;
    int first = 1;
    for (;;) {
        if (*p == 'x') {
            p++;
            if (digits(&p, 3, &group) || *p != '/' || (first && group == 0) ||
                n > (UINT64_MAX - group) / 1000)
                return -1;
            n = n * 1000 + group;
            p++;
            first = 0;
            continue;
        }
        if (digits(&p, 3, &group) || n > (UINT64_MAX - group) / 1000)
            return -1;
        n = n * 1000 + group;
        break;
    }
    *index = n;
    if (*p == '\0') {
        *width = 256;
        return 0;
    }
    if (strncmp(p, ".p/", 3) != 0)
        return -1;
    p += 3;
    uint64_t w;
    if (route_parse_u64(p, &w) != 0 || w == 0 || w > 255)
        return -1;
    *width = (unsigned)w;
    return 0;
}

int route_format_tile(unsigned level, uint64_t index, unsigned width, char *out,
                      size_t out_size)
{
    char groups[8][4];
    int n = 0;
    do {
        snprintf(groups[n++], sizeof(groups[0]), "%03u",
                 (unsigned)(index % 1000));
        index /= 1000;
    } while (index > 0 && n < 8);
    size_t at = 0;
    int w = snprintf(out, out_size, "%u/", level);
    if (w < 0 || (size_t)w >= out_size)
        return -1;
    at = (size_t)w;
    for (int i = n - 1; i >= 0; i--) {
        w = snprintf(out + at, out_size - at, "%s%s%s", i ? "x" : "", groups[i],
                     i ? "/" : "");
        if (w < 0 || (size_t)w >= out_size - at)
            return -1;
        at += (size_t)w;
    }
    if (width < 256) {
        w = snprintf(out + at, out_size - at, ".p/%u", width);
        if (w < 0 || (size_t)w >= out_size - at)
            return -1;
        at += (size_t)w;
    }
    return (int)at;
}
