/* libFuzzer harness for the signed-note parser. Properties: an accepted note
 * formats back to the very same bytes; a note whose text parses as a
 * checkpoint formats that text back identically; verification under a fixed
 * policy (the key of tests/vectors/signed-note.json plus a witness) never
 * crashes and never accepts a note that lacks a valid trusted signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char VKEY[] = "origo.example/network-1+032798ca+"
                           "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

static void check_checkpoint(const origo_note *note)
{
    origo_checkpoint cp;
    if (origo_checkpoint_parse(note->text, note->text_len, &cp) != 0)
        return;
    origo_buf out;
    origo_buf_init(&out, ORIGO_NOTE_MAX_BYTES);
    if (origo_checkpoint_format(&cp, &out) != 0 || out.len != note->text_len ||
        memcmp(out.data, note->text, out.len) != 0)
        abort();
    origo_buf_close(&out);
}

static void check_verify(const origo_note *note)
{
    static origo_vkey signer;
    static origo_witness_key witness;
    static int ready;
    if (!ready) {
        static const uint8_t witness_pub[32] = {
            0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd,
            0x18, 0xe7, 0x4b, 0xc0, 0x99, 0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5,
            0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8};
        if (origo_vkey_parse(VKEY, strlen(VKEY), &signer) != 0 ||
            origo_witness_key_from_pub("witness.example", 15, witness_pub,
                                       &witness) != 0)
            abort();
        ready = 1;
    }
    origo_note_policy policy = {.signers = &signer,
                                .signer_count = 1,
                                .witnesses = &witness,
                                .witness_count = 1};
    origo_note_verdict verdict;
    int rc = origo_note_verify(note, &policy, &verdict);
    if (rc == 0 && verdict.signers != 1)
        abort();
    if (rc != 0 && rc != ORIGO_E_NOTE_QUORUM && rc != ORIGO_E_SIGNATURE &&
        rc != ORIGO_E_NOMEM)
        abort();
    for (size_t i = 0; i < note->sig_count; i++) {
        uint64_t timestamp;
        uint8_t sig[64];
        int dec = origo_cosig_decode(&note->sigs[i], &timestamp, sig);
        if ((dec == 0) != (note->sigs[i].sig_len == 72))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    origo_note *note = NULL;
    if (origo_note_parse(data, size, &note) != 0) {
        if (note)
            abort();
        return 0;
    }
    if (note->sig_count == 0 || note->text_len == 0 ||
        note->text[note->text_len - 1] != '\n')
        abort();
    origo_buf out;
    origo_buf_init(&out, ORIGO_NOTE_MAX_BYTES);
    if (origo_note_format(note, &out) != 0 || out.len != size ||
        memcmp(out.data, data, size) != 0)
        abort();
    origo_buf_close(&out);
    check_checkpoint(note);
    check_verify(note);
    origo_note_free(note);
    return 0;
}
