#!/usr/bin/env bash
# Instructions per request under callgrind, for donjon, tower and the raw
# baseline: a measure free of timing noise.
#
#   benches/callgrind.sh [case...]      (default: every case)
#
# Each case runs twice per library, with N1 and N2 requests; the difference
# divided by N2 - N1 is the cost of one request, without the set-up (runtime,
# services, first readiness) that both runs share. Needs valgrind. Writes
# target/callgrind/latest.tsv, which `cargo run -p donjon-benches --example
# report` also prints.
set -euo pipefail
cd "$(dirname "$0")/.."

N1=${N1:-2000}
N2=${N2:-12000}

if ! command -v valgrind >/dev/null; then
    echo "callgrind.sh needs valgrind (apt-get install valgrind)" >&2
    exit 1
fi

cargo build --quiet --release -p donjon-benches --example per_request
runner=target/release/examples/per_request
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
printf '%-18s %10s %10s %10s %13s\n' case donjon tower raw donjon/tower
for case in "${cases[@]}"; do
    row=()
    for lib in donjon tower raw; do
        low=$(instructions "$case" "$lib" "$N1")
        high=$(instructions "$case" "$lib" "$N2")
        per=$(( (high - low) / (N2 - N1) ))
        printf '%s\t%s\t%s\n' "$case" "$lib" "$per" >> "$out"
        row+=("$per")
    done
    ratio=$(awk -v d="${row[0]}" -v t="${row[1]}" 'BEGIN { if (t > 0) printf "%.2f", d / t; else print "-" }')
    printf '%-18s %10s %10s %10s %13s\n' "$case" "${row[0]}" "${row[1]}" "${row[2]}" "$ratio"
done
echo "(instructions per request; N1=$N1, N2=$N2; saved to $out)"
