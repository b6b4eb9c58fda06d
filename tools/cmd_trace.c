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
    int version; /* of the report: 2 (complete), or 1 */
};

static void trace_usage(FILE *out)
{
    fprintf(out,
            "usage: origo trace --data DIR --lot LOT "
            "[--backward|--forward|--recall]\n"
            "                   [--depth N] [--lot-events|--all-events] "
            "[--format v2|v1]\n"
            "                   [--proofs] [--out FILE]\n"
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
            "  --all-events   every event that names LOT itself (depth 0 "
            "with\n"
            "                 --lot-events)\n"
            "  --proofs       write the trace report JSON: every event with "
            "its inclusion\n"
            "                 proof against the latest cosigned checkpoint\n"
            "  --out FILE     write the report there (default: standard "
            "output)\n"
            "  --format v2|v1 v2 (default): complete, proven against the "
            "cosigned lot\n"
            "                 index, so no event can be left out; v1: every "
            "claim proven,\n"
            "                 completeness not (docs/formats/trace-report.md)"
            "\n"
            "       origo trace --node URL [--node URL]... --key FILE --trust "
            "FILE --lot LOT\n"
            "                   [--backward|--forward|--recall] [--depth N] "
            "[--lot-events|--all-events]\n"
            "                   [--format v2|v1] [--proofs] [--out FILE]\n"
            "  The same from running nodes: the node's trace report (a read "
            "signed with\n"
            "  --key) is checked against the trust file before it is "
            "printed or written.\n"
            "Exit status: 0 answered, 1 the node's report does not verify, 2 "
            "usage,\ninput or network error.\n");
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
        {"all-events", no_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'F'},
        {"proofs", no_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, directions = 0;
    memset(args, 0, sizeof(*args));
    args->direction = TRACE_BACKWARD;
    args->max_depth = TRACE_DEPTH_ANY;
    args->version = 2;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:l:bfrn:eaF:po:h", options,
                              NULL)) != -1) {
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
        case 'a':
            args->flags |= TRACE_WITH_LOT_EVENTS;
            args->max_depth = 0;
            break;
        case 'F':
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2")) {
                cli_error("trace", "--format '%s': expected v2 or v1", optarg);
                return 2;
            }
            args->version = optarg[1] - '0';
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

/* A member's name as of a leaf, or its key in hex when unknown. */
static void member_label(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                         uint64_t position, char *out, size_t size)
{
    ledger_member member;
    if (ledger_member_at(led, txn, pub, position, &member) == 0) {
        snprintf(out, size, "%s", member.name);
    } else {
        char hex[65];
        cli_hex(pub, 32, hex);
        snprintf(out, size, "key %.16s...", hex);
    }
}

/* Owner, holder and quantity balance of a lot (the ledger's state now). */
static void print_lot_state(ledger *led, MDB_txn *txn,
                            const struct trace_lot *lot, uint64_t tree_size)
{
    ledger_lot info;
    char owner[300], holder[300], to[300];
    if (ledger_lot_get(led, txn, lot->lot, lot->len, &info) != 0) {
        printf("            not created on this ledger (named by events "
               "only)\n");
        return;
    }
    member_label(led, txn, info.owner, tree_size, owner, sizeof(owner));
    member_label(led, txn, info.holder, tree_size, holder, sizeof(holder));
    if (info.in_transit) {
        member_label(led, txn, info.transit_to, tree_size, to, sizeof(to));
        printf("            owner %s, holder %s, in transit to %s\n", owner,
               holder, to);
    } else {
        printf("            owner %s, holder %s\n", owner, holder);
    }
    if (!info.qty[0])
        return;
    char left[64];
    size_t len;
    int over = origo_decimal_add(info.qty, strlen(info.qty), info.consumed,
                                 strlen(info.consumed), 1, left, sizeof(left),
                                 &len) == 0 &&
               left[0] == '-';
    printf("            made %s %s, consumed %s %s, %s %s %s%s\n", info.qty,
           info.unit, info.consumed, info.unit,
           over ? "OVER-CONSUMED by" : "left", over ? left + 1 : left,
           info.unit, over ? " (yield, rework or a counting error?)" : "");
}

static void print_lots(ledger *led, MDB_txn *txn,
                       const struct trace_result *res)
{
    for (size_t i = 0; i < res->lot_count; i++) {
        const struct trace_lot *lot = &res->lots[i];
        printf("  depth %-3u %s\n", lot->depth, lot->lot);
        print_lot_state(led, txn, lot, res->tree_size);
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

/* How the signer stood to the lot its event is about: the owner, the
 * holder (the rules let only the holder transform, ship or aggregate), the
 * receiver, or a third party (an inspection, COA or hold by someone
 * else). */
static const char *relation(ledger *led, MDB_txn *txn, const origo_event *ev)
{
    ledger_lot info;
    const origo_lot_ref *first = ev->n_lots ? &ev->lots[0] : NULL;
    if (ev->type == ORIGO_EV_CUSTODY_RECEIVE)
        return "receiver";
    if (first &&
        ledger_lot_get(led, txn, first->lot.ptr, first->lot.len, &info) == 0 &&
        memcmp(info.owner, ev->by, 32) == 0)
        return "owner";
    if (ev->type == ORIGO_EV_LOT_TRANSFORM ||
        ev->type == ORIGO_EV_CUSTODY_SHIP ||
        (ev->type == ORIGO_EV_EPCIS &&
         (ev->epcis_info.type == ORIGO_EPCIS_TRANSFORMATION ||
          ev->epcis_info.type == ORIGO_EPCIS_AGGREGATION)))
        return "holder";
    return "third party";
}

/* Each event of the answer with its signer's name and roles at its leaf. */
static void print_events(ledger *led, MDB_txn *txn,
                         const struct trace_result *res)
{
    origo_event *ev = malloc(sizeof(*ev));
    if (!ev)
        return;
    printf("events (leaf, type, signer as of that leaf, standing):\n");
    for (size_t i = 0; i < res->event_count; i++) {
        const uint8_t *data;
        size_t len;
        origo_envelope env;
        uint64_t leaf = res->events[i];
        if (ledger_event_at(led, txn, leaf, &data, &len) != 0 ||
            origo_envelope_decode(data, len, &env) != 0 ||
            origo_event_decode_body(env.body, env.body_len, ev) != 0)
            continue;
        ledger_member member;
        char roles[128] = "";
        int known = ledger_member_at(led, txn, ev->by, leaf, &member) == 0;
        if (known)
            cli_roles(member.roles, roles, sizeof(roles));
        /* A key later revoked from a time at or before this event's: the
         * event may be the thief's. */
        ledger_member now;
        int revoked =
            ledger_member_at(led, txn, ev->by, UINT64_MAX, &now) == 0 &&
            now.revoked_from && ev->ts >= now.revoked_from;
        printf("  %-6llu %-16s %s (%s), %s%s\n", (unsigned long long)leaf,
               origo_event_type_name(ev->type),
               known ? member.name : "unknown key", roles,
               relation(led, txn, ev),
               revoked ? "; SIGNED AFTER ITS KEY WAS REVOKED" : "");
    }
    free(ev);
}

static void print_summary(ledger *led, MDB_txn *txn,
                          const struct trace_args *args,
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
    printf("%s of %s at tree size %llu, depth limit %s: %zu lot%s, %zu "
           "edge%s, %zu event%s\n",
           what, args->lot, (unsigned long long)res->tree_size, depth,
           res->lot_count, cli_s(res->lot_count), res->edge_count,
           cli_s(res->edge_count), res->event_count, cli_s(res->event_count));
    printf("lots:\n");
    print_lots(led, txn, res);
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
    print_events(led, txn, res);
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
    print_summary(led, txn, args, &res);
    mdb_txn_abort(txn);
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
        .version = args->version,
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
                    "origo trace: wrote %s: %zu lot%s, %zu edge%s, %zu "
                    "event%s proven at tree size %llu\n",
                    args->out, res.lot_count, cli_s(res.lot_count),
                    res.edge_count, cli_s(res.edge_count), res.event_count,
                    cli_s(res.event_count), (unsigned long long)res.tree_size);
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
    if (cmd_has_node(argc, argv))
        return net_trace(argc, argv);
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
