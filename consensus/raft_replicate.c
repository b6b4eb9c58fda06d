/* The leader side of the Raft core: per-follower progress with probe,
 * replicate and snapshot states, pipelined appends within flow-control
 * bounds, fast backtracking on rejections, chunked snapshot transfer, the
 * commit rule, check-quorum, membership changes and leadership transfer. */
#include "raft_internal.h"

#include <stdlib.h>
#include <string.h>

#include "origo/error.h"

struct progress *raft_replicate_progress(struct raft *r, uint64_t id)
{
    for (uint32_t i = 0; i < r->n_prs; i++) {
        if (r->prs[i].id == id) {
            return &r->prs[i];
        }
    }
    return NULL;
}

static void progress_init(struct raft *r, struct progress *pr, uint64_t id)
{
    memset(pr, 0, sizeof(*pr));
    pr->id = id;
    pr->next = raft_last_index(r) + 1;
    pr->state = PROGRESS_PROBE;
}

static bool in_config(const struct raft_config *c, uint64_t id)
{
    return raft_config_is_voter(c, id) || raft_config_is_learner(c, id);
}

/* Drops the progress of servers outside the latest configuration ("leavers")
 * for which drop() holds. */
static void drop_leavers(struct raft *r,
                         bool (*drop)(struct raft *, struct progress *))
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        if (in_config(&r->config, r->prs[i].id) || !drop(r, &r->prs[i])) {
            if (kept != i) {
                r->prs[kept] = r->prs[i];
            }
            kept++;
        }
    }
    r->n_prs = kept;
}

static bool drop_any(struct raft *r, struct progress *pr)
{
    (void)r;
    (void)pr;
    return true;
}

/* A leaver is let go once the change that removed it is committed and it
 * holds that change (or an election timeout later, if it does not answer):
 * a last heartbeat tells it the commit index, so it sees itself outside a
 * committed configuration and stops campaigning. Until then it still gets
 * the log and heartbeats, neither voting nor counting. */
static bool drop_informed(struct raft *r, struct progress *pr)
{
    if (r->config_index > r->commit) {
        return false;
    }
    if (pr->match < r->config_index &&
        pr->leave_ticks < r->opts.election_ticks) {
        return false;
    }
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_HEARTBEAT;
    m.to = pr->id;
    m.term = r->term;
    m.u.heartbeat.commit = pr->match < r->commit ? pr->match : r->commit;
    (void)raft_send(r, &m, false); /* best effort */
    return true;
}

static void release_leavers(struct raft *r)
{
    if (r->prs != NULL) {
        drop_leavers(r, drop_informed);
    }
}

/* Makes the progress set match the latest configuration: members keep their
 * progress, new members start probing, removed ones stay as leavers until
 * release_leavers() lets them go (or room is needed). */
void raft_replicate_sync_members(struct raft *r)
{
    if (r->prs == NULL) {
        return;
    }
    const struct raft_config *cf = &r->config;
    if (r->n_prs + cf->n_voters + cf->n_learners > RAFT_MAX_PROGRESS) {
        drop_leavers(r, drop_any); /* members first */
    }
    const struct raft_config *c = &r->config;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        if (!in_config(c, r->prs[i].id)) {
            r->prs[i].left = true;
        }
    }
    for (uint32_t i = 0; i < c->n_voters + c->n_learners; i++) {
        uint64_t id =
            i < c->n_voters ? c->voters[i] : c->learners[i - c->n_voters];
        struct progress *pr = raft_replicate_progress(r, id);
        if (id == r->id) {
            continue;
        }
        if (pr != NULL && pr->left) {
            /* Removed and added again before its progress was released:
             * what it matched then may be gone (a wiped disk), so it
             * starts over as a new member would. */
            progress_init(r, pr, id);
        } else if (pr == NULL && r->n_prs < RAFT_MAX_PROGRESS) {
            progress_init(r, &r->prs[r->n_prs++], id);
        }
    }
}

int raft_replicate_reset(struct raft *r)
{
    if (r->prs == NULL) {
        r->prs = raft_mem_alloc(r, RAFT_MAX_PROGRESS * sizeof(*r->prs));
        if (r->prs == NULL) {
            return ORIGO_E_NOMEM;
        }
    }
    r->n_prs = 0;
    raft_replicate_sync_members(r);
    return 0;
}

static void become_probe(struct progress *pr)
{
    pr->state = PROGRESS_PROBE;
    pr->probe_sent = false;
    pr->stall_ticks = 0;
    pr->infl_head = 0;
    pr->infl_count = 0;
    pr->infl_total_bytes = 0;
    if (pr->next <= pr->match) {
        pr->next = pr->match + 1;
    }
}

static void become_replicate(struct progress *pr)
{
    become_probe(pr);
    pr->state = PROGRESS_REPLICATE;
    pr->next = pr->match + 1;
}

static void inflight_add(struct progress *pr, uint64_t last, uint64_t bytes)
{
    uint32_t slot = (pr->infl_head + pr->infl_count) % RAFT_INFLIGHT_CAP;
    pr->infl_last[slot] = last;
    pr->infl_bytes[slot] = bytes;
    pr->infl_count++;
    pr->infl_total_bytes += bytes;
}

static void inflight_free_to(struct progress *pr, uint64_t index)
{
    while (pr->infl_count > 0 && pr->infl_last[pr->infl_head] <= index) {
        pr->infl_total_bytes -= pr->infl_bytes[pr->infl_head];
        pr->infl_head = (pr->infl_head + 1) % RAFT_INFLIGHT_CAP;
        pr->infl_count--;
    }
}

static int send_snapshot_chunk(struct raft *r, struct progress *pr)
{
    if (pr->snap_chunk_sent) {
        return 0;
    }
    if (pr->snap_index != r->snap.index) {
        pr->snap_index = r->snap.index; /* a newer snapshot: start over */
        pr->snap_offset = 0;
    }
    uint64_t total = r->snap_total;
    if (total == 0) {
        /* Never an empty snapshot: a follower would install nothing as the
         * state at snap.index. Ask the host for the bytes, and ask again
         * every election timeout while they do not come (the host may have
         * failed to provide them: out of memory, or its ledger could not be
         * serialised then); the stall timer calls here every tick. */
        uint32_t patience = r->opts.election_ticks;
        if (r->snap_asked != r->snap.index ||
            r->ticks - r->snap_asked_at >= (patience ? patience : 1)) {
            r->snap_asked = r->snap.index;
            r->snap_asked_at = r->ticks;
            r->snap_want = true;
        }
        return 0;
    }
    if (pr->snap_offset > total) {
        pr->snap_offset = 0;
    }
    uint64_t len = total - pr->snap_offset;
    if (len > r->opts.snapshot_chunk_bytes) {
        len = r->opts.snapshot_chunk_bytes;
    }
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT;
    m.to = pr->id;
    m.term = r->term;
    m.u.snapshot.meta = r->snap;
    m.u.snapshot.total_size = total;
    memcpy(m.u.snapshot.digest, r->snap_digest, sizeof(r->snap_digest));
    m.u.snapshot.offset = pr->snap_offset;
    m.u.snapshot.done = pr->snap_offset + len == total;
    if (len > 0) {
        m.u.snapshot.chunk.base = raft_mem_alloc(r, (size_t)len);
        if (m.u.snapshot.chunk.base == NULL) {
            return ORIGO_E_NOMEM;
        }
        if (r->snap_data.len > 0) {
            memcpy(m.u.snapshot.chunk.base, r->snap_data.base + pr->snap_offset,
                   (size_t)len);
        } else if (r->opts.snap_io->read(
                       r->opts.snap_io->ctx, r->snap.index, pr->snap_offset,
                       m.u.snapshot.chunk.base, (size_t)len) != 0) {
            /* The host lost the bytes: ask for them again. */
            raft_mem_free(r, m.u.snapshot.chunk.base);
            raft_snapshot_lost(r);
            return 0;
        }
        m.u.snapshot.chunk.len = (size_t)len;
    }
    pr->snap_chunk_sent = true;
    pr->stall_ticks = 0;
    return raft_send(r, &m, false);
}

static int start_snapshot(struct raft *r, struct progress *pr)
{
    become_probe(pr);
    pr->state = PROGRESS_SNAPSHOT;
    pr->snap_index = r->snap.index;
    pr->snap_offset = 0;
    pr->snap_chunk_sent = false;
    return send_snapshot_chunk(r, pr);
}

/* Copies entries [first, first + n) into a new array for a message. */
static int copy_entries(struct raft *r, uint64_t first, size_t n,
                        struct raft_entry **out)
{
    struct raft_entry *ents = raft_mem_alloc(r, n * sizeof(*ents));
    if (ents == NULL) {
        return ORIGO_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct raft_entry *e = raft_entry_at(r, first + i);
        ents[i] = *e;
        ents[i].data.base = NULL;
        if (e->data.len > 0) {
            ents[i].data.base = raft_mem_alloc(r, e->data.len);
            if (ents[i].data.base == NULL) {
                for (size_t j = 0; j < i; j++) {
                    raft_mem_free(r, ents[j].data.base);
                }
                raft_mem_free(r, ents);
                return ORIGO_E_NOMEM;
            }
            memcpy(ents[i].data.base, e->data.base, e->data.len);
        }
    }
    *out = ents;
    return 0;
}

static bool paused(const struct raft *r, const struct progress *pr)
{
    switch (pr->state) {
    case PROGRESS_PROBE:
        return pr->probe_sent;
    case PROGRESS_REPLICATE:
        return pr->infl_count >= r->opts.max_inflight_msgs ||
               pr->infl_total_bytes >= r->opts.max_inflight_bytes;
    default:
        return true;
    }
}

int raft_replicate_send_append(struct raft *r, struct progress *pr,
                               bool send_empty, bool *sent)
{
    *sent = false;
    if (pr->id == r->id || pr->state == PROGRESS_SNAPSHOT) {
        return 0;
    }
    if (paused(r, pr)) {
        return 0;
    }
    uint64_t last = raft_last_index(r);
    if (pr->next > last + 1) {
        pr->next = last + 1;
    }
    uint64_t prev = pr->next - 1;
    uint64_t prev_term;
    if (!raft_term_at(r, prev, &prev_term)) {
        return start_snapshot(r, pr);
    }
    size_t n = 0;
    uint64_t bytes = 0;
    while (pr->next + n <= last) {
        uint64_t len =
            raft_entry_at(r, pr->next + n)->data.len + RAFT_ENTRY_WIRE_OVERHEAD;
        if (n > 0 && (bytes + len > r->opts.max_msg_bytes ||
                      n == r->opts.max_msg_entries)) {
            break;
        }
        bytes += len;
        n++;
    }
    /* A probe goes out even without entries: its answer tells where the
     * follower's log stands. */
    if (n == 0 && !send_empty && pr->state != PROGRESS_PROBE) {
        return 0;
    }
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.to = pr->id;
    m.term = r->term;
    m.u.append.prev_index = prev;
    m.u.append.prev_term = prev_term;
    m.u.append.commit = r->commit;
    if (n > 0) {
        int rc = copy_entries(r, pr->next, n, &m.u.append.entries);
        if (rc != 0) {
            return rc;
        }
        m.u.append.n_entries = n;
    }
    if (pr->state == PROGRESS_REPLICATE && n > 0) {
        pr->next += n;
        inflight_add(pr, pr->next - 1, bytes);
    } else if (pr->state == PROGRESS_PROBE) {
        pr->probe_sent = true;
    }
    *sent = true;
    return raft_send(r, &m, false);
}

/* Sends appends to pr while flow control allows. */
static int pump(struct raft *r, struct progress *pr, bool send_empty)
{
    bool sent = true;
    int rc = raft_replicate_send_append(r, pr, send_empty, &sent);
    while (rc == 0 && sent && pr->state == PROGRESS_REPLICATE) {
        rc = raft_replicate_send_append(r, pr, false, &sent);
    }
    return rc;
}

int raft_replicate_broadcast(struct raft *r, bool send_empty)
{
    for (uint32_t i = 0; i < r->n_prs; i++) {
        int rc = pump(r, &r->prs[i], send_empty);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int raft_replicate_heartbeat(struct raft *r)
{
    for (uint32_t i = 0; i < r->n_prs; i++) {
        struct progress *pr = &r->prs[i];
        struct raft_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RAFT_MSG_HEARTBEAT;
        m.to = pr->id;
        m.term = r->term;
        m.u.heartbeat.commit = pr->match < r->commit ? pr->match : r->commit;
        int rc = raft_send(r, &m, false);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int send_timeout_now(struct raft *r, uint64_t to)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_TIMEOUT_NOW;
    m.to = to;
    m.term = r->term;
    return raft_send(r, &m, false);
}

/* ------------------------------------------------------------ commit -- */

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* The largest index a quorum of voters holds durably. The leader counts its
 * own persisted index, not its last index: an entry it has only in memory
 * is not a replica. */
static uint64_t quorum_match(struct raft *r)
{
    uint64_t matches[RAFT_MAX_MEMBERS];
    uint32_t n = r->config.n_voters;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = r->config.voters[i];
        if (id == r->id) {
            matches[i] = r->persisted_index;
        } else {
            struct progress *pr = raft_replicate_progress(r, id);
            matches[i] = pr != NULL ? pr->match : 0;
        }
    }
    if (n == 0) {
        return 0;
    }
    qsort(matches, n, sizeof(matches[0]), cmp_desc);
    return matches[raft_quorum(r) - 1];
}

void raft_replicate_maybe_commit(struct raft *r)
{
    uint64_t index = quorum_match(r);
    if (index <= r->commit) {
        return;
    }
#ifndef ORIGO_RAFT_MUTATE_COMMIT_RULE
    /* Figure 8 of the Raft paper: counting replicas of an entry from an
     * earlier term does not make it safe; only current-term entries commit
     * that way, and earlier ones commit with them. */
    uint64_t term;
    if (!raft_term_at(r, index, &term) || term != r->term) {
        return;
    }
#endif
    r->commit = index;
    release_leavers(r);
    if (!raft_config_is_voter(&r->config, r->id) &&
        r->commit >= r->config_index) {
        /* This leader removed itself and the change is committed. */
        raft_become_follower(r, r->term, RAFT_NONE);
        return;
    }
    /* Let idle followers learn the new commit index now. */
    for (uint32_t i = 0; i < r->n_prs; i++) {
        struct progress *pr = &r->prs[i];
        bool sent;
        if (pr->state == PROGRESS_REPLICATE && pr->infl_count == 0) {
            (void)raft_replicate_send_append(r, pr, true, &sent);
        }
    }
}

void raft_replicate_self_persisted(struct raft *r)
{
    raft_replicate_maybe_commit(r);
}

/* ----------------------------------------------------------- responses -- */

/* The leader's side of fast backtracking: the largest index <= hint_index
 * whose term is <= hint_term. */
static uint64_t leader_hint(const struct raft *r, uint64_t hint_index,
                            uint64_t hint_term)
{
    uint64_t index = hint_index;
    uint64_t t;
    if (index > raft_last_index(r)) {
        index = raft_last_index(r);
    }
    while (index > r->snap.index && raft_term_at(r, index, &t) &&
           t > hint_term) {
        index--;
    }
    return index;
}

static int on_reject(struct raft *r, struct progress *pr,
                     const struct raft_msg_append_resp *a)
{
    if (pr->state == PROGRESS_SNAPSHOT ||
        (pr->state == PROGRESS_REPLICATE && a->index <= pr->match) ||
        (pr->state == PROGRESS_PROBE && a->index != pr->next - 1)) {
        return 0; /* stale answer */
    }
    uint64_t next = leader_hint(r, a->hint_index, a->hint_term) + 1;
    if (next > a->index) {
        next = a->index;
    }
    if (next < pr->match + 1) {
        next = pr->match + 1;
    }
    pr->next = next;
    become_probe(pr);
    bool sent;
    return raft_replicate_send_append(r, pr, true, &sent);
}

static int on_ack(struct raft *r, struct progress *pr, uint64_t index)
{
    if (index > raft_last_index(r) || index < pr->match) {
        return 0; /* not from this leader's log, or stale */
    }
    bool advanced = index > pr->match;
    if (advanced) {
        pr->match = index;
        pr->stall_ticks = 0;
        inflight_free_to(pr, index);
    }
    if (pr->next <= index) {
        pr->next = index + 1;
    }
    if (pr->state == PROGRESS_PROBE) {
        become_replicate(pr); /* the follower matches us up to index */
    } else if (pr->state == PROGRESS_SNAPSHOT && pr->match >= pr->snap_index) {
        become_probe(pr);
    }
    if (advanced) {
        uint64_t id = pr->id;
        raft_replicate_maybe_commit(r);
        /* Committing may let leavers go, which moves progress entries. */
        pr = raft_replicate_progress(r, id);
        if (r->role != RAFT_LEADER || pr == NULL) {
            return 0;
        }
        if (pr->id == r->transfer_target && pr->match == raft_last_index(r)) {
            int rc = send_timeout_now(r, pr->id);
            if (rc != 0) {
                return rc;
            }
        }
    }
    bool leaver = !in_config(&r->config, pr->id);
    int rc = pump(r, pr, false);
    if (leaver && advanced) {
        release_leavers(r); /* it may hold its removal now */
    }
    return rc;
}

int raft_replicate_on_append_resp(struct raft *r, const struct raft_msg *m)
{
    struct progress *pr = raft_replicate_progress(r, m->from);
    if (pr == NULL) {
        return 0;
    }
    pr->recent_active = true;
    if (m->u.append_resp.reject) {
        return on_reject(r, pr, &m->u.append_resp);
    }
    return on_ack(r, pr, m->u.append_resp.index);
}

int raft_replicate_on_heartbeat_resp(struct raft *r, const struct raft_msg *m)
{
    struct progress *pr = raft_replicate_progress(r, m->from);
    if (pr == NULL) {
        return 0;
    }
    pr->recent_active = true;
    if (pr->state == PROGRESS_PROBE) {
        pr->probe_sent = false;
    }
    if (pr->match < raft_last_index(r)) {
        return pump(r, pr, false);
    }
    return 0;
}

int raft_replicate_on_snapshot_resp(struct raft *r, const struct raft_msg *m)
{
    struct progress *pr = raft_replicate_progress(r, m->from);
    const struct raft_msg_snapshot_resp *s = &m->u.snapshot_resp;
    if (pr == NULL) {
        return 0;
    }
    pr->recent_active = true;
    if (s->done) {
        if (pr->state == PROGRESS_SNAPSHOT && s->index >= pr->snap_index) {
            if (s->index > pr->match) {
                pr->match = s->index;
            }
            become_probe(pr);
            pr->next = pr->match + 1;
            uint64_t id = pr->id;
            raft_replicate_maybe_commit(r);
            pr = raft_replicate_progress(r, id); /* entries may have moved */
            if (r->role != RAFT_LEADER || pr == NULL) {
                return 0;
            }
            /* A transfer target that caught up by the snapshot alone (it
             * covered the whole log) hears no ack that advances match
             * afterwards: hand over now, as on_ack would. */
            if (pr->id == r->transfer_target &&
                pr->match == raft_last_index(r)) {
                return send_timeout_now(r, pr->id);
            }
            return pump(r, pr, false);
        }
        return 0;
    }
    if (pr->state != PROGRESS_SNAPSHOT || s->index != pr->snap_index) {
        return 0;
    }
    if (s->reject && pr->snap_offset == 0) {
        /* The follower refused the transfer from its start (too large for
         * it, say): sending it again at once would only ping-pong. Let the
         * stall timer try again after half an election timeout. */
        pr->snap_chunk_sent = true;
        pr->stall_ticks = 0;
        return 0;
    }
    pr->snap_offset = s->reject ? 0 : s->next_offset;
    pr->snap_chunk_sent = false;
    return send_snapshot_chunk(r, pr);
}

/* -------------------------------------------------------------- ticks -- */

static bool check_quorum_ok(struct raft *r)
{
    uint32_t active = 0;
    for (uint32_t i = 0; i < r->config.n_voters; i++) {
        uint64_t id = r->config.voters[i];
        struct progress *pr = raft_replicate_progress(r, id);
        if (id == r->id || (pr != NULL && pr->recent_active)) {
            active++;
        }
    }
    for (uint32_t i = 0; i < r->n_prs; i++) {
        r->prs[i].recent_active = false;
    }
    return active >= raft_quorum(r);
}

/* Unsticks followers whose messages were lost. */
static int tick_stalls(struct raft *r)
{
    for (uint32_t i = 0; i < r->n_prs; i++) {
        struct progress *pr = &r->prs[i];
        bool waiting =
            (pr->state == PROGRESS_REPLICATE && pr->infl_count > 0) ||
            (pr->state == PROGRESS_PROBE && pr->probe_sent) ||
            (pr->state == PROGRESS_SNAPSHOT && pr->snap_chunk_sent);
        if (pr->state == PROGRESS_SNAPSHOT && !pr->snap_chunk_sent) {
            /* Sending failed (out of memory): try again now. */
            int rc = send_snapshot_chunk(r, pr);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (!waiting) {
            pr->stall_ticks = 0;
            continue;
        }
        /* Half an election timeout without an answer: assume the message
         * or its answer was lost and send again (duplicates are harmless). */
        uint32_t patience = r->opts.election_ticks / 2;
        if (++pr->stall_ticks < (patience < 2 ? 2 : patience)) {
            continue;
        }
        int rc;
        if (pr->state == PROGRESS_SNAPSHOT) {
            pr->snap_chunk_sent = false;
            rc = send_snapshot_chunk(r, pr);
        } else {
            become_probe(pr);
            pr->next = pr->match + 1;
            bool sent;
            rc = raft_replicate_send_append(r, pr, true, &sent);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int raft_replicate_tick(struct raft *r)
{
    r->election_elapsed++;
    r->heartbeat_elapsed++;
    for (uint32_t i = 0; i < r->n_prs; i++) {
        if (r->config_index <= r->commit &&
            !in_config(&r->config, r->prs[i].id)) {
            r->prs[i].leave_ticks++;
        }
    }
    release_leavers(r);
    if (r->transfer_target != RAFT_NONE &&
        ++r->transfer_elapsed >= r->opts.election_ticks) {
        r->transfer_target = RAFT_NONE; /* the transfer failed: go on */
    }
    if (r->election_elapsed >= r->opts.election_ticks) {
        r->election_elapsed = 0;
        if (r->opts.check_quorum && !check_quorum_ok(r)) {
            raft_become_follower(r, r->term, RAFT_NONE);
            return 0;
        }
    }
    int rc = tick_stalls(r);
    if (rc != 0) {
        return rc;
    }
    if (r->heartbeat_elapsed >= r->opts.heartbeat_ticks) {
        r->heartbeat_elapsed = 0;
        return raft_replicate_heartbeat(r);
    }
    return 0;
}

/* --------------------------------------------------------- membership -- */

static int propose_config(struct raft *r, const struct raft_config *c)
{
    uint8_t buf[RAFT_CONFIG_ENCODED_MAX];
    size_t len = raft_config_encode(c, buf, sizeof(buf));
    if (len == 0) {
        return ORIGO_E_RAFT_CONFIG;
    }
    int rc = raft_log_append(r, r->term, RAFT_ENTRY_CONFIG, buf, len);
    if (rc != 0) {
        return rc;
    }
    /* The change is in the log: it will be replicated whatever happens to
     * this first broadcast (raft_propose() explains). */
    rc = raft_replicate_broadcast(r, false);
    return rc == ORIGO_E_NOMEM ? 0 : rc;
}

static int change_allowed(const struct raft *r)
{
    if (r->role != RAFT_LEADER) {
        return ORIGO_E_NOT_LEADER;
    }
    if (r->transfer_target != RAFT_NONE) {
        return ORIGO_E_TRANSFER;
    }
    if (r->config_index > r->commit) {
        return ORIGO_E_RAFT_CONFIG; /* one change at a time */
    }
    /* Ongaro's 2015 correction to single-server changes: a leader changes
     * the configuration only once an entry of its own term is committed.
     * Otherwise an uncommitted change of an earlier leader and this one
     * can form two configurations whose majorities do not overlap (the
     * simulator found exactly that: seed 437 before this check). */
#ifndef ORIGO_RAFT_MUTATE_CONFIG_RULE
    uint64_t term;
    if (!raft_term_at(r, r->commit, &term) || term != r->term) {
        return ORIGO_E_RAFT_CONFIG;
    }
#endif
    return 0;
}

static void remove_id(uint64_t *ids, uint32_t *n, uint64_t id)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (ids[i] == id) {
            ids[i] = ids[*n - 1];
            (*n)--;
            return;
        }
    }
}

int raft_add_learner(struct raft *r, uint64_t id)
{
    int rc = change_allowed(r);
    if (rc != 0) {
        return rc;
    }
    struct raft_config c = r->config;
    if (id == RAFT_NONE || in_config(&c, id) ||
        c.n_learners >= RAFT_MAX_MEMBERS) {
        return ORIGO_E_RAFT_CONFIG;
    }
    c.learners[c.n_learners++] = id;
    return propose_config(r, &c);
}

int raft_promote(struct raft *r, uint64_t id)
{
    int rc = change_allowed(r);
    if (rc != 0) {
        return rc;
    }
    struct raft_config c = r->config;
    struct progress *pr = raft_replicate_progress(r, id);
    if (!raft_config_is_learner(&c, id) || pr == NULL ||
        c.n_voters >= RAFT_MAX_MEMBERS ||
        pr->match + r->opts.promote_lag < raft_last_index(r)) {
        return ORIGO_E_RAFT_CONFIG;
    }
    remove_id(c.learners, &c.n_learners, id);
    c.voters[c.n_voters++] = id;
    return propose_config(r, &c);
}

int raft_remove(struct raft *r, uint64_t id)
{
    int rc = change_allowed(r);
    if (rc != 0) {
        return rc;
    }
    struct raft_config c = r->config;
    if (raft_config_is_voter(&c, id)) {
        if (c.n_voters == 1) {
            return ORIGO_E_RAFT_CONFIG;
        }
        remove_id(c.voters, &c.n_voters, id);
    } else if (raft_config_is_learner(&c, id)) {
        remove_id(c.learners, &c.n_learners, id);
    } else {
        return ORIGO_E_RAFT_CONFIG;
    }
    return propose_config(r, &c);
}

int raft_transfer(struct raft *r, uint64_t target)
{
    if (r->role != RAFT_LEADER) {
        return ORIGO_E_NOT_LEADER;
    }
    if (r->transfer_target != RAFT_NONE) {
        return ORIGO_E_TRANSFER;
    }
    struct progress *pr = raft_replicate_progress(r, target);
    if (target == r->id || pr == NULL ||
        !raft_config_is_voter(&r->config, target)) {
        return ORIGO_E_RAFT_CONFIG;
    }
    r->transfer_target = target;
    r->transfer_elapsed = 0;
    if (pr->match == raft_last_index(r)) {
        return send_timeout_now(r, target);
    }
    return pump(r, pr, false);
}
