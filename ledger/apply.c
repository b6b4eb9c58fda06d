/* Applying a block: the deterministic validation of each envelope against
 * the state as of its point of the log, the Merkle append and indexing of
 * accepted events, the recording of rejected ones, membership changes, and
 * the block header that chains it all. One write transaction per block, so
 * a crash leaves whole blocks only (docs/formats/block.md, "Validation"). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "origo/hash.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/keys.h"

#include "authority.h"
#include "block.h"
#include "lotindex_store.h"
#include "testing.h"
#include "members.h"
#include "store.h"
#include "trace.h"

typedef struct apply_job {
    uint64_t raft_term, raft_index, block_time;
    const ledger_envelope *envelopes;
    size_t count;
    unsigned flags;
    ledger_block_result *result;
    origo_event *ev;           /* scratch, one per job */
    uint8_t *message;          /* scratch: signature domain || body */
    struct trace_facts *facts; /* scratch */
} apply_job;

/* Per-block state while applying. */
typedef struct block_ctx {
    ledger *led;
    MDB_txn *txn;
    store_head head;
    uint64_t height;
    const apply_job *job;
    lotindex_batch touched; /* lot index keys this block changed */
} block_ctx;

/* ---- validation -------------------------------------------------------- */

/* A member event's target must be absent (member.add) or active (update,
 * remove). Member names are signed-note key names (a validator's name is
 * its checkpoint signing name), and the validator set never shrinks below
 * the genesis checkpoint quorum, so checkpoints can always be made. */
static int check_member_event(block_ctx *bc, const origo_event *ev)
{
    uint64_t position = bc->head.state.tree_size;
    member_record target;
    int rc = members_get(bc->led, bc->txn, ev->member, position, &target);
    if (rc && rc != ORIGO_E_NOTFOUND)
        return rc;
    int active = rc == 0 && target.active;
    if (ev->type == ORIGO_EV_MEMBER_ADD && active)
        return ORIGO_E_EXISTS;
    if (ev->type != ORIGO_EV_MEMBER_ADD && !active)
        return ORIGO_E_NOTFOUND;
    if (ev->type != ORIGO_EV_MEMBER_REMOVE &&
        origo_keyname_check(ev->name.ptr, ev->name.len) != 0)
        return ORIGO_E_MEMBER_NAME;
    if (ev->type == ORIGO_EV_MEMBER_ADD ||
        (ev->type == ORIGO_EV_MEMBER_UPDATE &&
         (ev->roles & ORIGO_ROLE_VALIDATOR)))
        return 0;
    if (!(target.roles & ORIGO_ROLE_VALIDATOR))
        return 0;
    size_t count;
    if ((rc = members_validator_count(bc->led, bc->txn, position, &count)))
        return rc;
    size_t minimum = bc->led->gen->checkpoint_quorum;
    return count - 1 < (minimum ? minimum : 1) ? ORIGO_E_VALIDATOR_QUORUM : 0;
}

/* Strict Ed25519 over "origo/event/v1\0" || body. The key is a member's,
 * and member keys were checked to be prime-order points when they entered
 * (genesis parsing, the member.add schema), so the SDK's per-call point
 * check (as costly as a verification) is not repeated here; libsodium
 * >= 1.0.18 still rejects small-order R and A and non-canonical S. */
static int signature_ok(const apply_job *job, const uint8_t pub[32],
                        const origo_envelope *envelope)
{
    memcpy(job->message + ORIGO_EVENT_SIG_DOMAIN_LEN, envelope->body,
           envelope->body_len);
    return crypto_sign_verify_detached(
               envelope->sig, job->message,
               ORIGO_EVENT_SIG_DOMAIN_LEN + envelope->body_len, pub) == 0;
}

/* Returns 0 (accept), a positive-sense rejection in *reason, or a negative
 * store error that aborts the block. Order of checks (the reason reported
 * is the first that fails): envelope decoding, duplicate ID, body decoding
 * and schema, network, membership, role, signature, timestamp window,
 * member-event target, member name and validator count, then the authority
 * rules (docs/formats/block.md, docs/formats/authority.md). */
static int validate(block_ctx *bc, const ledger_envelope *env, origo_event *ev,
                    ledger_outcome *out, int *reason)
{
    origo_envelope envelope;
    const genesis *gen = bc->led->gen;
    int rc;
    *reason = 0;
    if ((rc = origo_envelope_decode(env->data, env->len, &envelope))) {
        *reason = rc;
        return 0;
    }
    origo_event_id(envelope.body, envelope.body_len, out->event_id);
    out->has_id = 1;
    /* First: a committed ID answers "duplicate" whatever else changed since
     * (its submitter may have been removed), and its record is never
     * overwritten by a rejection. IDs are indexed by their first 128 bits:
     * another event sharing them (2^64 work for whoever signs both) is a
     * duplicate too. */
    MDB_val key = {BLOCK_ID_KEY_LEN, out->event_id}, val;
    rc = mdb_get(bc->txn, bc->led->event_ids, &key, &val);
    if (rc == 0) {
        ledger_event_info info;
        if ((rc = block_id_decode(&val, &info)))
            return rc;
        if (info.status == LEDGER_EVENT_COMMITTED) {
            *reason = ORIGO_E_DUPLICATE_EVENT;
            return 0;
        }
    } else if (rc != MDB_NOTFOUND) {
        return store_err(rc);
    }
    if ((rc = origo_event_decode_body(envelope.body, envelope.body_len, ev))) {
        /* Running out of memory is this node's problem, not the event's:
         * abort the block rather than reject differently elsewhere. */
        if (rc == ORIGO_E_NOMEM || rc == ORIGO_E_SODIUM)
            return rc;
        *reason = rc;
        return 0;
    }
    if (ev->net.len != strlen(gen->origin) ||
        memcmp(ev->net.ptr, gen->origin, ev->net.len) != 0) {
        *reason = ORIGO_E_NETWORK;
        return 0;
    }
    member_record who;
    rc = members_get(bc->led, bc->txn, ev->by, bc->head.state.tree_size, &who);
    if (rc == ORIGO_E_NOTFOUND || (rc == 0 && !who.active)) {
        *reason = ORIGO_E_NOT_MEMBER;
        return 0;
    }
    if (rc)
        return rc;
    if (!(who.roles & genesis_roles_for_type(ev->type))) {
        *reason = ORIGO_E_ROLE;
        return 0;
    }
    if (!env->sig_verified && !(bc->job->flags & LEDGER_APPLY_SIGS_VERIFIED) &&
        !signature_ok(bc->job, ev->by, &envelope)) {
        *reason = ORIGO_E_SIGNATURE;
        return 0;
    }
    uint64_t t = bc->job->block_time;
    uint64_t diff = ev->ts > t ? ev->ts - t : t - ev->ts;
    if (diff > gen->ts_window_ms && !bc->led->testing_skip_rules) {
        *reason = ORIGO_E_TIMESTAMP;
        return 0;
    }
    if (ev->type == ORIGO_EV_MEMBER_ADD || ev->type == ORIGO_EV_MEMBER_UPDATE ||
        ev->type == ORIGO_EV_MEMBER_REMOVE) {
        rc = check_member_event(bc, ev);
        if (rc == ORIGO_E_EXISTS || rc == ORIGO_E_NOTFOUND ||
            rc == ORIGO_E_MEMBER_NAME || rc == ORIGO_E_VALIDATOR_QUORUM) {
            *reason = rc;
            return 0;
        }
        if (rc)
            return rc;
    }
    /* Who may state what (authority.md): ownership, custody, quality
     * authority, governance, EPCIS mapping and event dates. */
    if (bc->led->testing_skip_rules)
        return 0;
    return authority_check(bc->led, bc->txn, ev, &who, bc->head.state.tree_size,
                           bc->job->block_time, reason);
}

/* ---- effects ------------------------------------------------------------ */

/* Whether this block appends to the lot index: not in a dry run, nor on a
 * benchmark's ledger that leaves it out (testing.h). */
static int index_kept(const block_ctx *bc)
{
    return !(bc->job->flags & LEDGER_APPLY_DRY_RUN) &&
           !bc->led->testing_skip_index;
}

static int accept(block_ctx *bc, const ledger_envelope *env,
                  const origo_event *ev, ledger_outcome *out)
{
    uint64_t leaf = bc->head.state.tree_size;
    uint8_t val_buf[9];
    int rc = mlog_append(bc->led, bc->txn, &bc->head, env->data, env->len);
    if (rc)
        return rc;
    val_buf[0] = LEDGER_EVENT_COMMITTED;
    store_put_be64(val_buf + 1, leaf);
    MDB_val key = {BLOCK_ID_KEY_LEN, out->event_id}, val = {9, val_buf};
    if ((rc = store_err(mdb_put(bc->txn, bc->led->event_ids, &key, &val, 0))))
        return rc;
    /* ORIGO_E_LOT cannot happen: the schema caps lots at ORIGO_LOT_MAX
     * (256) < TRACE_LOT_MAX (480). */
    struct trace_facts *facts = bc->job->facts;
    if ((rc = trace_facts_from_event(ev, facts)) ||
        (rc = trace_index_facts(bc->txn, bc->led->trace, leaf, facts)))
        return rc;
    if (index_kept(bc) &&
        (rc = lotindex_add_event(bc->led, bc->txn, &bc->touched, leaf,
                                 bc->job->block_time, facts, out->event_id)))
        return rc;
    /* Lots, custody, holds, and membership (once enough admins approve). */
    int member_changed = 0;
    rc = authority_apply(bc->led, bc->txn, ev, leaf, bc->job->block_time,
                         &member_changed);
    /* testing.h: a ledger that skips the rules records what it can (a
     * shipment of a lot that does not exist changes nothing). */
    if (rc == ORIGO_E_INTERNAL && bc->led->testing_skip_rules)
        rc = 0;
    if (rc)
        return rc;
    /* The membership chain: every member event at which a change took
     * effect (lot-index.md, "The membership chain"). */
    if (member_changed && index_kept(bc) &&
        (rc = lotindex_add(bc->led, bc->txn, &bc->touched, leaf,
                           bc->job->block_time, LOTINDEX_MEMBERS, "", 0,
                           out->event_id)))
        return rc;
    out->status = 0;
    out->leaf_index = leaf;
    return 0;
}

static int reject(block_ctx *bc, const ledger_envelope *env, uint32_t position,
                  int reason, ledger_outcome *out)
{
    uint8_t key_buf[12];
    uint16_t code = (uint16_t)(-reason);
    block_reject_key(key_buf, bc->height, position);
    /* The value (code || envelope) is written straight into the page. */
    MDB_val key = {12, key_buf}, val = {env->len + 2, NULL};
    int rc =
        store_err(mdb_put(bc->txn, bc->led->rejects, &key, &val, MDB_RESERVE));
    if (rc)
        return rc;
    uint8_t *val_buf = val.mv_data;
    val_buf[0] = (uint8_t)(code >> 8);
    val_buf[1] = (uint8_t)code;
    if (env->len)
        memcpy(val_buf + 2, env->data, env->len);
    out->status = reason;
    if (out->has_id && reason != ORIGO_E_DUPLICATE_EVENT) {
        /* Keep the latest rejection of an ID that never committed. */
        uint8_t id_buf[15];
        id_buf[0] = LEDGER_EVENT_REJECTED;
        store_put_be64(id_buf + 1, bc->height);
        store_put_be32(id_buf + 9, position);
        id_buf[13] = (uint8_t)(code >> 8);
        id_buf[14] = (uint8_t)code;
        MDB_val k2 = {BLOCK_ID_KEY_LEN, out->event_id}, v2 = {15, id_buf};
        rc = store_err(mdb_put(bc->txn, bc->led->event_ids, &k2, &v2, 0));
    }
    return rc;
}

/* ---- the block ------------------------------------------------------------
 */

static int write_header(block_ctx *bc, uint64_t first_leaf,
                        const uint8_t envelopes_hash[32])
{
    ledger_block_header h;
    uint8_t *bytes, hash[32], key_buf[8], height_buf[8];
    size_t len;
    memset(&h, 0, sizeof(h));
    h.height = bc->height;
    memcpy(h.prev_hash, bc->head.state.last_block_hash, 32);
    h.block_time = bc->job->block_time;
    h.raft_term = bc->job->raft_term;
    h.raft_index = bc->job->raft_index;
    h.envelope_count = bc->job->count;
    memcpy(h.envelopes_hash, envelopes_hash, 32);
    h.first_leaf = first_leaf;
    h.leaf_count = bc->head.state.tree_size - first_leaf;
    h.tree_size = bc->head.state.tree_size;
    origo_merkle_frontier_root(&bc->head.frontier, h.root);
    int rc = ledger_block_encode(&h, &bytes, &len, hash);
    if (rc)
        return rc;
    store_put_be64(key_buf, h.height);
    MDB_val key = {8, key_buf}, val = {len, bytes};
    rc = store_err(mdb_put(bc->txn, bc->led->blocks, &key, &val, MDB_APPEND));
    free(bytes);
    if (rc)
        return rc;
    store_put_be64(key_buf, h.raft_index);
    store_put_be64(height_buf, h.height);
    MDB_val k2 = {8, key_buf}, v2 = {8, height_buf};
    if ((rc = store_err(
             mdb_put(bc->txn, bc->led->block_raft, &k2, &v2, MDB_APPEND))))
        return rc;
    if (index_kept(bc) && (rc = lotindex_commit(bc->led, bc->txn, &bc->touched,
                                                bc->head.state.tree_size)))
        return rc;
    bc->head.state.height = h.height;
    memcpy(bc->head.state.root, h.root, 32);
    memcpy(bc->head.state.last_block_hash, hash, 32);
    bc->head.state.last_block_time = h.block_time;
    bc->head.state.raft_term = h.raft_term;
    bc->head.state.raft_index = h.raft_index;
    ledger_block_result *res = bc->job->result;
    if (res) {
        res->height = h.height;
        memcpy(res->block_hash, hash, 32);
        res->first_leaf = h.first_leaf;
        res->leaf_count = h.leaf_count;
        res->tree_size = h.tree_size;
        memcpy(res->root, h.root, 32);
    }
    return store_head_put(bc->led, bc->txn, &bc->head);
}

static int apply_block(block_ctx *bc)
{
    const apply_job *job = bc->job;
    int rc = store_head_get(bc->led, bc->txn, &bc->head);
    if (rc)
        return rc;
    if (job->raft_index <= bc->head.state.raft_index)
        return ORIGO_E_EXISTS;
    if (job->block_time <= bc->head.state.last_block_time)
        return ORIGO_E_BLOCK_TIME;
    bc->height = bc->head.state.height + 1;
    uint64_t first_leaf = bc->head.state.tree_size;
    size_t rejected = 0;
    origo_sha256_state content;
    uint8_t envelopes_hash[32];
    block_content_init(&content);
    for (size_t i = 0; i < job->count; i++) {
        block_content_add(&content, job->envelopes[i].data,
                          job->envelopes[i].len);
        ledger_outcome local, *out = job->result && job->result->outcomes
                                         ? &job->result->outcomes[i]
                                         : &local;
        int reason;
        memset(out, 0, sizeof(*out));
        if ((rc = validate(bc, &job->envelopes[i], job->ev, out, &reason)))
            return rc;
        if (reason == 0)
            rc = accept(bc, &job->envelopes[i], job->ev, out);
        else
            rc = reject(bc, &job->envelopes[i], (uint32_t)i, reason, out);
        if (rc)
            return rc;
        rejected += reason != 0;
    }
    if (job->result)
        job->result->rejected = rejected;
    block_content_final(&content, envelopes_hash);
    return write_header(bc, first_leaf, envelopes_hash);
}

static int apply_in_txn(ledger *led, MDB_txn *txn, void *ctx)
{
    block_ctx bc = {.led = led, .txn = txn, .job = ctx};
    int rc = apply_block(&bc);
    lotindex_batch_free(&bc.touched);
    return rc;
}

int ledger_apply_block(ledger *led, MDB_txn *txn, uint64_t raft_term,
                       uint64_t raft_index, uint64_t block_time_ms,
                       const ledger_envelope *envelopes, size_t count,
                       unsigned flags, ledger_block_result *result)
{
    if (count > LEDGER_MAX_BLOCK_EVENTS)
        return ORIGO_E_TOOBIG;
    if (raft_index == 0 || (count && !envelopes))
        return ORIGO_E_INVAL;
    apply_job job = {.raft_term = raft_term,
                     .raft_index = raft_index,
                     .block_time = block_time_ms,
                     .envelopes = envelopes,
                     .count = count,
                     .flags = flags,
                     .result = result};
    job.ev = malloc(sizeof(*job.ev));
    job.message = malloc(ORIGO_EVENT_SIG_DOMAIN_LEN + ORIGO_EVENT_BODY_MAX);
    job.facts = malloc(sizeof(*job.facts));
    if (!job.ev || !job.message || !job.facts) {
        free(job.ev);
        free(job.message);
        free(job.facts);
        return ORIGO_E_NOMEM;
    }
    memcpy(job.message, ORIGO_EVENT_SIG_DOMAIN, ORIGO_EVENT_SIG_DOMAIN_LEN);
    int rc = txn ? apply_in_txn(led, txn, &job)
                 : store_write(led, apply_in_txn, &job);
    free(job.ev);
    free(job.message);
    free(job.facts);
    return rc;
}

void ledger_testing_skip_rules(ledger *led, int on)
{
    led->testing_skip_rules = on;
}

void ledger_testing_skip_index(ledger *led, int on)
{
    led->testing_skip_index = on;
}
