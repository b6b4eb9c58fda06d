#!/usr/bin/env python3
"""The packet delayer itself (tests/cluster/netq.c), which stands in for
netem in the fault runs: in a network namespace of its own, UDP datagrams
sent over loopback go through an NFQUEUE to netq with a 40 ms delay, 15 ms
of jitter and 20% loss. Checked: no datagram arrives sooner than the
smallest delay (25 ms), about a fifth are lost (between 12% and 28% of
2,000: the bounds are over five standard deviations away), jitter
reorders some, and the sender never sees an error (a lost packet is lost
on the way, as on a real path). Then with netq stopped the rule lets every
packet through (--queue-bypass).

usage: test_netq.py NETQ"""
import os
import subprocess
import sys

NETQ = sys.argv[1]
if os.geteuid() != 0:
    print("netq: SKIP, needs root (network namespaces, iptables)")
    sys.exit(77)

NS = f"origo-netq-{os.getpid()}"


def run(*cmd):
    subprocess.run(cmd, check=True)


def in_ns(*cmd):
    run("ip", "netns", "exec", NS, *cmd)


# The sender and the receiver run here, in the test's namespace.
SENDER = r'''
import socket, struct, sys, threading, time
n, errors = int(sys.argv[1]), 0
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
r.bind(("127.0.0.1", 9977))
r.settimeout(1.0)
got = []
def receive():
    try:
        while True:
            data = r.recv(64)
            i, sent = struct.unpack("!Id", data)
            got.append((i, time.monotonic() - sent))
    except socket.timeout:
        pass
t = threading.Thread(target=receive)
t.start()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    try:
        s.sendto(struct.pack("!Id", i, time.monotonic()), ("127.0.0.1", 9977))
    except OSError:
        errors += 1
    time.sleep(0.0005)
t.join()
print(errors, len(got), min((d for _, d in got), default=-1),
      sum(1 for a, b in zip(got, got[1:]) if b[0] < a[0]))
'''


def send(n):
    out = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", SENDER, str(n)],
                         check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1]), float(out[2]), int(out[3])


failures = []
run("ip", "netns", "add", NS)
netq = None
try:
    in_ns("ip", "link", "set", "lo", "up")
    in_ns("iptables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "--dport", "9977",
          "-j", "NFQUEUE", "--queue-num", "7", "--queue-bypass")
    netq = subprocess.Popen(["ip", "netns", "exec", NS, NETQ, "--queue", "7",
                             "--delay-ms", "40", "--jitter-ms", "15", "--loss", "0.2",
                             "--seed", "7"],
                            stdout=subprocess.PIPE, text=True)
    if "listening" not in netq.stdout.readline():
        failures.append("netq did not start")
    N = 2000
    errors, got, fastest, inversions = send(N)
    lost = 1 - got / N
    if errors:
        failures.append(f"{errors} sends failed: a lost packet must not be an error")
    if not 0.12 <= lost <= 0.28:
        failures.append(f"{lost:.1%} lost, expected about 20%")
    if fastest < 0.025:
        failures.append(f"a datagram arrived after {fastest * 1000:.1f} ms, "
                        "under the smallest delay (25 ms)")
    if inversions == 0:
        failures.append("no datagram overtook another: the jitter did nothing")
    netq.terminate()
    summary = netq.communicate(timeout=10)[0].strip()
    if netq.returncode != 0 or "packets" not in summary:
        failures.append(f"netq exited {netq.returncode}: {summary}")
    netq = None
    # No listener: --queue-bypass lets everything through, undelayed.
    errors2, got2, fastest2, _ = send(500)
    if errors2 or got2 != 500:
        failures.append(f"without netq {got2} of 500 arrived ({errors2} errors)")
    print(f"netq: {N} datagrams at 40 +- 15 ms and 20% loss: {lost:.1%} lost, "
          f"fastest {fastest * 1000:.1f} ms, {inversions} overtaken, "
          f"{errors} send errors; [{summary}]; without netq {got2}/500 arrived, "
          f"fastest {fastest2 * 1000:.2f} ms")
finally:
    if netq:
        netq.kill()
    subprocess.run(["ip", "netns", "del", NS])

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
