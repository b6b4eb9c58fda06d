/* `origo demo`: plays a small battery supply chain end to end in one
 * directory, so a new user sees every piece working: keys for five
 * companies and three validators, a genesis, signed events applied block by
 * block to each validator's own ledger (their roots must agree), and every
 * validator cosigning each checkpoint. scripts/demo then proves, traces,
 * verifies and audits the result with the ordinary CLI verbs. Until
 * origo-node exists the three validators run in this one process. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "cmd.h"
#include "ledger.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "origo/note.h"

#define ORIGIN "origo.example/battery-net"
#define VALIDATORS 3

enum party {
    NORDIC, /* lithium carbonate supplier */
    ACME,   /* cell maker */
    VOLT,   /* pack plant */
    LAB,    /* independent test lab */
    FREIGHT,
    ADMIN,
    OUTSIDER, /* not a member: its event is rejected */
    PARTIES
};

static const struct {
    const char *name;
    const char *roles; /* comma-separated; NULL for admins/outsiders */
    const char *owns;  /* the namespace whose lots it creates, or NULL */
} party_info[PARTIES] = {
    [NORDIC] = {"nordic-lithium", "supplier", "party:nordic"},
    [ACME] = {"acme-cells", "plant,supplier", "party:acme"},
    [VOLT] = {"volt-packs", "plant", "party:volt"},
    [LAB] = {"cell-lab", "inspector", NULL},
    [FREIGHT] = {"swift-freight", "carrier", NULL},
    [ADMIN] = {"network-admin", NULL, NULL},
    [OUTSIDER] = {"unknown-vendor", NULL, NULL},
};

struct demo {
    const char *dir;
    origo_key *parties[PARTIES];
    origo_key *validators[VALIDATORS];
    ledger *ledgers[VALIDATORS];
    uint64_t block_time;
    uint64_t raft_index; /* as Raft would number the blocks */
    /* The block being assembled. */
    origo_buf envelopes[32];
    enum party signers[32];
    const char *types[32];
    size_t count;
    size_t accepted, rejected;
    int broken; /* a sample event could not be sealed: a bug, stop */
};

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        cli_error("demo", "%s: cannot create directory: %s", path,
                  strerror(errno));
        return -1;
    }
    return 0;
}

static int make_key(const char *dir, const char *name, origo_key **out)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/keys/%s.key", dir, name);
    int rc = origo_key_generate(name, out);
    if (!rc)
        rc = origo_key_save(*out, path, ORIGO_KEY_SAVE_OVERWRITE);
    if (rc)
        cli_error("demo", "%s: cannot create key: %s", path,
                  origo_strerror(rc));
    return rc;
}

static json_t *party_json(const origo_key *key, const char *roles)
{
    char hex[65];
    origo_pubkey_to_hex(origo_key_public(key), hex);
    json_t *obj = json_object();
    json_object_set_new(obj, "name", json_string(origo_key_name(key)));
    json_object_set_new(obj, "key", json_string(hex));
    if (roles) {
        json_t *list = json_array();
        char copy[64];
        snprintf(copy, sizeof(copy), "%s", roles);
        for (char *role = copy; role;) {
            char *comma = strchr(role, ',');
            if (comma)
                *comma++ = 0;
            json_array_append_new(list, json_string(role));
            role = comma;
        }
        json_object_set_new(obj, "roles", list);
    }
    return obj;
}

/* Writes genesis.json and returns its text (caller frees). */
static char *write_genesis(struct demo *d)
{
    json_t *root = json_object(), *validators = json_array();
    json_t *admins = json_array(), *members = json_array();
    for (int i = 0; i < VALIDATORS; i++) {
        json_t *v = party_json(d->validators[i], NULL);
        char address[32];
        snprintf(address, sizeof(address), "127.0.0.1:%d", 7401 + i);
        json_object_set_new(v, "address", json_string(address));
        json_array_append_new(validators, v);
    }
    json_array_append_new(admins, party_json(d->parties[ADMIN], NULL));
    for (int p = NORDIC; p <= FREIGHT; p++) {
        json_t *member = party_json(d->parties[p], party_info[p].roles);
        if (party_info[p].owns)
            json_object_set_new(member, "owns",
                                json_pack("[s]", party_info[p].owns));
        json_array_append_new(members, member);
    }
    json_t *params = json_object();
    json_object_set_new(params, "ts_window_ms", json_integer(600000));
    json_object_set_new(params, "checkpoint_quorum", json_integer(2));
    json_object_set_new(root, "format", json_string("origo-genesis/v1"));
    json_object_set_new(root, "origin", json_string(ORIGIN));
    json_object_set_new(root, "rules", json_integer(1));
    json_object_set_new(root, "validators", validators);
    json_object_set_new(root, "admins", admins);
    json_object_set_new(root, "members", members);
    json_object_set_new(root, "params", params);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    char path[1024];
    snprintf(path, sizeof(path), "%s/genesis.json", d->dir);
    if (text && cli_write_file(path, text, strlen(text), 0644)) {
        cli_error("demo", "%s: cannot write", path);
        free(text);
        return NULL;
    }
    return text;
}

static int write_trust(struct demo *d)
{
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof(text),
                                   "# Validators of the demo network\n"
                                   "origin %s\nquorum 2\n",
                                   ORIGIN);
    for (int i = 0; i < VALIDATORS; i++) {
        char vkey[ORIGO_VKEY_MAX + 1];
        if (origo_key_vkey(d->validators[i], vkey, sizeof(vkey), NULL))
            return -1;
        used +=
            (size_t)snprintf(text + used, sizeof(text) - used, "%s\n", vkey);
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/trust.txt", d->dir);
    return cli_write_file(path, text, used, 0644);
}

/* Adds one event, signed by `who`, to the block being assembled. */
static void add_event(struct demo *d, enum party who, origo_event *ev)
{
    ev->net = origo_str_c(ORIGIN);
    ev->ts = d->block_time - 1000 + d->count;
    memcpy(ev->by, origo_key_public(d->parties[who]), ORIGO_PUBKEY_LEN);
    origo_buf *buf = &d->envelopes[d->count];
    origo_buf_init(buf, ORIGO_ENVELOPE_MAX);
    int rc = origo_event_seal(ev, d->parties[who], buf, NULL);
    if (rc) {
        cli_error("demo", "sample %s event: %s",
                  origo_event_type_name(ev->type), origo_strerror(rc));
        origo_buf_close(buf);
        d->broken = 1;
        return;
    }
    d->types[d->count] = origo_event_type_name(ev->type);
    d->signers[d->count++] = who;
}

/* A validator's signature line over a checkpoint body, signed and
 * formatted by the SDK. */
static int sign_line(const origo_key *key, const char *body, char *line,
                     size_t line_size)
{
    origo_note_sig sig;
    origo_buf text;
    if (line_size == 0)
        return ORIGO_E_TOOBIG;
    int rc = origo_note_sign_text_key(body, strlen(body), key, &sig);
    if (rc)
        return rc;
    origo_buf_init(&text, line_size - 1);
    rc = origo_note_sig_format(&sig, &text);
    if (!rc) {
        memcpy(line, text.data, text.len);
        line[text.len] = '\0';
    }
    origo_buf_close(&text);
    return rc;
}

/* Every validator signs the new checkpoint and lot index note; every
 * ledger stores all the signatures, as peers exchanging them would. */
static int cosign(struct demo *d, uint64_t tree_size)
{
    char *body = NULL, *ibody = NULL;
    size_t body_len, ibody_len;
    int rc = ledger_checkpoint_body(d->ledgers[0], NULL, tree_size, &body,
                                    &body_len);
    if (!rc)
        rc = ledger_lot_index_note_body(d->ledgers[0], NULL, tree_size, &ibody,
                                        &ibody_len);
    for (int v = 0; !rc && v < VALIDATORS; v++) {
        char line[512], iline[512];
        rc = sign_line(d->validators[v], body, line, sizeof(line));
        if (!rc)
            rc = sign_line(d->validators[v], ibody, iline, sizeof(iline));
        for (int l = 0; !rc && l < VALIDATORS; l++) {
            rc = ledger_checkpoint_add_signature(d->ledgers[l], NULL, tree_size,
                                                 line, strlen(line));
            if (!rc)
                rc = ledger_lot_index_add_signature(
                    d->ledgers[l], NULL, tree_size, iline, strlen(iline));
        }
    }
    free(body);
    free(ibody);
    return rc;
}

/* Applies the assembled block on every validator and checks that they all
 * reach the same tree size and root. */
static int commit_block(struct demo *d, const char *what)
{
    ledger_envelope envs[32];
    ledger_outcome outcomes[32];
    for (size_t i = 0; i < d->count; i++) {
        envs[i].data = d->envelopes[i].data;
        envs[i].len = d->envelopes[i].len;
    }
    ledger_block_result first = {0};
    int rc = d->broken ? ORIGO_E_INTERNAL : 0;
    for (int v = 0; !rc && v < VALIDATORS; v++) {
        ledger_block_result result = {.outcomes = outcomes};
        rc = ledger_apply_block(d->ledgers[v], NULL, 1, d->raft_index,
                                d->block_time, envs, d->count, 0, &result);
        if (rc) {
            cli_error("demo", "validator-%d could not apply block: %s", v + 1,
                      origo_strerror(rc));
            break;
        }
        if (v == 0) {
            first = result;
        } else if (result.tree_size != first.tree_size ||
                   memcmp(result.root, first.root, 32)) {
            cli_error("demo", "validator-%d disagrees on the root", v + 1);
            rc = ORIGO_E_INTERNAL;
        }
    }
    if (!rc) {
        char root[65];
        cli_hex(first.root, 32, root);
        printf("block %llu  %-44s %zu accepted, %zu rejected  tree %llu  "
               "root %.16s...\n",
               (unsigned long long)first.height, what, (size_t)first.leaf_count,
               first.rejected, (unsigned long long)first.tree_size, root);
        for (size_t i = 0; i < d->count; i++)
            if (outcomes[i].status)
                printf("         rejected: %s by %s: %s (%s)\n", d->types[i],
                       party_info[d->signers[i]].name,
                       origo_strerror(outcomes[i].status),
                       origo_errname(outcomes[i].status));
        d->accepted += first.leaf_count;
        d->rejected += first.rejected;
        rc = cosign(d, first.tree_size);
        if (rc)
            cli_error("demo", "cosigning the checkpoint failed: %s",
                      origo_strerror(rc));
    }
    for (size_t i = 0; i < d->count; i++)
        origo_buf_close(&d->envelopes[i]);
    d->count = 0;
    d->block_time += 60000;
    d->raft_index++;
    return rc;
}

static void lot(origo_event *ev, enum origo_lot_role role, const char *id,
                const char *qty, const char *unit)
{
    origo_lot_ref *ref = &ev->lots[ev->n_lots++];
    ref->role = role;
    ref->lot = origo_str_c(id);
    ref->qty = origo_str_c(qty);
    ref->unit = origo_str_c(unit);
}

static void sha256_text(const char *text, uint8_t out[32])
{
    crypto_hash_sha256(out, (const uint8_t *)text, strlen(text));
}

#define LITHIUM "nordic/li2co3/LC-2291"
#define GRAPHITE "acme/graphite/G-104"
#define CELL1 "acme/cell-21700/C-0001"
#define CELL2 "acme/cell-21700/C-0002"

/* A custody event: `who` writes its own member name on its side (rule
 * version 1: from/to are the members, and only the holder ships). */
static void custody(origo_event *ev, enum origo_event_type type,
                    enum party from, enum party to, const char *ref)
{
    origo_event_init(ev, type);
    ev->from = origo_str_c(party_info[from].name);
    ev->to = origo_str_c(party_info[to].name);
    ev->ref = origo_str_c(ref);
}

static int block_raw_materials(struct demo *d, origo_event *ev)
{
    origo_event_init(ev, ORIGO_EV_LOT_CREATE);
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, "120.5", "kg");
    ev->item = origo_str_c("Li2CO3-battery-grade");
    add_event(d, NORDIC, ev);
    origo_event_init(ev, ORIGO_EV_COA_ATTEST);
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    sha256_text("COA LC-2291: Li2CO3 99.62%, Na 18 ppm", ev->coa);
    ev->issuer = origo_str_c(party_info[NORDIC].name); /* the signer */
    add_event(d, NORDIC, ev);
    origo_event_init(ev, ORIGO_EV_LOT_CREATE);
    lot(ev, ORIGO_LOT_SUBJECT, GRAPHITE, "80", "kg");
    ev->item = origo_str_c("anode-graphite");
    add_event(d, ACME, ev);
    custody(ev, ORIGO_EV_CUSTODY_SHIP, NORDIC, FREIGHT, "BOL-88121");
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    add_event(d, NORDIC, ev);
    return commit_block(d, "raw materials, COA, shipment");
}

static int block_cells(struct demo *d, origo_event *ev)
{
    /* The carrier takes the lithium and delivers it to the cell maker. */
    custody(ev, ORIGO_EV_CUSTODY_RECEIVE, NORDIC, FREIGHT, "BOL-88121");
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    add_event(d, FREIGHT, ev);
    custody(ev, ORIGO_EV_CUSTODY_SHIP, FREIGHT, ACME, "BOL-88121");
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    add_event(d, FREIGHT, ev);
    custody(ev, ORIGO_EV_CUSTODY_RECEIVE, FREIGHT, ACME, "BOL-88121");
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    add_event(d, ACME, ev);
    origo_event_init(ev, ORIGO_EV_INSPECTION);
    lot(ev, ORIGO_LOT_SUBJECT, LITHIUM, NULL, NULL);
    ev->stage = ORIGO_STAGE_IQC;
    ev->result = ORIGO_RESULT_PASS;
    sha256_text("IQC report LC-2291", ev->report);
    ev->n_measures = 1;
    ev->measures[0] = (origo_measure){origo_str_c("purity"),
                                      origo_str_c("99.62"),
                                      origo_str_c("%"),
                                      origo_str_c("99.5"),
                                      {0}};
    add_event(d, ACME, ev);
    const char *cells[2] = {CELL1, CELL2};
    const char *li_qty[2] = {"60", "60.5"};
    for (int i = 0; i < 2; i++) {
        origo_event_init(ev, ORIGO_EV_LOT_TRANSFORM);
        lot(ev, ORIGO_LOT_INPUT, LITHIUM, li_qty[i], "kg");
        lot(ev, ORIGO_LOT_INPUT, GRAPHITE, "40", "kg");
        lot(ev, ORIGO_LOT_OUTPUT, cells[i], "5000", "pcs");
        add_event(d, ACME, ev);
    }
    /* A vendor that is not a member tries to add a lot: rejected. */
    origo_event_init(ev, ORIGO_EV_LOT_CREATE);
    lot(ev, ORIGO_LOT_SUBJECT, "unknown/cell/X-1", "1", "pcs");
    ev->item = origo_str_c("cell-21700");
    add_event(d, OUTSIDER, ev);
    /* A competitor, a member in good standing, claims to have made a pack
     * from acme's lithium, which it never held: rejected, so the lithium
     * lot never appears in its genealogy or recall scope. */
    origo_event_init(ev, ORIGO_EV_LOT_TRANSFORM);
    lot(ev, ORIGO_LOT_INPUT, LITHIUM, "1", "kg");
    lot(ev, ORIGO_LOT_OUTPUT, "volt/pack-48v/P-9999", "1", "pcs");
    add_event(d, VOLT, ev);
    return commit_block(d, "carrier, IQC, two cell lots, two refused");
}

static int block_packs(struct demo *d, origo_event *ev)
{
    custody(ev, ORIGO_EV_CUSTODY_SHIP, ACME, VOLT, "BOL-90417");
    lot(ev, ORIGO_LOT_SUBJECT, CELL1, NULL, NULL);
    lot(ev, ORIGO_LOT_SUBJECT, CELL2, NULL, NULL);
    add_event(d, ACME, ev);
    custody(ev, ORIGO_EV_CUSTODY_RECEIVE, ACME, VOLT, "BOL-90417");
    lot(ev, ORIGO_LOT_SUBJECT, CELL1, NULL, NULL);
    lot(ev, ORIGO_LOT_SUBJECT, CELL2, NULL, NULL);
    add_event(d, VOLT, ev);
    static const char *const packs[3] = {
        "volt/pack-48v/P-5001", "volt/pack-48v/P-5002", "volt/pack-48v/P-5003"};
    for (int i = 0; i < 3; i++) {
        origo_event_init(ev, ORIGO_EV_LOT_TRANSFORM);
        lot(ev, ORIGO_LOT_INPUT, i < 2 ? CELL1 : CELL2, "1300", "pcs");
        lot(ev, ORIGO_LOT_OUTPUT, packs[i], "100", "pcs");
        add_event(d, VOLT, ev);
    }
    origo_event_init(ev, ORIGO_EV_INSPECTION);
    lot(ev, ORIGO_LOT_SUBJECT, CELL2, NULL, NULL);
    ev->stage = ORIGO_STAGE_LAB;
    ev->result = ORIGO_RESULT_FAIL;
    sha256_text("Lab report CL-7781: capacity fade after 300 cycles",
                ev->report);
    ev->n_measures = 1;
    ev->measures[0] = (origo_measure){origo_str_c("capacity"),
                                      origo_str_c("4.62"), origo_str_c("Ah"),
                                      origo_str_c("4.8"), origo_str_c("5.2")};
    add_event(d, LAB, ev);
    return commit_block(d, "cells shipped, three packs built, lab fail");
}

static int block_hold(struct demo *d, origo_event *ev)
{
    origo_event_init(ev, ORIGO_EV_QUALITY_HOLD);
    lot(ev, ORIGO_LOT_SUBJECT, CELL2, NULL, NULL);
    ev->reason = origo_str_c("customer complaint: capacity fade");
    add_event(d, VOLT, ev);
    return commit_block(d, "quality hold on cell lot C-0002");
}

static int create_parties(struct demo *d)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/keys", d->dir);
    if (make_dir(d->dir) || make_dir(path))
        return -1;
    for (int p = 0; p < PARTIES; p++)
        if (make_key(d->dir, party_info[p].name, &d->parties[p]))
            return -1;
    for (int v = 0; v < VALIDATORS; v++) {
        char name[32];
        snprintf(name, sizeof(name), "validator-%d", v + 1);
        if (make_key(d->dir, name, &d->validators[v]))
            return -1;
    }
    return 0;
}

static int open_ledgers(struct demo *d, const char *genesis_text)
{
    for (int v = 0; v < VALIDATORS; v++) {
        char path[1024], err[256] = "";
        snprintf(path, sizeof(path), "%s/validator-%d", d->dir, v + 1);
        if (make_dir(path))
            return -1;
        int rc = ledger_open(path, (const uint8_t *)genesis_text,
                             strlen(genesis_text), NULL, &d->ledgers[v], err,
                             sizeof(err));
        if (rc) {
            cli_error("demo", "%s: cannot open ledger: %s %s", path,
                      origo_strerror(rc), err);
            return -1;
        }
    }
    return 0;
}

static int run(struct demo *d)
{
    if (create_parties(d))
        return 2;
    char *genesis_text = write_genesis(d);
    if (!genesis_text || write_trust(d))
        return 2;
    int rc = open_ledgers(d, genesis_text);
    free(genesis_text);
    if (rc)
        return 2;
    printf("network %s: %d validators, 5 member companies (keys in "
           "%s/keys)\n",
           ORIGIN, VALIDATORS, d->dir);
    origo_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return 2;
    rc = block_raw_materials(d, ev);
    if (!rc)
        rc = block_cells(d, ev);
    if (!rc)
        rc = block_packs(d, ev);
    if (!rc)
        rc = block_hold(d, ev);
    free(ev);
    if (rc)
        return 2;
    printf("%zu events committed, %zu rejected; each checkpoint signed by "
           "all %d validators\n",
           d->accepted, d->rejected, VALIDATORS);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct demo d = {.dir = ".demo", .raft_index = 2};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:h", options, NULL)) != -1) {
        if (opt == 'd') {
            d.dir = optarg;
        } else {
            fprintf(opt == 'h' ? stdout : stderr,
                    "usage: origo demo [--dir DIR]\n"
                    "Creates keys, a genesis and three validator ledgers in "
                    "DIR (default .demo,\nwhich must not hold a previous "
                    "demo) and applies a sample battery supply chain.\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    d.block_time = (uint64_t)now.tv_sec * 1000 - 3600 * 1000;
    int status = run(&d);
    for (int v = 0; v < VALIDATORS; v++)
        ledger_close(d.ledgers[v]);
    for (int p = 0; p < PARTIES; p++)
        origo_key_free(d.parties[p]);
    for (int v = 0; v < VALIDATORS; v++)
        origo_key_free(d.validators[v]);
    return status;
}
