#!/usr/bin/env bash
# donjon against tower, tower-resilience and the raw baselines (the cases of
# benches/cases/), in paired runs over several code layouts, then in
# instructions under callgrind; prints the table of
# `cargo run -p donjon-benches --example report`.
#
#   benches/paired.sh [layouts] [rounds] [case...]
#
# Defaults: 12 layouts, 21 rounds of blocks of 200,000 requests, every case
# (about 25 minutes on 2 cores). `per_request paired` runs donjon and each
# other implementation of a case in blocks, A B / B A alternately, and
# reports the median of the per-round ratios; this takes, per comparison,
# the median over layouts of those medians, and their spread (see
# benches/layouts.sh). Writes target/paired/latest.tsv and
# target/callgrind/latest.tsv. Needs lld (apt-get install lld) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/layouts.sh

layouts=${1:-12}
rounds=${2:-21}
shift $(($# < 2 ? $# : 2))
needs ld.lld valgrind python3
mkdir -p target/paired
rows=target/paired/rows.tsv
over_layouts per_request "$layouts" "$rows" --rounds "$rounds" "$@"

echo "paired runs, $layouts layouts x $rounds rounds: ns per request (medians), ratio = donjon / against"
summarise "$rows" target/paired/latest.tsv

echo
build per_request >/dev/null
benches/callgrind.sh "$@"

echo
cargo run --quiet --release -p donjon-benches --example report -- paired
