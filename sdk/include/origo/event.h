/* Events: the signed unit of the ledger (docs/formats/event.md).
 *
 * An event body is one canonical MessagePack map whose keys come in the
 * order the spec fixes: v, net, type, by, ts, the type's own fields, then the
 * optional doc and ext. The event ID is SHA-256 of the body bytes; the
 * signature is Ed25519 over "origo/event/v1\0" || body; the envelope is the
 * canonical map {body: bin, sig: bin 64}.
 *
 * One plain struct, origo_event, serves both directions: a producer fills it
 * and calls origo_event_encode_body(), which checks every schema rule and
 * emits the canonical bytes; a consumer calls origo_event_decode_body(),
 * which fills it as a read-only view whose strings point into the decoded
 * buffer. Decoding then re-encoding gives the same bytes.
 *
 * Nothing here keeps global state. All functions may be called from any
 * thread on distinct objects; a decoded view may be read by many threads. */
#ifndef ORIGO_EVENT_H
#define ORIGO_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"
#include "origo/keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORIGO_EVENT_VERSION 1
/* Signature domain separator, including its terminating NUL (15 bytes). */
#define ORIGO_EVENT_SIG_DOMAIN "origo/event/v1"
#define ORIGO_EVENT_SIG_DOMAIN_LEN 15
#define ORIGO_EVENT_ID_LEN 32
#define ORIGO_HASH_LEN 32 /* SHA-256 */

/* Limits (docs/formats/event.md, "Limits"). Every one is enforced by both
 * encode and decode. */
#define ORIGO_NET_MAX 255               /* net: printable ASCII, no space */
#define ORIGO_LOT_MAX 256               /* one lot identifier, bytes */
#define ORIGO_EVENT_MAX_LOTS 128        /* lot references of one event */
#define ORIGO_EVENT_MAX_MEASURE 64      /* inspection measurements */
#define ORIGO_EVENT_MAX_DOCS 16         /* doc hashes */
#define ORIGO_EVENT_MAX_OWNS 16         /* member.add/update namespaces */
#define ORIGO_NAMESPACE_MAX 70          /* "party:" + 64, or "gs1:" + 12 */
#define ORIGO_EVENT_MAX_EXT 16          /* ext entries */
#define ORIGO_EXT_KEY_MAX 64            /* ext key bytes */
#define ORIGO_EXT_VALUE_MAX 1024        /* ext value bytes */
#define ORIGO_TEXT_MAX 128              /* item, issuer, from, to, ref, name */
#define ORIGO_REASON_MAX 1024           /* quality.* reason */
#define ORIGO_DECIMAL_MAX 40            /* qty, value, lower, upper */
#define ORIGO_UNIT_MAX 32               /* unit */
#define ORIGO_EPCIS_MAX 65536           /* epcis JSON text */
#define ORIGO_TS_MAX 253402300799999ull /* 9999-12-31T23:59:59.999Z */
#define ORIGO_EVENT_BODY_MAX (128u * 1024u)
#define ORIGO_ENVELOPE_MAX (ORIGO_EVENT_BODY_MAX + 128u)

/* A borrowed byte string (UTF-8 text unless said otherwise), not
 * NUL-terminated. len == 0 means absent for optional fields. */
typedef struct origo_str {
    const char *ptr;
    size_t len;
} origo_str;

/* Wraps a NUL-terminated string (NULL gives an empty origo_str). */
static inline origo_str origo_str_c(const char *text)
{
    origo_str s = {text, 0};
    if (text)
        while (text[s.len])
            s.len++;
    return s;
}

enum origo_event_type {
    ORIGO_EV_LOT_CREATE = 1,
    ORIGO_EV_LOT_TRANSFORM,
    ORIGO_EV_INSPECTION,
    ORIGO_EV_COA_ATTEST,
    ORIGO_EV_CUSTODY_SHIP,
    ORIGO_EV_CUSTODY_RECEIVE,
    ORIGO_EV_QUALITY_HOLD,
    ORIGO_EV_QUALITY_RELEASE,
    ORIGO_EV_QUALITY_RECALL,
    ORIGO_EV_MEMBER_ADD,
    ORIGO_EV_MEMBER_UPDATE,
    ORIGO_EV_MEMBER_REMOVE,
    ORIGO_EV_EPCIS,
    ORIGO_EV_MEMBER_ROTATE, /* a member's new key, its identity kept */
};
#define ORIGO_EV_TYPE_COUNT 14

/* The wire name ("lot.create", ...) of a type, or NULL if out of range. */
const char *origo_event_type_name(enum origo_event_type type);
/* Parses a wire name. Returns 0 and *out, or ORIGO_E_EVENT_TYPE. */
int origo_event_type_parse(const char *name, size_t len,
                           enum origo_event_type *out);

/* How an event refers to a lot. */
enum origo_lot_role {
    ORIGO_LOT_SUBJECT = 1, /* the lot the event is about */
    ORIGO_LOT_INPUT,       /* consumed by a transform */
    ORIGO_LOT_OUTPUT,      /* produced by a transform */
    ORIGO_LOT_PARENT,      /* epcis: named by parentID */
    ORIGO_LOT_CHILD,       /* epcis: named by childEPCs, childQuantityList */
};

/* What decoding learns of an epcis event's JSON (docs/formats/event.md,
 * "The epcis type"). */
enum origo_epcis_type {
    ORIGO_EPCIS_OBJECT = 1,
    ORIGO_EPCIS_AGGREGATION,
    ORIGO_EPCIS_TRANSACTION,
    ORIGO_EPCIS_TRANSFORMATION,
    ORIGO_EPCIS_ASSOCIATION,
};
enum origo_epcis_action {
    ORIGO_EPCIS_NO_ACTION = 0, /* TransformationEvent has none */
    ORIGO_EPCIS_ADD,
    ORIGO_EPCIS_OBSERVE,
    ORIGO_EPCIS_DELETE,
};
typedef struct origo_epcis_info {
    enum origo_epcis_type type;
    enum origo_epcis_action action;
    uint64_t event_time;   /* eventTime as Unix milliseconds (UTC) */
    origo_str biz_step;    /* content of bizStep, empty when absent */
    origo_str disposition; /* content of disposition, empty when absent */
    /* The party of sourceList / destinationList: the first entry of type
     * possessing_party, else the first of type owning_party (the type in
     * its bare, CBV URN or GS1 web URI form); empty when none. */
    origo_str source_party;
    origo_str destination_party;
} origo_epcis_info;

/* One lot reference. qty/unit are set for lot.create (subject) and
 * lot.transform (inputs, outputs) and empty for every other type, including
 * epcis (its quantities stay in the JSON). */
typedef struct origo_lot_ref {
    enum origo_lot_role role;
    origo_str lot;
    origo_str qty;  /* canonical positive decimal */
    origo_str unit; /* 1..ORIGO_UNIT_MAX printable ASCII */
} origo_lot_ref;

enum origo_stage {
    ORIGO_STAGE_IQC = 1, /* incoming */
    ORIGO_STAGE_IPQC,    /* in-process */
    ORIGO_STAGE_OQC,     /* outgoing */
    ORIGO_STAGE_FAI,     /* first article */
    ORIGO_STAGE_LAB,     /* laboratory */
};

enum origo_result {
    ORIGO_RESULT_PASS = 1,
    ORIGO_RESULT_FAIL,
    ORIGO_RESULT_CONDITIONAL,
};

/* One measured characteristic of an inspection. value, lower and upper are
 * canonical signed decimals; lower/upper are optional (len 0 = absent) and,
 * when both are present, lower <= upper. */
typedef struct origo_measure {
    origo_str name;
    origo_str value;
    origo_str unit;
    origo_str lower;
    origo_str upper;
} origo_measure;

/* Member roles, a bit set. Wire form: an array of the role names in
 * strictly increasing bytewise order (the order below). Which role may
 * submit which type is the ledger's policy, not the SDK's. */
#define ORIGO_ROLE_ADMIN (1u << 0)     /* "admin" */
#define ORIGO_ROLE_AUDITOR (1u << 1)   /* "auditor" */
#define ORIGO_ROLE_CARRIER (1u << 2)   /* "carrier" */
#define ORIGO_ROLE_INSPECTOR (1u << 3) /* "inspector" */
#define ORIGO_ROLE_PLANT (1u << 4)     /* "plant" */
#define ORIGO_ROLE_SUPPLIER (1u << 5)  /* "supplier" */
#define ORIGO_ROLE_VALIDATOR (1u << 6) /* "validator" */
#define ORIGO_ROLE_ALL 0x7fu
/* The wire name of one role bit, or NULL. */
const char *origo_role_name(unsigned role_bit);

typedef struct origo_ext_entry {
    origo_str key;
    origo_str value;
} origo_ext_entry;

/* An event, as filled by a producer or by origo_event_decode_body(). It is
 * about 13.6 KB (fixed arrays, so decoding never allocates): keep one per
 * thread or on the heap rather than many on a small stack.
 * Fields a type does not use must be left zero/empty by producers; decode
 * leaves them zero. Per type:
 *   lot.create       lots[0] (SUBJECT, with qty and unit), item
 *   lot.transform    lots: INPUTs and OUTPUTs, each with qty and unit
 *   inspection       lots[0] (SUBJECT), stage, result, report, measures
 *   coa.attest       lots[0] (SUBJECT), coa, issuer
 *   custody.*        lots (SUBJECT), from, to, ref
 *   quality.*        lots (SUBJECT), reason
 *   member.add/update  member, name, roles, owns (optional)
 *   member.remove    member
 *   member.rotate    member (the old key), new_key, revoked (optional)
 *   epcis            epcis (canonical JSON); lots and epcis_info are
 *                    derived from it by decode (and by
 *                    origo_event_validate()) and ignored by encode. */
typedef struct origo_event {
    enum origo_event_type type;
    origo_str net;
    uint8_t by[ORIGO_PUBKEY_LEN];
    uint64_t ts; /* Unix milliseconds, 1..ORIGO_TS_MAX */

    size_t n_lots;
    origo_lot_ref lots[ORIGO_EVENT_MAX_LOTS];

    origo_str item; /* lot.create: part number or GTIN */

    enum origo_stage stage;   /* inspection */
    enum origo_result result; /* inspection */
    uint8_t report[ORIGO_HASH_LEN];
    size_t n_measures;
    origo_measure measures[ORIGO_EVENT_MAX_MEASURE];

    uint8_t coa[ORIGO_HASH_LEN]; /* coa.attest: SHA-256 of the document */
    origo_str issuer;

    origo_str from, to, ref; /* custody.* */

    origo_str reason; /* quality.* */

    uint8_t member[ORIGO_PUBKEY_LEN]; /* member.*: the member's key */
    origo_str name;
    unsigned roles; /* ORIGO_ROLE_* bits, non-zero */
    /* member.add/update, optional: namespaces the member is to own
     * (origo_namespace_check()), distinct, in strictly increasing bytewise
     * order. */
    size_t n_owns;
    origo_str owns[ORIGO_EVENT_MAX_OWNS];
    /* member.rotate: the member's new key, and optionally (0 = absent) the
     * Unix time in ms from which its old key counts as compromised. */
    uint8_t new_key[ORIGO_PUBKEY_LEN];
    uint64_t revoked;

    origo_str epcis;             /* epcis: the JSON text */
    origo_epcis_info epcis_info; /* epcis: derived like lots, never encoded */

    size_t n_docs;
    uint8_t docs[ORIGO_EVENT_MAX_DOCS][ORIGO_HASH_LEN];
    size_t n_ext;
    origo_ext_entry ext[ORIGO_EVENT_MAX_EXT];
} origo_event;

/* Zeroes an event so a producer can fill it. */
void origo_event_init(origo_event *ev, enum origo_event_type type);

/* Checks every schema rule of the spec on a filled event. For epcis it also
 * fills ev->lots from the JSON (hence non-const). Returns 0, ORIGO_E_VERSION,
 * ORIGO_E_EVENT_TYPE, ORIGO_E_SCHEMA, ORIGO_E_LOT, ORIGO_E_TIMESTAMP,
 * ORIGO_E_KEY (member key is not a valid public key), ORIGO_E_UTF8,
 * ORIGO_E_NOMEM (epcis parsing). */
int origo_event_validate(origo_event *ev);

/* Validates *ev (as origo_event_validate() does, on a private copy of the
 * lot list for epcis) and appends the canonical body to `out`. Returns 0 or
 * a code of origo_event_validate(), ORIGO_E_TOOBIG (body over
 * ORIGO_EVENT_BODY_MAX or out's maximum), ORIGO_E_NOMEM. On error `out` may
 * hold a partial body: reset it. */
int origo_event_encode_body(const origo_event *ev, origo_buf *out);

/* Decodes and validates a body into the view *out. Every origo_str in *out
 * points into `body`, which must stay unchanged and alive as long as *out
 * is used; hashes and keys are copied. Returns 0, a codec error
 * (ORIGO_E_TRUNCATED, ORIGO_E_NONCANONICAL, ORIGO_E_TYPE, ORIGO_E_TRAILING,
 * ORIGO_E_UTF8, ORIGO_E_DEPTH, ORIGO_E_MISSING_KEY, ORIGO_E_UNKNOWN_KEY,
 * ORIGO_E_KEY_ORDER, ORIGO_E_DUPLICATE_KEY, ORIGO_E_RESERVED_TYPE,
 * ORIGO_E_TOOBIG) or a code of origo_event_validate(). *out is written only
 * on success. */
int origo_event_decode_body(const uint8_t *body, size_t len, origo_event *out);

/* Event ID = SHA-256(body). */
void origo_event_id(const uint8_t *body, size_t len,
                    uint8_t id[ORIGO_EVENT_ID_LEN]);

/* Signs body bytes: sig = Ed25519(key, "origo/event/v1\0" || body). Does
 * not look inside the body (origo_event_seal() does). Returns 0,
 * ORIGO_E_INVAL, ORIGO_E_NOMEM. */
int origo_event_sign(const origo_key *key, const uint8_t *body, size_t len,
                     uint8_t sig[ORIGO_SIG_LEN]);

/* Checks the signature of body bytes under `pub` (strict, with the domain
 * prefix); does not decode the body. Returns 0, ORIGO_E_KEY,
 * ORIGO_E_SIGNATURE, ORIGO_E_NOMEM, ORIGO_E_SODIUM. */
ORIGO_WARN_UNUSED int origo_event_verify_sig(const uint8_t *pub, size_t pub_len,
                                             const uint8_t *body, size_t len,
                                             const uint8_t *sig,
                                             size_t sig_len);

/* ---- envelopes ---------------------------------------------------------- */

/* A decoded envelope: body points into the decoded buffer (same lifetime
 * rule as origo_event_decode_body()); the signature is copied. */
typedef struct origo_envelope {
    const uint8_t *body;
    size_t body_len;
    uint8_t sig[ORIGO_SIG_LEN];
} origo_envelope;

/* Appends the canonical envelope {body, sig} to `out`. Returns 0,
 * ORIGO_E_TOOBIG (body over ORIGO_EVENT_BODY_MAX), ORIGO_E_NOMEM. */
int origo_envelope_encode(const uint8_t *body, size_t body_len,
                          const uint8_t sig[ORIGO_SIG_LEN], origo_buf *out);

/* Decodes the envelope map only (the body is not decoded here). Rejects
 * non-canonical forms, a sig that is not 64 bytes (ORIGO_E_SIGNATURE), a
 * body over ORIGO_EVENT_BODY_MAX (ORIGO_E_TOOBIG) and trailing bytes.
 * Returns 0 and *out, or the error. */
int origo_envelope_decode(const uint8_t *data, size_t len, origo_envelope *out);

/* Full check of an envelope received from anyone: decode the envelope and
 * the body (schema), require body.net == `net` (ORIGO_E_NETWORK), check
 * `by` is a strong key (ORIGO_E_KEY) and verify the signature strictly
 * (ORIGO_E_SIGNATURE). On success fills *ev (may be NULL) as a view into
 * `data` and id (may be NULL) with the event ID. Membership, roles and
 * timestamps are the ledger's to check. */
ORIGO_WARN_UNUSED int origo_envelope_verify(const uint8_t *data, size_t len,
                                            const char *net, size_t net_len,
                                            origo_event *ev,
                                            uint8_t id[ORIGO_EVENT_ID_LEN]);

/* Producer convenience: requires ev->by to equal key's public key
 * (ORIGO_E_KEY otherwise), encodes the body, signs it and appends the
 * envelope to `out`; writes the event ID to id if not NULL. Returns 0 or
 * any code of origo_event_encode_body()/origo_event_sign(). */
int origo_event_seal(const origo_event *ev, const origo_key *key,
                     origo_buf *out, uint8_t id[ORIGO_EVENT_ID_LEN]);

/* ---- lot identifiers ---------------------------------------------------- */

enum origo_lot_kind {
    ORIGO_LOTID_LGTIN = 1,    /* urn:epc:class:lgtin:<cp>.<item>.<lot> */
    ORIGO_LOTID_DIGITAL_LINK, /* https://<host>[/path]/01/<gtin>/10/<lot> */
    ORIGO_LOTID_PARTY,        /* <party>/<part>/<lot> */
};

/* Checks the syntax of a lot identifier (docs/formats/event.md, "Lot
 * identifiers"). Returns 0 and, if kind is not NULL, its kind; or
 * ORIGO_E_LOT. */
int origo_lot_check(const char *lot, size_t len, enum origo_lot_kind *kind);

/* CBV vocabularies whose codes EPCIS writes in three spellings: bare
 * ("shipping"), URN ("urn:epcglobal:cbv:bizstep:shipping") and GS1 web URI
 * ("https://ref.gs1.org/cbv/BizStep-shipping"). */
enum origo_cbv_vocab {
    ORIGO_CBV_BIZSTEP = 1,
    ORIGO_CBV_DISPOSITION,
    ORIGO_CBV_SOURCE_DEST_TYPE,
};
/* 1 when `value` is CBV code `code` of `vocab` in any of its spellings. */
int origo_cbv_is(origo_str value, enum origo_cbv_vocab vocab, const char *code);

/* Decides which lot, if any, an EPC or EPC class string of an EPCIS event
 * names (docs/formats/event.md, "The epcis type"): a lot identifier names
 * itself; a GS1 Digital Link lot identifier followed by "/21/<serial>"
 * (serial: 1..20 characters of the lot character set) names that lot
 * (the lot is the first *lot_len bytes); nothing else names a lot (SGTIN
 * and SSCC URNs, GTIN classes without a lot, a party-form lot with a
 * "/21/" suffix). This one function serves the SDK's checks and the
 * ledger's trace facts. Returns 0 and *lot_len (may be NULL), or
 * ORIGO_E_LOT. */
int origo_epc_lot(const char *epc, size_t len, size_t *lot_len);

/* Checks a lot namespace (docs/formats/authority.md): "party:<segment>"
 * (1..64 of A-Z a-z 0-9 . _ -, not only dots) or "gs1:<company prefix>"
 * (6..12 digits). Returns 0 or ORIGO_E_SCHEMA. */
int origo_namespace_check(const char *ns, size_t len);

/* Checks a decimal string: canonical (no sign unless negative, no leading
 * zeros, no trailing fractional zeros, no "-0", at most ORIGO_DECIMAL_MAX
 * bytes). `allow_negative` selects signed values (measurements) versus
 * strictly positive quantities. Returns 0 or ORIGO_E_SCHEMA. */
int origo_decimal_check(const char *text, size_t len, int allow_negative);

/* a + b (or a - b when `subtract`) of two canonical signed decimals,
 * computed on their digits (never through floating point), written to out
 * canonically (NUL-terminated; out_size >= ORIGO_DECIMAL_MAX + 1 always
 * suffices) with its length in *out_len. Returns 0, ORIGO_E_INVAL (an
 * operand is not a canonical decimal) or ORIGO_E_TOOBIG (the result has
 * more than ORIGO_DECIMAL_MAX characters, or does not fit out). */
int origo_decimal_add(const char *a, size_t a_len, const char *b, size_t b_len,
                      int subtract, char *out, size_t out_size,
                      size_t *out_len);
/* Compares two canonical decimals numerically: <0, 0, >0. */
int origo_decimal_cmp(const char *a, size_t a_len, const char *b, size_t b_len);

#ifdef __cplusplus
}
#endif
#endif
