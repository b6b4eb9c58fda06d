/* The peer transport between validators (docs/formats/transport.md): the
 * authenticated key exchange that opens a connection and the encrypted,
 * length-prefixed frames that follow. Pure functions over byte buffers, no
 * sockets: the node's loop feeds them what it reads and writes what they
 * produce, and the tests drive them directly.
 *
 * Any thread, distinct objects. */
#ifndef ORIGO_NODE_TRANSPORT_H
#define ORIGO_NODE_TRANSPORT_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/keys.h"

#define TRANSPORT_VERSION 1
#define TRANSPORT_M1_LEN (32 + 1 + 32)  /* static, version, ephemeral */
#define TRANSPORT_M2_LEN (32 + 32 + 64) /* static, ephemeral, signature */
#define TRANSPORT_M3_LEN 64             /* signature */
#define TRANSPORT_HEADER_LEN                                                   \
    crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24 */
#define TRANSPORT_FRAME_OVERHEAD                                               \
    (4 + crypto_secretstream_xchacha20poly1305_ABYTES) /* 21 */
#define TRANSPORT_DEFAULT_CAP (16u << 20) /* largest plaintext frame */
#define TRANSPORT_DEFAULT_REKEY 65536u    /* frames between rekeys */

/* Whether `pub` is a current validator's key (the caller's view of the
 * ledger's validator set). */
typedef int (*transport_is_validator_fn)(void *ctx, const uint8_t pub[32]);

typedef struct transport_params {
    const char *origin;          /* network origin */
    const uint8_t *genesis_hash; /* 32 bytes */
    const origo_key *self;       /* this validator's static key */
    transport_is_validator_fn is_validator;
    void *ctx;
} transport_params;

enum transport_role { TRANSPORT_INITIATOR = 1, TRANSPORT_RESPONDER };

/* One handshake in progress. */
typedef struct transport_hs {
    transport_params params;
    enum transport_role role;
    int step; /* messages handled so far */
    uint8_t e_pk[32], e_sk[32];
    uint8_t i_static[32], r_static[32]; /* initiator's and responder's */
    uint8_t i_eph[32], r_eph[32];
} transport_hs;

/* The session a finished handshake yields: one key per direction and the
 * peer's static key. Keys are wiped by transport_session_wipe(). */
typedef struct transport_session {
    uint8_t tx[32], rx[32];
    uint8_t peer[32];
} transport_session;

/* Starts a handshake. `eph_seed` (32 bytes) fixes the ephemeral key for
 * tests and the worked example; NULL draws it at random (always, in the
 * node). Returns 0 or ORIGO_E_INVAL. */
int transport_hs_init(transport_hs *hs, enum transport_role role,
                      const transport_params *params, const uint8_t *eph_seed);

/* The initiator's first message: its static key, the protocol version, its
 * ephemeral key. */
int transport_hs_write_m1(transport_hs *hs, uint8_t out[TRANSPORT_M1_LEN]);
/* The responder reads it: the static key is checked against the validator
 * set before anything else is looked at (ORIGO_E_PEER_UNKNOWN); then the
 * version and the ephemeral key (ORIGO_E_HANDSHAKE). */
int transport_hs_read_m1(transport_hs *hs, const uint8_t *in, size_t len);
/* The responder's answer: static key, ephemeral key, and its signature over
 * the transcript. */
int transport_hs_write_m2(transport_hs *hs, uint8_t out[TRANSPORT_M2_LEN]);
/* The initiator reads it (static key first, then the signature). */
int transport_hs_read_m2(transport_hs *hs, const uint8_t *in, size_t len);
/* The initiator's signature over the transcript. */
int transport_hs_write_m3(transport_hs *hs, uint8_t out[TRANSPORT_M3_LEN]);
/* The responder checks it. */
int transport_hs_read_m3(transport_hs *hs, const uint8_t *in, size_t len);
/* After m3 (either side): the session keys and the peer's static key; the
 * ephemeral secret is wiped. Returns 0 or ORIGO_E_INVAL (not finished). */
int transport_hs_finish(transport_hs *hs, transport_session *out);
void transport_session_wipe(transport_session *s);

/* ---- frames ---- */

typedef struct transport_tx {
    crypto_secretstream_xchacha20poly1305_state st;
    size_t cap;
    uint64_t frames, rekey_every;
} transport_tx;

typedef struct transport_rx {
    crypto_secretstream_xchacha20poly1305_state st;
    size_t cap;
} transport_rx;

/* Starts the sending direction with key `key` (session.tx) and writes the
 * stream header the peer needs first. cap: largest plaintext of a frame;
 * rekey_every: frames between rekeys (0: never). */
int transport_tx_init(transport_tx *tx, const uint8_t key[32],
                      uint8_t header[TRANSPORT_HEADER_LEN], size_t cap,
                      uint64_t rekey_every);
/* Appends one frame: a 4-byte big-endian length, then the ciphertext.
 * Returns 0, ORIGO_E_TOOBIG (len over the cap, or out full), ORIGO_E_NOMEM;
 * on an error out keeps its length (its error latches, as origo_buf's do)
 * and the stream is unchanged. */
int transport_seal(transport_tx *tx, const uint8_t *msg, size_t len,
                   origo_buf *out);

/* The same, into `frame`, which has room for len + TRANSPORT_FRAME_OVERHEAD
 * bytes (the node seals straight into its write request). Returns 0 or
 * ORIGO_E_TOOBIG (nothing written, the stream unchanged). */
int transport_seal_to(transport_tx *tx, const uint8_t *msg, size_t len,
                      uint8_t *frame);

/* Starts the receiving direction from the peer's header. Returns 0 or
 * ORIGO_E_FRAME (a header the key does not accept). */
int transport_rx_init(transport_rx *rx, const uint8_t key[32],
                      const uint8_t header[TRANSPORT_HEADER_LEN], size_t cap);
/* Opens the frame at the start of `in`. Returns 0 with the plaintext in
 * out (appended) and the bytes used in *used; ORIGO_E_TRUNCATED (need more
 * bytes, nothing used); ORIGO_E_TOOBIG (a length over the cap: drop the
 * peer); ORIGO_E_FRAME (forged, replayed, reordered or corrupted: drop the
 * peer); ORIGO_E_NOMEM. On an error nothing is appended to out and the
 * stream is unchanged. */
int transport_open(transport_rx *rx, const uint8_t *in, size_t len,
                   size_t *used, origo_buf *out);

#endif
