/* RFC 9421 signatures (sdk/httpsig.c): the RFC's own Ed25519 example
 * (Appendix B.2.6) reproduces byte for byte, our signatures verify and any
 * change to a covered component breaks them, and malformed fields are
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "origo/error.h"
#include "origo/httpsig.h"
#include "origo/keys.h"
#include "testutil.h"

static json_t *vec;

static const char *vec_header(void *ctx, const char *name)
{
    (void)ctx;
    return json_string_value(
        json_object_get(json_object_get(vec, "headers"), name));
}

static const char *str(const char *key)
{
    return json_string_value(json_object_get(vec, key));
}

static void rfc_example(void **state)
{
    (void)state;
    vec = testutil_load_vector("rfc9421-ed25519.json");
    assert_non_null(vec);
    origo_httpsig sig;
    assert_int_equal(
        origo_httpsig_parse(str("signature_input"), str("signature"), &sig), 0);
    assert_string_equal(sig.label, "sig-b26");
    assert_int_equal(sig.n_components, 6);
    origo_httpsig_request req = {str("method"),    str("path"), str("query"),
                                 str("authority"), vec_header,  NULL};
    origo_buf base;
    origo_buf_init(&base, 1 << 16);
    assert_int_equal(origo_httpsig_base(&sig, &req, &base), 0);
    assert_int_equal(base.len, strlen(str("signature_base")));
    assert_memory_equal(base.data, str("signature_base"), base.len);
    origo_buf_close(&base);
    /* The public key is the last 32 bytes of the SPKI. */
    uint8_t spki[64];
    size_t len;
    assert_int_equal(
        sodium_base642bin(spki, sizeof(spki), str("public_key_spki_b64"),
                          strlen(str("public_key_spki_b64")), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL),
        0);
    assert_int_equal(origo_httpsig_verify(&sig, &req, spki + len - 32), 0);
    /* Any covered component changed: no longer valid. */
    req.path = "/fo";
    assert_int_equal(origo_httpsig_verify(&sig, &req, spki + len - 32),
                     ORIGO_E_SIGNATURE);
    json_decref(vec);
}

static const char *no_header(void *ctx, const char *name)
{
    (void)ctx;
    return !strcmp(name, "content-digest") ? "sha-256=:x:" : NULL;
}

static void sign_and_verify(void **state)
{
    (void)state;
    origo_key *key = testutil_key_filled("reader", 7);
    origo_httpsig_request req = {
        "GET",     "/v1/trace", "?lot=acme%2Fcell&d=2", "127.0.0.1:7401",
        no_header, NULL};
    const char *comps[] = {"@method", "@path", "@query", "content-digest"};
    char input[ORIGO_HTTPSIG_INPUT_MAX], signature[ORIGO_HTTPSIG_SIGNATURE_MAX];
    assert_int_equal(origo_httpsig_sign(key, &req, comps, 4, 1700000000,
                                        "n-1_A", input, sizeof(input),
                                        signature, sizeof(signature)),
                     0);
    origo_httpsig sig;
    assert_int_equal(origo_httpsig_parse(input, signature, &sig), 0);
    int64_t created;
    assert_int_equal(origo_httpsig_param_int(&sig, "created", &created), 0);
    assert_int_equal(created, 1700000000);
    assert_string_equal(origo_httpsig_param_str(&sig, "nonce"), "n-1_A");
    assert_string_equal(origo_httpsig_param_str(&sig, "alg"), "ed25519");
    assert_true(origo_httpsig_covers(&sig, "@query"));
    assert_false(origo_httpsig_covers(&sig, "@authority"));
    const uint8_t *pub = origo_key_public(key);
    assert_int_equal(origo_httpsig_verify(&sig, &req, pub), 0);
    origo_httpsig_request other = req;
    other.method = "POST";
    assert_int_equal(origo_httpsig_verify(&sig, &other, pub),
                     ORIGO_E_SIGNATURE);
    other = req;
    other.query = "?lot=acme%2Fcell&d=3";
    assert_int_equal(origo_httpsig_verify(&sig, &other, pub),
                     ORIGO_E_SIGNATURE);
    other = req;
    other.header = NULL; /* the covered content-digest is missing */
    assert_int_equal(origo_httpsig_verify(&sig, &other, pub), ORIGO_E_HTTPSIG);
    /* Bad nonces are refused before signing. */
    assert_int_equal(origo_httpsig_sign(key, &req, comps, 4, 1, "a b", input,
                                        sizeof(input), signature,
                                        sizeof(signature)),
                     ORIGO_E_INVAL);
    origo_key_free(key);
}

static void malformed_fields(void **state)
{
    (void)state;
    static const char good_sig[] =
        "sig1=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP"
        "iu4A0w6vuQv5lIp5WPpBKRCw==:";
    static const char *const bad_inputs[] = {
        "",
        "sig1",
        "sig1=\"@method\"",
        "Sig1=(\"@method\")",
        "sig1=(\"@method\";sf)",
        "sig1=(\"@method\" \"@method\")",
        "sig1=(\"@method\");created",
        "sig1=(\"@method\");created=1;created=2",
        "sig1=(\"@method\");created=1234567890123456",
        "sig1=(\"@method\");keyid=\"a\\x\"",
        "sig1=(\"@method\"), sig2=(\"@path\")",
        "sig1=(\"@method\")junk",
        "sig1=(\"@method\"\"@path\")",
        "sig1=(\"@me\x01thod\")",
    };
    origo_httpsig sig;
    for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        int rc = origo_httpsig_parse(bad_inputs[i], good_sig, &sig);
        if (rc == 0)
            fail_msg("accepted Signature-Input %s", bad_inputs[i]);
    }
    static const char *const bad_sigs[] = {
        "sig2=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP"
        "iu4A0w6vuQv5lIp5WPpBKRCw==:",
        "sig1=:AAAA:",
        "sig1=wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP",
        "sig1=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUP"
        "iu4A0w6vuQv5lIp5WPpBKRCw==:, sig2=:AA==:",
    };
    for (size_t i = 0; i < sizeof(bad_sigs) / sizeof(bad_sigs[0]); i++)
        assert_int_not_equal(origo_httpsig_parse("sig1=(\"@method\");created=1",
                                                 bad_sigs[i], &sig),
                             0);
    assert_int_equal(
        origo_httpsig_parse("sig1=(\"@method\");created=1", good_sig, &sig), 0);
    /* Derived components outside the subset make no base. */
    assert_int_equal(
        origo_httpsig_parse("sig1=(\"@target-uri\");created=1", good_sig, &sig),
        0);
    origo_httpsig_request req = {"GET", "/", NULL, "h", NULL, NULL};
    origo_buf base;
    origo_buf_init(&base, 1024);
    assert_int_equal(origo_httpsig_base(&sig, &req, &base), ORIGO_E_HTTPSIG);
    origo_buf_close(&base);
}

static void content_digest(void **state)
{
    (void)state;
    char d[ORIGO_CONTENT_DIGEST_LEN];
    /* RFC 9530 section 2: {"hello": "world"} */
    origo_content_digest((const uint8_t *)"{\"hello\": \"world\"}", 18, d);
    assert_string_equal(
        d, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
}

/* Problem answers carry stable names; clients map them back to codes. */
static void error_names_map_back(void **state)
{
    (void)state;
    for (int code = 0; code > -300; code--) {
        const char *name = origo_errname(code);
        if (strcmp(name, "ORIGO_E_UNKNOWN") != 0) /* a code of the table */
            assert_int_equal(origo_errcode(name), code);
    }
    assert_int_equal(origo_errcode("ORIGO_E_SIGNATURE"), ORIGO_E_SIGNATURE);
    assert_int_equal(origo_errcode("ORIGO_E_NO_SUCH_THING"), ORIGO_E_INTERNAL);
    assert_int_equal(origo_errcode(NULL), ORIGO_E_INTERNAL);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc_example),
        cmocka_unit_test(sign_and_verify),
        cmocka_unit_test(malformed_fields),
        cmocka_unit_test(content_digest),
        cmocka_unit_test(error_names_map_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
