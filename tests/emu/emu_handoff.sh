#!/usr/bin/env bash
# `handoff emu` moving connections on real packets, under curl and wrk, checked with tshark.
#
# usage: tests/emu/emu_handoff.sh PATH/TO/handoff PATH/TO/hold_conns
#
# In a network namespace of its own (its name carries this shell's PID):
#  1. with 1024-P-N-T4-0 (a connection goes to the NIC at its 4th send-buffer enqueue, so in the
#     middle of any response of more than three pages) and --pcap:
#     - a 2 MB file fetched by curl: handed off in the middle of the response, byte for byte;
#     - a 100 MB one: as soon as `handoff emu ls` shows it on the NIC, `handoff emu restore`
#       gives it back to the host in the middle of the response; ls shows it there, moved twice,
#       while the response still runs, and it completes byte for byte (sha256sum of what curl
#       got);
#     - tshark's TCP analysis of the capture flags nothing in either stream (no retransmission,
#       duplicate ACK, segment out of order or lost, window full or zero), and neither has a
#       reset;
#  2. with 1024-P-N-T4-0 again:
#     - wrk, 1,000 connections for 5 s, most on the NIC: no socket error, no non-2xx (its timeout
#       is 10 s: the NIC thread, doing the TCP of every connection, overflows its receive memory
#       under this load, and a dropped segment waits for Linux's retransmission);
#  3. with 1024-P-L-FCFS-20 (load control, the NIC throttled to 20 MIPS): under wrk's load the
#     Soft limit falls below the Hard limit; once the load stops, connections that arrive in
#     waves and stay fill the NIC up to the Soft limit, and it rises again (paper Figure 3: it
#     rises when Cnum reaches it while Qlen is below Lowat).
#
# Needs root, /dev/net/tun, ip, curl, wrk and tshark; without them it prints why and exits 77.
# Signals only the processes it started, by PID.
set -uo pipefail

handoff=${1:?usage: emu_handoff.sh PATH/TO/handoff PATH/TO/hold_conns}
hold=${2:?usage: emu_handoff.sh PATH/TO/handoff PATH/TO/hold_conns}
ns="ho-emuho-$$"
addr=10.77.0.2
work=
. "$(dirname "$0")/lib.sh"


[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip curl wrk tshark cmp; do
    command -v $tool >/dev/null || skip "no $tool"
done
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-emuho-test.XXXXXX") || fail "mktemp failed"

root="$work/root"
mkdir -p "$root"
head -c 2000000 /dev/urandom >"$root/big1"
head -c 100000000 /dev/urandom >"$root/big2"
head -c 20000 /dev/urandom >"$root/mid"
echo small >"$root/small"


# ---- 1. handoff and restore in the middle of responses -------------------------------------
start_emu 1024-P-N-T4-0 --docroot "$root" --pcap "$work/wire.pcap" --snaplen 128 \
    --conn-log "$work/conns.jsonl"

port_a=$(in_ns curl -s -o "$work/a" -w '%{local_port}' "http://$addr/big1") || fail "curl big1 failed"
cmp -s "$root/big1" "$work/a" || fail "big1 differs from the file"
sleep 0.3
[ "$(stat_last handoffs)" -ge 1 ] || fail "big1's connection was not handed off"
echo "handoff: big1 (port $port_a) handed off mid-response, byte for byte"

want=$(sha256sum <"$root/big2" | cut -d' ' -f1)
ip netns exec "$ns" bash -c 'curl -s -w "%{local_port}" -o >(sha256sum | cut -d" " -f1 >"$2") "$1" >"$3"' \
    _ "http://$addr/big2" "$work/b.sum" "$work/b.port" &
curl_pid=$!
pids+=("$curl_pid")
peer=
for _ in $(seq 500); do
    peer=$(ls_emu | awk '$1 == "nic" { print $7 }')
    [ -n "$peer" ] && break
    sleep 0.01
done
[ -n "$peer" ] || fail "ls never showed big2's connection on the NIC: $(ls_emu)"
"$handoff" emu restore --netns "$ns" "$peer" >/dev/null || fail "handoff emu restore $peer failed"
after=$(ls_emu | awk -v p="$peer" '$7 == p')
[ "$(echo "$after" | awk '{ print $1, $5 }')" = "host 2" ] ||
    fail "after restore, while the response runs: '$after'"
wait "$curl_pid" || fail "curl big2 failed"
for _ in $(seq 50); do
    [ -s "$work/b.sum" ] && break
    sleep 0.1 # sha256sum finishes behind curl
done
[ "$(cat "$work/b.sum")" = "$want" ] || fail "big2 differs from the file"
port_b=$(cat "$work/b.port")
[ "$(stat_last restores)" = 1 ] || fail "the statistics count $(stat_last restores) restores"
echo "restore: big2 (port $port_b, 100 MB) handed off, restored mid-response, byte for byte"
stop_emu || fail "the emulator exited with an error"

# The connection log tells the same story: big1's connection handed off, big2's handed off,
# asked back and given back, each with its bytes.
line_a=$(grep ":$port_a\"," "$work/conns.jsonl") || fail "big1's connection is not in the log"
line_b=$(grep ":$port_b\"," "$work/conns.jsonl") || fail "big2's connection is not in the log"
echo "$line_a" | grep -q '"reply":"accepted","handoff_latency_us":[0-9.]*,' ||
    fail "the log does not show big1's handoff: $line_a"
echo "$line_a" | grep -q '"bytes_out":20[0-9][0-9][0-9][0-9][0-9],' ||
    fail "the log does not give big1's bytes: $line_a"
echo "$line_b" | grep -q '"reply":"accepted".*"restore_asked_ms":[0-9.]*,"back":"requested","back_ms":[0-9.]*,' ||
    fail "the log does not show big2's restore: $line_b"
echo "connection log: big1 handed off, big2 handed off and restored"

# One pass over the capture (headers only, --snaplen 128): each frame's port, FIN, RST and the
# TCP analysis's flags (tshark analyses sequence numbers without the payload).
tshark -r "$work/wire.pcap" -o tcp.desegment_tcp_streams:FALSE -o tcp.check_checksum:FALSE \
    -Y "tcp.port == $port_a || tcp.port == $port_b" -T fields -E separator=, \
    -e tcp.srcport -e tcp.dstport -e tcp.flags.fin -e tcp.flags.reset -e tcp.analysis.flags \
    >"$work/tcp.txt" 2>"$work/tshark.err" || fail "tshark: $(cat "$work/tshark.err")"
for port in "$port_a" "$port_b"; do
    mine=$(awk -F, -v p="$port" '$1 == p || $2 == p' "$work/tcp.txt")
    frames=$(echo "$mine" | grep -c .)
    fins=$(echo "$mine" | awk -F, '$3 == 1 || $3 == "True"' | grep -c .)
    flagged=$(echo "$mine" | awk -F, '$4 == 1 || $4 == "True" || $5 != ""' | head -5)
    [ -z "$flagged" ] || fail "tshark flags port $port's stream: $flagged"
    [ "$frames" -gt 100 ] && [ "$fins" -ge 2 ] || fail "port $port: $frames frames, $fins FINs"
done
echo "tshark: both streams whole (SYN to FINs), no TCP analysis flag, no reset"

# ---- 2. many connections on the NIC ----------------------------------------------------------
start_emu 1024-P-N-T4-0 --docroot "$root"
in_ns wrk -t2 -c1000 -d5s --timeout 10s "http://$addr/mid" >"$work/wrk.out" 2>&1 || fail "wrk failed"
grep -q 'Socket errors' "$work/wrk.out" && fail "wrk: $(grep 'Socket errors' "$work/wrk.out")"
grep -q 'Non-2xx' "$work/wrk.out" && fail "wrk: $(grep Non-2xx "$work/wrk.out")"
nic_max=$(stat_max conns_nic)
[ "${nic_max:-0}" -ge 500 ] || fail "only ${nic_max:-0} connections were on the NIC under wrk"
echo "wrk 1,000 connections: $(grep '^Requests/sec' "$work/wrk.out"), up to $nic_max on the NIC, no error"
"$handoff" emu ls --netns "$ns" >/dev/null || fail "ls after the load failed"
stop_emu || fail "the emulator exited with an error"

# ---- 3. load control on real traffic -------------------------------------------------------
start_emu 1024-P-L-FCFS-20 --docroot "$root"
in_ns wrk -t2 -c1000 -d6s "http://$addr/small" >"$work/wrk2.out" 2>&1 || fail "wrk failed"
sleep 2 # the NIC drains what the load left in its queues, and load control settles
low=$(stat_all soft_limit | sort -n | head -1)
[ "${low:-1024}" -lt 1024 ] || fail "the Soft limit never fell below the Hard limit"
ulimit -n 20000 2>/dev/null
for wave in 1 2 3; do
    in_ns "$hold" "$addr" 80 300 /small 30 >"$work/hold$wave.out" 2>&1 &
    pids+=("$!")
    sleep 2
done
final=$(stat_last soft_limit)
[ "${final:-0}" -gt "$low" ] || fail "the Soft limit stayed at ${final:-?} (lowest $low)"
for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
done
echo "load control: Soft limit fell to $low under load at 20 MIPS, rose to $final after"
stop_emu || fail "the emulator exited with an error"

# ---- 4. active restoration on real traffic ---------------------------------------------------
# The same load with nic.restore=queued: when load control lowers the Soft limit, the firmware
# gives connections back at once; wrk's connections carry on on the host, without an error (its
# timeout is 10 s, as in part 2: at 20 MIPS some responses take over wrk's default of 2 s, with
# or without restoration, and more without: 236 against 48 in one run).
start_emu 1024-P-L-FCFS-20,nic.restore=queued --docroot "$root" --conn-log "$work/shed.jsonl"
in_ns wrk -t2 -c1000 -d6s --timeout 10s "http://$addr/small" >"$work/wrk3.out" 2>&1 || fail "wrk failed"
grep -q 'Socket errors' "$work/wrk3.out" && fail "wrk: $(grep 'Socket errors' "$work/wrk3.out")"
grep -q 'Non-2xx' "$work/wrk3.out" && fail "wrk: $(grep Non-2xx "$work/wrk3.out")"
shed=$(stat_last shed)
[ "${shed:-0}" -ge 1 ] || fail "no connection was given back under load (shed ${shed:-?})"
stop_emu || fail "the emulator exited with an error"
# The log is complete at exit; the statistics' last line may be up to 100 ms older.
back=$(grep -c '"reply":"accepted".*"back":"overload"' "$work/shed.jsonl")
[ "$back" -ge "$shed" ] || fail "the statistics count $shed given back, the connection log $back"
echo "active restoration: $shed connections given back under wrk, $(grep '^Requests/sec' "$work/wrk3.out"), no error"
# ---- 4b. adaptive load control on real traffic -------------------------------------------
# The same load under A (no watermarks): it runs on the emulator's firmware, moves the Soft
# limit below the Hard limit, and wrk sees no error. (Its brake, docs/policy-engine.md, stops
# admission during wrk's flood of keep-alive connections, before A's first window closes; its
# requests/s, printed, are then near L's.)
start_emu 1024-P-A-FCFS-20 --docroot "$root"
in_ns wrk -t2 -c1000 -d5s --timeout 10s "http://$addr/small" >"$work/wrk4.out" 2>&1 || fail "wrk failed"
grep -q 'Socket errors' "$work/wrk4.out" && fail "wrk under A: $(grep 'Socket errors' "$work/wrk4.out")"
grep -q 'Non-2xx' "$work/wrk4.out" && fail "wrk under A: $(grep Non-2xx "$work/wrk4.out")"
low=$(stat_all soft_limit | sort -n | head -1)
[ "${low:-1024}" -lt 1024 ] || fail "A never moved the Soft limit under load (lowest ${low:-?})"
stop_emu || fail "the emulator exited with an error"
echo "adaptive load control: Soft limit down to $low under wrk, $(stat_last handoffs) handoffs," \
    "$(grep '^Requests/sec' "$work/wrk4.out"), no error"

# ---- 5. size-aware selection on real traffic ---------------------------------------------
# B64: a connection goes to the NIC when its response still has 64 KB to send. Small files keep
# theirs on the host; the 2 MB file's goes, and arrives byte for byte. Both ask on one
# persistent connection each, the small file first.
start_emu 1024-P-N-B64-0 --docroot "$root" --conn-log "$work/bn.jsonl"
in_ns curl -s -o "$work/s1" -o "$work/s2" "http://$addr/small" "http://$addr/mid" ||
    fail "curl small files failed"
cmp -s "$root/mid" "$work/s2" || fail "mid differs from the file"
sleep 0.3 # a line of statistics after the responses
[ "$(stat_last handoffs)" = 0 ] || fail "a small response was handed off ($(stat_last handoffs))"
port_c=$(in_ns curl -s -o "$work/c" -w '%{local_port}\n' "http://$addr/small" "http://$addr/big1" \
    -o "$work/c2" | head -1) || fail "curl big1 failed"
cmp -s "$root/big1" "$work/c2" || fail "big1 differs from the file under B64"
sleep 0.3
[ "$(stat_last handoffs)" -ge 1 ] || fail "big1's connection was not handed off under B64"
stop_emu || fail "the emulator exited with an error"
grep -q "\"remote\":\"[0-9.]*:$port_c\".*\"reply\":\"accepted\"" "$work/bn.jsonl" ||
    fail "the log does not show big1's connection handed off"
echo "size-aware selection: B64 keeps 6 B and 20 KB responses on the host, hands the 2 MB one off"
ip netns list | grep -qw "$ns" && fail "the namespace $ns is left behind"
echo "PASS"
