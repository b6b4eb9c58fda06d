/* The data directory's lock and the store's seal: see datadir.h. flock()
 * locks belong to the open file description, so a second open in the same
 * process is refused too, and the kernel drops the lock when the process
 * dies, however it dies: there is no stale lock to clean up. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "origo/error.h"

int datadir_lock(const char *dir, int *fd_out, char *msg, size_t msg_size)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/LOCK", dir) >= (int)sizeof(path)) {
        snprintf(msg, msg_size, "%s: path too long", dir);
        return ORIGO_E_IO;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, msg_size, "%s: cannot open: %s", path, strerror(errno));
        return ORIGO_E_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (err == EWOULDBLOCK) {
            snprintf(msg, msg_size,
                     "%s is in use by another origo-node (process %s); stop "
                     "it first, or give this one another data directory",
                     dir, holder[0] ? holder : "unknown");
            return ORIGO_E_BUSY;
        }
        snprintf(msg, msg_size, "%s: cannot lock: %s", path, strerror(err));
        return ORIGO_E_IO;
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        snprintf(msg, msg_size, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return ORIGO_E_IO;
    }
    *fd_out = fd;
    return 0;
}

/* ---- the store's seal ---------------------------------------------------- */

#define SEAL_HEAD_V1 "origo store seal v1\n"
#define SEAL_HEAD "origo store seal v2\n"
/* Signed as DOMAIN || body: no other Origo signature starts so. The body's
 * first line says which version it is. */
static const char SEAL_DOMAIN[] = "origo/store-seal/v1"; /* and its NUL */
/* v2's hash starts so (and its NUL). */
static const char SEAL_V2_DOMAIN[] = "origo/store-seal/v2";

/* A file's chunks, each hashed (BLAKE2b-256) by one of several threads. */
struct chunks {
    int fd;
    uint64_t size, chunk;
    size_t n;
    uint8_t (*hash)[32];
    pthread_mutex_t mu;
    size_t next;
    int err; /* the first errno, or -1: the file ended early */
};

static void *hash_chunks(void *arg)
{
    struct chunks *c = arg;
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        size_t i = c->next++;
        int stop = c->err || i >= c->n || !buf;
        if (!buf && i < c->n && !c->err)
            c->err = ENOMEM;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        uint64_t at = (uint64_t)i * c->chunk,
                 end = c->size - at <= c->chunk ? c->size : at + c->chunk;
        int err = 0;
        while (at < end) {
            size_t want = end - at < cap ? (size_t)(end - at) : cap;
            ssize_t got = pread(c->fd, buf, want, (off_t)at);
            if (got <= 0) {
                err = got < 0 ? errno : -1;
                break;
            }
            crypto_generichash_update(&st, buf, (unsigned long long)got);
            at += (uint64_t)got;
        }
        crypto_generichash_final(&st, c->hash[i], 32);
        if (err) {
            pthread_mutex_lock(&c->mu);
            if (!c->err)
                c->err = err;
            pthread_mutex_unlock(&c->mu);
        }
    }
    free(buf);
    return NULL;
}

/* Hashes the file at `path` in chunks of `chunk` bytes on `threads`
 * threads (this one among them): c->size, c->n and c->hash (to free). */
static int file_chunks(const char *path, uint64_t chunk, unsigned threads,
                       struct chunks *c, char *msg, size_t msg_size)
{
    struct stat sb;
    *c = (struct chunks){.chunk = chunk ? chunk : 1};
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0 || fstat(c->fd, &sb) != 0) {
        snprintf(msg, msg_size, "%s: %s", path, strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        return ORIGO_E_IO;
    }
    c->size = (uint64_t)sb.st_size;
    c->n = (size_t)(c->size / c->chunk + (c->size % c->chunk != 0));
    c->hash = calloc(c->n ? c->n : 1, 32);
    if (!c->hash) {
        close(c->fd);
        return ORIGO_E_NOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_t th[8];
    unsigned started = 0;
    for (unsigned t = 1; t < threads && t < 8 && (size_t)t < c->n; t++)
        if (pthread_create(&th[started], NULL, hash_chunks, c) == 0)
            started++;
    hash_chunks(c); /* this thread too: alone, if none could start */
    for (unsigned t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&c->mu);
    close(c->fd);
    if (c->err == 0)
        return 0;
    free(c->hash);
    if (c->err == ENOMEM)
        return ORIGO_E_NOMEM;
    snprintf(msg, msg_size, "%s: %s", path,
             c->err < 0 ? "shorter than it was when the seal began"
                        : strerror(c->err));
    return ORIGO_E_IO;
}

int datadir_seal_hash(const char *path, uint64_t chunk, unsigned threads,
                      uint64_t *size, uint8_t hash[32], char *msg,
                      size_t msg_size)
{
    struct chunks c;
    int rc = file_chunks(path, chunk, threads, &c, msg, msg_size);
    if (rc)
        return rc;
    uint8_t be[16];
    for (int i = 0; i < 8; i++) {
        be[i] = (uint8_t)(c.size >> (56 - 8 * i));
        be[8 + i] = (uint8_t)(c.chunk >> (56 - 8 * i));
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)SEAL_V2_DOMAIN,
                              sizeof(SEAL_V2_DOMAIN));
    crypto_generichash_update(&st, be, sizeof(be));
    crypto_generichash_update(&st, (const uint8_t *)c.hash,
                              (unsigned long long)c.n * 32);
    crypto_generichash_final(&st, hash, 32);
    *size = c.size;
    free(c.hash);
    return 0;
}

/* v1: the BLAKE2b-256 of the whole file, one chunk. Still checked, for a
 * seal written by an older node; never written. */
static int seal_hash_v1(const char *path, uint64_t *size, uint8_t hash[32],
                        char *msg, size_t msg_size)
{
    struct chunks c;
    int rc = file_chunks(path, UINT64_MAX, 1, &c, msg, msg_size);
    if (rc)
        return rc;
    if (c.n)
        memcpy(hash, c.hash[0], 32);
    else
        crypto_generichash(hash, 32, NULL, 0, NULL, 0);
    *size = c.size;
    free(c.hash);
    return 0;
}

/* The threads that hash a store for its seal: the machine's cores, at
 * most four (reading is the limit beyond that). */
static unsigned seal_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

/* The signed part of a seal. */
static int seal_body(const char *head, uint64_t size, const uint8_t hash[32],
                     char *out, size_t out_size)
{
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), hash, 32);
    return snprintf(out, out_size, "%s%" PRIu64 "\n%s\n", head, size, hex);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int datadir_seal(const char *ledger_dir, const origo_key *key, char *msg,
                 size_t msg_size)
{
    char store[4200], tmp[4200], seal[4200];
    snprintf(store, sizeof(store), "%s/data.mdb", ledger_dir);
    snprintf(tmp, sizeof(tmp), "%s/seal.tmp", ledger_dir);
    snprintf(seal, sizeof(seal), "%s/seal", ledger_dir);
    uint64_t size;
    uint8_t hash[32], sig[64];
    char text[512],
        sig64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    int rc = datadir_seal_hash(store, DATADIR_SEAL_CHUNK, seal_threads(), &size,
                               hash, msg, msg_size);
    if (rc)
        return rc;
    int len = seal_body(SEAL_HEAD, size, hash, text, sizeof(text));
    if ((rc = origo_key_sign_prefixed(key, (const uint8_t *)SEAL_DOMAIN,
                                      sizeof(SEAL_DOMAIN),
                                      (const uint8_t *)text, (size_t)len, sig)))
        return rc;
    sodium_bin2base64(sig64, sizeof(sig64), sig, 64,
                      sodium_base64_VARIANT_ORIGINAL);
    len += snprintf(text + len, sizeof(text) - (size_t)len, "%s\n", sig64);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (!ok || rename(tmp, seal) != 0 || fsync_dir(ledger_dir) != 0) {
        snprintf(msg, msg_size, "%s: %s", seal, strerror(ok ? errno : err));
        unlink(tmp);
        return ORIGO_E_IO;
    }
    return 0;
}

int datadir_check_seal(const char *ledger_dir, const origo_key *key, char *msg,
                       size_t msg_size)
{
    char store[4200], seal[4200], text[600];
    snprintf(store, sizeof(store), "%s/data.mdb", ledger_dir);
    snprintf(seal, sizeof(seal), "%s/seal", ledger_dir);
    FILE *f = fopen(seal, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0; /* not stopped cleanly, or new: nothing to check */
        snprintf(msg, msg_size, "%s: %s", seal, strerror(errno));
        return ORIGO_E_IO;
    }
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    static const char what_to_do[] =
        "Nothing in it is served. Restore the data directory from a backup "
        "taken after that stop, or bring the validator back as a new member "
        "(node/README.md, \"A wiped validator\")";
    /* The seal itself: four lines, the last the signature of the three. */
    char *sig_line = NULL;
    int lines = 0;
    for (char *p = text; *p; p++)
        if (*p == '\n' && ++lines == 3)
            sig_line = p + 1;
    uint8_t sig[64];
    size_t sig_len = 0;
    char *end = sig_line ? strchr(sig_line, '\n') : NULL;
    if (!sig_line || !end || end[1] != '\0' ||
        sodium_base642bin(sig, sizeof(sig), sig_line, (size_t)(end - sig_line),
                          NULL, &sig_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sig_len != 64 ||
        (strncmp(text, SEAL_HEAD, strlen(SEAL_HEAD)) != 0 &&
         strncmp(text, SEAL_HEAD_V1, strlen(SEAL_HEAD_V1)) != 0)) {
        snprintf(msg, msg_size,
                 "%s is damaged: the store's seal from the last clean stop "
                 "cannot be read, so the store cannot be checked. %s",
                 seal, what_to_do);
        return ORIGO_E_CORRUPT;
    }
    size_t body_len = (size_t)(sig_line - text);
    uint8_t *signed_msg = malloc(sizeof(SEAL_DOMAIN) + body_len);
    if (!signed_msg)
        return ORIGO_E_NOMEM;
    memcpy(signed_msg, SEAL_DOMAIN, sizeof(SEAL_DOMAIN));
    memcpy(signed_msg + sizeof(SEAL_DOMAIN), text, body_len);
    int good = crypto_sign_verify_detached(sig, signed_msg,
                                           sizeof(SEAL_DOMAIN) + body_len,
                                           origo_key_public(key)) == 0;
    free(signed_msg);
    if (!good) {
        snprintf(msg, msg_size,
                 "%s is not signed by this validator's key: the seal was "
                 "damaged or edited while the node was stopped, so the store "
                 "cannot be trusted. %s",
                 seal, what_to_do);
        return ORIGO_E_CORRUPT;
    }
    uint64_t size;
    uint8_t hash[32];
    char expected[128];
    int v1 = strncmp(text, SEAL_HEAD_V1, strlen(SEAL_HEAD_V1)) == 0;
    int rc = v1 ? seal_hash_v1(store, &size, hash, msg, msg_size)
                : datadir_seal_hash(store, DATADIR_SEAL_CHUNK, seal_threads(),
                                    &size, hash, msg, msg_size);
    if (rc)
        return rc;
    seal_body(v1 ? SEAL_HEAD_V1 : SEAL_HEAD, size, hash, expected,
              sizeof(expected));
    if (strlen(expected) != body_len || memcmp(expected, text, body_len)) {
        snprintf(msg, msg_size,
                 "%s changed while the node was stopped: its size or "
                 "BLAKE2b-256 is not what the node sealed at its last clean "
                 "stop (%s): a disk that corrupts what it stores, or an edit. "
                 "%s",
                 store, seal, what_to_do);
        return ORIGO_E_CORRUPT;
    }
    /* Checked: the store is about to change, so the seal goes first. */
    if (unlink(seal) != 0 || fsync_dir(ledger_dir) != 0) {
        snprintf(msg, msg_size, "%s: %s", seal, strerror(errno));
        return ORIGO_E_IO;
    }
    return 0;
}
