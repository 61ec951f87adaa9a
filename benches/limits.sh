#!/usr/bin/env bash
# The rate-limit comparisons (benches/limits/mod.rs) in paired runs over
# several code layouts, then in instructions under callgrind.
#
#   benches/limits.sh [layouts] [rounds]     (defaults: 8 layouts, 21 rounds)
#
# `limits paired` runs each pair in blocks, A B / B A alternately, and
# reports the median of the per-round ratios; this prints, per pair, the
# median over layouts of those medians, and their spread (see
# benches/layouts.sh). Needs lld (apt-get install lld) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/layouts.sh

layouts=${1:-8}
rounds=${2:-21}
needs ld.lld valgrind
mkdir -p "$CARGO_TARGET_DIR"
out=$CARGO_TARGET_DIR/limits-paired.tsv
over_layouts limits "$layouts" "$out" --rounds "$rounds"

echo "paired runs, $layouts layouts x $rounds rounds: ns per request (medians), ratio = case / against"
summarise "$out"

echo
echo "instructions per request (callgrind, (I(12000) - I(2000)) / 10000)"
runner=$(build limits)
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$runner" once "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
read -r -a cases < <("$runner" 2>&1 | sed -n 's/^cases: //p')
for case in "${cases[@]}"; do
    i1=$(count "$case" 2000)
    i2=$(count "$case" 12000)
    printf '%-18s %6d\n' "$case" $(( (i2 - i1) / 10000 ))
done
