#!/usr/bin/env bash
# The dedicated, login-less system users the services run as, tern (the bidder)
# and tern-cp (the control plane), declared through sysusers.d so that they are
# created identically at build time and are never edited twice. Directories the
# bidder writes are systemd-managed (StateDirectory=, LogsDirectory=,
# RuntimeDirectory= in bidder.service); the control plane writes none.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_file "${TERN_FILES}/sysusers-tern.conf" /etc/sysusers.d/tern.conf 0644
if live_root; then
  systemd-sysusers /etc/sysusers.d/tern.conf
else
  install -d "${TERN_ROOT}/etc"
  for db in passwd group; do
    [[ -e "${TERN_ROOT}/etc/${db}" ]] || : >"${TERN_ROOT}/etc/${db}"
  done
  systemd-sysusers --root="${TERN_ROOT}" "${TERN_ROOT}/etc/sysusers.d/tern.conf"
fi
install -d -m 0755 "${TERN_ROOT}/etc/tern"
log "users tern and tern-cp present"
