#!/usr/bin/env bash
# Profiles a running bidder (or any server) under load and draws a flame graph.
#
# `perf record` samples the server's threads (cpu-clock, so it works in VMs without
# hardware counters; DWARF call graphs, so release builds without frame pointers
# unwind) while `loadgen` drives it at a fixed rate; `inferno` (from crates.io,
# installed into target/tools on first use) folds the stacks and draws the SVG.
#
# Usage:
#   perf/flamegraph.sh                       start target/release/bidder itself, bundled
#                                            campaigns and bidder/samples bodies
#   perf/flamegraph.sh --pid PID --url URL --bodies DIR [--rate 20000] [--seconds 5]
#                      [--connections 32] [--out DIR]
#   --rate 0 drives the server in saturation (closed loop) instead of a fixed rate.
# Writes OUT/flamegraph.svg (default OUT: target/flamegraph), OUT/folded.txt,
# OUT/top-self.txt (frames by self time) and OUT/inclusive.txt (key subsystems).
set -euo pipefail

cd "$(dirname "$0")/.."

pid="" url="" bodies="bidder/samples" rate=20000 seconds=5 connections=32 out=target/flamegraph
while [ $# -gt 0 ]; do
  case "$1" in
    --pid) pid=$2; shift 2 ;;
    --url) url=$2; shift 2 ;;
    --bodies) bodies=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
tools=target/tools/bin
if ! command -v inferno-collapse-perf >/dev/null && [ ! -x "$tools/inferno-collapse-perf" ]; then
  echo "installing inferno into target/tools (once)"
  cargo install --locked --quiet --root target/tools inferno
fi
PATH="$PWD/$tools:$PATH"

mkdir -p "$out"
started_here=""
if [ -z "$pid" ]; then
  cargo build --release --locked -p bidder -p tern-benches --bins
  RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false taskset -c 0 target/release/bidder --workers 1 \
    --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 >"$out/bidder.out" &
  pid=$!
  started_here=$pid
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^tern bidder ready: bid=\([^ ]*\).*/\1/p' "$out/bidder.out")
    [ -n "$url" ] && break
    sleep 0.1
  done
fi
trap '[ -z "$started_here" ] || kill -TERM "$started_here" 2>/dev/null || true' EXIT
[ -n "$url" ] || { echo "no --url and no bidder started" >&2; exit 1; }

loadgen=target/release/loadgen
[ -x "$loadgen" ] || cargo build --release --locked -p tern-benches --bin loadgen
cpus=$(nproc)
rate_args=(--rate "$rate")
title="Tern bidder at $rate requests/s"
if [ "$rate" = 0 ]; then
  rate_args=()
  title="Tern bidder at saturation ($connections connections)"
fi
taskset -c "$((cpus - 1))" "$loadgen" --url "$url" --bodies "$bodies" --connections "$connections" \
  "${rate_args[@]}" --warmup-s 1 --duration-s "$((seconds + 1))" >"$out/loadgen.txt" &
load_pid=$!
sleep 1
perf record -F 999 -e cpu-clock --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" \
  -- sleep "$seconds" 2>"$out/perf-record.log"
wait "$load_pid"

perf script -i "$out/perf.data" 2>/dev/null | inferno-collapse-perf >"$out/folded.txt"
inferno-flamegraph --title "$title" <"$out/folded.txt" >"$out/flamegraph.svg"

# Self time: the frame each sample was taken in.
awk '{ n = $NF; $NF = ""; k = split($0, f, ";"); leaf = f[k]; sub(/ +$/, "", leaf);
       self[leaf] += n; total += n }
     END { for (l in self) printf "%6.2f%%  %s\n", 100 * self[l] / total, l }' \
  "$out/folded.txt" | sort -rn >"$out/top-self.txt"

# Inclusive share of the subsystems worth watching: the samples whose stack has a
# frame matching RE (and, if given, none matching EXCEPT). Folded lines are
# "frame;frame;...;leaf COUNT".
# The patterns go through the environment: awk -v would take their backslashes as
# escapes.
inclusive() {
  LABEL="$1" RE="$2" EXCEPT="${3:-}" awk '{ n = $NF; total += n
      if ($0 ~ ENVIRON["RE"] && (ENVIRON["EXCEPT"] == "" || $0 !~ ENVIRON["EXCEPT"])) hit += n }
    END { if (total > 0) printf "%6.2f%%  %s\n", 100 * hit / total, ENVIRON["LABEL"] }' "$out/folded.txt"
}
# Reading the request: Tern's reader (json_in), the serde-derived visitors of the
# request types and their lenient field readers, the UTF-8 and depth checks, and
# sonic-rs for builds from before json_in. The response writer escapes strings
# with sonic-rs too (json_out), so stacks under it are not reading.
parse_re='BidRequest[^;]*parse|json_in::|tern_engine::openrtb::[^;]*([Dd]eserializ|Visitor|lenient)|sonic_rs|simdutf8|json_depth'
write_re='write_bid_response|json_out::'
# glibc's allocator entry points and internals, and Rust's shims; exact frame
# names, so the kernel's kfree and friends do not count.
alloc_re='(^|;)(__libc_|__GI___libc_|_int_)?(malloc|calloc|realloc|free|cfree)(@[^;]*)?(;| )|malloc_consolidate|unlink_chunk|__rust_(alloc|dealloc|realloc)'
{
  inclusive "parse (Tern's reader json_in, request visitors, UTF-8 and depth checks; sonic-rs in older builds)" "$parse_re" "$write_re"
  inclusive "decide (candidates, evaluation, caps, pick)" 'decision::'
  inclusive "write response (JSON writer, native markup, billing token)" "$write_re"
  inclusive "billing token (HMAC-SHA256, base64)" 'append_token'
  inclusive "HTTP framing (httparse, head, body)" 'parse_head|frame_body|httparse'
  inclusive "metrics (per-response recording)" 'record_response|on_response|metrics'
  inclusive "allocator (malloc/free/realloc)" "$alloc_re"
  inclusive "kernel (syscalls, TCP, io_uring)" '\[k\]|entry_SYSCALL|do_syscall|io_uring|tcp_'
} >"$out/inclusive.txt"

echo "flame graph: $out/flamegraph.svg"
echo "top frames by self time:"
head -15 "$out/top-self.txt"
echo "by subsystem (inclusive):"
cat "$out/inclusive.txt"
