#!/usr/bin/env python3
"""A second, independent implementation of the lot index
(docs/formats/lot-index.md), written from the spec with hashlib only, to
make tests/vectors/lot-index.json. It shares no code with ledger/: the map
is rebuilt from scratch from the whole key set at every block (the C code
updates it in place), and proofs are found by walking that rebuilt tree.

usage: lot_index.py            print the vectors (JSON)
       lot_index.py --check F  exit 1 unless F holds exactly these vectors
"""
import base64, hashlib, json, struct, sys

ROLES = {"in": 1, "out": 2, "custody": 3, "quality": 4, "other": 5,
         "members": 6}
ZERO = bytes(32)
# The membership chain (role "members", empty lot) starts with the genesis:
# the step (leaf 2^64 - 1, block time 0, genesis hash); a stand-in genesis
# hash here.
GENESIS_LEAF = 2**64 - 1


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def key(role, lot):
    return sha(b"origo/lot-index/key/v1\0", bytes([ROLES[role]]), lot.encode())


def chain_step(head, leaf, block_time, event_id):
    return sha(b"origo/lot-index/chain/v2\0", head, struct.pack(">QQ", leaf, block_time),
               event_id)


def leaf_hash(k, count, head):
    return sha(b"origo/lot-index/leaf/v1\0", k, struct.pack(">Q", count), head)


def node_hash(left, right):
    return sha(b"origo/lot-index/node/v1\0", left, right)


def bit(k, i):
    return (k[i // 8] >> (7 - i % 8)) & 1


def subtree(items, depth):
    """The canonical subtree holding exactly `items` [(key, count, head)]:
    returns (hash, structure) where structure is None (empty), ("leaf",
    item) or ("node", left, right)."""
    if not items:
        return ZERO, None
    if len(items) == 1:
        k, c, h = items[0]
        return leaf_hash(k, c, h), ("leaf", items[0])
    lh, ls = subtree([it for it in items if bit(it[0], depth) == 0], depth + 1)
    rh, rs = subtree([it for it in items if bit(it[0], depth) == 1], depth + 1)
    return node_hash(lh, rh), ("node", (lh, ls), (rh, rs))


def prove(tree, k):
    """Walks `tree` (hash, structure) along k."""
    siblings, depth = [], 0
    h, st = tree
    while st is not None and st[0] == "node":
        (lh, ls), (rh, rs) = st[1], st[2]
        if bit(k, depth):
            siblings.append(lh)
            h, st = rh, rs
        else:
            siblings.append(rh)
            h, st = lh, ls
        depth += 1
    b64 = lambda b: base64.b64encode(b).decode()
    proof = {"siblings": [b64(s) for s in siblings]}
    if st is None:
        proof["end"] = "empty"
    else:
        lk, c, hd = st[1]
        proof["end"] = "leaf" if lk == k else "other"
        if lk != k:
            proof["other_key"] = b64(lk)
        proof["count"] = c
        proof["head"] = b64(hd)
    return proof


def verify(proof, k, root):
    """Recomputes the root from a proof (checks this program's proofs)."""
    d = base64.b64decode
    if proof["end"] == "empty":
        h = ZERO
    elif proof["end"] == "leaf":
        h = leaf_hash(k, proof["count"], d(proof["head"]))
    else:
        h = leaf_hash(d(proof["other_key"]), proof["count"], d(proof["head"]))
    sibs = [d(s) for s in proof["siblings"]]
    for i in range(len(sibs) - 1, -1, -1):
        h = node_hash(sibs[i], h) if bit(k, i) else node_hash(h, sibs[i])
    return h == root


def block_time_of(number):
    """The time (Unix ms) of the vectors' block `number`."""
    return 1_700_000_000_000 + 1000 * (number + 1)


def event_id(n):
    return sha(b"vector event", struct.pack(">Q", n))


# Blocks of (lot, role, leaf) entries, in log order; each event's ID is
# event_id(leaf). A lot can have several roles; one event can name several
# lots (a transform: inputs "out", outputs "in").
BLOCKS = [
    [("acme/cell/A-1", "other", 0), ("acme/cell/A-2", "other", 1)],
    [("acme/cell/A-1", "out", 2), ("acme/cell/A-2", "out", 2),
     ("acme/pack/P-1", "in", 2), ("acme/cell/A-1", "quality", 3)],
    [],
    [("acme/pack/P-1", "custody", 4), ("acme/pack/P-1", "custody", 5),
     ("acme/pack/P-1", "quality", 6)]
    + [(f"bulk/lot/L-{i:03d}", "other", 7 + i) for i in range(40)],
    [("", "members", 47), ("bulk/lot/L-000", "quality", 48)],
]
QUERIES = [
    ("acme/cell/A-1", "other"), ("acme/cell/A-1", "out"), ("acme/cell/A-1", "quality"),
    ("acme/cell/A-1", "in"), ("acme/pack/P-1", "custody"), ("acme/pack/P-1", "in"),
    ("acme/pack/P-1", "out"), ("bulk/lot/L-017", "other"), ("nobody/lot/X", "custody"),
    ("nobody/lot/E-0", "in"), ("", "members"),
]


def vectors():
    genesis_hash = sha(b"a stand-in genesis hash")
    chains = {key("members", ""):
              (1, chain_step(ZERO, GENESIS_LEAF, 0, genesis_hash))}
    blocks, size = [], 0
    for number, entries in enumerate(BLOCKS):
        block_time = block_time_of(number)
        for lot, role, leaf in entries:
            k = key(role, lot)
            count, head = chains.get(k, (0, ZERO))
            chains[k] = (count + 1,
                         chain_step(head, leaf, block_time, event_id(leaf)))
            size = max(size, leaf + 1)
        items = sorted((k, c, h) for k, (c, h) in chains.items())
        tree = subtree(items, 0)
        blocks.append({
            "entries": [{"lot": l, "role": r, "leaf": n,
                         "block_time": block_time,
                         "event_id": event_id(n).hex()} for l, r, n in entries],
            "tree_size": size,
            "index_root": tree[0].hex(),
        })
    proofs = []
    for lot, role in QUERIES:
        k = key(role, lot)
        p = prove(tree, k)
        assert verify(p, k, tree[0])
        proofs.append({"lot": lot, "role": role, "key": k.hex(), "proof": p})
    log_root = sha(b"a stand-in log root")
    note = "origo lot index v1\n%s\n%d\n%s\n%s\n" % (
        "origo.test/lot-index", size, base64.b64encode(log_root).decode(),
        base64.b64encode(tree[0]).decode())
    return {
        "about": "lot index vectors (docs/formats/lot-index.md), made by "
                 "tests/vectors/lot_index.py",
        "genesis_hash": genesis_hash.hex(),
        "blocks": blocks,
        "proofs": proofs,
        "note": {"origin": "origo.test/lot-index", "tree_size": size,
                 "log_root": log_root.hex(), "index_root": tree[0].hex(),
                 "body": note},
    }


def main():
    text = json.dumps(vectors(), indent=1) + "\n"
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            if f.read() != text:
                print(f"{sys.argv[2]} differs from what lot_index.py computes")
                sys.exit(1)
        print("lot-index vectors match")
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
