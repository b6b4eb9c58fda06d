#!/usr/bin/env python3
"""Kill -9 cycles under load (issue 11, docs/reliability.md): one validator
takes signed events from two client threads (a steady load) while it is SIGKILLed at a
random moment, restarted, and killed again, N times. An event the node
acknowledged (committed, with a leaf) was fsynced before the answer, so
after every restart:

- every event acknowledged in the cycle before is committed at the leaf it
  was acknowledged with (none lost, none moved);
- the tree never shrinks, and no event ID is at two leaves;

and after the last cycle every acknowledged event is checked again and
`origo audit` replays the whole store clean. One verdict line.

With --power-loss SHIM (tests/cluster/faultfs.c), the node is not killed
from outside: it runs with the shim, which loses the power at a random
flush boundary (an fsync, or a synchronous write; before or after it):
about half of the pages written since their file's last flush are put back
as they were, and the process SIGKILLs itself, at start-up or under the
load. The same checks follow, and the node must always start again.
With --lying-disk as well, the shim's flushes return success and make
nothing durable: the test then shows that these checks catch what such a
disk loses (it passes only if they find violations).

usage: test_kill_cycles.py ORIGO_NODE ORIGO_CLI [--cycles N] [--seed N]
                           [--power-loss SHIM.so [--lying-disk]]
"""
import json, os, random, shutil, signal, subprocess, sys, tempfile
import threading, time

import clusterlib, one_validator

NODE, CLI = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
CYCLES = int(args[args.index("--cycles") + 1]) if "--cycles" in args else 300
SEED = int(args[args.index("--seed") + 1]) if "--seed" in args else int(time.time())
SHIM = args[args.index("--power-loss") + 1] if "--power-loss" in args else None
LYING = "--lying-disk" in args
rng = random.Random(SEED)
work = tempfile.mkdtemp(prefix="origo-kills-")
violations = []


def run(*a):
    return subprocess.run(a, capture_output=True, text=True)


def http(method, url, body=None, timeout=5.0):
    code, _, data = clusterlib.http(method, url, body, timeout=timeout)
    return code, data


_, port, hport, _ = one_validator.make(
    CLI, work, "kills.test", sections="[raft]\ntick_ms = 10\nelection_ticks = 3\n"
    "[submit]\nbatch_ms = 2\n")
url = f"http://127.0.0.1:{hport}"

# Signed events (the CLI signs them), made in chunks as the cycles use
# them, so that each is dated well within the timestamp window.
made = 0
pool = []
lock = threading.Lock()


def refill():
    global made
    fresh = []
    for _ in range(200):
        r = run(CLI, "event", "--key", f"{work}/acme.key", "--net", "kills.test", "--type",
                "lot.create", "--lot", f"acme/cell/K-{made},1,pcs", "--item", "cell")
        assert r.returncode == 0, r.stderr
        fresh.append(json.loads(r.stdout))
        made += 1
    with lock:
        pool[:0] = fresh  # the unknown ones at the end go first
acked = {}  # id -> leaf
log = open(f"{work}/node.log", "a")


def serving():
    try:
        code, body = http("GET", f"{url}/v1/status", timeout=1.0)
        return code == 200 and json.loads(body).get("role") == "leader"
    except (OSError, ValueError):
        return False


def client(stop):
    while not stop.is_set():
        with lock:
            if not pool:
                return
            ev = pool.pop()
        try:
            code, body = http("POST", f"{url}/v1/events",
                              json.dumps({"envelope": ev["envelope"]}).encode())
            res = json.loads(body)["results"][0] if code == 200 else {}
        except (OSError, ValueError, KeyError):
            res = {}
        if res.get("status") == "committed":
            with lock:
                if acked.setdefault(ev["id"], res["leaf"]) != res["leaf"]:
                    violations.append(f"{ev['id']} acknowledged at two leaves")
        else:
            with lock:
                pool.append(ev)  # unknown outcome: submitted again later
        time.sleep(0.01)  # a steady load, not a flood: events are made by the CLI


def check(ids, proc):
    """Looks up each acknowledged event. Returns (violations, died): a
    lookup left unanswered counts only if the node is still running: with
    the shim the power may go between any two lookups, and a killed
    process closes its sockets before it can be waited for (a sanitizer
    build's address space takes a while to tear down), so an unanswered
    lookup first waits for the process to end."""
    found = []
    for eid in ids:
        for attempt in range(2):
            try:
                code, body = http("GET", f"{url}/v1/events/{eid}")
                break
            except OSError as e:
                try:
                    proc.wait(timeout=10)
                    return found, True  # the power went while it answered
                except subprocess.TimeoutExpired:
                    err = e  # running but not answering: asked once more
        else:
            found.append(f"{eid}: no answer from the running node ({err})")
            continue
        st = json.loads(body) if code == 200 else {}
        if st.get("status") != "committed" or st.get("leaf") != acked[eid]:
            found.append(f"{eid}: acknowledged at leaf {acked[eid]}, now {st}")
    return found, False


last_size = 0
kills = 0
power_losses = {"at start-up": 0, "during the checks": 0, "under load": 0}
for cycle in range(CYCLES):
    if len(pool) < 60:
        refill()
    env = dict(os.environ)
    if SHIM:
        # Start-up flushes a few times; the load about a hundred times a
        # second.
        # An ASan build must be told that a preloaded library may come
        # before its runtime.
        env.update(ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
                   LD_PRELOAD=SHIM, ORIGO_FAULT_POWER_AT=str(rng.randint(1, 200)),
                   ORIGO_FAULT_POWER_SEED=str(rng.randint(1, 2**31)),
                   ORIGO_FAULT_POWER_LIES="1" if LYING else "0")
    proc = subprocess.Popen([NODE, "--config", f"{work}/node.conf"], stdout=subprocess.DEVNULL,
                            stderr=log, env=env)
    end = time.monotonic() + 30
    while not serving() and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.01)  # polling the restarted node
    up = serving()  # one look: the power may go between any two
    if SHIM and not up:
        # Only a node still running and not serving, or that exited
        # otherwise than by the shim's SIGKILL, did not come back.
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if proc.poll() == -signal.SIGKILL:
            power_losses["at start-up"] += 1  # the power went first
            continue
    if not up:
        violations.append(f"cycle {cycle}: the node did not come back "
                          f"(exit status {proc.poll()})")
        proc.kill()
        break
    with lock:
        before = dict(acked)
    found, died = check(rng.sample(sorted(before), min(20, len(before))), proc)
    try:
        code, body = http("GET", f"{url}/v1/status")
    except OSError:
        code = None
    size = json.loads(body)["tree_size"] if code == 200 else None
    if not died:  # else the power went while it answered: checked next time
        violations += found
        if size is not None and size < last_size:
            violations.append(f"cycle {cycle}: the tree shrank from {last_size} to {size}")
        if size is not None:
            last_size = size
    else:
        power_losses["during the checks"] += 1
        continue
    stop = threading.Event()
    clients = [threading.Thread(target=client, args=(stop,)) for _ in range(2)]
    for t in clients:
        t.start()
    if SHIM:
        try:
            proc.wait(timeout=10)  # the shim kills it at its flush boundary
            power_losses["under load"] += 1
        except subprocess.TimeoutExpired:
            proc.kill()  # the boundary was not reached: an ordinary kill
            proc.wait()
            kills += 1
    else:
        time.sleep(0.02 + rng.random() * 0.25)
        proc.kill()  # SIGKILL at a random moment of the load
        proc.wait()
        kills += 1
    stop.set()
    for t in clients:
        t.join()
    if violations:
        break

proc = subprocess.Popen([NODE, "--config", f"{work}/node.conf"], stdout=subprocess.DEVNULL,
                        stderr=log)
end = time.monotonic() + 30
while not serving() and time.monotonic() < end and proc.poll() is None:
    time.sleep(0.01)  # polling the restarted node
found, died = check(sorted(acked), proc)
violations += found
if died:
    violations.append(f"the node (without the shim) died during the last check: "
                      f"exit status {proc.returncode}")
try:
    code, body = http("GET", f"{url}/v1/status")
except OSError:
    code = None
size = json.loads(body)["tree_size"] if code == 200 else -1
proc.send_signal(signal.SIGTERM)
if proc.wait(timeout=60) != 0:
    violations.append("the node did not stop cleanly on SIGTERM")
r = run(CLI, "audit", "--data", f"{work}/data")
if r.returncode != 0:
    violations.append(f"origo audit: {r.stdout.strip()[-300:]} {r.stderr.strip()[-300:]}")
what = (f"{power_losses['under load']} power losses under load, "
        f"{power_losses['during the checks']} during the checks and "
        f"{power_losses['at start-up']} at start-up (at random flush boundaries), {kills} "
        f"SIGKILLs" if SHIM else f"{kills} SIGKILLs under load")
print(f"{'power loss' if SHIM else 'kill'} cycles: seed {SEED}, {what}, {len(acked)} events "
      f"acknowledged, tree {size}; checked: every acknowledged event at its leaf after "
      f"every restart and at the end, tree never shrank, origo audit clean; "
      f"violations: {len(violations)}")
if LYING:
    # The disk lied about every flush: after a real power loss, the checks
    # must have caught it (a node that never ran with the shim proves
    # nothing).
    lost = sum(power_losses.values())
    if lost == 0:
        print("lying disk: the power never went (the shim did not run): nothing shown")
        print("  first violation:", violations[0] if violations else "none")
        sys.exit(1)
    print(f"lying disk: {len(violations)} violations found after {lost} power losses, "
          "as they must be" if violations else
          "lying disk: NO violation found: the checks missed the loss")
    for v in violations[:3]:
        print("  caught:", v)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if violations else 1)
for v in violations[:20]:
    print("VIOLATION:", v)
if violations:
    print(f"seed {SEED}; logs and store kept in {work}")
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
