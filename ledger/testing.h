/* For tests only: nothing in origo-node, the CLI or the SDK calls this.
 *
 * A ledger that does not apply the authority rules (authority.md) accepts
 * what a validator running other code, or colluding validators, could
 * accept. Tests build such a ledger to show that a trace report depending
 * on a refused event is refused by the offline verifier all the same
 * (report_authority.h). */
#ifndef ORIGO_LEDGER_TESTING_H
#define ORIGO_LEDGER_TESTING_H

#include "ledger.h"

/* With `on`, apply skips the timestamp window and the authority rules of
 * validation steps 8 and 10 (block.md) and still records what accepted events
 * change, where it can (a shipment of a lot that does not exist changes
 * nothing). */
void ledger_testing_skip_rules(ledger *led, int on);

/* For benchmarks: with `on`, apply leaves the lot index alone (no chain
 * appended, no root stored), to measure what the index costs. The store's
 * index is wrong afterwards: only for a store that is thrown away. */
void ledger_testing_skip_index(ledger *led, int on);

#endif
