#!/usr/bin/env bash
# Packages the bidder host needs: the CloudWatch agent (scrapes /metrics), ethtool
# (ENA inspection), the AWS CLI (the user data reads the fleet's secrets with it at
# boot; AL2023 ships it, this keeps it a stated dependency), and irqbalance removed
# from the boot path (tern-host-tuning owns IRQ placement). Only the live build
# instance has dnf; elsewhere this is a no-op.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

if ! live_root || ! have dnf; then
  log "packages: not on the build instance (no dnf or TERN_ROOT set), skipping dnf"
  exit 0
fi

dnf -y -q upgrade --refresh
dnf -y -q install amazon-cloudwatch-agent awscli-2 ethtool jq
log "packages installed"
