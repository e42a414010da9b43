#!/usr/bin/env bash
# A few-second smoke test of the load generator against the real bidder, for CI:
# builds in the dev profile, starts the bidder on free ports, runs `loadgen` for
# about three seconds, and fails unless it got 200 responses carrying bids.
# It asserts that bids came back, never how fast.
#
# Usage: benches/smoke.sh
set -euo pipefail

cd "$(dirname "$0")/.."

cargo build --locked -p bidder -p tern-benches --bins

bin=target/debug
work=$(mktemp -d)
bidder_pid=""
cleanup() {
  if [ -n "$bidder_pid" ] && kill -0 "$bidder_pid" 2>/dev/null; then
    kill -TERM "$bidder_pid" 2>/dev/null || true
    wait "$bidder_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/tern-corpus" --out "$work/corpus" --requests 40 --campaigns 200 >/dev/null

TERN_EVENTS__FILE__DIR="$work/events" RUST_LOG=warn "$bin/bidder" --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers 1 \
  --campaigns "$work/corpus/campaigns.json" >"$work/bidder.out" 2>"$work/bidder.err" &
bidder_pid=$!

url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^tern bidder ready: bid=\([^ ]*\).*/\1/p' "$work/bidder.out")
  [ -n "$url" ] && break
  if ! kill -0 "$bidder_pid" 2>/dev/null; then
    echo "smoke: the bidder exited before it was ready:" >&2
    cat "$work/bidder.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "smoke: the bidder did not print its ready line in 10 s" >&2
  exit 1
fi

"$bin/loadgen" --url "$url" --bodies "$work/corpus/bodies" --connections 4 \
  --warmup-s 0.5 --duration-s 2.5 --server-pid "$bidder_pid" --min-bids 1 \
  --json "$work/loadgen.json"

# Also the fixed-rate mode, briefly.
"$bin/loadgen" --url "$url" --bodies "$work/corpus/bodies" --connections 4 \
  --warmup-s 0 --duration-s 1 --rate 200 --min-bids 1 >/dev/null

echo "smoke: loadgen got bids from the bidder"
