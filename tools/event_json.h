/* The JSON form of events used by the CLI (docs/formats/event-json.md): an
 * operator writes one to `origo event --json FILE`, and `origo event` and
 * the trace tools print events this way. The signed form is always the
 * canonical MessagePack body; JSON is only a convenience around it. */
#ifndef ORIGO_TOOLS_EVENT_JSON_H
#define ORIGO_TOOLS_EVENT_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "origo/event.h"

/* Fills *ev (already origo_event_init()ed with the right type, or type 0 to
 * take it from the "type" field) from a JSON object. `source` (may be NULL)
 * is the text `obj` was parsed from: an "epcis" object is canonicalized
 * from those bytes, so its numbers keep their lexemes. Strings in *ev point
 * into `obj`, which must outlive *ev; the canonical EPCIS text, if any, is
 * malloc()ed into *epcis_text for the caller to free. On error writes a
 * message naming the field into err and returns ORIGO_E_JSON or
 * ORIGO_E_SCHEMA. Does not set ev->by. */
int event_json_parse(json_t *obj, const origo_str *source, origo_event *ev,
                     char **epcis_text, char *err, size_t err_len);
/* Returns a new JSON object describing a decoded event (NULL on OOM). */
json_t *event_json_dump(const origo_event *ev);

/* Names of inspection stages and results ("IQC", "pass"), NULL if out of
 * range. */
const char *event_json_stage_name(enum origo_stage stage);
const char *event_json_result_name(enum origo_result result);

#endif
