#!/usr/bin/env bash
# Runs every test of why401 on a fresh machine: installs what the tests need when it is
# missing, starts the real servers they use on loopback, runs the suite, stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# --- what the tests need --------------------------------------------------------------
apt_packages=()
command -v curl >/dev/null || apt_packages+=(curl)
if ((${#apt_packages[@]})); then
  log "installing ${apt_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# --- servers --------------------------------------------------------------------------
WHY401_TEST_DIR=$(mktemp -d /tmp/why401-test.XXXXXX)
export WHY401_TEST_DIR
cleanup() {
  rm -rf "$WHY401_TEST_DIR"
}
trap cleanup EXIT

# --- the suite ------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked
