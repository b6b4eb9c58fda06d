#!/usr/bin/env bash
# End-to-end test of the origo CLI as a user runs it: the demo network, then
# proofs, trace reports, audit, keys and events, each with the failure an
# auditor must see when a file is tampered with or a flag is wrong.
# Usage: test_cli.sh PATH-TO-ORIGO
set -uo pipefail
origo=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/origo-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }

# expect STATUS NAME CMD...: runs CMD, checks its exit status.
expect() {
  local want=$1 name=$2
  shift 2
  "$@" >"$work/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then pass "$name"; else
    fail "$name (exit $got, wanted $want)"; sed 's/^/     /' "$work/out"; fi
}

# expect_output PATTERN NAME: the last command's output matches PATTERN.
expect_output() {
  if grep -q -- "$1" "$work/out"; then pass "$2"; else
    fail "$2 (no '$1' in output)"; sed 's/^/     /' "$work/out"; fi
}

demo=$work/demo
expect 0 "demo builds a network" "$origo" demo --dir "$demo"
expect_output "17 events committed, 2 rejected" "demo commits 17 events and rejects two"
expect_output "rejected: lot.transform by volt-packs: submitter does not hold the lot (ORIGO_E_NOT_HOLDER)" "demo shows the competitor's refused transformation"

expect 0 "prove leaf 3" "$origo" prove --data "$demo/validator-1" --leaf 3 --out "$work/p3.proof"
expect 0 "a fresh proof verifies" "$origo" verify --trust "$demo/trust.txt" "$work/p3.proof"
expect_output "custody.ship" "verify names the event type"

# Tamper with one character of each line kind of the proof.
for line in 2 3 4; do
  awk -v n="$line" 'NR == n { c = substr($0, length($0) - 5, 1);
        r = (c == "A") ? "B" : "A";
        $0 = substr($0, 1, length($0) - 6) r substr($0, length($0) - 4) } { print }' \
    "$work/p3.proof" >"$work/bad.proof"
  expect 1 "a proof with line $line altered is rejected" \
    "$origo" verify --trust "$demo/trust.txt" "$work/bad.proof"
done
sed '$ d' "$work/p3.proof" | sed '$ d' >"$work/onesig.proof"
expect 1 "a checkpoint left with one signature misses quorum 2" \
  "$origo" verify --trust "$demo/trust.txt" "$work/onesig.proof"
expect 2 "--quorum 4 of 3 validators is refused as unmeetable" \
  "$origo" verify --trust "$demo/trust.txt" --quorum 4 "$work/p3.proof"
sed 's/^origin .*/origin other.example/' "$demo/trust.txt" >"$work/other.txt"
expect 1 "a proof from another network is rejected" \
  "$origo" verify --trust "$work/other.txt" "$work/p3.proof"
grep -v '^validator' "$demo/trust.txt" >"$work/nokeys.txt"
echo "garbage-line" >>"$work/nokeys.txt"
expect 2 "a malformed trust file is a usage error" \
  "$origo" verify --trust "$work/nokeys.txt" "$work/p3.proof"
expect_output "nokeys.txt:[0-9]*:" "the trust-file error names file and line"

expect 0 "trace answers a recall question" "$origo" trace --data "$demo/validator-1" \
  --lot nordic/li2co3/LC-2291 --recall
expect_output "owner nordic-lithium, holder acme-cells" "the answer names each lot's owner and holder"
expect_output "made 120.5 kg, consumed 120.5 kg, left 0 kg" "the answer shows the quantity balance"
expect_output "quality.hold     volt-packs (plant), third party" "each event names its signer, role and standing"
expect 0 "trace report for a recall" "$origo" trace --data "$demo/validator-1" \
  --lot nordic/li2co3/LC-2291 --recall --proofs --out "$work/recall.json"
expect 0 "the recall report verifies" "$origo" verify --trust "$demo/trust.txt" "$work/recall.json"
python3 - "$work/recall.json" "$work/extra-lot.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
report["lots"].append({"lot": "acme/cell-21700/C-9999", "depth": 1})
json.dump(report, open(sys.argv[2], "w"))
PY
expect 1 "a report claiming an extra lot is rejected" \
  "$origo" verify --trust "$demo/trust.txt" "$work/extra-lot.json"
# An edge whose leaf states another edge: C-0001 -> P-5002 claimed as
# C-0002 -> P-5002 (both lots are in the report, so only the edge is false).
python3 - "$work/recall.json" "$work/false-edge.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
edge = [e for e in report["edges"] if e["to"] == "volt/pack-48v/P-5002"][0]
assert edge["from"] == "acme/cell-21700/C-0001"
edge["from"] = "acme/cell-21700/C-0002"
json.dump(report, open(sys.argv[2], "w"))
PY
expect 1 "a report claiming an edge its event does not state is rejected" \
  "$origo" verify --trust "$demo/trust.txt" "$work/false-edge.json"
expect_output 'the edge "acme/cell-21700/C-0002" -> "volt/pack-48v/P-5002" (leaf [0-9]*) does not follow' \
  "verify names the edge that does not follow"

expect 0 "audit of an untouched ledger is clean" "$origo" audit --data "$demo/validator-2"
expect_output "audit clean" "audit says clean"
expect_output "internal consistency only" "audit without anchors says so"
expect 0 "audit anchored to the genesis and the trusted keys" "$origo" audit \
  --data "$demo/validator-2" --genesis "$demo/genesis.json" --trust "$demo/trust.txt"
expect_output "matches .*signed by 3 trusted keys" "audit names both anchors"
sed 's/"ts_window_ms": [0-9]*/"ts_window_ms": 1234/' "$demo/genesis.json" >"$work/other-genesis.json"
expect 1 "audit against another genesis fails" "$origo" audit \
  --data "$demo/validator-2" --genesis "$work/other-genesis.json"
expect_output "genesis_hash" "the failed anchor names the genesis hash"
expect 1 "audit against another network's trust file fails" "$origo" audit \
  --data "$demo/validator-2" --trust "$work/other.txt"
expect 2 "audit refuses an unmeetable --quorum" "$origo" audit \
  --data "$demo/validator-2" --trust "$demo/trust.txt" --quorum 4

expect 0 "keygen writes a key" "$origo" keygen --name test-supplier --out "$work/s.key"
mode=$(stat -c %a "$work/s.key")
[ "$mode" = 600 ] && pass "key file mode is 0600" || fail "key file mode is $mode"
expect 2 "keygen refuses to overwrite" "$origo" keygen --name x --out "$work/s.key"
"$origo" keygen --name v1 --out "$work/v1.key" >/dev/null
"$origo" keygen --name boss --out "$work/boss.key" >/dev/null
expect 0 "genesis writes a rule-version-1 genesis with namespaces" "$origo" genesis \
  --origin origo.example/t --validator "v1=$work/v1.key@127.0.0.1:7400" \
  --admin "$work/boss.key" --member "test-supplier=$work/s.key:supplier" \
  --owns test-supplier=party:test,gs1:4012345 --out "$work/genesis.json"
grep -q '"rules": 1' "$work/genesis.json" && grep -q '"gs1:4012345"' "$work/genesis.json" &&
  pass "the genesis states rules 1 and the member's namespaces" ||
  fail "genesis lacks rules or owns: $(cat "$work/genesis.json")"
expect 2 "--owns for a name no party has is refused" "$origo" genesis \
  --origin origo.example/t --validator "v1=$work/v1.key@127.0.0.1:7400" \
  --admin "$work/boss.key" --owns nobody=party:x --out "$work/g2.json" --force
expect_output 'no --admin or --member is named "nobody"' "the error names the missing party"
expect 0 "event builds and signs a lot.create" "$origo" event --key "$work/s.key" \
  --net origo.example/t --type lot.create --lot test/part/L1,10,pcs --item part \
  --out "$work/e.msgpack"
expect_output '"id"' "event prints the event ID"
[ -s "$work/e.msgpack" ] && pass "event writes the envelope" || fail "no envelope written"
expect 2 "event rejects an unknown type" "$origo" event --key "$work/s.key" \
  --net origo.example/t --type lot.melt --lot test/part/L1
expect_output "type" "the error names the field"
expect 2 "event rejects a malformed lot id" "$origo" event --key "$work/s.key" \
  --net origo.example/t --type lot.create --lot "bad lot" --item x
# An EPCIS document from outside, spaced, unsorted, with an exponent and a
# real: imported into canonical JSON with the numbers' decimal values kept
# (0.1 stays 0.1, not 0.10000000000000001; 2.5E3 becomes 2500).
cat >"$work/epcis.json" <<'JSON'
{ "type": "epcis", "net": "origo.example/t",
  "epcis": { "type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z",
             "action": "OBSERVE",
             "quantityList": [ { "quantity": 0.1, "epcClass": "test/part/L1" },
                               { "quantity": 2.5E3, "epcClass": "test/part/L2" } ] } }
JSON
expect 0 "event imports an EPCIS document" "$origo" event --key "$work/s.key" \
  --json "$work/epcis.json"
expect_output '"quantity\\":0.1}' "the EPCIS real keeps its decimal lexeme"
expect_output '"quantity\\":2500}' "an exponent becomes a plain decimal"
expect_output '{\\"action\\":\\"OBSERVE\\",\\"eventTime' "EPCIS members are sorted"
sed 's/"OBSERVE",/"OBSERVE", "action": "ADD",/' "$work/epcis.json" >"$work/dup.json"
expect 2 "an EPCIS document naming a member twice is refused" "$origo" event \
  --key "$work/s.key" --json "$work/dup.json"
expect_output "duplicate object key near '\"action\"'" "the error says which member"
sed 's/"OBSERVE"/"observe"/' "$work/epcis.json" >"$work/lower.json"
expect 2 "an EPCIS action in lower case is refused" "$origo" event \
  --key "$work/s.key" --json "$work/lower.json"
expect_output "action ADD, OBSERVE or DELETE" "the error lists the EPCIS actions"
expect 2 "an unknown verb is a usage error" "$origo" frobnicate

echo
if [ "$failures" -eq 0 ]; then echo "all CLI checks passed"; exit 0; fi
echo "$failures CLI checks failed"
exit 1
