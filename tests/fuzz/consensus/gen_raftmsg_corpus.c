/* Writes the seed corpus of fuzz_raftmsg: one valid encoding of every
 * message type (several for APPEND and SNAPSHOT) made by the real encoder,
 * and invalid variants of them (truncated, trailing byte, a flipped type
 * tag, a corrupted key). Run by hand after a wire format change:
 *   gen_raftmsg_corpus tests/fuzz/corpus/fuzz_raftmsg
 * Test tooling only; not part of the default build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origo/codec.h"
#include "raft.h"
#include "raftmsg.h"

static const char *out_dir;

static void write_file(const char *name, const uint8_t *data, size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", out_dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        exit(1);
    FILE *file = fopen(path, "wb");
    if (!file || (len && fwrite(data, 1, len, file) != len) || fclose(file)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* Writes the valid encoding and its invalid variants. */
static void emit(const char *name, const struct raft_msg *msg)
{
    origo_buf buf;
    origo_buf_init(&buf, RAFTMSG_MAX_FRAME);
    if (raftmsg_encode(msg, &buf) != 0) {
        fprintf(stderr, "cannot encode %s\n", name);
        exit(1);
    }
    char variant[256];
    snprintf(variant, sizeof(variant), "valid-%s", name);
    write_file(variant, buf.data, buf.len);
    snprintf(variant, sizeof(variant), "bad-truncated-%s", name);
    write_file(variant, buf.data, buf.len - 1);
    uint8_t *copy = malloc(buf.len + 1);
    if (!copy)
        exit(1);
    memcpy(copy, buf.data, buf.len);
    copy[buf.len] = 0xc0;
    snprintf(variant, sizeof(variant), "bad-trailing-%s", name);
    write_file(variant, copy, buf.len + 1);
    /* Byte 3 is the value of "t" (map header, 0xa1, 't', value). */
    copy[3] ^= 0x0c;
    snprintf(variant, sizeof(variant), "bad-type-%s", name);
    write_file(variant, copy, buf.len);
    copy[3] ^= 0x0c;
    copy[5] ^= 0x20; /* first letter of "from" */
    snprintf(variant, sizeof(variant), "bad-key-%s", name);
    write_file(variant, copy, buf.len);
    free(copy);
    origo_buf_close(&buf);
}

static struct raft_msg header(uint8_t type, uint64_t term)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = 1;
    m.to = 2;
    m.term = term;
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    struct raft_msg m = header(RAFT_MSG_PREVOTE, 6);
    m.u.vote.last_log_index = 300;
    m.u.vote.last_log_term = 5;
    emit("prevote", &m);
    m.type = RAFT_MSG_VOTE;
    m.u.vote.transfer = true;
    emit("vote", &m);
    m = header(RAFT_MSG_PREVOTE_RESP, 6);
    m.u.vote_resp.granted = true;
    emit("prevote-resp", &m);
    m.type = RAFT_MSG_VOTE_RESP;
    m.u.vote_resp.granted = false;
    emit("vote-resp", &m);

    static uint8_t block[300];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (uint8_t)i;
    uint8_t conf[RAFT_CONFIG_ENCODED_MAX];
    struct raft_config config = {
        .n_voters = 3, .n_learners = 1, .voters = {1, 2, 3}, .learners = {4}};
    size_t conf_len = raft_config_encode(&config, conf, sizeof(conf));
    struct raft_entry entries[4] = {
        {.term = 4, .index = 11, .type = RAFT_ENTRY_NOOP},
        {.term = 4, .index = 12, .data = {block, 20}},
        {.term = 5,
         .index = 13,
         .type = RAFT_ENTRY_CONFIG,
         .data = {conf, conf_len}},
        {.term = 5, .index = 14, .data = {block, sizeof(block)}},
    };
    m = header(RAFT_MSG_APPEND, 5);
    m.u.append.prev_index = 10;
    m.u.append.prev_term = 3;
    m.u.append.commit = 9;
    emit("append-empty", &m);
    m.u.append.entries = entries;
    m.u.append.n_entries = 4;
    emit("append-4", &m);
    m.u.append.n_entries = 1;
    emit("append-noop", &m);

    m = header(RAFT_MSG_APPEND_RESP, 5);
    m.u.append_resp.index = 14;
    emit("append-resp", &m);
    m.u.append_resp.reject = true;
    m.u.append_resp.hint_index = 7;
    m.u.append_resp.hint_term = 2;
    emit("append-resp-reject", &m);
    m = header(RAFT_MSG_HEARTBEAT, 5);
    m.u.heartbeat.commit = 1u << 20;
    emit("heartbeat", &m);
    m = header(RAFT_MSG_HEARTBEAT_RESP, 5);
    m.u.heartbeat_resp.last_index = UINT64_MAX;
    emit("heartbeat-resp", &m);

    m = header(RAFT_MSG_SNAPSHOT, 5);
    m.u.snapshot.meta.index = 1000;
    m.u.snapshot.meta.term = 4;
    m.u.snapshot.meta.config = config;
    m.u.snapshot.total_size = 600;
    m.u.snapshot.chunk = (struct raft_buf){block, sizeof(block)};
    emit("snapshot-first", &m);
    m.u.snapshot.offset = 300;
    m.u.snapshot.done = true;
    emit("snapshot-last", &m);
    m = header(RAFT_MSG_SNAPSHOT_RESP, 5);
    m.u.snapshot_resp.index = 1000;
    m.u.snapshot_resp.next_offset = 300;
    emit("snapshot-resp", &m);
    m.u.snapshot_resp.done = true;
    m.u.snapshot_resp.next_offset = 600;
    emit("snapshot-resp-done", &m);
    m = header(RAFT_MSG_TIMEOUT_NOW, 5);
    emit("timeout-now", &m);
    return 0;
}
