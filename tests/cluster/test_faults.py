#!/usr/bin/env python3
"""Three (or five) real origo-node validators under faults, and a history
checker (docs/reliability.md). The CI tier of issue 11.

Each node in its own network namespace, joined to a bridge by a veth pair
that the test creates and removes (as root, with `ip`); where that is not
possible, processes on loopback (the summary says which). Client threads
submit signed events to any node and
record every operation: invoke, then ok (with the leaf), fail, or unknown
(a timeout or a dropped connection: it may or may not have committed).
Meanwhile the nemesis, driven by a seed, SIGKILLs a node (the leader half
of the time) and restarts it, stops one cleanly (it seals its store) and
starts it (it checks the seal), or SIGKILLs a minority, a majority or all of
them at once and restarts them, SIGSTOPs one longer than the election
timeout and SIGCONTs it, restarts one with its clock 45 or 90 s ahead or
behind (libfaketime, when installed; until its next restart), or, with
namespaces, for 1 to 2.5 s: cuts one node off the others and the clients
by taking its link down; drops one direction only (blackhole routes in
the victim's namespace: it hears its peers, they never hear it); or splits
two nodes from each other while both still reach the rest (a bridge); or
splits the validators into a minority and a majority that cannot reach
each other (the leader in the minority half the time); or, with five,
makes a ring where each reaches only its two neighbours; or
makes its link slow and lossy both ways (tbf, 256 kbit/s or 1 Mbit/s with
a queue of 30 to 100 ms: delay, and drops once the queue is full); or,
with --netq (tests/cluster/netq.c, where the kernel has no netem), delays
every packet of its link both ways by 20, 50 or 100 ms, plus or minus
half that (packets overtake each other), and loses 0, 5 or 15% of them.
Every checkpoint any node serves is recorded. Each ledger starts with a
1 MiB LMDB map, which fills during the run: the node must grow it and
apply the same block again.

After the faults stop and every node is up, the checker asks:
- every node serves the same checkpoint, and the same leaf hashes (level-0
  tiles) for the whole tree: one history everywhere;
- every acknowledged event is committed, at the leaf it was acknowledged
  with, on every node (none lost);
- no envelope is at two leaves (leaf hashes distinct), and an event ID
  answers one leaf everywhere (no duplicates, retries included);
- real-time order: an event acknowledged before another was submitted has
  the smaller leaf;
- every checkpoint seen during the run has the root the final leaves give
  at its size (all checkpoints consistent);
- every inclusion proof a client got (for a quarter of its acknowledged
  events) verifies against the checkpoint it came with, by RFC 9162's
  algorithm (clusterlib), and that checkpoint is a prefix of the end;
- every pair of checkpoints seen (up to 300) has a consistency proof from
  a node that verifies;
- `origo audit` is clean on every node's store after a clean stop.
It prints one verdict line; on a violation, the seed and the operations.

Then, with --faultfs (tests/cluster/faultfs.c, an LD_PRELOAD shim), a
validator's disk fails three times: the leader, restarted (it rejoins,
usually as a follower) under load with fsync failing with EIO, then with
writes failing with ENOSPC (a full disk), then with short writes, must
each time stop with a non-zero exit and the storage error in its log,
never acknowledging what it could not store (the checker covers every
acknowledgement, whichever node gave it); restarted without the shim, it
catches up.

usage: test_faults.py ORIGO_NODE ORIGO_CLI [--seconds S] [--seed N]
                      [--nodes 3|5] [--net auto|loopback] [--faultfs SHIM.so]
                      [--actions A,B,...] [--netq NETQ]
--actions limits the nemesis to those actions (kill, restart, pause, crash,
crash-all, partition, oneway, bridge, split, ring, slow, netem, skew): `--actions crash-all`
makes a run of all-validator crashes only (the campaign's 200).
"""
import atexit, base64, json, os, random, re, shutil, signal
import subprocess, sys, tempfile, threading, time

import clusterlib
from clusterlib import free_port, until

NODE, CLI = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
SECONDS = float(args[args.index("--seconds") + 1]) if "--seconds" in args else 45.0
SEED = int(args[args.index("--seed") + 1]) if "--seed" in args else int(time.time())
NET = args[args.index("--net") + 1] if "--net" in args else "auto"
FAULTFS = args[args.index("--faultfs") + 1] if "--faultfs" in args else None
NODES = int(args[args.index("--nodes") + 1]) if "--nodes" in args else 3
ACTIONS = args[args.index("--actions") + 1].split(",") if "--actions" in args else None
NETQ = args[args.index("--netq") + 1] if "--netq" in args else None
FAKETIME = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                             "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1")
                 if os.path.exists(p)), None)
rng = random.Random(SEED)
work = tempfile.mkdtemp(prefix="origo-faults-")
names = [f"v{i}" for i in range(1, NODES + 1)]
violations = []


def run(*a, **kw):
    return subprocess.run(a, capture_output=True, text=True, **kw)


def http(method, url, body=None, timeout=5.0):
    code, _, data = clusterlib.http(method, url, body, timeout=timeout)
    return code, data


def jget(url):
    try:
        code, body = http("GET", url, timeout=2.0)
        return json.loads(body) if code == 200 else None
    except (OSError, ValueError):
        return None


# ---- the network --------------------------------------------------------

TAG = f"of{os.getpid() % 100000}"
def free_subnet():
    """A 10.213.X.0/24 no interface of this host uses (runs side by side
    must not share one)."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True,
                          text=True).stdout if shutil.which("ip") else ""
    for i in range(200):
        x = 20 + (os.getpid() + i) % 200
        if f" 10.213.{x}." not in used:
            return f"10.213.{x}"
    return f"10.213.{20 + os.getpid() % 200}"


SUBNET = free_subnet()
netns = {n: f"{TAG}{n}" for n in names}


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True).returncode == 0


def net_down():
    for n in names:
        sh("ip", "netns", "del", netns[n])
    sh("ip", "link", "del", f"{TAG}br")


def net_up():
    """A bridge, and per node a namespace joined to it by a veth pair."""
    if NET == "loopback" or os.geteuid() != 0 or not shutil.which("ip"):
        return False
    ok = sh("ip", "link", "add", f"{TAG}br", "type", "bridge") and \
        sh("ip", "addr", "add", f"{SUBNET}.254/24", "dev", f"{TAG}br") and \
        sh("ip", "link", "set", f"{TAG}br", "up")
    for i, n in enumerate(names, 1):
        ns = netns[n]
        ok = ok and sh("ip", "netns", "add", ns) and \
            sh("ip", "link", "add", f"{TAG}{i}h", "type", "veth", "peer", "name", "eth0",
               "netns", ns) and \
            sh("ip", "link", "set", f"{TAG}{i}h", "master", f"{TAG}br", "up") and \
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{SUBNET}.{i}/24", "dev", "eth0") and \
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up") and \
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
    if not ok:
        net_down()
    return ok


use_ns = net_up()
procs = {}


@atexit.register
def cleanup():
    """Whatever happened: no node left running, no namespace left behind."""
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()
    if use_ns:
        net_down()


if use_ns:
    hosts = {n: f"{SUBNET}.{i}" for i, n in enumerate(names, 1)}
    pports = {n: 7400 for n in names}
    hports = {n: 7401 for n in names}
else:
    hosts = {n: "127.0.0.1" for n in names}
    pports = {n: free_port() for n in names}
    hports = {n: free_port() for n in names}
urls = {n: f"http://{hosts[n]}:{hports[n]}" for n in names}
link = {n: f"{TAG}{i}h" for i, n in enumerate(names, 1)}
for n in names:
    os.makedirs(f"{work}/{n}")
    assert run(CLI, "keygen", "--name", n, "--out", f"{work}/{n}/validator.key").returncode == 0
assert run(CLI, "keygen", "--name", "boss", "--out", f"{work}/admin.key").returncode == 0
assert run(CLI, "keygen", "--name", "acme", "--out", f"{work}/acme.key").returncode == 0
gen = [CLI, "genesis", "--origin", "faults.test", "--admin", f"{work}/admin.key",
       "--member", f"acme={work}/acme.key:supplier", "--owns", "acme=party:acme",
       "--out", f"{work}/genesis.json"]
for n in names:
    gen += ["--validator", f"{n}={work}/{n}/validator.key@{hosts[n]}:{pports[n]}"]
r = run(*gen)
assert r.returncode == 0, r.stderr
for n in names:
    with open(f"{work}/{n}.conf", "w") as f:
        # A 1 MiB ledger map: it fills during the run and must grow.
        f.write(f"[node]\ndata = {work}/{n}\ngenesis = {work}/genesis.json\n"
                f"map_size = 1048576\n"
                f"[peer]\nlisten = {hosts[n]}:{pports[n]}\nreconnect_min_ms = 10\n"
                f"reconnect_max_ms = 200\nidle_timeout_ms = 1000\n"
                f"[http]\nlisten = {hosts[n]}:{hports[n]}\ntimeout_ms = 4000\n"
                "[raft]\ntick_ms = 20\nelection_ticks = 10\nsnapshot_every = 64\n"
                "log_tail = 16\n[cosign]\ninterval_ms = 10\n")

logs = {}


def start(n, env=None):
    logs[n] = open(f"{work}/{n}.log", "a")
    prefix = ["ip", "netns", "exec", netns[n]] if use_ns else []
    procs[n] = subprocess.Popen(prefix + [NODE, "--config", f"{work}/{n}.conf"],
                                stdout=subprocess.DEVNULL, stderr=logs[n],
                                env=dict(os.environ, **(env or {})))


def leader():
    for n in names:
        st = jget(f"{urls[n]}/v1/status") if procs[n].poll() is None else None
        if st and st.get("role") == "leader":
            return n
    return None


for n in names:
    start(n)
assert until(leader, 60), "no leader at start"

# ---- clients --------------------------------------------------------------

ops = []  # dicts: id, invoke, complete, status (ok/fail/unknown), leaf
proofs = []  # inclusion proofs clients got: leaf, tree_size, hashes, checkpoint
ops_lock = threading.Lock()
stop_clients = threading.Event()


def make_events(count):
    out = []
    for i in range(count):
        r = run(CLI, "event", "--key", f"{work}/acme.key", "--net", "faults.test",
                "--type", "lot.create", "--lot", f"acme/cell/F-{i},1,pcs", "--item", "cell")
        assert r.returncode == 0, r.stderr
        out.append(json.loads(r.stdout))
    return out


pool = make_events(1400)
reserve = pool[800:]  # fresh events for the disk-fault phases: they need writes
pool = pool[:800]
pool_lock = threading.Lock()


done = []  # events acknowledged once: submitted again, they must answer
            # their first commit (never a second leaf)


def client(k):
    crng = random.Random(SEED * 31 + k)
    retry = []
    while not stop_clients.is_set():
        with pool_lock:
            if retry and crng.random() < 0.5:
                ev = retry.pop()  # an unknown outcome submitted again
            elif pool:
                ev = pool.pop()
            elif done:
                ev = crng.choice(done)
            else:
                time.sleep(0.01)  # waiting for a first acknowledgement
                continue
        n = crng.choice(names)
        op = {"id": ev["id"], "invoke": time.monotonic(), "node": n}
        try:
            code, body = http("POST", f"{urls[n]}/v1/events",
                              json.dumps({"envelope": ev["envelope"]}).encode())
            res = json.loads(body) if body else {}
            if code == 200 and res["results"][0]["status"] == "committed":
                op.update(status="ok", leaf=res["results"][0]["leaf"])
            elif code in (429, 503):
                op.update(status="unknown" if res.get("code") in (
                    "ORIGO_E_TIMEOUT", "ORIGO_E_LOST", "ORIGO_E_SHUTDOWN") else "fail",
                    code=res.get("code"))
            else:
                op.update(status="fail", code=res.get("code", code))
        except (OSError, ValueError):
            op.update(status="unknown", code="connection")
        op["complete"] = time.monotonic()
        if op["status"] == "ok" and crng.random() < 0.25:
            # The proof a client would keep: its event's inclusion in the
            # latest quorum checkpoint, from the node that acknowledged it.
            try:
                code, body = http("GET", f"{urls[n]}/v1/proof/inclusion?leaf={op['leaf']}")
                if code == 200:
                    got = json.loads(body)
                    got["envelope"] = ev["envelope"]
                    with ops_lock:
                        proofs.append(got)
            except (OSError, ValueError):
                pass  # the node went down: no proof this time
        with ops_lock:
            ops.append(op)
        if op["status"] != "ok":
            retry.append(ev)
        else:
            with pool_lock:
                done.append(ev)
        time.sleep(crng.random() * 0.04)


# ---- nemesis --------------------------------------------------------------

faults = {"kill": 0, "kill_leader": 0, "restart": 0, "pause": 0, "partition": 0,
          "oneway": 0,
          "bridge": 0, "split": 0, "ring": 0, "slow": 0, "netem": 0, "skew": 0, "minority": 0, "majority": 0,
          "all": 0}
netem_packets = [0, 0]  # through netq, dropped by it
ASAN_PRELOAD = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
                ":verify_asan_link_order=0"}


def blackhole(n, peer, on):
    """Drops what n sends to peer (a route in n's namespace)."""
    sh("ip", "netns", "exec", netns[n], "ip", "route", "add" if on else "del",
       "blackhole", f"{hosts[peer]}/32")
seen_checkpoints = set()


def watch_checkpoints():
    for n in names:
        if procs[n].poll() is not None:
            continue
        try:
            code, body = http("GET", f"{urls[n]}/checkpoint", timeout=1.0)
        except OSError:
            continue
        if code == 200:
            lines = body.split(b"\n")
            seen_checkpoints.add((int(lines[1]), lines[2].decode()))


def nemesis(deadline):
    while time.monotonic() < deadline:
        time.sleep(0.5 + rng.random())
        watch_checkpoints()
        action = rng.choice(ACTIONS or
                            ["kill", "kill", "pause", "crash", "restart"] +
                            (["partition", "partition", "oneway", "bridge", "split",
                              "slow"] if use_ns else []) +
                            (["ring"] if use_ns and NODES >= 5 else []) +
                            (["netem"] if use_ns and NETQ else []) +
                            (["skew"] if FAKETIME else []))
        victim = leader() if rng.random() < 0.5 else rng.choice(names)
        if victim is None:
            continue
        if action == "kill":
            faults["kill"] += 1
            faults["kill_leader"] += victim == leader()
            procs[victim].kill()
            procs[victim].wait()
            time.sleep(rng.random() * 0.8)
            start(victim)
        elif action == "restart":
            # A clean stop (the node seals its store) and a start (it
            # checks the seal before it opens the store): exit 0, then up.
            procs[victim].send_signal(signal.SIGTERM)
            try:
                code = procs[victim].wait(timeout=60)
            except subprocess.TimeoutExpired:
                procs[victim].kill()
                code = procs[victim].wait()
            faults["restart"] += 1
            if code != 0:
                violations.append(f"{victim} did not stop cleanly on SIGTERM (exit {code})")
            start(victim)
        elif action in ("crash", "crash-all"):
            # Several at once: a minority, a majority (no quorum until they
            # are back) or every validator (a power cut).
            which = rng.choice(["minority", "majority", "all"])
            if action == "crash-all":
                which = "all"
            count = {"minority": (NODES - 1) // 2, "majority": NODES // 2 + 1,
                     "all": NODES}[which]
            faults[which] += 1
            victims = rng.sample(names, count)
            for m in victims:
                procs[m].kill()
            for m in victims:
                procs[m].wait()
            time.sleep(rng.random() * 0.8)
            for m in victims:
                start(m)
        elif action == "partition":
            # Cut off from the other validators and the clients.
            faults["partition"] += 1
            sh("ip", "link", "set", link[victim], "down")
            time.sleep(1.0 + rng.random() * 1.5)
            sh("ip", "link", "set", link[victim], "up")
        elif action == "oneway":
            # Asymmetric: the victim hears its peers, they never hear it.
            faults["oneway"] += 1
            peers = [m for m in names if m != victim]
            for m in peers:
                blackhole(victim, m, True)
            time.sleep(1.0 + rng.random() * 1.5)
            for m in peers:
                blackhole(victim, m, False)
        elif action == "bridge":
            # Two nodes lose each other; both still reach the rest.
            faults["bridge"] += 1
            other = rng.choice([m for m in names if m != victim])
            blackhole(victim, other, True)
            blackhole(other, victim, True)
            time.sleep(1.0 + rng.random() * 1.5)
            blackhole(victim, other, False)
            blackhole(other, victim, False)
        elif action == "split":
            # Two groups that cannot reach each other, a minority and a
            # majority (1 | 2 of three, 2 | 3 of five), the leader on the
            # minority side half the time: it must stop leading, the
            # majority elect another and go on, the minority refuse.
            faults["split"] += 1
            lead = leader()
            small = rng.sample([m for m in names if m != lead], (NODES - 1) // 2)
            if lead and rng.random() < 0.5:
                small = [lead] + small[1:]
            big = [m for m in names if m not in small]
            pairs = [(a, b) for a in small for b in big]
            for a, b in pairs:
                blackhole(a, b, True)
                blackhole(b, a, True)
            time.sleep(1.0 + rng.random() * 1.5)
            for a, b in pairs:
                blackhole(a, b, False)
                blackhole(b, a, False)
        elif action == "ring":
            # Five validators in a ring, each reaching only its two
            # neighbours: every one sees a majority (itself and two), no
            # two see the same one.
            faults["ring"] += 1
            order = rng.sample(names, NODES)
            cut = [(order[i], order[j]) for i in range(NODES) for j in range(NODES)
                   if i != j and (i - j) % NODES not in (1, NODES - 1)]
            for a, b in cut:
                blackhole(a, b, True)
            time.sleep(1.0 + rng.random() * 1.5)
            for a, b in cut:
                blackhole(a, b, False)
        elif action == "slow":
            # A congested link both ways: a token bucket of 256 kbit/s or
            # 1 Mbit/s whose queue holds 30 to 100 ms; what would wait
            # longer is dropped. Under load: delay and packet loss (this
            # kernel has no netem; tbf is what it offers).
            rate = rng.choice(["256kbit", "1mbit"])
            latency = f"{rng.choice([30, 60, 100])}ms"
            tbf = ["root", "tbf", "rate", rate, "burst", "4kb", "latency", latency]
            inside = sh("ip", "netns", "exec", netns[victim], "tc", "qdisc", "add", "dev",
                        "eth0", *tbf)
            outside = sh("tc", "qdisc", "add", "dev", link[victim], *tbf)
            faults["slow"] += inside and outside
            time.sleep(1.0 + rng.random() * 1.5)
            sh("ip", "netns", "exec", netns[victim], "tc", "qdisc", "del", "dev", "eth0", "root")
            sh("tc", "qdisc", "del", "dev", link[victim], "root")
        elif action == "netem":
            # Delay with jitter and a fixed loss rate, both ways: the
            # link's packets go through an NFQUEUE to netq in the victim's
            # namespace, which holds each for the delay +- half of it and
            # drops the given share (a verdict given later: senders see no
            # error, as on a real path).
            delay = rng.choice([20, 50, 100])
            loss = rng.choice([0, 0.05, 0.15])
            ns = ["ip", "netns", "exec", netns[victim]]
            q = subprocess.Popen(ns + [NETQ, "--queue", "1", "--delay-ms", str(delay),
                                       "--jitter-ms", str(delay // 2), "--loss", str(loss),
                                       "--seed", str(rng.getrandbits(32)),
                                       "--seconds", "30"],  # gone even if we die
                                 stdout=subprocess.PIPE, text=True)
            rules = [["INPUT", "-i"], ["OUTPUT", "-o"]]
            ok = "listening" in q.stdout.readline()
            for chain, flag in rules:
                ok = ok and sh(*ns, "iptables", "-A", chain, flag, "eth0", "-j", "NFQUEUE",
                               "--queue-num", "1", "--queue-bypass")
            time.sleep(1.0 + rng.random() * 1.5)
            for chain, flag in rules:
                sh(*ns, "iptables", "-D", chain, flag, "eth0", "-j", "NFQUEUE",
                   "--queue-num", "1", "--queue-bypass")
            q.terminate()
            counts = q.communicate(timeout=30)[0]
            got = re.search(r"(\d+) packets, (\d+) dropped", counts)
            faults["netem"] += bool(ok and q.returncode == 0 and got)
            if got:
                netem_packets[0] += int(got.group(1))
                netem_packets[1] += int(got.group(2))
        elif action == "skew":
            # Restarted with its clock off by up to 90 s (libfaketime, the
            # monotonic clock left alone), until its next restart.
            faults["skew"] += 1
            procs[victim].kill()
            procs[victim].wait()
            start(victim, dict(ASAN_PRELOAD, LD_PRELOAD=FAKETIME,
                               FAKETIME=rng.choice(["+90", "-90", "+45", "-45"]),
                               FAKETIME_DONT_FAKE_MONOTONIC="1"))
        else:
            faults["pause"] += 1
            procs[victim].send_signal(signal.SIGSTOP)
            time.sleep(0.5 + rng.random() * 0.5)  # longer than 10 ticks of 20 ms
            procs[victim].send_signal(signal.SIGCONT)
        watch_checkpoints()


clients = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in clients:
    t.start()
nemesis(time.monotonic() + SECONDS)

disk = "no disk faults"
# (what, the shim's setting, the range of its value, the cause the node
# must log). The count is drawn from the seed, so that across runs the
# failing write lands in every step that writes: a tick, a message, a
# proposal (the 2026-12-06 divergence needed the failure there).
DISK_FAULTS = [("fsync EIO", "ORIGO_FAULT_SYNC_AFTER", (5, 25), "Input/output error"),
               ("ENOSPC", "ORIGO_FAULT_NOSPACE_AFTER", (20, 100), "No space left on device"),
               ("short writes", "ORIGO_FAULT_SHORT_AFTER", (20, 100), "Input/output error")]
if FAULTFS:
    # A validator's disk fails under load: it must stop, non-zero, saying
    # why, and acknowledge nothing it could not store.
    outcomes = []
    for k, (what, var, (low, high), cause) in enumerate(DISK_FAULTS):
        after = str(rng.randint(low, high))
        victim = until(leader, 30)
        procs[victim].send_signal(signal.SIGTERM)
        procs[victim].wait()
        with pool_lock:
            pool.extend(reserve[200 * k:200 * (k + 1)])
        with open(f"{work}/{victim}.log") as f:
            before = len(f.read())
        start(victim, dict(ASAN_PRELOAD, LD_PRELOAD=FAULTFS, **{var: after}))
        try:
            status = procs[victim].wait(timeout=60)
        except subprocess.TimeoutExpired:
            status = None
        with open(f"{work}/{victim}.log") as f:
            tail = f.read()[before:][-4000:]
        stopped = status not in (None, 0) and "storage or consensus failed" in tail \
            and f'cause="{cause}"' in tail
        if not stopped:
            violations.append(f"{victim} with {what}: exit {status}, expected a "
                              f"non-zero exit after a logged storage error, "
                              f"cause \"{cause}\"")
        outcomes.append(f"{victim} stopped on {what} after {after} (exit {status})" if stopped
                        else f"{what} not handled")
        start(victim)
        until(leader, 30)  # the next victim is a leader
    disk = ", ".join(outcomes)
    time.sleep(2)  # load continues while it catches up; synchronised below
stop_clients.set()
for t in clients:
    t.join()

# ---- the checker ----------------------------------------------------------

def converged():
    cps = set()
    for n in names:
        try:
            code, body = http("GET", f"{urls[n]}/checkpoint", timeout=2.0)
        except OSError:
            return None
        if code != 200:
            return None
        cps.add(body.split(b"\n\n")[0])
    sizes = {jget(f"{urls[n]}/v1/status")["tree_size"] for n in names}
    if len(cps) == 1 and len(sizes) == 1:
        cp = cps.pop().split(b"\n")
        if int(cp[1]) == sizes.pop():
            return int(cp[1]), cp[2].decode()
    return None


final = until(converged, 90)
if not final:
    violations.append("the nodes did not converge on one checkpoint within 90 s")
    size, root = 0, ""
else:
    size, root = final
watch_checkpoints()


def first_divergence():
    """Without convergence, whether the nodes at least agree on the leaves
    they all hold: the first leaf that differs, and who holds what (a node
    that is merely behind is not a divergence; one that holds another
    event at a leaf is)."""
    try:
        sizes = {n: jget(f"{urls[n]}/v1/status")["tree_size"] for n in names}
    except OSError:
        return "a node does not answer its status"
    common = min(sizes.values())
    leaves = {n: leaf_hashes(n, common) for n in names}
    if any(v is None for v in leaves.values()):
        return None
    for i in range(common):
        held = {}
        for n in names:
            held.setdefault(leaves[n][i].hex()[:16], []).append(n)
        if len(held) > 1:
            return (f"leaf {i} differs: " + "; ".join(
                f"{','.join(ns)} hold {h}..." for h, ns in held.items()) +
                f" (tree sizes {sizes})")
    return None


def leaf_hashes(n, size):
    """The level-0 tiles: every leaf hash of the tree, C2SP tlog-tiles."""
    out = []
    for t in range((size + 255) // 256):
        width = min(256, size - 256 * t)
        path = tile_path(t)
        if width < 256:
            path += f".p/{width}"
        code, body = http("GET", urls[n] + path)
        if code != 200 or len(body) != 32 * width:
            return None
        out += [body[i:i + 32] for i in range(0, len(body), 32)]
    return out


def tile_path(index):
    """C2SP tlog-tiles index encoding: 3-digit groups, x-prefixed but the last."""
    groups = []
    while True:
        groups.insert(0, f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    return "/tile/0/" + "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


checked = []
if not final:
    split = first_divergence()
    if split:
        violations.append(f"two histories: {split}")
if final:
    leaves = {n: leaf_hashes(n, size) for n in names}
    if any(v is None for v in leaves.values()) or len({b"".join(v) for v in leaves.values()}) != 1:
        violations.append("the nodes serve different leaf hashes (two histories)")
    ref = leaves["v1"] or []
    checked.append("same leaves everywhere")
    if ref and base64.b64encode(clusterlib.merkle_root(ref)).decode() != root:
        violations.append("the final checkpoint's root is not the root of the leaves served")
    if len(set(ref)) != len(ref):
        violations.append("an envelope is at two leaves (a duplicate)")
    checked.append("no duplicate leaf")
    for s, r in sorted(seen_checkpoints):
        if s > size or not ref or base64.b64encode(clusterlib.merkle_root(ref[:s])).decode() != r:
            violations.append(f"a checkpoint seen during the run (size {s}) is not a prefix of the final tree")
    checked.append(f"{len(seen_checkpoints)} checkpoints consistent")
    # Every inclusion proof a client got verifies, by RFC 9162's algorithm
    # (clusterlib, not the node's code), against the checkpoint it came
    # with; that checkpoint is one more that must be a prefix of the end.
    proof_cps = set()
    for pr in proofs:
        lines = pr.get("checkpoint", "").split("\n")
        try:
            cp_size, cp_root = int(lines[1]), base64.b64decode(lines[2])
            leaf = clusterlib.leaf_hash(base64.b64decode(pr["envelope"]))
            path = [base64.b64decode(h) for h in pr["hashes"]]
        except (IndexError, ValueError):
            violations.append(f"an inclusion proof of leaf {pr.get('leaf')} is malformed")
            continue
        proof_cps.add((cp_size, lines[2]))
        if cp_size != pr["tree_size"] or not clusterlib.inclusion_ok(
                pr["leaf"], cp_size, leaf, path, cp_root):
            violations.append(f"the inclusion proof of leaf {pr['leaf']} does not verify "
                              f"against its checkpoint (size {cp_size})")
        if cp_size > size or not ref or clusterlib.merkle_root(ref[:cp_size]) != cp_root:
            violations.append(f"the checkpoint of size {cp_size} with a client's proof "
                              "is not a prefix of the final tree")
    checked.append(f"{len(proofs)} inclusion proofs clients got verify against their "
                   "checkpoints")
    # Every pair of checkpoints seen (up to 300 pairs, drawn by the seed):
    # a consistency proof from a node, verified by RFC 9162's algorithm.
    distinct = sorted(set(seen_checkpoints) | proof_cps | {(size, root)})
    pairs = [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1:]]
    if len(pairs) > 300:
        pairs = rng.sample(pairs, 300)
    for k, ((s1, r1), (s2, r2)) in enumerate(pairs):
        n = names[k % len(names)]
        try:
            code, body = http("GET", f"{urls[n]}/v1/proof/consistency?old={s1}&new={s2}")
            path = [base64.b64decode(h) for h in json.loads(body)["hashes"]] \
                if code == 200 else None
        except (OSError, ValueError, KeyError):
            path = None
        if path is None or not clusterlib.consistency_ok(
                s1, s2, base64.b64decode(r1), base64.b64decode(r2), path):
            violations.append(f"no valid consistency proof from {n} between the "
                              f"checkpoints of sizes {s1} and {s2}")
    checked.append(f"{len(pairs)} pairs of checkpoints proven consistent")
    acked = [o for o in ops if o["status"] == "ok"]
    by_id = {}
    for o in acked:
        if by_id.setdefault(o["id"], o["leaf"]) != o["leaf"]:
            violations.append(f"event {o['id']} acknowledged at two leaves")
    for eid in sorted({o["id"] for o in ops}):
        found = set()
        for n in names:
            st = jget(f"{urls[n]}/v1/events/{eid}")
            found.add(st["leaf"] if st and st.get("status") == "committed" else None)
        if len(found) != 1:
            violations.append(f"event {eid}: nodes disagree ({sorted(map(str, found))})")
        elif eid in by_id and found != {by_id[eid]}:
            violations.append(f"event {eid}: acknowledged at leaf {by_id[eid]}, now {found}")
    checked.append(f"{len(by_id)} acknowledged events at their leaves on every node")
    firsts = {}
    for o in acked:  # the first acknowledgement of each event counts
        if o["id"] not in firsts or o["complete"] < firsts[o["id"]]["complete"]:
            firsts[o["id"]] = o
    invokes = sorted((min(p["invoke"] for p in ops if p["id"] == eid), eid) for eid in firsts)
    for a in firsts.values():
        for t, eid in invokes:
            if t > a["complete"] and firsts[eid]["leaf"] < a["leaf"]:
                violations.append(f"real-time order: {a['id']} acknowledged before {eid} was "
                                  f"submitted, but has the larger leaf")
                break
    checked.append("real-time order")

for n in names:
    if procs[n].poll() is None:
        procs[n].send_signal(signal.SIGTERM)
for n in names:
    try:
        procs[n].wait(timeout=60)
    except subprocess.TimeoutExpired:
        procs[n].kill()
        violations.append(f"{n} did not stop on SIGTERM")
for n in names:
    r = run(CLI, "audit", "--data", f"{work}/{n}/ledger")
    if r.returncode != 0:
        violations.append(f"origo audit of {n}: {r.stdout.strip()[-300:]} {r.stderr.strip()[-300:]}")
checked.append("origo audit clean on every node")
# The 1 MiB maps filled and grew (the store is bigger than its first map).
grown = [os.path.getsize(f"{work}/{n}/ledger/data.mdb") for n in names]
if min(grown) <= 1 << 20:
    violations.append(f"a ledger stayed within its first 1 MiB map ({grown} bytes): "
                      "the map-full path was not exercised")
checked.append(f"1 MiB maps grown to {min(grown) / 2**20:.1f}-{max(grown) / 2**20:.1f} MiB")

counts = {s: sum(1 for o in ops if o["status"] == s) for s in ("ok", "fail", "unknown")}
where = "network namespaces on a bridge" if use_ns else "loopback, no namespaces"
net_down()
print(f"faults ({where}, {NODES} validators): seed {SEED}, {SECONDS:.0f} s, "
      f"{faults['kill']} kills "
      f"({faults['kill_leader']} of the leader), crashes of a minority "
      f"{faults['minority']}, of a majority {faults['majority']} and of all "
      f"{faults['all']} times, {faults['restart']} clean restarts (sealed store "
      f"checked), {faults['pause']} pauses, "
      f"{faults['partition']} partitions, {faults['oneway']} one-way partitions, "
      f"{faults['bridge']} bridges, {faults['split']} minority/majority splits, "
      f"{faults['ring']} rings, {faults['slow']} slow lossy links, "
      f"{faults['netem']} delayed lossy links "
      f"({f'{netem_packets[0]} packets, {netem_packets[1]} lost' if NETQ else 'no netq'}), "
      f"{faults['skew']} clock skews"
      f"{'' if FAKETIME else ' (no libfaketime)'}, {disk}; operations: "
      f"{len(ops)} ({counts['ok']} ok, {counts['fail']} refused, {counts['unknown']} unknown), "
      f"tree {size}; checked: {', '.join(checked)}; violations: {len(violations)}")
for v in violations[:20]:
    print("VIOLATION:", v)
if violations:
    print(f"seed {SEED}; logs and stores kept in {work}")
    sys.exit(1)
if not os.environ.get("ORIGO_FAULTS_KEEP"):
    shutil.rmtree(work, ignore_errors=True)
else:
    print(f"logs and stores kept in {work}")
