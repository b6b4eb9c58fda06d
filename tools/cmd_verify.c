/* `origo verify`: offline verification of tlog-proof files and trace
 * reports against a trust file of validator keys. For a proof it checks the
 * checkpoint's signatures and quorum, the inclusion proof, and the
 * signature and schema of the event envelope carried in it; for a trace
 * report, every event's proof and signature and that the claimed answer is
 * exactly what those events imply. One verdict line per file; exit 0 only
 * if every file verified. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "origo/error.h"
#include "origo/file.h"
#include "origo/event.h"
#include "origo/proof.h"
#include "report_authority.h"
#include "report_verify.h"
#include "origo/trust.h"

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: origo verify --trust FILE [--quorum K] [--signers] "
            "FILE...\n"
            "  --trust FILE  validator verifier keys, one per line "
            "(docs/formats/trust.md)\n"
            "  --quorum K    signatures required (default: the trust file's, "
            "else a majority)\n"
            "  --signers     for a v2 trace report, one line per event: who "
            "signed it,\n"
            "                with which roles, and as the lot's owner, "
            "holder, receiver\n"
            "                or a third party (proven from the report "
            "alone)\n"
            "Each FILE is a c2sp.org/tlog-proof@v1 file (origo prove) or "
            "a trace\nreport (origo trace --proofs --out).\n"
            "Exit status: 0 all verified, 1 some did not, 2 usage error.\n");
}

/* Describes the event inside a verified proof in a few words. */
static void describe_event(const origo_event *ev, const uint8_t id[32],
                           char *out, size_t out_len)
{
    char hex[65];
    cli_hex(id, 32, hex);
    int lot_len = ev->n_lots ? (int)ev->lots[0].lot.len : 0;
    snprintf(out, out_len, "%s event %.16s... lot %.*s%s",
             origo_event_type_name(ev->type), hex, lot_len,
             ev->n_lots ? ev->lots[0].lot.ptr : "", ev->n_lots > 1 ? " +" : "");
}

/* Returns 1 when the report's "origin" is the trust file's (or the trust
 * file names none). */
static int report_origin_matches(const uint8_t *data, size_t len,
                                 const origo_trust *trust)
{
    if (!trust->origin[0])
        return 1;
    json_t *root = json_loadb((const char *)data, len, 0, NULL);
    const char *origin = json_string_value(json_object_get(root, "origin"));
    int match = origin && !strcmp(origin, trust->origin);
    json_decref(root);
    return match;
}

static void print_signers(const struct rauth_signer *signers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct rauth_signer *s = &signers[i];
        char roles[128] = "";
        cli_roles(s->roles, roles, sizeof(roles));
        printf("     leaf %-6llu %-16s by %s (%s), %s%s\n",
               (unsigned long long)s->leaf, s->type, s->name, roles,
               rauth_standing_name(s->standing),
               s->revoked ? ", SIGNED AFTER ITS KEY WAS REVOKED" : "");
    }
}

static int verify_report(const char *path, const uint8_t *data, size_t len,
                         const origo_trust *trust,
                         const origo_note_policy *policy, int show_signers)
{
    if (!report_origin_matches(data, len, trust)) {
        printf("FAIL %s: the report's origin is not '%s' (trust file)\n", path,
               trust->origin);
        return 1;
    }
    struct report_verdict verdict;
    struct rauth_signer *signers = NULL;
    size_t count = 0;
    char err[1024] = "";
    int rc = report_verify_attributed(data, len, policy, &verdict, &signers,
                                      &count, err, sizeof(err));
    if (rc) {
        printf("FAIL %s: %s (%s)\n", path, err[0] ? err : origo_strerror(rc),
               origo_errname(rc));
        return 1;
    }
    char authority[160] = "; v1: completeness and authority not proven";
    if (verdict.authority) {
        snprintf(authority, sizeof(authority),
                 "; complete under the cosigned lot index, every event "
                 "within its signer's authority (%zu by third parties%s)",
                 verdict.third_party,
                 verdict.revoked ? ", some after a key revocation" : "");
    }
    printf("OK   %s: trace report with %zu lot%s, %zu edge%s, %zu event%s%s, "
           "all proven at tree %llu, checkpoint signed by %zu of %zu "
           "trusted validators%s\n",
           path, verdict.lots, cli_s(verdict.lots), verdict.edges,
           cli_s(verdict.edges), verdict.events, cli_s(verdict.events),
           verdict.cycle ? " (contains a cycle)" : "",
           (unsigned long long)verdict.tree_size, verdict.signers,
           origo_trust_distinct_signers(trust), authority);
    if (show_signers)
        print_signers(signers, count);
    free(signers);
    return 0;
}

static int verify_one(const char *path, const origo_trust *trust,
                      const origo_note_policy *policy, int show_signers)
{
    uint8_t *data;
    size_t len;
    int rc = origo_read_file(path, REPORT_MAX_BYTES, &data, &len);
    if (rc) {
        printf("FAIL %s: cannot read: %s\n", path, origo_strerror(rc));
        return 1;
    }
    if (report_is_report(data, len)) {
        int failed =
            verify_report(path, data, len, trust, policy, show_signers);
        free(data);
        return failed;
    }
    static const char header[] = ORIGO_TLOG_PROOF_HEADER "\n";
    if (len < sizeof(header) - 1 || memcmp(data, header, sizeof(header) - 1)) {
        printf("FAIL %s: neither a tlog-proof file (first line "
               "'" ORIGO_TLOG_PROOF_HEADER "') nor a trace report (JSON with "
               "\"format\": \"origo-trace-report/v1\" or v2)\n",
               path);
        free(data);
        return 1;
    }
    origo_tlog_proof *proof = NULL;
    origo_note_verdict verdict;
    rc = origo_tlog_proof_verify(data, len, policy,
                                 trust->origin[0] ? trust->origin : NULL,
                                 &proof, &verdict);
    free(data);
    if (rc) {
        printf("FAIL %s: %s (%s)\n", path, origo_strerror(rc),
               origo_errname(rc));
        return 1;
    }
    /* The event must belong to the checkpoint's network. */
    origo_event *ev = malloc(sizeof(*ev));
    uint8_t id[32];
    const char *origin = proof->checkpoint.origin;
    rc = ev ? origo_envelope_verify(proof->extra, proof->extra_len, origin,
                                    strlen(origin), ev, id)
            : ORIGO_E_NOMEM;
    if (rc) {
        printf("FAIL %s: the event envelope in the 'extra' line: %s (%s)\n",
               path, origo_strerror(rc), origo_errname(rc));
    } else {
        char what[200];
        describe_event(ev, id, what, sizeof(what));
        printf("OK   %s: %s at index %llu of tree %llu (%s), checkpoint "
               "signed by %zu of %zu trusted validators (quorum %zu)\n",
               path, what, (unsigned long long)proof->index,
               (unsigned long long)proof->checkpoint.tree_size, origin,
               verdict.signers, origo_trust_distinct_signers(trust),
               verdict.quorum);
    }
    free(ev);
    origo_tlog_proof_free(proof);
    return rc ? 1 : 0;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option options[] = {
        {"trust", required_argument, NULL, 't'},
        {"quorum", required_argument, NULL, 'q'},
        {"signers", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *trust_path = NULL;
    size_t quorum = 0;
    int opt, show_signers = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "t:q:sh", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 't':
            trust_path = optarg;
            break;
        case 'q':
            quorum = strtoul(optarg, &end, 10);
            if (*end || quorum == 0) {
                cli_error("verify",
                          "--quorum '%s': expected a positive "
                          "number",
                          optarg);
                return 2;
            }
            break;
        case 's':
            show_signers = 1;
            break;
        case 'h':
            verify_usage(stdout);
            return 0;
        default:
            verify_usage(stderr);
            return 2;
        }
    }
    if (!trust_path || optind == argc) {
        verify_usage(stderr);
        return 2;
    }
    origo_trust *trust = malloc(sizeof(*trust));
    char err[512];
    if (!trust || origo_trust_load(trust_path, trust, err, sizeof(err))) {
        cli_error("verify", "%s", trust ? err : "out of memory");
        free(trust);
        return 2;
    }
    origo_note_policy policy;
    origo_trust_policy(trust, quorum, &policy);
    size_t distinct = origo_trust_distinct_signers(trust);
    if (policy.quorum > distinct) {
        cli_error("verify",
                  "quorum %zu cannot be met: %s lists %zu distinct "
                  "validator keys",
                  policy.quorum, trust_path, distinct);
        free(trust);
        return 2;
    }
    int failed = 0;
    for (int i = optind; i < argc; i++)
        failed += verify_one(argv[i], trust, &policy, show_signers);
    printf("%d of %d verified\n", argc - optind - failed, argc - optind);
    free(trust);
    return failed ? 1 : 0;
}
