/* C2SP signed notes, checkpoints and cosignatures: the vector of
 * tests/vectors/signed-note.json verifies and is reproduced byte for byte,
 * every single-bit change of it is rejected, the quorum rules hold (unknown
 * keys ignored, duplicates counted once, K of N), witnesses' cosignatures
 * verify, and malformed notes and checkpoints are rejected with the right
 * code. */
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
#include "origo/merkle.h"
#include "origo/note.h"
#include "testutil.h"

/* A signing identity made from a one-byte seed pattern. */
typedef struct signer {
    char name[64];
    unsigned char pk[32], sk[64];
    origo_vkey vkey;
    origo_witness_key wkey;
} signer;

static void signer_make(signer *s, const char *name, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof(seed));
    snprintf(s->name, sizeof(s->name), "%s", name);
    assert_int_equal(crypto_sign_seed_keypair(s->pk, s->sk, seed), 0);
    char text[ORIGO_VKEY_MAX + 1];
    size_t len = 0;
    assert_int_equal(
        origo_vkey_format(name, strlen(name), s->pk, text, sizeof(text), &len),
        0);
    assert_int_equal(origo_vkey_parse(text, len, &s->vkey), 0);
    assert_int_equal(
        origo_witness_key_from_pub(name, strlen(name), s->pk, &s->wkey), 0);
}

static const char *vector_string(json_t *root, const char *key)
{
    const char *value = json_string_value(json_object_get(root, key));
    assert_non_null(value);
    return value;
}

static int parse_str(const char *text, origo_note **out)
{
    return origo_note_parse((const uint8_t *)text, strlen(text), out);
}

static void format_equals(const origo_note *note, const char *expect)
{
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    assert_int_equal(origo_note_format(note, &buf), 0);
    assert_int_equal(buf.len, strlen(expect));
    assert_memory_equal(buf.data, expect, buf.len);
    origo_buf_close(&buf);
}

/* ---- the vector ---------------------------------------------------------- */

typedef struct vector {
    json_t *root;
    const char *body, *note_text, *name;
    unsigned char pk[32], sk[64];
    origo_vkey vkey;
} vector;

static void vector_load(vector *v)
{
    v->root = testutil_load_vector("signed-note.json");
    v->body = vector_string(v->root, "checkpoint_body");
    v->note_text = vector_string(v->root, "signed_note");
    v->name = vector_string(v->root, "key_name");
    uint8_t seed[32], pk[32];
    assert_int_equal(
        testutil_unhex(vector_string(v->root, "seed_hex"), seed, 32), 32);
    assert_int_equal(
        testutil_unhex(vector_string(v->root, "public_key_hex"), pk, 32), 32);
    assert_int_equal(crypto_sign_seed_keypair(v->pk, v->sk, seed), 0);
    assert_memory_equal(v->pk, pk, 32);
    const char *vk = vector_string(v->root, "verifier_key");
    assert_int_equal(origo_vkey_parse(vk, strlen(vk), &v->vkey), 0);
}

static void vector_verifies_and_is_reproduced(void **state)
{
    (void)state;
    vector v;
    vector_load(&v);
    /* Key ID from the name, algorithm byte and key. */
    uint8_t key_id[4], expect_id[4];
    assert_int_equal(
        testutil_unhex(vector_string(v.root, "key_id_hex"), expect_id, 4), 4);
    origo_note_key_id(v.name, strlen(v.name), ORIGO_NOTE_ALG_ED25519, v.pk,
                      key_id);
    assert_memory_equal(key_id, expect_id, 4);
    assert_memory_equal(v.vkey.key_id, expect_id, 4);

    /* Parse and verify the independent implementation's note. */
    origo_note *note = NULL;
    assert_int_equal(parse_str(v.note_text, &note), 0);
    assert_int_equal(note->text_len, strlen(v.body));
    assert_memory_equal(note->text, v.body, note->text_len);
    assert_int_equal(note->sig_count, 1);
    assert_string_equal(note->sigs[0].name, v.name);
    origo_note_policy policy = {.signers = &v.vkey, .signer_count = 1};
    origo_note_verdict verdict;
    assert_int_equal(origo_note_verify(note, &policy, &verdict), 0);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verdict.quorum, 1);
    format_equals(note, v.note_text);
    origo_note_free(note);

    /* Sign the body ourselves: Ed25519 is deterministic, so the bytes are
     * identical. */
    assert_int_equal(origo_note_new(v.body, strlen(v.body), &note), 0);
    assert_int_equal(origo_note_sign(note, v.name, v.sk), 0);
    format_equals(note, v.note_text);
    origo_note_free(note);

    /* The checkpoint inside is the 70-leaf tree of merkle.json. */
    origo_checkpoint cp;
    assert_int_equal(origo_checkpoint_parse(v.body, strlen(v.body), &cp), 0);
    assert_string_equal(cp.origin, "origo.example/network-1");
    assert_true(cp.tree_size == 70);
    json_t *merkle = testutil_load_vector("merkle.json");
    uint8_t root70[32];
    assert_int_equal(
        testutil_unhex(json_string_value(json_object_get(
                           json_object_get(merkle, "roots_by_size"), "70")),
                       root70, 32),
        32);
    assert_memory_equal(cp.root, root70, 32);
    json_decref(merkle);

    origo_checkpoint opened;
    assert_int_equal(origo_checkpoint_open(
                         (const uint8_t *)v.note_text, strlen(v.note_text),
                         &policy, "origo.example/network-1", &opened, &note),
                     0);
    assert_true(opened.tree_size == 70);
    origo_note_free(note);
    note = NULL;
    assert_int_equal(origo_checkpoint_open(
                         (const uint8_t *)v.note_text, strlen(v.note_text),
                         &policy, "origo.example/network-2", &opened, &note),
                     ORIGO_E_ORIGIN);
    assert_null(note);
    json_decref(v.root);
}

/* Parses and verifies raw bytes; 0 only when both succeed. */
static int parse_and_verify(const uint8_t *data, size_t len,
                            const origo_note_policy *policy)
{
    origo_note *note = NULL;
    int rc = origo_note_parse(data, len, &note);
    if (rc != 0)
        return rc;
    rc = origo_note_verify(note, policy, NULL);
    origo_note_free(note);
    return rc;
}

static void vector_every_bit_flip_rejected(void **state)
{
    (void)state;
    vector v;
    vector_load(&v);
    origo_note_policy policy = {.signers = &v.vkey, .signer_count = 1};
    size_t len = strlen(v.note_text);
    uint8_t *bytes = malloc(len);
    assert_non_null(bytes);
    memcpy(bytes, v.note_text, len);
    assert_int_equal(parse_and_verify(bytes, len, &policy), 0);
    /* Every bit of the serialized note: body, separator, name, base64. */
    for (size_t bit = 0; bit < len * 8; bit++) {
        bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(parse_and_verify(bytes, len, &policy), 0);
        bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Every bit of the decoded signature and key ID, and of the text. */
    origo_note *note = NULL;
    assert_int_equal(parse_str(v.note_text, &note), 0);
    for (size_t bit = 0; bit < 64 * 8; bit++) {
        note->sigs[0].sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(origo_note_verify(note, &policy, NULL),
                         ORIGO_E_SIGNATURE);
        note->sigs[0].sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 32; bit++) {
        note->sigs[0].key_id[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        /* Another key ID names an unknown key: ignored, so no quorum. */
        assert_int_equal(origo_note_verify(note, &policy, NULL),
                         ORIGO_E_NOTE_QUORUM);
        note->sigs[0].key_id[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < note->text_len * 8; bit++) {
        note->text[bit / 8] ^= (char)(1u << (bit % 8));
        assert_int_equal(origo_note_verify(note, &policy, NULL),
                         ORIGO_E_SIGNATURE);
        note->text[bit / 8] ^= (char)(1u << (bit % 8));
    }
    /* A truncated signature is a failure of a known key too. */
    note->sigs[0].sig_len = 63;
    assert_int_equal(origo_note_verify(note, &policy, NULL), ORIGO_E_SIGNATURE);
    note->sigs[0].sig_len = 64;
    assert_int_equal(origo_note_verify(note, &policy, NULL), 0);
    origo_note_free(note);
    free(bytes);
    json_decref(v.root);
}

/* ---- quorum ----------------------------------------------------------------
 */

static const char BODY[] = "origo.test/quorum\n5\n"
                           "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

static origo_note *signed_by(signer **signers, size_t count)
{
    origo_note *note = NULL;
    assert_int_equal(origo_note_new(BODY, strlen(BODY), &note), 0);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(
            origo_note_sign(note, signers[i]->name, signers[i]->sk), 0);
    return note;
}

static int verify_with(origo_note *note, const origo_vkey *keys, size_t count,
                       size_t quorum, origo_note_verdict *verdict)
{
    origo_note_policy policy = {
        .signers = keys, .signer_count = count, .quorum = quorum};
    return origo_note_verify(note, &policy, verdict);
}

static void quorum_counts_distinct_trusted_keys(void **state)
{
    (void)state;
    signer a, b, c, stranger, impostor;
    signer_make(&a, "validator-a.origo.test", 0xa1);
    signer_make(&b, "validator-b.origo.test", 0xb2);
    signer_make(&c, "validator-c.origo.test", 0xc3);
    signer_make(&stranger, "stranger.example", 0x55);
    /* Same name as a, another key: a different key ID, so an unknown key. */
    signer_make(&impostor, "validator-a.origo.test", 0x66);
    origo_vkey trust[3] = {a.vkey, b.vkey, c.vkey};
    origo_note_verdict verdict;

    signer *one[] = {&a};
    origo_note *note = signed_by(one, 1);
    assert_int_equal(verify_with(note, trust, 3, 0, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verdict.quorum, 2); /* majority of 3 */
    assert_int_equal(verify_with(note, trust, 3, 1, NULL), 0);
    origo_note_free(note);

    signer *two[] = {&a, &c};
    note = signed_by(two, 2);
    assert_int_equal(verify_with(note, trust, 3, 0, &verdict), 0);
    assert_int_equal(verdict.signers, 2);
    assert_int_equal(verify_with(note, trust, 3, 3, NULL), ORIGO_E_NOTE_QUORUM);
    origo_note_free(note);

    /* The same key signing twice counts once. */
    signer *twice[] = {&a, &a};
    note = signed_by(twice, 2);
    assert_int_equal(note->sig_count, 2);
    assert_int_equal(verify_with(note, trust, 3, 0, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.signers, 1);
    origo_note_free(note);

    /* Unknown keys, including one sharing a trusted name, are ignored. */
    signer *strangers[] = {&stranger, &impostor, &b, &stranger};
    note = signed_by(strangers, 4);
    assert_int_equal(verify_with(note, trust, 3, 0, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verify_with(note, trust, 3, 1, NULL), 0);
    assert_int_equal(origo_note_sign(note, c.name, c.sk), 0);
    assert_int_equal(verify_with(note, trust, 3, 0, &verdict), 0);
    assert_int_equal(verdict.signers, 2);
    origo_note_free(note);

    /* All three of three. */
    signer *all[] = {&c, &b, &a};
    note = signed_by(all, 3);
    assert_int_equal(verify_with(note, trust, 3, 3, &verdict), 0);
    assert_int_equal(verdict.signers, 3);

    /* A trust list naming a key twice counts it once: [a, a, b] has two
     * distinct keys, majority 2, and K = 3 is impossible. */
    origo_vkey dup[3] = {a.vkey, a.vkey, b.vkey};
    assert_int_equal(verify_with(note, dup, 3, 0, &verdict), 0);
    assert_int_equal(verdict.signers, 2);
    assert_int_equal(verdict.quorum, 2);
    assert_int_equal(verify_with(note, dup, 3, 3, NULL), ORIGO_E_INVAL);
    assert_int_equal(verify_with(note, trust, 0, 0, NULL), ORIGO_E_INVAL);
    assert_int_equal(verify_with(note, trust, 3, 4, NULL), ORIGO_E_INVAL);

    /* A trusted key whose line does not verify fails the whole note, even
     * when a quorum of others signed. */
    note->sigs[1].sig[10] ^= 1;
    assert_int_equal(verify_with(note, trust, 3, 1, NULL), ORIGO_E_SIGNATURE);
    origo_note_free(note);

    /* One key listed under two names (a renamed validator whose old line
     * stayed in the trust file) is one party: signing under both names
     * does not make a quorum of two, and the default quorum is a majority
     * of the two distinct keys. */
    signer renamed;
    signer_make(&renamed, "validator-a-renamed.origo.test", 0xa1);
    origo_vkey aliased[3] = {a.vkey, renamed.vkey, b.vkey};
    signer *both_names[] = {&a, &renamed};
    note = signed_by(both_names, 2);
    assert_int_equal(verify_with(note, aliased, 3, 2, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verify_with(note, aliased, 3, 0, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.quorum, 2);
    assert_int_equal(origo_note_sign(note, b.name, b.sk), 0);
    assert_int_equal(verify_with(note, aliased, 3, 2, &verdict), 0);
    assert_int_equal(verdict.signers, 2);
    origo_note_free(note);

    /* Only unknown keys: no signer at all. */
    signer *nobody[] = {&stranger};
    note = signed_by(nobody, 1);
    assert_int_equal(verify_with(note, trust, 3, 1, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.signers, 0);
    origo_note_free(note);
}

static void signatures_gathered_from_peers_combine(void **state)
{
    (void)state;
    signer a, b, c;
    signer_make(&a, "validator-a.origo.test", 0xa1);
    signer_make(&b, "validator-b.origo.test", 0xb2);
    signer_make(&c, "validator-c.origo.test", 0xc3);
    origo_vkey trust[3] = {a.vkey, b.vkey, c.vkey};
    origo_note_sig sig_b, sig_c;
    assert_int_equal(
        origo_note_sign_text(BODY, strlen(BODY), b.name, b.sk, &sig_b), 0);
    assert_int_equal(
        origo_note_sign_text(BODY, strlen(BODY), c.name, c.sk, &sig_c), 0);
    origo_note *note = NULL;
    assert_int_equal(origo_note_new(BODY, strlen(BODY), &note), 0);
    assert_int_equal(origo_note_add_sig(note, &sig_b), 0);
    assert_int_equal(origo_note_add_sig(note, &sig_c), 0);
    assert_int_equal(verify_with(note, trust, 3, 0, NULL), 0);
    /* Round trip of a multi-signature note. */
    origo_buf buf;
    origo_buf_init(&buf, 1 << 16);
    assert_int_equal(origo_note_format(note, &buf), 0);
    origo_note *again = NULL;
    assert_int_equal(origo_note_parse(buf.data, buf.len, &again), 0);
    assert_int_equal(again->sig_count, 2);
    assert_int_equal(verify_with(again, trust, 3, 2, NULL), 0);
    origo_note_free(again);
    origo_buf_close(&buf);
    /* Bad names are refused when signing. */
    assert_int_equal(origo_note_sign(note, "has space", a.sk), ORIGO_E_VKEY);
    assert_int_equal(origo_note_sign(note, "has+plus", a.sk), ORIGO_E_VKEY);
    assert_int_equal(origo_note_sign(note, "", a.sk), ORIGO_E_VKEY);
    origo_note_free(note);
}

/* Signed-note v1.0.0 warns that post-quantum signatures are nearly 5 kB: a
 * note carrying such lines from unknown keys still parses, round-trips and
 * verifies on its trusted Ed25519 signature. */
static void long_unknown_signatures_are_kept_and_ignored(void **state)
{
    (void)state;
    signer a;
    signer_make(&a, "validator-a.origo.test", 0xa1);
    signer *one[] = {&a};
    origo_note *note = signed_by(one, 1);
    origo_note_sig pq;
    memset(&pq, 0, sizeof(pq));
    snprintf(pq.name, sizeof(pq.name), "pq.example/log");
    memcpy(pq.key_id, "\xde\xad\xbe\xef", 4);
    pq.sig_len = 4627; /* an ML-DSA-87 signature */
    for (size_t i = 0; i < pq.sig_len; i++)
        pq.sig[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 15; i++)
        assert_int_equal(origo_note_add_sig(note, &pq), 0);
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    assert_int_equal(origo_note_format(note, &buf), 0);
    assert_true(buf.len > 15 * 6000);
    origo_note *parsed = NULL;
    assert_int_equal(origo_note_parse(buf.data, buf.len, &parsed), 0);
    assert_int_equal(parsed->sig_count, 16);
    assert_int_equal(parsed->sigs[3].sig_len, 4627);
    assert_int_equal(verify_with(parsed, &a.vkey, 1, 0, NULL), 0);
    origo_note_free(parsed);
    origo_buf_close(&buf);
    /* One byte past the limit is refused. */
    pq.sig_len = ORIGO_NOTE_MAX_SIG_LEN + 1;
    assert_int_equal(origo_note_add_sig(note, &pq), ORIGO_E_NOTE_FORMAT);
    origo_note_free(note);
    static const char head[] = "x\n\n\xe2\x80\x94 a ";
    size_t b64_len = (4 + ORIGO_NOTE_MAX_SIG_LEN + 1 + 2) / 3 * 4;
    char *text = malloc(sizeof(head) + b64_len + 1);
    assert_non_null(text);
    memcpy(text, head, sizeof(head) - 1);
    memset(text + sizeof(head) - 1, 'A', b64_len);
    text[sizeof(head) - 1 + b64_len] = '\n';
    assert_int_equal(
        origo_note_parse((uint8_t *)text, sizeof(head) + b64_len, &parsed),
        ORIGO_E_TOOBIG);
    free(text);
}

/* ---- cosignatures ----------------------------------------------------------
 */

static void witness_cosignatures_verify(void **state)
{
    (void)state;
    signer a, w1, w2;
    signer_make(&a, "validator-a.origo.test", 0xa1);
    signer_make(&w1, "witness-1.example", 0x71);
    signer_make(&w2, "witness-2.example", 0x72);
    signer *one[] = {&a};
    origo_note *note = signed_by(one, 1);
    assert_int_equal(origo_note_cosign(note, w1.name, w1.sk, 1700000000), 0);
    assert_int_equal(origo_note_cosign(note, w2.name, w2.sk, 1700000100), 0);
    assert_int_equal(note->sig_count, 3);
    assert_int_equal(note->sigs[1].sig_len, 72);
    uint64_t timestamp = 0;
    uint8_t ed_sig[64];
    assert_int_equal(origo_cosig_decode(&note->sigs[1], &timestamp, ed_sig), 0);
    assert_true(timestamp == 1700000000);
    /* The key ID commits to type 0x04. */
    assert_memory_equal(note->sigs[1].key_id, w1.wkey.key_id, 4);
    assert_memory_not_equal(w1.wkey.key_id, w1.vkey.key_id, 4);

    origo_witness_key witnesses[2] = {w1.wkey, w2.wkey};
    origo_note_policy policy = {.signers = &a.vkey,
                                .signer_count = 1,
                                .witnesses = witnesses,
                                .witness_count = 2,
                                .witness_quorum = 2};
    origo_note_verdict verdict;
    assert_int_equal(origo_note_verify(note, &policy, &verdict), 0);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verdict.witnesses, 2);
    assert_true(verdict.latest_cosign == 1700000100);

    /* Without witness keys in the policy the cosignatures are ignored. */
    origo_note_policy plain = {.signers = &a.vkey, .signer_count = 1};
    assert_int_equal(origo_note_verify(note, &plain, &verdict), 0);
    assert_int_equal(verdict.witnesses, 0);

    /* A witness's 0x04 key does not count as a signer key, even with the
     * same name and Ed25519 key as a trusted signer. */
    origo_note_policy as_signer = {.signers = &w1.vkey, .signer_count = 1};
    assert_int_equal(origo_note_verify(note, &as_signer, &verdict),
                     ORIGO_E_NOTE_QUORUM);

    /* A changed timestamp breaks the cosignature. */
    note->sigs[2].sig[7] ^= 1;
    assert_int_equal(origo_note_verify(note, &policy, NULL), ORIGO_E_SIGNATURE);
    note->sigs[2].sig[7] ^= 1;
    /* Missing witness: quorum of witnesses not met. */
    note->sig_count = 2;
    assert_int_equal(origo_note_verify(note, &policy, &verdict),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verdict.witnesses, 1);
    note->sig_count = 3;

    /* Cosigning requires a checkpoint body. */
    origo_note *plain_note = NULL;
    assert_int_equal(origo_note_new("hello\n", 6, &plain_note), 0);
    assert_int_equal(origo_note_cosign(plain_note, w1.name, w1.sk, 1),
                     ORIGO_E_CHECKPOINT);
    origo_note_free(plain_note);

    /* Witness verifier keys round-trip through their string form. */
    char text[ORIGO_VKEY_MAX + 1];
    size_t len = 0;
    assert_int_equal(
        origo_witness_key_format(&w1.wkey, text, sizeof(text), &len), 0);
    origo_witness_key parsed;
    assert_int_equal(origo_witness_key_parse(text, len, &parsed), 0);
    assert_memory_equal(&parsed, &w1.wkey, sizeof(parsed));
    /* A 0x01 verifier key is not a witness key, and vice versa. */
    char vtext[ORIGO_VKEY_MAX + 1];
    size_t vlen = 0;
    assert_int_equal(origo_vkey_format(w1.name, strlen(w1.name), w1.pk, vtext,
                                       sizeof(vtext), &vlen),
                     0);
    assert_int_equal(origo_witness_key_parse(vtext, vlen, &parsed),
                     ORIGO_E_VKEY);
    origo_vkey vparsed;
    assert_int_not_equal(origo_vkey_parse(text, len, &vparsed), 0);
    text[len - 3] ^= 1; /* a changed key no longer matches its key ID */
    assert_int_equal(origo_witness_key_parse(text, len, &parsed), ORIGO_E_VKEY);
    origo_note_free(note);
}

/* ---- malformed notes --------------------------------------------------------
 */

#define SIG_B64                                                                \
    "AyeYynclIc2OcFTzLkKcD3q31DS2Upz4J/8GQhxAnVYyMdtol/"                       \
    "YiZMRLv21fw3G34JqBcvZIb2pZjxXEOgTZrkyGQgg="
#define GOOD_SIG "\xe2\x80\x94 origo.example/network-1 " SIG_B64 "\n"

static void malformed_notes_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *text;
        int expect;
    } cases[] = {
        {"no blank line", "hello\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"no signatures", "hello\n\n", ORIGO_E_NOTE_NO_SIG},
        {"no final newline", "hello\n\n\xe2\x80\x94 a " SIG_B64,
         ORIGO_E_NOTE_FORMAT},
        {"CR in text", "hel\rlo\n\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"CRLF lines", "hello\r\n\r\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"tab in text", "hel\tlo\n\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"invalid UTF-8", "hel\xfflo\n\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"overlong UTF-8", "hel\xc0\xafo\n\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"UTF-16 surrogate", "hel\xed\xa0\x80o\n\n" GOOD_SIG,
         ORIGO_E_NOTE_FORMAT},
        {"truncated UTF-8", "hello\xe2\x80\n\n" GOOD_SIG, ORIGO_E_NOTE_FORMAT},
        {"hyphen instead of em dash", "hello\n\n- a " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"em dash without space",
         "hello\n\n\xe2\x80\x94"
         "a " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"empty key name", "hello\n\n\xe2\x80\x94  " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"plus in key name", "hello\n\n\xe2\x80\x94 a+b " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"no-break space in key name",
         "hello\n\n\xe2\x80\x94 a\xc2\xa0"
         "b " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"ideographic space in key name",
         "hello\n\n\xe2\x80\x94 a\xe3\x80\x80"
         "b " SIG_B64 "\n",
         ORIGO_E_NOTE_FORMAT},
        {"no signature after name", "hello\n\n\xe2\x80\x94 a\n",
         ORIGO_E_NOTE_FORMAT},
        {"two spaces before signature",
         "hello\n\n\xe2\x80\x94 a  " SIG_B64 "\n", ORIGO_E_NOTE_FORMAT},
        {"trailing space", "hello\n\n\xe2\x80\x94 a " SIG_B64 " \n",
         ORIGO_E_NOTE_FORMAT},
        {"base64 without padding", "hello\n\n\xe2\x80\x94 a AAAAAAA\n",
         ORIGO_E_NOTE_FORMAT},
        {"base64 with stray bits", "hello\n\n\xe2\x80\x94 a AAAAAAB=\n",
         ORIGO_E_NOTE_FORMAT},
        {"URL-safe base64", "hello\n\n\xe2\x80\x94 a AAAA_-8=\n",
         ORIGO_E_NOTE_FORMAT},
        {"only a key ID", "hello\n\n\xe2\x80\x94 a AAAAAA==\n",
         ORIGO_E_NOTE_FORMAT},
        {"non-signature line after signatures",
         "hello\n\n" GOOD_SIG "not a signature\n", ORIGO_E_NOTE_FORMAT},
        {"NUL byte", "hello\n\n" GOOD_SIG, 0}, /* patched below */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        origo_note *note = NULL;
        size_t len = strlen(cases[i].text);
        uint8_t *copy = malloc(len + 1);
        assert_non_null(copy);
        memcpy(copy, cases[i].text, len);
        int expect = cases[i].expect;
        if (expect == 0) { /* the NUL case */
            copy[2] = '\0';
            expect = ORIGO_E_NOTE_FORMAT;
        }
        int rc = origo_note_parse(copy, len, &note);
        if (rc != expect)
            print_error("case '%s': got %d want %d\n", cases[i].what, rc,
                        expect);
        assert_int_equal(rc, expect);
        assert_null(note);
        free(copy);
    }
}

static void note_limits_enforced(void **state)
{
    (void)state;
    signer a;
    signer_make(&a, "a", 0x01);
    origo_note *note = NULL;
    assert_int_equal(origo_note_new("x\n", 2, &note), 0);
    for (int i = 0; i < ORIGO_NOTE_MAX_SIGS; i++)
        assert_int_equal(origo_note_sign(note, "a", a.sk), 0);
    assert_int_equal(origo_note_sign(note, "a", a.sk), ORIGO_E_TOOBIG);
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    assert_int_equal(origo_note_format(note, &buf), 0);
    origo_note *parsed = NULL;
    assert_int_equal(origo_note_parse(buf.data, buf.len, &parsed), 0);
    assert_int_equal(parsed->sig_count, ORIGO_NOTE_MAX_SIGS);
    origo_note_free(parsed);
    /* One signature line more than the limit. */
    origo_buf_append(&buf, "", 1); /* NUL, for the string search */
    buf.len--;
    const char *line = strstr((const char *)buf.data, "\xe2\x80\x94");
    assert_non_null(line);
    char copy[512];
    size_t line_len = (size_t)(strchr(line, '\n') + 1 - line);
    assert_true(line_len < sizeof(copy));
    memcpy(copy, line, line_len);
    origo_buf_append(&buf, copy, line_len);
    assert_int_equal(origo_note_parse(buf.data, buf.len, &parsed),
                     ORIGO_E_TOOBIG);
    origo_buf_close(&buf);
    origo_note_free(note);

    /* A line longer than ORIGO_NOTE_MAX_LINE, and a note over the size. */
    size_t big = ORIGO_NOTE_MAX_LINE + 2;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'x', big - 1);
    text[big - 1] = '\n';
    assert_int_equal(origo_note_new(text, big, &note), ORIGO_E_TOOBIG);
    assert_int_equal(origo_note_new(text + 1, big - 1, &note), 0);
    origo_note_free(note);
    free(text);
    uint8_t *huge = calloc(ORIGO_NOTE_MAX_BYTES + 1, 1);
    assert_non_null(huge);
    assert_int_equal(origo_note_parse(huge, ORIGO_NOTE_MAX_BYTES + 1, &note),
                     ORIGO_E_TOOBIG);
    free(huge);
    /* Texts that are not notes. */
    assert_int_equal(origo_note_new("", 0, &note), ORIGO_E_NOTE_FORMAT);
    assert_int_equal(origo_note_new("no newline", 10, &note),
                     ORIGO_E_NOTE_FORMAT);
    /* Formatting an unsigned note is refused. */
    assert_int_equal(origo_note_new("x\n", 2, &note), 0);
    origo_buf_init(&buf, 1024);
    assert_int_equal(origo_note_format(note, &buf), ORIGO_E_NOTE_NO_SIG);
    origo_buf_close(&buf);
    origo_note_free(note);
}

static void text_with_empty_lines_splits_at_last_blank_line(void **state)
{
    (void)state;
    signer a;
    signer_make(&a, "a.example", 0x0a);
    static const char text[] = "line one\n\nline three\n\n\nend\n";
    origo_note *note = NULL;
    assert_int_equal(origo_note_new(text, strlen(text), &note), 0);
    assert_int_equal(origo_note_sign(note, a.name, a.sk), 0);
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    assert_int_equal(origo_note_format(note, &buf), 0);
    origo_note *parsed = NULL;
    assert_int_equal(origo_note_parse(buf.data, buf.len, &parsed), 0);
    assert_int_equal(parsed->text_len, strlen(text));
    assert_memory_equal(parsed->text, text, strlen(text));
    assert_int_equal(verify_with(parsed, &a.vkey, 1, 0, NULL), 0);
    origo_note_free(parsed);
    origo_buf_close(&buf);
    origo_note_free(note);
}

/* ---- checkpoints ------------------------------------------------------------
 */

#define ROOT_B64 "UKvK8Sai4WKd30qm3U7wXJMCzREUTdKcYUn8jtkHVl0="

static void checkpoint_bodies_parse_strictly(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *body;
        int ok;
    } cases[] = {
        {"minimal", "o\n0\n" ROOT_B64 "\n", 1},
        {"max size", "o\n18446744073709551615\n" ROOT_B64 "\n", 1},
        {"extensions", "o\n1\n" ROOT_B64 "\nx-ext one\nsecond\n", 1},
        {"origin with spaces (only a SHOULD)", "my log\n1\n" ROOT_B64 "\n", 1},
        {"empty origin", "\n1\n" ROOT_B64 "\n", 0},
        {"leading zero", "o\n01\n" ROOT_B64 "\n", 0},
        {"plus sign", "o\n+1\n" ROOT_B64 "\n", 0},
        {"negative", "o\n-1\n" ROOT_B64 "\n", 0},
        {"overflow", "o\n18446744073709551616\n" ROOT_B64 "\n", 0},
        {"empty size", "o\n\n" ROOT_B64 "\n", 0},
        {"space in size", "o\n 1\n" ROOT_B64 "\n", 0},
        {"short root", "o\n1\nAAAA\n", 0},
        {"root of 33 bytes",
         "o\n1\nUKvK8Sai4WKd30qm3U7wXJMCzREUTdKcYUn8jtkHVl0A\n", 0},
        {"root with stray bits",
         "o\n1\nUKvK8Sai4WKd30qm3U7wXJMCzREUTdKcYUn8jtkHVl1=\n", 0},
        {"missing root", "o\n1\n", 0},
        {"missing final newline", "o\n1\n" ROOT_B64, 0},
        {"empty extension line", "o\n1\n" ROOT_B64 "\n\nx\n", 0},
        {"CR", "o\r\n1\n" ROOT_B64 "\n", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        origo_checkpoint cp;
        const char *body = cases[i].body;
        int rc = origo_checkpoint_parse(body, strlen(body), &cp);
        if ((rc == 0) != cases[i].ok)
            print_error("case '%s': rc %d\n", cases[i].what, rc);
        assert_int_equal(rc, cases[i].ok ? 0 : ORIGO_E_CHECKPOINT);
        if (!cases[i].ok)
            continue;
        origo_buf buf;
        origo_buf_init(&buf, 4096);
        assert_int_equal(origo_checkpoint_format(&cp, &buf), 0);
        assert_int_equal(buf.len, strlen(body));
        assert_memory_equal(buf.data, body, buf.len);
        origo_buf_close(&buf);
    }
    origo_checkpoint cp;
    const char *ext = "o\n1\n" ROOT_B64 "\nx-ext one\nsecond\n";
    assert_int_equal(origo_checkpoint_parse(ext, strlen(ext), &cp), 0);
    assert_int_equal(cp.extensions_len, strlen("x-ext one\nsecond\n"));
    assert_memory_equal(cp.extensions, "x-ext one\nsecond\n",
                        cp.extensions_len);
    /* The formatter refuses what the parser would refuse. */
    origo_buf buf;
    origo_buf_init(&buf, 4096);
    cp.extensions = "bad\n\n";
    cp.extensions_len = 5;
    assert_int_equal(origo_checkpoint_format(&cp, &buf), ORIGO_E_CHECKPOINT);
    cp.extensions = NULL;
    cp.extensions_len = 0;
    cp.origin[0] = '\0';
    assert_int_equal(origo_checkpoint_format(&cp, &buf), ORIGO_E_CHECKPOINT);
    snprintf(cp.origin, sizeof(cp.origin), "two\nlines");
    assert_int_equal(origo_checkpoint_format(&cp, &buf), ORIGO_E_CHECKPOINT);
    origo_buf_close(&buf);
}

/* ---- signing with origo_key ----------------------------------------------
 */

/* A signer and the same identity as an origo_key (secret in sodium
 * memory). */
static origo_key *key_make(signer *s, const char *name, uint8_t seed_byte)
{
    uint8_t seed[32];
    origo_key *key = NULL;
    signer_make(s, name, seed_byte);
    memset(seed, seed_byte, sizeof(seed));
    assert_int_equal(origo_key_from_seed(name, seed, &key), 0);
    assert_memory_equal(origo_key_public(key), s->pk, 32);
    return key;
}

/* The origo_key signers produce the very bytes of the raw-key ones (Ed25519
 * is deterministic), and what they sign verifies. */
static void key_signing_matches_raw_signing_and_verifies(void **state)
{
    (void)state;
    signer a, w;
    origo_key *ka = key_make(&a, "validator-a.origo.test", 0xa1);
    origo_key *kw = key_make(&w, "witness-1.example", 0x71);
    const char *body = "origo.test/notes\n5\n"
                       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    origo_note *by_key = NULL, *by_raw = NULL;
    assert_int_equal(origo_note_new(body, strlen(body), &by_key), 0);
    assert_int_equal(origo_note_new(body, strlen(body), &by_raw), 0);
    assert_int_equal(origo_note_sign_key(by_key, ka), 0);
    assert_int_equal(origo_note_sign(by_raw, a.name, a.sk), 0);
    assert_int_equal(origo_note_cosign_key(by_key, kw, 1700000000), 0);
    assert_int_equal(origo_note_cosign(by_raw, w.name, w.sk, 1700000000), 0);

    origo_buf key_text, raw_text;
    origo_buf_init(&key_text, 1 << 16);
    origo_buf_init(&raw_text, 1 << 16);
    assert_int_equal(origo_note_format(by_key, &key_text), 0);
    assert_int_equal(origo_note_format(by_raw, &raw_text), 0);
    assert_int_equal(key_text.len, raw_text.len);
    assert_memory_equal(key_text.data, raw_text.data, key_text.len);

    origo_note_policy policy = {.signers = &a.vkey,
                                .signer_count = 1,
                                .witnesses = &w.wkey,
                                .witness_count = 1,
                                .witness_quorum = 1};
    origo_note_verdict verdict;
    assert_int_equal(origo_note_verify(by_key, &policy, &verdict), 0);
    assert_int_equal(verdict.signers, 1);
    assert_int_equal(verdict.witnesses, 1);

    /* One signature made apart, formatted as a line, is the note's line. */
    origo_note_sig sig, raw_sig;
    assert_int_equal(origo_note_sign_text_key(body, strlen(body), ka, &sig), 0);
    assert_int_equal(
        origo_note_sign_text(body, strlen(body), a.name, a.sk, &raw_sig), 0);
    assert_string_equal(sig.name, raw_sig.name);
    assert_memory_equal(sig.key_id, raw_sig.key_id, 4);
    assert_int_equal(sig.sig_len, raw_sig.sig_len);
    assert_memory_equal(sig.sig, raw_sig.sig, sig.sig_len);
    origo_buf line;
    origo_buf_init(&line, 1024);
    assert_int_equal(origo_note_sig_format(&sig, &line), 0);
    const char *first_line = (const char *)key_text.data + strlen(body) + 1;
    assert_true(line.len < key_text.len);
    assert_memory_equal(line.data, first_line, line.len);
    assert_int_equal(((const char *)line.data)[line.len - 1], '\n');
    origo_buf_close(&line);

    origo_buf_close(&key_text);
    origo_buf_close(&raw_text);
    origo_note_free(by_key);
    origo_note_free(by_raw);
    origo_key_free(ka);
    origo_key_free(kw);
}

static void key_signing_rejects_bad_arguments(void **state)
{
    (void)state;
    signer a;
    origo_key *ka = key_make(&a, "validator-a.origo.test", 0xa1);
    const char *body = "origo.test/notes\n0\n"
                       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    origo_note *note = NULL;
    origo_note_sig sig;
    assert_int_equal(origo_note_new("plain text\n", 11, &note), 0);
    assert_int_equal(origo_note_sign_key(NULL, ka), ORIGO_E_INVAL);
    assert_int_equal(origo_note_sign_key(note, NULL), ORIGO_E_INVAL);
    assert_int_equal(origo_note_sign_text_key(NULL, 0, ka, &sig),
                     ORIGO_E_INVAL);
    assert_int_equal(origo_note_sign_text_key(body, 1, ka, NULL),
                     ORIGO_E_INVAL);
    /* A cosignature is only over a checkpoint. */
    assert_int_equal(origo_note_cosign_key(note, ka, 1), ORIGO_E_CHECKPOINT);
    assert_int_equal(note->sig_count, 0);

    /* A line is only formatted for a signature a note could hold. */
    origo_buf line;
    origo_buf_init(&line, 1024);
    assert_int_equal(origo_note_sign_text_key(body, strlen(body), ka, &sig), 0);
    origo_note_sig bad = sig;
    bad.sig_len = 0;
    assert_int_equal(origo_note_sig_format(&bad, &line), ORIGO_E_NOTE_FORMAT);
    bad = sig;
    memcpy(bad.name, "two words", 10);
    assert_int_equal(origo_note_sig_format(&bad, &line), ORIGO_E_NOTE_FORMAT);
    assert_int_equal(origo_note_sig_format(NULL, &line), ORIGO_E_INVAL);
    assert_int_equal(line.len, 0);
    origo_buf_close(&line);
    origo_note_free(note);
    origo_key_free(ka);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_verifies_and_is_reproduced),
        cmocka_unit_test(vector_every_bit_flip_rejected),
        cmocka_unit_test(quorum_counts_distinct_trusted_keys),
        cmocka_unit_test(signatures_gathered_from_peers_combine),
        cmocka_unit_test(long_unknown_signatures_are_kept_and_ignored),
        cmocka_unit_test(witness_cosignatures_verify),
        cmocka_unit_test(malformed_notes_rejected),
        cmocka_unit_test(note_limits_enforced),
        cmocka_unit_test(text_with_empty_lines_splits_at_last_blank_line),
        cmocka_unit_test(checkpoint_bodies_parse_strictly),
        cmocka_unit_test(key_signing_matches_raw_signing_and_verifies),
        cmocka_unit_test(key_signing_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
