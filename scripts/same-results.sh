#!/usr/bin/env bash
# Checks that a change is a pure refactor of the simulator: every run `handoff reproduce` makes
# gives the same results, byte for byte, with the program built from a base revision and with
# the working tree's.
#
# Both programs run `handoff reproduce` (every configuration and seed of the report, the
# sensitivity study included) into their own directory. Then every runs/*.json is compared
# without its wall_seconds line (the only field that measures the machine, not the model) and its
# version line (which names the program, not the model), as are results.json and every time
# series CSV (without its provenance comment line, which holds the version). Against a base made
# before the results recorded their provenance, the provenance fields are left out of the
# comparison too. The report and the figures follow from those.
#
# usage: scripts/same-results.sh [BASE_REV] [-- REPRODUCE_OPTIONS...]
#   BASE_REV           the revision to compare against (default HEAD: the last commit)
#   REPRODUCE_OPTIONS  passed to both reproduce runs (e.g. --seeds 1)
# It builds BASE_REV in build/same-results/base (a git worktree) and the working tree in build/,
# writes the outputs under build/same-results/, and exits 0 if every result is the same, 1 if
# any differs (listing them), 2 if a build or a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=HEAD
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    base_rev=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

work=build/same-results
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$work"
rm -rf "$work/base" "$work/out-base" "$work/out-new"
git worktree prune
git worktree add --detach "$work/base" "$base_rev" >/dev/null 2>&1
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true' EXIT

echo "same-results: building $base_rev ($(git rev-parse --short "$base_rev")) and the working tree"
cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF \
    >/dev/null && cmake --build "$work/base/build" -j "$jobs" >/dev/null || {
    echo "same-results: building $base_rev failed" >&2
    exit 2
}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF >/dev/null &&
    cmake --build build -j "$jobs" >/dev/null || {
    echo "same-results: building the working tree failed" >&2
    exit 2
}

for side in base new; do
    bin=build/handoff
    [ "$side" = base ] && bin=$work/base/build/handoff
    echo "same-results: handoff reproduce with the $side program"
    "$bin" reproduce --out "$work/out-$side" "$@" </dev/null >"$work/$side.log" 2>&1 || {
        echo "same-results: the $side program's reproduce failed; see $work/$side.log" >&2
        exit 2
    }
done

# A run's JSON without what differs between two programs that compute the same results; and,
# when the base's files have no provenance ($2 = old), without the provenance fields.
strip_wall() {
    if [ "${2:-}" = old ]; then
        sed -e '/^  "configuration": {/,/^  }/d' "$1" |
            grep -v -E '^  "(shorthand|warmup_packets|measure_packets|trace|trace_sha256|trace_looped)":'
    else
        cat "$1"
    fi | grep -v -E '"(wall_seconds|version)"'
}
strip_csv() { grep -v '^# handoff-provenance ' "$1"; }
old=
grep -q '"configuration"' "$work"/out-base/results.json || old=old
differ=0
compared=0
for f in "$work"/out-base/runs/*.json "$work"/out-base/results.json; do
    rel=${f#"$work"/out-base/}
    g=$work/out-new/$rel
    compared=$((compared + 1))
    if [ ! -f "$g" ] || ! cmp -s <(strip_wall "$f") <(strip_wall "$g" $old); then
        echo "differs: $rel"
        differ=1
    fi
done
for f in "$work"/out-base/timeseries/*.csv; do
    rel=${f#"$work"/out-base/}
    compared=$((compared + 1))
    if ! cmp -s <(strip_csv "$f") <(strip_csv "$work/out-new/$rel"); then
        echo "differs: $rel"
        differ=1
    fi
done
n_base=$(find "$work/out-base" -name '*.json' -o -name '*.csv' | wc -l)
n_new=$(find "$work/out-new" -name '*.json' -o -name '*.csv' | wc -l)
if [ "$n_base" != "$n_new" ]; then
    echo "the base wrote $n_base JSON and CSV files, the working tree $n_new"
    differ=1
fi
if [ "$differ" = 0 ]; then
    echo "same-results: all $compared files the same (wall_seconds and version aside)"
fi
exit $differ
