#!/usr/bin/env python3
"""sdk/examples/erp_quality, the integrator's example, runs against a real
`origo-node --dev`: four events committed, the COA proof verified.

usage: test_example.py ORIGO_NODE ERP_QUALITY
"""
import re, shutil, subprocess, sys, tempfile

from clusterlib import free_port

NODE, EXAMPLE = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="origo-example-")
port = free_port()
node = subprocess.Popen([NODE, "--dev", "--data", work, "--http", f"127.0.0.1:{port}"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
ok = False
try:
    # The banner is printed once the API listens.
    for line in node.stdout:
        if line.strip().startswith("API:"):
            break
    r = subprocess.run([EXAMPLE, f"http://127.0.0.1:{port}", f"{work}/supplier.key",
                        f"{work}/trust.txt", "origo.dev/local", "dev-supplier"],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout + r.stderr)
    ok = (r.returncode == 0 and len(re.findall(r"committed at leaf", r.stdout)) == 4
          and "verified against" in r.stdout)
finally:
    node.terminate()
    node.wait()
    shutil.rmtree(work, ignore_errors=True)
print(("ok   - " if ok else "FAIL - ") + "the example commits four events and verifies the COA proof")
sys.exit(0 if ok else 1)
