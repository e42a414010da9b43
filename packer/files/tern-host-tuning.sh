#!/usr/bin/env bash
# tern-host-tuning: boot-time host settings for the bidder (tern-host-tuning.service).
#   - ENA interrupts go to the housekeeping CPUs (0..TERN_HOUSEKEEPING_CPUS-1), so
#     the bidder's cores only see their own work (and busy-poll their queues);
#   - cpufreq governor set where the instance exposes cpufreq;
#   - transparent huge pages policy.
# Idempotent: it writes the same values every boot. TERN_SYSFS/TERN_PROCFS point it
# at a fake tree in tests.
set -euo pipefail

sysfs="${TERN_SYSFS:-/sys}"
procfs="${TERN_PROCFS:-/proc}"
housekeeping="${TERN_HOUSEKEEPING_CPUS:-1}"
thp_enabled="${TERN_THP_ENABLED:-madvise}"
thp_defrag="${TERN_THP_DEFRAG:-defer+madvise}"
governor="${TERN_CPU_GOVERNOR:-performance}"

log() {
  printf 'tern-host-tuning: %s\n' "$*"
}

[[ "${housekeeping}" =~ ^[1-9][0-9]*$ ]] \
  || { log "TERN_HOUSEKEEPING_CPUS must be a positive integer, got '${housekeeping}'"; exit 1; }

# Highest online CPU number, from e.g. "0-7" or "0,2-5".
online="$(cat "${sysfs}/devices/system/cpu/online")"
last_cpu="${online##*[-,]}"
if (( housekeeping > last_cpu )); then
  housekeeping_list="0-${last_cpu}"
else
  housekeeping_list="0-$(( housekeeping - 1 ))"
fi

# 1. ENA IRQ affinity.
irqs=0
for dev in "${sysfs}"/class/net/*; do
  [[ -e "${dev}/device/driver" ]] || continue
  driver="$(basename "$(readlink -f "${dev}/device/driver")")"
  [[ "${driver}" == "ena" ]] || continue
  for irq_path in "${dev}"/device/msi_irqs/*; do
    [[ -e "${irq_path}" ]] || continue
    irq="$(basename "${irq_path}")"
    if [[ -w "${procfs}/irq/${irq}/smp_affinity_list" ]]; then
      printf '%s\n' "${housekeeping_list}" >"${procfs}/irq/${irq}/smp_affinity_list"
      irqs=$(( irqs + 1 ))
    fi
  done
done
log "ENA IRQs pinned to CPUs ${housekeeping_list}: ${irqs}"

# 2. CPU governor (absent on most Graviton instance types: nothing to do then).
governors=0
for gov in "${sysfs}"/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
  [[ -e "${gov}" ]] || continue
  available="$(cat "$(dirname "${gov}")/scaling_available_governors" 2>/dev/null || true)"
  if [[ " ${available} " == *" ${governor} "* ]]; then
    printf '%s\n' "${governor}" >"${gov}"
    governors=$(( governors + 1 ))
  fi
done
log "cpufreq governor ${governor} on ${governors} CPUs"

# 3. Transparent huge pages.
thp="${sysfs}/kernel/mm/transparent_hugepage"
if [[ -w "${thp}/enabled" ]]; then
  printf '%s\n' "${thp_enabled}" >"${thp}/enabled"
  printf '%s\n' "${thp_defrag}" >"${thp}/defrag"
  log "THP enabled=${thp_enabled} defrag=${thp_defrag}"
else
  log "THP not available"
fi
