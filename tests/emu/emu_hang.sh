#!/usr/bin/env bash
# tests/emu/emu_hang.sh - the emulator's NIC hangs under load, and the driver's watchdog resets
# it; then its wire dies for a while.
#
# usage: tests/emu/emu_hang.sh PATH/TO/handoff   (CTest runs it as emu/hang)
#
# `handoff emu 1024-P-N-FCFS-0,os.watchdog_ms=300 --fault-hang-at 1 --fault-hang-for 30`:
# every connection is handed off, and one second after the ready line the NIC thread stops
# taking frames, commands and timers. While it hangs, two 16 MB downloads are under way and a
# client keeps asking for a small file. The driver, which has given the hung NIC work, hears
# nothing from it for 300 ms, resets it, and takes every connection back (docs/failures.md). The
# test checks:
#  - the statistics count one hang, one reset by the watchdog (watchdog_resets, nic_resets) and
#    connections taken back, none reset by the host;
#  - both downloads complete byte for byte, and every small file the client got is the file;
#  - the hang, which would have lasted 30 s, is over within a few seconds: the downloads end
#    long before it would have.
# Then `--fault-wire-drop-at 1 --fault-wire-drop-for 1` under a download: every frame is lost
# for a second both ways, TCP sends again what was lost, and the download ends byte for byte,
# with the frames lost counted (wire_lost) and no reset of the NIC.
# Last, the NIC gives every connection back unasked (`handoff emu upload`, as a Chimney offload
# target uploads them) and then the host asks for them all (`handoff emu reclaim`), each under
# downloads and a keep-alive client of small files: everything arrives byte for byte.
#
# Needs root, /dev/net/tun, ip, curl and sha256sum; without them it prints why and exits 77.
# Signals only the processes it started, by PID.
set -uo pipefail

handoff=${1:?usage: emu_hang.sh PATH/TO/handoff}
ns="ho-emuh-$$"
addr=10.77.0.2
work=
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip curl sha256sum; do
    command -v $tool >/dev/null || skip "no $tool"
done
[ -x "$handoff" ] || { echo "FAIL: $handoff is not executable"; exit 1; }
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-emuh-test.XXXXXX") || fail "mktemp failed"

root="$work/root"
mkdir -p "$root"
head -c 16000000 /dev/urandom >"$root/big1"
head -c 16000000 /dev/urandom >"$root/big2"
head -c 5000 /dev/urandom >"$root/small"
head -c 200000 /dev/urandom >"$root/mid"
(cd "$root" && sha256sum big1 big2 small mid) >"$work/want.sum"
want() { awk -v f="$1" '$2 == f { print $1 }' "$work/want.sum"; }
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

start_emu "1024-P-N-FCFS-0,os.watchdog_ms=300" --docroot "$root" --fault-hang-at 1 \
    --fault-hang-for 30
t0=$(date +%s)
for i in 1 2; do
    # 8 MB/s: under way well before the hang and after it.
    in_ns curl -s --fail --max-time 25 --limit-rate 8M -o "$work/big$i" "http://$addr/big$i" &
    pids+=($!)
done
small_ok=0
small_bad=0
for _ in $(seq 40); do
    if in_ns curl -s --fail --max-time 20 -o "$work/small" "http://$addr/small" 2>/dev/null; then
        if [ "$(sum_of "$work/small")" = "$(want small)" ]; then
            small_ok=$((small_ok + 1))
        else
            small_bad=$((small_bad + 1))
        fi
    fi
    sleep 0.1
done
for p in "${pids[@]}"; do
    wait "$p" || fail "a download failed (curl status $?)"
done
pids=()
t1=$(date +%s)
for i in 1 2; do
    [ "$(sum_of "$work/big$i")" = "$(want big$i)" ] || fail "big$i: wrong bytes"
done
[ "$small_bad" = 0 ] || fail "$small_bad small files with wrong bytes"
[ "$small_ok" -gt 0 ] || fail "no small file arrived"
sleep 0.3 # the statistics' next line
hangs=$(stat_last nic_hangs)
wd=$(stat_last watchdog_resets)
resets=$(stat_last nic_resets)
recovered=$(stat_last conns_recovered)
conns_reset=$(stat_last conns_reset)
[ "$hangs" = 1 ] || fail "nic_hangs is $hangs, not 1"
[ "$wd" = 1 ] || fail "the watchdog reset the NIC $wd times, not once"
[ "$resets" = 1 ] || fail "the host took $resets FW_UPs, not 1"
[ "$recovered" -gt 0 ] || fail "no connection was taken back"
[ "$conns_reset" = 0 ] || fail "$conns_reset connections were reset by the host"
[ $((t1 - t0)) -lt 20 ] || fail "the downloads took $((t1 - t0)) s: the hang was not cut short"
stop_emu || fail "the emulator exited with status $?"
echo "emu_hang: the watchdog reset the hung NIC; $recovered connections taken back, none reset;" \
    "2 downloads of 16 MB and $small_ok small files byte for byte, in $((t1 - t0)) s"

# ---- a dead wire ---------------------------------------------------------------------------
start_emu "1024-P-N-FCFS-0" --docroot "$root" --fault-wire-drop-at 1 --fault-wire-drop-for 1
rm -f "$work/big1"
in_ns curl -s --fail --max-time 30 --limit-rate 6M -o "$work/big1" "http://$addr/big1" ||
    fail "the download across the dead wire failed"
[ "$(sum_of "$work/big1")" = "$(want big1)" ] || fail "big1 across the dead wire: wrong bytes"
sleep 0.3
lost=$(stat_last wire_lost)
[ "$lost" -gt 0 ] || fail "the dead wire lost no frame"
[ "$(stat_last nic_resets)" = 0 ] || fail "the NIC was reset during the dead wire"
stop_emu || fail "the emulator exited with status $?"
echo "emu_hang: a dead wire for 1 s lost $lost frames; the download ended byte for byte"

# ---- upload and reclaim --------------------------------------------------------------------
start_emu "1024-P-N-FCFS-0" --docroot "$root"
rm -f "$work/big1" "$work/big2"
in_ns curl -s --fail --max-time 30 --limit-rate 5M -o "$work/big1" "http://$addr/big1" &
pids+=($!)
keepalive() { # N: fetches the 200 KB file N times over one connection, for some seconds
    local args=() i
    for i in $(seq "$1"); do
        args+=(-o "$work/ka$i" "http://$addr/mid")
    done
    in_ns curl -s --fail --max-time 30 --limit-rate 2M "${args[@]}"
}
keepalive 40 &
ka_pid=$!
pids+=($ka_pid)
sleep 1
up=$("$handoff" emu upload --netns "$ns") || fail "emu upload failed: $up"
echo "$up" | grep -q '^the NIC gave [2-9] connections back to the host$' ||
    fail "upload: $up (the download's and the keep-alive client's connections were on the NIC)"
in_ns curl -s --fail --max-time 30 --limit-rate 5M -o "$work/big2" "http://$addr/big2" &
pids+=($!)
sleep 1
rc=$("$handoff" emu reclaim --netns "$ns") || fail "emu reclaim failed: $rc"
echo "$rc" | grep -q '^asked the NIC for [0-9]* connections back$' || fail "reclaim: $rc"
for p in "${pids[@]}"; do
    wait "$p" || fail "a transfer across upload and reclaim failed"
done
pids=()
for i in 1 2; do
    [ "$(sum_of "$work/big$i")" = "$(want big$i)" ] || fail "big$i across upload and reclaim: wrong bytes"
done
for i in $(seq 40); do
    [ "$(sum_of "$work/ka$i")" = "$(want mid)" ] || fail "keep-alive file $i across upload: wrong bytes"
done
stop_emu || fail "the emulator exited with status $?"
echo "emu_hang: $up; $rc; 2 downloads and 40 keep-alive files byte for byte"
