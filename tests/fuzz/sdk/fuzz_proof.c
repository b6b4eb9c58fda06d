/* libFuzzer harness for the tlog-proof@v1 parser. Properties: an accepted
 * proof formats back to the very same bytes, its checkpoint is a valid
 * checkpoint of its note text, and verification under a fixed policy (the
 * key of tests/vectors/signed-note.json) never crashes and accepts only
 * what the parser accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "origo/error.h"
#include "origo/keys.h"
#include "origo/note.h"
#include "origo/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char VKEY[] = "origo.example/network-1+032798ca+"
                           "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static origo_vkey signer;
    static int ready;
    if (!ready) {
        if (origo_vkey_parse(VKEY, strlen(VKEY), &signer) != 0)
            abort();
        ready = 1;
    }
    origo_note_policy policy = {.signers = &signer, .signer_count = 1};
    origo_tlog_proof *proof = NULL;
    int parsed = origo_tlog_proof_parse(data, size, &proof);
    int verified =
        origo_tlog_proof_verify(data, size, &policy, NULL, NULL, NULL);
    if (parsed != 0) {
        if (proof || verified != parsed)
            abort();
        return 0;
    }
    origo_buf out;
    origo_buf_init(&out, ORIGO_TLOG_PROOF_MAX_BYTES);
    if (origo_tlog_proof_format(proof, &out) != 0 || out.len != size ||
        memcmp(out.data, data, size) != 0)
        abort();
    origo_buf_close(&out);
    origo_checkpoint cp;
    if (origo_checkpoint_parse(proof->note->text, proof->note->text_len, &cp) !=
            0 ||
        cp.tree_size != proof->checkpoint.tree_size ||
        memcmp(cp.root, proof->checkpoint.root, 32) != 0)
        abort();
    if (proof->hash_count > ORIGO_MERKLE_MAX_PROOF)
        abort();
    origo_tlog_proof_free(proof);
    return 0;
}
