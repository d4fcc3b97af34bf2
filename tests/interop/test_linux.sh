#!/usr/bin/env bash
# Interoperation with Linux: Linux's own TCP (curl) against the TCP engine behind a TAP device.
#
# usage: tests/interop/test_linux.sh PATH/TO/tap_server
#
# Creates a network namespace of its own (its name carries this shell's PID), starts tap_server
# inside it on a TAP device, gives the device 10.200.0.1/24 (the engine is 10.200.0.2), and has
# curl, from inside the namespace, fetch a 5,000,000-octet object and post a 2,500,000-octet one:
# the object fetched must match tap_server --body byte for byte (sha256sum), and the server's
# SHA-256 of the posted body must match sha256sum's. Then the same again with 3 % of the TCP
# frames the server receives and 3 % of those it sends dropped (seeded), and once more with
# loss and the engine's RFC 7323 timestamps on (tap_server --timestamps): Linux offers them on
# its SYN by default, so both connections must negotiate them, and no segment may be dropped
# for a missing or old timestamp. Each run prints the transfer times and the server's counters
# (retransmissions, timeouts, drops...).
#
# SACK: Linux offers SACK-permitted on its SYN, and the engine's default agrees, so the lossy
# phases above recover losses by RFC 6675 (both connections must agree on SACK). SACK is then
# compared with NewReno (tap_server --no-sack) on the same transfers, three seeds each
# (INTEROP_SACK_SEEDS), with 3 % of the frames the server sends lost in bursts of 4
# (tap_server --loss-burst 4), and the retransmissions of both are compared in total: SACK must
# retransmit fewer. With losses drawn independently most windows lose one segment, which both
# resend exactly once (over seeds 7, 11 and 13: 316 with SACK and 316 without), so that load does
# not tell them apart; a burst loses several segments of one window, which SACK repairs in one
# round trip and NewReno one per round trip, often running into a timeout that sends again what
# the peer already had (three runs: 338, 338 and 337 with SACK against 364, 383 and 366 without;
# timeouts 2-7 against 9-14). The loss generator is seeded, but which frames it drops depends on
# what is sent, so single runs are not compared.
#
# Needs root, network namespaces, /dev/net/tun, ip and curl; without them it prints why and exits
# 77, which CTest reports as skipped. Touches nothing outside its namespace: the TAP device lives
# and dies there, and only the processes this script started are ever signalled, by PID.
set -uo pipefail

server=${1:?usage: test_linux.sh PATH/TO/tap_server}
ns="handoff-interop-$$"
dev=hotap0
peer_ip=10.200.0.1
our_ip=10.200.0.2
get_size=5000000
post_size=2500000
loss=0.03
seed=${INTEROP_SEED:-7}
sack_seeds=${INTEROP_SACK_SEEDS:-"$seed 11 13"}
work=
server_pid=
ns_made=0

skip() {
    echo "SKIP: needs root and network namespaces ($1)"
    exit 77
}

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    if [ "$ns_made" = 1 ]; then
        ip netns del "$ns" 2>/dev/null
    fi
    if [ -n "$work" ]; then
        rm -rf "$work"
    fi
}

fail() {
    echo "FAIL: $*"
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null # its report is written as it exits
        wait "$server_pid" 2>/dev/null
        server_pid=
    fi
    for f in "$work"/server.*; do
        [ -s "$f" ] && { echo "--- $(basename "$f")"; tail -40 "$f"; }
    done
    exit 1
}

[ "$(id -u)" = 0 ] || skip "not root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v curl >/dev/null || skip "no curl"
[ -x "$server" ] || { echo "FAIL: $server is not executable"; exit 1; }
ip netns add "$ns" 2>/dev/null || skip "ip netns add failed"
ns_made=1
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-interop.XXXXXX") || fail "mktemp failed"

in_ns() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

in_ns ip link set lo up || fail "cannot bring lo up"
# No IPv6 chatter (router solicitations, MLD) on the device; harmless if IPv6 is absent.
in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1

"$server" --body "$get_size" | sha256sum | cut -d' ' -f1 >"$work/get.expected" ||
    fail "tap_server --body failed"
"$server" --body "$post_size" >"$work/post.bin" || fail "tap_server --body failed"
post_sum=$(sha256sum "$work/post.bin" | cut -d' ' -f1)

# One phase: a fresh server with the given options, one GET and one POST, then its counters.
phase() {
    local name=$1
    shift
    # Not through in_ns: $! must be the server itself (ip netns exec execs it, same PID).
    ip netns exec "$ns" "$server" --dev "$dev" --ip "$our_ip" --idle 30 --max-time 120 "$@" \
        >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    local _
    for _ in $(seq 50); do
        in_ns ip link show dev "$dev" >/dev/null 2>&1 && break
        kill -0 "$server_pid" 2>/dev/null || fail "$name: tap_server exited at start"
        sleep 0.1
    done
    in_ns ip addr add "$peer_ip/24" dev "$dev" || fail "$name: cannot configure $dev"
    in_ns ip link set "$dev" up || fail "$name: cannot bring $dev up"

    local t0 t1 t2 got answer
    t0=$(now)
    in_ns curl --noproxy '*' --max-time 60 -sS -o "$work/get.bin" \
        "http://$our_ip/bytes/$get_size" || fail "$name: GET failed"
    t1=$(now)
    got=$(stat -c %s "$work/get.bin")
    [ "$got" = "$get_size" ] || fail "$name: GET returned $got octets, expected $get_size"
    [ "$(sha256sum "$work/get.bin" | cut -d' ' -f1)" = "$(cat "$work/get.expected")" ] ||
        fail "$name: GET body differs from tap_server --body $get_size"
    answer=$(in_ns curl --noproxy '*' --max-time 60 -sS --data-binary "@$work/post.bin" \
        "http://$our_ip/sha256") || fail "$name: POST failed"
    t2=$(now)
    [ "$answer" = "$post_sum" ] ||
        fail "$name: server's SHA-256 of the posted body is '$answer', expected $post_sum"

    kill -TERM "$server_pid"
    wait "$server_pid"
    local status=$?
    server_pid=
    [ "$status" = 0 ] || fail "$name: tap_server exited with status $status"
    echo "$name: GET $get_size octets in $(elapsed "$t0" "$t1") s, POST $post_size octets in" \
        "$(elapsed "$t1" "$t2") s, checksums verified"
    sed 's/^/    /' "$work/server.out"
    grep -q "responses=2 " "$work/server.out" || fail "$name: the server did not answer twice"
    cp "$work/server.out" "$work/$name.out"
}

# The counter `key` of the tcpe or link line of a phase's report.
counter() { grep -o " $2=[0-9]*" "$work/$1.out" | head -1 | cut -d= -f2; }

phase clean
phase lossy --loss-rx "$loss" --loss-tx "$loss" --seed "$seed"
phase timestamps --timestamps --loss-rx "$loss" --loss-tx "$loss" --seed "$seed"

# The loss must really have been injected and repaired: frames were dropped both ways and the
# engine retransmitted; nothing was reset.
for key in rx_lost tx_lost rexmt_segs; do
    [ "$(counter lossy "$key")" -gt 0 ] || fail "lossy: $key is 0, no loss was exercised"
done
for run in clean lossy timestamps; do
    [ "$(counter "$run" conns_reset)" = 0 ] || fail "$run: a connection was reset"
    [ "$(counter "$run" resets)" = 0 ] || fail "$run: a connection was reset or timed out"
done
[ "$(counter clean ts_conns)" = 0 ] || fail "clean: timestamps were used without --timestamps"
[ "$(counter lossy sack_conns)" = 2 ] || fail "lossy: SACK not agreed on both connections"
[ "$(counter timestamps ts_conns)" = 2 ] || fail "timestamps: not negotiated on both connections"
[ "$(counter timestamps rexmt_segs)" -gt 0 ] || fail "timestamps: no loss was exercised"
for key in paws no_timestamp; do
    [ -z "$(counter timestamps "$key")" ] || fail "timestamps: segments dropped ($key)"
done
# SACK against NewReno, at the same bursty loss and seeds.
with_sack=0
without_sack=0
for s in $sack_seeds; do
    phase "sack_$s" --loss-tx "$loss" --loss-burst 4 --seed "$s"
    phase "nosack_$s" --no-sack --loss-tx "$loss" --loss-burst 4 --seed "$s"
    [ "$(counter "sack_$s" sack_conns)" = 2 ] || fail "sack_$s: SACK not agreed"
    [ "$(counter "nosack_$s" sack_conns)" = 0 ] || fail "nosack_$s: SACK agreed with --no-sack"
    for run in "sack_$s" "nosack_$s"; do
        [ "$(counter "$run" resets)" = 0 ] || fail "$run: a connection was reset or timed out"
    done
    a=$(counter "sack_$s" rexmt_segs)
    b=$(counter "nosack_$s" rexmt_segs)
    echo "seed $s: retransmitted segments with SACK $a (timeouts $(counter "sack_$s" timeouts))," \
        "without $b (timeouts $(counter "nosack_$s" timeouts))"
    with_sack=$((with_sack + a))
    without_sack=$((without_sack + b))
done
echo "retransmitted segments over seeds $sack_seeds: with SACK $with_sack, without $without_sack"
[ "$with_sack" -lt "$without_sack" ] ||
    fail "SACK retransmitted no fewer segments than NewReno ($with_sack against $without_sack)"

echo "PASS: Linux fetched and posted through the engine, without and with $loss loss each way," \
    "with timestamps, and with SACK against NewReno"
