/* The origo CLI's verbs against running nodes, over liborigo-client:
 * `submit`, `get`, `checkpoint`, `status`, and the network forms of
 * `prove` and `trace` (`--node URL`). Every proof and checkpoint is checked
 * against the trust file before it is printed or written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "cmd.h"
#include "event_json.h"
#include "genesis.h"
#include "origo/client.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/file.h"
#include "report_verify.h"
#include "origo/trust.h"

typedef struct net_args {
    const char *verb;
    const char *nodes[ORIGO_CLIENT_MAX_NODES];
    size_t n_nodes;
    const char *key, *trust, *state, *out, *id, *lot, *proofs;
    const char *direction; /* backward, forward, recall */
    const char *depth;
    const char *format; /* of trace reports: v2 (default) or v1 */
    int json, wait, help, lot_events, all_events;
    const char *files[256];
    size_t n_files;
    long timeout_ms;
    const char *deadline_ms;
    const char *block;
} net_args;

typedef struct net {
    net_args a;
    origo_key *key;
    origo_trust trust;
    origo_note_policy policy;
    origo_client *client;
} net;

static int parse_args(const char *verb, int argc, char **argv, net_args *a)
{
    memset(a, 0, sizeof(*a));
    a->verb = verb;
    a->wait = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            a->help = 1;
            continue;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(o, "--wait")) {
            a->wait = 1;
            continue;
        } else if (!strcmp(o, "--no-wait")) {
            a->wait = 0;
            continue;
        } else if (!strcmp(o, "--proofs")) {
            a->proofs = "yes";
            continue;
        } else if (!strcmp(o, "--lot-events")) {
            a->lot_events = 1;
            continue;
        } else if (!strcmp(o, "--all-events")) {
            a->all_events = 1;
            continue;
        } else if (!strcmp(o, "--backward") || !strcmp(o, "--forward") ||
                   !strcmp(o, "--recall")) {
            a->direction = o + 2;
            continue;
        } else if (!strcmp(o, "--node")) {
            if (a->n_nodes == ORIGO_CLIENT_MAX_NODES) {
                cli_error(verb, "at most %d --node", ORIGO_CLIENT_MAX_NODES);
                return 2;
            }
            slot = &a->nodes[a->n_nodes++];
        } else if (!strcmp(o, "--key")) {
            slot = &a->key;
        } else if (!strcmp(o, "--trust")) {
            slot = &a->trust;
        } else if (!strcmp(o, "--state")) {
            slot = &a->state;
        } else if (!strcmp(o, "--out")) {
            slot = &a->out;
        } else if (!strcmp(o, "--event") || !strcmp(o, "--id")) {
            slot = &a->id;
        } else if (!strcmp(o, "--lot")) {
            slot = &a->lot;
        } else if (!strcmp(o, "--block")) {
            slot = &a->block;
        } else if (!strcmp(o, "--deadline-ms")) {
            slot = &a->deadline_ms;
        } else if (!strcmp(o, "--depth")) {
            slot = &a->depth;
        } else if (!strcmp(o, "--format")) {
            slot = &a->format;
        } else if (o[0] == '-' && o[1] == '-') {
            cli_error(verb, "unknown option %s (see origo %s --help)", o, verb);
            return 2;
        } else {
            if (a->n_files == 256) {
                cli_error(verb, "at most 256 files");
                return 2;
            }
            a->files[a->n_files++] = o;
            continue;
        }
        if (i + 1 >= argc) {
            cli_error(verb, "%s needs a value", o);
            return 2;
        }
        *slot = argv[++i];
    }
    if (!a->help && a->n_nodes == 0) {
        const char *env = getenv("ORIGO_NODE");
        if (env && *env)
            a->nodes[a->n_nodes++] = env;
    }
    if (!a->help && a->n_nodes == 0) {
        cli_error(verb, "give the node to ask with --node URL (repeat it for "
                        "failover), or set ORIGO_NODE");
        return 2;
    }
    return 0;
}

static int net_open(net *n, int need_trust, int need_key)
{
    char err[512] = "";
    if (need_trust && !n->a.trust) {
        cli_error(n->a.verb,
                  "--trust FILE is required: the validators' keys that every "
                  "checkpoint and proof is checked against (origo trust, or "
                  "the trust.txt of your network)");
        return 2;
    }
    if (need_key && !n->a.key) {
        cli_error(n->a.verb, "--key FILE is required: a member key to sign "
                             "this read with");
        return 2;
    }
    if (n->a.trust) {
        if (origo_trust_load(n->a.trust, &n->trust, err, sizeof(err)) != 0) {
            cli_error(n->a.verb, "%s", err);
            return 2;
        }
        origo_trust_policy(&n->trust, 0, &n->policy);
    }
    if (n->a.key) {
        int rc = origo_key_load(n->a.key, &n->key);
        if (rc) {
            cli_error(n->a.verb, "%s: %s", n->a.key, origo_strerror(rc));
            return 2;
        }
    }
    origo_client_options o = {
        .urls = n->a.nodes,
        .n_urls = n->a.n_nodes,
        .key = n->key,
        .trust = n->a.trust ? &n->policy : NULL,
        .origin = n->a.trust && n->trust.origin[0] ? n->trust.origin : NULL,
        .state_file = n->a.state,
        .timeout_ms = n->a.timeout_ms,
    };
    origo_client_global_init();
    int rc = origo_client_new(&o, &n->client, err, sizeof(err));
    if (rc) {
        cli_error(n->a.verb, "%s", err[0] ? err : origo_strerror(rc));
        return 2;
    }
    return 0;
}

static void net_close(net *n)
{
    origo_client_free(n->client);
    origo_key_free(n->key);
}

/* Reads one submission file: the JSON `origo event` prints ({"envelope":
 * base64, ...}) or a raw MessagePack envelope; "-" is standard input. */
static int read_envelope(const char *verb, const char *path, uint8_t **out,
                         size_t *len)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (!strcmp(path, "-")) {
        size_t cap = 0;
        for (;;) {
            if (size == cap) {
                cap = cap ? 2 * cap : 65536;
                uint8_t *p = realloc(data, cap);
                if (!p || cap > (64u << 20)) {
                    free(p ? p : data);
                    cli_error(verb, "standard input: too large");
                    return 2;
                }
                data = p;
            }
            size_t got = fread(data + size, 1, cap - size, stdin);
            if (got == 0)
                break;
            size += got;
        }
    } else if (origo_read_file(path, 64u << 20, &data, &size) != 0) {
        cli_error(verb, "%s: %s", path, strerror(errno));
        return 2;
    }
    size_t skip = 0;
    while (skip < size && (data[skip] == ' ' || data[skip] == '\n' ||
                           data[skip] == '\t' || data[skip] == '\r'))
        skip++;
    if (skip < size && data[skip] == '{') {
        json_error_t je;
        json_t *doc = json_loadb((const char *)data, size, 0, &je);
        const char *b64 =
            doc ? json_string_value(json_object_get(doc, "envelope")) : NULL;
        uint8_t *env = b64 ? malloc(ORIGO_ENVELOPE_MAX) : NULL;
        size_t env_len = 0;
        int ok = env && sodium_base642bin(env, ORIGO_ENVELOPE_MAX, b64,
                                          strlen(b64), NULL, &env_len, NULL,
                                          sodium_base64_VARIANT_ORIGINAL) == 0;
        json_decref(doc);
        free(data);
        if (!ok) {
            free(env);
            cli_error(verb,
                      "%s: expected what `origo event` prints (a JSON object "
                      "with \"envelope\") or a MessagePack envelope",
                      path);
            return 2;
        }
        *out = env;
        *len = env_len;
        return 0;
    }
    *out = data;
    *len = size;
    return 0;
}

/* Prints a JSON document for scripts (takes the reference). */
static void print_json(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (text)
        puts(text);
    free(text);
    json_decref(doc);
}

static const char submit_help[] =
    "usage: origo submit --node URL [--node URL]... [--no-wait] [--json] "
    "FILE...\n"
    "       origo submit --node URL ... --key FILE --type TYPE [origo event's "
    "flags]\n"
    "  Sends signed events to the network and waits until each is decided\n"
    "  (committed at a leaf, or rejected with its reason). FILE is what\n"
    "  `origo event` prints, a MessagePack envelope (origo event --out), or\n"
    "  - for standard input, e.g.\n"
    "    origo event --key K ... | origo submit --node URL -\n"
    "  A dropped connection or a leader change is retried with the same\n"
    "  envelopes (on the next --node too) until --deadline-ms (default\n"
    "  60000): an event is never recorded twice.\n"
    "Exit status: 0 all committed, 1 some rejected, 2 usage, input or "
    "network error.\n";

/* `origo submit --node URL --key K --type T ...`: the event is built from
 * origo event's flags; the network options are ours. */
static int is_net_option(const char *o, int *takes_value)
{
    static const char *const with_value[] = {"--node", "--deadline-ms",
                                             "--state", "--trust"};
    static const char *const flags[] = {"--wait", "--no-wait", "--json"};
    for (size_t i = 0; i < 4; i++)
        if (!strcmp(o, with_value[i]))
            return *takes_value = 1;
    for (size_t i = 0; i < 3; i++)
        if (!strcmp(o, flags[i])) {
            *takes_value = 0;
            return 1;
        }
    return 0;
}

static int has_type(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--type"))
            return 1;
    return 0;
}

int cmd_submit(int argc, char **argv)
{
    net n = {0};
    int rc;
    origo_buf built;
    origo_buf_init(&built, ORIGO_ENVELOPE_MAX);
    if (has_type(argc, argv)) {
        char **ev = calloc((size_t)argc + 1, sizeof(*ev));
        char **nt = calloc((size_t)argc + 1, sizeof(*nt));
        int nev = 0, nnt = 0, takes = 0;
        if (!ev || !nt) {
            free(ev);
            free(nt);
            return 2;
        }
        ev[nev++] = nt[nnt++] = argv[0];
        for (int i = 1; i < argc; i++) {
            if (is_net_option(argv[i], &takes)) {
                nt[nnt++] = argv[i];
                if (takes && i + 1 < argc)
                    nt[nnt++] = argv[++i];
            } else {
                ev[nev++] = argv[i];
            }
        }
        uint8_t id[32];
        rc = event_from_flags(nev, ev, &built, id);
        if (rc == 0)
            rc = parse_args("submit", nnt, nt, &n.a);
        free(ev);
        free(nt);
        if (rc) {
            origo_buf_close(&built);
            return rc;
        }
        n.a.files[n.a.n_files++] = "";
    } else if ((rc = parse_args("submit", argc, argv, &n.a)) != 0 || n.a.help) {
        origo_buf_close(&built);
        fputs(submit_help, rc ? stderr : stdout);
        return rc;
    }
    if (rc || n.a.help) {
        fputs(submit_help, rc ? stderr : stdout);
        return rc;
    }
    if (n.a.n_files == 0) {
        cli_error("submit", "give the event files to submit (or - for "
                            "standard input), or the event's flags");
        origo_buf_close(&built);
        return 2;
    }
    n.a.key = NULL; /* --key signed the event; reads are not signed here */
    if ((rc = net_open(&n, 0, 0)) != 0) {
        origo_buf_close(&built);
        return rc;
    }
    uint8_t *envs[256] = {0};
    size_t lens[256], count = 0;
    for (size_t i = 0; i < n.a.n_files && rc == 0; i++, count++) {
        if (built.len && !n.a.files[i][0]) {
            envs[i] = malloc(built.len);
            if (!envs[i]) {
                rc = 2;
                continue;
            }
            memcpy(envs[i], built.data, built.len);
            lens[i] = built.len;
        } else {
            rc = read_envelope("submit", n.a.files[i], &envs[i], &lens[i]);
        }
    }
    origo_buf_close(&built);
    origo_submit_result results[256];
    memset(results, 0, sizeof(results));
    char err[1024] = "";
    int refused = 0;
    if (rc == 0) {
        int r =
            origo_client_submit(n.client, (const uint8_t *const *)envs, lens,
                                count, n.a.wait, 0, results, err, sizeof(err));
        for (size_t i = 0; r && i < count; i++)
            refused |= results[i].status == ORIGO_SUBMIT_REFUSED;
        if (r && !refused) {
            cli_error("submit", "%s", err[0] ? err : origo_strerror(r));
            rc = 2;
        }
        /* Refused at the door: the node named the envelope, printed below
         * with its code; exit 1, like a rejection. */
    }
    size_t rejected = 0;
    json_t *out = n.a.json ? json_array() : NULL;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char hexid[65];
        cli_hex(results[i].id, 32, hexid);
        const origo_submit_result *r = &results[i];
        rejected += r->status == ORIGO_SUBMIT_REJECTED ||
                    r->status == ORIGO_SUBMIT_REFUSED;
        static const char *const names[] = {"pending", "committed", "rejected",
                                            "refused", "not sent"};
        if (out) {
            json_t *o =
                json_pack("{s:s, s:s}", "id", hexid, "status",
                          names[(unsigned)r->status < 5 ? r->status : 0]);
            if (r->status == ORIGO_SUBMIT_COMMITTED) {
                json_object_set_new(o, "leaf",
                                    json_integer((json_int_t)r->leaf));
                json_object_set_new(o, "block",
                                    json_integer((json_int_t)r->block));
            } else if (r->status == ORIGO_SUBMIT_REJECTED ||
                       r->status == ORIGO_SUBMIT_REFUSED) {
                json_object_set_new(o, "code", json_string(r->code));
            }
            json_array_append_new(out, o);
        } else if (r->status == ORIGO_SUBMIT_COMMITTED) {
            printf("committed %s leaf %llu block %llu\n", hexid,
                   (unsigned long long)r->leaf, (unsigned long long)r->block);
        } else if (r->status == ORIGO_SUBMIT_REJECTED) {
            printf("REJECTED  %s %s: %s\n", hexid, r->code,
                   origo_strerror(origo_errcode(r->code)));
        } else if (r->status == ORIGO_SUBMIT_REFUSED) {
            printf("REFUSED   %s %s: %s (not in the log)\n", hexid, r->code,
                   origo_strerror(origo_errcode(r->code)));
        } else if (r->status == ORIGO_SUBMIT_NOT_SENT) {
            printf("not sent  %s (another envelope was refused)\n", hexid);
        } else {
            printf("pending   %s\n", hexid);
        }
    }
    if (out) {
        char *text = json_dumps(out, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
        json_decref(out);
    }
    for (size_t i = 0; i < count; i++)
        free(envs[i]);
    net_close(&n);
    return rc ? rc : rejected ? 1 : 0;
}

/* Prints a GET's JSON body; returns the exit status. */
/* Human forms of the node's answers (--json prints them as they came). */
static void human_event(json_t *d)
{
    const char *st = json_string_value(json_object_get(d, "status"));
    const char *id = json_string_value(json_object_get(d, "id"));
    if (st && !strcmp(st, "committed"))
        printf("%s committed at leaf %lld in block %lld\n", id,
               (long long)json_integer_value(json_object_get(d, "leaf")),
               (long long)json_integer_value(json_object_get(d, "block")));
    else if (st && !strcmp(st, "rejected"))
        printf("%s REJECTED in block %lld: %s: %s\n", id,
               (long long)json_integer_value(json_object_get(d, "block")),
               json_string_value(json_object_get(d, "code")),
               json_string_value(json_object_get(d, "reason")));
    else
        printf("%s %s\n", id, st ? st : "unknown");
}

static void human_envelope(json_t *d)
{
    const char *b64 = json_string_value(json_object_get(d, "envelope"));
    uint8_t *env = b64 ? malloc(ORIGO_ENVELOPE_MAX) : NULL;
    size_t len = 0;
    origo_envelope e;
    origo_event ev;
    if (env &&
        sodium_base642bin(env, ORIGO_ENVELOPE_MAX, b64, strlen(b64), NULL, &len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
        origo_envelope_decode(env, len, &e) == 0 &&
        origo_event_decode_body(e.body, e.body_len, &ev) == 0) {
        json_t *j = event_json_dump(&ev);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(j);
    }
    free(env);
}

static void human_status(json_t *d)
{
    const char *leader = json_string_value(json_object_get(d, "leader"));
    printf("%s (%s) of %s: leader %s, term %lld, commit %lld, applied %lld, "
           "tree %lld, peers up %lld of %lld, queued %lld, in flight %lld\n",
           json_string_value(json_object_get(d, "validator")),
           json_string_value(json_object_get(d, "role")),
           json_string_value(json_object_get(d, "network")),
           leader ? leader : "none",
           (long long)json_integer_value(json_object_get(d, "term")),
           (long long)json_integer_value(json_object_get(d, "commit")),
           (long long)json_integer_value(json_object_get(d, "applied")),
           (long long)json_integer_value(json_object_get(d, "tree_size")),
           (long long)json_integer_value(json_object_get(d, "peers_up")),
           (long long)json_integer_value(json_object_get(d, "peers")),
           (long long)json_integer_value(json_object_get(d, "queued")),
           (long long)json_integer_value(json_object_get(d, "inflight")));
}

static int print_get(net *n, const char *target, int sign,
                     void (*human)(json_t *doc))
{
    origo_buf body;
    origo_buf_init(&body, 256u << 20);
    long status = 0;
    char err[512] = "";
    int rc = origo_client_get(n->client, target, sign, &body, &status, err,
                              sizeof(err));
    int exit = 0;
    if (rc) {
        cli_error(n->a.verb, "%s", err[0] ? err : origo_strerror(rc));
        exit = 2;
    } else if (status != 200) {
        json_t *doc = json_loadb((const char *)body.data, body.len, 0, NULL);
        const char *detail =
            doc ? json_string_value(json_object_get(doc, "detail")) : NULL;
        const char *code =
            doc ? json_string_value(json_object_get(doc, "code")) : NULL;
        cli_error(n->a.verb, "%s%s%s", code ? code : "", code ? ": " : "",
                  detail ? detail : "the node refused");
        json_decref(doc);
        exit = status == 404 ? 1 : 2;
    } else {
        json_t *doc = n->a.json || !human ? NULL
                                          : json_loadb((const char *)body.data,
                                                       body.len, 0, NULL);
        if (doc) {
            human(doc);
            json_decref(doc);
        } else {
            fwrite(body.data, 1, body.len, stdout);
            if (body.len && body.data[body.len - 1] != '\n')
                putchar('\n');
        }
    }
    origo_buf_close(&body);
    return exit;
}

static const char get_help[] =
    "usage: origo get --node URL [--key FILE] [--json] EVENT_ID\n"
    "       origo get --node URL --key FILE --trust FILE --lot LOT\n"
    "       origo get --node URL --trust FILE --block HEIGHT\n"
    "  Prints what became of an event: committed (leaf, block), rejected\n"
    "  (code, reason) or pending; with --key its envelope too (a signed\n"
    "  read: your own events and those naming your lots). --lot lists every\n"
    "  event naming a lot, each envelope's signature and inclusion proof\n"
    "  checked against the trust file; --block prints a block header whose\n"
    "  tree is checked to be part of the trusted history.\n"
    "Exit status: 0 found, 1 unknown or refused, 2 usage or network error.\n";

/* Exit status for a failed checked read: 2 when it could not be asked
 * (network, usage, the read policy), 1 when the answer was refused. */
static int verdict_exit(int rc)
{
    return rc == ORIGO_E_IO || rc == ORIGO_E_INVAL || rc == ORIGO_E_NOMEM ||
                   rc == ORIGO_E_PERM || rc == ORIGO_E_TIMEOUT ||
                   rc == ORIGO_E_AGAIN
               ? 2
               : 1;
}

static int get_lot(net *n)
{
    origo_lot_event *ev = NULL;
    size_t count = 0;
    char err[1024] = "";
    int rc = origo_client_lot_events(n->client, n->a.lot, &ev, &count, err,
                                     sizeof(err));
    if (rc) {
        cli_error("get", "%s", err[0] ? err : origo_strerror(rc));
        return verdict_exit(rc);
    }
    printf("%zu event%s name%s %s, each checked against %s:\n", count,
           cli_s(count), count == 1 ? "s" : "", n->a.lot, n->a.trust);
    for (size_t i = 0; i < count; i++) {
        origo_envelope env;
        origo_event e;
        char hexid[65];
        cli_hex(ev[i].id, 32, hexid);
        const char *type = "?";
        if (origo_envelope_decode(ev[i].envelope, ev[i].len, &env) == 0 &&
            origo_event_decode_body(env.body, env.body_len, &e) == 0)
            type = origo_event_type_name(e.type);
        printf("  leaf %-6llu %-16s %s\n", (unsigned long long)ev[i].leaf, type,
               hexid);
    }
    origo_lot_events_free(ev, count);
    return 0;
}

static int get_block(net *n, const char *height)
{
    char *end;
    unsigned long long h = strtoull(height, &end, 10);
    if (!*height || *end || h == 0) {
        cli_error("get", "--block takes a height from 1");
        return 2;
    }
    origo_block_info b;
    char err[1024] = "";
    int rc = origo_client_block(n->client, h, &b, err, sizeof(err));
    if (rc) {
        cli_error("get", "%s", err[0] ? err : origo_strerror(rc));
        return verdict_exit(rc);
    }
    char hash[65], root[65];
    cli_hex(b.hash, 32, hash);
    cli_hex(b.root, 32, root);
    printf("block %llu: %llu envelopes, leaves %llu..%llu, tree %llu, root "
           "%s\n  hash %s, time %llu, raft %llu/%llu; its tree is part of the "
           "trusted history\n",
           (unsigned long long)b.height, (unsigned long long)b.envelope_count,
           (unsigned long long)b.first_leaf,
           (unsigned long long)(b.first_leaf + b.leaf_count),
           (unsigned long long)b.tree_size, root, hash,
           (unsigned long long)b.time, (unsigned long long)b.raft_term,
           (unsigned long long)b.raft_index);
    return 0;
}

int cmd_get(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("get", argc, argv, &n.a);
    if (rc || n.a.help) {
        fputs(get_help, rc ? stderr : stdout);
        return rc;
    }
    if (n.a.lot || n.a.block) {
        if ((rc = net_open(&n, 1, n.a.lot != NULL)) != 0)
            return rc;
        rc = n.a.lot ? get_lot(&n) : get_block(&n, n.a.block);
        net_close(&n);
        return rc;
    }
    const char *id = n.a.id ? n.a.id : n.a.n_files ? n.a.files[0] : NULL;
    uint8_t bin[32];
    if (!id || cli_unhex(id, bin, 32) != 0) {
        cli_error("get", "give an event ID: 64 hex digits");
        return 2;
    }
    if ((rc = net_open(&n, 0, 0)) != 0)
        return rc;
    char target[128];
    snprintf(target, sizeof(target), "/v1/events/%s", id);
    rc = print_get(&n, target, 0, human_event);
    if (rc == 0 && n.key) {
        snprintf(target, sizeof(target), "/v1/envelopes/%s", id);
        rc = print_get(&n, target, 1, human_envelope);
    }
    net_close(&n);
    return rc;
}

static const char status_help[] =
    "usage: origo status --node URL [--node URL]... [--json]\n"
    "  Prints each node's view: its role, the leader, term, commit and\n"
    "  applied indexes, tree size, peers and queues.\n";

int cmd_status(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("status", argc, argv, &n.a);
    if (rc || n.a.help) {
        fputs(status_help, rc ? stderr : stdout);
        return rc;
    }
    int exit = 0;
    for (size_t i = 0; i < n.a.n_nodes; i++) {
        net one = {0};
        one.a = n.a;
        one.a.nodes[0] = n.a.nodes[i];
        one.a.n_nodes = 1;
        if ((rc = net_open(&one, 0, 0)) != 0)
            return rc;
        printf("%s: ", n.a.nodes[i]);
        fflush(stdout);
        if (print_get(&one, "/v1/status", 0, human_status) != 0) {
            exit = 2;
            printf("\n");
        }
        net_close(&one);
    }
    return exit;
}

static const char checkpoint_help[] =
    "usage: origo checkpoint --node URL --trust FILE [--state FILE]\n"
    "  Fetches the latest checkpoint, checks its validator signatures\n"
    "  against the trust file and, with --state, that it extends the last\n"
    "  one accepted (a consistency proof): a forked or rewritten history is\n"
    "  refused, naming both sizes and roots. Prints the signed note.\n"
    "Exit status: 0 accepted, 1 refused, 2 usage or network error.\n";

int cmd_checkpoint(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("checkpoint", argc, argv, &n.a);
    if (rc || n.a.help) {
        fputs(checkpoint_help, rc ? stderr : stdout);
        return rc;
    }
    if ((rc = net_open(&n, 1, 0)) != 0)
        return rc;
    origo_checkpoint cp;
    char *note = NULL, err[1024] = "";
    rc = origo_client_checkpoint(n.client, &cp, &note, err, sizeof(err));
    int exit = 0;
    if (rc) {
        cli_error("checkpoint", "%s", err[0] ? err : origo_strerror(rc));
        exit = rc == ORIGO_E_IO ? 2 : 1;
    } else if (n.a.json) {
        char root[65];
        cli_hex(cp.root, 32, root);
        json_t *o =
            json_pack("{s:s, s:I, s:s, s:s}", "origin", cp.origin, "tree_size",
                      (json_int_t)cp.tree_size, "root", root, "note", note);
        print_json(o);
    } else {
        fputs(note, stdout);
    }
    free(note);
    net_close(&n);
    return exit;
}

/* `origo prove --node URL --key K --trust T --event ID --out FILE` */
int net_prove(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("prove", argc, argv, &n.a);
    if (rc)
        return rc;
    uint8_t id[32];
    if (!n.a.id || cli_unhex(n.a.id, id, 32) != 0) {
        cli_error("prove", "give --event ID (64 hex digits)");
        return 2;
    }
    if ((rc = net_open(&n, 1, 1)) != 0)
        return rc;
    origo_buf proof;
    origo_buf_init(&proof, 8u << 20);
    char err[1024] = "";
    rc = origo_client_proof(n.client, id, &proof, err, sizeof(err));
    int exit = 0;
    if (rc) {
        cli_error("prove", "%s", err[0] ? err : origo_strerror(rc));
        exit = rc == ORIGO_E_IO || rc == ORIGO_E_PERM || rc == ORIGO_E_NOTFOUND
                   ? 2
                   : 1;
    } else {
        exit = cli_output("prove", n.a.out, proof.data, proof.len) ? 2 : 0;
        if (exit == 0 && n.a.out && n.a.json)
            print_json(json_pack("{s:s, s:s, s:b}", "file", n.a.out, "event",
                                 n.a.id, "verified", 1));
        else if (exit == 0 && n.a.out)
            printf("wrote %s (checked against %s)\n", n.a.out, n.a.trust);
    }
    origo_buf_close(&proof);
    net_close(&n);
    return exit;
}

/* `origo trace --node URL --key K --trust T --lot LOT --backward|--forward|
 * --recall [--depth N] [--proofs FILE]`: the node's trace report, checked
 * offline before anything is printed. */
int net_trace(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("trace", argc, argv, &n.a);
    if (rc)
        return rc;
    if (!n.a.lot) {
        cli_error("trace", "give --lot LOT");
        return 2;
    }
    if ((rc = net_open(&n, 1, 1)) != 0)
        return rc;
    const char *dir = n.a.direction ? n.a.direction : "backward";
    int recall = !strcmp(dir, "recall"), forward = !strcmp(dir, "forward");
    uint32_t depth = n.a.depth ? (uint32_t)strtoul(n.a.depth, NULL, 10) : 0;
    if (n.a.format && strcmp(n.a.format, "v1") && strcmp(n.a.format, "v2")) {
        cli_error("trace", "--format '%s': expected v2 or v1", n.a.format);
        net_close(&n);
        return 2;
    }
    unsigned flags =
        (recall ? ORIGO_TRACE_RECALL : 0) |
        (n.a.lot_events ? ORIGO_TRACE_LOT_EVENTS : 0) |
        (n.a.all_events ? ORIGO_TRACE_ALL_EVENTS : 0) |
        (n.a.format && !strcmp(n.a.format, "v1") ? ORIGO_TRACE_V1 : 0);
    origo_buf body;
    origo_buf_init(&body, REPORT_MAX_BYTES);
    struct report_verdict v;
    char err[1024] = "";
    int exit = 0;
    rc = origo_client_trace(n.client, n.a.lot, forward, flags, depth, &body, &v,
                            err, sizeof(err));
    if (rc) {
        cli_error("trace", "%s", err[0] ? err : origo_strerror(rc));
        exit = rc == ORIGO_E_PROOF ? 1 : 2;
    } else {
        json_t *doc = json_loadb((const char *)body.data, body.len, 0, NULL);
        json_t *lots = json_object_get(doc, "lots");
        if (n.a.json && !n.a.out) {
            /* The verified report itself is the JSON. */
            fwrite(body.data, 1, body.len, stdout);
            json_decref(doc);
            origo_buf_close(&body);
            net_close(&n);
            return 0;
        }
        printf("%s trace of %s: %zu lot%s, %zu edge%s, %zu event%s, "
               "verified at tree size %llu by %zu validator%s\n",
               dir, n.a.lot, v.lots, cli_s(v.lots), v.edges, cli_s(v.edges),
               v.events, cli_s(v.events), (unsigned long long)v.tree_size,
               v.signers, cli_s(v.signers));
        for (size_t i = 0; i < json_array_size(lots); i++) {
            json_t *l = json_array_get(lots, i);
            printf("  %*s%s\n",
                   2 * (int)json_integer_value(json_object_get(l, "depth")), "",
                   json_string_value(json_object_get(l, "lot")));
        }
        if (v.recall)
            printf("  holds and recalls in force: %zu\n", v.holds);
        json_decref(doc);
        if (n.a.proofs || n.a.out) {
            exit = cli_output("trace", n.a.out, body.data, body.len) ? 2 : 0;
            if (exit == 0 && n.a.out)
                printf("wrote the report with its proofs to %s\n", n.a.out);
        }
    }
    origo_buf_close(&body);
    net_close(&n);
    return exit;
}

/* ---- member -------------------------------------------------------------- */

static const char member_help[] =
    "usage: origo member add|update|remove --node URL --key ADMIN_KEY\n"
    "                    --member PUBKEY [--name NAME] [--roles a,b] [--owns "
    "ns,ns]\n"
    "  Signs a member event with an admin's key and submits it: add admits\n"
    "  a company (roles: admin auditor carrier inspector plant supplier\n"
    "  validator; owns: party:<prefix> or gs1:<company prefix>), update\n"
    "  changes its roles or namespaces, remove ends its membership. With an\n"
    "  admin quorum above one, each admin runs the same command; the change\n"
    "  takes effect with the last approval.\n"
    "Exit status: 0 committed, 1 rejected (the reason is printed), 2 usage,\n"
    "input or network error.\n";

static json_t *csv_array(const char *csv)
{
    json_t *a = json_array();
    while (csv && *csv) {
        const char *comma = strchr(csv, ',');
        size_t len = comma ? (size_t)(comma - csv) : strlen(csv);
        json_array_append_new(a, json_stringn(csv, len));
        csv = comma ? comma + 1 : NULL;
    }
    return a;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The network origin, from the node. */
static int node_origin(net *n, char *out, size_t size)
{
    origo_buf body;
    origo_buf_init(&body, 1u << 20);
    long status = 0;
    char err[512] = "";
    int rc = origo_client_get(n->client, "/v1/status", 0, &body, &status, err,
                              sizeof(err));
    json_t *doc = rc == 0 && status == 200
                      ? json_loadb((const char *)body.data, body.len, 0, NULL)
                      : NULL;
    const char *origin =
        doc ? json_string_value(json_object_get(doc, "network")) : NULL;
    if (origin)
        snprintf(out, size, "%s", origin);
    else
        cli_error(n->a.verb, "cannot ask the node for its network: %s",
                  err[0] ? err : "no status");
    json_decref(doc);
    origo_buf_close(&body);
    return origin ? 0 : 2;
}

int cmd_member(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(member_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *action = argv[1];
    const char *type = !strcmp(action, "add")      ? "member.add"
                       : !strcmp(action, "update") ? "member.update"
                       : !strcmp(action, "remove") ? "member.remove"
                                                   : NULL;
    if (!type) {
        cli_error("member", "unknown action %s: add, update or remove", action);
        return 2;
    }
    /* Our own flags first, then the common ones. */
    const char *pub = NULL, *name = NULL, *roles = NULL, *owns = NULL;
    char *rest[64];
    int nrest = 0;
    rest[nrest++] = "member";
    for (int i = 2; i < argc && nrest < 63; i++) {
        const char **slot = !strcmp(argv[i], "--member")  ? &pub
                            : !strcmp(argv[i], "--name")  ? &name
                            : !strcmp(argv[i], "--roles") ? &roles
                            : !strcmp(argv[i], "--owns")  ? &owns
                                                          : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else
            rest[nrest++] = argv[i];
    }
    net n = {0};
    int rc = parse_args("member", nrest, rest, &n.a);
    if (rc || n.a.help) {
        fputs(member_help, rc ? stderr : stdout);
        return rc;
    }
    if (!pub || !n.a.key ||
        (strcmp(type, "member.remove") && (!name || !roles))) {
        cli_error("member", "give --key ADMIN_KEY, --member PUBKEY%s",
                  strcmp(type, "member.remove") ? ", --name and --roles" : "");
        return 2;
    }
    if ((rc = net_open(&n, 0, 1)) != 0)
        return rc;
    char origin[300];
    if ((rc = node_origin(&n, origin, sizeof(origin))) != 0) {
        net_close(&n);
        return rc;
    }
    json_t *fields = json_pack("{s:s, s:s, s:s, s:I}", "net", origin, "type",
                               type, "member", pub, "ts", (json_int_t)now_ms());
    if (name)
        json_object_set_new(fields, "name", json_string(name));
    if (roles)
        json_object_set_new(fields, "roles", csv_array(roles));
    if (owns)
        json_object_set_new(fields, "owns", csv_array(owns));
    origo_event ev;
    char *epcis = NULL, err[512] = "";
    origo_str source = origo_str_c("command line");
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    memset(&ev, 0, sizeof(ev));
    rc = event_json_parse(fields, &source, &ev, &epcis, err, sizeof(err));
    int exit = 2;
    if (rc) {
        cli_error("member", "%s", err);
    } else {
        memcpy(ev.by, origo_key_public(n.key), 32);
        rc = origo_event_seal(&ev, n.key, &env, NULL);
        if (rc)
            cli_error("member", "cannot sign the %s event: %s", type,
                      origo_strerror(rc));
    }
    origo_submit_result res;
    if (rc == 0) {
        const uint8_t *envs[1] = {env.data};
        size_t lens[1] = {env.len};
        memset(&res, 0, sizeof(res));
        rc = origo_client_submit(n.client, envs, lens, 1, 1, 0, &res, err,
                                 sizeof(err));
        if (rc && res.status == ORIGO_SUBMIT_REFUSED) {
            /* Refused at the door: not in the log. */
            if (n.a.json)
                print_json(json_pack("{s:s, s:s, s:s}", "type", type, "status",
                                     "refused", "code", res.code));
            else
                printf("%s REFUSED %s: %s (not in the log)\n", type, res.code,
                       origo_strerror(origo_errcode(res.code)));
            exit = 1;
        } else if (rc)
            cli_error("member", "%s", err);
        else if (n.a.json) {
            print_json(res.status == ORIGO_SUBMIT_COMMITTED
                           ? json_pack("{s:s, s:s, s:I}", "type", type,
                                       "status", "committed", "leaf",
                                       (json_int_t)res.leaf)
                           : json_pack("{s:s, s:s, s:s}", "type", type,
                                       "status", "rejected", "code", res.code));
            exit = res.status == ORIGO_SUBMIT_COMMITTED ? 0 : 1;
        } else if (res.status == ORIGO_SUBMIT_COMMITTED) {
            printf("%s committed at leaf %llu\n", type,
                   (unsigned long long)res.leaf);
            exit = 0;
        } else {
            printf("%s REJECTED %s: %s\n", type, res.code,
                   origo_strerror(origo_errcode(res.code)));
            exit = 1;
        }
    }
    free(epcis);
    origo_buf_close(&env);
    json_decref(fields);
    net_close(&n);
    return exit;
}

/* ---- trust --------------------------------------------------------------- */

static const char trust_help[] =
    "usage: origo trust --genesis FILE [--out FILE]\n"
    "       origo trust --node URL --key FILE [--out FILE]\n"
    "  Writes the trust file of a network (docs/formats/trust.md): its\n"
    "  origin, its checkpoint quorum and its validators' verifier keys, as\n"
    "  the genesis names them. Check the genesis hash it prints against the\n"
    "  one the network published before you rely on the file.\n"
    "  From a node (a signed read of its members): the validators it\n"
    "  reports now, with a majority quorum. That is trust on first use:\n"
    "  compare the keys with the network's published genesis.\n";

static int trust_from_node(int argc, char **argv)
{
    net n = {0};
    int rc = parse_args("trust", argc, argv, &n.a);
    if (rc)
        return rc;
    if ((rc = net_open(&n, 0, 1)) != 0)
        return rc;
    char origin[300];
    if ((rc = node_origin(&n, origin, sizeof(origin))) != 0) {
        net_close(&n);
        return rc;
    }
    origo_buf body;
    origo_buf_init(&body, 64u << 20);
    long status = 0;
    char err[512] = "";
    rc = origo_client_get(n.client, "/v1/members", 1, &body, &status, err,
                          sizeof(err));
    json_t *doc = rc == 0 && status == 200
                      ? json_loadb((const char *)body.data, body.len, 0, NULL)
                      : NULL;
    origo_buf_close(&body);
    if (!doc) {
        cli_error("trust", "cannot read the node's members: %s",
                  err[0] ? err : "refused");
        net_close(&n);
        return 2;
    }
    origo_buf out;
    origo_buf_init(&out, 1u << 20);
    char line[512];
    size_t validators = 0;
    json_t *members = json_object_get(doc, "members");
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        json_t *roles = json_object_get(m, "roles");
        int is_v = 0;
        for (size_t r = 0; r < json_array_size(roles); r++)
            is_v |= !strcmp(json_string_value(json_array_get(roles, r)) ?: "",
                            "validator");
        const char *name = json_string_value(json_object_get(m, "name"));
        uint8_t pub[32];
        size_t vlen;
        if (!is_v || !name ||
            cli_unhex(json_string_value(json_object_get(m, "key")) ?: "", pub,
                      32) != 0 ||
            origo_vkey_format(name, strlen(name), pub, line, sizeof(line) - 1,
                              &vlen) != 0)
            continue;
        line[vlen++] = '\n';
        origo_buf_append(&out, line, vlen);
        validators++;
    }
    json_decref(doc);
    char head[600];
    int w = snprintf(head, sizeof(head),
                     "# The validators %s reported (trust on first use: "
                     "compare with the genesis)\norigin %s\nquorum %zu\n",
                     n.a.nodes[0], origin, validators / 2 + 1);
    origo_buf file;
    origo_buf_init(&file, 2u << 20);
    origo_buf_append(&file, head, (size_t)w);
    origo_buf_append(&file, out.data, out.len);
    int exit =
        validators && cli_output("trust", n.a.out, file.data, file.len) == 0
            ? 0
            : 2;
    if (!validators)
        cli_error("trust", "the node reports no validators");
    else if (exit == 0 && n.a.out)
        printf("wrote %s: %zu validators of %s as %s reports them; compare "
               "them with the genesis\n",
               n.a.out, validators, origin, n.a.nodes[0]);
    origo_buf_close(&out);
    origo_buf_close(&file);
    net_close(&n);
    return exit;
}

int cmd_trust(int argc, char **argv)
{
    if (cmd_has_node(argc, argv))
        return trust_from_node(argc, argv);
    const char *gpath = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(trust_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--genesis") && i + 1 < argc) {
            gpath = argv[++i];
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else {
            cli_error("trust", "unknown or incomplete option %s", argv[i]);
            fputs(trust_help, stderr);
            return 2;
        }
    }
    if (!gpath) {
        fputs(trust_help, stderr);
        return 2;
    }
    uint8_t *text = NULL;
    size_t len;
    genesis *g = NULL;
    char err[512] = "";
    if (origo_read_file(gpath, 1u << 20, &text, &len) != 0) {
        cli_error("trust", "%s: %s", gpath, strerror(errno));
        return 2;
    }
    int rc = genesis_parse(text, len, &g, err, sizeof(err));
    free(text);
    if (rc) {
        cli_error("trust", "%s: %s", gpath, err);
        return 2;
    }
    origo_buf b;
    origo_buf_init(&b, 1u << 20);
    char line[512], hash[65];
    cli_hex(g->hash, 32, hash);
    int w = snprintf(line, sizeof(line),
                     "# The validators of %s, from genesis %s\norigin %s\n"
                     "quorum %u\n",
                     g->origin, hash, g->origin, g->checkpoint_quorum);
    origo_buf_append(&b, line, (size_t)w);
    for (size_t i = 0; i < g->validator_count; i++) {
        size_t vlen;
        const genesis_party *v = &g->parties[i];
        if (origo_vkey_format(v->name, strlen(v->name), v->pub, line,
                              sizeof(line) - 1, &vlen) == 0) {
            line[vlen++] = '\n';
            origo_buf_append(&b, line, vlen);
        }
    }
    int exit = cli_output("trust", out, b.data, b.len) ? 2 : 0;
    if (exit == 0 && out)
        printf("wrote %s: %zu validators of %s, quorum %u (genesis hash %s)\n",
               out, g->validator_count, g->origin, g->checkpoint_quorum, hash);
    origo_buf_close(&b);
    genesis_free(g);
    return exit;
}

int cmd_has_node(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--node"))
            return 1;
    return 0;
}
