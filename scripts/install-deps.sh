#!/usr/bin/env bash
# Installs the Debian packages handoff needs to build, test and draw its figures.
#
#   scripts/install-deps.sh           what the build, the tests and the figures need
#   scripts/install-deps.sh --bench   the same, and the optional packages of `make bench`
#
# Called by the Makefile before every build: it checks with dpkg-query first, so when everything
# is present it costs a few milliseconds and touches nothing. As root it installs what is missing
# with apt-get; otherwise it prints the exact command to run and fails. The benchmark packages
# are optional: if they cannot be installed the script says so and still succeeds, and
# `make bench` skips the comparison that needs them.
set -euo pipefail

packages=(
    cmake            # build system generator
    make
    gcc
    clang            # libFuzzer targets (make fuzz)
    libclang-rt-14-dev  # sanitizer and fuzzer runtimes for clang
    pkg-config
    libcmocka-dev    # unit-test framework
    libjansson-dev   # JSON output of results
    libpcap-dev      # pcap output of the simulated wire
    nettle-dev       # SHA-256 of the traces a run replays, recorded with its results
    gnuplot-nox      # figures of the reproduction (SVG and PNG)
    curl             # the Linux client of the interoperation test (tests/interop)
    iproute2         # ip netns, for the interoperation test and the emulator
    wrk              # load for the emulator's tests (tests/emu)
    apache2-utils    # ab, likewise
    procps           # sysctl, which sets up the emulator's namespace
    tshark           # TCP analysis of the emulator's captures (tests/emu/emu_handoff.sh)
)

# The ns-3 scenario that `make bench` runs beside our own benchmarks (bench/ns3/).
bench_packages=(
    g++
    ns3              # ns-3 3.37 libraries
    libns3-dev       # its headers and pkg-config files
    libgsl-dev       # libns3-dev's pkg-config files name libgsl.so, which only this package has
    libsqlite3-dev   # likewise libsqlite3.so (ns3-stats)
    nginx            # Linux's TCP serving the emulator's files (bench/emu_versus_linux.sh)
)

with_bench=0
for arg in "$@"; do
    case "$arg" in
    --bench) with_bench=1 ;;
    *)
        echo "usage: $0 [--bench]" >&2
        exit 2
        ;;
    esac
done

# Prints the packages among its arguments that are not installed, one per line.
not_installed() {
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            echo "$p"
        fi
    done
}

mapfile -t missing < <(not_installed "${packages[@]}")
bench_missing=()
if [ "$with_bench" -eq 1 ]; then
    mapfile -t bench_missing < <(not_installed "${bench_packages[@]}")
fi

[ ${#missing[@]} -eq 0 ] && [ ${#bench_missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if [ ${#missing[@]} -ne 0 ]; then
        echo "handoff: missing Debian packages: ${missing[*]}" >&2
        echo "handoff: install them with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "handoff: optional benchmark packages missing: ${bench_missing[*]}" >&2
    echo "handoff: the ns-3 comparison is skipped; to run it, install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${bench_missing[*]}" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#missing[@]} -ne 0 ]; then
    echo "handoff: installing Debian packages: ${missing[*]}" >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [ ${#bench_missing[@]} -ne 0 ]; then
    echo "handoff: installing optional benchmark packages: ${bench_missing[*]}" >&2
    if ! apt-get install -y -qq --no-install-recommends "${bench_missing[@]}" >&2; then
        echo "handoff: could not install ${bench_missing[*]}; the ns-3 comparison is skipped" >&2
    fi
fi
