/* Opening a node's ledger from a CLI verb, with the one error message every
 * verb prints when the directory is not a ledger. */
#ifndef ORIGO_TOOLS_CLI_LEDGER_H
#define ORIGO_TOOLS_CLI_LEDGER_H

#include "ledger.h"

/* Opens the ledger in `dir` read-only. On failure prints "origo <verb>:
 * <dir>: cannot open the ledger: ..." and returns a negative ORIGO_E_*
 * code; on success *out is the ledger (ledger_close() it). */
int cli_ledger_open_ro(const char *verb, const char *dir, ledger **out);

#endif
