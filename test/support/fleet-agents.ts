import {execFileSync} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'

import type {EtcdClient} from '../../src/etcd/client.js'
import type {Published} from '../../src/fleet/publish.js'
import type {FleetKeys, Rollout} from '../../src/fleet/rollout.js'
import {BIN} from './cli.js'
import {type Daemon, exited, spawnDaemon} from './daemon.js'
import {waitFor} from './wait.js'

/** Preloaded into an agent so that a test can have it collect its garbage before its RSS is read. */
export const GC_ON_SIGNAL = fileURLToPath(new URL('gc-on-signal.mjs', import.meta.url))

export interface AgentProcess extends Daemon {
  /** Its own inventory file (`-i`), which it rewrites with every rollout it applies. */
  inventory: string
  name: string
  pid: number
}

/**
 * `jproxy fleet agent` as the service runs it (the built CLI, its own process) for proxy `name`,
 * its inventory `data` written to `dir/NAME.yaml`; resolves once it logs that it watches the
 * rollout key, within `startMs`. With `collectable`, gc-on-signal.mjs is preloaded (see there).
 */
export async function startAgentProcess(options: {
  ca: string
  collectable?: boolean
  data: Record<string, any>
  dir: string
  intervalMs: number
  keys: FleetKeys
  leaseTtl: number
  name: string
  startMs: number
}): Promise<AgentProcess> {
  const inventory = join(options.dir, `${options.name}.yaml`)
  await writeFile(inventory, stringify(options.data))
  const preload = options.collectable ? ['--expose-gc', '--import', GC_ON_SIGNAL] : []
  const args = [...preload, BIN, 'fleet', 'agent', '-i', inventory, '--name', options.name, '--interval', `${options.intervalMs}ms`, '--lease-ttl', String(options.leaseTtl), '--ca', options.ca]
  const daemon = await spawnDaemon(process.execPath, args, 'nodejs')
  try {
    await waitFor(`agent ${options.name} to log that it watches`, async () => daemon.output(), (out) => out.includes(`watching ${options.keys.rollout}`), {
      gaveUp: () => exited(daemon.child),
      timeoutMs: options.startMs,
    })
  } catch (error) {
    await daemon.stop()
    throw new Error(`${(error as Error).message}\n${daemon.output()}`, {cause: error})
  }

  return {...daemon, inventory, name: options.name, pid: daemon.child.pid!}
}

/** The process's resident set (VmRSS), KiB. */
export async function residentKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (!rss) throw new Error(`/proc/${pid}/status has no VmRSS line`)
  return Number(rss[1])
}

/** The process's CPU time so far, user plus system, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) is in parentheses and may hold spaces: count from after it (field 3 on).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[14 - 3]) + Number(fields[15 - 3])
}

/** Clock ticks per second, the unit of /proc/PID/stat's times. */
export const clockTicksPerSecond = () => Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())

/**
 * Has an agent started with `collectable` collect its garbage (SIGUSR2) and resolves with its
 * RSS (KiB) once it says that it did, within `timeoutMs`.
 */
export async function residentAfterGc(agent: AgentProcess, timeoutMs: number): Promise<number> {
  const done = () => (agent.output().match(/^gc-on-signal: \d+$/gm) ?? []).length
  const before = done()
  agent.child.kill('SIGUSR2')
  await waitFor(`agent ${agent.name} to collect its garbage`, async () => done(), (count) => count > before, {gaveUp: () => exited(agent.child), intervalMs: 20, timeoutMs})
  return residentKiB(agent.pid)
}

/**
 * Waits, through a watch from the publish on, until the rollout `published` stored is no longer
 * active (done or halted), within `timeoutMs` or until `gaveUp` (an agent exited) gives a reason.
 */
export async function untilSettled(
  client: EtcdClient,
  keys: FleetKeys,
  published: Published,
  options: {gaveUp?: () => string | undefined; timeoutMs: number},
): Promise<Rollout> {
  const {id} = published.rollout
  const stop = new AbortController()
  const timer = setTimeout(() => stop.abort(), options.timeoutMs)
  // A watch waits on etcd, not on a clock: a reason to give up has to stop it from outside.
  const check = setInterval(() => options.gaveUp?.() && stop.abort(), 100)
  let last: Rollout | undefined
  try {
    for await (const event of client.watch(keys.rollout, {signal: stop.signal, startRevision: published.revision + 1})) {
      if (event.type !== 'put') throw new Error(`waiting for rollout ${id} to settle: the watch ended (${event.type})`)
      last = JSON.parse(event.kv.value) as Rollout
      if (last.id !== id) throw new Error(`waiting for rollout ${id} to settle: rollout ${last.id} replaced it`)
      if (last.state !== 'active') return last
    }
  } finally {
    clearTimeout(timer)
    clearInterval(check)
  }

  const why = options.gaveUp?.() ?? `not within ${options.timeoutMs} ms`
  throw new Error(`waiting for rollout ${id} to settle: ${why}; last seen ${last ? last.state : 'active (as published)'}`)
}
