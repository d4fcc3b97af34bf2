#!/usr/bin/env bash
# tests/cli/emu.sh - `handoff emu` from the outside: its usage, and every bad argument refused
# with the documented exit code (2 for usage, 1 for a failed run) and a message naming it, before
# anything is set up. Runs as any user; the parts that need root (a namespace name the kernel
# refuses, a name a live run holds) run only as root. Serving is tested by tests/emu/*.sh.
#
# Usage: bash tests/cli/emu.sh /path/to/handoff   (run by CTest from the repository root)
set -u

bin=${1:?usage: emu.sh /path/to/handoff}
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect CODE PATTERN -- command...: the exit code, and stdout+stderr matching PATTERN.
expect() {
    local code=$1 pattern=$2
    shift 3
    local out rc
    out=$(timeout 20 "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$code" ]; then
        fail "'$*' exited $rc, expected $code; output: $out"
        return
    fi
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
        fail "'$*': output does not match /$pattern/: $out"
    fi
}

expect 0 'usage: handoff emu \[CONFIG\]' -- "$bin" emu --help
expect 0 'handoff emu ls \[--netns NAME\]' -- "$bin" emu --help
expect 0 '--pcap FILE' -- "$bin" emu --help
expect 0 'usage: handoff emu ls' -- "$bin" emu ls --help
expect 0 '--fault-reset-at S' -- "$bin" emu --help
expect 0 'handoff emu refuse \[--netns NAME\] on\|off' -- "$bin" emu reset --help
expect 0 'serve HTTP on real packets' -- "$bin" help

# Bad options and values: usage errors, named.
expect 2 "--port wants a number from 1 to 65535, not '0'" -- "$bin" emu --port 0
expect 2 "--port wants a number from 1 to 65535, not '80x'" -- "$bin" emu --port 80x
expect 2 "--addr wants a host address A.B.C.D, not '300.1.1.1'" -- "$bin" emu --addr 300.1.1.1
expect 2 "--addr wants a host address A.B.C.D, not '10.0.0.0'" -- "$bin" emu --addr 10.0.0.0
expect 2 "--files wants a number from 1 to 152472, not '0'" -- "$bin" emu --files 0
expect 2 "--idle-timeout wants seconds from 0 to 86400, not 'x'" -- "$bin" emu --idle-timeout x
expect 2 "--snaplen wants 0 \(whole frames\) or 54 to 65535 bytes, not '10'" -- "$bin" emu --snaplen 10
expect 2 "--netns needs a value" -- "$bin" emu --netns
for bad in x -1 1.2.3 1e3 . 86400.5 0.1234567891 '2 '; do
    expect 2 "--fault-reset-at wants seconds after the ready line, from 0 to 86400 with at most 9 decimals \(e.g. 2 or 0.5\), not '$bad'" -- \
        "$bin" emu --fault-reset-at "$bad"
done
expect 2 "--fault-refuse-at wants seconds after the ready line" -- "$bin" emu --fault-refuse-at=1,5
expect 2 "--fault-reset-at needs a value" -- "$bin" emu --fault-reset-at
expect 2 "unknown option '--bogus'" -- "$bin" emu --bogus
expect 2 "unexpected argument 'extra'" -- "$bin" emu 0-N-N-FCFS-0 extra
# Bad configurations: the field or key at fault is named.
expect 2 "packet priority 'X' must be P or N" -- "$bin" emu 1024-X-N-FCFS-0
expect 2 "selection policy 'T0'" -- "$bin" emu 1024-P-N-T0-0
expect 2 "unknown key 'nic.bogus'" -- "$bin" emu 1024-P-L-FCFS-0,nic.bogus=1
expect 2 "nic.lowat \(600\) must be below nic.hiwat \(500\)" -- "$bin" emu 1024-P-L-FCFS-400,nic.hiwat=500,nic.lowat=600
# The control commands: usage, and no emulator to talk to.
expect 2 "wants one PEER_ADDR:PORT" -- "$bin" emu restore
expect 2 "unexpected argument 'x'" -- "$bin" emu ls x
expect 1 "no handoff emu runs with netns ho-cli-none-$$" -- "$bin" emu ls --netns "ho-cli-none-$$"
expect 1 "no handoff emu runs with netns ho-cli-none-$$" -- "$bin" emu restore --netns "ho-cli-none-$$" 10.77.0.1:5
expect 2 "handoff emu reset: unexpected argument 'now'" -- "$bin" emu reset now
expect 2 "handoff emu refuse: wants on or off" -- "$bin" emu refuse
expect 2 "handoff emu refuse: wants on or off" -- "$bin" emu refuse maybe
expect 2 "handoff emu refuse: unknown option '--bogus'" -- "$bin" emu refuse --bogus on
expect 1 "handoff emu reset: no handoff emu runs with netns ho-cli-none-$$" -- "$bin" emu reset --netns "ho-cli-none-$$"
expect 1 "handoff emu refuse: no handoff emu runs with netns ho-cli-none-$$" -- "$bin" emu refuse --netns "ho-cli-none-$$" on

if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null; then
    # Refused before anything is written: no file set generated, no namespace made.
    expect 1 "netns name 'bad name!'" -- "$bin" emu --netns 'bad name!'
    expect 1 "--docroot /nonexistent-$$" -- "$bin" emu --netns "ho-cli-$$" --docroot "/nonexistent-$$"
    ip netns list | grep -q "ho-cli-$$" && fail "a refused run left its namespace behind"
    expect 1 "--stats /nonexistent-dir-$$/s: No such file or directory" -- \
        "$bin" emu --netns "ho-cli-$$" --stats "/nonexistent-dir-$$/s"
else
    echo "emu.sh: not root: the checks that set up a namespace were not run"
fi

if [ "$failures" -ne 0 ]; then
    echo "emu.sh: $failures failure(s)" >&2
    exit 1
fi
echo "emu.sh: all checks passed"
