#!/usr/bin/env bash
# Instructions per request of a running server, with `perf stat`, while `loadgen`
# drives it at a fixed rate. Needs hardware performance counters: on VMs that do
# not expose them it says so and exits 3 (use perf/callgrind.sh there).
#
# Usage: perf/stat.sh --pid PID --url URL --bodies DIR [--rate 20000] [--seconds 5]
#                     [--connections 32] [--json OUT.json]
set -euo pipefail

cd "$(dirname "$0")/.."

pid="" url="" bodies="bidder/samples" rate=20000 seconds=5 connections=32 json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pid) pid=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --bodies) bodies=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$pid" ] || [ -z "$url" ]; then
  echo "usage: perf/stat.sh --pid PID --url URL --bodies DIR" >&2
  exit 2
fi

if perf stat -e instructions -- true 2>&1 | grep -q 'not supported'; then
  echo "perf stat: this machine exposes no hardware counters (instructions: <not supported>)"
  exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpus=$(nproc)
taskset -c "$((cpus - 1))" target/release/loadgen --url "$url" --bodies "$bodies" \
  --connections "$connections" --rate "$rate" --warmup-s 1 --duration-s "$seconds" \
  --json "$work/load.json" >/dev/null &
load_pid=$!
sleep 1
perf stat -x, -e instructions,cycles,task-clock,context-switches -p "$pid" \
  -o "$work/stat.csv" -- sleep "$seconds"
wait "$load_pid"

instructions=$(awk -F, '$3 == "instructions" || $3 ~ /^instructions/ { print $1 }' "$work/stat.csv")
cycles=$(awk -F, '$3 ~ /^cycles/ { print $1 }' "$work/stat.csv")
responses=$(sed -n 's/.*"responses": \([0-9]*\).*/\1/p' "$work/load.json" | head -1)
per_request=$(awk -v i="$instructions" -v n="$responses" 'BEGIN { if (n > 0) printf "%.0f", i / n }')
per_request_cycles=$(awk -v c="$cycles" -v n="$responses" 'BEGIN { if (n > 0) printf "%.0f", c / n }')
echo "instructions/request: $per_request  cycles/request: $per_request_cycles  ($responses responses)"
if [ -n "$json" ]; then
  printf '{"instructions_per_request": %s, "cycles_per_request": %s, "responses": %s}\n' \
    "${per_request:-null}" "${per_request_cycles:-null}" "${responses:-0}" >"$json"
fi
