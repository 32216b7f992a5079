/**
 * Probe benchmark: `jproxy probe` (the built CLI, as cron runs it) against 1,000 loopback
 * backends in a separate process, every tenth of them accepting connections and never
 * answering, with a 2 s probe timeout. Prints wall time, peak RSS and peak open descriptors for
 * all-at-once and for the default concurrency, the same probes as a sequential loop (measured on
 * a tenth of them and scaled), and the cold start of `jproxy probe --host` against `node -e 0`; the
 * first figures on the machine's Node and on Node 24 (bench/support/nodes.ts), each with the floor
 * under them: the same command and inventory probing only the web nodes.
 * Goal: wall time under timeout + 0.5 s, peak RSS under 150 MB.
 * Run: npm run build && node --import tsx bench/probe.ts
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'

import {benchNodes, type NodeBinary} from './support/nodes.js'

const BACKENDS = 1000
const SILENT_EVERY = 10
const TIMEOUT = '2s'
const SHARDS = 10
const WEB = 10
const RUNS = 15

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const usage = fileURLToPath(new URL('support/report-usage.mjs', import.meta.url))
const backendsScript = fileURLToPath(new URL('support/probe-backends.ts', import.meta.url))

// The backends live in their own process, so the figures below are the prober's alone.
// Beyond the backends, one colibri-ws listener per JVB (only connected to; never silent there).
const JVBS = BACKENDS - WEB - 2 * SHARDS
const child = spawn(process.execPath, ['--import', 'tsx', backendsScript, String(BACKENDS + JVBS), String(SILENT_EVERY)], {stdio: ['pipe', 'pipe', 'inherit']})
const [firstLine] = await createInterface({input: child.stdout})[Symbol.asyncIterator]().next().then((r) => [r.value as string])
const listening: Array<{port: number; silent: boolean}> = JSON.parse(firstLine)
const servers = listening.slice(0, BACKENDS)
const colibriPorts = listening.slice(BACKENDS).map((s) => s.port)
const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-probe-'))

/** An inventory whose backends, in probe order (web, then per shard prosody, jicofo, JVBs), use `ports`. */
function inventory(ports: number[], web: number, shards: number): Record<string, unknown> {
  let colibri = 0
  const next = (() => {
    let i = 0
    return () => ports[i++]
  })()
  const webNodes = Array.from({length: web}, (_, i) => ({address: '127.0.0.1', name: `web${i + 1}`, port: next()}))
  const perShard = (ports.length - web) / shards - 2
  return {
    domain: 'meet.example.org',
    health: {timeout: TIMEOUT},
    probe: {jvbStats: true, proxy: false},
    proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
    shards: Array.from({length: shards}, (_, s) => {
      const name = `s${s + 1}`
      const prosody = {address: '127.0.0.1', port: next()}
      const jicofo = {address: '127.0.0.1', port: next()}
      const jvbs = Array.from({length: perShard}, (_, j) => {
        const port = next()
        return {address: '127.0.0.1', colibriPort: colibriPorts[colibri++], id: `${name}-jvb${j + 1}`, restPort: port}
      })
      return {jicofo, jvbs, name, prosody}
    }),
    web: webNodes,
  }
}

async function writeInventory(name: string, doc: Record<string, unknown>): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, stringify(doc))
  return file
}

interface Measured {
  down: number
  /** The probe run itself, as the report gives it: wall time less process start-up. */
  runMs: number
  maxRssMiB: number
  peakFds: number
  probed: number
  wallMs: number
}

/** One `jproxy probe` process on `node`, timed from spawn to exit, with its peak RSS and descriptors. */
function probeRun(node: string, file: string, concurrency: number, only: string[] = []): Measured {
  const started = performance.now()
  const run = spawnSync(node, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', usage, bin, 'probe', '--inventory', file, '--no-state', '--json', '--concurrency', String(concurrency), '--deadline', '10m', ...only], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  const wallMs = performance.now() - started
  const used = JSON.parse(/USAGE (.*)/.exec(run.stderr)?.[1] ?? '{}')
  if (!run.stdout.includes('"backends"')) throw new Error(`jproxy probe exited ${run.status}: ${run.stdout.slice(0, 2000)} ${run.stderr}`)
  const report = JSON.parse(run.stdout) as {backends: Array<{state: string}>; durationMs: number}
  return {down: report.backends.filter((b) => b.state === 'down').length, runMs: report.durationMs, maxRssMiB: used.maxRssKiB / 1024, peakFds: used.peakFds, probed: report.backends.length, wallMs}
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const row = (label: string, m: Measured) =>
  console.log(`${label.padEnd(34)} ${m.probed} probed, ${m.down} down   run ${(m.runMs / 1000).toFixed(2)} s   process ${(m.wallMs / 1000).toFixed(2)} s   peak RSS ${m.maxRssMiB.toFixed(0)} MiB   peak fds ${m.peakFds}`)

try {
  const ports = servers.map((s) => s.port)
  const full = await writeInventory('full.yaml', inventory(ports, WEB, SHARDS))
  console.log(`probe: ${BACKENDS} loopback backends (${WEB} web, ${SHARDS} shards of prosody + jicofo + ${(BACKENDS - WEB) / SHARDS - 2} JVBs), ${servers.filter((s) => s.silent).length} never answering, timeout ${TIMEOUT}`)
  const nodes: NodeBinary[] = benchNodes()
  for (const node of nodes) {
    console.log(`\n${node.label}`)
    const allAtOnce = probeRun(node.path, full, 1000)
    row('all at once (--concurrency 1000)', allAtOnce)
    row('default (--concurrency 64)', probeRun(node.path, full, 64))
    // The floor under both: the same command and inventory (start-up, oclif, the 1,000-backend inventory
    // loaded and checked) probing only the ten web nodes.
    row('floor: same inventory, --role web', probeRun(node.path, full, 1000, ['--role', 'web']))
    console.log(`goal: run under 2.5 s: ${allAtOnce.runMs < 2500 ? 'met' : 'missed'}; peak RSS under 150 MB (${(150e6 / 1048576).toFixed(0)} MiB): ${allAtOnce.maxRssMiB * 1048576 < 150e6 ? 'met' : 'missed'}`)
  }

  // A tenth of the backends, in the same mix, probed one after the other (the first Node only).
  console.log(`\n${nodes[0].label}`)
  const sample = await writeInventory('sample.yaml', inventory(ports.slice(0, BACKENDS / 10), 1, 1))
  const sequential = probeRun(nodes[0].path, sample, 1)
  row('sequential, 100 of them', sequential)
  console.log(`${'sequential, scaled to 1000'.padEnd(34)} about ${((sequential.wallMs * 10) / 1000).toFixed(0)} s`)

  // Cold start: what relayd pays per check when it runs `jproxy probe --host` as its check script.
  const healthy = servers.find((s) => !s.silent)!
  const one = await writeInventory('one.yaml', inventory([healthy.port, ...ports.slice(1, 3)], 1, 1))
  const time = (args: string[], expect: number) => {
    const times: number[] = []
    for (let i = 0; i < RUNS + 1; i++) {
      const started = performance.now()
      const run = spawnSync(process.execPath, args, {encoding: 'utf8'})
      if (run.status !== expect) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`)
      if (i > 0) times.push(performance.now() - started) // the first run warms the disk cache
    }

    return `min ${Math.min(...times).toFixed(0)} ms, median ${median(times).toFixed(0)} ms`
  }

  console.log(`cold start, node -e 0:                      ${time(['-e', '0'], 0)}`)
  console.log(`cold start, jproxy probe --host (web, up):  ${time([bin, 'probe', '--inventory', one, '--host', '127.0.0.1', '--role', 'web'], 1)}`)
} finally {
  child.stdin.end()
  await rm(dir, {force: true, recursive: true})
}
