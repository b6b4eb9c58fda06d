#!/usr/bin/env python3
"""Three real origo-node processes on loopback form the validator mesh.

Each finds the other two at the addresses its genesis gives and logs a
link open to each; a node killed with SIGKILL is reconnected to when it
comes back; a second node on a data directory in use and a bad config
file each stop startup with their message;
a node whose key is no validator's has its links refused;
SIGTERM stops every node cleanly (exit 0, "stopped"). Every stderr line is
logfmt. Synchronisation is on the nodes' own log lines, never on sleeps;
the deadlines only turn a hang into a failure.

Built with libsystemd, v1 also tells a real NOTIFY_SOCKET (a datagram
socket this test opens) READY=1 once started and STOPPING=1 on SIGTERM.

usage: test_mesh.py ORIGO_NODE ORIGO_CLI [SYSTEMD yes|no]
"""
import os, queue, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

import clusterlib
from clusterlib import check, free_port

NODE, CLI = sys.argv[1], sys.argv[2]
SYSTEMD = len(sys.argv) > 3 and sys.argv[3] == "yes"
DEADLINE = 60.0
work = tempfile.mkdtemp(prefix="origo-mesh-")


def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


class Node:
    """One origo-node process whose stderr lines are read by a thread."""

    def __init__(self, name, config, env=None):
        self.name, self.config = name, config
        self.lines = queue.Queue()
        self.seen = []
        self.proc = subprocess.Popen([NODE, "--config", config],
                                     stderr=subprocess.PIPE, text=True,
                                     env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern, deadline=DEADLINE):
        """Reads lines until one matches; returns it, or None at EOF/deadline."""
        end = time.monotonic() + deadline
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                return None
            self.seen.append(line)
            if re.search(pattern, line):
                return line


LOGFMT = re.compile(r'^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) msg=')

try:
    names = ["v1", "v2", "v3"]
    ports = {n: free_port() for n in names}
    hports = {n: free_port() for n in names + ["outsider"]}
    for n in names + ["outsider"]:
        os.makedirs(f"{work}/{n}")
        r = run(CLI, "keygen", "--name", n, "--out", f"{work}/{n}/validator.key")
        assert r.returncode == 0, r.stderr
    r = run(CLI, "keygen", "--name", "boss", "--out", f"{work}/admin.key")
    assert r.returncode == 0, r.stderr
    args = [CLI, "genesis", "--origin", "mesh.test", "--admin", f"{work}/admin.key",
            "--out", f"{work}/genesis.json"]
    for n in names:
        args += ["--validator", f"{n}={work}/{n}/validator.key@127.0.0.1:{ports[n]}"]
    r = run(*args)
    assert r.returncode == 0, r.stderr

    def config(n, port):
        path = f"{work}/{n}.conf"
        with open(path, "w") as f:
            f.write(f"[node]\ndata = {work}/{n}\ngenesis = {work}/genesis.json\n"
                    f"[peer]\nlisten = 127.0.0.1:{port}\nreconnect_min_ms = 10\n"
                    f"reconnect_max_ms = 200\n[http]\nlisten = 127.0.0.1:{hports.get(n, free_port())}\n")
        return path

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(f"{work}/notify.sock")
    notify.settimeout(DEADLINE)
    env = dict(os.environ, NOTIFY_SOCKET=f"{work}/notify.sock")
    nodes = {n: Node(n, config(n, ports[n]), env if n == "v1" else None)
             for n in names}

    def notified(state):
        try:
            while True:
                if state in notify.recv(4096).decode().split("\n"):
                    return True
        except socket.timeout:
            return False

    if SYSTEMD:
        check(notified("READY=1"), "v1 tells the service manager READY=1")
    for n, node in nodes.items():
        check(node.wait_for(r"msg=started validator=" + n) is not None, f"{n} starts")
    for n, node in nodes.items():
        others = [o for o in names if o != n]
        opened = set()
        while opened != set(others):
            line = node.wait_for(r'msg="peer link open"')
            if line is None:
                break
            opened.add(line.split("peer=")[1])
        check(opened == set(others), f"{n} has links to {', '.join(others)}")

    # Startup refusals, each with its message; the mesh keeps running.
    r = run(NODE, "--config", nodes["v1"].config)
    check(r.returncode == 1 and f"in use by another origo-node (process {nodes['v1'].proc.pid})" in r.stderr,
          "a second node on v1's data directory is refused, naming the process")
    # A key that is no validator's may run (it waits for a member event to
    # make it one) but every validator refuses its links.
    outsider = Node("outsider", config("outsider", free_port()))
    check(outsider.wait_for(r'msg="not a genesis validator') is not None,
          "a node whose key is no validator's says it waits to become one")
    refused = nodes["v1"].wait_for(r'msg="peer link closed" peer=- reason=ORIGO_E_PEER_UNKNOWN')
    check(refused is not None, "v1 refuses the outsider's link (ORIGO_E_PEER_UNKNOWN)")
    if refused is None:  # seen once in CI, under load, not reproduced: say what each logged
        for who, node in (("v1", nodes["v1"]), ("outsider", outsider)):
            while not node.lines.empty() and (line := node.lines.get()) is not None:
                node.seen.append(line)
            print(f"# {who}'s last lines:", *node.seen[-15:], sep="\n#   ")
    outsider.proc.kill()
    outsider.proc.wait()
    with open(f"{work}/bad.conf", "w") as f:
        f.write("[node]\ndata = /tmp\n[peer]\nframe_cap = lots\n")
    r = run(NODE, "--config", f"{work}/bad.conf")
    check(r.returncode == 2 and "bad.conf:4: [peer] frame_cap = lots: allowed" in r.stderr,
          "a bad config value stops startup naming file, line and key")

    # SIGKILL v3: both others see the link close, and reopen it when v3 is back.
    nodes["v3"].proc.kill()
    nodes["v3"].proc.wait()
    for n in ["v1", "v2"]:
        check(nodes[n].wait_for(r'msg="peer link closed" peer=v3') is not None,
              f"{n} sees its link to the killed v3 close")
    nodes["v3"] = Node("v3", nodes["v3"].config)
    for n in ["v1", "v2"]:
        check(nodes[n].wait_for(r'msg="peer link open" peer=v3') is not None,
              f"{n} reconnects to v3 after its restart")
    opened = set()
    while opened != {"v1", "v2"}:
        line = nodes["v3"].wait_for(r'msg="peer link open"')
        if line is None:
            break
        opened.add(line.split("peer=")[1])
    check(opened == {"v1", "v2"}, "the restarted v3 has links to v1 and v2")

    # SIGTERM: each stops cleanly.
    for node in nodes.values():
        node.proc.send_signal(signal.SIGTERM)
    if SYSTEMD:
        check(notified("STOPPING=1"), "v1 tells the service manager STOPPING=1")
    for n, node in nodes.items():
        stopped = node.wait_for(r"msg=stopped$") is not None
        try:
            code = node.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            code = None
        check(stopped and code == 0, f"{n} stops on SIGTERM with exit 0")
        bad = [l for l in node.seen if not LOGFMT.match(l)]
        check(not bad, f"{n}'s stderr is logfmt" + (f" (not: {bad[0]})" if bad else ""))
finally:
    for node in list(locals().get("nodes", {}).values()):
        if node.proc.poll() is None:
            node.proc.kill()
    shutil.rmtree(work, ignore_errors=True)

print(f"{clusterlib.failures} failed")
clusterlib.finish()
