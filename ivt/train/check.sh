#!/usr/bin/env bash
# check.sh: the IVT model recipe (ivt/train) still makes what is committed.
#
#   1. make_example.py writes the committed example (ivt/train/example) again,
#      byte for byte once decompressed: the example is deterministic
#   2. train.py refuses bad input (a missing path, one class only, no labelled rows)
#   3. train.py on that example, with the options below, gives the bundled model
#      (ivt/lists/model.json) within a small tolerance
#   4. the bundled model separates the example's labels with a ROC AUC above 0.9
#
# Installs ivt/train/requirements.txt into a venv under XDG_CACHE_HOME (again when
# the requirements change). Exits non-zero on the first failure.
#
# Usage: ivt/train/check.sh            check
#        ivt/train/check.sh --update   rewrite the example and the bundled model
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
cache_dir="${XDG_CACHE_HOME:-${HOME}/.cache}/tern"
venv="${cache_dir}/venv-ivt-train"
stamp="${venv}/requirements.sha256"
example="${here}/example"
bundled="${repo}/ivt/lists/model.json"
work="$(mktemp -d "${TMPDIR:-/tmp}/tern-ivt-train.XXXXXX")"
started_at="$(date +%s)"
trap 'rm -rf "${work}"' EXIT

# The bundled model is exactly this command's output on the committed example.
# Seven features: the list signals, the supply chain and the two identity signals
# that browsers and apps alike carry. Missing addresses and device ids, app, limit
# tracking, impression count and tmax depend on the traffic mix (DOOH screens, CTV
# and server-to-server requests lack some of them legitimately) and are left to a
# model trained on the operator's own labels. Threshold at 0.99 held-out precision:
# by default it refuses only what several signals agree on.
bundled_args=(
  --features "ua_missing,ua_bot,ip_datacenter,user_id_missing,schain_missing,schain_nodes,seller_unauthorized"
  --target-precision 0.99
  --description "Bundled example model, trained on the synthetic ivt/train/example, not on real traffic: train your own (ivt/train/README.md)."
)

step() {
  printf '\n==> %s  [t+%ss]\n' "$*" "$(($(date +%s) - started_at))"
}

step "venv (${venv})"
want="$(sha256sum "${here}/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "${venv}/bin/python" ]] || [[ "$(cat "${stamp}" 2>/dev/null || true)" != "${want}" ]]; then
  echo "installing ivt/train/requirements.txt into ${venv}"
  mkdir -p "${cache_dir}"
  rm -rf "${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --disable-pip-version-check -r "${here}/requirements.txt"
  echo "${want}" >"${stamp}"
fi
py="${venv}/bin/python"
"${py}" -c 'import numpy, sklearn; print("numpy", numpy.__version__, "scikit-learn", sklearn.__version__)'

if [[ "${1:-}" == "--update" ]]; then
  step "rewriting ${example} and ${bundled}"
  rm -rf "${example}"
  python3 "${here}/make_example.py" --out "${example}"
  "${py}" "${here}/train.py" --events "${example}/events" --labels "${example}/labels.csv" \
    --out "${bundled}" "${bundled_args[@]}"
  exit 0
fi

step "make_example.py is deterministic (its output is the committed example)"
python3 "${here}/make_example.py" --out "${work}/example"
diff <(cd "${example}" && find . -type f | sort) <(cd "${work}/example" && find . -type f | sort) \
  || { echo "the example's files differ from make_example.py's (ivt/train/check.sh --update)" >&2; exit 1; }
while IFS= read -r file; do
  if [[ "${file}" == *.gz ]]; then
    cmp <(gzip -dc "${example}/${file}") <(gzip -dc "${work}/example/${file}") \
      || { echo "${file} differs from make_example.py's output" >&2; exit 1; }
  else
    cmp "${example}/${file}" "${work}/example/${file}" \
      || { echo "${file} differs from make_example.py's output" >&2; exit 1; }
  fi
  echo "  same: ${file}"
done < <(cd "${example}" && find . -type f | sed 's|^\./||' | sort)

step "train.py refuses bad input"
# expect_refusal TEXT ARGS...: train.py ARGS exits 2 saying TEXT.
expect_refusal() {
  local text="$1" out rc=0
  shift
  out="$("${py}" "${here}/train.py" --out "${work}/refused.json" "$@" 2>&1)" || rc=$?
  if ((rc != 2)) || [[ "${out}" != *"${text}"* ]]; then
    printf 'expected exit 2 and "%s", got exit %s:\n%s\n' "${text}" "${rc}" "${out}" >&2
    exit 1
  fi
  echo "  refused: ${out#train.py: error: }"
}
sed 's/,1$/,0/' "${example}/labels.csv" >"${work}/one-class.csv"
printf 'request_id,label\nnot-a-request,1\nnor-this,0\n' >"${work}/unmatched.csv"
expect_refusal "events path not found" --events "${work}/missing" --labels "${example}/labels.csv"
expect_refusal "labels file not found" --events "${example}/events" --labels "${work}/missing.csv"
expect_refusal "both classes are needed" --events "${example}/events" --labels "${work}/one-class.csv"
expect_refusal "no labelled rows" --events "${example}/events" --labels "${work}/unmatched.csv"
expect_refusal "unknown feature" --events "${example}/events" --labels "${example}/labels.csv" --features ua_missing,ua_robot
[[ ! -e "${work}/refused.json" ]] || { echo "a refused run wrote a model" >&2; exit 1; }

step "train.py on the example gives the bundled model"
"${py}" "${here}/train.py" --events "${example}/events" --labels "${example}/labels.csv" \
  --out "${work}/model.json" "${bundled_args[@]}"
"${py}" "${here}/check_model.py" same "${work}/model.json" "${bundled}"

step "the bundled model separates the example (AUC > 0.9)"
"${py}" "${here}/check_model.py" auc "${bundled}" --events "${example}/events" \
  --labels "${example}/labels.csv" --min 0.9

printf '\nivt/train/check.sh: all checks passed in %ss\n' "$(($(date +%s) - started_at))"
