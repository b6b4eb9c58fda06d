#!/usr/bin/env python3
"""Bad input at scale (issue 11, docs/reliability.md): a corpus of over
1,000 malformed inputs, made from valid ones by a seeded generator, across
every interface from outside: the HTTP API, the peer transport, config
files, genesis files, EPCIS documents and the CLI's files (proofs, trace
reports, trust files). Each must be answered with its specific error (an
HTTP status and problem `code`, an exit status and a message naming what
is wrong), never a crash or a hang; the node keeps serving, its state
(tree size, checkpoint root, status) is unchanged, and a valid event
submitted at the end commits.

usage: test_bad_input.py ORIGO_NODE ORIGO_CLI [--seed N]
"""
import base64, json, os, random, shutil, signal, socket, subprocess, sys
import tempfile

import one_validator
from clusterlib import http, until

NODE, CLI = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
SEED = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
rng = random.Random(SEED)
work = tempfile.mkdtemp(prefix="origo-badinput-")
failures = []
counts = {}


def run(*a, timeout=20, **kw):
    try:
        return subprocess.run(a, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None


def record(category, ok, what):
    counts[category] = counts.get(category, 0) + 1
    if not ok:
        failures.append(f"{category}: {what}")


# ---- one validator --------------------------------------------------------

CONFIG, port, hport, vkey = one_validator.make(
    CLI, work, "bad.test", peer="handshake_timeout_ms = 500\n", http="max_body = 65536\n",
    sections="[raft]\ntick_ms = 20\nelection_ticks = 10\n[cosign]\ninterval_ms = 10\n")
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


assert until(lambda: (status() or {}).get("role") == "leader"), "the node did not start"


def event(lot, ts=None):
    extra = ["--ts", str(ts)] if ts else []
    r = run(CLI, "event", "--key", f"{work}/acme.key", "--net", "bad.test", "--type",
            "lot.create", "--lot", f"{lot},1,pcs", "--item", "cell", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


good = event("acme/cell/G-1")
code, _, body = http("POST", f"{url}/v1/events", json.dumps({"envelope": good["envelope"]}).encode())
assert code == 200, body
assert until(lambda: (status() or {}).get("tree_size") == 1)


def checkpoint():
    code, _, body = http("GET", f"{url}/checkpoint")
    return body.split(b"\n\n")[0] if code == 200 else None


assert until(checkpoint)
before = (status()["tree_size"], until(checkpoint))


def serving():
    code, _, _ = http("GET", f"{url}/healthz", timeout=3.0)
    return code == 200


def problem(ctype, body):
    if "problem+json" not in ctype:
        return None
    try:
        return json.loads(body).get("code")
    except ValueError:
        return None


# ---- HTTP: POST /v1/events ------------------------------------------------

envelope = base64.b64decode(good["envelope"])


def post(category, body, statuses, codes, ctype="application/json"):
    code, rtype, rbody = http("POST", f"{url}/v1/events", body, ctype=ctype)
    got = problem(rtype, rbody)
    record(category, code in statuses and got in codes,
           f"{body[:60]!r}: HTTP {code} {got}, expected {statuses} {sorted(codes)}")


def flipped(data):
    b = bytearray(data)
    i = rng.randrange(len(b))
    b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


for _ in range(60):
    post("http: body not JSON", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
         {400}, {"ORIGO_E_JSON"})
SHAPES = [{}, [], None, 5, "x", {"envelope": 5}, {"envelope": None}, {"envelope": []},
          [{"x": 1}], [5], {"envelope": "", "extra": 1}, [[]], {"env": good["envelope"]}]
for shape in SHAPES * 4:
    post("http: JSON of the wrong shape", json.dumps(shape).encode(), {400},
         {"ORIGO_E_JSON"})
for _ in range(60):
    text = "".join(rng.choice("!@#$%^&*()<>?~ \t") for _ in range(rng.randrange(1, 80)))
    post("http: envelope not base64", json.dumps({"envelope": text}).encode(), {400},
         {"ORIGO_E_JSON"})
CODEC = {"ORIGO_E_TRUNCATED", "ORIGO_E_NONCANONICAL", "ORIGO_E_TYPE", "ORIGO_E_TRAILING",
         "ORIGO_E_UTF8", "ORIGO_E_DEPTH", "ORIGO_E_MISSING_KEY", "ORIGO_E_UNKNOWN_KEY",
         "ORIGO_E_KEY_ORDER", "ORIGO_E_DUPLICATE_KEY", "ORIGO_E_RESERVED_TYPE",
         "ORIGO_E_TOOBIG", "ORIGO_E_SCHEMA", "ORIGO_E_EVENT_TYPE", "ORIGO_E_VERSION",
         "ORIGO_E_LOT", "ORIGO_E_TIMESTAMP", "ORIGO_E_KEY"}
for _ in range(80):
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    post("http: envelope of random bytes",
         json.dumps({"envelope": base64.b64encode(junk).decode()}).encode(), {422}, CODEC)
for _ in range(120):
    post("http: envelope with one bit flipped",
         json.dumps({"envelope": base64.b64encode(flipped(envelope)).decode()}).encode(),
         {422}, CODEC | {"ORIGO_E_SIGNATURE", "ORIGO_E_NETWORK"})
for _ in range(50):
    cut = envelope[:rng.randrange(len(envelope))]
    post("http: envelope truncated", json.dumps({"envelope": base64.b64encode(cut).decode()}).encode(),
         {422}, CODEC)
for _ in range(30):
    post("http: MessagePack body of random bytes",
         bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), {400, 422},
         CODEC | {"ORIGO_E_JSON"}, ctype="application/msgpack")
for _ in range(10):
    post("http: body over max_body", b"[" + b"0," * 40000 + b"0]", {413}, {"ORIGO_E_TOOBIG"})
for ctype in ["text/plain", "application/xml", "image/png", "multipart/form-data"] * 5:
    post("http: unsupported content type", json.dumps({"envelope": good["envelope"]}).encode(),
         {415}, {"ORIGO_E_UNSUPPORTED"}, ctype=ctype)

# ---- HTTP: reads with bad paths and parameters ------------------------------


def get(category, path, statuses):
    code, rtype, rbody = http("GET", url + path)
    got = problem(rtype, rbody)
    record(category, code in statuses and (got or "").startswith("ORIGO_E_"),
           f"GET {path[:80]}: HTTP {code} {got}, expected {statuses} and a problem code")


def junk_text(alphabet="0123456789abcdefXYZ-_%", lo=0, hi=90):
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(lo, hi)))


for _ in range(50):
    get("http: bad event ID", "/v1/events/" + junk_text(), {400, 404})
for _ in range(30):
    get("http: bad proof ID", "/v1/proofs/" + junk_text(), {400, 401, 404})
for _ in range(30):
    get("http: bad block height", "/v1/blocks/" + rng.choice(
        ["-1", "x", "1e9", "99999999999999999999999", "0", "", "%00", "1.5", "18446744073709551616"]),
        {400, 404})
for _ in range(40):
    q = rng.choice(["leaf=x&size=1", "leaf=5&size=1", "leaf=-1&size=2", "size=1",
                    "leaf=0&size=99999999999999999999", "leaf=0&size=0", "leaf=&size=",
                    "leaf=1&size=1", "leaf=0&size=abc", "leaf=18446744073709551616"])
    get("http: bad inclusion proof query", "/v1/proof/inclusion?" + q, {400, 404, 422})
for _ in range(30):
    q = rng.choice(["old=2&new=1", "old=x&new=1", "old=0&new=99999", "new=1", "old=1",
                    "old=-1&new=1", "old=1&new=", "old=99999999999999999999&new=1"])
    get("http: bad consistency proof query", "/v1/proof/consistency?" + q, {400, 404, 422})
for _ in range(40):
    q = rng.choice(["", "lot=", "lot=acme/cell/G-1&direction=sideways",
                    "lot=acme/cell/G-1&depth=-1", "lot=acme/cell/G-1&format=v9",
                    "lot=" + "x" * 600, "lot=acme/cell/G-1&depth=abc",
                    "direction=backward"])
    get("http: bad trace query", "/v1/trace?" + q, {400, 401, 404, 422})
for _ in range(40):
    get("http: bad tile path", "/tile/" + junk_text("0123456789x./p-", 0, 30), {400, 404})
for _ in range(40):
    get("http: unknown path", "/" + junk_text("abcdefghijklmnopqrstuvwxyz/._-", 1, 60), {404})
for method in ["DELETE", "PUT", "PATCH"] * 5:
    code, rtype, rbody = http(method, f"{url}/v1/events", b"{}")
    record("http: method not allowed", code == 405 and problem(rtype, rbody),
           f"{method} /v1/events: HTTP {code}")
assert serving(), "the node stopped serving after the HTTP corpus"

# ---- the peer transport ---------------------------------------------------

for k in range(100):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if k % 4 == 0:
        data = b"\xff\xff\xff\xff" + bytes(rng.randrange(256) for _ in range(16))
    elif k % 4 == 1:
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
    elif k % 4 == 2:
        data = b"\x00\x00\x00\x40" + b"origo" * 3  # a short, unfinished handshake
    else:
        data = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        s.sendall(data)
        s.settimeout(5)
        closed = False
        while True:  # the node closes the link (bad frame or handshake timeout)
            chunk = s.recv(4096)
            if not chunk:
                closed = True
                break
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    except socket.timeout:
        closed = False
    s.close()
    record("peer: garbage frames and handshakes", closed, f"{data[:20]!r}: link not closed")
    if k % 20 == 19:
        record("peer: garbage frames and handshakes", serving(), "the node stopped serving")

# ---- config files ---------------------------------------------------------

os.makedirs(f"{work}/cfgdata")
base = CONFIG.replace(f"{work}/data", f"{work}/cfgdata").replace(str(port), "1").replace(
    str(hport), "2")
lines = base.splitlines()
MUTATIONS = []
for i, line in enumerate(lines):
    if "=" in line:
        key = line.split("=")[0].strip()
        for bad in ["", "-1", "abc", "99999999999999999999999", "1 2", "0x10"]:
            MUTATIONS.append((f"{key} = {bad!r}", lines[:i] + [f"{key} = {bad}"] + lines[i + 1:]))
        MUTATIONS.append((f"{key} twice", lines[:i + 1] + [line] + lines[i + 1:]))
for section in ["node", "peer", "http", "raft", "submit", "cosign"]:
    MUTATIONS.append((f"unknown key in [{section}]", lines + [f"[{section}]", "colour = blue"]))
for junk in ["[", "[]", "[nodes]", "[]\nx = 1", "[nodes]\nx = 1", "= 5", "just words",
             "[node", "key"]:
    MUTATIONS.append((f"line {junk!r}", lines + [junk]))
MUTATIONS.append(("no data", [l for l in lines if not l.startswith("data")]))
for listen in ["listen = nowhere", "listen = 127.0.0.1:99999", "listen = 127.0.0.1:",
               "listen = :80", "listen = 256.1.1.1:80", "listen = [::1:80"]:
    MUTATIONS.append((listen, lines + ["[peer]", listen]))
for what, mutated in MUTATIONS:
    path = f"{work}/bad.conf"
    with open(path, "w") as f:
        f.write("\n".join(mutated) + "\n")
    r = run(NODE, "--config", path, timeout=10)
    err = (r.stderr.decode(errors="replace") if r else "")
    # A value the parser takes (a path that does not exist) stops the node
    # at start, saying which; anything else is refused naming the file.
    record("config: malformed files", r is not None and (
        (r.returncode == 2 and "bad.conf" in err) or
        (r.returncode == 1 and "cannot start" in err)),
        f"{what}: exit {r.returncode if r else 'hang'}: {err[:150]!r}")

# ---- genesis files --------------------------------------------------------

with open(f"{work}/genesis.json") as f:
    genesis = json.load(f)


def genesis_mutations():
    for key in list(genesis):
        g = dict(genesis)
        del g[key]
        yield f"no {key}", g
        for bad in [None, 5, "x", [], {}, True]:
            g = dict(genesis)
            g[key] = bad
            yield f"{key} = {bad!r}", g
    for list_key in ("validators", "admins", "members"):
        for field in ("name", "key", "roles", "address", "owns"):
            g = json.loads(json.dumps(genesis))
            items = g.get(list_key) or []
            if items and field in items[0]:
                for bad in [None, 5, "", "zz" * 32, ["nope"]]:
                    g2 = json.loads(json.dumps(g))
                    g2[list_key][0][field] = bad
                    yield f"{list_key}[0].{field} = {bad!r}", g2
    for k in ("ts_window_ms", "checkpoint_quorum", "admin_quorum", "approval_window_ms"):
        for bad in [0, -1, 10 ** 30, "1", 99999999999]:
            g = json.loads(json.dumps(genesis))
            g.setdefault("params", {})[k] = bad
            yield f"params.{k} = {bad!r}", g


# Mutations that leave a valid genesis (optional parts removed, another
# valid origin or name) are not malformed input.
VALID_GENESIS = {"no members", "members = []", "no params", "origin = 'x'"}
n_genesis = 0
for what, g in genesis_mutations():
    if what in VALID_GENESIS or "'zzzz" in what:
        continue
    gdir = f"{work}/gdata"
    shutil.rmtree(gdir, ignore_errors=True)
    os.makedirs(gdir)
    shutil.copy(f"{work}/v1.key", f"{gdir}/validator.key")
    with open(f"{work}/bad-genesis.json", "w") as f:
        json.dump(g, f)
    with open(f"{work}/g.conf", "w") as f:
        f.write(f"[node]\ndata = {gdir}\ngenesis = {work}/bad-genesis.json\n"
                f"[peer]\nlisten = 127.0.0.1:1\n[http]\nlisten = 127.0.0.1:2\n")
    if g == genesis:
        continue
    r = run(NODE, "--config", f"{work}/g.conf", timeout=5)
    err = r.stderr.decode(errors="replace") if r else ""
    n_genesis += 1
    record("genesis: malformed files", r is not None and r.returncode != 0 and
           r.returncode < 128 and "genesis" in err,
           f"{what}: exit {r.returncode if r else 'hang'}: {err[:150]!r}")

# ---- EPCIS documents ------------------------------------------------------

EPCIS = {"type": "ObjectEvent", "action": "OBSERVE", "epcList": ["acme/cell/G-1"],
         "eventTime": "2026-12-06T07:00:00Z", "bizStep": "shipping"}


def epcis_mutations():
    for key in ("type", "action", "eventTime"):
        e = dict(EPCIS)
        del e[key]
        yield f"no {key}", e
    for key in list(EPCIS):
        for bad in [None, 5, [], {}, "", "x" * 5000]:
            # A bizStep is any string (a CBV code or a URI), an empty
            # epcList an observation of nothing: those stay valid.
            if (key == "bizStep" and isinstance(bad, str)) or \
                    (key == "epcList" and bad == []):
                continue
            e = dict(EPCIS)
            e[key] = bad
            yield f"{key} = {str(bad)[:20]!r}", e
    for t in ["2026-13-01T00:00:00Z", "2026-12-06", "yesterday", "2026-12-06T25:00:00Z",
              "2026-12-06T07:00:00+25:00", "0000-00-00T00:00:00Z"]:
        yield f"eventTime {t}", dict(EPCIS, eventTime=t)
    for action in ["observe", "ADDX", "DELETE "]:
        yield f"action {action}", dict(EPCIS, action=action)
    deep = {}
    cur = deep
    for _ in range(200):
        cur["x"] = {}
        cur = cur["x"]
    yield "nested 200 deep", dict(EPCIS, ilmd=deep)
    yield "TransformationEvent with an action", dict(
        EPCIS, type="TransformationEvent", inputEPCList=["acme/cell/G-1"])


for what, e in epcis_mutations():
    with open(f"{work}/epcis.json", "w") as f:
        json.dump({"type": "epcis", "net": "bad.test", "epcis": e}, f)
    r = run(CLI, "event", "--key", f"{work}/acme.key", "--json", f"{work}/epcis.json")
    err = r.stderr.decode(errors="replace") if r else ""
    record("epcis: malformed documents", r is not None and r.returncode == 2 and
           ("ORIGO_E_" in err or "'epcis'" in err),
           f"{what}: exit {r.returncode if r else 'hang'}: {err[:150]!r}")
for _ in range(30):
    with open(f"{work}/epcis.json", "wb") as f:
        f.write(b'{"type":"epcis","net":"bad.test","epcis":' +
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 100))) + b"}")
    r = run(CLI, "event", "--key", f"{work}/acme.key", "--json", f"{work}/epcis.json")
    err = r.stderr.decode(errors="replace") if r else ""
    record("epcis: malformed documents", r is not None and r.returncode == 2 and err,
           f"random JSON: exit {r.returncode if r else 'hang'}: {err[:150]!r}")

# ---- the CLI's files: proofs, trace reports, trust files --------------------

trust = f"{work}/trust.txt"
with open(trust, "w") as f:
    f.write(f"origin bad.test\n{vkey}\n")
assert until(lambda: run(CLI, "prove", "--data", f"{work}/data", "--event", good["id"],
                         "--out", f"{work}/good.proof").returncode == 0, 10)
r = run(CLI, "trace", "--data", f"{work}/data", "--lot", "acme/cell/G-1", "--all-events",
        "--proofs", "--out", f"{work}/good.json")
assert r.returncode == 0, r.stderr
for name in ("good.proof", "good.json"):
    r = run(CLI, "verify", "--trust", trust, f"{work}/{name}")
    assert r.returncode == 0, r.stdout


def verify(category, data, trust_path=trust, codes=(1,)):
    with open(f"{work}/bad.file", "wb") as f:
        f.write(data)
    r = run(CLI, "verify", "--trust", trust_path, f"{work}/bad.file")
    out = (r.stdout + r.stderr).decode(errors="replace") if r else ""
    record(category, r is not None and r.returncode in codes and
           ("FAIL" in out or "origo verify" in out),
           f"{data[:40]!r}: exit {r.returncode if r else 'hang'}: {out[:150]!r}")


with open(f"{work}/good.proof", "rb") as f:
    proof = f.read()
with open(f"{work}/good.json", "rb") as f:
    report = f.read()
for _ in range(60):
    verify("cli: malformed proof files", flipped(proof))
plines = proof.split(b"\n")
for i in range(len(plines)):
    verify("cli: malformed proof files", b"\n".join(plines[:i] + plines[i + 1:]))
for _ in range(20):
    verify("cli: malformed proof files", proof[:rng.randrange(len(proof))])
doc = json.loads(report)


def report_mutations():
    for key in list(doc):
        d = dict(doc)
        del d[key]
        yield d
        for bad in [None, 5, "x", [], {}]:
            d = dict(doc)
            d[key] = bad
            yield d
    for _ in range(30):  # one bit of one event's envelope or proof
        d = json.loads(report)
        ev = rng.choice(d["events"])
        field = rng.choice(["envelope"] + (["proof"] if ev["proof"] else []))
        if field == "envelope":
            ev["envelope"] = base64.b64encode(flipped(base64.b64decode(ev["envelope"]))).decode()
        else:
            k = rng.randrange(len(ev["proof"]))
            ev["proof"][k] = base64.b64encode(flipped(base64.b64decode(ev["proof"][k]))).decode()
        yield d


for d in report_mutations():
    if d != doc:  # an empty list replaced by an empty list is no mutation
        verify("cli: malformed trace reports", json.dumps(d).encode())
for _ in range(20):
    verify("cli: malformed trace reports", report[:rng.randrange(len(report))])
TRUST_BAD = ["quorum 0", "quorum 5", "quorum x", "origin", "v1+zz+AAAA", "nonsense line",
             vkey[:-4], vkey + "x", "v1+00000000+" + "A" * 44, "\x00", "origin a b",
             "witness+1+2", "quorum -1", vkey.replace("+", " ")]
for line in TRUST_BAD * 3:
    with open(f"{work}/bad-trust.txt", "w") as f:
        f.write(f"origin bad.test\n{vkey}\n{line}\n")
    # Refused as a usage error (2), or, for a line that still parses (a
    # second origin), the proof refused under it (1).
    verify("cli: malformed trust files", proof, f"{work}/bad-trust.txt", codes=(1, 2))

# ---- after all of it --------------------------------------------------------

after = (status() or {}).get("tree_size"), checkpoint()
record("state unchanged", after == before, f"tree and checkpoint {before} became {after}")
fresh = event("acme/cell/G-2")
code, _, body = http("POST", f"{url}/v1/events", json.dumps({"envelope": fresh["envelope"]}).encode())
record("still serving", code == 200 and json.loads(body)["results"][0]["status"] == "committed",
       f"a valid event after the corpus: HTTP {code} {body[:100]!r}")
node.send_signal(signal.SIGTERM)
try:
    rc = node.wait(timeout=30)
except subprocess.TimeoutExpired:
    node.kill()
    rc = None
record("still serving", rc == 0, f"the node's exit on SIGTERM: {rc}")

total = sum(counts.values())
print(f"bad input: {total} malformed inputs, seed {SEED}: " +
      ", ".join(f"{k} {v}" for k, v in counts.items()) +
      f"; failures: {len(failures)}")
for f_ in failures[:40]:
    print("FAILURE:", f_)
if failures or total < 1000:
    print(f"logs kept in {work}")
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
