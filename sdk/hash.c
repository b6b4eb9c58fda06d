/* SHA-256 through Nettle or libsodium (origo/hash.h). */
#include "origo/hash.h"

#include <string.h>

#ifdef ORIGO_HAVE_NETTLE
#include <nettle/sha2.h>
typedef struct sha256_ctx impl_state;
#define IMPL_INIT(s) sha256_init(s)
#define IMPL_UPDATE(s, p, n) sha256_update((s), (n), (const uint8_t *)(p))
#define IMPL_FINAL(s, out) sha256_digest((s), ORIGO_SHA256_LEN, (out))
#define IMPL_NAME "nettle"
#else
#include <sodium.h>
typedef crypto_hash_sha256_state impl_state;
#define IMPL_INIT(s) crypto_hash_sha256_init(s)
#define IMPL_UPDATE(s, p, n)                                                   \
    crypto_hash_sha256_update((s), (const unsigned char *)(p), (n))
#define IMPL_FINAL(s, out) crypto_hash_sha256_final((s), (out))
#define IMPL_NAME "libsodium"
#endif

_Static_assert(sizeof(impl_state) <= sizeof(((origo_sha256_state *)0)->opaque),
               "origo_sha256_state has room for the library's state");
_Static_assert(_Alignof(impl_state) <= 16, "alignment");

void origo_sha256_init(origo_sha256_state *st)
{
    IMPL_INIT((impl_state *)st->opaque);
}

void origo_sha256_update(origo_sha256_state *st, const void *data, size_t len)
{
    if (len)
        IMPL_UPDATE((impl_state *)st->opaque, data, len);
}

void origo_sha256_final(origo_sha256_state *st, uint8_t out[ORIGO_SHA256_LEN])
{
    IMPL_FINAL((impl_state *)st->opaque, out);
}

void origo_sha256(const void *data, size_t len, uint8_t out[ORIGO_SHA256_LEN])
{
    impl_state s;
    IMPL_INIT(&s);
    if (len)
        IMPL_UPDATE(&s, data, len);
    IMPL_FINAL(&s, out);
}

const char *origo_sha256_impl(void)
{
    return IMPL_NAME;
}
