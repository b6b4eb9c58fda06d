/* libFuzzer harness for the node's HTTP routing and parsers (node/route.c).
 * Input: "METHOD TARGET" (the first space splits them). Properties: never
 * crashes; a found route's method is the request's (HEAD as GET) and its
 * path matches exactly, or is a prefix followed by one non-empty segment
 * without '/'; a wrong-method answer names a method other than the
 * request's; the target splits into a path and a query that concatenate
 * back to it; a number accepted by route_parse_u64 prints back to the same
 * text. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const route_pattern table[] = {
    {"POST", "/v1/events"},  {"GET", "/v1/events/"}, {"GET", "/v1/proofs/"},
    {"GET", "/v1/trace"},    {"GET", "/v1/blocks/"}, {"GET", "/checkpoint"},
    {"POST", "/v1/things/"}, {"GET", "/tile/**"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) != size) { /* NUL inside: not an HTTP line */
        free(text);
        return 0;
    }
    char *sp = strchr(text, ' ');
    const char *method = sp ? text : "GET";
    const char *target = sp ? sp + 1 : text;
    if (sp)
        *sp = '\0';
    char path[4200], query[4200];
    if (route_split_target(target, path, sizeof(path), query, sizeof(query)) ==
        0) {
        size_t pl = strlen(path), ql = strlen(query);
        if (pl + ql != strlen(target) || memcmp(target, path, pl) ||
            memcmp(target + pl, query, ql) || (ql && query[0] != '?'))
            abort();
        const char *rest = "", *allowed = NULL;
        int i = route_find(table, sizeof(table) / sizeof(table[0]),
                           sizeof(table[0]), method, path, &rest, &allowed);
        const char *m = strcmp(method, "HEAD") ? method : "GET";
        if (i >= 0) {
            const route_pattern *r = &table[i];
            size_t len = strlen(r->path);
            if (strcmp(r->method, m) ||
                strncmp(path, r->path,
                        len >= 3 && !strcmp(r->path + len - 3, "/**") ? len - 2
                                                                      : len))
                abort();
            int any = len >= 3 && !strcmp(r->path + len - 3, "/**");
            if (any)
                len -= 2;
            if (any ? (!*rest || rest != path + len)
                : r->path[len - 1] == '/'
                    ? (!*rest || strchr(rest, '/') || rest != path + len)
                    : (*rest || strcmp(path, r->path)))
                abort();
        } else if (i == ROUTE_WRONG_METHOD) {
            if (!allowed || !strcmp(allowed, m))
                abort();
        } else if (i != ROUTE_NOT_FOUND) {
            abort();
        }
        unsigned level, width;
        uint64_t index;
        if (route_parse_tile(path, &level, &index, &width) == 0) {
            char back[256];
            int n = route_format_tile(level, index, width, back, sizeof(back));
            if (n < 0 || strcmp(back, path) || level > 7 || width == 0 ||
                width > 256)
                abort(); /* one spelling per tile */
        }
        uint64_t v;
        const char *num = *rest ? rest : path + (pl ? 1 : 0);
        if (route_parse_u64(num, &v) == 0) {
            char back[32];
            snprintf(back, sizeof(back), "%" PRIu64, v);
            if (strcmp(back, num))
                abort();
        }
    }
    free(text);
    return 0;
}
