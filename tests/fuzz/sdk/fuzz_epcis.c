/* libFuzzer harness for the epcis event type: the input is the JSON text.
 * Properties: an accepted text yields only valid lot identifiers that point
 * into the text, with roles; an event carrying it encodes, decodes to the
 * same lots and re-encodes to the same bytes. Memory: with all the memory
 * it wants validation never answers ORIGO_E_NOMEM (which would make every
 * validator abort the block holding the text), and when jansson runs out of
 * memory part-way it answers either ORIGO_E_NOMEM or exactly what it
 * answers with memory to spare (never a different verdict). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson's allocator: counts allocations and, with a budget, fails every
 * allocation once `budget` have succeeded (negative: no limit). */
static long alloc_budget = -1;
static unsigned long alloc_count;

static void *budget_malloc(size_t len)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    alloc_count++;
    return malloc(len);
}

static void budget_free(void *ptr)
{
    free(ptr);
}

/* jansson 2.14 asserts (aborts the process) when an allocation fails while
 * it saves a token longer than its 16-byte token buffer (a margin of
 * one byte is kept) and then pushes a
 * character back: the end of a number or bare word, or a control character
 * inside a string. That is a crash inside jansson under memory pressure
 * (no verdict at all, so no divergence), not something origo can catch;
 * texts that could reach it skip the memory property. */
static int jansson_may_assert(const uint8_t *data, size_t size)
{
    size_t run = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if (in_string) {
            run++;
            if (c < 0x20)
                return run >= 14;
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0, run = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            run = 0;
            continue;
        }
        int word = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                   (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
        run = word ? run + 1 : 0;
        if (run >= 14)
            return 1;
    }
    return 0;
}

/* Validates `ev` again with jansson's memory running out after a sample of
 * budgets between 0 and the `allocs` allocations a full run takes. */
static void check_memory_verdicts(origo_event *ev, int verdict,
                                  unsigned long allocs)
{
    const unsigned long step = allocs / 8 + 1;
    for (unsigned long budget = 0; budget < allocs; budget += step) {
        origo_event copy = *ev;
        alloc_budget = (long)budget;
        int rc = origo_event_validate(&copy);
        alloc_budget = -1;
        if (rc != verdict && rc != ORIGO_E_NOMEM)
            abort();
    }
}

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
    static int allocator_set;
    if (!allocator_set) {
        /* Before the first jansson call of the process. */
        json_set_alloc_funcs(budget_malloc, budget_free);
        allocator_set = 1;
    }
    origo_event pristine = ev;
    alloc_count = 0;
    int verdict = origo_event_validate(&ev);
    if (verdict == ORIGO_E_NOMEM)
        abort();
    if (!jansson_may_assert(data, size))
        check_memory_verdicts(&pristine, verdict, alloc_count);
    if (verdict != 0)
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
