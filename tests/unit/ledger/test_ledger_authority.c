/* Who may state what (docs/formats/authority.md, rule version 1), tried as
 * a dishonest member would: every cheat of the issue that motivated the
 * rules is built with the project's own code, signed by a real member, and
 * must be refused at apply with its own error code, while the honest
 * version of the same story is accepted.
 *
 * The fixture network: acme (supplier, owns party:acme and gs1:4012345),
 * plant1 (plant, owns party:plant1), truckco (carrier), labco (inspector),
 * admin; mallory is not a member until a test adds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "checkpoint.h"
#include "ledgertest.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "report.h"
#include "report_authority.h"
#include "report_verify.h"
#include "testing.h"
#include "testutil.h"
#include "trace.h"

typedef lt_fixture fixture;

/* ---- building events ----------------------------------------------------- */

static uint64_t ts(const fixture *f)
{
    return f->time + 1000; /* the next block's time */
}

/* Applies the pending block at the next block time. */
static void apply(fixture *f)
{
    f->time += 1000;
    lt_apply(f->led, &f->block, ++f->raft_index, f->time, f->out);
    lt_block_clear(&f->block);
}

static void expect(const fixture *f, size_t i, int status, const char *what)
{
    if (f->out[i].status != status)
        fail_msg("%s: %s (%s), expected %s", what,
                 f->out[i].status ? origo_errname(f->out[i].status)
                                  : "accepted",
                 f->out[i].status ? origo_strerror(f->out[i].status) : "",
                 status ? origo_errname(status) : "accepted");
}

static void create(fixture *f, int party, const char *lot)
{
    lt_lot_create(&f->block, &f->net, party, lot, ts(f), NULL);
}

static void transform(fixture *f, int party, const char *in, const char *out)
{
    const char *ins[] = {in}, *outs[] = {out};
    lt_transform(&f->block, &f->net, party, ins, 1, outs, 1, ts(f), NULL);
}

static void custody(fixture *f, int party, enum origo_event_type type,
                    const char *lot, const char *from, const char *to)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, type);
    ev->n_lots = 1;
    ev->lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    ev->from = origo_str_c(from);
    ev->to = origo_str_c(to);
    ev->ref = origo_str_c("BOL-1");
    lt_seal(&f->block, &f->net, party, ev, ts(f));
    free(ev);
}

static void quality(fixture *f, int party, enum origo_event_type type,
                    const char *lot)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, type);
    ev->n_lots = 1;
    ev->lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    ev->reason = origo_str_c("deviation report 7");
    lt_seal(&f->block, &f->net, party, ev, ts(f));
    free(ev);
}

static void coa(fixture *f, int party, const char *lot, const char *issuer)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, ORIGO_EV_COA_ATTEST);
    ev->n_lots = 1;
    ev->lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    memset(ev->coa, 0xc0, 32);
    ev->issuer = origo_str_c(issuer);
    lt_seal(&f->block, &f->net, party, ev, ts(f));
    free(ev);
}

static void inspect(fixture *f, int party, const char *lot, uint64_t when)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, ORIGO_EV_INSPECTION);
    ev->n_lots = 1;
    ev->lots[0] =
        (origo_lot_ref){.role = ORIGO_LOT_SUBJECT, .lot = origo_str_c(lot)};
    ev->stage = ORIGO_STAGE_LAB;
    ev->result = ORIGO_RESULT_PASS;
    memset(ev->report, 0x1a, 32);
    lt_seal(&f->block, &f->net, party, ev, when);
    free(ev);
}

static void member(fixture *f, int admin, enum origo_event_type type,
                   int target, const char *name, unsigned roles)
{
    lt_member(&f->block, &f->net, admin, type,
              origo_key_public(f->net.keys[target]), name, roles, ts(f), NULL);
}

/* An EPCIS eventTime `offset_ms` from the next block's time. */
static void event_time(const fixture *f, int64_t offset_ms, char out[40])
{
    testutil_rfc3339((uint64_t)((int64_t)ts(f) + offset_ms), out);
}

/* ---- ownership ----------------------------------------------------------- */

static void test_lots_are_created_once_by_their_namespace_owner(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/L0001");
    create(f, LT_SUPPLIER, "plant1/frame/F1"); /* another company's prefix */
    create(f, LT_PLANT, "acme/cell/L0002");    /* a competitor's next ID */
    create(f, LT_PLANT, "urn:epc:class:lgtin:4012345.012345.B7"); /* acme's
                                                        GS1 company prefix */
    create(f, LT_PLANT, "https://id.example.com/01/04012345000016/10/B8");
    create(f, LT_SUPPLIER, "urn:epc:class:lgtin:4012345.012345.B9");
    create(f, LT_PLANT, "nobody/x/1"); /* a namespace no one owns */
    apply(f);
    expect(f, 0, 0, "acme creates in party:acme");
    expect(f, 1, ORIGO_E_NAMESPACE, "acme creates under plant1's prefix");
    expect(f, 2, ORIGO_E_NAMESPACE, "plant1 takes acme's next lot ID");
    expect(f, 3, ORIGO_E_NAMESPACE, "plant1 creates an LGTIN of acme's GS1");
    expect(f, 4, ORIGO_E_NAMESPACE, "plant1 creates a Digital Link of acme's");
    expect(f, 5, 0, "acme creates an LGTIN under its GS1 company prefix");
    expect(f, 6, ORIGO_E_NAMESPACE, "a lot in a namespace nobody owns");
    /* One lot, three lot.create: the first stands. */
    create(f, LT_SUPPLIER, "acme/cell/L0001");
    create(f, LT_SUPPLIER, "acme/cell/L0001-B");
    apply(f);
    expect(f, 0, ORIGO_E_LOT_EXISTS, "acme re-creates its own lot");
    create(f, LT_SUPPLIER, "acme/cell/L0001");
    apply(f);
    expect(f, 0, ORIGO_E_LOT_EXISTS, "and again, in a later block");
}

/* ---- transformation ------------------------------------------------------ */

static void test_only_the_holder_transforms_and_outputs_are_new(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/C1");
    create(f, LT_PLANT, "plant1/scrap/S1");
    create(f, LT_PLANT, "plant1/pack/P1");
    apply(f);
    /* plant1 consumes acme's lot, which it never held. */
    transform(f, LT_PLANT, "acme/cell/C1", "plant1/pack/P2");
    /* plant1's scrap "produces" another company's existing lot... */
    transform(f, LT_PLANT, "plant1/scrap/S1", "acme/cell/C1");
    /* ... or its own existing pack, or a new lot in acme's namespace. */
    transform(f, LT_PLANT, "plant1/scrap/S1", "plant1/pack/P1");
    transform(f, LT_PLANT, "plant1/scrap/S1", "acme/cell/C2");
    transform(f, LT_PLANT, "plant1/scrap/S1", "plant1/pack/P3");
    apply(f);
    expect(f, 0, ORIGO_E_NOT_HOLDER, "plant1 consumes acme's lot");
    expect(f, 1, ORIGO_E_LOT_EXISTS, "scrap produces a competitor's lot");
    expect(f, 2, ORIGO_E_LOT_EXISTS, "scrap produces an existing pack");
    expect(f, 3, ORIGO_E_NAMESPACE, "an output in acme's namespace");
    expect(f, 4, 0, "plant1 transforms its own lot into a new one");
}

/* ---- custody ------------------------------------------------------------- */

static void test_custody_moves_only_by_shipment_to_a_member(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/K1");
    apply(f);
    /* plant1 "receives" a lot acme holds, with no shipment. */
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "acme",
            "plant1");
    /* plant1 ships acme's lot; a lot that was never created is shipped. */
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "plant1",
            "truckco");
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/NEVER", "acme",
            "plant1");
    /* acme writes the shipment in another company's name, or to a party
     * that is not a member, or to itself. */
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "plant1",
            "truckco");
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "acme",
            "dc-north");
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "acme",
            "acme");
    /* The honest shipment, to the carrier. */
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "acme",
            "truckco");
    apply(f);
    expect(f, 0, ORIGO_E_NO_SHIPMENT, "a receipt with no shipment");
    expect(f, 1, ORIGO_E_NOT_HOLDER, "plant1 ships a lot it does not hold");
    expect(f, 2, ORIGO_E_LOT_UNKNOWN, "a never-created lot is shipped");
    expect(f, 3, ORIGO_E_PARTY, "a shipment in another company's name");
    expect(f, 4, ORIGO_E_PARTY, "a shipment to a non-member");
    expect(f, 5, ORIGO_E_PARTY, "a shipment to oneself");
    expect(f, 6, 0, "acme ships to truckco");
    /* In transit: acme no longer acts as holder; only truckco receives,
     * in its own name, from the real shipper. */
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "acme",
            "plant1");
    transform(f, LT_SUPPLIER, "acme/cell/K1", "acme/cell/K2");
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "acme",
            "plant1");
    custody(f, LT_CARRIER, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "acme",
            "plant1");
    custody(f, LT_CARRIER, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "plant1",
            "truckco");
    custody(f, LT_CARRIER, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "acme",
            "truckco");
    /* The carrier holds it in transit and delivers to plant1. */
    custody(f, LT_CARRIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K1", "truckco",
            "plant1");
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K1", "truckco",
            "plant1");
    transform(f, LT_PLANT, "acme/cell/K1", "plant1/pack/K9");
    apply(f);
    expect(f, 0, ORIGO_E_NOT_HOLDER, "acme ships a lot already in transit");
    expect(f, 1, ORIGO_E_NOT_HOLDER, "acme consumes a lot in transit");
    expect(f, 2, ORIGO_E_NO_SHIPMENT, "plant1 takes truckco's delivery");
    expect(f, 3, ORIGO_E_PARTY, "truckco receives in plant1's name");
    expect(f, 4, ORIGO_E_PARTY, "truckco names the wrong shipper");
    expect(f, 5, 0, "truckco receives");
    expect(f, 6, 0, "truckco ships on to plant1");
    expect(f, 7, 0, "plant1 receives");
    expect(f, 8, 0, "plant1, the holder now, consumes acme's lot");
}

/* ---- quality ------------------------------------------------------------- */

static void test_holds_are_lifted_by_their_authors_or_an_auditor(void **state)
{
    fixture *f = *state;
    const uint8_t *mallory = origo_key_public(f->net.keys[LT_OUTSIDER]);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD, mallory,
              "regulator", ORIGO_ROLE_AUDITOR, ts(f), NULL);
    create(f, LT_SUPPLIER, "acme/cell/H1");
    create(f, LT_PLANT, "plant1/pack/H2");
    apply(f);
    quality(f, LT_OUTSIDER, ORIGO_EV_QUALITY_HOLD, "plant1/pack/H2");
    quality(f, LT_SUPPLIER, ORIGO_EV_QUALITY_RELEASE, "plant1/pack/H2");
    quality(f, LT_PLANT, ORIGO_EV_QUALITY_RELEASE, "plant1/pack/H2");
    quality(f, LT_OUTSIDER, ORIGO_EV_QUALITY_RELEASE, "plant1/pack/H2");
    quality(f, LT_INSPECTOR, ORIGO_EV_QUALITY_HOLD, "acme/cell/H1");
    quality(f, LT_PLANT, ORIGO_EV_QUALITY_HOLD, "acme/cell/H1");
    quality(f, LT_INSPECTOR, ORIGO_EV_QUALITY_RELEASE, "acme/cell/H1");
    quality(f, LT_OUTSIDER, ORIGO_EV_QUALITY_RELEASE, "acme/cell/H1");
    apply(f);
    expect(f, 0, 0, "the regulator holds plant1's pack");
    expect(f, 1, ORIGO_E_NOT_AUTHOR, "a supplier releases the regulator's");
    expect(f, 2, ORIGO_E_NOT_AUTHOR, "the owner releases the regulator's");
    expect(f, 3, 0, "the regulator releases its own hold");
    expect(f, 4, 0, "the lab holds acme's lot");
    expect(f, 5, 0, "plant1 holds it too");
    expect(f, 6, ORIGO_E_NOT_AUTHOR, "the lab cannot lift plant1's hold");
    expect(f, 7, 0, "an auditor lifts both");
}

static void test_recalls_by_owner_or_auditor_of_existing_lots(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/R1");
    apply(f);
    quality(f, LT_PLANT, ORIGO_EV_QUALITY_RECALL, "acme/cell/R1");
    quality(f, LT_SUPPLIER, ORIGO_EV_QUALITY_RECALL, "acme/cell/R2");
    quality(f, LT_SUPPLIER, ORIGO_EV_QUALITY_HOLD, "acme/cell/R3");
    quality(f, LT_SUPPLIER, ORIGO_EV_QUALITY_RECALL, "acme/cell/R1");
    apply(f);
    expect(f, 0, ORIGO_E_NOT_OWNER, "a competitor recalls acme's lot");
    expect(f, 1, ORIGO_E_LOT_UNKNOWN, "a lot recalled before it exists");
    expect(f, 2, ORIGO_E_LOT_UNKNOWN, "a hold on a lot that does not exist");
    expect(f, 3, 0, "acme recalls its own lot");
    /* The ID recalled early is not born recalled: creating it later works
     * and its record starts clean. */
    create(f, LT_SUPPLIER, "acme/cell/R2");
    apply(f);
    expect(f, 0, 0, "acme creates R2 after the refused recall");
}

/* ---- third-party statements ---------------------------------------------- */

static void test_coa_issuer_is_the_signer_and_lots_must_exist(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/li/C1");
    apply(f);
    coa(f, LT_PLANT, "acme/li/C1", "Nordic Lithium QA");
    coa(f, LT_PLANT, "acme/li/C1", "acme");
    coa(f, LT_INSPECTOR, "acme/li/NONE", "labco");
    inspect(f, LT_INSPECTOR, "acme/li/NONE", ts(f));
    coa(f, LT_INSPECTOR, "acme/li/C1", "labco");
    inspect(f, LT_PLANT, "acme/li/C1", ts(f)); /* a third party's pass */
    apply(f);
    expect(f, 0, ORIGO_E_PARTY, "a rival signs as Nordic Lithium QA");
    expect(f, 1, ORIGO_E_PARTY, "a rival signs in acme's name");
    expect(f, 2, ORIGO_E_LOT_UNKNOWN, "a COA of a lot that does not exist");
    expect(f, 3, ORIGO_E_LOT_UNKNOWN, "an inspection of no lot");
    expect(f, 4, 0, "the lab attests in its own name");
    expect(f, 5, 0, "a third party's inspection, signed as itself");
}

/* ---- quantities ---------------------------------------------------------- */

static void transform_qty(fixture *f, int party, const char *in,
                          const char *qty, const char *unit, const char *out)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, ORIGO_EV_LOT_TRANSFORM);
    ev->lots[0] = (origo_lot_ref){ORIGO_LOT_INPUT, origo_str_c(in),
                                  origo_str_c(qty), origo_str_c(unit)};
    ev->lots[1] = (origo_lot_ref){ORIGO_LOT_OUTPUT, origo_str_c(out),
                                  origo_str_c("7"), origo_str_c("pcs")};
    ev->n_lots = 2;
    lt_seal(&f->block, &f->net, party, ev, ts(f));
    free(ev);
}

/* A lot keeps what was made (lt_lot_create: 100 kg) and what transforms
 * consumed, in its unit; consuming more is recorded, not refused, and the
 * balance shows it. */
static void test_quantities_are_kept_in_the_lots_unit(void **state)
{
    fixture *f = *state;
    ledger_lot lot;
    create(f, LT_SUPPLIER, "acme/li/Q1");
    apply(f);
    transform_qty(f, LT_SUPPLIER, "acme/li/Q1", "60.5", "kg", "acme/cell/Q2");
    transform_qty(f, LT_SUPPLIER, "acme/li/Q1", "3", "pcs", "acme/cell/Q3");
    transform_qty(f, LT_SUPPLIER, "acme/li/Q1", "45", "kg", "acme/cell/Q4");
    apply(f);
    expect(f, 0, 0, "60.5 kg of a 100 kg lot");
    expect(f, 1, ORIGO_E_UNIT, "a consumption in pieces of a lot in kg");
    expect(f, 2, 0, "45 kg more: over-consumed, recorded, not refused");
    assert_int_equal(ledger_lot_get(f->led, NULL, "acme/li/Q1", 10, &lot), 0);
    assert_string_equal(lot.qty, "100");
    assert_string_equal(lot.unit, "kg");
    assert_string_equal(lot.consumed, "105.5");
    assert_int_equal(ledger_lot_get(f->led, NULL, "acme/cell/Q2", 12, &lot), 0);
    assert_string_equal(lot.qty, "7");
    assert_string_equal(lot.unit, "pcs");
    assert_string_equal(lot.consumed, "0");
    assert_int_equal(ledger_lot_get(f->led, NULL, "acme/cell/Q3", 12, &lot),
                     ORIGO_E_NOTFOUND);
}

/* ---- time ---------------------------------------------------------------- */

static void test_events_are_not_dated_before_their_lots(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/T1");
    apply(f);
    uint64_t created = f->time; /* lt_lot_create used ts(f) at that time */
    /* Inside the timestamp window, but before the lot's creation. */
    inspect(f, LT_INSPECTOR, "acme/cell/T1", created - 1);
    transform(f, LT_SUPPLIER, "acme/cell/T1", "acme/cell/T2");
    apply(f);
    expect(f, 0, ORIGO_E_BEFORE_LOT, "an inspection dated before the lot");
    expect(f, 1, 0, "a transform after it");
}

/* ---- EPCIS --------------------------------------------------------------- */

static void test_epcis_events_pass_the_native_rules(void **state)
{
    fixture *f = *state;
    char when[40], old[40], text[1024];
    create(f, LT_PLANT, "plant1/pack/E1");
    create(f, LT_SUPPLIER, "acme/cell/E2");
    apply(f);
    event_time(f, 0, when);
    /* A carrier, refused lot.create and lot.transform, tries both. */
    snprintf(text, sizeof(text),
             "{\"eventTime\":\"%s\",\"inputEPCList\":[\"acme/cell/E2\"],"
             "\"outputEPCList\":[\"plant1/pack/E9\"],\"type\":"
             "\"TransformationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_CARRIER, text, ts(f), NULL);
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":["
             "\"acme/cell/E8\"],\"eventTime\":\"%s\",\"type\":\"ObjectEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_CARRIER, text, ts(f), NULL);
    /* An inspector aggregates a never-created lot into plant1's pack. */
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"childEPCs\":[\"acme/cell/GHOST\"],"
             "\"eventTime\":\"%s\",\"parentID\":\"plant1/pack/E1\",\"type\":"
             "\"AggregationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_INSPECTOR, text, ts(f), NULL);
    /* plant1 aggregates acme's lot, which it does not hold. */
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"childEPCs\":[\"acme/cell/E2\"],"
             "\"eventTime\":\"%s\",\"parentID\":\"plant1/pack/E1\",\"type\":"
             "\"AggregationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_PLANT, text, ts(f), NULL);
    /* An eventTime of 2019, and one a day ahead. */
    snprintf(
        text, sizeof(text),
        "{\"action\":\"OBSERVE\",\"epcList\":[\"acme/cell/E2\"],"
        "\"eventTime\":\"2019-03-01T00:00:00Z\",\"type\":\"ObjectEvent\"}");
    lt_epcis(&f->block, &f->net, LT_SUPPLIER, text, ts(f), NULL);
    event_time(f, 86400000, old);
    snprintf(text, sizeof(text),
             "{\"action\":\"OBSERVE\",\"epcList\":[\"acme/cell/E2\"],"
             "\"eventTime\":\"%s\",\"type\":\"ObjectEvent\"}",
             old);
    lt_epcis(&f->block, &f->net, LT_SUPPLIER, text, ts(f), NULL);
    /* The honest ones: acme commissions a lot and transforms it; plant1
     * packs its own lot; anyone may observe. */
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"bizStep\":\"urn:epcglobal:cbv:bizstep:"
             "commissioning\",\"epcList\":[\"acme/cell/E3\"],\"eventTime\":"
             "\"%s\",\"type\":\"ObjectEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_SUPPLIER, text, ts(f), NULL);
    snprintf(text, sizeof(text),
             "{\"eventTime\":\"%s\",\"inputEPCList\":[\"acme/cell/E3\"],"
             "\"outputEPCList\":[\"acme/cell/E4\"],\"type\":"
             "\"TransformationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_SUPPLIER, text, ts(f), NULL);
    snprintf(text, sizeof(text),
             "{\"action\":\"OBSERVE\",\"epcList\":[\"acme/cell/E2\"],"
             "\"eventTime\":\"%s\",\"type\":\"ObjectEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_CARRIER, text, ts(f), NULL);
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":["
             "\"acme/cell/E3\"],\"eventTime\":\"%s\",\"type\":\"ObjectEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_SUPPLIER, text, ts(f), NULL);
    apply(f);
    expect(f, 0, ORIGO_E_ROLE, "a carrier's EPCIS transformation");
    expect(f, 1, ORIGO_E_ROLE, "a carrier's EPCIS commissioning");
    expect(f, 2, ORIGO_E_LOT_UNKNOWN, "an inspector packs a ghost lot");
    expect(f, 3, ORIGO_E_NOT_HOLDER, "plant1 packs acme's lot");
    expect(f, 4, ORIGO_E_TIMESTAMP, "an EPCIS eventTime of 2019");
    expect(f, 5, ORIGO_E_TIMESTAMP, "an EPCIS eventTime a day ahead");
    expect(f, 6, 0, "acme commissions a lot");
    expect(f, 7, 0, "acme transforms it");
    expect(f, 8, 0, "a carrier observes a lot");
    expect(f, 9, ORIGO_E_LOT_EXISTS, "commissioning the same lot twice");
}

/* An EPCIS ObjectEvent about `lot` with the given bizStep, disposition,
 * source and destination parties (NULL: absent). */
static void epcis_object(fixture *f, int party, const char *lot,
                         const char *biz_step, const char *disposition,
                         const char *source, const char *destination)
{
    char when[40], text[1024], extra[512] = "";
    size_t n = 0;
    event_time(f, 0, when);
    if (biz_step)
        n += (size_t)snprintf(extra + n, sizeof(extra) - n,
                              "\"bizStep\":\"%s\",", biz_step);
    if (destination)
        n += (size_t)snprintf(extra + n, sizeof(extra) - n,
                              "\"destinationList\":[{\"destination\":\"%s\","
                              "\"type\":\"possessing_party\"}],",
                              destination);
    if (disposition)
        n += (size_t)snprintf(extra + n, sizeof(extra) - n,
                              "\"disposition\":\"%s\",", disposition);
    char tail[256] = "";
    if (source)
        snprintf(tail, sizeof(tail),
                 "\"sourceList\":[{\"source\":\"%s\",\"type\":"
                 "\"urn:epcglobal:cbv:sdt:possessing_party\"}],",
                 source);
    snprintf(text, sizeof(text),
             "{\"action\":\"OBSERVE\",%s\"epcList\":[\"%s\"],\"eventTime\":"
             "\"%s\",%s\"type\":\"ObjectEvent\"}",
             extra, lot, when, tail);
    lt_epcis(&f->block, &f->net, party, text, ts(f), NULL);
}

#define ACME_PGLN "urn:epc:id:pgln:4012345.00000"
#define PLANT_PGLN "urn:epc:id:pgln:4099999.00000"
#define PLANT_DL "https://id.gs1.org/417/4099999000005"
#define NOBODY_PGLN "urn:epc:id:pgln:4055555.00000"

/* EPCIS shipping and receiving move custody under custody.*'s rules, the
 * parties named by GS1 party identifiers whose company prefix a member
 * owns; the trace records them with those identifiers. */
static void test_epcis_custody_follows_the_custody_rules(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/X1");
    apply(f);
    epcis_object(f, LT_PLANT, "acme/cell/X1", "shipping", NULL, PLANT_PGLN,
                 ACME_PGLN); /* plant1 ships acme's lot */
    epcis_object(f, LT_SUPPLIER, "acme/cell/X1", "shipping", NULL, NULL,
                 NOBODY_PGLN); /* to a company no member owns */
    epcis_object(f, LT_SUPPLIER, "acme/cell/X1", "shipping", NULL, NULL,
                 NULL); /* to nobody */
    epcis_object(f, LT_SUPPLIER, "acme/cell/X1", "shipping", NULL, PLANT_PGLN,
                 PLANT_PGLN); /* in plant1's name */
    epcis_object(f, LT_SUPPLIER, "acme/cell/X1",
                 "urn:epcglobal:cbv:bizstep:shipping", NULL, ACME_PGLN,
                 PLANT_PGLN);
    apply(f);
    expect(f, 0, ORIGO_E_NOT_HOLDER, "plant1 ships acme's lot by EPCIS");
    expect(f, 1, ORIGO_E_PARTY, "a shipment to a party no member owns");
    expect(f, 2, ORIGO_E_PARTY, "a shipment without a destination");
    expect(f, 3, ORIGO_E_PARTY, "a shipment in another company's name");
    expect(f, 4, 0, "acme ships to plant1 by EPCIS");
    epcis_object(f, LT_CARRIER, "acme/cell/X1", "receiving", NULL, ACME_PGLN,
                 NULL); /* truckco takes plant1's delivery */
    epcis_object(f, LT_PLANT, "acme/cell/X1", "receiving", NULL, PLANT_PGLN,
                 NULL); /* names itself as the shipper */
    epcis_object(f, LT_PLANT, "acme/cell/X1",
                 "https://ref.gs1.org/cbv/BizStep-receiving", NULL, ACME_PGLN,
                 PLANT_DL);
    apply(f);
    expect(f, 0, ORIGO_E_NO_SHIPMENT, "the carrier takes plant1's delivery");
    expect(f, 1, ORIGO_E_PARTY, "a receipt naming the wrong shipper");
    expect(f, 2, 0, "plant1 receives (its GLN as a Digital Link)");
    ledger_lot lot;
    assert_int_equal(ledger_lot_get(f->led, NULL, "acme/cell/X1", 12, &lot), 0);
    assert_memory_equal(lot.holder, origo_key_public(f->net.keys[LT_PLANT]),
                        32);
    assert_false(lot.in_transit);
    /* The recall scope names the EPCIS custodian by its identifier. */
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {.lot = "acme/cell/X1",
                                .lot_len = 12,
                                .direction = TRACE_FORWARD,
                                .max_depth = TRACE_DEPTH_ANY,
                                .tree_size = TRACE_TREE_SIZE_ALL,
                                .flags = TRACE_WITH_RECALL};
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, &res), 0);
    mdb_txn_abort(txn);
    assert_true(res.lots[0].has_custody);
    assert_int_equal(res.lots[0].custody_kind, TRACE_CUSTODY_RECEIVE);
    assert_string_equal(res.lots[0].custodian, PLANT_DL);
    assert_string_equal(res.lots[0].custody_from, ACME_PGLN);
    trace_result_close(&res);
}

/* A recalled disposition is a recall: the owner's or an auditor's, and it
 * shows in the recall scope. */
static void test_epcis_recalled_disposition_is_a_recall(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/Y1");
    apply(f);
    epcis_object(f, LT_PLANT, "acme/cell/Y1", NULL, "recalled", NULL, NULL);
    epcis_object(f, LT_SUPPLIER, "acme/cell/Y9", NULL, "recalled", NULL, NULL);
    epcis_object(f, LT_SUPPLIER, "acme/cell/Y1", NULL,
                 "urn:epcglobal:cbv:disp:recalled", NULL, NULL);
    apply(f);
    expect(f, 0, ORIGO_E_NOT_OWNER, "a competitor recalls by EPCIS");
    expect(f, 1, ORIGO_E_LOT_UNKNOWN, "a recall of a lot not yet created");
    expect(f, 2, 0, "the owner recalls by EPCIS");
    MDB_txn *txn;
    struct trace_tables tables;
    struct trace_result res;
    struct trace_query query = {.lot = "acme/cell/Y1",
                                .lot_len = 12,
                                .direction = TRACE_FORWARD,
                                .max_depth = TRACE_DEPTH_ANY,
                                .tree_size = TRACE_TREE_SIZE_ALL,
                                .flags = TRACE_WITH_RECALL};
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    assert_int_equal(trace_open(txn, &tables), 0);
    assert_int_equal(trace_query_run(txn, &tables, &query, &res), 0);
    mdb_txn_abort(txn);
    assert_int_equal(res.lots[0].hold_count, 1);
    assert_int_equal(res.holds[0].kind, TRACE_RECALL);
    trace_result_close(&res);
}

/* ---- governance ---------------------------------------------------------- */

static void test_member_names_unique_and_no_self_grants(void **state)
{
    fixture *f = *state;
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "acme",
           ORIGO_ROLE_SUPPLIER);
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_PLANT, "acme",
           ORIGO_ROLE_PLANT);
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_ADMIN, "admin",
           ORIGO_ROLE_ADMIN | ORIGO_ROLE_PLANT | ORIGO_ROLE_SUPPLIER);
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, LT_ADMIN, NULL, 0);
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_ADMIN);
    apply(f);
    expect(f, 0, ORIGO_E_NAME_TAKEN, "a second member named acme");
    expect(f, 1, ORIGO_E_NAME_TAKEN, "plant1 renamed to acme");
    expect(f, 2, ORIGO_E_SELF_GRANT, "the admin grants itself roles");
    expect(f, 3, ORIGO_E_SELF_GRANT, "the last admin removes itself");
    expect(f, 4, 0, "a second admin");
    /* The new admin removes the first; it remains, so admins never run
     * out. A removed member's name stays taken. */
    member(f, LT_OUTSIDER, ORIGO_EV_MEMBER_REMOVE, LT_ADMIN, NULL, 0);
    member(f, LT_OUTSIDER, ORIGO_EV_MEMBER_UPDATE, LT_INSPECTOR, "admin",
           ORIGO_ROLE_INSPECTOR);
    member(f, LT_OUTSIDER, ORIGO_EV_MEMBER_REMOVE, LT_OUTSIDER, NULL, 0);
    apply(f);
    expect(f, 0, 0, "mallory removes the first admin");
    expect(f, 1, ORIGO_E_NAME_TAKEN, "the removed admin's name is reused");
    expect(f, 2, ORIGO_E_SELF_GRANT, "the only admin left removes itself");
}

/* member.add with namespaces, signed by `admin`. */
static void member_owning(fixture *f, int admin, enum origo_event_type type,
                          int target, const char *name, unsigned roles,
                          const char *ns0, const char *ns1)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, type);
    memcpy(ev->member, origo_key_public(f->net.keys[target]), 32);
    ev->name = origo_str_c(name);
    ev->roles = roles;
    ev->owns[ev->n_owns++] = origo_str_c(ns0);
    if (ns1)
        ev->owns[ev->n_owns++] = origo_str_c(ns1);
    lt_seal(&f->block, &f->net, admin, ev, ts(f));
    free(ev);
}

/* A company that joins after genesis gets namespaces by its member event;
 * no namespace ever has two owners. */
static void test_members_join_with_their_namespaces(void **state)
{
    fixture *f = *state;
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:acme", NULL);
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "gs1:40123456", NULL);
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "gs1:401234", NULL);
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "gs1:4077777", "party:mal");
    apply(f);
    expect(f, 0, ORIGO_E_NAMESPACE_TAKEN, "acme's party namespace");
    expect(f, 1, ORIGO_E_NAMESPACE_TAKEN, "a longer prefix inside acme's");
    expect(f, 2, ORIGO_E_NAMESPACE_TAKEN, "a shorter prefix over acme's");
    expect(f, 3, 0, "mallory joins with its own namespaces");
    create(f, LT_OUTSIDER, "mal/part/1");
    create(f, LT_OUTSIDER, "urn:epc:class:lgtin:4077777.012345.L1");
    create(f, LT_OUTSIDER, "acme/part/9");
    create(f, LT_SUPPLIER, "mal/part/2");
    /* An update adds namespaces; a taken one is still refused. */
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:mal2", "party:plant1");
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:mal2", NULL);
    apply(f);
    expect(f, 0, 0, "mallory creates in party:mal");
    expect(f, 1, 0, "mallory creates under its GS1 prefix");
    expect(f, 2, ORIGO_E_NAMESPACE, "mallory creates in acme's namespace");
    expect(f, 3, ORIGO_E_NAMESPACE, "acme creates in mallory's");
    expect(f, 4, ORIGO_E_NAMESPACE_TAKEN, "an update taking plant1's");
    expect(f, 5, 0, "an update adding a free namespace");
    create(f, LT_OUTSIDER, "mal2/part/1");
    create(f, LT_OUTSIDER, "mal/part/3"); /* the old namespace stays */
    apply(f);
    expect(f, 0, 0, "mallory creates in its added namespace");
    expect(f, 1, 0, "and still in its first");
}

/* ---- key rotation -------------------------------------------------------- */

static void rotate(fixture *f, int signer, int old_key, int new_key,
                   uint64_t revoked)
{
    origo_event *ev = calloc(1, sizeof(*ev));
    origo_event_init(ev, ORIGO_EV_MEMBER_ROTATE);
    memcpy(ev->member, origo_key_public(f->net.keys[old_key]), 32);
    memcpy(ev->new_key, origo_key_public(f->net.keys[new_key]), 32);
    ev->revoked = revoked;
    lt_seal(&f->block, &f->net, signer, ev, ts(f));
    free(ev);
}

/* A member rotates its own key: one event, signed with the old key; the
 * new key acts as the same member (its name, namespaces, lots) and the old
 * one no longer signs. */
static void test_a_rotated_key_keeps_the_members_identity(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/K1");
    apply(f);
    rotate(f, LT_SUPPLIER, LT_SUPPLIER, LT_OUTSIDER, 0);
    create(f, LT_SUPPLIER, "acme/cell/K2"); /* the old key, after it */
    create(f, LT_OUTSIDER, "acme/cell/K3"); /* the new key */
    transform(f, LT_OUTSIDER, "acme/cell/K1", "acme/cell/K4");
    custody(f, LT_OUTSIDER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K3", "acme",
            "plant1");
    coa(f, LT_OUTSIDER, "acme/cell/K3", "acme");
    apply(f);
    expect(f, 0, 0, "acme rotates its key");
    expect(f, 1, ORIGO_E_NOT_MEMBER, "the old key signs after the rotation");
    expect(f, 2, 0, "the new key creates in acme's namespace");
    expect(f, 3, 0, "the new key consumes a lot acme held before");
    expect(f, 4, 0, "the new key ships in acme's name");
    expect(f, 5, 0, "the new key attests as acme");
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K3", "acme",
            "plant1");
    apply(f);
    expect(f, 0, 0, "plant1 receives from acme, whatever its key");
    ledger_lot lot;
    assert_int_equal(ledger_lot_get(f->led, NULL, "acme/cell/K3", 12, &lot), 0);
    /* Lots name the member by its identity: its first key. */
    assert_memory_equal(lot.owner, origo_key_public(f->net.keys[LT_SUPPLIER]),
                        32);
}

static void test_rotation_cheats_are_refused(void **state)
{
    fixture *f = *state;
    const uint64_t later = ts(f) + 3600000;
    rotate(f, LT_PLANT, LT_SUPPLIER, LT_OUTSIDER, 0); /* someone else's */
    rotate(f, LT_SUPPLIER, LT_SUPPLIER, LT_PLANT, 0); /* to a member's key */
    rotate(f, LT_ADMIN, LT_OUTSIDER, LT_V1, 0);       /* a non-member's */
    rotate(f, LT_SUPPLIER, LT_SUPPLIER, LT_OUTSIDER, later);
    apply(f);
    expect(f, 0, ORIGO_E_ROLE, "plant1 rotates acme's key");
    expect(f, 1, ORIGO_E_EXISTS, "a rotation to another member's key");
    expect(f, 2, ORIGO_E_NOTFOUND, "a rotation of a key no member has");
    expect(f, 3, ORIGO_E_TIMESTAMP, "a revocation time in the future");
}

/* Admins rotate a lost or stolen key and say since when it is
 * compromised: the old key stops, the ledger keeps the revocation time, and
 * events it signed after that time can be shown as such. */
static void
test_admins_rotate_a_stolen_key_with_its_revocation_time(void **state)
{
    fixture *f = *state;
    create(f, LT_PLANT, "plant1/pack/S1");
    apply(f);
    uint64_t stolen_at = f->time - 500;
    rotate(f, LT_ADMIN, LT_PLANT, LT_OUTSIDER, stolen_at);
    create(f, LT_PLANT, "plant1/pack/S2");
    create(f, LT_OUTSIDER, "plant1/pack/S3");
    apply(f);
    expect(f, 0, 0, "the admin rotates plant1's key");
    expect(f, 1, ORIGO_E_NOT_MEMBER, "the stolen key after the rotation");
    expect(f, 2, 0, "plant1's new key");
    ledger_member old;
    assert_int_equal(ledger_member_at(f->led, NULL,
                                      origo_key_public(f->net.keys[LT_PLANT]),
                                      UINT64_MAX, &old),
                     0);
    assert_false(old.active);
    assert_int_equal(old.revoked_from, stolen_at);
    assert_string_equal(old.name, "plant1");
}

/* ---- member changes by M of N admins ------------------------------------ */

#define APPROVAL_WINDOW 10000

/* A network of three admins (admin, truckco, labco) of which two must
 * approve each member change. */
static fixture *three_admins(void)
{
    fixture *f = calloc(1, sizeof(*f));
    char hex[LT_PARTIES][65];
    lt_net_init(&f->net, LT_WINDOW);
    for (int i = 0; i < LT_PARTIES; i++)
        origo_pubkey_to_hex(origo_key_public(f->net.keys[i]), hex[i]);
    char *json = malloc(8192);
    int n = snprintf(
        json, 8192,
        "{\"format\":\"origo-genesis/v1\",\"origin\":\"%s\",\"rules\":1,"
        "\"validators\":[{\"name\":\"v1\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7401\"},{\"name\":\"v2\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7402\"},{\"name\":\"v3\",\"key\":\"%s\",\"address\":"
        "\"127.0.0.1:7403\"}],"
        "\"admins\":[{\"name\":\"admin\",\"key\":\"%s\"},{\"name\":"
        "\"truckco\",\"key\":\"%s\"},{\"name\":\"labco\",\"key\":\"%s\"}],"
        "\"members\":[{\"name\":\"acme\",\"key\":\"%s\",\"roles\":"
        "[\"supplier\"],\"owns\":[\"party:acme\"]}],"
        "\"params\":{\"ts_window_ms\":%d,\"checkpoint_quorum\":2,"
        "\"admin_quorum\":2,\"approval_window_ms\":%d}}",
        LT_NET, hex[LT_V1], hex[LT_V2], hex[LT_V3], hex[LT_ADMIN],
        hex[LT_CARRIER], hex[LT_INSPECTOR], hex[LT_SUPPLIER], (int)LT_WINDOW,
        APPROVAL_WINDOW);
    assert_true(n > 0 && n < 8192);
    free(f->net.genesis_json);
    f->net.genesis_json = json;
    f->net.genesis_len = (size_t)n;
    f->led = lt_store(&f->net, &f->dir, 0);
    f->time = LT_T0;
    return f;
}

/* mallory's membership shows in what it may do: as a non-member its
 * lot.create is NOT_MEMBER; as a member owning no namespace, NAMESPACE. */
static void mallory_tries(fixture *f)
{
    create(f, LT_OUTSIDER, "mallory/x/1");
}

static void test_member_changes_need_two_of_three_admins(void **state)
{
    (void)state;
    fixture *f = three_admins();
    /* One admin alone adds mallory as a supplier (or a validator, which
     * would let one admin grow the checkpoint quorum its own way). */
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_SUPPLIER);
    lt_member(&f->block, &f->net, LT_ADMIN, ORIGO_EV_MEMBER_ADD,
              origo_key_public(f->net.keys[LT_OUTSIDER]), "mallory",
              ORIGO_ROLE_SUPPLIER, ts(f) - 1, NULL); /* the same admin again */
    apply(f);
    expect(f, 0, 0, "admin's approval is logged");
    expect(f, 1, 0, "admin's second approval is logged (and counts once)");
    mallory_tries(f);
    /* A second admin approves a different change: roles differ. */
    member(f, LT_CARRIER, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_VALIDATOR);
    apply(f);
    expect(f, 0, ORIGO_E_NOT_MEMBER, "one admin (twice) is not two");
    mallory_tries(f);
    /* The second admin approves the same change: it takes effect. */
    member(f, LT_CARRIER, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_SUPPLIER);
    mallory_tries(f);
    apply(f);
    expect(f, 0, ORIGO_E_NOT_MEMBER, "two different changes do not add up");
    expect(f, 1, 0, "the second admin's matching approval");
    expect(f, 2, ORIGO_E_NAMESPACE, "mallory is a member from the next leaf");
    lt_fixture_free(f);
}

static void test_approvals_expire_and_admins_stay_above_quorum(void **state)
{
    (void)state;
    fixture *f = three_admins();
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_SUPPLIER);
    apply(f);
    f->time += APPROVAL_WINDOW; /* the first approval is now too old */
    member(f, LT_CARRIER, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_SUPPLIER);
    apply(f);
    mallory_tries(f);
    apply(f);
    expect(f, 0, ORIGO_E_NOT_MEMBER, "an expired approval does not count");
    /* ... and is pruned: only truckco's fresh approval is kept. */
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    assert_int_equal(ledger_txn_begin(f->led, 1, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, LEDGER_DBI_APPROVALS, 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    mdb_txn_abort(txn);
    assert_int_equal(st.ms_entries, 1);
    /* Two admins remove the third: two remain, the quorum. */
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, LT_INSPECTOR, NULL, 0);
    member(f, LT_CARRIER, ORIGO_EV_MEMBER_REMOVE, LT_INSPECTOR, NULL, 0);
    apply(f);
    expect(f, 0, 0, "first approval of labco's removal");
    expect(f, 1, 0, "second approval: labco is removed");
    /* Removing another would leave one admin, below the quorum of two:
     * refused at the first approval, so governance cannot lock up. */
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, LT_CARRIER, NULL, 0);
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_CARRIER, "truckco",
           ORIGO_ROLE_CARRIER);
    apply(f);
    expect(f, 0, ORIGO_E_ADMIN_QUORUM, "removing an admin below the quorum");
    expect(f, 1, ORIGO_E_ADMIN_QUORUM, "demoting an admin below the quorum");
    lt_fixture_free(f);
}

/* Approvals of a change with other namespaces are approvals of another
 * change. */
static void test_approvals_bind_the_namespaces(void **state)
{
    (void)state;
    fixture *f = three_admins();
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:m1", NULL);
    member_owning(f, LT_CARRIER, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:m2", NULL);
    apply(f);
    mallory_tries(f);
    member_owning(f, LT_INSPECTOR, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:m1", NULL);
    create(f, LT_OUTSIDER, "m1/x/1");
    apply(f);
    expect(f, 0, ORIGO_E_NOT_MEMBER, "m1 and m2 approvals do not add up");
    expect(f, 1, 0, "the second approval of the m1 change");
    expect(f, 2, 0, "mallory creates in m1");
    lt_fixture_free(f);
}

/* A member that rotated its key still receives what is shipped to it: the
 * shipment names it by identity (it used to record the member's current
 * key, and the receipt, judged by identity, was refused as no shipment). */
static void test_a_rotated_receiver_receives(void **state)
{
    fixture *f = *state;
    create(f, LT_SUPPLIER, "acme/cell/K5");
    rotate(f, LT_PLANT, LT_PLANT, LT_OUTSIDER, 0);
    apply(f);
    expect(f, 0, 0, "acme creates K5");
    expect(f, 1, 0, "plant1 rotates its key");
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/K5", "acme",
            "plant1");
    apply(f);
    expect(f, 0, 0, "acme ships K5 to plant1");
    custody(f, LT_OUTSIDER, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/K5", "acme",
            "plant1");
    transform(f, LT_OUTSIDER, "acme/cell/K5", "plant1/pack/K6");
    apply(f);
    expect(f, 0, 0, "plant1 receives with its new key");
    expect(f, 1, 0, "and consumes the lot");
}

/* ---- refused offline too ---------------------------------------------------
 * Each cheat again, on two ledgers fed the same blocks: one applies the
 * rules and refuses the cheat with its code; the other does not apply them
 * (ledger_testing_skip_rules(): other code, or colluding validators) and
 * accepts it. A quorum of the validators signs the lax ledger's tree and
 * lot index, and the v2 trace report that depends on the cheat is built
 * from it: the offline verifier refuses it with the same code. The same
 * report from the ledger that applies the rules verifies. */

struct offline_cheat {
    const char *what;
    void (*setup)(fixture *f);
    void (*cheat)(fixture *f);
    int code;
    const char *lot; /* the report's start lot */
    enum trace_direction direction;
    uint32_t max_depth;
    unsigned flags;
};

static void setup_c1(fixture *f)
{
    create(f, LT_SUPPLIER, "acme/cell/C1");
    create(f, LT_PLANT, "plant1/scrap/S1");
}
static void cheat_consume(fixture *f)
{
    transform(f, LT_PLANT, "acme/cell/C1", "plant1/pack/P2");
}
static void cheat_produce_existing(fixture *f)
{
    transform(f, LT_PLANT, "plant1/scrap/S1", "acme/cell/C1");
}
static void cheat_foreign_prefix(fixture *f)
{
    create(f, LT_SUPPLIER, "plant1/frame/F1");
}
static void cheat_receive(fixture *f)
{
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/C1", "acme",
            "plant1");
}
static void setup_held(fixture *f)
{
    setup_c1(f);
    quality(f, LT_INSPECTOR, ORIGO_EV_QUALITY_HOLD, "acme/cell/C1");
}
static void cheat_release(fixture *f)
{
    quality(f, LT_SUPPLIER, ORIGO_EV_QUALITY_RELEASE, "acme/cell/C1");
}
static void cheat_recall(fixture *f)
{
    quality(f, LT_PLANT, ORIGO_EV_QUALITY_RECALL, "acme/cell/C1");
}
static void cheat_coa(fixture *f)
{
    coa(f, LT_SUPPLIER, "acme/cell/C1", "Nordic Lithium QA");
}
static void cheat_inspect_unknown(fixture *f)
{
    inspect(f, LT_INSPECTOR, "acme/cell/NEVER", ts(f));
}
static void cheat_self_grant(fixture *f)
{
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_UPDATE, LT_ADMIN, "admin",
           ORIGO_ROLE_ADMIN | ORIGO_ROLE_PLANT);
}

static void cheat_epcis_carrier_transform(fixture *f)
{
    char when[40], text[512];
    event_time(f, 0, when);
    snprintf(text, sizeof(text),
             "{\"eventTime\":\"%s\",\"inputEPCList\":[\"acme/cell/C1\"],"
             "\"outputEPCList\":[\"plant1/pack/E9\"],\"type\":"
             "\"TransformationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_CARRIER, text, ts(f), NULL);
}
static void cheat_epcis_ghost_aggregation(fixture *f)
{
    char when[40], text[512];
    event_time(f, 0, when);
    snprintf(text, sizeof(text),
             "{\"action\":\"ADD\",\"childEPCs\":[\"acme/cell/GHOST\"],"
             "\"eventTime\":\"%s\",\"parentID\":\"plant1/scrap/S1\","
             "\"type\":\"AggregationEvent\"}",
             when);
    lt_epcis(&f->block, &f->net, LT_INSPECTOR, text, ts(f), NULL);
}
static void cheat_backdated_consumption(fixture *f)
{
    const char *in[] = {"acme/cell/C1"}, *out[] = {"acme/cell/C2"};
    /* Within the timestamp window, but before C1 was made. */
    lt_transform(&f->block, &f->net, LT_SUPPLIER, in, 1, out, 1, ts(f) - 5000,
                 NULL);
}
static void cheat_ship_unknown(fixture *f)
{
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/NEVER", "acme",
            "plant1");
}
static void setup_shipped(fixture *f)
{
    setup_c1(f);
    custody(f, LT_SUPPLIER, ORIGO_EV_CUSTODY_SHIP, "acme/cell/C1", "acme",
            "plant1");
}
static void cheat_receipt_in_another_name(fixture *f)
{
    custody(f, LT_PLANT, ORIGO_EV_CUSTODY_RECEIVE, "acme/cell/C1", "acme",
            "truckco");
}
static void cheat_second_acme(fixture *f)
{
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "acme",
           ORIGO_ROLE_SUPPLIER);
}
static void cheat_namespace_taken(fixture *f)
{
    member_owning(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
                  ORIGO_ROLE_SUPPLIER, "party:acme", NULL);
}
static void cheat_create_twice(fixture *f)
{
    create(f, LT_SUPPLIER, "acme/cell/C1");
}
static void cheat_epcis_2019(fixture *f)
{
    lt_epcis(&f->block, &f->net, LT_SUPPLIER,
             "{\"action\":\"OBSERVE\",\"epcList\":[\"acme/cell/C1\"],"
             "\"eventTime\":\"2019-03-01T00:00:00Z\",\"type\":"
             "\"ObjectEvent\"}",
             ts(f), NULL);
}
static void cheat_dated_ahead(fixture *f)
{
    /* Half an hour ahead of the block: the window is a minute here. */
    lt_lot_create(&f->block, &f->net, LT_SUPPLIER, "acme/cell/AHEAD",
                  ts(f) + 1800000, NULL);
}

static const struct offline_cheat OFFLINE_CHEATS[] = {
    {"an EPCIS eventTime of 2019", setup_c1, cheat_epcis_2019,
     ORIGO_E_TIMESTAMP, "acme/cell/C1", TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"a lot created half an hour ahead of its block", setup_c1,
     cheat_dated_ahead, ORIGO_E_TIMESTAMP, "acme/cell/AHEAD", TRACE_FORWARD, 0,
     TRACE_WITH_LOT_EVENTS},
    {"a carrier's EPCIS transformation", setup_c1,
     cheat_epcis_carrier_transform, ORIGO_E_ROLE, "plant1/pack/E9",
     TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"an inspector packs a never-created lot", setup_c1,
     cheat_epcis_ghost_aggregation, ORIGO_E_LOT_UNKNOWN, "plant1/scrap/S1",
     TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"a consumption dated before its lot was made", setup_c1,
     cheat_backdated_consumption, ORIGO_E_BEFORE_LOT, "acme/cell/C2",
     TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"a lot never created is shipped", setup_c1, cheat_ship_unknown,
     ORIGO_E_LOT_UNKNOWN, "acme/cell/NEVER", TRACE_FORWARD, TRACE_DEPTH_ANY,
     TRACE_WITH_RECALL},
    {"a receipt in another company's name", setup_shipped,
     cheat_receipt_in_another_name, ORIGO_E_PARTY, "acme/cell/C1",
     TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL},
    {"a second member named acme", setup_c1, cheat_second_acme,
     ORIGO_E_NAME_TAKEN, "acme/cell/C1", TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"a new member given acme's namespace", setup_c1, cheat_namespace_taken,
     ORIGO_E_NAMESPACE_TAKEN, "acme/cell/C1", TRACE_BACKWARD, TRACE_DEPTH_ANY,
     0},
    {"one lot created twice", setup_c1, cheat_create_twice, ORIGO_E_LOT_EXISTS,
     "acme/cell/C1", TRACE_FORWARD, 0, TRACE_WITH_LOT_EVENTS},
    {"a competitor consumes a lot it does not hold", setup_c1, cheat_consume,
     ORIGO_E_NOT_HOLDER, "plant1/pack/P2", TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
    {"scrap produces a competitor's existing lot", setup_c1,
     cheat_produce_existing, ORIGO_E_LOT_EXISTS, "acme/cell/C1", TRACE_BACKWARD,
     TRACE_DEPTH_ANY, 0},
    {"a lot under another company's prefix", setup_c1, cheat_foreign_prefix,
     ORIGO_E_NAMESPACE, "plant1/frame/F1", TRACE_FORWARD, 0,
     TRACE_WITH_LOT_EVENTS},
    {"a receipt with no shipment", setup_c1, cheat_receive, ORIGO_E_NO_SHIPMENT,
     "acme/cell/C1", TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL},
    {"a supplier lifts the lab's hold", setup_held, cheat_release,
     ORIGO_E_NOT_AUTHOR, "acme/cell/C1", TRACE_FORWARD, TRACE_DEPTH_ANY,
     TRACE_WITH_RECALL},
    {"a plant recalls a competitor's lot", setup_c1, cheat_recall,
     ORIGO_E_NOT_OWNER, "acme/cell/C1", TRACE_FORWARD, TRACE_DEPTH_ANY,
     TRACE_WITH_RECALL},
    {"a COA in a free-text issuer's name", setup_c1, cheat_coa, ORIGO_E_PARTY,
     "acme/cell/C1", TRACE_FORWARD, 0, TRACE_WITH_LOT_EVENTS},
    {"an inspection of a lot never created", setup_c1, cheat_inspect_unknown,
     ORIGO_E_LOT_UNKNOWN, "acme/cell/NEVER", TRACE_FORWARD, 0,
     TRACE_WITH_LOT_EVENTS},
    {"the admin grants itself a plant's role", setup_c1, cheat_self_grant,
     ORIGO_E_SELF_GRANT, "acme/cell/C1", TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
};

/* Applies the pending block to both ledgers. */
static void apply_both(fixture *f, ledger *lax, ledger_outcome *lax_out)
{
    f->time += 1000;
    f->raft_index++;
    lt_apply(f->led, &f->block, f->raft_index, f->time, f->out);
    lt_apply(lax, &f->block, f->raft_index, f->time, lax_out);
    lt_block_clear(&f->block);
}

/* Two validators sign the ledger's tree and lot index; returns the v2
 * report of query `c` (the caller frees it). */
static char *signed_report_json(fixture *f, ledger *led,
                                const struct offline_cheat *c, size_t *len)
{
    ledger_state state;
    char *body, *ibody, line[400], err[512] = "";
    size_t body_len, ibody_len;
    assert_int_equal(ledger_get_state(led, NULL, &state), 0);
    assert_int_equal(
        ledger_checkpoint_body(led, NULL, state.tree_size, &body, &body_len),
        0);
    assert_int_equal(ledger_lot_index_note_body(led, NULL, state.tree_size,
                                                &ibody, &ibody_len),
                     0);
    for (int v = LT_V1; v <= LT_V2; v++) {
        lt_sign_checkpoint(&f->net, v, body, body_len, line, sizeof(line));
        assert_int_equal(ledger_checkpoint_add_signature(
                             led, NULL, state.tree_size, line, strlen(line)),
                         0);
        lt_sign_checkpoint(&f->net, v, ibody, ibody_len, line, sizeof(line));
        assert_int_equal(ledger_lot_index_add_signature(
                             led, NULL, state.tree_size, line, strlen(line)),
                         0);
    }
    free(body);
    free(ibody);
    struct report_request request = {
        .lot = c->lot,
        .lot_len = strlen(c->lot),
        .direction = c->direction,
        .max_depth = c->max_depth,
        .flags = c->flags,
        .version = 2,
    };
    char *json;
    if (report_build(led, &request, &json, len, NULL, err, sizeof(err)) != 0)
        fail_msg("%s: building the report: %s", c->what, err);
    return json;
}

static int verify_report_text(fixture *f, const char *json, size_t len,
                              char *err, size_t err_len)
{
    origo_vkey vkeys[LT_VALIDATORS];
    lt_validator_vkeys(&f->net, vkeys);
    origo_note_policy policy = {
        .signers = vkeys, .signer_count = LT_VALIDATORS, .quorum = 0};
    struct report_verdict verdict;
    int rc = report_verify((const uint8_t *)json, len, &policy, &verdict, err,
                           err_len);
    if (rc == 0)
        assert_true(verdict.authority);
    return rc;
}

/* signed_report_json(), verified: the verification code (err says why). */
static int signed_report(fixture *f, ledger *led, const struct offline_cheat *c,
                         char *err, size_t err_len)
{
    size_t len;
    char *json = signed_report_json(f, led, c, &len);
    int rc = verify_report_text(f, json, len, err, err_len);
    free(json);
    return rc;
}

/* Decodes standard base64 into a malloc()ed, NUL-terminated buffer. */
static char *unbase64_text(const char *b64, size_t *len)
{
    char *out = malloc(strlen(b64) + 1);
    assert_non_null(out);
    assert_int_equal(sodium_base642bin((uint8_t *)out, strlen(b64), b64,
                                       strlen(b64), NULL, len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    out[*len] = '\0';
    return out;
}

/* Verifies `root` as edited: the code (err says why). */
static int verify_edited(fixture *f, json_t *root, char *err, size_t err_len)
{
    char *text = json_dumps(root, JSON_COMPACT);
    int rc = verify_report_text(f, text, strlen(text), err, err_len);
    free(text);
    return rc;
}

/* A report proves the membership it replays: a member change left out,
 * or another genesis, is refused. */
static void test_reports_prove_the_membership(void **state)
{
    fixture *f = *state;
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "regulator",
           ORIGO_ROLE_AUDITOR);
    create(f, LT_SUPPLIER, "acme/cell/C1");
    apply(f);
    quality(f, LT_OUTSIDER, ORIGO_EV_QUALITY_RECALL, "acme/cell/C1");
    apply(f);
    expect(f, 0, 0, "the regulator recalls acme's lot");
    struct offline_cheat c = {.what = "membership",
                              .lot = "acme/cell/C1",
                              .direction = TRACE_FORWARD,
                              .max_depth = TRACE_DEPTH_ANY,
                              .flags = TRACE_WITH_RECALL};
    size_t len;
    char err[1024] = "";
    char *text = signed_report_json(f, f->led, &c, &len);
    assert_int_equal(verify_report_text(f, text, len, err, sizeof(err)), 0);
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(root);
    /* The member.add that made the regulator a member, left out: the
     * chain says one is missing. */
    json_t *copy = json_deep_copy(root);
    json_t *events = json_object_get(copy, "events");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(events, 0), "leaf")),
        0);
    json_array_remove(events, 0);
    assert_int_equal(verify_edited(f, copy, err, sizeof(err)),
                     ORIGO_E_REPORT_CLAIM);
    assert_non_null(strstr(err, "membership chain"));
    json_decref(copy);
    /* Another genesis, in which the recalling key is an auditor from the
     * start (so no member event is needed): its hash does not start the
     * cosigned chain. */
    copy = json_deep_copy(root);
    size_t glen = 0;
    char *gtext = unbase64_text(
        json_string_value(json_object_get(copy, "genesis")), &glen);
    json_t *g = json_loadb(gtext, glen, 0, NULL);
    assert_non_null(g);
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), origo_key_public(f->net.keys[LT_OUTSIDER]),
                   32);
    json_array_append_new(json_object_get(g, "members"),
                          json_pack("{s:s, s:s, s:[s]}", "name", "regulator",
                                    "key", hex, "roles", "auditor"));
    char *forged = json_dumps(g, JSON_COMPACT);
    char b64[8192];
    sodium_bin2base64(b64, sizeof(b64), (const uint8_t *)forged, strlen(forged),
                      sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(copy, "genesis", json_string(b64));
    json_array_remove(json_object_get(copy, "events"), 0);
    assert_int_equal(verify_edited(f, copy, err, sizeof(err)),
                     ORIGO_E_REPORT_CLAIM);
    assert_non_null(strstr(err, "genesis"));
    json_decref(copy);
    /* The membership proof of another count. */
    copy = json_deep_copy(root);
    json_t *members = json_object_get(copy, "members");
    json_object_set_new(
        members, "count",
        json_integer(json_integer_value(json_object_get(members, "count")) -
                     1));
    assert_int_equal(verify_edited(f, copy, err, sizeof(err)), ORIGO_E_PROOF);
    json_decref(copy);
    free(forged);
    free(gtext);
    json_decref(g);
    json_decref(root);
}

/* With admin_quorum 2, the membership chain holds the approval that made
 * the change, not the one before it; the report verifies with it. */
static void test_reports_hold_the_changes_that_took_effect(void **state)
{
    (void)state;
    fixture *f = three_admins();
    member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_INSPECTOR);
    create(f, LT_SUPPLIER, "acme/cell/C1");
    apply(f);
    member(f, LT_CARRIER, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "mallory",
           ORIGO_ROLE_INSPECTOR);
    apply(f);
    inspect(f, LT_OUTSIDER, "acme/cell/C1", ts(f));
    apply(f);
    expect(f, 0, 0, "mallory, admitted by two admins, inspects");
    struct offline_cheat c = {.what = "two approvals",
                              .lot = "acme/cell/C1",
                              .direction = TRACE_FORWARD,
                              .max_depth = 0,
                              .flags = TRACE_WITH_LOT_EVENTS};
    size_t len;
    char err[1024] = "";
    char *text = signed_report_json(f, f->led, &c, &len);
    if (verify_report_text(f, text, len, err, sizeof(err)) != 0)
        fail_msg("report: %s", err);
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    json_t *events = json_object_get(root, "events");
    /* The genesis and the second approval (leaf 2); the first approval
     * (leaf 0) is in the log but not in the chain. */
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(root, "members"), "count")),
                     2);
    assert_int_equal(json_array_size(events), 3); /* 2, and leaves 1, 3 */
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(events, 1), "leaf")),
        2);
    json_decref(root);
    lt_fixture_free(f);
}

/* The offline verifier marks what a key signed at or after the revocation
 * time its member stated when rotating it away (a thief's, maybe). */
static void test_reports_mark_events_after_a_revocation(void **state)
{
    fixture *f = *state;
    uint64_t stolen = ts(f) - 500; /* before acme's next event */
    create(f, LT_SUPPLIER, "acme/cell/R9");
    apply(f);
    rotate(f, LT_SUPPLIER, LT_SUPPLIER, LT_OUTSIDER, stolen);
    apply(f);
    expect(f, 0, 0, "acme rotates its key, stolen since before R9");
    inspect(f, LT_INSPECTOR, "acme/cell/R9", ts(f));
    apply(f);
    struct offline_cheat c = {.what = "revocation",
                              .lot = "acme/cell/R9",
                              .direction = TRACE_FORWARD,
                              .max_depth = 0,
                              .flags = TRACE_WITH_LOT_EVENTS};
    size_t len, count = 0;
    char err[1024] = "";
    char *text = signed_report_json(f, f->led, &c, &len);
    origo_vkey vkeys[LT_VALIDATORS];
    lt_validator_vkeys(&f->net, vkeys);
    origo_note_policy policy = {
        .signers = vkeys, .signer_count = LT_VALIDATORS, .quorum = 0};
    struct rauth_signer *signers = NULL;
    struct report_verdict verdict;
    int rc =
        report_verify_attributed((const uint8_t *)text, len, &policy, &verdict,
                                 &signers, &count, err, sizeof(err));
    if (rc != 0)
        fail_msg("report: %s", err);
    /* R9's creation, and the rotation itself: both signed by the old key
     * after the stated time (a thief could have rotated it). */
    assert_int_equal(verdict.revoked, 2);
    int creation = 0, inspection = 0;
    for (size_t i = 0; i < count; i++) {
        if (!strcmp(signers[i].type, "lot.create")) {
            creation = 1;
            assert_string_equal(signers[i].name, "acme");
            assert_int_equal(signers[i].revoked, 1);
        } else if (!strcmp(signers[i].type, "inspection")) {
            inspection = 1;
            assert_int_equal(signers[i].revoked, 0);
            assert_int_equal(signers[i].standing, RAUTH_THIRD_PARTY);
        } else {
            assert_int_equal(signers[i].revoked,
                             !strcmp(signers[i].type, "member.rotate"));
        }
    }
    assert_true(creation && inspection);
    free(signers);
    free(text);
}

static void
test_reports_that_depend_on_a_refused_event_do_not_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(OFFLINE_CHEATS) / sizeof(OFFLINE_CHEATS[0]);
         i++) {
        const struct offline_cheat *c = &OFFLINE_CHEATS[i];
        fixture *f = lt_fixture_new(LT_WINDOW);
        char *lax_dir, err[1024] = "";
        ledger *lax = lt_store(&f->net, &lax_dir, 0);
        ledger_outcome lax_out[64];
        ledger_testing_skip_rules(lax, 1);
        c->setup(f);
        size_t honest = f->block.count;
        apply_both(f, lax, lax_out);
        for (size_t k = 0; k < honest; k++) {
            expect(f, k, 0, c->what);
            assert_int_equal(lax_out[k].status, 0);
        }
        c->cheat(f);
        apply_both(f, lax, lax_out);
        expect(f, 0, c->code, c->what);
        assert_int_equal(lax_out[0].status, 0); /* the lax ledger took it */
        int rc = signed_report(f, lax, c, err, sizeof(err));
        if (rc != c->code)
            fail_msg("%s: the report from the lax ledger gave %s (%s), "
                     "expected %s",
                     c->what, rc ? origo_errname(rc) : "verified", err,
                     origo_errname(c->code));
        assert_non_null(strstr(err, "refused by the authority rules"));
        print_message("offline, %s: %s\n", c->what, err);
        /* The ledger that applied the rules gives a report that verifies
         * (the cheat is not in it). */
        rc = signed_report(f, f->led, c, err, sizeof(err));
        if (rc != 0)
            fail_msg("%s: the honest ledger's report: %s (%s)", c->what,
                     origo_errname(rc), err);
        ledger_close(lax);
        testutil_rmtree(lax_dir);
        free(lax_dir);
        lt_fixture_free(f);
    }
}

/* ---- the two implementations agree ------------------------------------------
 * Random supply-chain workloads, mostly of events some rule refuses, go
 * through apply; then every lot's v2 reports (genealogy, recall scope, all
 * its events) are built and must verify: the offline replay of the rules
 * (report_authority.c) never refuses what apply accepted. */

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const int ACTORS[] = {LT_SUPPLIER,  LT_PLANT, LT_CARRIER,
                             LT_INSPECTOR, LT_ADMIN, LT_OUTSIDER};
static const char *const NAMES[] = {"acme",  "plant1", "truckco",
                                    "labco", "admin",  "regulator"};
#define POOL 24

static void pool_lot(uint64_t r, char out[32])
{
    snprintf(out, 32, "%s/%llu", r & 1 ? "acme/cell" : "plant1/pack",
             (unsigned long long)(r >> 1) % POOL);
}

/* The index into ACTORS of the party whose key is `key`, or -1. */
static int actor_of(const fixture *f, const uint8_t key[32])
{
    for (int a = 0; a < 6; a++)
        if (!memcmp(origo_key_public(f->net.keys[ACTORS[a]]), key, 32))
            return a;
    return -1;
}

/* Adds one event; returns its kind (0..10, the switch below), or -1. */
static int random_event(fixture *f, uint64_t *x)
{
    uint64_t r = next_rand(x);
    int who = (int)(r % 6);
    char lot[32], out[32];
    pool_lot(next_rand(x), lot);
    pool_lot(next_rand(x), out);
    /* Half the time, the party the lot's state makes plausible: its
     * namespace owner, holder or the member it is in transit to, so that
     * many events are accepted and the state moves on. */
    ledger_lot rec;
    if ((r >> 40) & 1) {
        if (ledger_lot_get(f->led, NULL, lot, strlen(lot), &rec) != 0)
            who = lot[0] == 'a' ? 0 : 1;
        else if (rec.in_transit && actor_of(f, rec.transit_to) >= 0 &&
                 (r >> 41) & 1)
            who = actor_of(f, rec.transit_to);
        else if (actor_of(f, rec.holder) >= 0)
            who = actor_of(f, rec.holder);
        if (who == 0 || who == 1)
            snprintf(out, sizeof(out), "%s/%llu",
                     who == 0 ? "acme/cell" : "plant1/pack",
                     (unsigned long long)(r >> 44) % POOL);
    }
    int actor = ACTORS[who];
    const char *me = NAMES[who];
    const char *other = NAMES[(r >> 3) % 6];
    int kind = (int)((r >> 8) % 11);
    switch (kind) {
    case 0:
    case 1:
        create(f, actor, lot);
        break;
    case 2:
    case 3:
        if (strcmp(lot, out) == 0)
            return -1;
        transform(f, actor, lot, out);
        break;
    case 4:
        custody(f, actor, ORIGO_EV_CUSTODY_SHIP, lot, me, other);
        break;
    case 5:
        /* Mostly the receipt by the member a lot is in transit to. */
        if (ledger_lot_get(f->led, NULL, lot, strlen(lot), &rec) == 0 &&
            rec.in_transit && (r >> 42) & 3 &&
            actor_of(f, rec.transit_to) >= 0 && actor_of(f, rec.holder) >= 0) {
            actor = ACTORS[actor_of(f, rec.transit_to)];
            me = NAMES[actor_of(f, rec.transit_to)];
            other = NAMES[actor_of(f, rec.holder)];
        }
        custody(f, actor, ORIGO_EV_CUSTODY_RECEIVE, lot, other, me);
        break;
    case 6:
        quality(f, actor, ORIGO_EV_QUALITY_HOLD, lot);
        break;
    case 7:
        quality(f, actor,
                (r >> 20) & 1 ? ORIGO_EV_QUALITY_RELEASE
                              : ORIGO_EV_QUALITY_RECALL,
                lot);
        break;
    case 8:
        coa(f, actor, lot, (r >> 20) & 1 ? me : other);
        break;
    case 9:
        inspect(f, actor, lot, ts(f));
        break;
    default:
        /* The regulator joins, or leaves, by the admin. */
        if ((r >> 20) & 1)
            member(f, LT_ADMIN, ORIGO_EV_MEMBER_ADD, LT_OUTSIDER, "regulator",
                   ORIGO_ROLE_AUDITOR);
        else
            member(f, LT_ADMIN, ORIGO_EV_MEMBER_REMOVE, LT_OUTSIDER, NULL, 0);
    }
    return kind;
}

static void test_offline_rules_agree_with_apply(void **state)
{
    (void)state;
    static const struct {
        enum trace_direction direction;
        uint32_t depth;
        unsigned flags;
    } queries[] = {
        {TRACE_BACKWARD, TRACE_DEPTH_ANY, 0},
        {TRACE_FORWARD, TRACE_DEPTH_ANY, TRACE_WITH_RECALL},
        {TRACE_FORWARD, 0, TRACE_WITH_LOT_EVENTS},
        {TRACE_BACKWARD, 1, 0},
    };
    size_t accepted = 0, refused = 0, reports = 0, checked = 0;
    size_t kinds_accepted[11] = {0};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        fixture *f = lt_fixture_new(LT_WINDOW);
        uint64_t x = 0x9e3779b97f4a7c15ull * seed;
        for (int b = 0; b < 100; b++) {
            size_t want = 1 + next_rand(&x) % 12, n = 0;
            int kinds[12];
            for (size_t i = 0; i < want; i++) {
                int kind = random_event(f, &x);
                if (kind >= 0)
                    kinds[n++] = kind;
            }
            apply(f);
            for (size_t i = 0; i < n; i++) {
                accepted += f->out[i].status == 0;
                refused += f->out[i].status != 0;
                kinds_accepted[kinds[i]] += f->out[i].status == 0;
            }
        }
        for (uint64_t l = 0; l < 2 * POOL; l++) {
            char lot[32], err[1024] = "";
            pool_lot(l, lot);
            for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
                struct offline_cheat c = {
                    .what = lot,
                    .lot = lot,
                    .direction = queries[q].direction,
                    .max_depth = queries[q].depth,
                    .flags = queries[q].flags,
                };
                int rc = signed_report(f, f->led, &c, err, sizeof(err));
                if (rc != 0)
                    fail_msg("seed %llu, lot %s, query %zu: %s (%s)",
                             (unsigned long long)seed, lot, q,
                             origo_errname(rc), err);
                reports++;
            }
            checked++;
        }
        lt_fixture_free(f);
    }
    print_message("%zu events accepted, %zu refused; %zu reports of %zu lots "
                  "verified\n",
                  accepted, refused, reports, checked);
    assert_true(accepted > 200);
    assert_true(refused > accepted);
    /* Every kind of event was accepted somewhere: create, transform, ship,
     * receive, hold, release or recall, COA, inspection, member change. */
    static const int kinds_needed[][2] = {{0, 1}, {2, 3}, {4, 4},
                                          {5, 5}, {6, 6}, {7, 7},
                                          {8, 8}, {9, 9}, {10, 10}};
    for (size_t k = 0; k < sizeof(kinds_needed) / sizeof(kinds_needed[0]);
         k++) {
        size_t n = 0;
        for (int j = kinds_needed[k][0]; j <= kinds_needed[k][1]; j++)
            n += kinds_accepted[j];
        print_message("kind %d: %zu accepted\n", kinds_needed[k][0], n);
        assert_true(n > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn)                                                                  \
    cmocka_unit_test_setup_teardown(fn, lt_fixture_setup, lt_fixture_teardown)
        T(test_lots_are_created_once_by_their_namespace_owner),
        T(test_only_the_holder_transforms_and_outputs_are_new),
        T(test_custody_moves_only_by_shipment_to_a_member),
        T(test_holds_are_lifted_by_their_authors_or_an_auditor),
        T(test_recalls_by_owner_or_auditor_of_existing_lots),
        T(test_coa_issuer_is_the_signer_and_lots_must_exist),
        T(test_events_are_not_dated_before_their_lots),
        T(test_quantities_are_kept_in_the_lots_unit),
        T(test_epcis_events_pass_the_native_rules),
        T(test_epcis_custody_follows_the_custody_rules),
        T(test_epcis_recalled_disposition_is_a_recall),
        T(test_member_names_unique_and_no_self_grants),
        T(test_members_join_with_their_namespaces),
        T(test_a_rotated_key_keeps_the_members_identity),
        T(test_rotation_cheats_are_refused),
        T(test_admins_rotate_a_stolen_key_with_its_revocation_time),
        T(test_a_rotated_receiver_receives),
        T(test_reports_prove_the_membership),
        T(test_reports_mark_events_after_a_revocation),
#undef T
        cmocka_unit_test(test_member_changes_need_two_of_three_admins),
        cmocka_unit_test(test_approvals_expire_and_admins_stay_above_quorum),
        cmocka_unit_test(test_approvals_bind_the_namespaces),
        cmocka_unit_test(test_reports_hold_the_changes_that_took_effect),
        cmocka_unit_test(
            test_reports_that_depend_on_a_refused_event_do_not_verify),
        cmocka_unit_test(test_offline_rules_agree_with_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
