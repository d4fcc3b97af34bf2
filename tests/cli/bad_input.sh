#!/usr/bin/env bash
# tests/cli/bad_input.sh - every command of the handoff program fed bad input: bad options,
# configurations, traces and output paths. Each case checks three things: the exit status (2 for
# a usage or configuration error, 1 for a run or a file that failed), that the first line on
# stderr starts with the command's name ("handoff sweep run: "), and that the message names what
# is wrong and where (the option, the file and line, the errno text). Under the sanitizers (CTest
# runs the ASan build) a leak or an error report fails the case too.
#
# Fast by design: no case runs a simulation longer than a few thousand packets; the emulator's
# cases all fail before it needs root or a network namespace.
#
# Usage: bash tests/cli/bad_input.sh /path/to/handoff   (run by CTest from the repository root)
set -u

bin=${1:?usage: bad_input.sh /path/to/handoff}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
cd "$work" || exit 1

cases=0
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect CODE PREFIX TEXT -- ARGS...: runs "$bin" ARGS with stdout to out.txt (or wherever
# $stdout says) and checks the exit status, that stderr's first line starts with "PREFIX: ",
# and that stderr contains TEXT (a fixed string).
stdout=out.txt
expect() {
    local code=$1 prefix=$2 text=$3
    shift 4
    cases=$((cases + 1))
    local rc
    timeout 60 "$bin" "$@" >"$stdout" 2>err.txt
    rc=$?
    local err
    err=$(cat err.txt)
    if [ "$rc" -ne "$code" ]; then
        fail "handoff $* exited $rc, expected $code; stderr: $err"
        return
    fi
    if [ "$(head -c ${#prefix} err.txt)" != "$prefix" ] ||
        [ "$(head -1 err.txt | cut -c$((${#prefix} + 1))-$((${#prefix} + 2)))" != ": " ]; then
        fail "handoff $*: stderr does not start with '$prefix: ': $err"
    fi
    if ! grep -qF -- "$text" err.txt; then
        fail "handoff $*: stderr does not say '$text': $err"
    fi
    if grep -q 'Sanitizer' err.txt; then
        fail "handoff $*: a sanitizer complained: $err"
    fi
}

short=(--warmup 2000 --measure 8000 --quiet)

# ---- the program itself --------------------------------------------------------------------
expect 2 "handoff" "missing the command" --
expect 2 "handoff" "unknown command 'frobnicate'" -- frobnicate
expect 2 "handoff help" "unknown command 'frobnicate'" -- help frobnicate
# `handoff help CMD` is `handoff CMD --help`, for every command.
for c in run reproduce sweep trace calibrate emu "trace gen" "trace stats" "sweep run" "emu ls"; do
    cases=$((cases + 1))
    # shellcheck disable=SC2086
    [ "$("$bin" help $c 2>&1)" = "$("$bin" $c --help 2>&1)" ] ||
        fail "'handoff help $c' differs from 'handoff $c --help'"
done

# ---- run: options ----------------------------------------------------------------------------
expect 2 "handoff run" "missing CONFIG" -- run
expect 2 "handoff run" "unknown option '--bogus'" -- run W-0-N-N-FCFS-400 --bogus
expect 2 "handoff run" "unknown option '-x'" -- run W-0-N-N-FCFS-400 -qx
expect 2 "handoff run" "--json needs a value" -- run W-0-N-N-FCFS-400 --json
expect 2 "handoff run" "--quiet takes no value" -- run W-0-N-N-FCFS-400 --quiet=yes
expect 2 "handoff run" "fault.wire_drop_at_ms (5) and fault.wire_drop_ms (0) go together" -- run W-0-N-N-FCFS-400,fault.wire_drop_at_ms=5
expect 2 "handoff run" "fault.nic_reset_at_ms" -- run W-0-N-N-FCFS-400,fault.nic_reset_at_ms=-1
expect 2 "handoff run" "fault.nic_hang_at_ms (5) and fault.nic_hang_ms (0) go together" -- run W-0-N-N-FCFS-400,fault.nic_hang_at_ms=5
expect 2 "handoff run" "step.nic_mips_at_ms (5) and step.nic_mips (0) go together" -- run W-0-N-N-FCFS-400,step.nic_mips_at_ms=5
expect 2 "handoff run" "'step.nic_mips': expected an integer" -- run W-0-N-N-FCFS-400,step.nic_mips=fast
expect 2 "handoff run" "--warmup: 'run.warmup_packets': expected an integer" -- \
    run W-0-N-N-FCFS-400 --warmup=lots
expect 2 "handoff run" "--measure: 'run.measure_packets': expected an integer in [1," -- \
    run W-0-N-N-FCFS-400 -m 0
expect 2 "handoff run" "--seed: 'run.seed'" -- run W-0-N-N-FCFS-400 --seed -1
expect 2 "handoff run" "one CONFIG only ('W-0-N-N-FCFS-400' and 'I-0-N-N-FCFS-400')" -- \
    run W-0-N-N-FCFS-400 I-0-N-N-FCFS-400

# ---- run: --from and --pcap-snaplen -------------------------------------------------------
printf '{"config": "W-0-N-N-FCFS-400", "seed": 1}' >old.json
printf '{"config": "W-0-N-N-FCFS-400", "configuration": {"base": "W-0-N-N-FCFS-400", "nic.bogus": "1"}}' >bogus.json
expect 2 "handoff run" "--from missing.json: unable to open missing.json" -- run --from missing.json
expect 2 "handoff run" "--from old.json: no \"config\" and \"configuration\"" -- run --from old.json
expect 2 "handoff run" "--from bogus.json: unknown key 'nic.bogus'" -- run --from bogus.json
expect 2 "handoff run" "--from runs the file's configuration; unexpected CONFIG 'W-0-N-N-FCFS-400'" -- \
    run --from old.json W-0-N-N-FCFS-400
expect 2 "handoff run" "--from runs the file's run; --seed cannot change it" -- \
    run --from old.json --seed 2
expect 2 "handoff run" "--pcap-snaplen '262145': expected an integer in [1, 262144]" -- \
    run W-0-N-N-FCFS-400 --pcap x.pcap --pcap-snaplen 262145
expect 2 "handoff run" "--pcap-snaplen needs --pcap FILE" -- run W-0-N-N-FCFS-400 --pcap-snaplen 64

# ---- run: shorthands and overrides -----------------------------------------------------------
expect 2 "handoff run" "unknown workload 'X'" -- run X-0-N-N-FCFS-400
expect 2 "handoff run" "a shorthand has six fields" -- run W-0-N-N
expect 2 "handoff run" "this has more (a parameter such as Tn's or Bn's n takes no sign)" -- run W-256-P-L-B-1-400
expect 2 "handoff run" "NIC MIPS '0' is not an integer in [1, 100000]" -- run W-0-N-N-FCFS-0
expect 2 "handoff run" "unknown key 'nic.bogus'" -- run W-0-N-N-FCFS-400,nic.bogus=1
expect 2 "handoff run" "override 'nic.hiwat' is not key=value" -- run W-0-N-N-FCFS-400,nic.hiwat
expect 2 "handoff run" "'nic.hiwat': expected an integer in [1, 16777216], got '0'" -- \
    run W-0-N-N-FCFS-400,nic.hiwat=0
expect 2 "handoff run" "nic.lowat (600) must be below nic.hiwat (500)" -- \
    run W-1024-P-L-FCFS-400,nic.hiwat=500,nic.lowat=600
expect 2 "handoff run" "neither a configuration shorthand" -- run "$work/missing.conf"

# ---- run: configuration files ----------------------------------------------------------------
conf() { printf "$2" >"$1"; }
conf value.conf 'base = W-0-N-N-FCFS-400\nnic.hiwat = lots\n'
expect 2 "handoff run" "value.conf:2: 'nic.hiwat': expected an integer" -- run value.conf
conf range.conf 'base = W-0-N-N-FCFS-400\nrun.clients = 2000000\n'
expect 2 "handoff run" "range.conf:2: 'run.clients': expected an integer in [0, 1048576]" -- \
    run range.conf
conf key.conf 'base = W-0-N-N-FCFS-400\nnic.bogus = 1\n'
expect 2 "handoff run" "key.conf:2: unknown key 'nic.bogus'" -- run key.conf
conf bool.conf 'base = W-0-N-N-FCFS-400\nnic.host_first = maybe\n'
expect 2 "handoff run" "bool.conf:2: 'nic.host_first': expected true or false, got 'maybe'" -- \
    run bool.conf
conf noeq.conf 'base = W-0-N-N-FCFS-400\nnic.hiwat 5\n'
expect 2 "handoff run" "noeq.conf:2: expected 'key = value', got 'nic.hiwat 5'" -- run noeq.conf
conf novalue.conf 'base = W-0-N-N-FCFS-400\nnic.hiwat =\n'
expect 2 "handoff run" "novalue.conf:2: expected 'key = value' with both parts" -- run novalue.conf
conf twice.conf 'base = W-0-N-N-FCFS-400\nnic.hiwat = 5\nnic.hiwat = 6\n'
expect 2 "handoff run" "twice.conf:3: 'nic.hiwat' given twice (first on line 2)" -- run twice.conf
conf nobase.conf '# nothing but a comment\n'
expect 2 "handoff run" "nobase.conf: no 'base = SHORTHAND' line" -- run nobase.conf
conf badbase.conf 'base = W-0-X\n'
expect 2 "handoff run" "badbase.conf:1: 'W-0-X': a shorthand has six fields" -- run badbase.conf
printf 'base = W-0-N-N-FCFS-400\nnic\000.hiwat = 5\n' >nul.conf
expect 2 "handoff run" "nul.conf:2: NUL byte in a text file" -- run nul.conf
{ echo 'base = W-0-N-N-FCFS-400'; printf 'nic.hiwat = %05000d\n' 1; } >long.conf
expect 2 "handoff run" "long.conf:2: line longer than" -- run long.conf
conf order.conf 'base = W-1024-P-L-FCFS-400\nnic.lowat = 600\nnic.hiwat = 500\n'
expect 2 "handoff run" "order.conf: nic.lowat (600) must be below nic.hiwat (500)" -- run order.conf

# ---- run: runs that measure nothing fail -----------------------------------------------------
expect 1 "handoff run" "nothing was measured: the measured phase (4000 packets, after 2000 of warm-up, with 100000 clients) lasted 0 s" -- \
    run W-0-N-N-FCFS-400,run.clients=100000 --warmup 2000 --measure 4000
expect 1 "handoff run" "W-0-N-N-FCFS-400: nothing was measured" -- \
    run W-0-N-N-FCFS-400 --warmup 0 --measure 1
expect 1 "handoff run" "W-0-N-N-FCFS-400: no request completed in the measured phase" -- \
    run W-0-N-N-FCFS-400 --warmup 2000 --measure 4000
[ -s out.txt ] && fail "a run that measured nothing printed a table: $(cat out.txt)"

# ---- traces ----------------------------------------------------------------------------------
"$bin" trace gen W --out w.wc --requests 2000 --seed 5 || fail "trace gen failed"
: >empty
: >empty.wc
head -c 30 w.wc >trunc.wc
head -c 2000 /dev/zero | tr '\0' 'M' >garbage.wc
printf 'h - - [10/Oct/2000:13:55:36 -0700] "GET /a' >cut.log
printf '# only a comment\n' >comments.wsesslog
expect 1 "handoff run" "empty: empty file: its format cannot be detected" -- \
    run W-0-N-N-FCFS-400 --trace empty "${short[@]}"
expect 1 "handoff run" "empty.wc: the trace has no requests to replay" -- \
    run W-0-N-N-FCFS-400 --trace empty.wc "${short[@]}"
expect 1 "handoff run" "comments.wsesslog: the trace has no requests to replay" -- \
    run W-0-N-N-FCFS-400 --trace comments.wsesslog "${short[@]}"
expect 1 "handoff run" "trunc.wc: record 1 (byte offset 20): truncated record" -- \
    run W-0-N-N-FCFS-400 --trace trunc.wc "${short[@]}"
expect 1 "handoff run" "garbage.wc: record 0 (byte offset 0): method 77 is not defined" -- \
    run W-0-N-N-FCFS-400 --trace garbage.wc "${short[@]}"
expect 1 "handoff run" "cut.log:1: the quoted request has no closing quote" -- \
    run W-0-N-N-FCFS-400 --trace cut.log "${short[@]}"
expect 1 "handoff run" "missing.wc: cannot open: No such file or directory" -- \
    run W-0-N-N-FCFS-400 --trace missing.wc "${short[@]}"
# A trace shorter than the run: replayed again from its start, with a warning and in the JSON;
# and a trace replaces the workload of the shorthand, which stderr says.
cases=$((cases + 1))
"$bin" run D-0-N-N-FCFS-400 --trace w.wc --warmup 2000 --measure 20000 --quiet --json t.json \
    2>err.txt || fail "a looped trace failed: $(cat err.txt)"
grep -qF "handoff run: the requests come from the trace w.wc, not from workload D" err.txt ||
    fail "the trace replacing workload D not said: $(cat err.txt)"
grep -qF "handoff run: warning: the trace w.wc ran out of connections and started over" err.txt ||
    fail "a looped trace not warned of: $(cat err.txt)"
[ "$(grep -c 'started over' err.txt)" -eq 1 ] || fail "the looping warning is not said once"
grep -qF '"trace": "w.wc"' t.json && grep -qF '"trace_looped": true' t.json ||
    fail "the JSON does not name the looped trace: $(cat t.json)"
cases=$((cases + 1))
"$bin" run W-0-N-N-FCFS-400 "${short[@]}" --json n.json 2>err.txt || fail "a plain run failed"
grep -qF '"trace": null' n.json && grep -qF '"trace_looped": false' n.json ||
    fail "the JSON of a run without a trace lacks trace: null"
[ -s err.txt ] && fail "a plain --quiet run wrote to stderr: $(cat err.txt)"

expect 1 "handoff trace stats" "empty: empty file" -- trace stats empty
expect 1 "handoff trace stats" "empty.wc: no requests in the trace (wc format)" -- trace stats empty.wc
expect 1 "handoff trace stats" "empty: no requests in the trace (wc format)" -- \
    trace stats --format=wc empty
expect 1 "handoff trace stats" "comments.wsesslog: no requests in the trace" -- \
    trace stats comments.wsesslog
expect 1 "handoff trace stats" "trunc.wc: record 1 (byte offset 20): truncated record" -- \
    trace stats trunc.wc
expect 1 "handoff trace stats" "cut.log:1: the quoted request has no closing quote" -- \
    trace stats cut.log
expect 1 "handoff trace stats" "$work: read error: Is a directory" -- trace stats "$work"
expect 2 "handoff trace stats" "--max-requests needs a whole number from 1" -- \
    trace stats w.wc --max-requests 0
expect 2 "handoff trace stats" "--format needs a value" -- trace stats w.wc --format
expect 2 "handoff trace stats" "--json takes no value" -- trace stats w.wc --json=yes
expect 2 "handoff trace stats" "one trace at a time; unexpected argument 'empty'" -- \
    trace stats w.wc empty
expect 2 "handoff trace gen" "unknown option '--bogus'" -- trace gen W --out x.wc --bogus
expect 2 "handoff trace gen" "--clients needs a whole number from 1 to 10000000, not '0'" -- \
    trace gen W --out x.wc -c 0
expect 1 "handoff trace gen" "cannot write 'nodir/x.wc': No such file or directory" -- \
    trace gen W --out nodir/x.wc
expect 2 "handoff trace" "unknown subcommand" -- trace frobnicate
expect 2 "handoff trace" "missing the subcommand" -- trace
[ -e x.wc ] && fail "a refused trace gen left x.wc"

# ---- reproduce and sweep ---------------------------------------------------------------------
expect 2 "handoff reproduce" "--seeds '0': expected an integer in [1, 16]" -- reproduce --seeds 0
expect 2 "handoff reproduce" "--jobs 'x': expected an integer in [1, 64]" -- reproduce --jobs=x
expect 2 "handoff reproduce" "--measure '10': expected an integer in [1000," -- \
    reproduce --measure 10
expect 2 "handoff reproduce" "--set does not apply" -- reproduce --set fig5
expect 2 "handoff reproduce" "unexpected argument 'extra'" -- reproduce extra
expect 2 "handoff reproduce" "--out needs a value" -- reproduce --out
expect 2 "handoff sweep" "missing the action (list, run or merge)" -- sweep
expect 2 "handoff sweep" "unknown action 'frobnicate'" -- sweep frobnicate
expect 2 "handoff sweep run" "missing --out DIR" -- sweep run --set table1 --seeds 1
expect 2 "handoff sweep merge" "missing --out DIR" -- sweep merge --set table1 "$work"
expect 2 "handoff sweep merge" "no source directories given" -- sweep merge --out m
expect 2 "handoff sweep list" "--jobs does not apply" -- sweep list -j 2
expect 2 "handoff sweep list" "--resume does not apply" -- sweep list --resume
expect 2 "handoff sweep merge" "--resume does not apply" -- sweep merge --resume --out m "$work"
expect 2 "handoff sweep merge" "--shard does not apply" -- sweep merge --shard 1/2 --out m "$work"
expect 2 "handoff sweep list" "unexpected argument 'x'" -- sweep list x
expect 2 "handoff sweep list" "unknown set 'bogus'" -- sweep list --set=bogus
expect 2 "handoff sweep list" "--set and --configs exclude each other" -- \
    sweep list --set fig5 --configs grid
expect 2 "handoff sweep run" "--shard '3/2': expected I/N with 1 <= I <= N" -- \
    sweep run --shard 3/2 --out s
printf 'W-0-N-N-FCFS-400\nW-0-N-N-FCFS-400,nic.bogus=1\n' >badgrid
expect 2 "handoff sweep list" "badgrid:2: 'W-0-N-N-FCFS-400,nic.bogus=1': unknown key 'nic.bogus'" -- \
    sweep list --configs badgrid
printf '# nothing\n\n' >emptygrid
expect 2 "handoff sweep list" "emptygrid: no configurations" -- sweep list -c emptygrid
expect 2 "handoff sweep list" "missing-grid': No such file or directory" -- \
    sweep list --configs missing-grid
mkdir -p emptysrc
expect 1 "handoff sweep merge" "W-0-N-N-FCFS-400-s1.json" -- \
    sweep merge --set table1 --seeds 1 --out m emptysrc
[ -e s ] && fail "a refused sweep run made its --out directory"

# ---- calibrate -------------------------------------------------------------------------------
expect 2 "handoff calibrate" "without handoff" -- calibrate --config W-1024-P-N-FCFS-400
expect 2 "handoff calibrate" "--seeds wants a number from 1 to 100, not '101'" -- calibrate -s 101
expect 2 "handoff calibrate" "--out needs a value" -- calibrate --out
expect 2 "handoff calibrate" "--warmup: 'run.warmup_packets': expected an integer" -- \
    calibrate --warmup x
expect 2 "handoff calibrate" "--config: " -- calibrate --config "$work/missing.conf"
expect 2 "handoff calibrate" "key.conf:2: unknown key 'nic.bogus'" -- calibrate --config key.conf
expect 1 "handoff calibrate" "the baseline, seed 1: no request completed" -- \
    calibrate --warmup 2000 --measure 4000 --rounds 1

# ---- emu: everything that fails before it needs root or a namespace --------------------------
expect 2 "handoff emu" "--port wants a number from 1 to 65535, not '0'" -- emu --port=0
expect 2 "handoff emu" "unknown option '--bogus'" -- emu --bogus
expect 2 "handoff emu" "--netns needs a value" -- emu --netns
expect 2 "handoff emu" "unknown key 'nic.bogus'" -- emu 1024-P-N-FCFS-0,nic.bogus=1
expect 2 "handoff emu" "value.conf:2: 'nic.hiwat': expected an integer" -- emu value.conf
expect 2 "handoff emu" "unexpected argument 'extra'" -- emu 0-N-N-FCFS-0 extra
expect 2 "handoff emu" "--fault-hang-for wants seconds, from more than 0" -- emu --fault-hang-for 0
expect 2 "handoff emu" "--fault-hang-at wants seconds" -- emu --fault-hang-at=x
expect 2 "handoff emu" "--fault-wire-drop-for wants seconds, from more than 0" -- emu --fault-wire-drop-for=0
expect 2 "handoff emu" "--host-cpu wants a processor number, not 'x'" -- emu --host-cpu x
expect 2 "handoff emu" "--nic-cpu wants a processor number, not '1024'" -- emu --nic-cpu=1024
expect 2 "handoff emu ls" "unknown option '--bogus'" -- emu ls --bogus
expect 2 "handoff emu restore" "wants one PEER_ADDR:PORT" -- emu restore

# ---- outputs that cannot be written ----------------------------------------------------------
expect 1 "handoff run" "cannot write 'nodir/x.json': No such file or directory" -- \
    run W-0-N-N-FCFS-400 "${short[@]}" --json nodir/x.json
expect 1 "handoff run" "cannot write 'nodir/x.csv': No such file or directory" -- \
    run W-0-N-N-FCFS-400 "${short[@]}" --timeseries nodir/x.csv
expect 1 "handoff run" "nodir/x.pcap" -- run W-0-N-N-FCFS-400 "${short[@]}" --pcap nodir/x.pcap
expect 1 "handoff run" "nodir/c.jsonl" -- run W-0-N-N-FCFS-400 "${short[@]}" --conn-log nodir/c.jsonl
expect 1 "handoff calibrate" "cannot write 'nodir/c.conf': No such file or directory" -- \
    calibrate --warmup 20000 --measure 40000 --rounds 12 --out nodir/c.conf
: >afile
expect 1 "handoff sweep run" "cannot create directory 'afile/runs': Not a directory" -- \
    sweep run --set table1 --seeds 1 --out afile
if [ -c /dev/full ] && [ -w /dev/full ]; then
    full='No space left on device'
    expect 1 "handoff run" "cannot write '/dev/full': $full" -- \
        run W-0-N-N-FCFS-400 "${short[@]}" --json /dev/full
    expect 1 "handoff run" "cannot write '/dev/full': $full" -- \
        run W-0-N-N-FCFS-400 "${short[@]}" --timeseries /dev/full
    expect 1 "handoff run" "/dev/full: writing the capture failed" -- \
        run W-0-N-N-FCFS-400 "${short[@]}" --pcap /dev/full
    expect 1 "handoff trace gen" "/dev/full: write failed: $full" -- \
        trace gen W --requests 1000 --out /dev/full
    [ -c /dev/full ] || fail "trace gen removed /dev/full"
    expect 1 "handoff calibrate" "cannot write '/dev/full': $full" -- \
        calibrate --warmup 20000 --measure 40000 --rounds 12 --out /dev/full
    stdout=/dev/full
    expect 1 "handoff run" "cannot write standard output: $full" -- \
        run W-0-N-N-FCFS-400 --warmup 2000 --measure 8000
    expect 1 "handoff run" "cannot write standard output: $full" -- \
        run W-0-N-N-FCFS-400 --print-config
    expect 1 "handoff trace stats" "cannot write standard output: $full" -- trace stats w.wc
    expect 1 "handoff trace stats" "cannot write standard output: $full" -- trace stats --json w.wc
    expect 1 "handoff sweep list" "cannot write standard output: $full" -- sweep list
    expect 1 "handoff help" "cannot write standard output: $full" -- help run
    stdout=out.txt
else
    echo "bad_input.sh: no writable /dev/full: the disk-full cases were not run"
fi

if [ "$failures" -ne 0 ]; then
    echo "bad_input.sh: $failures of $cases case(s) failed" >&2
    exit 1
fi
echo "bad_input.sh: all $cases cases passed"
