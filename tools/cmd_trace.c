/* `origo trace`: answers a trace question from a node's data directory,
 * opened read-only. Without --proofs it prints a human summary of the
 * answer at the ledger's current tree size; with --proofs it writes the
 * trace report JSON (docs/formats/trace-report.md), proven against the
 * latest quorum-signed checkpoint, to --out or standard output. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ledger.h"
#include "cmd.h"
#include "ledger.h"
#include "origo/error.h"
#include "origo/event.h"
#include "report.h"
#include "trace.h"

struct trace_args {
    const char *data_dir;
    const char *lot;
    const char *out;
    enum trace_direction direction;
    unsigned flags;
    uint32_t max_depth;
    int proofs;
};

static void trace_usage(FILE *out)
{
    fprintf(out,
            "usage: origo trace --data DIR --lot LOT "
            "[--backward|--forward|--recall]\n"
            "                   [--depth N] [--lot-events] [--proofs] "
            "[--out FILE]\n"
            "  --data DIR     the node's data directory (opened read-only)\n"
            "  --lot LOT      the lot to start from\n"
            "  --backward     genealogy: what LOT was made from (default)\n"
            "  --forward      where-used: what was made from LOT\n"
            "  --recall       recall scope: forward, plus each lot's last "
            "custodian and\n"
            "                 the holds and recalls in force\n"
            "  --depth N      follow at most N edges from LOT (default: no "
            "limit)\n"
            "  --lot-events   also list every event that names a lot of the "
            "answer\n"
            "  --proofs       write the trace report JSON: every event with "
            "its inclusion\n"
            "                 proof against the latest cosigned checkpoint\n"
            "  --out FILE     write the report there (default: standard "
            "output)\n"
            "Exit status: 0 answered, 2 usage or input error.\n");
}

static int parse_depth(const char *text, uint32_t *out)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (*text == '\0' || *end != '\0' || *text == '-' ||
        value >= TRACE_DEPTH_ANY) {
        return ORIGO_E_USAGE;
    }
    *out = (uint32_t)value;
    return 0;
}

static int parse_args(int argc, char **argv, struct trace_args *args)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"lot", required_argument, NULL, 'l'},
        {"backward", no_argument, NULL, 'b'},
        {"forward", no_argument, NULL, 'f'},
        {"recall", no_argument, NULL, 'r'},
        {"depth", required_argument, NULL, 'n'},
        {"lot-events", no_argument, NULL, 'e'},
        {"proofs", no_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, directions = 0;
    memset(args, 0, sizeof(*args));
    args->direction = TRACE_BACKWARD;
    args->max_depth = TRACE_DEPTH_ANY;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:l:bfrn:epo:h", options, NULL)) !=
           -1) {
        switch (opt) {
        case 'd':
            args->data_dir = optarg;
            break;
        case 'l':
            args->lot = optarg;
            break;
        case 'b':
            args->direction = TRACE_BACKWARD;
            directions++;
            break;
        case 'f':
            args->direction = TRACE_FORWARD;
            directions++;
            break;
        case 'r':
            args->direction = TRACE_FORWARD;
            args->flags |= TRACE_WITH_RECALL;
            directions++;
            break;
        case 'n':
            if (parse_depth(optarg, &args->max_depth) != 0) {
                cli_error("trace",
                          "--depth '%s': expected a non-negative integer",
                          optarg);
                return 2;
            }
            break;
        case 'e':
            args->flags |= TRACE_WITH_LOT_EVENTS;
            break;
        case 'p':
            args->proofs = 1;
            break;
        case 'o':
            args->out = optarg;
            break;
        case 'h':
            trace_usage(stdout);
            return 0;
        default:
            trace_usage(stderr);
            return 2;
        }
    }
    if (args->data_dir == NULL || args->lot == NULL || optind != argc) {
        trace_usage(stderr);
        return 2;
    }
    if (origo_lot_check(args->lot, strlen(args->lot), NULL) != 0) {
        cli_error("trace",
                  "--lot '%s': expected a lot identifier "
                  "(urn:epc:class:lgtin:..., a GS1 Digital Link URI, or "
                  "<party>/<part>/<lot>)",
                  args->lot);
        return 2;
    }
    if (directions > 1) {
        cli_error("trace", "give at most one of --backward, --forward and "
                           "--recall");
        return 2;
    }
    if (args->out != NULL && !args->proofs) {
        cli_error("trace", "--out writes the proven report: add --proofs");
        return 2;
    }
    return -1;
}

/* ---- the human summary -------------------------------------------------- */

static void print_lots(const struct trace_result *res)
{
    for (size_t i = 0; i < res->lot_count; i++) {
        const struct trace_lot *lot = &res->lots[i];
        printf("  depth %-3u %s\n", lot->depth, lot->lot);
        if (lot->has_custody) {
            printf("            custodian %s (%s from %s, leaf %llu)\n",
                   lot->custodian, report_kind_name(lot->custody_kind),
                   lot->custody_from, (unsigned long long)lot->custody_leaf);
        }
        for (size_t h = 0; h < lot->hold_count; h++) {
            const struct trace_hold *hold = &res->holds[lot->hold_first + h];
            printf("            %s in force (leaf %llu)\n",
                   report_kind_name(hold->kind),
                   (unsigned long long)hold->leaf_index);
        }
    }
}

static void print_summary(const struct trace_args *args,
                          const struct trace_result *res)
{
    const char *what = (args->flags & TRACE_WITH_RECALL) ? "recall scope"
                       : args->direction == TRACE_BACKWARD
                           ? "backward trace (genealogy)"
                           : "forward trace (where-used)";
    char depth[32] = "none";
    if (args->max_depth != TRACE_DEPTH_ANY) {
        snprintf(depth, sizeof(depth), "%u", args->max_depth);
    }
    printf("%s of %s at tree size %llu, depth limit %s: %zu lots, %zu "
           "edges, %zu events\n",
           what, args->lot, (unsigned long long)res->tree_size, depth,
           res->lot_count, res->edge_count, res->event_count);
    printf("lots:\n");
    print_lots(res);
    printf("edges (input -> output, stating event):%s\n",
           res->edge_count ? "" : " none");
    for (size_t i = 0; i < res->edge_count; i++) {
        const struct trace_edge *e = &res->edges[i];
        printf("  %s -> %s  (leaf %llu)\n", res->lots[e->from].lot,
               res->lots[e->to].lot, (unsigned long long)e->leaf_index);
    }
    for (size_t i = 0; i < res->cycle_edge_count; i++) {
        const struct trace_edge *e = &res->edges[res->cycle_edges[i]];
        printf("cycle: %s -> %s (leaf %llu) leads back to a lot already on "
               "the path; not followed again\n",
               res->lots[e->from].lot, res->lots[e->to].lot,
               (unsigned long long)e->leaf_index);
    }
    if (res->depth_limited) {
        printf("note: the depth limit stopped the trace with edges left "
               "unexplored\n");
    }
}

static int summary(ledger *led, const struct trace_args *args)
{
    MDB_txn *txn = NULL;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {
        .lot = args->lot,
        .lot_len = strlen(args->lot),
        .direction = args->direction,
        .max_depth = args->max_depth,
        .flags = args->flags,
    };
    ledger_state state;
    int rc = ledger_txn_begin(led, 1, &txn);
    if (rc == 0) {
        rc = ledger_get_state(led, txn, &state);
        query.tree_size = state.tree_size;
    }
    if (rc == 0) {
        rc = report_trace_tables(led, &tables);
    }
    if (rc == 0) {
        rc = trace_query_run(txn, &tables, &query, &res);
    }
    if (rc != 0) {
        cli_error("trace", "%s: lot '%s': %s", args->data_dir, args->lot,
                  origo_strerror(rc));
        if (txn != NULL) {
            mdb_txn_abort(txn);
        }
        return 2;
    }
    int known = trace_lot_exists(txn, &tables, query.lot, query.lot_len);
    mdb_txn_abort(txn);
    print_summary(args, &res);
    trace_result_close(&res);
    fflush(stdout);
    if (known <= 0)
        fprintf(stderr,
                "origo trace: note: no event in %s names lot '%s'; lot "
                "identifiers are compared byte for byte, so check its "
                "spelling\n",
                args->data_dir, args->lot);
    return 0;
}

/* ---- the proven report -------------------------------------------------- */

static int write_report(ledger *led, const struct trace_args *args)
{
    struct report_request request = {
        .lot = args->lot,
        .lot_len = strlen(args->lot),
        .direction = args->direction,
        .max_depth = args->max_depth,
        .flags = args->flags,
    };
    struct trace_result res;
    char *json;
    size_t len;
    char errmsg[512];
    int rc =
        report_build(led, &request, &json, &len, &res, errmsg, sizeof(errmsg));
    if (rc != 0) {
        cli_error("trace", "%s: %s", args->data_dir, errmsg);
        return 2;
    }
    if (args->out != NULL) {
        rc = cli_write_file(args->out, json, len, 0644);
        if (rc != 0) {
            cli_error("trace", "%s: cannot write the report: %s", args->out,
                      origo_strerror(rc));
        } else {
            fprintf(stderr,
                    "origo trace: wrote %s: %zu lots, %zu edges, %zu events "
                    "proven at tree size %llu\n",
                    args->out, res.lot_count, res.edge_count, res.event_count,
                    (unsigned long long)res.tree_size);
        }
    } else if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF) {
        cli_error("trace", "standard output: write failed");
        rc = ORIGO_E_IO;
    }
    trace_result_close(&res);
    free(json);
    return rc == 0 ? 0 : 2;
}

int cmd_trace(int argc, char **argv)
{
    struct trace_args args;
    ledger *led;
    int status = parse_args(argc, argv, &args);
    if (status >= 0) {
        return status;
    }
    if (cli_ledger_open_ro("trace", args.data_dir, &led) != 0) {
        return 2;
    }
    status = args.proofs ? write_report(led, &args) : summary(led, &args);
    ledger_close(led);
    return status;
}
