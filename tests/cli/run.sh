#!/usr/bin/env bash
# `handoff run`: JSON with the documented keys and the run's provenance, byte-identical for the
# same seed apart from wall_seconds, time series, captures (whole and cut by --pcap-snaplen),
# configuration files, and clear errors for bad input.
# usage: tests/cli/run.sh PATH_TO_HANDOFF
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

small=(--warmup 5000 --measure 15000 --quiet)
"$bin" run W-0-N-N-FCFS-400 "${small[@]}" --seed 3 --json "$tmp/a.json" --timeseries "$tmp/a.csv"
"$bin" run W-0-N-N-FCFS-400 "${small[@]}" --seed 3 --json "$tmp/b.json"
"$bin" run W-0-N-N-FCFS-400 "${small[@]}" --seed 4 --json "$tmp/c.json"
for k in config seed requests_per_s http_mbps packets_per_s nic_packet_share connections_per_s \
    nic_connection_share host_user_pct host_os_pct host_idle_pct nic_idle_pct \
    host_send_delay_median_us host_recv_delay_median_us mean_response_ms nic_rx_drops \
    retransmits soft_limit_mean nic_connections_mean events wall_seconds; do
    grep -q "\"$k\":" "$tmp/a.json" || fail "JSON lacks $k"
done
grep -q '"config": "W-0-N-N-FCFS-400"' "$tmp/a.json" || fail "config name"
diff <(grep -v wall_seconds "$tmp/a.json") <(grep -v wall_seconds "$tmp/b.json") >/dev/null ||
    fail "same seed, different JSON"
diff <(grep -v wall_seconds "$tmp/a.json") <(grep -v wall_seconds "$tmp/c.json") >/dev/null &&
    fail "different seeds, same JSON"
head -1 "$tmp/a.csv" | grep -q '^# handoff-provenance {"config":"W-0-N-N-FCFS-400",' ||
    fail "the time series does not start with its provenance"
sed -n 2p "$tmp/a.csv" | grep -q '^time_s,soft_limit,cnum,nic_rxq,host_busy,nic_busy,requests$' ||
    fail "time-series header"
[ "$(wc -l <"$tmp/a.csv")" -gt 3 ] || fail "time series too short"

# A capture of the wire: a nanosecond pcap file (magic a1b23c4d, little-endian here).
"$bin" run W-256-P-L-FCFS-400 --warmup 2000 --measure 10000 --quiet --pcap "$tmp/w.pcap"
[ "$(od -An -tx1 -N4 "$tmp/w.pcap" | tr -d ' ')" = "4d3cb2a1" ] || fail "not a nanosecond pcap"
[ "$(stat -c %s "$tmp/w.pcap")" -gt 100000 ] || fail "pcap too small"
# --pcap-snaplen: the header's snap length (bytes 16-19) and no record longer than it, while
# each record keeps the frame's true length (record header: caplen at 8, len at 12).
"$bin" run W-256-P-L-FCFS-400 --warmup 2000 --measure 10000 --quiet --pcap "$tmp/s.pcap" \
    --pcap-snaplen 64
[ "$(od -An -tu4 -j16 -N4 "$tmp/s.pcap" | tr -d ' ')" = 64 ] || fail "snap length not in the header"
[ "$(stat -c %s "$tmp/s.pcap")" -lt "$(stat -c %s "$tmp/w.pcap")" ] || fail "snaplen cut nothing"
lens=$(od -An -tu4 -j24 -N16 "$tmp/s.pcap")
set -- $lens
[ "$3" -le 64 ] && [ "$4" -ge "$3" ] || fail "first record: caplen $3, len $4"

# The connection log: one JSON object per line, one per connection, the handoffs in it match the
# run's count, and its latencies are those of the JSON's percentiles.
"$bin" run W-256-P-L-FCFS-400 --warmup 2000 --measure 60000 --quiet --conn-log "$tmp/c.jsonl" \
    --json "$tmp/c.json"
[ "$(wc -l <"$tmp/c.jsonl")" -gt 100 ] || fail "connection log too short"
bad=$(grep -v -c '^{"sock":[0-9]*,"local":"10\.0\.0\.1:80","remote":"[0-9.]*:[0-9]*","accepted_ms":[0-9.]*,.*}$' \
    "$tmp/c.jsonl" || true)
[ "$bad" = 0 ] || fail "$bad connection log lines not as documented"
grep -q '"reply":"accepted","handoff_latency_us":[0-9.]*,' "$tmp/c.jsonl" ||
    fail "no handoff in the connection log"
grep -q '"closed_on":"nic"' "$tmp/c.jsonl" || fail "no connection ended on the NIC"
grep -q '"closed_on":null' "$tmp/c.jsonl" || fail "connections open at the end are not logged"
grep -q '"handoffs": [1-9]' "$tmp/c.json" || fail "the JSON counts no handoff"
grep -q '"handoff_latency_us_p50": [0-9]' "$tmp/c.json" || fail "the JSON has no latency"
# Every move is logged: under B8, which gives slots back and offers connections again, each
# record's moves hold exactly its accepted handoffs, and some connection moved more than once.
"$bin" run W-256-P-L-B8-400 --warmup 2000 --measure 60000 --quiet --conn-log "$tmp/b.jsonl"
awk '{
        split($0, part, "\"moves\":\\[")
        h = $0; sub(/.*"handoffs":/, "", h); h += 0
        n = gsub(/"reply":"accepted"/, "", part[2])
        if (n != h) { bad++ }
        if (h > 1) { multi++ }
     }
     END { if (bad || !multi) { print bad + 0, multi + 0; exit 1 } }' "$tmp/b.jsonl" ||
    fail "the moves of the log do not match its handoffs (mismatched, moved twice or more)"
# Sockets are reused: no socket is logged twice as open at the end.
[ -z "$(grep '"closed_ms":null' "$tmp/c.jsonl" | grep -o '^{"sock":[0-9]*' | sort | uniq -d)" ] ||
    fail "a socket logged open twice"

expect_error() {
    local code=$1 want=$2
    shift 2
    set +e
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local st=$?
    set -e
    [ $st -eq "$code" ] || fail "'$*' exited $st, expected $code"
    grep -q -- "$want" "$tmp/err" || fail "'$*' did not say '$want': $(cat "$tmp/err")"
}

# Replaying a trace: a generated World Cup file, and a Common Log Format file.
"$bin" trace gen W --out "$tmp/w.wc" --requests 20000 --seed 5 >/dev/null
"$bin" run W-256-P-L-FCFS-400 --trace "$tmp/w.wc" --warmup 5000 --measure 15000 --quiet \
    --json "$tmp/t.json"
grep -q '"requests": [1-9]' "$tmp/t.json" || fail "trace replay completed no request"
printf '1.2.3.4 - - [01/Jul/1998:10:00:00 +0000] "GET /a HTTP/1.0" 200 5000\r\n' >"$tmp/t.log"
printf '5.6.7.8 - - [01/Jul/1998:10:00:02 +0000] "GET /c HTTP/1.0" 304 -\r\n' >>"$tmp/t.log"
printf 'base = W-0-N-N-FCFS-400\nrun.clients = 4\nrun.trace = %s\n' "$tmp/t.log" >"$tmp/t.conf"
"$bin" run "$tmp/t.conf" --warmup 100 --measure 3000 --quiet --json "$tmp/t2.json"
grep -q '"requests": [1-9]' "$tmp/t2.json" || fail "CLF replay completed no request"
printf 'not a log line\n' >"$tmp/bad.log"
expect_error 1 "bad.log:1" run W-0-N-N-FCFS-400 --trace "$tmp/bad.log" --quiet

# A configuration file: --print-config output loads back and runs the same.
"$bin" run W-0-N-N-FCFS-400 --seed 3 --print-config >"$tmp/w.conf"
grep -q '^base = W-0-N-N-FCFS-400' "$tmp/w.conf" || fail "print-config base line"
"$bin" run "$tmp/w.conf" "${small[@]}" --json "$tmp/d.json"
diff <(grep -v 'wall_seconds\|"config"' "$tmp/a.json") \
    <(grep -v 'wall_seconds\|"config"' "$tmp/d.json") >/dev/null ||
    fail "the printed configuration did not reproduce the run"
grep -q "\"config\": \"$tmp/w.conf\"" "$tmp/d.json" || fail "JSON config of a file run"

printf 'base = W-0-N-N-FCFS-400\nnic.hiwat = lots\n' >"$tmp/bad.conf"
expect_error 2 "bad.conf:2: 'nic.hiwat'" run "$tmp/bad.conf"
expect_error 2 "unknown workload 'X'" run X-0-N-N-FCFS-400
# Overrides after the configuration: applied, and named when wrong.
"$bin" run "W-256-N-N-FCFS-400,cost.nic_scale_pct=200" "${small[@]}" --json "$tmp/o.json"
"$bin" run W-256-N-N-FCFS-400 "${small[@]}" --json "$tmp/p.json"
grep -q '"config": "W-256-N-N-FCFS-400,cost.nic_scale_pct=200"' "$tmp/o.json" ||
    fail "JSON config should be the argument that reproduces the run"
grep -q '"shorthand": "W-256-N-N-FCFS-400"' "$tmp/o.json" || fail "JSON shorthand"
idle() { sed -n 's/.*"nic_idle_pct": \([0-9.]*\).*/\1/p' "$1"; }
awk -v a="$(idle "$tmp/o.json")" -v b="$(idle "$tmp/p.json")" 'BEGIN { exit !(a < b - 1) }' ||
    fail "a costlier NIC should idle less: $(idle "$tmp/o.json") vs $(idle "$tmp/p.json")"
"$bin" run "W-256-N-N-FCFS-400,cost.nic_scale_pct=200" --warmup 5000 --measure 15000 2>/dev/null |
    head -1 | grep -q '^W-256-N-N-FCFS-400 (W-256-N-N-FCFS-400,cost.nic_scale_pct=200)$' ||
    fail "the run's title should show the overrides"
expect_error 2 "override 'nic.hiwat' is not key=value" run W-0-N-N-FCFS-400,nic.hiwat
expect_error 2 "unknown key 'cost.nope'" run W-0-N-N-FCFS-400,cost.nope=3
expect_error 2 "six fields" run W-0-N-N
expect_error 2 "neither a configuration shorthand" run /nonexistent.conf
expect_error 2 "missing CONFIG" run
expect_error 2 "unknown option '--frobnicate'" run W-0-N-N-FCFS-400 --frobnicate 1
expect_error 2 "run.seed" run W-0-N-N-FCFS-400 --seed -1
expect_error 2 "run.measure_packets" run W-0-N-N-FCFS-400 --measure 0
expect_error 1 "cannot write" run W-0-N-N-FCFS-400 "${small[@]}" --json /nonexistent/x.json
expect_error 1 "/nonexistent/x.pcap" run W-0-N-N-FCFS-400 "${small[@]}" --pcap /nonexistent/x.pcap
expect_error 2 "--pcap-snaplen '0'" run W-0-N-N-FCFS-400 --pcap "$tmp/x.pcap" --pcap-snaplen 0
expect_error 2 "--pcap-snaplen needs --pcap" run W-0-N-N-FCFS-400 --pcap-snaplen 100
# (read from a file: grep -q stops reading at its match, and the rest of the text would hit a
# closed pipe)
"$bin" run --help >"$tmp/help"
grep -q 'simulated time zero' "$tmp/help" || fail "--help does not say where the capture's time starts"
grep -q 'Workload-NICConnections' "$tmp/help" || fail "--help"
grep -q -- '--conn-log FILE' "$tmp/help" || fail "--help does not list --conn-log"
echo "run.sh: all checks passed"
