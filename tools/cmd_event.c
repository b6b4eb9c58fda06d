/* `origo event`: builds and signs one event. The fields come from a JSON
 * file (docs/formats/event-json.md), from flags, or both (flags win); the
 * flags are turned into the same JSON object so there is one parser. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "cmd.h"
#include "event_json.h"
#include "origo/error.h"
#include "origo/file.h"
#include "origo/event.h"
#include "origo/keys.h"

static void event_usage(FILE *out)
{
    fprintf(out,
            "usage: origo event --key FILE [--json FILE] [field flags] [--out "
            "FILE]\n"
            "  --key FILE        the submitter's key file (from origo keygen)\n"
            "  --json FILE       event fields as JSON "
            "(docs/formats/event-json.md)\n"
            "  --net NAME        network origin, e.g. origo.example/network-1\n"
            "  --type TYPE       lot.create, lot.transform, inspection, "
            "coa.attest,\n"
            "                    custody.ship, custody.receive, quality.hold,\n"
            "                    quality.release, quality.recall, member.add,\n"
            "                    member.update, member.remove, member.rotate, "
            "epcis\n"
            "  --ts MS           submitter time, Unix ms (default: now)\n"
            "  --lot LOT[,QTY,UNIT]     subject lot (repeatable)\n"
            "  --input LOT,QTY,UNIT     transform input (repeatable)\n"
            "  --output LOT,QTY,UNIT    transform output (repeatable)\n"
            "  --item, --stage, --result, --report HEX, --coa HEX, --issuer,\n"
            "  --from, --to, --ref, --reason, --member KEY, --name,\n"
            "  --roles a,b, --doc HEX (repeatable), --ext KEY=VALUE "
            "(repeatable)\n"
            "  --out FILE        write the envelope (MessagePack) to FILE\n"
            "Prints the event ID, the envelope in base64 and the event as "
            "JSON.\n");
}

/* Turns "LOT[,QTY,UNIT]" into a lot JSON value. */
static json_t *lot_value(const char *arg)
{
    const char *comma = strchr(arg, ',');
    if (!comma)
        return json_string(arg);
    const char *comma2 = strchr(comma + 1, ',');
    if (!comma2)
        return NULL;
    json_t *obj = json_object();
    json_object_set_new(obj, "lot", json_stringn(arg, (size_t)(comma - arg)));
    json_object_set_new(obj, "qty",
                        json_stringn(comma + 1, (size_t)(comma2 - comma - 1)));
    json_object_set_new(obj, "unit", json_string(comma2 + 1));
    return obj;
}

static int append_to(json_t *flags, const char *field, json_t *value)
{
    if (!value)
        return -1;
    json_t *arr = json_object_get(flags, field);
    if (!arr) {
        arr = json_array();
        json_object_set_new(flags, field, arr);
    }
    return json_array_append_new(arr, value);
}

static json_t *split_list(const char *arg)
{
    json_t *arr = json_array();
    const char *start = arg;
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma ? (size_t)(comma - start) : strlen(start);
        json_array_append_new(arr, json_stringn(start, len));
        if (!comma)
            return arr;
        start = comma + 1;
    }
}

/* Applies one field flag to the JSON object. Returns 0 or -1 when the
 * argument is malformed. */
static int apply_flag(json_t *flags, const char *name, const char *arg)
{
    if (!strcmp(name, "lot"))
        return append_to(flags, "lots", lot_value(arg));
    if (!strcmp(name, "input"))
        return append_to(flags, "inputs", lot_value(arg));
    if (!strcmp(name, "output"))
        return append_to(flags, "outputs", lot_value(arg));
    if (!strcmp(name, "doc"))
        return append_to(flags, "doc", json_string(arg));
    if (!strcmp(name, "roles"))
        return json_object_set_new(flags, "roles", split_list(arg));
    if (!strcmp(name, "ts")) {
        char *end;
        unsigned long long ts = strtoull(arg, &end, 10);
        if (*end || end == arg)
            return -1;
        return json_object_set_new(flags, "ts", json_integer((json_int_t)ts));
    }
    if (!strcmp(name, "ext")) {
        const char *eq = strchr(arg, '=');
        if (!eq)
            return -1;
        json_t *ext = json_object_get(flags, "ext");
        if (!ext) {
            ext = json_object();
            json_object_set_new(flags, "ext", ext);
        }
        char key[ORIGO_EXT_KEY_MAX + 1];
        size_t len = (size_t)(eq - arg);
        if (len > ORIGO_EXT_KEY_MAX)
            return -1;
        memcpy(key, arg, len);
        key[len] = 0;
        return json_object_set_new(ext, key, json_string(eq + 1));
    }
    return json_object_set_new(flags, name, json_string(arg));
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Loads the JSON file (if any) and merges the flags over it. */
static json_t *collect_fields(const char *json_path, json_t *flags,
                              uint8_t **source, size_t *source_len)
{
    json_t *fields = json_object();
    if (json_path) {
        json_error_t error;
        if (origo_read_file(json_path, 4 * (size_t)ORIGO_EVENT_BODY_MAX, source,
                            source_len)) {
            cli_error("event", "%s: cannot read the file (at most %u bytes)",
                      json_path, 4 * ORIGO_EVENT_BODY_MAX);
            json_decref(fields);
            return NULL;
        }
        json_t *file = json_loadb((const char *)*source, *source_len,
                                  JSON_REJECT_DUPLICATES, &error);
        if (!file) {
            cli_error("event", "%s:%d:%d: %s", json_path, error.line,
                      error.column, error.text);
            json_decref(fields);
            return NULL;
        }
        json_decref(fields);
        fields = file;
    }
    json_object_update(fields, flags);
    if (!json_object_get(fields, "ts"))
        json_object_set_new(fields, "ts", json_integer((json_int_t)now_ms()));
    return fields;
}

static int print_result(const origo_buf *envelope, const uint8_t id[32],
                        const char *out_path)
{
    origo_event ev;
    origo_envelope env;
    if (origo_envelope_decode(envelope->data, envelope->len, &env) ||
        origo_event_decode_body(env.body, env.body_len, &ev))
        return 2;
    size_t b64_len = sodium_base64_ENCODED_LEN(envelope->len,
                                               sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (!b64)
        return 2;
    sodium_bin2base64(b64, b64_len, envelope->data, envelope->len,
                      sodium_base64_VARIANT_ORIGINAL);
    char hex[65];
    cli_hex(id, 32, hex);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(hex));
    json_object_set_new(out, "envelope", json_string(b64));
    json_object_set_new(out, "event", event_json_dump(&ev));
    if (out_path)
        json_object_set_new(out, "written", json_string(out_path));
    json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(out);
    free(b64);
    return 0;
}

/* Names the first field of a rejected event that the SDK's checks can
 * pin down, so the operator knows what to fix; falls back to the code. */
static void explain_rejection(const origo_event *ev, int rc)
{
    if (!ev->net.len) {
        cli_error("event", "field 'net': expected the network origin "
                           "(--net, e.g. origo.example/network-1)");
        return;
    }
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        if (origo_lot_check(ref->lot.ptr, ref->lot.len, NULL)) {
            cli_error("event",
                      "lot '%.*s': expected urn:epc:class:lgtin:<company "
                      "prefix>.<item ref>.<lot>, a GS1 Digital Link URI "
                      "(https://<host>/01/<gtin>/10/<lot>) or "
                      "<party>/<part>/<lot> without spaces",
                      (int)ref->lot.len, ref->lot.ptr);
            return;
        }
        if (ref->qty.len &&
            origo_decimal_check(ref->qty.ptr, ref->qty.len, 0)) {
            cli_error("event",
                      "lot '%.*s': quantity '%.*s': expected a positive "
                      "decimal such as 12 or 0.5 (no leading zeros, no "
                      "trailing fractional zeros)",
                      (int)ref->lot.len, ref->lot.ptr, (int)ref->qty.len,
                      ref->qty.ptr);
            return;
        }
    }
    if (!ev->n_lots && ev->type != ORIGO_EV_MEMBER_ADD &&
        ev->type != ORIGO_EV_MEMBER_UPDATE &&
        ev->type != ORIGO_EV_MEMBER_REMOVE &&
        ev->type != ORIGO_EV_MEMBER_ROTATE && ev->type != ORIGO_EV_EPCIS) {
        cli_error("event",
                  "a %s event needs lots (--lot, or --input and "
                  "--output for lot.transform)",
                  origo_event_type_name(ev->type));
        return;
    }
    if (ev->type == ORIGO_EV_EPCIS) {
        cli_error("event",
                  "the EPCIS event violates the schema: %s (%s). An epcis "
                  "event needs a type (ObjectEvent, AggregationEvent, "
                  "TransactionEvent, TransformationEvent, AssociationEvent), "
                  "an eventTime such as 2026-01-01T08:00:00.000+01:00, an "
                  "action ADD, OBSERVE or DELETE (exactly; none in a "
                  "TransformationEvent), and lot lists only in the event "
                  "types EPCIS 2.0 gives them; docs/formats/event.md, "
                  "\"The epcis type\"",
                  origo_strerror(rc), origo_errname(rc));
        return;
    }
    cli_error("event",
              "the %s event violates the schema: %s (%s); "
              "docs/formats/event.md lists the fields each type requires",
              origo_event_type_name(ev->type), origo_strerror(rc),
              origo_errname(rc));
}

/* Signs the event `fields` describe with the key at key_path into
 * *envelope. Returns 0, or 2 after printing why. */
static int seal(json_t *fields, const origo_str *source, const char *key_path,
                origo_buf *envelope, uint8_t id[32])
{
    origo_key *key = NULL;
    int rc = origo_key_load(key_path, &key);
    if (rc) {
        cli_error("event", "%s: cannot load key file: %s%s", key_path,
                  origo_strerror(rc),
                  rc == ORIGO_E_PERM ? " (key files must not be readable by "
                                       "others: chmod 600 the file)"
                  : rc == ORIGO_E_KEYFILE
                      ? " (expected a file written by origo keygen)"
                      : "");
        return 2;
    }
    int status = 2;
    origo_event *ev = calloc(1, sizeof(*ev));
    char *epcis = NULL, err[256] = "";
    if (!ev)
        goto done;
    rc = event_json_parse(fields, source, ev, &epcis, err, sizeof(err));
    if (rc) {
        cli_error("event", "%s", err);
        goto done;
    }
    memcpy(ev->by, origo_key_public(key), ORIGO_PUBKEY_LEN);
    rc = origo_event_seal(ev, key, envelope, id);
    if (rc) {
        explain_rejection(ev, rc);
        goto done;
    }
    status = 0;
done:
    free(epcis);
    free(ev);
    origo_key_free(key);
    return status;
}

static const struct option event_options[] = {
    {"key", required_argument, NULL, 'k'},
    {"json", required_argument, NULL, 'j'},
    {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"net", required_argument, NULL, 0},
    {"type", required_argument, NULL, 0},
    {"ts", required_argument, NULL, 0},
    {"lot", required_argument, NULL, 0},
    {"input", required_argument, NULL, 0},
    {"output", required_argument, NULL, 0},
    {"item", required_argument, NULL, 0},
    {"stage", required_argument, NULL, 0},
    {"result", required_argument, NULL, 0},
    {"report", required_argument, NULL, 0},
    {"coa", required_argument, NULL, 0},
    {"issuer", required_argument, NULL, 0},
    {"from", required_argument, NULL, 0},
    {"to", required_argument, NULL, 0},
    {"ref", required_argument, NULL, 0},
    {"reason", required_argument, NULL, 0},
    {"member", required_argument, NULL, 0},
    {"name", required_argument, NULL, 0},
    {"roles", required_argument, NULL, 0},
    {"doc", required_argument, NULL, 0},
    {"ext", required_argument, NULL, 0},
    {NULL, 0, NULL, 0},
};

/* Parses origo event's flags (argv[0] is the verb) and signs the event.
 * *help is set for --help; *out_path receives --out. Returns 0 or 2. */
static int build(int argc, char **argv, origo_buf *envelope, uint8_t id[32],
                 const char **out_path, int *help)
{
    uint8_t *source = NULL; /* the --json file's bytes */
    size_t source_len = 0;
    const char *key_path = NULL, *json_path = NULL;
    json_t *flags = json_object();
    int opt, index, status = 2;
    *help = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "k:j:o:h", event_options, &index)) !=
           -1) {
        if (opt == 'k') {
            key_path = optarg;
        } else if (opt == 'j') {
            json_path = optarg;
        } else if (opt == 'o') {
            *out_path = optarg;
        } else if (opt == 'h') {
            *help = 1;
            json_decref(flags);
            return 0;
        } else if (opt == 0) {
            if (apply_flag(flags, event_options[index].name, optarg) != 0) {
                cli_error("event", "--%s '%s': malformed (see --help)",
                          event_options[index].name, optarg);
                goto done;
            }
        } else {
            event_usage(stderr);
            goto done;
        }
    }
    if (!key_path || optind != argc) {
        event_usage(stderr);
        goto done;
    }
    json_t *fields = collect_fields(json_path, flags, &source, &source_len);
    if (!fields)
        goto done;
    origo_str text = {(const char *)source, source_len};
    status = seal(fields, source ? &text : NULL, key_path, envelope, id);
    json_decref(fields);
done:
    free(source);
    json_decref(flags);
    return status;
}

int event_from_flags(int argc, char **argv, origo_buf *envelope, uint8_t id[32])
{
    const char *out = NULL;
    int help = 0;
    int rc = build(argc, argv, envelope, id, &out, &help);
    return rc ? rc : help ? 2 : 0;
}

int cmd_event(int argc, char **argv)
{
    origo_buf envelope;
    origo_buf_init(&envelope, ORIGO_ENVELOPE_MAX);
    uint8_t id[32];
    const char *out_path = NULL;
    int help = 0;
    int status = build(argc, argv, &envelope, id, &out_path, &help);
    if (help) {
        event_usage(stdout);
    } else if (status == 0) {
        if (out_path &&
            cli_write_file(out_path, envelope.data, envelope.len, 0644)) {
            cli_error("event", "%s: cannot write the envelope", out_path);
            status = 2;
        } else {
            status = print_result(&envelope, id, out_path);
        }
    }
    origo_buf_close(&envelope);
    return status;
}
