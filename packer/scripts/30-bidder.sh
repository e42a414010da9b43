#!/usr/bin/env bash
# Installs /usr/local/bin/bidder and its base config from the uploaded artifact,
# which is either
#   - a prebuilt aarch64 ELF binary (checked: ELF magic and e_machine = AArch64), or
#   - a gzip source tarball of the repository (`git archive --format=tar.gz HEAD`),
#     built here with cargo --release --locked on the Graviton build instance.
# Anything else is refused (install_release_binary in lib.sh, shared with
# 35-control-plane.sh). Installing the same binary twice changes nothing.
# Also the segments loader's units: tern-segments-load.service (runs `bidder
# segments load` as the bidder's user, with its config and env file) and its
# timer, installed but not enabled: the fleet's user data enables the timer only
# when it configures a segments prefix and Redis. tern-segments-configured is the
# service's ExecCondition (skip when TERN_SEGMENTS__S3_URI is empty).
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_release_binary bidder "${TERN_BIDDER_ARTIFACT:-${TERN_IMAGE_DIR}/bidder-artifact}" /usr/local/bin/bidder
install_file "${TERN_FILES}/bidder.toml" /etc/tern/bidder.toml 0644
install_file "${TERN_FILES}/tern-segments-configured.sh" /usr/local/lib/tern/tern-segments-configured 0755
install_file "${TERN_FILES}/tern-segments-load.service" /etc/systemd/system/tern-segments-load.service 0644
install_file "${TERN_FILES}/tern-segments-load.timer" /etc/systemd/system/tern-segments-load.timer 0644
log "bidder installed (tern-segments-load.timer left for user data to enable)"
