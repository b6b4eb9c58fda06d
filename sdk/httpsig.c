/* HTTP message signatures (RFC 9421), Ed25519, Origo's subset
 * (origo/httpsig.h). The structured-field parsing follows RFC 8941 for the
 * shapes used: a dictionary of one member whose value is an inner list of
 * strings with parameters (Signature-Input), or a byte sequence
 * (Signature). */
#include "origo/hash.h"
#include "origo/httpsig.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "origo/error.h"

typedef struct cursor {
    const char *p;
} cursor;

static void skip_sp(cursor *c)
{
    while (*c->p == ' ')
        c->p++;
}

static int is_lcalpha(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static int parse_key(cursor *c, char out[ORIGO_HTTPSIG_MAX_TOKEN])
{
    size_t n = 0;
    if (!is_lcalpha(*c->p) && *c->p != '*')
        return ORIGO_E_HTTPSIG;
    while (is_lcalpha(*c->p) || is_digit(*c->p) || *c->p == '_' ||
           *c->p == '-' || *c->p == '.' || *c->p == '*') {
        if (n + 1 >= ORIGO_HTTPSIG_MAX_TOKEN)
            return ORIGO_E_TOOBIG;
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return 0;
}

/* sf-string: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE */
static int parse_string(cursor *c, char out[ORIGO_HTTPSIG_MAX_TOKEN])
{
    size_t n = 0;
    if (*c->p != '"')
        return ORIGO_E_HTTPSIG;
    c->p++;
    for (;;) {
        char ch = *c->p++;
        if (ch == '"')
            break;
        if (ch == '\\') {
            ch = *c->p++;
            if (ch != '"' && ch != '\\')
                return ORIGO_E_HTTPSIG;
        } else if (ch < 0x20 || ch > 0x7e) {
            return ORIGO_E_HTTPSIG; /* also the end of the text */
        }
        if (n + 1 >= ORIGO_HTTPSIG_MAX_TOKEN)
            return ORIGO_E_TOOBIG;
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

/* sf-integer: ["-"] 1*15DIGIT */
static int parse_int(cursor *c, int64_t *out)
{
    int neg = *c->p == '-';
    if (neg)
        c->p++;
    int64_t v = 0;
    int digits = 0;
    while (is_digit(*c->p)) {
        if (++digits > 15)
            return ORIGO_E_HTTPSIG;
        v = v * 10 + (*c->p++ - '0');
    }
    if (!digits)
        return ORIGO_E_HTTPSIG;
    *out = neg ? -v : v;
    return 0;
}

static int parse_params(cursor *c, origo_httpsig *out)
{
    while (*c->p == ';') {
        c->p++;
        skip_sp(c);
        if (out->n_params == ORIGO_HTTPSIG_MAX_PARAMS)
            return ORIGO_E_TOOBIG;
        origo_httpsig_param *pm = &out->params[out->n_params];
        int rc = parse_key(c, pm->key);
        if (rc)
            return rc;
        for (size_t i = 0; i < out->n_params; i++)
            if (!strcmp(out->params[i].key, pm->key))
                return ORIGO_E_HTTPSIG; /* one value per parameter */
        if (*c->p != '=')
            return ORIGO_E_HTTPSIG; /* boolean parameters: not ours */
        c->p++;
        if (*c->p == '"') {
            rc = parse_string(c, pm->str);
        } else {
            pm->is_int = 1;
            rc = parse_int(c, &pm->num);
        }
        if (rc)
            return rc;
        out->n_params++;
    }
    return 0;
}

int origo_httpsig_parse(const char *signature_input, const char *signature,
                        origo_httpsig *out)
{
    memset(out, 0, sizeof(*out));
    if (!signature_input || !signature)
        return ORIGO_E_HTTPSIG;
    cursor c = {signature_input};
    skip_sp(&c);
    int rc = parse_key(&c, out->label);
    if (rc)
        return rc;
    if (*c.p++ != '=' || *c.p++ != '(')
        return ORIGO_E_HTTPSIG;
    for (;;) {
        skip_sp(&c);
        if (*c.p == ')') {
            c.p++;
            break;
        }
        if (out->n_components == ORIGO_HTTPSIG_MAX_COMPONENTS)
            return ORIGO_E_TOOBIG;
        char *comp = out->components[out->n_components];
        if ((rc = parse_string(&c, comp)) != 0)
            return rc;
        if (*c.p == ';')
            return ORIGO_E_HTTPSIG; /* component parameters: unsupported */
        for (size_t i = 0; i < out->n_components; i++)
            if (!strcmp(out->components[i], comp))
                return ORIGO_E_HTTPSIG;
        out->n_components++;
        if (*c.p != ' ' && *c.p != ')')
            return ORIGO_E_HTTPSIG;
    }
    if ((rc = parse_params(&c, out)) != 0)
        return rc;
    skip_sp(&c);
    if (*c.p != '\0')
        return ORIGO_E_HTTPSIG; /* a second signature, or junk */

    /* Signature: label=:base64: */
    c.p = signature;
    skip_sp(&c);
    char label[ORIGO_HTTPSIG_MAX_TOKEN];
    if ((rc = parse_key(&c, label)) != 0)
        return rc;
    if (strcmp(label, out->label) || *c.p++ != '=' || *c.p++ != ':')
        return ORIGO_E_HTTPSIG;
    const char *end = strchr(c.p, ':');
    if (!end)
        return ORIGO_E_HTTPSIG;
    size_t bin_len = 0;
    const char *b64_end;
    if (sodium_base642bin(out->sig, sizeof(out->sig), c.p, (size_t)(end - c.p),
                          NULL, &bin_len, &b64_end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        b64_end != end || bin_len != 64)
        return ORIGO_E_HTTPSIG;
    c.p = end + 1;
    skip_sp(&c);
    return *c.p == '\0' ? 0 : ORIGO_E_HTTPSIG;
}

const char *origo_httpsig_param_str(const origo_httpsig *sig, const char *key)
{
    for (size_t i = 0; i < sig->n_params; i++)
        if (!strcmp(sig->params[i].key, key))
            return sig->params[i].is_int ? NULL : sig->params[i].str;
    return NULL;
}

int origo_httpsig_param_int(const origo_httpsig *sig, const char *key,
                            int64_t *out)
{
    for (size_t i = 0; i < sig->n_params; i++)
        if (!strcmp(sig->params[i].key, key) && sig->params[i].is_int) {
            *out = sig->params[i].num;
            return 0;
        }
    return ORIGO_E_NOTFOUND;
}

int origo_httpsig_covers(const origo_httpsig *sig, const char *component)
{
    for (size_t i = 0; i < sig->n_components; i++)
        if (!strcmp(sig->components[i], component))
            return 1;
    return 0;
}

static void put(origo_buf *b, const char *s)
{
    origo_buf_append(b, s, strlen(s));
}

static void put_string(origo_buf *b, const char *s)
{
    put(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            put(b, "\\");
        origo_buf_append(b, s, 1);
    }
    put(b, "\"");
}

/* The serialised inner list with parameters: the @signature-params value. */
static void put_params(origo_buf *b, const origo_httpsig *sig)
{
    put(b, "(");
    for (size_t i = 0; i < sig->n_components; i++) {
        if (i)
            put(b, " ");
        put_string(b, sig->components[i]);
    }
    put(b, ")");
    for (size_t i = 0; i < sig->n_params; i++) {
        const origo_httpsig_param *pm = &sig->params[i];
        put(b, ";");
        put(b, pm->key);
        put(b, "=");
        if (pm->is_int) {
            char num[24];
            snprintf(num, sizeof(num), "%lld", (long long)pm->num);
            put(b, num);
        } else {
            put_string(b, pm->str);
        }
    }
}

static const char *component_value(const origo_httpsig_request *req,
                                   const char *name)
{
    if (!strcmp(name, "@method"))
        return req->method;
    if (!strcmp(name, "@path"))
        return req->path;
    if (!strcmp(name, "@query"))
        return req->query && req->query[0] ? req->query : "?";
    if (!strcmp(name, "@authority"))
        return req->authority;
    if (name[0] == '@')
        return NULL; /* other derived components: not in this subset */
    for (const char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return NULL; /* field names are lower case */
    return req->header ? req->header(req->ctx, name) : NULL;
}

int origo_httpsig_base(const origo_httpsig *sig,
                       const origo_httpsig_request *req, origo_buf *out)
{
    for (size_t i = 0; i < sig->n_components; i++) {
        const char *v = component_value(req, sig->components[i]);
        if (!v)
            return ORIGO_E_HTTPSIG;
        for (const char *p = v; *p; p++)
            if (*p == '\n' || *p == '\r')
                return ORIGO_E_HTTPSIG;
        put_string(out, sig->components[i]);
        put(out, ": ");
        put(out, v);
        put(out, "\n");
    }
    put(out, "\"@signature-params\": ");
    put_params(out, sig);
    return out->err;
}

int origo_httpsig_verify(const origo_httpsig *sig,
                         const origo_httpsig_request *req,
                         const uint8_t pub[32])
{
    origo_buf base;
    origo_buf_init(&base, 64u << 10);
    int rc = origo_httpsig_base(sig, req, &base);
    if (rc == 0 &&
        crypto_sign_verify_detached(sig->sig, base.data, base.len, pub) != 0)
        rc = ORIGO_E_SIGNATURE;
    origo_buf_close(&base);
    return rc;
}

int origo_httpsig_sign(const origo_key *key, const origo_httpsig_request *req,
                       const char *const *components, size_t n, int64_t created,
                       const char *nonce, char *input_out, size_t input_size,
                       char *signature_out, size_t signature_size)
{
    if (n > ORIGO_HTTPSIG_MAX_COMPONENTS || !nonce || !nonce[0] ||
        strlen(nonce) > 64)
        return ORIGO_E_INVAL;
    for (const char *p = nonce; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              is_digit(*p) || *p == '-' || *p == '_'))
            return ORIGO_E_INVAL;
    origo_httpsig sig;
    memset(&sig, 0, sizeof(sig));
    memcpy(sig.label, "sig1", 5);
    for (size_t i = 0; i < n; i++) {
        if (strlen(components[i]) >= ORIGO_HTTPSIG_MAX_TOKEN)
            return ORIGO_E_INVAL;
        snprintf(sig.components[i], ORIGO_HTTPSIG_MAX_TOKEN, "%s",
                 components[i]);
    }
    sig.n_components = n;
    origo_httpsig_param *pm = sig.params;
    snprintf(pm[0].key, sizeof(pm[0].key), "created");
    pm[0].is_int = 1;
    pm[0].num = created;
    snprintf(pm[1].key, sizeof(pm[1].key), "keyid");
    origo_pubkey_to_hex(origo_key_public(key), pm[1].str);
    snprintf(pm[2].key, sizeof(pm[2].key), "alg");
    snprintf(pm[2].str, sizeof(pm[2].str), "ed25519");
    snprintf(pm[3].key, sizeof(pm[3].key), "nonce");
    snprintf(pm[3].str, sizeof(pm[3].str), "%s", nonce);
    sig.n_params = 4;
    origo_buf base, input;
    origo_buf_init(&base, 64u << 10);
    origo_buf_init(&input, ORIGO_HTTPSIG_INPUT_MAX);
    int rc = origo_httpsig_base(&sig, req, &base);
    if (rc == 0)
        rc = origo_key_sign(key, base.data, base.len, sig.sig);
    if (rc == 0) {
        put(&input, "sig1=");
        put_params(&input, &sig);
        rc = input.err;
    }
    char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    if (rc == 0) {
        sodium_bin2base64(b64, sizeof(b64), sig.sig, 64,
                          sodium_base64_VARIANT_ORIGINAL);
        int w = snprintf(signature_out, signature_size, "sig1=:%s:", b64);
        if (input.len + 1 > input_size || w < 0 ||
            (size_t)w >= signature_size) {
            rc = ORIGO_E_TOOBIG;
        } else {
            memcpy(input_out, input.data, input.len);
            input_out[input.len] = '\0';
        }
    }
    origo_buf_close(&base);
    origo_buf_close(&input);
    return rc;
}

void origo_content_digest(const uint8_t *body, size_t len,
                          char out[ORIGO_CONTENT_DIGEST_LEN])
{
    uint8_t h[32];
    origo_sha256(body, len, h);
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), h, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, ORIGO_CONTENT_DIGEST_LEN, "sha-256=:%s:", b64);
}
