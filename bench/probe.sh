#!/usr/bin/env bash
# The probe's wall time against curl doing the same handshake on the same local servers
# (Apache mod_auth_digest, pyspnego's NTLM acceptor, nginx auth_basic), and the cold start.
# Usage: bash bench/probe.sh        (results in target/bench/probe.md)
#        BASE_BIN=path/to/older/why401 bash bench/probe.sh   (also times that build, same run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers.sh
peers_install
cargo build --release --locked -q
dir=$(mktemp -d /tmp/why401-bench.XXXXXX)
trap 'peers_stop "$dir"; rm -rf "$dir"' EXIT
peers_start "$dir" >/dev/null
mkdir -p target/bench
w=./target/release/why401
# Kerberos against the throwaway realm's Apache (/krb/): curl uses the tickets kinit left in a
# ccache (`--negotiate -u :`, as users do), and so does `why401 --negotiate` (a TGS exchange,
# the AP-REQ, the AP-REP checked); `why401 -u` gets its own tickets from the password every run
# (AS and TGS exchanges included), with the password from the environment.
krb_port=${WHY401_APACHE_GSSAPI_URL##*:}
krb_url="http://web.lab.test:$krb_port/krb/"
krb_pin="web.lab.test:$krb_port:127.0.0.1"
export KRB5_CONFIG=$WHY401_KRB5_CONFIG KRB5CCNAME="FILE:$dir/bench.ccache" WHY401_PASSWORD=s3cret
echo s3cret | kinit alice@LAB.TEST >/dev/null
base=()
if [ -n "${BASE_BIN:-}" ]; then
  base=(-n "base Digest (Apache)" "$BASE_BIN $WHY401_APACHE_URL/digest/ -u alice:s3cret --json"
        -n "base NTLM (pyspnego)" "$BASE_BIN $WHY401_PYSPNEGO_URL/ -u 'CORP\\alice:s3cret' --json"
        -n "base Basic (nginx)"   "$BASE_BIN $WHY401_NGINX_URL/basic/ -u alice:s3cret --json")
fi
hyperfine -N --warmup 10 --min-runs 100 --export-markdown target/bench/probe.md --export-json target/bench/probe.json \
  "${base[@]}" \
  -n "curl --digest (Apache)"  "curl -s -o /dev/null --digest -u alice:s3cret $WHY401_APACHE_URL/digest/" \
  -n "why401 Digest (Apache)"  "$w $WHY401_APACHE_URL/digest/ -u alice:s3cret --json" \
  -n "curl --ntlm (pyspnego)"  "curl -s -o /dev/null --ntlm -u 'CORP\\alice:s3cret' $WHY401_PYSPNEGO_URL/" \
  -n "why401 NTLM (pyspnego)"  "$w $WHY401_PYSPNEGO_URL/ -u 'CORP\\alice:s3cret' --json" \
  -n "curl --basic (nginx)"    "curl -s -o /dev/null -u alice:s3cret $WHY401_NGINX_URL/basic/" \
  -n "why401 Basic (nginx)"    "$w $WHY401_NGINX_URL/basic/ -u alice:s3cret --json" \
  -n "curl --negotiate (Kerberos)" "curl -s -o /dev/null --negotiate -u : --resolve $krb_pin $krb_url" \
  -n "why401 Kerberos (Kerberos)"  "$w $krb_url --resolve $krb_pin -u alice@LAB.TEST --json --no-siblings" \
  -n "why401 Kerberos ccache (Kerberos)" "$w $krb_url --resolve $krb_pin --negotiate --json --no-siblings" \
  -n "why401 --version"        "$w --version" \
  -n "curl --version"          "curl --version"
python3 - <<'PY'
import json
r = {x["command"]: x for x in json.load(open("target/bench/probe.json"))["results"]}
def ms(n, stat="mean"): return r[n][stat] * 1000
for scheme in ["Digest (Apache)", "NTLM (pyspnego)", "Basic (nginx)", "Kerberos (Kerberos)", "Kerberos ccache (Kerberos)"]:
    curl = [k for k in r if k.startswith("curl") and scheme.split()[-1] in k][0]
    ours = "why401 " + scheme
    print(f"{scheme:26} curl {ms(curl):6.2f} ms   why401 {ms(ours):6.2f} ms   ratio {ms(ours)/ms(curl):.2f}x"
          f"   (median {ms(ours, 'median')/ms(curl, 'median'):.2f}x, best {ms(ours, 'min')/ms(curl, 'min'):.2f}x)")
    if "base " + scheme in r:
        print(f"{'':18} this build / base build {ms(ours)/ms('base ' + scheme):.2f}x")
print(f"why401 --version cold start {ms('why401 --version'):.2f} ms")
PY
