# shellcheck shell=bash
# Helpers shared by the image scripts (sourced, never run).
#
# TERN_ROOT       filesystem root to install into: "/" on the build instance, a
#                 throwaway directory when scripts/check-infra.sh runs these scripts
#                 on a developer machine or in CI.
# TERN_IMAGE_DIR  where Packer uploaded files/ and scripts/ (default: packer/).
#
# Every step is idempotent: files are only rewritten when their content changes,
# users come from sysusers.d, units are enabled with `systemctl --root`.

TERN_ROOT="${TERN_ROOT:-/}"
TERN_ROOT="${TERN_ROOT%/}"
TERN_IMAGE_DIR="${TERN_IMAGE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TERN_FILES="${TERN_IMAGE_DIR}/files"
export TERN_ROOT TERN_IMAGE_DIR TERN_FILES

log() {
  printf '[tern-image] %s\n' "$*"
}

die() {
  printf '[tern-image] error: %s\n' "$*" >&2
  exit 1
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# True when installing into the running system (the Packer build instance).
live_root() {
  [[ -z "${TERN_ROOT}" ]]
}

# install_file SRC DEST MODE: copy SRC to ${TERN_ROOT}DEST unless identical.
install_file() {
  local src="$1" dest="${TERN_ROOT}$2" mode="$3"
  [[ -f "${src}" ]] || die "missing source file ${src}"
  if [[ -f "${dest}" ]] && cmp -s "${src}" "${dest}"; then
    chmod "${mode}" "${dest}"
    log "unchanged ${2}"
    return 0
  fi
  install -D -m "${mode}" "${src}" "${dest}"
  log "installed ${2}"
}

# systemctl_root ARGS...: systemctl on the target root; works without a running
# systemd because --root only edits symlinks.
systemctl_root() {
  if live_root; then
    systemctl "$@"
  else
    systemctl --root="${TERN_ROOT}" "$@"
  fi
}
