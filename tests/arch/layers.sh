#!/usr/bin/env bash
# The layout is the architecture (docs/architecture.md): each folder of src/ may include only the
# headers its layer may use, the policies are called only by the firmware and the OS side, and
# the parts of the simulator depend on each other without a circle.
# usage: tests/arch/layers.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
status=0
fail() { echo "FAIL: $*" >&2; status=1; }

# The public headers of each module (include/handoff/NAME.h), by layer.
util="assert bytes bufpool err rng"
tcpe="tcpe tcpe_seg tcpe_wire"
policy="ackagg cmd loadctl lookup sched select"
workload="workload workload_stats workload_trace"
sim_core="sim_cache sim_config sim_cpu sim_evq sim_pcap sim_time sim_world"

# What each folder may include from include/handoff/ (its own private headers are always fine).
declare -A allowed=(
    [util]="$util"
    [tcpe]="$util $tcpe"
    [policy]="$util tcpe_seg $policy"
    [workload]="$util $workload"
    [nic]="$util $tcpe $policy pkt nic"
    [os]="$util $tcpe $policy pkt os"
    [app]="$util app os http docroot"
    [sim]="$util $tcpe $policy $workload $sim_core pkt nic os app"
    [emu]="$util $tcpe $policy $workload pkt nic os app http docroot emu"
    [cli]="$util $workload $sim_core emu"
    [packetdrill]="$util $tcpe"
)

for dir in "${!allowed[@]}"; do
    [ -d "src/$dir" ] || continue
    for f in src/"$dir"/*.[ch]; do
        while read -r hdr; do
            name=$(basename "$hdr" .h)
            case " ${allowed[$dir]} " in
            *" $name "*) ;;
            *) fail "$f includes handoff/$name.h, which src/$dir/ may not use" ;;
            esac
        done < <(grep -oE '^#include "handoff/[a-z_]+\.h"' "$f" | sed -E 's/.*"handoff\/(.*)"/\1/')
    done
done
for dir in src/*/; do
    dir=$(basename "$dir")
    [ -n "${allowed[$dir]+x}" ] || fail "src/$dir/ has no rule in tests/arch/layers.sh"
done

# Load control and selection are the firmware's and the OS side's: nothing in the simulator
# calls them, and what calls them knows nothing of the simulator. (A configuration may name a
# policy: ho_sel_parse, ho_sel_format, ho_lc_find and ho_lc_kind_name only read and write its
# name.)
policy_calls='\b(ho_lc_(params_default|init|packet|admit|conn_end|dequeue|advert|state|soft_limit|cnum|kind)|ho_sel_(init|set_port|policy_for|advertised|established|enqueued|enqueued_bytes|reply|left_nic))\('
for f in $(grep -lE "$policy_calls" src/*/*.c); do
    case "$f" in
    src/policy/*) continue ;;
    src/sim/*) fail "$f calls load control or the selection policy" ;;
    esac
    grep -qE '#include "handoff/sim_|struct sim_' "$f" && fail "$f mixes a policy with simulator types"
done

# The simulator's parts include each other's headers without a circle.
edges=$(for f in src/sim/*.[ch]; do
    from=$(basename "$f" | sed -E 's/\.[ch]$//')
    echo "$from $from"
    grep -oE '^#include "[a-z_]+\.h"' "$f" | sed -E 's/.*"(.*)\.h"/\1/' | while read -r to; do
        [ "$to" = "$from" ] || echo "$from $to"
    done
done)
if ! printf '%s\n' "$edges" | tsort >/dev/null 2>"${TMPDIR:-/tmp}/layers.$$"; then
    fail "the parts of src/sim/ include each other in a circle: $(tr '\n' ' ' <"${TMPDIR:-/tmp}/layers.$$")"
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"

[ $status -eq 0 ] && echo "layers.sh: every folder keeps to its layer"
exit $status
