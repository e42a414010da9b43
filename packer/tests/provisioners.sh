#!/usr/bin/env bash
# Runs the AMI's provisioner scripts into a throwaway root directory, as far as
# they can run without EC2, and checks what they leave behind:
#   - install, run twice (idempotent: second run changes no file), refuse wrong
#     artifacts (x86 ELF, junk, source build off Graviton) for the bidder and the
#     control plane alike;
#   - systemd-analyze verify on the installed units, failing on ANY output;
#   - control-plane.service: hardened like bidder.service, its own user, installed
#     but not enabled, stop timeout above the drain;
#   - the segments loader (tern-segments-load.service + .timer): the bidder's user,
#     config and env file, low priority on the housekeeping CPUs, bounded, installed
#     but not enabled; its ExecCondition skips when no prefix is configured;
#   - the CPU affinity generator, the host tuning script (fake sysfs/procfs), the
#     drain-aware ExecStop, the CloudWatch agent renderer;
#   - sysctl keys exist in this kernel; the agent config selects every metric the
#     bidder exports; the config keys the image and the user data set are keys of
#     the bidder's and the control plane's example configs.
# Usage: packer/tests/provisioners.sh   (no root needed except for systemd-sysusers
# writing into the throwaway root, which works as any user owning it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packer_dir="$(cd "${here}/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tern-packer-test.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

passed=0
failed=0
ok() {
  passed=$(( passed + 1 ))
  printf '  ok   %s\n' "$*"
}
fail() {
  failed=$(( failed + 1 ))
  printf '  FAIL %s\n' "$*"
}
check() {
  local what="$1"
  shift
  if "$@"; then ok "${what}"; else fail "${what}"; fi
}

root="${work}/root"
mkdir -p "${root}"

# A minimal aarch64 ELF header (e_machine = 0xb7 at offset 18) stands in for the
# release binary, which cannot be built for arm64 here.
fake_elf="${work}/bidder-aarch64"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000' >"${fake_elf}"
head -c 64 /dev/zero >>"${fake_elf}"
# The control plane's stand-in differs from the bidder's, so each binary can be
# traced to its own artifact.
fake_cp_elf="${work}/control-plane-aarch64"
cp "${fake_elf}" "${fake_cp_elf}"
printf 'control-plane' >>"${fake_cp_elf}"

run_all() {
  local s
  for s in 10-packages 20-user 30-bidder 35-control-plane 40-tuning 50-cloudwatch-agent 90-cleanup; do
    TERN_ROOT="${root}" TERN_IMAGE_DIR="${packer_dir}" TERN_BIDDER_ARTIFACT="${fake_elf}" \
      TERN_CONTROL_PLANE_ARTIFACT="${fake_cp_elf}" bash "${packer_dir}/scripts/${s}.sh" || return 1
  done
}

tree_sum() {
  (cd "${root}" && find . -path ./usr/lib/systemd -prune -o -print0 | sort -z \
    | xargs -0 stat -c '%n %a %s %Y' | sha256sum)
}

echo "== provisioner scripts into ${root}"
check "first run of every provisioner script" run_all >"${work}/run1.log" 2>&1 \
  || cat "${work}/run1.log"
for f in /usr/local/bin/bidder /etc/tern/bidder.toml /etc/tern/host.env \
  /etc/sysctl.d/90-tern-latency.conf /etc/systemd/system/bidder.service \
  /etc/systemd/system/tern-host-tuning.service \
  /etc/systemd/system-generators/tern-cpu-affinity-generator \
  /usr/local/lib/tern/tern-host-tuning /usr/local/lib/tern/tern-drain-stop \
  /usr/local/lib/tern/tern-configure-cloudwatch-agent \
  /opt/tern/cloudwatch/cloudwatch-agent.json.tmpl /opt/tern/cloudwatch/prometheus.yaml.tmpl \
  /usr/local/bin/control-plane /etc/tern/control-plane.toml /etc/systemd/system/control-plane.service \
  /etc/systemd/system/tern-segments-load.service /etc/systemd/system/tern-segments-load.timer \
  /usr/local/lib/tern/tern-segments-configured; do
  check "installed ${f}" test -f "${root}${f}"
done
check "bidder binary is executable" test -x "${root}/usr/local/bin/bidder"
check "control-plane binary is executable" test -x "${root}/usr/local/bin/control-plane"
check "each binary comes from its own artifact" \
  bash -c "cmp -s '${fake_elf}' '${root}/usr/local/bin/bidder' && cmp -s '${fake_cp_elf}' '${root}/usr/local/bin/control-plane'"
check "system user tern exists, no login shell" \
  grep -q '^tern:x:[0-9]*:[0-9]*:[^:]*:/var/lib/tern:/usr/sbin/nologin$' "${root}/etc/passwd"
check "system user tern-cp exists, no login shell" \
  grep -q '^tern-cp:x:[0-9]*:[0-9]*:[^:]*:/:/usr/sbin/nologin$' "${root}/etc/passwd"
check "bidder.service left for user data to enable" test ! -e "${root}/etc/systemd/system/multi-user.target.wants/bidder.service"
check "control-plane.service left for its user data to enable" \
  bash -c "! compgen -G '${root}/etc/systemd/system/*.wants/control-plane.service' >/dev/null"
check "tern-segments-load timer and service left for user data to enable" \
  bash -c "! compgen -G '${root}/etc/systemd/system/*.wants/tern-segments-load.*' >/dev/null"
check "tern-segments-configured is executable" test -x "${root}/usr/local/lib/tern/tern-segments-configured"
check "tern-host-tuning.service enabled" \
  test -L "${root}/etc/systemd/system/multi-user.target.wants/tern-host-tuning.service"
check "irqbalance masked" test "$(readlink "${root}/etc/systemd/system/irqbalance.service")" = /dev/null

before="$(tree_sum)"
sleep 1
run_all >"${work}/run2.log" 2>&1 || true
check "second run succeeds and changes nothing (idempotent)" test "${before}" = "$(tree_sum)"
check "second run reports every file unchanged" bash -c "! grep -q '\] installed ' '${work}/run2.log'"

echo "== artifact checks"
# refuses SCRIPT ARTIFACT PATTERN: the install script (30-bidder or 35-control-plane)
# fails on ARTIFACT with a message matching PATTERN, and installs no binary.
refuses() {
  local script="$1" artifact="$2" pattern="$3" out
  rm -rf "${work}/reject-root"
  if out="$(TERN_ROOT="${work}/reject-root" TERN_IMAGE_DIR="${packer_dir}" TERN_BIDDER_ARTIFACT="${artifact}" \
    TERN_CONTROL_PLANE_ARTIFACT="${artifact}" bash "${packer_dir}/scripts/${script}.sh" 2>&1)"; then
    return 1
  fi
  grep -q "${pattern}" <<<"${out}" && ! compgen -G "${work}/reject-root/usr/local/bin/*" >/dev/null
}
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\076\000' >"${work}/x86.elf"
head -c 64 /dev/zero >>"${work}/x86.elf"
printf 'not a binary\n' >"${work}/junk"
if [[ "$(uname -m)" != aarch64 ]]; then
  mkdir -p "${work}/src"
  touch "${work}/src/Cargo.toml"
  tar -czf "${work}/src.tar.gz" -C "${work}/src" .
fi
for script in 30-bidder 35-control-plane; do
  check "${script}: refuses an x86_64 ELF" refuses "${script}" "${work}/x86.elf" "not AArch64"
  check "${script}: refuses an artifact that is neither ELF nor tarball" refuses "${script}" "${work}/junk" "neither an ELF"
  check "${script}: refuses a missing artifact" refuses "${script}" "${work}/missing" "not found"
  if [[ "$(uname -m)" != aarch64 ]]; then
    check "${script}: source tarball is built only on Graviton" \
      refuses "${script}" "${work}/src.tar.gz" "Graviton build instance"
  fi
done

echo "== systemd-analyze verify (any output fails)"
# The units' dependencies (multi-user.target, ...) come from this host's systemd.
mkdir -p "${root}/usr/lib/systemd"
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [[ -d "${d}" ]]; then
    cp -r "${d}" "${root}/usr/lib/systemd/"
    break
  fi
done
verify_units() {
  local out
  out="$(systemd-analyze verify --root="${root}" "$@" 2>&1)" || { printf '%s\n' "${out}"; return 1; }
  [[ -z "${out}" ]] || { printf '%s\n' "${out}"; return 1; }
}
check "bidder.service, control-plane.service and tern-host-tuning.service verify clean" \
  verify_units /etc/systemd/system/bidder.service /etc/systemd/system/control-plane.service \
  /etc/systemd/system/tern-host-tuning.service
check "tern-segments-load.service and .timer verify clean" \
  verify_units /etc/systemd/system/tern-segments-load.service /etc/systemd/system/tern-segments-load.timer
# The verifier must be able to fail: a misspelt key is only a warning for systemd.
cp "${root}/etc/systemd/system/bidder.service" "${work}/bidder.service.orig"
printf 'LimitNOFIEL=1\n' >>"${root}/etc/systemd/system/bidder.service"
verify_fails() {
  ! verify_units "$@" >/dev/null
}
check "verify catches an unknown key (self-test)" verify_fails /etc/systemd/system/bidder.service
cp "${work}/bidder.service.orig" "${root}/etc/systemd/system/bidder.service"

echo "== unit invariants"
unit="${root}/etc/systemd/system/bidder.service"
# shellcheck disable=SC2016 # $MAINPID is literal text in the unit
for key in '^User=tern$' '^ExecStart=/usr/local/bin/bidder --config /etc/tern/bidder.toml$' \
  '^ExecStop=/usr/local/lib/tern/tern-drain-stop \$MAINPID$' '^CPUAffinity=' '^LimitNOFILE=' \
  '^LimitMEMLOCK=infinity$' '^Restart=always$' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' \
  '^EnvironmentFile=-/etc/tern/bidder.env$' 'io_uring_setup io_uring_enter io_uring_register' \
  '^StateDirectory=tern$'; do
  check "bidder.service has ${key}" grep -Eq "${key}" "${unit}"
done
stop_s="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "${unit}")"
drain_ms="$(sed -n 's/^drain_timeout_ms = \([0-9]*\)$/\1/p' "${root}/etc/tern/bidder.toml")"
check "TimeoutStopSec (${stop_s}s) exceeds the default drain (${drain_ms}ms)" \
  test $(( stop_s * 1000 )) -gt "${drain_ms}"

cp_unit="${root}/etc/systemd/system/control-plane.service"
for key in '^User=tern-cp$' '^Group=tern-cp$' \
  '^ExecStart=/usr/local/bin/control-plane --config /etc/tern/control-plane.toml$' \
  '^EnvironmentFile=/etc/tern/control-plane.env$' '^Restart=on-failure$' '^KillSignal=SIGTERM$' \
  '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^ProtectHome=yes$' '^PrivateTmp=yes$' \
  '^PrivateDevices=yes$' '^CapabilityBoundingSet=$' '^MemoryDenyWriteExecute=yes$' \
  '^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$' '^SystemCallFilter=@system-service$' \
  '^SystemCallFilter=~@privileged$' '^WantedBy=multi-user.target$'; do
  check "control-plane.service has ${key}" grep -Eq "${key}" "${cp_unit}"
done
# Nothing the bidder needs and the control plane does not: no io_uring, no CPU
# pinning, no locked memory, no state directory.
for key in io_uring CPUAffinity LimitMEMLOCK StateDirectory ExecStop; do
  check "control-plane.service has no ${key}" bash -c "! grep -q '${key}' '${cp_unit}'"
done
cp_stop_s="$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "${cp_unit}")"
cp_drain_ms="$(sed -n 's/^drain_timeout_ms = \([0-9]*\)$/\1/p' "${root}/etc/tern/control-plane.toml")"
check "control-plane TimeoutStopSec (${cp_stop_s}s) exceeds its default drain (${cp_drain_ms}ms)" \
  test $(( cp_stop_s * 1000 )) -gt "${cp_drain_ms}"
check "control-plane API listens on 0.0.0.0, admin on loopback only" \
  bash -c "grep -q '^listen = \"0.0.0.0:[0-9]*\"$' '${root}/etc/tern/control-plane.toml' && grep -q '^admin_listen = \"127.0.0.1:[0-9]*\"$' '${root}/etc/tern/control-plane.toml'"

echo "== segments loader (tern-segments-load.service, .timer)"
seg_unit="${root}/etc/systemd/system/tern-segments-load.service"
seg_timer="${root}/etc/systemd/system/tern-segments-load.timer"
# unit_values UNIT KEY: the values KEY= takes in UNIT, one per line, in order.
unit_values() {
  sed -n "s/^${2}=//p" "$1"
}
# The loader must see exactly the bidder's config: same user, group, env file(s)
# and --config, the same binary.
for key in User Group EnvironmentFile; do
  check "tern-segments-load.service has bidder.service's ${key}= ($(unit_values "${unit}" "${key}" | paste -sd' '))" \
    test "$(unit_values "${seg_unit}" "${key}")" = "$(unit_values "${unit}" "${key}")"
done
check "the loader runs bidder.service's binary and --config, with 'segments load'" \
  test "$(unit_values "${seg_unit}" ExecStart)" = "$(unit_values "${unit}" ExecStart) segments load"
for key in '^Type=oneshot$' '^ExecCondition=/usr/local/lib/tern/tern-segments-configured$' \
  '^TimeoutStartSec=[0-9]+[smh]?$' '^Nice=10$' '^CPUWeight=[0-9]+$' '^CPUSchedulingPolicy=batch$' \
  '^CPUAffinity=' '^OOMScoreAdjust=[1-9][0-9]*$' '^MemoryMax=' '^LimitMEMLOCK=infinity$' \
  '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^CapabilityBoundingSet=$' \
  'io_uring_setup io_uring_enter io_uring_register' '^SystemCallFilter=~@privileged$'; do
  check "tern-segments-load.service has ${key}" grep -Eq "${key}" "${seg_unit}"
done
check "the loader's CPU weight is below the default (100)" test "$(unit_values "${seg_unit}" CPUWeight)" -lt 100
# Started by its timer only: no [Install] (nothing enables the service itself), no
# restart loop, no state directory (it writes no file).
for key in '^\[Install\]' '^Restart=' '^WantedBy=' '^StateDirectory=' '^RemoveIPC='; do
  check "tern-segments-load.service has no ${key}" bash -c "! grep -Eq '${key}' '${seg_unit}'"
done
for key in '^OnBootSec=' '^OnUnitActiveSec=' '^RandomizedDelaySec=[1-9]' '^Persistent=false$' '^WantedBy=timers.target$'; do
  check "tern-segments-load.timer has ${key}" grep -Eq "${key}" "${seg_timer}"
done
# What the user data does when the fleet has a segments prefix: enabling the timer
# wires it into timers.target (and nothing else).
enable_timer() {
  systemctl --root="${root}" enable tern-segments-load.timer >/dev/null 2>&1 \
    && test -L "${root}/etc/systemd/system/timers.target.wants/tern-segments-load.timer" \
    && systemctl --root="${root}" disable tern-segments-load.timer >/dev/null 2>&1 \
    && test ! -e "${root}/etc/systemd/system/timers.target.wants/tern-segments-load.timer"
}
check "systemctl enable tern-segments-load.timer wires it into timers.target" enable_timer

# The ExecCondition: 1 (skip, the unit is not failed) without a prefix, 0 with one;
# never 255 (which would fail the unit).
cond="${root}/usr/local/lib/tern/tern-segments-configured"
cond_status() {
  local rc=0
  env -i PATH=/usr/bin:/bin "$@" "${cond}" >/dev/null 2>&1 || rc=$?
  printf '%s' "${rc}"
}
check "condition skips (1) with TERN_SEGMENTS__S3_URI unset" test "$(cond_status)" = 1
check "condition skips (1) with TERN_SEGMENTS__S3_URI empty" test "$(cond_status TERN_SEGMENTS__S3_URI=)" = 1
check "condition skips (1) with TERN_SEGMENTS__S3_URI blank" test "$(cond_status 'TERN_SEGMENTS__S3_URI=  ')" = 1
check "condition runs (0) with a prefix" \
  test "$(cond_status TERN_SEGMENTS__S3_URI=s3://tern-dev-segments-123456789012/segments/)" = 0
# With the env file the user data writes (KEY="value" lines, read here as a shell
# would: systemd's EnvironmentFile= reads these lines the same way).
cond_with_env_file() {
  # shellcheck disable=SC2016 # $1 and $2 belong to the inner shell
  env -i PATH=/usr/bin:/bin bash -c 'set -a; . "$1"; exec "$2"' _ "$1" "${cond}" >/dev/null 2>&1
}
skips_with_env_file() {
  ! cond_with_env_file "$1"
}
printf 'TERN_FREQUENCY_CAP__STORE="redis"\nTERN_SEGMENTS__S3_URI="s3://tern-dev-segments-123456789012/segments/"\n' >"${work}/with-segments.env"
printf 'TERN_FREQUENCY_CAP__STORE="redis"\n' >"${work}/without-segments.env"
check "condition runs with an env file that sets the prefix" cond_with_env_file "${work}/with-segments.env"
check "condition skips with an env file without it" skips_with_env_file "${work}/without-segments.env"

echo "== CPU affinity generator"
gen="${root}/etc/systemd/system-generators/tern-cpu-affinity-generator"
affinity_for() {
  local online="$1" housekeeping="$2" out="${work}/gen.$RANDOM"
  printf '%s\n' "${online}" >"${work}/online"
  printf 'TERN_HOUSEKEEPING_CPUS=%s\n' "${housekeeping}" >"${work}/host.env"
  TERN_CPU_ONLINE_FILE="${work}/online" TERN_HOST_ENV="${work}/host.env" "${gen}" "${out}" "${out}.early" "${out}.late"
  sed -n 's/^CPUAffinity=\(.\+\)$/\1/p' "${out}/bidder.service.d/50-cpu-affinity.conf"
}
check "c7g.2xlarge (0-7), 1 housekeeping -> 1-7" test "$(affinity_for 0-7 1)" = "1-7"
check "c8g.48xlarge (0-191), 2 housekeeping -> 2-191" test "$(affinity_for 0-191 2)" = "2-191"
check "c7g.medium (0), 1 housekeeping -> shares CPU 0" test "$(affinity_for 0 1)" = "0-0"
# The segments loader gets the housekeeping CPUs, never a bid worker's.
loader_affinity_for() {
  local online="$1" housekeeping="$2" out="${work}/gen.$RANDOM"
  printf '%s\n' "${online}" >"${work}/online"
  printf 'TERN_HOUSEKEEPING_CPUS=%s\n' "${housekeeping}" >"${work}/host.env"
  TERN_CPU_ONLINE_FILE="${work}/online" TERN_HOST_ENV="${work}/host.env" "${gen}" "${out}" "${out}.early" "${out}.late"
  sed -n 's/^CPUAffinity=\(.\+\)$/\1/p' "${out}/tern-segments-load.service.d/50-cpu-affinity.conf"
}
check "loader on c7g.2xlarge (0-7), 1 housekeeping -> 0-0" test "$(loader_affinity_for 0-7 1)" = "0-0"
check "loader on c8g.48xlarge (0-191), 2 housekeeping -> 0-1" test "$(loader_affinity_for 0-191 2)" = "0-1"
check "loader on c7g.medium (0), 1 housekeeping -> shares CPU 0" test "$(loader_affinity_for 0 1)" = "0-0"
check "loader with 0 housekeeping CPUs -> every CPU (0-7)" test "$(loader_affinity_for 0-7 0)" = "0-7"
# The generated drop-in must verify too.
mkdir -p "${root}/etc/systemd/system/bidder.service.d"
printf '0-7\n' >"${work}/online"
TERN_CPU_ONLINE_FILE="${work}/online" TERN_HOST_ENV="${root}/etc/tern/host.env" "${gen}" "${work}/gen-final"
cp "${work}/gen-final/bidder.service.d/50-cpu-affinity.conf" "${root}/etc/systemd/system/bidder.service.d/"
check "bidder.service with the generated drop-in verifies clean" verify_units /etc/systemd/system/bidder.service
rm -r "${root}/etc/systemd/system/bidder.service.d"
mkdir -p "${root}/etc/systemd/system/tern-segments-load.service.d"
cp "${work}/gen-final/tern-segments-load.service.d/50-cpu-affinity.conf" "${root}/etc/systemd/system/tern-segments-load.service.d/"
check "tern-segments-load.service with the generated drop-in verifies clean" \
  verify_units /etc/systemd/system/tern-segments-load.service
rm -r "${root}/etc/systemd/system/tern-segments-load.service.d"

echo "== host tuning (fake sysfs/procfs)"
sys="${work}/sys"
proc="${work}/proc"
mkdir -p "${sys}/devices/system/cpu/cpu0/cpufreq" "${sys}/bus/pci/drivers/ena" "${sys}/bus/pci/drivers/virtio" \
  "${sys}/kernel/mm/transparent_hugepage" "${sys}/devices/ens5/msi_irqs" "${sys}/devices/eth9/msi_irqs" "${sys}/class/net"
printf '0-3\n' >"${sys}/devices/system/cpu/online"
printf 'ondemand\n' >"${sys}/devices/system/cpu/cpu0/cpufreq/scaling_governor"
printf 'ondemand performance\n' >"${sys}/devices/system/cpu/cpu0/cpufreq/scaling_available_governors"
printf 'always\n' >"${sys}/kernel/mm/transparent_hugepage/enabled"
printf 'always\n' >"${sys}/kernel/mm/transparent_hugepage/defrag"
ln -s "${sys}/bus/pci/drivers/ena" "${sys}/devices/ens5/driver"
ln -s "${sys}/bus/pci/drivers/virtio" "${sys}/devices/eth9/driver"
mkdir -p "${sys}/class/net/ens5" "${sys}/class/net/eth9" "${sys}/class/net/lo"
ln -s "${sys}/devices/ens5" "${sys}/class/net/ens5/device"
ln -s "${sys}/devices/eth9" "${sys}/class/net/eth9/device"
for irq in 40 41 42 50; do
  mkdir -p "${proc}/irq/${irq}"
  printf '0-3\n' >"${proc}/irq/${irq}/smp_affinity_list"
done
touch "${sys}/devices/ens5/msi_irqs/40" "${sys}/devices/ens5/msi_irqs/41" "${sys}/devices/ens5/msi_irqs/42" \
  "${sys}/devices/eth9/msi_irqs/50"
tune() {
  TERN_SYSFS="${sys}" TERN_PROCFS="${proc}" TERN_HOUSEKEEPING_CPUS="$1" \
    "${root}/usr/local/lib/tern/tern-host-tuning" >"${work}/tune.log" 2>&1
}
check "host tuning runs" tune 1
check "ENA IRQs 40-42 pinned to housekeeping CPU 0" \
  test "$(cat "${proc}"/irq/4[012]/smp_affinity_list | sort -u)" = "0-0"
check "non-ENA IRQ 50 left alone" test "$(cat "${proc}/irq/50/smp_affinity_list")" = "0-3"
check "governor set to performance" test "$(cat "${sys}/devices/system/cpu/cpu0/cpufreq/scaling_governor")" = performance
check "THP enabled=madvise" test "$(cat "${sys}/kernel/mm/transparent_hugepage/enabled")" = madvise
check "THP defrag=defer+madvise" test "$(cat "${sys}/kernel/mm/transparent_hugepage/defrag")" = defer+madvise
check "host tuning rerun is stable" tune 1
check "two housekeeping CPUs -> IRQs on 0-1" bash -c "$(declare -f tune); sys='${sys}' proc='${proc}' root='${root}' work='${work}'; tune 2 && test \"\$(cat '${proc}/irq/40/smp_affinity_list')\" = 0-1"
check "bad TERN_HOUSEKEEPING_CPUS is refused" bash -c "! TERN_SYSFS='${sys}' TERN_PROCFS='${proc}' TERN_HOUSEKEEPING_CPUS=zero '${root}/usr/local/lib/tern/tern-host-tuning' >/dev/null 2>&1"

echo "== drain-aware ExecStop"
stop="${root}/usr/local/lib/tern/tern-drain-stop"
# A stand-in bidder that drains for 300 ms after SIGTERM, then exits 0.
bash -c 'trap "sleep 0.3; exit 0" TERM; while :; do sleep 0.05; done' &
draining=$!
sleep 0.2
start_ns="$(date +%s%N)"
TERN_SHUTDOWN__DRAIN_TIMEOUT_MS=5000 "${stop}" "${draining}" >"${work}/stop.log"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
check "ExecStop waits for the drain (${elapsed_ms} ms >= 250)" test "${elapsed_ms}" -ge 250
check "bidder gone when ExecStop returns" bash -c "! kill -0 ${draining} 2>/dev/null"
wait "${draining}" 2>/dev/null || true
# A stand-in that ignores SIGTERM: ExecStop gives up at drain + grace.
bash -c 'trap "" TERM; while :; do sleep 0.05; done' &
stuck=$!
sleep 0.2
start_ns="$(date +%s%N)"
TERN_SHUTDOWN__DRAIN_TIMEOUT_MS=300 STOP_GRACE_MS=100 "${stop}" "${stuck}" >"${work}/stop2.log"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
check "ExecStop gives up after drain+grace (${elapsed_ms} ms in 400..3000)" \
  test "${elapsed_ms}" -ge 400 -a "${elapsed_ms}" -le 3000
check "ExecStop reports the stuck bidder" grep -q "still running" "${work}/stop2.log"
kill -KILL "${stuck}" 2>/dev/null || true
wait "${stuck}" 2>/dev/null || true
check "ExecStop without a MAINPID exits 0" "${stop}" ""

echo "== CloudWatch agent config"
conf="${root}/usr/local/lib/tern/tern-configure-cloudwatch-agent"
check "renders for fleet tern-dev" bash -c "TERN_ROOT='${root}' '${conf}' tern-dev /tern/dev/bidder/metrics >/dev/null"
rendered="${root}/opt/aws/amazon-cloudwatch-agent/etc"
check "agent JSON is valid JSON" python3 -m json.tool "${rendered}/tern-cloudwatch-agent.json" /dev/null
check "agent JSON has namespace Tern/Bidder" grep -q '"metric_namespace": "Tern/Bidder"' "${rendered}/tern-cloudwatch-agent.json"
check "agent JSON has the log group" grep -q '"log_group_name": "/tern/dev/bidder/metrics"' "${rendered}/tern-cloudwatch-agent.json"
check "no placeholder left" bash -c "! grep -q '@[A-Z_]*@' '${rendered}/tern-cloudwatch-agent.json' '${rendered}/tern-prometheus.yaml'"
check "scrapes 127.0.0.1:9090" grep -q '127.0.0.1:9090' "${rendered}/tern-prometheus.yaml"
check "labels the fleet" grep -q 'Fleet: "tern-dev"' "${rendered}/tern-prometheus.yaml"
check "refuses an unsafe fleet name" bash -c "! TERN_ROOT='${root}' '${conf}' 'a|b' /x >/dev/null 2>&1"
# Every metric the bidder exports (its contract) must be picked by a selector.
select_re="$(python3 -c 'import json,sys
c=json.load(open(sys.argv[1]))
d=c["logs"]["metrics_collected"]["prometheus"]["emf_processor"]["metric_declaration"]
print("|".join("(%s)" % s for x in d for s in x["metric_selectors"]))' "${rendered}/tern-cloudwatch-agent.json")"
for metric in tern_requests_total tern_responses_total tern_bids_total tern_nobids_total \
  tern_request_duration_p50_seconds tern_request_duration_p99_seconds tern_request_duration_p999_seconds \
  tern_ready tern_sync_lag_seconds tern_campaigns_budget_exhausted tern_events_dropped_total \
  tern_budget_sync_errors_total tern_budget_late_notices_total tern_budget_alerts_total; do
  check "agent exports ${metric}" grep -Eq "${select_re}" <<<"${metric}"
done
# Counters are published as counts, with the Fleet dimension the alarms read.
counters_ok() {
  python3 - "${rendered}/tern-cloudwatch-agent.json" <<'PY'
import json, re, sys
emf = json.load(open(sys.argv[1]))["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
units = emf["metric_unit"]
fleet = [s for d in emf["metric_declaration"] if ["Fleet"] in d["dimensions"] for s in d["metric_selectors"]]
bad = [m for m in ("tern_budget_sync_errors_total", "tern_budget_late_notices_total", "tern_budget_alerts_total",
                     "tern_events_dropped_total")
       if units.get(m) != "Count" or not any(re.search(s, m) for s in fleet)]
bad += [m for m, u in units.items() if m.endswith("_total") and u != "Count"]
bad = sorted(set(bad))
print("\n".join("not a Fleet count: " + m for m in bad))
sys.exit(1 if bad else 0)
PY
}
check "counters (budget ledger errors, late notices and alerts too) are Count with dimension Fleet" counters_ok

echo "== sysctl keys exist in this kernel"
while IFS= read -r line; do
  [[ -z "${line}" || "${line}" == \#* || "${line}" == -* ]] && continue
  key="${line%%=*}"
  key="${key// /}"
  check "sysctl ${key}" test -e "/proc/sys/${key//.//}"
done <"${root}/etc/sysctl.d/90-tern-latency.conf"

echo "== config keys exist in the services' configs (bidder/bidder.example.toml, control-plane/control-plane.example.toml)"
repo="$(cd "${packer_dir}/.." && pwd)"
# keys_ok EXAMPLE OURS MAIN_TF PREFIX: every key the image's config OURS sets and
# every <PREFIX><SECTION>__<KEY> that the module's user data (MAIN_TF) writes must
# be a key of the service's example config EXAMPLE (both services refuse unknown
# keys at start).
keys_ok() {
  python3 - "$@" <<'PY'
import re, sys, tomllib
example = tomllib.load(open(sys.argv[1], "rb"))
ours = tomllib.load(open(sys.argv[2], "rb"))
def paths(table, prefix=()):
    for k, v in table.items():
        yield from paths(v, prefix + (k,)) if isinstance(v, dict) else [".".join(prefix + (k,))]
wanted = set(paths(ours))
module = open(sys.argv[3]).read()
# <PREFIX><SECTION>__<KEY>[__<KEY>...]: "__" separates nested tables (campaigns.dynamodb.table).
pattern = r"\b" + re.escape(sys.argv[4]) + r"([A-Z0-9_]+?)__([A-Z0-9_]+)\b"
wanted |= {".".join([s.lower()] + k.lower().split("__")) for s, k in re.findall(pattern, module)}
def known(path):
    t = example
    for part in path.split("."):
        if not isinstance(t, dict) or part not in t:
            return False
        t = t[part]
    return True
missing = sorted(k for k in wanted if not known(k))
for k in sorted(wanted):
    print(("missing " if k in missing else "known   ") + k)
sys.exit(1 if missing else 0)
PY
}
example="${repo}/bidder/bidder.example.toml"
if [[ -f "${example}" ]]; then
  check "bidder.toml and fleet env overrides use known config keys" \
    keys_ok "${example}" "${root}/etc/tern/bidder.toml" "${repo}/terraform/modules/bidder_fleet/main.tf" TERN_
else
  echo "  (bidder/bidder.example.toml not present: skipped)"
fi
cp_example="${repo}/control-plane/control-plane.example.toml"
if [[ -f "${cp_example}" ]]; then
  check "control-plane.toml and the control plane's env overrides use known config keys" \
    keys_ok "${cp_example}" "${root}/etc/tern/control-plane.toml" "${repo}/terraform/modules/control_plane/main.tf" TERN_CP_
  # The user data must set the keys that make it a deployment: the listener behind
  # the ALB, the three tables, and both secrets (read at boot).
  cp_env_complete() {
    local key
    for key in TERN_CP_SERVER__LISTEN TERN_CP_TABLES__CAMPAIGNS TERN_CP_TABLES__CONTROL TERN_CP_TABLES__SPEND \
      TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY TERN_CP_AUTH__PEPPER; do
      grep -q "\b${key}\b" "${repo}/terraform/modules/control_plane/main.tf" || { echo "not set: ${key}"; return 1; }
    done
  }
  check "the control plane's user data sets its listener, tables and secrets" cp_env_complete
else
  echo "  (control-plane/control-plane.example.toml not present: skipped)"
fi

printf 'packer provisioners: %d passed, %d failed\n' "${passed}" "${failed}"
(( failed == 0 ))
