#!/usr/bin/env bash
# why401 lint against gixy-ng (PyPI) on the same large `nginx -T` dump, in the same run.
# The dump repeats real server blocks: the lint fixtures nginx serves in the test suite
# (crates/why401/tests/fixtures/lint/nginx), one file per site, ≥ 50,000 lines.
# Usage: bash bench/lint.sh        (results in target/bench/lint.md)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)"; exit 1; }
command -v gixy >/dev/null || python3 -m pip install -q gixy-ng
cargo build --release --locked -q
mkdir -p target/bench
dump=target/bench/nginx-T.conf
python3 - "$dump" <<'PY'
import sys, pathlib
src = pathlib.Path("crates/why401/tests/fixtures/lint/nginx")
blocks = [(src / n).read_text() for n in ("bad.conf", "good.conf")]
out = ["nginx: the configuration file /etc/nginx/nginx.conf syntax is ok",
       "# configuration file /etc/nginx/nginx.conf:",
       "events { worker_connections 1024; }", "http {",
       "    include /etc/nginx/conf.d/*.conf;", "}"]
n = 0
while len(out) < 50000:
    for b in blocks:
        n += 1
        text = (b.replace("@DIR@", f"/srv/site{n}").replace("@PORT@", str(10000 + n))
                 .replace("server {", f"server {{\n    server_name site{n}.example;", 1))
        out.append(f"# configuration file /etc/nginx/conf.d/site{n}.conf:")
        out.extend(text.splitlines())
open(sys.argv[1], "w").write("\n".join(out) + "\n")
print(f"{len(out)} lines, {n} server blocks", file=sys.stderr)
PY
w=./target/release/why401
# Both read the dump as a file; both exit non-zero on findings, which hyperfine must not treat as
# a failure (-i).
hyperfine -N -i --warmup 1 --min-runs 5 \
  --export-markdown target/bench/lint.md --export-json target/bench/lint.json \
  -n "why401 lint" "$w lint $dump --json" \
  -n "gixy-ng" "gixy $dump -f json"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("target/bench/lint.json"))["results"]}
ours, theirs = r["why401 lint"], r["gixy-ng"]
print(f"why401 lint {ours['mean']*1000:.1f} ms (median {ours['median']*1000:.1f}), "
      f"gixy-ng {theirs['mean']*1000:.0f} ms: {theirs['mean']/ours['mean']:.0f}x faster")
PY
