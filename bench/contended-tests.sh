#!/usr/bin/env bash
# The test suite with the CPU contended: JPROXY_BUSY_LOOPS (default 2) `yes > /dev/null` loops run
# for the whole mocha run, as on a developer's busy machine, and are killed by PID at the end.
# Timing-sensitive tests must pass here too. With no arguments the whole suite runs (.mocharc.json);
# arguments name test files to run instead (mocha would add them to the config's spec, so the
# config's other settings are repeated here).
# Run: npm run build && bench/contended-tests.sh [test/apply/*.test.ts ...]   (or: npm run test:contended)
set -euo pipefail
cd "$(dirname "$0")/.."

loops=()
stop_loops() {
  for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_loops EXIT
trap 'exit 130' INT TERM

for _ in $(seq "${JPROXY_BUSY_LOOPS:-2}"); do
  yes >/dev/null &
  loops+=("$!")
done

started=$(date +%s)
status=0
if (($# == 0)); then
  npx mocha || status=$?
else
  npx mocha --no-config --node-option import=tsx --extension ts --forbid-only --timeout 120000 "$@" || status=$?
fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "contended-tests: mocha exit ${status} in $(($(date +%s) - started)) s on $(nproc) CPU(s) with ${#loops[@]} busy loop(s); load average ${load}"
exit "${status}"
