/* The peer transport (docs/formats/transport.md): a three-message,
 * signed-transcript key exchange between two validators' static Ed25519
 * keys over fresh X25519 ephemerals (session keys from the ephemerals
 * only, so a later theft of a static key opens no recorded session), then
 * length-prefixed crypto_secretstream frames, capped and rekeyed on a
 * schedule. */
#include "transport.h"

#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

static const char domain[] = "origo/transport/v1"; /* with its NUL */

int transport_hs_init(transport_hs *hs, enum transport_role role,
                      const transport_params *params, const uint8_t *eph_seed)
{
    if (!hs || !params || !params->origin || !params->genesis_hash ||
        !params->self || !params->is_validator ||
        strlen(params->origin) > 255 ||
        (role != TRANSPORT_INITIATOR && role != TRANSPORT_RESPONDER))
        return ORIGO_E_INVAL;
    memset(hs, 0, sizeof(*hs));
    hs->params = *params;
    hs->role = role;
    if (eph_seed)
        crypto_generichash(hs->e_sk, 32, eph_seed, 32, NULL, 0);
    else
        randombytes_buf(hs->e_sk, 32);
    crypto_scalarmult_base(hs->e_pk, hs->e_sk);
    uint8_t *mine = role == TRANSPORT_INITIATOR ? hs->i_eph : hs->r_eph;
    uint8_t *static_mine =
        role == TRANSPORT_INITIATOR ? hs->i_static : hs->r_static;
    memcpy(mine, hs->e_pk, 32);
    memcpy(static_mine, origo_key_public(params->self), 32);
    return 0;
}

/* The transcript both sides sign, each with its role: domain, version,
 * origin, genesis hash, both static keys, both ephemeral keys. */
static size_t transcript(const transport_hs *hs, uint8_t role_label,
                         uint8_t out[19 + 2 + 255 + 32 * 5 + 1])
{
    size_t n = 0, origin_len = strlen(hs->params.origin);
    memcpy(out, domain, sizeof(domain));
    n += sizeof(domain);
    out[n++] = TRANSPORT_VERSION;
    out[n++] = (uint8_t)origin_len;
    memcpy(out + n, hs->params.origin, origin_len);
    n += origin_len;
    memcpy(out + n, hs->params.genesis_hash, 32);
    n += 32;
    memcpy(out + n, hs->i_static, 32);
    n += 32;
    memcpy(out + n, hs->r_static, 32);
    n += 32;
    memcpy(out + n, hs->i_eph, 32);
    n += 32;
    memcpy(out + n, hs->r_eph, 32);
    n += 32;
    if (role_label)
        out[n++] = role_label;
    return n;
}

static int sign_transcript(const transport_hs *hs, uint8_t role_label,
                           uint8_t sig[64])
{
    uint8_t t[19 + 2 + 255 + 32 * 5 + 1];
    size_t n = transcript(hs, role_label, t);
    return origo_key_sign(hs->params.self, t, n, sig);
}

static int verify_transcript(const transport_hs *hs, uint8_t role_label,
                             const uint8_t pub[32], const uint8_t sig[64])
{
    uint8_t t[19 + 2 + 255 + 32 * 5 + 1];
    size_t n = transcript(hs, role_label, t);
    return crypto_sign_verify_detached(sig, t, n, pub) == 0 ? 0
                                                            : ORIGO_E_HANDSHAKE;
}

/* A peer's static key: a current validator's, and not our own (a
 * connection to ourselves, or our own message reflected back). */
static int check_static(const transport_hs *hs, const uint8_t pub[32])
{
    if (!hs->params.is_validator(hs->params.ctx, pub))
        return ORIGO_E_PEER_UNKNOWN;
    if (memcmp(pub, origo_key_public(hs->params.self), 32) == 0)
        return ORIGO_E_HANDSHAKE;
    return 0;
}

int transport_hs_write_m1(transport_hs *hs, uint8_t out[TRANSPORT_M1_LEN])
{
    if (hs->role != TRANSPORT_INITIATOR || hs->step != 0)
        return ORIGO_E_INVAL;
    memcpy(out, hs->i_static, 32);
    out[32] = TRANSPORT_VERSION;
    memcpy(out + 33, hs->i_eph, 32);
    hs->step = 1;
    return 0;
}

int transport_hs_read_m1(transport_hs *hs, const uint8_t *in, size_t len)
{
    if (hs->role != TRANSPORT_RESPONDER || hs->step != 0)
        return ORIGO_E_INVAL;
    if (len < 32)
        return ORIGO_E_HANDSHAKE;
    int rc = check_static(hs, in); /* before anything else */
    if (rc)
        return rc;
    if (len != TRANSPORT_M1_LEN || in[32] != TRANSPORT_VERSION ||
        memcmp(in + 33, hs->r_eph, 32) == 0)
        return ORIGO_E_HANDSHAKE;
    memcpy(hs->i_static, in, 32);
    memcpy(hs->i_eph, in + 33, 32);
    hs->step = 1;
    return 0;
}

int transport_hs_write_m2(transport_hs *hs, uint8_t out[TRANSPORT_M2_LEN])
{
    if (hs->role != TRANSPORT_RESPONDER || hs->step != 1)
        return ORIGO_E_INVAL;
    memcpy(out, hs->r_static, 32);
    memcpy(out + 32, hs->r_eph, 32);
    int rc = sign_transcript(hs, 'R', out + 64);
    if (!rc)
        hs->step = 2;
    return rc;
}

int transport_hs_read_m2(transport_hs *hs, const uint8_t *in, size_t len)
{
    if (hs->role != TRANSPORT_INITIATOR || hs->step != 1)
        return ORIGO_E_INVAL;
    if (len < 32)
        return ORIGO_E_HANDSHAKE;
    int rc = check_static(hs, in);
    if (rc)
        return rc;
    if (len != TRANSPORT_M2_LEN || memcmp(in + 32, hs->i_eph, 32) == 0)
        return ORIGO_E_HANDSHAKE;
    memcpy(hs->r_static, in, 32);
    memcpy(hs->r_eph, in + 32, 32);
    if ((rc = verify_transcript(hs, 'R', hs->r_static, in + 64))) {
        memset(hs->r_static, 0, 32);
        return rc;
    }
    hs->step = 2;
    return 0;
}

int transport_hs_write_m3(transport_hs *hs, uint8_t out[TRANSPORT_M3_LEN])
{
    if (hs->role != TRANSPORT_INITIATOR || hs->step != 2)
        return ORIGO_E_INVAL;
    int rc = sign_transcript(hs, 'I', out);
    if (!rc)
        hs->step = 3;
    return rc;
}

int transport_hs_read_m3(transport_hs *hs, const uint8_t *in, size_t len)
{
    if (hs->role != TRANSPORT_RESPONDER || hs->step != 2)
        return ORIGO_E_INVAL;
    if (len != TRANSPORT_M3_LEN)
        return ORIGO_E_HANDSHAKE;
    int rc = verify_transcript(hs, 'I', hs->i_static, in);
    if (!rc)
        hs->step = 3;
    return rc;
}

int transport_hs_finish(transport_hs *hs, transport_session *out)
{
    uint8_t shared[32], t[19 + 2 + 255 + 32 * 5 + 1], keys[64];
    if (hs->step != 3)
        return ORIGO_E_INVAL;
    const uint8_t *peer_eph =
        hs->role == TRANSPORT_INITIATOR ? hs->r_eph : hs->i_eph;
    if (crypto_scalarmult(shared, hs->e_sk, peer_eph) != 0)
        return ORIGO_E_HANDSHAKE; /* a low-order ephemeral */
    /* Both keys from the ephemeral exchange and the whole transcript. */
    size_t n = transcript(hs, 0, t);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(keys));
    crypto_generichash_update(&st, shared, sizeof(shared));
    crypto_generichash_update(&st, t, n);
    crypto_generichash_final(&st, keys, sizeof(keys));
    int initiator = hs->role == TRANSPORT_INITIATOR;
    memcpy(out->tx, keys + (initiator ? 0 : 32), 32);
    memcpy(out->rx, keys + (initiator ? 32 : 0), 32);
    memcpy(out->peer, initiator ? hs->r_static : hs->i_static, 32);
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(keys, sizeof(keys));
    sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
    hs->step = 4;
    return 0;
}

void transport_session_wipe(transport_session *s)
{
    sodium_memzero(s, sizeof(*s));
}

/* ---- frames ---- */

int transport_tx_init(transport_tx *tx, const uint8_t key[32],
                      uint8_t header[TRANSPORT_HEADER_LEN], size_t cap,
                      uint64_t rekey_every)
{
    memset(tx, 0, sizeof(*tx));
    tx->cap = cap;
    tx->rekey_every = rekey_every;
    return crypto_secretstream_xchacha20poly1305_init_push(&tx->st, header,
                                                           key) == 0
               ? 0
               : ORIGO_E_SODIUM;
}

/* Appends n zero bytes to out for a frame to be written in place. Returns
 * 0, ORIGO_E_NOMEM or ORIGO_E_TOOBIG; on failure out keeps its length. */
static int make_room(origo_buf *out, size_t n)
{
    static const uint8_t zeros[4096];
    size_t before = out->len;
    int rc = 0;
    while (n && rc == 0) {
        size_t step = n < sizeof(zeros) ? n : sizeof(zeros);
        rc = origo_buf_append(out, zeros, step);
        n -= step;
    }
    if (rc)
        out->len = before;
    return rc;
}

int transport_seal_to(transport_tx *tx, const uint8_t *msg, size_t len,
                      uint8_t *frame)
{
    if (len > tx->cap || len > UINT32_MAX - TRANSPORT_FRAME_OVERHEAD)
        return ORIGO_E_TOOBIG;
    size_t clen = len + crypto_secretstream_xchacha20poly1305_ABYTES;
    frame[0] = (uint8_t)(clen >> 24);
    frame[1] = (uint8_t)(clen >> 16);
    frame[2] = (uint8_t)(clen >> 8);
    frame[3] = (uint8_t)clen;
    /* Every rekey_every-th frame carries TAG_REKEY: both sides then move
     * to a new key derived from the current one. */
    tx->frames++;
    unsigned char tag = tx->rekey_every && tx->frames % tx->rekey_every == 0
                            ? crypto_secretstream_xchacha20poly1305_TAG_REKEY
                            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    crypto_secretstream_xchacha20poly1305_push(&tx->st, frame + 4, NULL, msg,
                                               len, NULL, 0, tag);
    return 0;
}

int transport_seal(transport_tx *tx, const uint8_t *msg, size_t len,
                   origo_buf *out)
{
    if (len > tx->cap || len > UINT32_MAX - TRANSPORT_FRAME_OVERHEAD)
        return ORIGO_E_TOOBIG;
    /* Room first, then seal in place: the stream state advances only
     * when the frame is surely written. */
    size_t before = out->len;
    int rc = make_room(out, len + TRANSPORT_FRAME_OVERHEAD);
    if (rc)
        return rc;
    return transport_seal_to(tx, msg, len, out->data + before);
}

int transport_rx_init(transport_rx *rx, const uint8_t key[32],
                      const uint8_t header[TRANSPORT_HEADER_LEN], size_t cap)
{
    memset(rx, 0, sizeof(*rx));
    rx->cap = cap;
    return crypto_secretstream_xchacha20poly1305_init_pull(&rx->st, header,
                                                           key) == 0
               ? 0
               : ORIGO_E_FRAME;
}

int transport_open(transport_rx *rx, const uint8_t *in, size_t len,
                   size_t *used, origo_buf *out)
{
    if (len < 4)
        return ORIGO_E_TRUNCATED;
    size_t clen =
        (size_t)in[0] << 24 | (size_t)in[1] << 16 | (size_t)in[2] << 8 | in[3];
    if (clen < crypto_secretstream_xchacha20poly1305_ABYTES ||
        clen - crypto_secretstream_xchacha20poly1305_ABYTES > rx->cap)
        return clen < crypto_secretstream_xchacha20poly1305_ABYTES
                   ? ORIGO_E_FRAME
                   : ORIGO_E_TOOBIG;
    if (len - 4 < clen)
        return ORIGO_E_TRUNCATED;
    size_t mlen = clen - crypto_secretstream_xchacha20poly1305_ABYTES;
    /* Room in out, then open in place; nothing stays on failure. */
    size_t before = out->len;
    int rc = make_room(out, mlen);
    if (rc)
        return rc;
    unsigned char tag;
    uint8_t *dst = out->data ? out->data + before : NULL;
    /* We never send FINAL or PUSH: a frame with them is not ours. */
    if (crypto_secretstream_xchacha20poly1305_pull(
            &rx->st, dst, NULL, &tag, in + 4, clen, NULL, 0) != 0 ||
        (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
         tag != crypto_secretstream_xchacha20poly1305_TAG_REKEY)) {
        if (dst)
            sodium_memzero(dst, mlen);
        out->len = before;
        return ORIGO_E_FRAME;
    }
    *used = 4 + clen;
    return 0;
}
