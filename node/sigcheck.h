/* The signatures of one Raft entry's events, checked once.
 *
 * A follower checks the events of an entry on the crypto pool when the
 * entry arrives, so that applying it later need not (node/main.c,
 * on_arriving). Under load an entry is often committed and applied while
 * its check is still queued or half done; the applying thread then used to
 * check every signature again, a third more Ed25519 verifications than
 * events on each follower (measured: 1.57 a committed event on three
 * validators). Now the applying thread joins the check instead: the pool
 * and the applier take the entry's events from one counter, each event is
 * verified by exactly one of them, and the applier waits only for the
 * events the pool is verifying at that moment.
 *
 * What the check answers is only "every envelope's signature verifies
 * against the key it names, on this network" (origo_envelope_verify); the
 * applier still decides everything else, and an entry with any event that
 * fails the check is applied with every signature checked again inline, so
 * the outcome never depends on the check or on who did it. */
#ifndef ORIGO_NODE_SIGCHECK_H
#define ORIGO_NODE_SIGCHECK_H

#include <stddef.h>
#include <stdint.h>

typedef struct sigcheck sigcheck;

/* Envelopes this node has verified itself, by digest (BLAKE2b-256 of the
 * envelope's exact bytes). A follower verifies a submission before it
 * forwards it to the leader; when the entry that holds it arrives, its
 * check finds it here and does not verify it a second time (clients that
 * submit through followers made each follower verify 1.34 signatures a
 * committed event). Only envelopes that verified on this network are
 * added, so a hit means exactly "these bytes verify". A fixed number of
 * slots, each digest in one place (a newer digest overwrites an older one):
 * bounded memory, at worst a signature verified again. Any thread. */
typedef struct sigseen sigseen;
sigseen *sigseen_new(size_t slots_log2);
void sigseen_add(sigseen *t, const uint8_t *envelope, size_t len);
int sigseen_has(sigseen *t, const uint8_t *envelope, size_t len);
void sigseen_free(sigseen *t);

/* Decodes the entry's block proposal (replica_decode_proposal) and keeps a
 * copy of its bytes; events found in `seen` (may be NULL) count as
 * verified without verifying them again. Returns 0; ORIGO_E_NOMEM;
 * ORIGO_E_INVAL when the bytes are not a proposal (nothing to check: apply
 * decides what they are). */
int sigcheck_new(const uint8_t *data, size_t len, const char *origin,
                 sigseen *seen, sigcheck **out);

/* Takes events and verifies them until none is left. Any thread, any
 * number of threads at once. */
void sigcheck_work(sigcheck *s);

/* sigcheck_work() in the calling thread, then waits until every event
 * taken by other threads is verified. Returns 1 if every envelope
 * verified, 0 if one did not. May be called again (same answer). */
int sigcheck_finish(sigcheck *s);

/* How many signatures the threads that called sigcheck_finish() verified
 * themselves (events found in `seen` not counted; for the node's metrics
 * and the tests). */
size_t sigcheck_finished_here(const sigcheck *s);
size_t sigcheck_count(const sigcheck *s);
/* How many events were found in `seen` (not verified again). */
size_t sigcheck_seen(const sigcheck *s);

/* For tests: called by the thread that has just taken event i, before it
 * verifies it; `finishing` is 1 inside sigcheck_finish(). */
void sigcheck_set_hook(sigcheck *s,
                       void (*hook)(void *ctx, size_t i, int finishing),
                       void *ctx);

/* Only once no thread is inside sigcheck_work() or sigcheck_finish(). */
void sigcheck_free(sigcheck *s);

#endif
