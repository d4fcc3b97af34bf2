# tests/emu/lib.sh - what the emulator's test scripts share: skipping, failing, starting and
# stopping `handoff emu`, cleaning up, and reading its statistics. Sourced, not run.
#
# The script sets, before sourcing: handoff (the program), ns (its namespace, unique to it),
# addr (ours), and work (its temporary directory, or empty until made). It may add the PIDs of
# clients it starts in the background to the array pids, which cleanup ends.
emu_pid=
pids=()

skip() {
    echo "SKIP: $1"
    exit 77
}

# Stops the emulator with SIGTERM and returns its exit status (0 if none runs).
stop_emu() {
    local rc=0
    if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
        kill -TERM "$emu_pid" 2>/dev/null
        wait "$emu_pid"
        rc=$?
    fi
    emu_pid=
    return $rc
}

cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    stop_emu
    ip netns del "$ns" 2>/dev/null
    [ -n "$work" ] && rm -rf "$work"
}

fail() {
    echo "FAIL: $*"
    stop_emu
    [ -s "$work/emu.err" ] && { echo "--- emu stderr"; tail -20 "$work/emu.err"; }
    exit 1
}

# start_emu [CONFIG] [OPTIONS...]: starts the emulator in $ns at $addr with statistics in
# $work/stats.jsonl, and waits (60 s at most) for its ready line.
start_emu() {
    : >"$work/emu.out"
    "$handoff" emu "$@" --netns "$ns" --addr "$addr" --stats "$work/stats.jsonl" \
        >"$work/emu.out" 2>"$work/emu.err" &
    emu_pid=$!
    for _ in $(seq 600); do
        grep -q '^ready ' "$work/emu.out" 2>/dev/null && break
        kill -0 "$emu_pid" 2>/dev/null || fail "the emulator exited before it was ready"
        sleep 0.1
    done
    grep -qx "ready http://$addr:80/ netns $ns" "$work/emu.out" ||
        fail "no ready line: $(cat "$work/emu.out")"
}

in_ns() { ip netns exec "$ns" "$@"; }
ls_emu() { "$handoff" emu ls --netns "$ns"; }
# A statistic's last value, every value, the largest.
stat_last() { tail -1 "$work/stats.jsonl" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
stat_all() { grep -o "\"$1\":[0-9]*" "$work/stats.jsonl" | cut -d: -f2; }
stat_max() { stat_all "$1" | sort -n | tail -1; }
