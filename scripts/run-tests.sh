#!/usr/bin/env bash
# Runs the test suite of a configured build directory and prints one summary.
#
# CTest counts test programs; most programs hold many cmocka cases, so the summary also adds up
# the cases from each program's own report. Exits non-zero if any test failed.
#
# usage: scripts/run-tests.sh BUILD_DIR [ctest options...]
set -uo pipefail
build=$1
shift

(cd "$build" && ctest --output-on-failure "$@")
status=$?
# CTest keeps every program's full output here, passing ones included.
log="$build/Testing/Temporary/LastTest.log"

cases_run=$(grep -hoE '^\[==========\] [0-9]+ test\(s\) run' "$log" | awk '{s += $2} END {print s + 0}')
cases_failed=$(grep -hoE '^\[  FAILED  \] [0-9]+ test\(s\)' "$log" | awk '{s += $3} END {print s + 0}')
cases_skipped=$(grep -hoE '^\[  SKIPPED \] [0-9]+ test\(s\)' "$log" | awk '{s += $3} END {print s + 0}')
programs=$(grep -cE '^Test time' "$log")
programs_failed=$((programs - $(grep -cE '^Test Passed' "$log")))

echo
echo "handoff tests: $programs programs, $cases_run cmocka cases ($cases_skipped skipped)"
echo "$((programs - programs_failed)) passed, $programs_failed failed"
exit $status
