/* The generated supply network of the trace tests (see trace_net.h). Events
 * are sealed with real member keys and applied through ledger_apply_block()
 * in blocks of a few events, so the indexes under test are the ones apply
 * writes; the generator's own edge and record lists are the expectation. */
#include "trace_net.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <origo/error.h>
#include <origo/event.h>
#include <sodium.h>

#include "testutil.h"
#include "trace.h"

#define BLOCK_EVENTS 8
#define SUPPLIERS 4
#define PLANTS 3

enum party {
    PARTY_SUPPLIER0 = 0, /* .. SUPPLIERS - 1 */
    PARTY_PLANT0 = SUPPLIERS,
    PARTY_CARRIER = SUPPLIERS + PLANTS,
    PARTY_ADMIN,
    PARTY_COUNT
};

_Static_assert(PARTY_COUNT == NET_PARTIES, "trace_net.h NET_PARTIES");

struct pending {
    origo_buf envelopes[BLOCK_EVENTS];
    size_t count;
};

static struct pending pending;

static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % bound);
}

static origo_key *make_key(const char *name)
{
    uint8_t seed[32];
    origo_key *key = NULL;
    crypto_hash_sha256(seed, (const uint8_t *)name, strlen(name));
    assert_int_equal(origo_key_from_seed(name, seed, &key), 0);
    return key;
}

static const char *party_name(int party)
{
    static char names[PARTY_COUNT][16];
    if (party < PARTY_PLANT0) {
        snprintf(names[party], sizeof(names[party]), "s%d", party);
    } else if (party < PARTY_CARRIER) {
        snprintf(names[party], sizeof(names[party]), "p%d",
                 party - PARTY_PLANT0);
    } else if (party == PARTY_CARRIER) {
        snprintf(names[party], sizeof(names[party]), "c0");
    } else {
        snprintf(names[party], sizeof(names[party]), "a0");
    }
    return names[party];
}

static json_t *party_json(const char *name, const uint8_t *pub,
                          const char *role)
{
    char hex[65], owns[32];
    origo_pubkey_to_hex(pub, hex);
    json_t *obj = json_pack("{s:s, s:s}", "name", name, "key", hex);
    if (role != NULL) {
        json_object_set_new(obj, "roles", json_pack("[s]", role));
    }
    /* Suppliers and plants own the party-form namespace of their name. */
    if (role != NULL && strcmp(role, "carrier") != 0) {
        snprintf(owns, sizeof(owns), "party:%s", name);
        json_object_set_new(obj, "owns", json_pack("[s]", owns));
    }
    return obj;
}

static char *genesis_text(struct trace_net *net)
{
    json_t *validators = json_array(), *admins = json_array(),
           *members = json_array();
    for (int v = 0; v < NET_VALIDATORS; v++) {
        char hex[65], address[32];
        origo_pubkey_to_hex(origo_key_public(net->validators[v]), hex);
        snprintf(address, sizeof(address), "127.0.0.1:%d", 7100 + v);
        json_array_append_new(validators,
                              json_pack("{s:s, s:s, s:s}", "name",
                                        origo_key_name(net->validators[v]),
                                        "key", hex, "address", address));
    }
    for (int p = 0; p < PARTY_COUNT; p++) {
        const uint8_t *pub = origo_key_public(net->parties[p]);
        if (p == PARTY_ADMIN) {
            json_array_append_new(admins, party_json(party_name(p), pub, NULL));
        } else {
            const char *role = p < PARTY_PLANT0    ? "supplier"
                               : p < PARTY_CARRIER ? "plant"
                                                   : "carrier";
            json_array_append_new(members,
                                  party_json(party_name(p), pub, role));
        }
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:i, s:o, s:o, s:o, s:{s:i}}", "format", "origo-genesis/v1",
        "origin", NET_ORIGIN, "rules", 1, "validators", validators, "admins",
        admins, "members", members, "params", "checkpoint_quorum", 2);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* ---- applying ---------------------------------------------------------- */

static void flush(struct trace_net *net)
{
    ledger_envelope envs[BLOCK_EVENTS];
    ledger_outcome outcomes[BLOCK_EVENTS];
    ledger_block_result result;
    if (pending.count == 0) {
        return;
    }
    for (size_t i = 0; i < pending.count; i++) {
        envs[i].data = pending.envelopes[i].data;
        envs[i].len = pending.envelopes[i].len;
    }
    memset(&result, 0, sizeof(result));
    result.outcomes = outcomes;
    net->raft_index++;
    int rc =
        ledger_apply_block(net->led, NULL, 1, net->raft_index, net->block_time,
                           envs, pending.count, 0, &result);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < pending.count; i++) {
        if (outcomes[i].status != 0) {
            fail_msg("event %zu of block %llu rejected: %s", i,
                     (unsigned long long)net->raft_index,
                     origo_strerror(outcomes[i].status));
        }
        origo_buf_close(&pending.envelopes[i]);
    }
    assert_int_equal(result.rejected, 0);
    pending.count = 0;
    net->block_time += 1000;
}

/* Seals the event with the party's key; returns its future leaf index. */
static uint64_t submit(struct trace_net *net, origo_event *ev, int party)
{
    origo_buf *buf = &pending.envelopes[pending.count];
    ev->net = origo_str_c(NET_ORIGIN);
    memcpy(ev->by, origo_key_public(net->parties[party]), 32);
    ev->ts = net->block_time;
    origo_buf_init(buf, ORIGO_ENVELOPE_MAX);
    int rc = origo_event_seal(ev, net->parties[party], buf, NULL);
    if (rc != 0) {
        fail_msg("sealing a %s event: %s", origo_event_type_name(ev->type),
                 origo_strerror(rc));
    }
    pending.count++;
    uint64_t leaf = net->event_count++;
    if (pending.count == BLOCK_EVENTS) {
        flush(net);
    }
    return leaf;
}

/* ---- the network ------------------------------------------------------- */

static int add_lot(struct trace_net *net, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_lot(struct trace_net *net, const char *fmt, ...)
{
    va_list ap;
    assert_true(net->lot_count < NET_MAX_LOTS);
    va_start(ap, fmt);
    vsnprintf(net->lots[net->lot_count], sizeof(net->lots[0]), fmt, ap);
    va_end(ap);
    return net->lot_count++;
}

int trace_net_lot(const struct trace_net *net, const char *name)
{
    for (int i = 0; i < net->lot_count; i++) {
        if (strcmp(net->lots[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

static origo_lot_ref lot_ref(const struct trace_net *net, int lot,
                             enum origo_lot_role role, const char *qty,
                             const char *unit)
{
    origo_lot_ref ref = {role, origo_str_c(net->lots[lot]), origo_str_c(qty),
                         origo_str_c(unit)};
    return ref;
}

static void record(struct trace_net *net, int lot, int kind, uint64_t leaf,
                   const char *from, const char *to);

/* Each lot's unit, as created: transforms consume inputs in it. */
static const char *lot_units[NET_MAX_LOTS];

static void create_lot(struct trace_net *net, int lot, int party)
{
    lot_units[lot] = "kg";
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
    ev.lots[ev.n_lots++] = lot_ref(net, lot, ORIGO_LOT_SUBJECT, "100", "kg");
    ev.item = origo_str_c("RAW-MATERIAL");
    record(net, lot, 0, submit(net, &ev, party), NULL, NULL);
}

static void attest(struct trace_net *net, int lot, int party)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_COA_ATTEST);
    ev.lots[ev.n_lots++] = lot_ref(net, lot, ORIGO_LOT_SUBJECT, "", "");
    crypto_hash_sha256(ev.coa, (const uint8_t *)net->lots[lot],
                       strlen(net->lots[lot]));
    ev.issuer = origo_str_c(party_name(party)); /* the issuer is the signer */
    record(net, lot, 0, submit(net, &ev, party), NULL, NULL);
}

static void add_edge(struct trace_net *net, int from, int to, uint64_t leaf)
{
    assert_true(net->edge_count < NET_MAX_EDGES);
    net->edges[net->edge_count++] = (struct net_edge){from, to, leaf};
}

static void transform(struct trace_net *net, const int *inputs, int n_in,
                      const int *outputs, int n_out, int party)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_LOT_TRANSFORM);
    for (int i = 0; i < n_in; i++) {
        int pcs =
            lot_units[inputs[i]] && strcmp(lot_units[inputs[i]], "pcs") == 0;
        ev.lots[ev.n_lots++] = lot_ref(net, inputs[i], ORIGO_LOT_INPUT,
                                       pcs ? "2" : "2.5", pcs ? "pcs" : "kg");
    }
    for (int o = 0; o < n_out; o++) {
        ev.lots[ev.n_lots++] =
            lot_ref(net, outputs[o], ORIGO_LOT_OUTPUT, "10", "pcs");
        lot_units[outputs[o]] = "pcs";
    }
    uint64_t leaf = submit(net, &ev, party);
    for (int i = 0; i < n_in; i++) {
        for (int o = 0; o < n_out; o++) {
            add_edge(net, inputs[i], outputs[o], leaf);
        }
    }
}

/* Picks `count` distinct lots from [first, first + range). */
static void pick(int *out, int count, int first, int range)
{
    for (int i = 0; i < count; i++) {
        int again;
        do {
            out[i] = first + (int)rnd((uint32_t)range);
            again = 0;
            for (int j = 0; j < i; j++) {
                again |= out[j] == out[i];
            }
        } while (again);
    }
}

static void record(struct trace_net *net, int lot, int kind, uint64_t leaf,
                   const char *from, const char *to)
{
    assert_true(net->record_count < NET_MAX_RECORDS);
    struct net_record *r = &net->records[net->record_count++];
    r->lot = lot;
    r->kind = kind;
    r->leaf = leaf;
    snprintf(r->from, sizeof(r->from), "%s", from ? from : "");
    snprintf(r->to, sizeof(r->to), "%s", to ? to : "");
}

static void custody(struct trace_net *net, enum origo_event_type type,
                    const int *lots, int n, const char *from, const char *to,
                    int party)
{
    origo_event ev;
    origo_event_init(&ev, type);
    for (int i = 0; i < n; i++) {
        ev.lots[ev.n_lots++] = lot_ref(net, lots[i], ORIGO_LOT_SUBJECT, "", "");
    }
    ev.from = origo_str_c(from);
    ev.to = origo_str_c(to);
    ev.ref = origo_str_c("BOL-42");
    uint64_t leaf = submit(net, &ev, party);
    for (int i = 0; i < n; i++) {
        record(net, lots[i],
               type == ORIGO_EV_CUSTODY_SHIP ? TRACE_CUSTODY_SHIP
                                             : TRACE_CUSTODY_RECEIVE,
               leaf, from, to);
    }
}

static void quality(struct trace_net *net, enum origo_event_type type,
                    const int *lots, int n, int party)
{
    origo_event ev;
    origo_event_init(&ev, type);
    for (int i = 0; i < n; i++) {
        ev.lots[ev.n_lots++] = lot_ref(net, lots[i], ORIGO_LOT_SUBJECT, "", "");
    }
    ev.reason = origo_str_c("supplier deviation report 7");
    uint64_t leaf = submit(net, &ev, party);
    int kind = type == ORIGO_EV_QUALITY_HOLD      ? TRACE_HOLD
               : type == ORIGO_EV_QUALITY_RELEASE ? TRACE_RELEASE
                                                  : TRACE_RECALL;
    for (int i = 0; i < n; i++) {
        record(net, lots[i], kind, leaf, NULL, NULL);
    }
}

/* An EPCIS eventTime at the block time (rule version 1 keeps it within the
 * timestamp window). */
static void event_time(const struct trace_net *net, char out[32])
{
    testutil_rfc3339(net->block_time, out);
}

static void epcis(struct trace_net *net, json_t *event, int party)
{
    origo_event ev;
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    char *text = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS);
    ev.epcis = origo_str_c(text);
    submit(net, &ev, party);
    /* The envelope holds a copy; the text may go. */
    free(text);
    json_decref(event);
}

static void epcis_transformation(struct trace_net *net, int in0, int in1,
                                 int out)
{
    char when[32];
    event_time(net, when);
    json_t *event = json_pack(
        "{s:s, s:s, s:s, s:[s,s], s:[s]}", "type", "TransformationEvent",
        "eventTime", when, "eventTimeZoneOffset", "+00:00", "inputEPCList",
        net->lots[in0], net->lots[in1], "outputEPCList", net->lots[out]);
    uint64_t leaf = net->event_count;
    epcis(net, event, PARTY_PLANT0);
    add_edge(net, in0, out, leaf);
    add_edge(net, in1, out, leaf);
}

/* Plant 0 puts children it holds into a parent lot it holds. */
static void epcis_aggregation(struct trace_net *net, int parent,
                              const int *children, int count)
{
    char when[32];
    event_time(net, when);
    json_t *list = json_array();
    for (int c = 0; c < count; c++) {
        json_array_append_new(list, json_string(net->lots[children[c]]));
    }
    json_t *event =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "type", "AggregationEvent",
                  "action", "ADD", "eventTime", when, "eventTimeZoneOffset",
                  "+00:00", "parentID", net->lots[parent], "childEPCs", list);
    uint64_t leaf = net->event_count;
    epcis(net, event, PARTY_PLANT0);
    for (int c = 0; c < count; c++) {
        add_edge(net, children[c], parent, leaf);
    }
}

/* A raw lot that is an ancestor of `lot` in the generator's graph. */
static int raw_ancestor(const struct trace_net *net, int lot)
{
    for (int hops = 0; hops < 8; hops++) {
        if (lot >= net->raw_first && lot < net->raw_first + net->raw_count) {
            return lot;
        }
        for (int e = 0; e < net->edge_count; e++) {
            if (net->edges[e].to == lot) {
                lot = net->edges[e].from;
                break;
            }
        }
    }
    fail_msg("no raw ancestor");
    return -1;
}

/* The plant that receives raw lot r (and alone may consume it). */
static int raw_plant(int r)
{
    return r % PLANTS;
}

/* Raw lot r is made by supplier r % SUPPLIERS and shipped to, and received
 * by, plant r % PLANTS: only the holder may consume a lot. */
static void build_raw(struct trace_net *net)
{
    net->raw_first = net->lot_count;
    net->raw_count = 30;
    for (int r = 0; r < net->raw_count; r++) {
        int supplier = r % SUPPLIERS;
        int lot = add_lot(net, "s%d/raw/R%02d", supplier, r);
        create_lot(net, lot, PARTY_SUPPLIER0 + supplier);
    }
    for (int r = 0; r < 5; r++) {
        attest(net, net->raw_first + r, PARTY_SUPPLIER0 + r % SUPPLIERS);
    }
    flush(net);
    for (int r = 0; r < net->raw_count; r++) {
        int lot = net->raw_first + r,
            supplier = PARTY_SUPPLIER0 + r % SUPPLIERS;
        int plant = PARTY_PLANT0 + raw_plant(r);
        custody(net, ORIGO_EV_CUSTODY_SHIP, &lot, 1, party_name(supplier),
                party_name(plant), supplier);
    }
    flush(net);
    for (int r = 0; r < net->raw_count; r++) {
        int lot = net->raw_first + r,
            supplier = PARTY_SUPPLIER0 + r % SUPPLIERS;
        int plant = PARTY_PLANT0 + raw_plant(r);
        custody(net, ORIGO_EV_CUSTODY_RECEIVE, &lot, 1, party_name(supplier),
                party_name(plant), plant);
    }
    flush(net);
}

/* Picks `count` distinct raw lots that plant `plant` holds, among the first
 * `range` raw lots. */
static void pick_raw(const struct trace_net *net, int *out, int count,
                     int plant, int range)
{
    int mine[32], n = 0;
    for (int r = 0; r < range; r++) {
        if (raw_plant(r) == plant) {
            mine[n++] = net->raw_first + r;
        }
    }
    int picked[32];
    pick(picked, count, 0, n);
    for (int i = 0; i < count; i++) {
        out[i] = mine[picked[i]];
    }
}

/* The plant whose name prefixes lot `lot` ("p1/sub/S03" -> 1). */
static int lot_plant(const struct trace_net *net, int lot)
{
    return net->lots[lot][1] - '0';
}

static void build_subassemblies(struct trace_net *net)
{
    net->sub_first = net->lot_count;
    for (int t = 0; t < 8; t++) {
        int inputs[4], outputs[2];
        int n_in = 2 + (int)rnd(3), n_out = 1 + (int)rnd(2);
        /* Raw lots 0..14 are shared by many subassemblies of a plant. */
        pick_raw(net, inputs, n_in, t % PLANTS, t < 6 ? 15 : net->raw_count);
        for (int o = 0; o < n_out; o++) {
            outputs[o] = add_lot(net, "p%d/sub/S%02d", t % PLANTS,
                                 net->lot_count - net->sub_first);
        }
        transform(net, inputs, n_in, outputs, n_out, PARTY_PLANT0 + t % PLANTS);
    }
    int sx = add_lot(net, "p0/sub/SX%02d", 1);
    epcis_transformation(net, net->raw_first + 21, net->raw_first + 24, sx);
    net->sub_count = net->lot_count - net->sub_first;
}

static void build_finished(struct trace_net *net)
{
    net->fin_first = net->lot_count;
    net->fin_count = 6;
    for (int f = 0; f < net->fin_count; f++) {
        int inputs[3], output = add_lot(net, "p%d/fin/F%02d", f % PLANTS, f);
        int n_in = 2, subs[16], n_subs = 0, picked[2];
        /* Subassemblies the same plant made (and so holds). */
        for (int s = 0; s < net->sub_count; s++) {
            if (lot_plant(net, net->sub_first + s) == f % PLANTS) {
                subs[n_subs++] = net->sub_first + s;
            }
        }
        pick(picked, 2, 0, n_subs);
        inputs[0] = subs[picked[0]];
        inputs[1] = subs[picked[1]];
        if (f % 2 == 0) {
            /* A raw lot directly, one this plant received. */
            inputs[n_in++] = net->raw_first + f % PLANTS + 3 * (f + 1);
        }
        transform(net, inputs, n_in, &output, 1, PARTY_PLANT0 + f % PLANTS);
    }
    net->pallet = add_lot(net, "p0/pallet/PAL01");
    create_lot(net, net->pallet, PARTY_PLANT0);
    int on_pallet[2] = {net->fin_first, net->fin_first + 3}; /* plant 0's */
    epcis_aggregation(net, net->pallet, on_pallet, 2);
}

/* Custody moves only what the shipper holds, to a member, and only that
 * member receives it; holds are lifted by their authors; a recall is the
 * owner's. Custody parties are member names. */
static void build_custody_and_quality(struct trace_net *net)
{
    int fin = net->fin_first, sub = net->sub_first, raw = net->raw_first;
    int pair[2] = {fin + 2, fin + 5}; /* plant 2's */
    int p0 = PARTY_PLANT0, p1 = PARTY_PLANT0 + 1, p2 = PARTY_PLANT0 + 2;
    const char *c0 = party_name(PARTY_CARRIER);
    custody(net, ORIGO_EV_CUSTODY_SHIP, &sub, 1, party_name(p0), party_name(p1),
            p0);
    custody(net, ORIGO_EV_CUSTODY_RECEIVE, &sub, 1, party_name(p0),
            party_name(p1), p1);
    custody(net, ORIGO_EV_CUSTODY_SHIP, pair, 2, party_name(p2), c0, p2);
    custody(net, ORIGO_EV_CUSTODY_RECEIVE, &pair[0], 1, party_name(p2), c0,
            PARTY_CARRIER);
    int f3 = fin + 3;
    custody(net, ORIGO_EV_CUSTODY_SHIP, &f3, 1, party_name(p0), party_name(p1),
            p0);
    custody(net, ORIGO_EV_CUSTODY_SHIP, &pair[0], 1, c0, party_name(p1),
            PARTY_CARRIER);

    int held[2] = {raw + 5, sub + 1};
    quality(net, ORIGO_EV_QUALITY_HOLD, held, 2, p0);
    quality(net, ORIGO_EV_QUALITY_RELEASE, &held[1], 1, p0);
    quality(net, ORIGO_EV_QUALITY_HOLD, &held[1], 1, p1);
    int f4 = fin + 4;
    quality(net, ORIGO_EV_QUALITY_RECALL, &f4, 1, p1); /* its owner */
    quality(net, ORIGO_EV_QUALITY_HOLD, &f4, 1, p0);
    quality(net, ORIGO_EV_QUALITY_RELEASE, &f4, 1, p0);
}

/* The cycle attempt: plant 0 aggregates finished good F00 into a raw lot it
 * still holds that is one of F00's own ancestors. No native event can do
 * this (a transform's outputs are new lots), but an EPCIS aggregation of
 * held lots can, so the trace must still terminate and say so. */
static void build_cycle(struct trace_net *net)
{
    int fin = net->fin_first;
    net->cycle_raw = raw_ancestor(net, fin);
    epcis_aggregation(net, net->cycle_raw, &fin, 1);
}

/* Validator v's signature line over `body` (C2SP signed note). */
static int sign_line(const struct trace_net *net, int v, const char *body,
                     size_t body_len, char line[400])
{
    uint8_t raw[68];
    char b64[128];
    memcpy(raw, net->vkeys[v].key_id, 4);
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)body, body_len,
                         net->validator_sk[v]);
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    return snprintf(line, 400, "\xe2\x80\x94 %s %s\n", net->vkeys[v].name, b64);
}

void trace_net_sign(struct trace_net *net, int count)
{
    ledger_state state;
    char *body, *ibody;
    size_t body_len, ibody_len;
    assert_int_equal(ledger_get_state(net->led, NULL, &state), 0);
    assert_int_equal(ledger_checkpoint_body(net->led, NULL, state.tree_size,
                                            &body, &body_len),
                     0);
    assert_int_equal(ledger_lot_index_note_body(net->led, NULL, state.tree_size,
                                                &ibody, &ibody_len),
                     0);
    for (int v = 0; v < count; v++) {
        char line[400];
        int n = sign_line(net, v, body, body_len, line);
        assert_int_equal(ledger_checkpoint_add_signature(
                             net->led, NULL, state.tree_size, line, (size_t)n),
                         0);
        n = sign_line(net, v, ibody, ibody_len, line);
        assert_int_equal(ledger_lot_index_add_signature(
                             net->led, NULL, state.tree_size, line, (size_t)n),
                         0);
    }
    free(body);
    free(ibody);
}

void trace_net_build(struct trace_net *net, uint64_t seed)
{
    char errmsg[256];
    memset(net, 0, sizeof(*net));
    rng_state = seed ? seed : 88172645463325252ull;
    for (int p = 0; p < PARTY_COUNT; p++) {
        net->parties[p] = make_key(party_name(p));
    }
    for (int v = 0; v < NET_VALIDATORS; v++) {
        char name[16];
        uint8_t pk[32], seed_bytes[32];
        snprintf(name, sizeof(name), "v%d", v);
        net->validators[v] = make_key(name);
        crypto_hash_sha256(seed_bytes, (const uint8_t *)name, strlen(name));
        crypto_sign_seed_keypair(pk, net->validator_sk[v], seed_bytes);
        assert_int_equal(
            origo_vkey_id(name, strlen(name), pk, net->vkeys[v].key_id), 0);
        memcpy(net->vkeys[v].name, name, strlen(name) + 1);
        net->vkeys[v].name_len = strlen(name);
        memcpy(net->vkeys[v].pub, pk, 32);
    }
    net->dir = testutil_tmpdir();
    char *genesis = genesis_text(net);
    ledger_options options = {.nosync = 1};
    int rc = ledger_open(net->dir, (const uint8_t *)genesis, strlen(genesis),
                         &options, &net->led, errmsg, sizeof(errmsg));
    if (rc != 0) {
        fail_msg("ledger_open: %s: %s", origo_strerror(rc), errmsg);
    }
    free(genesis);
    net->block_time = 1763700000000ull;
    build_raw(net);
    build_subassemblies(net);
    build_finished(net);
    build_custody_and_quality(net);
    build_cycle(net);
    flush(net);
    trace_net_sign(net, 2);
}

int trace_net_extend(struct trace_net *net)
{
    int inputs[2] = {net->fin_first + 1, net->fin_first + 4}; /* plant 1's */
    int kit = add_lot(net, "p1/kit/K01");
    transform(net, inputs, 2, &kit, 1, PARTY_PLANT0 + 1);
    flush(net);
    return kit;
}

void trace_net_free(struct trace_net *net)
{
    ledger_close(net->led);
    testutil_rmtree(net->dir);
    free(net->dir);
    for (int v = 0; v < NET_VALIDATORS; v++) {
        origo_key_free(net->validators[v]);
        sodium_memzero(net->validator_sk[v], 64);
    }
    for (int p = 0; p < PARTY_COUNT; p++) {
        origo_key_free(net->parties[p]);
        net->parties[p] = NULL;
    }
}
