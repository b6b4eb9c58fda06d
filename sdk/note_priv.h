/* Helpers that note.c shares with proof.c (not installed): strict base64,
 * strict decimal, and the note-text rules. */
#ifndef ORIGO_NOTE_PRIV_H
#define ORIGO_NOTE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "origo/codec.h"

/* Decodes canonical padded standard base64 (RFC 4648 section 4): the text
 * must be exactly what the encoder produces for the decoded bytes. Writes at
 * most out_max bytes. Returns 0 and *out_len, or -1. */
int note_base64_decode(const char *text, size_t len, uint8_t *out,
                       size_t out_max, size_t *out_len);

/* Appends the padded standard base64 of bytes to buf (errors latch in buf). */
void note_base64_append(origo_buf *buf, const uint8_t *bytes, size_t len);

/* Parses an ASCII decimal without sign, spaces or leading zeros ("0"
 * allowed) that fits in 64 bits. Returns 0 and *out, or -1. */
int note_decimal_parse(const char *text, size_t len, uint64_t *out);

/* Appends the decimal form of value to buf. */
void note_decimal_append(origo_buf *buf, uint64_t value);

/* Checks bytes against the signed-note text rules: valid UTF-8 (shortest
 * forms, no surrogates, at most U+10FFFF) and no byte below 0x20 but "\n".
 * Returns 0 or -1. */
int note_text_check(const char *text, size_t len);

#endif
