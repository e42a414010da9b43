#!/usr/bin/env bash
# CloudWatch agent templates: Prometheus scrape of the bidder's admin /metrics,
# turned into embedded-metric-format logs under the Tern/Bidder namespace. The
# fleet name and log group are only known per deployment, so user data runs
# /usr/local/lib/tern/tern-configure-cloudwatch-agent to render and start it.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_file "${TERN_FILES}/cloudwatch-agent.json.tmpl" /opt/tern/cloudwatch/cloudwatch-agent.json.tmpl 0644
install_file "${TERN_FILES}/prometheus.yaml.tmpl" /opt/tern/cloudwatch/prometheus.yaml.tmpl 0644
install_file "${TERN_FILES}/tern-configure-cloudwatch-agent.sh" \
  /usr/local/lib/tern/tern-configure-cloudwatch-agent 0755
log "cloudwatch agent templates installed"
