/* Offline verification of trace reports (docs/formats/trace-report.md):
 * checks one JSON file against a trust set of validator keys with nothing
 * but liborigo and jansson (no LMDB, no network), so it can move into the
 * SDK unchanged.
 *
 * A report verifies when: its checkpoint is signed by a quorum of the
 * trusted validator keys and names the report's origin and tree size;
 * every event's envelope is canonical, of this network, strictly signed by
 * its submitter, and included at its leaf index by its proof under the
 * checkpoint's root; and the lots, depths, edges, cycle flag and cycle
 * edges, depth_limited flag, custodians and holds claimed are exactly those
 * that the included events imply for the query stated in the report, with
 * no event left unused.
 *
 * A v1 report cannot show that the ledger holds no further event that
 * would add to the answer. A v2 report can (the cosigned lot index proves
 * each chain complete), and its verifier also replays who may state what
 * (report_authority.h) from the genesis, the membership chain and the
 * answer lots' chains it carries.
 *
 * Any thread; no global state. */
#ifndef ORIGO_LEDGER_REPORT_VERIFY_H
#define ORIGO_LEDGER_REPORT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <origo/note.h>

/* report_authority.h: one event's attribution. */
struct rauth_signer;

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define REPORT_WUR __attribute__((warn_unused_result))
#else
#define REPORT_WUR
#endif

/* Largest report file accepted (bytes). */
#define REPORT_MAX_BYTES (128u << 20)

/* What a verified report holds. */
struct report_verdict {
    uint64_t tree_size;
    size_t lots;
    size_t edges;
    size_t events;
    size_t signers; /* distinct trusted validator signatures */
    int cycle;      /* the answer contains a cycle */
    int recall;     /* the report is a recall scope */
    size_t holds;   /* holds and recalls in force over the answer */
    /* v2: every event was checked against the authority rules
     * (docs/formats/authority.md) from the genesis, the membership chain
     * and the lots' chains the report proves. */
    int authority;
    size_t third_party; /* events by a member that neither owned, held
                           nor received their first answer lot */
    size_t revoked;     /* events dated after their key's revocation */
};

/* Verifies report bytes (exactly `len`) under `policy` (trusted validator
 * keys and quorum, as origo_note_verify() takes them). *verdict (may be
 * NULL) is written on success. On failure `errbuf` (may be NULL) says what
 * failed, naming the JSON field ("events[3].proof[2]") and what was
 * expected.
 * Returns 0 when the report verifies; ORIGO_E_JSON (malformed JSON or a
 * field of the wrong type); ORIGO_E_VERSION (unknown format);
 * ORIGO_E_NOTE_QUORUM, ORIGO_E_SIGNATURE, ORIGO_E_NOTE_FORMAT,
 * ORIGO_E_CHECKPOINT, ORIGO_E_ORIGIN (the checkpoint); ORIGO_E_PROOF,
 * ORIGO_E_PROOF_SIZE, ORIGO_E_TREE_SIZE (an inclusion proof); the envelope
 * errors of origo_envelope_verify(); ORIGO_E_REPORT_CLAIM when the claimed
 * answer differs from what the events imply; ORIGO_E_TOOBIG; ORIGO_E_NOMEM. */
REPORT_WUR int report_verify(const uint8_t *data, size_t len,
                             const origo_note_policy *policy,
                             struct report_verdict *verdict, char *errbuf,
                             size_t errlen);

/* report_verify(), and for a v2 report the attribution of every included
 * event, in leaf order (report_authority.h: the signer's member name and
 * roles at its leaf, how it stood to the event's first answer lot, and
 * whether it was dated after its key's revocation): *signers (malloc()ed,
 * the caller frees; NULL for a v1 report) and *count. */
REPORT_WUR int report_verify_attributed(const uint8_t *data, size_t len,
                                        const origo_note_policy *policy,
                                        struct report_verdict *verdict,
                                        struct rauth_signer **signers,
                                        size_t *count, char *errbuf,
                                        size_t errlen);

/* Reads the file at `path` and verifies it with report_verify() under the
 * trust set `keys` (the validators' verifier keys, <origo/keys.h>) and
 * `quorum` (0 = a majority of the distinct keys); no witnesses required.
 * Error messages start with the path. Returns report_verify()'s codes plus
 * ORIGO_E_IO / ORIGO_E_NOTFOUND (cannot read the file). */
REPORT_WUR int report_verify_file(const char *path, const origo_vkey *keys,
                                  size_t key_count, unsigned quorum,
                                  struct report_verdict *verdict, char *errbuf,
                                  size_t errlen);

/* Returns 1 when `data` parses as a JSON object whose "format" is
 * origo-trace-report/v1 (a trace report), else 0; verifies nothing. For
 * dispatchers such as `origo verify` that accept several file kinds. */
int report_is_report(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
