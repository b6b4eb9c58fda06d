/* Genesis files (docs/formats/genesis.md): the network's origin, validators,
 * admins, members with roles and validation parameters, parsed strictly from
 * JSON, hashed over a canonical msgpack encoding; plus the role table that
 * says which role may submit which event type.
 *
 * Pure functions and plain data; any thread on distinct objects. */
#ifndef ORIGO_LEDGER_GENESIS_H
#define ORIGO_LEDGER_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#define GENESIS_NAME_MAX 255
#define GENESIS_ORIGIN_MAX 255
#define GENESIS_ADDRESS_MAX 255
#define GENESIS_MAX_PARTIES 4096
#define GENESIS_MAX_BYTES (4u << 20)
#define GENESIS_FORMAT "origo-genesis/v1"
/* The state machine's rule version (docs/formats/authority.md): a genesis
 * states it in "rules"; this build applies exactly this version. */
#define GENESIS_RULES 1
#define GENESIS_MAX_NAMESPACES 16384
#define GENESIS_NAMESPACE_MAX 70 /* "party:" + a 64-byte party segment */
/* Longest timestamp window: minutes, not months (authority.md, "Time"). */
#define GENESIS_TS_WINDOW_MAX 3600000ull
/* Longest time over which admins' approvals of one member change gather. */
#define GENESIS_APPROVAL_WINDOW_MAX (30ull * 86400000ull)

/* Roles are the SDK's ORIGO_ROLE_* bits (origo/event.h): admin, auditor,
 * carrier, inspector, plant, supplier, validator. */
#define ROLE_COUNT 7

/* The role's name ("admin"...) for bit `index` (0..ROLE_COUNT-1). */
const char *genesis_role_name(unsigned index);
/* Parses a role name; returns its ORIGO_ROLE_* bit or 0 when unknown. */
uint32_t genesis_role_parse(const char *name, size_t len);
/* Roles (ORIGO_ROLE_* mask) allowed to submit event type `type` (an enum
 * origo_event_type value); 0 for an unknown type. */
uint32_t genesis_roles_for_type(int type);

/* One key holder named in the genesis. */
typedef struct genesis_party {
    char name[GENESIS_NAME_MAX + 1];
    uint8_t pub[32];
    uint32_t roles;
    char address[GENESIS_ADDRESS_MAX + 1]; /* validators: host:port */
    size_t owns_first, owns_count;         /* into genesis.namespaces */
} genesis_party;

/* A namespace a party owns: lots in it are created only by that party. */
enum genesis_ns_kind {
    GENESIS_NS_PARTY = 1, /* "party:<p>": party-form lots <p>/<part>/<lot> */
    GENESIS_NS_GS1,       /* "gs1:<digits>": a GS1 company prefix */
};
typedef struct genesis_namespace {
    enum genesis_ns_kind kind;
    char text[GENESIS_NAMESPACE_MAX + 1]; /* without the "party:"/"gs1:" */
    size_t len;
    size_t party; /* index into genesis.parties */
} genesis_namespace;

typedef struct genesis {
    char origin[GENESIS_ORIGIN_MAX + 1];
    genesis_party *parties; /* validators, then admins, then members */
    size_t party_count;
    size_t validator_count;
    size_t admin_count; /* parties[validator_count..+admin_count) */
    genesis_namespace *namespaces;
    size_t namespace_count;
    uint32_t rules;              /* GENESIS_RULES */
    uint64_t ts_window_ms;       /* |ts - block time| allowed */
    uint32_t checkpoint_quorum;  /* validator signatures for a checkpoint */
    uint32_t admin_quorum;       /* admins that must approve a member change */
    uint64_t approval_window_ms; /* approvals older than this expire */
    uint8_t hash[32];            /* SHA-256("origo/genesis/v1\0"||canon) */
} genesis;

/* Parses a genesis file strictly. On failure writes a message naming the
 * field (a JSON path such as "members[2].roles[0]") and what was expected
 * into errmsg. Returns 0 and *out (free with genesis_free()),
 * ORIGO_E_JSON, ORIGO_E_GENESIS, ORIGO_E_NOMEM. */
int genesis_parse(const uint8_t *json, size_t len, genesis **out, char *errmsg,
                  size_t errmsg_size);

/* Frees a genesis; NULL is a no-op. */
void genesis_free(genesis *gen);

/* Canonical msgpack encoding of a parsed genesis (what its hash covers),
 * malloc()ed. Returns 0 or ORIGO_E_NOMEM. */
int genesis_encode(const genesis *gen, uint8_t **out, size_t *out_len);

/* Writes a genesis as JSON text (malloc()ed, NUL-terminated), for `origo
 * genesis`. Returns 0 or ORIGO_E_NOMEM. */
int genesis_to_json(const genesis *gen, char **out);

/* Where a lot identifier (which must pass origo_lot_check()) lives:
 * GENESIS_NS_PARTY with its party segment in segment[0..*segment_len)
 * (room for 64 bytes), or GENESIS_NS_GS1 with the 12 digits of its GTIN
 * after the indicator digit (company prefix, then item reference); 0 when
 * neither. A gs1: namespace owns the lot when it prefixes those digits. */
int genesis_lot_namespace(const char *lot, size_t len, char *segment,
                          size_t *segment_len, char digits[12]);

/* The 12 digits (company prefix, then party or location reference) of a
 * GS1 party identifier of an EPCIS source or destination: a PGLN URN
 * urn:epc:id:pgln:<cp>.<ref>, or a Digital Link https://<host>/417/<GLN>
 * (or /414/<GLN>). Returns 1, or 0 when it is neither. */
int genesis_party_digits(const char *party, size_t len, char digits[12]);

/* 1 when `origin` (len bytes) is a valid network origin: 1..255 bytes of
 * printable ASCII without space (0x21..0x7e), the rule the event schema
 * applies to `net` (docs/formats/event.md), so that events can match it;
 * else 0. */
int genesis_origin_ok(const char *origin, size_t len);

/* Whether s[0..len) is a validator address "host:port": a host of
 * printable ASCII without spaces, a port 1-65535 in decimal digits without
 * a leading zero. */
int genesis_address_ok(const char *s, size_t len);

#endif
