#!/usr/bin/env bash
# Leaves the image clean for its first boot: package caches, upload directory,
# cloud-init state (so user data runs on every instance). Build instance only.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

if ! live_root; then
  log "cleanup: nothing to clean outside the build instance"
  exit 0
fi
have dnf && dnf clean all
have cloud-init && cloud-init clean --logs
rm -rf "${TERN_IMAGE_DIR}" /opt/cargo /opt/rustup
log "image cleaned"
