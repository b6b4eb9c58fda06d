/* Fuzzes the strict genesis parser. Properties: no crash; an accepted
 * genesis written back as JSON (genesis_to_json) parses again to the same
 * genesis hash; a rejected input leaves an error message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    genesis *gen = NULL, *again = NULL;
    char msg[256] = "";
    if (genesis_parse(data, size, &gen, msg, sizeof(msg)) != 0) {
        if (gen || msg[0] == '\0')
            abort();
        return 0;
    }
    char *json = NULL;
    if (genesis_to_json(gen, &json) != 0)
        abort();
    if (genesis_parse((const uint8_t *)json, strlen(json), &again, msg,
                      sizeof(msg)) != 0)
        abort();
    if (memcmp(gen->hash, again->hash, 32) != 0)
        abort();
    free(json);
    genesis_free(gen);
    genesis_free(again);
    return 0;
}
