/* The lot index (docs/formats/lot-index.md).
 *
 * - Vectors: tests/vectors/lot-index.json, made by tests/vectors/
 *   lot_index.py (a second implementation that rebuilds the map from
 *   scratch with hashlib): the same entries in the same blocks give the
 *   same index root after every block, the same proofs byte for byte
 *   (presence, absence at an empty subtree, absence under another key's
 *   leaf) and the same index note.
 * - Proofs that cheat are refused: a changed sibling, a count or head
 *   that is not the stored one, absence claimed for a present key,
 *   presence claimed for an absent one, another key's leaf off the path.
 * - Apply keeps it: real blocks give a root at every block's end and
 *   chains that match the events of each (lot, role).
 * - Index note signatures over another root, size or by a non-validator
 *   are refused.
 * - The tree's versions in memory: after random updates, some of them
 *   abandoned (a block whose transaction did not commit), every kept
 *   version proves every key as a tree rebuilt from scratch with that
 *   version's values does, so no node a kept version uses was freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ledgertest.h"
#include "lotindex.h"
#include "lotindex_mem.h"
#include "lotindex_store.h"
#include "origo/error.h"
#include "testutil.h"

static void unhex32(const char *hex, uint8_t out[32])
{
    assert_int_equal(testutil_unhex(hex, out, 32), 32);
}

static void unb64_32(const char *b64, uint8_t out[32])
{
    size_t got = 0;
    assert_int_equal(sodium_base642bin(out, 32, b64, strlen(b64), NULL, &got,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, 32);
}

/* A lot role, or the membership chain's. */
static int role_of(const json_t *name)
{
    const char *text = json_string_value(name);
    return !strcmp(text, "members") ? LOTINDEX_MEMBERS
                                    : lotindex_role_parse(text);
}

typedef struct add_ctx {
    json_t *entries;
    uint64_t tree_size;
    lotindex_batch batch;
} add_ctx;

static int add_block(ledger *led, MDB_txn *txn, void *p)
{
    add_ctx *a = p;
    size_t i;
    json_t *e;
    json_array_foreach(a->entries, i, e)
    {
        const char *lot = json_string_value(json_object_get(e, "lot"));
        int role = role_of(json_object_get(e, "role"));
        uint8_t id[32];
        unhex32(json_string_value(json_object_get(e, "event_id")), id);
        int rc = lotindex_add(
            led, txn, &a->batch,
            (uint64_t)json_integer_value(json_object_get(e, "leaf")),
            (uint64_t)json_integer_value(json_object_get(e, "block_time")),
            role, lot, strlen(lot), id);
        if (rc)
            return rc;
    }
    return lotindex_commit(led, txn, &a->batch, a->tree_size);
}

static ledger *fresh(lt_net *net, char **dir)
{
    lt_net_init(net, LT_WINDOW);
    return lt_store(net, dir, 0);
}

static void done(lt_net *net, ledger *led, char *dir)
{
    ledger_close(led);
    testutil_rmtree(dir);
    free(dir);
    lt_net_close(net);
}

static void test_vectors(void **state)
{
    (void)state;
    json_t *vec = testutil_load_vector("lot-index.json");
    lt_net net;
    char *dir;
    ledger *led = fresh(&net, &dir);
    size_t b;
    json_t *blk;
    uint64_t size = 0;
    /* The store started its membership chain with its own genesis; start
     * it again with the vectors' stand-in genesis hash. */
    uint8_t genesis_hash[32];
    unhex32(json_string_value(json_object_get(vec, "genesis_hash")),
            genesis_hash);
    MDB_txn *seed_txn;
    assert_int_equal(ledger_txn_begin(led, 0, &seed_txn), 0);
    assert_int_equal(lotindex_seed(led, seed_txn, genesis_hash), 0);
    assert_int_equal(mdb_txn_commit(seed_txn), 0);
    json_array_foreach(json_object_get(vec, "blocks"), b, blk)
    {
        add_ctx a = {.entries = json_object_get(blk, "entries")};
        a.tree_size = size =
            (uint64_t)json_integer_value(json_object_get(blk, "tree_size"));
        MDB_txn *txn;
        assert_int_equal(ledger_txn_begin(led, 0, &txn), 0);
        assert_int_equal(add_block(led, txn, &a), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        lotindex_batch_free(&a.batch);
        uint8_t root[32], want[32];
        assert_int_equal(ledger_lot_index_root(led, NULL, size, root), 0);
        unhex32(json_string_value(json_object_get(blk, "index_root")), want);
        assert_memory_equal(root, want, 32);
    }
    uint8_t root[32];
    assert_int_equal(ledger_lot_index_root(led, NULL, size, root), 0);
    size_t q;
    json_t *pv;
    int ends_seen = 0;
    json_array_foreach(json_object_get(vec, "proofs"), q, pv)
    {
        const char *lot = json_string_value(json_object_get(pv, "lot"));
        int role = role_of(json_object_get(pv, "role"));
        json_t *want = json_object_get(pv, "proof");
        uint8_t key[32], k2[32];
        lotindex_key(role, lot, strlen(lot), key);
        unhex32(json_string_value(json_object_get(pv, "key")), k2);
        assert_memory_equal(key, k2, 32);
        lotindex_proof p;
        assert_int_equal(
            ledger_lot_index_prove(led, NULL, size, lot, strlen(lot), role, &p),
            0);
        json_t *sibs = json_object_get(want, "siblings");
        assert_int_equal(p.depth, json_array_size(sibs));
        for (unsigned i = 0; i < p.depth; i++) {
            uint8_t s[32];
            unb64_32(json_string_value(json_array_get(sibs, i)), s);
            assert_memory_equal(p.siblings[i], s, 32);
        }
        const char *end = json_string_value(json_object_get(want, "end"));
        int want_end = !strcmp(end, "empty")  ? LOTINDEX_END_EMPTY
                       : !strcmp(end, "leaf") ? LOTINDEX_END_LEAF
                                              : LOTINDEX_END_OTHER;
        assert_int_equal(p.end, want_end);
        ends_seen |= 1 << want_end;
        if (want_end != LOTINDEX_END_EMPTY) {
            uint8_t h[32];
            assert_int_equal(
                p.count, json_integer_value(json_object_get(want, "count")));
            unb64_32(json_string_value(json_object_get(want, "head")), h);
            assert_memory_equal(p.head, h, 32);
        }
        if (want_end == LOTINDEX_END_OTHER) {
            uint8_t o[32];
            unb64_32(json_string_value(json_object_get(want, "other_key")), o);
            assert_memory_equal(p.other_key, o, 32);
        }
        uint64_t count;
        uint8_t head[32];
        assert_int_equal(lotindex_proof_verify(&p, key, root, &count, head), 0);
        assert_int_equal(count, want_end == LOTINDEX_END_LEAF ? p.count : 0);
    }
    assert_int_equal(ends_seen, 7); /* all three ends are in the vectors */
    /* The index note. */
    json_t *note = json_object_get(vec, "note");
    uint8_t log_root[32], index_root[32];
    unhex32(json_string_value(json_object_get(note, "log_root")), log_root);
    unhex32(json_string_value(json_object_get(note, "index_root")), index_root);
    char *body;
    size_t len;
    assert_int_equal(
        lotindex_note_body(
            json_string_value(json_object_get(note, "origin")),
            (uint64_t)json_integer_value(json_object_get(note, "tree_size")),
            log_root, index_root, &body, &len),
        0);
    assert_string_equal(body, json_string_value(json_object_get(note, "body")));
    char origin[256];
    uint64_t got_size;
    uint8_t a[32], c[32];
    assert_int_equal(
        lotindex_note_parse(body, len, origin, sizeof(origin), &got_size, a, c),
        0);
    assert_memory_equal(c, index_root, 32);
    /* One spelling only: a leading zero, a missing line, a trailing one. */
    char bad[512];
    snprintf(bad, sizeof(bad), "origo lot index v1\n%s\n0%s", origin,
             strchr(strchr(body, '\n') + 1, '\n') + 1);
    assert_int_equal(lotindex_note_parse(bad, strlen(bad), origin,
                                         sizeof(origin), &got_size, a, c),
                     ORIGO_E_NOTE_FORMAT);
    assert_int_equal(lotindex_note_parse(body, len - 1, origin, sizeof(origin),
                                         &got_size, a, c),
                     ORIGO_E_NOTE_FORMAT);
    snprintf(bad, sizeof(bad), "%sx\n", body);
    assert_int_equal(lotindex_note_parse(bad, strlen(bad), origin,
                                         sizeof(origin), &got_size, a, c),
                     ORIGO_E_NOTE_FORMAT);
    free(body);
    json_decref(vec);
    done(&net, led, dir);
}

/* Builds the vectors' map and returns the proof of (lot, role) and the
 * root at the last block. */
static ledger *vector_map(lt_net *net, char **dir, uint8_t root[32],
                          uint64_t *tree_size)
{
    json_t *vec = testutil_load_vector("lot-index.json");
    ledger *led = fresh(net, dir);
    size_t b;
    json_t *blk;
    uint64_t size = 0;
    json_array_foreach(json_object_get(vec, "blocks"), b, blk)
    {
        add_ctx a = {.entries = json_object_get(blk, "entries")};
        a.tree_size = size =
            (uint64_t)json_integer_value(json_object_get(blk, "tree_size"));
        MDB_txn *txn;
        assert_int_equal(ledger_txn_begin(led, 0, &txn), 0);
        assert_int_equal(add_block(led, txn, &a), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        lotindex_batch_free(&a.batch);
    }
    assert_int_equal(ledger_lot_index_root(led, NULL, size, root), 0);
    *tree_size = size;
    json_decref(vec);
    return led;
}

static void test_cheating_proofs(void **state)
{
    (void)state;
    lt_net net;
    char *dir;
    uint8_t root[32], key[32], head[32];
    uint64_t count, size;
    ledger *led = vector_map(&net, &dir, root, &size);
    lotindex_proof p, q;
    const char *present = "acme/pack/P-1", *absent = "nobody/lot/X";
    assert_int_equal(ledger_lot_index_prove(led, NULL, size, present,
                                            strlen(present), LOTINDEX_CUSTODY,
                                            &p),
                     0);
    lotindex_key(LOTINDEX_CUSTODY, present, strlen(present), key);
    assert_int_equal(lotindex_proof_verify(&p, key, root, &count, head), 0);
    assert_int_equal(count, 2);
    /* One event left out of the chain: count or head not the stored. */
    q = p;
    q.count = 1;
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head),
                     ORIGO_E_PROOF);
    q = p;
    q.head[0] ^= 1;
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head),
                     ORIGO_E_PROOF);
    q = p;
    q.siblings[p.depth - 1][5] ^= 1;
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head),
                     ORIGO_E_PROOF);
    /* Absence claimed for a present key: an empty end, or its own leaf
     * passed off as another key's. */
    q = p;
    q.end = LOTINDEX_END_EMPTY;
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head),
                     ORIGO_E_PROOF);
    q = p;
    q.end = LOTINDEX_END_OTHER;
    memcpy(q.other_key, key, 32);
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head),
                     ORIGO_E_PROOF);
    /* A proof for another key does not prove this one. */
    uint8_t other[32];
    lotindex_key(LOTINDEX_QUALITY, present, strlen(present), other);
    assert_int_equal(lotindex_proof_verify(&p, other, root, &count, head),
                     ORIGO_E_PROOF);
    /* Presence claimed for an absent key. */
    assert_int_equal(ledger_lot_index_prove(led, NULL, size, absent,
                                            strlen(absent), LOTINDEX_CUSTODY,
                                            &q),
                     0);
    lotindex_key(LOTINDEX_CUSTODY, absent, strlen(absent), key);
    assert_int_equal(q.end, LOTINDEX_END_OTHER);
    assert_int_equal(lotindex_proof_verify(&q, key, root, &count, head), 0);
    assert_int_equal(count, 0);
    lotindex_proof r = q;
    r.end = LOTINDEX_END_LEAF;
    assert_int_equal(lotindex_proof_verify(&r, key, root, &count, head),
                     ORIGO_E_PROOF);
    /* Another key's leaf that is not on this key's path. */
    r = q;
    for (unsigned i = 0; i < r.depth; i++)
        if (lotindex_key_bit(r.other_key, i) == lotindex_key_bit(key, i)) {
            r.other_key[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
            break;
        }
    assert_int_equal(lotindex_proof_verify(&r, key, root, &count, head),
                     ORIGO_E_PROOF);
    /* A root of an older tree size does not prove today's chain. */
    uint8_t old_root[32];
    assert_int_equal(ledger_lot_index_root(led, NULL, 4, old_root), 0);
    lotindex_key(LOTINDEX_CUSTODY, present, strlen(present), key);
    assert_int_equal(lotindex_proof_verify(&p, key, old_root, &count, head),
                     ORIGO_E_PROOF);
    /* No block ends at size 3: no root there. */
    assert_int_equal(ledger_lot_index_root(led, NULL, 3, old_root),
                     ORIGO_E_NOTFOUND);
    done(&net, led, dir);
}

/* Real blocks: apply maintains the index, one root per block end, and
 * each chain commits to exactly the events that name the lot in its role. */
static void test_apply_keeps_the_index(void **state)
{
    lt_fixture *f = *state;
    uint8_t made[32], used[32], root[32], head[32], want[32];
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/raw/R-1", f->time,
                  made);
    f->time += 1000;
    uint64_t t_made = f->time, t_used = f->time + 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    lt_block_clear(&f->block);
    const char *in[] = {"acme/raw/R-1"}, *out[] = {"acme/cell/C-1"};
    lt_transform(&f->block, &f->net, LT_SUPPLIER, in, 1, out, 1, f->time, used);
    f->time += 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    assert_int_equal(f->out[0].status, 0);
    lt_block_clear(&f->block);
    ledger_state st;
    assert_int_equal(ledger_get_state(f->led, NULL, &st), 0);
    assert_int_equal(st.tree_size, 2);
    assert_int_equal(ledger_lot_index_root(f->led, NULL, 1, root), 0);
    assert_int_equal(ledger_lot_index_root(f->led, NULL, 2, root), 0);
    struct {
        const char *lot;
        int role;
        uint64_t count;
        const uint8_t *id;
        uint64_t leaf, block_time;
    } want_chains[] = {
        {"acme/raw/R-1", LOTINDEX_OTHER, 1, made, 0, t_made},
        {"acme/raw/R-1", LOTINDEX_OUT, 1, used, 1, t_used},
        {"acme/cell/C-1", LOTINDEX_IN, 1, used, 1, t_used},
        {"acme/raw/R-1", LOTINDEX_IN, 0, NULL, 0, 0},
        {"acme/cell/C-1", LOTINDEX_CUSTODY, 0, NULL, 0, 0},
        {"acme/cell/C-1", LOTINDEX_OTHER, 0, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof(want_chains) / sizeof(want_chains[0]); i++) {
        lotindex_proof p;
        uint8_t key[32];
        uint64_t count;
        const char *lot = want_chains[i].lot;
        assert_int_equal(ledger_lot_index_prove(f->led, NULL, 2, lot,
                                                strlen(lot),
                                                want_chains[i].role, &p),
                         0);
        lotindex_key(want_chains[i].role, lot, strlen(lot), key);
        assert_int_equal(lotindex_proof_verify(&p, key, root, &count, head), 0);
        assert_int_equal(count, want_chains[i].count);
        memset(want, 0, 32);
        if (want_chains[i].id)
            lotindex_chain_step(want, want_chains[i].leaf,
                                want_chains[i].block_time, want_chains[i].id);
        assert_memory_equal(head, want, 32);
    }
    /* At size 1 the transform is not there yet. */
    lotindex_proof p;
    uint8_t key[32], root1[32];
    uint64_t count;
    assert_int_equal(ledger_lot_index_root(f->led, NULL, 1, root1), 0);
    assert_int_equal(ledger_lot_index_prove(f->led, NULL, 1, "acme/raw/R-1", 12,
                                            LOTINDEX_OUT, &p),
                     0);
    lotindex_key(LOTINDEX_OUT, "acme/raw/R-1", 12, key);
    assert_int_equal(lotindex_proof_verify(&p, key, root1, &count, head), 0);
    assert_int_equal(count, 0);
}

/* The places sort gives the order of a plain comparison sort (by key,
 * then count) on both of its paths (one-byte buckets below 2^18 places,
 * two-byte ones from there), with repeated keys whose counts differ,
 * keys that share their first bytes, and the small cases. */
static int cmp_ref(const void *a, const void *b)
{
    const lotindex_place *x = a, *y = b;
    int c = memcmp(x->key, y->key, 32);
    return c ? c : (x->count > y->count) - (x->count < y->count);
}

static void test_places_sort(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 2, 3, 17, 1000, 70000, 300000};
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
        size_t n = sizes[s];
        lotindex_place *a = calloc(n + 1, sizeof(*a));
        lotindex_place *b = calloc(n + 1, sizeof(*b));
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && i % 7 == 0) {
                a[i] = a[i / 2]; /* the same key again, another count */
                a[i].count = i;
                continue;
            }
            for (int k = 0; k < 32; k += 8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                memcpy(a[i].key + k, &x, 8);
            }
            if (i % 5 == 0) /* first two bytes shared with many */
                a[i].key[0] = a[i].key[1] = 0x42;
            a[i].count = x % 1000;
            memcpy(a[i].head, a[i].key, 32);
        }
        memcpy(b, a, n * sizeof(*a));
        lotindex_places_sort(a, n);
        if (n > 1)
            qsort(b, n, sizeof(*b), cmp_ref);
        assert_memory_equal(a, b, n * sizeof(*a) + (n == 0));
        free(a);
        free(b);
    }
}

/* A reopened store has no tree in memory: ledger_lot_index_warm() builds it
 * from the chain records (the node does this before it serves), a second
 * call finds it there, and proofs then need no rebuild. A chain record
 * changed at rest gives another root than the one the store recorded:
 * refused with ORIGO_E_CORRUPT, never served. */
static void test_warm_after_reopen(void **state)
{
    lt_fixture *f = *state;
    const char *lots[] = {"acme/raw/R-1", "acme/raw/R-2", "acme/raw/R-3"};
    for (size_t i = 0; i < 3; i++) {
        lt_lot_create(&f->block, &f->net, LT_SUPPLIER, lots[i], f->time, NULL);
        f->time += 1000;
        lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
        lt_block_clear(&f->block);
    }
    size_t keys = 99;
    assert_int_equal(ledger_lot_index_warm(f->led, &keys), 0);
    assert_int_equal(keys, 0); /* built by the blocks themselves */
    ledger_close(f->led);
    char msg[256];
    ledger_options opts = {.nosync = 1, .map_size = 1u << 20};
    assert_int_equal(ledger_open(f->dir, (const uint8_t *)f->net.genesis_json,
                                 f->net.genesis_len, &opts, &f->led, msg,
                                 sizeof(msg)),
                     0);
    assert_int_equal(ledger_lot_index_warm(f->led, &keys), 0);
    assert_int_equal(keys, 4); /* three lots' "other" chains, the members */
    assert_int_equal(ledger_lot_index_warm(f->led, &keys), 0);
    assert_int_equal(keys, 0);
    uint8_t root[32], key[32], head[32];
    uint64_t count;
    lotindex_proof p;
    assert_int_equal(ledger_lot_index_root(f->led, NULL, 3, root), 0);
    assert_int_equal(ledger_lot_index_prove(f->led, NULL, 3, lots[1],
                                            strlen(lots[1]), LOTINDEX_OTHER,
                                            &p),
                     0);
    lotindex_key(LOTINDEX_OTHER, lots[1], strlen(lots[1]), key);
    assert_int_equal(lotindex_proof_verify(&p, key, root, &count, head), 0);
    assert_int_equal(count, 1);

    /* One chain's count changed at rest. */
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(ledger_txn_begin(f->led, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "lotidx_chains", 0, &dbi), 0);
    uint8_t name[64];
    name[0] = LOTINDEX_OTHER;
    memcpy(name + 1, lots[1], strlen(lots[1]));
    MDB_val k = {1 + strlen(lots[1]), name}, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t changed[40];
    memcpy(changed, v.mv_data, 40);
    changed[7] ^= 2; /* count 1 -> 3 */
    v = (MDB_val){40, changed};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    ledger_close(f->led);
    assert_int_equal(ledger_open(f->dir, (const uint8_t *)f->net.genesis_json,
                                 f->net.genesis_len, &opts, &f->led, msg,
                                 sizeof(msg)),
                     0);
    assert_int_equal(ledger_lot_index_warm(f->led, &keys), ORIGO_E_CORRUPT);
}

/* Validators sign the index note only over the root their own state
 * gives (lot-index.md, "The index note"): a validator signing another
 * index root (a forged map that hides an event), a note of another size,
 * or a member that is no validator is refused; a quorum of honest
 * signatures makes the note the latest. */
static void test_index_note_signatures(void **state)
{
    lt_fixture *f = *state;
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/raw/S-1", f->time,
                  NULL);
    f->time += 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    lt_block_clear(&f->block);
    char *body, line[256], forged[512];
    size_t len;
    assert_int_equal(ledger_lot_index_note_body(f->led, NULL, 1, &body, &len),
                     0);
    /* Another index root at the same size and log root. */
    char origin[256];
    uint64_t size;
    uint8_t log_root[32], index_root[32];
    assert_int_equal(lotindex_note_parse(body, len, origin, sizeof(origin),
                                         &size, log_root, index_root),
                     0);
    index_root[0] ^= 1;
    char *other;
    size_t other_len;
    assert_int_equal(lotindex_note_body(origin, size, log_root, index_root,
                                        &other, &other_len),
                     0);
    lt_sign_checkpoint(&f->net, LT_V1, other, other_len, forged,
                       sizeof(forged));
    assert_int_equal(
        ledger_lot_index_add_signature(f->led, NULL, 1, forged, strlen(forged)),
        ORIGO_E_SIGNATURE);
    /* An honest signature over size 1 offered for size 0. */
    lt_sign_checkpoint(&f->net, LT_V1, body, len, line, sizeof(line));
    assert_int_not_equal(
        ledger_lot_index_add_signature(f->led, NULL, 0, line, strlen(line)), 0);
    /* A member that is no validator. */
    lt_sign_checkpoint(&f->net, LT_SUPPLIER, body, len, forged, sizeof(forged));
    assert_int_equal(
        ledger_lot_index_add_signature(f->led, NULL, 1, forged, strlen(forged)),
        ORIGO_E_PERM);
    char *note;
    size_t note_len;
    assert_int_equal(
        ledger_lot_index_latest(f->led, NULL, &note, &note_len, &size),
        ORIGO_E_NOTFOUND);
    /* Two honest validators: a quorum of three. */
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, len, line, sizeof(line));
        assert_int_equal(
            ledger_lot_index_add_signature(f->led, NULL, 1, line, strlen(line)),
            0);
    }
    assert_int_equal(
        ledger_lot_index_latest(f->led, NULL, &note, &note_len, &size), 0);
    assert_int_equal(size, 1);
    assert_int_equal(strncmp(note, body, len), 0);
    free(note);
    free(other);
    free(body);
}

/* ---- versions in memory ---------------------------------------------- */

enum { V_KEYS = 300, V_STEPS = 160 };

struct vmap {
    uint64_t tree_size;
    uint8_t root[32];
    uint64_t count[V_KEYS];
    uint8_t head[V_KEYS][32];
};

static uint8_t vkeys[V_KEYS][32];

static int cmp_place(const void *a, const void *b)
{
    return memcmp(((const lotindex_place *)a)->key,
                  ((const lotindex_place *)b)->key, 32);
}

/* The root of `map` built from scratch, in a tree of its own. */
static void scratch_root(const struct vmap *map, uint8_t root[32])
{
    lotindex_place all[V_KEYS];
    size_t n = 0;
    for (size_t k = 0; k < V_KEYS; k++) {
        if (map->count[k] == 0)
            continue;
        memcpy(all[n].key, vkeys[k], 32);
        all[n].count = map->count[k];
        memcpy(all[n].head, map->head[k], 32);
        n++;
    }
    qsort(all, n, sizeof(all[0]), cmp_place);
    lotindex_mem *fresh;
    assert_int_equal(lotindex_mem_new(&fresh), 0);
    assert_int_equal(lotindex_mem_rebuild(fresh, 0, all, n, root), 0);
    lotindex_mem_free(fresh);
}

/* Every key of `map` (or a tenth of them, `part` picks which) proven in
 * its version of `m`. */
static void check_version(lotindex_mem *m, const struct vmap *map, int part)
{
    uint8_t root[32], head[32];
    uint64_t count;
    lotindex_proof *proof = malloc(sizeof(*proof));
    assert_non_null(proof);
    scratch_root(map, root);
    assert_memory_equal(root, map->root, 32);
    assert_true(lotindex_mem_has(m, map->tree_size, map->root));
    for (size_t k = 0; k < V_KEYS; k++) {
        if (part >= 0 && (int)(k % 10) != part % 10)
            continue;
        assert_int_equal(
            lotindex_mem_prove(m, map->tree_size, map->root, vkeys[k], proof),
            0);
        assert_int_equal(
            lotindex_proof_verify(proof, vkeys[k], map->root, &count, head), 0);
        assert_int_equal(count, map->count[k]);
        if (count)
            assert_memory_equal(head, map->head[k], 32);
    }
    free(proof);
}

static void test_tree_versions(void **state)
{
    (void)state;
    static struct vmap committed[V_STEPS + 1];
    size_t n_committed = 1;
    uint64_t rng = 0x2545f4914f6cdd1dull;
    for (size_t k = 0; k < V_KEYS; k++) {
        char lot[32];
        snprintf(lot, sizeof(lot), "v/lot/%zu", k);
        lotindex_key(LOTINDEX_IN, lot, strlen(lot), vkeys[k]);
    }
    lotindex_mem *m;
    assert_int_equal(lotindex_mem_new(&m), 0);
    memset(&committed[0], 0, sizeof(committed[0]));
    assert_int_equal(lotindex_mem_rebuild(m, 0, NULL, 0, committed[0].root), 0);
    size_t abandoned = 0;
    for (size_t step = 0; step < V_STEPS; step++) {
        const struct vmap *base = &committed[n_committed - 1];
        struct vmap next = *base;
        next.tree_size = base->tree_size + 1 + step % 3;
        lotindex_place put[20];
        size_t n = 0;
        size_t want = 1 + (size_t)(rng % 20);
        for (size_t i = 0; i < want; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t k = (size_t)(rng % V_KEYS);
            int seen = 0;
            for (size_t j = 0; j < n; j++)
                seen |= !memcmp(put[j].key, vkeys[k], 32);
            if (seen)
                continue;
            next.count[k]++;
            next.head[k][0] = (uint8_t)step;
            next.head[k][1] = (uint8_t)k;
            memcpy(put[n].key, vkeys[k], 32);
            put[n].count = next.count[k];
            memcpy(put[n].head, next.head[k], 32);
            n++;
        }
        qsort(put, n, sizeof(put[0]), cmp_place);
        assert_int_equal(lotindex_mem_update(m, base->tree_size, base->root,
                                             next.tree_size, put, n, next.root),
                         0);
        if (rng % 4 == 0) {
            /* Abandoned: the next update builds on the same base again. */
            abandoned++;
            check_version(m, &next, -1);
            continue;
        }
        committed[n_committed++] = next;
        /* Every version kept, the oldest ones gone. */
        for (size_t v = 0; v < n_committed; v++) {
            if (v + LOTINDEX_MEM_VERSIONS >= n_committed)
                /* All keys of the oldest and the newest kept. */
                check_version(m, &committed[v],
                              v + LOTINDEX_MEM_VERSIONS == n_committed ||
                                      v + 1 == n_committed
                                  ? -1
                                  : (int)(v + step));
            else
                assert_false(lotindex_mem_has(m, committed[v].tree_size,
                                              committed[v].root));
        }
    }
    assert_true(abandoned > 10);
    assert_true(n_committed > LOTINDEX_MEM_VERSIONS + 40);
    lotindex_mem_free(m);
}

/* At a scale where the pools grow while nodes are made (past 2 MB each),
 * the trie is deep and an update visits thousands of subtrees a level:
 * every version's root equals the root of the same map built from
 * scratch, and keys of the newest and an older version prove. */
enum { S_BLOCKS = 8, S_NEW = 9000, S_OLD = 3000 };

static void scale_key(size_t k, uint8_t key[32])
{
    char lot[32];
    snprintf(lot, sizeof(lot), "s/lot/%zu", k);
    lotindex_key(LOTINDEX_OTHER, lot, strlen(lot), key);
}

static void test_tree_at_scale(void **state)
{
    (void)state;
    size_t total = S_BLOCKS * S_NEW;
    lotindex_place *all = calloc(total, sizeof(*all));
    lotindex_place *put = calloc(S_NEW + S_OLD, sizeof(*put));
    uint8_t(*roots)[32] = calloc(S_BLOCKS + 1, 32);
    lotindex_proof *proof = malloc(sizeof(*proof));
    assert_non_null(all);
    assert_non_null(put);
    assert_non_null(roots);
    assert_non_null(proof);
    /* m hashes on two threads (the default), serial on one: the same
     * puts give the same roots; every from-scratch build is serial. */
    lotindex_mem *m, *serial, *fresh;
    uint8_t serial_root[32];
    assert_int_equal(lotindex_mem_new(&m), 0);
    assert_int_equal(lotindex_mem_new(&serial), 0);
    lotindex_mem_set_threads(serial, 1);
    assert_int_equal(lotindex_mem_rebuild(m, 0, NULL, 0, roots[0]), 0);
    assert_int_equal(lotindex_mem_rebuild(serial, 0, NULL, 0, serial_root), 0);
    size_t have = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    for (size_t b = 1; b <= S_BLOCKS; b++) {
        size_t n = 0;
        for (size_t i = 0; i < S_NEW; i++, have++) {
            scale_key(have, all[have].key);
            all[have].count = 1;
            all[have].head[0] = (uint8_t)b;
            put[n++] = all[have];
        }
        /* New values for keys of earlier blocks. */
        for (size_t i = 0; b > 1 && i < S_OLD; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            lotindex_place *old = &all[rng % (have - S_NEW)];
            if (old->head[1] == (uint8_t)b)
                continue; /* already put in this block */
            old->count++;
            old->head[1] = (uint8_t)b;
            put[n++] = *old;
        }
        qsort(put, n, sizeof(*put), cmp_place);
        assert_int_equal(
            lotindex_mem_update(m, b - 1, roots[b - 1], b, put, n, roots[b]),
            0);
        assert_int_equal(lotindex_mem_update(serial, b - 1, roots[b - 1], b,
                                             put, n, serial_root),
                         0);
        assert_memory_equal(serial_root, roots[b], 32);
        lotindex_place *sorted = malloc(have * sizeof(*sorted));
        assert_non_null(sorted);
        memcpy(sorted, all, have * sizeof(*sorted));
        qsort(sorted, have, sizeof(*sorted), cmp_place);
        uint8_t scratch[32];
        assert_int_equal(lotindex_mem_new(&fresh), 0);
        lotindex_mem_set_threads(fresh, 1);
        assert_int_equal(lotindex_mem_rebuild(fresh, 0, sorted, have, scratch),
                         0);
        assert_int_equal(lotindex_mem_hashed_split(fresh), 0);
        lotindex_mem_free(fresh);
        free(sorted);
        assert_memory_equal(scratch, roots[b], 32);
    }
    /* The blocks were large enough for the second thread to hash half of
     * each, and the serial tree never split. */
    assert_int_equal(lotindex_mem_hashed_split(m), S_BLOCKS);
    assert_int_equal(lotindex_mem_hashed_split(serial), 0);
    lotindex_mem_free(serial);
    size_t nodes, leaves, bytes;
    lotindex_mem_stats(m, &nodes, &leaves, &bytes);
    assert_true(bytes > (size_t)8 << 20); /* both pools grew */
    /* Proofs: every 97th key at the newest version; at the first, a key
     * of block 1 proves with its value then, and a later key is absent. */
    uint64_t count;
    uint8_t head[32];
    for (size_t k = 0; k < total; k += 97) {
        assert_int_equal(
            lotindex_mem_prove(m, S_BLOCKS, roots[S_BLOCKS], all[k].key, proof),
            0);
        assert_int_equal(lotindex_proof_verify(proof, all[k].key,
                                               roots[S_BLOCKS], &count, head),
                         0);
        assert_int_equal(count, all[k].count);
        assert_memory_equal(head, all[k].head, 32);
    }
    assert_int_equal(lotindex_mem_prove(m, 1, roots[1], all[5].key, proof), 0);
    assert_int_equal(
        lotindex_proof_verify(proof, all[5].key, roots[1], &count, head), 0);
    assert_int_equal(count, 1);
    assert_int_equal(head[0], 1);
    assert_int_equal(head[1], 0);
    assert_int_equal(
        lotindex_mem_prove(m, 1, roots[1], all[total - 1].key, proof), 0);
    assert_int_equal(lotindex_proof_verify(proof, all[total - 1].key, roots[1],
                                           &count, head),
                     0);
    assert_int_equal(count, 0);
    lotindex_mem_free(m);
    free(proof);
    free(roots);
    free(put);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_cheating_proofs),
        cmocka_unit_test(test_tree_versions),
        cmocka_unit_test(test_tree_at_scale),
        cmocka_unit_test(test_places_sort),
        cmocka_unit_test_setup_teardown(test_warm_after_reopen,
                                        lt_fixture_setup, lt_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_apply_keeps_the_index,
                                        lt_fixture_setup, lt_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_index_note_signatures,
                                        lt_fixture_setup, lt_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
