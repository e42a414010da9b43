#!/usr/bin/env bash
# tern-configure-cloudwatch-agent FLEET LOG_GROUP [ADMIN_PORT]
# Renders the CloudWatch agent config and its Prometheus scrape config from the
# templates baked into the AMI, then (re)starts the agent if it is installed.
# Run by the launch template's user data; safe to run again.
set -euo pipefail

fleet="${1:?usage: tern-configure-cloudwatch-agent FLEET LOG_GROUP [ADMIN_PORT]}"
log_group="${2:?usage: tern-configure-cloudwatch-agent FLEET LOG_GROUP [ADMIN_PORT]}"
admin_port="${3:-9090}"
root="${TERN_ROOT:-}"
templates="${root}/opt/tern/cloudwatch"
etc="${root}/opt/aws/amazon-cloudwatch-agent/etc"
ctl="${root}/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"

# The values land in YAML and JSON unquoted by us: accept only safe characters.
[[ "${fleet}" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || { echo "bad fleet name: ${fleet}" >&2; exit 1; }
[[ "${log_group}" =~ ^[A-Za-z0-9._/#-]{1,512}$ ]] || { echo "bad log group: ${log_group}" >&2; exit 1; }
if ! [[ "${admin_port}" =~ ^[0-9]{1,5}$ ]] || (( admin_port < 1 || admin_port > 65535 )); then
  echo "bad admin port: ${admin_port}" >&2
  exit 1
fi

mkdir -p "${etc}"
sed -e "s|@FLEET@|${fleet}|g" -e "s|@ADMIN_PORT@|${admin_port}|g" \
  "${templates}/prometheus.yaml.tmpl" >"${etc}/tern-prometheus.yaml"
sed -e "s|@LOG_GROUP@|${log_group}|g" \
  "${templates}/cloudwatch-agent.json.tmpl" >"${etc}/tern-cloudwatch-agent.json"
echo "tern-configure-cloudwatch-agent: rendered for fleet ${fleet} into ${etc}"

if [[ -x "${ctl}" && -z "${root}" ]]; then
  "${ctl}" -a fetch-config -m ec2 -s -c "file:${etc}/tern-cloudwatch-agent.json"
else
  echo "tern-configure-cloudwatch-agent: agent not installed here, config only"
fi
