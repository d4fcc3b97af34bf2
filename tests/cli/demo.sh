#!/usr/bin/env bash
# The `handoff demo` and `handoff reproduce` commands: outputs, determinism, the mechanisms the
# demo exists to show, and usage errors.
# usage: tests/cli/demo.sh PATH_TO_HANDOFF
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A JSON number field of the run named $2 in results file $1.
field() {
    tr -d '\n ' <"$1" | sed 's/},{/}\n{/g' | grep "\"config\":\"$2\"" |
        sed -E "s/.*\"$3\":([-0-9.eE+]+).*/\1/"
}

run() { "$bin" demo --config 1024-N-N --config 1024-P-N --config 4096-P-N --config 4096-P-L \
        --warmup 0.3 --measure 0.6 --seed 7 --quiet --out "$1" >/dev/null; }

run "$tmp/a"
for f in report.md results.json timeseries/demo-1024-N-N.csv timeseries/demo-4096-P-L.csv; do
    [ -s "$tmp/a/$f" ] || fail "missing $f"
done
grep -q 'not the reproduction' "$tmp/a/report.md" || fail "report does not say it is a demo"
head -1 "$tmp/a/timeseries/demo-4096-P-L.csv" | grep -q '^time_s,soft_limit,cnum,qlen,nic_busy$' ||
    fail "bad CSV header"
[ -e "$tmp/a/report.md.tmp" ] && fail "temporary file left behind"

# Same seed, same results, byte for byte.
run "$tmp/b"
cmp -s "$tmp/a/results.json" "$tmp/b/results.json" || fail "same seed gave different results"
cmp -s "$tmp/a/timeseries/demo-4096-P-L.csv" "$tmp/b/timeseries/demo-4096-P-L.csv" ||
    fail "same seed gave different time series"

# The mechanisms: host-first keeps host packets fast on a saturated NIC (Table 1 rows 3-4) ...
fcfs=$(field "$tmp/a/results.json" 1024-N-N host_recv_delay_median_us)
prio=$(field "$tmp/a/results.json" 1024-P-N host_recv_delay_median_us)
awk -v f="$fcfs" -v p="$prio" 'BEGIN { exit !(f > 10 * p) }' ||
    fail "host-first did not cut the host-packet delay (FCFS $fcfs us, host-first $prio us)"
# ... and only load control avoids receive-queue drops when too many connections are offered.
drops_n=$(field "$tmp/a/results.json" 4096-P-N nic_rx_drops)
drops_l=$(field "$tmp/a/results.json" 4096-P-L nic_rx_drops)
soft_l=$(field "$tmp/a/results.json" 4096-P-L soft_limit_mean)
[ "$drops_n" -gt 0 ] || fail "4096-P-N should overload the NIC and drop"
[ "$drops_l" -eq 0 ] || fail "4096-P-L dropped $drops_l packets"
awk -v s="$soft_l" 'BEGIN { exit !(s < 4096) }' || fail "Soft limit never came down ($soft_l)"

# Usage errors exit 2 with a message naming the problem.
expect_usage_error() {
    local want=$1
    shift
    set +e
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local st=$?
    set -e
    [ $st -eq 2 ] || fail "'$*' exited $st, expected 2"
    grep -q -- "$want" "$tmp/err" || fail "'$*' did not mention '$want': $(cat "$tmp/err")"
}
expect_usage_error "1024-X-N" demo --config 1024-X-N
expect_usage_error "--seed" demo --seed -3
expect_usage_error "--measure" demo --measure nan
expect_usage_error "--warmup" demo --warmup 0
expect_usage_error "--bogus" demo --bogus 1
expect_usage_error "--out" demo --out
expect_usage_error "unknown command" no-such-command

"$bin" demo --help | grep -q 'not the paper' || fail "demo --help does not say what it is"
"$bin" reproduce --help | grep -q 'report.md' || fail "reproduce --help says nothing of its report"
"$bin" --help | grep -q reproduce || fail "--help lists no commands"
echo "demo.sh: all checks passed"
