/* libFuzzer harness for RFC 9421 field parsing (sdk/httpsig.c). Input: the
 * Signature-Input value, a newline, the Signature value. Properties: parse
 * never crashes; an accepted signature's base can be built over a fixed
 * request or is refused with ORIGO_E_HTTPSIG; the "@signature-params" text
 * of the base, given back as Signature-Input, parses to the same signature
 * (the serialisation is canonical); verification under a fixed key never
 * crashes and never succeeds (the fuzzer cannot forge Ed25519). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/httpsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *header(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "content-digest") ? NULL : "sha-256=:AA==:";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = memchr(text, '\n', size);
    const char *signature = "";
    if (nl) {
        *nl = '\0';
        signature = nl + 1;
    }
    origo_httpsig sig;
    if (origo_httpsig_parse(text, signature, &sig) == 0) {
        origo_httpsig_request req = {"GET",       "/v1/trace", "?lot=a",
                                     "node:7401", header,      NULL};
        origo_buf base;
        origo_buf_init(&base, 1 << 16);
        int rc = origo_httpsig_base(&sig, &req, &base);
        if (rc != 0 && rc != ORIGO_E_HTTPSIG)
            abort();
        if (rc == 0) {
            static const char tag[] = "\"@signature-params\": ";
            size_t tl = sizeof(tag) - 1;
            const char *p = NULL;
            for (size_t i = 0; i + tl <= base.len; i++)
                if (!memcmp(base.data + i, tag, tl))
                    p = (const char *)base.data + i + tl;
            if (!p)
                abort();
            size_t rest = base.len - (size_t)(p - (const char *)base.data);
            size_t ll = strlen(sig.label);
            char *input = malloc(ll + 1 + rest + 1);
            if (input) {
                memcpy(input, sig.label, ll);
                input[ll] = '=';
                memcpy(input + ll + 1, p, rest);
                input[ll + 1 + rest] = '\0';
                origo_httpsig again;
                if (origo_httpsig_parse(input, signature, &again) != 0 ||
                    memcmp(&again, &sig, sizeof(sig)) != 0)
                    abort();
                free(input);
            }
            static const uint8_t pub[32] = {
                0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
                0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
                0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
                0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
            if (origo_httpsig_verify(&sig, &req, pub) == 0)
                abort();
        }
        origo_buf_close(&base);
    }
    free(text);
    return 0;
}
