#!/usr/bin/env bash
# Runs Tern's benchmarks end to end and rewrites benches/RESULTS.md and
# benches/latency.svg with what this machine measured:
#   1. release build of the bidder, the comparison servers and the tools;
#   2. the engine alone (engine-probe: throughput, latency, allocations) and the
#      criterion micro-benchmarks, pinned to one core;
#   3. every server over loopback HTTP, pinned to CPU $SERVER_CPU with loadgen on
#      CPU $LOADGEN_CPU: saturation rounds first (alternating servers); then the
#      bytes of each request and response on the wire (the bidder, once); then, at
#      fixed rates (alternating again), every server at 80% of the slowest server's
#      throughput (a rate every server sustains), and the bidder and the no-op
#      monoio server at 80% of the bidder's own saturation throughput (the issue's
#      p99 target, with the no-op server showing what the host allows). The bidder
#      and the tokio baseline run twice: with 1,000 generated campaigns and with the
#      6 bundled ones, which separates the HTTP path from the decision;
#   4. scaling: the bidder with 1 and with 2 workers, not pinned (the two CPUs
#      shared with loadgen), saturation rounds;
#   5. frequency caps in Redis against in process (when redis-server is installed);
#   6. instructions per request (perf stat where the CPU counters are exposed,
#      else valgrind's callgrind) and a CPU profile of the bidder at saturation
#      (perf record);
#   7. the report.
#
# Usage: benches/run.sh
# Knobs (environment): ROUNDS=3 PHASE_S=2 WARMUP_S=0.5 CONNECTIONS=32 SERVER_CPU=0
#   LOADGEN_CPU=1 CRITERION=1 CALLGRIND=1 PROFILE=1
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

ROUNDS=${ROUNDS:-3}
PHASE_S=${PHASE_S:-2}
WARMUP_S=${WARMUP_S:-0.5}
CONNECTIONS=${CONNECTIONS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
CRITERION=${CRITERION:-1}
CALLGRIND=${CALLGRIND:-1}
PROFILE=${PROFILE:-1}
SERVERS=(noop-monoio noop-glommio bidder tokio-bidder bidder-6c tokio-bidder-6c)

out=target/bench-results
bin=target/release
# The bidder records events by default; keep its files with the results.
export TERN_EVENTS__FILE__DIR="$out/events"
started=$(date +%s)

step() { printf '\n==> [%3ds] %s\n' "$(($(date +%s) - started))" "$*"; }

rm -rf "$out"
mkdir -p "$out/http" "$out/logs"

step "release build"
# The binaries and the criterion targets in one build: built apart, cargo would
# compile every dependency twice (the benches add dev-dependencies' features).
cargo build --release --locked -p bidder -p tern-benches --bins --benches

step "corpus"
"$bin/tern-corpus" --out "$out/corpus" --requests 200 --campaigns 1000

step "machine"
{
  echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) ($(nproc) CPUs online)"
  echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel:  $(uname -sr)"
  echo "rustc:   $(rustc --version)"
  echo "governor: $(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo 'not exposed (VM)')"
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "pinning: servers on CPU $SERVER_CPU, loadgen on CPU $LOADGEN_CPU (taskset)"
} >"$out/machine.txt"
cat "$out/machine.txt"

step "engine alone (engine-probe, CPU $SERVER_CPU)"
taskset -c "$SERVER_CPU" "$bin/engine-probe" --seconds 2 --json "$out/engine-probe.json"

if [ "$CRITERION" = 1 ]; then
  step "criterion micro-benchmarks (release profile, CPU $SERVER_CPU)"
  rm -rf target/criterion
  # Only the criterion targets (--benches): the binaries have no benchmarks.
  # Same packages as the build above, so cargo reuses its artifacts instead of
  # compiling the dependencies again with another feature set.
  taskset -c "$SERVER_CPU" cargo bench --profile release --locked -p bidder -p tern-benches --benches \
    >"$out/logs/criterion.txt" 2>&1
  grep -E '^(parse|decide|engine|screen)/|time:' "$out/logs/criterion.txt" || true
fi

# --- servers -------------------------------------------------------------------

server_pid=""
server_url=""

# start_server NAME: starts NAME on CPU $SERVER_CPU on a free port; sets
# server_pid and server_url once it printed its ready line.
start_server() {
  local name=$1 log="$out/logs/$1.out"
  case "$name" in
    bidder)
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false taskset -c "$SERVER_CPU" "$bin/bidder" \
        --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers 1 \
        --campaigns "$out/corpus/campaigns.json" >"$log" 2>>"$out/logs/$name.err" &
      ;;
    tokio-bidder)
      taskset -c "$SERVER_CPU" "$bin/tokio-bidder" --addr 127.0.0.1:0 \
        --campaigns "$out/corpus/campaigns.json" >"$log" 2>>"$out/logs/$name.err" &
      ;;
    bidder-redis)
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false TERN_FREQUENCY_CAP__STORE=redis \
        TERN_FREQUENCY_CAP__REDIS__ADDR="127.0.0.1:$redis_port" \
        taskset -c "$SERVER_CPU" "$bin/bidder" \
        --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers 1 \
        --campaigns "$out/corpus/campaigns.json" >"$log" 2>>"$out/logs/$name.err" &
      ;;
    bidder-6c)
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false taskset -c "$SERVER_CPU" "$bin/bidder" \
        --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers 1 \
        >"$log" 2>>"$out/logs/$name.err" &
      ;;
    tokio-bidder-6c)
      taskset -c "$SERVER_CPU" "$bin/tokio-bidder" --addr 127.0.0.1:0 \
        >"$log" 2>>"$out/logs/$name.err" &
      ;;
    bidder-1w | bidder-2w)
      # The scaling phase: 1 or 2 workers and no pinning at all (no taskset, and
      # PIN_WORKERS=false, which would otherwise pin worker N to CPU N), so the
      # workers and loadgen share both CPUs as the scheduler sees fit.
      local workers=${name#bidder-}
      RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false "$bin/bidder" \
        --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers "${workers%w}" \
        --campaigns "$out/corpus/campaigns.json" >"$log" 2>>"$out/logs/$name.err" &
      ;;
    *)
      taskset -c "$SERVER_CPU" "$bin/$name" --addr 127.0.0.1:0 >"$log" 2>>"$out/logs/$name.err" &
      ;;
  esac
  server_pid=$!
  server_url=""
  local addr
  for _ in $(seq 1 200); do
    addr=$(sed -n 's/.* ready: \(bid\|addr\)=\(http:\/\/\)\{0,1\}\([0-9.:]*\).*/\3/p' "$log")
    if [ -n "$addr" ]; then
      server_url="http://$addr/openrtb2/bid"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start; see $out/logs/$name.err" >&2
  return 1
}

stop_server() {
  # glommio's executor does not handle SIGTERM: give it a moment, then insist.
  stop_process "$server_pid" 2
}

# How loadgen runs: pinned to $LOADGEN_CPU, except in the scaling phase (empty).
loadgen_pin=(taskset -c "$LOADGEN_CPU")

# load NAME PHASE ROUND [RATE]
load() {
  local name=$1 phase=$2 round=$3 rate=${4:-}
  local file="$out/http/$name.$phase.r$round"
  local args=(--url "$server_url" --bodies "$out/corpus/bodies" --connections "$CONNECTIONS"
    --warmup-s "$WARMUP_S" --duration-s "$PHASE_S" --server-pid "$server_pid"
    --json "$file.json" --hgrm "$file.hgrm" --label "$name")
  if [ -n "$rate" ]; then
    args+=(--rate "$rate")
  fi
  "${loadgen_pin[@]}" "$bin/loadgen" "${args[@]}" | tee "$file.txt" | sed "s/^/  [$name $phase r$round] /"
}

# worker_ticks PID TAG: "TAG NAME TICKS" for each bid worker thread of PID
# (threads named bid-N), TICKS its user+system time so far in clock ticks
# (/proc/PID/task/*/stat, fields 14 and 15).
worker_ticks() {
  local stat
  for stat in /proc/"$1"/task/*/stat; do
    # A thread may end between the glob and the read: skip it.
    sed -n 's/^[0-9]* (\(bid-[0-9]*\)) \(.*\)/\1 \2/p' "$stat" 2>/dev/null |
      awk -v tag="$2" '{ print tag, $1, $13 + $14 }' || true
  done
}

# Servers in a different order each round, so drift on the machine spreads evenly.
order() {
  local round=$1 i n=${#SERVERS[@]}
  for ((i = 0; i < n; i++)); do
    echo "${SERVERS[$(((i + round) % n))]}"
  done
}

json_number() { sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p" "$1" | head -1; }

step "saturation (closed loop, $CONNECTIONS connections), $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  for name in $(order "$round"); do
    start_server "$name"
    load "$name" saturation "$round"
    stop_server
  done
done

# Median saturation throughput of one server over the rounds.
median_throughput() {
  for f in "$out/http/$1.saturation".r*.json; do json_number "$f" throughput_rps; done |
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The load generator's limit: the best saturation throughput any server allowed
# (a no-op server's, in practice), as the median over rounds; the slowest
# server's, for a rate every server sustains; and the bidder's own (1,000
# campaigns), for the issue's p99 target at 80% of the bidder's capacity.
limit=0
slowest=""
for name in "${SERVERS[@]}"; do
  median=$(median_throughput "$name")
  limit=$(awk -v a="$limit" -v b="$median" 'BEGIN { print (b > a) ? b : a }')
  slowest=$(awk -v a="${slowest:-$median}" -v b="$median" 'BEGIN { print (b < a) ? b : a }')
done
capacity=$(median_throughput bidder)
common=$(awk -v l="$slowest" 'BEGIN { printf "%.0f", l * 0.8 }')
capacity80=$(awk -v l="$capacity" 'BEGIN { printf "%.0f", l * 0.8 }')
echo "load generator limit: $limit requests/s; slowest server: $slowest requests/s;" \
  "bidder (1,000 campaigns): $capacity requests/s"
echo "fixed rates: $common/s (80% of the slowest, every server), $capacity80/s (80% of the bidder's)"

step "bytes on the wire (the bidder, 1,000 campaigns, every corpus request once)"
start_server bidder
# The request exactly as loadgen sends it (its head, then the body) and the whole
# response (head and body), one keep-alive connection; the cost model's NLB and
# bandwidth figures use the means (and are left out of the report if this fails).
python3 - "$server_url" "$out/corpus/bodies" "$out/wire.json" <<'PY' || echo "  (not measured)"
import glob, json, socket, sys
url, bodies, out = sys.argv[1:4]
hostport, path = url.removeprefix("http://").split("/", 1)
host, port = hostport.rsplit(":", 1)
sock = socket.create_connection((host, int(port)), timeout=10)
sent = received = 0
statuses = {}
files = sorted(glob.glob(f"{bodies}/*.json"))
for name in files:
    body = open(name, "rb").read()
    head = (f"POST /{path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\n"
            f"X-OpenRTB-Version: 2.6\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    sock.sendall(head + body)
    sent += len(head) + len(body)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("the bidder closed the connection")
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in buf[:end].split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value)
    while len(buf) < end + length:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("the bidder closed the connection")
        buf += chunk
    received += end + length
    status = buf.split(b" ", 2)[1].decode()
    statuses[status] = statuses.get(status, 0) + 1
n = len(files)
json.dump({"requests": n, "request_bytes_mean": sent / n, "response_bytes_mean": received / n,
           "statuses": statuses}, open(out, "w"), indent=2)
print(f"  request {sent / n:.0f} bytes, response {received / n:.0f} bytes (means over {n}; statuses {statuses})")
PY
stop_server

step "fixed rates ($common/s every server, $capacity80/s bidder and no-op monoio; open loop), $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  for name in $(order "$round"); do
    start_server "$name"
    load "$name" common "$round" "$common"
    case "$name" in
      bidder | noop-monoio) load "$name" capacity80 "$round" "$capacity80" ;;
    esac
    stop_server
  done
done

# --- scaling -----------------------------------------------------------------------

step "scaling: the bidder with 1 and 2 workers, not pinned, saturation, $ROUNDS rounds"
loadgen_pin=()
for round in $(seq 1 "$ROUNDS"); do
  names=(bidder-1w bidder-2w)
  if [ $((round % 2)) = 0 ]; then
    names=(bidder-2w bidder-1w)
  fi
  for name in "${names[@]}"; do
    start_server "$name"
    before=$(worker_ticks "$server_pid" before)
    load "$name" scaling "$round"
    after=$(worker_ticks "$server_pid" after)
    # Each worker's CPU time over the phase (warm-up included): how evenly the
    # kernel spread the connections over the workers' SO_REUSEPORT listeners.
    printf '%s\n%s\n' "$before" "$after" |
      awk '$1 == "before" { b[$2] = $3 } $1 == "after" { a[$2] = $3 }
           END { for (k in a) print k, a[k] - b[k] }' |
      sort >"$out/http/$name.scaling.r$round.workers.txt"
    stop_server
  done
done
loadgen_pin=(taskset -c "$LOADGEN_CPU")

# --- frequency caps in Redis ------------------------------------------------------

if command -v redis-server >/dev/null; then
  step "frequency caps in Redis vs in process, at $common/s, $ROUNDS rounds"
  redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Redis shares the load generator's core, as it would share a host with nothing
  # of the bidder's.
  taskset -c "$LOADGEN_CPU" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
    --appendonly no >"$out/logs/redis.log" 2>&1 &
  redis_pid=$!
  for round in $(seq 1 "$ROUNDS"); do
    for name in bidder bidder-redis; do
      start_server "$name"
      load "$name" caps "$round" "$common"
      if [ "$name" = bidder-redis ]; then
        admin=$(sed -n 's/.* admin=http:\/\/\([0-9.:]*\).*/\1/p' "$out/logs/$name.out")
        curl -s "http://$admin/metrics" >"$out/http/redis-metrics.r$round.txt" || true
      fi
      stop_server
    done
  done
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  python3 - "$out" "$common" <<'PY' >"$out/redis.md"
import glob, json, statistics, sys
out, rate = sys.argv[1], sys.argv[2]
def runs(name):
    return [json.load(open(f)) for f in sorted(glob.glob(f"{out}/http/{name}.caps.r*.json"))]
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")
def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None
local, redis = runs("bidder"), runs("bidder-redis")
rows = []
for label, rs in (("in process (`store = \"local\"`)", local), ("Redis on loopback (`store = \"redis\"`)", redis)):
    rows.append((label, med([r["latency_us"]["p50"] for r in rs]), med([r["latency_us"]["p99"] for r in rs]),
                 med([r["server_cpu_us_per_request"] for r in rs])))
texts = [open(f).read() for f in sorted(glob.glob(f"{out}/http/redis-metrics.r*.txt"))]
rtt_p99 = med([metric(t, "tern_redis_duration_p99_seconds") for t in texts])
checks = med([metric(t, 'tern_freq_cap_checks_total{result="ok"}') for t in texts])
requests = med([metric(t, "tern_requests_total") for t in texts])
fallbacks = med([(metric(t, 'tern_freq_cap_checks_total{result="timeout"}') or 0)
                 + (metric(t, 'tern_freq_cap_checks_total{result="unavailable"}') or 0)
                 + (metric(t, 'tern_freq_cap_checks_total{result="busy"}') or 0) for t in texts])
print(f"The bidder with 1,000 generated campaigns (30% with a frequency cap, requests with a user id)")
print(f"at {rate} requests/s, {len(local)} rounds each, caps counted in process or in a local")
print("`redis-server` (one round trip per request that has a capped candidate able to win).\n")
print("| cap store | p50 | p99 | server CPU/request |")
print("| --- | --- | --- | --- |")
for label, p50, p99, cpu in rows:
    print(f"| {label} | {p50:.0f} µs | {p99:.0f} µs | {cpu:.1f} µs |")
print()
print(f"Cost of the Redis cap check: **p99 {rows[1][2] - rows[0][2]:+.0f} µs**, CPU {rows[1][3] - rows[0][3]:+.1f} µs per request.")
if rtt_p99 is not None and rtt_p99 == rtt_p99:
    print(f"Redis round trip as the bidder saw it: p99 {rtt_p99 * 1e6:.0f} µs")
    share = 100.0 * checks / requests if requests else float("nan")
    print(f"({share:.0f}% of requests needed one; {fallbacks:.0f} checks fell back to the policy).")
PY
  cat "$out/redis.md"
fi

{
  echo "**Method.** Each server ran alone on CPU $SERVER_CPU (one thread or one worker: the bidder"
  echo "with \`--workers 1\`, tokio with a current-thread runtime); \`loadgen\` ran on CPU $LOADGEN_CPU with"
  echo "$CONNECTIONS keep-alive connections over the $(find "$out/corpus/bodies" -name "*.json" | wc -l) generated request bodies"
  echo "(mean $(json_number "$out/engine-probe.json" corpus_mean_bytes) bytes) and 1,000 generated campaigns"
  echo "(the bidder and the tokio baseline load the same file; their \"6 bundled campaigns\" runs use"
  echo "\`bidder/campaigns/example.toml\` instead). $ROUNDS rounds, servers alternating, each phase"
  echo "${WARMUP_S} s warm-up + ${PHASE_S} s measured. In saturation the load generator's limit (best"
  echo "throughput) was $(printf '%.0f' "$limit") requests/s; the slowest server sustained $(printf '%.0f' "$slowest") requests/s,"
  echo "so the common rate was $common/s (80% of that); the bidder with 1,000 campaigns sustained"
  echo "$(printf '%.0f' "$capacity") requests/s, so the issue's p99 rate was $capacity80/s (80% of that), run with the"
  echo "bidder and, for comparison, the no-op monoio server."
} >"$out/method.md"

# --- instructions per request ----------------------------------------------------

# Captured first: `grep -q` in a pipeline can exit before perf finishes writing,
# and under pipefail perf's SIGPIPE would read as "counters available".
counters=$(perf stat -e instructions -- true 2>&1 || true)
if [[ $counters == *"not supported"* ]]; then
  echo "perf stat: hardware counters are not exposed on this machine" >"$out/logs/perf-stat.txt"
  if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    step "instructions per request with callgrind (perf stat has no hardware counters here)"
    perf/callgrind.sh "$out" | tee "$out/logs/callgrind.txt"
  fi
else
  step "instructions per request with perf stat"
  for name in bidder noop-monoio tokio-bidder; do
    start_server "$name"
    perf/stat.sh --pid "$server_pid" --url "$server_url" --bodies "$out/corpus/bodies" \
      --rate "$common" --seconds 5 --json "$out/perf-stat-$name.json" | sed "s/^/  [$name] /"
    stop_server
  done
fi

# --- profile -------------------------------------------------------------------

if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
  step "CPU profile of the bidder at saturation (perf record + inferno)"
  start_server bidder
  # Saturation (closed loop, --rate 0), the state the headline CPU per request is
  # measured in.
  if perf/flamegraph.sh --pid "$server_pid" --url "$server_url" --bodies "$out/corpus/bodies" \
    --rate 0 --connections "$CONNECTIONS" --seconds 5 --out "$out/profile" >"$out/logs/flamegraph.txt" 2>&1; then
    cp "$out/profile/flamegraph.svg" benches/flamegraph-bidder.svg
    {
      echo "\`perf record\` (cpu-clock sampling at 999 Hz) of the bidder at saturation ($CONNECTIONS connections); the"
      echo "flame graph is [flamegraph-bidder.svg](flamegraph-bidder.svg). Share of the bidder's samples"
      echo "by the frame they were taken in (self time), top entries:"
      echo
      echo '```'
      head -25 "$out/profile/top-self.txt"
      echo '```'
      echo
      echo "Share of samples under frames that matter (inclusive: a sample counts for every category"
      echo "with a frame in its stack, so the billing token is also part of writing the response):"
      echo
      echo '```'
      cat "$out/profile/inclusive.txt"
      echo '```'
    } >"$out/profile.md"
  else
    echo "  (profiling failed; see $out/logs/flamegraph.txt)"
  fi
  stop_server
fi

# --- report ----------------------------------------------------------------------

if [ -f benches/NOTES.md ]; then
  cp benches/NOTES.md "$out/notes.md"
fi
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $((($(date +%s) - started + 30) / 60)) minutes end to end" >"$out/when.txt"
step "report"
"$bin/bench-report" --results "$out" --criterion target/criterion \
  --out benches/RESULTS.md --plot benches/latency.svg --command "benches/run.sh"
step "done in $(($(date +%s) - started)) s"
