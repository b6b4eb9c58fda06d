/* Test-only generator for the signed-note and tlog-proof formats. Output is
 * deterministic (fixed seeds and timestamps).
 *   gen_note_corpus corpus NOTE_DIR PROOF_DIR   seed corpora of fuzz_note and
 *                                               fuzz_proof (valid and broken)
 *   gen_note_corpus example                     prints the JSON of
 *       tests/vectors/checkpoint-example.json, the worked example of
 *       docs/formats/checkpoint.md and docs/formats/merkle.md. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "origo/merkle.h"
#include "origo/note.h"
#include "origo/proof.h"

#define ORIGIN "origo.example/network-1"
#define COSIGN_TIME 1763683200u
#define EXAMPLE_LEAVES 7
#define EXAMPLE_INDEX 3
#define EXAMPLE_OLD_SIZE 4

typedef struct identity {
    const char *name;
    uint8_t seed_byte;
    unsigned char pk[32], sk[64];
} identity;

static identity validators[3] = {
    {"validator-a.origo.example", 0xa1, {0}, {0}},
    {"validator-b.origo.example", 0xb2, {0}, {0}},
    {"validator-c.origo.example", 0xc3, {0}, {0}},
};
static identity witness = {"witness.origo.example", 0x77, {0}, {0}};

static void identity_init(identity *id)
{
    uint8_t seed[32];
    memset(seed, id->seed_byte, sizeof(seed));
    if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0)
        abort();
}

static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "gen_note_corpus: %s: %s\n", what, origo_strerror(rc));
        exit(1);
    }
}

/* The example tree: leaf i is the ASCII string "leaf-<i>", as in
 * tests/vectors/merkle.json. */
static origo_merkle_tree *example_tree(size_t leaves)
{
    origo_merkle_tree *tree = NULL;
    must(origo_merkle_tree_new(&tree), "tree");
    for (size_t i = 0; i < leaves; i++) {
        char leaf[32];
        int n = snprintf(leaf, sizeof(leaf), "leaf-%zu", i);
        must(origo_merkle_tree_append(tree, (const uint8_t *)leaf, (size_t)n),
             "append");
    }
    return tree;
}

/* A checkpoint note over `size` leaves of `tree`, signed by the validators
 * whose bit is set in `who`, and cosigned by the witness when `cosign`. */
static origo_note *make_checkpoint(origo_merkle_tree *tree, uint64_t size,
                                   unsigned who, int cosign)
{
    origo_checkpoint cp;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", ORIGIN);
    cp.tree_size = size;
    must(origo_merkle_root(origo_merkle_tree_get_node, tree, size, cp.root),
         "root");
    origo_buf body;
    origo_buf_init(&body, 4096);
    must(origo_checkpoint_format(&cp, &body), "checkpoint");
    origo_note *note = NULL;
    must(origo_note_new((const char *)body.data, body.len, &note), "note");
    origo_buf_close(&body);
    for (int i = 0; i < 3; i++)
        if (who & (1u << i))
            must(origo_note_sign(note, validators[i].name, validators[i].sk),
                 "sign");
    if (cosign)
        must(origo_note_cosign(note, witness.name, witness.sk, COSIGN_TIME),
             "cosign");
    return note;
}

static void make_proof(origo_merkle_tree *tree, uint64_t index, uint64_t size,
                       const origo_note *note, origo_buf *out)
{
    uint8_t hashes[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t count = 0;
    must(origo_merkle_inclusion_proof(origo_merkle_tree_get_node, tree, index,
                                      size, hashes, ORIGO_MERKLE_MAX_PROOF,
                                      &count),
         "inclusion proof");
    char leaf[32];
    int n =
        snprintf(leaf, sizeof(leaf), "leaf-%llu", (unsigned long long)index);
    origo_buf_init(out, 1 << 20);
    must(origo_tlog_proof_write((const uint8_t *)leaf, (size_t)n, index,
                                (const uint8_t(*)[ORIGO_HASH_LEN])hashes, count,
                                note, out),
         "proof");
}

/* ---- corpus ------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *bytes,
                       size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        exit(1);
    FILE *file = fopen(path, "wb");
    if (!file) {
        perror(path);
        exit(1);
    }
    size_t put = len ? fwrite(bytes, 1, len, file) : 0;
    if (fclose(file) != 0 || put != len)
        exit(1);
}

static void write_str(const char *dir, const char *name, const char *text)
{
    write_file(dir, name, text, strlen(text));
}

/* Writes `bytes` and broken variants of it: truncated in the middle, one
 * byte flipped, a trailing byte, CRLF line endings. */
static void write_with_variants(const char *dir, const char *stem,
                                const uint8_t *bytes, size_t len)
{
    char name[256];
    snprintf(name, sizeof(name), "%s", stem);
    write_file(dir, name, bytes, len);
    snprintf(name, sizeof(name), "%s-truncated", stem);
    write_file(dir, name, bytes, len / 2);
    uint8_t *copy = malloc(2 * len + 2);
    if (!copy)
        exit(1);
    memcpy(copy, bytes, len);
    copy[len / 3] ^= 0x20;
    snprintf(name, sizeof(name), "%s-flipped", stem);
    write_file(dir, name, copy, len);
    memcpy(copy, bytes, len);
    copy[len] = 'x';
    snprintf(name, sizeof(name), "%s-trailing", stem);
    write_file(dir, name, copy, len + 1);
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] == '\n')
            copy[out++] = '\r';
        copy[out++] = bytes[i];
    }
    snprintf(name, sizeof(name), "%s-crlf", stem);
    write_file(dir, name, copy, out);
    free(copy);
}

static void note_corpus(const char *dir, origo_merkle_tree *tree)
{
    static const unsigned who[] = {1, 3, 7, 5};
    for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        origo_note *note = make_checkpoint(tree, 3 + i * 9, who[i], i % 2);
        origo_buf buf;
        origo_buf_init(&buf, 1 << 20);
        must(origo_note_format(note, &buf), "format");
        char stem[64];
        snprintf(stem, sizeof(stem), "checkpoint-%zu", i);
        write_with_variants(dir, stem, buf.data, buf.len);
        origo_buf_close(&buf);
        origo_note_free(note);
    }
    /* A note with empty lines in its text, one with extension lines. */
    origo_note *note = NULL;
    must(origo_note_new("first\n\nthird\n\n", 14, &note), "note");
    must(origo_note_sign(note, validators[0].name, validators[0].sk), "sign");
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    must(origo_note_format(note, &buf), "format");
    write_with_variants(dir, "empty-lines", buf.data, buf.len);
    origo_buf_close(&buf);
    origo_note_free(note);
    static const char ext[] =
        ORIGIN "\n0\n"
               "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
               "ext-one\next two\n";
    must(origo_note_new(ext, strlen(ext), &note), "note");
    must(origo_note_sign(note, validators[1].name, validators[1].sk), "sign");
    must(origo_note_cosign(note, witness.name, witness.sk, 1), "cosign");
    origo_buf_init(&buf, 1 << 20);
    must(origo_note_format(note, &buf), "format");
    write_with_variants(dir, "extensions", buf.data, buf.len);
    origo_buf_close(&buf);
    origo_note_free(note);
    /* Hand-made broken and odd notes. */
    write_str(dir, "no-sigs", "hello\n\n");
    write_str(dir, "no-blank", "hello\n\xe2\x80\x94 a AAAAAAA=\n");
    write_str(dir, "unknown-type", "hello\n\n\xe2\x80\x94 a AAAAAAA=\n");
    write_str(dir, "hyphen", "hello\n\n- a AAAAAAA=\n");
    write_str(dir, "plus-name", "hello\n\n\xe2\x80\x94 a+b AAAAAAA=\n");
    write_str(dir, "nbsp-name", "hello\n\n\xe2\x80\x94 a\xc2\xa0 AAAAAAA=\n");
    write_str(dir, "bad-utf8", "hel\xc0\xafo\n\n\xe2\x80\x94 a AAAAAAA=\n");
    write_str(dir, "stray-bits", "hello\n\n\xe2\x80\x94 a AAAAAAB=\n");
    write_str(dir, "key-id-only", "hello\n\n\xe2\x80\x94 a AAAAAA==\n");
    write_str(dir, "empty", "");
    write_str(dir, "blank-lines", "\n\n\n");
}

static void proof_corpus(const char *dir, origo_merkle_tree *tree)
{
    static const struct {
        uint64_t index, size;
        unsigned who;
        int cosign;
    } shapes[] = {{0, 1, 1, 0},   {3, 7, 3, 1},   {6, 7, 1, 0},
                  {12, 13, 7, 0}, {31, 64, 5, 1}, {40, 69, 1, 0}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        origo_note *note = make_checkpoint(tree, shapes[i].size, shapes[i].who,
                                           shapes[i].cosign);
        origo_buf buf;
        make_proof(tree, shapes[i].index, shapes[i].size, note, &buf);
        char stem[64];
        snprintf(stem, sizeof(stem), "proof-%llu-of-%llu",
                 (unsigned long long)shapes[i].index,
                 (unsigned long long)shapes[i].size);
        write_with_variants(dir, stem, buf.data, buf.len);
        origo_buf_close(&buf);
        origo_note_free(note);
    }
    /* Without extra, with empty extra. */
    origo_note *note = make_checkpoint(tree, 2, 1, 0);
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    static const uint8_t hash[ORIGO_HASH_LEN] = {1};
    must(origo_tlog_proof_write(NULL, 0, 1, &hash, 1, note, &buf), "proof");
    write_file(dir, "no-extra", buf.data, buf.len);
    origo_buf_reset(&buf);
    static const uint8_t none = 0;
    must(origo_tlog_proof_write(&none, 0, 0, &hash, 1, note, &buf), "proof");
    write_file(dir, "empty-extra", buf.data, buf.len);
    origo_buf_close(&buf);
    origo_note_free(note);
    write_str(dir, "header-only", "c2sp.org/tlog-proof@v1\n");
    write_str(dir, "v2", "c2sp.org/tlog-proof@v2\nindex 0\n\n");
    write_str(dir, "index-zero-pad", "c2sp.org/tlog-proof@v1\nindex 00\n\n");
    write_str(dir, "two-extra",
              "c2sp.org/tlog-proof@v1\nextra AA==\nextra AA==\nindex 0\n\n");
    write_str(dir, "short-hash", "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n");
    write_str(dir, "empty", "");
}

/* ---- example ------------------------------------------------------------ */

static json_t *hex_json(const uint8_t *bytes, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (!hex)
        exit(1);
    sodium_bin2hex(hex, 2 * len + 1, bytes, len);
    json_t *value = json_string(hex);
    free(hex);
    return value;
}

static json_t *hash_list(const uint8_t (*hashes)[ORIGO_HASH_LEN], size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, hex_json(hashes[i], ORIGO_HASH_LEN));
    return list;
}

static json_t *buf_json(const origo_buf *buf)
{
    return json_stringn((const char *)buf->data, buf->len);
}

static json_t *keys_json(void)
{
    json_t *list = json_array();
    for (int i = 0; i < 3; i++) {
        char vkey[ORIGO_VKEY_MAX + 1];
        must(origo_vkey_format(validators[i].name, strlen(validators[i].name),
                               validators[i].pk, vkey, sizeof(vkey), NULL),
             "vkey");
        json_t *entry = json_object();
        uint8_t seed[32];
        memset(seed, validators[i].seed_byte, sizeof(seed));
        json_object_set_new(entry, "name", json_string(validators[i].name));
        json_object_set_new(entry, "seed_hex", hex_json(seed, 32));
        json_object_set_new(entry, "vkey", json_string(vkey));
        json_array_append_new(list, entry);
    }
    return list;
}

static json_t *witness_json(void)
{
    origo_witness_key key;
    must(origo_witness_key_from_pub(witness.name, strlen(witness.name),
                                    witness.pk, &key),
         "witness key");
    char vkey[ORIGO_VKEY_MAX + 1];
    must(origo_witness_key_format(&key, vkey, sizeof(vkey), NULL), "wkey");
    uint8_t seed[32];
    memset(seed, witness.seed_byte, sizeof(seed));
    json_t *entry = json_object();
    json_object_set_new(entry, "name", json_string(witness.name));
    json_object_set_new(entry, "seed_hex", hex_json(seed, 32));
    json_object_set_new(entry, "vkey", json_string(vkey));
    return entry;
}

static json_t *merkle_json(origo_merkle_tree *tree)
{
    json_t *obj = json_object();
    uint8_t root[ORIGO_HASH_LEN], old_root[ORIGO_HASH_LEN];
    must(origo_merkle_root(origo_merkle_tree_get_node, tree, EXAMPLE_LEAVES,
                           root),
         "root");
    must(origo_merkle_root(origo_merkle_tree_get_node, tree, EXAMPLE_OLD_SIZE,
                           old_root),
         "root");
    json_t *leaves = json_array();
    for (uint64_t i = 0; i < EXAMPLE_LEAVES; i++) {
        uint8_t hash[ORIGO_HASH_LEN];
        must(origo_merkle_tree_get_node(tree, 0, i, hash), "leaf");
        json_array_append_new(leaves, hex_json(hash, ORIGO_HASH_LEN));
    }
    uint8_t proof[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    size_t n = 0;
    must(origo_merkle_inclusion_proof(origo_merkle_tree_get_node, tree,
                                      EXAMPLE_INDEX, EXAMPLE_LEAVES, proof,
                                      ORIGO_MERKLE_MAX_PROOF, &n),
         "inclusion");
    json_object_set_new(obj, "tree_size", json_integer(EXAMPLE_LEAVES));
    json_object_set_new(obj, "leaf_hashes_hex", leaves);
    json_object_set_new(obj, "root_hex", hex_json(root, ORIGO_HASH_LEN));
    json_object_set_new(obj, "inclusion_index", json_integer(EXAMPLE_INDEX));
    json_object_set_new(obj, "inclusion_proof_hex",
                        hash_list((const uint8_t(*)[ORIGO_HASH_LEN])proof, n));
    must(origo_merkle_consistency_proof(origo_merkle_tree_get_node, tree,
                                        EXAMPLE_OLD_SIZE, EXAMPLE_LEAVES, proof,
                                        ORIGO_MERKLE_MAX_PROOF, &n),
         "consistency");
    json_object_set_new(obj, "old_size", json_integer(EXAMPLE_OLD_SIZE));
    json_object_set_new(obj, "old_root_hex",
                        hex_json(old_root, ORIGO_HASH_LEN));
    json_object_set_new(obj, "consistency_proof_hex",
                        hash_list((const uint8_t(*)[ORIGO_HASH_LEN])proof, n));
    return obj;
}

static int print_example(void)
{
    origo_merkle_tree *tree = example_tree(EXAMPLE_LEAVES);
    json_t *root = json_object();
    json_object_set_new(
        root, "comment",
        json_string("Worked example of docs/formats/merkle.md and "
                    "docs/formats/checkpoint.md, written by "
                    "tests/fuzz/sdk/gen_note_corpus (example). Leaf i is the "
                    "ASCII string \"leaf-<i>\". Validators sign the checkpoint "
                    "(Ed25519, type 0x01); the witness cosigns it "
                    "(cosignature/v1, type 0x04). Seeds are 32 copies of one "
                    "byte."));
    json_object_set_new(root, "origin", json_string(ORIGIN));
    json_object_set_new(root, "validators", keys_json());
    json_object_set_new(root, "witness", witness_json());
    json_object_set_new(root, "cosign_time", json_integer(COSIGN_TIME));
    json_object_set_new(root, "merkle", merkle_json(tree));

    origo_note *note = make_checkpoint(tree, EXAMPLE_LEAVES, 3, 1);
    json_object_set_new(root, "checkpoint_body",
                        json_stringn(note->text, note->text_len));
    origo_buf buf;
    origo_buf_init(&buf, 1 << 20);
    origo_buf_append(&buf, "cosignature/v1\ntime ", 20);
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%u\n", COSIGN_TIME);
    origo_buf_append(&buf, digits, (size_t)n);
    origo_buf_append(&buf, note->text, note->text_len);
    json_object_set_new(root, "cosigned_message", buf_json(&buf));
    origo_buf_reset(&buf);
    must(origo_note_format(note, &buf), "format");
    json_object_set_new(root, "signed_note", buf_json(&buf));
    origo_buf_close(&buf);
    make_proof(tree, EXAMPLE_INDEX, EXAMPLE_LEAVES, note, &buf);
    json_object_set_new(root, "proof_index", json_integer(EXAMPLE_INDEX));
    json_object_set_new(root, "tlog_proof", buf_json(&buf));
    origo_buf_close(&buf);
    origo_note_free(note);
    origo_merkle_tree_free(tree);

    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    for (int i = 0; i < 3; i++)
        identity_init(&validators[i]);
    identity_init(&witness);
    if (argc == 2 && strcmp(argv[1], "example") == 0)
        return print_example();
    if (argc == 4 && strcmp(argv[1], "corpus") == 0) {
        origo_merkle_tree *tree = example_tree(70);
        note_corpus(argv[2], tree);
        proof_corpus(argv[3], tree);
        origo_merkle_tree_free(tree);
        return 0;
    }
    fprintf(stderr, "usage: gen_note_corpus corpus NOTE_DIR PROOF_DIR\n"
                    "       gen_note_corpus example\n");
    return 2;
}
