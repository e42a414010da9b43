#!/usr/bin/env bash
# ExecStop for bidder.service: send the bidder SIGTERM (it turns not-ready, finishes
# in-flight requests and exits 0) and wait for it to exit, up to
# TERN_SHUTDOWN__DRAIN_TIMEOUT_MS plus TERN_STOP_GRACE_MS. Returning while the
# process is still alive would let systemd escalate early; past the deadline this
# returns and TimeoutStopSec / SIGKILL take over.
set -euo pipefail

pid="${1:-}"
drain_ms="${TERN_SHUTDOWN__DRAIN_TIMEOUT_MS:-10000}"
grace_ms="${TERN_STOP_GRACE_MS:-5000}"

if [[ -z "${pid}" ]] || ! kill -0 "${pid}" 2>/dev/null; then
  echo "tern-drain-stop: bidder not running"
  exit 0
fi
[[ "${drain_ms}" =~ ^[0-9]+$ && "${grace_ms}" =~ ^[0-9]+$ ]] \
  || { echo "tern-drain-stop: drain/grace must be milliseconds" >&2; exit 1; }

now_ms() {
  local ns
  ns="$(date +%s%N)"
  printf '%s\n' $(( ns / 1000000 ))
}

start="$(now_ms)"
deadline=$(( start + drain_ms + grace_ms ))
kill -TERM "${pid}" 2>/dev/null || exit 0
while kill -0 "${pid}" 2>/dev/null; do
  if (( $(now_ms) >= deadline )); then
    echo "tern-drain-stop: bidder ${pid} still running after $(( drain_ms + grace_ms )) ms"
    exit 0
  fi
  sleep 0.05
done
echo "tern-drain-stop: bidder ${pid} drained in $(( $(now_ms) - start )) ms"
