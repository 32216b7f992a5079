/**
 * apply benchmark: the built CLI against real HAProxy (master-worker) on loopback, as an admin
 * or cron runs it. Prints wall time and peak RSS of `jproxy apply haproxy` when nothing changed
 * (render, haproxy -c, health probes, diff) and when every run changes the config (plus backup,
 * install, reload through the master CLI and verification), and of `jproxy status`.
 * Run: npm run build && node --import tsx bench/apply.ts
 */
import {execFile} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {startStage, withWeb2, writeInventory} from '../test/apply/haproxy-harness.js'

const RUNS = 7
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const usage = fileURLToPath(new URL('support/report-usage.mjs', import.meta.url))

function cli(args: string[]): Promise<{code: number; maxRssMiB: number; wallMs: number}> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', usage, bin, ...args], (error, _stdout, stderr) => {
      const used = JSON.parse(/USAGE (.*)/.exec(stderr)?.[1] ?? '{"maxRssKiB": 0}')
      resolve({code: typeof error?.code === 'number' ? error.code : 0, maxRssMiB: used.maxRssKiB / 1024, wallMs: performance.now() - started})
    })
  })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-apply-'))
const stage = await startStage(dir)
try {
  const files = [await writeInventory(stage, 'a', withWeb2(stage)), await writeInventory(stage, 'b', stage.data)]
  const measure = async (label: string, args: (i: number) => string[]) => {
    const runs = []
    for (let i = 0; i < RUNS; i++) {
      const run = await cli(args(i))
      if (run.code !== 0) throw new Error(`${label}: exit ${run.code}`)
      runs.push(run)
    }

    console.log(`${label.padEnd(46)} median ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms, max ${Math.max(...runs.map((r) => r.wallMs)).toFixed(0)} ms, peak RSS ${Math.max(...runs.map((r) => r.maxRssMiB)).toFixed(0)} MiB`)
  }

  console.log(`apply (${RUNS} runs each, HAProxy 2.6 master-worker, 6 loopback backends):`)
  await measure('apply, config changes every run (reload)', (i) => ['apply', 'haproxy', '-i', files[i % 2], '--ca', stage.pem])
  await measure('apply, nothing changed (no reload)', () => ['apply', 'haproxy', '-i', files[0], '--ca', stage.pem])
  await measure('status', () => ['status', 'haproxy', '-i', files[0]])
} finally {
  await stage.haproxy.stop()
  await Promise.all([...stage.backends.values()].map((b) => b.close()))
  await rm(dir, {force: true, recursive: true})
}
