#!/usr/bin/env bash
# The rate-limit comparisons (benches/limits/mod.rs) in paired runs over
# several code layouts, then in instructions under callgrind.
#
#   benches/limits.sh [layouts] [rounds]     (defaults: 8 layouts, 21 rounds)
#
# For each layout the runner is relinked with lld, its code sections
# shuffled with a new seed; `limits paired` then runs each pair in blocks,
# A B / B A alternately, and reports the median of the per-round ratios.
# This prints, per pair, the median over layouts of those medians, and
# their spread. Needs lld (apt-get install lld) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

layouts=${1:-8}
rounds=${2:-21}
for tool in ld.lld valgrind; do
    if ! command -v "$tool" >/dev/null; then
        echo "limits.sh needs $tool (apt-get install ${tool/ld./})" >&2
        exit 1
    fi
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/limits-bench}
export RUSTFLAGS="-C linker=$PWD/benches/shuffle-link.sh"
runner=$CARGO_TARGET_DIR/release/examples/limits
mkdir -p "$CARGO_TARGET_DIR"
out=$CARGO_TARGET_DIR/paired.tsv
: > "$out"

for seed in $(seq 1 "$layouts"); do
    # Relink (only the runner is rebuilt) with this layout.
    touch benches/examples/limits.rs
    SHUFFLE_SEED=$seed cargo build --quiet --release -p donjon-benches --example limits
    "$runner" paired --rounds "$rounds" | tail -n +2 | sed "s/^/$seed\t/" >> "$out"
done

echo "paired runs, $layouts layouts x $rounds rounds: ns per request (medians), ratio = case / against"
python3 - "$out" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    seed, case, against, a, b, ratio, lo, hi, target = line.rstrip("\n").split("\t")
    rows.setdefault((case, against, target), []).append((float(a), float(b), float(ratio)))
print(f"{'case':<16}{'against':<18}{'case ns':>9}{'against ns':>12}{'ratio':>8}{'layouts min-max':>18}  target")
for (case, against, target), values in rows.items():
    ratios = [r for _, _, r in values]
    print(f"{case:<16}{against:<18}{statistics.median(a for a, _, _ in values):>9.1f}"
          f"{statistics.median(b for _, b, _ in values):>12.1f}{statistics.median(ratios):>8.3f}"
          f"{min(ratios):>9.3f}-{max(ratios):.3f}  {target}")
PY

echo
echo "instructions per request (callgrind, (I(12000) - I(2000)) / 10000)"
unset SHUFFLE_SEED
touch benches/examples/limits.rs
cargo build --quiet --release -p donjon-benches --example limits
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
