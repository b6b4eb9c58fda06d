#!/usr/bin/env python3
"""origo-node serves its API over HTTPS with [http] tls_cert and tls_key: a
real TLS handshake (Python's ssl, trusting only the test's self-signed
certificate) gets answers; plain HTTP on that port gets none; a
certificate without its key stops startup naming both keys.

usage: test_tls.py ORIGO_NODE ORIGO_CLI
"""
import json, os, shutil, ssl, subprocess, sys, tempfile, urllib.request

import clusterlib
from clusterlib import check, free_port

NODE, CLI = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="origo-tls-")


node = None
try:
    if shutil.which("openssl") is None:
        print("skip: no openssl to make a certificate")
        sys.exit(77)
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                        "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.makedirs(f"{work}/v1")
    subprocess.run([CLI, "keygen", "--name", "v1", "--out", f"{work}/v1/validator.key"],
                   check=True, capture_output=True)
    subprocess.run([CLI, "keygen", "--name", "boss", "--out", f"{work}/admin.key"],
                   check=True, capture_output=True)
    pport, hport = free_port(), free_port()
    subprocess.run([CLI, "genesis", "--origin", "tls.test", "--admin", f"{work}/admin.key",
                    "--validator", f"v1={work}/v1/validator.key@127.0.0.1:{pport}",
                    "--out", f"{work}/v1/genesis.json"], check=True, capture_output=True)
    conf = f"{work}/v1.conf"
    with open(conf, "w") as f:
        f.write(f"[node]\ndata = {work}/v1\n[peer]\nlisten = 127.0.0.1:{pport}\n"
                f"[http]\nlisten = 127.0.0.1:{hport}\ntls_cert = {work}/cert.pem\n"
                f"tls_key = {work}/key.pem\n")
    node = subprocess.Popen([NODE, "--config", conf], stderr=subprocess.PIPE, text=True)
    started = False
    for line in node.stderr:
        if "msg=started" in line:
            started = True
            break
        if "cannot start" in line:
            print(line)
            break
    check(started, "the node starts with a certificate and its key")
    ctx = ssl.create_default_context(cafile=f"{work}/cert.pem")
    body = urllib.request.urlopen(f"https://127.0.0.1:{hport}/healthz", context=ctx,
                                  timeout=30).read()
    check(json.loads(body) == {"status": "ok"}, "GET /healthz over HTTPS, the certificate verified")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{hport}/healthz", timeout=10).read()
        plain = True
    except Exception:
        plain = False
    check(not plain, "plain HTTP on the HTTPS port gets no answer")
    node.terminate()
    node.wait()
    text = open(conf).read().replace(f"tls_key = {work}/key.pem\n", "")
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run([NODE, "--config", conf], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "tls_cert and tls_key go together" in r.stderr,
          "a certificate without its key stops startup, saying both are needed")
finally:
    if node and node.poll() is None:
        node.kill()
    shutil.rmtree(work, ignore_errors=True)

print(f"{clusterlib.failures} failed")
clusterlib.finish()
