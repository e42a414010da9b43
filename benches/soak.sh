#!/usr/bin/env bash
# A soak of the real bidder: about 70% of its capacity for a long time, watched
# every interval, judged on whether anything grows without bound.
#
#   1. builds the bidder and the bench tools (a no-op when they are built);
#   2. starts the bidder as shipped (bundled campaigns, events to rotating files
#      in a temporary directory, no Redis or AWS) with one worker; on a machine
#      with 2 or more CPUs the bidder runs on CPU 0 and loadgen on CPU 1;
#   3. unless --rate is given, measures its capacity: loadgen flat out (closed
#      loop, 1 s warm-up + 4 s), then restarts it, so the soak starts from a fresh
#      process;
#   4. runs loadgen at --percent (70) of that capacity, open loop, for a warm-up
#      and then --duration, and at the end of every --interval writes a row: the
#      requests answered and their p99 (coordinated omission corrected), errors,
#      and the bidder's RSS (VmRSS), open file descriptors (/proc/PID/fd), threads
#      and CPU time per request;
#   5. judges the run (see `judge` below) and exits non-zero if it failed.
#
# The table goes to stdout and to OUT/soak.md; OUT also keeps loadgen's raw
# output, the bidder's stderr and its /metrics after the warm-up and at the end.
#
# Usage: benches/soak.sh [--duration 30m] [--interval 60s] [--warmup 10s]
#          [--rate N | --percent 70] [--profile release|debug] [--out DIR]
#          [--connections 32] [--workers 1] [--campaigns bundled|generated]
# Times take an s, m or h suffix (bare numbers are seconds). CARGO=... runs
# another cargo (e.g. a wrapper that takes a lock).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=benches/lib.sh
source benches/lib.sh

usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^another cargo/p' "$0" >&2; }

# seconds TEXT: TEXT (e.g. 30m, 60s, 1h, 90) in whole seconds.
seconds() {
  [[ "$1" =~ ^([0-9]+)([smh]?)$ ]] || return 1
  local n=$((10#${BASH_REMATCH[1]}))
  case "${BASH_REMATCH[2]}" in
    h) echo $((n * 3600)) ;;
    m) echo $((n * 60)) ;;
    *) echo "$n" ;;
  esac
}

duration=30m
interval=60s
warmup=10s
rate=""
percent=70
profile=release
out=target/soak
connections=32
workers=1
campaigns=bundled
while [ $# -gt 0 ]; do
  case "$1" in
    --duration | --interval | --warmup | --rate | --percent | --profile | --out | --connections | --workers | --campaigns)
      if [ $# -lt 2 ]; then
        usage
        exit 2
      fi
      value=$2
      case "$1" in
        --duration) duration=$value ;;
        --interval) interval=$value ;;
        --warmup) warmup=$value ;;
        --rate) rate=$value ;;
        --percent) percent=$value ;;
        --profile) profile=$value ;;
        --out) out=$value ;;
        --connections) connections=$value ;;
        --workers) workers=$value ;;
        --campaigns) campaigns=$value ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "soak: unknown argument $1" >&2
      usage
      exit 2
      ;;
  esac
done

bad() {
  echo "soak: $*" >&2
  exit 2
}
duration_s=$(seconds "$duration") || bad "--duration $duration is not a time (e.g. 30m)"
interval_s=$(seconds "$interval") || bad "--interval $interval is not a time (e.g. 60s)"
warmup_s=$(seconds "$warmup") || bad "--warmup $warmup is not a time (e.g. 10s)"
[ "$interval_s" -ge 1 ] || bad "--interval must be at least 1 s"
# Growth is judged between the first and the last third of the intervals.
[ $((duration_s / interval_s)) -ge 3 ] || bad "--duration must hold at least 3 intervals"
case "$profile" in
  release) build_flags=(--release) ;;
  debug) build_flags=() ;;
  *) bad "--profile is release or debug" ;;
esac
case "$campaigns" in
  bundled | generated) ;;
  *) bad "--campaigns is bundled or generated" ;;
esac
if [ -n "$rate" ] && ! [[ "$rate" =~ ^[1-9][0-9]*$ ]]; then
  bad "--rate is a whole number of requests/s"
fi
if ! [[ "$percent" =~ ^[1-9][0-9]?$|^100$ ]]; then
  bad "--percent is 1 to 100"
fi

# Growth bounds (see judge).
FD_SLACK=8
THREAD_SLACK=2
RSS_SLACK_KIB=$((8 * 1024))
RSS_SLACK_PERCENT=10

"${CARGO:-cargo}" build "${build_flags[@]}" --locked -p bidder -p tern-benches --bins

bin=target/$profile
mkdir -p "$out"
md=$out/soak.md
work=$(mktemp -d)
bidder_pid=""
loadgen_pid=""
cleanup() {
  local pid
  for pid in "$loadgen_pid" "$bidder_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The bidder on CPU 0 and loadgen on CPU 1, as benches/run.sh measures, when the
# machine has two CPUs and taskset; otherwise wherever the scheduler puts them.
bidder_pin=()
loadgen_pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  bidder_pin=(taskset -c 0)
  loadgen_pin=(taskset -c 1)
fi

"$bin/tern-corpus" --out "$work/corpus" --requests 200 --campaigns 1000 >/dev/null
campaign_args=()
if [ "$campaigns" = generated ]; then
  campaign_args=(--campaigns "$work/corpus/campaigns.json")
fi

bid_url=""
admin_url=""
# start_bidder: starts a fresh bidder on free ports; sets bidder_pid, bid_url and
# admin_url once it printed its ready line.
start_bidder() {
  rm -rf "$work/events"
  TERN_EVENTS__FILE__DIR="$work/events" TERN_SERVER__PIN_WORKERS=false RUST_LOG=warn \
    "${bidder_pin[@]}" "$bin/bidder" --bid-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
    --workers "$workers" "${campaign_args[@]}" >"$work/bidder.out" 2>>"$out/bidder.err" &
  bidder_pid=$!
  local line=""
  for _ in $(seq 1 200); do
    line=$(sed -n 's/^tern bidder ready: //p' "$work/bidder.out")
    [ -n "$line" ] && break
    if ! kill -0 "$bidder_pid" 2>/dev/null; then
      echo "soak: the bidder exited before it was ready; see $out/bidder.err" >&2
      exit 1
    fi
    sleep 0.05
  done
  [ -n "$line" ] || {
    echo "soak: the bidder did not print its ready line in 10 s" >&2
    exit 1
  }
  bid_url=$(sed -n 's/.*bid=\([^ ]*\).*/\1/p' <<<"$line")
  admin_url=$(sed -n 's/.*admin=\([^ ]*\).*/\1/p' <<<"$line")
}

stop_bidder() {
  stop_process "$bidder_pid" 10
  bidder_pid=""
}

metrics() { curl -fsS --max-time 5 "$admin_url/metrics" >"$1" 2>/dev/null || echo "(not read)" >"$1"; }

: >"$out/bidder.err"
start_bidder
capacity=""
if [ -z "$rate" ]; then
  echo "soak: measuring capacity (loadgen flat out, $connections connections, 1 s + 4 s)"
  "${loadgen_pin[@]}" "$bin/loadgen" --url "$bid_url" --bodies "$work/corpus/bodies" \
    --connections "$connections" --warmup-s 1 --duration-s 4 --server-pid "$bidder_pid" \
    --json "$work/capacity.json" | tee "$out/capacity.txt"
  capacity=$(sed -n 's/.*"throughput_rps": \([0-9.]*\).*/\1/p' "$work/capacity.json")
  rate=$(awk -v c="$capacity" -v p="$percent" 'BEGIN { printf "%.0f", c * p / 100 }')
  [ "$rate" -gt 0 ] || bad "measured no capacity"
  # A fresh process for the soak: what it grows to is its own doing.
  stop_bidder
  start_bidder
fi

{
  echo "# Soak: the bidder at $rate requests/s for $duration_s s"
  echo
  echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(uname -r); load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- bidder: $profile build, $workers worker(s), $campaigns campaigns, events to rotating files, no Redis or AWS$([ ${#bidder_pin[@]} -gt 0 ] && echo '; pinned to CPU 0, loadgen to CPU 1')"
  if [ -n "$capacity" ]; then
    echo "- rate: $rate requests/s = $percent% of the measured capacity, $(printf '%.0f' "$capacity") requests/s (loadgen flat out, $connections connections)"
  else
    echo "- rate: $rate requests/s (given)"
  fi
  echo "- load: loadgen, open loop, $connections keep-alive connections, 200 generated requests (~3.8 KB) in turn; ${warmup_s} s warm-up, then ${duration_s} s in intervals of ${interval_s} s"
  echo "- columns: elapsed after the warm-up; requests answered in the interval and their p99 and max latency from the time each was due (coordinated omission corrected); errors (broken connections, unparsable answers, statuses other than 200/204); then the bidder at the end of the interval: RSS (VmRSS), open file descriptors, threads, and its CPU time per request over the interval (from /proc clock ticks: ±10 ms per interval)"
  echo
  echo "| elapsed | answered | per s | bids | p99 | max | errors | RSS MiB | fds | threads | CPU µs/req |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} | tee "$md"

# The events of all but the newest (open) file are deleted as the run goes, as a
# shipper would, so a long soak does not fill the disk; rotation still happens.
prune_events() {
  local files
  mapfile -t files < <(find "$work/events" -name 'events-*.ndjson' 2>/dev/null | sort)
  if [ "${#files[@]}" -gt 1 ]; then
    rm -f "${files[@]:0:${#files[@]}-1}"
  fi
}

# loadgen reads the bidder (VmRSS, /proc/PID/fd, threads, CPU time) as each
# interval ends, with its connections still open, and prints it on the line.
rss=()
fds=()
threads=()
bad_intervals=()
mkfifo "$work/lines"
"${loadgen_pin[@]}" "$bin/loadgen" --url "$bid_url" --bodies "$work/corpus/bodies" \
  --connections "$connections" --rate "$rate" --warmup-s "$warmup_s" \
  --duration-s "$duration_s" --interval-s "$interval_s" --server-pid "$bidder_pid" \
  >"$work/lines" 2>"$out/loadgen.err" &
loadgen_pid=$!
(sleep "$warmup_s" && metrics "$out/metrics-after-warmup.txt") &
: >"$out/loadgen.txt"
while IFS= read -r line; do
  echo "$line" >>"$out/loadgen.txt"
  if [[ "$line" != "interval "* ]]; then
    continue
  fi
  prune_events
  unset f
  declare -A f=()
  for pair in ${line#interval }; do
    f[${pair%%=*}]=${pair#*=}
  done
  if [ -z "${f[server_rss_kib]:-}" ]; then
    echo "soak: the bidder could not be read (gone?) at interval ${f[index]}; see $out/bidder.err" | tee -a "$md" >&2
    bad_intervals+=("${f[index]} (bidder gone)")
    continue
  fi
  errors=$((f[errors] + f[status_other]))
  rss+=("${f[server_rss_kib]}")
  fds+=("${f[server_fds]}")
  threads+=("${f[server_threads]}")
  if [ "$errors" -gt 0 ] || [ "${f[responses]}" -eq 0 ]; then
    bad_intervals+=("${f[index]}")
  fi
  awk -v end="${f[end_s]}" -v len="${f[length_s]}" -v n="${f[responses]}" -v bids="${f[status_200]}" \
    -v p99="${f[p99_us]}" -v max="${f[max_us]}" -v err="$errors" -v rss="${f[server_rss_kib]}" \
    -v fds="${f[server_fds]}" -v thr="${f[server_threads]}" -v cpu="${f[server_cpu_us]}" '
    function lat(us) { return us >= 10000 ? sprintf("%.1f ms", us / 1000) : sprintf("%.0f µs", us) }
    BEGIN {
      s = int(end + 0.5)
      per = (n > 0) ? sprintf("%.1f", cpu / n) : "-"
      printf "| %d:%02d | %d | %.0f | %d | %s | %s | %d | %.1f | %d | %d | %s |\n",
        s / 60, s % 60, n, n / len, bids, lat(p99), lat(max), err, rss / 1024, fds, thr, per
    }' | tee -a "$md"
done <"$work/lines"
loadgen_rc=0
wait "$loadgen_pid" || loadgen_rc=$?
loadgen_pid=""
metrics "$out/metrics-end.txt"
stop_bidder

# judge: nothing may grow without bound. After the warm-up the bidder holds a
# fixed set of descriptors (listeners, the ring or epoll, stdio, the open event
# file, and one socket per loadgen connection, which loadgen keeps open) and a
# fixed set of threads; they may move by the event file's rotation or a
# reconnecting client, never by the amount of traffic. So the end may exceed the
# first interval by at most FD_SLACK (8) descriptors and THREAD_SLACK (2) threads.
# Memory settles less exactly: the event queues and batches fill and drain, and
# the allocator keeps freed pages for reuse, so RSS wanders by a few MB between
# intervals. The peak of the last third of the intervals may exceed the peak of
# the first third by at most RSS_SLACK_PERCENT (10%) or RSS_SLACK_KIB (8 MiB),
# whichever is larger: a leak of even one byte per request at tens of
# thousands of requests a second passes 8 MiB within a 30-minute soak's middle
# third, while the settling above stays inside it. Every interval must have
# answers and no errors.
n=${#rss[@]}
third=$((n / 3))
verdict=()
failed=false
fail() {
  verdict+=("**FAIL**: $*")
  failed=true
}
if [ "$loadgen_rc" -ne 0 ]; then
  fail "loadgen exited with status $loadgen_rc (see $out/loadgen.err)"
fi
if [ "$n" -lt 3 ]; then
  fail "only $n intervals were measured; growth needs at least 3"
else
  first_peak=$(printf '%s\n' "${rss[@]:0:third}" | sort -n | tail -1)
  last_peak=$(printf '%s\n' "${rss[@]:n-third}" | sort -n | tail -1)
  allowed=$((first_peak * RSS_SLACK_PERCENT / 100))
  if [ "$allowed" -lt "$RSS_SLACK_KIB" ]; then
    allowed=$RSS_SLACK_KIB
  fi
  rss_line="RSS peak $(awk -v k="$first_peak" 'BEGIN { printf "%.1f", k / 1024 }') MiB in the first third, $(awk -v k="$last_peak" 'BEGIN { printf "%.1f", k / 1024 }') MiB in the last ($(awk -v a="$first_peak" -v b="$last_peak" 'BEGIN { printf "%+.1f", (b - a) / 1024 }') MiB; allowed +$(awk -v k="$allowed" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
  if [ "$last_peak" -gt $((first_peak + allowed)) ]; then
    fail "$rss_line"
  else
    verdict+=("ok: $rss_line")
  fi
  fd_line="open fds ${fds[0]} after the first interval, ${fds[n - 1]} at the end (allowed +$FD_SLACK)"
  if [ "${fds[n - 1]}" -gt $((fds[0] + FD_SLACK)) ]; then
    fail "$fd_line"
  else
    verdict+=("ok: $fd_line")
  fi
  thread_line="threads ${threads[0]} after the first interval, ${threads[n - 1]} at the end (allowed +$THREAD_SLACK)"
  if [ "${threads[n - 1]}" -gt $((threads[0] + THREAD_SLACK)) ]; then
    fail "$thread_line"
  else
    verdict+=("ok: $thread_line")
  fi
fi
if [ "${#bad_intervals[@]}" -gt 0 ]; then
  fail "intervals with errors or no answers: ${bad_intervals[*]}"
else
  verdict+=("ok: every interval answered, without errors")
fi
dropped=$(sed -n 's/^tern_events_dropped_total\(.*\)\{0,1\} \([0-9.e+]*\)$/\2/p' "$out/metrics-end.txt" |
  awk '{ s += $1 } END { printf "%.0f", s }')
verdict+=("events dropped by the bidder over the run: $dropped (tern_events_dropped_total; information, not judged)")

{
  echo
  if [ "$failed" = true ]; then
    echo "Verdict: **failed**, something grew or broke:"
  else
    echo "Verdict: **passed**, nothing grew without bound:"
  fi
  echo
  printf -- '- %s\n' "${verdict[@]}"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "loadgen over the whole run:"
  echo
  echo '```'
  grep -v '^interval ' "$out/loadgen.txt" || true
  echo '```'
} | tee -a "$md"

[ "$failed" = false ]
