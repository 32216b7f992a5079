/**
 * tls deploy benchmark: the built CLI against real HAProxy (master-worker) on loopback, as a
 * certbot deploy hook runs it. Alternates two certificates so every run checks, backs up,
 * installs, swaps (set/commit ssl cert) and proves the new serial. Prints wall time and peak
 * RSS per run, and the time from the hook starting to the first fresh handshake that shows the
 * new serial (a client handshaking every few milliseconds meanwhile, as visitors would).
 * Run: npm run build && node --import tsx bench/tls-deploy.ts
 */
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {X509Certificate} from 'node:crypto'

import {handshake} from '../src/tls/live.js'
import {DOMAIN, startStage, workers, writeInventory} from '../test/support/haproxy-stage.js'
import {TestPki} from '../test/support/pki.js'
import {measureCli, median} from './support/measure.js'

const RUNS = 9
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-deploy-'))
const stage = await startStage(dir)
try {
  const pki = await TestPki.create(join(dir, 'pki'))
  const pairs = []
  for (const name of ['a', 'b']) {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    await mkdir(join(dir, name))
    await writeFile(join(dir, name, 'fullchain.pem'), leaf.pem + pki.intermediate.pem)
    await writeFile(join(dir, name, 'privkey.pem'), await readFile(leaf.key, 'utf8'), {mode: 0o600})
    pairs.push({dir: join(dir, name), serial: new X509Certificate(leaf.pem).serialNumber})
  }

  const inventory = await writeInventory(stage, 'inventory', stage.data)
  const port = stage.data.proxy.listen.httpsPort
  const before = await workers(stage)
  const runs = []
  const served: number[] = []
  const inProcess: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const pair = pairs[i % 2]
    // Fresh handshakes in a loop from the hook's start until one shows the new serial.
    let seenAt: number | undefined
    let stop = false
    const started = performance.now()
    const watcher = (async () => {
      while (!stop && seenAt === undefined) {
        const result = await handshake({address: '127.0.0.1', ca: [], port, servername: DOMAIN, timeoutMs: 2000})
        if (result.chain[0]?.serialNumber === pair.serial) seenAt = performance.now() - started
      }
    })()
    const run = await measureCli(['tls', 'deploy', '-i', inventory, '--ca', pki.root.cert, '--cert', join(pair.dir, 'fullchain.pem'), '--key', join(pair.dir, 'privkey.pem'), '--json'])
    stop = true
    await watcher
    if (run.code !== 0) throw new Error(`deploy ${i}: exit ${run.code}: ${run.stdout}`)
    if (seenAt === undefined) throw new Error(`deploy ${i}: new serial never seen`)
    runs.push(run)
    served.push(seenAt)
    inProcess.push(JSON.parse(run.stdout).durationMs)
  }

  const after = await workers(stage)
  if (after.worker !== before.worker) throw new Error('HAProxy reloaded during the deploys')
  const line = (label: string, values: number[], unit: string) =>
    console.log(`${label.padEnd(56)} median ${median(values).toFixed(0)} ${unit}, max ${Math.max(...values).toFixed(0)} ${unit}`)
  console.log(`tls deploy (${RUNS} runs, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs, two certificates alternately, HAProxy 2.6 master-worker, no reload):`)
  line('deploy wall time (check, backup, install, swap, verify)', runs.map((r) => r.wallMs), 'ms')
  line('  of which the deploy itself (report durationMs)', inProcess, 'ms')
  line('deploy peak RSS', runs.map((r) => r.maxRssMiB), 'MiB')
  line('hook start -> new serial served (fresh handshake)', served, 'ms')
} finally {
  await stage.haproxy.stop()
  await Promise.all([...stage.backends.values()].map((b) => b.close()))
  await rm(dir, {force: true, recursive: true})
}
