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
#include "lotindex_mem.h"

#include <openssl/evp.h>
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

struct version {
    uint64_t tree_size;
    uint32_t root;
    uint8_t hash[32];
    struct refs made, retired;
};

struct pool {
    void *items;
    size_t n, cap, size; /* used slots (free ones included), room, item */
    uint32_t *free;
    size_t n_free, cap_free;
};

struct lotindex_mem {
    pthread_mutex_t mu;
    /* SHA-256 through libcrypto, which uses the CPU's SHA instructions
     * (same bytes as lotindex.c's libsodium hashes: the vectors check). */
    EVP_MD *sha256;
    EVP_MD_CTX *ctx;
    struct pool in, lf;
    struct version versions[LOTINDEX_MEM_VERSIONS + 1];
    size_t n_versions;
    struct refs made, retired; /* of the version being made */
    int broken; /* an allocation failed half-way: rebuild before use */
};

static const uint8_t ZERO[32];

/* ---- pools ----------------------------------------------------------------
 */

/* The pools are far larger than the caches and read at random: on 2 MB
 * pages a node's read misses the TLB far less often (where the kernel
 * gives huge pages only on request, as Debian's does by default). Advice
 * only: nothing depends on it. */
static void huge_pages(void *items, size_t bytes)
{
    uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t from = ((uintptr_t)items + huge - 1) & ~(huge - 1);
    uintptr_t to = ((uintptr_t)items + bytes) & ~(huge - 1);
    if (to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

static int pool_take(struct pool *p, uint32_t *index)
{
    if (p->n_free) {
        *index = p->free[--p->n_free];
        return 0;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        if (cap >= LEAF_BIT)
            return ORIGO_E_NOMEM;
        void *items = realloc(p->items, cap * p->size);
        if (!items)
            return ORIGO_E_NOMEM;
        p->items = items;
        p->cap = cap;
        huge_pages(items, cap * p->size);
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
    free(p->items);
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

static const uint8_t *ref_hash(lotindex_mem *m, uint32_t ref)
{
    if (ref == 0)
        return ZERO;
    return ref & LEAF_BIT ? lf_at(m, ref)->hash : in_at(m, ref)->hash;
}

/* SHA-256 of bytes lotindex.c laid out. A failure is no verdict: the
 * tree is marked broken and rebuilt. */
static void sha256(lotindex_mem *m, const uint8_t *in, size_t len,
                   uint8_t out[32])
{
    unsigned int n = 32;
    if (!EVP_DigestInit_ex2(m->ctx, m->sha256, NULL) ||
        !EVP_DigestUpdate(m->ctx, in, len) ||
        !EVP_DigestFinal_ex(m->ctx, out, &n))
        m->broken = 1;
}

static void node_hash(lotindex_mem *m, const uint8_t l[32], const uint8_t r[32],
                      uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    sha256(m, in, lotindex_node_input(l, r, in), out);
}

static void leaf_hash(lotindex_mem *m, const uint8_t key[32], uint64_t count,
                      const uint8_t head[32], uint8_t out[32])
{
    uint8_t in[LOTINDEX_INPUT_MAX];
    sha256(m, in, lotindex_leaf_input(key, count, head, in), out);
}

static void prefetch_ref(lotindex_mem *m, uint32_t ref)
{
    if (ref & LEAF_BIT)
        __builtin_prefetch(lf_at(m, ref));
    else if (ref)
        __builtin_prefetch(in_at(m, ref));
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

static int mk_leaf(lotindex_mem *m, const lotindex_place *p, uint32_t *out)
{
    uint32_t i;
    if (pool_take(&m->lf, &i))
        return ORIGO_E_NOMEM;
    struct lleaf *l = (struct lleaf *)m->lf.items + i;
    memcpy(l->key, p->key, 32);
    memcpy(l->head, p->head, 32);
    l->count = p->count;
    leaf_hash(m, l->key, l->count, l->head, l->hash);
    *out = LEAF_BIT | (i + 1);
    return refs_push(&m->made, *out);
}

static int mk_internal(lotindex_mem *m, uint32_t a, uint32_t b, uint32_t *out)
{
    uint32_t i;
    if (pool_take(&m->in, &i))
        return ORIGO_E_NOMEM;
    struct inode *n = (struct inode *)m->in.items + i;
    n->child[0] = a;
    n->child[1] = b;
    node_hash(m, ref_hash(m, a), ref_hash(m, b), n->hash);
    *out = i + 1;
    return refs_push(&m->made, *out);
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
        return mk_leaf(m, pl, out);
    if (depth >= LOTINDEX_MAX_DEPTH)
        return ORIGO_E_INTERNAL; /* two equal keys */
    size_t split = 0;
    while (split < n && !lotindex_key_bit(pl[split].key, depth))
        split++;
    uint32_t a, b;
    int rc = build(m, depth + 1, pl, split, &a);
    if (rc == 0)
        rc = build(m, depth + 1, pl + split, n - split, &b);
    return rc ? rc : mk_internal(m, a, b, out);
}

/* The subtree `ref` at `depth` with pl[0..n) put, sharing what does not
 * change. */
static int update(lotindex_mem *m, uint32_t ref, unsigned depth,
                  const lotindex_place *pl, size_t n, uint32_t *out)
{
    if (n == 0) {
        *out = ref;
        return 0;
    }
    if (ref == 0)
        return build(m, depth, pl, n, out);
    if (ref & LEAF_BIT) {
        /* A lone leaf: rebuild with it and the places (one may replace
         * it; keys are never removed). */
        const struct lleaf *l = lf_at(m, ref);
        lotindex_place old;
        memcpy(old.key, l->key, 32);
        memcpy(old.head, l->head, 32);
        old.count = l->count;
        if (retire(m, ref))
            return ORIGO_E_NOMEM;
        if (n == 1 && !memcmp(pl[0].key, old.key, 32))
            return mk_leaf(m, pl, out); /* a new value, the same key */
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
    if (depth >= LOTINDEX_MAX_DEPTH)
        return ORIGO_E_INTERNAL;
    size_t split = 0;
    while (split < n && !lotindex_key_bit(pl[split].key, depth))
        split++;
    uint32_t a0 = in_at(m, ref)->child[0], b0 = in_at(m, ref)->child[1], a, b;
    /* Both children are read below (one to descend, the other for its
     * hash, or both to descend): start both loads now, so that the two
     * cache misses of a level overlap (the tree is far larger than the
     * caches; lotindex-mem's cost is these misses). */
    prefetch_ref(m, a0);
    prefetch_ref(m, b0);
    int rc = retire(m, ref);
    if (rc == 0)
        rc = update(m, a0, depth + 1, pl, split, &a);
    if (rc == 0)
        rc = update(m, b0, depth + 1, pl + split, n - split, &b);
    return rc ? rc : mk_internal(m, a, b, out);
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
    m->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    m->ctx = EVP_MD_CTX_new();
    if (!m->sha256 || !m->ctx) {
        EVP_MD_free(m->sha256);
        EVP_MD_CTX_free(m->ctx);
        free(m);
        return ORIGO_E_NOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return 0;
}

void lotindex_mem_free(lotindex_mem *m)
{
    if (!m)
        return;
    reset(m);
    EVP_MD_free(m->sha256);
    EVP_MD_CTX_free(m->ctx);
    pthread_mutex_destroy(&m->mu);
    free(m);
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
    if (rc == 0 && m->broken)
        rc = ORIGO_E_NOMEM; /* a hash could not be computed */
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
        rc = update(m, m->versions[base].root, 0, places, n, &ref);
    if (rc == 0 && m->broken)
        rc = ORIGO_E_NOMEM; /* a hash could not be computed */
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

int lotindex_mem_sha256(lotindex_mem *m, const uint8_t *in, size_t len,
                        uint8_t out[32])
{
    unsigned int n = 32;
    pthread_mutex_lock(&m->mu);
    int ok = EVP_DigestInit_ex2(m->ctx, m->sha256, NULL) &&
             EVP_DigestUpdate(m->ctx, in, len) &&
             EVP_DigestFinal_ex(m->ctx, out, &n);
    pthread_mutex_unlock(&m->mu);
    return ok ? 0 : ORIGO_E_NOMEM;
}

void lotindex_mem_stats(lotindex_mem *m, size_t *nodes, size_t *leaves,
                        size_t *bytes)
{
    pthread_mutex_lock(&m->mu);
    *nodes = m->in.n - m->in.n_free;
    *leaves = m->lf.n - m->lf.n_free;
    *bytes = m->in.cap * m->in.size + m->lf.cap * m->lf.size +
             (m->in.cap_free + m->lf.cap_free) * sizeof(uint32_t);
    pthread_mutex_unlock(&m->mu);
}
