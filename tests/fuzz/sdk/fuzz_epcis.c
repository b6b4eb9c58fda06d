/* libFuzzer harness for the epcis event type: the input is the JSON text.
 * Properties: an accepted text yields only valid lot identifiers that point
 * into the text, with roles; an event carrying it encodes, decodes to the
 * same lots and re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lots(const origo_event *ev, const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < ev->n_lots; i++) {
        const origo_lot_ref *ref = &ev->lots[i];
        const uint8_t *lot = (const uint8_t *)ref->lot.ptr;
        if (lot < text || lot + ref->lot.len > text + len ||
            origo_lot_check(ref->lot.ptr, ref->lot.len, NULL) != 0 ||
            ref->role < ORIGO_LOT_SUBJECT || ref->role > ORIGO_LOT_OUTPUT ||
            ref->qty.len || ref->unit.len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static origo_event ev, view;
    static const uint8_t by[32] = {7};
    origo_event_init(&ev, ORIGO_EV_EPCIS);
    ev.net.ptr = "fuzz";
    ev.net.len = 4;
    memcpy(ev.by, by, sizeof(by));
    ev.ts = 1;
    ev.epcis.ptr = (const char *)data;
    ev.epcis.len = size;
    if (origo_event_validate(&ev) != 0)
        return 0;
    check_lots(&ev, data, size);
    origo_buf first, second;
    origo_buf_init(&first, ORIGO_EVENT_BODY_MAX);
    origo_buf_init(&second, ORIGO_EVENT_BODY_MAX);
    if (origo_event_encode_body(&ev, &first) != 0 ||
        origo_event_decode_body(first.data, first.len, &view) != 0 ||
        view.n_lots != ev.n_lots)
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
