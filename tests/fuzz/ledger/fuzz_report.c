/* Fuzzes the offline trace-report verifier (ledger/report_verify.c) with
 * the trust set of the trace tests' network (validators v0, v1, v2 whose
 * seeds are SHA-256 of their names), so seed reports built from that
 * network verify and mutations of them exercise every check. Properties: no
 * crash; the verdict is deterministic (a second run gives the same code);
 * a rejection always explains itself; an accepted report has a checkpoint
 * with at least the quorum of signers and no more lots than bytes. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/keys.h"
#include "report_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static origo_vkey keys[3];
static int keys_ready;

static void make_keys(void)
{
    for (int v = 0; v < 3; v++) {
        char name[3] = {'v', (char)('0' + v), '\0'};
        uint8_t seed[32], pk[32], sk[64];
        crypto_hash_sha256(seed, (const uint8_t *)name, 2);
        crypto_sign_seed_keypair(pk, sk, seed);
        if (origo_vkey_id(name, 2, pk, keys[v].key_id) != 0) {
            abort();
        }
        memcpy(keys[v].name, name, 3);
        keys[v].name_len = 2;
        memcpy(keys[v].pub, pk, 32);
    }
    keys_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys_ready) {
        if (sodium_init() < 0) {
            abort();
        }
        make_keys();
    }
    origo_note_policy policy = {
        .signers = keys,
        .signer_count = 3,
        .quorum = 0,
    };
    struct report_verdict verdict;
    char err[512] = "", err2[512] = "";
    int rc = report_verify(data, size, &policy, &verdict, err, sizeof(err));
    int again = report_verify(data, size, &policy, NULL, err2, sizeof(err2));
    if (rc != again || strcmp(err, err2) != 0) {
        abort();
    }
    if (rc != 0) {
        if (rc > 0 || err[0] == '\0') {
            abort();
        }
        return 0;
    }
    if (verdict.signers < 2 || verdict.lots == 0 || verdict.lots > size ||
        verdict.events > size || !report_is_report(data, size)) {
        abort();
    }
    return 0;
}
