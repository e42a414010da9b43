#!/usr/bin/env bash
# Installs /usr/local/bin/bidder and its base config from the uploaded artifact,
# which is either
#   - a prebuilt aarch64 ELF binary (checked: ELF magic and e_machine = AArch64), or
#   - a gzip source tarball of the repository (`git archive --format=tar.gz HEAD`),
#     built here with cargo --release --locked on the Graviton build instance.
# Anything else is refused. Installing the same binary twice changes nothing.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

artifact="${TERN_BIDDER_ARTIFACT:-${TERN_IMAGE_DIR}/bidder-artifact}"
toolchain="${TERN_RUST_TOOLCHAIN:-stable}"
[[ -f "${artifact}" ]] || die "bidder artifact not found: ${artifact}"

magic="$(od -An -tx1 -N4 "${artifact}" | tr -d ' \n')"

# elf_machine FILE: the ELF e_machine field (little endian) as 4 hex digits.
elf_machine() {
  od -An -tx1 -j18 -N2 "$1" | awk '{print $2 $1}'
}

build_from_source() {
  local tarball="$1" work
  [[ "$(uname -m)" == "aarch64" ]] \
    || die "source builds run on the Graviton build instance (this is $(uname -m)); pass a prebuilt aarch64 binary instead"
  work="$(mktemp -d)"
  tar -xzf "${tarball}" -C "${work}"
  [[ -f "${work}/Cargo.toml" ]] || die "source tarball has no Cargo.toml at its top"
  if ! have cargo; then
    have dnf && dnf -y -q install gcc make
    export RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
      | sh -s -- -y --profile minimal --default-toolchain "${toolchain}" --no-modify-path
    export PATH="/opt/cargo/bin:${PATH}"
  fi
  (cd "${work}" && cargo build --release --locked -p bidder) >&2
  printf '%s\n' "${work}/target/release/bidder"
}

case "${magic}" in
  7f454c46)
    machine="$(elf_machine "${artifact}")"
    [[ "${machine}" == "00b7" ]] \
      || die "bidder artifact is an ELF for machine 0x${machine}, not AArch64 (0x00b7)"
    binary="${artifact}"
    log "artifact is a prebuilt aarch64 binary"
    ;;
  1f8b*)
    log "artifact is a source tarball; building with cargo (${toolchain})"
    binary="$(build_from_source "${artifact}")"
    ;;
  *)
    die "bidder artifact is neither an ELF binary nor a gzip source tarball: ${artifact}"
    ;;
esac

install_file "${binary}" /usr/local/bin/bidder 0755
install_file "${TERN_FILES}/bidder.toml" /etc/tern/bidder.toml 0644
