/* Helpers for the ledger tests: a test network (deterministic keys for
 * validators, an admin and members of each role), its genesis JSON, stores
 * in temporary directories, signed events and blocks. */
#ifndef ORIGO_TESTS_LEDGERTEST_H
#define ORIGO_TESTS_LEDGERTEST_H

#include <stddef.h>
#include <stdint.h>

#include "origo/event.h"

#include "ledger.h"

#define LT_NET "origo.test/net"
#define LT_VALIDATORS 3
#define LT_T0 1700000000000ull /* block times start here (ms) */
#define LT_WINDOW 60000ull     /* the fixtures' timestamp window (ms) */

/* Parties of the test network, by index into lt_net.keys. */
enum lt_party {
    LT_V1,
    LT_V2,
    LT_V3, /* validators */
    LT_ADMIN,
    LT_SUPPLIER,
    LT_PLANT,
    LT_CARRIER,
    LT_INSPECTOR,
    LT_OUTSIDER, /* not in the genesis */
    LT_PARTIES
};

typedef struct lt_net {
    origo_key *keys[LT_PARTIES];
    uint8_t seeds[LT_PARTIES][32];
    char *genesis_json; /* NUL-terminated */
    size_t genesis_len;
} lt_net;

/* Builds the network (rule version 1: "acme" owns the namespaces
 * party:acme and gs1:4012345, "plant1" owns party:plant1 and gs1:4099999);
 * window is the
 * timestamp window in ms. Aborts on failure. */
void lt_net_init(lt_net *net, uint64_t window_ms);
void lt_net_close(lt_net *net);

/* Opens a fresh store in a new temporary directory (path into *dir,
 * malloc()ed). nosync for speed unless `sync`. */
ledger *lt_store(const lt_net *net, char **dir, int sync);

/* A growable list of envelopes (owned copies). */
typedef struct lt_block {
    ledger_envelope *envs;
    size_t count, cap;
} lt_block;

/* A test network with a fresh store in a temporary directory, the block
 * being built and the Raft index and block time of the last applied block:
 * the fixture the apply, rules and audit tests share. */
typedef struct lt_fixture {
    lt_net net;
    ledger *led; /* may be NULL (closed by the test) */
    char *dir;
    lt_block block;
    ledger_outcome out[64];
    uint64_t raft_index, time; /* time starts at LT_T0 */
} lt_fixture;

/* Allocates a fixture over lt_net_init(window_ms) and a nosync
 * lt_store(). Aborts on failure. */
lt_fixture *lt_fixture_new(uint64_t window_ms);
/* Closes the store, removes its directory and frees the fixture (NULL is a
 * no-op). */
void lt_fixture_free(lt_fixture *f);
/* cmocka setup and teardown: *state = lt_fixture_new(LT_WINDOW);
 * lt_fixture_free(*state). */
int lt_fixture_setup(void **state);
int lt_fixture_teardown(void **state);

void lt_block_add(lt_block *b, const uint8_t *data, size_t len);
void lt_block_clear(lt_block *b);

/* Builds and signs events (aborts on failure); appends the envelope to
 * `b` and writes the ID to id (may be NULL). */
void lt_lot_create(lt_block *b, const lt_net *net, int party, const char *lot,
                   uint64_t ts, uint8_t id[32]);
void lt_transform(lt_block *b, const lt_net *net, int party,
                  const char *const *inputs, size_t n_in,
                  const char *const *outputs, size_t n_out, uint64_t ts,
                  uint8_t id[32]);
void lt_member(lt_block *b, const lt_net *net, int party,
               enum origo_event_type type, const uint8_t member[32],
               const char *name, unsigned roles, uint64_t ts, uint8_t id[32]);
/* Signs an event with `signer` while claiming `by` (for bad signatures). */
void lt_lot_create_forged(lt_block *b, const lt_net *net, int by, int signer,
                          const char *lot, uint64_t ts);

/* Applies a block with the given block time; asserts success; fills
 * outcomes (room for b->count). */
void lt_apply(ledger *led, const lt_block *b, uint64_t raft_index,
              uint64_t block_time, ledger_outcome *outcomes);

/* Sets ev's net, by (the party's key) and ts, seals it and appends the
 * envelope to `b`; aborts when the SDK refuses to encode it. */
void lt_seal(lt_block *b, const lt_net *net, int party, origo_event *ev,
             uint64_t ts);

/* Builds an epcis event with the given JSON text (which must be valid) and
 * appends its envelope to `b`. */
void lt_epcis(lt_block *b, const lt_net *net, int party, const char *text,
              uint64_t ts, uint8_t id[32]);
/* The same without any schema check: the body is written field by field
 * and signed as is, as a member trying to slip an invalid text past the
 * ledger would. */
void lt_epcis_unchecked(lt_block *b, const lt_net *net, int party,
                        const char *text, uint64_t ts);

/* The validators' verifier keys (names "v1".."v3"). */
void lt_validator_vkeys(const lt_net *net, origo_vkey out[LT_VALIDATORS]);

/* Signs a checkpoint body as validator `v` (0..2): writes the note line. */
void lt_sign_checkpoint(const lt_net *net, int v, const char *body,
                        size_t body_len, char *line, size_t line_size);

/* Compares every named table of two environments byte for byte (except
 * tables named in `skip`, NULL-terminated or NULL). Returns 0 when equal,
 * else prints the first difference and returns 1. */
int lt_compare_envs(MDB_env *a, MDB_env *b, const char *const *skip);

#endif

/* Block number `k` (1-based) of a deterministic random sequence: valid lot
 * creations and transforms (inputs from block k-1), plus invalid events
 * (outsider, wrong role, duplicate, forged signature) and, every few
 * blocks, member removal / re-addition of the carrier. Its block time is
 * lt_block_time(k) and its Raft index k. */
void lt_random_block(const lt_net *net, uint64_t seed, uint64_t k,
                     size_t max_events, lt_block *b);
uint64_t lt_block_time(uint64_t k);
