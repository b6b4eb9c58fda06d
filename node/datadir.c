/* The data directory's lock and the store's seal: see datadir.h. flock()
 * locks belong to the open file description, so a second open in the same
 * process is refused too, and the kernel drops the lock when the process
 * dies, however it dies: there is no stale lock to clean up. */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define SEAL_HEAD "origo store seal v1\n"
/* Signed as DOMAIN || body: no other Origo signature starts so. */
static const char SEAL_DOMAIN[] = "origo/store-seal/v1"; /* and its NUL */

/* Size and BLAKE2b-256 of a file, read whole. */
static int hash_file(const char *path, uint64_t *size, uint8_t hash[32],
                     char *msg, size_t msg_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msg_size, "%s: %s", path, strerror(errno));
        return ORIGO_E_IO;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return ORIGO_E_NOMEM;
    }
    *size = 0;
    ssize_t got;
    while ((got = read(fd, buf, cap)) > 0) {
        crypto_generichash_update(&st, buf, (unsigned long long)got);
        *size += (uint64_t)got;
    }
    int err = got < 0 ? errno : 0;
    free(buf);
    close(fd);
    if (err) {
        snprintf(msg, msg_size, "%s: %s", path, strerror(err));
        return ORIGO_E_IO;
    }
    crypto_generichash_final(&st, hash, 32);
    return 0;
}

/* The signed part of a seal. */
static int seal_body(uint64_t size, const uint8_t hash[32], char *out,
                     size_t out_size)
{
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), hash, 32);
    return snprintf(out, out_size, SEAL_HEAD "%" PRIu64 "\n%s\n", size, hex);
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
    int rc = hash_file(store, &size, hash, msg, msg_size);
    if (rc)
        return rc;
    int len = seal_body(size, hash, text, sizeof(text));
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
        sig_len != 64 || strncmp(text, SEAL_HEAD, strlen(SEAL_HEAD)) != 0) {
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
    int rc = hash_file(store, &size, hash, msg, msg_size);
    if (rc)
        return rc;
    seal_body(size, hash, expected, sizeof(expected));
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
