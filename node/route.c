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
        int prefix = len > 0 && r->path[len - 1] == '/';
        if (prefix ? strncmp(path, r->path, len) != 0 || !path[len] ||
                         strchr(path + len, '/') != NULL
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
