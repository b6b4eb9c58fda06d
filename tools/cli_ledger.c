/* Read-only ledger opening shared by the verbs that read a node's data
 * directory (trace, prove), so they fail the same way. */
#include "cli_ledger.h"

#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "origo/error.h"

void cli_ledger_dir(const char *dir, char *out, size_t size)
{
    char probe[4096 + 32];
    struct stat st;
    snprintf(probe, sizeof(probe), "%s/data.mdb", dir);
    if (stat(probe, &st) != 0) {
        snprintf(probe, sizeof(probe), "%s/ledger/data.mdb", dir);
        if (stat(probe, &st) == 0) {
            snprintf(out, size, "%s/ledger", dir);
            return;
        }
    }
    snprintf(out, size, "%s", dir);
}

int cli_ledger_open_ro(const char *verb, const char *given, ledger **out)
{
    char errmsg[512] = "", dir[4096 + 16];
    ledger_options options = {.read_only = 1};
    cli_ledger_dir(given, dir, sizeof(dir));
    int rc = ledger_open(dir, NULL, 0, &options, out, errmsg, sizeof(errmsg));
    if (rc != 0)
        cli_error(verb, "%s: cannot open the ledger: %s%s%s", dir,
                  origo_strerror(rc), errmsg[0] ? ": " : "", errmsg);
    return rc;
}
