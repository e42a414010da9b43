#!/usr/bin/env bash
# Instructions per request with valgrind's callgrind, for machines where `perf stat`
# cannot count instructions (VMs that expose no hardware counters). Counts user-space
# instructions only: the kernel's share (syscalls, TCP, io_uring) is not included.
#
# Under valgrind the monoio servers run on their epoll driver: valgrind cannot
# interrupt a thread waiting in io_uring_enter, so they would never see SIGTERM and
# never write their counts. glommio needs io_uring and is left out.
#
# Each figure is differential: the same program runs twice, with little and with
# more work, and the difference in instructions is divided by the difference in
# requests, so start-up, campaign loading and idle timers cancel out.
#
# Usage: perf/callgrind.sh RESULTS_DIR
#   RESULTS_DIR/corpus is the corpus benches/run.sh wrote (tern-corpus --out);
#   writes RESULTS_DIR/callgrind.json. Uses the release binaries in target/release.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

results=${1:?usage: perf/callgrind.sh RESULTS_DIR}
bin=target/release
work="$results/callgrind"
mkdir -p "$work"
cpus=$(nproc)

# Instructions (Ir) in a callgrind output file.
total_ir() { sed -n 's/^\(summary\|totals\): \([0-9]*\).*/\2/p' "$1" | head -1; }

# engine: engine-probe --requests N under callgrind, for two N.
engine_ir() {
  valgrind --tool=callgrind --callgrind-out-file="$work/engine.$1.out" \
    "$bin/engine-probe" --requests "$1" >/dev/null 2>"$work/engine.$1.log"
  total_ir "$work/engine.$1.out"
}
small=$(engine_ir 1000)
large=$(engine_ir 6000)
engine=$(awk -v a="$small" -v b="$large" 'BEGIN { printf "%.0f", (b - a) / 5000 }')
echo "engine alone (parse + decide + write, 1,000 campaigns): $engine instructions/request"

# server NAME SECONDS: runs NAME under callgrind with loadgen for SECONDS; prints
# "instructions responses".
server_ir() {
  local name=$1 seconds=$2 log="$work/$1.$2.out.txt" pid url addr
  local cg="$work/$name.$seconds.callgrind"
  case "$name" in
    bidder)
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false TERN_SERVER__IO_DRIVER=epoll valgrind --tool=callgrind \
        --callgrind-out-file="$cg" "$bin/bidder" --workers 1 --bid-addr 127.0.0.1:0 \
        --admin-addr 127.0.0.1:0 --campaigns "$results/corpus/campaigns.json" \
        >"$log" 2>"$work/$name.$seconds.err" &
      ;;
    tokio-bidder)
      valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin/tokio-bidder" \
        --addr 127.0.0.1:0 --campaigns "$results/corpus/campaigns.json" \
        >"$log" 2>"$work/$name.$seconds.err" &
      ;;
    bidder-6c)
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false TERN_SERVER__IO_DRIVER=epoll valgrind --tool=callgrind \
        --callgrind-out-file="$cg" "$bin/bidder" --workers 1 --bid-addr 127.0.0.1:0 \
        --admin-addr 127.0.0.1:0 >"$log" 2>"$work/$name.$seconds.err" &
      ;;
    tokio-bidder-6c)
      valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin/tokio-bidder" \
        --addr 127.0.0.1:0 >"$log" 2>"$work/$name.$seconds.err" &
      ;;
    *)
      valgrind --tool=callgrind --callgrind-out-file="$cg" "$bin/$name" --addr 127.0.0.1:0 \
        --io-driver epoll \
        >"$log" 2>"$work/$name.$seconds.err" &
      ;;
  esac
  pid=$!
  addr=""
  for _ in $(seq 1 600); do
    addr=$(sed -n 's/.* ready: \(bid\|addr\)=\(http:\/\/\)\{0,1\}\([0-9.:]*\).*/\3/p' "$log")
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    return 1
  fi
  url="http://$addr/openrtb2/bid"
  taskset -c "$((cpus - 1))" "$bin/loadgen" --url "$url" --bodies "$results/corpus/bodies" \
    --connections 4 --warmup-s 0 --duration-s "$seconds" --json "$work/$name.$seconds.json" >/dev/null
  stop_process "$pid" 30
  echo "$(total_ir "$cg") $(sed -n 's/.*"responses": \([0-9]*\).*/\1/p' "$work/$name.$seconds.json" | head -1)"
}

entries=("\"engine alone (1,000 campaigns)\": $engine")
for name in noop-monoio bidder tokio-bidder bidder-6c tokio-bidder-6c; do
  if ! short=$(server_ir "$name" 2) || ! long=$(server_ir "$name" 6); then
    echo "$name: did not run under valgrind; skipped"
    continue
  fi
  per=$(echo "$short $long" | awk '{ if ($4 > $2) printf "%.0f", ($3 - $1) / ($4 - $2) }')
  echo "$name over HTTP: $per instructions/request (user space)"
  entries+=("\"$name over HTTP (user space)\": ${per:-null}")
done

{
  echo '{'
  echo '  "note": "valgrind --tool=callgrind, user-space instructions only (the kernel'"'"'s TCP and syscall work is not counted); differential between a short and a long run of each program, so start-up cancels out. perf stat cannot count instructions on this machine (no hardware counters exposed).",'
  echo '  "per_request": {'
  for i in "${!entries[@]}"; do
    sep=","
    [ "$i" -eq $((${#entries[@]} - 1)) ] && sep=""
    echo "    ${entries[$i]}$sep"
  done
  echo '  }'
  echo '}'
} >"$results/callgrind.json"
