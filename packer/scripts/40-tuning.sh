#!/usr/bin/env bash
# Latency tuning and the service itself:
#   sysctls (backlog, somaxconn, busy polling, TCP buffers) in sysctl.d;
#   tern-host-tuning.service at boot: ENA IRQs to housekeeping cores, CPU governor,
#     transparent huge pages policy (settings in /etc/tern/host.env);
#   a systemd generator that gives bidder.service CPUAffinity = the other cores;
#   bidder.service (hardened, drains on stop) installed but not enabled: user data
#     enables it after writing the deployment's config; irqbalance masked.
set -euo pipefail
# Packer uploads each script on its own; lib.sh comes with the scripts/ upload.
# shellcheck source=SCRIPTDIR/lib.sh
source "${TERN_IMAGE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}/scripts/lib.sh"

install_file "${TERN_FILES}/90-tern-latency.conf" /etc/sysctl.d/90-tern-latency.conf 0644
install_file "${TERN_FILES}/host.env" /etc/tern/host.env 0644
install_file "${TERN_FILES}/tern-host-tuning.sh" /usr/local/lib/tern/tern-host-tuning 0755
install_file "${TERN_FILES}/tern-drain-stop.sh" /usr/local/lib/tern/tern-drain-stop 0755
install_file "${TERN_FILES}/tern-cpu-affinity-generator.sh" \
  /etc/systemd/system-generators/tern-cpu-affinity-generator 0755
install_file "${TERN_FILES}/tern-host-tuning.service" /etc/systemd/system/tern-host-tuning.service 0644
install_file "${TERN_FILES}/bidder.service" /etc/systemd/system/bidder.service 0644

systemctl_root mask irqbalance.service
systemctl_root enable tern-host-tuning.service
log "tuning and units installed"
