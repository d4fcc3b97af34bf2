#!/usr/bin/env bash
# The emulator against Linux's own TCP, side by side in one run, and the paper's thesis on real
# packets: the host's processor time per request with every connection on the host, against
# every connection on the NIC.
#
# usage: bench/emu_versus_linux.sh PATH/TO/handoff [SECONDS]   (make bench runs it)
#
# The same files (1 KB and 100 KB) are served
#  - by nginx (Debian's, one worker, sendfile, keep-alive), in a network namespace of its own,
#    to wrk in another, over a veth pair: Linux's TCP on both ends, frames never leave the
#    kernel;
#  - by `handoff emu 0-N-N-FCFS-0` (everything on the host, NIC unthrottled), to wrk in its
#    namespace over the TAP device: every frame crosses into user space and back.
# wrk runs SECONDS (default 10) per cell, at 100 and 1,000 connections, with --latency. Then
# `handoff emu` serves the 1 KB file to wrk at 100 connections twice, with 0-N-N-FCFS-0 (all on
# the host) and 65536-P-N-FCFS-0 (all on the NIC), and its statistics give the host thread's
# processor time per request, and the time it spent running the OS side and the server.
#
# Needs root, ip, wrk and nginx (scripts/install-deps.sh --bench installs nginx); otherwise it
# says why and exits 0 without measuring, as make bench skips what it cannot run.
set -uo pipefail

handoff=${1:?usage: emu_versus_linux.sh PATH/TO/handoff [SECONDS]}
secs=${2:-10}
tag="hob$$"
work=
emu_pid=
nginx_pid=

skip() {
    echo "emu_versus_linux: skipped ($1)"
    exit 0
}

cleanup() {
    [ -n "$emu_pid" ] && kill -TERM "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    ip netns del "$tag-srv" 2>/dev/null
    ip netns del "$tag-cli" 2>/dev/null
    [ -n "$work" ] && rm -rf "$work"
}

[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip wrk nginx; do
    command -v $tool >/dev/null || skip "no $tool; scripts/install-deps.sh --bench installs it"
done
trap cleanup EXIT
trap 'exit 1' INT TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/handoff-bench.XXXXXX")
ulimit -n 20000 2>/dev/null
mkdir -p "$work/root"
head -c 1024 /dev/urandom >"$work/root/1k"
head -c 102400 /dev/urandom >"$work/root/100k"

# wrk's summary of one cell: requests/s, Gb/s of body, latency p50 and p99.
wrk_cell() { # NETNS URL CONNS
    ip netns exec "$1" wrk -t2 -c"$3" -d"${secs}s" --latency "$2" 2>&1 |
        awk -v size="$4" '
            /^Requests\/sec/ { rps = $2 }
            /^ +50%/ { p50 = $2 }
            /^ +99%/ { p99 = $2 }
            /Socket errors/ { err = $0 }
            /Non-2xx/ { err = err " " $0 }
            END { printf "%10.0f %8.2f %9s %9s %s\n", rps, rps * size * 8 / 1e9, p50, p99, err }'
}

printf '%-8s %-6s %5s %10s %8s %9s %9s\n' server file conns "req/s" "Gb/s" p50 p99

# ---- Linux: nginx over veth ----------------------------------------------------------------
ip netns add "$tag-srv" && ip netns add "$tag-cli" || skip "ip netns add failed"
ip link add "$tag-a" type veth peer name "$tag-b"
ip link set "$tag-a" netns "$tag-srv"
ip link set "$tag-b" netns "$tag-cli"
ip -n "$tag-srv" addr add 10.78.0.2/24 dev "$tag-a"
ip -n "$tag-cli" addr add 10.78.0.1/24 dev "$tag-b"
for n in srv cli; do
    ip -n "$tag-$n" link set lo up
done
ip -n "$tag-srv" link set "$tag-a" up
ip -n "$tag-cli" link set "$tag-b" up
cat >"$work/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 20000; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    server {
        listen 10.78.0.2:80 backlog=4096;
        root $work/root;
    }
}
EOF
ip netns exec "$tag-srv" nginx -c "$work/nginx.conf" -e "$work/nginx.err" &
nginx_pid=$!
sleep 1
kill -0 "$nginx_pid" 2>/dev/null || skip "nginx did not start: $(tail -2 "$work/nginx.err")"
for f in 1k 100k; do
    size=$([ $f = 1k ] && echo 1024 || echo 102400)
    for c in 100 1000; do
        printf '%-8s %-6s %5s ' linux "$f" "$c"
        wrk_cell "$tag-cli" "http://10.78.0.2/$f" "$c" "$size"
    done
done
kill -TERM "$nginx_pid" 2>/dev/null
wait "$nginx_pid" 2>/dev/null
nginx_pid=

# ---- ours: handoff emu over TAP ------------------------------------------------------------
start_emu() { # CONFIG [OPTIONS...]
    "$handoff" emu "$@" --netns "$tag-emu" --docroot "$work/root" --stats "$work/stats.jsonl" \
        >"$work/emu.out" 2>"$work/emu.err" &
    emu_pid=$!
    for _ in $(seq 100); do
        grep -q '^ready' "$work/emu.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "emu_versus_linux: the emulator did not start: $(tail -2 "$work/emu.err")"
    exit 1
}
stop_emu() {
    kill -TERM "$emu_pid" 2>/dev/null
    wait "$emu_pid" 2>/dev/null
    emu_pid=
}

start_emu 0-N-N-FCFS-0
for f in 1k 100k; do
    size=$([ $f = 1k ] && echo 1024 || echo 102400)
    for c in 100 1000; do
        printf '%-8s %-6s %5s ' handoff "$f" "$c"
        wrk_cell "$tag-emu" "http://10.77.0.2/$f" "$c" "$size"
    done
done
stop_emu

# ---- the host's processor time per request: all on the host, all on the NIC -------------------
# From the statistics over the seconds wrk ran: the host thread's processor time, and of its time
# that spent running the OS side and the server (its loop's polling and waiting aside: when the
# NIC is the bottleneck the host thread wakes for every few messages, and those wake-ups are the
# emulator's, not the host's work).
# The host thread has processor 1 to itself, and the NIC thread and wrk share processor 0, as the
# paper's host had a processor of its own and its NIC and clients were other machines. Unbound,
# the kernel's work for wrk (softirqs: the clients' TCP) runs on whichever processor it
# interrupts, the host thread's included, and counts as the host's time.
if [ "$(nproc)" -ge 2 ]; then
    host_binding=(--host-cpu 1 --nic-cpu 0)
    wrk_binding=(taskset -c 0)
else
    host_binding=()
    wrk_binding=()
fi
host_cost() { # CONFIG
    start_emu "$1" "${host_binding[@]}"
    ip netns exec "$tag-emu" "${wrk_binding[@]}" wrk -t2 -c100 -d"${secs}s" "http://10.77.0.2/1k" \
        >/dev/null 2>&1
    sleep 0.2
    stop_emu
    awk -F'[{:,}]' '
        { for (i = 1; i < NF; i++) {
              if ($i == "\"t\"") t = $(i + 1)
              if ($i == "\"requests\"") r = $(i + 1)
              if ($i == "\"host_busy_pct\"") b = $(i + 1)
              if ($i == "\"host_work_pct\"") w = $(i + 1)
              if ($i == "\"conns_nic\"") n = $(i + 1) } }
        r > r0 { busy += b * (t - t0) / 100; work += w * (t - t0) / 100; req += r - r0
                 if (n > nmax) nmax = n }
        { t0 = t; r0 = r }
        END { printf "%.0f requests: %.2f us of processor, %.2f us of OS and server work per request (up to %d on the NIC)\n",
                     req, req ? busy * 1e6 / req : 0, req ? work * 1e6 / req : 0, nmax
              printf "%.4f %.4f\n", req ? busy * 1e6 / req : 0, req ? work * 1e6 / req : 0 >> costs }' \
        costs="$work/costs" "$work/stats.jsonl"
}
echo
echo "host thread time per request (1 KB, 100 connections, ${secs} s, ${host_binding[*]:-unbound}):"
printf '  all on the host (0-N-N-FCFS-0):     '
host_cost 0-N-N-FCFS-0
printf '  all on the NIC  (65536-P-N-FCFS-0): '
host_cost 65536-P-N-FCFS-0
awk 'NR == 1 { p0 = $1; w0 = $2 }
     NR == 2 && p0 > 0 && w0 > 0 {
         printf "  with handoff: %.0f %% less processor time, %.0f %% less OS and server work per request\n",
                100 * (1 - $1 / p0), 100 * (1 - $2 / w0) }' "$work/costs"
