/* Read-only ledger opening shared by the verbs that read a node's data
 * directory (trace, prove), so they fail the same way. */
#include "cli_ledger.h"

#include "cli.h"
#include "origo/error.h"

int cli_ledger_open_ro(const char *verb, const char *dir, ledger **out)
{
    char errmsg[512] = "";
    ledger_options options = {.read_only = 1};
    int rc = ledger_open(dir, NULL, 0, &options, out, errmsg, sizeof(errmsg));
    if (rc != 0)
        cli_error(verb, "%s: cannot open the ledger: %s%s%s", dir,
                  origo_strerror(rc), errmsg[0] ? ": " : "", errmsg);
    return rc;
}
