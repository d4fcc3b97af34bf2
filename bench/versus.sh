#!/usr/bin/env bash
# The simulator's speed against an earlier build of itself, measured side by side in one run on
# one machine: bench_sim_run built from BASE_REV and from the working tree run alternately,
# ROUNDS times each, and the median simulated packets per second of each are compared for each
# client count. The goal: the working tree is no more than 5 % slower than the base.
#
# usage: bench/versus.sh BASE_REV [ROUNDS]   (make bench runs it with BENCH_BASE)
# Exits 0 when the goal is met, 1 when it is not, 2 when a build or a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=$1
rounds=${2:-3}
jobs=$(nproc 2>/dev/null || echo 2)
work=build/bench-base

if ! git rev-parse --verify --quiet "$base_rev^{commit}" >/dev/null; then
    echo "versus: $base_rev is not a commit of this repository; skipped"
    exit 0
fi
git worktree prune
rm -rf "$work"
git worktree add --detach "$work" "$base_rev" >/dev/null 2>&1
trap 'git worktree remove --force "$work" >/dev/null 2>&1 || true' EXIT
cmake -S "$work" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF \
    -DHANDOFF_BENCH=ON >/dev/null && cmake --build "$work/build" -j "$jobs" --target bench_sim_run \
    >/dev/null || { echo "versus: building $base_rev failed" >&2; exit 2; }
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DHANDOFF_TESTS=OFF -DHANDOFF_BENCH=ON \
    >/dev/null && cmake --build build/bench -j "$jobs" --target bench_sim_run >/dev/null ||
    { echo "versus: building the working tree failed" >&2; exit 2; }

# Each run prints a table whose rows start with the client count; column 3 is packets/s.
results=$(mktemp)
trap 'rm -f "$results"; git worktree remove --force "$work" >/dev/null 2>&1 || true' EXIT
short=$(git rev-parse --short "$base_rev")
echo "versus: bench_sim_run of $short and of the working tree, alternately, $rounds rounds"
for r in $(seq 1 "$rounds"); do
    for side in base new; do
        bin=build/bench/bench_sim_run
        [ "$side" = base ] && bin=$work/build/bench_sim_run
        "$bin" | awk -v s="$side" '$1 ~ /^[0-9]+$/ { print s, $1, $3 }' >>"$results" ||
            { echo "versus: the $side run failed" >&2; exit 2; }
    done
    echo "  round $r of $rounds done"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
status=0
printf '  %8s %16s %16s %8s\n' clients "$short pkts/s" "new pkts/s" "new/base"
for c in $(awk '{ print $2 }' "$results" | sort -un); do
    b=$(awk -v c="$c" '$1 == "base" && $2 == c { print $3 }' "$results" | median)
    n=$(awk -v c="$c" '$1 == "new" && $2 == c { print $3 }' "$results" | median)
    ratio=$(awk -v b="$b" -v n="$n" 'BEGIN { printf "%.3f", n / b }')
    printf '  %8s %16.0f %16.0f %8s\n' "$c" "$b" "$n" "$ratio"
    awk -v r="$ratio" 'BEGIN { exit !(r < 0.95) }' && status=1
done
if [ $status -eq 0 ]; then
    echo "versus: goal met (the working tree is at most 5 % slower than $short at every size)"
else
    echo "versus: GOAL MISSED: the working tree is more than 5 % slower than $short"
fi
exit $status
