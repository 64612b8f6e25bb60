#!/usr/bin/env bash
# why401 har against jq on the same 1 GB captures, in the same run: a HAR and a Chrome NetLog,
# each made of real entries repeated. The entries are recorded fresh by Debian's headless
# Chromium (scripts/capture/capture.js) visiting why401's lab: a wrong Basic password, a CORS
# call, a cross-origin redirect, an NTLM handshake. Peak RSS of each command is measured too.
# Usage: bash bench/har.sh [SIZE_MB]        (default 1024; results in target/bench/har.md)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
for tool in hyperfine jq node; do
  command -v $tool >/dev/null || { echo "$tool is needed (scripts/test.sh installs the peers)"; exit 1; }
done
[ -d scripts/capture/node_modules/playwright-core ] || (cd scripts/capture && npm install --no-audit --no-fund --silent)
cargo build --release --locked -q
w=./target/release/why401
out=target/bench/har
mkdir -p "$out"

# Fresh captures of the lab.
lab_log=$(mktemp)
$w lab --serve >"$lab_log" 2>&1 &
lab_pid=$!
trap 'kill $lab_pid 2>/dev/null || true; rm -f "$lab_log"' EXIT
for _ in $(seq 100); do grep -q "The lab is running" "$lab_log" && break; sleep 0.2; done
base=$(grep -o 'why401 http://127.0.0.1:[0-9]*' "$lab_log" | head -1 | cut -d' ' -f2)
cap() { node scripts/capture/capture.js "$@" --modes sensitive >/dev/null 2>&1; }
cap "$base/basic" "$out/basic" --user alice --pass wrong
cap "$base/" "$out/redirect" --api "$base/moved" --api-header 'Authorization: Basic YWxpY2U6czNjcmV0'
cap "$base/ntlm" "$out/ntlm" --user 'CORP\alice' --pass s3cret
cap "$base/start" "$out/cookie"

python3 - "$out" "$size_mb" <<'PY'
import json, sys, pathlib
out, size = pathlib.Path(sys.argv[1]), int(sys.argv[2]) << 20
names = ["basic", "redirect", "ntlm", "cookie"]

def load(p):
    t = p.read_text()
    try:
        return json.loads(t)
    except json.JSONDecodeError:  # a NetLog not closed: repaired as netlog-viewer does
        return json.loads(t[: t.rstrip().rfind(",")] + "]}")

# HAR: every entry of Playwright's HARs, repeated with the URL made unique.
entries = [e for n in names for e in load(out / f"{n}.sensitive.pw.har")["log"]["entries"]]
head = load(out / "basic.sensitive.pw.har")["log"]
with open(out / "big.har", "w") as f:
    f.write('{"log":{"version":"1.2","creator":%s,"entries":[\n' % json.dumps(head["creator"]))
    written, i, first = 0, 0, True
    while written < size:
        for e in entries:
            i += 1
            e = dict(e, request=dict(e["request"], url=e["request"]["url"].split("?")[0] + f"?n={i}"))
            s = ("" if first else ",\n") + json.dumps(e)
            first = False
            f.write(s)
            written += len(s)
    f.write("\n]}}\n")
print(f"big.har: {i} entries", file=sys.stderr)

# NetLog: every event of the captures, repeated with source ids shifted per copy.
logs = [load(out / f"{n}.sensitive.netlog.json") for n in names]
constants = logs[0]["constants"]
events = [e for l in logs for e in l["events"] if e]
top = max(e["source"]["id"] for e in events) + 1
with open(out / "big.netlog.json", "w") as f:
    f.write('{"constants":%s,\n"events": [\n' % json.dumps(constants))
    written, k = 0, 0
    while written < size:
        shift = k * top
        lines = []
        for e in events:
            e = dict(e, source=dict(e["source"], id=e["source"]["id"] + shift))
            p = e.get("params")
            if isinstance(p, dict) and isinstance(p.get("source_dependency"), dict):
                e["params"] = dict(p, source_dependency=dict(p["source_dependency"], id=p["source_dependency"]["id"] + shift))
            lines.append(json.dumps(e, separators=(",", ":")) + ",\n")
        chunk = "".join(lines)
        f.write(chunk)
        written += len(chunk)
        k += 1
    f.write("{}]}\n")
print(f"big.netlog.json: {k} copies of {len(events)} events", file=sys.stderr)
PY
ls -la "$out"/big.*

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
{
  echo "| capture | why401 har peak RSS (KB) | jq peak RSS (KB) |"
  echo "|---|---|---|"
  echo "| HAR | $(rss $w har "$out/big.har" --json) | $(rss jq '.log.entries | length' "$out/big.har") |"
  echo "| NetLog | $(rss $w har "$out/big.netlog.json" --json) | $(rss jq '.events | length' "$out/big.netlog.json") |"
} > "$out/rss.md"
cat "$out/rss.md"
hyperfine -N -i --warmup 1 --runs 3 \
  --export-markdown target/bench/har.md --export-json target/bench/har.json \
  -n "why401 har (HAR)" "$w har $out/big.har --json" \
  -n "jq (HAR)" "jq '.log.entries | length' $out/big.har" \
  -n "why401 har (NetLog)" "$w har $out/big.netlog.json --json" \
  -n "jq (NetLog)" "jq '.events | length' $out/big.netlog.json"
python3 - <<'PY'
import json
r = {x["command"]: x["mean"] for x in json.load(open("target/bench/har.json"))["results"]}
for kind in ("HAR", "NetLog"):
    o, j = r[f"why401 har ({kind})"], r[f"jq ({kind})"]
    print(f"{kind}: why401 {o:.2f} s, jq {j:.2f} s: {j/o:.1f}x faster")
PY
