#!/bin/sh
# Builds Loft and runs every test (unit, integration, interop with real Dovecot).
# The last line is the summary "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
sh contrib/install-deps.sh test || exit 1
{ [ -x configure ] || autoreconf -fi; } && { [ -f Makefile ] || ./configure -q; } && make -j"$(nproc)" -s || {
  echo "0 passed, 1 failed"
  exit 1
}
make -j"$(nproc)" check
status=$?
log=test-suite.log
pass=$(grep -h "^# PASS:" "$log" 2>/dev/null | awk '{s+=$3} END {print s+0}')
fail=$(grep -h -E "^# (FAIL|ERROR|XPASS):" "$log" 2>/dev/null | awk '{s+=$3} END {print s+0}')
skip=$(grep -h "^# SKIP:" "$log" 2>/dev/null | awk '{s+=$3} END {print s+0}')
if [ ! -f "$log" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
[ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
# CI keeps only the output: show the end of every failed test's own log.
for trs in $(find test -name '*.trs' 2>/dev/null); do
  if grep -q -E '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
    echo "==== ${trs%.trs}.log (last 60 lines)"
    tail -n 60 "${trs%.trs}.log"
  fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
