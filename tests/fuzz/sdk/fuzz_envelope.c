/* libFuzzer harness for the envelope and event-body decoders. Properties:
 * whatever decodes re-encodes to the very same bytes (envelope and body);
 * a decoded body passes origo_event_validate(); verification never crashes
 * and never accepts what the decoder refused. The input is tried both as an
 * envelope and as a bare body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const uint8_t *body, size_t len)
{
    static origo_event ev;
    if (origo_event_decode_body(body, len, &ev) != 0)
        return;
    origo_buf out;
    origo_buf_init(&out, ORIGO_EVENT_BODY_MAX);
    if (origo_event_encode_body(&ev, &out) != 0 || out.len != len ||
        memcmp(out.data, body, len) != 0)
        abort();
    origo_buf_close(&out);
    if (origo_event_validate(&ev) != 0)
        abort();
    /* Every lot reference is a valid identifier inside the body. */
    for (size_t i = 0; i < ev.n_lots; i++) {
        const uint8_t *lot = (const uint8_t *)ev.lots[i].lot.ptr;
        if (lot < body || lot + ev.lots[i].lot.len > body + len ||
            origo_lot_check(ev.lots[i].lot.ptr, ev.lots[i].lot.len, NULL))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    origo_envelope env;
    if (origo_envelope_decode(data, size, &env) == 0) {
        origo_buf out;
        origo_buf_init(&out, ORIGO_ENVELOPE_MAX);
        if (origo_envelope_encode(env.body, env.body_len, env.sig, &out) != 0 ||
            out.len != size || memcmp(out.data, data, size) != 0)
            abort();
        origo_buf_close(&out);
        check_body(env.body, env.body_len);
        /* Run the full check under the body's own network so that the
         * signature path is reached. */
        static origo_event ev;
        if (origo_event_decode_body(env.body, env.body_len, &ev) == 0) {
            uint8_t id[ORIGO_EVENT_ID_LEN];
            int rc = origo_envelope_verify(data, size, ev.net.ptr, ev.net.len,
                                           NULL, id);
            if (rc != 0 && rc != ORIGO_E_SIGNATURE && rc != ORIGO_E_KEY)
                abort();
        }
    } else {
        /* What the envelope decoder refuses, verification refuses too. */
        if (origo_envelope_verify(data, size, "x", 1, NULL, NULL) == 0)
            abort();
    }
    check_body(data, size);
    return 0;
}
