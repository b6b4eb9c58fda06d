#!/usr/bin/env python3
"""The fault checker's own RFC 9162 code (clusterlib.merkle_root,
inclusion_ok, consistency_ok), which checks what nodes serve without the
node's code: the root of every prefix of the vectors' leaves, every inclusion and consistency proof of tests/vectors/merkle.json
(computed by an independent implementation) verifies, and each with one
hash changed, a hash missing, the wrong leaf or the wrong root does not.

usage: test_checker_proofs.py VECTORS_DIR"""
import json, os, sys

import clusterlib
from clusterlib import check

d = json.load(open(os.path.join(sys.argv[1], "merkle.json")))
leaves = [bytes.fromhex(h) for h in d["leaf_hashes_hex"]]
roots = {int(k): bytes.fromhex(v) for k, v in d["roots_by_size"].items()}
check(clusterlib.leaf_hash(bytes.fromhex(d["leaves_hex"][0])) == leaves[0],
      "leaf hash = SHA-256(0x00 || data)")
check(all(clusterlib.merkle_root(leaves[:n]) == roots[n] for n in range(1, len(leaves) + 1)),
      f"the root of every prefix of the {len(leaves)} leaves")

good = refused = tampered = 0
for v in d["inclusion"]:
    i, n = v["index"], v["tree_size"]
    path = [bytes.fromhex(h) for h in v["proof"]]
    good += clusterlib.inclusion_ok(i, n, leaves[i], path, roots[n])
    bad = []
    if path:
        bad.append((leaves[i], path[:-1], roots[n]))
        bad.append((leaves[i], [bytes(32)] + path[1:], roots[n]))
    bad.append((leaves[(i + 1) % len(leaves)], path, roots[n]))
    bad.append((leaves[i], path, bytes(32)))
    tampered += len(bad)
    refused += sum(not clusterlib.inclusion_ok(i, n, *b) for b in bad)
check(good == len(d["inclusion"]), f"{good} of {len(d['inclusion'])} inclusion proofs verify")
check(refused == tampered, f"{refused} of {tampered} tampered inclusion proofs refused")

good = refused = tampered = 0
for v in d["consistency"]:
    a, b = v["old_size"], v["new_size"]
    path = [bytes.fromhex(h) for h in v["proof"]]
    good += clusterlib.consistency_ok(a, b, roots[a], roots[b], path)
    if a == 0 or a == b:
        continue  # nothing to prove: any change of roots below is caught
    bad = [(roots[a], roots[b], path[:-1]),
           (roots[a], roots[b], path[:-1] + [bytes(32)]),
           (bytes(32), roots[b], path),
           (roots[a], bytes(32), path)]
    tampered += len(bad)
    refused += sum(not clusterlib.consistency_ok(a, b, *x) for x in bad)
check(good == len(d["consistency"]),
      f"{good} of {len(d['consistency'])} consistency proofs verify")
check(refused == tampered, f"{refused} of {tampered} tampered consistency proofs refused")
clusterlib.finish()
