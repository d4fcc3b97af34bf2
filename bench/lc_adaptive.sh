#!/usr/bin/env bash
# Load control A against hand-set watermarks: the table of docs/policy-engine.md ("How A
# compares"). For each workload W, I, S, D and each NIC speed 400, 600, 800 MIPS it runs
# X-4096-P-L-FCFS-M with nine (Hiwat, Lowat) pairs, Hiwat in {512, 1024, 1536} and Lowat in
# {Hiwat/4, Hiwat/2, 3 Hiwat/4} (1024/512 is the default, the paper's machine), and
# X-4096-P-A-FCFS-M, all at the default run length, and prints one markdown row per point: the
# best pair and its requests/s, L with the default pair, A, A's gap to the best, and the standard
# deviation of the Soft limit over the measured part of each run (from --timeseries: the samples
# after the end of the warm-up, which is the last sample's time less the run's measured_s).
#
# usage: bench/lc_adaptive.sh [OUT_DIR [SEED]]   (default out/lc_adaptive, seed 1; a relative
# OUT_DIR is taken from the top of the repository)
# HANDOFF names the program (default build/handoff; `make build` makes it), JOBS the runs at once
# (default: the processors). The runs' JSON and time series stay in OUT_DIR; a run already there
# is not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/lc_adaptive}
seed=${2:-1}
handoff=${HANDOFF:-build/handoff}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
[ -x "$handoff" ] || { echo "lc_adaptive: $handoff not found (make build)" >&2; exit 2; }
mkdir -p "$out"

workloads="W I S D"
speeds="400 600 800"
pairs="512/128 512/256 512/384 1024/256 1024/512 1024/768 1536/384 1536/768 1536/1152"

# One line per run: configuration and file stem.
runs() {
    for x in $workloads; do
        for m in $speeds; do
            for p in $pairs; do
                hi=${p%/*} lo=${p#*/}
                echo "$x-4096-P-L-FCFS-$m,nic.hiwat=$hi,nic.lowat=$lo $out/$x-$m-L-$hi-$lo-s$seed"
            done
            echo "$x-4096-P-A-FCFS-$m $out/$x-$m-A-s$seed"
        done
    done
}
export LC_HANDOFF="$handoff" LC_SEED="$seed"
runs | while read -r config stem; do
    [ -s "$stem.json" ] || echo "$config $stem"
done | xargs -r -P "$jobs" -L 1 sh -c \
    '"$LC_HANDOFF" run "$1" --seed "$LC_SEED" --json "$2.json" --timeseries "$2.csv" \
        >/dev/null 2>"$2.err" ||
        { echo "lc_adaptive: $1 failed: $(cat "$2.err")" >&2; exit 255; }' sh || exit 2

# requests/s of a run.
rps() { grep -o '"requests_per_s": *[0-9.e+-]*' "$1.json" | sed 's/.*: *//'; }
# Standard deviation of the Soft limit over the measured part of a run.
soft_std() {
    local measured
    measured=$(grep -o '"measured_s": *[0-9.e+-]*' "$1.json" | sed 's/.*: *//')
    awk -F, -v measured="$measured" '
        BEGIN { n = 0; k = 0 }
        /^[0-9]/ { t[n] = $1 + 0; s[n] = $2 + 0; n++ }
        END {
            start = t[n - 1] - measured
            for (i = 0; i < n; i++) if (t[i] > start) { k++; sum += s[i]; sq += s[i] * s[i] }
            mean = sum / k; var = sq / k - mean * mean
            printf("%.1f", (var > 0) ? sqrt(var) : 0)
        }' "$1.csv"
}

printf '%s\n' "| point | best grid pair | its requests/s | L 1024/512 requests/s | A requests/s |"\
" A vs best | Soft-limit std L | Soft-limit std A |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for x in $workloads; do
    for m in $speeds; do
        best=""; best_rps=0
        for p in $pairs; do
            r=$(rps "$out/$x-$m-L-${p%/*}-${p#*/}-s$seed")
            if awk -v a="$r" -v b="$best_rps" 'BEGIN { exit !(a > b) }'; then
                best=$p; best_rps=$r
            fi
        done
        l="$out/$x-$m-L-1024-512-s$seed"
        a="$out/$x-$m-A-s$seed"
        awk -v pt="$x-4096-P-*-FCFS-$m" -v best="$best" -v br="$best_rps" -v lr="$(rps "$l")" \
            -v ar="$(rps "$a")" -v ls="$(soft_std "$l")" -v as="$(soft_std "$a")" 'BEGIN {
                printf "| %s | %s | %.0f | %.0f | %.0f | %+.2f %% | %s | %s |\n",
                    pt, best, br, lr, ar, (ar - br) / br * 100, ls, as
            }'
    done
done
