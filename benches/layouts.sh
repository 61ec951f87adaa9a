# Shared by benches/paired.sh and benches/limits.sh (source it, from the
# workspace's root): run a paired runner under several code layouts, and
# summarise what it found.
#
# For each layout the runner is relinked with lld (through shuffle-link.sh),
# its code sections shuffled with a new seed; the runner's `paired` command
# then prints one row per comparison (see benches/paired/mod.rs). Code
# layout alone moves a small case's time by several per cent (branch
# targets, cache sets); the median over layouts is free of any one layout's
# luck, and the spread shows how much it is worth.

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/limits-bench}
# One codegen unit (see callgrind.sh): what cargo's default of 16 splits
# into units, and so inlines, moves with unrelated code.
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}
export RUSTFLAGS="-C linker=$PWD/benches/shuffle-link.sh"

# needs TOOL...: fails unless each tool is installed. For ld.lld, the
# copy that rustc ships (and links with by default on x86_64 Linux since
# 1.90) will do.
needs() {
    local tool
    for tool in "$@"; do
        if [ "$tool" = ld.lld ] && compgen -G "$(rustc --print sysroot)/lib/rustlib/*/bin/gcc-ld/ld.lld" >/dev/null; then
            continue
        fi
        if ! command -v "$tool" >/dev/null; then
            echo "$(basename "$0") needs $tool (apt-get install ${tool/ld./})" >&2
            exit 1
        fi
    done
}

# build EXAMPLE [SEED]: (re)links the example, under layout SEED if given,
# and prints its path.
build() {
    # Touching the source makes cargo relink: the seed is not in RUSTFLAGS.
    touch "benches/examples/$1.rs"
    # A failed build must not hand back the previous binary.
    # shellcheck disable=SC2086
    SHUFFLE_SEED=${2:-} cargo build --quiet --release -p donjon-benches ${BENCH_FEATURES:+--features $BENCH_FEATURES} --example "$1" || return
    echo "$CARGO_TARGET_DIR/release/examples/$1"
}

# over_layouts EXAMPLE LAYOUTS OUT ARG...: runs `EXAMPLE paired ARG...`
# under layouts 1 to LAYOUTS, writing its rows to OUT, each after its seed.
over_layouts() {
    local example=$1 layouts=$2 out=$3 seed runner
    shift 3
    : > "$out"
    for seed in $(seq 1 "$layouts"); do
        runner=$(build "$example" "$seed")
        "$runner" paired "$@" | tail -n +2 | sed "s/^/$seed\t/" >> "$out"
        echo "layout $seed of $layouts done" >&2
    done
}

# summarise ROWS [SUMMARY]: prints, per comparison, the median over layouts
# of the runner's medians and their spread; writes them to SUMMARY as
# tab-separated values if given.
summarise() {
    python3 - "$@" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    seed, case, against, a, b, ratio, lo, hi, target = line.rstrip("\n").split("\t")
    rows.setdefault((case, against, target), []).append((float(a), float(b), float(ratio)))
summary = []
for (case, against, target), values in rows.items():
    ratios = [r for _, _, r in values]
    summary.append((case, against, statistics.median(a for a, _, _ in values),
                    statistics.median(b for _, b, _ in values), statistics.median(ratios),
                    min(ratios), max(ratios), len(values), target))
print(f"{'case':<18}{'against':<16}{'case ns':>9}{'against ns':>12}{'ratio':>8}"
      f"{'layouts min-max':>18}  target")
for case, against, a, b, ratio, lo, hi, _, target in summary:
    print(f"{case:<18}{against:<16}{a:>9.1f}{b:>12.1f}{ratio:>8.3f}{lo:>9.3f}-{hi:.3f}  {target}")
if len(sys.argv) > 2:
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        out.write("case\tagainst\tcase_ns\tagainst_ns\tratio\tmin_ratio\tmax_ratio\tlayouts\n")
        for row in summary:
            out.write("\t".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row[:8]) + "\n")
PY
}
