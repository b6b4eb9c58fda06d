/* HTTP routing and the small parsers around it, as pure functions over
 * strings (no node, no libmicrohttpd), so that a fuzz harness drives them
 * directly (tests/fuzz/node/fuzz_route.c). */
#ifndef ORIGO_NODE_ROUTE_H
#define ORIGO_NODE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* A route: a method and a path. A path ending in '/' takes exactly one
 * more non-empty segment (no further '/'); one ending in a slash and two
 * asterisks takes any non-empty rest; either is handed over as `rest`. */
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

/* A tile path after "/tile/" (C2SP tlog-tiles): "<L>/<N>" or
 * "<L>/<N>.p/<W>", where L is 0..7 written without leading zeros, N is
 * written in groups of three digits, every group but the last prefixed
 * with 'x' and the first not "x000", and W is 1..255. Entry tiles
 * ("entries/...") are not ours: refused. Returns 0 and sets *level,
 * *index and *width (256 for a full tile), or -1. */
int route_parse_tile(const char *path, unsigned *level, uint64_t *index,
                     unsigned *width);
/* Writes the path route_parse_tile() reads. Returns its length, or -1 when
 * out is too small. */
int route_format_tile(unsigned level, uint64_t index, unsigned width, char *out,
                      size_t out_size);

/* Splits a raw request target "path[?query]" into the path and the query
 * with its '?' ("" when there is none). Returns 0, or -1 when a part does
 * not fit. */
int route_split_target(const char *target, char *path, size_t path_size,
                       char *query, size_t query_size);

#endif
