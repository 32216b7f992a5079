#!/usr/bin/env node
'use strict'

// CommonJS (bin/package.json says so): the hot commands then start without Node's ESM loader,
// which costs cron and relayd, who start jproxy often, time and memory on every run.

// Node 22.1+ keeps compiled code between runs; older: no-op.
require('node:module').enableCompileCache?.()

const args = process.argv.slice(2)
// oclif finds the package from here; bin/ has a package.json of its own.
const root = require('node:path').join(__dirname, '..')

async function main() {
  // relayd runs `jproxy probe --host ADDRESS` as its check script, per host and interval: that
  // path starts without oclif when it can (src/entry/check-script.ts).
  if (args[0] === 'probe' && args.some((a) => a === '--host' || a.startsWith('--host='))) {
    const exitCode = await require('../dist/bundle/check.cjs').runCheckScript(args.slice(1))
    if (exitCode !== false) return void (process.exitCode = exitCode)
  }
  // --version, help, gen, validate config, lint relayd and probe start from bundles (src/entry/bundle-loader.ts).
  else if (await require('../dist/bundle/start.cjs').runFast(args)) return

  await require('@oclif/core').execute({dir: root})
}

main()
