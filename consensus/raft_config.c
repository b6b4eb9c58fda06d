/* Cluster configurations of the Raft core: membership queries and the
 * byte encoding that CONFIG log entries carry. Kept apart from the protocol
 * logic so the log storage and codec can use it without the rest. */
#include "raft.h"

#include <string.h>

#include "origo/error.h"

static bool contains(const uint64_t *ids, uint32_t n, uint64_t id)
{
    for (uint32_t i = 0; i < n; i++) {
        if (ids[i] == id) {
            return true;
        }
    }
    return false;
}

bool raft_config_is_voter(const struct raft_config *c, uint64_t id)
{
    return contains(c->voters, c->n_voters, id);
}

bool raft_config_is_learner(const struct raft_config *c, uint64_t id)
{
    return contains(c->learners, c->n_learners, id);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

size_t raft_config_encode(const struct raft_config *c, uint8_t *buf, size_t cap)
{
    if (c->n_voters > RAFT_MAX_MEMBERS || c->n_learners > RAFT_MAX_MEMBERS) {
        return 0;
    }
    size_t need = 8 + 8 * ((size_t)c->n_voters + c->n_learners);
    if (cap < need) {
        return 0;
    }
    put_u32(buf, c->n_voters);
    put_u32(buf + 4, c->n_learners);
    uint8_t *p = buf + 8;
    for (uint32_t i = 0; i < c->n_voters; i++, p += 8) {
        put_u64(p, c->voters[i]);
    }
    for (uint32_t i = 0; i < c->n_learners; i++, p += 8) {
        put_u64(p, c->learners[i]);
    }
    return need;
}

int raft_config_check(const struct raft_config *c)
{
    if (c->n_voters > RAFT_MAX_MEMBERS || c->n_learners > RAFT_MAX_MEMBERS) {
        return ORIGO_E_RAFT_CONFIG;
    }
    for (uint32_t i = 0; i < c->n_voters; i++) {
        uint64_t id = c->voters[i];
        if (id == RAFT_NONE || contains(c->voters, i, id)) {
            return ORIGO_E_RAFT_CONFIG;
        }
    }
    for (uint32_t i = 0; i < c->n_learners; i++) {
        uint64_t id = c->learners[i];
        if (id == RAFT_NONE || contains(c->learners, i, id) ||
            contains(c->voters, c->n_voters, id)) {
            return ORIGO_E_RAFT_CONFIG;
        }
    }
    return 0;
}

int raft_config_decode(const uint8_t *buf, size_t len, struct raft_config *out)
{
    struct raft_config c;
    if (len < 8) {
        return ORIGO_E_RAFT_CONFIG;
    }
    memset(&c, 0, sizeof(c));
    c.n_voters = get_u32(buf);
    c.n_learners = get_u32(buf + 4);
    if (c.n_voters > RAFT_MAX_MEMBERS || c.n_learners > RAFT_MAX_MEMBERS ||
        len != 8 + 8 * ((size_t)c.n_voters + c.n_learners)) {
        return ORIGO_E_RAFT_CONFIG;
    }
    const uint8_t *p = buf + 8;
    for (uint32_t i = 0; i < c.n_voters; i++, p += 8) {
        c.voters[i] = get_u64(p);
    }
    for (uint32_t i = 0; i < c.n_learners; i++, p += 8) {
        c.learners[i] = get_u64(p);
    }
    int rc = raft_config_check(&c);
    if (rc != 0) {
        return rc;
    }
    *out = c;
    return 0;
}

const char *raft_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_PRE_CANDIDATE:
        return "pre-candidate";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_LEADER:
        return "leader";
    }
    return "unknown";
}

const char *raft_msg_type_name(uint8_t type)
{
    static const char *const names[] = {
        "none",           "prevote",  "prevote_resp",  "vote",
        "vote_resp",      "append",   "append_resp",   "heartbeat",
        "heartbeat_resp", "snapshot", "snapshot_resp", "timeout_now",
    };
    if (type > RAFT_MSG_TYPE_MAX) {
        return "unknown";
    }
    return names[type];
}
