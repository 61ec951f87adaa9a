#!/usr/bin/env bash
# A linker wrapper for benches/limits.sh: links with lld, shuffling the
# order of the code's sections with the seed in SHUFFLE_SEED (none if it is
# unset), so that one program can be measured under several code layouts.
if [ -n "${SHUFFLE_SEED:-}" ]; then
    exec cc -fuse-ld=lld "-Wl,--shuffle-sections=.text*=${SHUFFLE_SEED}" "$@"
fi
exec cc -fuse-ld=lld "$@"
