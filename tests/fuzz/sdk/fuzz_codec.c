/* libFuzzer harness for the canonical MessagePack reader. Every input the
 * validator accepts must survive a decode walk and re-encode byte for byte
 * (encode(decode(b)) == b), and the validator must accept exactly what the
 * independent model in codec_model.h calls canonical. A broken property
 * aborts, which libFuzzer and the corpus replayer both report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"

#include "codec_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int rc, size_t size)
{
    fprintf(stderr, "fuzz_codec: %s (%s) on a %zu-byte input\n", what,
            origo_errname(rc), size);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The buffers may grow as large as the input and no larger. */
    size_t max = size + 16;
    origo_buf copy, model;
    origo_buf_init(&copy, max);
    origo_buf_init(&model, max);

    int rc = origo_mp_validate(data, size);
    int canonical = model_is_canonical(data, size, &model);
    if ((rc == 0) != canonical)
        die(canonical ? "validator rejects a canonical value"
                      : "validator accepts a non-canonical value",
            rc, size);
    if (rc == 0) {
        int copied = model_copy_all(data, size, &copy);
        if (copied)
            die("typed reads fail on a validated value", copied, size);
        if (copy.len != size || (size && memcmp(copy.data, data, size)))
            die("re-encoding differs from the input", 0, size);
    }
    origo_buf_close(&copy);
    origo_buf_close(&model);
    return 0;
}
