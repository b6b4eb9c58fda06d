/* Genesis files: strict JSON parsing (every unknown field rejected, every
 * error names its field), the canonical msgpack encoding whose hash binds a
 * store to one network, and the role -> event-type permission table that
 * validation applies (docs/formats/genesis.md). */
#include "genesis.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"

const char *genesis_role_name(unsigned index)
{
    const char *name = index < ROLE_COUNT ? origo_role_name(1u << index) : NULL;
    return name ? name : "?";
}

uint32_t genesis_role_parse(const char *name, size_t len)
{
    for (unsigned i = 0; i < ROLE_COUNT; i++) {
        const char *role = origo_role_name(1u << i);
        if (role && strlen(role) == len && memcmp(role, name, len) == 0)
            return 1u << i;
    }
    return 0;
}

/* Which roles may submit which event type (docs/formats/genesis.md,
 * "Roles"). Member events are admin-only; validators sign checkpoints, not
 * events; auditors and inspectors record findings. */
uint32_t genesis_roles_for_type(int type)
{
    const uint32_t maker = ORIGO_ROLE_SUPPLIER | ORIGO_ROLE_PLANT;
    switch (type) {
    case ORIGO_EV_LOT_CREATE:
    case ORIGO_EV_LOT_TRANSFORM:
        return maker;
    case ORIGO_EV_INSPECTION:
        return maker | ORIGO_ROLE_INSPECTOR | ORIGO_ROLE_AUDITOR;
    case ORIGO_EV_COA_ATTEST:
        return maker | ORIGO_ROLE_INSPECTOR;
    case ORIGO_EV_CUSTODY_SHIP:
    case ORIGO_EV_CUSTODY_RECEIVE:
        return maker | ORIGO_ROLE_CARRIER;
    case ORIGO_EV_QUALITY_HOLD:
    case ORIGO_EV_QUALITY_RELEASE:
        /* Whoever may hold may release; authority.md says whose holds. */
        return maker | ORIGO_ROLE_INSPECTOR | ORIGO_ROLE_AUDITOR |
               ORIGO_ROLE_ADMIN;
    case ORIGO_EV_QUALITY_RECALL:
        /* The owner (a maker) or a regulator (the auditor role). */
        return maker | ORIGO_ROLE_AUDITOR;
    case ORIGO_EV_MEMBER_ADD:
    case ORIGO_EV_MEMBER_UPDATE:
    case ORIGO_EV_MEMBER_REMOVE:
        return ORIGO_ROLE_ADMIN;
    case ORIGO_EV_EPCIS:
        return maker | ORIGO_ROLE_CARRIER | ORIGO_ROLE_INSPECTOR;
    case ORIGO_EV_MEMBER_ROTATE:
        /* Any member rotates its own key; admins anyone's (authority.md). */
        return ORIGO_ROLE_ALL;
    default:
        return 0;
    }
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct parse_ctx {
    char *errmsg;
    size_t errmsg_size;
} parse_ctx;

static int fail(parse_ctx *pc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parse_ctx *pc, int code, const char *fmt, ...)
{
    if (pc->errmsg && pc->errmsg_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pc->errmsg, pc->errmsg_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Rejects any key of `obj` not in the NULL-terminated `allowed` list. */
static int check_keys(parse_ctx *pc, json_t *obj, const char *path,
                      const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i]; i++)
            known |= strcmp(key, allowed[i]) == 0;
        if (!known)
            return fail(pc, ORIGO_E_GENESIS, "%s%s%s: unknown field", path,
                        *path ? "." : "", key);
    }
    return 0;
}

static int get_string(parse_ctx *pc, json_t *obj, const char *path,
                      const char *field, size_t max, const char **out)
{
    json_t *v = json_object_get(obj, field);
    if (!v)
        return fail(pc, ORIGO_E_GENESIS, "%s%s%s: missing (expected a string)",
                    path, *path ? "." : "", field);
    if (!json_is_string(v))
        return fail(pc, ORIGO_E_GENESIS, "%s%s%s: expected a string", path,
                    *path ? "." : "", field);
    size_t len = json_string_length(v);
    if (len == 0 || len > max || strlen(json_string_value(v)) != len)
        return fail(pc, ORIGO_E_GENESIS,
                    "%s%s%s: expected a non-empty string of at most %zu bytes "
                    "without NUL",
                    path, *path ? "." : "", field, max);
    *out = json_string_value(v);
    return 0;
}

int genesis_address_ok(const char *s, size_t len)
{
    size_t colon = len;
    while (colon > 0 && s[colon - 1] != ':')
        colon--;
    if (colon < 2 || len > GENESIS_ADDRESS_MAX || colon == len ||
        len - colon > 5)
        return 0;
    unsigned long port = 0;
    for (size_t i = colon; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        port = port * 10 + (unsigned long)(s[i] - '0');
    }
    for (size_t i = 0; i + 1 < colon; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return port >= 1 && port <= 65535 && s[colon] != '0';
}

int genesis_origin_ok(const char *origin, size_t len)
{
    if (len == 0 || len > GENESIS_ORIGIN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)origin[i];
        if (c < 0x21 || c > 0x7e)
            return 0;
    }
    return 1;
}

static int weak_key(parse_ctx *pc, const char *path)
{
    return fail(pc, ORIGO_E_GENESIS,
                "%s.key: not a valid (prime-order, non-small-order) "
                "Ed25519 public key",
                path);
}

/* Parses "name+hex8+base64(0x01||pub)" (C2SP verifier key, through the
 * SDK's origo_vkey_parse()) or 64 hex. */
static int parse_key(parse_ctx *pc, const char *path, const char *name,
                     const char *text, uint8_t pub[32])
{
    size_t len = strlen(text);
    if (len == 64) {
        if (origo_pubkey_from_hex(text, len, pub) != 0)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.key: expected 64 hex digits or a verifier key",
                        path);
    } else {
        origo_vkey vkey;
        int rc = origo_vkey_parse(text, len, &vkey);
        if (rc == ORIGO_E_KEY)
            return weak_key(pc, path);
        if (rc)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.key: expected a verifier key "
                        "name+keyid+base64(0x01||pubkey) whose key ID "
                        "matches, or 64 hex digits",
                        path);
        if (strcmp(vkey.name, name) != 0)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.key: verifier key is named \"%s\", expected "
                        "\"%s\" (the entry's name)",
                        path, vkey.name, name);
        memcpy(pub, vkey.pub, 32);
    }
    if (crypto_core_ed25519_is_valid_point(pub) != 1)
        return weak_key(pc, path);
    return 0;
}

static int parse_roles(parse_ctx *pc, const char *path, json_t *roles,
                       uint32_t *out)
{
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return fail(pc, ORIGO_E_GENESIS,
                    "%s.roles: expected a non-empty array of role names", path);
    uint32_t mask = 0;
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r)
    {
        uint32_t bit = json_is_string(r)
                           ? genesis_role_parse(json_string_value(r),
                                                json_string_length(r))
                           : 0;
        if (!bit)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.roles[%zu]: expected one of admin, auditor, "
                        "carrier, inspector, plant, supplier, validator",
                        path, i);
        if (mask & bit)
            return fail(pc, ORIGO_E_GENESIS, "%s.roles[%zu]: duplicate role",
                        path, i);
        mask |= bit;
    }
    *out = mask;
    return 0;
}

enum list_kind { LIST_VALIDATORS, LIST_ADMINS, LIST_MEMBERS };

static int parse_party(parse_ctx *pc, const char *path, json_t *obj,
                       enum list_kind kind, genesis_party *party)
{
    static const char *const v_keys[] = {"name", "key", "address", NULL};
    static const char *const a_keys[] = {"name", "key", "owns", NULL};
    static const char *const m_keys[] = {"name", "key", "roles", "owns", NULL};
    const char *name, *key, *address;
    int rc;
    if (!json_is_object(obj))
        return fail(pc, ORIGO_E_GENESIS, "%s: expected an object", path);
    rc = check_keys(pc, obj, path,
                    kind == LIST_VALIDATORS ? v_keys
                    : kind == LIST_ADMINS   ? a_keys
                                            : m_keys);
    if (rc)
        return rc;
    if ((rc = get_string(pc, obj, path, "name", GENESIS_NAME_MAX, &name)))
        return rc;
    /* Names are signed-note key names (checkpoint signature lines, verifier
     * keys): one rule, the SDK's, for every party. */
    if (origo_keyname_check(name, strlen(name)) != 0)
        return fail(pc, ORIGO_E_GENESIS,
                    "%s.name: expected a key name (UTF-8 without spaces, "
                    "Unicode spaces, control characters or '+')",
                    path);
    if ((rc = get_string(pc, obj, path, "key", 400, &key)))
        return rc;
    memset(party, 0, sizeof(*party));
    memcpy(party->name, name, strlen(name) + 1);
    if ((rc = parse_key(pc, path, name, key, party->pub)))
        return rc;
    if (kind == LIST_VALIDATORS) {
        if ((rc = get_string(pc, obj, path, "address", GENESIS_ADDRESS_MAX,
                             &address)))
            return rc;
        if (!genesis_address_ok(address, strlen(address)))
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.address: expected host:port with a port 1-65535",
                        path);
        memcpy(party->address, address, strlen(address) + 1);
        party->roles = ORIGO_ROLE_VALIDATOR;
    } else if (kind == LIST_ADMINS) {
        party->roles = ORIGO_ROLE_ADMIN;
    } else {
        if ((rc = parse_roles(pc, path, json_object_get(obj, "roles"),
                              &party->roles)))
            return rc;
    }
    return 0;
}

/* Two namespaces overlap when one party-form segment equals the other, or
 * one company prefix starts the other (GS1 prefixes vary in length, so
 * "401234" and "4012345" would both own 4012345...). */
static int namespaces_overlap(const genesis_namespace *a,
                              const genesis_namespace *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == GENESIS_NS_PARTY)
        return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    size_t n = a->len < b->len ? a->len : b->len;
    return memcmp(a->text, b->text, n) == 0;
}

static int parse_owns(parse_ctx *pc, const char *path, json_t *owns,
                      genesis *gen, size_t party_index)
{
    genesis_party *party = &gen->parties[party_index];
    party->owns_first = gen->namespace_count;
    party->owns_count = 0;
    if (!owns)
        return 0;
    if (!json_is_array(owns))
        return fail(pc, ORIGO_E_GENESIS,
                    "%s.owns: expected an array of namespaces such as "
                    "\"party:acme\" or \"gs1:4012345\"",
                    path);
    size_t i;
    json_t *item;
    json_array_foreach(owns, i, item)
    {
        const char *text = json_is_string(item) ? json_string_value(item) : "";
        size_t len = json_is_string(item) ? json_string_length(item) : 0;
        genesis_namespace ns = {0};
        int valid = strlen(text) == len &&
                    origo_namespace_check(text, len) == 0; /* the SDK's rule */
        if (valid && memcmp(text, "party:", 6) == 0)
            ns.kind = GENESIS_NS_PARTY, text += 6, len -= 6;
        else if (valid)
            ns.kind = GENESIS_NS_GS1, text += 4, len -= 4;
        if (!valid)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s.owns[%zu]: expected \"party:<segment>\" (1..64 "
                        "of A-Z a-z 0-9 . _ -) or \"gs1:<company prefix>\" "
                        "(6..12 digits)",
                        path, i);
        memcpy(ns.text, text, len);
        ns.len = len;
        ns.party = party_index;
        for (size_t j = 0; j < gen->namespace_count; j++) {
            const genesis_namespace *other = &gen->namespaces[j];
            if (namespaces_overlap(other, &ns))
                return fail(pc, ORIGO_E_GENESIS,
                            "%s.owns[%zu]: overlaps \"%s:%s\", owned by "
                            "\"%s\" (no lot may have two owners)",
                            path, i,
                            other->kind == GENESIS_NS_PARTY ? "party" : "gs1",
                            other->text, gen->parties[other->party].name);
        }
        if (gen->namespace_count >= GENESIS_MAX_NAMESPACES)
            return fail(pc, ORIGO_E_GENESIS, "%s.owns: more than %u namespaces",
                        path, GENESIS_MAX_NAMESPACES);
        gen->namespaces[gen->namespace_count++] = ns;
        party->owns_count++;
    }
    return 0;
}

static int parse_list(parse_ctx *pc, json_t *root, const char *field,
                      enum list_kind kind, int required, genesis *gen)
{
    json_t *list = json_object_get(root, field);
    if (!list) {
        if (required)
            return fail(pc, ORIGO_E_GENESIS,
                        "%s: missing (expected a non-empty array)", field);
        return 0;
    }
    if (!json_is_array(list) || (required && json_array_size(list) == 0))
        return fail(pc, ORIGO_E_GENESIS, "%s: expected %sarray of objects",
                    field, required ? "a non-empty " : "an ");
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char path[64];
        snprintf(path, sizeof(path), "%s[%zu]", field, i);
        if (gen->party_count >= GENESIS_MAX_PARTIES)
            return fail(pc, ORIGO_E_GENESIS, "%s: more than %u parties", path,
                        GENESIS_MAX_PARTIES);
        genesis_party *party = &gen->parties[gen->party_count];
        int rc = parse_party(pc, path, item, kind, party);
        if (!rc)
            rc = parse_owns(pc, path, json_object_get(item, "owns"), gen,
                            gen->party_count);
        if (rc)
            return rc;
        for (size_t j = 0; j < gen->party_count; j++) {
            if (memcmp(gen->parties[j].pub, party->pub, 32) == 0)
                return fail(pc, ORIGO_E_GENESIS,
                            "%s.key: key already used by \"%s\" (one key per "
                            "party; a validator's node key is separate from "
                            "its organisation's member key)",
                            path, gen->parties[j].name);
            if (strcmp(gen->parties[j].name, party->name) == 0)
                return fail(pc, ORIGO_E_GENESIS,
                            "%s.name: name \"%s\" already used", path,
                            party->name);
        }
        gen->party_count++;
        if (kind == LIST_VALIDATORS)
            gen->validator_count++;
        else if (kind == LIST_ADMINS)
            gen->admin_count++;
    }
    return 0;
}

static int parse_params(parse_ctx *pc, json_t *root, genesis *gen)
{
    static const char *const keys[] = {"ts_window_ms", "checkpoint_quorum",
                                       "admin_quorum", "approval_window_ms",
                                       NULL};
    json_t *params = json_object_get(root, "params");
    int rc;
    gen->ts_window_ms = 600000;
    gen->checkpoint_quorum = (uint32_t)(gen->validator_count / 2 + 1);
    gen->admin_quorum = (uint32_t)(gen->admin_count / 2 + 1);
    gen->approval_window_ms = 86400000;
    if (!params)
        return 0;
    if (!json_is_object(params))
        return fail(pc, ORIGO_E_GENESIS, "params: expected an object");
    if (json_object_get(params, "input_lots"))
        return fail(pc, ORIGO_E_GENESIS,
                    "params.input_lots: removed in rule version 1, where "
                    "every lot an event acts on must exist "
                    "(docs/formats/authority.md); drop the field");
    if ((rc = check_keys(pc, params, "params", keys)))
        return rc;
    json_t *v = json_object_get(params, "ts_window_ms");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (uint64_t)json_integer_value(v) > GENESIS_TS_WINDOW_MAX)
            return fail(pc, ORIGO_E_GENESIS,
                        "params.ts_window_ms: expected an integer from 1 to "
                        "%llu (milliseconds: an event is dated within an "
                        "hour of its block)",
                        (unsigned long long)GENESIS_TS_WINDOW_MAX);
        gen->ts_window_ms = (uint64_t)json_integer_value(v);
    }
    v = json_object_get(params, "checkpoint_quorum");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (size_t)json_integer_value(v) > gen->validator_count)
            return fail(pc, ORIGO_E_GENESIS,
                        "params.checkpoint_quorum: expected an integer from "
                        "1 to %zu (the number of validators)",
                        gen->validator_count);
        gen->checkpoint_quorum = (uint32_t)json_integer_value(v);
    }
    v = json_object_get(params, "admin_quorum");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (size_t)json_integer_value(v) > gen->admin_count)
            return fail(pc, ORIGO_E_GENESIS,
                        "params.admin_quorum: expected an integer from 1 to "
                        "%zu (the number of admins): how many admins must "
                        "approve a member change",
                        gen->admin_count);
        gen->admin_quorum = (uint32_t)json_integer_value(v);
    }
    v = json_object_get(params, "approval_window_ms");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            (uint64_t)json_integer_value(v) > GENESIS_APPROVAL_WINDOW_MAX)
            return fail(pc, ORIGO_E_GENESIS,
                        "params.approval_window_ms: expected an integer from "
                        "1 to %llu (milliseconds, at most 30 days)",
                        (unsigned long long)GENESIS_APPROVAL_WINDOW_MAX);
        gen->approval_window_ms = (uint64_t)json_integer_value(v);
    }
    return 0;
}

static int parse_root(parse_ctx *pc, json_t *root, genesis *gen)
{
    static const char *const keys[] = {"format",     "origin", "rules",
                                       "validators", "admins", "members",
                                       "params",     NULL};
    const char *format, *origin;
    int rc;
    if (!json_is_object(root))
        return fail(pc, ORIGO_E_GENESIS, "(top level): expected an object");
    if ((rc = check_keys(pc, root, "", keys)))
        return rc;
    if ((rc = get_string(pc, root, "", "format", 64, &format)))
        return rc;
    if (strcmp(format, GENESIS_FORMAT) != 0)
        return fail(pc, ORIGO_E_GENESIS, "format: expected \"%s\"",
                    GENESIS_FORMAT);
    if ((rc = get_string(pc, root, "", "origin", GENESIS_ORIGIN_MAX, &origin)))
        return rc;
    if (!genesis_origin_ok(origin, strlen(origin)))
        return fail(pc, ORIGO_E_GENESIS,
                    "origin: expected 1..%d bytes of printable ASCII without "
                    "space (0x21..0x7e), the rule of an event's net",
                    GENESIS_ORIGIN_MAX);
    memcpy(gen->origin, origin, strlen(origin) + 1);
    json_t *rules = json_object_get(root, "rules");
    if (!rules)
        return fail(pc, ORIGO_E_RULES,
                    "rules: missing. This genesis predates rule version %d "
                    "(who may state what: docs/formats/authority.md), which "
                    "this build requires; a ledger made from it cannot be "
                    "used. Make a new genesis (origo genesis) that says "
                    "\"rules\": %d",
                    GENESIS_RULES, GENESIS_RULES);
    if (!json_is_integer(rules) || json_integer_value(rules) != GENESIS_RULES)
        return fail(pc, ORIGO_E_RULES,
                    "rules: this build applies rule version %d only",
                    GENESIS_RULES);
    gen->rules = GENESIS_RULES;
    if ((rc = parse_list(pc, root, "validators", LIST_VALIDATORS, 1, gen)))
        return rc;
    if ((rc = parse_list(pc, root, "admins", LIST_ADMINS, 1, gen)))
        return rc;
    if ((rc = parse_list(pc, root, "members", LIST_MEMBERS, 0, gen)))
        return rc;
    return parse_params(pc, root, gen);
}

static int hash_genesis(genesis *gen)
{
    uint8_t *canon;
    size_t canon_len;
    int rc = genesis_encode(gen, &canon, &canon_len);
    if (rc)
        return rc;
    origo_sha256_state st;
    origo_sha256_init(&st);
    origo_sha256_update(&st, (const uint8_t *)"origo/genesis/v1", 17);
    origo_sha256_update(&st, canon, canon_len);
    origo_sha256_final(&st, gen->hash);
    free(canon);
    return 0;
}

int genesis_parse(const uint8_t *json, size_t len, genesis **out, char *errmsg,
                  size_t errmsg_size)
{
    parse_ctx pc = {errmsg, errmsg_size};
    json_error_t jerr;
    genesis *gen;
    int rc;
    if (len > GENESIS_MAX_BYTES)
        return fail(&pc, ORIGO_E_GENESIS, "(file): larger than %u bytes",
                    GENESIS_MAX_BYTES);
    if (sodium_init() < 0)
        return ORIGO_E_SODIUM;
    json_t *root =
        json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(&pc, ORIGO_E_JSON, "line %d column %d: %s", jerr.line,
                    jerr.column, jerr.text);
    gen = calloc(1, sizeof(*gen));
    if (!gen) {
        rc = ORIGO_E_NOMEM;
        goto err_after_json;
    }
    gen->parties = calloc(GENESIS_MAX_PARTIES, sizeof(*gen->parties));
    gen->namespaces = calloc(GENESIS_MAX_NAMESPACES, sizeof(*gen->namespaces));
    if (!gen->parties || !gen->namespaces) {
        rc = ORIGO_E_NOMEM;
        goto err_after_gen;
    }
    if ((rc = parse_root(&pc, root, gen)))
        goto err_after_gen;
    if ((rc = hash_genesis(gen)))
        goto err_after_gen;
    json_decref(root);
    *out = gen;
    return 0;
err_after_gen:
    genesis_free(gen);
err_after_json:
    json_decref(root);
    return rc;
}

void genesis_free(genesis *gen)
{
    if (!gen)
        return;
    free(gen->parties);
    free(gen->namespaces);
    free(gen);
}

/* ---- canonical encoding -------------------------------------------------- */

static void put_party(origo_buf *buf, const genesis *gen,
                      const genesis_party *p, int validator)
{
    origo_mp_put_map(buf, validator ? 3 : 4);
    if (validator) {
        origo_mp_put_cstr(buf, "name");
        origo_mp_put_cstr(buf, p->name);
        origo_mp_put_cstr(buf, "key");
        origo_mp_put_bin(buf, p->pub, 32);
        origo_mp_put_cstr(buf, "address");
        origo_mp_put_cstr(buf, p->address);
        return;
    }
    origo_mp_put_cstr(buf, "name");
    origo_mp_put_cstr(buf, p->name);
    origo_mp_put_cstr(buf, "key");
    origo_mp_put_bin(buf, p->pub, 32);
    origo_mp_put_cstr(buf, "roles");
    origo_mp_put_uint(buf, p->roles);
    origo_mp_put_cstr(buf, "owns");
    origo_mp_put_array(buf, (uint32_t)p->owns_count);
    for (size_t i = 0; i < p->owns_count; i++) {
        const genesis_namespace *ns = &gen->namespaces[p->owns_first + i];
        char text[GENESIS_NAMESPACE_MAX + 8];
        snprintf(text, sizeof(text), "%s:%s",
                 ns->kind == GENESIS_NS_PARTY ? "party" : "gs1", ns->text);
        origo_mp_put_cstr(buf, text);
    }
}

int genesis_encode(const genesis *gen, uint8_t **out, size_t *out_len)
{
    origo_buf buf;
    origo_buf_init(&buf, GENESIS_MAX_BYTES * 2);
    origo_mp_put_map(&buf, 9);
    origo_mp_put_cstr(&buf, "format");
    origo_mp_put_cstr(&buf, GENESIS_FORMAT);
    origo_mp_put_cstr(&buf, "origin");
    origo_mp_put_cstr(&buf, gen->origin);
    origo_mp_put_cstr(&buf, "rules");
    origo_mp_put_uint(&buf, gen->rules);
    origo_mp_put_cstr(&buf, "validators");
    origo_mp_put_array(&buf, (uint32_t)gen->validator_count);
    for (size_t i = 0; i < gen->validator_count; i++)
        put_party(&buf, gen, &gen->parties[i], 1);
    origo_mp_put_cstr(&buf, "parties");
    origo_mp_put_array(&buf,
                       (uint32_t)(gen->party_count - gen->validator_count));
    for (size_t i = gen->validator_count; i < gen->party_count; i++)
        put_party(&buf, gen, &gen->parties[i], 0);
    origo_mp_put_cstr(&buf, "ts_window_ms");
    origo_mp_put_uint(&buf, gen->ts_window_ms);
    origo_mp_put_cstr(&buf, "checkpoint_quorum");
    origo_mp_put_uint(&buf, gen->checkpoint_quorum);
    origo_mp_put_cstr(&buf, "admin_quorum");
    origo_mp_put_uint(&buf, gen->admin_quorum);
    origo_mp_put_cstr(&buf, "approval_window_ms");
    origo_mp_put_uint(&buf, gen->approval_window_ms);
    if (buf.err) {
        int rc = buf.err;
        origo_buf_close(&buf);
        return rc;
    }
    *out = origo_buf_steal(&buf, out_len);
    return *out ? 0 : ORIGO_E_NOMEM;
}

/* ---- JSON output --------------------------------------------------------- */

static json_t *party_json(const genesis *gen, const genesis_party *p, int kind)
{
    char hex[65];
    origo_pubkey_to_hex(p->pub, hex);
    json_t *obj = json_object();
    json_object_set_new(obj, "name", json_string(p->name));
    json_object_set_new(obj, "key", json_string(hex));
    if (kind == LIST_VALIDATORS) {
        json_object_set_new(obj, "address", json_string(p->address));
    } else if (kind == LIST_MEMBERS) {
        json_t *roles = json_array();
        for (unsigned i = 0; i < ROLE_COUNT; i++) {
            if (p->roles & (1u << i))
                json_array_append_new(roles, json_string(genesis_role_name(i)));
        }
        json_object_set_new(obj, "roles", roles);
    }
    if (p->owns_count) {
        json_t *owns = json_array();
        for (size_t i = 0; i < p->owns_count; i++) {
            const genesis_namespace *ns = &gen->namespaces[p->owns_first + i];
            char text[GENESIS_NAMESPACE_MAX + 8];
            snprintf(text, sizeof(text), "%s:%s",
                     ns->kind == GENESIS_NS_PARTY ? "party" : "gs1", ns->text);
            json_array_append_new(owns, json_string(text));
        }
        json_object_set_new(obj, "owns", owns);
    }
    return obj;
}

int genesis_to_json(const genesis *gen, char **out)
{
    json_t *root = json_object();
    json_t *validators = json_array(), *admins = json_array(),
           *members = json_array(), *params = json_object();
    if (!root || !validators || !admins || !members || !params) {
        json_decref(root);
        json_decref(validators);
        json_decref(admins);
        json_decref(members);
        json_decref(params);
        return ORIGO_E_NOMEM;
    }
    json_object_set_new(root, "format", json_string(GENESIS_FORMAT));
    json_object_set_new(root, "origin", json_string(gen->origin));
    json_object_set_new(root, "rules", json_integer(gen->rules));
    for (size_t i = 0; i < gen->party_count; i++) {
        const genesis_party *p = &gen->parties[i];
        if (i < gen->validator_count)
            json_array_append_new(validators,
                                  party_json(gen, p, LIST_VALIDATORS));
        else if (i < gen->validator_count + gen->admin_count)
            json_array_append_new(admins, party_json(gen, p, LIST_ADMINS));
        else
            json_array_append_new(members, party_json(gen, p, LIST_MEMBERS));
    }
    json_object_set_new(root, "validators", validators);
    json_object_set_new(root, "admins", admins);
    json_object_set_new(root, "members", members);
    json_object_set_new(params, "ts_window_ms",
                        json_integer((json_int_t)gen->ts_window_ms));
    json_object_set_new(params, "checkpoint_quorum",
                        json_integer(gen->checkpoint_quorum));
    json_object_set_new(params, "admin_quorum",
                        json_integer(gen->admin_quorum));
    json_object_set_new(params, "approval_window_ms",
                        json_integer((json_int_t)gen->approval_window_ms));
    json_object_set_new(root, "params", params);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return ORIGO_E_NOMEM;
    *out = text;
    return 0;
}

/* ---- namespaces ---------------------------------------------------------- */

static int digits_only(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
    }
    return len > 0;
}

/* The 12 digits of a GS1 lot's GTIN between the indicator digit and the
 * check digit (company prefix then item reference). */
static int lot_gs1_digits(const char *lot, size_t len, char out[12])
{
    static const char lgtin[] = "urn:epc:class:lgtin:";
    const size_t lgtin_len = sizeof(lgtin) - 1;
    if (len > lgtin_len && memcmp(lot, lgtin, lgtin_len) == 0) {
        /* <cp>.<indicator><item ref>.<lot>: 13 digits around one dot. */
        const char *cp = lot + lgtin_len, *end = lot + len;
        const char *dot = memchr(cp, '.', (size_t)(end - cp));
        size_t cp_len = dot ? (size_t)(dot - cp) : 0;
        if (cp_len < 6 || cp_len > 12)
            return 0;
        size_t item_len = 13 - cp_len; /* indicator digit, item reference */
        if (end - dot <= (ptrdiff_t)(item_len + 1) || dot[1 + item_len] != '.')
            return 0;
        memcpy(out, cp, cp_len);
        memcpy(out + cp_len, dot + 2, item_len - 1);
        return 1;
    }
    for (size_t i = 0; i + 4 + 14 <= len; i++) {
        if (memcmp(lot + i, "/01/", 4) == 0) {
            memcpy(out, lot + i + 5, 12);
            return 1;
        }
    }
    return 0;
}

int genesis_lot_namespace(const char *lot, size_t len, char *segment,
                          size_t *segment_len, char digits[12])
{
    enum origo_lot_kind kind;
    if (origo_lot_check(lot, len, &kind) != 0)
        return 0;
    if (kind == ORIGO_LOTID_PARTY) {
        const char *slash = memchr(lot, '/', len);
        *segment_len = slash ? (size_t)(slash - lot) : len;
        memcpy(segment, lot, *segment_len);
        return GENESIS_NS_PARTY;
    }
    return lot_gs1_digits(lot, len, digits) ? GENESIS_NS_GS1 : 0;
}

int genesis_party_digits(const char *party, size_t len, char digits[12])
{
    static const char pgln[] = "urn:epc:id:pgln:";
    const size_t pgln_len = sizeof(pgln) - 1;
    if (len > pgln_len && memcmp(party, pgln, pgln_len) == 0) {
        const char *cp = party + pgln_len, *end = party + len;
        const char *dot = memchr(cp, '.', (size_t)(end - cp));
        size_t cp_len = dot ? (size_t)(dot - cp) : 0;
        size_t ref_len = dot ? (size_t)(end - dot - 1) : 0;
        if (cp_len < 6 || cp_len > 12 || cp_len + ref_len != 12 ||
            !digits_only(cp, cp_len) ||
            (ref_len && !digits_only(dot + 1, ref_len)))
            return 0;
        memcpy(digits, cp, cp_len);
        memcpy(digits + cp_len, dot + 1, ref_len);
        return 1;
    }
    if (len > 8 + 5 + 13 && memcmp(party, "https://", 8) == 0) {
        const char *tail = party + len - 13 - 5;
        if ((memcmp(tail, "/417/", 5) == 0 || memcmp(tail, "/414/", 5) == 0) &&
            digits_only(tail + 5, 13)) {
            memcpy(digits, tail + 5, 12);
            return 1;
        }
    }
    return 0;
}
