#!/usr/bin/env bash
# The emulator's PCI rings under ThreadSanitizer: test_pci_ring.c built with -fsanitize=thread
# (which cannot share a build with AddressSanitizer) and run, so that an entry read before the
# producer's release, or a slot reused before the consumer's, is reported as the data race it is.
# usage: tests/emu/ring_tsan.sh [SOURCE_DIR]   (exit 77: skipped, no clang or no TSan runtime)
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
cc=$(command -v clang || true)
[ -n "$cc" ] || { echo "ring_tsan: clang not found, skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$cc" -std=c11 -O1 -g -fsanitize=thread -D_GNU_SOURCE -Iinclude -Isrc/emu -Itests \
    tests/emu/test_pci_ring.c src/emu/pci_ring.c -lcmocka -lpthread -o "$tmp/ring" 2>"$tmp/cc.log"; then
    cat "$tmp/cc.log" >&2
    echo "ring_tsan: building under ThreadSanitizer failed" >&2
    exit 1
fi
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$tmp/ring"
echo "ring_tsan: no data race"
