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
    "## Figure 8" "## Figure 4" "## Mean HTTP response time" "## The model" \
    "## What if the NIC's own work cost more" "## Beyond the paper" "### Size-aware selection" \
    "### Active restoration after a load step" "### Today's hardware" "### Adaptive load control: A"; do
    grep -q "^$s" "$r" || fail "report lacks '$s'"
done
grep -q "| 23031 |" "$r" || fail "Table 1 lacks the paper's baseline"
# Each value the paper's text states, on the row of its configuration.
grep -q '^| S-2048-N-N-FCFS-400 | host idle | 50 % |' "$r" || fail "S-2048-N-N lacks the paper's 50 % idle"
grep -qF '| S-2048-N-N-FCFS-400 | requests/s, change from S-0-N-N-FCFS-400 | *drops slightly* |' "$r" ||
    fail "S-2048-N-N lacks the paper's 'drops slightly'"
grep -q '^| S-2048-P-N-FCFS-400 | NIC idle | 8 % |' "$r" || fail "the paper's 8 % idle is not on S-2048-P-N"
if grep -q '^| S-4096-P-N-FCFS-400 | NIC idle | 8 % |' "$r"; then
    fail "the paper's 8 % idle is on S-4096-P-N"
fi
for g in 'I-4096-P-L-FCFS-600 | requests/s, change from I-4096-P-L-FCFS-400 | +21 % |' \
    'I-4096-P-L-FCFS-800 | requests/s, change from I-4096-P-L-FCFS-600 | +3 % |' \
    'S-4096-P-L-FCFS-600 | requests/s, change from S-4096-P-L-FCFS-400 | +16 % |' \
    'S-4096-P-L-FCFS-800 | requests/s, change from S-4096-P-L-FCFS-600 | +13 % |'; do
    grep -qF "| $g" "$r" || fail "the paper's NIC-speed gain '$g' is missing"
done
# Percentages (idle time, shares, changes) are compared in points, never relatively.
grep -qE '^\| no handoff \|.*\| 0 \| [+-][0-9]+ pts \| [^|]* \| 62 \| [+-][0-9]+ pts \|$' "$r" ||
    fail "Table 1's idle times not compared in points"
pct='host idle|NIC idle|connections handed off|packets the NIC consumed or generated'
if grep -qE "\| ($pct) \| [0-9]+ % \| [^|]* \| [+-][0-9]+ % \|" "$r"; then
    fail "a percentage compared as a relative difference"
fi
grep -qE 'change from [^|]* \| [+-][0-9]+ % \| [^|]* \| [+-][0-9]+ pts \|' "$r" ||
    fail "changes not compared in points"
grep -qE "claims reproduced within their bands" "$r" || fail "no claims summary"
# The report prints the model the runs used: the costs --print-config lists.
tcp_rx=$("$bin" run --print-config W-0-N-N-FCFS-400 | awk '$1 == "cost.nic_tcp_rx" { print $3 }')
[ -n "$tcp_rx" ] || fail "--print-config lacks cost.nic_tcp_rx"
grep -q "^| \`cost.nic_tcp_rx\` | $tcp_rx |" "$r" || fail "report lacks the cost model"
# 60 configurations of the paper, 12 with handoff rerun at two NIC-cost scales, and 43 beyond it.
[ "$(ls "$tmp/out/runs" | wc -l)" -eq 127 ] || fail "expected 127 runs, got $(ls "$tmp/out/runs" | wc -l)"
[ -s "$tmp/out/runs/W-1024-N-N-FCFS-400,cost.nic_scale_pct=200-s1.json" ] ||
    fail "no sensitivity run"
[ -s "$tmp/out/results.json" ] || fail "no results.json"
[ "$(grep -c '"config"' "$tmp/out/results.json")" -eq 127 ] || fail "results.json incomplete"
[ -s "$tmp/out/timeseries/W-4096-P-L-FCFS-400,workload.streams=256,step.nic_mips_at_ms=1500,step.nic_mips=200,nic.restore=queued.csv" ] ||
    fail "no time series of the load step"
[ -s "$tmp/out/timeseries/W-4096-P-L-FCFS-400.csv" ] || fail "no Figure 6 time series"
# Every run's provenance: in its file, in results.json, at the head of the time series, and in
# the report.
grep -q '"configuration": {' "$tmp/out/runs/W-0-N-N-FCFS-400-s1.json" &&
    grep -q '"warmup_packets": 2000' "$tmp/out/runs/W-0-N-N-FCFS-400-s1.json" ||
    fail "a run's file lacks its provenance"
[ "$(grep -c '"version":' "$tmp/out/results.json")" -eq 127 ] || fail "results.json lacks versions"
head -1 "$tmp/out/timeseries/W-4096-P-L-FCFS-400.csv" | grep -q '^# handoff-provenance {' ||
    fail "the time series lacks its provenance"
grep -q "^## Provenance" "$r" || fail "the report lacks its provenance"
grep -q '^| W-1024-N-N-FCFS-400,cost.nic_scale_pct=150 | `cost.nic_scale_pct = 150` |' "$r" ||
    fail "the report does not list the keys a configuration sets"
# --resume: nothing to run again, the same results.
cp "$tmp/out/results.json" "$tmp/results.before"
"$bin" reproduce --out "$tmp/out" --seeds 1 --warmup 2000 --measure 4000 --resume 2>"$tmp/err" >/dev/null
grep -q "kept 127 runs already done by this version with the same configuration (--resume); 0 to run" \
    "$tmp/err" || fail "reproduce --resume: $(cat "$tmp/err")"
cmp -s "$tmp/out/results.json" "$tmp/results.before" || fail "--resume changed results.json"
if command -v gnuplot >/dev/null; then
    for f in fig4 fig5 fig6-W fig7 fig8 fig8-mips; do
        [ -s "$tmp/out/figures/$f.svg" ] && [ -s "$tmp/out/figures/$f.png" ] || fail "no figure $f"
    done
fi
fig="$tmp/out/figures"
# Figures 5, 7 and 8: the configurations on the Y axis, six panels side by side.
for f in fig5 fig7 fig8; do
    grep -q 'ytic(2)' "$fig/$f.gp" && grep -q 'boxxyerror' "$fig/$f.gp" || fail "$f: not horizontal bars"
    [ "$(grep -c '^set lmargin at screen' "$fig/$f.gp")" -eq 12 ] || fail "$f: not six panels"
done
grep -q '^[0-9.]* S-2048-P-N-FCFS-400 ' "$fig/fig5.dat" || fail "fig5 lacks S-2048-P-N"
# Figure 6: the watermarks and the end of the warm-up.
grep -q "title 'Hiwat (1024)'" "$fig/fig6-W.gp" && grep -q "title 'Lowat (512)'" "$fig/fig6-W.gp" ||
    fail "Figure 6 lacks Hiwat and Lowat"
grep -q '^Hiwat 1024 and Lowat 512 packets' "$r" || fail "the report does not state Hiwat and Lowat"
# Figure 4: enough points for the longest 10 % of the connections.
[ "$(awk 'NR > 1 && $1 >= 90' "$fig/fig4.dat" | wc -l)" -ge 100 ] || fail "Figure 4 too coarse"

# The same runs as shards on "two machines", merged: the same results, byte for byte.
for i in 1 2; do
    "$bin" sweep run --seeds 1 --warmup 2000 --measure 4000 --shard $i/2 --jobs 1 --quiet \
        --out "$tmp/s$i"
done
[ "$(ls "$tmp/s1/runs" | wc -l)" -eq 64 ] || fail "shard 1 should hold 64 runs"
"$bin" sweep merge --seeds 1 --warmup 2000 --measure 4000 --quiet --out "$tmp/merged" \
    "$tmp/s1" "$tmp/s2"
cmp -s "$tmp/out/results.json" "$tmp/merged/results.json" || fail "merged shards differ"
grep -q "^## Table 1" "$tmp/merged/report.md" || fail "merged report lacks Table 1"
[ "$("$bin" sweep list | wc -l)" -eq 381 ] || fail "sweep list: expected 381 jobs"
[ "$("$bin" sweep list --set beyond | wc -l)" -eq 165 ] || fail "sweep list --set beyond: expected 165 jobs"
rm -rf "$tmp/s2/runs/W-0-N-N-FCFS-400-s1.json" "$tmp/s1/runs/W-0-N-N-FCFS-400-s1.json"
set +e
"$bin" sweep merge --seeds 1 --quiet --out "$tmp/m2" "$tmp/s1" "$tmp/s2" 2>"$tmp/err"
st=$?
set -e
[ $st -eq 1 ] && grep -q "W-0-N-N-FCFS-400-s1.json" "$tmp/err" || fail "a missing run not named"

# A grid of one's own.
printf '# my grid\nW-0-N-N-FCFS-400\n\nI-256-P-L-T4-600  # comment\nW-256-N-N-FCFS-400,nic.rx_queue=512\n' >"$tmp/grid"
"$bin" sweep run --configs "$tmp/grid" --seeds 1 --warmup 2000 --measure 4000 --quiet \
    --out "$tmp/g"
"$bin" sweep merge --configs "$tmp/grid" --seeds 1 --quiet --out "$tmp/g" "$tmp/g"
grep -q "| I-256-P-L-T4-600 |" "$tmp/g/report.md" || fail "grid report"
grep -q "| W-256-N-N-FCFS-400,nic.rx_queue=512 |" "$tmp/g/report.md" || fail "grid override"
printf 'W-0-N-N-FCFS-400\nW-0-X\n' >"$tmp/badgrid"
set +e
"$bin" sweep list --configs "$tmp/badgrid" 2>"$tmp/err"
st=$?
set -e
[ $st -eq 2 ] && grep -q "badgrid:2:" "$tmp/err" || fail "bad grid line not named"

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
set +e
"$bin" sweep run --shard 3/2 --out "$tmp/x" 2>"$tmp/err"
st=$?
set -e
[ $st -eq 2 ] && grep -q -- "--shard" "$tmp/err" || fail "bad shard accepted"
"$bin" sweep --help | grep -q 'parallel' || fail "sweep --help lacks the GNU parallel recipe"
"$bin" reproduce --help | grep -q 'report.md' || fail "--help"
echo "reproduce.sh: all checks passed"
