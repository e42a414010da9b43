# shellcheck shell=bash
# Shell helpers shared by the benchmark and profiling scripts (benches/run.sh,
# benches/soak.sh, perf/callgrind.sh). Sourced, not run.

# stop_process PID SECONDS: asks PID to stop (SIGTERM), waits up to SECONDS for
# it to exit, then kills it (SIGKILL) and reaps it. Never fails.
stop_process() {
  local pid=$1 seconds=$2
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 20))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
