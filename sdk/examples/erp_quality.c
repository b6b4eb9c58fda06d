/* An ERP's quality flow with liborigo and liborigo-client: copy it.
 *
 *   erp_quality NODE_URL KEY_FILE TRUST_FILE NETWORK LOT_PREFIX
 *
 * As supplier KEY_FILE on network NETWORK it creates a lot, attests the
 * SHA-256 of its certificate of analysis (a PDF in real life), records an
 * inspection with two measured values, ships the lot to the member named
 * by $ERP_CONSIGNEE (default dev-admin, a member of every --dev network; a
 * real ERP names its customer), waits until each event is committed, then
 * fetches the proof of the COA attestation and checks it against the
 * validators' keys in TRUST_FILE.
 * With `origo-node --dev --data DIR`, run it as
 *
 *   erp_quality http://127.0.0.1:7401 DIR/supplier.key DIR/trust.txt \
 *       origo.dev/local dev-supplier
 *
 * Exit status 0 when everything committed and the proof verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "origo/client.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"
#include "origo/proof.h"
#include "origo/trust.h"

/* Signs one event and submits it; waits for the commit. */
static int record(origo_client *client, const origo_key *key, origo_event *ev,
                  const char *what, uint8_t id[32])
{
    origo_buf envelope;
    origo_buf_init(&envelope, ORIGO_ENVELOPE_MAX);
    int rc = origo_event_seal(ev, key, &envelope, id);
    if (rc) {
        fprintf(stderr, "%s: cannot sign: %s\n", what, origo_strerror(rc));
        origo_buf_close(&envelope);
        return rc;
    }
    const uint8_t *envs[1] = {envelope.data};
    size_t lens[1] = {envelope.len};
    origo_submit_result result;
    char err[512] = "";
    /* Safe to call again with the same envelope after any failure: the
     * network answers an event it already has with its first commit. */
    rc = origo_client_submit(client, envs, lens, 1, 1, 30000, &result, err,
                             sizeof(err));
    origo_buf_close(&envelope);
    if (rc) {
        fprintf(stderr, "%s: %s\n", what, err);
        return rc;
    }
    if (result.status != ORIGO_SUBMIT_COMMITTED) {
        fprintf(stderr, "%s: rejected: %s\n", what, result.code);
        return ORIGO_E_PERM;
    }
    printf("%-34s committed at leaf %llu\n", what,
           (unsigned long long)result.leaf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: erp_quality NODE_URL KEY_FILE TRUST_FILE "
                        "NETWORK LOT_PREFIX\n");
        return 2;
    }
    const char *url = argv[1], *net = argv[4], *prefix = argv[5];
    if (sodium_init() < 0 || origo_client_global_init() != 0)
        return 2;

    /* Who we are, and whom we trust. */
    origo_key *key = NULL;
    origo_trust trust;
    origo_note_policy policy;
    char err[512];
    int rc = origo_key_load(argv[2], &key);
    if (rc) {
        fprintf(stderr, "%s: %s\n", argv[2], origo_strerror(rc));
        return 2;
    }
    if (origo_trust_load(argv[3], &trust, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    origo_trust_policy(&trust, 0, &policy);
    const char *urls[1] = {url};
    origo_client_options opts = {
        .urls = urls, .n_urls = 1, .key = key, .trust = &policy, .origin = net};
    origo_client *client = NULL;
    if ((rc = origo_client_new(&opts, &client, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }

    /* One lot per run: its number comes from the clock. */
    char lot[128], name[256];
    snprintf(lot, sizeof(lot), "%s/cell-21700/L-%lld", prefix,
             (long long)time(NULL));
    snprintf(name, sizeof(name), "%s", origo_key_name(key));
    uint64_t now = (uint64_t)time(NULL) * 1000u;
    uint8_t id[32], coa_id[32];
    origo_event ev;

    origo_event_init(&ev, ORIGO_EV_LOT_CREATE);
    ev.net = origo_str_c(net);
    memcpy(ev.by, origo_key_public(key), 32);
    ev.ts = now;
    ev.n_lots = 1;
    ev.lots[0] = (origo_lot_ref){.role = ORIGO_LOT_SUBJECT,
                                 .lot = origo_str_c(lot),
                                 .qty = origo_str_c("5000"),
                                 .unit = origo_str_c("pcs")};
    ev.item = origo_str_c("cell-21700");
    rc = record(client, key, &ev, "lot.create", id);

    /* The COA: only its SHA-256 goes on the ledger. */
    static const char coa_pdf[] = "%PDF-1.7 ... certificate of analysis ...";
    origo_event_init(&ev, ORIGO_EV_COA_ATTEST);
    ev.net = origo_str_c(net);
    memcpy(ev.by, origo_key_public(key), 32);
    ev.ts = now + 1;
    ev.n_lots = 1;
    ev.lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    crypto_hash_sha256(ev.coa, (const uint8_t *)coa_pdf, sizeof(coa_pdf) - 1);
    ev.issuer = origo_str_c(name);
    if (rc == 0)
        rc =
            record(client, key, &ev, "coa.attest (SHA-256 of the PDF)", coa_id);

    /* An outgoing inspection with measured values and their limits. */
    origo_event_init(&ev, ORIGO_EV_INSPECTION);
    ev.net = origo_str_c(net);
    memcpy(ev.by, origo_key_public(key), 32);
    ev.ts = now + 2;
    ev.n_lots = 1;
    ev.lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    ev.stage = ORIGO_STAGE_OQC;
    ev.result = ORIGO_RESULT_PASS;
    crypto_hash_sha256(ev.report, (const uint8_t *)"OQC report", 10);
    ev.n_measures = 2;
    ev.measures[0] = (origo_measure){origo_str_c("capacity"),
                                     origo_str_c("5.01"), origo_str_c("Ah"),
                                     origo_str_c("4.8"), origo_str_c("5.2")};
    ev.measures[1] = (origo_measure){origo_str_c("internal-resistance"),
                                     origo_str_c("18.5"),
                                     origo_str_c("mOhm"),
                                     {0},
                                     origo_str_c("22")};
    if (rc == 0)
        rc = record(client, key, &ev, "inspection OQC pass", id);

    /* A shipment: `to` names the consignee as the genesis names it. */
    origo_event_init(&ev, ORIGO_EV_CUSTODY_SHIP);
    ev.net = origo_str_c(net);
    memcpy(ev.by, origo_key_public(key), 32);
    ev.ts = now + 3;
    ev.n_lots = 1;
    ev.lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    ev.from = origo_str_c(name);
    ev.to = origo_str_c(getenv("ERP_CONSIGNEE") ? getenv("ERP_CONSIGNEE")
                                                : "dev-admin");
    ev.ref = origo_str_c("DN-0001");
    if (rc == 0)
        rc = record(client, key, &ev, "custody.ship", id);

    /* The proof that the COA hash is in the ledger, checked against the
     * validators' keys before we keep it. */
    origo_buf proof;
    origo_buf_init(&proof, ORIGO_TLOG_PROOF_MAX_BYTES);
    if (rc == 0) {
        for (int tries = 0; tries < 50; tries++) {
            /* The first checkpoint after a commit may still be gathering
             * its validators' signatures. */
            rc = origo_client_proof(client, coa_id, &proof, err, sizeof(err));
            if (rc != ORIGO_E_AGAIN && rc != ORIGO_E_NOTFOUND)
                break;
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (rc)
            fprintf(stderr, "proof: %s\n", err);
        else
            printf("proof of the COA attestation: %zu bytes, verified "
                   "against %s\n",
                   proof.len, argv[3]);
    }
    origo_buf_close(&proof);
    origo_client_free(client);
    origo_key_free(key);
    return rc ? 1 : 0;
}
