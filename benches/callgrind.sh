#!/usr/bin/env bash
# Instructions per request under callgrind, for donjon and each other
# implementation of a case (tower, tower-resilience, the raw baseline): a
# measure free of timing noise.
#
#   benches/callgrind.sh [case...]      (default: every case)
#
# Each case runs twice per implementation, with N1 and N2 requests; the
# difference divided by N2 - N1 is the cost of one request, without the
# set-up (runtime, services, first readiness) that both runs share. Needs
# valgrind. Writes target/callgrind/latest.tsv, which `cargo run -p
# donjon-benches --example report` also prints.
set -euo pipefail
cd "$(dirname "$0")/.."

# One codegen unit: with cargo's default of 16, how the runner's code is
# split into units, and so what is inlined, moves with unrelated changes,
# and an unchanged case's count moved by up to 10% (tower's own `call_all`
# by 58 instructions) between two builds of the runner.
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}

N1=${N1:-2000}
N2=${N2:-12000}
libs=(donjon tower resilience raw)

if ! command -v valgrind >/dev/null; then
    echo "callgrind.sh needs valgrind (apt-get install valgrind)" >&2
    exit 1
fi

# BENCH_FEATURES=metrics: every case with donjon's metrics on; =prometheus: with a
# Prometheus recorder installed too (see Cargo.toml).
# shellcheck disable=SC2086
cargo build --quiet --release -p donjon-benches ${BENCH_FEATURES:+--features $BENCH_FEATURES} --example per_request
runner=${CARGO_TARGET_DIR:-target}/release/examples/per_request
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    # The usage message lists the cases.
    read -r -a cases < <("$runner" 2>&1 | sed -n 's/^cases: //p')
fi

instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$runner" "$@" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

mkdir -p target/callgrind
out=target/callgrind/latest.tsv
: > "$out"
printf '%-18s' case; printf ' %10s' "${libs[@]}"; echo
for case in "${cases[@]}"; do
    printf '%-18s' "$case"
    for lib in "${libs[@]}"; do
        # A case that this implementation does not have exits with 2.
        if ! "$runner" "$case" "$lib" 1 >/dev/null 2>&1; then
            printf ' %10s' -
            continue
        fi
        low=$(instructions "$case" "$lib" "$N1")
        high=$(instructions "$case" "$lib" "$N2")
        per=$(( (high - low) / (N2 - N1) ))
        printf '%s\t%s\t%s\n' "$case" "$lib" "$per" >> "$out"
        printf ' %10s' "$per"
    done
    echo
done
echo "(instructions per request; N1=$N1, N2=$N2; saved to $out)"
