/* Fuzz harness of the Raft message codec. Properties: decoding never
 * crashes or leaks; an accepted input re-encodes to exactly the same bytes;
 * the re-encoded bytes decode to the same message again. Any failure
 * aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "raft.h"
#include "raftmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_msg msg;
    if (raftmsg_decode(data, size, &msg) != 0)
        return 0;
    origo_buf buf;
    origo_buf_init(&buf, RAFTMSG_MAX_FRAME);
    if (raftmsg_encode(&msg, &buf) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    struct raft_msg again;
    if (raftmsg_decode(buf.data, buf.len, &again) != 0 ||
        again.type != msg.type || again.term != msg.term)
        abort();
    raftmsg_release(&again);
    raftmsg_release(&msg);
    origo_buf_close(&buf);
    return 0;
}
