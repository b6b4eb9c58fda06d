/* The origo command-line tool: one binary, one verb per file (tools/cmd_*.c).
 * This file only dispatches and prints the overview; each verb parses its
 * own flags and prints its own errors. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"

struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct verb verbs[] = {
    {"keygen", cmd_keygen, "create a key file; print its public key"},
    {"event", cmd_event, "build and sign an event envelope"},
    {"verify", cmd_verify, "verify tlog-proof files or trace reports offline"},
    {"genesis", cmd_genesis, "create a network's genesis file"},
    {"audit", cmd_audit, "re-verify a node's whole ledger from genesis"},
    {"trace", cmd_trace, "trace a lot backward, forward or for a recall"},
    {"prove", cmd_prove, "write a tlog-proof file for one event"},
    {"submit", cmd_submit, "send signed events to the network"},
    {"get", cmd_get, "what became of an event (committed, rejected)"},
    {"checkpoint", cmd_checkpoint, "fetch and check the latest checkpoint"},
    {"status", cmd_status, "each node's role, leader, indexes and peers"},
    {"member", cmd_member, "admit, change or remove a member (admins)"},
    {"trust", cmd_trust, "write a network's trust file from its genesis"},
    {"demo", cmd_demo, "run the sample supply chain in one process"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: origo <verb> [options]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\n'origo <verb> --help' describes a verb's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "origo: libsodium failed to initialise\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "origo: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
