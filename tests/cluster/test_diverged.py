#!/usr/bin/env python3
"""The divergence of 2026-12-06, replayed from its own stores
(docs/incidents/2026-12-06-divergence-stores.tgz): v2 holds a committed
entry (term 21, index 645) that v1 and v3 do not. Started as they were
left, v1 and v3 go on serving the same history, and v2, sent the leader's
appends, must stop: exit status 3, ORIGO_E_DIVERGED and a hint in its log,
instead of acknowledging its commit index and probing forever while it
serves a history the others do not hold (what the node did before). Its
events, blocks and Raft log are left as they were (kept for analysis).

The stores come from a fault run whose validators had addresses
10.213.201.1-3 in the genesis: the three nodes run in a network namespace
of the test's own, where loopback holds those addresses. Needs root.

usage: test_diverged.py SOURCE_ROOT ORIGO_NODE"""
import hashlib, json, os, subprocess, sys, tarfile, tempfile

import clusterlib
from clusterlib import check, until

ROOT, NODE = sys.argv[1], sys.argv[2]
if os.geteuid() != 0:
    print("diverged: SKIP, needs root (a network namespace)")
    sys.exit(77)

TGZ = os.path.join(ROOT, "docs/incidents/2026-12-06-divergence-stores.tgz")
NS = f"origo-div-{os.getpid()}"
work = tempfile.mkdtemp(prefix="origo-diverged-")
with tarfile.open(TGZ) as t:
    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
        t.extractall(work, filter="data")
    else:
        t.extractall(work)
base = os.path.join(work, "origo-faults-r6avl2w4")
names = ["v1", "v2", "v3"]
ip = {n: f"10.213.201.{i}" for i, n in enumerate(names, 1)}


def store_digest(n):
    """The events, blocks and Raft entries a store holds (its term and vote
    may move: the node records the terms it hears of)."""
    h = hashlib.sha256()
    for table in ("events", "blocks", "raft_entries"):
        h.update(subprocess.run(["mdb_dump", "-s", table, f"{base}/{n}/ledger"],
                                capture_output=True, check=True).stdout)
    return h.hexdigest()


before = store_digest("v2")
for n in names:
    conf = open(f"{base}/{n}.conf").read().replace("/tmp/origo-faults-r6avl2w4", base)
    open(f"{base}/{n}.conf", "w").write(conf)

subprocess.run(["ip", "netns", "add", NS], check=True)
procs = {}
try:
    ns = ["ip", "netns", "exec", NS]
    subprocess.run(ns + ["ip", "link", "set", "lo", "up"], check=True)
    for n in names:
        subprocess.run(ns + ["ip", "addr", "add", f"{ip[n]}/32", "dev", "lo"], check=True)
    for n in names:
        procs[n] = subprocess.Popen(ns + [NODE, "--config", f"{base}/{n}.conf"],
                                    stdout=open(f"{base}/{n}.run.log", "w"),
                                    stderr=subprocess.STDOUT)

    def status(n):
        r = subprocess.run(ns + ["curl", "-s", "-m", "2", f"http://{ip[n]}:7401/v1/status"],
                           capture_output=True, text=True)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    try:
        code = procs["v2"].wait(timeout=60)
    except subprocess.TimeoutExpired:
        code = None
    log = open(f"{base}/v2.run.log").read()
    check(code == 3, f"v2 stopped with exit status 3 (got {code})")
    check("ORIGO_E_DIVERGED" in log and "committed log differs from the leader" in log
          and "member.remove" in log,
          "its log says why (ORIGO_E_DIVERGED) and what to do")
    check(store_digest("v2") == before,
          "its events, blocks and Raft entries are left as they were, for analysis")
    # The majority's history goes on, the same on both.
    both = until(lambda: all(status(n) and status(n)["tree_size"] >= 815 for n in ("v1", "v3")),
                 30)
    sts = {n: status(n) for n in ("v1", "v3")}
    check(bool(both) and sts["v1"]["tree_size"] == sts["v3"]["tree_size"],
          f"v1 and v3 serve one tree ({ {n: s and s['tree_size'] for n, s in sts.items()} })")
finally:
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    subprocess.run(["ip", "netns", "del", NS])
    if not clusterlib.failures:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"kept {work}")
clusterlib.finish()
