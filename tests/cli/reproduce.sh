#!/usr/bin/env bash
# `handoff reproduce` end to end on short runs: every section of the report, the paper's numbers
# beside ours, the claims checklist, results.json, per-run files, time series and figures; and
# clear errors for bad options. (The numbers of such short runs mean nothing; the full
# reproduction is `make reproduce`.)
# usage: tests/cli/reproduce.sh PATH_TO_HANDOFF
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" reproduce --out "$tmp/out" --seeds 1 --warmup 2000 --measure 4000 --quiet
r="$tmp/out/report.md"
[ -s "$r" ] || fail "no report"
for s in "## The paper's claims" "## Table 1" "## Figure 5" "## Figure 6" "## Figure 7" \
    "## Figure 8" "## Figure 4" "## Mean HTTP response time" "## The model"; do
    grep -q "^$s" "$r" || fail "report lacks '$s'"
done
grep -q "| 23031 |" "$r" || fail "Table 1 lacks the paper's baseline"
grep -qE "claims reproduced within their bands" "$r" || fail "no claims summary"
[ "$(ls "$tmp/out/runs" | wc -l)" -eq 60 ] || fail "expected 60 runs, got $(ls "$tmp/out/runs" | wc -l)"
[ -s "$tmp/out/results.json" ] || fail "no results.json"
[ "$(grep -c '"config"' "$tmp/out/results.json")" -eq 60 ] || fail "results.json incomplete"
[ -s "$tmp/out/timeseries/W-4096-P-L-FCFS-400.csv" ] || fail "no Figure 6 time series"
if command -v gnuplot >/dev/null; then
    for f in fig4 fig5-W fig6-W fig7-W fig8; do
        [ -s "$tmp/out/figures/$f.svg" ] && [ -s "$tmp/out/figures/$f.png" ] || fail "no figure $f"
    done
fi

expect_usage() {
    local want=$1
    shift
    set +e
    "$bin" reproduce "$@" >/dev/null 2>"$tmp/err"
    local st=$?
    set -e
    [ $st -eq 2 ] || fail "'$*' exited $st, expected 2"
    grep -q -- "$want" "$tmp/err" || fail "'$*' did not say '$want'"
}
expect_usage "--seeds" --seeds 0
expect_usage "--seeds" --seeds 99
expect_usage "--jobs" --jobs x
expect_usage "--bogus" --bogus
"$bin" reproduce --help | grep -q 'report.md' || fail "--help"
echo "reproduce.sh: all checks passed"
