#!/usr/bin/env bash
# Every benchmark in turn (npm run bench builds first). Each prints its own figures; none is a timed test.
set -euo pipefail
cd "$(dirname "$0")/.."
node --expose-gc --import tsx bench/render.ts
node --expose-gc --import tsx bench/lint.ts
node --import tsx bench/probe.ts
node --import tsx bench/validate.ts
node --import tsx bench/apply.ts
node --expose-gc --import tsx bench/scale-limits.ts
node --import tsx bench/tls-deploy.ts
node --import tsx bench/relayd-checks.ts
node --import tsx bench/fleet.ts
node --import tsx bench/start.ts
