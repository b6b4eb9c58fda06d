#!/usr/bin/env bash
# The verifier-only build (-Dclient=false): liborigo configures and builds
# without libcurl, and holds no network code (no curl symbol, no socket
# call). Usage: verifier_only.sh SOURCE_ROOT
set -euo pipefail
src=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
meson setup "$dir" "$src" -Dclient=false -Dtests=false >"$dir.log" 2>&1 ||
  { cat "$dir.log"; exit 1; }
ninja -C "$dir" sdk/liborigo.a >>"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
if grep -q curl "$dir/build.ninja" && grep -n "liborigo-client" "$dir/build.ninja" >/dev/null; then
  echo "FAIL - the verifier-only build still builds liborigo-client"
  exit 1
fi
undefined=$(nm -u "$dir/sdk/liborigo.a" | awk '{print $2}' | sort -u)
if grep -E '^(curl_|socket$|connect$|getaddrinfo$)' <<<"$undefined"; then
  echo "FAIL - liborigo calls network functions"
  exit 1
fi
echo "ok   - liborigo builds with -Dclient=false and calls no network function"
