#!/usr/bin/env bash
# The test suite with the CPU contended: JPROXY_BUSY_LOOPS (default 2) `yes > /dev/null` loops run
# for the whole mocha run, as on a developer's busy machine, and are killed by PID at the end.
# Timing-sensitive tests must pass here too. Arguments go to mocha (default: the whole suite).
# Run: npm run build && bench/contended-tests.sh   (or: npm run test:contended)
set -euo pipefail
cd "$(dirname "$0")/.."

loops=()
stop_loops() {
  for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_loops EXIT

for _ in $(seq "${JPROXY_BUSY_LOOPS:-2}"); do
  yes >/dev/null &
  loops+=("$!")
done

started=$(date +%s)
status=0
npx mocha "$@" || status=$?
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "contended-tests: mocha exit ${status} in $(($(date +%s) - started)) s on $(nproc) CPU(s) with ${#loops[@]} busy loop(s); load average ${load}"
exit "${status}"
