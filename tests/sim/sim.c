/* The deterministic cluster simulator: N Raft cores in one process, a
 * simulated network (delay, loss, duplication, reordering, partitions) and
 * simulated disks whose writes become durable only when synced, all driven
 * by one seeded PRNG. The invariants of the Raft dissertation are checked
 * after every step; a violation names its seed and step. */
#include "sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "raftmsg.h"

/* ---------------------------------------------------------------- rng -- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *g, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        g->s[i] = splitmix64(&x);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rng_below(struct sim_rng *g, uint64_t n)
{
    return sim_rng_next(g) % n;
}

bool sim_rng_chance(struct sim_rng *g, uint32_t per_mille)
{
    return per_mille > 0 && sim_rng_below(g, 1000) < per_mille;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    uint64_t x = h ^ (v + 0x632be59bd9b4e019ull);
    return splitmix64(&x);
}

static uint64_t hash_bytes(const uint8_t *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size == 0 ? 1 : size);
    if (p == NULL) {
        fprintf(stderr, "sim: out of memory\n");
        abort();
    }
    return p;
}

static uint8_t *xdup(const uint8_t *p, size_t len)
{
    if (len == 0) {
        return NULL;
    }
    uint8_t *q = xcalloc(1, len);
    memcpy(q, p, len);
    return q;
}

/* ------------------------------------------------------- state machine -- */

/* The replicated state machine: a running hash of every applied entry.
 * Snapshots serialise (index, hash) padded with bytes derived from them, so
 * chunked transfer has something to carry and corruption shows. */
#define SIM_SNAP_BYTES 200

struct sim_sm {
    uint64_t index;
    uint64_t hash;
};

static void sm_encode(const struct sim_sm *sm, uint8_t *out)
{
    uint64_t x = sm->hash;
    memcpy(out, &sm->index, 8);
    memcpy(out + 8, &sm->hash, 8);
    for (size_t i = 16; i < SIM_SNAP_BYTES; i++) {
        out[i] = (uint8_t)splitmix64(&x);
    }
}

static bool sm_decode(const uint8_t *p, size_t len, struct sim_sm *sm)
{
    uint8_t check[SIM_SNAP_BYTES];
    if (len != SIM_SNAP_BYTES) {
        return false;
    }
    memcpy(&sm->index, p, 8);
    memcpy(&sm->hash, p + 8, 8);
    sm_encode(sm, check);
    return memcmp(check, p, SIM_SNAP_BYTES) == 0;
}

/* ---------------------------------------------------------------- disk -- */

struct sim_write {
    uint64_t seq;
    bool install;
    struct raft_snapshot_meta snap;
    uint8_t *snap_data;
    size_t snap_len;
    struct raft_entry *ents;
    size_t n_ents;
    bool hs_changed;
    struct raft_hard_state hs;
};

struct sim_disk {
    struct raft_hard_state hs;
    struct raft_snapshot_meta snap;
    uint8_t *snap_data;
    size_t snap_len;
    struct raft_entry *ents; /* from snap.index + 1 */
    size_t n_ents;
    size_t cap_ents;
};

static void entries_free(struct raft_entry *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ents[i].data.base);
    }
    free(ents);
}

static struct raft_entry *entries_copy(const struct raft_entry *src, size_t n)
{
    struct raft_entry *e = xcalloc(n, sizeof(*e));
    for (size_t i = 0; i < n; i++) {
        e[i] = src[i];
        e[i].data.base = xdup(src[i].data.base, src[i].data.len);
    }
    return e;
}

static void disk_truncate(struct sim_disk *d, uint64_t from)
{
    while (d->n_ents > 0 && d->snap.index + d->n_ents >= from) {
        d->n_ents--;
        free(d->ents[d->n_ents].data.base);
    }
}

static void disk_apply(struct sim_disk *d, struct sim_write *w)
{
    if (w->install) {
        disk_truncate(d, 0);
        d->n_ents = 0;
        d->snap = w->snap;
        free(d->snap_data);
        d->snap_data = w->snap_data;
        d->snap_len = w->snap_len;
        w->snap_data = NULL;
    }
    if (w->n_ents > 0) {
        disk_truncate(d, w->ents[0].index);
        for (size_t i = 0; i < w->n_ents; i++) {
            struct raft_entry *e = &w->ents[i];
            if (e->index <= d->snap.index) {
                free(e->data.base);
                continue;
            }
            if (e->index != d->snap.index + d->n_ents + 1) {
                fprintf(stderr, "sim: disk gap at %" PRIu64 "\n", e->index);
                abort();
            }
            if (d->n_ents == d->cap_ents) {
                d->cap_ents = d->cap_ents ? 2 * d->cap_ents : 64;
                d->ents = xrealloc(d->ents, d->cap_ents * sizeof(*d->ents));
            }
            d->ents[d->n_ents++] = *e;
        }
        free(w->ents);
        w->ents = NULL;
        w->n_ents = 0;
    }
    if (w->hs_changed) {
        d->hs = w->hs;
    }
}

static bool disk_holds(const struct sim_disk *d, uint64_t index, uint64_t term)
{
    if (index <= d->snap.index) {
        return true; /* covered by the snapshot (checked by its hash) */
    }
    uint64_t off = index - d->snap.index - 1;
    return off < d->n_ents && d->ents[off].term == term;
}

static void write_free(struct sim_write *w)
{
    free(w->snap_data);
    entries_free(w->ents, w->n_ents);
}

static void disk_free(struct sim_disk *d)
{
    free(d->snap_data);
    entries_free(d->ents, d->n_ents);
}

/* Compacts the disk log behind a snapshot the node took itself. */
static void disk_snapshot(struct sim_disk *d,
                          const struct raft_snapshot_meta *m,
                          const uint8_t *data, size_t len)
{
    size_t drop = (size_t)(m->index - d->snap.index);
    if (drop > d->n_ents) {
        drop = d->n_ents;
    }
    for (size_t i = 0; i < drop; i++) {
        free(d->ents[i].data.base);
    }
    memmove(d->ents, d->ents + drop, (d->n_ents - drop) * sizeof(*d->ents));
    d->n_ents -= drop;
    d->snap = *m;
    free(d->snap_data);
    d->snap_data = xdup(data, len);
    d->snap_len = len;
}

/* ------------------------------------------------------------- network -- */

struct sim_msg {
    uint64_t deliver_at;
    struct raft_msg m;
};

static void msg_copy(struct raft_msg *dst, const struct raft_msg *src)
{
    *dst = *src;
    if (src->type == RAFT_MSG_APPEND && src->u.append.n_entries > 0) {
        dst->u.append.entries =
            entries_copy(src->u.append.entries, src->u.append.n_entries);
    } else if (src->type == RAFT_MSG_SNAPSHOT) {
        dst->u.snapshot.chunk.base =
            xdup(src->u.snapshot.chunk.base, src->u.snapshot.chunk.len);
    }
}

static void msg_free(struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND && m->u.append.n_entries > 0) {
        entries_free(m->u.append.entries, m->u.append.n_entries);
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        free(m->u.snapshot.chunk.base);
    }
}

/* ------------------------------------------------------------- cluster -- */

struct sim_node {
    uint64_t id;
    bool exists;
    struct raft *raft; /* NULL while crashed */
    struct sim_disk disk;
    struct sim_write *writes; /* handed out, not yet synced */
    size_t n_writes;
    size_t cap_writes;
    struct sim_sm sm;
    struct sim_rng rng; /* the node's injected randomness */
    uint32_t tick_period;
    uint32_t tick_phase;
    bool founder;
    uint64_t checked_commit;
    uint64_t leader_term_checked;
    /* Nemesis: a new leader is crashed or isolated at flap_at, and
     * restarted or reconnected at unflap_at. */
    struct sim_rng alloc_rng; /* injected allocation failures */
    uint32_t alloc_fail;
    bool alloc_armed;
    uint64_t flap_at;
    uint64_t unflap_at;
    bool flap_crash;
    /* A membership change tried on a new leader soon after it won, before
     * it committed anything of its term (where single-server changes are
     * fragile: Ongaro's 2015 correction). */
    uint64_t change_at;
    uint64_t snap_wanted;    /* snapshot index the core asked bytes for */
    uint64_t unreported_seq; /* durable on disk, raft_persisted() not yet */
};

/* Global records for the invariants, indexed by log index or term. */
struct sim_index_rec {
    uint64_t committed_term; /* 0: not known committed */
    uint64_t committed_in;   /* term of the node that first reported it */
    uint32_t voters_mask;    /* voters of the leader that committed it */
    uint64_t sm_hash;
    bool sm_set;
};

struct match_rec {
    uint64_t index;
    uint64_t term; /* 0: empty slot */
    uint64_t prev_term;
    uint64_t data_hash;
};

struct sim_cluster {
    struct sim_options opts;
    struct sim_rng rng;
    struct sim_faults faults;
    uint64_t now;
    struct sim_node nodes[SIM_MAX_NODES + 1]; /* by id; [0] unused */
    uint32_t n_nodes;
    struct raft_config founding;
    bool blocked[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];

    struct sim_msg *net;
    size_t n_net;
    size_t cap_net;

    struct sim_index_rec *idx;
    size_t cap_idx;
    uint64_t max_committed;
    uint64_t *leader_of_term;
    size_t cap_terms;
    struct match_rec *match;
    size_t cap_match;
    size_t n_match;

    /* One vote per node per term, from its messages and its disk. */
    struct vote_rec *votes;
    size_t n_votes;
    size_t cap_votes;
    /* The harsh profile's extra faults (per mille). */
    struct {
        uint32_t partial_sync;   /* a sync makes only a prefix durable */
        uint32_t keep_unsynced;  /* a crash keeps unreported writes */
        uint32_t late_persisted; /* raft_persisted() comes a sync later */
        uint32_t provide_fail;   /* the host fails to provide snapshot bytes */
    } harsh;

    bool violated;
    char violation[512];
    struct sim_stats stats;
};

struct vote_rec {
    uint64_t node, term, candidate;
};

static void trace(struct sim_cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void trace(struct sim_cluster *c, const char *fmt, ...)
{
    if (!c->opts.verbose) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%6" PRIu64 "] ", c->now);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void fail(struct sim_cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct sim_cluster *c, const char *fmt, ...)
{
    if (c->violated) {
        return;
    }
    c->violated = true;
    int n =
        snprintf(c->violation, sizeof(c->violation),
                 "seed %" PRIu64 " step %" PRIu64 ": ", c->opts.seed, c->now);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(c->violation)) {
        vsnprintf(c->violation + n, sizeof(c->violation) - (size_t)n, fmt, ap);
    }
    va_end(ap);
    trace(c, "VIOLATION %s", c->violation);
    for (uint32_t id = 1; id <= c->n_nodes && c->opts.verbose; id++) {
        struct sim_node *sn = &c->nodes[id];
        if (sn->raft == NULL) {
            trace(c, "node %u: down", id);
            continue;
        }
        struct raft_status st;
        raft_status(sn->raft, &st);
        char voters[128] = "";
        size_t used = 0;
        for (uint32_t v = 0; v < st.config.n_voters && used < 100; v++) {
            int w = snprintf(voters + used, sizeof(voters) - used, " %" PRIu64,
                             st.config.voters[v]);
            used += w > 0 ? (size_t)w : 0;
        }
        trace(c,
              "node %u: %s term %" PRIu64 " last %" PRIu64 "/%" PRIu64
              " commit %" PRIu64 " snap %" PRIu64 " voters%s",
              id, raft_role_name(st.role), st.term, st.last_index, st.last_term,
              st.commit, st.snapshot_index, voters);
    }
}

const char *sim_violation(const struct sim_cluster *c)
{
    return c->violation;
}

static struct sim_index_rec *idx_rec(struct sim_cluster *c, uint64_t index)
{
    if (index >= c->cap_idx) {
        size_t cap = c->cap_idx ? c->cap_idx : 1024;
        while (cap <= index) {
            cap *= 2;
        }
        c->idx = xrealloc(c->idx, cap * sizeof(*c->idx));
        memset(c->idx + c->cap_idx, 0, (cap - c->cap_idx) * sizeof(*c->idx));
        c->cap_idx = cap;
    }
    return &c->idx[index];
}

static uint64_t *term_rec(struct sim_cluster *c, uint64_t term)
{
    /* Terms count from the run's initial term (near the maximum in some
     * harsh runs). */
    term = term >= c->opts.initial_term ? term - c->opts.initial_term : 0;
    if (term >= c->cap_terms) {
        size_t cap = c->cap_terms ? c->cap_terms : 256;
        while (cap <= term) {
            cap *= 2;
        }
        c->leader_of_term =
            xrealloc(c->leader_of_term, cap * sizeof(*c->leader_of_term));
        memset(c->leader_of_term + c->cap_terms, 0,
               (cap - c->cap_terms) * sizeof(*c->leader_of_term));
        c->cap_terms = cap;
    }
    return &c->leader_of_term[term];
}

/* Log matching: every (index, term) ever stored anywhere has one content
 * and one predecessor term. By induction that is the log matching
 * property across all logs. */
static struct match_rec *match_slot(struct sim_cluster *c, uint64_t index,
                                    uint64_t term)
{
    if (2 * (c->n_match + 1) > c->cap_match) {
        size_t old_cap = c->cap_match;
        struct match_rec *old = c->match;
        c->cap_match = old_cap ? 2 * old_cap : 4096;
        c->match = xcalloc(c->cap_match, sizeof(*c->match));
        c->n_match = 0;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].term != 0) {
                *match_slot(c, old[i].index, old[i].term) = old[i];
                c->n_match++;
            }
        }
        free(old);
    }
    size_t mask = c->cap_match - 1;
    size_t h = (size_t)mix(index, term) & mask;
    while (c->match[h].term != 0 &&
           (c->match[h].index != index || c->match[h].term != term)) {
        h = (h + 1) & mask;
    }
    return &c->match[h];
}

static void check_entry(struct sim_cluster *c, struct sim_node *n,
                        const struct raft_entry *e)
{
    uint64_t prev_term = 0;
    bool prev_known = raft_term_at(n->raft, e->index - 1, &prev_term);
    uint64_t dh = mix(hash_bytes(e->data.base, e->data.len), e->type);
    struct match_rec *s = match_slot(c, e->index, e->term);
    if (s->term == 0) {
        s->index = e->index;
        s->term = e->term;
        s->prev_term = prev_known ? prev_term : UINT64_MAX;
        s->data_hash = dh;
        c->n_match++;
        return;
    }
    if (s->data_hash != dh) {
        fail(c,
             "log matching: node %" PRIu64 " entry %" PRIu64 " term %" PRIu64
             " has different content",
             n->id, e->index, e->term);
    }
    if (prev_known && s->prev_term != UINT64_MAX && s->prev_term != prev_term) {
        fail(c,
             "log matching: node %" PRIu64 " entry %" PRIu64 " term %" PRIu64
             " follows term %" PRIu64 " not %" PRIu64,
             n->id, e->index, e->term, prev_term, s->prev_term);
    }
    if (prev_known && s->prev_term == UINT64_MAX) {
        s->prev_term = prev_term;
    }
}

static void sm_apply(struct sim_cluster *c, struct sim_node *n,
                     const struct raft_entry *e)
{
    if (e->index != n->sm.index + 1) {
        fail(c, "node %" PRIu64 " applies %" PRIu64 " after %" PRIu64, n->id,
             e->index, n->sm.index);
        return;
    }
    n->sm.index = e->index;
    n->sm.hash = mix(mix(n->sm.hash, e->term),
                     mix(hash_bytes(e->data.base, e->data.len), e->type));
    struct sim_index_rec *r = idx_rec(c, e->index);
    if (!r->sm_set) {
        r->sm_set = true;
        r->sm_hash = n->sm.hash;
    } else if (r->sm_hash != n->sm.hash) {
        fail(c,
             "state machine safety: node %" PRIu64
             " applied a different entry at %" PRIu64,
             n->id, e->index);
    }
}

static void sm_install(struct sim_cluster *c, struct sim_node *n,
                       const uint8_t *data, size_t len, uint64_t index)
{
    struct sim_sm sm;
    if (!sm_decode(data, len, &sm) || sm.index != index) {
        fail(c, "node %" PRIu64 " got a corrupt snapshot at %" PRIu64, n->id,
             index);
        return;
    }
    struct sim_index_rec *r = idx_rec(c, index);
    if (r->sm_set && r->sm_hash != sm.hash) {
        fail(c,
             "state machine safety: snapshot at %" PRIu64
             " differs on node %" PRIu64,
             index, n->id);
    }
    n->sm = sm;
}

/* ------------------------------------------------------------ readies -- */

static void net_push(struct sim_cluster *c, const struct raft_msg *m,
                     uint64_t delay)
{
    if (c->n_net == c->cap_net) {
        c->cap_net = c->cap_net ? 2 * c->cap_net : 256;
        c->net = xrealloc(c->net, c->cap_net * sizeof(*c->net));
    }
    struct sim_msg *s = &c->net[c->n_net++];
    s->deliver_at = c->now + delay;
    msg_copy(&s->m, m);
}

static uint64_t draw_delay(struct sim_cluster *c)
{
    uint32_t max = c->faults.delay_max ? c->faults.delay_max : 1;
    return 1 + sim_rng_below(&c->rng, max);
}

/* A node votes once per term: from its messages and from its disk. */
static void record_vote(struct sim_cluster *c, uint64_t node, uint64_t term,
                        uint64_t candidate, const char *where)
{
    for (size_t i = 0; i < c->n_votes; i++) {
        struct vote_rec *v = &c->votes[c->n_votes - 1 - i];
        if (v->node == node && v->term == term) {
            if (v->candidate != candidate) {
                fail(c,
                     "node %" PRIu64 " voted for %" PRIu64 " and %" PRIu64
                     " in term %" PRIu64 " (%s)",
                     node, v->candidate, candidate, term, where);
            }
            return;
        }
    }
    if (c->n_votes == c->cap_votes) {
        c->cap_votes = c->cap_votes ? 2 * c->cap_votes : 64;
        c->votes = xrealloc(c->votes, c->cap_votes * sizeof(*c->votes));
    }
    c->votes[c->n_votes++] = (struct vote_rec){node, term, candidate};
}

/* What a message claims must already be durable on its sender's disk (the
 * core's contract, consensus/README.md): its term; a vote it grants; the
 * entries it acknowledges, with the leader's term; a snapshot it reports
 * installed. The disk is exactly what a crash would leave. */
static void check_claims_durable(struct sim_cluster *c, struct sim_node *n,
                                 const struct raft_msg *m)
{
    const struct sim_disk *d = &n->disk;
    const char *type = raft_msg_type_name(m->type);
    /* PREVOTE and its answers carry the term a campaign would have. */
    if (m->type != RAFT_MSG_PREVOTE && m->type != RAFT_MSG_PREVOTE_RESP &&
        m->term > d->hs.term) {
        fail(c,
             "node %" PRIu64 " sends %s of term %" PRIu64
             " while its durable term is %" PRIu64,
             n->id, type, m->term, d->hs.term);
        return;
    }
    if (m->type == RAFT_MSG_VOTE_RESP && m->u.vote_resp.granted) {
        if (d->hs.term != m->term || d->hs.vote != m->to) {
            fail(c,
                 "node %" PRIu64 " grants its vote in term %" PRIu64
                 " to %" PRIu64 " before it is durable (disk: term %" PRIu64
                 " vote %" PRIu64 ")",
                 n->id, m->term, m->to, d->hs.term, d->hs.vote);
            return;
        }
        record_vote(c, n->id, m->term, m->to, "message");
    }
    if (m->type == RAFT_MSG_APPEND_RESP && !m->u.append_resp.reject) {
        uint64_t index = m->u.append_resp.index;
        const struct raft_entry *e =
            n->raft ? raft_entry_at(n->raft, index) : NULL;
        bool durable = e != NULL ? disk_holds(d, index, e->term)
                                 : index <= d->snap.index + d->n_ents;
        if (!durable) {
            fail(c,
                 "node %" PRIu64 " acknowledges index %" PRIu64
                 " (term %" PRIu64 ") that its disk does not hold",
                 n->id, index, e ? e->term : 0);
        }
    }
    /* A snapshot reported done is durable: installed, or covered by the
     * durable log already (a follower that has the entries answers at
     * once). */
    if (m->type == RAFT_MSG_SNAPSHOT_RESP && m->u.snapshot_resp.done &&
        !m->u.snapshot_resp.reject &&
        d->snap.index + d->n_ents < m->u.snapshot_resp.index) {
        fail(c,
             "node %" PRIu64 " reports snapshot %" PRIu64
             " installed while its disk holds %" PRIu64,
             n->id, m->u.snapshot_resp.index, d->snap.index);
    }
}

/* Every message the core builds goes through the wire codec and back, as
 * between real nodes: one the codec refuses would never arrive. */
static void send_msgs(struct sim_cluster *c, struct sim_node *n,
                      const struct raft_ready *rd)
{
    origo_buf wire;
    origo_buf_init(&wire, RAFTMSG_MAX_FRAME);
    for (size_t i = 0; i < rd->n_msgs && !c->violated; i++) {
        const struct raft_msg *m = &rd->msgs[i];
        struct raft_msg dec;
        c->stats.msgs_sent++;
        check_claims_durable(c, n, m);
        origo_buf_reset(&wire);
        int rc = raftmsg_encode(m, &wire);
        if (rc == 0) {
            rc = raftmsg_decode(wire.data, wire.len, &dec);
        }
        if (rc != 0) {
            fail(c, "codec refuses %s from %" PRIu64 " to %" PRIu64 ": %s",
                 raft_msg_type_name(m->type), m->from, m->to,
                 origo_strerror(rc));
            break;
        }
        if (!sim_rng_chance(&c->rng, c->faults.loss)) {
            net_push(c, &dec, draw_delay(c));
            if (sim_rng_chance(&c->rng, c->faults.dup)) {
                net_push(c, &dec, draw_delay(c));
            }
        }
        raftmsg_release(&dec);
    }
    origo_buf_close(&wire);
}

/* Durable hard state never goes back: the term never decreases and a vote
 * cast in a term never changes. */
static void check_hard_state(struct sim_cluster *c, const struct sim_node *n,
                             const struct raft_hard_state *old,
                             const struct raft_hard_state *new_hs)
{
    if (new_hs->term < old->term ||
        (new_hs->term == old->term && old->vote != RAFT_NONE &&
         new_hs->vote != old->vote)) {
        fail(c,
             "node %" PRIu64 " durable hard state goes back: term %" PRIu64
             " vote %" PRIu64 " -> term %" PRIu64 " vote %" PRIu64,
             n->id, old->term, old->vote, new_hs->term, new_hs->vote);
    }
    if (new_hs->vote != RAFT_NONE) {
        record_vote(c, n->id, new_hs->term, new_hs->vote, "disk");
    }
}

/* Makes the first `count` handed-out writes durable. */
static void disk_take(struct sim_cluster *c, struct sim_node *n, size_t count,
                      uint64_t *seq)
{
    for (size_t i = 0; i < count; i++) {
        struct sim_write *w = &n->writes[i];
        if (w->hs_changed) {
            check_hard_state(c, n, &n->disk.hs, &w->hs);
        }
        disk_apply(&n->disk, w);
        *seq = w->seq;
        write_free(w);
    }
    if (count > 0 && count < n->n_writes) {
        memmove(n->writes, n->writes + count,
                (n->n_writes - count) * sizeof(*n->writes));
    }
    n->n_writes -= count;
}

static void node_sync(struct sim_cluster *c, struct sim_node *n)
{
    if (n->raft == NULL) {
        return;
    }
    uint64_t seq = 0;
    size_t count = n->n_writes;
    /* Harsh: a sync that makes only a prefix durable (the disk reports the
     * rest later). */
    if (count > 1 && sim_rng_chance(&c->rng, c->harsh.partial_sync)) {
        count = 1 + (size_t)sim_rng_below(&c->rng, count - 1);
    }
    disk_take(c, n, count, &seq);
    /* Harsh: the disk has the writes but the core hears of it a sync later;
     * what was durable before is reported now. */
    uint64_t report = seq;
    if (seq != 0 && sim_rng_chance(&c->rng, c->harsh.late_persisted)) {
        report = n->unreported_seq;
        n->unreported_seq = seq;
    } else if (seq == 0) {
        report = n->unreported_seq;
        n->unreported_seq = 0;
    } else {
        n->unreported_seq = 0;
    }
    if (report != 0) {
        raft_persisted(n->raft, report);
    }
}

static void handle_ready(struct sim_cluster *c, struct sim_node *n,
                         struct raft_ready *rd)
{
    send_msgs(c, n, rd);
    struct sim_write w;
    memset(&w, 0, sizeof(w));
    w.seq = rd->seq;
    if (rd->snapshot_install) {
        w.install = true;
        w.snap = rd->snapshot;
        w.snap_data = xdup(rd->snapshot_data.base, rd->snapshot_data.len);
        w.snap_len = rd->snapshot_data.len;
        sm_install(c, n, rd->snapshot_data.base, rd->snapshot_data.len,
                   rd->snapshot.index);
        c->stats.snapshots_installed++;
        trace(c, "node %" PRIu64 " installs snapshot %" PRIu64, n->id,
              rd->snapshot.index);
    }
    for (size_t i = 0; i < rd->n_entries; i++) {
        check_entry(c, n, &rd->entries[i]);
    }
    if (rd->n_entries > 0) {
        w.ents = entries_copy(rd->entries, rd->n_entries);
        w.n_ents = rd->n_entries;
    }
    w.hs_changed = rd->hard_state_changed;
    w.hs = rd->hard_state;
    if (rd->snapshot_wanted) {
        n->snap_wanted = rd->snapshot_wanted_index;
    }
    if (n->n_writes == n->cap_writes) {
        n->cap_writes = n->cap_writes ? 2 * n->cap_writes : 16;
        n->writes = xrealloc(n->writes, n->cap_writes * sizeof(*n->writes));
    }
    n->writes[n->n_writes++] = w;
    for (size_t i = 0; i < rd->n_committed; i++) {
        sm_apply(c, n, &rd->committed[i]);
    }
}

static bool rc_ok(const struct sim_node *n, int rc);

static void drain(struct sim_cluster *c, struct sim_node *n)
{
    for (int guard = 0; n->raft != NULL && raft_has_ready(n->raft); guard++) {
        struct raft_ready rd;
        int rc = guard > 1000 ? -1 : raft_ready(n->raft, &rd);
        if (rc == ORIGO_E_NOMEM && n->alloc_fail > 0) {
            return; /* try again at the next event */
        }
        if (rc != 0) {
            fail(c, "node %" PRIu64 " ready loop", n->id);
            return;
        }
        handle_ready(c, n, &rd);
        raft_advance(n->raft, &rd);
        if (n->snap_wanted != 0) {
            /* The state machine serialises itself as of the snapshot the
             * core asks for (the disk keeps exactly those bytes). */
            uint64_t want = n->snap_wanted;
            n->snap_wanted = 0;
            trace(c, "node %" PRIu64 " asked for snapshot bytes at %" PRIu64,
                  n->id, want);
            if (sim_rng_chance(&c->rng, c->harsh.provide_fail)) {
                trace(c, "node %" PRIu64 " fails to provide it", n->id);
            } else if (n->disk.snap.index == want && n->disk.snap_len > 0 &&
                       !rc_ok(n, raft_snapshot_provide(n->raft, want,
                                                       n->disk.snap_data,
                                                       n->disk.snap_len))) {
                fail(c, "node %" PRIu64 " refused snapshot bytes", n->id);
            }
        }
        if (c->opts.auto_sync) {
            node_sync(c, n);
        }
    }
}

/* --------------------------------------------------------------- nodes -- */

static uint64_t node_rand(void *ctx)
{
    return sim_rng_next(ctx);
}

static void *node_malloc(void *ctx, size_t size)
{
    struct sim_node *n = ctx;
    if (n->alloc_armed && sim_rng_chance(&n->alloc_rng, n->alloc_fail)) {
        return NULL;
    }
    return malloc(size);
}

static void *node_realloc(void *ctx, void *ptr, size_t size)
{
    struct sim_node *n = ctx;
    if (n->alloc_armed && sim_rng_chance(&n->alloc_rng, n->alloc_fail)) {
        return NULL;
    }
    return realloc(ptr, size);
}

static void node_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/* Results the simulator accepts from the core: success, or an injected
 * allocation failure (the input is then as good as lost). */
static bool rc_ok(const struct sim_node *n, int rc)
{
    return rc == 0 || (rc == ORIGO_E_NOMEM && n->alloc_fail > 0);
}

static void node_start(struct sim_cluster *c, struct sim_node *n)
{
    struct raft_options o;
    raft_options_default(&o);
    o.id = n->id;
    o.election_ticks = c->opts.election_ticks;
    o.max_inflight_msgs = c->opts.max_inflight_msgs;
    o.max_msg_bytes = c->opts.max_msg_bytes;
    o.max_msg_entries = c->opts.max_msg_entries;
    o.snapshot_chunk_bytes = c->opts.snapshot_chunk_bytes;
    o.pre_vote = c->opts.pre_vote;
    o.check_quorum = c->opts.check_quorum;
    o.leader_lease = c->opts.leader_lease;
    o.promote_lag = 8;
    o.rand_fn = node_rand;
    o.rand_ctx = &n->rng;
    o.alloc.malloc_fn = node_malloc;
    o.alloc.realloc_fn = node_realloc;
    o.alloc.free_fn = node_free;
    o.alloc.ctx = n;
    n->alloc_armed = false; /* restarting is not under test */
    struct raft_restore rs;
    memset(&rs, 0, sizeof(rs));
    rs.hard_state = n->disk.hs;
    rs.snapshot = n->disk.snap;
    /* Every other restart comes back without snapshot bytes, as a node
     * whose ledger is its snapshot does: the core must ask for them. */
    if (((c->stats.crashes + n->id) & 1) == 0) {
        rs.snapshot_data.base = n->disk.snap_data;
        rs.snapshot_data.len = n->disk.snap_len;
    }
    if (n->founder) {
        rs.bootstrap = c->founding;
    }
    rs.entries = n->disk.ents;
    rs.n_entries = n->disk.n_ents;
    memset(&n->sm, 0, sizeof(n->sm));
    if (n->disk.snap.index > 0) {
        sm_decode(n->disk.snap_data, n->disk.snap_len, &n->sm);
    }
    int rc = raft_new(&o, &rs, &n->raft);
    if (rc != 0) {
        fail(c, "node %" PRIu64 " cannot restart: %d", n->id, rc);
        n->raft = NULL;
        return;
    }
    n->alloc_armed = true;
    struct raft_status st;
    raft_status(n->raft, &st);
    n->checked_commit = st.commit;
    n->leader_term_checked = 0;
}

void sim_options_default(struct sim_options *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->n_voters = 3;
    o->election_ticks = 10;
    o->max_inflight_msgs = 16;
    o->max_msg_bytes = 1024;
    o->snapshot_chunk_bytes = 64;
    o->pre_vote = true;
    o->check_quorum = true;
    o->leader_lease = true;
    o->auto_sync = true;
}

struct sim_cluster *sim_new(const struct sim_options *o)
{
    struct sim_cluster *c = xcalloc(1, sizeof(*c));
    c->opts = *o;
    sim_rng_seed(&c->rng, o->seed);
    c->n_nodes = o->n_voters + o->n_learners + o->n_spares;
    if (c->n_nodes > SIM_MAX_NODES) {
        c->n_nodes = SIM_MAX_NODES;
    }
    c->faults.delay_max = 1;
    for (uint32_t i = 0; i < o->n_voters && i < RAFT_MAX_MEMBERS; i++) {
        c->founding.voters[c->founding.n_voters++] = i + 1;
    }
    for (uint32_t i = 0; i < o->n_learners && i < RAFT_MAX_MEMBERS; i++) {
        c->founding.learners[c->founding.n_learners++] = o->n_voters + i + 1;
    }
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        n->id = id;
        n->exists = true;
        n->founder = id <= o->n_voters + o->n_learners;
        n->tick_period = 1;
        sim_rng_seed(&n->rng, sim_rng_next(&c->rng));
        sim_rng_seed(&n->alloc_rng, sim_rng_next(&c->rng));
        n->alloc_fail = o->alloc_fail;
        n->disk.hs.term = o->initial_term;
        node_start(c, n);
    }
    return c;
}

static void node_crash(struct sim_cluster *c, struct sim_node *n)
{
    /* Harsh: writes the core was never told were durable may have reached
     * the disk anyway (a prefix of them, as the disk orders writes). */
    if (n->n_writes > 0 && sim_rng_chance(&c->rng, c->harsh.keep_unsynced)) {
        uint64_t seq = 0;
        disk_take(c, n, 1 + (size_t)sim_rng_below(&c->rng, n->n_writes), &seq);
    }
    n->unreported_seq = 0;
    for (size_t i = 0; i < n->n_writes; i++) {
        write_free(&n->writes[i]);
    }
    n->n_writes = 0;
    raft_free(n->raft);
    n->raft = NULL;
}

void sim_free(struct sim_cluster *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        node_crash(c, &c->nodes[id]);
        free(c->nodes[id].writes);
        disk_free(&c->nodes[id].disk);
    }
    for (size_t i = 0; i < c->n_net; i++) {
        msg_free(&c->net[i].m);
    }
    free(c->net);
    free(c->idx);
    free(c->votes);
    free(c->leader_of_term);
    free(c->match);
    free(c);
}

static struct sim_node *node(struct sim_cluster *c, uint64_t id)
{
    if (id == 0 || id > c->n_nodes) {
        return NULL;
    }
    return &c->nodes[id];
}

/* ---------------------------------------------------------- invariants -- */

/* A leader must hold every entry known committed (leader completeness). */
static void check_leader_has(struct sim_cluster *c, struct sim_node *n,
                             uint64_t from, uint64_t to)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    if (from <= st.snapshot_index) {
        from = st.snapshot_index + 1;
    }
    for (uint64_t i = from; i <= to && !c->violated; i++) {
        uint64_t want = idx_rec(c, i)->committed_term;
        uint64_t have;
        /* Only entries committed in earlier terms bind this leader; the
         * reporter's term bounds the committing term from above. */
        if (want == 0 || idx_rec(c, i)->committed_in >= st.term) {
            continue;
        }
        if (!raft_term_at(n->raft, i, &have) || have != want) {
            fail(c,
                 "leader completeness: leader %" PRIu64 " of term %" PRIu64
                 " lacks committed entry %" PRIu64 " (term %" PRIu64 ")",
                 n->id, st.term, i, want);
        }
    }
}

/* Committed entries are durable on a majority of the voters that committed
 * them (the leader counts its own synced log, followers acknowledge synced
 * entries) and stay so: disks lose only unsynced writes and truncate only
 * uncommitted entries. */
static void check_durable(struct sim_cluster *c, uint64_t i)
{
    struct sim_index_rec *r = idx_rec(c, i);
    if (r->committed_term == 0 || r->voters_mask == 0) {
        return;
    }
    uint32_t voters = 0, holders = 0;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        if (r->voters_mask & (1u << id)) {
            voters++;
            holders += disk_holds(&c->nodes[id].disk, i, r->committed_term);
        }
    }
    if (holders < voters / 2 + 1) {
        fail(c,
             "committed entry %" PRIu64 " (term %" PRIu64
             ") is durable on %u of %u voters",
             i, r->committed_term, holders, voters);
    }
}

static void check_durable_commits(struct sim_cluster *c)
{
    for (uint64_t i = 1; i <= c->max_committed && !c->violated; i++) {
        check_durable(c, i);
    }
}

static void check_commits(struct sim_cluster *c, struct sim_node *n)
{
    struct raft_status st;
    raft_status(n->raft, &st);
    if (st.commit <= n->checked_commit) {
        n->checked_commit = st.commit;
        return;
    }
    uint64_t old_max = c->max_committed;
    for (uint64_t i = n->checked_commit + 1; i <= st.commit; i++) {
        uint64_t t;
        if (!raft_term_at(n->raft, i, &t) || i <= st.snapshot_index) {
            continue;
        }
        struct sim_index_rec *r = idx_rec(c, i);
        if (r->committed_term == 0) {
            r->committed_term = t;
            r->committed_in = st.term;
            r->voters_mask = 0;
            if (st.role == RAFT_LEADER) {
                for (uint32_t v = 0; v < st.config.n_voters; v++) {
                    if (st.config.voters[v] <= SIM_MAX_NODES) {
                        r->voters_mask |= 1u << st.config.voters[v];
                    }
                }
            }
            check_durable(c, i);
        } else if (r->committed_term != t) {
            fail(c,
                 "committed entry %" PRIu64 " changed: term %" PRIu64
                 " on node %" PRIu64 ", was %" PRIu64,
                 i, t, n->id, r->committed_term);
        }
        if (i > c->max_committed) {
            c->max_committed = i;
        }
    }
    n->checked_commit = st.commit;
    if (c->max_committed > c->stats.max_commit) {
        c->stats.max_commit = c->max_committed;
    }
    if (c->max_committed > old_max) {
        for (uint32_t id = 1; id <= c->n_nodes; id++) {
            struct sim_node *l = &c->nodes[id];
            if (l->raft != NULL && l->leader_term_checked != 0) {
                check_leader_has(c, l, old_max + 1, c->max_committed);
            }
        }
    }
}

bool sim_check(struct sim_cluster *c)
{
    for (uint32_t id = 1; id <= c->n_nodes && !c->violated; id++) {
        struct sim_node *n = &c->nodes[id];
        if (n->raft == NULL) {
            continue;
        }
        struct raft_status st;
        raft_status(n->raft, &st);
        if (st.role == RAFT_LEADER) {
            uint64_t *who = term_rec(c, st.term);
            if (*who == 0) {
                *who = id;
                c->stats.elections++;
                if (sim_rng_chance(&c->rng, c->faults.flap) &&
                    n->flap_at <= c->now && n->unflap_at <= c->now) {
                    n->flap_at =
                        c->now + 1 +
                        sim_rng_below(&c->rng, 3 * c->faults.delay_max + 6);
                    n->unflap_at =
                        n->flap_at + 20 + sim_rng_below(&c->rng, 150);
                    n->flap_crash = sim_rng_chance(&c->rng, 400);
                }
                if (c->faults.membership > 0 && sim_rng_chance(&c->rng, 500)) {
                    n->change_at =
                        c->now + 1 +
                        sim_rng_below(&c->rng, 2 * c->faults.delay_max + 2);
                }
                trace(c,
                      "node %u leads term %" PRIu64 " (last %" PRIu64
                      ", commit %" PRIu64 ")",
                      id, st.term, st.last_index, st.commit);
            } else if (*who != id) {
                fail(c,
                     "election safety: nodes %" PRIu64 " and %u both "
                     "lead term %" PRIu64,
                     *who, id, st.term);
            }
            if (n->leader_term_checked != st.term) {
                n->leader_term_checked = st.term;
                check_leader_has(c, n, 1, c->max_committed);
            }
        } else {
            n->leader_term_checked = 0;
        }
        if (st.commit > st.last_index) {
            fail(c, "node %u commit %" PRIu64 " beyond log end %" PRIu64, id,
                 st.commit, st.last_index);
        }
        check_commits(c, n);
    }
    return !c->violated;
}

/* ------------------------------------------------------- hand driving -- */

struct raft *sim_raft(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    return n != NULL ? n->raft : NULL;
}

void sim_drain(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n != NULL && n->raft != NULL) {
        drain(c, n);
        sim_check(c);
    }
}

void sim_tick(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n == NULL || n->raft == NULL) {
        return;
    }
    if (!rc_ok(n, raft_tick(n->raft))) {
        fail(c, "tick failed on node %" PRIu64, id);
    }
    drain(c, n);
    sim_check(c);
}

static void trace_msg(struct sim_cluster *c, const struct raft_msg *m)
{
    if (!c->opts.verbose || getenv("SIM_TRACE_MSGS") == NULL) {
        return;
    }
    const char *t = raft_msg_type_name(m->type);
    switch (m->type) {
    case RAFT_MSG_APPEND:
        trace(c,
              "  %" PRIu64 "->%" PRIu64 " %s t%" PRIu64 " prev %" PRIu64
              "/%" PRIu64 " n %zu commit %" PRIu64,
              m->from, m->to, t, m->term, m->u.append.prev_index,
              m->u.append.prev_term, m->u.append.n_entries, m->u.append.commit);
        break;
    case RAFT_MSG_APPEND_RESP:
        trace(c,
              "  %" PRIu64 "->%" PRIu64 " %s t%" PRIu64 " reject %d index "
              "%" PRIu64 " hint %" PRIu64 "/%" PRIu64,
              m->from, m->to, t, m->term, m->u.append_resp.reject,
              m->u.append_resp.index, m->u.append_resp.hint_index,
              m->u.append_resp.hint_term);
        break;
    default:
        trace(c, "  %" PRIu64 "->%" PRIu64 " %s t%" PRIu64, m->from, m->to, t,
              m->term);
    }
}

static void deliver(struct sim_cluster *c, struct raft_msg *m)
{
    struct sim_node *n = node(c, m->to);
    if (n != NULL && n->raft != NULL && !c->blocked[m->from][m->to]) {
        trace_msg(c, m);
    }
    if (n != NULL && n->raft != NULL && !c->blocked[m->from][m->to]) {
        if (!rc_ok(n, raft_step(n->raft, m))) {
            fail(c, "step failed on node %" PRIu64, m->to);
        }
        drain(c, n);
        sim_check(c);
    }
    msg_free(m);
}

void sim_deliver_only(struct sim_cluster *c, uint64_t from, uint64_t to)
{
    sim_deliver_type(c, from, to, 0);
}

bool sim_win(struct sim_cluster *c, uint64_t id, int max_ticks)
{
    for (int i = 0; i < max_ticks; i++) {
        struct raft_status st;
        sim_status(c, id, &st);
        if (st.role == RAFT_LEADER) {
            return true;
        }
        sim_tick(c, id);
        for (int k = 0; k < 3; k++) {
            sim_deliver_type(c, id, 0, RAFT_MSG_PREVOTE);
            sim_deliver_type(c, 0, id, RAFT_MSG_PREVOTE_RESP);
            sim_deliver_type(c, id, 0, RAFT_MSG_VOTE);
            sim_deliver_type(c, 0, id, RAFT_MSG_VOTE_RESP);
        }
    }
    struct raft_status st;
    sim_status(c, id, &st);
    return st.role == RAFT_LEADER;
}

void sim_deliver_type(struct sim_cluster *c, uint64_t from, uint64_t to,
                      uint8_t type)
{
    size_t n = c->n_net;
    struct sim_msg *batch = c->net;
    c->net = NULL;
    c->n_net = 0;
    c->cap_net = 0;
    for (size_t i = 0; i < n; i++) {
        struct raft_msg *m = &batch[i].m;
        if ((from == 0 || m->from == from) && (to == 0 || m->to == to) &&
            (type == 0 || m->type == type)) {
            deliver(c, m);
        } else {
            net_push(c, m, batch[i].deliver_at - c->now);
            msg_free(m);
        }
    }
    free(batch);
}

void sim_deliver_all(struct sim_cluster *c, int max_rounds)
{
    for (int round = 0; round < max_rounds && c->n_net > 0; round++) {
        sim_deliver_only(c, 0, 0);
    }
}

void sim_drop_all(struct sim_cluster *c)
{
    for (size_t i = 0; i < c->n_net; i++) {
        msg_free(&c->net[i].m);
    }
    c->n_net = 0;
}

size_t sim_queued(const struct sim_cluster *c)
{
    return c->n_net;
}

size_t sim_count(const struct sim_cluster *c, uint64_t from, uint64_t to,
                 uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_net; i++) {
        const struct raft_msg *m = &c->net[i].m;
        if ((from == 0 || m->from == from) && (to == 0 || m->to == to) &&
            (type == 0 || m->type == type)) {
            n++;
        }
    }
    return n;
}

const struct sim_stats *sim_stats(const struct sim_cluster *c)
{
    return &c->stats;
}

void sim_block(struct sim_cluster *c, uint64_t from, uint64_t to, bool on)
{
    if (from <= c->n_nodes && to <= c->n_nodes) {
        c->blocked[from][to] = on;
    }
}

void sim_isolate(struct sim_cluster *c, uint64_t id, bool on)
{
    for (uint32_t o = 1; o <= c->n_nodes; o++) {
        if (o != id) {
            sim_block(c, id, o, on);
            sim_block(c, o, id, on);
        }
    }
}

void sim_heal(struct sim_cluster *c)
{
    memset(c->blocked, 0, sizeof(c->blocked));
}

bool sim_elect(struct sim_cluster *c, uint64_t id)
{
    for (int i = 0; i < 100; i++) {
        struct raft_status st;
        sim_status(c, id, &st);
        if (st.role == RAFT_LEADER) {
            sim_deliver_all(c, 50);
            return true;
        }
        sim_tick(c, id);
        sim_deliver_all(c, 50);
    }
    return false;
}

int sim_propose(struct sim_cluster *c, uint64_t id, const char *text,
                uint64_t *index)
{
    struct sim_node *n = node(c, id);
    if (n == NULL || n->raft == NULL) {
        return -1;
    }
    int rc = raft_propose(n->raft, (const uint8_t *)text, strlen(text), index);
    drain(c, n);
    sim_check(c);
    return rc;
}

void sim_sync(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n != NULL && n->raft != NULL) {
        node_sync(c, n);
        drain(c, n);
        sim_check(c);
    }
}

void sim_crash(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n != NULL && n->raft != NULL) {
        trace(c, "crash node %" PRIu64, id);
        node_crash(c, n);
        c->stats.crashes++;
        check_durable_commits(c);
    }
}

void sim_restart(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n != NULL && n->raft == NULL) {
        trace(c, "restart node %" PRIu64, id);
        node_start(c, n);
        drain(c, n);
        sim_check(c);
    }
}

int sim_snapshot(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = node(c, id);
    if (n == NULL || n->raft == NULL) {
        return -1;
    }
    struct raft_status st;
    raft_status(n->raft, &st);
    if (n->sm.index != st.applied || st.applied <= st.snapshot_index) {
        return -1;
    }
    uint8_t data[SIM_SNAP_BYTES];
    sm_encode(&n->sm, data);
    int rc = raft_snapshot_taken(n->raft, st.applied, data, sizeof(data));
    if (rc != 0) {
        return rc;
    }
    struct raft_snapshot_meta m;
    raft_snapshot_info(n->raft, &m);
    disk_snapshot(&n->disk, &m, data, sizeof(data));
    c->stats.snapshots_taken++;
    trace(c, "node %" PRIu64 " snapshots at %" PRIu64, id, m.index);
    return 0;
}

void sim_set_alloc_fail(struct sim_cluster *c, uint32_t per_mille)
{
    c->opts.alloc_fail = per_mille;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        c->nodes[id].alloc_fail = per_mille;
    }
}

void sim_set_auto_sync(struct sim_cluster *c, bool on)
{
    c->opts.auto_sync = on;
}

uint64_t sim_applied(const struct sim_cluster *c, uint64_t id)
{
    if (id == 0 || id > c->n_nodes) {
        return 0;
    }
    return c->nodes[id].sm.index;
}

void sim_status(struct sim_cluster *c, uint64_t id, struct raft_status *st)
{
    struct sim_node *n = node(c, id);
    memset(st, 0, sizeof(*st));
    if (n != NULL && n->raft != NULL) {
        raft_status(n->raft, st);
    }
}

/* --------------------------------------------------------- random runs -- */

#define SIM_TICK_STEPS 5 /* simulated steps per tick at nominal rate */

static uint32_t pick(struct sim_rng *g, const uint32_t *options, size_t n)
{
    return options[sim_rng_below(g, n)];
}

/* Draws the fault profile of a seed: each kind is on in most seeds, at a
 * random strength, so the seed budget covers every kind and their mixes. */
static void random_profile(struct sim_cluster *c)
{
    static const uint32_t loss[] = {0, 10, 50, 200};
    static const uint32_t dup[] = {0, 20, 100};
    static const uint32_t delay[] = {1, 3, 8, 20};
    static const uint32_t rare[] = {0, 1, 3, 8};
    static const uint32_t sync[] = {100, 300, 1000};
    struct sim_rng *g = &c->rng;
    struct sim_faults *f = &c->faults;
    f->loss = pick(g, loss, 4);
    f->dup = pick(g, dup, 3);
    f->delay_max = pick(g, delay, 4);
    f->crash = pick(g, rare, 4);
    f->restart = f->crash ? 20 : 0;
    f->partition = pick(g, rare, 4);
    f->heal = f->partition ? 10 : 0;
    f->membership = sim_rng_chance(g, 250) ? 30 : pick(g, rare, 4);
    f->transfer = pick(g, rare, 4);
    f->snapshot = pick(g, rare, 4) * 2;
    f->propose = 100;
    f->sync = pick(g, sync, 3);
    f->skew = sim_rng_chance(g, 500);
    f->flap = sim_rng_chance(g, 900) ? 1000 : 0;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        n->tick_period = SIM_TICK_STEPS;
        if (f->skew) {
            n->tick_period = SIM_TICK_STEPS - 2 + (uint32_t)sim_rng_below(g, 5);
        }
        n->tick_phase = (uint32_t)sim_rng_below(g, n->tick_period);
    }
}

static uint64_t find_leader(struct sim_cluster *c)
{
    uint64_t best = 0;
    uint64_t best_term = 0;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct raft_status st;
        sim_status(c, id, &st);
        if (c->nodes[id].raft != NULL && st.role == RAFT_LEADER &&
            st.term >= best_term) {
            best = id;
            best_term = st.term;
        }
    }
    return best;
}

static uint64_t random_node(struct sim_cluster *c, bool up)
{
    uint64_t ids[SIM_MAX_NODES];
    size_t n = 0;
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        if ((c->nodes[id].raft != NULL) == up) {
            ids[n++] = id;
        }
    }
    return n == 0 ? 0 : ids[sim_rng_below(&c->rng, n)];
}

static void random_partition(struct sim_cluster *c)
{
    struct sim_rng *g = &c->rng;
    uint64_t a = 1 + sim_rng_below(g, c->n_nodes);
    uint64_t b = 1 + sim_rng_below(g, c->n_nodes);
    c->stats.partitions++;
    switch (sim_rng_below(g, 4)) {
    case 0:
        trace(c, "isolate %" PRIu64, a);
        sim_isolate(c, a, true);
        break;
    case 1: {
        uint64_t side = sim_rng_next(g);
        trace(c, "split %" PRIx64, side & 0xff);
        for (uint32_t x = 1; x <= c->n_nodes; x++) {
            for (uint32_t y = 1; y <= c->n_nodes; y++) {
                bool sx = (side >> x) & 1;
                bool sy = (side >> y) & 1;
                c->blocked[x][y] = sx != sy;
            }
        }
        break;
    }
    case 2:
        trace(c, "one-way block %" PRIu64 " -> %" PRIu64, a, b);
        sim_block(c, a, b, true);
        break;
    default:
        trace(c, "node %" PRIu64 " cannot send", a);
        for (uint32_t y = 1; y <= c->n_nodes; y++) {
            if (y != a) {
                sim_block(c, a, y, true);
            }
        }
        break;
    }
}

static void membership_event(struct sim_cluster *c, uint64_t leader)
{
    struct raft *r = c->nodes[leader].raft;
    struct raft_status st;
    raft_status(r, &st);
    const struct raft_config *cf = &st.config;
    int rc = -1;
    /* The harsh profile also removes learners, and voters down to one. */
    bool harsh = c->harsh.partial_sync > 0;
    if (cf->n_learners > 0 && harsh && sim_rng_chance(&c->rng, 300)) {
        uint64_t id = cf->learners[sim_rng_below(&c->rng, cf->n_learners)];
        rc = raft_remove(r, id);
        trace(c, "leader %" PRIu64 " removes learner %" PRIu64 ": %d", leader,
              id, rc);
    } else if (cf->n_learners > 0) {
        uint64_t id = cf->learners[sim_rng_below(&c->rng, cf->n_learners)];
        rc = raft_promote(r, id);
        trace(c, "leader %" PRIu64 " promotes %" PRIu64 ": %d", leader, id, rc);
    } else if (cf->n_voters > (harsh ? 1u : 3u) &&
               sim_rng_chance(&c->rng, 700)) {
        uint64_t id = cf->voters[sim_rng_below(&c->rng, cf->n_voters)];
        rc = raft_remove(r, id);
        trace(c, "leader %" PRIu64 " removes %" PRIu64 ": %d", leader, id, rc);
    } else {
        uint64_t id = 1 + sim_rng_below(&c->rng, c->n_nodes);
        if (!raft_config_is_voter(cf, id)) {
            rc = raft_add_learner(r, id);
            trace(c, "leader %" PRIu64 " adds learner %" PRIu64 ": %d", leader,
                  id, rc);
        }
    }
    if (rc == 0) {
        c->stats.config_changes++;
    }
    drain(c, &c->nodes[leader]);
}

static void nemesis(struct sim_cluster *c)
{
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        if (n->flap_at == c->now) {
            trace(c, "nemesis: %s new leader %u",
                  n->flap_crash ? "crash" : "isolate", id);
            if (n->flap_crash) {
                sim_crash(c, id);
            } else {
                sim_isolate(c, id, true);
                if (c->faults.membership > 0) {
                    /* A cut-off leader that still believes it leads
                     * starts a change nobody will hear of soon. */
                    n->change_at = c->now + 1 + sim_rng_below(&c->rng, 8);
                }
            }
        } else if (n->unflap_at == c->now) {
            trace(c, "nemesis: bring back %u", id);
            if (n->flap_crash) {
                sim_restart(c, id);
            } else {
                sim_isolate(c, id, false);
            }
        }
    }
}

static void random_events(struct sim_cluster *c)
{
    struct sim_rng *g = &c->rng;
    const struct sim_faults *f = &c->faults;
    nemesis(c);
    if (sim_rng_chance(g, f->crash)) {
        sim_crash(c, random_node(c, true));
    }
    if (sim_rng_chance(g, f->restart)) {
        sim_restart(c, random_node(c, false));
    }
    if (sim_rng_chance(g, f->partition)) {
        random_partition(c);
    }
    if (sim_rng_chance(g, f->heal)) {
        trace(c, "heal");
        sim_heal(c);
    }
    uint64_t leader = find_leader(c);
    if (leader != 0 && sim_rng_chance(g, f->propose)) {
        char text[40];
        snprintf(text, sizeof(text), "p%" PRIu64 "-%" PRIx64, c->now,
                 sim_rng_next(g));
        sim_propose(c, leader, text, NULL);
    }
    if (leader != 0 && sim_rng_chance(g, f->membership)) {
        membership_event(c, leader);
    }
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        struct raft_status st;
        if (n->change_at != c->now || n->raft == NULL) {
            continue;
        }
        raft_status(n->raft, &st);
        if (st.role == RAFT_LEADER) {
            membership_event(c, id);
        }
    }
    leader = find_leader(c);
    if (leader != 0 && sim_rng_chance(g, f->transfer)) {
        uint64_t to = 1 + sim_rng_below(g, c->n_nodes);
        struct sim_node *l = &c->nodes[leader];
        if (raft_transfer(l->raft, to) == 0) {
            c->stats.transfers++;
            trace(c, "leader %" PRIu64 " transfers to %" PRIu64, leader, to);
        }
        drain(c, l);
    }
    if (sim_rng_chance(g, f->snapshot)) {
        sim_snapshot(c, random_node(c, true));
    }
}

static void step_ticks(struct sim_cluster *c)
{
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        if (n->raft != NULL && (c->now + n->tick_phase) % n->tick_period == 0) {
            sim_tick(c, id);
        }
    }
}

/* Delivers the messages that are due, in random order. */
static void step_network(struct sim_cluster *c)
{
    struct sim_msg *due = NULL;
    size_t n_due = 0;
    size_t kept = 0;
    for (size_t i = 0; i < c->n_net; i++) {
        if (c->net[i].deliver_at <= c->now) {
            due = xrealloc(due, (n_due + 1) * sizeof(*due));
            due[n_due++] = c->net[i];
        } else {
            c->net[kept++] = c->net[i];
        }
    }
    c->n_net = kept;
    for (size_t i = n_due; i > 1; i--) {
        size_t j = (size_t)sim_rng_below(&c->rng, i);
        struct sim_msg t = due[i - 1];
        due[i - 1] = due[j];
        due[j] = t;
    }
    for (size_t i = 0; i < n_due; i++) {
        deliver(c, &due[i].m);
    }
    free(due);
}

static void step_sync(struct sim_cluster *c)
{
    for (uint32_t id = 1; id <= c->n_nodes; id++) {
        struct sim_node *n = &c->nodes[id];
        if (n->raft != NULL && (n->n_writes > 0 || n->unreported_seq) &&
            sim_rng_chance(&c->rng, c->faults.sync)) {
            sim_sync(c, id);
        }
    }
}

static void one_step(struct sim_cluster *c, bool faults)
{
    c->now++;
    if (faults) {
        random_events(c);
    }
    step_ticks(c);
    step_network(c);
    step_sync(c);
    sim_check(c);
}

/* After faults stop: a leader must be elected and a new proposal must be
 * applied by every running member of its configuration. */
static void check_liveness(struct sim_cluster *c, uint64_t steps)
{
    uint64_t prop_index = 0;
    uint64_t prop_term = 0;
    for (uint64_t s = 0; s < steps && !c->violated; s++) {
        one_step(c, false);
        uint64_t leader = find_leader(c);
        if (leader == 0) {
            continue;
        }
        struct raft_status st;
        sim_status(c, leader, &st);
        if (st.term != prop_term) {
            if (sim_propose(c, leader, "liveness", &prop_index) == 0) {
                prop_term = st.term;
            }
            continue;
        }
        if (idx_rec(c, prop_index)->committed_term != prop_term) {
            continue;
        }
        bool all = true;
        for (uint32_t id = 1; id <= c->n_nodes; id++) {
            bool member = raft_config_is_voter(&st.config, id) ||
                          raft_config_is_learner(&st.config, id);
            if (member && c->nodes[id].raft != NULL &&
                c->nodes[id].sm.index < prop_index) {
                all = false;
            }
        }
        if (all) {
            trace(c, "liveness ok after %" PRIu64 " steps", s);
            return;
        }
    }
    if (!c->violated) {
        for (uint32_t id = 1; id <= c->n_nodes; id++) {
            struct raft_status st;
            sim_status(c, id, &st);
            trace(c,
                  "node %u: %s term %" PRIu64 " vote %" PRIu64
                  " leader %" PRIu64 " last %" PRIu64 "/%" PRIu64
                  " commit %" PRIu64 " persisted %" PRIu64
                  " voters %u learners %u voter %d",
                  id, raft_role_name(st.role), st.term, st.vote, st.leader,
                  st.last_index, st.last_term, st.commit, st.persisted_index,
                  st.config.n_voters, st.config.n_learners,
                  raft_config_is_voter(&st.config, id));
        }
        uint64_t leader = find_leader(c);
        fail(c,
             "liveness: no proposal applied by all members within %" PRIu64
             " steps after faults stopped (leader %" PRIu64 ")",
             steps, leader);
    }
}

static uint32_t run_voters; /* 0: drawn from the seed */
static bool run_harsh;      /* the harsh fault profile */

void sim_set_harsh(bool on)
{
    run_harsh = on;
}

/* The harsh profile (the second consensus review's): delays of thousands
 * of steps, heavy duplication, partial syncs, crashes that keep writes the
 * core was never told were durable, late raft_persisted(), snapshot bytes
 * the host fails to provide, and terms near the maximum. */
static void harsh_profile(struct sim_cluster *c, struct sim_rng *g)
{
    static const uint32_t delay[] = {50, 500, 3000};
    static const uint32_t dup[] = {100, 300, 500};
    c->faults.delay_max = pick(g, delay, 3);
    c->faults.dup = pick(g, dup, 3);
    c->faults.crash += 3;
    c->faults.restart = 20;
    c->faults.snapshot += 4;
    c->harsh.partial_sync = 300;
    c->harsh.keep_unsynced = 500;
    c->harsh.late_persisted = 300;
    c->harsh.provide_fail = 500;
}

void sim_set_run_voters(uint32_t n)
{
    run_voters = n;
}

int sim_run_seed(uint64_t seed, uint64_t fault_steps, uint64_t liveness_steps,
                 bool verbose, FILE *out, struct sim_stats *stats)
{
    static const uint32_t inflight[] = {1, 2, 4, 16};
    static const uint32_t msg_bytes[] = {1, 1, 64, 1024};
    static const uint32_t chunk[] = {32, 64, 200};
    struct sim_rng g;
    sim_rng_seed(&g, seed ^ 0x5eed5eed5eedull);
    struct sim_options o;
    sim_options_default(&o);
    o.seed = seed;
    o.n_voters = sim_rng_chance(&g, 500) ? 3 : 5;
    if (run_voters != 0) {
        o.n_voters = run_voters; /* the draw above still happened */
    }
    o.n_spares = 1;
    o.max_inflight_msgs = pick(&g, inflight, 4);
    o.max_msg_bytes = pick(&g, msg_bytes, 4);
    o.max_msg_entries = sim_rng_chance(&g, 700) ? 1 : 0;
    static const uint32_t election[] = {4, 6, 10};
    o.election_ticks = pick(&g, election, 3);
    o.snapshot_chunk_bytes = pick(&g, chunk, 3);
    o.pre_vote = sim_rng_chance(&g, 700);
    o.check_quorum = sim_rng_chance(&g, 700);
    o.leader_lease = sim_rng_chance(&g, 800);
    o.alloc_fail = sim_rng_chance(&g, 200) ? 2 : 0;
    o.auto_sync = false;
    o.verbose = verbose;
    /* Harsh: a fifth of the seeds start at a term near the maximum (room
     * for a few thousand elections). */
    o.initial_term =
        run_harsh && sim_rng_chance(&g, 200) ? RAFT_INDEX_MAX - 5000 : 0;
    struct sim_cluster *c = sim_new(&o);
    random_profile(c);
    if (run_harsh) {
        harsh_profile(c, &g);
    }
    if (!o.leader_lease) {
        /* Without the lease a removed server may disrupt the cluster for
         * ever (dissertation 4.2.3): no membership changes then. */
        c->faults.membership = 0;
    }
    trace(c,
          "seed %" PRIu64 ": %u voters, loss %u dup %u delay %u crash %u "
          "partition %u membership %u transfer %u snapshot %u sync %u "
          "skew %d flap %u inflight %u msg_bytes %" PRIu64
          " msg_entries %u election %u pre_vote %d check_quorum %d lease %d "
          "alloc_fail %u",
          seed, o.n_voters, c->faults.loss, c->faults.dup, c->faults.delay_max,
          c->faults.crash, c->faults.partition, c->faults.membership,
          c->faults.transfer, c->faults.snapshot, c->faults.sync,
          c->faults.skew, c->faults.flap, o.max_inflight_msgs, o.max_msg_bytes,
          o.max_msg_entries, o.election_ticks, o.pre_vote, o.check_quorum,
          o.leader_lease, o.alloc_fail);
    for (uint64_t s = 0; s < fault_steps && !c->violated; s++) {
        one_step(c, true);
    }
    if (!c->violated) {
        trace(c, "faults stop");
        sim_heal(c);
        sim_set_alloc_fail(c, 0);
        memset(&c->faults, 0, sizeof(c->faults));
        memset(&c->harsh, 0, sizeof(c->harsh));
        c->faults.delay_max = 2;
        c->faults.sync = 500;
        for (uint32_t id = 1; id <= c->n_nodes; id++) {
            sim_restart(c, id);
        }
        check_liveness(c, liveness_steps);
    }
    int rc = c->violated ? -1 : 0;
    if (c->violated && out != NULL) {
        fprintf(out, "VIOLATION %s\n", c->violation);
        fprintf(out, "replay: sim --seed %" PRIu64 " --verbose\n", seed);
    }
    if (stats != NULL) {
        stats->elections += c->stats.elections;
        stats->max_commit += c->stats.max_commit;
        stats->crashes += c->stats.crashes;
        stats->partitions += c->stats.partitions;
        stats->config_changes += c->stats.config_changes;
        stats->transfers += c->stats.transfers;
        stats->snapshots_taken += c->stats.snapshots_taken;
        stats->snapshots_installed += c->stats.snapshots_installed;
        stats->msgs_sent += c->stats.msgs_sent;
    }
    sim_free(c);
    return rc;
}
