#!/usr/bin/env python3
"""A client over the connection limits is refused, and the operator is
told: [http] max_per_client and max_connections on a real node. Until this
test, libmicrohttpd enforced them and closed such connections without a
word, so a plant whose ERP opened too many saw only the ERP's errors (a
benchmark's 128 clients on one address: 52,754 requests failed, nothing in
the node's log).

One validator with max_per_client = 3 and max_connections = 5. Three
connections from 127.0.0.1 are served; a fourth from that address is
closed without an answer; two from 127.0.0.2 are served (another client);
a sixth connection, from 127.0.0.3, is refused for the node's limit. Each
refusal is logged with the client, the limit and the setting to change,
and counted in /metrics; once connections close, the clients are served
again and an event commits.

usage: test_http_limits.py ORIGO_NODE ORIGO_CLI
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile

import one_validator
from clusterlib import http, until

NODE, CLI = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="origo-limits-")
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n"

_, _, hport, _ = one_validator.make(
    CLI, work, "limits.test", http="max_per_client = 3\nmax_connections = 5\n",
    sections="[raft]\ntick_ms = 20\nelection_ticks = 10\n")
url = f"http://127.0.0.1:{hport}"
log = open(f"{work}/node.log", "w")
node = subprocess.Popen([NODE, "--config", f"{work}/node.conf"], stdout=subprocess.DEVNULL,
                        stderr=log)


def status():
    try:
        code, _, body = http("GET", f"{url}/v1/status", timeout=2.0)
        return json.loads(body) if code == 200 else None
    except (OSError, ValueError):
        return None


def connect(source):
    """A connection from `source` (a loopback address) on which one
    request was answered: the node counts it as open until it closes. A
    connection the test closed just before (a status poll) may still be
    counted for a moment, so a refusal is tried again."""
    def once():
        s = socket.create_connection(("127.0.0.1", hport), timeout=10,
                                     source_address=(source, 0))
        try:
            s.sendall(REQUEST)
            if s.recv(4096).startswith(b"HTTP/1.1 200"):
                return s
        except OSError:
            pass
        s.close()
        return None
    s = until(once, 10)
    assert s, f"a connection from {source} within the limits was not served"
    return s


def refused(source):
    """Whether a new connection from `source` is closed without an answer
    (the TCP handshake is the kernel's; the node then closes it)."""
    s = socket.create_connection(("127.0.0.1", hport), timeout=10, source_address=(source, 0))
    try:
        s.sendall(REQUEST)
        return s.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.close()


def log_lines(pattern):
    with open(f"{work}/node.log") as f:
        return [line for line in f if re.search(pattern, line)]


try:
    assert until(lambda: (status() or {}).get("role") == "leader"), "the node did not start"

    # The client's limit: three from 127.0.0.1, the fourth refused.
    held = [connect("127.0.0.1") for _ in range(3)]
    assert refused("127.0.0.1"), "a fourth connection from one client was served"
    line = until(lambda: log_lines("one client holds the most connections"), 10)
    assert line, "the refusal was not logged"
    assert "client=127.0.0.1" in line[0] and "limit=3" in line[0], line[0]
    assert "max_per_client" in line[0], line[0]

    # Another client is not held to the first one's limit...
    held += [connect("127.0.0.2") for _ in range(2)]
    # ... but five are open: the node's limit refuses a sixth.
    assert refused("127.0.0.3"), "a sixth connection was served"
    line = until(lambda: log_lines("the node holds the most connections"), 10)
    assert line and "limit=5" in line[0], line
    assert "max_connections" in line[0], line[0]

    # Closed connections free their places (once the node has seen them
    # close: until then a new one is still refused); the counts are in
    # /metrics.
    for s in held[:3]:
        s.close()

    def metrics_text():
        try:
            return http("GET", f"{url}/metrics", timeout=5.0)[2].decode()
        except OSError:
            return None

    metrics = until(metrics_text)
    assert metrics, "/metrics was not served after the connections closed"
    counts = dict(re.findall(r'origo_http_refused_connections_total\{reason="(\w+)"\} (\d+)',
                             metrics))
    assert int(counts.get("max_per_client", 0)) >= 1, metrics
    assert int(counts.get("max_connections", 0)) >= 1, metrics
    for s in held[3:]:
        s.close()

    # Still serving: an event commits.
    r = subprocess.run([CLI, "event", "--key", f"{work}/acme.key", "--net", "limits.test",
                        "--type", "lot.create", "--lot", "acme/cell/L-1,1,pcs", "--item",
                        "cell"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = json.loads(r.stdout)["envelope"]
    code, _, body = http("POST", f"{url}/v1/events", json.dumps({"envelope": env}).encode())
    assert code == 200, body
    assert until(lambda: (status() or {}).get("tree_size") == 1)
    print("http limits: per-client and total connection limits refuse, log and count; "
          "the node keeps serving")
finally:
    node.terminate()
    node.wait(timeout=30)
    log.close()
    if os.environ.get("ORIGO_KEEP") is None:
        shutil.rmtree(work, ignore_errors=True)
