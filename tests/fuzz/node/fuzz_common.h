/* What fuzz_transport and its corpus generator share: the fixed network
 * (validators from seeds 01.. and 02.., the worked example's), the frame
 * key, and the input layout. First byte: 0 = bytes a responder reads as M1
 * (then, if accepted, the next 64 as M3); 1 = bytes an initiator reads as
 * M2; 2 = a 24-byte stream header and the frames after it. */
#ifndef ORIGO_FUZZ_TRANSPORT_COMMON_H
#define ORIGO_FUZZ_TRANSPORT_COMMON_H

#include <string.h>

#include "origo/keys.h"
#include "transport.h"

#define FUZZ_FRAME_CAP 4096

static const uint8_t fuzz_genesis[32] = {0x47, 0x45, 0x4e};
static origo_key *fuzz_v[2];

static int fuzz_is_validator(void *ctx, const uint8_t pub[32])
{
    (void)ctx;
    return memcmp(pub, origo_key_public(fuzz_v[0]), 32) == 0 ||
           memcmp(pub, origo_key_public(fuzz_v[1]), 32) == 0;
}

static int fuzz_setup(void)
{
    if (fuzz_v[0])
        return 0;
    if (sodium_init() < 0)
        return -1;
    uint8_t seed[32];
    memset(seed, 1, 32);
    if (origo_key_from_seed("v1", seed, &fuzz_v[0]))
        return -1;
    memset(seed, 2, 32);
    return origo_key_from_seed("v2", seed, &fuzz_v[1]);
}

static transport_params fuzz_params(int which)
{
    transport_params p = {.origin = "origo.test",
                          .genesis_hash = fuzz_genesis,
                          .self = fuzz_v[which],
                          .is_validator = fuzz_is_validator,
                          .ctx = NULL};
    return p;
}

static void fuzz_frame_key(uint8_t key[32])
{
    memset(key, 0x33, 32);
}

#endif
