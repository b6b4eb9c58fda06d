/* HTTP routing and the small parsers around it, as pure functions over
 * strings (no node, no libmicrohttpd), so that a fuzz harness drives them
 * directly (tests/fuzz/node/fuzz_route.c). */
#ifndef ORIGO_NODE_ROUTE_H
#define ORIGO_NODE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* A route: a method and a path. A path ending in '/' takes exactly one
 * more non-empty segment (no further '/'), handed over as `rest`. */
typedef struct route_pattern {
    const char *method;
    const char *path;
} route_pattern;

#define ROUTE_NOT_FOUND (-1)
#define ROUTE_WRONG_METHOD (-2)

/* Finds method+path among `count` routes laid out `stride` bytes apart,
 * each starting with a route_pattern (so a caller's table may carry more
 * per route). HEAD matches GET. Returns the route's index and sets *rest
 * ("" for an exact path); ROUTE_WRONG_METHOD with *allowed set to the
 * method the path takes; or ROUTE_NOT_FOUND. */
int route_find(const void *table, size_t count, size_t stride,
               const char *method, const char *path, const char **rest,
               const char **allowed);

/* A whole number as the API writes them: 1 to 19 decimal digits, no sign,
 * no leading zero (so every value fits in 64 bits and has one spelling).
 * Returns 0 and *out, or -1. */
int route_parse_u64(const char *text, uint64_t *out);

/* Splits a raw request target "path[?query]" into the path and the query
 * with its '?' ("" when there is none). Returns 0, or -1 when a part does
 * not fit. */
int route_split_target(const char *target, char *path, size_t path_size,
                       char *query, size_t query_size);

#endif
