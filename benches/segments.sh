#!/usr/bin/env bash
# Measures what first-party segments cost on the Redis path and how fast the
# loader fills Redis (docs/segments.md, "Cost"), on a release build:
#   1. the bidder with 1,000 generated campaigns over a local redis-server at a
#      fixed rate, rounds alternating between the campaigns as generated (30%
#      capped: those requests need a cap answer) and the same campaigns with each
#      capped one also targeting a first-party segment every corpus user is in
#      (those requests need a cap and a segment answer, read in the same round
#      trip); latency percentiles, server CPU, and Redis round trips per request;
#   2. `bidder segments load` of USERS generated users into an empty redis-server,
#      LOAD_ROUNDS times: users per second as the loader reports it.
# Writes target/bench-results/segments.md and prints it.
#
# Usage: benches/segments.sh
# Knobs (environment): ROUNDS=3 PHASE_S=3 WARMUP_S=0.5 RATE=5000 CONNECTIONS=32
#   SERVER_CPU=0 LOADGEN_CPU=1 USERS=1000000 LOAD_ROUNDS=3
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

ROUNDS=${ROUNDS:-3}
PHASE_S=${PHASE_S:-3}
WARMUP_S=${WARMUP_S:-0.5}
RATE=${RATE:-5000}
CONNECTIONS=${CONNECTIONS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
USERS=${USERS:-1000000}
LOAD_ROUNDS=${LOAD_ROUNDS:-3}

out=target/bench-results/segments
bin=target/release
rm -rf "$out"
mkdir -p "$out/http" "$out/logs"
export TERN_EVENTS__FILE__DIR="$out/events"

redis_pid=""
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && stop_process "$server_pid" 2
  [ -n "$redis_pid" ] && stop_process "$redis_pid" 2
  return 0
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_redis: an empty redis-server on a free port, on the load generator's CPU.
start_redis() {
  redis_port=$(free_port)
  taskset -c "$LOADGEN_CPU" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
    --appendonly no >>"$out/logs/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start" >&2
  return 1
}

stop_redis() {
  stop_process "$redis_pid" 2
  redis_pid=""
}

echo "==> release build"
cargo build --release --locked -p bidder -p tern-benches --bins

echo "==> corpus"
"$bin/tern-corpus" --out "$out/corpus" --requests 200 --campaigns 1000 >/dev/null
# The segment variant: every capped campaign also targets `bench-audience`, and
# every corpus user is in it (so both variants bid the same). The corpus's GDPR
# requests carry random consent strings, which would withhold segments (no
# lookup at all): both variants get `regs.gdpr = 0`, so they ask alike.
python3 - "$out/corpus" <<'PY'
import glob, json, sys
corpus = sys.argv[1]
campaigns = json.load(open(f"{corpus}/campaigns.json"))
listed = campaigns["campaigns"] if isinstance(campaigns, dict) else campaigns
for c in listed:
    if c.get("frequency_cap"):
        c["segments"] = {"include_any": ["bench-audience"]}
json.dump(campaigns, open(f"{corpus}/campaigns-segments.json", "w"))
users = set()
for path in glob.glob(f"{corpus}/bodies/*.json"):
    body = json.load(open(path))
    if isinstance(body.get("regs"), dict):
        body["regs"]["gdpr"] = 0
        json.dump(body, open(path, "w"))
    uid = (body.get("user") or {}).get("buyeruid")
    if uid:
        users.add(uid)
with open(f"{corpus}/segments.jsonl", "w") as f:
    for uid in sorted(users):
        f.write(json.dumps({"buyeruid": uid, "segments": ["bench-audience"]}) + "\n")
PY

config="$out/bidder.toml"
start_redis
printf '[frequency_cap]\nstore = "redis"\n[frequency_cap.redis]\naddr = "127.0.0.1:%s"\n' \
  "$redis_port" >"$config"
"$bin/bidder" --config "$config" segments load "$out/corpus/segments.jsonl" >"$out/logs/corpus-load.txt"

# start_bidder NAME CAMPAIGNS: the bidder on CPU $SERVER_CPU with the Redis store.
start_bidder() {
  local name=$1 log="$out/logs/$1.out"
  RUST_LOG=warn TERN_SERVER__PIN_WORKERS=false taskset -c "$SERVER_CPU" "$bin/bidder" \
    --config "$config" --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --workers 1 \
    --campaigns "$2" >"$log" 2>>"$out/logs/$name.err" &
  server_pid=$!
  for _ in $(seq 1 200); do
    bid_addr=$(sed -n 's/.* ready: bid=http:\/\/\([0-9.:]*\).*/\1/p' "$log")
    admin_addr=$(sed -n 's/.* admin=http:\/\/\([0-9.:]*\).*/\1/p' "$log")
    [ -n "$bid_addr" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$name did not start; see $out/logs/$name.err" >&2
  return 1
}

echo "==> cap only vs cap + segment over Redis, $RATE/s, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which variant goes first, so drift on the machine spreads evenly.
  if [ $((round % 2)) -eq 1 ]; then variants="caps segments"; else variants="segments caps"; fi
  for name in $variants; do
    campaigns="$out/corpus/campaigns.json"
    [ "$name" = segments ] && campaigns="$out/corpus/campaigns-segments.json"
    start_bidder "$name" "$campaigns"
    file="$out/http/$name.r$round"
    taskset -c "$LOADGEN_CPU" "$bin/loadgen" --url "http://$bid_addr/openrtb2/bid" \
      --bodies "$out/corpus/bodies" --connections "$CONNECTIONS" --warmup-s "$WARMUP_S" \
      --duration-s "$PHASE_S" --rate "$RATE" --server-pid "$server_pid" --min-bids 1 \
      --json "$file.json" --label "$name" | sed "s/^/  [$name r$round] /"
    curl -s "http://$admin_addr/metrics" >"$file.metrics.txt"
    stop_process "$server_pid" 2
    server_pid=""
  done
done
stop_redis

echo "==> loader: $USERS users, $LOAD_ROUNDS rounds"
python3 - "$out/users.jsonl" "$USERS" <<'PY'
import json, random, sys
path, users = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
with open(path, "w") as f:
    for n in range(users):
        kind = "ifa" if n % 4 == 0 else "buyeruid"
        segments = [f"seg-{rng.randrange(500)}" for _ in range(rng.randint(1, 5))]
        if n % 3 == 0:
            segments[0] = {"id": segments[0], "ttl_s": 86400}
        f.write(json.dumps({kind: f"user-{n}", "segments": segments}) + "\n")
PY
for round in $(seq 1 "$LOAD_ROUNDS"); do
  start_redis
  printf '[frequency_cap]\nstore = "redis"\n[frequency_cap.redis]\naddr = "127.0.0.1:%s"\n' \
    "$redis_port" >"$config"
  "$bin/bidder" --config "$config" segments load "$out/users.jsonl" | tee "$out/logs/load.r$round.txt" |
    sed "s/^/  [load r$round] /"
  stop_redis
done
rm -f "$out/users.jsonl"

python3 - "$out" "$RATE" "$USERS" <<'PY' | tee "$out/segments.md"
import glob, json, re, statistics, sys
out, rate, users = sys.argv[1], sys.argv[2], int(sys.argv[3])
med = lambda values: statistics.median(values) if values else float("nan")
def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
rows = {}
for name in ("caps", "segments"):
    runs = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/http/{name}.r*.json"))]
    texts = [open(f).read() for f in sorted(glob.glob(f"{out}/http/{name}.r*.metrics.txt"))]
    requests = [max(metric(t, "tern_requests_total"), 1) for t in texts]
    trips = [metric(t, "tern_redis_duration_seconds_count") for t in texts]
    trip_us = [1e6 * metric(t, "tern_redis_duration_seconds_sum") / max(n, 1) for t, n in zip(texts, trips)]
    rows[name] = dict(
        p50=med([r["latency_us"]["p50"] for r in runs]),
        p99=med([r["latency_us"]["p99"] for r in runs]),
        p99s=[r["latency_us"]["p99"] for r in runs],
        cpu=med([r["server_cpu_us_per_request"] for r in runs]),
        trips=med([n / r for n, r in zip(trips, requests)]),
        trip_us=med(trip_us),
        lookups=med([metric(t, 'tern_segment_lookups_total{result="ok"}') for t in texts]),
        rounds=len(runs))
print(f"The bidder (1 worker) with 1,000 generated campaigns and a local redis-server, at {rate} requests/s,")
print(f"{rows['caps']['rounds']} alternating rounds each (`benches/segments.sh`, release build; medians):\n")
print("| requests needing | p50 | p99 (each round) | server CPU/request | Redis round trips/request | mean round trip | segment lookups |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, label in (("caps", "the cap only"), ("segments", "the cap and a first-party segment")):
    r = rows[name]
    each = ", ".join(f"{p:.0f}" for p in r["p99s"])
    print(f"| {label} | {r['p50']:.0f} µs | {r['p99']:.0f} µs ({each}) | {r['cpu']:.1f} µs | {r['trips']:.3f} | {r['trip_us']:.0f} µs | {r['lookups']:.0f} |")
c, g = rows["caps"], rows["segments"]
print(f"\nWith the segment answer: p99 {g['p99'] - c['p99']:+.0f} µs ({g['p99'] / c['p99']:.2f}× the cap-only p99), "
      f"mean Redis round trip {g['trip_us'] - c['trip_us']:+.0f} µs, CPU {g['cpu'] - c['cpu']:+.1f} µs per request, "
      f"round trips per request {g['trips']:.3f} vs {c['trips']:.3f}.\n")
rates = []
for path in sorted(glob.glob(f"{out}/logs/load.r*.txt")):
    found = re.findall(r"([0-9][0-9,.]*) users/s", open(path).read())
    if found:
        rates.append(float(found[-1].replace(",", "")))
if rates:
    print(f"Loader: {users:,} users (1-5 segments each) into an empty local redis-server: "
          f"median **{med(rates):,.0f} users/s** over {len(rates)} runs ({', '.join(f'{r:,.0f}' for r in rates)}).")
PY
