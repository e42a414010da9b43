#!/usr/bin/env bash
# ExecStop for bidder.service: send the bidder SIGTERM (it reports not-ready for
# TERN_SHUTDOWN__UNREADY_DELAY_MS while still serving, finishes in-flight requests
# and exits 0 within TERN_SHUTDOWN__DRAIN_TIMEOUT_MS) and wait for it to exit, up
# to unready delay + drain + STOP_GRACE_MS. Returning while the
# process is still alive would let systemd escalate early; past the deadline this
# returns and TimeoutStopSec / SIGKILL take over.
set -euo pipefail

pid="${1:-}"
drain_ms="${TERN_SHUTDOWN__DRAIN_TIMEOUT_MS:-10000}"
unready_ms="${TERN_SHUTDOWN__UNREADY_DELAY_MS:-0}"
grace_ms="${STOP_GRACE_MS:-5000}"

if [[ -z "${pid}" ]] || ! kill -0 "${pid}" 2>/dev/null; then
  echo "tern-drain-stop: bidder not running"
  exit 0
fi
[[ "${drain_ms}" =~ ^[0-9]+$ && "${unready_ms}" =~ ^[0-9]+$ && "${grace_ms}" =~ ^[0-9]+$ ]] \
  || { echo "tern-drain-stop: unready/drain/grace must be milliseconds" >&2; exit 1; }

now_ms() {
  local ns
  ns="$(date +%s%N)"
  printf '%s\n' $(( ns / 1000000 ))
}

start="$(now_ms)"
budget_ms=$(( unready_ms + drain_ms + grace_ms ))
deadline=$(( start + budget_ms ))
kill -TERM "${pid}" 2>/dev/null || exit 0
while kill -0 "${pid}" 2>/dev/null; do
  if (( $(now_ms) >= deadline )); then
    echo "tern-drain-stop: bidder ${pid} still running after ${budget_ms} ms"
    exit 0
  fi
  sleep 0.05
done
echo "tern-drain-stop: bidder ${pid} drained in $(( $(now_ms) - start )) ms"
