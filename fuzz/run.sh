#!/usr/bin/env bash
# Runs every fuzz target (or those named) under AFL++ for SECONDS each, then
# minimises each target's queue into fuzz/corpus/<target>/, copies any crash into
# fuzz/crashes/<target>/ and writes the run's figures into fuzz/README.md.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     SECONDS defaults to 600
#   EXECS=10000000 fuzz/run.sh 3600       stop each target at 10M executions
#   JOBS=2 fuzz/run.sh                    targets fuzzed at once (default: cores)
#
# Needs only what `cargo install cargo-afl` brings (it builds AFL++ itself); the
# targets are `bidder::fuzzing`. Work files go to fuzz/work/ (ignored by git).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(redis_reply notice dynamodb_item http bid campaigns)
fi
jobs=${JOBS:-$(nproc)}
execs=${EXECS:-}
work="$here/work"
mkdir -p "$work/in" "$work/out"

if ! command -v cargo-afl >/dev/null; then
    cargo install cargo-afl --locked
fi
# Builds AFL++ once per toolchain; says so and fails when it already is.
cargo afl config --build >/dev/null 2>&1 || true

echo "== building the fuzzing binary (instrumented, release)"
(cd "$here" && cargo afl build --release --locked)
binary="$here/target/release/tern-fuzz"

echo "== seeds: samples, conformance requests, bench corpus, campaigns"
if [ ! -d "$work/bench/bodies" ]; then
    (cd "$root" && cargo run --locked -p tern-benches --bin tern-corpus -- \
        --out "$work/bench" --requests 200 --campaigns 50)
fi
rm -rf "$work/seeds"
python3 "$here/seeds.py" "$work/seeds" "$work/bench"

dictionaries() {
    case "$1" in
        http) echo "-x $here/dict/http.dict -x $here/dict/openrtb.dict" ;;
        bid) echo "-x $here/dict/openrtb.dict" ;;
        notice) echo "-x $here/dict/notice.dict" ;;
        campaigns | dynamodb_item) echo "-x $here/dict/campaigns.dict" ;;
        redis_reply) echo "-x $here/dict/redis.dict" ;;
    esac
}

fuzz_one() {
    local target=$1 input="$work/in/$1" output="$work/out/$1"
    rm -rf "$input" "$output"
    mkdir -p "$input"
    cp "$work/seeds/$target"/* "$input"/
    if [ -d "$here/corpus/$target" ]; then
        cp "$here/corpus/$target"/* "$input"/
    fi
    local limit=()
    if [ -n "$execs" ]; then
        limit=(-E "$execs")
    fi
    # shellcheck disable=SC2046 # the dictionary flags split on purpose
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
        AFL_NO_AFFINITY=1 AFL_IGNORE_SEED_PROBLEMS=1 \
        cargo afl fuzz -i "$input" -o "$output" -V "$seconds" "${limit[@]}" \
        $(dictionaries "$target") -- "$binary" "$target" >"$work/$target.log" 2>&1
    echo "   $target: done ($(grep -E '^execs_done' "$output/default/fuzzer_stats"))"
}

echo "== fuzzing ${targets[*]}: ${seconds}s each${execs:+ or $execs executions}, $jobs at a time"
running=0
for target in "${targets[@]}"; do
    fuzz_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

echo "== minimising the corpora, collecting crashes"
for target in "${targets[@]}"; do
    out="$work/out/$target/default"
    rm -rf "$work/min/$target"
    AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
        cargo afl cmin -i "$out/queue" -o "$work/min/$target" -- "$binary" "$target" \
        >"$work/$target.cmin.log" 2>&1
    rm -rf "$here/corpus/$target"
    mkdir -p "$here/corpus/$target"
    for file in "$work/min/$target"/*; do
        cp "$file" "$here/corpus/$target/$(sha1sum "$file" | cut -c1-16)"
    done
    # Every instance's crashes (several instances may share a target's directory).
    for file in "$work/out/$target"/*/crashes/id:*; do
        [ -e "$file" ] || continue
        mkdir -p "$here/crashes/$target"
        cp "$file" "$here/crashes/$target/$(sha1sum "$file" | cut -c1-16)"
    done
done

python3 "$here/report.py" "$here/README.md" "$work/out" "${targets[@]}"
echo "== figures written to fuzz/README.md; replay with: cargo test -p bidder --test fuzz_corpus"
