/* Writes the seed corpus of fuzz_transport: the worked example's M1 + M3
 * and M2 (accepted), an outsider's M1, and a stream header with frames of
 * several sizes crossing a rekey, whole and cut short. Run by hand after a
 * format change:
 *   gen_transport_corpus tests/fuzz/corpus/fuzz_transport
 * Test tooling only; not part of the default build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const char *out_dir;

static void write_file(const char *name, uint8_t mode, const uint8_t *data,
                       size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 ||
        (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || fuzz_setup())
        return 2;
    out_dir = argv[1];
    transport_params pi = fuzz_params(0), pr = fuzz_params(1);
    transport_hs i, r;
    uint8_t ie[32], re[32], m1m3[TRANSPORT_M1_LEN + TRANSPORT_M3_LEN],
        m2[TRANSPORT_M2_LEN];
    memset(ie, 0x11, 32);
    memset(re, 0x22, 32);
    if (transport_hs_init(&i, TRANSPORT_INITIATOR, &pi, ie) ||
        transport_hs_init(&r, TRANSPORT_RESPONDER, &pr, re) ||
        transport_hs_write_m1(&i, m1m3) ||
        transport_hs_read_m1(&r, m1m3, TRANSPORT_M1_LEN) ||
        transport_hs_write_m2(&r, m2) ||
        transport_hs_read_m2(&i, m2, sizeof(m2)) ||
        transport_hs_write_m3(&i, m1m3 + TRANSPORT_M1_LEN))
        return 1;
    write_file("handshake-m1-m3", 0, m1m3, sizeof(m1m3));
    write_file("handshake-m2", 1, m2, sizeof(m2));
    uint8_t outsider[TRANSPORT_M1_LEN];
    memcpy(outsider, m1m3, sizeof(outsider));
    outsider[0] ^= 0x80;
    write_file("handshake-outsider", 0, outsider, sizeof(outsider));

    uint8_t key[32];
    fuzz_frame_key(key);
    transport_tx tx;
    origo_buf wire;
    origo_buf_init(&wire, 1u << 20);
    uint8_t header[TRANSPORT_HEADER_LEN], msg[FUZZ_FRAME_CAP];
    memset(msg, 'a', sizeof(msg));
    if (transport_tx_init(&tx, key, header, FUZZ_FRAME_CAP, 3) ||
        origo_buf_append(&wire, header, sizeof(header)))
        return 1;
    size_t sizes[] = {0, 1, 40, 300, 7, FUZZ_FRAME_CAP};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        if (transport_seal(&tx, msg, sizes[k], &wire))
            return 1;
    write_file("frames", 2, wire.data, wire.len);
    write_file("frames-cut", 2, wire.data, wire.len - 5);
    origo_buf_close(&wire);
    return 0;
}
