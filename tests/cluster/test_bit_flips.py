#!/usr/bin/env python3
"""Bit flips in a stopped follower's store (docs/reliability.md, issue 11).

Three validators on loopback under a trickle of events. Again and again,
v3 is stopped cleanly (SIGTERM: it seals its store, node/datadir.h), one
bit of its ledger/data.mdb at a random offset is flipped, and it is
started: it must refuse to start (exit 3, ORIGO_E_CORRUPT, saying the store
changed while it was stopped) before it listens on any port, so nothing
in the store is served or voted on. The bit is flipped back and v3 must
start, serve, and catch up with the others.

Last, v3's store is left corrupted, and the operator does what the error
says: an admin removes v3's key (member.remove) and adds a new validator
key (member.add), which starts from an empty directory, catches up from a
snapshot, is promoted, and serves the same checkpoint as v1 and v2, with
every acknowledged event.

usage: test_bit_flips.py ORIGO_NODE ORIGO_CLI [--flips N] [--seed N]
"""
import json, os, random, re, shutil, signal, socket, subprocess, sys, tempfile, time

import clusterlib
from clusterlib import check, free_port, http, until

NODE, CLI = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
FLIPS = int(args[args.index("--flips") + 1]) if "--flips" in args else 200
SEED = int(args[args.index("--seed") + 1]) if "--seed" in args else int(time.time())
rng = random.Random(SEED)
work = tempfile.mkdtemp(prefix="origo-flips-")
names = ["v1", "v2", "v3"]
procs, pports, hports, urls = {}, {}, {}, {}


def run(*a):
    return subprocess.run(a, capture_output=True, text=True)


def add_ports(n):
    pports[n], hports[n] = free_port(), free_port()
    urls[n] = f"http://127.0.0.1:{hports[n]}"


for n in names:
    add_ports(n)
pubs = {}
for n in names + ["v3b", "admin", "acme"]:
    os.makedirs(f"{work}/{n}", exist_ok=True)
    r = run(CLI, "keygen", "--name", n, "--out", f"{work}/{n}/validator.key")
    assert r.returncode == 0, r.stderr
    pubs[n] = re.search(r"public key: +(\S+)", r.stdout).group(1)
g = [CLI, "genesis", "--origin", "flips.test", "--admin", f"{work}/admin/validator.key",
     "--member", f"acme={work}/acme/validator.key:supplier", "--owns", "acme=party:acme",
     "--out", f"{work}/genesis.json"]
for n in names:
    g += ["--validator", f"{n}={work}/{n}/validator.key@127.0.0.1:{pports[n]}"]
r = run(*g)
assert r.returncode == 0, r.stderr
starts = [0]
logs = {}


def config(n):
    path = f"{work}/{n}.conf"
    with open(path, "w") as f:
        f.write(f"[node]\ndata = {work}/{n}\ngenesis = {work}/genesis.json\n"
                f"[peer]\nlisten = 127.0.0.1:{pports[n]}\nreconnect_min_ms = 10\n"
                f"reconnect_max_ms = 200\n[http]\nlisten = 127.0.0.1:{hports[n]}\n"
                "[raft]\ntick_ms = 20\nsnapshot_every = 16\nlog_tail = 1\n"
                "[cosign]\ninterval_ms = 10\n")
    return path


def start(n):
    """Starts n with its log in a file of its own for this start."""
    starts[0] += 1
    logs[n] = f"{work}/{n}.{starts[0]}.log"
    with open(logs[n], "w") as err:
        procs[n] = subprocess.Popen([NODE, "--config", config(n)],
                                    stdout=subprocess.DEVNULL, stderr=err)


def exited(n, timeout=60):
    """Waits for n to exit; its exit status and what it logged."""
    try:
        procs[n].wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        procs[n].kill()
        procs[n].wait()
    with open(logs[n]) as f:
        return procs[n].returncode, f.read()


def status(n):
    try:
        code, _, body = http("GET", f"{urls[n]}/v1/status", timeout=2.0)
        return json.loads(body) if code == 200 else None
    except (OSError, ValueError):
        return None


def leader(among=None):
    for n in among or names:
        st = status(n)
        if st and st.get("role") == "leader":
            return n
    return None


acked = {}  # event id -> leaf
made = [0]


def submit(count=3, among=None):
    for _ in range(count):
        made[0] += 1
        r = run(CLI, "event", "--key", f"{work}/acme/validator.key", "--net", "flips.test",
                "--type", "lot.create", "--lot", f"acme/cell/F-{made[0]},1,pcs", "--item",
                "cell")
        assert r.returncode == 0, r.stderr
        ev = json.loads(r.stdout)
        lead = until(lambda: leader(among), 30)
        try:
            code, _, body = http("POST", f"{urls[lead]}/v1/events",
                                 json.dumps({"envelope": ev["envelope"]}).encode(),
                                 timeout=20.0)
            res = json.loads(body)["results"][0] if code == 200 else {}
        except (OSError, ValueError, KeyError, TypeError):
            res = {}
        if res.get("status") == "committed":
            acked[ev["id"]] = res["leaf"]


def admin_event(kind, pub, extra):
    r = run(CLI, "event", "--key", f"{work}/admin/validator.key", "--net", "flips.test",
            "--type", kind, "--member", pub, *extra)
    assert r.returncode == 0, r.stderr
    lead = until(lambda: leader(["v1", "v2"]), 30)
    code, _, body = http("POST", f"{urls[lead]}/v1/events",
                         json.dumps({"envelope": json.loads(r.stdout)["envelope"]}).encode(),
                         timeout=20.0)
    return code == 200 and json.loads(body)["results"][0]["status"] == "committed"


def caught_up(n, others):
    st = status(n)
    sizes = [(status(m) or {}).get("tree_size") for m in others]
    return st and all(s is not None and st.get("tree_size") == s for s in sizes)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        bit = 1 << rng.randrange(8)
        f.seek(offset)
        f.write(bytes([b[0] ^ bit]))
        return bit


def unflip(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ bit]))


def stop(n):
    procs[n].send_signal(signal.SIGTERM)
    return exited(n)[0]


def port_open(port):
    s = socket.socket()
    try:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


detected = refused_before_listening = restarted = 0
failures_before = clusterlib.failures
try:
    for n in names:
        start(n)
    check(until(leader, 60) is not None, "three validators elect a leader")
    submit(10)
    store = f"{work}/v3/ledger/data.mdb"
    for i in range(FLIPS):
        if until(lambda: caught_up("v3", ["v1", "v2"]), 60) is None:
            check(False, f"flip {i}: v3 caught up before its stop")
            break
        rc = stop("v3")
        if rc != 0 or not os.path.exists(f"{work}/v3/ledger/seal"):
            check(False, f"flip {i}: v3 stopped cleanly and sealed its store (exit {rc})")
            break
        size = os.path.getsize(store)
        offset = rng.randrange(size)
        bit = flip(store, offset)
        start("v3")
        code, err = exited("v3")
        ok = (code == 3 and "code=ORIGO_E_CORRUPT" in err and
              "changed while the node was stopped" in err)
        detected += ok
        # It stopped before it opened its ports: nothing was served.
        quiet = "msg=started" not in err and not port_open(hports["v3"])
        refused_before_listening += quiet
        if not (ok and quiet):
            check(False, f"flip {i} (byte {offset} of {size}, bit {bit}): v3 refused to "
                         f"start before listening (exit {code}): "
                         f"{err.strip()[-300:]}")
            break
        unflip(store, offset, bit)
        submit(2, ["v1", "v2"])  # the others go on meanwhile
        start("v3")
        restarted += 1
    check(detected == FLIPS and refused_before_listening == FLIPS,
          f"{FLIPS} bit flips at random offsets of a stopped v3's store: each detected "
          f"at start (ORIGO_E_CORRUPT) before v3 listened: {detected} detected")
    check(until(lambda: caught_up("v3", ["v1", "v2"]), 60) is not None,
          "v3 with its bits put back starts and catches up each time")

    # Left corrupted: the operator brings v3 back as a new member.
    stop("v3")
    flip(store, rng.randrange(os.path.getsize(store)))
    start("v3")
    code, err = exited("v3")
    check(code == 3 and "new member" in err,
          "a store left corrupted is refused, and the error says to bring the "
          "validator back as a new member")
    check(admin_event("member.remove", pubs["v3"], []),
          "the admin removes v3's key (member.remove)")
    submit(3, ["v1", "v2"])
    check(admin_event("member.add", pubs["v3b"], ["--name", "v3b", "--roles", "validator"]),
          "the admin adds a new validator key, v3b (member.add)")
    add_ports("v3b")
    start("v3b")
    names[2] = "v3b"
    check(until(lambda: "v3b" in ((status(leader(["v1", "v2"])) or {}).get("voters") or []),
                90) is not None, "v3b is promoted to voter")
    with open(logs["v3b"]) as f:
        check('msg="installed a snapshot from the leader"' in f.read(),
              "v3b caught up from a snapshot of the leader's store")
    submit(3)
    check(until(lambda: caught_up("v3b", ["v1", "v2"]), 60) is not None,
          "v3b holds the same tree as v1 and v2")

    def same_checkpoint():
        bodies = []
        for n in ["v1", "v2", "v3b"]:
            try:
                code, _, body = http("GET", f"{urls[n]}/checkpoint", timeout=2.0)
            except OSError:
                return None
            bodies.append(body.split(b"\n")[:3] if code == 200 else None)
        return bodies[0] and all(b == bodies[0] for b in bodies)

    check(until(same_checkpoint, 60) is not None, "v1, v2 and v3b serve the same checkpoint")
    missing = []
    for eid, leaf in acked.items():
        code, _, body = http("GET", f"{urls['v3b']}/v1/events/{eid}")
        st = json.loads(body) if code == 200 else {}
        if st.get("status") != "committed" or st.get("leaf") != leaf:
            missing.append(eid)
    check(not missing, f"v3b holds all {len(acked)} acknowledged events at their leaves")
finally:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
failed = clusterlib.failures - failures_before
print(f"bit flips: seed {SEED}, {FLIPS} flips in a stopped follower's store, {detected} "
      f"detected at start before it listened, {restarted} restarts after the bit was put "
      f"back; then a corrupted store replaced by a new member that caught up from a "
      f"snapshot; {len(acked)} events acknowledged; failures: {failed}")
if failed:
    print(f"seed {SEED}; logs and stores kept in {work}")
else:
    shutil.rmtree(work, ignore_errors=True)
clusterlib.finish()
