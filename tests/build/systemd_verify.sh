#!/usr/bin/env bash
# deploy/systemd/origo-node.service passes `systemd-analyze verify` with no
# warning (ExecStart pointed at the built binary), and a broken copy does
# not, so the check can fail. Usage: systemd_verify.sh SOURCE_ROOT ORIGO_NODE
set -uo pipefail
src=$1 node=$2
command -v systemd-analyze >/dev/null || { echo "skip: no systemd-analyze"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/origo-node|$node|" "$src/deploy/systemd/origo-node.service" \
  >"$dir/origo-node.service"
out=$(systemd-analyze verify --man=no "$dir/origo-node.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  echo "FAIL - systemd-analyze verify: $out"
  exit 1
fi
sed 's/^Type=notify/Type=notifyy/' "$dir/origo-node.service" >"$dir/broken.service"
out=$(systemd-analyze verify --man=no "$dir/broken.service" 2>&1)
[ -n "$out" ] || { echo "FAIL - a broken unit passed"; exit 1; }
for d in Type=notify ProtectSystem=strict NoNewPrivileges=yes StateDirectory=origo User=origo; do
  grep -qx "$d" "$dir/origo-node.service" || { echo "FAIL - missing $d"; exit 1; }
done
echo "ok   - the systemd unit verifies cleanly and is hardened"
