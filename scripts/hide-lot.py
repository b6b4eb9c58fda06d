#!/usr/bin/env python3
"""What a dishonest member would do to a trace report: hide lot LOT from a
forward (recall) report and make every claim consistent again, so that
the edit cannot be seen in the claims themselves.

It removes the edges into LOT and the events that state them (the
transformation that made LOT from the start lot), LOT itself, every event
that names LOT and no lot still in the answer (its inspections, holds,
recall), and LOT's lot index proofs (v2). Lots are found in an event's
envelope by their exact MessagePack string.

A v1 report edited so still verifies: v1 proves every claim, not that
nothing was left out. A v2 report does not: the cosigned lot index says
how many events the start lot's chain holds (docs/formats/lot-index.md).

usage: hide-lot.py REPORT LOT > EDITED
"""
import base64, json, sys


def mp_str(text):
    b = text.encode()
    if len(b) < 32:
        return bytes([0xa0 | len(b)]) + b
    if len(b) < 256:
        return b"\xd9" + bytes([len(b)]) + b
    return b"\xda" + len(b).to_bytes(2, "big") + b


def names(event, lot):
    return mp_str(lot) in base64.b64decode(event["envelope"])


def main():
    report, lot = json.load(open(sys.argv[1])), sys.argv[2]
    hidden = {e["leaf"] for e in report["edges"] if e["to"] == lot}
    if not hidden:
        sys.exit(f"no edge into {lot} in {sys.argv[1]}")
    report["edges"] = [e for e in report["edges"] if e["leaf"] not in hidden]
    report["lots"] = [l for l in report["lots"] if l["lot"] != lot]
    kept = [l["lot"] for l in report["lots"]]
    report["events"] = [
        e for e in report["events"]
        if e["leaf"] not in hidden and (not names(e, lot) or any(names(e, k) for k in kept))]
    if "index" in report:
        report["index"] = [p for p in report["index"] if p["lot"] != lot]
    json.dump(report, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
