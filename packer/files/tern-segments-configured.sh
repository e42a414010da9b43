#!/usr/bin/env bash
# ExecCondition of tern-segments-load.service: exits 0 (run the loader) when a
# segments prefix is configured, 1 (skip this run quietly, the unit is not marked
# failed) when TERN_SEGMENTS__S3_URI is empty or unset. The variable comes from
# /etc/tern/bidder.env (EnvironmentFile=, written by the fleet's user data), the
# same way the bidder gets it (segments.s3_uri).
#
# Only the prefix is checked: a prefix without the Redis store
# (TERN_FREQUENCY_CAP__STORE=redis) is a misconfiguration the loader refuses
# loudly (the unit fails), which the fleet module's validation prevents anyway.
# Exit codes 1-254 skip, 255 would fail the unit: this never exits 255.
set -euo pipefail

uri="${TERN_SEGMENTS__S3_URI:-}"
# The bidder trims the value; so does this check.
uri="${uri//[[:space:]]/}"
if [[ -z "${uri}" ]]; then
  echo "tern-segments-load: no segments prefix (TERN_SEGMENTS__S3_URI is empty): nothing to load"
  exit 1
fi
exit 0
