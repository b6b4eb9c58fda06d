/* Opening a node's ledger from a CLI verb, with the one error message every
 * verb prints when the directory is not a ledger. */
#ifndef ORIGO_TOOLS_CLI_LEDGER_H
#define ORIGO_TOOLS_CLI_LEDGER_H

#include "ledger.h"

/* Opens the ledger in `dir` read-only. On failure prints "origo <verb>:
 * <dir>: cannot open the ledger: ..." and returns a negative ORIGO_E_*
 * code; on success *out is the ledger (ledger_close() it). */
int cli_ledger_open_ro(const char *verb, const char *dir, ledger **out);

/* The ledger directory `dir` means: `dir` itself when it holds data.mdb,
 * else `dir`/ledger when that does (an origo-node data directory, as
 * [node] data names it). Writes it to out (room for `size`). */
void cli_ledger_dir(const char *dir, char *out, size_t size);

#endif
