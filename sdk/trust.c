/* Trust-file parsing (origo/trust.h). The format is deliberately
 * plain text so an auditor can read and diff what they trust. */
#include "origo/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/error.h"
#include "origo/file.h"

static int parse_line(origo_trust *trust, char *line, size_t len)
{
    if (!strncmp(line, "origin ", 7)) {
        if (len - 7 > ORIGO_CHECKPOINT_MAX_ORIGIN || len == 7)
            return ORIGO_E_CONFIG;
        memcpy(trust->origin, line + 7, len - 7);
        trust->origin[len - 7] = 0;
        return 0;
    }
    if (!strncmp(line, "quorum ", 7)) {
        char *end;
        unsigned long quorum = strtoul(line + 7, &end, 10);
        if (*end || quorum == 0 || quorum > ORIGO_TRUST_MAX_KEYS)
            return ORIGO_E_CONFIG;
        trust->quorum = quorum;
        return 0;
    }
    if (trust->signer_count >= ORIGO_TRUST_MAX_KEYS ||
        trust->witness_count >= ORIGO_TRUST_MAX_KEYS)
        return ORIGO_E_TOOBIG;
    if (origo_vkey_parse(line, len, &trust->signers[trust->signer_count]) ==
        0) {
        trust->signer_count++;
        return 0;
    }
    if (origo_witness_key_parse(line, len,
                                &trust->witnesses[trust->witness_count]) == 0) {
        trust->witness_count++;
        return 0;
    }
    return ORIGO_E_VKEY;
}

int origo_trust_load(const char *path, origo_trust *out, char *err,
                     size_t err_len)
{
    uint8_t *data;
    size_t len;
    int rc = origo_read_file(path, 1 << 20, &data, &len);
    if (rc) {
        snprintf(err, err_len, "%s: cannot read trust file: %s", path,
                 origo_strerror(rc));
        return rc;
    }
    if (memchr(data, 0, len)) {
        snprintf(err, err_len,
                 "%s: contains a NUL byte; a trust file is "
                 "text",
                 path);
        free(data);
        return ORIGO_E_CONFIG;
    }
    origo_trust *trust = calloc(1, sizeof(*trust));
    if (!trust) {
        free(data);
        return ORIGO_E_NOMEM;
    }
    char *line = (char *)data;
    int line_no = 0;
    while (!rc && line && *line) {
        line_no++;
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        size_t line_len = strlen(line);
        while (line_len &&
               (line[line_len - 1] == ' ' || line[line_len - 1] == '\r'))
            line[--line_len] = 0;
        if (line_len && line[0] != '#') {
            rc = parse_line(trust, line, line_len);
            if (rc)
                snprintf(err, err_len,
                         "%s:%d: expected a verifier key "
                         "(name+keyid+base64), 'origin NAME' or 'quorum K': "
                         "%s",
                         path, line_no, origo_strerror(rc));
        }
        line = next;
    }
    free(data);
    if (!rc && trust->signer_count == 0) {
        snprintf(err, err_len,
                 "%s: no validator keys (one verifier key per "
                 "line)",
                 path);
        rc = ORIGO_E_CONFIG;
    }
    if (!rc)
        *out = *trust;
    free(trust);
    return rc;
}

void origo_trust_policy(const origo_trust *trust, size_t quorum_override,
                        origo_note_policy *policy)
{
    memset(policy, 0, sizeof(*policy));
    policy->signers = trust->signers;
    policy->signer_count = trust->signer_count;
    /* 0 lets the verifier take a majority of the distinct keys. */
    policy->quorum = quorum_override ? quorum_override : trust->quorum;
    policy->witnesses = trust->witnesses;
    policy->witness_count = trust->witness_count;
}

size_t origo_trust_distinct_signers(const origo_trust *trust)
{
    size_t distinct = 0;
    for (size_t i = 0; i < trust->signer_count; i++) {
        size_t j = 0;
        while (j < i && memcmp(trust->signers[j].pub, trust->signers[i].pub,
                               ORIGO_PUBKEY_LEN) != 0)
            j++;
        distinct += j == i;
    }
    return distinct;
}
