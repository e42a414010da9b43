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

# elf_machine FILE: the ELF e_machine field (little endian) as 4 hex digits.
elf_machine() {
  od -An -tx1 -j18 -N2 "$1" | awk '{print $2 $1}'
}

# build_from_source TARBALL PACKAGE: builds cargo package PACKAGE (release, locked)
# from a source tarball of the repository on the Graviton build instance and prints
# the binary's path. Every package built from one tarball shares one unpacked tree
# and target directory under TERN_IMAGE_DIR (named by the tarball's hash), so the
# second package (the bidder, then the control plane) reuses the first one's
# dependencies; 90-cleanup.sh removes it with the upload directory.
build_from_source() {
  local tarball="$1" package="$2" toolchain="${TERN_RUST_TOOLCHAIN:-stable}" work
  [[ "$(uname -m)" == "aarch64" ]] \
    || die "source builds run on the Graviton build instance (this is $(uname -m)); pass a prebuilt aarch64 binary instead"
  work="${TERN_IMAGE_DIR}/build/$(sha256sum "${tarball}" | cut -c1-16)"
  if [[ ! -f "${work}/Cargo.toml" ]]; then
    install -d "${work}"
    tar -xzf "${tarball}" -C "${work}"
    [[ -f "${work}/Cargo.toml" ]] || die "source tarball has no Cargo.toml at its top"
  fi
  # A toolchain installed by an earlier script of this build is reused.
  if [[ -x /opt/cargo/bin/cargo ]]; then
    export RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo PATH="/opt/cargo/bin:${PATH}"
  fi
  if ! have cargo; then
    have dnf && dnf -y -q install gcc make
    export RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --profile minimal --default-toolchain "${toolchain}" --no-modify-path
    export PATH="/opt/cargo/bin:${PATH}"
  fi
  (cd "${work}" && cargo build --release --locked -p "${package}") >&2
  printf '%s\n' "${work}/target/release/${package}"
}

# install_release_binary PACKAGE ARTIFACT DEST: installs the release binary of
# cargo package PACKAGE at ${TERN_ROOT}DEST (0755) from ARTIFACT, which is either
#   - a prebuilt aarch64 ELF binary (checked: ELF magic and e_machine = AArch64), or
#   - a gzip source tarball of the repository (`git archive --format=tar.gz HEAD`),
#     built with cargo --release --locked -p PACKAGE on the Graviton build instance.
# Anything else is refused. Installing the same binary twice changes nothing.
install_release_binary() {
  local package="$1" artifact="$2" dest="$3" magic machine binary
  [[ -f "${artifact}" ]] || die "${package} artifact not found: ${artifact}"
  magic="$(od -An -tx1 -N4 "${artifact}" | tr -d ' \n')"
  case "${magic}" in
    7f454c46)
      machine="$(elf_machine "${artifact}")"
      [[ "${machine}" == "00b7" ]] \
        || die "${package} artifact is an ELF for machine 0x${machine}, not AArch64 (0x00b7)"
      binary="${artifact}"
      log "${package} artifact is a prebuilt aarch64 binary"
      ;;
    1f8b*)
      log "${package} artifact is a source tarball; building with cargo (${TERN_RUST_TOOLCHAIN:-stable})"
      binary="$(build_from_source "${artifact}" "${package}")"
      ;;
    *)
      die "${package} artifact is neither an ELF binary nor a gzip source tarball: ${artifact}"
      ;;
  esac
  install_file "${binary}" "${dest}" 0755
}
