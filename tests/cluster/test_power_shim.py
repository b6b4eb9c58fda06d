#!/usr/bin/env python3
"""The power-loss emulation of tests/cluster/faultfs.c, checked on its own
(docs/reliability.md): a child process writes pages, flushes some, and the
shim cuts the power at a chosen flush boundary. Over many seeds:

- a page flushed before the power went always holds what was flushed;
- a page written synchronously (O_DSYNC) always holds what was written;
- an unflushed page holds its new or its old content, never anything else,
  and across the seeds both happen (the loss is real, and not total);
- the process dies by SIGKILL at that boundary, never before, never
  after: a boundary number beyond the last lets it finish.

usage: test_power_shim.py SHIM.so
"""
import os, signal, subprocess, sys, tempfile

SHIM = sys.argv[1]
PAGE = 4096
CHILD = r"""
import os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.pwrite(fd, b"A" * (8 * 4096), 0)      # 8 pages of A
os.fsync(fd)                              # boundary 1: A is durable
os.pwrite(fd, b"B" * (4 * 4096), 0)      # pages 0-3 now B, unflushed
sync = os.open(path, os.O_RDWR | os.O_DSYNC)
os.pwrite(sync, b"S" * 4096, 5 * 4096)   # boundary 2: page 5 durable S
os.pwrite(fd, b"C" * 4096, 6 * 4096)     # page 6 C, unflushed
os.pwrite(fd, b"D" * 4096, 6 * 4096)     # page 6 D, unflushed
os.fdatasync(fd)                          # boundary 3: all durable
os.pwrite(fd, b"E" * 4096, 7 * 4096)     # page 7 E, never flushed
os.fsync(fd)                              # boundary 4
print("finished")
"""
failures = []
seen = {p: set() for p in range(8)}
work = tempfile.mkdtemp(prefix="origo-power-shim-")
for at in (2, 3, 4, 5):
    for seed in range(1, 41):
        path = f"{work}/f-{at}-{seed}"
        env = dict(os.environ, LD_PRELOAD=SHIM, ORIGO_FAULT_POWER_AT=str(at),
                   ORIGO_FAULT_POWER_SEED=str(seed))
        r = subprocess.run([sys.executable, "-c", CHILD, path], env=env,
                           capture_output=True, text=True)
        data = open(path, "rb").read()
        pages = [data[i * PAGE:(i + 1) * PAGE] for i in range(len(data) // PAGE)]
        kinds = [chr(p[0]) if p and p == p[:1] * PAGE else "?" for p in pages]
        if at == 5:
            if r.returncode != 0 or kinds != list("BBBBASDE"):
                failures.append(f"no power loss (boundary {at}): {r.returncode} {kinds}")
            continue
        if r.returncode != -signal.SIGKILL:
            failures.append(f"boundary {at}, seed {seed}: exit {r.returncode}, not SIGKILL")
            continue
        # What each page may hold when the power goes at boundary `at`
        # (before or after it: the seed decides).
        allowed = {
            2: ["AB", "AB", "AB", "AB", "A", "AS", "A", "A"],
            3: ["AB", "AB", "AB", "AB", "A", "S", "ACD", "A"],
            4: ["B", "B", "B", "B", "A", "S", "D", "AE"],
        }[at]
        for i, k in enumerate(kinds):
            seen[i].add((at, k))
            if k not in allowed[i]:
                failures.append(f"boundary {at}, seed {seed}: page {i} holds {k!r}, "
                                f"may hold only {allowed[i]}")
for at, page, kinds in ((2, 0, "AB"), (3, 6, "AD"), (4, 7, "AE")):
    for k in kinds:
        if (at, k) not in seen[page]:
            failures.append(f"boundary {at}: page {page} never held {k!r} in 40 seeds")
subprocess.run(["rm", "-rf", work])
print(f"power-loss shim: 160 power losses at 3 boundaries and 40 runs past the last; "
      f"checked: flushed and synchronous pages durable, unflushed pages old or new, "
      f"both seen; failures: {len(failures)}")
for f in failures[:20]:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
