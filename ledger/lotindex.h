/* The lot index (docs/formats/lot-index.md): an authenticated map from
 * (lot, role) to a commitment to every event at a leaf index below tree
 * size N that names the lot in that role, cosigned with the checkpoint, so
 * that a trace report proves that nothing was left out.
 *
 * This file holds what a verifier needs and no LMDB: the hash domains, the
 * roles of an event, the chain step, the map's node hashes, proof
 * verification and the index note. The store side is lotindex_store.c.
 *
 * Any thread, distinct objects. */
#ifndef ORIGO_LEDGER_LOTINDEX_H
#define ORIGO_LEDGER_LOTINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "trace_facts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Roles (lot-index.md, "Roles"). */
enum lotindex_role {
    LOTINDEX_IN = 1,      /* the event states an edge into the lot */
    LOTINDEX_OUT = 2,     /* the event states an edge out of the lot */
    LOTINDEX_CUSTODY = 3, /* custody record about the lot */
    LOTINDEX_QUALITY = 4, /* quality.*, inspection, COA, EPCIS recall */
    LOTINDEX_OTHER = 5,   /* names the lot in none of the above */
};
#define LOTINDEX_ROLES 5
/* The membership chain (lot-index.md, "The membership chain"): one more
 * key, role 6 with an empty lot, over the genesis and every member event
 * at which a membership change took effect, so that a report can prove
 * who each signer was at its leaf. Not a lot role: lotindex_roles() never
 * gives it. */
#define LOTINDEX_MEMBERS 6
#define LOTINDEX_ROLE_BIT(role) (1u << (role))

/* The roles in which the event of `facts` names lots[j]: a mask of
 * LOTINDEX_ROLE_BIT(). Never 0 for a named lot. */
unsigned lotindex_roles(const struct trace_facts *facts, size_t j);
/* The same from the fields it reads (for compacted facts). */
unsigned lotindex_roles_of(int type, int kind,
                           const struct trace_fact_edge *edges,
                           size_t edge_count, const uint16_t *subjects,
                           size_t subject_count, size_t j);

/* What a trace report of a query holds (docs/formats/trace-report.md,
 * "Version 2"), decided here once for the builder and the verifier: the
 * roles whose chains the query needs for each lot of its answer
 * (LOTINDEX_ROLE_BIT() mask: the direction's chain, in, other and
 * custody for the authority rules, and custody and quality for a recall),
 * and whether the chain of `role` of a lot at `depth` is full (all its
 * events in the report) rather than proven by its count only (a forward
 * trace's out chain of a lot at the depth limit). */
#define LOTINDEX_ALL_ROLES 0x3eu
unsigned lotindex_query_roles(int backward, int recall, int lot_events);
int lotindex_chain_full(int backward, int lot_events, int role, uint32_t depth,
                        uint32_t max_depth);

/* "in", "out", "custody", "quality", "other", "members"; NULL for
 * another value. */
const char *lotindex_role_name(int role);
/* The lot role (1..LOTINDEX_ROLES) of a name, or 0 ("members" too). */
int lotindex_role_parse(const char *name);

/* The membership chain's first element: the genesis, as the step
 * (leaf 2^64 - 1, block time 0, genesis hash) from the zero head, so the
 * chain's count is 1 before any member event. Writes that head. */
#define LOTINDEX_GENESIS_LEAF UINT64_MAX
void lotindex_members_seed(const uint8_t genesis_hash[32], uint8_t head[32]);

/* K = SHA-256("origo/lot-index/key/v1\0" || role || lot). */
void lotindex_key(int role, const char *lot, size_t lot_len, uint8_t key[32]);
/* head' = SHA-256("origo/lot-index/chain/v2\0" || head || leaf (u64 BE)
 * || block time (u64 BE, Unix ms: the time of the block that committed
 * the event) || event ID). */
void lotindex_chain_step(uint8_t head[32], uint64_t leaf, uint64_t block_time,
                         const uint8_t event_id[32]);
/* SHA-256("origo/lot-index/leaf/v1\0" || key || count (u64 BE) || head). */
void lotindex_leaf_hash(const uint8_t key[32], uint64_t count,
                        const uint8_t head[32], uint8_t out[32]);
/* SHA-256("origo/lot-index/node/v1\0" || left || right). */
void lotindex_node_hash(const uint8_t left[32], const uint8_t right[32],
                        uint8_t out[32]);
/* The bytes those two hash, laid out in out (room for
 * LOTINDEX_INPUT_MAX); returns their length. For a caller that hashes
 * them with another SHA-256 implementation (lotindex_mem.c). */
#define LOTINDEX_INPUT_MAX 96
size_t lotindex_leaf_input(const uint8_t key[32], uint64_t count,
                           const uint8_t head[32], uint8_t *out);
size_t lotindex_node_input(const uint8_t left[32], const uint8_t right[32],
                           uint8_t *out);
/* Bit i of a key, from the most significant bit of byte 0 (the root). */
int lotindex_key_bit(const uint8_t key[32], unsigned i);
/* The bytes lotindex_key() and lotindex_chain_step() hash, laid out in out
 * (room for LOTINDEX_KEY_INPUT_MAX(lot_len), LOTINDEX_CHAIN_INPUT_LEN);
 * return their length. For apply, which hashes them with Nettle
 * (lotindex_store.c). */
#define LOTINDEX_KEY_INPUT_MAX(lot_len) (24 + (lot_len))
#define LOTINDEX_CHAIN_INPUT_LEN 105
size_t lotindex_key_input(int role, const char *lot, size_t lot_len,
                          uint8_t *out);
size_t lotindex_chain_input(const uint8_t head[32], uint64_t leaf,
                            uint64_t block_time, const uint8_t event_id[32],
                            uint8_t *out);

/* A proof for one key against an index root: the siblings along the key's
 * path from the root down (an all-zero sibling is an empty subtree), then
 * what the path ends at. */
#define LOTINDEX_MAX_DEPTH 256
enum lotindex_end {
    LOTINDEX_END_EMPTY = 0, /* an empty subtree: the key is absent */
    LOTINDEX_END_LEAF = 1,  /* the key's own leaf: count and head */
    LOTINDEX_END_OTHER = 2, /* another key's leaf on its path: absent */
};
typedef struct lotindex_proof {
    unsigned depth;
    uint8_t siblings[LOTINDEX_MAX_DEPTH][32];
    int end;
    uint8_t other_key[32]; /* END_OTHER */
    uint64_t count;        /* END_LEAF: this key's; END_OTHER: the other's */
    uint8_t head[32];
} lotindex_proof;

/* Checks `proof` for `key` against `root`; on success *count and head
 * are the key's value (0 and zeros when absent). Returns 0 or
 * ORIGO_E_PROOF. */
int lotindex_proof_verify(const lotindex_proof *proof, const uint8_t key[32],
                          const uint8_t root[32], uint64_t *count,
                          uint8_t head[32]);

/* The index note body (lot-index.md, "The index note"):
 * "origo lot index v1\n<origin>\n<size>\n<base64 log root>\n<base64 index
 * root>\n", NUL-terminated (malloc()ed; *len excludes the NUL). Returns 0
 * or ORIGO_E_NOMEM. */
int lotindex_note_body(const char *origin, uint64_t tree_size,
                       const uint8_t log_root[32], const uint8_t index_root[32],
                       char **body, size_t *len);
/* Parses a note body of that form exactly (canonical: one spelling).
 * Returns 0 or ORIGO_E_NOTE_FORMAT. */
int lotindex_note_parse(const char *body, size_t len, char *origin,
                        size_t origin_size, uint64_t *tree_size,
                        uint8_t log_root[32], uint8_t index_root[32]);

#ifdef __cplusplus
}
#endif
#endif
