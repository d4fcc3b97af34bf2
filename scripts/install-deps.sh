#!/usr/bin/env bash
# Installs the Debian packages handoff needs to build, test and draw its figures.
#
# Called by the Makefile before every build: it checks with dpkg-query first, so when everything
# is present it costs a few milliseconds and touches nothing. As root it installs what is missing
# with apt-get; otherwise it prints the exact command to run and fails.
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
    gnuplot-nox      # figures of the reproduction (SVG and PNG)
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "handoff: missing Debian packages: ${missing[*]}" >&2
    echo "handoff: install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "handoff: installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
