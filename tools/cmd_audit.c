/* `origo audit`: re-verifies a node's ledger store from its genesis
 * (ledger_audit(): every envelope, validation decision, leaf, header, chain
 * link, Merkle hash, index and checkpoint signature) and prints a one-line
 * verdict: exit 0 clean, 1 a discrepancy (named precisely), 2 when the
 * audit could not run. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "ledger.h"
#include "origo/error.h"

static void audit_usage(FILE *out)
{
    fprintf(out,
            "usage: origo audit --data DIR [--scratch DIR]\n"
            "  --data DIR     the node's ledger directory (holds data.mdb); "
            "stop the node\n"
            "                 or audit a copy (mdb_copy) of a live store\n"
            "  --scratch DIR  where the replay store goes (default $TMPDIR or "
            "/tmp);\n"
            "                 it needs about as much space as the ledger\n");
}

int cmd_audit(int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"scratch", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *scratch = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            data = optarg;
            break;
        case 's':
            scratch = optarg;
            break;
        case 'h':
            audit_usage(stdout);
            return 0;
        default:
            audit_usage(stderr);
            return 2;
        }
    }
    if (!data || optind != argc) {
        audit_usage(stderr);
        return 2;
    }
    ledger_audit_report rep;
    int rc = ledger_audit(data, scratch, &rep);
    if (rc) {
        cli_error("audit", "%s: cannot audit: %s%s%s", data, origo_strerror(rc),
                  rep.detail[0] ? ": " : "", rep.detail);
        return 2;
    }
    if (!rep.clean) {
        printf("audit FAILED: %s: table %s, key %s: expected %s, found %s "
               "(%s); %llu blocks verified before it\n",
               data, rep.table, rep.key, rep.expected, rep.found, rep.detail,
               (unsigned long long)rep.blocks);
        return 1;
    }
    char root[65];
    sodium_bin2hex(root, sizeof(root), rep.root, 32);
    printf("audit clean: %s: %llu blocks, %llu events, tree size %llu, root "
           "%s, %llu checkpoint signatures\n",
           data, (unsigned long long)rep.blocks, (unsigned long long)rep.events,
           (unsigned long long)rep.tree_size, root,
           (unsigned long long)rep.signatures);
    return 0;
}
