#!/usr/bin/env python3
"""A leader whose clock is wrong (docs/formats/block.md, "Block time").

Three validators on loopback; the network's timestamp window is one
minute; v1's wall clock runs five minutes ahead (libfaketime, its monotonic
clock left alone) and v1 is made the leader. Events stamped by their
submitter with the true time must still commit, and every block v1 makes
must carry a time within seconds of the true one: a block's time is the
median of the validators' clocks as the leader last heard them, so one
wrong clock does not set it. Before that, v1 stamped its own clock, every
such event was refused (ORIGO_E_TIMESTAMP), and since block time never
goes back, the network refused true-time events for as long as the skew.
v1's /v1/status shows its clock's offset from the median. The test skips
(77) where libfaketime is not installed.

usage: test_clock.py ORIGO_NODE ORIGO_CLI
"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time

import clusterlib
from clusterlib import check, free_port, http, until

NODE, CLI = sys.argv[1], sys.argv[2]
FAKETIME = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                             "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1")
                 if os.path.exists(p)), None)
if not FAKETIME:
    print("libfaketime is not installed (scripts/setup installs it): skipped")
    sys.exit(77)
SKEW_S, WINDOW_MS = 300, 60000
names = ["v1", "v2", "v3"]
work = tempfile.mkdtemp(prefix="origo-clock-")
procs = {}


def run(*a):
    return subprocess.run(a, capture_output=True, text=True)


pports = {n: free_port() for n in names}
hports = {n: free_port() for n in names}
urls = {n: f"http://127.0.0.1:{hports[n]}" for n in names}
for n in names + ["admin", "acme"]:
    os.makedirs(f"{work}/{n}", exist_ok=True)
    assert run(CLI, "keygen", "--name", n, "--out", f"{work}/{n}/key").returncode == 0
args = [CLI, "genesis", "--origin", "clock.test", "--admin", f"{work}/admin/key",
        "--member", f"acme={work}/acme/key:supplier", "--owns", "acme=party:acme",
        "--ts-window-ms", str(WINDOW_MS), "--out", f"{work}/genesis.json"]
for n in names:
    args += ["--validator", f"{n}={work}/{n}/key@127.0.0.1:{pports[n]}"]
r = run(*args)
assert r.returncode == 0, r.stderr
for n in names:
    shutil.copy(f"{work}/{n}/key", f"{work}/{n}/validator.key")
    with open(f"{work}/{n}.conf", "w") as f:
        f.write(f"[node]\ndata = {work}/{n}\ngenesis = {work}/genesis.json\n"
                f"[peer]\nlisten = 127.0.0.1:{pports[n]}\nreconnect_min_ms = 10\n"
                f"reconnect_max_ms = 200\n[http]\nlisten = 127.0.0.1:{hports[n]}\n"
                "[raft]\ntick_ms = 20\n")
log = open(f"{work}/nodes.log", "a")


def start(n):
    env = dict(os.environ)
    if n == "v1":
        # An ASan build must be told that a preloaded library may come
        # before its runtime.
        env.update(LD_PRELOAD=FAKETIME, FAKETIME=f"+{SKEW_S}",
                   FAKETIME_DONT_FAKE_MONOTONIC="1",
                   ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    procs[n] = subprocess.Popen([NODE, "--config", f"{work}/{n}.conf"],
                                stdout=subprocess.DEVNULL, stderr=log, env=env)


def status(n):
    try:
        code, _, body = http("GET", f"{urls[n]}/v1/status", timeout=2.0)
        return json.loads(body) if code == 200 else None
    except (OSError, ValueError):
        return None


def leader():
    for n in names:
        st = status(n)
        if st and st.get("role") == "leader":
            return n
    return None


try:
    for n in names:
        start(n)
    check(until(leader, 60) is not None, "three validators elect a leader")
    # Make v1 (the wrong clock) the leader: stop whoever else leads until
    # the others elect v1.
    for _ in range(40):
        lead = until(leader, 30)
        if lead == "v1" or lead is None or procs["v1"].poll() is not None:
            break
        procs[lead].send_signal(signal.SIGSTOP)
        until(lambda: leader() not in (None, lead), 10)
        procs[lead].send_signal(signal.SIGCONT)
    check(leader() == "v1", "v1, whose clock is 5 minutes ahead, leads")
    # v1 hears both others' clocks, and sees that its own is the odd one.
    st = until(lambda: (lambda s: s if s and s.get("clocks_heard") == 2 else None)(
        status("v1")), 30) or {}
    offset = st.get("clock_offset_ms", 0)
    check(abs(offset - SKEW_S * 1000) < 5000,
          f"v1's status: 2 clocks heard, its own {offset / 1000:.1f} s ahead of the "
          f"median")

    def warned():
        with open(f"{work}/nodes.log") as f:
            return [l for l in f if "clock is far from the other validators'" in l]
    lines = until(warned, 10) or []

    def offset_of(line):
        m = re.search(r"offset_ms=([+-]\d+)", line)
        return int(m.group(1)) if m else None
    check(len(lines) >= 1 and
          all(o is not None and abs(o - SKEW_S * 1000) < 5000 for o in map(offset_of, lines)),
          "v1 (and only v1) logs that its clock is far from the others', "
          f"with its offset: {lines[0].strip()[-160:] if lines else 'nothing'}")

    results = []
    true_start = int(time.time() * 1000)
    for k in range(8):
        ev = run(CLI, "event", "--key", f"{work}/acme/key", "--net", "clock.test",
                 "--type", "lot.create", "--lot", f"acme/cell/T-{k},1,pcs", "--item",
                 "cell")
        assert ev.returncode == 0, ev.stderr
        code, _, body = http("POST", f"{urls['v1']}/v1/events?wait=commit",
                             json.dumps({"envelope": json.loads(ev.stdout)["envelope"]})
                             .encode(), timeout=20.0)
        res = json.loads(body)
        results.append(res["results"][0] if code == 200 else res)
    true_end = int(time.time() * 1000)
    committed = [r for r in results if r.get("status") == "committed"]
    check(len(committed) == 8,
          f"8 events stamped with the true time commit at a leader 5 minutes ahead "
          f"(got: {[r.get('status') or r.get('code') for r in results]})")
    heights = sorted({r["block"] for r in committed if "block" in r})
    times = []
    for h in heights:
        code, _, body = http("GET", f"{urls['v2']}/v1/blocks/{h}")
        if code == 200:
            times.append(json.loads(body)["time"])
    check(bool(times) and all(true_start - 5000 <= t <= true_end + 5000 for t in times),
          f"their blocks carry the true time, not v1's: block times minus the true "
          f"time {[round((t - true_start) / 1000, 1) for t in times]} s (v1 is "
          f"+{SKEW_S} s)")
finally:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
print(f"{clusterlib.failures} failed")
if clusterlib.failures:
    print(f"logs and stores kept in {work}")
else:
    shutil.rmtree(work, ignore_errors=True)
clusterlib.finish()
