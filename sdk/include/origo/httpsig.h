/* HTTP message signatures (RFC 9421) with Ed25519, the subset Origo's API
 * uses (docs/api.md, "Signed requests"): one signature per request, covered
 * components among "@method", "@path", "@query", "@authority" and header
 * fields (lower-case names, no component parameters), and the parameters
 * created, expires, keyid, alg and nonce. Content-Digest (RFC 9530) with
 * sha-256. Clients sign with origo_httpsig_sign(); the node parses with
 * origo_httpsig_parse() and checks with origo_httpsig_verify(). Pure
 * functions; any thread. */
#ifndef ORIGO_HTTPSIG_H
#define ORIGO_HTTPSIG_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORIGO_HTTPSIG_MAX_COMPONENTS 8
#define ORIGO_HTTPSIG_MAX_PARAMS 8
#define ORIGO_HTTPSIG_MAX_TOKEN 96 /* label, component, string value */
/* Longest Signature-Input value origo_httpsig_sign() writes. */
#define ORIGO_HTTPSIG_INPUT_MAX 1024
#define ORIGO_HTTPSIG_SIGNATURE_MAX 128
/* "sha-256=:" base64(32 bytes) ":" and a NUL. */
#define ORIGO_CONTENT_DIGEST_LEN 56

/* The request as the signer sent it: raw (still percent-encoded) path and
 * query (with its leading '?'; "" or NULL for none). header() returns the
 * value of a header field by lower-case name (NULL when absent), already
 * trimmed of surrounding spaces; authority may come from it ("host"). */
typedef struct origo_httpsig_request {
    const char *method;
    const char *path;
    const char *query;
    const char *authority;
    const char *(*header)(void *ctx, const char *name);
    void *ctx;
} origo_httpsig_request;

typedef struct origo_httpsig_param {
    char key[ORIGO_HTTPSIG_MAX_TOKEN];
    int is_int;
    int64_t num;
    char str[ORIGO_HTTPSIG_MAX_TOKEN];
} origo_httpsig_param;

/* A parsed signature: its label, covered components and parameters in the
 * order given (the signature base repeats them in that order). */
typedef struct origo_httpsig {
    char label[ORIGO_HTTPSIG_MAX_TOKEN];
    char components[ORIGO_HTTPSIG_MAX_COMPONENTS][ORIGO_HTTPSIG_MAX_TOKEN];
    size_t n_components;
    origo_httpsig_param params[ORIGO_HTTPSIG_MAX_PARAMS];
    size_t n_params;
    uint8_t sig[64];
} origo_httpsig;

/* Parses the Signature-Input and Signature field values: exactly one
 * signature, the same label in both, strict structured-field syntax (RFC
 * 8941) for the subset above, a 64-byte signature. Returns 0,
 * ORIGO_E_HTTPSIG (malformed, or more than one signature), ORIGO_E_TOOBIG
 * (too many components or parameters, a token too long). */
int origo_httpsig_parse(const char *signature_input, const char *signature,
                        origo_httpsig *out);

/* The value of parameter `key`: a string (NULL if absent or an integer), or
 * an integer (returns 0 and sets *out; ORIGO_E_NOTFOUND otherwise). */
const char *origo_httpsig_param_str(const origo_httpsig *sig, const char *key);
int origo_httpsig_param_int(const origo_httpsig *sig, const char *key,
                            int64_t *out);
/* Whether `component` ("@method", "content-digest"...) is covered. */
int origo_httpsig_covers(const origo_httpsig *sig, const char *component);

/* Appends the signature base (RFC 9421 section 2.5) of `sig` over `req` to
 * `out`. Returns 0, ORIGO_E_HTTPSIG (a covered component that the request
 * lacks or this subset does not support), or the buffer's error. */
int origo_httpsig_base(const origo_httpsig *sig,
                       const origo_httpsig_request *req, origo_buf *out);

/* Checks the signature under the Ed25519 public key `pub`. Returns 0,
 * ORIGO_E_SIGNATURE, or origo_httpsig_base()'s errors. Freshness, nonce
 * and key choice are the caller's. */
int origo_httpsig_verify(const origo_httpsig *sig,
                         const origo_httpsig_request *req,
                         const uint8_t pub[32]);

/* Signs `req` as label "sig1" covering components[0..n) with created,
 * keyid (the key's public key in hex), alg "ed25519" and `nonce` (1 to 64
 * characters of A-Z a-z 0-9 - _). Writes the Signature-Input and Signature
 * field values (NUL-terminated). Returns 0, ORIGO_E_INVAL, ORIGO_E_TOOBIG
 * (output too small), origo_httpsig_base()'s errors. */
int origo_httpsig_sign(const origo_key *key, const origo_httpsig_request *req,
                       const char *const *components, size_t n, int64_t created,
                       const char *nonce, char *input_out, size_t input_size,
                       char *signature_out, size_t signature_size);

/* The Content-Digest field value (RFC 9530) of a body: "sha-256=:<base64
 * of SHA-256>:". */
void origo_content_digest(const uint8_t *body, size_t len,
                          char out[ORIGO_CONTENT_DIGEST_LEN]);

#ifdef __cplusplus
}
#endif

#endif
