/* Canonical JSON (docs/formats/event.md, "Canonical JSON").
 *
 * An epcis event carries one EPCIS 2.0 event as JSON text, and every
 * validator must accept or refuse that text the same way whatever its
 * libraries, locale or memory. So the canonical form is defined byte by byte
 * in the spec (RFC 8785, JCS, except that numbers stay decimal lexemes and
 * are never converted through binary floating point) and checked here by
 * code that allocates nothing and calls no locale-dependent function.
 *
 * - origo_json_check() decides whether a text is canonical;
 * - origo_json_canonicalize() brings any RFC 8259 JSON text into that form
 *   (what an importer runs on an EPCIS document from outside);
 * - origo_json_member(), origo_json_next() and origo_json_string() read a
 *   text that origo_json_check() accepted, without copying.
 *
 * Nothing here keeps global state; any thread, distinct objects. */
#ifndef ORIGO_JSON_H
#define ORIGO_JSON_H

#include <stddef.h>

#include "origo/codec.h"
#include "origo/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays and objects (the top-level value is depth 1). */
#define ORIGO_JSON_DEPTH_MAX 32

/* Checks that `text` is one canonical JSON value and nothing else. Never
 * allocates. Returns 0, or ORIGO_E_SCHEMA with the byte offset of the first
 * fault in *error_at (may be NULL). */
int origo_json_check(const char *text, size_t len, size_t *error_at);

/* Parses any RFC 8259 JSON text (whitespace, any escapes, exponents, any
 * member order) and appends its canonical form to `out`. Refused, with a
 * message naming the line and column in `err` (may be NULL): malformed
 * JSON, a duplicate member name, a string holding U+0000 or a lone
 * surrogate, invalid UTF-8, nesting deeper than ORIGO_JSON_DEPTH_MAX, a
 * number whose plain decimal form exceeds ORIGO_DECIMAL_MAX bytes. Returns
 * 0, ORIGO_E_SCHEMA, ORIGO_E_NOMEM or ORIGO_E_TOOBIG (out's maximum). On
 * error `out` may hold a partial text: reset it. */
int origo_json_canonicalize(const char *text, size_t len, origo_buf *out,
                            char *err, size_t err_size);

/* The following read a value of a text that origo_json_check() accepted;
 * on any other input their result is unspecified (but memory-safe within
 * the value's bytes). Values are borrowed spans of that text. */

/* Finds member `key` (plain UTF-8 that needs no escaping) of an object.
 * Returns 1 and *value, or 0 (not an object, or no such member). */
int origo_json_member(origo_str object, const char *key, origo_str *value);

/* Iterates the items of an array: start with *cursor = 0; returns 1 and
 * the next item, or 0 at the end (or when `array` is not an array). */
int origo_json_next(origo_str array, size_t *cursor, origo_str *item);

/* If `value` is a string whose content holds no escape, returns 1 and the
 * content bytes (between the quotes) in *content; else 0. Identifiers and
 * code values never need escapes, so this is how they are read. */
int origo_json_string(origo_str value, origo_str *content);

#ifdef __cplusplus
}
#endif

#endif
