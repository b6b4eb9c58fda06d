/* tlog-proof@v1 files: proofs built from a real tree and a quorum-signed
 * checkpoint parse, format back to the same bytes and verify; every
 * single-bit change of a file is rejected; named tamper cases fail with the
 * right code; malformed files are refused by the parser. */
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
#include "origo/proof.h"
#include "testutil.h"

#define ORIGIN "origo.test/proofs"
#define LEAVES 37

typedef struct signer {
    const char *name;
    unsigned char pk[32], sk[64];
    origo_vkey vkey;
} signer;

typedef struct fixture {
    signer validators[3];
    signer stranger;
    unsigned char witness_pk[32], witness_sk[64];
    origo_witness_key witness;
    origo_merkle_tree *tree;
    uint8_t leaves[LEAVES][48];
    size_t leaf_len[LEAVES];
    origo_vkey trust[3];
} fixture;

static void signer_make(signer *s, const char *name, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof(seed));
    s->name = name;
    assert_int_equal(crypto_sign_seed_keypair(s->pk, s->sk, seed), 0);
    char text[ORIGO_VKEY_MAX + 1];
    size_t len = 0;
    assert_int_equal(
        origo_vkey_format(name, strlen(name), s->pk, text, sizeof(text), &len),
        0);
    assert_int_equal(origo_vkey_parse(text, len, &s->vkey), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    signer_make(&f->validators[0], "validator-a.origo.test", 0x11);
    signer_make(&f->validators[1], "validator-b.origo.test", 0x22);
    signer_make(&f->validators[2], "validator-c.origo.test", 0x33);
    signer_make(&f->stranger, "stranger.example", 0x44);
    for (int i = 0; i < 3; i++)
        f->trust[i] = f->validators[i].vkey;
    uint8_t seed[32];
    memset(seed, 0x55, sizeof(seed));
    assert_int_equal(
        crypto_sign_seed_keypair(f->witness_pk, f->witness_sk, seed), 0);
    assert_int_equal(origo_witness_key_from_pub("witness.example", 15,
                                                f->witness_pk, &f->witness),
                     0);
    assert_int_equal(origo_merkle_tree_new(&f->tree), 0);
    for (size_t i = 0; i < LEAVES; i++) {
        /* Stand-ins for envelopes: any bytes, of varying length. */
        f->leaf_len[i] = 8 + i % 40;
        for (size_t j = 0; j < f->leaf_len[i]; j++)
            f->leaves[i][j] = (uint8_t)(i * 31 + j * 7);
        assert_int_equal(
            origo_merkle_tree_append(f->tree, f->leaves[i], f->leaf_len[i]), 0);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    origo_merkle_tree_free(f->tree);
    free(f);
    return 0;
}

/* A checkpoint note over the first `size` leaves signed by the validators
 * whose bit is set in `who` (bit 3: the stranger; bit 4: the witness). */
static origo_note *checkpoint_note(fixture *f, uint64_t size, unsigned who)
{
    origo_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
    cp.tree_size = size;
    assert_int_equal(
        origo_merkle_root(origo_merkle_tree_get_node, f->tree, size, cp.root),
        0);
    origo_buf body;
    origo_buf_init(&body, 4096);
    assert_int_equal(origo_checkpoint_format(&cp, &body), 0);
    origo_note *note = NULL;
    assert_int_equal(origo_note_new((const char *)body.data, body.len, &note),
                     0);
    origo_buf_close(&body);
    for (int i = 0; i < 3; i++)
        if (who & (1u << i))
            assert_int_equal(origo_note_sign(note, f->validators[i].name,
                                             f->validators[i].sk),
                             0);
    if (who & 8)
        assert_int_equal(
            origo_note_sign(note, f->stranger.name, f->stranger.sk), 0);
    if (who & 16)
        assert_int_equal(origo_note_cosign(note, "witness.example",
                                           f->witness_sk, 1731000000),
                         0);
    return note;
}

/* Writes the proof file of leaf `index` against a checkpoint of `size`. */
static void proof_file(fixture *f, uint64_t index, uint64_t size, unsigned who,
                       origo_buf *out)
{
    uint8_t hashes[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t count = 0;
    assert_int_equal(origo_merkle_inclusion_proof(
                         origo_merkle_tree_get_node, f->tree, index, size,
                         hashes, ORIGO_MERKLE_MAX_PROOF, &count),
                     0);
    origo_note *note = checkpoint_note(f, size, who);
    origo_buf_init(out, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[index], f->leaf_len[index], index,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                               note, out),
        0);
    origo_note_free(note);
}

static int verify_file(fixture *f, const uint8_t *data, size_t len,
                       size_t quorum)
{
    origo_note_policy policy = {
        .signers = f->trust, .signer_count = 3, .quorum = quorum};
    return origo_tlog_proof_verify(data, len, &policy, ORIGIN, NULL, NULL);
}

static void proofs_round_trip_and_verify(void **state)
{
    fixture *f = *state;
    for (uint64_t size = 1; size <= LEAVES; size += 3) {
        for (uint64_t index = 0; index < size; index++) {
            origo_buf file;
            proof_file(f, index, size, 1 | 4 | 16, &file);
            origo_tlog_proof *proof = NULL;
            assert_int_equal(
                origo_tlog_proof_parse(file.data, file.len, &proof), 0);
            assert_true(proof->index == index);
            assert_true(proof->checkpoint.tree_size == size);
            assert_int_equal(proof->extra_len, f->leaf_len[index]);
            assert_memory_equal(proof->extra, f->leaves[index],
                                proof->extra_len);
            origo_buf again;
            origo_buf_init(&again, 1 << 20);
            assert_int_equal(origo_tlog_proof_format(proof, &again), 0);
            assert_int_equal(again.len, file.len);
            assert_memory_equal(again.data, file.data, file.len);
            origo_buf_close(&again);
            origo_tlog_proof_free(proof);

            origo_witness_key witnesses[1] = {f->witness};
            origo_note_policy policy = {.signers = f->trust,
                                        .signer_count = 3,
                                        .witnesses = witnesses,
                                        .witness_count = 1,
                                        .witness_quorum = 1};
            origo_note_verdict verdict;
            proof = NULL;
            assert_int_equal(origo_tlog_proof_verify(file.data, file.len,
                                                     &policy, ORIGIN, &proof,
                                                     &verdict),
                             0);
            assert_non_null(proof);
            assert_int_equal(verdict.signers, 2);
            assert_int_equal(verdict.witnesses, 1);
            origo_tlog_proof_free(proof);
            origo_buf_close(&file);
        }
    }
}

static void every_bit_flip_of_a_proof_rejected(void **state)
{
    fixture *f = *state;
    origo_buf file;
    /* Signed by all three validators, quorum 3: every line counts. */
    proof_file(f, 22, 37, 7, &file);
    assert_int_equal(verify_file(f, file.data, file.len, 3), 0);
    size_t flips = 0;
    for (size_t bit = 0; bit < file.len * 8; bit++) {
        file.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(verify_file(f, file.data, file.len, 3), 0);
        file.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        flips++;
    }
    assert_int_equal(verify_file(f, file.data, file.len, 3), 0);
    assert_true(flips > 4000);
    origo_buf_close(&file);
}

static void tampered_proofs_rejected_with_reason(void **state)
{
    fixture *f = *state;
    origo_buf file;
    origo_note_policy policy = {.signers = f->trust, .signer_count = 3};

    /* Wrong origin expected by the verifier. */
    proof_file(f, 5, 20, 3, &file);
    assert_int_equal(origo_tlog_proof_verify(file.data, file.len, &policy,
                                             "origo.test/other", NULL, NULL),
                     ORIGO_E_ORIGIN);
    assert_int_equal(
        origo_tlog_proof_verify(file.data, file.len, &policy, NULL, NULL, NULL),
        0);
    origo_buf_close(&file);

    /* Too few trusted signers; unknown signers do not help. */
    proof_file(f, 5, 20, 1 | 8, &file);
    assert_int_equal(verify_file(f, file.data, file.len, 0),
                     ORIGO_E_NOTE_QUORUM);
    assert_int_equal(verify_file(f, file.data, file.len, 1), 0);
    origo_buf_close(&file);

    /* Another event in the extra line of a valid file. */
    uint8_t hashes[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t count = 0;
    assert_int_equal(
        origo_merkle_inclusion_proof(origo_merkle_tree_get_node, f->tree, 5, 20,
                                     hashes, ORIGO_MERKLE_MAX_PROOF, &count),
        0);
    origo_note *note = checkpoint_note(f, 20, 3);
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[6], f->leaf_len[6], 5,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                               note, &file),
        0);
    assert_int_equal(verify_file(f, file.data, file.len, 0), ORIGO_E_PROOF);
    origo_buf_close(&file);

    /* No extra line: nothing to prove. */
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(origo_tlog_proof_write(
                         NULL, 0, 5, (const uint8_t(*)[ORIGO_HASH_LEN])hashes,
                         count, note, &file),
                     0);
    origo_tlog_proof *proof = NULL;
    assert_int_equal(origo_tlog_proof_parse(file.data, file.len, &proof), 0);
    assert_int_equal(proof->has_extra, 0);
    origo_tlog_proof_free(proof);
    assert_int_equal(verify_file(f, file.data, file.len, 0),
                     ORIGO_E_PROOF_FORMAT);
    origo_buf_close(&file);

    /* Index beyond the tree, a hash too many, a hash too few. */
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[5], f->leaf_len[5], 20,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                               note, &file),
        0);
    assert_int_equal(verify_file(f, file.data, file.len, 0), ORIGO_E_TREE_SIZE);
    origo_buf_close(&file);
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[5], f->leaf_len[5], 5,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes,
                               count + 1, note, &file),
        0);
    assert_int_equal(verify_file(f, file.data, file.len, 0),
                     ORIGO_E_PROOF_SIZE);
    origo_buf_close(&file);
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[5], f->leaf_len[5], 5,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes,
                               count - 1, note, &file),
        0);
    assert_int_equal(verify_file(f, file.data, file.len, 0),
                     ORIGO_E_PROOF_SIZE);
    origo_buf_close(&file);
    origo_note_free(note);

    /* A checkpoint of another size, signed properly, with the old proof. */
    note = checkpoint_note(f, 21, 3);
    origo_buf_init(&file, 1 << 20);
    assert_int_equal(
        origo_tlog_proof_write(f->leaves[5], f->leaf_len[5], 5,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                               note, &file),
        0);
    assert_int_not_equal(verify_file(f, file.data, file.len, 0), 0);
    origo_buf_close(&file);
    origo_note_free(note);
}

#define HDR "c2sp.org/tlog-proof@v1\n"
#define H32 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define CP                                                                     \
    "origo.example/network-1\n70\n"                                            \
    "UKvK8Sai4WKd30qm3U7wXJMCzREUTdKcYUn8jtkHVl0=\n\n"                         \
    "\xe2\x80\x94 origo.example/network-1 "                                    \
    "AyeYynclIc2OcFTzLkKcD3q31DS2Upz4J/8GQhxAnVYyMdtol/"                       \
    "YiZMRLv21fw3G34JqBcvZIb"                                                  \
    "2pZjxXEOgTZrkyGQgg=\n"

static void malformed_proof_files_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *text;
        int expect;
    } cases[] = {
        {"valid", HDR "extra AAEC\nindex 3\n" H32 "\n\n" CP, 0},
        {"valid, no extra", HDR "index 3\n" H32 "\n\n" CP, 0},
        {"valid, empty extra", HDR "extra \nindex 0\n\n" CP, 0},
        {"empty file", "", ORIGO_E_PROOF_FORMAT},
        {"other version", "c2sp.org/tlog-proof@v2\nindex 3\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"header with CR", "c2sp.org/tlog-proof@v1\r\nindex 3\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"no index", HDR "extra AAEC\n" H32 "\n\n" CP, ORIGO_E_PROOF_FORMAT},
        {"extra without space", HDR "extraAAEC\nindex 3\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"two extra lines", HDR "extra AAEC\nextra AAEC\nindex 3\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"extra after index", HDR "index 3\nextra AAEC\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"extra not canonical", HDR "extra AAF=\nindex 3\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"index leading zero", HDR "index 03\n\n" CP, ORIGO_E_PROOF_FORMAT},
        {"index two spaces", HDR "index  3\n\n" CP, ORIGO_E_PROOF_FORMAT},
        {"index empty", HDR "index \n\n" CP, ORIGO_E_PROOF_FORMAT},
        {"index overflow", HDR "index 18446744073709551616\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"short hash", HDR "index 3\nAAAA\n\n" CP, ORIGO_E_PROOF_FORMAT},
        {"hash with space", HDR "index 3\n " H32 "\n\n" CP,
         ORIGO_E_PROOF_FORMAT},
        {"no blank line", HDR "index 3\n" H32 "\n" CP, ORIGO_E_PROOF_FORMAT},
        {"no checkpoint", HDR "index 3\n" H32 "\n\n", ORIGO_E_NOTE_FORMAT},
        {"two blank lines", HDR "index 3\n\n\n" CP, ORIGO_E_CHECKPOINT},
        {"unsigned checkpoint", HDR "index 3\n\norigo\n1\n" H32 "\n\n",
         ORIGO_E_NOTE_NO_SIG},
        {"note that is no checkpoint",
         HDR "index 3\n\nhello\n\n\xe2\x80\x94 a AAAAAAA=\n",
         ORIGO_E_CHECKPOINT},
        {"trailing bytes", HDR "index 3\n\n" CP "x", ORIGO_E_NOTE_FORMAT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        origo_tlog_proof *proof = NULL;
        const char *text = cases[i].text;
        int rc =
            origo_tlog_proof_parse((const uint8_t *)text, strlen(text), &proof);
        if (rc != cases[i].expect)
            print_error("case '%s': got %d want %d\n", cases[i].what, rc,
                        cases[i].expect);
        assert_int_equal(rc, cases[i].expect);
        if (rc != 0) {
            assert_null(proof);
            continue;
        }
        origo_buf buf;
        origo_buf_init(&buf, 1 << 16);
        assert_int_equal(origo_tlog_proof_format(proof, &buf), 0);
        assert_int_equal(buf.len, strlen(text));
        assert_memory_equal(buf.data, text, buf.len);
        origo_buf_close(&buf);
        origo_tlog_proof_free(proof);
    }
    /* More hashes than any tree can need. */
    origo_buf big;
    origo_buf_init(&big, 1 << 20);
    origo_buf_append(&big, HDR "index 3\n", strlen(HDR "index 3\n"));
    for (int i = 0; i <= ORIGO_MERKLE_MAX_PROOF; i++)
        origo_buf_append(&big, H32 "\n", strlen(H32 "\n"));
    origo_buf_append(&big, "\n" CP, strlen("\n" CP));
    origo_tlog_proof *proof = NULL;
    assert_int_equal(origo_tlog_proof_parse(big.data, big.len, &proof),
                     ORIGO_E_PROOF_FORMAT);
    origo_buf_close(&big);
}

/* ---- the worked example of docs/formats/checkpoint.md ------------------- */

static char *read_doc(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/../../docs/formats/%s", ORIGO_TEST_VECTORS,
             name);
    size_t len = 0;
    char *text = (char *)testutil_read_file(path, &len);
    assert_non_null(text);
    return text;
}

/* The doc holds `content` as one whole fenced code block. */
static void assert_doc_block(const char *doc, const char *content)
{
    size_t len = strlen(content);
    char *block = malloc(len + 16);
    assert_non_null(block);
    snprintf(block, len + 16, "```\n%s```\n", content);
    if (!strstr(doc, block))
        print_error("block missing from the doc:\n%s", block);
    assert_non_null(strstr(doc, block));
    free(block);
}

static const char *jstr(json_t *obj, const char *key)
{
    const char *value = json_string_value(json_object_get(obj, key));
    assert_non_null(value);
    return value;
}

static void seed_keypair(json_t *entry, unsigned char pk[32],
                         unsigned char sk[64])
{
    uint8_t seed[32];
    assert_int_equal(testutil_unhex(jstr(entry, "seed_hex"), seed, 32), 32);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void doc_example_reproduced_verified_and_documented(void **state)
{
    (void)state;
    json_t *ex = testutil_load_vector("checkpoint-example.json");
    char *doc = read_doc("checkpoint.md");
    const char *origin = jstr(ex, "origin");
    json_t *validators = json_object_get(ex, "validators");
    assert_int_equal(json_array_size(validators), 3);
    origo_vkey trust[3];
    unsigned char pk[3][32], sk[3][64];
    origo_buf keys_block;
    origo_buf_init(&keys_block, 4096);
    for (size_t i = 0; i < 3; i++) {
        json_t *entry = json_array_get(validators, i);
        seed_keypair(entry, pk[i], sk[i]);
        const char *name = jstr(entry, "name");
        char vkey[ORIGO_VKEY_MAX + 1];
        assert_int_equal(origo_vkey_format(name, strlen(name), pk[i], vkey,
                                           sizeof(vkey), NULL),
                         0);
        assert_string_equal(vkey, jstr(entry, "vkey"));
        assert_int_equal(origo_vkey_parse(vkey, strlen(vkey), &trust[i]), 0);
        origo_buf_append(&keys_block, vkey, strlen(vkey));
        origo_buf_append(&keys_block, "\n", 1);
    }
    json_t *wentry = json_object_get(ex, "witness");
    unsigned char wpk[32], wsk[64];
    seed_keypair(wentry, wpk, wsk);
    origo_witness_key witness;
    const char *wname = jstr(wentry, "name");
    assert_int_equal(
        origo_witness_key_from_pub(wname, strlen(wname), wpk, &witness), 0);
    char wvkey[ORIGO_VKEY_MAX + 1];
    assert_int_equal(
        origo_witness_key_format(&witness, wvkey, sizeof(wvkey), NULL), 0);
    assert_string_equal(wvkey, jstr(wentry, "vkey"));
    origo_buf_append(&keys_block, wvkey, strlen(wvkey));
    origo_buf_append(&keys_block, "\n", 2); /* with the NUL */
    assert_int_equal(keys_block.err, 0);
    assert_doc_block(doc, (const char *)keys_block.data);
    origo_buf_close(&keys_block);

    /* Checkpoint over the seven leaves "leaf-i". */
    origo_merkle_tree *tree = NULL;
    assert_int_equal(origo_merkle_tree_new(&tree), 0);
    for (int i = 0; i < 7; i++) {
        char leaf[16];
        int n = snprintf(leaf, sizeof(leaf), "leaf-%d", i);
        assert_int_equal(
            origo_merkle_tree_append(tree, (uint8_t *)leaf, (size_t)n), 0);
    }
    origo_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
    cp.tree_size = 7;
    assert_int_equal(
        origo_merkle_root(origo_merkle_tree_get_node, tree, 7, cp.root), 0);
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    assert_int_equal(origo_checkpoint_format(&cp, &buf), 0);
    origo_buf_append(&buf, "", 1);
    assert_string_equal((char *)buf.data, jstr(ex, "checkpoint_body"));
    assert_doc_block(doc, jstr(ex, "checkpoint_body"));

    origo_note *note = NULL;
    assert_int_equal(origo_note_new((char *)buf.data, buf.len - 1, &note), 0);
    assert_int_equal(origo_note_sign(note, trust[0].name, sk[0]), 0);
    assert_int_equal(origo_note_sign(note, trust[1].name, sk[1]), 0);
    uint64_t when =
        (uint64_t)json_integer_value(json_object_get(ex, "cosign_time"));
    assert_int_equal(origo_note_cosign(note, wname, wsk, when), 0);
    origo_buf_reset(&buf);
    assert_int_equal(origo_note_format(note, &buf), 0);
    origo_buf_append(&buf, "", 1);
    assert_string_equal((char *)buf.data, jstr(ex, "signed_note"));
    assert_doc_block(doc, jstr(ex, "signed_note"));

    /* The cosigned message the doc shows is the one that verifies. */
    const char *message = jstr(ex, "cosigned_message");
    assert_doc_block(doc, message);
    uint64_t stamp = 0;
    uint8_t ed_sig[64];
    assert_int_equal(origo_cosig_decode(&note->sigs[2], &stamp, ed_sig), 0);
    assert_true(stamp == when);
    assert_int_equal(origo_ed25519_verify(wpk, 32, (const uint8_t *)message,
                                          strlen(message), ed_sig, 64),
                     0);

    /* The proof file. */
    uint8_t hashes[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t count = 0;
    assert_int_equal(
        origo_merkle_inclusion_proof(origo_merkle_tree_get_node, tree, 3, 7,
                                     hashes, ORIGO_MERKLE_MAX_PROOF, &count),
        0);
    origo_buf_reset(&buf);
    assert_int_equal(
        origo_tlog_proof_write((const uint8_t *)"leaf-3", 6, 3,
                               (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                               note, &buf),
        0);
    const char *file = jstr(ex, "tlog_proof");
    assert_int_equal(buf.len, strlen(file));
    assert_memory_equal(buf.data, file, buf.len);
    assert_doc_block(doc, file);
    origo_note_policy policy = {.signers = trust,
                                .signer_count = 3,
                                .witnesses = &witness,
                                .witness_count = 1,
                                .witness_quorum = 1};
    origo_note_verdict verdict;
    assert_int_equal(origo_tlog_proof_verify((const uint8_t *)file,
                                             strlen(file), &policy, origin,
                                             NULL, &verdict),
                     0);
    assert_int_equal(verdict.signers, 2);
    assert_int_equal(verdict.witnesses, 1);
    assert_int_equal(verdict.quorum, 2);

    origo_buf_close(&buf);
    origo_note_free(note);
    origo_merkle_tree_free(tree);
    free(doc);
    json_decref(ex);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proofs_round_trip_and_verify),
        cmocka_unit_test(every_bit_flip_of_a_proof_rejected),
        cmocka_unit_test(tampered_proofs_rejected_with_reason),
        cmocka_unit_test(malformed_proof_files_rejected),
        cmocka_unit_test(doc_example_reproduced_verified_and_documented),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
