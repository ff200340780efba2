#!/usr/bin/env bash
# The test suite in two phases: every test not marked `serial` on two cores (pytest-xdist), then
# the serial ones alone, since they time something or read the machine's load and a test beside
# them would be that load. Fails if either phase fails. With no arguments both phases must run
# tests (pytest's exit 5, "no tests ran", fails); with arguments (PYTEST_ARGS: paths, -k, -x) a
# phase that selects nothing is fine as long as the other ran.
# usage: scripts/test.sh PYTHON [PYTEST ARGS...]
set -u
py=$1
shift
"$py" -m pytest -n "${TEST_WORKERS:-2}" "$@" -m "not serial"
parallel=$?
"$py" -m pytest -p no:xdist "$@" -m serial
serial=$?
if [ $# -gt 0 ]; then
  [ "$parallel" -eq 5 ] && [ "$serial" -eq 0 ] && parallel=0
  [ "$serial" -eq 5 ] && [ "$parallel" -eq 0 ] && serial=0
fi
echo "parallel phase: exit $parallel; serial phase: exit $serial"
[ "$parallel" -ne 0 ] && exit "$parallel"
exit "$serial"
