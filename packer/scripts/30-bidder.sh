#!/usr/bin/env bash
# Installs /usr/local/bin/bidder and its base config from the uploaded artifact,
# which is either
#   - a prebuilt aarch64 ELF binary (checked: ELF magic and e_machine = AArch64), or
#   - a gzip source tarball of the repository (`git archive --format=tar.gz HEAD`),
#     built here with cargo --release --locked on the Graviton build instance.
# Anything else is refused (install_release_binary in lib.sh, shared with
# 35-control-plane.sh). Installing the same binary twice changes nothing.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_release_binary bidder "${TERN_BIDDER_ARTIFACT:-${TERN_IMAGE_DIR}/bidder-artifact}" /usr/local/bin/bidder
install_file "${TERN_FILES}/bidder.toml" /etc/tern/bidder.toml 0644
