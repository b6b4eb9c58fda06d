/* Ledger rules added after the security review (review-ledger.md): names
 * of parties are signed-note key names (genesis and member events), the
 * genesis origin follows the rule of an event's `net`, the checkpoint
 * quorum follows the validator set as of each tree size and that set never
 * shrinks below the genesis quorum, strict input mode needs a lot to have
 * been created or produced (a mention is not enough), checkpoint lines go
 * through the SDK's signed-note parser, and MDB_TXN_FULL is not mistaken
 * for a full map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"

#include "genesis.h"
#include "ledger.h"
#include "ledgertest.h"
#include "store.h"
#include "testutil.h"

#define WINDOW LT_WINDOW

typedef lt_fixture fixture; /* ledgertest.h */

/* Applies f->block as the next block and clears it for the next one. */
static void apply(fixture *f)
{
    f->time += 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    lt_block_clear(&f->block);
}

static uint64_t ts(const fixture *f)
{
    return f->time + 1000;
}

static uint64_t tree_size(fixture *f)
{
    ledger_state st;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    return st.tree_size;
}

/* ---- genesis ------------------------------------------------------------ */

static void expect_genesis_error(const char *json, const char *needle)
{
    genesis *gen = NULL;
    char msg[256] = "";
    int rc = genesis_parse((const uint8_t *)json, strlen(json), &gen, msg,
                           sizeof(msg));
    if (rc != ORIGO_E_GENESIS || !strstr(msg, needle))
        fprintf(stderr, "genesis error for %s: rc %d msg '%s'\n", needle, rc,
                msg);
    assert_int_equal(rc, ORIGO_E_GENESIS);
    assert_non_null(strstr(msg, needle));
    assert_null(gen);
}

/* Replaces the first `from` in the test genesis by `to`. */
static void edited(const fixture *f, const char *from, const char *to,
                   char *out, size_t size)
{
    const char *json = f->net.genesis_json;
    const char *at = strstr(json, from);
    assert_non_null(at);
    int n = snprintf(out, size, "%.*s%s%s", (int)(at - json), json, to,
                     at + strlen(from));
    assert_true(n > 0 && (size_t)n < size);
}

static void test_genesis_names_must_be_key_names(void **state)
{
    fixture *f = *state;
    char buf[9000];
    /* U+00A0 and U+2003 are Unicode spaces: signed-note parsers refuse
     * such key names, so such a validator could never sign a checkpoint. */
    edited(f, "\"name\":\"v1\"", "\"name\":\"val\\u00a0one\"", buf,
           sizeof(buf));
    expect_genesis_error(buf, "validators[0].name");
    edited(f, "\"name\":\"acme\"", "\"name\":\"ac\\u2003me\"", buf,
           sizeof(buf));
    expect_genesis_error(buf, "members[0].name");
    edited(f, "\"name\":\"admin\"", "\"name\":\"ad+min\"", buf, sizeof(buf));
    expect_genesis_error(buf, "admins[0].name");
    /* Non-ASCII names that are not spaces stay valid. */
    edited(f, "\"name\":\"acme\"", "\"name\":\"acm\\u00e9\"", buf, sizeof(buf));
    genesis *gen;
    char msg[256];
    assert_int_equal(
        genesis_parse((const uint8_t *)buf, strlen(buf), &gen, msg, 256), 0);
    genesis_free(gen);
}

static void test_genesis_origin_follows_the_net_rule(void **state)
{
    fixture *f = *state;
    char buf[9000];
    edited(f, LT_NET, "Acme Supply Network", buf, sizeof(buf));
    expect_genesis_error(buf, "origin");
    edited(f, LT_NET, "origo.test/n\\u00e9t", buf, sizeof(buf));
    expect_genesis_error(buf, "origin");
    edited(f, LT_NET, "origo.test/\\u007f", buf, sizeof(buf));
    expect_genesis_error(buf, "origin");
    assert_int_equal(genesis_origin_ok("a", 1), 1);
    assert_int_equal(genesis_origin_ok("~!", 2), 1);
    assert_int_equal(genesis_origin_ok("a b", 3), 0);
    assert_int_equal(genesis_origin_ok("", 0), 0);
}

/* ---- member events ------------------------------------------------------ */

static void test_member_names_must_be_key_names(void **state)
{
    fixture *f = *state;
    const uint8_t *v1 = origo_key_public(f->net.keys[LT_V1]);
    const uint8_t *outsider = origo_key_public(f->net.keys[LT_OUTSIDER]);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, v1,
              "Plant One", ORIGO_ROLE_VALIDATOR, ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, v1,
              "val\xc2\xa0one", ORIGO_ROLE_VALIDATOR, ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD, outsider,
              "mal lory", ORIGO_ROLE_SUPPLIER, ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, v1,
              "validator-one", ORIGO_ROLE_VALIDATOR, ts(f), NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_MEMBER_NAME);
    assert_int_equal(f->out[1].status, ORIGO_E_MEMBER_NAME);
    assert_int_equal(f->out[2].status, ORIGO_E_MEMBER_NAME);
    assert_int_equal(f->out[3].status, 0);
    /* The renamed validator signs under its new name from then on. */
    char *body, line[256];
    size_t body_len;
    uint64_t size = tree_size(f);
    assert_int_equal(
        ledger_checkpoint_body(f->led, NULL, size, &body, &body_len), 0);
    lt_sign_checkpoint(&f->net, LT_V1, body, body_len, line, sizeof(line));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, size, line, strlen(line)),
        ORIGO_E_PERM);
    free(body);
}

static void test_validators_never_drop_below_the_genesis_quorum(void **state)
{
    fixture *f = *state;
    const uint8_t *v1 = origo_key_public(f->net.keys[LT_V1]);
    const uint8_t *v2 = origo_key_public(f->net.keys[LT_V2]);
    const uint8_t *v3 = origo_key_public(f->net.keys[LT_V3]);
    /* Genesis quorum 2 of 3: one validator may go, a second may not,
     * neither by removal nor by losing the role; keeping the role is
     * fine. */
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, v1, NULL, 0,
              ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, v2, NULL, 0,
              ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, v3, "v3",
              ORIGO_ROLE_AUDITOR, ts(f), NULL);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, v3, "v3",
              ORIGO_ROLE_VALIDATOR | ORIGO_ROLE_AUDITOR, ts(f), NULL);
    apply(f);
    assert_int_equal(f->out[0].status, 0);
    assert_int_equal(f->out[1].status, ORIGO_E_VALIDATOR_QUORUM);
    assert_int_equal(f->out[2].status, ORIGO_E_VALIDATOR_QUORUM);
    assert_int_equal(f->out[3].status, 0);
    size_t quorum = 0;
    assert_int_equal(
        ledger_checkpoint_quorum_at(f->led, NULL, tree_size(f), &quorum), 0);
    assert_int_equal(quorum, 2);
}

/* ---- checkpoint quorum as of each tree size ----------------------------- */

/* A signature line by (name, seed) over body. */
static void sign_line(const char *name, const uint8_t seed[32],
                      const char *body, size_t body_len, char *line,
                      size_t size)
{
    uint8_t pk[32], sk[64], raw[68];
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_int_equal(origo_vkey_id(name, strlen(name), pk, raw), 0);
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)body, body_len, sk);
    char b64[sodium_base64_ENCODED_LEN(68, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), raw, 68,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, size, "\xe2\x80\x94 %s %s\n", name, b64);
    sodium_memzero(sk, sizeof(sk));
}

typedef struct extra_validator {
    char name[8];
    uint8_t seed[32], pub[32];
} extra_validator;

/* Adds signatures by the named signers (NULL-terminated: lt validators
 * "v1".."v3" or extras) for `size`; returns the latest size afterwards (0
 * when none). */
static uint64_t sign_by(fixture *f, uint64_t size, const char *const *names,
                        const extra_validator *extra, size_t extra_count)
{
    char *body, line[256];
    size_t body_len;
    assert_int_equal(
        ledger_checkpoint_body(f->led, NULL, size, &body, &body_len), 0);
    for (size_t i = 0; names[i]; i++) {
        if (names[i][0] == 'v' && names[i][2] == '\0')
            lt_sign_checkpoint(&f->net, LT_V1 + (names[i][1] - '1'), body,
                               body_len, line, sizeof(line));
        for (size_t k = 0; k < extra_count; k++) {
            if (strcmp(extra[k].name, names[i]) == 0)
                sign_line(extra[k].name, extra[k].seed, body, body_len, line,
                          sizeof(line));
        }
        assert_int_equal(ledger_checkpoint_add_signature(f->led, NULL, size,
                                                         line, strlen(line)),
                         0);
    }
    free(body);
    char *note;
    size_t note_len;
    uint64_t latest = 0;
    int rc = ledger_checkpoint_latest(f->led, NULL, &note, &note_len, &latest);
    assert_true(rc == 0 || rc == ORIGO_E_NOTFOUND);
    if (rc == 0) {
        /* Whatever the ledger serves parses with the SDK. */
        origo_note *parsed;
        assert_int_equal(
            origo_note_parse((const uint8_t *)note, note_len, &parsed), 0);
        origo_note_free(parsed);
        free(note);
    }
    return latest;
}

static void test_checkpoint_quorum_follows_the_validator_set(void **state)
{
    fixture *f = *state;
    extra_validator extra[4];
    for (int i = 0; i < 4; i++) {
        uint8_t sk[64];
        snprintf(extra[i].name, sizeof(extra[i].name), "x%d", i + 4);
        memset(extra[i].seed, 0x40 + i, 32);
        crypto_sign_seed_keypair(extra[i].pub, sk, extra[i].seed);
        lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD,
                  extra[i].pub, extra[i].name, ORIGO_ROLE_VALIDATOR, ts(f),
                  NULL);
    }
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/q/1", ts(f), NULL);
    apply(f);
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->out[i].status, 0);
    /* Before the additions: 3 validators, quorum 2; with two of them (size
     * 2): 5, quorum 3; with all four (size 4 onwards): 7, quorum 4. */
    size_t quorum = 0;
    assert_int_equal(ledger_checkpoint_quorum_at(f->led, NULL, 0, &quorum), 0);
    assert_int_equal(quorum, 2);
    assert_int_equal(ledger_checkpoint_quorum_at(f->led, NULL, 2, &quorum), 0);
    assert_int_equal(quorum, 3);
    assert_int_equal(ledger_checkpoint_quorum_at(f->led, NULL, 5, &quorum), 0);
    assert_int_equal(quorum, 4);
    static const char *const two[] = {"v1", "v2", NULL};
    static const char *const two_more[] = {"x4", "x5", NULL};
    assert_int_equal(sign_by(f, 5, two, extra, 4), 0); /* 2 of 7: not yet */
    assert_int_equal(sign_by(f, 5, two_more, extra, 4), 5);
    /* Remove four validators: 3 left (v1, v2, x7), quorum 2 again; a
     * removed validator's signature no longer counts. */
    const uint8_t *v3 = origo_key_public(f->net.keys[LT_V3]);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, v3, NULL, 0,
              ts(f), NULL);
    for (int i = 0; i < 3; i++)
        lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE,
                  extra[i].pub, NULL, 0, ts(f), NULL);
    apply(f);
    for (int i = 0; i < 4; i++)
        assert_int_equal(f->out[i].status, 0);
    assert_int_equal(ledger_checkpoint_quorum_at(f->led, NULL, 9, &quorum), 0);
    assert_int_equal(quorum, 2);
    char *body, line[256];
    size_t body_len;
    assert_int_equal(ledger_checkpoint_body(f->led, NULL, 9, &body, &body_len),
                     0);
    sign_line("x4", extra[0].seed, body, body_len, line, sizeof(line));
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 9, line, strlen(line)),
        ORIGO_E_PERM);
    free(body);
    static const char *const one[] = {"x7", NULL};
    static const char *const another[] = {"v2", NULL};
    assert_int_equal(sign_by(f, 9, one, extra, 4), 5);
    assert_int_equal(sign_by(f, 9, another, extra, 4), 9);

    /* The audit applies the same quorum per size. */
    ledger_close(f->led);
    f->led = NULL;
    ledger_audit_report rep;
    assert_int_equal(ledger_audit(f->dir, NULL, &rep), 0);
    if (!rep.clean)
        fprintf(stderr, "%s %s: expected %s found %s (%s)\n", rep.table,
                rep.key, rep.expected, rep.found, rep.detail);
    assert_int_equal(rep.clean, 1);
    assert_int_equal(rep.signatures, 6);
    char msg[256];
    assert_int_equal(
        ledger_open(f->dir, NULL, 0, NULL, &f->led, msg, sizeof(msg)), 0);
}

/* ---- checkpoint lines through the SDK parser ---------------------------- */

static void test_checkpoint_lines_use_the_signed_note_parser(void **state)
{
    fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/n/1", ts(f), NULL);
    apply(f);
    char *body, line[256], bad[600];
    size_t body_len;
    assert_int_equal(ledger_checkpoint_body(f->led, NULL, 1, &body, &body_len),
                     0);
    lt_sign_checkpoint(&f->net, LT_V1, body, body_len, line, sizeof(line));
    const char *b64 = strrchr(line, ' ') + 1;
    /* A key name that is not UTF-8 is malformed, not an unknown signer. */
    snprintf(bad, sizeof(bad), "\xe2\x80\x94 v\xff %s", b64);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, bad, strlen(bad)),
        ORIGO_E_NOTE_FORMAT);
    /* So is a name with a Unicode space, base64 with a bad final
     * character, and two lines in one. */
    snprintf(bad, sizeof(bad), "\xe2\x80\x94 v\xc2\xa0\x31 %s", b64);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, bad, strlen(bad)),
        ORIGO_E_NOTE_FORMAT);
    snprintf(bad, sizeof(bad), "%.*s!", (int)strlen(line) - 2, line);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, bad, strlen(bad)),
        ORIGO_E_NOTE_FORMAT);
    snprintf(bad, sizeof(bad), "%s%s", line, line);
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, bad, strlen(bad) - 1),
        ORIGO_E_NOTE_FORMAT);
    /* The good line, with or without its newline. */
    assert_int_equal(
        ledger_checkpoint_add_signature(f->led, NULL, 1, line, strlen(line)),
        0);
    assert_int_equal(ledger_checkpoint_add_signature(f->led, NULL, 1, line,
                                                     strlen(line) - 1),
                     0);
    free(body);
}

/* ---- strict input lots -------------------------------------------------- */

/* An inspection of `lot` by the inspector: mentions the lot, creates
 * nothing. */
static void inspect(fixture *f, const char *lot)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_buf buf;
    origo_event_init(ev, ORIGO_EV_INSPECTION);
    ev->net = origo_str_c(LT_NET);
    memcpy(ev->by, origo_key_public(f->net.keys[LT_INSPECTOR]), 32);
    ev->ts = ts(f);
    ev->n_lots = 1;
    ev->lots[0].role = ORIGO_LOT_SUBJECT;
    ev->lots[0].lot = origo_str_c(lot);
    ev->stage = ORIGO_STAGE_IQC;
    ev->result = ORIGO_RESULT_PASS;
    memset(ev->report, 7, sizeof(ev->report));
    origo_buf_init(&buf, ORIGO_ENVELOPE_MAX);
    assert_int_equal(
        origo_event_seal(ev, f->net.keys[LT_INSPECTOR], &buf, NULL), 0);
    lt_block_add(&f->block, buf.data, buf.len);
    origo_buf_close(&buf);
    free(ev);
}

static void test_strict_inputs_need_a_creation_not_a_mention(void **state)
{
    fixture *f = *state;
    const char *mentioned[] = {"acme/s/MENTIONED"};
    const char *outsiders[] = {"acme/s/OUTSIDER"};
    const char *created[] = {"acme/s/CREATED"};
    const char *produced[] = {"acme/s/PRODUCED"};
    const char *final[] = {"acme/s/FINAL"};
    inspect(f, mentioned[0]);
    lt_lot_create(&f->block, &f->net, LT_OUTSIDER, outsiders[0], ts(f), NULL);
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, created[0], ts(f), NULL);
    apply(f);
    /* Rule version 1: an inspection of a lot that does not exist is
     * refused, and does not bring the lot into being. */
    assert_int_equal(f->out[0].status, ORIGO_E_LOT_UNKNOWN);
    assert_int_equal(f->out[1].status, ORIGO_E_NOT_MEMBER);
    assert_int_equal(f->out[2].status, 0);
    /* A lot only mentioned, or created by a rejected event, does not
     * exist; a created one does, and so does a transform's output, even
     * later in the same block. */
    lt_transform(&f->block, &f->net, LT_SUPPLIER, mentioned, 1, final, 1, ts(f),
                 NULL);
    lt_transform(&f->block, &f->net, LT_SUPPLIER, outsiders, 1, final, 1, ts(f),
                 NULL);
    lt_transform(&f->block, &f->net, LT_SUPPLIER, created, 1, produced, 1,
                 ts(f), NULL);
    lt_transform(&f->block, &f->net, LT_SUPPLIER, produced, 1, final, 1, ts(f),
                 NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_INPUT_LOT);
    assert_int_equal(f->out[1].status, ORIGO_E_INPUT_LOT);
    assert_int_equal(f->out[2].status, 0);
    assert_int_equal(f->out[3].status, 0);
    /* The rejected transforms mentioned FINAL-less inputs; inputs are never
     * created by being consumed. */
    lt_transform(&f->block, &f->net, LT_SUPPLIER, mentioned, 1, final, 1, ts(f),
                 NULL);
    apply(f);
    assert_int_equal(f->out[0].status, ORIGO_E_INPUT_LOT);
}

/* ---- event lookup without a stored height ------------------------------- */

static void test_lookup_finds_the_committing_block(void **state)
{
    fixture *f = *state;
    uint8_t ids[12][32];
    uint64_t heights[12];
    size_t n = 0;
    /* Blocks of 3, 0, 1 (plus a reject), 0, 5 and 2 events. */
    static const int sizes[] = {3, 0, 1, 0, 5, 2};
    for (size_t b = 0; b < 6; b++) {
        for (int i = 0; i < sizes[b]; i++) {
            char lot[32];
            snprintf(lot, sizeof(lot), "acme/h/%zu-%d", b, i);
            lt_lot_create(&f->block, &f->net, LT_SUPPLIER, lot, ts(f), ids[n]);
            heights[n++] = b + 1;
        }
        if (b == 2)
            lt_lot_create(&f->block, &f->net, LT_OUTSIDER, "acme/h/x", ts(f),
                          NULL);
        apply(f);
    }
    for (size_t i = 0; i < n; i++) {
        ledger_event_info info;
        assert_int_equal(ledger_event_lookup(f->led, NULL, ids[i], &info), 0);
        assert_int_equal(info.status, LEDGER_EVENT_COMMITTED);
        assert_int_equal(info.leaf_index, i);
        assert_int_equal(info.height, heights[i]);
        /* The index holds the first 128 bits; an ID that shares only those
         * is another event. */
        ids[i][31] ^= 1;
        assert_int_equal(ledger_event_lookup(f->led, NULL, ids[i], &info), 0);
        assert_int_equal(info.status, LEDGER_EVENT_UNKNOWN);
    }
}

/* ---- LMDB transaction limits -------------------------------------------- */

static int txn_full(ledger *led, MDB_txn *txn, void *ctx)
{
    (void)led;
    (void)txn;
    (*(int *)ctx)++;
    return store_err(MDB_TXN_FULL);
}

static void test_txn_full_is_not_a_full_map(void **state)
{
    fixture *f = *state;
    MDB_envinfo before, after;
    int calls = 0;
    assert_int_equal(mdb_env_info(ledger_env(f->led), &before), 0);
    assert_int_equal(store_write(f->led, txn_full, &calls), ORIGO_E_TXN_FULL);
    assert_int_equal(calls, 1);
    assert_int_equal(mdb_env_info(ledger_env(f->led), &after), 0);
    assert_int_equal(after.me_mapsize, before.me_mapsize);
    assert_int_not_equal(store_err(MDB_TXN_FULL), ORIGO_E_MAP_FULL);
    assert_int_equal(store_err(MDB_MAP_FULL), ORIGO_E_MAP_FULL);
}

int main(void)
{
#define T(name)                                                                \
    cmocka_unit_test_setup_teardown(name, lt_fixture_setup, lt_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_genesis_names_must_be_key_names),
        T(test_genesis_origin_follows_the_net_rule),
        T(test_member_names_must_be_key_names),
        T(test_validators_never_drop_below_the_genesis_quorum),
        T(test_checkpoint_quorum_follows_the_validator_set),
        T(test_checkpoint_lines_use_the_signed_note_parser),
        T(test_strict_inputs_need_a_creation_not_a_mention),
        T(test_lookup_finds_the_committing_block),
        T(test_txn_full_is_not_a_full_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
