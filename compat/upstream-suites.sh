#!/usr/bin/env bash
# Runs the test suites of crates that depend on tower twice, as published
# on crates.io: once on tower, once with tower, tower-service and tower-layer
# patched to donjon's stand-ins (compat/shim), and compares the outcome of
# every test.
#
#   compat/upstream-suites.sh [crate-version ...]
#
# Default crates: axum-0.8.9 tower-http-0.6.11 tonic-0.14.9. Each is built
# from its published .crate, with the Cargo.lock it was published with, so
# that both runs resolve the same versions of everything but tower (tower
# itself is 0.5.3 on both sides). Work goes
# to $SUITES_DIR (default target/upstream-suites); reports are printed and kept
# in $SUITES_DIR/report-<crate>.txt. Exits non-zero if a test passes on tower
# and not on donjon, or if a run finds no test at all.
#
# Not run by .ci/run: it downloads crates and builds three large dependency
# trees twice (about 40 minutes on 2 cores with a cold cache).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${SUITES_DIR:-$root/target/upstream-suites}
mkdir -p "$work"
export CARGO_TARGET_DIR=$work/target
export CARGO_TERM_COLOR=never

# The features each crate is tested with: all of them, but for tonic's
# aws-lc TLS backend (a large C build; ring is tested instead).
features_of() {
    case "$1" in
        tonic-*) echo "--features channel,codegen,deflate,gzip,h2,router,server,tls-connect-info,tls-native-roots,tls-ring,tls-webpki-roots,transport,zstd" ;;
        *) echo "--all-features" ;;
    esac
}

# What the published manifest lost: dev-dependencies on the crate's
# repository siblings by path are dropped on publishing. They come back from
# crates.io, with the crate itself patched in so that they use this copy.
extra_manifest_of() {
    case "$1" in
        axum-*) cat <<'EXTRA'

[dev-dependencies.axum-extra]
version = "0.12"
features = ["typed-header"]

[dev-dependencies.axum-macros]
version = "0.5"
features = ["__private"]
EXTRA
        ;;
    esac
}

self_patch_of() {
    case "$1" in
        axum-*) echo 'axum = { path = "." }' ;;
    esac
}

patch_section() { # crate side
    echo
    echo "[patch.crates-io]"
    self_patch_of "$1"
    if [ "$2" = donjon ]; then
        echo "tower = { path = \"$root/compat/shim/tower\" }"
        echo "tower-service = { path = \"$root/compat/shim/tower-service\" }"
        echo "tower-layer = { path = \"$root/compat/shim/tower-layer\" }"
    fi
}

# Files of the crate's repository that its tests read and its published
# crate lacks. tower-http's file-serving tests read the repository's README
# (any README does: a test compares the served bytes with the file) and
# fixtures under test-files/, which only its repository has: give a checkout's
# test-files/ in TOWER_HTTP_TEST_FILES to run those tests; without it they fail
# on both sides, and the report counts them among the failures.
repository_files() { # crate repository
    case "$1" in
        tower-http-*)
            cp "$2/tower-http/README.md" "$2/README.md"
            if [ -n "${TOWER_HTTP_TEST_FILES:-}" ]; then
                cp -r "$TOWER_HTTP_TEST_FILES" "$2/test-files"
            fi
            ;;
    esac
}

# Versions the crate's lock file holds that crates.io has since yanked, which
# cargo will not keep once it re-resolves anything: moved to the newest
# version not yanked, on both sides alike.
unyank() { # crate
    case "$1" in
        tonic-0.14.9) cargo update --quiet -p webpki-roots@1.0.11 ;;
    esac
}

# The version of a package the lock file holds (the first, if several).
locked_version() { # package
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# Both runs on the versions the stand-ins answer for: tower 0.5.3,
# tower-service 0.3.3 and tower-layer 0.3.3 (the crate's lock file may hold
# older ones), from crates.io on one side and patched on the other.
align_tower() { # side
    local package locked
    for package in tower:0.5.3 tower-service:0.3.3 tower-layer:0.3.3; do
        locked=$(locked_version "${package%:*}")
        [ -n "$locked" ] || continue
        if [ "$1" = tower ]; then
            cargo update --quiet -p "${package%:*}@$locked" --precise "${package#*:}"
        else
            cargo update --quiet -p "${package%:*}@$locked"
        fi
    done
}

# One line per test: "<binary> <name> <outcome>", from libtest's output.
outcomes() {
    awk '
        /^     Running / { bin = $2 }
        /^   Doc-tests / { bin = "doctests:" $2 }
        /^test .* \.\.\. (ok|FAILED|ignored)/ {
            line = $0; sub(/^test /, "", line)
            outcome = line; sub(/.* \.\.\. /, "", outcome); sub(/ .*/, "", outcome)
            name = line; sub(/ \.\.\. .*/, "", name)
            sub(/.*\//, "", bin); sub(/-[0-9a-f]+\)?$/, "", bin); sub(/^\(/, "", bin)
            print bin " " name " " outcome
        }' "$1" | sort
}

status=0
crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(axum-0.8.9 tower-http-0.6.11 tonic-0.14.9)
for crate in "${crates[@]}"; do
    name=${crate%-*}
    file=$work/$crate.crate
    [ -s "$file" ] || curl -sSfL -o "$file" "https://static.crates.io/crates/$name/$crate.crate"
    for side in tower donjon; do
        # The crate unpacked where its repository would hold it: some tests
        # read files next to it (see repository_files).
        repo=$work/$side/$crate
        dir=$repo/$name
        rm -rf "$repo" && mkdir -p "$repo"
        tar xzf "$file" -C "$repo" && mv "$repo/$crate" "$dir"
        repository_files "$crate" "$repo"
        # A workspace of its own, so that no enclosing manifest claims it.
        {
            printf '\n[workspace]\n'
            extra_manifest_of "$crate"
            patch_section "$crate" "$side"
        } >> "$dir/Cargo.toml"
        echo "==> $crate on $side"
        (cd "$dir" && unyank "$crate" && align_tower "$side")
        # shellcheck disable=SC2046
        (cd "$dir" && cargo test $(features_of "$crate") --no-fail-fast) \
            > "$work/$side-$crate.log" 2>&1 || true
        outcomes "$work/$side-$crate.log" > "$work/$side-$crate.outcomes"
        # shellcheck disable=SC2046
        (cd "$dir" && cargo tree -i tower $(features_of "$crate") -e normal,dev --depth 0) \
            > "$work/$side-$crate.tree" 2>&1 || true
    done
    report=$work/report-$crate.txt
    {
        echo "# $crate"
        for side in tower donjon; do
            o=$work/$side-$crate.outcomes
            printf '%-7s %4d tests: %4d ok, %3d failed, %3d ignored\n' "$side" \
                "$(wc -l < "$o")" "$(grep -c ' ok$' "$o" || true)" \
                "$(grep -c ' FAILED$' "$o" || true)" "$(grep -c ' ignored$' "$o" || true)"
        done
        echo "tower in each build: $(head -1 "$work/tower-$crate.tree"); $(head -1 "$work/donjon-$crate.tree")"
        if diff -q "$work/tower-$crate.outcomes" "$work/donjon-$crate.outcomes" >/dev/null; then
            echo "every test has the same outcome on both"
        else
            echo "outcomes that differ (< tower, > donjon):"
            diff "$work/tower-$crate.outcomes" "$work/donjon-$crate.outcomes" || true
        fi
    } | tee "$report"
    if [ ! -s "$work/tower-$crate.outcomes" ] || [ ! -s "$work/donjon-$crate.outcomes" ]; then
        echo "no test ran for $crate: see $work/*-$crate.log" >&2
        status=1
    fi
    # A test that passes on tower and fails, or does not run, on donjon.
    lost=$(comm -23 <(awk '$3 == "ok" { print $1 " " $2 }' "$work/tower-$crate.outcomes") \
        <(awk '$3 == "ok" { print $1 " " $2 }' "$work/donjon-$crate.outcomes"))
    if [ -n "$lost" ]; then
        printf '%s: passing on tower, not on donjon:\n%s\n' "$crate" "$lost" >&2
        status=1
    fi
    if ! grep -q "compat/shim/tower" "$work/donjon-$crate.tree"; then
        echo "$crate: tower did not resolve to donjon's stand-in" >&2
        status=1
    fi
done
exit $status
