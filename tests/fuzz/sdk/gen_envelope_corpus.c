/* Test-only generator. `gen_envelope_corpus corpus DIR` writes the seed
 * corpus of fuzz_envelope: a signed envelope of every event type from
 * tests/unit/sdk/event_samples.h, its bare body, and broken variants
 * (truncated, bit-flipped, trailing byte, short signature, non-minimal map
 * header, keys swapped). `gen_envelope_corpus epcis DIR` writes the seeds
 * of fuzz_epcis (EPCIS JSON texts). `gen_envelope_corpus example` prints
 * the JSON of tests/vectors/event-example.json, the worked example of
 * docs/formats/event.md. Output is deterministic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_samples.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"

static int write_file(const char *dir, const char *name, const uint8_t *bytes,
                      size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    FILE *file = fopen(path, "wb");
    if (!file)
        return -1;
    size_t put = len ? fwrite(bytes, 1, len, file) : 0;
    return fclose(file) == 0 && put == len ? 0 : -1;
}

/* The type name with '.' turned into '_' for file names. */
static void file_stem(enum origo_event_type type, char *out, size_t size)
{
    snprintf(out, size, "%s", origo_event_type_name(type));
    for (char *p = out; *p; p++) {
        if (*p == '.')
            *p = '_';
    }
}

static int write_variants(const char *dir, const char *stem, const uint8_t *env,
                          size_t env_len, const origo_envelope *dec)
{
    static uint8_t scratch[ORIGO_ENVELOPE_MAX + 16];
    char name[256];
    int rc = 0;
    snprintf(name, sizeof(name), "%s.env", stem);
    rc |= write_file(dir, name, env, env_len);
    snprintf(name, sizeof(name), "%s.body", stem);
    rc |= write_file(dir, name, dec->body, dec->body_len);
    snprintf(name, sizeof(name), "%s.truncated", stem);
    rc |= write_file(dir, name, env, env_len / 2);
    /* A flipped bit in the middle of the body. */
    memcpy(scratch, env, env_len);
    size_t body_at = (size_t)(dec->body - env);
    scratch[body_at + dec->body_len / 2] ^= 0x10;
    snprintf(name, sizeof(name), "%s.bitflip", stem);
    rc |= write_file(dir, name, scratch, env_len);
    memcpy(scratch, env, env_len);
    scratch[env_len] = 0xc0;
    snprintf(name, sizeof(name), "%s.trailing", stem);
    rc |= write_file(dir, name, scratch, env_len + 1);
    /* The envelope's fixmap header spelled as map16. */
    scratch[0] = 0xde;
    scratch[1] = 0x00;
    scratch[2] = 0x02;
    memcpy(scratch + 3, env + 1, env_len - 1);
    snprintf(name, sizeof(name), "%s.map16", stem);
    rc |= write_file(dir, name, scratch, env_len + 2);
    return rc;
}

static int write_short_sig(const char *dir, const origo_envelope *dec)
{
    origo_buf buf;
    origo_buf_init(&buf, ORIGO_ENVELOPE_MAX);
    origo_mp_put_map(&buf, 2);
    origo_mp_put_cstr(&buf, "body");
    origo_mp_put_bin(&buf, dec->body, dec->body_len);
    origo_mp_put_cstr(&buf, "sig");
    origo_mp_put_bin(&buf, dec->sig, 63);
    int rc = write_file(dir, "short_sig.env", buf.data, buf.len);
    origo_buf_reset(&buf);
    origo_mp_put_map(&buf, 2);
    origo_mp_put_cstr(&buf, "sig");
    origo_mp_put_bin(&buf, dec->sig, 64);
    origo_mp_put_cstr(&buf, "body");
    origo_mp_put_bin(&buf, dec->body, dec->body_len);
    rc |= write_file(dir, "swapped_keys.env", buf.data, buf.len);
    origo_buf_close(&buf);
    return rc;
}

static int write_corpus(const char *dir, const origo_key *key)
{
    int rc = 0;
    for (int t = ORIGO_EV_LOT_CREATE; t <= ORIGO_EV_MEMBER_ROTATE; t++) {
        origo_buf env;
        origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
        origo_envelope dec;
        if (sample_envelope((enum origo_event_type)t, key, &env) != 0 ||
            origo_envelope_decode(env.data, env.len, &dec) != 0) {
            fprintf(stderr, "gen: cannot build type %d\n", t);
            origo_buf_close(&env);
            return 1;
        }
        char stem[64];
        file_stem((enum origo_event_type)t, stem, sizeof(stem));
        rc |= write_variants(dir, stem, env.data, env.len, &dec);
        if (t == ORIGO_EV_QUALITY_HOLD)
            rc |= write_short_sig(dir, &dec);
        origo_buf_close(&env);
    }
    static const uint8_t empty_map[1] = {0x80};
    rc |= write_file(dir, "empty_map", empty_map, 1);
    rc |= write_file(dir, "empty", empty_map, 0);
    return rc ? 1 : 0;
}

/* Seeds of fuzz_epcis: EPCIS JSON texts, canonical and not. */
static int write_epcis_corpus(const char *dir)
{
    static const struct {
        const char *name, *text;
    } seeds[] = {
        {"object.json", SAMPLE_EPCIS_OBJECT},
        {"transform.json", SAMPLE_EPCIS_TRANSFORM},
        {"aggregation.json",
         "{\"action\":\"ADD\",\"childEPCs\":[\"ACME/steel-coil/C-7781\"],"
         "\"childQuantityList\":[{\"epcClass\":\"ORIGO/bracket/B-2026-0042\"}"
         "],\"eventTime\":\"2026-01-01T00:00:00.000Z\",\"parentID\":"
         "\"urn:epc:id:sscc:4012345.0000000001\",\"type\":"
         "\"AggregationEvent\"}"},
        {"real_quantity.json",
         "{\"eventTime\":\"2026-01-01T00:00:00Z\",\"quantityList\":[{"
         "\"epcClass\":\"ACME/coil/C1\",\"quantity\":0.10000000000000001}],"
         "\"type\":\"ObjectEvent\"}"},
        {"unsorted.json", "{\"type\":\"ObjectEvent\",\"eventTime\":\"x\"}"},
        {"spaced.json", "{\"eventTime\": \"x\", \"type\": \"ObjectEvent\"}"},
        {"duplicate.json",
         "{\"eventTime\":\"x\",\"type\":\"ObjectEvent\",\"type\":\"X\"}"},
        {"self_transform.json",
         "{\"eventTime\":\"x\",\"inputEPCList\":[\"a/b/c\"],"
         "\"outputEPCList\":[\"a/b/c\"],\"type\":\"TransformationEvent\"}"},
        {"array.json", "[]"},
        {"escaped.json",
         "{\"eventTime\":\"\\u0078\",\"type\":\"ObjectEvent\"}"},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        rc |= write_file(dir, seeds[i].name, (const uint8_t *)seeds[i].text,
                         strlen(seeds[i].text));
    return rc ? 1 : 0;
}

static void print_hex(const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++)
        printf("%02x", bytes[i]);
}

static int print_example(const origo_key *key)
{
    origo_buf env;
    origo_buf_init(&env, ORIGO_ENVELOPE_MAX);
    origo_envelope dec;
    uint8_t id[ORIGO_EVENT_ID_LEN];
    if (sample_envelope(ORIGO_EV_LOT_CREATE, key, &env) != 0 ||
        origo_envelope_decode(env.data, env.len, &dec) != 0) {
        origo_buf_close(&env);
        return 1;
    }
    origo_event_id(dec.body, dec.body_len, id);
    printf("{\n \"comment\": \"Worked example of docs/formats/event.md: the "
           "lot.create sample of tests/unit/sdk/event_samples.h signed with "
           "the Ed25519 seed 0x00..0x1f. Made by "
           "tests/fuzz/sdk/gen_envelope_corpus example; test_event checks "
           "the code still produces these bytes and that the spec shows "
           "them.\",\n");
    printf(" \"seed_hex\": \"000102030405060708090a0b0c0d0e0f101112131415161718"
           "191a1b1c1d1e1f\",\n");
    printf(" \"public_key_hex\": \"");
    print_hex(origo_key_public(key), ORIGO_PUBKEY_LEN);
    printf("\",\n \"net\": \"%s\",\n \"body_hex\": \"", SAMPLE_NET);
    print_hex(dec.body, dec.body_len);
    printf("\",\n \"signature_hex\": \"");
    print_hex(dec.sig, ORIGO_SIG_LEN);
    printf("\",\n \"event_id_hex\": \"");
    print_hex(id, sizeof(id));
    printf("\",\n \"envelope_hex\": \"");
    print_hex(env.data, env.len);
    printf("\"\n}\n");
    origo_buf_close(&env);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    origo_key *key = sample_key();
    if (!key)
        return 1;
    int rc = 2;
    if (argc == 3 && strcmp(argv[1], "corpus") == 0)
        rc = write_corpus(argv[2], key);
    else if (argc == 3 && strcmp(argv[1], "epcis") == 0)
        rc = write_epcis_corpus(argv[2]);
    else if (argc == 2 && strcmp(argv[1], "example") == 0)
        rc = print_example(key);
    else
        fprintf(stderr, "usage: %s corpus DIR | epcis DIR | example\n",
                argv[0]);
    origo_key_free(key);
    return rc;
}
