#!/usr/bin/env bash
# why401 gate under load, against nginx, all on loopback in one run (oha as the load generator):
#   upstream      an nginx server answering 200 "ok" (the app)
#   nginx-proxy   nginx proxying to it (keep-alive upstream): the proxy users have today
#   gate-proxy    why401 gate proxying to it, the client with a session cookie
#   authreq       nginx auth_request -> why401 gate (session cookie) -> upstream
#   decisions     the gate's auth-request endpoint alone, asked with a session (decisions/s)
#   gate-basic    Basic through the gate (the credential cache on) -> upstream
#   basic-decisions  the gate's auth-request endpoint alone, asked with Basic (the cache on)
#   nginx-basic-direct  nginx auth_basic (bcrypt cost 5) serving a file itself, no upstream
#   nginx-basic   nginx auth_basic with a bcrypt htpasswd (htpasswd -B, its default cost 5) -> upstream
#   nginx-basic-c10  the same with cost 10 (htpasswd -B -C 10: the cost most bcrypt libraries
#                 default to, PHP's password_hash, Go's and Python's bcrypt)
#   shared-*      two gate instances on a PostgreSQL and a Redis of their own (fsync on): p99
#                 added at 2,000 requests/s, decisions/s, both at once, store commands per decision
# and, at a fixed 2,000 requests/s, nginx-proxy and gate-proxy for the latency added at p99.
# Usage: bash bench/gate.sh [SECONDS]     (default 10 per run; results in target/bench/gate.md)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
for tool in oha nginx htpasswd curl python3 redis-server redis-cli psql; do
  command -v $tool >/dev/null || { echo "$tool is needed (cargo install oha; scripts/test.sh installs the rest)"; exit 1; }
done
cargo build --release --locked -q
w=$PWD/target/release/why401
out=$PWD/target/bench/gate
run=$out/run
rm -rf "$run"
mkdir -p "$run/logs" "$run/tmp" "$run/www"
printf 'ok\n' > "$run/www/index.html"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(port); front=$(port); authreq=$(port); basic=$(port); basic10=$(port); direct=$(port); gate=$(port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

password='correct horse battery staple'
htpasswd -B -b -c "$run/htpasswd" bench "$password" 2>/dev/null
htpasswd -B -C 10 -b -c "$run/htpasswd10" bench "$password" 2>/dev/null
printf '%s\n' "$password" | "$w" gate --store "$run/gate.db" user add bench --password-stdin >/dev/null
cat > "$run/gate.toml" <<EOF
[server]
listen = "127.0.0.1:$gate"
basic_cache_seconds = 300

[[access.rule]]
policy = "one_factor"

[[route]]
upstream = "http://127.0.0.1:$up"
EOF
"$w" gate --config "$run/gate.toml" --store "$run/gate.db" > "$run/gate.log" 2>&1 &
pids+=($!)

cat > "$run/nginx.conf" <<EOF
worker_processes auto;
error_log $run/logs/error.log;
pid $run/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $run/tmp/body;
  proxy_temp_path $run/tmp/proxy;
  fastcgi_temp_path $run/tmp/fastcgi;
  uwsgi_temp_path $run/tmp/uwsgi;
  scgi_temp_path $run/tmp/scgi;
  upstream app { server 127.0.0.1:$up; keepalive 64; }
  upstream gate { server 127.0.0.1:$gate; keepalive 64; }
  server { listen 127.0.0.1:$up; location / { return 200 "ok\n"; } }
  # The proxies log each request, as nginx does by default (the gate writes an audit line
  # for each of its decisions); the app does not.
  server {
    listen 127.0.0.1:$front;
    access_log $run/logs/front.log;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$authreq;
    access_log $run/logs/authreq.log;
    location / {
      auth_request /.why401/authz/auth-request;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }
    location = /.why401/authz/auth-request {
      internal;
      proxy_pass http://gate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL \$scheme://\$http_host\$request_uri;
      proxy_set_header X-Original-Method \$request_method;
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
  server {
    listen 127.0.0.1:$basic;
    access_log $run/logs/basic.log;
    location / {
      auth_basic "bench"; auth_basic_user_file $run/htpasswd;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }
  }
  server {
    listen 127.0.0.1:$direct;
    access_log $run/logs/direct.log;
    # A file, not "return 200" (return answers in the rewrite phase, before auth_basic runs),
    # asked for by its name ("/" would redirect internally to it and check the password twice).
    location / { auth_basic "bench"; auth_basic_user_file $run/htpasswd; root $run/www; }
  }
  server {
    listen 127.0.0.1:$basic10;
    access_log $run/logs/basic10.log;
    location / {
      auth_basic "bench"; auth_basic_user_file $run/htpasswd10;
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    }
  }
}
EOF
nginx -p "$run" -c "$run/nginx.conf" -g 'daemon off; user root;' &
pids+=($!)
for p in $up $front $authreq $basic $basic10 $direct $gate; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.05; done
done

# A session from the gate on PORT, as a browser gets one: the login page's CSRF cookie and
# field, then the form; the Cookie header, or a failure with the gate's LOG.
session_of() {
  local port=$1 log=$2 page csrf session
  page=$(curl -s -D - "http://127.0.0.1:$port/.why401/login?rd=%2F")
  csrf=$(printf '%s' "$page" | sed -n 's/^set-cookie: __Host-why401-csrf=\([^;]*\).*/\1/ip' | tr -d '\r')
  session=$(curl -s -D - -o /dev/null -H "Cookie: __Host-why401-csrf=$csrf" -H "Origin: http://127.0.0.1:$port" \
    --data-urlencode "username=bench" --data-urlencode "password=$password" \
    --data-urlencode "csrf=$csrf" --data-urlencode "rd=/" "http://127.0.0.1:$port/.why401/login" \
    | sed -n 's/^set-cookie: __Host-why401-session=\([^;]*\).*/\1/ip' | tr -d '\r')
  [ -n "$session" ] || { echo "no session from the login form on $port" >&2; cat "$log" >&2; return 1; }
  printf 'Cookie: __Host-why401-session=%s' "$session"
}
cookie=$(session_of "$gate" "$run/gate.log")
auth="Authorization: Basic $(printf 'bench:%s' "$password" | base64 -w0)"
# Each must answer 200 before it is measured.
check() { local code; code=$(curl -s -o /dev/null -w '%{http_code}' "$@"); [ "$code" = 200 ] || { echo "not 200 ($code): $*"; exit 1; }; }
check "http://127.0.0.1:$up/"
check "http://127.0.0.1:$front/"
check -H "$cookie" "http://127.0.0.1:$gate/"
check -H "$cookie" "http://127.0.0.1:$authreq/"
check -H "$cookie" -H "X-Original-URL: http://127.0.0.1/x" "http://127.0.0.1:$gate/.why401/authz/auth-request"
check -H "$auth" "http://127.0.0.1:$gate/"
check -H "$auth" "http://127.0.0.1:$basic/"
check -H "$auth" "http://127.0.0.1:$basic10/"
check -H "$auth" "http://127.0.0.1:$direct/index.html"
check -H "$auth" -H "X-Original-URL: http://127.0.0.1/x" "http://127.0.0.1:$gate/.why401/authz/auth-request"

# One oha run: NAME then oha's arguments; its JSON kept, one line of the table printed.
results=$out/results.tsv
: > "$results"
measure() {
  local name=$1; shift
  oha --no-tui --output-format json -z "${secs}s" "$@" > "$run/$name.json" 2> "$run/$name.err"
  python3 - "$run/$name.json" "$name" >> "$results" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s, p = j["summary"], j["latencyPercentiles"]
codes = j.get("statusCodeDistribution", {})
ok = codes.get("200", 0); total = sum(codes.values()) or 1
print("\t".join([sys.argv[2], f"{s['requestsPerSec']:.0f}", f"{p['p50']*1000:.3f}", f"{p['p99']*1000:.3f}", f"{ok/total:.4f}"]))
PY
  tail -1 "$results"
}
c=50
measure upstream     -c $c "http://127.0.0.1:$up/"
# The fixed-rate pair first, while nothing is left running from a saturating run (nginx is
# still hashing the bcrypt runs' last requests after oha stops).
# Three pairs, alternating: p99 on this shared 2-core machine moves by a millisecond from run to
# run, for nginx as for the gate; the median of the three differences is reported.
for i in 1 2 3; do
  measure nginx-proxy@2000#$i -c $c -q 2000 "http://127.0.0.1:$front/"
  measure gate-proxy@2000#$i  -c $c -q 2000 -H "$cookie" "http://127.0.0.1:$gate/"
done
measure nginx-proxy  -c $c "http://127.0.0.1:$front/"
measure gate-proxy   -c $c -H "$cookie" "http://127.0.0.1:$gate/"
measure authreq      -c $c -H "$cookie" "http://127.0.0.1:$authreq/"
measure decisions    -c $c -H "$cookie" -H "X-Original-URL: http://127.0.0.1/x" "http://127.0.0.1:$gate/.why401/authz/auth-request"
measure gate-basic   -c $c -H "$auth" "http://127.0.0.1:$gate/"
measure basic-decisions -c $c -H "$auth" -H "X-Original-URL: http://127.0.0.1/x" "http://127.0.0.1:$gate/.why401/authz/auth-request"
measure nginx-basic-direct -c $c -H "$auth" "http://127.0.0.1:$direct/index.html"
measure nginx-basic  -c $c -H "$auth" "http://127.0.0.1:$basic/"
measure nginx-basic-c10 -c $c -H "$auth" "http://127.0.0.1:$basic10/"

# --- Two instances on shared PostgreSQL and Redis (issue 15) ---------------------------------
# Their own redis-server and PostgreSQL (fsync on), two gate processes with the same config,
# a session made on A and measured on B. A decision with a remembered session asks neither
# store; each decision appends its audit line to PostgreSQL (group commit) and its explain
# record to Redis: their commands per decision are counted from the servers' own statistics.
source scripts/peers.sh
peers_start_stores "$run/stores" durable >/dev/null
trap 'cleanup; peers_stop_stores "$run/stores"' EXIT
psql "$WHY401_POSTGRES_URL" -q -c "CREATE DATABASE why401_bench"
pg_url="${WHY401_POSTGRES_URL%/*}/why401_bench"
shared_a=$(port); shared_b=$(port)
mkdir -p "$run/shared"
for inst in a b; do
  p=$([ $inst = a ] && echo "$shared_a" || echo "$shared_b")
  printf '[server]\nlisten = "127.0.0.1:%s"\n\n[store]\npostgres = "%s"\nredis = "%s/0"\n\n[[access.rule]]\npolicy = "one_factor"\n\n[[route]]\nupstream = "http://127.0.0.1:%s"\n' \
    "$p" "$pg_url" "$WHY401_REDIS_URL" "$up" > "$run/shared/gate-$inst.toml"
done
printf '%s\n' "$password" | "$w" gate --config "$run/shared/gate-a.toml" user add bench --password-stdin >/dev/null
for inst in a b; do
  "$w" gate --config "$run/shared/gate-$inst.toml" --store "$run/shared/$inst.db" > "$run/shared/$inst.log" 2>&1 &
  pids+=($!)
done
for p in $shared_a $shared_b; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/.why401/healthz" && break; sleep 0.05; done
done
# The session is bound to the host it was made on (127.0.0.1): good on B as on A.
scookie=$(session_of "$shared_a" "$run/shared/a.log")
check -H "$scookie" "http://127.0.0.1:$shared_a/"
check -H "$scookie" "http://127.0.0.1:$shared_b/"
for i in 1 2 3; do
  measure "nginx-proxy@2000-shared#$i" -c $c -q 2000 "http://127.0.0.1:$front/"
  measure "shared-proxy@2000#$i" -c $c -q 2000 -H "$scookie" "http://127.0.0.1:$shared_b/"
done
redis_calls() {
  redis-cli -u "$WHY401_REDIS_URL" INFO commandstats | tr -d '\r' \
    | sed -n 's/^cmdstat_[a-z|]*:calls=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
pg_commits() { psql "$pg_url" -tA -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'why401_bench'"; }
r0=$(redis_calls); c0=$(pg_commits)
measure shared-decisions -c $c -H "$scookie" -H "X-Original-URL: http://127.0.0.1/x" "http://127.0.0.1:$shared_a/.why401/authz/auth-request"
r1=$(redis_calls); c1=$(pg_commits)
python3 - "$run/shared-decisions.json" "$r0" "$r1" "$c0" "$c1" >> "$results" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n = sum(j.get("statusCodeDistribution", {}).values()) or 1
r = (int(sys.argv[3]) - int(sys.argv[2])) / n
c = (int(sys.argv[5]) - int(sys.argv[4])) / n
print(f"store-ops\t{r:.3f}\t{c:.4f}\t0\t1")
PY
tail -1 "$results"
# Both instances at once, each with half the connections: the aggregate the pair serves here.
oha --no-tui --output-format json -z "${secs}s" -c 25 -H "$scookie" -H "X-Original-URL: http://127.0.0.1/x" \
  "http://127.0.0.1:$shared_a/.why401/authz/auth-request" > "$run/pair-a.json" 2>/dev/null &
pair=$!
oha --no-tui --output-format json -z "${secs}s" -c 25 -H "$scookie" -H "X-Original-URL: http://127.0.0.1/x" \
  "http://127.0.0.1:$shared_b/.why401/authz/auth-request" > "$run/pair-b.json" 2>/dev/null
wait $pair
python3 - "$run/pair-a.json" "$run/pair-b.json" >> "$results" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
rps = a["summary"]["requestsPerSec"] + b["summary"]["requestsPerSec"]
p99 = max(a["latencyPercentiles"]["p99"], b["latencyPercentiles"]["p99"]) * 1000
p50 = max(a["latencyPercentiles"]["p50"], b["latencyPercentiles"]["p50"]) * 1000
codes = {}
for j in (a, b):
    for k, v in j.get("statusCodeDistribution", {}).items():
        codes[k] = codes.get(k, 0) + v
ok = codes.get("200", 0) / (sum(codes.values()) or 1)
print(f"shared-decisions-pair\t{rps:.0f}\t{p50:.3f}\t{p99:.3f}\t{ok:.4f}")
PY
tail -1 "$results"

python3 - "$results" "$out/gate.md" "$secs" <<'PY'
import sys
rows = {l.split("\t")[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[1])}
out = ["| run | requests/s | p50 ms | p99 ms | share 200 |", "|---|---:|---:|---:|---:|"]
for name, r in rows.items():
    out.append(f"| {name} | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
rps = lambda n: float(rows[n][1])
p99 = lambda n: float(rows[n][3])
diffs = sorted(p99(f"gate-proxy@2000#{i}") - p99(f"nginx-proxy@2000#{i}") for i in (1, 2, 3))
added = diffs[1]
ratio = rps("gate-basic") / rps("nginx-basic")
ratio10 = rps("gate-basic") / rps("nginx-basic-c10")
ratio_direct = rps("basic-decisions") / rps("nginx-basic-direct")
out += ["",
        f"- p99 added by the gate over nginx's proxying at 2,000 requests/s: {added:.3f} ms, the median of the three pairs' {', '.join(f'{d:.3f}' for d in diffs)} (target <= 1 ms): {'met' if added <= 1 else 'NOT met'}",
        f"- forward-auth decisions/s with a session: {rps('decisions'):.0f} (target >= 20,000): {'met' if rps('decisions') >= 20000 else 'NOT met'}",
        f"- cached Basic through the gate against nginx auth_basic with bcrypt cost 5 (htpasswd -B's default): {ratio:.1f}x (target >= 50x): {'met' if ratio >= 50 else 'NOT met'}",
        f"- the same against bcrypt cost 10 (htpasswd -B -C 10): {ratio10:.0f}x (target >= 50x): {'met' if ratio10 >= 50 else 'NOT met'}",
        f"- without the proxying, the gate's Basic decisions against nginx auth_basic answering itself (cost 5): {ratio_direct:.1f}x (target >= 50x): {'met' if ratio_direct >= 50 else 'NOT met'}",
        f"- {sys.argv[3]} s a run, 50 connections, oha; every response 200 (the share column)"]
sdiffs = sorted(p99(f"shared-proxy@2000#{i}") - p99(f"nginx-proxy@2000-shared#{i}") for i in (1, 2, 3))
sadded = sdiffs[1]
ops = rows["store-ops"]
redis_per, commits_per = float(ops[1]), float(ops[2])
single, shared, both = rps("decisions"), rps("shared-decisions"), rps("shared-decisions-pair")
us = lambda r: 1e6 / r
batch = f"{1 / commits_per:.0f}" if commits_per else "all"
out += ["",
        "Two instances on shared PostgreSQL and Redis (a session made on A, measured on B):",
        f"- p99 added over nginx's proxying at 2,000 requests/s, sessions in Redis: {sadded:.3f} ms, the median of {', '.join(f'{d:.3f}' for d in sdiffs)} (target <= 2 ms): {'met' if sadded <= 2 else 'NOT met'}",
        f"- decisions/s, one instance: SQLite and a file log {single:.0f} ({us(single):.1f} us each); PostgreSQL trail and Redis explain records {shared:.0f} ({us(shared):.1f} us each, {us(shared) - us(single):+.1f} us for the shared stores)",
        f"- both instances at once on this 2-core machine: {both:.0f} decisions/s together (they share the two cores with Redis, PostgreSQL and oha: no scale-out can show here)",
        f"- per decision: {redis_per:.2f} Redis commands (the explain record, and the change counter's polls) and {commits_per:.4f} PostgreSQL commits (one audit batch per {batch} decisions)",
        f"- so N instances at R decisions/s each put N*R*{redis_per:.2f} commands/s on Redis and N*R*{commits_per:.4f} commits/s on PostgreSQL; at about 100,000 commands/s a Redis core serves about {100000 / redis_per if redis_per else 0:.0f} decisions/s across all instances"]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
