"""What the cluster tests share: a free port, HTTP without exceptions on
4xx/5xx, polling until a condition holds, and one line per check."""
import socket, sys, time, urllib.error, urllib.request

failures = 0


def check(ok, what):
    """Prints 'ok   - what' or 'FAIL - what' and counts the failures."""
    global failures
    print(("ok   - " if ok else "FAIL - ") + what, flush=True)
    if not ok:
        failures += 1


def free_port():
    s = socket.socket()
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
