#!/usr/bin/env bash
# `handoff calibrate`: it fits the baseline on short runs, writes a configuration that loads
# back, refuses what is not the baseline, and names what is wrong in its options.
# usage: tests/cli/calibrate.sh PATH_TO_HANDOFF
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A short fit converges (the method does not depend on the run's length) and reports the costs.
"$bin" calibrate --warmup 20000 --measure 40000 --rounds 12 --out "$tmp/cal.conf" >"$tmp/out" ||
    fail "calibrate failed: $(cat "$tmp/out")"
grep -q '^fitted (net x ' "$tmp/out" || fail "no fit reported"
for k in cost.host_rx_pkt cost.sys_read cost.nic_host_rx cost.nic_tcp_rx cost.nic_tcp_tx; do
    grep -q "^$k = [0-9][0-9]*$" "$tmp/out" || fail "$k missing from the output"
    grep -q "^$k = [0-9][0-9]*$" "$tmp/cal.conf" || fail "$k missing from --out"
done
# The file is a configuration: it loads, and a run of it meets the targets it was fitted to.
"$bin" run "$tmp/cal.conf" --warmup 20000 --measure 40000 --json "$tmp/r.json" --quiet ||
    fail "the fitted configuration does not run"
awk -F'[:,]' '/"requests_per_s"/ { r = $2 } /"nic_idle_pct"/ { i = $2 } /"host_net_pct"/ { s = $2 }
    END { exit !(r > 22800 && r < 23300 && i > 61 && i < 63 && s > 56 && s < 58) }' "$tmp/r.json" ||
    fail "the fitted configuration misses the targets: $(cat "$tmp/r.json")"

expect_error() {
    local want=$1
    shift
    set +e
    "$bin" calibrate "$@" >"$tmp/o" 2>"$tmp/e"
    local st=$?
    set -e
    [ $st -eq 2 ] || fail "calibrate $* exited $st, expected 2"
    grep -q -- "$want" "$tmp/e" || fail "calibrate $* did not say '$want': $(cat "$tmp/e")"
}
expect_error "without handoff" --config W-1024-P-N-FCFS-400
expect_error "without handoff" --config S-0-N-N-FCFS-400
expect_error "from 1 to 100" --seeds 0
expect_error "from 1 to 100" --rounds x
expect_error "unknown option" --bogus
expect_error "needs a value" --out
expect_error "unexpected argument" extra
expect_error "unknown key" --config W-0-N-N-FCFS-400,cost.nope=1
"$bin" calibrate --help | grep -q 'W-0-N-N-FCFS-400' || fail "--help does not name the baseline"
echo "calibrate.sh: all checks passed"
