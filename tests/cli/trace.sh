#!/usr/bin/env bash
# tests/cli/trace.sh - `handoff trace` from the outside: generate, summarise, reproduce, and
# refuse bad usage and bad files with the documented exit codes and messages.
#
# Usage: bash tests/cli/trace.sh /path/to/handoff   (run by CTest from the repository root)
set -u

bin=${1:?usage: trace.sh /path/to/handoff}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect CODE PATTERN -- command...: runs the command, checks its exit code and that its
# stdout+stderr matches the extended regular expression PATTERN (empty: no check).
expect() {
    local code=$1 pattern=$2
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "'$*' exited $rc, expected $code; output: $out"
        return
    fi
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
        fail "'$*' output does not match /$pattern/: $out"
    fi
}

# Help tells the truth and succeeds.
expect 0 'handoff trace gen W\|I' -- "$bin" trace --help
expect 0 '--requests N' -- "$bin" trace gen --help
expect 0 'Figure 4' -- "$bin" trace stats --help

# Generation: W and I, reproducible from the seed, 20 bytes a record.
expect 0 '' -- "$bin" trace gen W --out "$work/w1.wc" --seed 3 --clients 64 --requests 20000
expect 0 '' -- "$bin" trace gen W --out "$work/w2.wc" --seed=3 --clients=64 --requests=20000
expect 0 '' -- "$bin" trace gen W --out "$work/w3.wc" --seed 4 --clients 64 --requests 20000
expect 0 '' -- "$bin" trace gen I --out "$work/i.wc" --requests 5000
cmp -s "$work/w1.wc" "$work/w2.wc" || fail "the same seed gave different files"
cmp -s "$work/w1.wc" "$work/w3.wc" && fail "different seeds gave the same file"
size=$(wc -c <"$work/w1.wc")
[ "$size" -eq 400000 ] || fail "20000 records should be 400000 bytes, got $size"

# Summaries: text and JSON.
expect 0 'requests +20000' -- "$bin" trace stats "$work/w1.wc"
expect 0 'clients +64' -- "$bin" trace stats "$work/w1.wc"
expect 0 'status +200 8[0-2]\.[0-9]% 304 1[89]\.[0-9]%' -- "$bin" trace stats "$work/w1.wc"
expect 0 'shortest 50% of connections send' -- "$bin" trace stats "$work/w1.wc"
expect 0 '"requests": 5000, "clients": [1-9][0-9]*, ' -- "$bin" trace stats "$work/i.wc" --json
expect 0 '"format": "wc"' -- "$bin" trace stats --format wc "$work/i.wc" --json
json=$("$bin" trace stats "$work/w1.wc" --json)
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["lifetime"]["bottom50_packet_share"] < 0.10, d; assert d["lifetime"]["top10_packet_share"] > 0.45, d' "$json" ||
        fail "stats --json is not valid JSON or misses Figure 4's bands: $json"
fi

# Other formats, detected from the content.
printf 'h - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326\r\nh - - [10/Oct/2000:13:55:40 -0700] "GET /b HTTP/1.0" 304 -\r\n' >"$work/access"
expect 0 'connections +1' -- "$bin" trace stats "$work/access"
expect 0 '\(clf\)' -- "$bin" trace stats "$work/access"
printf '/index.html size=100 think=1\n\t/a.gif size=20\n\n/b.html size=5\n' >"$work/s.wsesslog"
expect 0 'connections +2' -- "$bin" trace stats "$work/s.wsesslog"

# Usage errors: exit 2 with a clear message.
expect 2 'usage' -- "$bin" trace
expect 2 'unknown subcommand' -- "$bin" trace frobnicate
expect 2 'missing --out' -- "$bin" trace gen W
expect 2 'missing the workload' -- "$bin" trace gen --out "$work/x.wc"
expect 2 'must be W or I' -- "$bin" trace gen D --out "$work/x.wc"
expect 2 'unknown option' -- "$bin" trace gen W --out "$work/x.wc" --speed 3
expect 2 '--requests needs a whole number' -- "$bin" trace gen W --out "$work/x.wc" --requests -5
expect 2 '--requests needs a whole number' -- "$bin" trace gen W --out "$work/x.wc" --requests 0
expect 2 '--clients needs a whole number' -- "$bin" trace gen W --out "$work/x.wc" --clients 1e3
expect 2 '--seed needs a whole number' -- "$bin" trace gen W --out "$work/x.wc" --seed 99999999999999999999999
expect 2 '--seed needs a value' -- "$bin" trace gen W --out "$work/x.wc" --seed
expect 2 'missing the trace FILE' -- "$bin" trace stats
expect 2 '--format needs wc, clf or wsesslog' -- "$bin" trace stats "$work/w1.wc" --format xml
expect 2 'one trace at a time' -- "$bin" trace stats "$work/w1.wc" "$work/w2.wc"
[ -e "$work/x.wc" ] && fail "a refused gen left a file behind"

# Bad files: exit 1 naming the file and where.
expect 1 "$work/missing.wc: cannot open" -- "$bin" trace stats "$work/missing.wc"
: >"$work/empty"
expect 1 'empty file' -- "$bin" trace stats "$work/empty"
expect 1 'empty: no requests in the trace' -- "$bin" trace stats --format wc "$work/empty"
head -c 30 "$work/w1.wc" >"$work/trunc.wc"
expect 1 'trunc.wc: record 1 \(byte offset 20\): truncated record' -- "$bin" trace stats "$work/trunc.wc"
printf 'h - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326\nh - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 -12\n' >"$work/bad.log"
expect 1 'bad.log:2: negative size' -- "$bin" trace stats "$work/bad.log"
printf 'h - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 1\nh - - [10/Oct/2000:13:55:30 -0700] "GET /a HTTP/1.0" 200 1\n' >"$work/back.log"
expect 1 'back.log:2: time goes backwards by 6 s' -- "$bin" trace stats "$work/back.log"
expect 0 'out-of-order records 1' -- "$bin" trace stats "$work/back.log" --allow-backstep 10
printf '/a size=1 colour=blue\n' >"$work/bad.wsess"
expect 1 'bad.wsess:1: unknown key' -- "$bin" trace stats "$work/bad.wsess"
printf '\037\213\010\000junk' >"$work/wc_day6_1.gz"
expect 1 'gzip' -- "$bin" trace stats "$work/wc_day6_1.gz"
# Unwritable output: exit 1, naming the file.
expect 1 "cannot write '$work/nodir/out.wc': No such file" -- "$bin" trace gen W --out "$work/nodir/out.wc"

if [ "$failures" -ne 0 ]; then
    echo "trace.sh: $failures failure(s)" >&2
    exit 1
fi
echo "trace.sh: all checks passed"
