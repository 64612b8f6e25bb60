#!/usr/bin/env bash
# `why401 logs` on 1 GB of IIS W3C and 1 GB of NCSA combined, against GoAccess, `wc -l` and
# `rg -c ' 401 '` in the same run; wall time, MB/s, peak RSS, and the counts checked against the
# generator's truth. BIG=1 adds a 10 GB IIS file for the peak-RSS bound. BASE=<git rev> also
# builds that revision (in a worktree of its own) and measures it in the same run, so a change is
# judged against its baseline on the same machine at the same time; GOACCESS=0 skips GoAccess.
# Usage: bash bench/logs.sh          (results in target/bench/logs.md)
#        BIG=1 BASE=3ae43c2 GOACCESS=0 bash bench/logs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v goaccess >/dev/null || need+=(goaccess)
command -v rg >/dev/null || need+=(ripgrep)
[ -x /usr/bin/time ] || need+=(time)
command -v hyperfine >/dev/null || need+=(hyperfine)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
cargo build --release --locked -q -p why401 -p why401-loggen
data=target/bench/data
mkdir -p "$data" target/bench
gen() { # format size name
  [ -s "$data/$3.log" ] || ./target/release/why401-loggen --format "$1" --size "$2" --out "$data/$3.log" --truth "$data/$3.truth.json"
}
gen iis 1G iis-1g
gen ncsa 1G ncsa-1g
files=(iis-1g ncsa-1g)
if [ "${BIG:-0}" = 1 ]; then gen iis 10G iis-10g; files+=(iis-10g); fi

w=./target/release/why401
base=${BASE_BIN:-}   # a baseline binary built already (then BASE only names it)
if [ -z "$base" ] && [ -n "${BASE:-}" ]; then
  src=target/bench/base-src
  [ -d "$src" ] || git worktree add -q --detach "$src" "$BASE"
  git -C "$src" checkout -q --detach "$BASE"
  (cd "$src" && CARGO_TARGET_DIR="$PWD/../base-target" cargo build --release --locked -q -p why401)
  base=target/bench/base-target/release/why401
fi
report=target/bench/logs.md
rm -f "$report.counts"
{
  echo "| file | tool | wall, mean (s) | best (s) | MB/s (mean) | peak RSS (MB) |"
  echo "|---|---|---:|---:|---:|---:|"
} > "$report"

measure() { # name file label command...
  local name=$1 file=$2 label=$3; shift 3
  local size; size=$(stat -c %s "$file")
  cat "$file" > /dev/null   # warm the page cache, for every tool alike
  # Five runs after a warm-up: this machine is shared, and single runs vary by ±15 %.
  local runs=5 warmup=1
  [ "$label" = goaccess ] && runs=1 warmup=0
  local slug=${label//[^a-z0-9]/_} cmd; cmd=$(printf '%q ' "$@")
  hyperfine -N -i --warmup "$warmup" --runs "$runs" --export-json "target/bench/$name-$slug.json" "$cmd" >/dev/null 2>&1
  local mean best
  read -r mean best < <(python3 -c "import json,sys;r=json.load(open(sys.argv[1]))['results'][0];print(r['mean'], r['min'])" "target/bench/$name-$slug.json")
  # The tools exit non-zero by design (why401: findings present; rg: no match), so only the RSS matters.
  /usr/bin/time -v -o target/bench/time.txt "$@" >/dev/null 2>&1 || true
  local rss; rss=$(awk -F': ' '/Maximum resident/{print $2}' target/bench/time.txt)
  python3 - "$name" "$label" "$mean" "$best" "$size" "${rss:-0}" >> "$report" <<'PY'
import sys
name, label, mean, best, size, rss = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6] or 0)
print(f"| {name} | {label} | {mean:.3f} | {best:.3f} | {size / mean / 1e6:,.0f} | {rss / 1024:,.0f} |")
PY
}

for name in "${files[@]}"; do
  f="$data/$name.log"
  measure "$name" "$f" why401 $w logs "$f" --json
  $w logs "$f" --json > "target/bench/$name.why401.json" || true
  if [ -n "$base" ]; then
    measure "$name" "$f" "why401 logs @ $BASE" $base logs "$f" --json
  fi
  measure "$name" "$f" "wc -l" wc -l "$f"
  measure "$name" "$f" "rg -c ' 401 '" rg -c " 401 " "$f"
  if [ "${GOACCESS:-1}" = 0 ]; then
    :
  elif [[ $name == iis* && $name != iis-10g ]]; then
    measure "$name" "$f" goaccess goaccess "$f" --log-format=W3C --date-format=%Y-%m-%d --time-format=%H:%M:%S -o "target/bench/$name.goaccess.json"
  elif [[ $name == ncsa* ]]; then
    measure "$name" "$f" goaccess goaccess "$f" --log-format=COMBINED -o "target/bench/$name.goaccess.json"
  fi
  python3 - "$f" "target/bench/$name.why401.json" "$data/$name.truth.json" >> "$report.counts" <<'PY'
import json, sys
log, ours, truth = sys.argv[1], json.load(open(sys.argv[2]))["summary"], json.load(open(sys.argv[3]))
keys = ["requests", "unparsed", "auth_denials", "handshake_noise", "real_failures"]
ok = all(ours[k] == truth[k] for k in keys)
print(f"{log}: " + ", ".join(f"{k} {ours[k]} (truth {truth[k]})" for k in keys) + (" — all equal" if ok else " — MISMATCH"))
PY
  if [ -s "target/bench/$name.goaccess.json" ] && [[ $name != iis-10g ]]; then
    python3 - "$name" "target/bench/$name.goaccess.json" "$data/$name.truth.json" >> "$report.counts" <<'PY'
import json, sys
name, g, truth = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
gen = g["general"]
s401 = sum(i["hits"]["count"] for s in g.get("status_codes", {}).get("data", [])
           for i in s.get("items", []) if i["data"].startswith("401"))
print(f"{name} GoAccess: valid requests {gen['valid_requests']} (truth {truth['requests']}), "
      f"failed lines {gen['failed_requests']} (truth unparsed {truth['unparsed']}), "
      f"401s {s401} (truth {truth['by_status'].get('401', 0)})")
PY
  fi
done
# Each why401 row as a ratio to rg in the same run: the figure that survives a change of machine.
python3 - "$report" >> "$report" <<'PY'
import sys, collections
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 6 and cells[2].replace(".", "").isdigit():
        rows[cells[0]][cells[1]] = float(cells[2])
print()
print("| file | tool | wall / rg wall |")
print("|---|---|---:|")
for name, tools in rows.items():
    rg = tools.get("rg -c ' 401 '")
    for tool, mean in tools.items():
        if tool.startswith("why401") and rg:
            print(f"| {name} | {tool} | {mean / rg:.2f} |")
PY
cat "$report"
echo
cat "$report.counts"
rm -f "$report.counts"
