/* Test-only sample events, one valid event of every type, shared by the
 * event and signature tests and by the generator of the fuzz corpus and of
 * the example in docs/formats/event.md. Everything is fixed (keys from fixed
 * seeds, fixed timestamps), and Ed25519 is deterministic, so the encoded
 * envelopes are the same bytes on every run. Header-only so that each test
 * executable stays one .c file. */
#ifndef ORIGO_TEST_EVENT_SAMPLES_H
#define ORIGO_TEST_EVENT_SAMPLES_H

#include <sodium.h>
#include <string.h>

#include "origo/event.h"
#include "origo/keys.h"

#define SAMPLE_NET "origo.example/network-1"
#define SAMPLE_TS 1767225600000ull /* 2026-01-01T00:00:00Z */
#define SAMPLE_LOT_LGTIN "urn:epc:class:lgtin:4012345.012345.L2026-001"
#define SAMPLE_LOT_DL "https://id.gs1.org/01/09506000134352/10/ABC123"
#define SAMPLE_LOT_COIL "ACME/steel-coil/C-7781"
#define SAMPLE_LOT_BRACKET "ORIGO/bracket/B-2026-0042"

/* An EPCIS 2.0 ObjectEvent in canonical form (compact, keys sorted). */
#define SAMPLE_EPCIS_OBJECT                                                    \
    "{\"action\":\"OBSERVE\",\"bizStep\":\"shipping\",\"epcList\":["           \
    "\"https://id.gs1.org/01/09506000134352/10/ABC123/21/0001\","              \
    "\"urn:epc:id:sgtin:4012345.012345.1\"],"                                  \
    "\"eventTime\":\"2026-01-01T00:00:00.000Z\","                              \
    "\"eventTimeZoneOffset\":\"+00:00\",\"quantityList\":[{\"epcClass\":"      \
    "\"urn:epc:class:lgtin:4012345.012345.L2026-001\",\"quantity\":200,"       \
    "\"uom\":\"EA\"}],\"type\":\"ObjectEvent\"}"

/* An EPCIS 2.0 TransformationEvent: coil and DL lot in, bracket lot out. */
#define SAMPLE_EPCIS_TRANSFORM                                                 \
    "{\"eventTime\":\"2026-01-01T00:00:00.000Z\","                             \
    "\"eventTimeZoneOffset\":\"+00:00\",\"inputEPCList\":["                    \
    "\"ACME/steel-coil/C-7781\"],\"inputQuantityList\":[{\"epcClass\":"        \
    "\"https://id.gs1.org/01/09506000134352/10/ABC123\",\"quantity\":40,"      \
    "\"uom\":\"KGM\"}],\"outputEPCList\":[\"ORIGO/bracket/B-2026-0042\"],"     \
    "\"type\":\"TransformationEvent\"}"

/* Fills seed with 32 bytes: 0x00..0x1f plus `tweak` (0 gives the seed of
 * tests/vectors/signed-note.json). */
static inline void sample_seed(uint8_t seed[32], uint8_t tweak)
{
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + tweak);
}

/* The submitter key of every sample: seed 0x00..0x1f, name SAMPLE_NET. */
static inline origo_key *sample_key(void)
{
    uint8_t seed[32];
    sample_seed(seed, 0);
    origo_key *key = NULL;
    if (origo_key_from_seed(SAMPLE_NET, seed, &key) != 0)
        return NULL;
    return key;
}

static inline void sample_member_pub(uint8_t pub[32])
{
    uint8_t seed[32], secret[64];
    sample_seed(seed, 0x40);
    crypto_sign_seed_keypair(pub, secret, seed);
    sodium_memzero(secret, sizeof(secret));
}

static inline void sample_lot(origo_event *ev, enum origo_lot_role role,
                              const char *lot, const char *qty,
                              const char *unit)
{
    origo_lot_ref *ref = &ev->lots[ev->n_lots++];
    ref->role = role;
    ref->lot = origo_str_c(lot);
    ref->qty = origo_str_c(qty);
    ref->unit = origo_str_c(unit);
}

static inline void sample_measure(origo_event *ev, const char *name,
                                  const char *value, const char *unit,
                                  const char *lower, const char *upper)
{
    origo_measure *m = &ev->measures[ev->n_measures++];
    m->name = origo_str_c(name);
    m->value = origo_str_c(value);
    m->unit = origo_str_c(unit);
    m->lower = origo_str_c(lower);
    m->upper = origo_str_c(upper);
}

/* Fills *ev with the sample of `type`, submitted by `by`. */
static inline void sample_event(origo_event *ev, enum origo_event_type type,
                                const uint8_t by[32])
{
    origo_event_init(ev, type);
    ev->net = origo_str_c(SAMPLE_NET);
    memcpy(ev->by, by, 32);
    ev->ts = SAMPLE_TS + (uint64_t)type;
    switch (type) {
    case ORIGO_EV_LOT_CREATE:
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_LGTIN, "1200", "EA");
        ev->item = origo_str_c("bolt M8x40 A2-70");
        break;
    case ORIGO_EV_LOT_TRANSFORM:
        sample_lot(ev, ORIGO_LOT_INPUT, SAMPLE_LOT_COIL, "2.5", "TNE");
        sample_lot(ev, ORIGO_LOT_INPUT, SAMPLE_LOT_DL, "40", "KGM");
        sample_lot(ev, ORIGO_LOT_OUTPUT, SAMPLE_LOT_BRACKET, "5000", "EA");
        break;
    case ORIGO_EV_INSPECTION:
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_BRACKET, NULL, NULL);
        ev->stage = ORIGO_STAGE_OQC;
        ev->result = ORIGO_RESULT_PASS;
        crypto_hash_sha256(ev->report, (const uint8_t *)"report", 6);
        sample_measure(ev, "hole diameter", "8.02", "mm", "7.95", "8.05");
        sample_measure(ev, "hardness", "42", "HRC", "38", NULL);
        sample_measure(ev, "flatness", "-0.01", "mm", NULL, NULL);
        break;
    case ORIGO_EV_COA_ATTEST:
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_COIL, NULL, NULL);
        crypto_hash_sha256(ev->coa, (const uint8_t *)"coa", 3);
        ev->issuer = origo_str_c("ACME Steel QA");
        break;
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_BRACKET, NULL, NULL);
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_LGTIN, NULL, NULL);
        ev->from = origo_str_c("ORIGO Plant 1");
        ev->to = origo_str_c("Carmaker Plant 7");
        ev->ref = origo_str_c("DHL 1234567890");
        break;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
    case ORIGO_EV_QUALITY_RECALL:
        sample_lot(ev, ORIGO_LOT_SUBJECT, SAMPLE_LOT_COIL, NULL, NULL);
        ev->reason = origo_str_c("tensile test below spec;\nsee 8D 2026-17");
        break;
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
        sample_member_pub(ev->member);
        ev->name = origo_str_c("ACME Steel");
        ev->roles = ORIGO_ROLE_SUPPLIER |
                    (type == ORIGO_EV_MEMBER_UPDATE ? ORIGO_ROLE_INSPECTOR : 0);
        break;
    case ORIGO_EV_MEMBER_REMOVE:
        sample_member_pub(ev->member);
        break;
    case ORIGO_EV_EPCIS:
        ev->epcis = origo_str_c(SAMPLE_EPCIS_OBJECT);
        break;
    case ORIGO_EV_MEMBER_ROTATE: {
        uint8_t seed[32], secret[64];
        sample_member_pub(ev->member);
        sample_seed(seed, 0x41);
        crypto_sign_seed_keypair(ev->new_key, secret, seed);
        sodium_memzero(secret, sizeof(secret));
        ev->revoked = SAMPLE_TS - 86400000;
        break;
    }
    }
    if (type == ORIGO_EV_LOT_CREATE || type == ORIGO_EV_COA_ATTEST) {
        crypto_hash_sha256(ev->docs[0], (const uint8_t *)"drawing", 7);
        ev->n_docs = 1;
    }
    if (type == ORIGO_EV_LOT_CREATE) {
        ev->ext[0].key = origo_str_c("erp.order");
        ev->ext[0].value = origo_str_c("PO-4711");
        ev->ext[1].key = origo_str_c("site");
        ev->ext[1].value = origo_str_c("Plant 1");
        ev->n_ext = 2;
    }
}

/* Encodes, signs and wraps the sample of `type` into env (initialised by
 * the caller). Returns origo_event_seal()'s code. */
static inline int sample_envelope(enum origo_event_type type,
                                  const origo_key *key, origo_buf *env)
{
    origo_event ev;
    sample_event(&ev, type, origo_key_public(key));
    return origo_event_seal(&ev, key, env, NULL);
}

#endif
