/* The membership history table (ledger/members.h): rows keyed by public key
 * and the leaf index from which they apply, values (version, active, roles,
 * name). Genesis members apply from leaf 0; a member event at leaf N writes
 * a row applying from N + 1. */
#include "members.h"

#include <stdlib.h>
#include <string.h>

#include "origo/error.h"
#include "origo/event.h"

#define ROW_FIXED (1 + 1 + 4 + 32 + 8)

int members_put(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                uint64_t from_leaf, int active, uint32_t roles,
                const char *name, size_t name_len)
{
    return members_put_ex(led, txn, pub, from_leaf, active, roles, name,
                          name_len, pub, 0);
}

int members_put_ex(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                   uint64_t from_leaf, int active, uint32_t roles,
                   const char *name, size_t name_len,
                   const uint8_t identity[32], uint64_t revoked_from)
{
    uint8_t key_buf[40], val_buf[ROW_FIXED + GENESIS_NAME_MAX];
    if (name_len > GENESIS_NAME_MAX)
        return ORIGO_E_INVAL;
    memcpy(key_buf, pub, 32);
    store_put_be64(key_buf + 32, from_leaf);
    val_buf[0] = 1;
    val_buf[1] = active ? 1 : 0;
    store_put_be32(val_buf + 2, roles);
    memcpy(val_buf + 6, identity, 32);
    store_put_be64(val_buf + 38, revoked_from);
    if (name_len)
        memcpy(val_buf + ROW_FIXED, name, name_len);
    MDB_val key = {40, key_buf}, val = {ROW_FIXED + name_len, val_buf};
    return store_err(mdb_put(txn, led->members, &key, &val, 0));
}

static int decode_row(const MDB_val *key, const MDB_val *val,
                      member_record *out)
{
    const uint8_t *v = val->mv_data;
    if (key->mv_size != 40 || val->mv_size < ROW_FIXED ||
        val->mv_size > ROW_FIXED + GENESIS_NAME_MAX || v[0] != 1 || v[1] > 1)
        return ORIGO_E_CORRUPT;
    out->active = v[1];
    out->roles = store_get_be32(v + 2);
    memcpy(out->identity, v + 6, 32);
    out->revoked_from = store_get_be64(v + 38);
    out->from = store_get_be64((const uint8_t *)key->mv_data + 32);
    memcpy(out->name, v + ROW_FIXED, val->mv_size - ROW_FIXED);
    out->name[val->mv_size - ROW_FIXED] = '\0';
    return 0;
}

int members_get(ledger *led, MDB_txn *txn, const uint8_t pub[32],
                uint64_t position, member_record *out)
{
    MDB_cursor *cur;
    uint8_t key_buf[40];
    int rc = mdb_cursor_open(txn, led->members, &cur);
    if (rc)
        return store_err(rc);
    memcpy(key_buf, pub, 32);
    store_put_be64(key_buf + 32, position);
    MDB_val key = {40, key_buf}, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0 && memcmp(key.mv_data, key_buf, 40) != 0)
        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    if (rc == 0 && (key.mv_size != 40 || memcmp(key.mv_data, pub, 32) != 0))
        rc = MDB_NOTFOUND;
    if (rc == 0) {
        member_record rec;
        rc = decode_row(&key, &val, &rec);
        if (rc == 0)
            *out = rec;
    } else {
        rc = store_err(rc);
    }
    mdb_cursor_close(cur);
    return rc;
}

int members_validators(ledger *led, MDB_txn *txn, uint64_t tree_size,
                       store_validator **out, size_t *count)
{
    return members_with_role(led, txn, tree_size, ORIGO_ROLE_VALIDATOR, out,
                             count);
}

int members_with_role(ledger *led, MDB_txn *txn, uint64_t tree_size,
                      uint32_t role, store_validator **out, size_t *count)
{
    MDB_cursor *cur;
    MDB_val key, val;
    store_validator *list = NULL;
    size_t n = 0, cap = 0;
    int rc = mdb_cursor_open(txn, led->members, &cur);
    if (rc)
        return store_err(rc);
    /* Rows of one key are adjacent and ascending by `from`; keep the last
     * row with from <= tree_size for each key. */
    member_record cur_rec = {0}, rec = {0};
    uint8_t cur_pub[32] = {0};
    int have = 0;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        int end = rc == MDB_NOTFOUND;
        if (rc && !end) {
            rc = store_err(rc);
            goto err_after_cursor;
        }
        if (!end && (rc = decode_row(&key, &val, &rec)))
            goto err_after_cursor;
        if (have && (end || memcmp(key.mv_data, cur_pub, 32) != 0)) {
            if (cur_rec.active && (cur_rec.roles & role)) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 8;
                    store_validator *grown = realloc(list, cap * sizeof(*list));
                    if (!grown) {
                        rc = ORIGO_E_NOMEM;
                        goto err_after_cursor;
                    }
                    list = grown;
                }
                memcpy(list[n].name, cur_rec.name, sizeof(list[n].name));
                memcpy(list[n].pub, cur_pub, 32);
                n++;
            }
            have = 0;
        }
        if (end)
            break;
        if (rec.from <= tree_size) {
            cur_rec = rec;
            memcpy(cur_pub, key.mv_data, 32);
            have = 1;
        }
    }
    mdb_cursor_close(cur);
    *out = list;
    *count = n;
    return 0;
err_after_cursor:
    mdb_cursor_close(cur);
    free(list);
    return rc;
}

int members_validator_count(ledger *led, MDB_txn *txn, uint64_t tree_size,
                            size_t *count)
{
    store_validator *list;
    size_t n;
    int rc = members_validators(led, txn, tree_size, &list, &n);
    if (rc)
        return rc;
    free(list);
    *count = n;
    return 0;
}

size_t members_quorum(const ledger *led, size_t validator_count)
{
    size_t majority = validator_count / 2 + 1;
    size_t minimum = led->gen->checkpoint_quorum;
    return majority > minimum ? majority : minimum;
}

/* ---- names ----------------------------------------------------------------
 */

int members_name_get(ledger *led, MDB_txn *txn, const char *name, size_t len,
                     uint8_t pub[32])
{
    if (len == 0 || len > GENESIS_NAME_MAX)
        return ORIGO_E_NOTFOUND;
    MDB_val key = {len, (void *)name}, val;
    int rc = mdb_get(txn, led->member_names, &key, &val);
    if (rc)
        return store_err(rc);
    if (val.mv_size != 32)
        return ORIGO_E_CORRUPT;
    memcpy(pub, val.mv_data, 32);
    return 0;
}

int members_name_put(ledger *led, MDB_txn *txn, const char *name, size_t len,
                     const uint8_t pub[32])
{
    MDB_val key = {len, (void *)name}, val = {32, (void *)pub};
    return store_err(mdb_put(txn, led->member_names, &key, &val, 0));
}

/* ---- public lists ---------------------------------------------------------
 */

int ledger_members_with_role(ledger *led, MDB_txn *txn, uint64_t tree_size,
                             uint32_t role, ledger_party **out, size_t *count)
{
    MDB_txn *use;
    int own, rc = store_read_begin(led, txn, &use, &own);
    if (rc)
        return rc;
    rc = members_with_role(led, use, tree_size, role ? role : ORIGO_ROLE_ALL,
                           out, count);
    store_read_end(use, own);
    return rc;
}

int ledger_validators(ledger *led, MDB_txn *txn, uint64_t tree_size,
                      ledger_party **out, size_t *count)
{
    return ledger_members_with_role(led, txn, tree_size, ORIGO_ROLE_VALIDATOR,
                                    out, count);
}

int members_change_leaves(ledger *led, MDB_txn *txn, uint64_t tree_size,
                          int (*fn)(void *ctx, uint64_t leaf), void *ctx)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc = store_err(mdb_cursor_open(txn, led->members, &cur));
    if (rc)
        return rc;
    int m = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    for (; m == 0 && rc == 0; m = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != 40) {
            rc = ORIGO_E_CORRUPT;
            break;
        }
        uint64_t from = store_get_be64((const uint8_t *)key.mv_data + 32);
        if (from > 0 && from - 1 < tree_size)
            rc = fn(ctx, from - 1);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && m != MDB_NOTFOUND)
        rc = store_err(m);
    return rc;
}
