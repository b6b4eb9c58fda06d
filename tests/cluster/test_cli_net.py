#!/usr/bin/env python3
"""The origo CLI's network verbs, through the real binary, against a real
local network started with deploy/local-cluster.

submit (with failover past a dead node, and idempotent: submitting the
same event again gives its first leaf), get, status, checkpoint (with a
state file), prove and trace --node (checked against the trust file),
and their errors: no node reachable, an unknown event, a key that is not
a member, a trust file of other keys (refused checkpoint and proof), and a
history rewritten behind a state file (the network's ledgers wiped and
refilled with other events: refused as a fork, naming both sizes).

usage: test_cli_net.py SOURCE_ROOT ORIGO_NODE ORIGO_CLI
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, threading

import clusterlib
from clusterlib import check

ROOT, NODE, CLI = sys.argv[1], sys.argv[2], sys.argv[3]
work = tempfile.mkdtemp(prefix="origo-cli-net-")
env = dict(os.environ, ORIGO_BIN=CLI, ORIGO_NODE_BIN=NODE)
env.pop("ORIGO_NODE", None)
net = f"{work}/net"


def run(*args, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, input=stdin,
                          env=env, timeout=120)


def cluster(*args):
    r = run(f"{ROOT}/deploy/local-cluster", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def read_http(sock, first=b""):
    """One HTTP message (head and Content-Length body) from sock."""
    data = first
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length: *(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(body) < n:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def dropping_proxy(port):
    """A proxy to 127.0.0.1:port that, for the first POST, forwards the
    request, waits for the node's whole answer and then closes the client's
    connection without it: the submission happened, the client cannot know."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    state = {"dropped": 0}

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                req = read_http(c)
                if req is None:
                    continue
                with socket.create_connection(("127.0.0.1", port)) as u:
                    u.sendall(req)
                    resp = read_http(u)
                if req.startswith(b"POST") and state["dropped"] == 0:
                    state["dropped"] = 1
                    continue  # the answer is lost with the connection
                if resp:
                    c.sendall(resp)

    threading.Thread(target=serve, daemon=True).start()
    return srv, state


def event(key, lot, origin):
    r = run(CLI, "event", "--key", key, "--net", origin, "--type", "lot.create",
            "--lot", f"{lot},10,pcs", "--item", "cell")
    assert r.returncode == 0, r.stderr
    return r.stdout


try:
    cluster("up", net)
    urls = open(f"{net}/nodes.txt").read().split()
    trust = f"{net}/trust.txt"
    origin = re.search(r"^origin (\S+)", open(trust).read(), re.M).group(1)
    nodes = [a for u in urls for a in ("--node", u)]

    # A member to submit with: the admin admits it.
    r = run(CLI, "keygen", "--name", "acme", "--out", f"{work}/acme.key")
    pub = re.search(r"public key: +(\S+)", r.stdout).group(1)
    with open(f"{work}/add.json", "w") as f:
        json.dump({"net": origin, "type": "member.add", "member": pub, "name": "acme",
                   "roles": ["supplier"], "owns": ["party:acme"]}, f)
    r = run(CLI, "event", "--key", f"{net}/admin.key", "--json", f"{work}/add.json")
    r = run(CLI, "submit", *nodes, "-", stdin=r.stdout)
    check(r.returncode == 0 and r.stdout.startswith("committed"),
          "submit: the admin's member.add commits")

    # Failover: the first node given is dead (a port nobody listens on).
    ev = event(f"{work}/acme.key", "acme/cell/A-1", origin)
    eid = json.loads(ev)["id"]
    r = run(CLI, "submit", "--node", "http://127.0.0.1:9", *nodes, "-", stdin=ev)
    m = re.match(r"committed (\w+) leaf (\d+)", r.stdout)
    check(r.returncode == 0 and m and m.group(1) == eid,
          "submit fails over past a node that is down")
    leaf = int(m.group(2)) if m else -1
    r = run(CLI, "submit", *nodes[2:], "-", stdin=ev)
    check(r.returncode == 0 and f"leaf {leaf} " in r.stdout,
          "submitting the same event again (another node) gives its first leaf")
    r = run(CLI, "submit", "--json", *nodes, "-", stdin=ev)
    check(r.returncode == 0 and json.loads(r.stdout)[0]["leaf"] == leaf, "submit --json")

    # A dropped connection after the node committed: the client sends the
    # same envelope again and gets the first commit; one leaf, not two.
    def tree_size():
        r = run(CLI, "status", "--json", "--node", urls[0])
        return json.loads(r.stdout.split(": ", 1)[1])["tree_size"]
    before = tree_size()
    proxy, pstate = dropping_proxy(int(urls[0].rsplit(":", 1)[1]))
    ev2 = event(f"{work}/acme.key", "acme/cell/A-2", origin)
    r = run(CLI, "submit", "--node", f"http://127.0.0.1:{proxy.getsockname()[1]}", "-", stdin=ev2)
    proxy.close()
    m2 = re.match(r"committed (\w+) leaf (\d+)", r.stdout)
    g = run(CLI, "get", "--json", *nodes, json.loads(ev2)["id"])
    check(pstate["dropped"] == 1 and r.returncode == 0 and m2 and
          json.loads(g.stdout)["leaf"] == int(m2.group(2)) and tree_size() == before + 1,
          "after a dropped connection the retry gets the first commit: exactly one leaf")

    r = run(CLI, "submit", *nodes, "--key", f"{work}/acme.key", "--net", origin,
            "--type", "lot.create", "--lot", "acme/cell/A-3,5,pcs", "--item", "cell")
    check(r.returncode == 0 and r.stdout.startswith("committed"),
          "submit builds the event from origo event's flags")

    r = run(CLI, "get", *nodes, eid)
    check(r.returncode == 0 and r.stdout.startswith(f"{eid} committed at leaf {leaf} in block"),
          "get: its status, for humans")
    r = run(CLI, "get", "--json", *nodes, eid)
    check(r.returncode == 0 and json.loads(r.stdout)["leaf"] == leaf, "get --json: for scripts")
    r = run(CLI, "get", *nodes, "--key", f"{work}/acme.key", eid)
    check(r.returncode == 0 and '"type": "lot.create"' in r.stdout and "acme/cell/A-1" in r.stdout,
          "get --key: the event itself too")
    r = run(CLI, "get", *nodes, "0" * 64)
    check(r.returncode == 1 and "ORIGO_E_NOTFOUND" in r.stderr, "get: an unknown event, exit 1")
    r = run(CLI, "get", *nodes, "--key", f"{work}/acme.key", "--trust", trust, "--lot", "acme/cell/A-1")
    check(r.returncode == 0 and "1 event names acme/cell/A-1" in r.stdout and eid in r.stdout,
          "get --lot lists the lot's events, each checked against the trust file")
    r = run(CLI, "get", *nodes, "--trust", trust, "--block", "2")
    check(r.returncode == 0 and "part of the trusted history" in r.stdout,
          "get --block prints a header checked against the trusted history")
    r = run(CLI, "get", *nodes, "--trust", trust, "--block", "9999")
    check(r.returncode == 1, "get --block of a block that does not exist: exit 1")

    r = run(CLI, "status", *nodes)
    check(r.returncode == 0 and r.stdout.count("(leader)") == 1 and r.stdout.count("term") == 3,
          "status: each node, one leader")

    r = run(CLI, "checkpoint", *nodes, "--trust", trust, "--state", f"{work}/state")
    check(r.returncode == 0 and r.stdout.startswith(origin + "\n"),
          "checkpoint: fetched and checked against the trust file")
    r = run(CLI, "prove", *nodes, "--key", f"{work}/acme.key", "--trust", trust,
            "--event", eid, "--out", f"{work}/a.proof")
    v = run(CLI, "verify", "--trust", trust, f"{work}/a.proof")
    check(r.returncode == 0 and v.returncode == 0, "prove --node writes a proof that verifies")
    r = run(CLI, "trace", *nodes, "--key", f"{work}/acme.key", "--trust", trust,
            "--lot", "acme/cell/A-1", "--forward", "--proofs", "--out", f"{work}/t.json")
    v = run(CLI, "verify", "--trust", trust, f"{work}/t.json")
    check(r.returncode == 0 and "verified at tree size" in r.stdout and v.returncode == 0,
          "trace --node: a checked report, written and verifiable")

    # member add|update|remove signed by the admin; a second removal is
    # refused by the leader's pre-validation (never in the log); trust --genesis writes the trust file local-cluster wrote.
    r = run(CLI, "keygen", "--name", "beta", "--out", f"{work}/beta.key")
    bpub = re.search(r"public key: +(\S+)", r.stdout).group(1)
    admin = ["--key", f"{net}/admin.key", "--member", bpub]
    r1 = run(CLI, "member", "add", *nodes, *admin, "--name", "beta", "--roles", "supplier",
             "--owns", "party:beta")
    r2 = run(CLI, "member", "update", *nodes, *admin, "--name", "beta", "--roles",
             "supplier,plant")
    r3 = run(CLI, "member", "remove", *nodes, *admin)
    r4 = run(CLI, "member", "remove", *nodes, *admin)
    check(all(r.returncode == 0 and "committed" in r.stdout for r in (r1, r2, r3)),
          "member add, update and remove commit")
    check(r4.returncode == 1 and "REFUSED ORIGO_E_NOTFOUND" in r4.stdout,
          "removing a non-member is refused, exit 1")
    import urllib.request
    metrics = b"".join(urllib.request.urlopen(u + "/metrics").read() for u in urls)
    code4 = re.search(r"REFUSED (ORIGO_E_\w+)", r4.stdout)
    check(code4 and f'origo_refused_total{{code="{code4.group(1)}"}}'.encode() in metrics,
          "/metrics counts refusals by reason")
    r = run(CLI, "member", "add", *nodes, "--key", f"{work}/acme.key", "--member", bpub,
            "--name", "beta", "--roles", "supplier")
    check(r.returncode == 1 and "REFUSED ORIGO_E_ROLE" in r.stdout,
          "a member that is no admin cannot admit one")
    r = run(CLI, "trust", "--genesis", f"{net}/genesis.json", "--out", f"{work}/trust2.txt")
    body = lambda p: [l for l in open(p).read().splitlines() if not l.startswith("#")]
    check(r.returncode == 0 and body(f"{work}/trust2.txt") == body(trust),
          "trust --genesis writes the validators' keys, origin and quorum")
    r = run(CLI, "trust", *nodes[:2], "--key", f"{work}/acme.key", "--out", f"{work}/trust3.txt")
    check(r.returncode == 0 and sorted(body(f"{work}/trust3.txt")) == sorted(body(trust)) and
          "compare" in r.stdout,
          "trust --node writes the same from a node's members, saying it is trust on first use")

    # --json for scripts on the verbs that print an answer.
    r = run(CLI, "checkpoint", "--json", *nodes, "--trust", trust)
    cpj = json.loads(r.stdout) if r.returncode == 0 else {}
    check(cpj.get("origin") == origin and cpj.get("tree_size", 0) > 0 and len(cpj.get("root", "")) == 64,
          "checkpoint --json")
    r = run(CLI, "trace", "--json", *nodes, "--key", f"{work}/acme.key", "--trust", trust,
            "--lot", "acme/cell/A-1", "--forward")
    check(r.returncode == 0 and json.loads(r.stdout).get("format") == "origo-trace-report/v2",
          "trace --json prints the verified report")
    r = run(CLI, "keygen", "--name", "gamma", "--out", f"{work}/gamma.key")
    gpub = re.search(r"public key: +(\S+)", r.stdout).group(1)
    r = run(CLI, "member", "add", "--json", *nodes, "--key", f"{net}/admin.key", "--member", gpub,
            "--name", "gamma", "--roles", "inspector")
    check(r.returncode == 0 and json.loads(r.stdout)["status"] == "committed", "member --json")

    # Errors, each with its exit status and a message that says what to do.
    r = run(CLI, "submit", "--node", "http://127.0.0.1:9", "--deadline-ms", "1500", "-", stdin=ev)
    check(r.returncode == 2 and "127.0.0.1:9" in r.stderr,
          "submit with no node reachable: exit 2 at the deadline, naming the node")
    r = run(CLI, "status")
    check(r.returncode == 2 and "--node" in r.stderr, "no --node: exit 2, says to give one")
    r = run(CLI, "prove", *nodes, "--key", f"{work}/missing.key", "--trust", trust, "--event", eid)
    check(r.returncode == 2 and "missing.key" in r.stderr, "a key file that is not there: exit 2, named")
    r = run(CLI, "keygen", "--name", "stranger", "--out", f"{work}/stranger.key")
    r = run(CLI, "prove", *nodes, "--key", f"{work}/stranger.key", "--trust", trust,
            "--event", eid)
    check(r.returncode == 2 and "not an active member" in r.stderr,
          "prove with a key that is not a member's: refused")
    other = f"{work}/other-trust.txt"
    with open(other, "w") as f:
        keys = []
        for i in range(3):
            k = run(CLI, "keygen", "--name", f"x{i}", "--out", f"{work}/x{i}.key")
            keys.append(re.search(r"verifier key: (\S+)", k.stdout).group(1))
        f.write(f"origin {origin}\nquorum 2\n" + "\n".join(keys) + "\n")
    r = run(CLI, "checkpoint", *nodes, "--trust", other)
    check(r.returncode == 1 and "fails the trust file" in r.stderr,
          "a checkpoint not signed by a quorum of the trusted keys is refused")
    r = run(CLI, "prove", *nodes, "--key", f"{work}/acme.key", "--trust", other,
            "--event", eid, "--out", f"{work}/b.proof")
    check(r.returncode == 1 and not os.path.exists(f"{work}/b.proof"),
          "so is a proof against it, and nothing is written")

    r = run(CLI, "trace", *nodes, "--key", f"{work}/acme.key", "--trust", other,
            "--lot", "acme/cell/A-1", "--forward", "--out", f"{work}/t2.json")
    check(r.returncode == 1 and "does not verify" in r.stderr and not os.path.exists(f"{work}/t2.json"),
          "a trace report that fails the trust file is refused, nothing written")

    r = run(CLI, "get", *nodes, "--key", f"{work}/acme.key", "--trust", other, "--lot", "acme/cell/A-1")
    check(r.returncode == 1, "get --lot against a trust file of other keys: refused, exit 1")

    # A rewritten history: wipe every ledger (same keys, same genesis),
    # restart and record other events; the state file remembers the old tree.
    r = run(CLI, "checkpoint", *nodes, "--trust", trust, "--state", f"{work}/state")
    old = r.stdout.split("\n")[1]
    cluster("down", net)
    for i in (1, 2, 3):
        shutil.rmtree(f"{net}/v{i}/ledger")
        os.remove(f"{net}/v{i}/initialised")
    os.remove(f"{net}/nodes.txt")
    # local-cluster up would make new keys: start the same configs instead.
    procs = [subprocess.Popen([NODE, "--config", f"{net}/v{i}.conf"],
                              stderr=subprocess.DEVNULL) for i in (1, 2, 3)]
    try:
        r = run(CLI, "event", "--key", f"{net}/admin.key", "--json", f"{work}/add.json")
        add2 = r.stdout
        ok = False
        for _ in range(100):
            r = run(CLI, "submit", *nodes, "-", stdin=add2)
            if r.returncode == 0:
                ok = True
                break
        for lot in [f"acme/cell/F-{i}" for i in range(1, int(old) + 2)]:
            run(CLI, "submit", *nodes, "-", stdin=event(f"{work}/acme.key", lot, origin))
        r = run(CLI, "checkpoint", *nodes, "--trust", trust, "--state", f"{work}/state")
        check(ok and r.returncode == 1 and "forked or rewritten" in r.stderr and
              f"of {old} leaves" in r.stderr,
              "a rewritten history is refused against the state file, naming both sizes"
              + ("" if r.returncode == 1 else f" ({r.stdout} {r.stderr})"))
        r = run(CLI, "checkpoint", *nodes, "--trust", trust)
        check(r.returncode == 0, "(without the state file the new history is simply accepted)")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
finally:
    if os.path.exists(f"{net}/pids"):
        run(f"{ROOT}/deploy/local-cluster", "down", net)
    shutil.rmtree(work, ignore_errors=True)

print(f"{clusterlib.failures} failed")
clusterlib.finish()
