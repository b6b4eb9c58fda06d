/* The lot index's tree in memory (lotindex_mem.h): internal nodes and
 * leaves in two arenas, versions sharing unchanged subtrees. Hashes follow
 * docs/formats/lot-index.md, "The map".
 *
 * No reference counts: in a path-copying tree each node has one place,
 * so a node that version v replaced (a copy of its path, a new value) is
 * in the versions before v and in none after. Each version lists the
 * nodes it made and the nodes it replaced ("retired"). When the oldest
 * version is dropped, the nodes the next one retired are in no version
 * any more and are freed, without reading them; when a version that never
 * committed is dropped, the nodes it made are freed and what it retired
 * stays in use. An update touches only the nodes on its paths. */
#include "origo/hash.h"
#include "lotindex_mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "origo/error.h"

#define LEAF_BIT 0x80000000u

struct inode {
    uint8_t hash[32];
    uint32_t child[2];
};

struct lleaf {
    uint8_t hash[32];
    uint8_t key[32];
    uint8_t head[32];
    uint64_t count;
};

/* A list of node references. */
struct refs {
    uint32_t *at;
    size_t n, cap;
};

/* One subtree an update visits (update()). */
struct task {
    uint8_t hash[32];  /* of `out` */
    uint32_t old, out; /* its node in the base version; in the new one */
    uint32_t lo, hi;   /* its puts */
    uint32_t child;    /* for an internal node walked: its sides' tasks */
    uint16_t depth;
    uint8_t walk;
};

struct work {
    struct task *at;
    size_t n, cap;
};

/* A node made whose hash is not computed yet (hash_made()). `pre`: 0, or
 * 1 + the index in `pre` of its one side's hash copied when it was made
 * (an old subtree kept, whose node is not read again), the side in the
 * top bit. */
struct pend {
    uint32_t ref, pre;
};
#define PRE_RIGHT 0x80000000u

struct pends {
    struct pend *at;
    size_t n, cap;
};

/* Hash lists: nodes below the root's left side, below its right side,
 * and the root. The two sides share nothing, so two threads hash them. */
enum { SIDE_L, SIDE_R, TOP, LISTS };

/* The second thread, started at the first large update. */
struct hasher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, job, done, stop;
};

struct version {
    uint64_t tree_size;
    uint32_t root;
    uint8_t hash[32];
    struct refs made, retired;
};

struct pool {
    void *items;         /* `mapped` bytes of their own mapping */
    size_t n, cap, size; /* used slots (free ones included), room, item */
    size_t mapped;
    uint32_t *free;
    size_t n_free, cap_free;
};

struct lotindex_mem {
    pthread_mutex_t mu;
    struct pool in, lf;
    struct version versions[LOTINDEX_MEM_VERSIONS + 1];
    size_t n_versions;
    struct refs made, retired; /* of the version being made */
    struct work work;          /* update()'s, kept between updates */
    struct pends pend[LISTS];  /* nodes made, to hash (hash_made()) */
    uint8_t (*pre)[32];        /* kept sides' hashes, for pend.pre */
    size_t n_pre, cap_pre;
    struct hasher hasher;
    unsigned threads; /* 1 or 2: who hashes the nodes an update makes */
    size_t splits;    /* hash_made() calls that used both */
    int broken;       /* an allocation failed half-way: rebuild before use */
};

static const uint8_t ZERO[32];

/* ---- pools ----------------------------------------------------------------
 */

/* The pools are far larger than the caches and read at random: on 4 KB
 * pages nearly every read of a node also misses the TLB, and the page
 * walk waits for memory too. So each pool is a mapping of its own, 2 MB
 * aligned, that asks the kernel for huge pages before it is first
 * touched (where the kernel gives them only on request, as Debian's does
 * by default); growing it makes a new mapping twice the size and copies.
 * Memory grown with realloc() and advised afterwards kept its 4 KB pages
 * (76 of 478 MB were huge in bench_lot_tree). Advice only: nothing
 * depends on it. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *pool_map(size_t bytes)
{
    void *at = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at == MAP_FAILED)
        return NULL;
    uintptr_t start = (uintptr_t)at,
              aligned = (start + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (aligned > start)
        munmap(at, aligned - start);
    if (start + HUGE_PAGE > aligned)
        munmap((void *)(aligned + bytes), start + HUGE_PAGE - aligned);
    (void)madvise((void *)aligned, bytes, MADV_HUGEPAGE);
    return (void *)aligned;
}

static int pool_take(struct pool *p, uint32_t *index)
{
    if (p->n_free) {
        *index = p->free[--p->n_free];
        if (p->n_free > 16) { /* a slot taken soon: about to be written */
            const char *at = (const char *)p->items +
                             (size_t)p->free[p->n_free - 16] * p->size;
            __builtin_prefetch(at, 1);
            __builtin_prefetch(at + p->size - 1, 1);
        }
        return 0;
    }
    if (p->n == p->cap) {
        size_t bytes = p->mapped ? 2 * p->mapped : HUGE_PAGE;
        size_t cap = bytes / p->size;
        if (cap >= LEAF_BIT)
            return ORIGO_E_NOMEM;
        void *items = pool_map(bytes);
        if (!items)
            return ORIGO_E_NOMEM;
        if (p->items) {
            memcpy(items, p->items, p->n * p->size);
            munmap(p->items, p->mapped);
        }
        p->items = items;
        p->cap = cap;
        p->mapped = bytes;
    }
    *index = (uint32_t)p->n++;
    return 0;
}

static int pool_give(struct pool *p, uint32_t index)
{
    if (p->n_free == p->cap_free) {
        size_t cap = p->cap_free ? p->cap_free * 2 : 1024;
        uint32_t *f = realloc(p->free, cap * sizeof(*f));
        if (!f)
            return ORIGO_E_NOMEM;
        p->free = f;
        p->cap_free = cap;
    }
    p->free[p->n_free++] = index;
    return 0;
}

static void pool_clear(struct pool *p)
{
    if (p->items)
        munmap(p->items, p->mapped);
    free(p->free);
    size_t size = p->size;
    memset(p, 0, sizeof(*p));
    p->size = size;
}

static struct inode *in_at(lotindex_mem *m, uint32_t ref)
{
    return (struct inode *)m->in.items + (ref - 1);
}

static struct lleaf *lf_at(lotindex_mem *m, uint32_t ref)
{
    return (struct lleaf *)m->lf.items + ((ref & ~LEAF_BIT) - 1);
}

/* By key, and for one key by count. */
static int place_cmp(const void *a, const void *b)
{
    const lotindex_place *x = a, *y = b;
    int c = memcmp(x->key, y->key, 32);
    return c ? c : (x->count > y->count) - (x->count < y->count);
}

void lotindex_places_sort(lotindex_place *pl, size_t n)
{
    if (n < 2)
        return;
    /* About 5 to 20 places a bucket; no more than 2^16 buckets. */
    unsigned bits = n >= ((size_t)1 << 18) ? 16 : 8;
    size_t nb = (size_t)1 << bits;
    size_t *start = calloc(nb + 1, sizeof(*start));
    size_t *next = malloc(nb * sizeof(*next));
    if (!start || !next) {
        free(start);
        free(next);
        qsort(pl, n, sizeof(*pl), place_cmp);
        return;
    }
#define PLACE_BUCKET(p)                                                        \
    (bits == 16 ? ((size_t)(p)->key[0] << 8 | (p)->key[1]) : (p)->key[0])
    for (size_t i = 0; i < n; i++)
        start[PLACE_BUCKET(&pl[i]) + 1]++;
    for (size_t b = 0; b < nb; b++)
        start[b + 1] += start[b];
    memcpy(next, start, nb * sizeof(*next));
    /* Each place is swapped into its bucket's next free slot: every swap
     * settles one place for good. */
    for (size_t b = 0; b < nb; b++) {
        while (next[b] < start[b + 1]) {
            size_t d = PLACE_BUCKET(&pl[next[b]]);
            if (d == b) {
                next[b]++;
                continue;
            }
            lotindex_place t = pl[next[d]];
            pl[next[d]++] = pl[next[b]];
            pl[next[b]] = t;
        }
    }
#undef PLACE_BUCKET
    for (size_t b = 0; b < nb; b++)
        if (start[b + 1] - start[b] > 1)
            qsort(pl + start[b], start[b + 1] - start[b], sizeof(*pl),
                  place_cmp);
    free(start);
    free(next);
}

static const uint8_t *ref_hash(lotindex_mem *m, uint32_t ref)
{
    if (ref == 0)
        return ZERO;
    return ref & LEAF_BIT ? lf_at(m, ref)->hash : in_at(m, ref)->hash;
}

static void node_hash(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    origo_sha256(in, lotindex_node_input(l, r, in), out);
}

static void leaf_hash(const uint8_t key[32], uint64_t count,
                      const uint8_t head[32], uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    origo_sha256(in, lotindex_leaf_input(key, count, head, in), out);
}

/* Asks for a node's cache lines: a node is not aligned to them (40 and
 * 112 bytes), so its last byte is often in the line after its first. */
static void prefetch_ref(lotindex_mem *m, uint32_t ref)
{
    if (ref & LEAF_BIT) {
        const char *l = (const char *)lf_at(m, ref);
        __builtin_prefetch(l);
        __builtin_prefetch(l + sizeof(struct lleaf) - 1);
    } else if (ref) {
        const char *n = (const char *)in_at(m, ref);
        __builtin_prefetch(n);
        __builtin_prefetch(n + sizeof(struct inode) - 1);
    }
}

static int refs_push(struct refs *r, uint32_t ref)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        uint32_t *at = realloc(r->at, cap * sizeof(*at));
        if (!at)
            return ORIGO_E_NOMEM;
        r->at = at;
        r->cap = cap;
    }
    r->at[r->n++] = ref;
    return 0;
}

static void refs_clear(struct refs *r)
{
    free(r->at);
    memset(r, 0, sizeof(*r));
}

static int work_push(struct work *w, uint32_t old, uint32_t lo, uint32_t hi,
                     unsigned depth)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        struct task *at = realloc(w->at, cap * sizeof(*at));
        if (!at)
            return ORIGO_E_NOMEM;
        w->at = at;
        w->cap = cap;
    }
    w->at[w->n++] =
        (struct task){.old = old, .lo = lo, .hi = hi, .depth = (uint16_t)depth};
    return 0;
}

/* Gives the nodes of `r` back to their pools. */
static int free_all(lotindex_mem *m, const struct refs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        uint32_t ref = r->at[i];
        int rc = ref & LEAF_BIT ? pool_give(&m->lf, (ref & ~LEAF_BIT) - 1)
                                : pool_give(&m->in, ref - 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* `ref` is replaced in the version being made. */
static int retire(lotindex_mem *m, uint32_t ref)
{
    return ref ? refs_push(&m->retired, ref) : 0;
}

/* Notes a node made at `depth` above `key` (any key below it) for
 * hash_made(), with a kept side's hash if it has one. */
static int pend_push(lotindex_mem *m, uint32_t ref, unsigned depth,
                     const uint8_t key[32], int pre_side,
                     const uint8_t pre_hash[32])
{
    struct pends *l = &m->pend[depth == 0                 ? TOP
                               : lotindex_key_bit(key, 0) ? SIDE_R
                                                          : SIDE_L];
    uint32_t pre = 0;
    if (pre_hash) {
        if (m->n_pre == m->cap_pre) {
            size_t cap = m->cap_pre ? 2 * m->cap_pre : 1024;
            uint8_t(*at)[32] = realloc(m->pre, cap * sizeof(*at));
            if (!at)
                return ORIGO_E_NOMEM;
            m->pre = at;
            m->cap_pre = cap;
        }
        if (m->n_pre >= PRE_RIGHT - 1)
            return ORIGO_E_NOMEM;
        memcpy(m->pre[m->n_pre++], pre_hash, 32);
        pre = (uint32_t)m->n_pre | (pre_side ? PRE_RIGHT : 0);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        struct pend *at = realloc(l->at, cap * sizeof(*at));
        if (!at)
            return ORIGO_E_NOMEM;
        l->at = at;
        l->cap = cap;
    }
    l->at[l->n++] = (struct pend){.ref = ref, .pre = pre};
    return 0;
}

/* A leaf for p at `depth`; its hash is made by hash_made(). */
static int mk_leaf(lotindex_mem *m, const lotindex_place *p, unsigned depth,
                   uint32_t *out)
{
    uint32_t i;
    if (pool_take(&m->lf, &i))
        return ORIGO_E_NOMEM;
    struct lleaf *l = (struct lleaf *)m->lf.items + i;
    memcpy(l->key, p->key, 32);
    memcpy(l->head, p->head, 32);
    l->count = p->count;
    *out = LEAF_BIT | (i + 1);
    int rc = refs_push(&m->made, *out);
    return rc ? rc : pend_push(m, *out, depth, p->key, 0, NULL);
}

/* An internal node over a and b at `depth` above `key`. Its hash is made
 * by hash_made(), after its new sides'; a side that is kept (neither new
 * nor empty) has its hash in pre_hash (the other side is new). */
static int mk_node(lotindex_mem *m, uint32_t a, uint32_t b, unsigned depth,
                   const uint8_t key[32], int pre_side,
                   const uint8_t pre_hash[32], uint32_t *out)
{
    uint32_t i;
    if (pool_take(&m->in, &i))
        return ORIGO_E_NOMEM;
    struct inode *n = (struct inode *)m->in.items + i;
    n->child[0] = a;
    n->child[1] = b;
    *out = i + 1;
    int rc = refs_push(&m->made, *out);
    return rc ? rc : pend_push(m, *out, depth, key, pre_side, pre_hash);
}

/* Hashes the nodes of one list, in the order they were made: each after
 * its new sides, which were made before it. */
static void hash_list(lotindex_mem *m, const struct pends *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct pend *p = &l->at[i];
        if (p->ref & LEAF_BIT) {
            struct lleaf *f = lf_at(m, p->ref);
            leaf_hash(f->key, f->count, f->head, f->hash);
            continue;
        }
        struct inode *n = in_at(m, p->ref);
        const uint8_t *side[2] = {ref_hash(m, n->child[0]),
                                  ref_hash(m, n->child[1])};
        if (p->pre) /* a kept side: its hash, not its node */
            side[p->pre >> 31] = m->pre[(p->pre & ~PRE_RIGHT) - 1];
        node_hash(side[0], side[1], n->hash);
    }
}

static void *hasher_main(void *arg)
{
    lotindex_mem *m = arg;
    struct hasher *h = &m->hasher;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->job && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop)
            break;
        pthread_mutex_unlock(&h->mu);
        hash_list(m, &m->pend[SIDE_R]);
        pthread_mutex_lock(&h->mu);
        h->job = 0;
        h->done = 1;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Below this many nodes one thread hashes them: waking the other costs
 * more than it saves. */
#define HASH_SPLIT_MIN 2048

/* Computes the hash of every node made since the last call (the pend
 * lists) and empties the lists. The two sides of the root share no node,
 * so with two threads the second hashes the right side while this one
 * hashes the left; then this one hashes the root. The hashes are the same
 * whoever computes them; a second thread that cannot be started leaves
 * the work to this one. Nothing is allocated here. */
static void hash_made(lotindex_mem *m)
{
    struct hasher *h = &m->hasher;
    int split = m->threads > 1 &&
                m->pend[SIDE_L].n + m->pend[SIDE_R].n >= HASH_SPLIT_MIN;
    if (split && !h->started) {
        pthread_mutex_init(&h->mu, NULL);
        pthread_cond_init(&h->cv, NULL);
        h->started = pthread_create(&h->thread, NULL, hasher_main, m) == 0;
        if (!h->started) {
            pthread_mutex_destroy(&h->mu);
            pthread_cond_destroy(&h->cv);
            m->threads = 1;
            split = 0;
        }
    }
    if (split) {
        m->splits++;
        pthread_mutex_lock(&h->mu);
        h->job = 1;
        h->done = 0;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        hash_list(m, &m->pend[SIDE_L]);
        pthread_mutex_lock(&h->mu);
        while (!h->done)
            pthread_cond_wait(&h->cv, &h->mu);
        pthread_mutex_unlock(&h->mu);
    } else {
        hash_list(m, &m->pend[SIDE_L]);
        hash_list(m, &m->pend[SIDE_R]);
    }
    hash_list(m, &m->pend[TOP]);
    for (int i = 0; i < LISTS; i++)
        m->pend[i].n = 0;
    m->n_pre = 0;
}

static void hasher_stop(lotindex_mem *m)
{
    struct hasher *h = &m->hasher;
    if (!h->started)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    memset(h, 0, sizeof(*h));
}

static void pends_clear(lotindex_mem *m)
{
    for (int i = 0; i < LISTS; i++) {
        free(m->pend[i].at);
        memset(&m->pend[i], 0, sizeof(m->pend[i]));
    }
    free(m->pre);
    m->pre = NULL;
    m->n_pre = m->cap_pre = 0;
}

/* ---- building and updating ------------------------------------------------
 */

/* The canonical subtree at `depth` of exactly pl[0..n) (sorted, distinct). */
static int build(lotindex_mem *m, unsigned depth, const lotindex_place *pl,
                 size_t n, uint32_t *out)
{
    if (n == 0) {
        *out = 0;
        return 0;
    }
    if (n == 1)
        return mk_leaf(m, pl, depth, out);
    if (depth >= LOTINDEX_MAX_DEPTH)
        return ORIGO_E_INTERNAL; /* two equal keys */
    size_t split = 0;
    while (split < n && !lotindex_key_bit(pl[split].key, depth))
        split++;
    uint32_t a, b;
    int rc = build(m, depth + 1, pl, split, &a);
    if (rc == 0)
        rc = build(m, depth + 1, pl + split, n - split, &b);
    return rc ? rc : mk_node(m, a, b, depth, pl[0].key, 0, NULL, out);
}

/* A lone leaf's subtree at `depth` with pl[0..n) put (keys are never
 * removed; one of them may be the leaf's own, with a new value). */
static int merge_leaf(lotindex_mem *m, uint32_t ref, unsigned depth,
                      const lotindex_place *pl, size_t n, uint32_t *out)
{
    const struct lleaf *l = lf_at(m, ref);
    lotindex_place old;
    memcpy(old.key, l->key, 32);
    memcpy(old.head, l->head, 32);
    old.count = l->count;
    if (retire(m, ref))
        return ORIGO_E_NOMEM;
    if (n == 1 && !memcmp(pl[0].key, old.key, 32))
        return mk_leaf(m, pl, depth, out); /* a new value, the same key */
    lotindex_place few[8];
    lotindex_place *all = n + 1 <= 8 ? few : malloc((n + 1) * sizeof(*all));
    if (!all)
        return ORIGO_E_NOMEM;
    size_t k = 0;
    int placed = 0;
    for (size_t i = 0; i < n; i++) {
        int c = memcmp(pl[i].key, old.key, 32);
        if (!placed && c >= 0) {
            placed = 1;
            if (c > 0)
                all[k++] = old;
        }
        all[k++] = pl[i];
    }
    if (!placed)
        all[k++] = old;
    int rc = build(m, depth, all, k, out);
    if (all != few)
        free(all);
    return rc;
}

/* The version's tree with pl[0..n) put into `root`, sharing what does not
 * change, made level by level rather than path by path. The tree is far
 * larger than the caches and each level of a path is a cache miss at a
 * random place: walking one path after another, a put waits for about
 * ten of them in turn. Here a level's nodes are known before any is
 * read, so each is asked for (prefetched) PREFETCH_AHEAD nodes before
 * its turn and the misses overlap; then the new internal nodes are made
 * from the bottom up. The same nodes are made and retired as by a walk
 * of each path. */
#define PREFETCH_AHEAD 32
static int update(lotindex_mem *m, uint32_t root, const lotindex_place *pl,
                  size_t n, uint32_t *out)
{
    struct work *w = &m->work;
    w->n = 0;
    if (n > UINT32_MAX)
        return ORIGO_E_NOMEM;
    if (n == 0) {
        *out = root;
        return 0;
    }
    if (work_push(w, root, 0, (uint32_t)n, 0))
        return ORIGO_E_NOMEM;
    prefetch_ref(m, root);
    /* Top down: tasks [from, to) are one level's subtrees that get puts;
     * each either is made at once (empty, a lone leaf) or is an internal
     * node whose two sides become tasks of the next level (a side with
     * no puts keeps its subtree). */
    int rc = 0;
    for (size_t from = 0, to = 1; rc == 0 && from < to; from = to, to = w->n) {
        for (size_t t = from; rc == 0 && t < to; t++) {
            /* Far enough ahead that the line is there when its turn
             * comes, near enough that it is still in L1. */
            if (t + PREFETCH_AHEAD < to)
                prefetch_ref(m, w->at[t + PREFETCH_AHEAD].old);
            struct task *k = &w->at[t];
            const lotindex_place *p = pl + k->lo;
            size_t count = k->hi - k->lo;
            if (count == 0) {
                k->out = k->old; /* kept: its hash, while it is in cache */
                memcpy(k->hash, ref_hash(m, k->old), 32);
            } else if (k->old == 0) {
                rc = build(m, k->depth, p, count, &k->out);
            } else if (k->old & LEAF_BIT) {
                rc = merge_leaf(m, k->old, k->depth, p, count, &k->out);
            } else if (k->depth >= LOTINDEX_MAX_DEPTH) {
                rc = ORIGO_E_INTERNAL;
            } else {
                const struct inode *node = in_at(m, k->old);
                uint32_t a = node->child[0], b = node->child[1];
                size_t split = 0;
                while (split < count &&
                       !lotindex_key_bit(p[split].key, k->depth))
                    split++;
                k->walk = 1;
                k->child = (uint32_t)w->n;
                unsigned depth = k->depth + 1u;
                uint32_t lo = k->lo, mid = k->lo + (uint32_t)split,
                         hi = k->hi; /* k moves if the array grows */
                rc = retire(m, k->old);
                if (rc == 0)
                    rc = work_push(w, a, lo, mid, depth);
                if (rc == 0)
                    rc = work_push(w, b, mid, hi, depth);
                continue;
            }
        }
    }
    /* Bottom up: children are after their parent. A side kept has its
     * hash in its task, copied while its node was in cache (prefetched
     * before its turn above), so neither this pass nor hash_made() reads
     * an old node; a new side is hashed before its parent. */
    for (size_t t = w->n; rc == 0 && t-- > 0;) {
        struct task *k = &w->at[t];
        if (!k->walk)
            continue;
        const struct task *a = &w->at[k->child], *b = a + 1;
        const struct task *kept = a->lo == a->hi && a->out   ? a
                                  : b->lo == b->hi && b->out ? b
                                                             : NULL;
        rc = mk_node(m, a->out, b->out, k->depth, pl[k->lo].key, kept == b,
                     kept ? kept->hash : NULL, &k->out);
    }
    if (rc == 0)
        *out = w->at[0].out;
    return rc;
}

/* ---- versions --------------------------------------------------------------
 */

static void reset(lotindex_mem *m)
{
    pool_clear(&m->in);
    pool_clear(&m->lf);
    for (size_t i = 0; i < m->n_versions; i++) {
        refs_clear(&m->versions[i].made);
        refs_clear(&m->versions[i].retired);
    }
    refs_clear(&m->made);
    refs_clear(&m->retired);
    for (int i = 0; i < LISTS; i++)
        m->pend[i].n = 0;
    m->n_pre = 0;
    m->n_versions = 0;
    m->broken = 0;
}

/* Drops the oldest version: what the next one retired is in no version
 * any more. */
static int drop_oldest(lotindex_mem *m)
{
    int rc = m->n_versions > 1 ? free_all(m, &m->versions[1].retired) : 0;
    if (m->n_versions > 1)
        refs_clear(&m->versions[1].retired);
    refs_clear(&m->versions[0].made);
    refs_clear(&m->versions[0].retired);
    memmove(&m->versions[0], &m->versions[1],
            (m->n_versions - 1) * sizeof(m->versions[0]));
    m->n_versions--;
    return rc;
}

/* Drops the newest version, which never committed: the nodes it made go,
 * the ones it retired are in use again. */
static int drop_newest(lotindex_mem *m)
{
    struct version *v = &m->versions[m->n_versions - 1];
    int rc = free_all(m, &v->made);
    refs_clear(&v->made);
    refs_clear(&v->retired);
    m->n_versions--;
    return rc;
}

/* Adds the version just made (its lists are m->made and m->retired). */
static int add_version(lotindex_mem *m, uint64_t tree_size, uint32_t root)
{
    struct version *v = &m->versions[m->n_versions++];
    v->tree_size = tree_size;
    v->root = root;
    memcpy(v->hash, ref_hash(m, root), 32);
    v->made = m->made;
    v->retired = m->retired;
    memset(&m->made, 0, sizeof(m->made));
    memset(&m->retired, 0, sizeof(m->retired));
    int rc = 0;
    while (rc == 0 && m->n_versions > LOTINDEX_MEM_VERSIONS)
        rc = drop_oldest(m);
    return rc;
}

static long find(lotindex_mem *m, uint64_t tree_size, const uint8_t root[32])
{
    for (size_t i = m->n_versions; i-- > 0;)
        if (m->versions[i].tree_size == tree_size &&
            memcmp(m->versions[i].hash, root, 32) == 0)
            return (long)i;
    return -1;
}

int lotindex_mem_new(lotindex_mem **out)
{
    lotindex_mem *m = calloc(1, sizeof(*m));
    if (!m)
        return ORIGO_E_NOMEM;
    m->in.size = sizeof(struct inode);
    m->lf.size = sizeof(struct lleaf);
    m->threads = 2;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return 0;
}

void lotindex_mem_free(lotindex_mem *m)
{
    if (!m)
        return;
    hasher_stop(m);
    reset(m);
    pends_clear(m);
    free(m->work.at);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void lotindex_mem_set_threads(lotindex_mem *m, unsigned threads)
{
    pthread_mutex_lock(&m->mu);
    m->threads = threads > 1 ? 2 : 1;
    pthread_mutex_unlock(&m->mu);
}

size_t lotindex_mem_hashed_split(lotindex_mem *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->splits;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int lotindex_mem_has(lotindex_mem *m, uint64_t tree_size,
                     const uint8_t root[32])
{
    pthread_mutex_lock(&m->mu);
    int has = !m->broken && find(m, tree_size, root) >= 0;
    pthread_mutex_unlock(&m->mu);
    return has;
}

int lotindex_mem_rebuild(lotindex_mem *m, uint64_t tree_size,
                         const lotindex_place *places, size_t n,
                         uint8_t root[32])
{
    pthread_mutex_lock(&m->mu);
    reset(m);
    uint32_t ref;
    int rc = build(m, 0, places, n, &ref);
    if (rc == 0)
        hash_made(m);
    pends_clear(m); /* a whole tree's lists: not kept for blocks */
    /* The only version: nothing it made is ever dropped on its own. */
    refs_clear(&m->made);
    if (rc == 0)
        rc = add_version(m, tree_size, ref);
    if (rc == 0)
        memcpy(root, ref_hash(m, ref), 32);
    else
        reset(m);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int lotindex_mem_update(lotindex_mem *m, uint64_t base_size,
                        const uint8_t base_root[32], uint64_t tree_size,
                        const lotindex_place *places, size_t n,
                        uint8_t root[32])
{
    pthread_mutex_lock(&m->mu);
    int rc = 0;
    long base = m->broken ? -1 : find(m, base_size, base_root);
    if (base < 0) {
        pthread_mutex_unlock(&m->mu);
        return ORIGO_E_NOTFOUND;
    }
    /* Versions past the base were made in transactions that did not
     * commit (this one builds on the base). */
    while (rc == 0 && m->n_versions &&
           m->versions[m->n_versions - 1].tree_size > base_size)
        rc = drop_newest(m);
    base = find(m, base_size, base_root);
    uint32_t ref = 0;
    if (rc == 0 && base >= 0)
        rc = update(m, m->versions[base].root, places, n, &ref);
    if (rc == 0 && base >= 0)
        hash_made(m);
    if (rc == 0 && base >= 0)
        rc = add_version(m, tree_size, ref);
    if (rc == 0 && base >= 0)
        memcpy(root, ref_hash(m, ref), 32);
    if (rc)
        m->broken = 1; /* nodes may be half linked: rebuild next time */
    pthread_mutex_unlock(&m->mu);
    return rc ? rc : base >= 0 ? 0 : ORIGO_E_NOTFOUND;
}

int lotindex_mem_prove(lotindex_mem *m, uint64_t tree_size,
                       const uint8_t root[32], const uint8_t key[32],
                       lotindex_proof *p)
{
    pthread_mutex_lock(&m->mu);
    long v = m->broken ? -1 : find(m, tree_size, root);
    if (v < 0) {
        pthread_mutex_unlock(&m->mu);
        return ORIGO_E_NOTFOUND;
    }
    memset(p, 0, sizeof(*p));
    uint32_t ref = m->versions[v].root;
    unsigned depth = 0;
    while (ref && !(ref & LEAF_BIT) && depth < LOTINDEX_MAX_DEPTH) {
        const struct inode *n = in_at(m, ref);
        int bit = lotindex_key_bit(key, depth);
        memcpy(p->siblings[depth], ref_hash(m, n->child[!bit]), 32);
        ref = n->child[bit];
        depth++;
    }
    p->depth = depth;
    if (ref == 0) {
        p->end = LOTINDEX_END_EMPTY;
    } else {
        const struct lleaf *l = lf_at(m, ref);
        p->end =
            memcmp(l->key, key, 32) ? LOTINDEX_END_OTHER : LOTINDEX_END_LEAF;
        if (p->end == LOTINDEX_END_OTHER)
            memcpy(p->other_key, l->key, 32);
        p->count = l->count;
        memcpy(p->head, l->head, 32);
    }
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void lotindex_mem_stats(lotindex_mem *m, size_t *nodes, size_t *leaves,
                        size_t *bytes)
{
    pthread_mutex_lock(&m->mu);
    *nodes = m->in.n - m->in.n_free;
    *leaves = m->lf.n - m->lf.n_free;
    *bytes = m->in.mapped + m->lf.mapped +
             (m->in.cap_free + m->lf.cap_free) * sizeof(uint32_t);
    pthread_mutex_unlock(&m->mu);
}
