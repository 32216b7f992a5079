#!/usr/bin/env node

import module from 'node:module'

// Node 22.1+ keeps compiled code between runs (cron and relayd start jproxy often); older: no-op.
module.enableCompileCache?.()

// relayd runs `jproxy probe --host ADDRESS` as its check script, per host and interval: that
// path starts without oclif when it can (src/cli/check-script.ts); everything else goes to oclif.
const args = process.argv.slice(2)
const checkScript = args[0] === 'probe' && args.some((a) => a === '--host' || a.startsWith('--host='))
const exitCode = checkScript ? await (await import('../dist/cli/check-script.js')).runCheckScript(args.slice(1)) : false
if (exitCode !== false) process.exitCode = exitCode
// --version, help, gen, validate config and lint relayd start from bundles (src/cli/bundle-loader.ts).
else if (!(await (await import('../dist/cli/bundle-loader.js')).runFast(args))) await (await import('@oclif/core')).execute({dir: import.meta.url})
