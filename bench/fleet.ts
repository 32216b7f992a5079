/**
 * Fleet benchmark: one real etcd, real HAProxy proxies (master-worker) and `jproxy fleet agent`
 * processes (the built CLI, as the service runs them, --interval 1s --lease-ttl 2), all on loopback.
 * Prints:
 * - a rollout of 3 proxies with a real change (web2 added, then removed: every round reloads each
 *   proxy), from the start of `jproxy fleet publish` to converged, as fleetStatus sees it polled
 *   every 50 ms and as `jproxy fleet status` run back to back first exits 0; against 3 × a single
 *   `jproxy apply` of the same change on a proxy outside the fleet;
 * - a failing canary (an `http-request deny` snippet: its verification fails, apply rolls it
 *   back): from the publish to the rollout's state `halted`;
 * - `fleet publish` cold start (the CLI process, no --wait) against `jproxy validate config` on the
 *   same inventory, interleaved, the inventory edited (a comment) before each round;
 * - one agent (a fleet of one, its own prefix) over 1,000 rollouts that change nothing on the proxy:
 *   its RSS idle and after them, raw and after a full GC (test/support/gc-on-signal.mjs), the latter
 *   also every 100 rollouts as the memory test reads it, its CPU while idle, and the time of one
 *   such rollout.
 * Run: npm run build && node --import tsx bench/fleet.ts   (BENCH_ROUNDS=N, BENCH_ROLLOUTS=N)
 */
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {stringify} from 'yaml'

import type {EtcdClient} from '../src/etcd/client.js'
import {publishRollout, renderRollout} from '../src/fleet/publish.js'
import {currentRollout, type FleetKeys, fleetClient, type Rollout} from '../src/fleet/rollout.js'
import {fleetStatus} from '../src/fleet/status.js'
import {Inventory} from '../src/inventory/schema.js'
import {exited} from '../test/support/daemon.js'
import {startEtcd, type EtcdProcess} from '../test/support/etcd-process.js'
import {
  type AgentProcess,
  clockTicksPerSecond,
  cpuTicks,
  residentAfterGc,
  residentKiB,
  startAgentProcess,
  untilSettled,
} from '../test/support/fleet-agents.js'
import {type Stage, startStage, withWeb2} from '../test/support/haproxy-stage.js'
import {measureCli, median} from './support/measure.js'
import {fleetOfStages} from '../test/support/fleet-stages.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000)
const NAMES = ['a', 'b', 'c'] as const
const INTERVAL_MS = 1000
const TTL = 2
/** Hang bounds (see test/fleet/agent-memory.test.ts): a CLI start, a rollout with reloads, one that changes nothing. */
const START_MS = 60_000
const ROLLOUT_MS = 3 * 60_000
const UNCHANGED_MS = 30_000
const IDLE_MS = 10 * INTERVAL_MS

const dir = await mkdtemp(join(tmpdir(), 'jproxy-bench-fleet-'))
// validate config and publish keep their plan cache here, not in the user's.
process.env.JPROXY_CACHE_DIR = dir
const stages: Stage[] = []
const agents: AgentProcess[] = []
let etcd: EtcdProcess | undefined
let client: EtcdClient | undefined

const fixed = (value: number, digits = 0) => value.toFixed(digits)
const spread = (values: number[]) => `median ${fixed(median(values))} ms, range ${fixed(Math.min(...values))}-${fixed(Math.max(...values))} ms`
const line = (label: string, figures: string) => console.log(`${label.padEnd(62)} ${figures}`)
const mib = (kib: number) => `${fixed(kib / 1024, 1)} MiB`

/** Whichever agent ended: a reason to stop waiting for a rollout. */
const anyAgentGone = () => agents.map((a) => exited(a.child) && `agent ${a.name} ${exited(a.child)}:\n${a.output()}`).find(Boolean) || undefined

/** Waits until the current rollout (if any) is no longer active: a publish is refused while one is. */
async function untilIdle(fleet: {client: EtcdClient; keys: FleetKeys}, timeoutMs: number): Promise<Rollout | undefined> {
  const current = await currentRollout(fleet.client, fleet.keys)
  if (current.rollout?.state !== 'active') return current.rollout
  return untilSettled(fleet.client, fleet.keys, {revision: current.modRevision, rollout: current.rollout}, {gaveUp: anyAgentGone, timeoutMs})
}

/** The agent's CPU time over `windowMs` of doing nothing but reporting, as a share of the window. */
async function idleCpuShare(agent: AgentProcess, windowMs: number): Promise<number> {
  const ticks = await cpuTicks(agent.pid)
  const started = performance.now()
  await sleep(windowMs)
  const used = ((await cpuTicks(agent.pid)) - ticks) / clockTicksPerSecond()
  return (used * 1000) / (performance.now() - started)
}

try {
  etcd = await startEtcd()
  // Three proxies in the fleet, and a fourth outside it for the single applies.
  for (const name of [...NAMES, 'solo']) stages.push(await startStage(await mkdtemp(join(dir, `${name}-`))))
  const solo = stages[NAMES.length]
  const shared = fleetOfStages(stages.slice(0, NAMES.length), NAMES, [etcd.endpoint])
  const fleet = await fleetClient(Inventory.parse(shared))
  ;({client} = fleet)
  const file = join(dir, 'publish.yaml')
  const publishCli = (...flags: string[]) => measureCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', ...flags])
  const agentDir = join(dir, 'agents')
  await mkdir(agentDir)
  for (const name of NAMES) {
    agents.push(await startAgentProcess({ca: stages[0].pem, data: shared, dir: agentDir, intervalMs: INTERVAL_MS, keys: fleet.keys, leaseTtl: TTL, name, startMs: START_MS}))
  }

  // Every proxy on the fleet's view of the config first (their first apply reloads).
  console.log(`fleet (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs; etcd 3.4, HAProxy 2.6 master-worker, agent processes --interval ${INTERVAL_MS / 1000}s --lease-ttl ${TTL}; loopback):`)
  await writeFile(file, stringify(shared))
  const installed = await publishCli('--wait')
  if (installed.code !== 0) throw new Error(`the first rollout: exit ${installed.code}: ${installed.stdout}`)

  // (a) A real change through the fleet, against the same change applied by hand to one proxy.
  const withWeb2OnEvery = (on: boolean) => {
    const data = structuredClone(shared)
    if (on) data.web.push({address: '127.0.0.1', name: 'web2', port: stages[0].backends.get('web2')!.port})
    return data
  }
  const converged: number[] = []
  const statusExit0: number[] = []
  const statusRuns: number[] = []
  const applies: number[] = []
  const soloFiles = [join(solo.dir, 'web2.yaml'), join(solo.dir, 'web1.yaml')]
  await writeFile(soloFiles[0], stringify(withWeb2(solo)))
  await writeFile(soloFiles[1], stringify(solo.data))
  for (let round = 0; round < ROUNDS; round++) {
    await writeFile(file, stringify(withWeb2OnEvery(round % 2 === 0)))
    const started = performance.now()
    const published = await publishCli()
    if (published.code !== 0) throw new Error(`fleet publish (round ${round}): exit ${published.code}: ${published.stdout}`)
    // Both watchers run at once: fleetStatus in this process, and the CLI as an operator runs it.
    const deadline = started + ROLLOUT_MS
    const seenConverged = async () => {
      while (performance.now() < deadline) {
        if ((await fleetStatus(fleet)).code === 'ok') return performance.now() - started
        await sleep(50)
      }

      throw new Error(`round ${round}: not converged within ${ROLLOUT_MS} ms`)
    }
    const statusSaysConverged = async () => {
      for (;;) {
        const status = await measureCli(['fleet', 'status', '-i', file])
        statusRuns.push(status.wallMs)
        if (status.code === 0) return performance.now() - started
        if (performance.now() > deadline || status.code !== 1) throw new Error(`round ${round}: fleet status exit ${status.code}: ${status.stdout}`)
      }
    }
    const [inProcess, byCli] = await Promise.all([seenConverged(), statusSaysConverged()])
    converged.push(inProcess)
    statusExit0.push(byCli)
    for (let i = 0; i < NAMES.length; i++) {
      const run = await measureCli(['apply', '--target', 'haproxy', '-i', soloFiles[(round * NAMES.length + i) % 2], '--ca', solo.pem])
      if (run.code !== 0) throw new Error(`apply (round ${round}): exit ${run.code}: ${run.stdout}`)
      applies.push(run.wallMs)
    }
  }

  line(`rollout of ${NAMES.length} proxies (web2 on/off), publish -> converged (50 ms poll)`, `${spread(converged)} (${ROUNDS} rounds)`)
  line(`rollout of ${NAMES.length} proxies, publish -> \`fleet status\` exit 0`, `${spread(statusExit0)} (status runs back to back, each median ${fixed(median(statusRuns))} ms)`)
  line(`${NAMES.length} x a single \`jproxy apply\` of the same change`, `${fixed(NAMES.length * median(applies))} ms (single apply ${spread(applies)}, ${applies.length} runs)`)

  // (b) A canary whose verification fails: the time to `halted`; a forced publish of the good inventory after each.
  const deny = join(dir, 'deny.cfg')
  await writeFile(deny, '    http-request deny\n')
  const failing = structuredClone(shared)
  for (const proxy of failing.fleet.proxies) proxy.targets.haproxy.snippets = {frontendHttps: [deny]}
  const failingText = stringify(failing)
  const failingConfigs = (await renderRollout(failingText, 'failing.yaml', 'haproxy')).configs
  const goodText = stringify(shared)
  const goodConfigs = (await renderRollout(goodText, 'good.yaml', 'haproxy')).configs
  const halts: number[] = []
  let reason = ''
  for (let round = 0; round < Math.min(ROUNDS, 5); round++) {
    await untilIdle(fleet, ROLLOUT_MS)
    const started = performance.now()
    const published = await publishRollout({...fleet, configs: failingConfigs, target: 'haproxy', text: `${failingText}# canary round ${round}\n`})
    const settled = await untilSettled(client, fleet.keys, published, {gaveUp: anyAgentGone, timeoutMs: ROLLOUT_MS})
    halts.push(performance.now() - started)
    if (settled.state !== 'halted') throw new Error(`canary round ${round}: the rollout ended ${settled.state}, not halted`)
    reason = settled.reason ?? ''
    const back = await publishRollout({...fleet, configs: goodConfigs, force: true, target: 'haproxy', text: `${goodText}# good again ${round}\n`})
    const good = await untilSettled(client, fleet.keys, back, {gaveUp: anyAgentGone, timeoutMs: ROLLOUT_MS})
    if (good.state !== 'done') throw new Error(`canary round ${round}: the good inventory ended ${good.state}: ${good.reason}`)
  }

  line('canary fails its verification: publish -> halted', `${spread(halts)} (${halts.length} rounds; ${reason.slice(0, 60)}...)`)

  // (d) fleet publish's cold start against validate config's, interleaved, the inventory edited each round.
  const publishes: Array<{maxRssMiB: number; wallMs: number}> = []
  const validates: Array<{maxRssMiB: number; wallMs: number}> = []
  for (let round = 0; round <= ROUNDS; round++) {
    await untilIdle(fleet, ROLLOUT_MS)
    await writeFile(file, `${goodText}# cold start round ${round}\n`)
    const published = await publishCli()
    const validated = await measureCli(['validate', 'config', '-i', file])
    if (published.code !== 0 || validated.code !== 0) throw new Error(`cold start round ${round}: publish exit ${published.code}, validate exit ${validated.code}: ${published.stdout}${validated.stdout}`)
    // Round 0 warms the disk and compile caches and is not counted.
    if (round === 0) continue
    publishes.push(published)
    validates.push(validated)
  }

  line('`fleet publish` cold start (3 proxies rendered, no --wait)', `${spread(publishes.map((r) => r.wallMs))}, peak RSS ${fixed(median(publishes.map((r) => r.maxRssMiB)))} MiB`)
  line('`validate config` cold start, same inventory', `${spread(validates.map((r) => r.wallMs))}, peak RSS ${fixed(median(validates.map((r) => r.maxRssMiB)))} MiB`)

  await untilIdle(fleet, ROLLOUT_MS)
  await Promise.all(agents.splice(0).map((a) => a.stop()))

  // (c) One agent over ROLLOUTS rollouts that change nothing (a YAML comment differs), in a fleet of its own.
  const one = fleetOfStages([stages[0]], ['a'], [etcd.endpoint])
  one.fleet.prefix = '/jproxy-bench/memory'
  const memory = await fleetClient(Inventory.parse(one))
  const oneText = stringify(one)
  const oneConfigs = (await renderRollout(oneText, 'one.yaml', 'haproxy')).configs
  const memoryDir = join(dir, 'memory')
  await mkdir(memoryDir)
  const agent = await startAgentProcess({ca: stages[0].pem, collectable: true, data: one, dir: memoryDir, intervalMs: INTERVAL_MS, keys: memory.keys, leaseTtl: TTL, name: 'a', startMs: START_MS})
  agents.push(agent)
  const roll = async (text: string, timeoutMs: number) => {
    const published = await publishRollout({...memory, configs: oneConfigs, target: 'haproxy', text})
    const settled = await untilSettled(memory.client, memory.keys, published, {gaveUp: anyAgentGone, timeoutMs})
    if (settled.state !== 'done') throw new Error(`rollout ${published.rollout.id} ended ${settled.state}: ${settled.reason}`)
  }

  try {
    await roll(oneText, ROLLOUT_MS)
    const idleBefore = await idleCpuShare(agent, IDLE_MS)
    const idleRaw = await residentKiB(agent.pid)
    const idleGc = await residentAfterGc(agent, UNCHANGED_MS)
    line('agent RSS idle (after its first rollout)', `${mib(idleRaw)}; after a full GC ${mib(idleGc)}`)
    const each: number[] = []
    // After a full GC every 100 rollouts, as the memory test reads it (about as often as V8 collects in full by itself).
    const readings: string[] = []
    let afterRaw = 0
    let afterGc = 0
    for (let n = 1; n <= ROLLOUTS; n++) {
      const started = performance.now()
      await roll(`${oneText}# rollout ${n}\n`, UNCHANGED_MS)
      each.push(performance.now() - started)
      if (n % 100 !== 0 && n !== ROLLOUTS) continue
      afterRaw = await residentKiB(agent.pid)
      afterGc = await residentAfterGc(agent, UNCHANGED_MS)
      readings.push(`${n}: ${fixed(afterGc / 1024, 1)}`)
    }

    const idleAfter = await idleCpuShare(agent, IDLE_MS)
    const total = each.reduce((sum, ms) => sum + ms, 0)

    line(`agent RSS after ${ROLLOUTS} more rollouts (each changes nothing)`, `${mib(afterRaw)}; after a full GC ${mib(afterGc)}`)
    line('agent RSS after a full GC, by rollout (MiB)', readings.join(', '))
    line('one rollout that changes nothing (lock, apply, record, done)', `${spread(each)}, ${fixed((ROLLOUTS * 1000) / total, 1)} rollouts/s`)
    line(`agent CPU while idle (${IDLE_MS / 1000} s), before / after the rollouts`, `${fixed(idleBefore * 100, 2)} % / ${fixed(idleAfter * 100, 2)} %`)
  } finally {
    await memory.client.close()
  }
} finally {
  await Promise.all(agents.map((a) => a.stop()))
  await client?.close()
  await Promise.all(stages.map((s) => s.haproxy.stop()))
  await Promise.all(stages.flatMap((s) => [...s.backends.values()].map((b) => b.close())))
  await etcd?.stop()
  await rm(dir, {force: true, recursive: true})
}
