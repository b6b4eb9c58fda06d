"""What the cluster tests share: a free port, HTTP without exceptions on
4xx/5xx, polling until a condition holds, one line per check, and RFC 9162
inclusion and consistency proof verification of their own."""
import hashlib, random, socket, sys, time, urllib.error, urllib.request

failures = 0


def check(ok, what):
    """Prints 'ok   - what' or 'FAIL - what' and counts the failures."""
    global failures
    print(("ok   - " if ok else "FAIL - ") + what, flush=True)
    if not ok:
        failures += 1


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port free now for a node to listen on, chosen outside the kernel's
    ephemeral range: a port the kernel hands out (bind to 0) is free only
    until the next outgoing connection takes it as its local port, and the
    tests that run beside this one open thousands (CI once saw a node
    refused its HTTP port that way). Random among the rest, so that tests
    running at once rarely pick the same one."""
    lo, hi = _ephemeral_range()
    candidates = [p for p in range(10000, 65536) if not lo <= p <= hi]
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(candidates)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue  # in use: another
        finally:
            s.close()
    s = socket.socket()  # everything tried was taken: the kernel's choice
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, ctype="application/json", headers=None, timeout=10.0):
    """Returns (status, content type, body bytes); never raises on 4xx/5xx
    (a connection that fails raises OSError)."""
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None and ctype:
        req.add_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def until(fn, seconds=30.0):
    """Calls fn until it returns something true (returned) or `seconds`
    pass (None)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)  # polling a node's answer
    return None


def finish():
    """Exits 1 if a check failed."""
    sys.exit(1 if failures else 0)


# ---- RFC 9162 proofs (section 2.1.3.2 and 2.1.4.2, as the RFC describes
# the verification), for checkers that must not trust the node's code ----

def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def merkle_root(hashes):
    """RFC 9162 Merkle tree hash of a non-empty list of leaf hashes."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return _node(merkle_root(hashes[:k]), merkle_root(hashes[k:]))


def inclusion_ok(index, size, leaf, path, root):
    """Whether `path` proves leaf hash `leaf` at `index` in the tree of
    `size` leaves whose root is `root` (all hashes as bytes)."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_ok(old, new, old_root, new_root, path):
    """Whether `path` proves that the tree of `old` leaves with root
    `old_root` is a prefix of the tree of `new` leaves with `new_root`."""
    if old > new:
        return False
    if old == new:
        return not path and old_root == new_root
    if old == 0:
        return not path  # the empty tree is a prefix of every tree
    if not path:
        return False
    path = list(path)
    if old & (old - 1) == 0:  # a power of two: its root starts the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
