#!/usr/bin/env bash
# `handoff emu` serving unmodified Linux clients (curl, ab, wrk) on real packets.
#
# usage: tests/emu/emu_http.sh PATH/TO/handoff PATH/TO/hold_conns
#
# Starts the emulator in a network namespace of its own (its name carries this shell's PID), with
# the SPECweb99-like file set it generates, and checks from inside the namespace:
#  - every file of the set, fetched by one curl over keep-alive connections, is byte for byte
#    the file on disk (sha256sum);
#  - HEAD, If-Modified-Since (304) and a missing file (404) with curl;
#  - a battery of bad requests written raw to a socket, each answered with its status;
#  - ab: 2,000 requests, 50 at a time, none failed;
#  - wrk for 10 s at 1,000 connections: no socket error, no non-2xx response;
#  - 10,000 connections held open at once, each answered (hold_conns; the statistics count them);
#  - SIGTERM: the emulator exits 0 and leaves no namespace, lock file or file set.
# Then again with a document root of its own (--docroot): its files served, a symlink out of it
# refused; a client that never sends a request closed after --idle-timeout; a client killed in
# the middle of a transfer has its connection freed.
#
# Needs root, /dev/net/tun, ip, curl, ab and wrk; without them it prints why and exits 77 (CTest:
# skipped). Signals only the processes it started, by PID.
set -uo pipefail

handoff=${1:?usage: emu_http.sh PATH/TO/handoff PATH/TO/hold_conns}
hold=${2:?usage: emu_http.sh PATH/TO/handoff PATH/TO/hold_conns}
ns="ho-emu-$$"
addr=10.77.0.2
work=
files=
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip curl ab wrk sha256sum; do
    command -v $tool >/dev/null || skip "no $tool"
done
[ -x "$handoff" ] || { echo "FAIL: $handoff is not executable"; exit 1; }
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-emu-test.XXXXXX") || fail "mktemp failed"

# ---- start -------------------------------------------------------------------------------

# Stops the emulator with SIGTERM and checks that it leaves nothing behind.
teardown() {
    stop_emu || fail "the emulator exited with status $? on SIGTERM"
    ip netns list | grep -qw "$ns" && fail "the namespace $ns is left behind"
    [ -e "/run/handoff-emu-$ns.lock" ] && fail "the lock file is left behind"
    [ -z "$1" ] || [ ! -e "$1" ] || fail "the generated file set $1 is left behind"
    echo "teardown: nothing left behind; $(tail -2 "$work/emu.err" | sed 's/^handoff emu: //' | tr '\n' ' ')"
}

start_emu
files=$(sed -n 's/^handoff emu: serving the files under //p' "$work/emu.err")
[ -d "$files" ] || fail "the emulator did not say where its files are"
echo "ready; serving $files"

# ---- every file, byte for byte ------------------------------------------------------------
(cd "$files" && find . -type f | sort | sed 's|^\./||') >"$work/list"
n=$(wc -l <"$work/list")
[ "$n" -ge 900 ] || fail "the generated set has $n files"
mkdir -p "$work/got"
awk -v a="$addr" -v d="$work/got" '{ printf "url = \"http://%s/%s\"\noutput = \"%s/%d\"\n", a, $0, d, NR }' \
    "$work/list" >"$work/curl.cfg"
start=$(date +%s.%N)
in_ns curl -s --fail -K "$work/curl.cfg" -w '%{exitcode}\n' >"$work/curl.codes" ||
    fail "curl failed fetching the file set"
[ "$(sort -u "$work/curl.codes")" = 0 ] || fail "curl: $(grep -vc '^0$' "$work/curl.codes") transfers failed"
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
(cd "$files" && xargs -d '\n' sha256sum <"$work/list" | awk '{ print $1 }') >"$work/want.sum"
for i in $(seq "$n"); do sha256sum "$work/got/$i"; done | awk '{ print $1 }' >"$work/got.sum"
cmp -s "$work/want.sum" "$work/got.sum" || fail "a fetched file differs from the file on disk"
bytes=$(du -sb "$work/got" | cut -f1)
echo "files: $n fetched byte for byte, $bytes bytes in $secs s"
rm -rf "$work/got"

# ---- HEAD, 304, 404 ------------------------------------------------------------------------
first=$(head -1 "$work/list")
size=$(stat -c %s "$files/$first")
head=$(in_ns curl -s -I "http://$addr/$first" | tr -d '\r')
echo "$head" | grep -q '^HTTP/1.1 200 OK' || fail "HEAD: $head"
echo "$head" | grep -qx "Content-Length: $size" || fail "HEAD: wrong length: $head"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -z "$files/$first" "http://$addr/$first")
[ "$code" = 304 ] || fail "If-Modified-Since gave $code, not 304"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://$addr/no/such/file")
[ "$code" = 404 ] || fail "a missing file gave $code, not 404"
echo "HEAD, 304, 404: as they should be"

# ---- bad requests --------------------------------------------------------------------------
# Each is written raw to a new connection; the first line of the answer must carry the status.
raw() {
    in_ns bash -c 'exec 3<>/dev/tcp/'"$addr"'/80 || exit 1; printf "%b" "$1" >&3; timeout 5 head -1 <&3' _ "$1" | tr -d '\r'
}
bad=0
while IFS='|' read -r want req; do
    got=$(raw "$req")
    case "$got" in
    "HTTP/1.1 $want "*) ;;
    *) echo "  '$req' -> '$got', wanted $want"; bad=1 ;;
    esac
done <<'EOF'
400|GET /../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n
400|GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n
400|GET /file_set/..%2f..%2fetc/passwd HTTP/1.1\r\nHost: t\r\n\r\n
405|DELETE /file_set HTTP/1.1\r\nHost: t\r\n\r\n
405|POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi
400|GET / HTTP/1.1\r\n\r\n
505|GET / HTTP/3.0\r\nHost: t\r\n\r\n
413|GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n
501|GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n
400|\x01\x02 nonsense\r\n\r\n
404|GET /index.html HTTP/1.0\r\n\r\n
EOF
long=$(printf 'X-Pad: %04000d\\r\\n' 0)
got=$(raw "GET / HTTP/1.1\r\nHost: t\r\n$long$long$long$long$long\r\n")
[ "${got#HTTP/1.1 431 }" != "$got" ] || { echo "  a 20 KB head -> '$got', wanted 431"; bad=1; }
[ $bad = 0 ] || fail "bad requests were not answered as they should be"
echo "bad requests: each answered with its status"

# ---- ab ------------------------------------------------------------------------------------
url="http://$addr/$first"
in_ns ab -q -n 2000 -c 50 "$url" >"$work/ab.out" 2>&1 || fail "ab failed: $(tail -3 "$work/ab.out")"
grep -q '^Failed requests: *0$' "$work/ab.out" || fail "ab: $(grep -i failed "$work/ab.out")"
grep -q 'Non-2xx' "$work/ab.out" && fail "ab: $(grep Non-2xx "$work/ab.out")"
echo "ab: $(grep '^Requests per second' "$work/ab.out")"

# ---- wrk: 1,000 connections for 10 s -------------------------------------------------------
small=$(grep class1_1 "$work/list" | head -1)
in_ns wrk -t2 -c1000 -d10s "http://$addr/$small" >"$work/wrk.out" 2>&1 || fail "wrk failed"
grep -q 'Socket errors' "$work/wrk.out" && fail "wrk: $(grep 'Socket errors' "$work/wrk.out")"
grep -q 'Non-2xx' "$work/wrk.out" && fail "wrk: $(grep Non-2xx "$work/wrk.out")"
grep -q '^Requests/sec' "$work/wrk.out" || fail "wrk said nothing: $(cat "$work/wrk.out")"
echo "wrk 1,000 connections, 10 s: $(grep '^Requests/sec' "$work/wrk.out"), no socket error, no non-2xx"

# ---- 10,000 connections at once -------------------------------------------------------------
# hold_conns (tests/emu/hold_conns.c) opens them all, has each answered, and holds them.
if [ "$(ulimit -Hn)" -ge 10100 ]; then
    in_ns "$hold" "$addr" 80 10000 "/$small" 60 >"$work/hold.out" 2>&1 &
    hold_pid=$!
    for _ in $(seq 700); do
        grep -q '^held' "$work/hold.out" && break
        kill -0 "$hold_pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^held 10000' "$work/hold.out" || fail "hold_conns: $(cat "$work/hold.out")"
    sleep 0.3
    held=$(stat_last conns_host)
    kill -TERM "$hold_pid" 2>/dev/null
    wait "$hold_pid"
    [ "${held:-0}" = 10000 ] || fail "the server counts ${held:-0} connections, not 10,000"
    echo "10,000 connections: all open at once, $(sed 's/^held 10000 (//; s/)$//' "$work/hold.out")"
else
    echo "10,000 connections: not checked, the open-file limit is $(ulimit -Hn)"
fi

teardown "$files"

# ---- a root of our own, idle connections, a client killed mid-transfer -------------------------
root="$work/root"
mkdir -p "$root/d"
head -c 2000000 /dev/urandom >"$root/big"
echo hello >"$root/d/index.html"
echo secret >"$work/secret"
ln -s "$work/secret" "$root/escape"
start_emu --docroot "$root" --idle-timeout 2
code=$(in_ns curl -s -o "$work/got.big" -w '%{http_code}' "http://$addr/big")
[ "$code" = 200 ] && cmp -s "$root/big" "$work/got.big" || fail "--docroot: /big not served as it is"
[ "$(in_ns curl -s "http://$addr/d/")" = hello ] || fail "--docroot: /d/ is not d/index.html"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://$addr/escape")
[ "$code" = 404 ] || fail "a symlink out of the root gave $code, not 404"
echo "--docroot: served, symlink out of the root refused"

# A client that never sends a request is closed after --idle-timeout (2 s here).
ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/'"$addr"'/80 && sleep 30' &
idle_pid=$!
sleep 1
[ "$(stat_last conns_host)" = 1 ] || fail "the idle client's connection is not open"
for _ in $(seq 50); do
    [ "$(stat_last conns_host)" = 0 ] && break
    sleep 0.1
done
kill "$idle_pid" 2>/dev/null
wait "$idle_pid" 2>/dev/null
[ "$(stat_last conns_host)" = 0 ] || fail "the idle connection was not closed"
echo "idle connection: closed after the timeout"

# ---- a client killed mid-transfer ----------------------------------------------------------
ip netns exec "$ns" curl -s --limit-rate 100k -o /dev/null "http://$addr/big" &  # exec: the PID is curl's
curl_pid=$!
sleep 1
[ "$(stat_last conns_host)" = 1 ] || fail "the slow client's connection is not open"
kill -KILL "$curl_pid"
wait "$curl_pid" 2>/dev/null
for _ in $(seq 50); do
    [ "$(stat_last conns_host)" = 0 ] && break
    sleep 0.1
done
[ "$(stat_last conns_host)" = 0 ] || fail "the killed client's connection was not freed"
echo "killed client: its connection freed"
teardown ""
echo "PASS"
