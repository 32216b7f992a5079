/**
 * relayd check-script benchmark (issue 15), all ratios measured interleaved in one run:
 *  1. relayd's pattern: the check script called once per host, one after the other, for 100
 *     hosts (state of a 1,000-backend deployment), under dash and mksh; per call against
 *     `node -e 0` and Debian's `check_http` (monitoring-plugins-basic) on a loopback server.
 *     Goal: under 10 ms per call.
 *  2. `jproxy probe --host` (the stale-state fallback) on a plan-cache hit and on a miss,
 *     against `node -e 0`. Goal: a hit at most 1.5x `node -e 0`.
 *  3. A probing process exiting: one probe over node:http (what jproxy uses) and over undici
 *     (whose WebAssembly parser V8 keeps optimising), wall time and the wait after the work.
 *  4. The watcher: RSS after 10,000 back-to-back rounds (10 backends), and CPU and wall time
 *     per round with 1,000 backends (every tenth never answers; 2 s timeout).
 * Run: npm run build && node --import tsx bench/relayd-checks.ts
 */
import {execFile, spawn, spawnSync} from 'node:child_process'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'

import {relaydCheckScript} from '../src/probe/relayd-check-script.js'
import {formatVerdicts} from '../src/probe/verdicts.js'
import {BIN, measureNode, median} from './support/measure.js'

const HOSTS = 100
const STATE_HOSTS = 1000
const ROUNDS = 7
const CHECK_HTTP = '/usr/lib/nagios/plugins/check_http'
const dist = new URL('../dist/', import.meta.url)

const backendsScript = fileURLToPath(new URL('support/probe-backends.ts', import.meta.url))
const watchScript = fileURLToPath(new URL('support/watch-rounds.mjs', import.meta.url))

async function startBackends(count: number, silentEvery: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', backendsScript, String(count), String(silentEvery)], {stdio: ['pipe', 'pipe', 'inherit']})
  const first = await createInterface({input: child.stdout})[Symbol.asyncIterator]().next()
  return {child, servers: JSON.parse(first.value as string) as Array<{port: number; silent: boolean}>}
}

const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-relayd-checks-'))
const backends = await startBackends(1020, 10)
const good = backends.servers.filter((s) => !s.silent).map((s) => s.port)
const ms = (value: number) => `${value.toFixed(1)} ms`

// 1. The check script in relayd's serial pattern.
const state = join(dir, 'probe-state.txt')
const address = (i: number) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`
const written = new Date()
await writeFile(state, formatVerdicts({
  expires: new Date(written.getTime() + 3_600_000),
  hosts: Array.from({length: STATE_HOSTS}, (_, i) => ({address: address(i), role: 'jvb' as const, verdict: i % 10 === 9 ? 'down' as const : 'up' as const})),
  written,
}))
const script = join(dir, 'relayd-check-jvb')
await writeFile(script, relaydCheckScript('jvb', state, {inventoryFile: '/nonexistent.yaml', jproxy: BIN, node: '/bin/false'}), {mode: 0o755})
const hosts = Array.from({length: HOSTS}, (_, i) => address(i * 7)).join(' ')

/** Wall time of one `dash -c` loop calling `command` once per word of `words`, per call. */
function loop(command: string, words: string, calls: number): number {
  const started = performance.now()
  const result = spawnSync('/bin/dash', ['-c', `for h in ${words}; do ${command} >/dev/null 2>&1; done`], {stdio: 'ignore'})
  if (result.error) throw result.error
  return (performance.now() - started) / calls
}

const NODE_CALLS = 10
const sample: Record<string, number[]> = {checkHttp: [], dash: [], mksh: [], node: [], true: []}
for (let round = 0; round < ROUNDS; round++) {
  sample.true.push(loop('/bin/true', hosts, HOSTS))
  sample.dash.push(loop(`/bin/dash ${script} "$h"`, hosts, HOSTS))
  sample.mksh.push(loop(`/bin/mksh ${script} "$h"`, hosts, HOSTS))
  sample.node.push(loop(`${process.execPath} -e 0`, Array.from({length: NODE_CALLS}, (_, i) => i).join(' '), NODE_CALLS))
  sample.checkHttp.push(loop(`${CHECK_HTTP} -H 127.0.0.1 -p ${good[0]} -u /about/health -t 2`, Array.from({length: HOSTS}, (_, i) => i).join(' '), HOSTS))
}

const verdictCheck = spawnSync('/bin/dash', [script, address(0)])
console.log(`check script, ${HOSTS} hosts called one after the other (state of ${STATE_HOSTS} backends), median of ${ROUNDS} interleaved rounds:`)
console.log(`  dash:  ${ms(median(sample.dash))} per call, ${ms(median(sample.dash) * HOSTS)} for all ${HOSTS} (answers ${verdictCheck.status} = up for ${address(0)})`)
console.log(`  mksh:  ${ms(median(sample.mksh))} per call, ${ms(median(sample.mksh) * HOSTS)} for all ${HOSTS}`)
console.log(`  /bin/true (one bare process start, the floor):  ${ms(median(sample.true))} per call; the dash script costs ${(median(sample.dash) / median(sample.true)).toFixed(1)} of them`)
console.log(`  node -e 0:  ${ms(median(sample.node))} per call (${(median(sample.node) / median(sample.dash)).toFixed(1)}x the dash script)`)
console.log(`  check_http (monitoring-plugins-basic) on loopback:  ${ms(median(sample.checkHttp))} per call (${(median(sample.checkHttp) / median(sample.dash)).toFixed(1)}x the dash script)`)
console.log(`  goal: under 10 ms per call: ${median(sample.dash) < 10 && median(sample.mksh) < 10 ? 'met' : 'MISSED'}`)

// 2. probe --host: the fast path on a plan-cache hit, and a miss, against node -e 0.
const cache = join(dir, 'cache')
await mkdir(cache)
const inventoryFile = join(dir, 'jproxy.yaml')
await writeFile(inventoryFile, stringify({
  domain: 'meet.example.org',
  probe: {proxy: false},
  proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
  shards: [{jicofo: {address: '127.0.0.1', port: good[1]}, jvbs: [{address: '127.0.0.1', colibriPort: good[2], id: 'jvb1', restPort: good[3]}], name: 's1', prosody: {address: '127.0.0.1', port: good[4]}}],
  web: [{address: '127.0.0.1', name: 'web1', port: good[5]}],
}))
const hostArgs = [BIN, 'probe', '--host', '127.0.0.1', '--role', 'jvb', '-i', inventoryFile]
const withCache = (dirName: string) => (args: string[]) =>
  new Promise<number>((resolve) => {
    const started = performance.now()
    execFile(process.execPath, args, {env: {...process.env, JPROXY_CACHE_DIR: dirName}}, (error) => {
      if (typeof error?.code === 'number' && error.code !== 1) console.error(`unexpected exit ${error.code}`)
      resolve(performance.now() - started)
    })
  })
await withCache(cache)(hostArgs) // a first full load writes the cache
const fast: Record<string, number[]> = {hit: [], miss: [], node: []}
for (let round = 0; round < 2 * ROUNDS; round++) {
  fast.node.push((await measureNode(['-e', '0'])).wallMs)
  fast.hit.push(await withCache(cache)(hostArgs))
  fast.miss.push(await withCache(join(dir, 'no-cache'))(hostArgs))
}

const ratio = median(fast.hit) / median(fast.node)
console.log(`\nprobe --host (relayd's fallback when the watcher's state is stale), median of ${2 * ROUNDS} interleaved runs:`)
console.log(`  node -e 0:                 ${ms(median(fast.node))}`)
console.log(`  plan-cache hit (fast path): ${ms(median(fast.hit))}  = ${ratio.toFixed(2)}x node -e 0 (goal <= 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'})`)
console.log(`  plan-cache miss (yaml + zod): ${ms(median(fast.miss))}  = ${(median(fast.miss) / median(fast.node)).toFixed(2)}x node -e 0`)

// 3. A probing process exiting: node:http against undici.
const probeOnce = (client: 'node:http' | 'undici') => `
const {runProbes} = await import(${JSON.stringify(new URL('probe/run.js', dist).href)})
let dispatchers
if (${JSON.stringify(client)} === 'undici') {
  const {Agent} = await import(${JSON.stringify(import.meta.resolve('undici'))})
  dispatchers = {http: new Agent(), https: new Agent()}
}
const [result] = await runProbes([{address: '127.0.0.1', id: 'web1', key: 'web/web1', port: ${good[6]}, role: 'web'}], {concurrency: 1, deadlineMs: 5000, dispatchers, domain: 'meet.example.org', jvbStats: false, timeoutMs: 4000, webPath: '/'})
if (dispatchers) await Promise.all([dispatchers.http.destroy(), dispatchers.https.destroy()])
if (result.health !== 'up') throw new Error(result.reason)
process.stdout.write(String(performance.now()))
`
const exitRun = (client: 'node:http' | 'undici') =>
  new Promise<{waitMs: number; wallMs: number}>((resolve, reject) => {
    const started = performance.now()
    execFile(process.execPath, ['--input-type=module', '-e', probeOnce(client)], (error, stdout) => {
      if (error) reject(error)
      const wallMs = performance.now() - started
      // The child's clock starts with its process: what follows its last line of work is the exit.
      resolve({waitMs: wallMs - Number(stdout), wallMs})
    })
  })
const exits: Record<'node:http' | 'undici', Array<{waitMs: number; wallMs: number}>> = {'node:http': [], undici: []}
for (let round = 0; round < 2 * ROUNDS; round++) {
  exits['node:http'].push(await exitRun('node:http'))
  exits.undici.push(await exitRun('undici'))
}

console.log(`\none probe, then exit (median of ${2 * ROUNDS} interleaved runs):`)
for (const client of ['node:http', 'undici'] as const) {
  console.log(`  ${client.padEnd(9)}  wall ${ms(median(exits[client].map((e) => e.wallMs)))}, after the work until exit ${ms(median(exits[client].map((e) => e.waitMs)))}`)
}

// 4. The watcher's memory over 10,000 rounds, and its cost per round with 1,000 backends.
function watch(config: Record<string, unknown>): Promise<Array<Record<string, number>>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', watchScript, JSON.stringify(config)], {maxBuffer: 16 * 2 ** 20}, (error, stdout) => {
      if (error) reject(error)
      else resolve(stdout.trim().split('\n').map((line) => JSON.parse(line)))
    })
  })
}

const fmt = (p: Record<string, number>) =>
  `round ${String(p.round).padStart(5)}: RSS ${p.rssMiB.toFixed(1)} MiB, heap ${p.heapMiB.toFixed(1)} MiB, CPU ${p.cpuMsPerRound.toFixed(1)} ms/round, wall ${p.wallMsPerRound.toFixed(1)} ms/round`
console.log('\nwatcher, 10 backends, 10,000 rounds back to back (RSS after a full GC):')
for (const point of await watch({checkpoints: [100, 1000, 5000, 10_000], colibriPort: good[0], ports: good.slice(0, 10), rounds: 10_000})) console.log(`  ${fmt(point)}`)

const all = backends.servers.slice(0, 1000).map((s) => s.port)
console.log('\nwatcher, 1,000 backends (every tenth never answers, timeout 2 s), 5 rounds:')
for (const point of await watch({checkpoints: [1, 5], colibriPort: good[0], ports: all, rounds: 5})) console.log(`  ${fmt(point)}`)

backends.child.stdin?.end()
backends.child.kill()
await rm(dir, {force: true, recursive: true})
