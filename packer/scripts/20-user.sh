#!/usr/bin/env bash
# The dedicated, login-less system user the bidder runs as, declared through
# sysusers.d so that it is created identically at build time and is never edited
# twice. Directories the service writes are systemd-managed (StateDirectory=,
# LogsDirectory=, RuntimeDirectory= in bidder.service).
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
log "user tern present"
