/* `origo genesis`: writes a genesis file (docs/formats/genesis.md) from
 * flags and key files. The JSON it builds goes through the ledger's strict
 * genesis parser before it is written, so the command never writes a file
 * that a node would refuse. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd.h"
#include "genesis.h"
#include "origo/error.h"
#include "origo/keys.h"

static void genesis_usage(FILE *out)
{
    fprintf(out,
            "usage: origo genesis --origin NAME --validator "
            "NAME=KEY@HOST:PORT ...\n"
            "                     --admin KEY ... [--member NAME=KEY:ROLE,ROLE "
            "...]\n"
            "                     [--owns NAME=NAMESPACE,NAMESPACE ...]\n"
            "                     [--ts-window-ms N] [--quorum N] "
            "[--admin-quorum M]\n"
            "                     [--approval-window-ms N] --out FILE "
            "[--force]\n"
            "  KEY is a key file from `origo keygen` (only its public half is "
            "used),\n"
            "  or a public key as 64 hex digits or a verifier-key string.\n"
            "  --admin takes the admin's name from the key file (or "
            "NAME=KEY).\n"
            "  Roles: admin auditor carrier inspector plant supplier "
            "validator.\n"
            "  --owns gives a member (or admin) the namespaces whose lots only "
            "it may\n"
            "  create: party:<prefix> for <prefix>/<part>/<lot>, gs1:<company "
            "prefix>\n"
            "  for GS1 lots (docs/formats/authority.md).\n"
            "  --admin-quorum: how many admins must approve a member change "
            "(each signs\n"
            "  the same member event) within --approval-window-ms.\n"
            "  Defaults: --ts-window-ms 600000 (at most 3600000), --quorum "
            "majority,\n"
            "  --admin-quorum majority of admins, --approval-window-ms "
            "86400000.\n"
            "  The genesis states rule version 1.\n"
            "Prints the genesis hash.\n");
}

/* Resolves KEY (file, hex or verifier key) into a hex public key; `name`
 * receives the key file's name when it is a file and name_out is set. */
static int resolve_key(const char *flag, const char *arg, char hex[65],
                       char *name_out, size_t name_size)
{
    struct stat st;
    if (stat(arg, &st) == 0) {
        origo_key *key = NULL;
        int rc = origo_key_load(arg, &key);
        if (rc) {
            cli_error("genesis",
                      "%s %s: cannot load key file: %s (expected a "
                      "key file written by `origo keygen`)",
                      flag, arg, origo_strerror(rc));
            return 2;
        }
        sodium_bin2hex(hex, 65, origo_key_public(key), 32);
        if (name_out)
            snprintf(name_out, name_size, "%s", origo_key_name(key));
        origo_key_free(key);
        return 0;
    }
    size_t len = strlen(arg);
    uint8_t pub[32];
    if (len == 64 && sodium_hex2bin(pub, 32, arg, 64, NULL, NULL, NULL) == 0) {
        memcpy(hex, arg, 65);
        return 0;
    }
    const char *plus = strchr(arg, '+');
    const char *b64 = plus ? strchr(plus + 1, '+') : NULL;
    uint8_t raw[33];
    size_t raw_len = 0;
    if (b64 &&
        sodium_base642bin(raw, sizeof(raw), b64 + 1, strlen(b64 + 1), NULL,
                          &raw_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        raw_len == 33 && raw[0] == 0x01) {
        sodium_bin2hex(hex, 65, raw + 1, 32);
        if (name_out)
            snprintf(name_out, name_size, "%.*s", (int)(plus - arg), arg);
        return 0;
    }
    cli_error("genesis",
              "%s %s: no such key file, and not a public key (expected a key "
              "file, 64 hex digits or a verifier-key string)",
              flag, arg);
    return 2;
}

static json_t *party(const char *name, const char *hex)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "name", json_string(name));
    json_object_set_new(obj, "key", json_string(hex));
    return obj;
}

/* NAME=KEY@HOST:PORT */
static int add_validator(json_t *list, const char *arg)
{
    char buf[1024], hex[65];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *eq = strchr(buf, '='), *at = strrchr(buf, '@');
    if (!eq || !at || at < eq || eq == buf || at == eq + 1 || !at[1]) {
        cli_error("genesis", "--validator %s: expected NAME=KEY@HOST:PORT",
                  arg);
        return 2;
    }
    *eq = '\0';
    *at = '\0';
    if (resolve_key("--validator", eq + 1, hex, NULL, 0))
        return 2;
    json_t *obj = party(buf, hex);
    json_object_set_new(obj, "address", json_string(at + 1));
    json_array_append_new(list, obj);
    return 0;
}

/* KEY or NAME=KEY */
static int add_admin(json_t *list, const char *arg)
{
    char buf[1024], hex[65], name[256] = "";
    snprintf(buf, sizeof(buf), "%s", arg);
    char *eq = strchr(buf, '=');
    const char *key = buf;
    if (eq && eq != buf) {
        struct stat st;
        if (stat(buf, &st) != 0) { /* "a=b" is not itself a file */
            *eq = '\0';
            snprintf(name, sizeof(name), "%.255s", buf);
            key = eq + 1;
        }
    }
    if (resolve_key("--admin", key, hex, name[0] ? NULL : name, sizeof(name)))
        return 2;
    if (!name[0]) {
        cli_error("genesis",
                  "--admin %s: a public key needs a name: use "
                  "NAME=KEY",
                  arg);
        return 2;
    }
    json_array_append_new(list, party(name, hex));
    return 0;
}

/* NAME=KEY:ROLE,ROLE */
static int add_member(json_t *list, const char *arg)
{
    char buf[1024], hex[65];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *eq = strchr(buf, '='), *colon = strrchr(buf, ':');
    if (!eq || !colon || colon < eq || eq == buf || colon == eq + 1 ||
        !colon[1]) {
        cli_error("genesis", "--member %s: expected NAME=KEY:ROLE[,ROLE...]",
                  arg);
        return 2;
    }
    *eq = '\0';
    *colon = '\0';
    if (resolve_key("--member", eq + 1, hex, NULL, 0))
        return 2;
    json_t *obj = party(buf, hex), *roles = json_array();
    for (char *role = colon + 1; role && *role;) {
        char *comma = strchr(role, ',');
        if (comma)
            *comma = '\0';
        if (!genesis_role_parse(role, strlen(role))) {
            cli_error("genesis",
                      "--member %s: unknown role \"%s\" (expected admin, "
                      "auditor, carrier, inspector, plant, supplier or "
                      "validator)",
                      arg, role);
            json_decref(obj);
            json_decref(roles);
            return 2;
        }
        json_array_append_new(roles, json_string(role));
        role = comma ? comma + 1 : NULL;
    }
    json_object_set_new(obj, "roles", roles);
    json_array_append_new(list, obj);
    return 0;
}

static int parse_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || !end || *end || text[0] == '-' || text[0] == '\0') {
        cli_error("genesis", "%s %s: expected a non-negative integer", flag,
                  text);
        return 2;
    }
    *out = v;
    return 0;
}

typedef struct genesis_args {
    json_t *validators, *admins, *members, *params;
    json_t *owns; /* name -> array of namespaces, from --owns */
    const char *origin, *out;
    int force;
} genesis_args;

/* --owns NAME=NS[,NS...]: the namespaces go to the party of that name. */
static int add_owns(json_t *owns, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        cli_error("genesis",
                  "--owns %s: expected NAME=NAMESPACE[,NAMESPACE...], e.g. "
                  "acme=party:acme,gs1:4012345",
                  arg);
        return 2;
    }
    char name[GENESIS_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
    json_t *list = json_object_get(owns, name);
    if (!list) {
        list = json_array();
        json_object_set_new(owns, name, list);
    }
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", eq + 1);
    for (char *ns = copy; ns;) {
        char *comma = strchr(ns, ',');
        if (comma)
            *comma++ = 0;
        json_array_append_new(list, json_string(ns));
        ns = comma;
    }
    return 0;
}

/* Attaches each --owns list to the admin or member of that name. */
static int attach_owns(genesis_args *ga)
{
    const char *name;
    json_t *list;
    json_object_foreach(ga->owns, name, list)
    {
        json_t *lists[2] = {ga->admins, ga->members}, *party;
        int found = 0;
        size_t i;
        for (int l = 0; l < 2; l++) {
            json_array_foreach(lists[l], i, party)
            {
                const char *n =
                    json_string_value(json_object_get(party, "name"));
                if (n && strcmp(n, name) == 0) {
                    json_object_set(party, "owns", list);
                    found = 1;
                }
            }
        }
        if (!found) {
            cli_error("genesis",
                      "--owns %s=...: no --admin or --member is named \"%s\"",
                      name, name);
            return 2;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, genesis_args *ga)
{
    static const struct option options[] = {
        {"origin", required_argument, NULL, 'o'},
        {"validator", required_argument, NULL, 'v'},
        {"admin", required_argument, NULL, 'a'},
        {"member", required_argument, NULL, 'm'},
        {"ts-window-ms", required_argument, NULL, 't'},
        {"owns", required_argument, NULL, 'w'},
        {"quorum", required_argument, NULL, 'q'},
        {"admin-quorum", required_argument, NULL, 'A'},
        {"approval-window-ms", required_argument, NULL, 'W'},
        {"out", required_argument, NULL, 'O'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc = 0;
    uint64_t v;
    optind = 1;
    while (rc == 0 &&
           (opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'o':
            ga->origin = optarg;
            break;
        case 'v':
            rc = add_validator(ga->validators, optarg);
            break;
        case 'a':
            rc = add_admin(ga->admins, optarg);
            break;
        case 'm':
            rc = add_member(ga->members, optarg);
            break;
        case 't':
            if ((rc = parse_u64("--ts-window-ms", optarg, &v)) == 0)
                json_object_set_new(ga->params, "ts_window_ms",
                                    json_integer((json_int_t)v));
            break;
        case 'w':
            rc = add_owns(ga->owns, optarg);
            break;
        case 'q':
            if ((rc = parse_u64("--quorum", optarg, &v)) == 0)
                json_object_set_new(ga->params, "checkpoint_quorum",
                                    json_integer((json_int_t)v));
            break;
        case 'A':
            if ((rc = parse_u64("--admin-quorum", optarg, &v)) == 0)
                json_object_set_new(ga->params, "admin_quorum",
                                    json_integer((json_int_t)v));
            break;
        case 'W':
            if ((rc = parse_u64("--approval-window-ms", optarg, &v)) == 0)
                json_object_set_new(ga->params, "approval_window_ms",
                                    json_integer((json_int_t)v));
            break;
        case 'O':
            ga->out = optarg;
            break;
        case 'f':
            ga->force = 1;
            break;
        case 'h':
            genesis_usage(stdout);
            return -1;
        default:
            genesis_usage(stderr);
            return 2;
        }
    }
    if (rc)
        return rc;
    if (!ga->origin || !ga->out || optind != argc) {
        genesis_usage(stderr);
        return 2;
    }
    return attach_owns(ga);
}

int cmd_genesis(int argc, char **argv)
{
    genesis_args ga = {json_array(),  json_array(), json_array(), json_object(),
                       json_object(), NULL,         NULL,         0};
    json_t *root = json_object();
    char *text = NULL, msg[512] = "";
    genesis *gen = NULL;
    int status = parse_args(argc, argv, &ga);
    if (status) {
        status = status < 0 ? 0 : status;
        goto out;
    }
    json_object_set_new(root, "format", json_string(GENESIS_FORMAT));
    json_object_set_new(root, "origin", json_string(ga.origin));
    json_object_set_new(root, "rules", json_integer(GENESIS_RULES));
    json_object_set_new(root, "validators", json_incref(ga.validators));
    json_object_set_new(root, "admins", json_incref(ga.admins));
    json_object_set_new(root, "members", json_incref(ga.members));
    json_object_set_new(root, "params", json_incref(ga.params));
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) {
        cli_error("genesis", "out of memory");
        status = 2;
        goto out;
    }
    size_t len = strlen(text);
    int rc = genesis_parse((const uint8_t *)text, len, &gen, msg, sizeof(msg));
    if (rc) {
        cli_error("genesis", "the flags give an invalid genesis: %s", msg);
        status = 2;
        goto out;
    }
    struct stat st;
    if (!ga.force && stat(ga.out, &st) == 0) {
        cli_error("genesis", "%s: exists (use --force to replace it)", ga.out);
        status = 2;
        goto out;
    }
    char *with_nl = malloc(len + 2);
    if (!with_nl) {
        status = 2;
        goto out;
    }
    memcpy(with_nl, text, len);
    with_nl[len] = '\n';
    rc = cli_write_file(ga.out, with_nl, len + 1, 0644);
    free(with_nl);
    if (rc) {
        cli_error("genesis", "%s: cannot write: %s", ga.out,
                  origo_strerror(rc));
        status = 2;
        goto out;
    }
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), gen->hash, 32);
    printf("wrote %s: origin %s, %zu validators, %zu parties, quorum %u\n"
           "genesis hash %s\n",
           ga.out, gen->origin, gen->validator_count, gen->party_count,
           gen->checkpoint_quorum, hex);
out:
    genesis_free(gen);
    free(text);
    json_decref(root);
    json_decref(ga.validators);
    json_decref(ga.admins);
    json_decref(ga.members);
    json_decref(ga.params);
    json_decref(ga.owns);
    return status;
}
