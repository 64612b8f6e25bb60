#!/usr/bin/env bash
# Runs every test of why401 on a fresh machine: installs what the tests need when it is
# missing, starts the real servers they use on loopback, runs the suite, stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# --- what the tests need --------------------------------------------------------------
source scripts/peers.sh
log "checking the test peers (nginx, apache2 with mod_auth_gssapi and gss-ntlmssp, squid, dnsmasq, an MIT KDC, curl, pyspnego, chromium)"
peers_install

# --- servers --------------------------------------------------------------------------
WHY401_TEST_DIR=$(mktemp -d /tmp/why401-test.XXXXXX)
export WHY401_TEST_DIR
cleanup() {
  peers_stop "$WHY401_TEST_DIR"
  rm -rf "$WHY401_TEST_DIR"
}
trap cleanup EXIT
log "starting the peers on loopback"
peers_start "$WHY401_TEST_DIR"

# --- the suite ------------------------------------------------------------------------
# A one-off build gains nothing from incremental state, which would double the target directory.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
log "disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free where the build goes"
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
# The public test data (../shared/fixtures: EVTX, HAR/SAZ, nginx, IIS) is read in place; the tests
# that need it have `shared_fixtures` in their names and are skipped, loudly, when it is absent.
skip=()
if [ ! -d ../shared/fixtures ]; then
  log "WARNING: ../shared/fixtures is absent: skipping the tests that read it (names containing shared_fixtures)"
  skip=(--skip shared_fixtures)
fi
cargo test --workspace --locked -- --include-ignored "${skip[@]}"
