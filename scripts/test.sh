#!/usr/bin/env bash
# Runs every check and test in the repository on a fresh machine: formatting, lints,
# the Rust test suites (unit, property and black-box tests against the real bidder),
# doc tests, and the infrastructure checks (which install their own tools).
#
# Usage: scripts/test.sh            everything
#        scripts/test.sh --rust     only the Rust checks and tests
set -euo pipefail

cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

only_rust=false
if [ "${1:-}" = "--rust" ]; then
  only_rust=true
fi

# The black-box tests start real servers they find on PATH.
step "test services"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server from Debian packages"
  sudo_if_needed=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo_if_needed=(sudo)
  fi
  "${sudo_if_needed[@]}" apt-get update -qq
  "${sudo_if_needed[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
redis-server --version
if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server] (AWS emulator) from PyPI"
  python3 -m pip install --quiet 'moto[server]>=5,<6'
fi
moto_server --version 2>/dev/null || python3 -c 'import moto; print("moto", moto.__version__)'
if ! python3 -c 'import openapi_spec_validator' >/dev/null 2>&1; then
  echo "installing openapi-spec-validator (checks the control plane's OpenAPI document) from PyPI"
  python3 -m pip install --quiet 'openapi-spec-validator>=0.7,<0.8'
fi

step "rustfmt"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "cargo-nextest not found; using cargo test"
  cargo test --workspace --locked --no-fail-fast
fi

step "local fleet (moto, control plane, two bidders): a campaign made through the API is bid on"
fleet_dir="$(mktemp -d)"
PROFILE=debug FLEET_DIR="$fleet_dir" scripts/local-fleet.sh --check
rm -rf "$fleet_dir"

step "doc tests"
cargo test --workspace --doc --locked

step "load generator smoke (asserts bids came back, never how fast)"
benches/smoke.sh

step "soak smoke: 20 s at 70% of capacity on the dev build above; fails if fds, threads or RSS grow, or on errors"
benches/soak.sh --duration 20s --interval 5s --warmup 2s --profile debug

if [ "$only_rust" = true ]; then
  exit 0
fi

step "IVT model recipe (ivt/train): example deterministic, bundled model reproduced"
ivt/train/check.sh

step "infrastructure (packer, terraform, scripts)"
scripts/check-infra.sh

step "all checks passed"
