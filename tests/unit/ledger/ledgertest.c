/* Test helpers for the ledger tests (see ledgertest.h). */
#include "ledgertest.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"
#include "testutil.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "ledgertest: %s failed: %d %s\n", what, rc,
            origo_strerror(rc));
    abort();
}

static const char *const party_names[LT_PARTIES] = {
    "v1", "v2", "v3", "admin", "acme", "plant1", "truckco", "labco", "mallory",
};

void lt_net_init(lt_net *net, uint64_t window_ms)
{
    char hex[LT_PARTIES][65];
    memset(net, 0, sizeof(*net));
    if (sodium_init() < 0)
        die("sodium_init", -14);
    for (int i = 0; i < LT_PARTIES; i++) {
        memset(net->seeds[i], 0, 32);
        net->seeds[i][0] = (uint8_t)(i + 1);
        net->seeds[i][31] = 0x5a;
        int rc =
            origo_key_from_seed(party_names[i], net->seeds[i], &net->keys[i]);
        if (rc)
            die("origo_key_from_seed", rc);
        sodium_bin2hex(hex[i], 65, origo_key_public(net->keys[i]), 32);
    }
    char *json = malloc(8192);
    int n = snprintf(
        json, 8192,
        "{\"format\":\"origo-genesis/v1\",\"origin\":\"%s\",\"rules\":1,\n"
        "\"validators\":[{\"name\":\"v1\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7401\"},{\"name\":\"v2\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7402\"},{\"name\":\"v3\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7403\"}],\n"
        "\"admins\":[{\"name\":\"admin\",\"key\":\"%s\"}],\n"
        "\"members\":[{\"name\":\"acme\",\"key\":\"%s\",\"roles\":"
        "[\"supplier\"],\"owns\":[\"party:acme\",\"gs1:4012345\"]},"
        "{\"name\":\"plant1\",\"key\":\"%s\",\"roles\":"
        "[\"plant\"],\"owns\":[\"party:plant1\",\"gs1:4099999\"]},"
        "{\"name\":\"truckco\","
        "\"key\":\"%s\",\"roles\":"
        "[\"carrier\"]},{\"name\":\"labco\",\"key\":\"%s\",\"roles\":"
        "[\"inspector\"]}],\n"
        "\"params\":{\"ts_window_ms\":%llu,\"checkpoint_quorum\":2}}\n",
        LT_NET, hex[LT_V1], hex[LT_V2], hex[LT_V3], hex[LT_ADMIN],
        hex[LT_SUPPLIER], hex[LT_PLANT], hex[LT_CARRIER], hex[LT_INSPECTOR],
        (unsigned long long)window_ms);
    if (n <= 0 || n >= 8192)
        die("genesis json", -3);
    net->genesis_json = json;
    net->genesis_len = (size_t)n;
}

void lt_net_close(lt_net *net)
{
    for (int i = 0; i < LT_PARTIES; i++)
        origo_key_free(net->keys[i]);
    free(net->genesis_json);
}

ledger *lt_store(const lt_net *net, char **dir, int sync)
{
    char msg[256] = "";
    ledger_options opts = {.nosync = !sync, .map_size = 1u << 20};
    ledger *led;
    *dir = testutil_tmpdir();
    int rc = ledger_open(*dir, (const uint8_t *)net->genesis_json,
                         net->genesis_len, &opts, &led, msg, sizeof(msg));
    if (rc) {
        fprintf(stderr, "ledger_open: %s\n", msg);
        die("ledger_open", rc);
    }
    return led;
}

lt_fixture *lt_fixture_new(uint64_t window_ms)
{
    lt_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        die("calloc", ORIGO_E_NOMEM);
    lt_net_init(&f->net, window_ms);
    f->led = lt_store(&f->net, &f->dir, 0);
    f->time = LT_T0;
    return f;
}

void lt_fixture_free(lt_fixture *f)
{
    if (!f)
        return;
    ledger_close(f->led);
    testutil_rmtree(f->dir);
    free(f->dir);
    lt_block_clear(&f->block);
    lt_net_close(&f->net);
    free(f);
}

int lt_fixture_setup(void **state)
{
    *state = lt_fixture_new(LT_WINDOW);
    return 0;
}

int lt_fixture_teardown(void **state)
{
    lt_fixture_free(*state);
    return 0;
}

void lt_block_add(lt_block *b, const uint8_t *data, size_t len)
{
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->envs = realloc(b->envs, b->cap * sizeof(*b->envs));
    }
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    b->envs[b->count++] = (ledger_envelope){copy, len, 0};
}

void lt_block_clear(lt_block *b)
{
    for (size_t i = 0; i < b->count; i++)
        free((void *)b->envs[i].data);
    free(b->envs);
    memset(b, 0, sizeof(*b));
}

static void seal(lt_block *b, const origo_event *ev, const origo_key *key,
                 uint8_t id[32])
{
    origo_buf buf;
    origo_buf_init(&buf, ORIGO_ENVELOPE_MAX);
    int rc = origo_event_seal(ev, key, &buf, id);
    if (rc)
        die("origo_event_seal", rc);
    lt_block_add(b, buf.data, buf.len);
    origo_buf_close(&buf);
}

static void base_event(origo_event *ev, enum origo_event_type type,
                       const lt_net *net, int party, uint64_t ts)
{
    origo_event_init(ev, type);
    ev->net = origo_str_c(LT_NET);
    memcpy(ev->by, origo_key_public(net->keys[party]), 32);
    ev->ts = ts;
}

void lt_lot_create(lt_block *b, const lt_net *net, int party, const char *lot,
                   uint64_t ts, uint8_t id[32])
{
    origo_event *ev = malloc(sizeof(*ev));
    base_event(ev, ORIGO_EV_LOT_CREATE, net, party, ts);
    ev->n_lots = 1;
    ev->lots[0].role = ORIGO_LOT_SUBJECT;
    ev->lots[0].lot = origo_str_c(lot);
    ev->lots[0].qty = origo_str_c("100");
    ev->lots[0].unit = origo_str_c("kg");
    ev->item = origo_str_c("PART-1");
    seal(b, ev, net->keys[party], id);
    free(ev);
}

void lt_seal(lt_block *b, const lt_net *net, int party, origo_event *ev,
             uint64_t ts)
{
    ev->net = origo_str_c(LT_NET);
    memcpy(ev->by, origo_key_public(net->keys[party]), 32);
    ev->ts = ts;
    seal(b, ev, net->keys[party], NULL);
}

void lt_epcis(lt_block *b, const lt_net *net, int party, const char *text,
              uint64_t ts, uint8_t id[32])
{
    origo_event *ev = malloc(sizeof(*ev));
    base_event(ev, ORIGO_EV_EPCIS, net, party, ts);
    ev->epcis = origo_str_c(text);
    seal(b, ev, net->keys[party], id);
    free(ev);
}

void lt_epcis_unchecked(lt_block *b, const lt_net *net, int party,
                        const char *text, uint64_t ts)
{
    origo_buf body, env;
    uint8_t sig[64];
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    origo_mp_put_map(&body, 6);
    origo_mp_put_cstr(&body, "v");
    origo_mp_put_uint(&body, ORIGO_EVENT_VERSION);
    origo_mp_put_cstr(&body, "net");
    origo_mp_put_cstr(&body, LT_NET);
    origo_mp_put_cstr(&body, "type");
    origo_mp_put_cstr(&body, "epcis");
    origo_mp_put_cstr(&body, "by");
    origo_mp_put_bin(&body, origo_key_public(net->keys[party]), 32);
    origo_mp_put_cstr(&body, "ts");
    origo_mp_put_uint(&body, ts);
    origo_mp_put_cstr(&body, "epcis");
    origo_mp_put_cstr(&body, text);
    if (body.err ||
        origo_event_sign(net->keys[party], body.data, body.len, sig) ||
        origo_envelope_encode(body.data, body.len, sig, &env))
        die("lt_epcis_unchecked", body.err ? body.err : ORIGO_E_INTERNAL);
    lt_block_add(b, env.data, env.len);
    origo_buf_close(&body);
    origo_buf_close(&env);
}

void lt_validator_vkeys(const lt_net *net, origo_vkey out[LT_VALIDATORS])
{
    static const char *const names[] = {"v1", "v2", "v3"};
    for (int v = 0; v < LT_VALIDATORS; v++) {
        memset(&out[v], 0, sizeof(out[v]));
        memcpy(out[v].name, names[v], 2);
        out[v].name_len = 2;
        memcpy(out[v].pub, origo_key_public(net->keys[LT_V1 + v]), 32);
        if (origo_vkey_id(names[v], 2, out[v].pub, out[v].key_id) != 0)
            die("origo_vkey_id", ORIGO_E_INTERNAL);
    }
}

void lt_lot_create_forged(lt_block *b, const lt_net *net, int by, int signer,
                          const char *lot, uint64_t ts)
{
    origo_event *ev = malloc(sizeof(*ev));
    origo_buf body, env;
    uint8_t sig[64];
    base_event(ev, ORIGO_EV_LOT_CREATE, net, by, ts);
    ev->n_lots = 1;
    ev->lots[0].role = ORIGO_LOT_SUBJECT;
    ev->lots[0].lot = origo_str_c(lot);
    ev->lots[0].qty = origo_str_c("1");
    ev->lots[0].unit = origo_str_c("kg");
    ev->item = origo_str_c("PART-1");
    origo_buf_init(&body, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    int rc = origo_event_encode_body(ev, &body);
    if (rc)
        die("encode_body", rc);
    if ((rc = origo_event_sign(net->keys[signer], body.data, body.len, sig)))
        die("sign", rc);
    if ((rc = origo_envelope_encode(body.data, body.len, sig, &env)))
        die("envelope_encode", rc);
    lt_block_add(b, env.data, env.len);
    origo_buf_close(&body);
    origo_buf_close(&env);
    free(ev);
}

void lt_transform(lt_block *b, const lt_net *net, int party,
                  const char *const *inputs, size_t n_in,
                  const char *const *outputs, size_t n_out, uint64_t ts,
                  uint8_t id[32])
{
    origo_event *ev = malloc(sizeof(*ev));
    base_event(ev, ORIGO_EV_LOT_TRANSFORM, net, party, ts);
    for (size_t i = 0; i < n_in + n_out; i++) {
        origo_lot_ref *ref = &ev->lots[ev->n_lots++];
        ref->role = i < n_in ? ORIGO_LOT_INPUT : ORIGO_LOT_OUTPUT;
        ref->lot = origo_str_c(i < n_in ? inputs[i] : outputs[i - n_in]);
        ref->qty = origo_str_c("5");
        ref->unit = origo_str_c("kg");
    }
    seal(b, ev, net->keys[party], id);
    free(ev);
}

void lt_member(lt_block *b, const lt_net *net, int party,
               enum origo_event_type type, const uint8_t member[32],
               const char *name, unsigned roles, uint64_t ts, uint8_t id[32])
{
    origo_event *ev = malloc(sizeof(*ev));
    base_event(ev, type, net, party, ts);
    memcpy(ev->member, member, 32);
    if (type != ORIGO_EV_MEMBER_REMOVE) {
        ev->name = origo_str_c(name);
        ev->roles = roles;
    }
    seal(b, ev, net->keys[party], id);
    free(ev);
}

void lt_apply(ledger *led, const lt_block *b, uint64_t raft_index,
              uint64_t block_time, ledger_outcome *outcomes)
{
    ledger_block_result res = {.outcomes = outcomes};
    int rc = ledger_apply_block(led, NULL, 1, raft_index, block_time, b->envs,
                                b->count, 0, &res);
    if (rc)
        die("ledger_apply_block", rc);
}

void lt_sign_checkpoint(const lt_net *net, int v, const char *body,
                        size_t body_len, char *line, size_t line_size)
{
    uint8_t pk[32], sk[64], raw[68], hash[32];
    const char *name = party_names[v];
    crypto_sign_seed_keypair(pk, sk, net->seeds[v]);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, (const uint8_t *)"\n\x01", 2);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, hash);
    memcpy(raw, hash, 4);
    crypto_sign_detached(raw + 4, NULL, (const uint8_t *)body, body_len, sk);
    char b64[sodium_base64_ENCODED_LEN(68, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), raw, 68,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, line_size, "\xe2\x80\x94 %s %s\n", name, b64);
}

static int table_names(MDB_txn *txn, char names[64][64], size_t *count)
{
    MDB_dbi main_dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    if (mdb_dbi_open(txn, NULL, 0, &main_dbi) ||
        mdb_cursor_open(txn, main_dbi, &cur))
        return -1;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < 64;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t len = k.mv_size < 63 ? k.mv_size : 63;
        memcpy(names[n], k.mv_data, len);
        names[n][len] = '\0';
        n++;
    }
    mdb_cursor_close(cur);
    *count = n;
    return 0;
}

static int skipped(const char *name, const char *const *skip)
{
    for (size_t i = 0; skip && skip[i]; i++) {
        if (strcmp(skip[i], name) == 0)
            return 1;
    }
    return 0;
}

int lt_compare_envs(MDB_env *a, MDB_env *b, const char *const *skip)
{
    MDB_txn *ta, *tb;
    char na[64][64], nb[64][64];
    size_t ca = 0, cb = 0;
    int result = 0;
    if (mdb_txn_begin(a, NULL, MDB_RDONLY, &ta) ||
        mdb_txn_begin(b, NULL, MDB_RDONLY, &tb))
        abort();
    if (table_names(ta, na, &ca) || table_names(tb, nb, &cb))
        abort();
    if (ca != cb) {
        fprintf(stderr, "table counts differ: %zu vs %zu\n", ca, cb);
        result = 1;
    }
    for (size_t i = 0; i < ca && !result; i++) {
        if (strcmp(na[i], nb[i]) != 0) {
            fprintf(stderr, "table names differ: %s vs %s\n", na[i], nb[i]);
            result = 1;
            break;
        }
        if (skipped(na[i], skip))
            continue;
        MDB_dbi da, db;
        MDB_cursor *xa, *xb;
        if (mdb_dbi_open(ta, na[i], 0, &da) ||
            mdb_dbi_open(tb, nb[i], 0, &db) || mdb_cursor_open(ta, da, &xa) ||
            mdb_cursor_open(tb, db, &xb))
            abort();
        MDB_val ka, va, kb, vb;
        int ra = mdb_cursor_get(xa, &ka, &va, MDB_FIRST);
        int rb = mdb_cursor_get(xb, &kb, &vb, MDB_FIRST);
        size_t rows = 0;
        while (ra == 0 && rb == 0) {
            if (ka.mv_size != kb.mv_size || va.mv_size != vb.mv_size ||
                memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
                memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0) {
                fprintf(stderr, "table %s row %zu differs\n", na[i], rows);
                result = 1;
                break;
            }
            rows++;
            ra = mdb_cursor_get(xa, &ka, &va, MDB_NEXT);
            rb = mdb_cursor_get(xb, &kb, &vb, MDB_NEXT);
        }
        if (!result && (ra == 0) != (rb == 0)) {
            fprintf(stderr, "table %s: row counts differ\n", na[i]);
            result = 1;
        }
        mdb_cursor_close(xa);
        mdb_cursor_close(xb);
    }
    mdb_txn_abort(ta);
    mdb_txn_abort(tb);
    return result;
}

uint64_t lt_block_time(uint64_t k)
{
    return LT_T0 + k * 1000;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

void lt_random_block(const lt_net *net, uint64_t seed, uint64_t k,
                     size_t max_events, lt_block *b)
{
    uint64_t r = mix(seed ^ (k * 0x9e3779b97f4a7c15ull));
    size_t n = 1 + (size_t)(r % max_events);
    uint64_t ts = lt_block_time(k);
    const uint8_t *carrier = origo_key_public(net->keys[LT_CARRIER]);
    for (size_t i = 0; i < n; i++) {
        char lot[64], prev[64];
        r = mix(r + i);
        snprintf(lot, sizeof(lot), "acme/p/%llu-%zu", (unsigned long long)k, i);
        snprintf(prev, sizeof(prev), "acme/p/%llu-0",
                 (unsigned long long)(k - 1));
        switch (r % 10) {
        case 0:
            lt_lot_create(b, net, LT_OUTSIDER, lot, ts, NULL);
            break;
        case 1:
            lt_lot_create(b, net, LT_CARRIER, lot, ts, NULL);
            break;
        case 2:
            if (b->count)
                lt_block_add(b, b->envs[0].data, b->envs[0].len);
            else
                lt_lot_create_forged(b, net, LT_SUPPLIER, LT_PLANT, lot, ts);
            break;
        case 3: {
            const char *in[] = {prev}, *out[] = {lot};
            lt_transform(b, net, LT_PLANT, in, 1, out, 1, ts, NULL);
            break;
        }
        case 4:
            lt_member(b, net, LT_ADMIN,
                      (r >> 8) & 1 ? ORIGO_EV_MEMBER_REMOVE
                                   : ORIGO_EV_MEMBER_ADD,
                      carrier, "truckco", ORIGO_ROLE_CARRIER, ts, NULL);
            break;
        default:
            lt_lot_create(b, net, (r >> 8) & 1 ? LT_SUPPLIER : LT_PLANT, lot,
                          ts, NULL);
        }
    }
}
