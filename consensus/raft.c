/* The Raft core's node state: the in-memory log, persistence bookkeeping
 * (readies, durable watermark, messages held until durable), elections with
 * pre-vote and leases, and the follower side of replication and snapshots.
 * The leader side lives in raft_replicate.c. Nothing here does I/O. */
#include "raft_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "origo/error.h"
#include "raftmsg.h"

/* ------------------------------------------------------------ memory -- */

void *raft_mem_alloc(struct raft *r, size_t size)
{
    if (r->opts.alloc.malloc_fn != NULL) {
        return r->opts.alloc.malloc_fn(r->opts.alloc.ctx, size);
    }
    return malloc(size);
}

void *raft_mem_realloc(struct raft *r, void *ptr, size_t size)
{
    if (r->opts.alloc.realloc_fn != NULL) {
        return r->opts.alloc.realloc_fn(r->opts.alloc.ctx, ptr, size);
    }
    return realloc(ptr, size);
}

void raft_mem_free(struct raft *r, void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    if (r->opts.alloc.free_fn != NULL) {
        r->opts.alloc.free_fn(r->opts.alloc.ctx, ptr);
        return;
    }
    free(ptr);
}

/* Grows *base (of elem-sized items, capacity *cap) to hold need items. */
static int grow(struct raft *r, void **base, size_t *cap, size_t need,
                size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t new_cap = *cap == 0 ? 16 : *cap * 2;
    while (new_cap < need) {
        new_cap *= 2;
    }
    void *p = raft_mem_realloc(r, *base, new_cap * elem);
    if (p == NULL) {
        return ORIGO_E_NOMEM;
    }
    *base = p;
    *cap = new_cap;
    return 0;
}

static int buf_copy(struct raft *r, struct raft_buf *dst, const uint8_t *src,
                    size_t len)
{
    dst->base = NULL;
    dst->len = 0;
    if (len == 0) {
        return 0;
    }
    dst->base = raft_mem_alloc(r, len);
    if (dst->base == NULL) {
        return ORIGO_E_NOMEM;
    }
    memcpy(dst->base, src, len);
    dst->len = len;
    return 0;
}

/* --------------------------------------------------------------- log -- */

uint64_t raft_last_index(const struct raft *r)
{
    return r->snap.index + r->n_ents;
}

bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term)
{
    if (index == r->snap.index) {
        *term = r->snap.term;
        return true;
    }
    if (index < r->snap.index || index > raft_last_index(r)) {
        *term = 0;
        return false;
    }
    *term = r->ents[index - r->snap.index - 1].term;
    return true;
}

uint64_t raft_last_term(const struct raft *r)
{
    uint64_t term = 0;
    raft_term_at(r, raft_last_index(r), &term);
    return term;
}

const struct raft_entry *raft_entry_at(const struct raft *r, uint64_t index)
{
    if (index <= r->snap.index || index > raft_last_index(r)) {
        return NULL;
    }
    return &r->ents[index - r->snap.index - 1];
}

/* The configuration in force at index: the last config entry at or before
 * it, else the snapshot's, else the bootstrap one. */
static void config_at(const struct raft *r, uint64_t index,
                      struct raft_config *out, uint64_t *config_index)
{
    for (uint64_t i = index; i > r->snap.index; i--) {
        const struct raft_entry *e = raft_entry_at(r, i);
        if (e != NULL && e->type == RAFT_ENTRY_CONFIG &&
            raft_config_decode(e->data.base, e->data.len, out) == 0) {
            *config_index = i;
            return;
        }
    }
    if (r->snap.index > 0) {
        *out = r->snap.config;
        *config_index = r->snap.index;
        return;
    }
    *out = r->bootstrap;
    *config_index = 0;
}

void raft_apply_config(struct raft *r, const struct raft_config *c,
                       uint64_t index)
{
    r->config = *c;
    r->config_index = index;
    if (r->role == RAFT_LEADER) {
        raft_replicate_sync_members(r);
        if (r->transfer_target != RAFT_NONE &&
            !raft_config_is_voter(c, r->transfer_target)) {
            r->transfer_target = RAFT_NONE;
        }
    }
}

/* Appends one entry with a copy of data at the end of the log. */
int raft_log_append(struct raft *r, uint64_t term, uint8_t type,
                    const uint8_t *data, size_t len)
{
    int rc = grow(r, (void **)&r->ents, &r->cap_ents, r->n_ents + 1,
                  sizeof(*r->ents));
    if (rc != 0) {
        return rc;
    }
    struct raft_entry *e = &r->ents[r->n_ents];
    rc = buf_copy(r, &e->data, data, len);
    if (rc != 0) {
        return rc;
    }
    e->term = term;
    e->index = raft_last_index(r) + 1;
    e->type = type;
    r->n_ents++;
    if (type == RAFT_ENTRY_CONFIG) {
        struct raft_config c;
        if (raft_config_decode(data, len, &c) == 0) {
            raft_apply_config(r, &c, e->index);
        }
    }
    return 0;
}

/* Drops entries from index on (a conflict with the leader's log). */
static void log_truncate_from(struct raft *r, uint64_t index)
{
    while (raft_last_index(r) >= index && r->n_ents > 0) {
        r->n_ents--;
        raft_mem_free(r, r->ents[r->n_ents].data.base);
    }
    if (r->unstable_from > index) {
        r->unstable_from = index;
    }
    if (r->persisted_index >= index) {
        r->persisted_index = index - 1;
    }
    if (r->config_index >= index) {
        struct raft_config c;
        uint64_t ci;
        config_at(r, index - 1, &c, &ci);
        raft_apply_config(r, &c, ci);
    }
}

/* Drops entries up to and including index (covered by a snapshot). */
static void log_compact(struct raft *r, uint64_t index, uint64_t term)
{
    size_t drop = 0;
    if (index > r->snap.index) {
        drop = (size_t)(index - r->snap.index);
    }
    if (drop > r->n_ents) {
        drop = r->n_ents;
    }
    for (size_t i = 0; i < drop; i++) {
        raft_mem_free(r, r->ents[i].data.base);
    }
    memmove(r->ents, r->ents + drop, (r->n_ents - drop) * sizeof(*r->ents));
    r->n_ents -= drop;
    r->snap.index = index;
    r->snap.term = term;
}

static void log_clear(struct raft *r)
{
    for (size_t i = 0; i < r->n_ents; i++) {
        raft_mem_free(r, r->ents[i].data.base);
    }
    r->n_ents = 0;
}

/* ---------------------------------------------------------- messages -- */

void raft_msg_free(struct raft *r, struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND) {
        for (size_t i = 0; i < m->u.append.n_entries; i++) {
            raft_mem_free(r, m->u.append.entries[i].data.base);
        }
        raft_mem_free(r, m->u.append.entries);
        m->u.append.entries = NULL;
        m->u.append.n_entries = 0;
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        raft_mem_free(r, m->u.snapshot.chunk.base);
        m->u.snapshot.chunk.base = NULL;
    }
}

static bool state_dirty(const struct raft *r)
{
    return r->unstable_from <= raft_last_index(r) || r->install_pending ||
           r->hs_handed.term != r->term || r->hs_handed.vote != r->vote;
}

/* The ready after which the current term and vote are durable. */
static uint64_t term_vote_seq(const struct raft *r)
{
    if (r->hs_handed.term != r->term || r->hs_handed.vote != r->vote) {
        return r->ready_seq + 1; /* not even handed out yet */
    }
    return r->hs_seq;
}

/* Queues m (taking ownership of its buffers, also on failure). A message
 * that claims durable state waits until everything up to now is durable.
 * Every message waits until the node's current term and vote are durable:
 * a node that crashed before that would restart in its old term and could
 * act in the new one a second time (a single voter electing itself would
 * lead the same term twice, with different entries). */
int raft_send(struct raft *r, struct raft_msg *m, bool needs_durable)
{
    m->from = r->id;
    uint64_t need = needs_durable ? r->ready_seq + (state_dirty(r) ? 1 : 0) : 0;
    uint64_t need_tv = term_vote_seq(r);
#ifdef ORIGO_RAFT_MUTATE_VOTE_EARLY
    /* Mutation check only: grant a vote before it is durable. */
    if (m->type == RAFT_MSG_VOTE_RESP)
        need_tv = 0;
#endif
    if (need_tv > need) {
        need = need_tv;
    }
    int rc;
    if (need > r->persisted_seq) {
        rc = grow(r, (void **)&r->held, &r->cap_held, r->n_held + 1,
                  sizeof(*r->held));
        if (rc != 0) {
            raft_msg_free(r, m);
            return rc;
        }
        r->held[r->n_held].need_seq = need;
        r->held[r->n_held].msg = *m;
        r->n_held++;
        return 0;
    }
    rc = grow(r, (void **)&r->outbox, &r->cap_outbox, r->n_outbox + 1,
              sizeof(*r->outbox));
    if (rc != 0) {
        raft_msg_free(r, m);
        return rc;
    }
    r->outbox[r->n_outbox++] = *m;
    return 0;
}

/* Held messages of older terms claim state that a newer term may have
 * overwritten before it became durable: they must never leave. */
static void drop_held_before(struct raft *r, uint64_t term)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n_held; i++) {
        if (r->held[i].msg.term < term) {
            raft_msg_free(r, &r->held[i].msg);
        } else {
            r->held[kept++] = r->held[i];
        }
    }
    r->n_held = kept;
}

/* ------------------------------------------------------------- roles -- */

uint32_t raft_quorum(const struct raft *r)
{
    return r->config.n_voters / 2 + 1;
}

static void reset_timeout(struct raft *r)
{
    uint32_t et = r->opts.election_ticks;
    r->election_elapsed = 0;
    r->randomized_timeout =
        et + (uint32_t)(r->opts.rand_fn(r->opts.rand_ctx) % (uint64_t)et);
}

void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
    /* Only hearing from a leader or granting a vote restarts the election
     * timer: a rejected candidate that keeps raising the term (a node with
     * a stale log and a fast clock) must not keep the others from timing
     * out. A leader stepping down starts afresh. */
    if (r->role == RAFT_LEADER) {
        reset_timeout(r);
    }
    if (term > r->term) {
        r->term = term;
        r->vote = RAFT_NONE;
        drop_held_before(r, term);
    }
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    r->transfer_target = RAFT_NONE;
    r->n_voted = 0;
    r->won_pending = false;
}

static int become_leader(struct raft *r)
{
    /* A candidate leads only once its term and its own vote are durable:
     * with a single voter that vote alone wins, and a node that crashed
     * before the vote was stored could win the same term again. */
    if (term_vote_seq(r) > r->persisted_seq) {
        r->won_pending = true;
        return 0;
    }
    r->won_pending = false;
    /* Progress tracking first: if it cannot be allocated, the node stays a
     * candidate and times out again rather than lead blind. */
    r->role = RAFT_LEADER;
    int rc = raft_replicate_reset(r);
    if (rc != 0) {
        r->role = RAFT_CANDIDATE;
        return rc;
    }
    r->leader = r->id;
    r->transfer_target = RAFT_NONE;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    rc = raft_log_append(r, r->term, RAFT_ENTRY_NOOP, NULL, 0);
    if (rc != 0) {
        /* A leader without an entry of its term could commit nothing of
         * earlier terms nor change the configuration: step down and let
         * the election timer run again. */
        raft_become_follower(r, r->term, RAFT_NONE);
        return rc;
    }
    raft_replicate_maybe_commit(r);
    return raft_replicate_broadcast(r, true);
}

/* Records an answer; returns the counts of grants and rejections. */
static void record_vote(struct raft *r, uint64_t from, bool granted,
                        uint32_t *grants, uint32_t *rejects)
{
    bool seen = false;
    for (uint32_t i = 0; i < r->n_voted; i++) {
        if (r->voted_ids[i] == from) {
            seen = true;
        }
    }
    if (!seen && r->n_voted < RAFT_MAX_MEMBERS &&
        raft_config_is_voter(&r->config, from)) {
        r->voted_ids[r->n_voted] = from;
        r->voted_granted[r->n_voted] = granted;
        r->n_voted++;
    }
    *grants = 0;
    *rejects = 0;
    for (uint32_t i = 0; i < r->n_voted; i++) {
        if (r->voted_granted[i]) {
            (*grants)++;
        } else {
            (*rejects)++;
        }
    }
}

static int campaign(struct raft *r, bool pre, bool transfer)
{
    uint64_t term = r->term + 1;
    uint32_t grants, rejects;
    if (pre) {
        r->role = RAFT_PRE_CANDIDATE;
    } else {
        r->term = term;
        r->vote = r->id;
        r->role = RAFT_CANDIDATE;
        drop_held_before(r, term);
    }
    r->leader = RAFT_NONE;
    r->n_voted = 0;
    r->won_pending = false;
    reset_timeout(r);
    record_vote(r, r->id, true, &grants, &rejects);
    if (grants >= raft_quorum(r)) {
        return pre ? campaign(r, false, false) : become_leader(r);
    }
    for (uint32_t i = 0; i < r->config.n_voters; i++) {
        uint64_t to = r->config.voters[i];
        if (to == r->id) {
            continue;
        }
        struct raft_msg m;
        memset(&m, 0, sizeof(m));
        m.type = pre ? RAFT_MSG_PREVOTE : RAFT_MSG_VOTE;
        m.to = to;
        m.term = term;
        m.u.vote.last_log_index = raft_last_index(r);
        m.u.vote.last_log_term = raft_last_term(r);
        m.u.vote.transfer = transfer;
        /* A vote request goes out only once our own vote is durable. */
        int rc = raft_send(r, &m, !pre);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static bool log_up_to_date(const struct raft *r, uint64_t last_index,
                           uint64_t last_term)
{
    uint64_t my_term = raft_last_term(r);
    return last_term > my_term ||
           (last_term == my_term && last_index >= raft_last_index(r));
}

/* Dissertation 4.2.3: within an election timeout of hearing from a leader,
 * a server neither grants votes nor updates its term for a vote request, so
 * a removed server (or one whose log got ahead of a stalled leader's
 * followers) cannot depose a working leader. Transfers bypass this. */
static bool in_lease(const struct raft *r)
{
    return r->opts.leader_lease && r->leader != RAFT_NONE &&
           r->election_elapsed < r->opts.election_ticks;
}

/* ------------------------------------------------------------- create -- */

void raft_options_default(struct raft_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->election_ticks = 10;
    opts->heartbeat_ticks = 1;
    opts->max_inflight_msgs = 64;
    opts->max_inflight_bytes = 8u << 20;
    opts->max_msg_bytes = 1u << 20;
    opts->snapshot_chunk_bytes = 64u << 10;
    opts->pre_vote = true;
    opts->check_quorum = true;
    opts->leader_lease = true;
    opts->promote_lag = 16;
    opts->max_snapshot_bytes = (uint64_t)1 << 30;
}

/* The SHA-256 that binds the chunks of the held snapshot's bytes. */
static void digest_snapshot(struct raft *r)
{
    crypto_hash_sha256(r->snap_digest, r->snap_data.base, r->snap_data.len);
    r->snap_total = r->snap_data.len;
}

static int restore(struct raft *r, const struct raft_restore *rs)
{
    int rc;
    r->bootstrap = rs->bootstrap;
    r->snap = rs->snapshot;
    if (rs->snapshot.index > 0) {
        rc = buf_copy(r, &r->snap_data, rs->snapshot_data.base,
                      rs->snapshot_data.len);
        if (rc == 0) {
            digest_snapshot(r);
        }
        if (rc != 0) {
            return rc;
        }
    }
    r->term = rs->hard_state.term;
    r->vote = rs->hard_state.vote;
    for (size_t i = 0; i < rs->n_entries; i++) {
        const struct raft_entry *e = &rs->entries[i];
        if (e->index != raft_last_index(r) + 1) {
            return ORIGO_E_LOG_GAP;
        }
        if (e->term > r->term || e->term < raft_last_term(r)) {
            return ORIGO_E_INVAL; /* not a log this core could have made */
        }
        rc = raft_log_append(r, e->term, e->type, e->data.base, e->data.len);
        if (rc != 0) {
            return rc;
        }
    }
    struct raft_config c;
    uint64_t ci;
    config_at(r, raft_last_index(r), &c, &ci);
    raft_apply_config(r, &c, ci);
    r->commit = rs->hard_state.commit;
    if (r->commit > raft_last_index(r)) {
        r->commit = raft_last_index(r);
    }
    if (r->commit < r->snap.index) {
        r->commit = r->snap.index;
    }
    return 0;
}

int raft_new(const struct raft_options *opts, const struct raft_restore *rs,
             struct raft **out)
{
    if (opts == NULL || opts->id == RAFT_NONE || opts->rand_fn == NULL ||
        opts->election_ticks < 2 || opts->heartbeat_ticks == 0 ||
        opts->heartbeat_ticks >= opts->election_ticks ||
        opts->max_inflight_msgs == 0 || opts->max_msg_bytes == 0 ||
        opts->max_msg_bytes > RAFTMSG_MAX_ENTRY_BYTES ||
        opts->max_inflight_bytes == 0 || opts->max_snapshot_bytes == 0 ||
        opts->snapshot_chunk_bytes == 0 ||
        (opts->snap_io != NULL &&
         (opts->snap_io->read == NULL || opts->snap_io->write == NULL)) ||
        opts->snapshot_chunk_bytes > RAFTMSG_MAX_CHUNK_BYTES) {
        return ORIGO_E_INVAL;
    }
    void *(*malloc_fn)(void *, size_t) = opts->alloc.malloc_fn;
    struct raft *r = malloc_fn != NULL ? malloc_fn(opts->alloc.ctx, sizeof(*r))
                                       : malloc(sizeof(*r));
    if (r == NULL) {
        return ORIGO_E_NOMEM;
    }
    memset(r, 0, sizeof(*r));
    r->opts = *opts;
    if (r->opts.max_inflight_msgs > RAFT_INFLIGHT_CAP) {
        r->opts.max_inflight_msgs = RAFT_INFLIGHT_CAP;
    }
    /* Appends must fit the codec: never more entries than a frame takes. */
    if (r->opts.max_msg_entries == 0 ||
        r->opts.max_msg_entries > RAFTMSG_MAX_ENTRIES) {
        r->opts.max_msg_entries = RAFTMSG_MAX_ENTRIES;
    }
    r->id = opts->id;
    r->role = RAFT_FOLLOWER;
    if (rs != NULL) {
        int rc = restore(r, rs);
        if (rc != 0) {
            raft_free(r);
            return rc;
        }
    }
    r->applied = r->snap.index;
    r->unstable_from = raft_last_index(r) + 1;
    r->persisted_index = raft_last_index(r);
    r->hs_handed.term = r->term;
    r->hs_handed.vote = r->vote;
    r->hs_handed.commit = r->commit;
    reset_timeout(r);
    *out = r;
    return 0;
}

void raft_free(struct raft *r)
{
    if (r == NULL) {
        return;
    }
    log_clear(r);
    raft_mem_free(r, r->ents);
    raft_mem_free(r, r->snap_data.base);
    raft_mem_free(r, r->prs);
    raft_mem_free(r, r->records);
    raft_mem_free(r, r->in_snap_buf);
    raft_mem_free(r, r->install_data.base);
    raft_mem_free(r, r->install_handed.base);
    for (size_t i = 0; i < r->n_outbox; i++) {
        raft_msg_free(r, &r->outbox[i]);
    }
    raft_mem_free(r, r->outbox);
    for (size_t i = 0; i < r->n_held; i++) {
        raft_msg_free(r, &r->held[i].msg);
    }
    raft_mem_free(r, r->held);
    raft_mem_free(r, r);
}

/* -------------------------------------------------------------- tick -- */

/* A node campaigns if it votes in its latest configuration, or in the one
 * committed at its commit index: an uncommitted change that removes it may
 * still be rolled back, and if the nodes holding the most up-to-date logs
 * all saw such a change, nobody else could win an election. Votes are
 * counted in the latest configuration either way, so safety is unchanged;
 * a leader outside its latest configuration steps down once it commits. */
static bool may_campaign(const struct raft *r)
{
    if (r->term >= RAFT_INDEX_MAX - 1) {
        return false; /* term + 1 would be refused by every peer */
    }
    if (raft_config_is_voter(&r->config, r->id)) {
        return true;
    }
    if (r->config_index <= r->commit) {
        return false; /* the latest configuration is committed */
    }
    struct raft_config committed;
    uint64_t index;
    config_at(r, r->commit, &committed, &index);
    return raft_config_is_voter(&committed, r->id);
}

int raft_tick(struct raft *r)
{
    r->ticks++;
    if (r->role == RAFT_LEADER) {
        return raft_replicate_tick(r);
    }
    r->election_elapsed++;
    if (r->election_elapsed >= r->randomized_timeout && may_campaign(r)) {
        return campaign(r, r->opts.pre_vote, false);
    }
    return 0;
}

/* ----------------------------------------------------------- follower -- */

static int respond(struct raft *r, const struct raft_msg *req, uint8_t type,
                   struct raft_msg *m, bool needs_durable)
{
#ifdef ORIGO_RAFT_MUTATE_ACK_EARLY
    /* Mutation check only: acknowledge entries before they are durable. */
    if (type == RAFT_MSG_APPEND_RESP)
        needs_durable = false;
#endif
    m->type = type;
    m->to = req->from;
    m->term = r->term;
    return raft_send(r, m, needs_durable);
}

/* The largest index <= index whose term is <= term, for fast backtracking:
 * every index above it surely conflicts. */
static uint64_t find_conflict_hint(const struct raft *r, uint64_t index,
                                   uint64_t term)
{
    uint64_t t;
    while (index > r->snap.index && raft_term_at(r, index, &t) && t > term) {
        index--;
    }
    return index;
}

/* The leader of the current term holds every committed entry (Leader
 * Completeness), so an append of this term never contradicts an entry at
 * or below our commit index. If it does, one of the two logs lost or
 * changed a committed entry (a disk that lied, a host that counted an
 * unwritten entry as stored, a copied store): no step can repair that, and
 * going on would serve a history the others do not hold, or truncate a
 * committed entry. Returns ORIGO_E_DIVERGED then (the node stops and says
 * so); entries compacted into the snapshot are not compared. */
static int check_committed(const struct raft *r,
                           const struct raft_msg_append *a)
{
    uint64_t t;
    if (a->prev_index <= r->commit && a->prev_index > r->snap.index &&
        raft_term_at(r, a->prev_index, &t) && t != a->prev_term) {
        return ORIGO_E_DIVERGED;
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        uint64_t index = a->prev_index + 1 + i;
        if (index > r->commit) {
            break;
        }
        if (index > r->snap.index && raft_term_at(r, index, &t) &&
            t != a->entries[i].term) {
            return ORIGO_E_DIVERGED;
        }
    }
    return 0;
}

static int handle_append(struct raft *r, const struct raft_msg *m)
{
    const struct raft_msg_append *a = &m->u.append;
    struct raft_msg resp;
    uint64_t prev_term = a->prev_term;
    for (size_t i = 0; i < a->n_entries; i++) {
        uint64_t term = a->entries[i].term;
        if (term < prev_term || term > m->term || term == 0) {
            return 0; /* malformed: drop */
        }
        prev_term = term;
    }
    memset(&resp, 0, sizeof(resp));
    int rc = check_committed(r, a);
    if (rc != 0) {
        return rc;
    }
    if (a->prev_index < r->commit) {
        resp.u.append_resp.index = r->commit;
        return respond(r, m, RAFT_MSG_APPEND_RESP, &resp, true);
    }
    uint64_t t;
    if (!raft_term_at(r, a->prev_index, &t) || t != a->prev_term) {
        uint64_t hint = a->prev_index;
        if (hint > raft_last_index(r)) {
            hint = raft_last_index(r);
        }
        hint = find_conflict_hint(r, hint, a->prev_term);
        resp.u.append_resp.reject = true;
        resp.u.append_resp.index = a->prev_index;
        resp.u.append_resp.hint_index = hint;
        raft_term_at(r, hint, &resp.u.append_resp.hint_term);
        return respond(r, m, RAFT_MSG_APPEND_RESP, &resp, false);
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *e = &a->entries[i];
        uint64_t index = a->prev_index + 1 + i;
        if (raft_term_at(r, index, &t)) {
            if (t == e->term) {
                continue;
            }
            log_truncate_from(r, index);
        }
        rc = raft_log_append(r, e->term, e->type, e->data.base, e->data.len);
        if (rc != 0) {
            return rc;
        }
    }
    uint64_t match = a->prev_index + a->n_entries;
    uint64_t commit = a->commit < match ? a->commit : match;
    if (commit > r->commit) {
        r->commit = commit;
    }
    resp.u.append_resp.index = match;
    return respond(r, m, RAFT_MSG_APPEND_RESP, &resp, true);
}

static int handle_heartbeat(struct raft *r, const struct raft_msg *m)
{
    uint64_t commit = m->u.heartbeat.commit;
    if (commit > raft_last_index(r)) {
        commit = raft_last_index(r);
    }
    if (commit > r->commit) {
        r->commit = commit;
    }
    struct raft_msg resp;
    memset(&resp, 0, sizeof(resp));
    resp.u.heartbeat_resp.last_index = raft_last_index(r);
    return respond(r, m, RAFT_MSG_HEARTBEAT_RESP, &resp, false);
}

static int snapshot_resp(struct raft *r, const struct raft_msg *m,
                         uint64_t next_offset, bool done, bool reject)
{
    struct raft_msg resp;
    memset(&resp, 0, sizeof(resp));
    resp.u.snapshot_resp.index = m->u.snapshot.meta.index;
    resp.u.snapshot_resp.next_offset = next_offset;
    resp.u.snapshot_resp.done = done;
    resp.u.snapshot_resp.reject = reject;
    return respond(r, m, RAFT_MSG_SNAPSHOT_RESP, &resp, done);
}

/* Replaces the whole log by the assembled snapshot and hands it out. */
static int install_snapshot(struct raft *r)
{
    struct raft_snapshot_meta meta = r->in_snap;
    /* The only allocation comes first, so a failure changes nothing. A
     * snapshot still waiting to be handed out is superseded (this one is
     * newer: it covers more than the commit index that one set). */
    struct raft_buf copy = {NULL, 0};
    if (r->opts.snap_io == NULL) {
        int rc = buf_copy(r, &copy, r->in_snap_buf, (size_t)r->in_snap_len);
        if (rc != 0) {
            return rc;
        }
    }
    raft_mem_free(r, r->install_data.base);
    r->install_data = copy; /* snap_io: empty, the host wrote the bytes */
    if (r->persisted_index > r->commit) {
        r->persisted_index = r->commit;
    }
    log_clear(r);
    r->snap = meta;
    raft_mem_free(r, r->snap_data.base);
    r->snap_data.base = r->in_snap_buf;
    r->snap_data.len = r->in_snap_buf ? (size_t)r->in_snap_len : 0;
    /* snap_io: the core holds no bytes; as a leader it asks for them. */
    r->snap_total = r->snap_data.len;
    memcpy(r->snap_digest, r->in_snap_digest, sizeof(r->snap_digest));
    r->in_snap_buf = NULL;
    r->in_snap_active = false;
    if (r->persisted_index > meta.index) {
        r->persisted_index = meta.index;
    }
    r->install_pending = true;
    r->install_meta = meta;
    r->unstable_from = meta.index + 1;
    r->commit = meta.index;
    r->applied = meta.index;
    raft_apply_config(r, &meta.config, meta.index);
    return 0;
}

static int handle_snapshot(struct raft *r, const struct raft_msg *m)
{
    const struct raft_msg_snapshot *s = &m->u.snapshot;
    uint64_t t;
    if (s->meta.index <= r->commit ||
        (raft_term_at(r, s->meta.index, &t) && t == s->meta.term)) {
        /* We hold everything it covers already: no install needed. */
        if (s->meta.index > r->commit) {
            r->commit = s->meta.index;
        }
        return snapshot_resp(r, m, s->total_size, true, false);
    }
    if (s->offset == 0 &&
        (s->total_size == 0 || s->total_size > r->opts.max_snapshot_bytes ||
         s->total_size > SIZE_MAX)) {
        /* A snapshot is the state machine's state, never empty (see
         * README: snapshot data), and we assemble it in memory: refuse
         * before allocating anything. */
        if (r->in_snap_active && r->in_snap.index == s->meta.index) {
            r->in_snap_active = false;
        }
        return snapshot_resp(r, m, 0, false, true);
    }
    if (s->offset == 0) {
        raft_mem_free(r, r->in_snap_buf);
        r->in_snap_buf = NULL;
        r->in_snap_len = 0;
        r->in_snap_total = s->total_size;
        r->in_snap = s->meta;
        memcpy(r->in_snap_digest, s->digest, sizeof(s->digest));
        r->in_snap_active = true;
        if (r->opts.snap_io != NULL) {
            crypto_hash_sha256_init(&r->in_snap_hash);
        } else if (s->total_size > 0) {
            r->in_snap_buf = raft_mem_alloc(r, (size_t)s->total_size);
            if (r->in_snap_buf == NULL) {
                r->in_snap_active = false;
                return ORIGO_E_NOMEM;
            }
        }
    } else if (!r->in_snap_active || r->in_snap.index != s->meta.index ||
               r->in_snap.term != s->meta.term ||
               r->in_snap_total != s->total_size ||
               memcmp(r->in_snap_digest, s->digest, sizeof(s->digest)) != 0) {
        /* A chunk of another byte stream (the leader's bytes for this index
         * changed under the transfer): start over, never splice. */
        r->in_snap_active = false;
        return snapshot_resp(r, m, 0, false, true);
    }
    if (s->offset != r->in_snap_len) {
        return snapshot_resp(r, m, r->in_snap_len, false, false);
    }
    if (s->chunk.len > r->in_snap_total - r->in_snap_len ||
        (s->done && r->in_snap_len + s->chunk.len != r->in_snap_total)) {
        r->in_snap_active = false;
        return snapshot_resp(r, m, 0, false, true);
    }
    const struct raft_snapshot_io *io = r->opts.snap_io;
    if (s->chunk.len > 0 && io != NULL) {
        if (io->write(io->ctx, s->meta.index, s->offset, s->chunk.base,
                      s->chunk.len) != 0) {
            r->in_snap_active = false; /* could not store it: start over */
            return snapshot_resp(r, m, 0, false, true);
        }
        crypto_hash_sha256_update(&r->in_snap_hash, s->chunk.base,
                                  s->chunk.len);
        r->in_snap_len += s->chunk.len;
    } else if (s->chunk.len > 0) {
        memcpy(r->in_snap_buf + r->in_snap_len, s->chunk.base, s->chunk.len);
        r->in_snap_len += s->chunk.len;
    }
    if (!s->done) {
        return snapshot_resp(r, m, r->in_snap_len, false, false);
    }
    uint8_t digest[32];
    if (io != NULL) {
        crypto_hash_sha256_final(&r->in_snap_hash, digest);
    } else {
        crypto_hash_sha256(digest, r->in_snap_buf, (size_t)r->in_snap_len);
    }
    if (memcmp(digest, r->in_snap_digest, sizeof(digest)) != 0) {
        r->in_snap_active = false; /* not the bytes announced: start over */
        return snapshot_resp(r, m, 0, false, true);
    }
    int rc = install_snapshot(r);
    if (rc != 0) {
        return rc;
    }
    return snapshot_resp(r, m, r->in_snap_len, true, false);
}

/* ----------------------------------------------------------- voting -- */

static int handle_vote_request(struct raft *r, const struct raft_msg *m)
{
    const struct raft_msg_vote *v = &m->u.vote;
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool granted;
    if (pre) {
        granted = m->term > r->term &&
                  log_up_to_date(r, v->last_log_index, v->last_log_term);
    } else {
        granted = (r->vote == RAFT_NONE || r->vote == m->from) &&
                  (r->leader == RAFT_NONE || r->vote == m->from) &&
                  log_up_to_date(r, v->last_log_index, v->last_log_term);
    }
    struct raft_msg resp;
    memset(&resp, 0, sizeof(resp));
    resp.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
    resp.to = m->from;
    resp.term = (pre && granted) ? m->term : r->term;
    resp.u.vote_resp.granted = granted;
    if (granted && !pre) {
        r->vote = m->from;
        r->election_elapsed = 0;
    }
    return raft_send(r, &resp, granted && !pre);
}

static int handle_vote_resp(struct raft *r, const struct raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    bool granted = m->u.vote_resp.granted;
    if (pre) {
        if (r->role != RAFT_PRE_CANDIDATE ||
            m->term != (granted ? r->term + 1 : r->term)) {
            return 0;
        }
    } else if (r->role != RAFT_CANDIDATE || m->term != r->term) {
        return 0;
    }
    uint32_t grants, rejects;
    record_vote(r, m->from, granted, &grants, &rejects);
    if (grants >= raft_quorum(r)) {
        return pre ? campaign(r, false, false) : become_leader(r);
    }
    if (rejects >= raft_quorum(r)) {
        raft_become_follower(r, r->term, RAFT_NONE);
    }
    return 0;
}

/* -------------------------------------------------------------- step -- */

/* Handles a message from a higher term; returns false if it is ignored. */
static bool step_higher_term(struct raft *r, const struct raft_msg *m)
{
    bool vote_req = m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE;
    if (vote_req && !m->u.vote.transfer && in_lease(r)) {
        return false;
    }
    if (m->type == RAFT_MSG_PREVOTE ||
        (m->type == RAFT_MSG_PREVOTE_RESP && m->u.vote_resp.granted)) {
        return true;
    }
    bool from_leader = m->type == RAFT_MSG_APPEND ||
                       m->type == RAFT_MSG_HEARTBEAT ||
                       m->type == RAFT_MSG_SNAPSHOT;
    raft_become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
    return true;
}

static int step_lower_term(struct raft *r, const struct raft_msg *m)
{
    struct raft_msg resp;
    memset(&resp, 0, sizeof(resp));
    if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT) {
        /* Tell a stale leader that a newer term exists. */
        resp.u.heartbeat_resp.last_index = raft_last_index(r);
        return respond(r, m, RAFT_MSG_HEARTBEAT_RESP, &resp, false);
    }
    if (m->type == RAFT_MSG_PREVOTE) {
        return respond(r, m, RAFT_MSG_PREVOTE_RESP, &resp, false);
    }
    return 0;
}

static int step_from_leader(struct raft *r, const struct raft_msg *m)
{
    if (r->role == RAFT_LEADER) {
        return 0; /* impossible: one leader per term */
    }
    if (r->role != RAFT_FOLLOWER || r->leader != m->from) {
        raft_become_follower(r, r->term, m->from);
    }
    r->election_elapsed = 0;
    switch (m->type) {
    case RAFT_MSG_APPEND:
        return handle_append(r, m);
    case RAFT_MSG_HEARTBEAT:
        return handle_heartbeat(r, m);
    default:
        return handle_snapshot(r, m);
    }
}

/* True if a term or index in m is so large that arithmetic on it could
 * wrap (only a faulty or hostile peer sends such a thing). */
static bool out_of_range(const struct raft_msg *m)
{
    /* A term must leave room for the next election's term + 1: a message
     * of term RAFT_INDEX_MAX would make every later (pre)vote malformed
     * and end elections for good. */
    if (m->term >= RAFT_INDEX_MAX) {
        return true;
    }
    switch (m->type) {
    case RAFT_MSG_APPEND:
        return m->u.append.prev_index > RAFT_INDEX_MAX ||
               m->u.append.n_entries >
                   RAFT_INDEX_MAX - m->u.append.prev_index ||
               m->u.append.commit > RAFT_INDEX_MAX;
    case RAFT_MSG_SNAPSHOT:
        return m->u.snapshot.meta.index > RAFT_INDEX_MAX ||
               m->u.snapshot.meta.term > RAFT_INDEX_MAX;
    case RAFT_MSG_HEARTBEAT:
        return m->u.heartbeat.commit > RAFT_INDEX_MAX;
    default:
        return false;
    }
}

int raft_step(struct raft *r, const struct raft_msg *m)
{
    if (m == NULL || m->type == 0 || m->type > RAFT_MSG_TYPE_MAX ||
        m->from == RAFT_NONE || m->from == r->id || m->to != r->id ||
        out_of_range(m)) {
        return 0;
    }
    if (m->term > r->term) {
        if (!step_higher_term(r, m)) {
            return 0;
        }
    } else if (m->term < r->term) {
        return step_lower_term(r, m);
    }
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        return handle_vote_request(r, m);
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        return handle_vote_resp(r, m);
    case RAFT_MSG_APPEND:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAPSHOT:
        return step_from_leader(r, m);
    case RAFT_MSG_APPEND_RESP:
        return r->role == RAFT_LEADER ? raft_replicate_on_append_resp(r, m) : 0;
    case RAFT_MSG_HEARTBEAT_RESP:
        return r->role == RAFT_LEADER ? raft_replicate_on_heartbeat_resp(r, m)
                                      : 0;
    case RAFT_MSG_SNAPSHOT_RESP:
        return r->role == RAFT_LEADER ? raft_replicate_on_snapshot_resp(r, m)
                                      : 0;
    case RAFT_MSG_TIMEOUT_NOW:
        /* Only the leader of this term hands its leadership over: from any
         * other sender (a stale or confused peer of the same term) an
         * election that skips the lease would only disrupt. */
        if (r->role != RAFT_LEADER && m->from == r->leader &&
            raft_config_is_voter(&r->config, r->id)) {
            return campaign(r, false, true);
        }
        return 0;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------- proposals -- */

int raft_propose(struct raft *r, const uint8_t *data, size_t len,
                 uint64_t *index)
{
    if (r->role != RAFT_LEADER) {
        return ORIGO_E_NOT_LEADER;
    }
    if (r->transfer_target != RAFT_NONE) {
        return ORIGO_E_TRANSFER;
    }
    if (len > RAFTMSG_MAX_ENTRY_BYTES) {
        return ORIGO_E_TOOBIG; /* could never be sent to a follower */
    }
    int rc = raft_log_append(r, r->term, RAFT_ENTRY_NORMAL, data, len);
    if (rc != 0) {
        return rc; /* nothing appended: the caller may retry */
    }
    if (index != NULL) {
        *index = raft_last_index(r);
    }
    /* The entry is in the log and will be committed and applied: report
     * success even if copying it for this first round of appends runs out
     * of memory (the heartbeat and stall timers send it again). Reporting
     * ORIGO_E_NOMEM here would make the caller propose it a second time. */
    rc = raft_replicate_broadcast(r, false);
    return rc == ORIGO_E_NOMEM ? 0 : rc;
}

int raft_snapshot_taken(struct raft *r, uint64_t index, const uint8_t *data,
                        size_t len)
{
    uint64_t term;
    if (index > r->applied || index <= r->snap.index ||
        !raft_term_at(r, index, &term)) {
        return ORIGO_E_INVAL;
    }
    struct raft_buf copy;
    int rc = buf_copy(r, &copy, data, len);
    if (rc != 0) {
        return rc;
    }
    struct raft_config c;
    uint64_t ci;
    config_at(r, index, &c, &ci);
    log_compact(r, index, term);
    r->snap.config = c;
    raft_mem_free(r, r->snap_data.base);
    r->snap_data = copy;
    digest_snapshot(r);
    return 0;
}

int raft_snapshot_provide(struct raft *r, uint64_t index, const uint8_t *data,
                          size_t len)
{
    if (index == 0 || index != r->snap.index || len == 0 || data == NULL) {
        return ORIGO_E_INVAL;
    }
    if (r->snap_total > 0 && r->snap_data.len == 0) {
        return ORIGO_E_SNAPSHOT; /* streamed bytes for this index */
    }
    if (r->snap_data.len > 0) {
        /* The bytes of one snapshot index never change under a running
         * transfer: the same bytes again are fine, others are refused. */
        uint8_t digest[32];
        crypto_hash_sha256(digest, data, len);
        return len == r->snap_data.len &&
                       memcmp(digest, r->snap_digest, sizeof(digest)) == 0
                   ? 0
                   : ORIGO_E_SNAPSHOT;
    }
    struct raft_buf copy;
    int rc = buf_copy(r, &copy, data, len);
    if (rc != 0) {
        return rc;
    }
    r->snap_data = copy;
    digest_snapshot(r);
    return 0;
}

int raft_snapshot_provide_stream(struct raft *r, uint64_t index, uint64_t len,
                                 const uint8_t digest[32])
{
    if (r->opts.snap_io == NULL || index == 0 || index != r->snap.index ||
        len == 0 || digest == NULL) {
        return ORIGO_E_INVAL;
    }
    if (r->snap_total > 0) {
        /* As raft_snapshot_provide(): one index, one byte stream. */
        return r->snap_data.len == 0 && len == r->snap_total &&
                       memcmp(digest, r->snap_digest, 32) == 0
                   ? 0
                   : ORIGO_E_SNAPSHOT;
    }
    memcpy(r->snap_digest, digest, 32);
    r->snap_total = len;
    return 0;
}

/* Snapshot bytes the host could not read: forgotten, asked for again. */
void raft_snapshot_lost(struct raft *r)
{
    if (r->snap_data.len == 0) {
        r->snap_total = 0;
    }
}

/* ------------------------------------------------------------- ready -- */

static uint64_t apply_limit(const struct raft *r)
{
    return r->commit < r->persisted_index ? r->commit : r->persisted_index;
}

bool raft_has_ready(const struct raft *r)
{
    return r->n_outbox > 0 || state_dirty(r) || r->snap_want ||
           r->hs_handed.commit != r->commit || apply_limit(r) > r->applied;
}

int raft_ready(struct raft *r, struct raft_ready *rd)
{
    if (r->ready_out) {
        return ORIGO_E_INVAL;
    }
    int rc = grow(r, (void **)&r->records, &r->cap_records, r->n_records + 1,
                  sizeof(*r->records));
    if (rc != 0) {
        return rc;
    }
    memset(rd, 0, sizeof(*rd));
    rd->seq = ++r->ready_seq;
    rd->msgs = r->outbox;
    rd->n_msgs = r->n_outbox;
    r->outbox = NULL;
    r->n_outbox = 0;
    r->cap_outbox = 0;
    if (r->install_pending) {
        rd->snapshot_install = true;
        rd->snapshot = r->install_meta;
        rd->snapshot_data = r->install_data;
        r->install_handed = r->install_data;
        r->install_data.base = NULL;
        r->install_data.len = 0;
        r->install_pending = false;
    }
    if (r->snap_want) {
        r->snap_want = false;
        if (r->snap_total == 0 && r->snap.index > 0) {
            rd->snapshot_wanted = true;
            rd->snapshot_wanted_index = r->snap.index;
        }
    }
    uint64_t last = raft_last_index(r);
    if (r->unstable_from <= last) {
        rd->entries = &r->ents[r->unstable_from - r->snap.index - 1];
        rd->n_entries = (size_t)(last - r->unstable_from + 1);
        r->unstable_from = last + 1;
    }
    struct raft_hard_state hs = {r->term, r->vote, r->commit};
    if (memcmp(&hs, &r->hs_handed, sizeof(hs)) != 0) {
        if (hs.term != r->hs_handed.term || hs.vote != r->hs_handed.vote) {
            r->hs_seq = rd->seq;
        }
        rd->hard_state = hs;
        rd->hard_state_changed = true;
        r->hs_handed = hs;
    }
    uint64_t limit = apply_limit(r);
    if (limit > r->applied) {
        rd->committed = &r->ents[r->applied - r->snap.index];
        rd->n_committed = (size_t)(limit - r->applied);
        r->applied = limit;
    }
    struct ready_record *rec = &r->records[r->n_records++];
    rec->seq = rd->seq;
    rec->last_index = last;
    rec->last_term = raft_last_term(r);
    r->ready_out = true;
    return 0;
}

void raft_advance(struct raft *r, struct raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_msgs; i++) {
        raft_msg_free(r, &rd->msgs[i]);
    }
    raft_mem_free(r, rd->msgs);
    raft_mem_free(r, r->install_handed.base);
    r->install_handed.base = NULL;
    r->install_handed.len = 0;
    memset(rd, 0, sizeof(*rd));
    r->ready_out = false;
}

static void release_held(struct raft *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n_held; i++) {
        struct held_msg *h = &r->held[i];
        if (h->need_seq <= r->persisted_seq &&
            grow(r, (void **)&r->outbox, &r->cap_outbox, r->n_outbox + 1,
                 sizeof(*r->outbox)) == 0) {
            r->outbox[r->n_outbox++] = h->msg;
        } else {
            r->held[kept++] = *h;
        }
    }
    r->n_held = kept;
}

void raft_persisted(struct raft *r, uint64_t seq)
{
    if (seq <= r->persisted_seq || seq > r->ready_seq) {
        return;
    }
    r->persisted_seq = seq;
    size_t done = 0;
    for (; done < r->n_records && r->records[done].seq <= seq; done++) {
        const struct ready_record *rec = &r->records[done];
        uint64_t t;
        if (rec->last_index > r->persisted_index &&
            raft_term_at(r, rec->last_index, &t) && t == rec->last_term) {
            r->persisted_index = rec->last_index;
        }
    }
    memmove(r->records, r->records + done,
            (r->n_records - done) * sizeof(*r->records));
    r->n_records -= done;
    release_held(r);
    if (r->role == RAFT_CANDIDATE && r->won_pending) {
        /* On failure (out of memory) the node stays a candidate and
         * campaigns again when its election timer runs out. */
        (void)become_leader(r);
        return;
    }
    if (r->role == RAFT_LEADER) {
        raft_replicate_self_persisted(r);
    }
}

/* -------------------------------------------------------- observation -- */

void raft_snapshot_info(const struct raft *r, struct raft_snapshot_meta *out)
{
    *out = r->snap;
}

void raft_status(const struct raft *r, struct raft_status *out)
{
    memset(out, 0, sizeof(*out));
    out->id = r->id;
    out->role = r->role;
    out->term = r->term;
    out->vote = r->vote;
    out->leader = r->leader;
    out->commit = r->commit;
    out->applied = r->applied;
    out->last_index = raft_last_index(r);
    out->last_term = raft_last_term(r);
    out->persisted_index = r->persisted_index;
    out->snapshot_index = r->snap.index;
    out->transfer_target = r->transfer_target;
    out->config = r->config;
}
