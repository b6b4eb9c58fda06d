/* Private interface between the event files: event.c (wire codec, IDs,
 * signatures, envelopes), event_schema.c (the schema rules shared by encode
 * and decode) and event_epcis.c (the epcis type's JSON checks). Not
 * installed. */
#ifndef ORIGO_EVENT_INTERNAL_H
#define ORIGO_EVENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "origo/event.h"

/* Checks every schema rule of *ev. For epcis, writes the lots found in the
 * JSON to lots_out (room for ORIGO_EVENT_MAX_LOTS), their count to
 * *n_lots_out and what else the JSON says to *info_out; other types leave
 * them untouched. */
int event_schema_check(const origo_event *ev, origo_lot_ref *lots_out,
                       size_t *n_lots_out, origo_epcis_info *info_out);

/* Wire names of the stage, result and role enums; NULL when out of range. */
const char *event_schema_stage_name(enum origo_stage stage);
const char *event_schema_result_name(enum origo_result result);
/* Parses a wire name; 0 and *out, or ORIGO_E_SCHEMA. */
int event_schema_stage_parse(const char *text, size_t len,
                             enum origo_stage *out);
int event_schema_result_parse(const char *text, size_t len,
                              enum origo_result *out);
/* Parses a role name into its bit; 0 when unknown. */
unsigned event_schema_role_parse(const char *text, size_t len);

/* Checks that `text` is a canonical EPCIS 2.0 event (see event_epcis.c)
 * and collects the lot identifiers it names, each pointing into `text`,
 * and its type, action, time and business step. Allocates nothing.
 * Returns 0, ORIGO_E_SCHEMA, ORIGO_E_TOOBIG (too many lots). */
int event_epcis_check(const char *text, size_t len, origo_lot_ref *lots,
                      size_t max_lots, size_t *n_lots, origo_epcis_info *info);

#endif
