/* `origo prove`: writes the offline proof of one event, a C2SP
 * tlog-proof@v1 file (the envelope in its extra line, the leaf index, the
 * inclusion proof and the latest quorum-signed checkpoint), from a node's
 * data directory opened read-only. `origo verify` checks such files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ledger.h"
#include "cmd.h"
#include "ledger.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/merkle.h"
#include "origo/note.h"
#include "origo/proof.h"

struct prove_args {
    const char *data_dir;
    const char *out;
    int has_leaf;
    uint64_t leaf;
    int has_id;
    uint8_t event_id[32];
};

static void prove_usage(FILE *out)
{
    fprintf(out,
            "usage: origo prove --data DIR (--leaf N | --event ID) "
            "[--out FILE]\n"
            "  --data DIR   the node's data directory (opened read-only)\n"
            "  --leaf N     the event at Merkle leaf N\n"
            "  --event ID   the event with this ID (64 hex digits)\n"
            "  --out FILE   write the proof there (default: standard "
            "output)\n"
            "The proof is a c2sp.org/tlog-proof@v1 file against the latest "
            "quorum-signed\ncheckpoint; check it with `origo verify`.\n"
            "       origo prove --node URL [--node URL]... --key FILE --trust "
            "FILE\n"
            "                   --event ID [--out FILE] [--state FILE]\n"
            "  The same file from running nodes (a read signed with --key),\n"
            "  checked against the trust file before it is written.\n"
            "Exit status: 0 written, 1 the node's proof does not verify, 2 "
            "usage,\ninput or network error.\n");
}

static int parse_args(int argc, char **argv, struct prove_args *args)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"leaf", required_argument, NULL, 'l'},
        {"event", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    memset(args, 0, sizeof(*args));
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:l:e:o:h", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'd':
            args->data_dir = optarg;
            break;
        case 'l':
            args->leaf = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *optarg == '-' || *end != '\0') {
                cli_error("prove", "--leaf '%s': expected a leaf index",
                          optarg);
                return 2;
            }
            args->has_leaf = 1;
            break;
        case 'e':
            if (strlen(optarg) != 64 ||
                cli_unhex(optarg, args->event_id, 32) != 0) {
                cli_error("prove",
                          "--event '%s': expected an event ID of 64 hex "
                          "digits",
                          optarg);
                return 2;
            }
            args->has_id = 1;
            break;
        case 'o':
            args->out = optarg;
            break;
        case 'h':
            prove_usage(stdout);
            return 0;
        default:
            prove_usage(stderr);
            return 2;
        }
    }
    if (args->data_dir == NULL || args->has_leaf == args->has_id ||
        optind != argc) {
        prove_usage(stderr);
        return 2;
    }
    return -1;
}

/* Resolves --event to a leaf index. */
static int find_leaf(ledger *led, MDB_txn *txn, struct prove_args *args)
{
    ledger_event_info info;
    char hex[65];
    int rc = ledger_event_lookup(led, txn, args->event_id, &info);
    cli_hex(args->event_id, 32, hex);
    if (rc != 0) {
        cli_error("prove", "%s: looking up event %s: %s", args->data_dir, hex,
                  origo_strerror(rc));
        return rc;
    }
    if (info.status == LEDGER_EVENT_REJECTED) {
        cli_error("prove",
                  "event %s: rejected in block %llu (%s), so it is not in the "
                  "log",
                  hex, (unsigned long long)info.height,
                  origo_strerror(info.reason));
        return ORIGO_E_NOTFOUND;
    }
    if (info.status != LEDGER_EVENT_COMMITTED) {
        cli_error("prove", "event %s: not in the ledger at %s", hex,
                  args->data_dir);
        return ORIGO_E_NOTFOUND;
    }
    args->leaf = info.leaf_index;
    return 0;
}

/* Builds the proof file for args->leaf into `out`. */
static int build_proof(ledger *led, MDB_txn *txn, const struct prove_args *args,
                       origo_buf *out)
{
    char *text;
    size_t text_len, proof_len, envelope_len;
    uint64_t tree_size;
    const uint8_t *envelope;
    uint8_t proof[ORIGO_MERKLE_MAX_PROOF][ORIGO_HASH_LEN];
    origo_note *note;
    int rc = ledger_checkpoint_latest(led, txn, &text, &text_len, &tree_size);
    if (rc != 0) {
        cli_error("prove", "%s: %s", args->data_dir,
                  rc == ORIGO_E_NOTFOUND
                      ? "no quorum-signed checkpoint yet: nothing to prove "
                        "against"
                      : origo_strerror(rc));
        return rc;
    }
    if (args->leaf >= tree_size) {
        cli_error("prove",
                  "leaf %llu: the latest quorum-signed checkpoint covers "
                  "leaves 0 to %llu; try again after the next checkpoint",
                  (unsigned long long)args->leaf,
                  (unsigned long long)tree_size - (tree_size > 0));
        free(text);
        return ORIGO_E_TREE_SIZE;
    }
    rc = origo_note_parse((const uint8_t *)text, text_len, &note);
    free(text);
    if (rc != 0) {
        cli_error("prove", "%s: the stored checkpoint note: %s", args->data_dir,
                  origo_strerror(rc));
        return rc;
    }
    rc = ledger_event_at(led, txn, args->leaf, &envelope, &envelope_len);
    if (rc == 0) {
        rc = ledger_inclusion_proof(led, txn, args->leaf, tree_size, proof,
                                    ORIGO_MERKLE_MAX_PROOF, &proof_len);
    }
    if (rc == 0) {
        rc = origo_tlog_proof_write(envelope, envelope_len, args->leaf,
                                    (const uint8_t(*)[ORIGO_HASH_LEN])proof,
                                    proof_len, note, out);
    }
    if (rc != 0) {
        cli_error("prove", "%s: leaf %llu: %s", args->data_dir,
                  (unsigned long long)args->leaf, origo_strerror(rc));
    }
    origo_note_free(note);
    return rc;
}

static int prove(ledger *led, struct prove_args *args)
{
    MDB_txn *txn;
    origo_buf out;
    int rc = ledger_txn_begin(led, 1, &txn);
    if (rc != 0) {
        cli_error("prove", "%s: %s", args->data_dir, origo_strerror(rc));
        return 2;
    }
    origo_buf_init(&out, ORIGO_TLOG_PROOF_MAX_BYTES);
    if (args->has_id) {
        rc = find_leaf(led, txn, args);
    }
    if (rc == 0) {
        rc = build_proof(led, txn, args, &out);
    }
    mdb_txn_abort(txn);
    if (rc == 0) {
        rc = cli_output("prove", args->out, out.data, out.len);
    }
    origo_buf_close(&out);
    return rc == 0 ? 0 : 2;
}

int cmd_prove(int argc, char **argv)
{
    if (cmd_has_node(argc, argv))
        return net_prove(argc, argv);
    struct prove_args args;
    ledger *led;
    int status = parse_args(argc, argv, &args);
    if (status >= 0) {
        return status;
    }
    if (cli_ledger_open_ro("prove", args.data_dir, &led) != 0) {
        return 2;
    }
    status = prove(led, &args);
    ledger_close(led);
    return status;
}
