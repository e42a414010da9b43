#!/usr/bin/env bash
# Runs a whole Tern fleet on this machine: moto (DynamoDB), the tables, the control
# plane, and two bidders on the DynamoDB campaign source sharing one spend ledger.
# Prints the curl lines to create a campaign through the control plane and see
# both bidders bid on it. Ctrl-C stops everything.
#
# Usage: scripts/local-fleet.sh           build (release), start, wait for Ctrl-C
#        scripts/local-fleet.sh --check   start, run the printed steps, stop:
#                                         exits 0 only if both bidders bid
# Environment: PROFILE=debug uses debug builds (faster to build);
#              FLEET_DIR (default ./local-fleet) keeps state and logs.
set -euo pipefail

cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
fi
profile="${PROFILE:-release}"
dir="${FLEET_DIR:-local-fleet}"
moto_port=4566
api=127.0.0.1:7070
bidders=("127.0.0.1:8080 127.0.0.1:9090" "127.0.0.1:8081 127.0.0.1:9091")

if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server] (the AWS emulator) from PyPI"
  python3 -m pip install --quiet 'moto[server]>=5,<6'
fi

echo "building bidder and control-plane ($profile)"
if [ "$profile" = release ]; then
  cargo build --release --locked -p bidder -p control-plane
else
  cargo build --locked -p bidder -p control-plane
fi
bin="target/$profile"

for port in "$moto_port" "${api##*:}" 8080 9090 8081 9091; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what listens there first" >&2
    exit 1
  fi
done

mkdir -p "$dir"
pids=()
# Stops in reverse order of start: the bidders give their leases back to the
# ledger before moto goes.
stop() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop EXIT

# Wait until $1 (host:port) accepts connections, or fail after 30 s.
wait_port() {
  local host="${1%:*}" port="${1##*:}"
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "nothing listens on $1; see $dir/*.log" >&2
  return 1
}

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
export AWS_EC2_METADATA_DISABLED=true

moto_server -H 127.0.0.1 -p "$moto_port" >"$dir/moto.log" 2>&1 &
pids+=($!)
wait_port "127.0.0.1:$moto_port"
"$bin/control-plane" create-tables

key="tern-local-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY="$key" \
  "$bin/control-plane" --listen "$api" >"$dir/control-plane.log" 2>&1 &
pids+=($!)
wait_port "$api"

n=0
for pair in "${bidders[@]}"; do
  n=$((n + 1))
  read -r bid admin <<<"$pair"
  TERN_CAMPAIGNS__SOURCE=dynamodb \
    TERN_BUDGET__LEDGER=dynamodb \
    TERN_BUDGET__STATE_DIR="$dir/bidder-$n" \
    TERN_BUDGET__BIDDER_ID="local-bidder-$n" \
    TERN_EVENTS__FILE__DIR="$dir/bidder-$n/events" \
    "$bin/bidder" --bid-addr "$bid" --admin-addr "$admin" --workers 1 \
    >"$dir/bidder-$n.log" 2>&1 &
  pids+=($!)
  wait_port "$bid"
done

campaign='{"id": "local-shoes", "advertiser_id": "acme", "advertiser_domain": "shoes.example",
  "bidding": {"max_cpm": 3.0, "base_bid": 1.5},
  "budget": {"daily": 50.0, "timezone": "America/New_York"},
  "creatives": [{"id": "shoes-300x250", "banner": {"w": 300, "h": 250},
                 "adm": "<a href=\"https://shoes.example\">shoes</a>"}]}'
request='{"id": "r1", "imp": [{"id": "1", "banner": {"w": 300, "h": 250}}]}'

cat <<EOF

Tern local fleet is up (logs and state in $dir/):
  moto (DynamoDB)   $AWS_ENDPOINT_URL
  control plane     http://$api   (OpenAPI: /openapi.json)
  bidder 1          http://127.0.0.1:8080/openrtb2/bid   admin http://127.0.0.1:9090
  bidder 2          http://127.0.0.1:8081/openrtb2/bid   admin http://127.0.0.1:9091

Bootstrap operator key (this run only):
  export TERN_KEY=$key

Create a campaign through the control plane:
  curl -s -X POST http://$api/v1/campaigns -H "Authorization: Bearer \$TERN_KEY" \\
    -H 'Content-Type: application/json' -d '$(tr -d '\n' <<<"$campaign" | tr -s ' ')'

Within a second or two both bidders bid on it:
  curl -s http://127.0.0.1:8080/openrtb2/bid -H 'Content-Type: application/json' -d '$request'
  curl -s http://127.0.0.1:8081/openrtb2/bid -H 'Content-Type: application/json' -d '$request'

Pause it (If-Match: its ETag, the version the create answered) and they stop:
  curl -s -X POST http://$api/v1/campaigns/local-shoes/pause -H "Authorization: Bearer \$TERN_KEY" -H 'If-Match: "1"'

Its spend and pacing, from the fleet's ledger:
  curl -s http://$api/v1/campaigns/local-shoes/status -H "Authorization: Bearer \$TERN_KEY"
EOF

if [ "$check" = false ]; then
  echo
  echo "Ctrl-C stops the fleet."
  wait
  exit 0
fi

echo
echo "==> --check: running the steps above"
created=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://$api/v1/campaigns" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$campaign")
[ "$created" = 201 ] || { echo "create answered $created" >&2; exit 1; }
for port in 8080 8081; do
  ok=false
  for _ in $(seq 100); do
    status=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/openrtb2/bid" \
      -H 'Content-Type: application/json' -d "$request")
    if [ "$status" = 200 ]; then
      ok=true
      break
    fi
    sleep 0.1
  done
  [ "$ok" = true ] || { echo "the bidder on $port never bid" >&2; exit 1; }
  echo "bidder on $port bids on the campaign made through the control plane"
done
paused=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://$api/v1/campaigns/local-shoes/pause" \
  -H "Authorization: Bearer $key" -H 'If-Match: "1"')
[ "$paused" = 200 ] || { echo "pause answered $paused" >&2; exit 1; }
curl -sS "http://$api/v1/campaigns/local-shoes/status" -H "Authorization: Bearer $key" | grep -q '"budget_day"'
echo "local fleet check passed"
