#!/usr/bin/env bash
# Installs the control plane: /usr/local/bin/control-plane from its uploaded
# artifact (a prebuilt aarch64 ELF, or a source tarball built here with cargo
# --release --locked -p control-plane, in the same tree as the bidder's build when
# both artifacts are the same tarball), its base config /etc/tern/control-plane.toml
# and control-plane.service, installed but not enabled: the same AMI runs bidders
# and control-plane instances, and only the control plane's user data enables it
# after writing /etc/tern/control-plane.env. Its user, tern-cp, comes from
# 20-user.sh (sysusers.d).
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_release_binary control-plane \
  "${TERN_CONTROL_PLANE_ARTIFACT:-${TERN_IMAGE_DIR}/control-plane-artifact}" /usr/local/bin/control-plane
install_file "${TERN_FILES}/control-plane.toml" /etc/tern/control-plane.toml 0644
install_file "${TERN_FILES}/control-plane.service" /etc/systemd/system/control-plane.service 0644
log "control plane installed (control-plane.service left for user data to enable)"
