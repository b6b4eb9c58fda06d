/* Fuzzes origo-node's configuration parser. Properties: no crash; the
 * verdict is 0 or ORIGO_E_CONFIG; a refusal leaves the caller's config
 * untouched and says where, starting with the file name; an accepted file
 * has a data directory and values within
 * their documented ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "origo/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static node_config c, before;
    char msg[512];
    memset(&c, 0xA5, sizeof(c));
    before = c;
    int rc =
        config_parse("f.conf", (const char *)data, size, &c, msg, sizeof(msg));
    if (rc == ORIGO_E_CONFIG) {
        if (memcmp(&c, &before, sizeof(c)) != 0 ||
            strncmp(msg, "f.conf", 6) != 0)
            abort();
        return 0;
    }
    if (rc != 0 || !c.data[0] || c.frame_cap < 65536 ||
        c.frame_cap > 268435456 || c.reconnect_max_ms < c.reconnect_min_ms ||
        c.listen.port == 0 || c.log_level < CONFIG_LOG_DEBUG ||
        c.log_level > CONFIG_LOG_ERROR)
        abort();
    return 0;
}
