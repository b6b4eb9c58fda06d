/* `origo audit`: re-verifies a node's ledger store from its genesis
 * (ledger_audit_ex(): every envelope, validation decision, leaf, header,
 * chain link, Merkle hash, index and checkpoint signature) and prints a
 * one-line verdict: exit 0 clean, 1 a discrepancy (named precisely), 2 when
 * the audit could not run. With --genesis and --trust the store is also
 * anchored outside itself: without them a consistent rewrite of the whole
 * store would audit clean, and the verdict says so. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ledger.h"
#include "cmd.h"
#include "ledger.h"
#include "origo/error.h"
#include "origo/file.h"
#include "origo/trust.h"

static void audit_usage(FILE *out)
{
    fprintf(
        out,
        "usage: origo audit --data DIR [--genesis FILE] [--trust FILE "
        "[--quorum K]]\n"
        "                   [--scratch DIR]\n"
        "  --data DIR      the node's data directory, or its ledger directory "
        "(holds\n"
        "                  data.mdb); stop the node\n"
        "                  or audit a copy (mdb_copy) of a live store\n"
        "  --genesis FILE  the genesis file you expect: the store must have "
        "been\n"
        "                  created from it (same genesis hash)\n"
        "  --trust FILE    the validator keys you trust (docs/formats/"
        "trust.md): the\n"
        "                  latest quorum-signed checkpoint must be signed by "
        "a quorum\n"
        "                  of them and match the replayed tree\n"
        "  --quorum K      trusted signatures required (default: the trust "
        "file's\n"
        "                  quorum, else a majority of its distinct keys)\n"
        "  --scratch DIR   where the replay store goes (default $TMPDIR or "
        "/tmp);\n"
        "                  it needs about as much space as the ledger\n"
        "Without --genesis and --trust the audit checks internal consistency "
        "only:\n"
        "whoever can write the store could rewrite all of it consistently.\n");
}

/* Loads --genesis and --trust into the audit options. Returns 0 or exit
 * status 2 after printing why. */
static int load_anchors(const char *genesis_path, const char *trust_path,
                        size_t quorum, ledger_audit_options *opts,
                        origo_trust *trust, origo_note_policy *policy)
{
    if (genesis_path) {
        uint8_t *json;
        size_t len;
        int rc = origo_read_file(genesis_path, 4u << 20, &json, &len);
        if (rc) {
            cli_error("audit", "%s: cannot read the genesis file: %s",
                      genesis_path, origo_strerror(rc));
            return 2;
        }
        opts->genesis_json = json;
        opts->genesis_len = len;
    }
    if (!trust_path)
        return 0;
    char err[512];
    if (origo_trust_load(trust_path, trust, err, sizeof(err)) != 0) {
        cli_error("audit", "%s", err);
        return 2;
    }
    size_t distinct = origo_trust_distinct_signers(trust);
    size_t effective = quorum ? quorum : trust->quorum;
    if (effective > distinct) {
        cli_error("audit",
                  "%s: a quorum of %zu cannot be met by %zu distinct "
                  "validator keys",
                  trust_path, effective, distinct);
        return 2;
    }
    origo_trust_policy(trust, quorum, policy);
    opts->trust = policy;
    opts->trust_origin = trust->origin[0] ? trust->origin : NULL;
    return 0;
}

static int parse_quorum(const char *text, size_t *out)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (*text < '1' || *text > '9' || *end || value > ORIGO_TRUST_MAX_KEYS)
        return -1;
    *out = (size_t)value;
    return 0;
}

static void print_clean(const char *data, const ledger_audit_report *rep,
                        const char *genesis_path, const char *trust_path)
{
    char root[65], genesis[65];
    sodium_bin2hex(root, sizeof(root), rep->root, 32);
    sodium_bin2hex(genesis, sizeof(genesis), rep->genesis_hash, 32);
    printf("audit clean: %s: %llu blocks, %llu events, tree size %llu, root "
           "%s, %llu checkpoint signatures; genesis %s",
           data, (unsigned long long)rep->blocks,
           (unsigned long long)rep->events, (unsigned long long)rep->tree_size,
           root, (unsigned long long)rep->signatures, genesis);
    if (rep->genesis_anchored)
        printf(" matches %s", genesis_path);
    if (rep->checkpoint_anchored)
        printf("; checkpoint at tree size %llu signed by %zu trusted keys "
               "(quorum %zu) of %s",
               (unsigned long long)rep->anchored_size, rep->anchored_signers,
               rep->anchored_quorum, trust_path);
    if (!rep->genesis_anchored && !rep->checkpoint_anchored)
        printf("; internal consistency only (no --genesis or --trust: a "
               "consistent rewrite of the whole store would also pass)");
    else if (!rep->genesis_anchored)
        printf("; genesis not anchored (no --genesis)");
    else if (!rep->checkpoint_anchored)
        printf("; no trusted checkpoint (no --trust): events are anchored to "
               "the genesis only");
    printf("\n");
}

int cmd_audit(int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"genesis", required_argument, NULL, 'g'},
        {"trust", required_argument, NULL, 't'},
        {"quorum", required_argument, NULL, 'q'},
        {"scratch", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *genesis_path = NULL, *trust_path = NULL;
    ledger_audit_options opts = {0};
    size_t quorum = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 'g':
            genesis_path = optarg;
            break;
        case 't':
            trust_path = optarg;
            break;
        case 'q':
            if (parse_quorum(optarg, &quorum) != 0) {
                cli_error("audit", "--quorum: expected 1..%d, got '%s'",
                          ORIGO_TRUST_MAX_KEYS, optarg);
                return 2;
            }
            break;
        case 's':
            opts.scratch_dir = optarg;
            break;
        case 'h':
            audit_usage(stdout);
            return 0;
        default:
            audit_usage(stderr);
            return 2;
        }
    }
    if (!data || optind != argc || (quorum && !trust_path)) {
        audit_usage(stderr);
        return 2;
    }
    origo_trust *trust = calloc(1, sizeof(*trust));
    origo_note_policy policy;
    int status = trust ? load_anchors(genesis_path, trust_path, quorum, &opts,
                                      trust, &policy)
                       : 2;
    if (status)
        goto out;
    ledger_audit_report rep;
    char dir[4096 + 16];
    cli_ledger_dir(data, dir, sizeof(dir));
    data = dir;
    int rc = ledger_audit_ex(data, &opts, &rep);
    if (rc) {
        cli_error("audit", "%s: cannot audit: %s%s%s", data, origo_strerror(rc),
                  rep.detail[0] ? ": " : "", rep.detail);
        status = 2;
    } else if (!rep.clean) {
        printf("audit FAILED: %s: table %s, key %s: expected %s, found %s "
               "(%s); %llu blocks verified before it\n",
               data, rep.table, rep.key, rep.expected, rep.found, rep.detail,
               (unsigned long long)rep.blocks);
        status = 1;
    } else {
        print_clean(data, &rep, genesis_path, trust_path);
    }
out:
    free((void *)opts.genesis_json);
    free(trust);
    return status;
}
