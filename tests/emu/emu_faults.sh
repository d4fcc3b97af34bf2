#!/usr/bin/env bash
# `handoff emu` surviving the NIC's faults on real packets (docs/failures.md): resets of its
# firmware under load, every transfer checked, and the refusal of handoffs.
#
# usage: tests/emu/emu_faults.sh PATH/TO/handoff
#
# In a network namespace of its own (its name carries this shell's PID), with 1024-P-N-FCFS-0
# (every connection handed to the NIC, which runs unthrottled) and a document root of random
# files, while a loop of curls fetches six small files over keep-alive connections again and
# again, each checked (sha256sum):
#  1. `handoff emu refuse on`: a download begun then stays on the host (`handoff emu ls`), no
#     handoff is accepted, and it completes byte for byte; `handoff emu refuse off`: the next
#     download is handed off again. (First: the connection-per-request load of part 2 leaves
#     the NIC full of connections in TIME_WAIT for 60 s, and a full NIC takes no handoff.)
#  2. while three curls download 24 MB each, one begun before each reset and rate-limited so
#     that it runs across the resets after it, wrk keeps 100 connections busy on a small file
#     and another wrk opens a connection for each request (20 at a time), the firmware is reset
#     three times, a second apart (`handoff emu reset`, which answers once it is done):
#     - each reset takes back connections, among them the download begun before it;
#     - the three downloads complete, byte for byte;
#     - wrk has no non-2xx response; requests go on after the last reset;
#     - the statistics count the three resets (nic_resets, nic_boot) and more than 100
#       connections taken back (conns_recovered);
#  3. every file the loop got, across both parts, is byte for byte the file (wrk cannot check
#     bodies). Socket errors in wrk and failed transfers in the loop are allowed only if the
#     host had to reset connections it took back (conns_reset), as errors, never as wrong bytes.
#  4. SIGTERM: the emulator exits 0, its summary counts the resets, and the namespace is gone.
# Local ports given to curl are above Linux's ephemeral range, which the loop's connections in
# TIME_WAIT occupy.
#
# Needs root, /dev/net/tun, ip, curl, wrk and sha256sum; without them it prints why and exits 77.
# Signals only the processes it started, by PID.
set -uo pipefail

handoff=${1:?usage: emu_faults.sh PATH/TO/handoff}
ns="ho-emuf-$$"
addr=10.77.0.2
work=
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip curl wrk sha256sum; do
    command -v $tool >/dev/null || skip "no $tool"
done
[ -x "$handoff" ] || { echo "FAIL: $handoff is not executable"; exit 1; }
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-emuf-test.XXXXXX") || fail "mktemp failed"
t_start=$(date +%s.%N)
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

root="$work/root"
mkdir -p "$root" "$work/loop"
for i in 1 2 3; do
    head -c 24000000 /dev/urandom >"$root/big$i"
done
head -c 8000000 /dev/urandom >"$root/mid"
small=(1 2 3 4 5 6)
sizes=(1 1460 3000 20000 70000 300000)
for i in "${!small[@]}"; do
    head -c "${sizes[$i]}" /dev/urandom >"$root/s${small[$i]}"
done
head -c 2000 /dev/urandom >"$root/w"
(cd "$root" && sha256sum big1 big2 big3 mid s1 s2 s3 s4 s5 s6) >"$work/want.sum"
want() { awk -v f="$1" '$2 == f { print $1 }' "$work/want.sum"; }
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

# Fetches every small file over one keep-alive connection, again and again until $work/stop
# appears, and writes one line per file: "ok NAME", "bad NAME" (wrong bytes) or "fail NAME"
# (curl's transfer failed).
loop_curl() {
    local args=() i
    for i in "${small[@]}"; do
        args+=(-o "$work/loop/s$i" "http://$addr/s$i")
    done
    while [ ! -e "$work/stop" ]; do
        rm -f "$work"/loop/s*
        in_ns curl -s --fail --max-time 10 "${args[@]}" 2>/dev/null
        for i in "${small[@]}"; do
            if [ ! -e "$work/loop/s$i" ] || [ "$(stat -c %s "$work/loop/s$i")" != "$(stat -c %s "$root/s$i")" ]; then
                echo "fail s$i"
            elif [ "$(sum_of "$work/loop/s$i")" = "$(want "s$i")" ]; then
                echo "ok s$i"
            else
                echo "bad s$i"
            fi
        done
    done >"$work/loop.log"
}

# download NAME LOCAL_PORT RATE: fetches NAME from local port LOCAL_PORT at RATE bytes/s, into
# $work/got.NAME.PORT, in the background (its PID is in $!).
download() {
    in_ns curl -s --fail --max-time 50 --local-port "$2" --limit-rate "$3" \
        -o "$work/got.$1.$2" "http://$addr/$1" &
    pids+=("$!")
}
check_download() { # NAME LOCAL_PORT PID
    wait "$3" || fail "curl of $1 from port $2 failed (exit $?)"
    [ "$(sum_of "$work/got.$1.$2")" = "$(want "$1")" ] || fail "$1 (port $2) differs from the file"
}
where_is() { ls_emu | awk -v p="10.77.0.1:$1" '$7 == p { print $1 }'; }

# ---- 1. refusal ----------------------------------------------------------------------------
start_emu 1024-P-N-FCFS-0 --docroot "$root"
loop_curl &
loop_pid=$!
pids+=("$loop_pid")

reply=$("$handoff" emu refuse --netns "$ns" on) || fail "handoff emu refuse on failed: $reply"
sleep 0.3 # handoffs the firmware accepted before it refused are counted
handoffs=$(stat_last handoffs)
download mid 62001 4M
mid_pid=$!
for _ in $(seq 100); do
    [ -n "$(where_is 62001)" ] && break
    sleep 0.02
done
sleep 0.5
[ "$(where_is 62001)" = host ] || fail "refusing, a new connection is '$(where_is 62001)': $(ls_emu)"
check_download mid 62001 "$mid_pid"
[ "$(stat_last handoffs)" = "$handoffs" ] ||
    fail "refusing, handoffs went from $handoffs to $(stat_last handoffs)"
echo "refuse on: a new connection stays on the host, its 8 MB byte for byte; no handoff"

reply=$("$handoff" emu refuse --netns "$ns" off) || fail "handoff emu refuse off failed: $reply"
download mid 62002 4M
mid_pid=$!
seen=
for _ in $(seq 150); do
    seen=$(where_is 62002)
    [ "$seen" = nic ] && break
    sleep 0.02
done
[ "$seen" = nic ] || fail "after refuse off, a new connection is '$seen': $(ls_emu)"
check_download mid 62002 "$mid_pid"
[ "$(stat_last handoffs)" -gt "$handoffs" ] || fail "after refuse off, no handoff was counted"
echo "refuse off: the next connection is handed off again, byte for byte"

# ---- 2. three resets under load ----------------------------------------------------------
# One download begins before each reset, so that each reset finds one on the NIC; each runs
# across the resets after it (24 MB at 4 MB/s: 6 s).
declare -A big_pid
download big1 61001 4M
big_pid[1]=$!
in_ns wrk -t1 -c100 -d5s --timeout 5s "http://$addr/w" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")
# A connection per request: each reset finds connections in every phase, opening, on their way
# to the NIC, answering, closing, in TIME_WAIT.
in_ns wrk -t1 -c20 -d5s --timeout 5s -H 'Connection: close' "http://$addr/w" >"$work/wrk_close.out" 2>&1 &
wrk_close_pid=$!
pids+=("$wrk_close_pid")
sleep 1
[ "$(stat_last conns_nic)" -ge 100 ] || fail "only $(stat_last conns_nic) connections on the NIC before the resets"
for r in 1 2 3; do
    [ "$(where_is $((61000 + r)))" = nic ] || fail "big$r is not on the NIC before reset $r: $(ls_emu | head -5)"
    reply=$("$handoff" emu reset --netns "$ns") || fail "handoff emu reset failed: $reply"
    [ "$reply" = "the NIC's firmware was reset (boot $((r + 1)))" ] || fail "emu reset answered '$reply'"
    if [ "$r" -lt 3 ]; then
        download "big$((r + 1))" $((61001 + r)) 4M
        big_pid[$((r + 1))]=$!
    fi
    sleep 1
done
req_after_last=$(stat_last requests)
wait "$wrk_pid" || fail "wrk failed: $(cat "$work/wrk.out")"
wait "$wrk_close_pid" || fail "wrk (Connection: close) failed: $(cat "$work/wrk_close.out")"
for i in 1 2 3; do
    check_download "big$i" $((61000 + i)) "${big_pid[$i]}"
done
echo "downloads: big1, big2, big3 (24 MB each, begun before resets 1, 2, 3) byte for byte ($(elapsed) s)"

recovered=$(stat_last conns_recovered)
conns_reset=$(stat_last conns_reset)
[ "$(stat_last nic_resets)" = 3 ] || fail "the host took $(stat_last nic_resets) FW_UPs, not 3"
[ "$(stat_last nic_boot)" = 4 ] || fail "the firmware is at boot $(stat_last nic_boot), not 4"
[ "${recovered:-0}" -gt 100 ] || fail "only ${recovered:-0} connections were taken back"
[ "$(stat_last requests)" -gt "$req_after_last" ] || fail "no request completed after the last reset"
taken=$(sed -n 's/.*connections taken back \([0-9]*\),.*/\1/p' "$work/emu.err" | tr '\n' ' ')
[ "$(echo $taken | wc -w)" = 3 ] || fail "the emulator told $(echo $taken | wc -w) resets, not 3"
for k in $taken; do
    [ "$k" -ge 1 ] || fail "a reset took back no connection (taken back: $taken)"
done

# wrk's socket errors: connect, read, write, timeout.
errors_of() { grep -o 'Socket errors: .*' "$work/$1.out" | grep -o '[0-9]\+' | tr '\n' ' '; }
wrk_errors=0
for out in wrk wrk_close; do
    grep -q 'Non-2xx' "$work/$out.out" && fail "$out: $(grep Non-2xx "$work/$out.out")"
    grep -q 'Socket errors' "$work/$out.out" && echo "$out: $(grep 'Socket errors' "$work/$out.out")"
done
read -r c r w t <<<"$(errors_of wrk) 0 0 0 0"
wrk_errors=$((c + r + w + t))
# A SYN that reuses the ports of a connection in TIME_WAIT on the NIC waits there behind the
# client's RST that ends it; the firmware gives it to the host's listener, never to its own TCP
# (which would answer it with a RST that wrk counts as a write error).
read -r c r w t <<<"$(errors_of wrk_close) 0 0 0 0"
[ "$((c + r + w + t))" = 0 ] || fail "wrk (Connection: close): $(grep 'Socket errors' "$work/wrk_close.out")"
echo "wrk: $(awk '/requests in/ { print $1 }' "$work/wrk.out") requests at 100 keep-alive connections" \
    "and $(awk '/requests in/ { print $1 }' "$work/wrk_close.out") at 20 closing ones, across the" \
    "resets; $wrk_errors socket errors (closing ones: $w write errors), no non-2xx"
echo "statistics: 3 resets, connections taken back $recovered ($taken), reset by the host $conns_reset"

# ---- 3. the loop's transfers; 4. the end ---------------------------------------------------
touch "$work/stop"
wait "$loop_pid"
ok=$(grep -c '^ok ' "$work/loop.log")
bad=$(grep -c '^bad ' "$work/loop.log")
failed=$(grep -c '^fail ' "$work/loop.log")
[ "$bad" = 0 ] || fail "the loop got wrong bytes $bad times: $(grep '^bad ' "$work/loop.log" | sort | uniq -c)"
[ "$ok" -ge 60 ] || fail "the loop fetched only $ok files"
conns_reset=$(stat_last conns_reset)
if [ "$((wrk_errors + failed))" -gt 0 ]; then
    [ "$conns_reset" -gt 0 ] ||
        fail "$wrk_errors wrk socket errors and $failed failed loop transfers, yet no connection was reset by the host"
fi
echo "loop: $ok small files byte for byte, $failed transfers failed, none wrong"

stop_emu || fail "the emulator exited with an error"
grep -q 'NIC firmware reset 3 times; the host took 3 FW_UPs' "$work/emu.err" ||
    fail "the summary does not count the resets: $(tail -3 "$work/emu.err")"
ip netns list | grep -qw "$ns" && fail "the namespace $ns is left behind"
echo "PASS ($(elapsed) s)"
