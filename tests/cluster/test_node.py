#!/usr/bin/env python3
"""Real origo-node processes order, store, cosign and serve events.

Part 1, `--dev`: one validator in a fresh directory prints its URL, key
and trust-file paths and a curl line; an event signed with `origo event`
commits through POST /v1/events; a resubmission answers its first commit;
bad inputs (invalid JSON, unknown fields, a forged signature, another
network's event, an oversized body or header, unknown routes, wrong
methods) each get their problem+json code and change nothing; the proof
built from GET /v1/proof/inclusion verifies offline with `origo verify`
and the trust file; a restart on the same directory reuses it.

Part 2, three validators from `origo genesis`: submissions through every
node (followers forward to the leader) commit; all nodes serve the same
quorum checkpoint; proofs fetched from every node verify with `origo
verify`; events acknowledged before SIGKILL of the leader, then of a
follower, are still committed at the same leaf afterwards; the killed
nodes restart and catch up to the same tree.

Synchronisation is on the nodes' answers and log lines; the deadlines only
turn a hang into a failure.

usage: test_node.py ORIGO_NODE ORIGO_CLI
"""
import base64, json, os, queue, re, shutil, signal, subprocess, sys
import tempfile, threading, time

import clusterlib
from clusterlib import check, free_port

NODE, CLI = sys.argv[1], sys.argv[2]
DEADLINE = 60.0
work = tempfile.mkdtemp(prefix="origo-node-")


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def http(method, url, body=None, ctype="application/json", headers=None):
    return clusterlib.http(method, url, body, ctype, headers, timeout=DEADLINE)


def jget(url):
    code, _, body = http("GET", url)
    return code, json.loads(body) if body else None


class Node:
    """One origo-node process whose stderr lines are read by a thread."""

    def __init__(self, name, args):
        self.name, self.args = name, args
        self.lines = queue.Queue()
        self.seen = []
        self.proc = subprocess.Popen([NODE] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_out, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _read_out(self):
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))

    def wait_for(self, pattern, deadline=DEADLINE):
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

    def term(self):
        """SIGTERM, once: a second one during the clean stop is what an
        impatient supervisor sends, not what this test checks."""
        if not getattr(self, "termed", False) and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.termed = True

    def stop(self):
        self.term()
        stopped = self.wait_for(r"msg=stopped$") is not None
        try:
            ok = stopped and self.proc.wait(timeout=DEADLINE) == 0
        except subprocess.TimeoutExpired:
            self.proc.kill()
            ok = False
        if not ok:  # say why: the process's last lines and its exit
            try:  # negative: killed by that signal
                status = self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                status = "none (still running)"
            print(f"  {self.name} exit {status}; last lines:", *self.seen[-8:],
                  sep="\n    ", flush=True)
        return ok

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def make_event(key, net, lot):
    r = run(CLI, "event", "--key", key, "--net", net, "--type", "lot.create",
            "--lot", f"{lot},100,pcs", "--item", "cell")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def submit(url, ev, wait=None):
    q = f"?wait={wait}" if wait else ""
    return http("POST", f"{url}/v1/events{q}",
                json.dumps({"envelope": ev["envelope"]}).encode())


def until(fn, what, deadline=DEADLINE):
    """Polls fn() (an HTTP read) until it returns a true value."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)  # polling a remote answer, not standing in for a sync
    check(False, what + " (deadline)")
    return None


def prove(url, ev, leaf, path):
    """Builds a tlog-proof file from the node's JSON proof and the
    envelope we submitted (docs/formats/checkpoint.md, "Proof file")."""
    code, p = jget(f"{url}/v1/proof/inclusion?leaf={leaf}")
    if code != 200:
        return False
    with open(path, "w") as f:
        f.write("c2sp.org/tlog-proof@v1\n")
        f.write(f"extra {ev['envelope']}\n")
        f.write(f"index {leaf}\n")
        for h in p["hashes"]:
            f.write(h + "\n")
        f.write("\n")
        f.write(p["checkpoint"])
    return True


_sodium = None


def sodium():
    global _sodium
    if _sodium is None:
        import ctypes, ctypes.util
        _sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        assert _sodium.sodium_init() >= 0
    return _sodium


def load_key(path):
    """(secret key 64 bytes, public key hex) of an origo key file."""
    import ctypes
    seed = None
    with open(path) as f:
        for line in f:
            if line.startswith("seed "):
                seed = base64.b64decode(line.split()[1])
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    sodium().crypto_sign_seed_keypair(pk, sk, seed)
    return sk.raw, pk.raw.hex()


def signed_get(url, target, key, created=None, nonce=None, signer=None):
    """GET url+target with an RFC 9421 signature made here, independently
    of the node's C code: covers @method, @path and @query; created,
    keyid, alg, nonce. `signer` (another key's secret) forges it."""
    import ctypes
    sk, pub = key
    path, _, query = target.partition("?")
    created = int(time.time()) if created is None else created
    nonce = nonce or base64.b16encode(os.urandom(12)).decode().lower()
    params = (f'("@method" "@path" "@query");created={created};'
              f'keyid="{pub}";alg="ed25519";nonce="{nonce}"')
    base = (f'"@method": GET\n"@path": {path}\n"@query": ?{query}\n'
            f'"@signature-params": {params}').encode()
    sig = ctypes.create_string_buffer(64)
    sodium().crypto_sign_detached(sig, None, base, ctypes.c_ulonglong(len(base)),
                                  (signer or sk))
    return http("GET", url + target, headers={
        "Signature-Input": "sig1=" + params,
        "Signature": "sig1=:" + base64.b64encode(sig.raw).decode() + ":"})


def problem_code(resp):
    code, ctype, body = resp
    if "application/problem+json" not in ctype:
        return code, None
    return code, json.loads(body).get("code")


try:
    # ---------------------------------------------------------------- dev --
    dev = f"{work}/dev"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    d = Node("dev", ["--dev", "--data", dev, "--http", f"127.0.0.1:{port}"])
    check(d.wait_for(r"msg=started validator=dev-validator") is not None,
          "--dev starts")
    until(lambda: len(d.out) >= 8, "--dev prints its banner")
    banner = "\n".join(d.out)
    check(url in banner and f"{dev}/admin.key" in banner and
          f"{dev}/trust.txt" in banner and "curl -s" in banner,
          "--dev prints the URL, the admin key, the trust file and a curl line")
    curl_line = next(l.strip() for l in d.out if l.strip().startswith("curl"))
    r = run("sh", "-c", curl_line)
    check(r.returncode == 0 and '"network":"origo.dev/local"' in r.stdout,
          "the printed curl line works")
    until(lambda: jget(f"{url}/v1/status")[1]["role"] == "leader",
          "the dev validator leads")
    origin = "origo.dev/local"
    supplier = f"{dev}/supplier.key"
    ev = make_event(supplier, origin, "dev-supplier/cell/L-1")
    code, _, body = submit(url, ev)
    res = json.loads(body)
    check(code == 200 and res["results"][0]["status"] == "committed" and
          res["results"][0]["id"] == ev["id"] and res["tree_size"] == 1,
          "an event commits through POST /v1/events (wait=commit)")
    leaf = res["results"][0]["leaf"]
    code, _, body = submit(url, ev)
    again = json.loads(body)
    check(code == 200 and again["results"][0]["leaf"] == leaf and
          again["tree_size"] == 1,
          "a resubmission answers its first commit, no second leaf")
    code, st = jget(f"{url}/v1/events/{ev['id']}")
    check(code == 200 and st["status"] == "committed" and st["leaf"] == leaf,
          "GET /v1/events/{id} gives its status")
    # Tiles: the level-0 partial tile is the leaf hashes, computed here
    # from the envelope (RFC 9162: SHA-256(0x00 || leaf)).
    import hashlib
    code, ctype, tile = http("GET", f"{url}/tile/0/000.p/1")
    check(code == 200 and ctype == "application/octet-stream" and
          tile == hashlib.sha256(b"\x00" + base64.b64decode(ev["envelope"])).digest(),
          "GET /tile/0/000.p/1 is the leaf hash of the first event")
    for bad in ["0/000", "0/000.p/2", "8/000", "0/x000/001", "0/1", "entries/000.p/1", "0/000.p/0"]:
        code, _, _ = http("GET", f"{url}/tile/{bad}")
        check(code == 404, f"GET /tile/{bad}: 404 (not there, or not a hash tile path)")
    code, blk = jget(f"{url}/v1/blocks/{st['block']}")
    check(code == 200 and blk["height"] == st["block"] and blk["first_leaf"] <= leaf <
          blk["first_leaf"] + blk["leaf_count"] and len(blk["hash"]) == 64,
          "GET /v1/blocks/{height} gives the header of the block that holds it")

    # Bad inputs: each its code, nothing changes.
    env = bytearray(base64.b64decode(ev["envelope"]))
    env[-1] ^= 1  # the signature's last byte
    forged = base64.b64encode(bytes(env)).decode()
    other = make_event(supplier, "another.network/x", "dev-supplier/cell/L-9")
    cases = [
        ("invalid JSON", http("POST", f"{url}/v1/events", b"{not json"), 400, "ORIGO_E_JSON"),
        ("an unknown field", http("POST", f"{url}/v1/events",
                                  json.dumps({"envelope": ev["envelope"], "x": 1}).encode()),
         400, "ORIGO_E_JSON"),
        ("a forged signature", http("POST", f"{url}/v1/events",
                                    json.dumps({"envelope": forged}).encode()),
         422, "ORIGO_E_SIGNATURE"),
        ("another network's event", submit(url, other), 422, "ORIGO_E_NETWORK"),
        ("a non-canonical envelope", http("POST", f"{url}/v1/events",
                                          b"\x82\xa3sig\xc4\x01x\xa4body\xc4\x01y",
                                          "application/msgpack"),
         422, None),
        ("an oversized body", http("POST", f"{url}/v1/events",
                                   b"[" + b" " * (17 << 20) + b"]"), 413, "ORIGO_E_TOOBIG"),
        ("an unknown route", http("GET", f"{url}/v1/nothing"), 404, "ORIGO_E_NOTFOUND"),
        ("a wrong method", http("DELETE", f"{url}/checkpoint"), 405, "ORIGO_E_INVAL"),
        ("a bad event ID", http("GET", f"{url}/v1/events/xyz"), 400, "ORIGO_E_INVAL"),
        ("a bad proof query", http("GET", f"{url}/v1/proof/inclusion?leaf=01"), 400, "ORIGO_E_INVAL"),
        ("a proof beyond the tree", http("GET", f"{url}/v1/proof/inclusion?leaf=5&size=1"),
         400, "ORIGO_E_TREE_SIZE"),
    ]
    for what, resp, want_status, want_code in cases:
        got_status, got_code = problem_code(resp)
        check(got_status == want_status and got_code is not None and
              (want_code is None or got_code == want_code),
              f"{what}: {want_status} {want_code or got_code} (got {got_status} {got_code})")
    code, _, _ = http("GET", f"{url}/v1/status", headers={"X-Big": "a" * 20000})
    check(code == 431 or code == 400, f"an oversized header is refused ({code})")
    code, st = jget(f"{url}/v1/status")
    check(code == 200 and st["tree_size"] == 1, "bad inputs changed nothing; the node serves on")

    # Pre-validation: a member breaking a rule is refused with 422 naming
    # the envelope and the rule, and nothing enters the log (not even as a
    # rejection); a submission is all or nothing; an event that needs an
    # event still in flight is not refused.
    def new_event(key, *flags):
        r = run(CLI, "event", "--key", key, "--net", origin, *flags)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def problem(resp):
        return resp[0], json.loads(resp[2]) if resp[2] else {}

    def metric_value(name):
        text = http("GET", f"{url}/metrics")[2].decode()
        m = re.search(r"^" + re.escape(name) + r" (\d+)$", text, re.M)
        return int(m.group(1)) if m else 0

    again_lot = make_event(supplier, origin, "dev-supplier/cell/L-1")  # exists
    foreign = new_event(supplier, "--type", "lot.create", "--lot", "acme/cell/X-1,5,pcs",
                        "--item", "cell")
    good = make_event(supplier, origin, "dev-supplier/cell/L-2")
    for what, resp, want, at in [
        ("re-creating an existing lot", submit(url, again_lot), "ORIGO_E_LOT_EXISTS", 0),
        ("a lot in another member's namespace", submit(url, foreign), "ORIGO_E_NAMESPACE", 0),
        ("a good event with a bad one", http(
            "POST", f"{url}/v1/events",
            json.dumps([{"envelope": good["envelope"]},
                        {"envelope": foreign["envelope"]}]).encode()), "ORIGO_E_NAMESPACE", 1),
    ]:
        code, doc = problem(resp)
        ids = [good["id"], foreign["id"]] if at else [again_lot["id"] if "re-" in what else foreign["id"]]
        check(code == 422 and doc.get("code") == want and doc.get("envelope") == at and
              doc.get("event") == ids[at] and f"envelope {at}" in doc.get("detail", ""),
              f"{what}: refused, 422 {want} naming envelope {at} (got {code} {doc.get('code')})")
    check(all(http("GET", f"{url}/v1/events/{e['id']}")[0] == 404
              for e in (again_lot, foreign, good)),
          "refused events are unknown to the ledger (not recorded as rejections), and so is "
          "the good event submitted with a bad one")
    check(1 <= metric_value("origo_blocks_applied_total") <=
          metric_value("origo_committed_events_total") + metric_value(
              'origo_rejected_total{code="ORIGO_E_LOT_EXISTS"}'),
          "/metrics counts the blocks applied (at least the one that committed the first "
          "event, at most one a recorded event)")
    check(jget(f"{url}/v1/status")[1]["tree_size"] == 1 and
          metric_value('origo_refused_total{code="ORIGO_E_NAMESPACE"}') == 2 and
          metric_value('origo_refused_total{code="ORIGO_E_LOT_EXISTS"}') == 1,
          "the tree is unchanged and /metrics counts the refusals by reason")
    r = run(CLI, "submit", "--node", url, "-", input=json.dumps(foreign))
    check(r.returncode == 1 and f"REFUSED   {foreign['id']} ORIGO_E_NAMESPACE" in r.stdout,
          "origo submit prints REFUSED with the code and exits 1")
    # The transform needs the lot.create still in flight: both commit.
    made = make_event(supplier, origin, "dev-supplier/cell/L-3")
    used = new_event(supplier, "--type", "lot.transform", "--input",
                     "dev-supplier/cell/L-3,10,pcs", "--output", "dev-supplier/pack/P-3,1,pcs")
    code, _, _ = submit(url, made, "none")
    code2, _, body2 = submit(url, used)
    check(code == 202 and code2 == 200 and
          json.loads(body2)["results"][0]["status"] == "committed",
          "an event that consumes a lot created by an event in flight is not refused")

    # docs/api.yaml documents every route of node/api.c and nothing else,
    # and every documented route is served.
    import yaml
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(src, "docs", "api.yaml")) as f:
        spec = yaml.safe_load(f)
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    with open(os.path.join(src, "node", "api.c")) as f:
        code = f.read()
    served = {(m, p[:-2] + "{tile}" if p.endswith("/**") else
               p + ("{height}" if "blocks" in p else "{id}") if p.endswith("/") else p)
              for m, p in re.findall(r'\{\{"(GET|POST)", "(/[^"]*)"\}, \w+\}', code)}
    check(served and documented == served,
          "docs/api.yaml lists exactly the routes of node/api.c" +
          ("" if documented == served else f" (only documented: {documented - served}, only served: {served - documented})"))
    for m, p in sorted(documented):
        resp = http(m, url + p.replace("{id}", ev["id"]).replace("{height}", "1")
                    .replace("{tile}", "0/000.p/1"),
                    body=b"{}" if m == "POST" else None)
        check(b"no such endpoint" not in resp[2] and resp[0] != 405,
              f"{m} {p} is served ({resp[0]})")

    # The proof verifies offline.
    until(lambda: http("GET", f"{url}/checkpoint")[0] == 200, "a quorum checkpoint")
    check(prove(url, ev, leaf, f"{work}/dev.proof"), "the node serves an inclusion proof")
    r = run(CLI, "verify", "--trust", f"{dev}/trust.txt", f"{work}/dev.proof")
    check(r.returncode == 0, "origo verify accepts it with the dev trust file" +
          ("" if r.returncode == 0 else f": {r.stdout} {r.stderr}"))
    # Signed reads (RFC 9421, signatures made by this script).
    sup = load_key(supplier)
    code, ctype, body = signed_get(url, f"/v1/envelopes/{ev['id']}", sup)
    check(code == 200 and json.loads(body)["envelope"] == ev["envelope"],
          "a member reads its own event with a signed request")
    code, ctype, body = signed_get(url, f"/v1/proofs/{ev['id']}", sup)
    with open(f"{work}/dev2.proof", "wb") as f:
        f.write(body)
    r = run(CLI, "verify", "--trust", f"{dev}/trust.txt", f"{work}/dev2.proof")
    check(code == 200 and ctype.startswith("text/x.tlog-proof") and r.returncode == 0,
          "GET /v1/proofs/{id} serves a tlog-proof that origo verify accepts")
    code, _, body = signed_get(url, "/v1/lots/events?lot=dev-supplier/cell/L-1", sup)
    check(code == 200 and [e["id"] for e in json.loads(body)["events"]] == [ev["id"]],
          "a member lists the events of its lot")
    code, _, body = signed_get(url, "/v1/trace?lot=dev-supplier/cell/L-1&direction=forward", sup)
    with open(f"{work}/dev.report", "wb") as f:
        f.write(body)
    r = run(CLI, "verify", "--trust", f"{dev}/trust.txt", f"{work}/dev.report")
    check(code == 200 and r.returncode == 0,
          "GET /v1/trace serves a trace report that origo verify accepts" +
          ("" if r.returncode == 0 else f": {r.stdout}{r.stderr}"))
    code, _, body = signed_get(url, "/v1/members", sup)
    mem = {m["name"]: m for m in json.loads(body)["members"]} if code == 200 else {}
    check(code == 200 and mem.get("dev-supplier", {}).get("roles") == ["supplier"] and
          mem["dev-supplier"]["key"] == sup[1],
          "a member lists the members with their keys and roles")
    admin = load_key(f"{dev}/admin.key")
    check(signed_get(url, f"/v1/envelopes/{ev['id']}", admin)[0] == 200,
          "an admin reads any event")
    outsider_key = f"{work}/outsider.key"
    assert run(CLI, "keygen", "--name", "outsider", "--out", outsider_key).returncode == 0
    outsider = load_key(outsider_key)
    stale = int(time.time()) - 3600
    replay = "replayed-nonce-1"
    signed_get(url, f"/v1/envelopes/{ev['id']}", sup, nonce=replay)
    for what, resp, want in [
        ("an unsigned read", http("GET", f"{url}/v1/envelopes/{ev['id']}"), (401, "ORIGO_E_HTTPSIG")),
        ("an expired signature", signed_get(url, f"/v1/envelopes/{ev['id']}", sup, created=stale),
         (401, "ORIGO_E_TIMESTAMP")),
        ("a replayed nonce", signed_get(url, f"/v1/envelopes/{ev['id']}", sup, nonce=replay),
         (401, "ORIGO_E_REPLAY")),
        ("a signature by another key", signed_get(url, f"/v1/envelopes/{ev['id']}", sup,
                                                  signer=admin[0]), (401, "ORIGO_E_SIGNATURE")),
        ("a non-member's read", signed_get(url, f"/v1/envelopes/{ev['id']}", outsider),
         (403, "ORIGO_E_PERM")),
        ("a malformed Signature-Input", http("GET", f"{url}/v1/envelopes/{ev['id']}", headers={
            "Signature-Input": "sig1=(@method)", "Signature": "sig1=:AA==:"}), (401, "ORIGO_E_HTTPSIG")),
    ]:
        check(problem_code(resp) == want, f"{what} is refused: {want} (got {problem_code(resp)})")
    check(jget(f"{url}/v1/status")[1]["tree_size"] == 3, "refused reads change nothing")

    check(d.stop(), "--dev stops on SIGTERM with exit 0")
    d = Node("dev", ["--dev", "--data", dev, "--http", f"127.0.0.1:{port}"])
    check(d.wait_for(r"msg=started") is not None, "--dev starts again on its directory")
    code, st = jget(f"{url}/v1/events/{ev['id']}")
    check(code == 200 and st["leaf"] == leaf, "and still holds the event")
    # SIGTERM in the middle of a burst of submissions: every request is
    # answered (committed or 503) or its connection refused, and the node
    # exits 0: requests in admission, queued or in flight are refused
    # cleanly, nothing is freed twice.
    burst = [make_event(supplier, origin, f"dev-supplier/cell/B-{i}") for i in range(40)]
    answers = []

    def fire(e):
        try:
            answers.append(submit(url, e)[0])
        except OSError:
            answers.append("refused")

    threads = [threading.Thread(target=fire, args=(e,)) for e in burst]
    for t in threads:
        t.start()
    d.term()
    for t in threads:
        t.join()
    check(d.stop() and all(a in (200, 503, "refused") for a in answers),
          f"SIGTERM during a burst: exit 0, every request answered or refused ({sorted(set(map(str, answers)))})")

    # ---------------------------------------------------------- 3 nodes --
    names = ["v1", "v2", "v3"]
    pports = {n: free_port() for n in names}
    hports = {n: free_port() for n in names}
    urls = {n: f"http://127.0.0.1:{hports[n]}" for n in names}
    vkeys = {}
    for n in names:
        os.makedirs(f"{work}/{n}")
        r = run(CLI, "keygen", "--name", n, "--out", f"{work}/{n}/validator.key")
        assert r.returncode == 0, r.stderr
        vkeys[n] = re.search(r"verifier key: (\S+)", r.stdout).group(1)
    assert run(CLI, "keygen", "--name", "boss", "--out", f"{work}/admin.key").returncode == 0
    assert run(CLI, "keygen", "--name", "acme", "--out", f"{work}/acme.key").returncode == 0
    assert run(CLI, "keygen", "--name", "beta", "--out", f"{work}/beta.key").returncode == 0
    args = [CLI, "genesis", "--origin", "cluster.test", "--admin", f"{work}/admin.key",
            "--member", f"acme={work}/acme.key:supplier", "--owns", "acme=party:acme",
            "--member", f"beta={work}/beta.key:supplier", "--owns", "beta=party:beta",
            "--out", f"{work}/genesis.json"]
    for n in names:
        args += ["--validator", f"{n}={work}/{n}/validator.key@127.0.0.1:{pports[n]}"]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    with open(f"{work}/trust.txt", "w") as f:
        f.write("origin cluster.test\nquorum 2\n")
        for n in names:
            f.write(vkeys[n] + "\n")

    def config(n):
        path = f"{work}/{n}.conf"
        with open(path, "w") as f:
            f.write(f"[node]\ndata = {work}/{n}\ngenesis = {work}/genesis.json\n"
                    f"[peer]\nlisten = 127.0.0.1:{pports[n]}\nreconnect_min_ms = 10\n"
                    f"reconnect_max_ms = 200\n[http]\nlisten = 127.0.0.1:{hports[n]}\n"
                    "[raft]\ntick_ms = 20\nsnapshot_every = 16\nlog_tail = 1\n"
                    "[cosign]\ninterval_ms = 10\n")
        return ["--config", path]

    nodes = {n: Node(n, config(n)) for n in names}
    for n in names:
        check(nodes[n].wait_for(r"msg=started validator=" + n) is not None, f"{n} starts")

    def leader():
        for n in names:
            if nodes[n].proc.poll() is not None:
                continue
            try:
                code, st = jget(f"{urls[n]}/v1/status")
            except OSError:
                continue
            if code == 200 and st["role"] == "leader":
                return n
        return None

    lead = until(leader, "a leader is elected")
    acked = {}  # event id -> (event, leaf)
    admin_leaves = [0]  # committed member events, not in acked
    k = 0

    def submit_via(n, count=2):
        global k
        ok = True
        for _ in range(count):
            k += 1
            e = make_event(f"{work}/acme.key", "cluster.test", f"acme/cell/C-{k}")
            for _ in range(100):
                code, _, body = submit(urls[n], e)
                if code != 503:
                    break
                time.sleep(0.05)  # 503 says retry shortly (election)
            res = json.loads(body) if body else {}
            if code == 200 and res["results"][0]["status"] == "committed":
                acked[e["id"]] = (e, res["results"][0]["leaf"])
            else:
                ok = False
        return ok

    for n in names:
        check(submit_via(n), f"submissions through {n} ({'leader' if n == lead else 'follower'}) commit")

    def same_checkpoint(alive):
        notes = set()
        for n in alive:
            code, _, body = http("GET", f"{urls[n]}/checkpoint")
            if code != 200:
                return None
            notes.add(body.split(b"\n")[1])
        size = int(notes.pop()) if len(notes) == 1 else None
        return size if size == len(acked) + admin_leaves[0] else None

    check(until(lambda: same_checkpoint(names), "same checkpoint everywhere") == len(acked),
          "every node serves a quorum checkpoint of the same size")

    def note_sigs(note, keys):
        """The names whose signature lines verify over the note's body
        (C2SP signed note, Ed25519), checked here with libsodium."""
        import ctypes
        body, _, sigs = note.partition(b"\n\n")
        body += b"\n"
        good = set()
        for line in sigs.decode().splitlines():
            _, name, b64 = line.split(" ")
            raw = base64.b64decode(b64)
            pub = keys.get(name)
            if pub and sodium().crypto_sign_verify_detached(
                    raw[4:], body, ctypes.c_ulonglong(len(body)), pub) == 0:
                good.add(name)
        return good

    vpubs = {n: base64.b64decode(vkeys[n].split("+", 2)[2])[1:] for n in names}

    def same_index_note():
        notes = set()
        for n in names:
            code, _, body = http("GET", f"{urls[n]}/v1/lot-index/note")
            if code != 200:
                return None
            notes.add(body.partition(b"\n\n")[0])
        return notes.pop() if len(notes) == 1 else None

    inote = until(same_index_note, "same lot index note everywhere")
    code, _, full = http("GET", f"{urls[lead]}/v1/lot-index/note")
    lines = inote.split(b"\n") if inote else []
    check(inote is not None and lines[0] == b"origo lot index v1" and
          lines[1] == b"cluster.test" and int(lines[2]) == len(acked) and
          len(note_sigs(full, vpubs)) >= 2,
          "every node serves the same lot index note at that size, signed by a quorum "
          "(signatures checked here)")

    def metric(n, name):
        code, _, body = http("GET", f"{urls[n]}/metrics")
        m = re.search(rb"(?m)^" + name.encode() + rb" (\d+)$", body)
        return int(m.group(1)) if code == 200 and m else 0

    followers = [n for n in names if n != leader()]
    check(all(metric(n, "origo_blocks_checked_ahead_total") > 0 for n in followers),
          "followers check the signatures of arriving blocks on the thread pool, ahead of apply")
    def stage(n, kind, which):
        code, _, body = http("GET", f"{urls[n]}/metrics")
        m = re.search(rb'(?m)^origo_submit_stage_seconds_' + kind.encode() +
                      rb'\{stage="' + which.encode() + rb'"\} ([0-9.]+)$', body)
        return float(m.group(1)) if code == 200 and m else -1.0

    check(all(stage(n, "count", "apply") > 0 and
              all(stage(n, "sum", s) > 0 for s in ("verify", "index", "apply"))
              for n in names),
          "every node says where its submissions' time went (verify, index, apply)")
    if leader() == lead:  # else who was a follower at submission is unclear
        check(all(metric(n, "origo_events_checked_at_submission_total") > 0
                  for n in names if n != lead),
              "a follower does not verify again, in the block, an event it verified "
              "when it was submitted there")
    for n in names:
        eid, (e, leaf) = next(iter(acked.items()))
        okp = prove(urls[n], e, leaf, f"{work}/{n}.proof")
        r = run(CLI, "verify", "--trust", f"{work}/trust.txt", f"{work}/{n}.proof")
        check(okp and r.returncode == 0,
              f"a proof fetched from {n} verifies offline" + ("" if r.returncode == 0 else f": {r.stdout}{r.stderr}"))

    # The read policy, both ways, on a follower.
    eid, (e, leaf) = next(iter(acked.items()))
    acme, beta = load_key(f"{work}/acme.key"), load_key(f"{work}/beta.key")
    follower = next(n for n in names if n != leader())
    check(signed_get(urls[follower], f"/v1/envelopes/{eid}", acme)[0] == 200,
          "acme reads its own event on a follower")
    check(problem_code(signed_get(urls[follower], f"/v1/envelopes/{eid}", beta)) == (403, "ORIGO_E_PERM"),
          "beta may not read acme's event (no event of beta names its lot)")
    check(problem_code(signed_get(urls[follower], "/v1/trace?lot=acme/cell/C-1", beta)) == (403, "ORIGO_E_PERM"),
          "nor trace acme's lot")
    code, _, body = signed_get(urls[follower], "/v1/trace?lot=acme/cell/C-1", acme)
    with open(f"{work}/cluster.report", "wb") as f:
        f.write(body)
    r = run(CLI, "verify", "--trust", f"{work}/trust.txt", f"{work}/cluster.report")
    check(code == 200 and r.returncode == 0, "acme's trace report from a follower verifies offline")

    def all_acked(alive):
        for eid, (_, leaf) in acked.items():
            for n in alive:
                code, st = jget(f"{urls[n]}/v1/events/{eid}")
                if code != 200 or st.get("leaf") != leaf:
                    return False
        return True

    # SIGKILL the leader, then a follower: nothing acknowledged is lost.
    for victim_kind in ["leader", "follower"]:
        lead = until(leader, "a leader")
        victim = lead if victim_kind == "leader" else next(n for n in names if n != lead)
        nodes[victim].kill()
        alive = [n for n in names if n != victim]
        check(until(leader, "a leader after the kill") in alive,
              f"after SIGKILL of the {victim_kind} {victim}, a survivor leads")
        for n in alive:
            check(submit_via(n), f"submissions through {n} commit with {victim} down")
        check(all_acked(alive), f"every acknowledged event is committed at its leaf on {', '.join(alive)}")
        nodes[victim] = Node(victim, nodes[victim].args)
        check(nodes[victim].wait_for(r"msg=started") is not None, f"{victim} restarts")
        check(any(re.search(r'msg="lot index built" chains=[1-9]', line)
                  for line in nodes[victim].seen),
              f"{victim} built its lot index tree before it started serving "
              "(docs/performance.md, \"Restart\")")
        check(until(lambda: all_acked([victim]), f"{victim} catches up"),
              f"the restarted {victim} holds every acknowledged event at its leaf")
        check(until(lambda: same_checkpoint(names), "same checkpoint") == len(acked),
              "all three serve the same quorum checkpoint again")

    # Membership: a fourth validator joins through a member event, catches
    # up from a snapshot (the log is compacted every 16 entries), is
    # promoted and cosigns; removed, it stops counting.
    os.makedirs(f"{work}/v4")
    r = run(CLI, "keygen", "--name", "v4", "--out", f"{work}/v4/validator.key")
    v4pub = re.search(r"public key: +(\S+)", r.stdout).group(1)
    for n in names:
        submit_via(n, 3)

    def admin_event(kind, extra, pub=v4pub):
        r = run(CLI, "event", "--key", f"{work}/admin.key", "--net", "cluster.test",
                "--type", kind, "--member", pub, *extra)
        assert r.returncode == 0, r.stderr
        e = json.loads(r.stdout)
        code, _, body = submit(urls[leader()], e)
        res = json.loads(body) if body else {}
        ok = code == 200 and res["results"][0]["status"] == "committed"
        admin_leaves[0] += ok
        return ok

    check(admin_event("member.add", ["--name", "v4", "--roles", "validator"]),
          "the admin's member.add of v4 with the validator role commits")
    pports["v4"], hports["v4"] = free_port(), free_port()
    urls["v4"] = f"http://127.0.0.1:{hports['v4']}"
    nodes["v4"] = Node("v4", config("v4"))
    check(nodes["v4"].wait_for(r'msg="installed a snapshot from the leader"') is not None,
          "v4 catches up from a snapshot")

    def status(n):
        code, st = jget(f"{urls[n]}/v1/status")
        return st if code == 200 else {}

    check(until(lambda: "v4" in status(leader()).get("voters", []), "v4 promoted"),
          "the leader promotes v4 to voter")
    names4 = names + ["v4"]
    for n in names4:
        check(submit_via(n, 1), f"submissions through {n} commit with four validators")
    check(until(lambda: all_acked(["v4"]), "v4 holds every event"), "v4 holds every acknowledged event")

    def v4_cosigns():
        code, _, body = http("GET", f"{urls['v4']}/checkpoint")
        return code == 200 and b"\n\xe2\x80\x94 v4 " in body

    check(until(v4_cosigns, "v4 signs"), "v4's signature is in the quorum checkpoint it serves")
    check(until(lambda: same_checkpoint(names4), "same checkpoint") == len(acked) + admin_leaves[0],
          "all four serve the same quorum checkpoint")
    # A fifth validator, also added after the genesis: v4 and v5 learn
    # each other's address from the genesis validators (the address book
    # passed on when links open) and link to each other.
    os.makedirs(f"{work}/v5")
    r = run(CLI, "keygen", "--name", "v5", "--out", f"{work}/v5/validator.key")
    v5pub = re.search(r"public key: +(\S+)", r.stdout).group(1)
    check(admin_event("member.add", ["--name", "v5", "--roles", "validator"], v5pub),
          "the admin's member.add of v5 with the validator role commits")
    pports["v5"], hports["v5"] = free_port(), free_port()
    urls["v5"] = f"http://127.0.0.1:{hports['v5']}"
    nodes["v5"] = Node("v5", config("v5"))
    check(until(lambda: "v5" in status(leader()).get("voters", []), "v5 promoted"),
          "the leader promotes v5 to voter")
    check(until(lambda: status("v4").get("peers_up") == 4 and
                status("v5").get("peers_up") == 4, "v4 and v5 linked"),
          "v4 and v5, both added after the genesis, find each other: every validator "
          "has a link to the four others")
    check(admin_event("member.remove", [], v5pub), "the admin's member.remove of v5 commits")
    check(until(lambda: "v5" not in status(leader()).get("voters", ["v5"]), "v5 removed"),
          "the leader removes v5")
    nodes["v5"].kill()
    check(admin_event("member.remove", []), "the admin's member.remove of v4 commits")
    check(until(lambda: "v4" not in status(leader()).get("voters", ["v4"]) and
                "v4" not in status(leader()).get("learners", ["v4"]), "v4 removed"),
          "the leader removes v4 from the Raft configuration")
    nodes["v4"].kill()
    for n in names:
        check(submit_via(n, 1), f"submissions through {n} commit after v4's removal")
    check(until(lambda: same_checkpoint(names), "same checkpoint") == len(acked) + admin_leaves[0],
          "the three serve the same quorum checkpoint without v4")

    for n in names:
        check(nodes[n].stop(), f"{n} stops on SIGTERM with exit 0")
finally:
    for node in list(locals().get("nodes", {}).values()) + [locals().get("d")]:
        if node is not None and node.proc.poll() is None:
            node.proc.kill()
    shutil.rmtree(work, ignore_errors=True)

print(f"{clusterlib.failures} failed")
clusterlib.finish()
