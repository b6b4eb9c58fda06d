/* libFuzzer harness for the epcis event type and canonical JSON: the input
 * is the JSON text. Properties:
 * - the checker and the importer agree: a text is canonical exactly when
 *   origo_json_canonicalize() accepts it and gives it back unchanged, and
 *   whatever the importer writes the checker accepts and the importer
 *   leaves unchanged (idempotent);
 * - an accepted epcis text yields only lot identifiers that
 *   origo_epc_lot() calls lots, pointing into the text, with roles the
 *   event type defines; an event carrying it encodes, decodes to the same
 *   lots and epcis_info and re-encodes to the same bytes;
 * - validation never answers ORIGO_E_NOMEM (it allocates nothing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_importer(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int canonical = origo_json_check(text, size, NULL) == 0;
    origo_buf once, twice;
    origo_buf_init(&once, 8 * size + 64);
    origo_buf_init(&twice, 8 * size + 64);
    int rc = origo_json_canonicalize(text, size, &once, NULL, 0);
    if (rc == ORIGO_E_NOMEM)
        abort();
    if (rc == ORIGO_E_TOOBIG) {
        /* "1e39" grows tenfold; such inputs are not canonical anyway. */
        if (canonical)
            abort();
        rc = ORIGO_E_SCHEMA;
    }
    if (canonical &&
        (rc != 0 || once.len != size || memcmp(once.data, data, size) != 0))
        abort();
    if (rc == 0) {
        if (!canonical && once.len == size &&
            memcmp(once.data, data, size) == 0)
            abort();
        if (origo_json_check((const char *)once.data, once.len, NULL) != 0 ||
            origo_json_canonicalize((const char *)once.data, once.len, &twice,
                                    NULL, 0) != 0 ||
            twice.len != once.len || memcmp(twice.data, once.data, once.len))
            abort();
    }
    origo_buf_close(&once);
    origo_buf_close(&twice);
}

static void check_lots(const origo_event *ev, const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        const uint8_t *lot = (const uint8_t *)ref->lot.ptr;
        size_t lot_len;
        if (lot < text || lot + ref->lot.len > text + len ||
            origo_lot_check(ref->lot.ptr, ref->lot.len, NULL) != 0 ||
            origo_epc_lot(ref->lot.ptr, ref->lot.len, &lot_len) != 0 ||
            lot_len != ref->lot.len || ref->role < ORIGO_LOT_SUBJECT ||
            ref->role > ORIGO_LOT_CHILD || ref->qty.len || ref->unit.len)
            abort();
        /* Inputs and outputs only in a TransformationEvent. */
        int transform_role =
            ref->role == ORIGO_LOT_INPUT || ref->role == ORIGO_LOT_OUTPUT;
        if (transform_role !=
            (ev->epcis_info.type == ORIGO_EPCIS_TRANSFORMATION))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static origo_event ev, view;
    static const uint8_t by[32] = {7};
    check_importer(data, size);
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    ev.net.ptr = "fuzz";
    ev.net.len = 4;
    memcpy(ev.by, by, sizeof(by));
    ev.ts = 1;
    ev.epcis.ptr = (const char *)data;
    ev.epcis.len = size;
    int verdict = origo_event_validate(&ev);
    if (verdict == ORIGO_E_NOMEM)
        abort();
    if (verdict != 0)
        return 0;
    check_lots(&ev, data, size);
    origo_buf first, second;
    origo_buf_init(&first, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&second, ORIGO_EVENT_BODY_MAX);
    if (origo_event_encode_body(&ev, &first) != 0 ||
        origo_event_decode_body(first.data, first.len, &view) != 0 ||
        view.n_lots != ev.n_lots ||
        view.epcis_info.type != ev.epcis_info.type ||
        view.epcis_info.action != ev.epcis_info.action ||
        view.epcis_info.event_time != ev.epcis_info.event_time)
        abort();
    for (size_t i = 0; i < ev.n_lots; i++) {
        if (view.lots[i].role != ev.lots[i].role ||
            view.lots[i].lot.len != ev.lots[i].lot.len ||
            memcmp(view.lots[i].lot.ptr, ev.lots[i].lot.ptr,
                   ev.lots[i].lot.len) != 0)
            abort();
    }
    if (origo_event_encode_body(&view, &second) != 0 ||
        second.len != first.len ||
        memcmp(second.data, first.data, first.len) != 0)
        abort();
    origo_buf_close(&first);
    origo_buf_close(&second);
    return 0;
}
