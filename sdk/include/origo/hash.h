/* SHA-256, one shot or in steps: the hash of event IDs, Merkle leaves and
 * nodes, key IDs and the ledger's own records.
 *
 * The SDK computes it with Nettle when the build found Nettle (its code
 * uses the CPU's SHA instructions where there are some: four times
 * libsodium's portable SHA-256 on short inputs on a current x86), else
 * with libsodium. SHA-256 is SHA-256: the bytes are the same either way,
 * checked by the RFC 9162 vectors and the tests' known answers.
 *
 * No global state; any thread. */
#ifndef ORIGO_HASH_H
#define ORIGO_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORIGO_SHA256_LEN 32

/* Room for either library's state; only the functions below touch it. */
typedef struct origo_sha256_state {
    _Alignas(16) unsigned char opaque[128];
} origo_sha256_state;

void origo_sha256_init(origo_sha256_state *st);
void origo_sha256_update(origo_sha256_state *st, const void *data, size_t len);
void origo_sha256_final(origo_sha256_state *st, uint8_t out[ORIGO_SHA256_LEN]);
void origo_sha256(const void *data, size_t len, uint8_t out[ORIGO_SHA256_LEN]);

/* Which library computes it: "nettle" or "libsodium" (for logs). */
const char *origo_sha256_impl(void);

#ifdef __cplusplus
}
#endif

#endif
