/* Trust files: the validator (and witness) keys an auditor trusts, one
 * C2SP verifier key per line (docs/formats/trust.md). The CLI's verifying
 * verbs, the client and integrators read them. Pure; any thread. */
#ifndef ORIGO_TRUST_H
#define ORIGO_TRUST_H

#include <stddef.h>

#include "origo/note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ORIGO_TRUST_MAX_KEYS 64

typedef struct origo_trust {
    char origin[ORIGO_CHECKPOINT_MAX_ORIGIN + 1]; /* "" when not given */
    size_t quorum;                                /* 0: majority */
    origo_vkey signers[ORIGO_TRUST_MAX_KEYS];
    size_t signer_count;
    origo_witness_key witnesses[ORIGO_TRUST_MAX_KEYS];
    size_t witness_count;
} origo_trust;

/* Parses a trust file. On error writes "<path>:<line>: <what>" into err and
 * returns a negative ORIGO_E_* code. */
int origo_trust_load(const char *path, origo_trust *out, char *err,
                     size_t err_len);

/* Fills a note policy from the trust set; quorum_override (if non-zero)
 * replaces the file's quorum; without either the verifier takes a majority
 * of the distinct keys. */
void origo_trust_policy(const origo_trust *trust, size_t quorum_override,
                        origo_note_policy *policy);

/* The number of distinct validator public keys (one key listed under two
 * names counts once, as it does for the quorum). */
size_t origo_trust_distinct_signers(const origo_trust *trust);

#ifdef __cplusplus
}
#endif

#endif
