/* Fuzzes the block header decoder. Property: every accepted header
 * re-encodes to exactly the input bytes (the encoding is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ledger_block_header h;
    uint8_t *again;
    size_t len;
    if (ledger_block_decode(data, size, &h) != 0)
        return 0;
    if (ledger_block_encode(&h, &again, &len, NULL) != 0)
        abort();
    if (len != size || memcmp(again, data, size) != 0)
        abort();
    free(again);
    return 0;
}
