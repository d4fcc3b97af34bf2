#!/usr/bin/env bash
# tests/cli/provenance.sh - research-grade runs (issue 14): every output records how it was made
# (version, complete configuration, seed, run lengths, trace and its SHA-256); `handoff run
# --from` reruns a run exactly; `sweep merge` takes the run lengths from the runs and refuses to
# mix versions or lengths; every file is written atomically (a failed write leaves no partial or
# temporary file, and the previous file intact); `sweep run` and `reproduce` keep finished runs
# with --resume, move aside results that do not belong to them, say why a run failed, and stop
# cleanly on SIGINT with a report of what is done (exit 130).
#
# Short runs and a grid of two configurations keep it fast; the one full `reproduce` is stopped
# after its first runs.
# usage: tests/cli/provenance.sh PATH_TO_HANDOFF
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
# The value of a top-level key of a run's JSON (as handoff writes it: one key a line).
key() { sed -n "s/^  \"$2\": \\(.*\\)\$/\\1/p" "$1" | sed 's/,$//' | head -1; }
version=$("$bin" version | sed 's/^handoff //')
[ -n "$version" ] || fail "handoff version printed nothing"

# ---- handoff run --json and --timeseries: the provenance keys ---------------------------------
"$bin" trace gen W --out w.wc --requests 20000 --seed 2 >/dev/null
"$bin" run W-256-P-L-FCFS-400 --trace w.wc --warmup 2000 --measure 8000 --seed 5 --quiet \
    --json a.json --timeseries a.csv 2>/dev/null
for k in config shorthand seed version warmup_packets measure_packets trace trace_sha256 \
    trace_looped configuration wall_seconds requests_per_s; do
    grep -q "^  \"$k\":" a.json || fail "run --json lacks $k"
done
[ "$(key a.json version)" = "\"$version\"" ] || fail "version: $(key a.json version)"
[ "$(key a.json seed)" = 5 ] && [ "$(key a.json warmup_packets)" = 2000 ] &&
    [ "$(key a.json measure_packets)" = 8000 ] || fail "seed or run lengths not recorded"
[ "$(key a.json trace_sha256)" = "\"$(sha256sum w.wc | cut -d' ' -f1)\"" ] ||
    fail "trace_sha256 is not the trace's SHA-256"
# Every key --print-config prints, the cost model's included.
"$bin" run W-256-P-L-FCFS-400 --print-config | awk '$2 == "=" { print $1 }' | while read -r k; do
    grep -q "^    \"$k\": " a.json || fail "configuration lacks $k"
done
grep -q '^    "cost.nic_tcp_rx": "[0-9]*"' a.json || fail "configuration lacks the cost model"
head -1 a.csv | grep -q "^# handoff-provenance {.*\"version\":\"$version\"" ||
    fail "the time series does not start with its provenance"
head -1 a.csv | grep -q '"cost.nic_tcp_rx":' || fail "the time series' provenance lacks the costs"

# ---- --from: the same run again ----------------------------------------------------------------
"$bin" run --from a.json --quiet --json b.json 2>err
cmp -s <(grep -v wall_seconds a.json) <(grep -v wall_seconds b.json) ||
    fail "--from gave another JSON: $(diff <(grep -v wall_seconds a.json) <(grep -v wall_seconds b.json))"
grep -q "was made by handoff" err && fail "--from warned of a version it shares: $(cat err)"
# Another version: a warning, the same run.
sed 's/^  "version": .*/  "version": "0.0.0-other",/' a.json >other.json
"$bin" run --from other.json --quiet --json c.json 2>err
grep -q "handoff run: warning: other.json was made by handoff 0.0.0-other, this is handoff $version" err ||
    fail "no warning of another version: $(cat err)"
cmp -s <(grep -v wall_seconds a.json) <(grep -v wall_seconds c.json) || fail "--from other.json differs"
# A changed trace: refused.
cp w.wc w.orig && "$bin" trace gen W --out w.wc --requests 20000 --seed 3 >/dev/null
set +e
"$bin" run --from a.json --quiet --json d.json 2>err
st=$?
set -e
[ $st -eq 1 ] && grep -q "handoff run: the trace w.wc is not the one a.json replayed: its SHA-256 is" err ||
    fail "a changed trace was not refused ($st): $(cat err)"
[ -e d.json ] && fail "a refused --from wrote its JSON"
mv w.orig w.wc

# ---- atomic writes: a full disk (a file-size limit) leaves the old file and no temporary ----------
printf 'old\n' >keep.json
set +e
(
    trap '' XFSZ
    ulimit -f 1
    exec "$bin" run W-0-N-N-FCFS-400 --warmup 2000 --measure 20000 --quiet --json keep.json \
        --timeseries keep.csv --pcap keep.pcap
) 2>err
st=$?
set -e
[ $st -eq 1 ] || fail "a write past the size limit exited $st"
grep -q "handoff run: .*keep.pcap: writing the capture failed: File too large" err ||
    fail "the capture's failure not named: $(cat err)"
[ "$(cat keep.json)" = old ] || fail "a failed write changed keep.json"
[ -e keep.pcap ] || [ -e keep.csv ] && fail "a failed run left its capture or time series"
ls -A | grep -q '\.tmp\.' && fail "temporaries left: $(ls -A)"
set +e
(
    trap '' XFSZ
    ulimit -f 1
    exec "$bin" run W-0-N-N-FCFS-400 --warmup 2000 --measure 20000 --quiet --json keep.json
) 2>err
st=$?
set -e
[ $st -eq 1 ] && grep -q "handoff run: cannot write 'keep.json': File too large" err ||
    fail "a JSON past the size limit ($st): $(cat err)"
[ "$(cat keep.json)" = old ] || fail "a failed JSON write changed keep.json"
ls -A | grep -q '\.tmp\.' && fail "temporaries left: $(ls -A)"

# ---- reproduce: a failed run says why, and leaves no partial file --------------------------------
set +e
(
    trap '' XFSZ
    ulimit -f 2
    exec "$bin" reproduce --out full --seeds 1 --warmup 2000 --measure 4000 --jobs 1 --quiet
) 2>err
st=$?
set -e
[ $st -eq 1 ] || fail "reproduce on a full disk exited $st"
grep -q "^handoff reproduce: W-0-N-N-FCFS-400 seed 1 failed: cannot write 'full/runs/W-0-N-N-FCFS-400-s1.json': File too large$" err ||
    fail "reproduce does not say why a run failed: $(cat err)"
[ -z "$(ls -A full/runs)" ] || fail "a failed run left files: $(ls -A full/runs)"

# ---- sweep run: --resume keeps finished runs; merge takes their lengths -------------------------
printf 'W-0-N-N-FCFS-400\nW-256-P-L-FCFS-400\n' >grid
grid=(--configs grid --seeds 2 --warmup 2000 --measure 20000)
"$bin" sweep run "${grid[@]}" --shard 1/2 --out s1 --quiet
"$bin" sweep run "${grid[@]}" --shard 2/2 --out s2 --quiet
touch -d '2001-01-01' s1/runs/*.json
"$bin" sweep run "${grid[@]}" --shard 1/2 --out s1 --resume 2>err
grep -q "handoff sweep run: kept 2 runs already done by this version with the same configuration (--resume); 0 to run" err ||
    fail "--resume did not say what it kept: $(cat err)"
[ -z "$(find s1/runs -type f -newermt 2002-01-01)" ] || fail "--resume redid a finished run"
rm s1/runs/W-256-P-L-FCFS-400-s1.json
"$bin" sweep run "${grid[@]}" --shard 1/2 --out s1 --resume 2>err
grep -q "kept 1 run already done .*; 1 to run" err || fail "--resume after a loss: $(cat err)"
[ -s s1/runs/W-256-P-L-FCFS-400-s1.json ] || fail "--resume did not redo the missing run"
# The merged report states the runs' lengths, not the defaults.
"$bin" sweep merge --configs grid --seeds 2 --out m s1 s2 --quiet
grep -q "2000 packets of warm-up and 20000 measured per run" m/report.md ||
    fail "merge reports the wrong run lengths: $(grep -m1 'warm-up' m/report.md)"
grep -q "^- Program: handoff $version" m/report.md || fail "the report does not name the version"
grep -q '^## Provenance' m/report.md || fail "the report has no provenance"
grep -q '^| `cost.nic_tcp_rx` |' m/report.md || fail "the report lacks the cost model"
grep -q '"version": "'"$version"'"' m/results.json && grep -q '"cost.nic_tcp_rx"' m/results.json &&
    grep -q '"warmup_packets": 2000' m/results.json || fail "results.json lacks the provenance"
# --warmup given to merge is checked against the runs; shards of different lengths are refused.
set +e
"$bin" sweep merge --configs grid --seeds 2 --warmup 3000 --out m2 s1 s2 2>err
st=$?
set -e
[ $st -eq 1 ] && grep -q "ran 2000 packets of warm-up and 20000 measured, not the --warmup 3000 given" err ||
    fail "merge accepted runs of another --warmup ($st): $(cat err)"
"$bin" sweep run "${grid[@]}" --measure 30000 --shard 2/2 --out s3 --quiet
set +e
"$bin" sweep merge --configs grid --seeds 2 --out m3 s1 s3 2>err
st=$?
set -e
[ $st -eq 1 ] && grep -q "s3/runs/.* with 2000 packets of warm-up and 30000 measured, s1/runs/.* with 2000 and 20000" err ||
    fail "merge mixed run lengths ($st): $(cat err)"

# ---- stale results are moved aside, never reported -------------------------------------------------
cp s2/runs/W-0-N-N-FCFS-400-s2.json s1/runs/W-0-N-N-FCFS-400-s7.json
sed 's/^  "version": .*/  "version": "0.0.0-other",/' s1/runs/W-0-N-N-FCFS-400-s1.json >v.json
mv v.json s1/runs/W-0-N-N-FCFS-400-s1.json
"$bin" sweep run "${grid[@]}" --shard 1/2 --out s1 --resume 2>err
grep -q "handoff sweep run: moved 2 files that do not belong to these runs into s1/stale/ (1 of other configurations or seeds, 1 made by another version" err ||
    fail "stale results not moved aside: $(cat err)"
[ -e s1/stale/runs/W-0-N-N-FCFS-400-s7.json ] && [ -e s1/stale/runs/W-0-N-N-FCFS-400-s1.json ] ||
    fail "stale results not in s1/stale/runs"
grep -q '"version": "'"$version"'"' s1/runs/W-0-N-N-FCFS-400-s1.json || fail "the stale run was not redone"

# ---- SIGINT mid-reproduce: exit 130, a report of what is done, what is missing --------------------
"$bin" reproduce --out r --seeds 1 --warmup 2000 --measure 40000 --jobs 2 2>err &
pid=$!
for _ in $(seq 600); do
    [ -n "$(ls r/runs 2>/dev/null)" ] && break
    sleep 0.1
done
kill -INT $pid
set +e
wait $pid
st=$?
set -e
[ $st -eq 130 ] || fail "reproduce stopped by SIGINT exited $st: $(cat err)"
grep -q "^handoff reproduce: interrupted by SIGINT: [0-9]* of 127 runs done, [0-9]* missing: [A-Z]-[0-9]*-.* seed 1" err ||
    fail "the missing runs not named: $(cat err)"
grep -q "wrote r/report.md with the runs done, marked incomplete" err || fail "no report said: $(cat err)"
grep -q '^\*\*Incomplete: the run was interrupted.\*\* [0-9]* of its 127 runs are missing' r/report.md ||
    fail "the report is not marked incomplete"
[ "$(grep -c '"config"' r/results.json)" -eq "$(ls r/runs | wc -l)" ] ||
    fail "results.json does not hold exactly the runs done"
find r -name '.*.tmp.*' | grep -q . && fail "temporaries left: $(find r -name '.*.tmp.*')"
echo "provenance.sh: all checks passed"
