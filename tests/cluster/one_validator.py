"""A one-validator network for the cluster tests that need a single node
(test_bad_input.py, test_kill_cycles.py): keys, genesis, data directory
and config file, made with the CLI itself."""
import os, shutil, subprocess

from clusterlib import free_port


def make(cli, work, origin, peer="", http="", sections=""):
    """Keys v1 (the validator), admin and acme (a supplier owning
    party:acme), a genesis of `origin`, `work`/data and `work`/node.conf
    with the extra lines `peer` and `http` in those sections and the
    sections `sections` after them. Returns (config text, peer port, HTTP
    port, v1's verifier key)."""
    port, hport = free_port(), free_port()
    vkey = None
    for name in ("v1", "admin", "acme"):
        r = subprocess.run([cli, "keygen", "--name", name, "--out", f"{work}/{name}.key"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        if name == "v1":
            vkey = next(w for w in r.stdout.split() if w.startswith("v1+"))
    r = subprocess.run([cli, "genesis", "--origin", origin, "--admin", f"{work}/admin.key",
                        "--member", f"acme={work}/acme.key:supplier", "--owns",
                        "acme=party:acme", "--validator",
                        f"v1={work}/v1.key@127.0.0.1:{port}", "--out",
                        f"{work}/genesis.json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.makedirs(f"{work}/data")
    shutil.copy(f"{work}/v1.key", f"{work}/data/validator.key")
    config = (f"[node]\ndata = {work}/data\ngenesis = {work}/genesis.json\n"
              f"[peer]\nlisten = 127.0.0.1:{port}\n{peer}"
              f"[http]\nlisten = 127.0.0.1:{hport}\n{http}{sections}")
    with open(f"{work}/node.conf", "w") as f:
        f.write(config)
    return config, port, hport, vkey
