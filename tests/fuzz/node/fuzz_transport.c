/* Fuzzes what a validator reads from a peer before and after the
 * handshake (fuzz_common.h has the input layout). Properties: no crash;
 * only the documented errors; an accepted M1 came from a validator other
 * than the reader; an accepted M2 or M3 carries a valid signature (only
 * the seeds' exact bytes can); an opened frame uses at least its 21 bytes
 * of overhead and no more than it was given; a refused frame appends
 * nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "origo/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_handshake(const uint8_t *data, size_t size)
{
    transport_params pr = fuzz_params(1);
    transport_hs r;
    uint8_t reph[32], m2[TRANSPORT_M2_LEN];
    memset(reph, 0x22, 32);
    if (transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, reph))
        abort();
    size_t m1_len = size < TRANSPORT_M1_LEN ? size : TRANSPORT_M1_LEN;
    int rc = transport_hs_read_m1(&r, data, m1_len);
    if (rc == ORIGO_E_PEER_UNKNOWN || rc == ORIGO_E_HANDSHAKE)
        return;
    if (rc != 0 || memcmp(data, origo_key_public(fuzz_v[0]), 32) != 0)
        abort();
    if (transport_hs_write_m2(&r, m2))
        abort();
    rc = transport_hs_read_m3(&r, data + m1_len, size - m1_len);
    if (rc != 0 && rc != ORIGO_E_HANDSHAKE)
        abort();
    transport_session s;
    rc = transport_hs_finish(&r, &s);
    if (rc != 0 && rc != ORIGO_E_INVAL && rc != ORIGO_E_HANDSHAKE)
        abort();
}

static void read_m2(const uint8_t *data, size_t size)
{
    transport_params pi = fuzz_params(0);
    transport_hs i;
    uint8_t ieph[32], m1[TRANSPORT_M1_LEN];
    memset(ieph, 0x11, 32);
    if (transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, ieph) ||
        transport_hs_write_m1(&i, m1))
        abort();
    int rc = transport_hs_read_m2(&i, data, size);
    if (rc == ORIGO_E_PEER_UNKNOWN || rc == ORIGO_E_HANDSHAKE)
        return;
    if (rc != 0 || memcmp(data, origo_key_public(fuzz_v[1]), 32) != 0)
        abort();
}

static void read_frames(const uint8_t *data, size_t size)
{
    if (size < TRANSPORT_HEADER_LEN)
        return;
    uint8_t key[32];
    fuzz_frame_key(key);
    transport_rx rx;
    if (transport_rx_init(&rx, key, data, FUZZ_FRAME_CAP))
        return;
    data += TRANSPORT_HEADER_LEN;
    size -= TRANSPORT_HEADER_LEN;
    origo_buf out;
    origo_buf_init(&out, 1u << 20);
    for (;;) {
        size_t used = 0, before = out.len;
        int rc = transport_open(&rx, data, size, &used, &out);
        if (rc != 0) {
            if ((rc != ORIGO_E_TRUNCATED && rc != ORIGO_E_TOOBIG &&
                 rc != ORIGO_E_FRAME) ||
                out.len != before || used != 0)
                abort();
            break;
        }
        if (used < TRANSPORT_FRAME_OVERHEAD || used > size ||
            out.len - before != used - TRANSPORT_FRAME_OVERHEAD)
            abort();
        data += used;
        size -= used;
    }
    origo_buf_close(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_setup() || size < 1)
        return fuzz_v[0] ? 0 : (abort(), 0);
    switch (data[0]) {
    case 0:
        read_handshake(data + 1, size - 1);
        break;
    case 1:
        read_m2(data + 1, size - 1);
        break;
    case 2:
        read_frames(data + 1, size - 1);
        break;
    }
    return 0;
}
