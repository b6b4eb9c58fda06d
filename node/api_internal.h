/* What api.c (routes, submissions) and reads.c (signed reads) share. On
 * the loop. */
#ifndef ORIGO_NODE_API_INTERNAL_H
#define ORIGO_NODE_API_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "node.h"

/* RFC 9457 problem details with a stable code; 429 and 503 carry
 * Retry-After. */
void api_problem(node *n, http_request *req, unsigned status, int code,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Answers with `doc` as application/json (takes the reference). */
void api_respond_json(node *n, http_request *req, unsigned status, json_t *doc);
/* Answers with a copy of the bytes. */
void api_respond_bytes(node *n, http_request *req, unsigned status,
                       const char *type, const uint8_t *data, size_t len);
/* A decoded query argument, or NULL. */
const char *api_arg(const http_request *req, const char *key);
/* A query argument as a whole number: 0, -1 when absent, -2 malformed. */
int api_arg_u64(const http_request *req, const char *key, uint64_t *out);

/* The member that signed a read (reads.c). */
typedef struct reader {
    uint8_t pub[32];
    ledger_member member;
    int all; /* auditor, admin or validator: reads everything */
} reader;

/* Checks the request's RFC 9421 signature, freshness, nonce and member
 * key; on failure answers the request and returns -1. */
int reads_authenticate(node *n, http_request *req, reader *out);
void reads_get_envelope(node *n, http_request *req, const char *hexid);
void reads_get_proof(node *n, http_request *req, const char *hexid);
void reads_get_lot_events(node *n, http_request *req, const char *rest);
void reads_get_trace(node *n, http_request *req, const char *rest);
void reads_get_members(node *n, http_request *req, const char *rest);

#endif
