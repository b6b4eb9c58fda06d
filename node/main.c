/* origo-node: one validator of an Origo network (node/README.md).
 *
 * Start, in order: config (or --dev's generated network), log, lock,
 * genesis, key, replica (the ledger and Raft), listener and dialers, HTTP,
 * timers, signals. Stop, in reverse: HTTP requests answered or refused,
 * timers, links, then the loop ends and the replica closes (every write it
 * made is already committed). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <sodium.h>

#include "be.h"
#include "datadir.h"
#include "log.h"
#include "node.h"
#include "origo/codec.h"
#include "origo/error.h"
#include "origo/event.h"
#include "origo/file.h"
#include "origo/note.h"
#include "sigcheck.h"

#ifdef ORIGO_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#else
/* Without libsystemd there is no service manager to tell. */
static int sd_notify(int unset_environment, const char *state)
{
    (void)unset_environment;
    (void)state;
    return 0;
}
#endif

static const char usage[] =
    "usage: origo-node --config FILE [--log-level LEVEL]\n"
    "       origo-node --dev --data DIR [--http ADDR:PORT] [--log-level "
    "LEVEL]\n"
    "  Runs one validator of an Origo network. FILE is an INI file; every\n"
    "  key and its default is in deploy/origo-node.conf.example.\n"
    "  --dev runs a network of this one validator, for trying Origo out:\n"
    "  on first start it writes a genesis, the validator's key, an admin\n"
    "  key, a sample supplier's key and a trust file into DIR, and reuses\n"
    "  them afterwards. LEVEL: debug, info, warn or error.\n";

uint64_t node_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t node_block_time_ms(node *n, size_t *heard)
{
    uint64_t clocks[NODE_BOOK_MAX + 1], mono = http_monotonic_ms();
    size_t count = 0;
    clocks[count++] = node_now_ms();
    for (size_t i = 0; i < n->n_peers && count < NODE_BOOK_MAX + 1; i++) {
        const node_peer *p = n->peers[i];
        if (p->active && p->clock_at &&
            mono - p->clock_at <= NODE_CLOCK_FRESH_MS)
            clocks[count++] = p->clock_ms + (mono - p->clock_at);
    }
    if (heard)
        *heard = count - 1;
    /* The lower median: with 2f + 1 clocks of which f are wrong, it lies
     * between two right ones. */
    qsort(clocks, count, sizeof(clocks[0]), cmp_u64);
    return clocks[(count - 1) / 2];
}

/* ---- peers -------------------------------------------------------------- */

static node_peer *peer_by_key(node *n, const uint8_t *pub)
{
    for (size_t i = 0; pub && i < n->n_peers; i++)
        if (memcmp(n->peers[i]->pub, pub, 32) == 0)
            return n->peers[i];
    return NULL;
}

/* The transport's gate: a key that is a validator now, by the applied
 * ledger (the genesis ones before anything is applied). */
static int is_validator(void *ctx, const uint8_t pub[32])
{
    node_peer *p = peer_by_key(ctx, pub);
    return p && p->active;
}

void node_send_to(node *n, peer_link *link, uint8_t kind, const uint8_t *a,
                  size_t a_len, const uint8_t *b, size_t b_len)
{
    (void)n;
    if (!link)
        return;
    uint8_t *frame = malloc(1 + a_len + b_len);
    if (!frame)
        return; /* dropped, as on a lossy network: senders retry */
    frame[0] = kind;
    if (a_len)
        memcpy(frame + 1, a, a_len);
    if (b_len)
        memcpy(frame + 1 + a_len, b, b_len);
    peer_send(link, frame, 1 + a_len + b_len);
    free(frame);
}

peer_link *node_peer_link(node *n, const uint8_t key[32])
{
    node_peer *p = peer_by_key(n, key);
    return p ? p->link : NULL;
}

peer_link *node_leader_link(node *n)
{
    struct raft_status st;
    replica_status(n->rep, &st);
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->id == st.leader)
            return n->peers[i]->link;
    return NULL;
}

static void raft_send(void *ctx, uint64_t to, const uint8_t *msg, size_t len)
{
    node *n = ctx;
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->id == to && n->peers[i]->link) {
            peer_send(n->peers[i]->link, msg, len);
            return;
        }
}

static void stop_node(node *n);
static void sync_validators(node *n);
static void reconcile_raft(node *n);

/* A replica error is fatal: the node stops and exits non-zero rather than
 * acknowledge what it could not store. */
static void check_fatal(node *n, int rc, const char *what)
{
    if (rc == 0 || n->fatal)
        return;
    n->fatal = rc;
    int cause =
        rc == ORIGO_E_STORE || rc == ORIGO_E_LOG_STORE ? origo_os_cause() : 0;
    if (rc == ORIGO_E_DIVERGED)
        LOG_ERROR("stopping: this validator's committed log differs from the "
                  "leader's",
                  "during", what, "code", origo_errname(rc), "hint",
                  "one of the two lost or changed a committed entry; this "
                  "store cannot rejoin: keep it for analysis, remove this "
                  "validator (admin member.remove) and add it back as a new "
                  "member, which catches up from a snapshot (node/README.md, "
                  "\"A failed write, and a log that contradicts the "
                  "leader's\")");
    else if (cause)
        LOG_ERROR("stopping: storage or consensus failed", "during", what,
                  "code", origo_errname(rc), "error", origo_strerror(rc),
                  "cause", strerror(cause), "hint",
                  cause == ENOSPC
                      ? "the disk is full: free space, then start the node "
                        "again"
                      : "the disk failed to store data: check it (dmesg), "
                        "then start the node again; it catches up");
    else
        LOG_ERROR("stopping: storage or consensus failed", "during", what,
                  "code", origo_errname(rc), "error", origo_strerror(rc));
    stop_node(n);
}

int node_check_replica(node *n, const char *during)
{
    int rc = replica_failed(n->rep);
    check_fatal(n, rc, during);
    return rc;
}

/* Our latest signatures, on the checkpoint and on the lot index note of
 * the same tree (docs/formats/transport.md, message "cosign"). */
static void send_signature(node *n, peer_link *link)
{
    if (n->signed_line_len == 0)
        return;
    uint8_t head[10 + sizeof(n->signed_line)];
    be_put64(head, n->signed_size);
    head[8] = (uint8_t)(n->signed_line_len >> 8);
    head[9] = (uint8_t)n->signed_line_len;
    memcpy(head + 10, n->signed_line, n->signed_line_len);
    node_send_to(n, link, MSG_COSIGN, head, 10 + n->signed_line_len,
                 (const uint8_t *)n->signed_iline, n->signed_iline_len);
}

/* Stores a validator's two signatures for tree `size`. */
static int add_signatures(node *n, uint64_t size, const char *line, size_t len,
                          const char *iline, size_t ilen)
{
    ledger *led = replica_ledger(n->rep);
    int rc = ledger_checkpoint_add_signature(led, NULL, size, line, len);
    int irc = ledger_lot_index_add_signature(led, NULL, size, iline, ilen);
    return rc ? rc : irc;
}

/* ---- the address book ---------------------------------------------------- */

static void put_address(origo_buf *b, const uint8_t pub[32], const char *addr)
{
    origo_mp_put_array(b, 2);
    origo_mp_put_bin(b, pub, 32);
    origo_mp_put_cstr(b, addr);
}

/* Sends what this node knows of the addresses of validators that are not
 * in the genesis (the genesis gives the others): its own and those it
 * learnt. `only` (may be NULL) sends that one entry. */
static void send_addresses(node *n, peer_link *link, const uint8_t *only)
{
    origo_buf b;
    origo_buf_init(&b, 1u << 20);
    uint32_t count = 0;
    int self = !n->self_genesis && n->advertise[0] && !only;
    count += self;
    for (size_t i = 0; i < n->n_book; i++)
        count += !only || !memcmp(n->book[i].pub, only, 32);
    if (count == 0) {
        origo_buf_close(&b);
        return;
    }
    origo_mp_put_array(&b, count);
    if (self)
        put_address(&b, origo_key_public(n->key), n->advertise);
    for (size_t i = 0; i < n->n_book; i++)
        if (!only || !memcmp(n->book[i].pub, only, 32))
            put_address(&b, n->book[i].pub, n->book[i].address);
    if (b.err == 0)
        node_send_to(n, link, MSG_ADDRESSES, b.data, b.len, NULL, 0);
    origo_buf_close(&b);
}

static void dial_peers(node *n);

/* A peer's addresses: each one new or changed for a validator that is not
 * in the genesis (whose address the genesis fixes) is remembered, used to
 * dial it (a wrong one only fails its handshake, which proves the key)
 * and passed on to the other peers. */
static void on_addresses(node *n, peer_link *from, const uint8_t *msg,
                         size_t len)
{
    origo_mp_reader rd;
    uint32_t count;
    origo_mp_reader_init(&rd, msg, len);
    if (origo_mp_read_array(&rd, &count, NODE_BOOK_MAX + 1))
        return;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t two;
        const uint8_t *pub;
        const char *addr;
        size_t pub_len, addr_len;
        if (origo_mp_read_array(&rd, &two, 2) || two != 2 ||
            origo_mp_read_bin(&rd, &pub, &pub_len, 32) || pub_len != 32 ||
            origo_mp_read_str(&rd, &addr, &addr_len, GENESIS_ADDRESS_MAX))
            return; /* malformed: what was read stays */
        origo_mp_leave(&rd);
        if (!genesis_address_ok(addr, addr_len) ||
            !memcmp(pub, origo_key_public(n->key), 32))
            continue;
        node_peer *p = peer_by_key(n, pub);
        if (p && p->genesis)
            continue;
        struct book_entry *e = NULL;
        for (size_t k = 0; k < n->n_book && !e; k++)
            if (!memcmp(n->book[k].pub, pub, 32))
                e = &n->book[k];
        if (!e && n->n_book < NODE_BOOK_MAX) {
            e = &n->book[n->n_book++];
            memcpy(e->pub, pub, 32);
            e->address[0] = '\0';
        }
        if (!e || (strlen(e->address) == addr_len &&
                   !memcmp(e->address, addr, addr_len)))
            continue;
        memcpy(e->address, addr, addr_len);
        e->address[addr_len] = '\0';
        if (p) {
            snprintf(p->address, sizeof(p->address), "%s", e->address);
            if (p->dialer) { /* dial the new address */
                peer_dialer_stop(p->dialer);
                p->dialer = NULL;
            }
            LOG_INFO("learnt a validator's address", "peer", p->name, "address",
                     p->address);
        }
        for (size_t k = 0; k < n->n_peers; k++)
            if (n->peers[k]->link && n->peers[k]->link != from)
                send_addresses(n, n->peers[k]->link, pub);
    }
    origo_mp_leave(&rd);
    dial_peers(n);
}

/* The address of a validator as learnt from peers, or NULL. */
static const char *book_address(const node *n, const uint8_t pub[32])
{
    for (size_t i = 0; i < n->n_book; i++)
        if (!memcmp(n->book[i].pub, pub, 32))
            return n->book[i].address;
    return NULL;
}

int64_t node_clock_offset_ms(node *n, size_t *heard)
{
    uint64_t median = node_block_time_ms(n, heard), own = node_now_ms();
    return own >= median ? (int64_t)(own - median) : -(int64_t)(median - own);
}

/* Tells a peer this validator's wall clock (node_block_time_ms()). */
static void send_clock(node *n, peer_link *link)
{
    uint8_t now[8];
    be_put64(now, node_now_ms());
    node_send_to(n, link, MSG_CLOCK, now, sizeof(now), NULL, 0);
}

static void on_open(peer_link *link, const uint8_t key[32], void *ctx)
{
    node *n = ctx;
    node_peer *p = peer_by_key(n, key);
    if (p->link && p->link != link)
        peer_close(p->link); /* the newer link wins */
    p->link = link;
    LOG_INFO("peer link open", "peer", p->name);
    /* A peer that was away missed our latest checkpoint signature: without
     * it, it may hold no quorum for the tree it catches up to. */
    send_signature(n, link);
    send_addresses(n, link, NULL);
    send_clock(n, link);
}

static void on_message(peer_link *link, const uint8_t *msg, size_t len,
                       void *ctx)
{
    node *n = ctx;
    if (len == 0 || n->stopping)
        return; /* a keepalive */
    switch (msg[0]) {
    case MSG_RAFT:
        check_fatal(n, replica_receive(n->rep, msg + 1, len - 1), "receive");
        break;
    case MSG_FORWARD:
        api_on_forward(n, link, msg + 1, len - 1);
        break;
    case MSG_ANSWER:
        api_on_answer(n, msg + 1, len - 1);
        break;
    case MSG_ADDRESSES:
        on_addresses(n, link, msg + 1, len - 1);
        break;
    case MSG_CLOCK: {
        node_peer *p = peer_by_key(n, peer_key(link));
        uint64_t ms = len == 9 ? be_get64(msg + 1) : 0;
        /* Past 2^53 ms (year 287396) a reading is no clock: ignored, as a
         * message of another length is. */
        if (p && len == 9 && ms < (uint64_t)1 << 53) {
            p->clock_ms = ms;
            p->clock_at = http_monotonic_ms();
        }
        break;
    }
    case MSG_COSIGN: {
        if (len < 11)
            break;
        uint64_t size = be_get64(msg + 1);
        size_t clen = (size_t)msg[9] << 8 | msg[10];
        if (clen > len - 11 || clen >= sizeof(n->pending_sigs[0].line) ||
            len - 11 - clen >= sizeof(n->pending_sigs[0].iline))
            break;
        const char *line = (const char *)msg + 11, *iline = line + clen;
        size_t ilen = len - 11 - clen;
        int rc = add_signatures(n, size, line, clen, iline, ilen);
        if (rc == ORIGO_E_TREE_SIZE && n->n_pending_sigs < 64) {
            /* Not applied here yet: kept until it is. */
            struct pending_sig *ps = &n->pending_sigs[n->n_pending_sigs++];
            ps->size = size;
            ps->len = clen;
            ps->ilen = ilen;
            memcpy(ps->line, line, clen);
            memcpy(ps->iline, iline, ilen);
        } else if (rc) {
            const node_peer *p = peer_by_key(n, peer_key(link));
            LOG_WARN("checkpoint signature refused", "peer", p ? p->name : "-",
                     "code", origo_errname(rc));
        }
        break;
    }
    default:
        break;
    }
}

static void on_close(peer_link *link, int reason, void *ctx)
{
    node *n = ctx;
    node_peer *p = peer_by_key(n, peer_key(link));
    if (p && p->link == link)
        p->link = NULL;
    if (n->stopping && reason == 0)
        return;
    LOG_INFO("peer link closed", "peer", p ? p->name : "-", "reason",
             reason ? origo_errname(reason) : "closed");
}

/* Keepalives: an empty message on every open link, three per idle
 * timeout, so a quiet but live link is never taken for dead. */
static void on_clock_timer(uv_timer_t *t)
{
    node *n = t->data;
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->link)
            send_clock(n, n->peers[i]->link);
    /* A clock far from the others' is a machine to fix (its time source):
     * said once a minute while it lasts. A quarter of the timestamp window
     * is far: events its clients date by it come close to refusal. */
    size_t heard;
    int64_t offset = node_clock_offset_ms(n, &heard);
    uint64_t off = offset < 0 ? (uint64_t)-offset : (uint64_t)offset;
    uint64_t mono = http_monotonic_ms();
    if (heard >= 2 && off > n->gen->ts_window_ms / 4 &&
        (n->clock_warned_ms == 0 || mono - n->clock_warned_ms >= 60000)) {
        char ms[32], count[24];
        snprintf(ms, sizeof(ms), "%+lld", (long long)offset);
        snprintf(count, sizeof(count), "%zu", heard);
        LOG_WARN("this validator's clock is far from the other validators'",
                 "offset_ms", ms, "clocks_heard", count, "hint",
                 "check this machine's time source (NTP): block times follow "
                 "the validators' median clock, events are dated by their "
                 "submitters'");
        n->clock_warned_ms = mono;
    }
}

static void on_keepalive(uv_timer_t *t)
{
    node *n = t->data;
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->link)
            peer_send(n->peers[i]->link, NULL, 0);
}

/* ---- cosigning ---------------------------------------------------------- */

/* Signs the checkpoint of the tree this validator applied, if it grew and
 * still extends the last tree it signed, stores the signature and sends it
 * to the other validators. */
static void cosign(node *n)
{
    n->cosign_due = 0;
    ledger *led = replica_ledger(n->rep);
    ledger_state st;
    if (ledger_get_state(led, NULL, &st) != 0 || st.tree_size <= n->signed_size)
        return;
    uint8_t root[32];
    if (n->signed_size > 0 &&
        (ledger_root_at(led, NULL, n->signed_size, root) != 0 ||
         memcmp(root, n->signed_root, 32) != 0)) {
        LOG_ERROR("refusing to sign: the tree does not extend the last one "
                  "this validator signed");
        return;
    }
    /* The checkpoint and the lot index note of the tree applied here,
     * from this validator's own state (docs/formats/lot-index.md). */
    char *body = NULL, *ibody = NULL;
    size_t body_len, ibody_len;
    origo_note_sig sig, isig;
    origo_buf line, iline;
    origo_buf_init(&line, sizeof(n->signed_line));
    origo_buf_init(&iline, sizeof(n->signed_iline));
    int rc = ledger_checkpoint_body(led, NULL, st.tree_size, &body, &body_len);
    if (rc == 0)
        rc = ledger_lot_index_note_body(led, NULL, st.tree_size, &ibody,
                                        &ibody_len);
    if (rc == 0)
        rc = origo_note_sign_text_key(body, body_len, n->key, &sig);
    if (rc == 0)
        rc = origo_note_sign_text_key(ibody, ibody_len, n->key, &isig);
    if (rc == 0)
        rc = origo_note_sig_format(&sig, &line);
    if (rc == 0)
        rc = origo_note_sig_format(&isig, &iline);
    if (rc == 0 && (line.err || iline.err))
        rc = ORIGO_E_NOMEM;
    if (rc == 0)
        rc = add_signatures(n, st.tree_size, (const char *)line.data, line.len,
                            (const char *)iline.data, iline.len);
    if (rc == 0) {
        n->signed_size = st.tree_size;
        memcpy(n->signed_root, st.root, 32);
        memcpy(n->signed_line, line.data, line.len);
        n->signed_line_len = line.len;
        memcpy(n->signed_iline, iline.data, iline.len);
        n->signed_iline_len = iline.len;
        for (size_t i = 0; i < n->n_peers; i++)
            send_signature(n, n->peers[i]->link);
    } else {
        LOG_ERROR("cannot sign the checkpoint", "code", origo_errname(rc));
    }
    free(body);
    free(ibody);
    origo_buf_close(&line);
    origo_buf_close(&iline);
}

static void on_cosign_timer(uv_timer_t *t)
{
    node *n = t->data;
    if (n->cosign_due)
        cosign(n);
}

/* Signatures that came before their tree: try again after each apply. */
static void retry_pending_sigs(node *n)
{
    size_t keep = 0;
    for (size_t i = 0; i < n->n_pending_sigs; i++) {
        struct pending_sig *ps = &n->pending_sigs[i];
        int rc =
            add_signatures(n, ps->size, ps->line, ps->len, ps->iline, ps->ilen);
        if (rc == ORIGO_E_TREE_SIZE)
            n->pending_sigs[keep++] = *ps;
    }
    n->n_pending_sigs = keep;
}

/* ---- signatures of arriving entries, off the loop ---------------------- */

#define CHECKS_MAX_PENDING 256

typedef struct check_job {
    uv_work_t work;
    node *n;
    uint64_t index, term;
    sigcheck *sc;
} check_job;

static void check_work(uv_work_t *w)
{
    check_job *j = w->data;
    sigcheck_work(j->sc);
}

static void check_done(uv_work_t *w, int status)
{
    check_job *j = w->data;
    node *n = j->n;
    struct checked_entry *c = &n->checked[j->index % 4096];
    if (c->job == j) {
        /* Unless apply joined it already (on_checked()). Cancelled at
         * stop: nothing was checked, or only part of it. */
        if (c->state == 1 && status == 0) {
            c->state = sigcheck_finish(j->sc) ? 2 : 3;
            n->m.checked_seen += sigcheck_seen(j->sc);
        } else if (c->state == 1) {
            c->state = 0;
        }
        c->job = NULL;
    }
    n->checks_pending--;
    sigcheck_free(j->sc);
    free(j);
}

static void on_arriving(void *ctx, uint64_t index, uint64_t term,
                        const uint8_t *data, size_t len)
{
    node *n = ctx;
    struct checked_entry *c = &n->checked[index % 4096];
    if ((c->index == index && c->term == term && c->state) ||
        n->checks_pending >= CHECKS_MAX_PENDING || n->stopping)
        return; /* known, or busy: apply checks */
    check_job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    int rc = sigcheck_new(data, len, n->gen->origin, n->seen, &j->sc);
    if (rc) {
        free(j);
        if (rc == ORIGO_E_INVAL) /* not a proposal: nothing to trust */
            *c = (struct checked_entry){index, term, 3, NULL};
        return;
    }
    j->n = n;
    j->index = index;
    j->term = term;
    j->work.data = j;
    if (uv_queue_work(&n->loop, &j->work, check_work, check_done) != 0) {
        sigcheck_free(j->sc);
        free(j);
        return;
    }
    /* An older entry's job in the same slot keeps running; its check_done
     * sees that the slot is no longer its own. */
    *c = (struct checked_entry){index, term, 1, j};
    n->checks_pending++;
}

/* Called by the replica as it applies an entry (loop thread). A check
 * still queued or running is joined (sigcheck.h): this thread verifies
 * what the pool has not taken, so no signature is verified twice. The job
 * stays alive meanwhile: its check_done runs on this same thread, later. */
static int on_checked(void *ctx, uint64_t index, uint64_t term)
{
    node *n = ctx;
    struct checked_entry *c = &n->checked[index % 4096];
    if (c->index != index || c->term != term)
        return 0;
    if (c->state == 1 && c->job) {
        c->state = sigcheck_finish(c->job->sc) ? 2 : 3;
        n->m.checked_joined++;
        n->m.checked_here += sigcheck_finished_here(c->job->sc);
        n->m.checked_seen += sigcheck_seen(c->job->sc);
        return c->state == 2;
    }
    if (c->state == 2)
        n->m.checked_ahead++;
    return c->state == 2;
}

static void on_applied(void *ctx, uint64_t index, uint64_t term,
                       const ledger_block_result *result)
{
    node *n = ctx;
    (void)index;
    (void)term;
    if (result) {
        n->m.committed += result->leaf_count;
        n->m.blocks++;
        for (size_t i = 0;
             result->outcomes && i < result->leaf_count + result->rejected;
             i++) {
            int st = result->outcomes[i].status;
            if (st < 0 && st > -256)
                n->m.rejected[-st]++;
        }
        if (result->leaf_count > 0)
            n->cosign_due = 1;
    }
}

/* After the replica did work: answer submissions, cosign. */
static void after_work(node *n)
{
    api_on_applied(n);
    if (n->n_pending_sigs)
        retry_pending_sigs(n);
    if (n->cosign_due && n->cfg.cosign_interval_ms == 0)
        cosign(n);
}

static void on_tick(uv_timer_t *t)
{
    node *n = t->data;
    check_fatal(n, replica_tick(n->rep), "tick");
    if (!n->stopping) {
        after_work(n);
        api_sweep(n);
        sync_validators(n);
        reconcile_raft(n);
        node_check_replica(n, "membership"); /* a change may fail to store */
    }
}

/* ---- start and stop ----------------------------------------------------- */

static void stop_node(node *n)
{
    if (n->stopping)
        return;
    n->stopping = 1;
    sd_notify(0, "STOPPING=1");
    http_stop(n->http, api_refuse, n);
    n->http = NULL;
    api_stop(n);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->sigint, NULL);
    /* Closing the handles restored the default action: a second SIGTERM
     * (an impatient supervisor) would kill the process half-way through a
     * clean stop. It is already stopping; the signal is ignored from here
     * (a window of a few instructions remains, in which such a signal ends
     * the process as SIGTERM does: its store stays consistent, LMDB
     * commits are atomic, and systemd counts that exit as clean). */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    uv_close((uv_handle_t *)&n->keepalive, NULL);
    uv_close((uv_handle_t *)&n->tick, NULL);
    uv_close((uv_handle_t *)&n->batch, NULL);
    uv_close((uv_handle_t *)&n->cosign, NULL);
    uv_close((uv_handle_t *)&n->clock, NULL);
    for (size_t i = 0; i < n->n_peers; i++)
        if (n->peers[i]->dialer) {
            peer_dialer_stop(n->peers[i]->dialer);
            n->peers[i]->dialer = NULL;
        }
    peer_listener_close_all(n->listener);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    node *n = sig->data;
    LOG_INFO("stopping", "signal", signum == SIGTERM ? "TERM" : "INT");
    stop_node(n);
}

/* The path of a [node] file: as configured, or DIR/default. */
static void node_file(const node *n, const char *set, const char *dflt,
                      char out[4096 + 32])
{
    if (set[0])
        snprintf(out, 4096 + 32, "%s", set);
    else
        snprintf(out, 4096 + 32, "%s/%s", n->cfg.data, dflt);
}

static node_peer *add_peer(node *n, const uint8_t pub[32], const char *name,
                           const char *address, int from_genesis)
{
    node_peer **grown = realloc(n->peers, (n->n_peers + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    n->peers = grown;
    node_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    memcpy(p->pub, pub, 32);
    p->id = replica_id_of(pub);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->address, sizeof(p->address), "%s", address ? address : "");
    p->genesis = p->active = from_genesis;
    n->peers[n->n_peers++] = p;
    return p;
}

/* Loads the genesis and this node's key. A key that is not a genesis
 * validator may run: it serves once a member event makes it a validator
 * (node/README.md, "Membership"). */
static int load_identity(node *n, char *msg, size_t msg_size)
{
    char path[4096 + 32], gmsg[256];
    node_file(n, n->cfg.genesis, "genesis.json", path);
    int rc = origo_read_file(path, 1u << 20, &n->genesis_json, &n->genesis_len);
    if (rc) {
        snprintf(msg, msg_size,
                 "%s: %s (the network's genesis file: make it with `origo "
                 "genesis`, or set [node] genesis)",
                 path,
                 rc == ORIGO_E_IO || rc == ORIGO_E_NOTFOUND
                     ? strerror(errno)
                     : origo_strerror(rc));
        return rc;
    }
    rc = genesis_parse(n->genesis_json, n->genesis_len, &n->gen, gmsg,
                       sizeof(gmsg));
    if (rc) {
        snprintf(msg, msg_size, "%s: %s", path, gmsg);
        return rc;
    }
    char kpath[4096 + 32];
    node_file(n, n->cfg.key, "validator.key", kpath);
    if ((rc = origo_key_load(kpath, &n->key)) != 0) {
        snprintf(msg, msg_size,
                 "%s: %s (this validator's key: make it with `origo keygen`, "
                 "or set [node] key)",
                 kpath, origo_strerror(rc));
        return rc;
    }
    const uint8_t *self = origo_key_public(n->key);
    n->self_id = replica_id_of(self);
    snprintf(n->self_name, sizeof(n->self_name), "%s", origo_key_name(n->key));
    for (size_t i = 0; i < n->gen->validator_count; i++) {
        const genesis_party *v = &n->gen->parties[i];
        if (memcmp(v->pub, self, 32) == 0) {
            n->self_genesis = n->self_active = 1;
            snprintf(n->self_name, sizeof(n->self_name), "%s", v->name);
        } else if (!add_peer(n, v->pub, v->name, v->address, 1)) {
            return ORIGO_E_NOMEM;
        }
    }
    if (!n->self_genesis)
        LOG_INFO("not a genesis validator: serving once a member event "
                 "makes this key a validator",
                 "key", n->self_name);
    return 0;
}

/* Resolves a genesis address host:port (numeric or DNS; blocking, at
 * start only). */
static int resolve(uv_loop_t *loop, const char *address,
                   struct sockaddr_storage *out)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || (size_t)(colon - address) >= sizeof(host))
        return ORIGO_E_INVAL;
    size_t hlen = (size_t)(colon - address);
    if (address[0] == '[' && hlen >= 2 && address[hlen - 1] == ']') {
        memcpy(host, address + 1, hlen - 2);
        host[hlen - 2] = '\0';
    } else {
        memcpy(host, address, hlen);
        host[hlen] = '\0';
    }
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    if (uv_getaddrinfo(loop, &req, NULL, host, colon + 1, &hints) != 0 ||
        !req.addrinfo)
        return ORIGO_E_NOTFOUND;
    memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static int parse_ip(const char *host, unsigned port,
                    struct sockaddr_storage *addr)
{
    return strchr(host, ':')
               ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)addr)
               : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr);
}

/* Who dials whom, one link per pair: a validator added after the genesis
 * dials the genesis ones (their addresses are in the genesis; theirs is
 * not); otherwise the smaller key dials. */
static int should_dial(const node *n, const node_peer *p)
{
    if (!p->address[0])
        return 0;
    if (n->self_genesis != p->genesis)
        return !n->self_genesis;
    return memcmp(origo_key_public(n->key), p->pub, 32) < 0;
}

/* Starts dialling the validators this node dials and has no dialer for. */
static void dial_peers(node *n)
{
    for (size_t i = 0; i < n->n_peers && !n->stopping; i++) {
        node_peer *p = n->peers[i];
        struct sockaddr_storage addr;
        if (!p->active || p->dialer || !should_dial(n, p))
            continue;
        if (resolve(&n->loop, p->address, &addr) != 0) {
            LOG_WARN("cannot resolve a validator's address", "peer", p->name,
                     "address", p->address);
            continue;
        }
        if (peer_dial(&n->loop, (struct sockaddr *)&addr, &n->popts,
                      n->cfg.reconnect_min_ms, n->cfg.reconnect_max_ms,
                      &p->dialer) != 0)
            p->dialer = NULL;
    }
}

/* Follows the applied ledger's validator set: new validators become peers
 * (dialled if this node dials them), removed ones lose their links. */
static void sync_validators(node *n)
{
    ledger *led = replica_ledger(n->rep);
    ledger_state st;
    ledger_party *list = NULL;
    size_t count = 0;
    if (ledger_get_state(led, NULL, &st) != 0 ||
        ledger_validators(led, NULL, st.tree_size, &list, &count) != 0)
        return;
    const uint8_t *self = origo_key_public(n->key);
    int self_active = 0;
    for (size_t i = 0; i < n->n_peers; i++)
        n->peers[i]->active = 0;
    for (size_t i = 0; i < count; i++) {
        if (!memcmp(list[i].pub, self, 32)) {
            self_active = 1;
            continue;
        }
        node_peer *p = peer_by_key(n, list[i].pub);
        if (!p && !(p = add_peer(n, list[i].pub, list[i].name,
                                 book_address(n, list[i].pub), 0)))
            continue;
        if (!p->active)
            p->active = 1;
    }
    if (self_active != n->self_active)
        LOG_INFO(self_active ? "this key is a validator"
                             : "this key is no "
                               "longer a validator",
                 "key", n->self_name);
    n->self_active = self_active;
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = n->peers[i];
        if (p->active)
            continue;
        if (p->dialer) {
            peer_dialer_stop(p->dialer);
            p->dialer = NULL;
        }
        if (p->link)
            peer_close(p->link);
    }
    free(list);
    dial_peers(n);
}

static int in_list(const uint64_t *ids, uint32_t count, uint64_t id)
{
    for (uint32_t i = 0; i < count; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* On the leader, once it has applied all it committed: makes Raft's
 * configuration follow the ledger's validator set, one change at a time
 * (a new validator joins as a learner and is promoted once caught up; a
 * removed one is removed). Any leader repeats it, so a change a dead leader
 * left half done is finished by the next (node/README.md, "Membership"). */
static void reconcile_raft(node *n)
{
    struct raft_status st;
    replica_status(n->rep, &st);
    if (st.role != RAFT_LEADER || st.applied < st.commit)
        return;
    const struct raft_config *c = &st.config;
    char name[300];
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = n->peers[i];
        if (!p->active || in_list(c->voters, c->n_voters, p->id))
            continue;
        snprintf(name, sizeof(name), "%s", p->name);
        if (!in_list(c->learners, c->n_learners, p->id)) {
            if (replica_add_learner(n->rep, p->id) == 0)
                LOG_INFO("membership: adding a learner", "peer", name);
            return;
        }
        if (replica_promote(n->rep, p->id) == 0) {
            LOG_INFO("membership: promoting to voter", "peer", name);
            return;
        }
    }
    const uint64_t *lists[2] = {c->voters, c->learners};
    uint32_t counts[2] = {c->n_voters, c->n_learners};
    for (int l = 0; l < 2; l++)
        for (uint32_t i = 0; i < counts[l]; i++) {
            uint64_t id = lists[l][i];
            int wanted = id == n->self_id ? n->self_active : 0;
            const char *who = id == n->self_id ? n->self_name : "-";
            for (size_t k = 0; k < n->n_peers && !wanted; k++)
                if (n->peers[k]->id == id) {
                    wanted = n->peers[k]->active;
                    who = n->peers[k]->name;
                }
            if (wanted)
                continue;
            snprintf(name, sizeof(name), "%s", who);
            if (replica_remove(n->rep, id) == 0)
                LOG_INFO("membership: removing", "peer", name);
            return;
        }
}

static int start_mesh(node *n, char *msg, size_t msg_size)
{
    n->popts = (peer_options){
        .params = {.origin = n->gen->origin,
                   .genesis_hash = n->gen->hash,
                   .self = n->key,
                   .is_validator = is_validator,
                   .ctx = n},
        .frame_cap = n->cfg.frame_cap,
        .send_queue_max = n->cfg.send_queue_max,
        .handshake_ms = n->cfg.handshake_timeout_ms,
        .idle_ms = n->cfg.idle_timeout_ms,
        .cb = {on_open, on_message, on_close},
        .ctx = n,
    };
    struct sockaddr_storage addr;
    const char *host = n->cfg.listen.host;
    /* Our address for the others: as configured, or where we listen. */
    if (n->cfg.advertise[0])
        snprintf(n->advertise, sizeof(n->advertise), "%s", n->cfg.advertise);
    else if (strcmp(host, "0.0.0.0") && strcmp(host, "::"))
        snprintf(n->advertise, sizeof(n->advertise),
                 strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
                 n->cfg.listen.port);
    else if (!n->self_genesis)
        LOG_WARN("set [peer] advertise: validators added after the genesis "
                 "cannot learn where to reach this one");
    int err = parse_ip(host, n->cfg.listen.port, &addr);
    if (!err && peer_listen(&n->loop, (struct sockaddr *)&addr, &n->popts,
                            &n->listener, &err) != 0) {
        snprintf(msg, msg_size, "cannot listen on %s:%u: %s", host,
                 n->cfg.listen.port, uv_strerror(err));
        return ORIGO_E_IO;
    }
    for (size_t i = 0; i < n->n_peers; i++) {
        node_peer *p = n->peers[i];
        if (p->genesis && resolve(&n->loop, p->address, &addr) != 0) {
            snprintf(msg, msg_size,
                     "validator %s: cannot resolve its genesis address %s",
                     p->name, p->address);
            return ORIGO_E_NOTFOUND;
        }
    }
    sync_validators(n);
    return 0;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Opens the replica in DATA/ledger. A data directory that started once
 * holds DATA/initialised: if the store is gone beside it, the directory was
 * wiped and the validator must not come back as its old self. */
static int open_replica(node *n, char *msg, size_t msg_size)
{
    char dir[4096 + 16], marker[4096 + 16], store[4096 + 32];
    snprintf(dir, sizeof(dir), "%s/ledger", n->cfg.data);
    snprintf(marker, sizeof(marker), "%s/initialised", n->cfg.data);
    snprintf(store, sizeof(store), "%s/data.mdb", dir);
    if (file_exists(marker) && !file_exists(store)) {
        snprintf(msg, msg_size,
                 "%s is gone but %s says this directory ran a validator: "
                 "it was wiped, and would vote again in terms it voted in. "
                 "Bring it back as a new member (node/README.md, \"A wiped "
                 "validator\")",
                 store, marker);
        return ORIGO_E_WIPED;
    }
    replica_options o = {
        .dir = dir,
        .genesis_json = n->genesis_json,
        .genesis_len = n->genesis_len,
        .id = n->self_id,
        .election_ticks = (uint32_t)n->cfg.election_ticks,
        .heartbeat_ticks = 1,
        .snapshot_every = n->cfg.snapshot_every,
        .map_size = (size_t)n->cfg.map_size,
        .log_tail = n->cfg.log_tail,
        .msg_prefix = MSG_RAFT,
        .send = raft_send,
        .applied = on_applied,
        .arriving = on_arriving,
        .checked = on_checked,
        .ctx = n,
    };
    /* The founders: the genesis validators. */
    for (size_t i = 0;
         i < n->gen->validator_count && o.founders.n_voters < RAFT_MAX_MEMBERS;
         i++)
        o.founders.voters[o.founders.n_voters++] =
            replica_id_of(n->gen->parties[i].pub);
    int rc = n->cfg.seal ? datadir_check_seal(dir, n->key, msg, msg_size) : 0;
    if (rc == 0)
        rc = replica_open(&o, &n->rep, msg, msg_size);
    if (rc)
        return rc;
    if (!file_exists(marker)) {
        int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || fsync(fd) != 0) {
            snprintf(msg, msg_size, "%s: %s", marker, strerror(errno));
            if (fd >= 0)
                close(fd);
            return ORIGO_E_IO;
        }
        close(fd);
    }
    /* The lot index tree lives in memory: built now, before the node
     * serves, rather than by the first block or proof, which would stall
     * the loop (peers, HTTP) for as long (docs/performance.md, "Restart").
     * A store whose chains do not give the root it recorded is refused. */
    size_t keys = 0;
    uint64_t t0 = uv_hrtime();
    rc = ledger_lot_index_warm(replica_ledger(n->rep), &keys);
    if (rc) {
        snprintf(msg, msg_size, "cannot build the lot index from %s: %s", store,
                 rc == ORIGO_E_CORRUPT
                     ? "its chains do not give the index root it recorded; "
                       "run `origo audit --data DIR` to find the wrong entry"
                 : rc == ORIGO_E_NOMEM
                     ? "out of memory (it needs about 300 bytes a chain); "
                       "free memory and start again"
                     : "the store cannot be read; see the log above");
        return rc;
    }
    if (keys) {
        char k[24], ms[24];
        snprintf(k, sizeof(k), "%zu", keys);
        snprintf(ms, sizeof(ms), "%.0f", (double)(uv_hrtime() - t0) / 1e6);
        LOG_INFO("lot index built", "chains", k, "ms", ms);
    }
    /* Cosigning resumes from the tree this store holds. */
    ledger_state st;
    if (ledger_get_state(replica_ledger(n->rep), NULL, &st) == 0) {
        n->signed_size = 0;
        n->cosign_due = st.tree_size > 0;
    }
    return 0;
}

static char *read_pem(const char *path, char *msg, size_t msg_size)
{
    uint8_t *text = NULL;
    size_t len;
    if (origo_read_file(path, 1u << 20, &text, &len) != 0) {
        snprintf(msg, msg_size, "%s: %s ([http] tls_cert / tls_key)", path,
                 strerror(errno));
        return NULL;
    }
    char *s = realloc(text, len + 1);
    if (!s) {
        free(text);
        return NULL;
    }
    s[len] = '\0';
    return s;
}

static int start_http(node *n, char *msg, size_t msg_size)
{
    if (!n->cfg.http_tls_cert[0] != !n->cfg.http_tls_key[0]) {
        snprintf(msg, msg_size,
                 "[http] tls_cert and tls_key go together: set both or "
                 "neither");
        return ORIGO_E_CONFIG;
    }
    char *cert = NULL, *pkey = NULL;
    if (n->cfg.http_tls_cert[0] &&
        (!(cert = read_pem(n->cfg.http_tls_cert, msg, msg_size)) ||
         !(pkey = read_pem(n->cfg.http_tls_key, msg, msg_size)))) {
        free(cert);
        return ORIGO_E_IO;
    }
    http_options ho = {
        .host = n->cfg.http_listen.host,
        .port = n->cfg.http_listen.port,
        .max_body = n->cfg.http_max_body,
        .max_header = n->cfg.http_max_header,
        .max_connections = (unsigned)n->cfg.http_max_connections,
        .max_per_client = (unsigned)n->cfg.http_max_per_client,
        .timeout_s = (unsigned)((n->cfg.http_timeout_ms + 999) / 1000),
        .tls_cert_pem = cert,
        .tls_key_pem = pkey,
        .handle = api_handle,
        .ctx = n,
    };
    int rc = http_start(&n->loop, &ho, &n->http, msg, msg_size);
    /* libmicrohttpd keeps its own copy of the PEM text. */
    if (pkey)
        sodium_memzero(pkey, strlen(pkey));
    free(cert);
    free(pkey);
    return rc;
}

/* ---- --dev -------------------------------------------------------------- */

static int dev_key(const char *dir, const char *file, const char *name,
                   origo_key **out, char *msg, size_t msg_size)
{
    char path[4096 + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (file_exists(path)) {
        int rc = origo_key_load(path, out);
        if (rc)
            snprintf(msg, msg_size, "%s: %s", path, origo_strerror(rc));
        return rc;
    }
    int rc = origo_key_generate(name, out);
    if (rc == 0)
        rc = origo_key_save(*out, path, 0);
    if (rc)
        snprintf(msg, msg_size, "%s: cannot write: %s", path,
                 origo_strerror(rc));
    return rc;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wx");
    if (!f)
        return errno == EEXIST ? 0 : ORIGO_E_IO;
    int ok = fputs(text, f) >= 0;
    ok = fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok ? 0 : ORIGO_E_IO;
}

/* --dev: a network of this one validator in DIR, made on first start and
 * reused after. */
static int dev_setup(node *n, const char *http, char *msg, size_t msg_size)
{
    const char *dir = n->cfg.data;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, msg_size, "%s: cannot create: %s", dir, strerror(errno));
        return ORIGO_E_IO;
    }
    origo_key *v = NULL, *admin = NULL, *sup = NULL;
    int rc = dev_key(dir, "validator.key", "dev-validator", &v, msg, msg_size);
    if (rc == 0)
        rc = dev_key(dir, "admin.key", "dev-admin", &admin, msg, msg_size);
    if (rc == 0)
        rc = dev_key(dir, "supplier.key", "dev-supplier", &sup, msg, msg_size);
    char hv[65], ha[65], hs[65], vkey[256], text[2048], path[4096 + 32];
    size_t vlen;
    if (rc == 0) {
        origo_pubkey_to_hex(origo_key_public(v), hv);
        origo_pubkey_to_hex(origo_key_public(admin), ha);
        origo_pubkey_to_hex(origo_key_public(sup), hs);
        rc = origo_key_vkey(v, vkey, sizeof(vkey), &vlen);
    }
    if (rc == 0) {
        snprintf(text, sizeof(text),
                 "{\n  \"format\": \"origo-genesis/v1\",\n"
                 "  \"origin\": \"origo.dev/local\",\n  \"rules\": 1,\n"
                 "  \"validators\": [{\"name\": \"dev-validator\", \"key\": "
                 "\"%s\", \"address\": \"127.0.0.1:7400\"}],\n"
                 "  \"admins\": [{\"name\": \"dev-admin\", \"key\": \"%s\"}],\n"
                 "  \"members\": [{\"name\": \"dev-supplier\", \"key\": "
                 "\"%s\", \"roles\": [\"supplier\"], \"owns\": "
                 "[\"party:dev-supplier\"]}]\n}\n",
                 hv, ha, hs);
        snprintf(path, sizeof(path), "%s/genesis.json", dir);
        rc = write_text(path, text);
    }
    if (rc == 0) {
        snprintf(text, sizeof(text),
                 "# The validator of the --dev network in this directory\n"
                 "origin origo.dev/local\nquorum 1\n%s\n",
                 vkey);
        snprintf(path, sizeof(path), "%s/trust.txt", dir);
        rc = write_text(path, text);
        if (rc)
            snprintf(msg, msg_size, "%s: cannot write: %s", path,
                     strerror(errno));
    }
    origo_key_free(v);
    origo_key_free(admin);
    origo_key_free(sup);
    if (rc)
        return rc;
    /* One validator: no peers to reach, so the peer port is any free one
     * on loopback; the Raft clock runs fast. */
    memcpy(n->cfg.listen.host, "127.0.0.1", sizeof("127.0.0.1"));
    n->cfg.listen.port = 0;
    n->cfg.tick_ms = 20;
    if (http) {
        char cfg[300];
        int w = snprintf(cfg, sizeof(cfg),
                         "[node]\ndata = /\n[http]\nlisten = %s\n", http);
        node_config c;
        config_defaults(&c);
        if (w < 0 || (size_t)w >= sizeof(cfg) ||
            config_parse("--http", cfg, strlen(cfg), &c, msg, msg_size) != 0)
            return ORIGO_E_USAGE;
        n->cfg.http_listen = c.http_listen;
    }
    return 0;
}

static void print_dev_banner(node *n)
{
    const char *d = n->cfg.data;
    char url[300];
    snprintf(url, sizeof(url), "http://%s:%u", n->cfg.http_listen.host,
             http_port(n->http));
    printf("origo-node --dev: a one-validator network in %s\n"
           "  API:            %s\n"
           "  admin key:      %s/admin.key\n"
           "  supplier key:   %s/supplier.key (owns party:dev-supplier)\n"
           "  trust file:     %s/trust.txt (for origo verify --trust)\n"
           "Try it:\n"
           "  curl -s %s/v1/status\n"
           "  origo event --key %s/supplier.key --net origo.dev/local --type "
           "lot.create --lot dev-supplier/cell/L-1 --qty 100 --unit pcs | "
           "curl -s --data-binary @- %s/v1/events\n",
           d, url, d, d, d, url, d, url);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *level = NULL, *data = NULL, *http = NULL;
    int dev = 0;
    /* A write to a socket its peer closed is an error to handle (EPIPE),
     * never a reason to die: libuv writes with write(2), which raises
     * SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            level = argv[++i];
        } else if (!strcmp(argv[i], "--dev")) {
            dev = 1;
        } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
            data = argv[++i];
        } else if (!strcmp(argv[i], "--http") && i + 1 < argc) {
            http = argv[++i];
        } else {
            fprintf(stderr, "origo-node: unknown or incomplete option %s\n%s",
                    argv[i], usage);
            return 2;
        }
    }
    if (dev ? (!data || config_path) : (!config_path || data || http)) {
        fprintf(stderr,
                "origo-node: give either --config FILE, or --dev --data "
                "DIR\n%s",
                usage);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    static node n;
    char msg[10000];
    int rc;
    if (dev) {
        config_defaults(&n.cfg);
        n.dev = 1;
        if (strlen(data) >= sizeof(n.cfg.data)) {
            fprintf(stderr, "origo-node: --data: path too long\n");
            return 2;
        }
        memcpy(n.cfg.data, data, strlen(data) + 1);
    } else if ((rc = config_load(config_path, &n.cfg, msg, sizeof(msg))) != 0) {
        fprintf(stderr, "origo-node: %s\n", msg);
        return 2;
    }
    if (level) {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        size_t l = 0;
        while (l < 4 && strcmp(level, names[l]))
            l++;
        if (l == 4) {
            fprintf(stderr,
                    "origo-node: --log-level %s: allowed: debug, "
                    "info, warn, error\n",
                    level);
            return 2;
        }
        n.cfg.log_level = (enum config_log_level)(l + 1);
    }
    log_init(stderr, n.cfg.log_level);
    if ((dev && (rc = dev_setup(&n, http, msg, sizeof(msg))) != 0) ||
        (rc = datadir_lock(n.cfg.data, &n.lock_fd, msg, sizeof(msg))) ||
        (rc = load_identity(&n, msg, sizeof(msg))) ||
        (rc = open_replica(&n, msg, sizeof(msg)))) {
        LOG_ERROR("cannot start", "error", msg, "code", origo_errname(rc));
        /* 3: the store cannot be used as it is (changed at rest, or wiped):
         * starting again changes nothing until an operator acts, so the
         * systemd unit does not restart on it (RestartPreventExitStatus). */
        return rc == ORIGO_E_CORRUPT || rc == ORIGO_E_WIPED ? 3 : 1;
    }
    uv_loop_init(&n.loop);
    /* 2^16 digests (2 MB): a dozen seconds of submissions at full speed. */
    if (!(n.seen = sigseen_new(16))) {
        LOG_ERROR("cannot start", "error", "out of memory", "code",
                  origo_errname(ORIGO_E_NOMEM));
        return 1;
    }
    if ((rc = start_mesh(&n, msg, sizeof(msg))) != 0 ||
        (rc = start_http(&n, msg, sizeof(msg))) != 0) {
        LOG_ERROR("cannot start", "error", msg, "code", origo_errname(rc));
        return 1;
    }
    uv_signal_init(&n.loop, &n.sigterm);
    uv_signal_init(&n.loop, &n.sigint);
    n.sigterm.data = n.sigint.data = &n;
    uv_signal_start(&n.sigterm, on_signal, SIGTERM);
    uv_signal_start(&n.sigint, on_signal, SIGINT);
    uv_timer_init(&n.loop, &n.keepalive);
    uv_timer_init(&n.loop, &n.tick);
    uv_timer_init(&n.loop, &n.batch);
    uv_timer_init(&n.loop, &n.cosign);
    uv_timer_init(&n.loop, &n.clock);
    n.keepalive.data = n.tick.data = n.batch.data = n.cosign.data = &n;
    n.clock.data = &n;
    uv_timer_start(&n.clock, on_clock_timer, NODE_CLOCK_EVERY_MS,
                   NODE_CLOCK_EVERY_MS);
    uint64_t every = n.cfg.idle_timeout_ms ? n.cfg.idle_timeout_ms / 3 : 0;
    if (every)
        uv_timer_start(&n.keepalive, on_keepalive, every, every);
    uv_timer_start(&n.tick, on_tick, n.cfg.tick_ms, n.cfg.tick_ms);
    if (n.cfg.cosign_interval_ms)
        uv_timer_start(&n.cosign, on_cosign_timer, n.cfg.cosign_interval_ms,
                       n.cfg.cosign_interval_ms);
    char peers[24], port[8], hport[8];
    snprintf(peers, sizeof(peers), "%zu", n.n_peers);
    snprintf(port, sizeof(port), "%d", peer_listener_port(n.listener));
    snprintf(hport, sizeof(hport), "%u", http_port(n.http));
    sd_notify(0, "READY=1");
    LOG_INFO("started", "validator", n.self_name, "network", n.gen->origin,
             "listen_port", port, "http_port", hport, "peers", peers);
    if (n.dev)
        print_dev_banner(&n);
    uv_run(&n.loop, UV_RUN_DEFAULT);
    uv_loop_close(&n.loop);
    sigseen_free(n.seen);
    signal(SIGTERM, SIG_IGN); /* closing the loop restored them again */
    signal(SIGINT, SIG_IGN);
    replica_close(n.rep);
    if (!n.fatal && n.cfg.seal) {
        /* A clean stop: what the store holds now is what the next start
         * must find. A failure costs only that check. */
        char dir[4096 + 16];
        snprintf(dir, sizeof(dir), "%s/ledger", n.cfg.data);
        if ((rc = datadir_seal(dir, n.key, msg, sizeof(msg))) != 0)
            LOG_WARN("cannot seal the store", "error", msg, "code",
                     origo_errname(rc));
    }
    LOG_INFO("stopped");
    for (size_t i = 0; i < n.n_peers; i++)
        free(n.peers[i]);
    free(n.peers);
    free(n.genesis_json);
    origo_key_free(n.key);
    genesis_free(n.gen);
    close(n.lock_fd);
    /* 3: starting again would change nothing (systemd does not restart). */
    return !n.fatal ? 0 : n.fatal == ORIGO_E_DIVERGED ? 3 : 1;
}
