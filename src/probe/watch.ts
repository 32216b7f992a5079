import {stat} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import type {Dispatcher} from 'undici'

import {atomicWrite} from '../system/atomic-write.js'
import type {Inventory} from '../inventory/schema.js'
import {probeInventory} from './probe.js'
import {defaultStateFile} from './state.js'
import {formatVerdicts, hostVerdicts, verdictsFile} from './verdicts.js'

/** The state counts as stale (watcher gone) after this many intervals; relayd's check script then probes itself. */
export const STALE_INTERVALS = 3

export interface WatchOptions {
  dispatchers?: {http: Dispatcher; https: Dispatcher}
  /** The inventory for the next round (see reloadingInventory). */
  inventory: () => Promise<Inventory>
  /** Back-to-back rounds when 0 (the bench); default health.interval. */
  intervalMs?: number
  /** One line per event (state change, problem): stderr, which syslog or the journal takes. */
  log: (line: string) => void
  now?: () => Date
  onRound?: (round: WatchRound) => Promise<void> | void
  /** Stop after this many rounds (bench); default: until `signal`. */
  rounds?: number
  signal: AbortSignal
  stateFile?: string
  tlsCa?: string
}

export interface WatchRound {
  backends: number
  down: number
  durationMs: number
  round: number
  verdictsFile: string
}

/**
 * `jproxy probe --watch`: a probe run every health.interval (the same bounded, concurrent,
 * role-aware probes and rise/fall damping as `jproxy probe`), each one rewriting the JSON state
 * and the plain-text verdicts for relayd's check script atomically. A round ends within two
 * intervals (its deadline), so a live watcher's verdicts are never stale however slow a backend
 * is. State changes and new problems are logged once; a state folder that cannot be written is
 * a logged problem, never the end. `signal` stops it after the round in progress, which leaves
 * complete files behind.
 */
export async function watchProbes(options: WatchOptions): Promise<{rounds: number}> {
  const now = options.now ?? (() => new Date())
  let round = 0
  let previous = new Set<string>()
  while (!options.signal.aborted && (options.rounds === undefined || round < options.rounds)) {
    const started = performance.now()
    const inventory = await options.inventory()
    const {health} = inventory
    const stateFile = options.stateFile ?? inventory.probe.stateFile ?? defaultStateFile()
    const report = await probeInventory({
      deadlineMs: Math.min(inventory.probe.deadline, Math.max(2 * health.interval, health.timeout + 1000)),
      dispatchers: options.dispatchers,
      inventory,
      stateFile,
      tlsCa: options.tlsCa,
    })
    for (const flip of report.flips) options.log(`jproxy: ${flip}`)

    const text = verdictsFile(stateFile)
    const written = now()
    const problems = [...report.warnings]
    try {
      const hosts = hostVerdicts(report.backends.filter((b) => b.role !== 'proxy'))
      await atomicWrite(text, formatVerdicts({expires: new Date(written.getTime() + STALE_INTERVALS * health.interval), hosts, written}))
    } catch (error) {
      // The code, not the message: the message names a random temporary file, and this is said once.
      problems.push(`cannot write ${text} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); relayd's check script falls back to probing once it is stale`)
    }

    // A lasting problem is said once, and once more when it is over.
    const current = new Set(problems)
    for (const problem of current) if (!previous.has(problem)) options.log(`jproxy: warning: ${problem}`)
    if (previous.size > 0 && current.size === 0) options.log('jproxy: the state files are written again')
    previous = current

    round++
    const durationMs = performance.now() - started
    await options.onRound?.({backends: report.backends.length, down: report.backends.filter((b) => b.state === 'down').length, durationMs, round, verdictsFile: text})
    const wait = Math.max(0, (options.intervalMs ?? health.interval) - durationMs)
    if (wait > 0 && !options.signal.aborted && (options.rounds === undefined || round < options.rounds)) {
      await sleep(wait, undefined, {signal: options.signal}).catch(() => undefined)
    }
  }

  return {rounds: round}
}

/**
 * The inventory as it is now: read again when the file changed (inode, size or mtime), so the
 * watcher follows `jproxy scale` and edits without a restart. A changed file that does not load
 * is logged and the last good inventory kept.
 */
export function reloadingInventory(file: string, load: (file: string) => Promise<Inventory>, log: (line: string) => void): () => Promise<Inventory> {
  let current: Inventory | undefined
  let seen = ''
  return async () => {
    const info = await stat(file).catch(() => undefined)
    const key = info ? `${info.ino} ${info.size} ${info.mtimeMs}` : 'missing'
    if (current && key === seen) return current
    seen = key
    try {
      current = await load(file)
      return current
    } catch (error) {
      if (!current) throw error
      log(`jproxy: warning: keeping the inventory loaded before: ${(error as Error).message}`)
      return current
    }
  }
}
