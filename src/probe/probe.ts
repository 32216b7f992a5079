import type {Dispatcher} from 'undici'

import {proxyCaPem} from '../system/proxy-ca.js'
import {hostPort} from '../inventory/host-port.js'
import type {Inventory} from '../inventory/schema.js'
import type {ProbeResult} from './model.js'
import {type ProbeFilter, planProbes} from './plan.js'
import {runProbes} from './run.js'
import {damp, defaultStateFile, pendingFlip, updateStateFile} from './state.js'
import type {BackendState, PendingFlip, ProbeState} from './state.js'

/** One backend in a report: what this run saw, and the damped state traffic decisions use. */
export interface BackendReport extends ProbeResult {
  failures?: number
  flipped: boolean
  /** Set while the damped state and the last checks disagree: how far it is from flipping. */
  pending?: PendingFlip
  /** Damped state; `unknown` when the backend has no history and this run could not tell. */
  state: 'down' | 'unknown' | 'up'
  successes?: number
}

export interface ProbeReport {
  backends: BackendReport[]
  durationMs: number
  /** One line per backend that changed state in this run. */
  flips: string[]
  startedAt: string
  /** Problems with the state file that did not stop the run. */
  warnings: string[]
}

export interface ProbeOptions {
  concurrency?: number
  deadlineMs?: number
  dispatchers?: {http: Dispatcher; https: Dispatcher}
  filter?: ProbeFilter
  inventory: Inventory
  now?: () => Date
  onProgress?: (done: number, total: number) => void
  /** Path of the rise/fall state; `null` probes without damping (every verdict is final). */
  stateFile?: null | string
  timeoutMs?: number
  /** The `--ca` PEM; without it, the file proxy.tls.ca names (read on every run: the watcher reloads the inventory). */
  tlsCa?: string
}

/** Probes the inventory's backends, damps each verdict with the state file, and reports. */
export async function probeInventory(options: ProbeOptions): Promise<ProbeReport> {
  const {inventory} = options
  const now = options.now ?? (() => new Date())
  const started = now()
  const clock = performance.now()
  const results = await runProbes(planProbes(inventory, options.filter), {
    concurrency: options.concurrency ?? inventory.probe.concurrency,
    deadlineMs: options.deadlineMs ?? inventory.probe.deadline,
    dispatchers: options.dispatchers,
    domain: inventory.domain,
    jvbStats: inventory.probe.jvbStats,
    onProgress: options.onProgress,
    timeoutMs: options.timeoutMs ?? inventory.health.timeout,
    tlsCa: await proxyCaPem(options.tlsCa, inventory.proxy.tls.ca),
    webPath: inventory.probe.webPath,
  })

  const warnings: string[] = []
  const stateFile = options.stateFile === undefined ? (inventory.probe.stateFile ?? defaultStateFile()) : options.stateFile
  const limits = {fall: inventory.health.fall, rise: inventory.health.rise}
  const finished = now()
  const undamped = (r: ProbeResult): BackendReport => ({...r, flipped: false, state: r.health === 'up' ? 'up' : r.health === 'unknown' ? 'unknown' : 'down'})

  const damped = (state: ProbeState) => {
    const next: Record<string, BackendState> = {...state.backends}
    const reports = results.map((r): BackendReport => {
      const after = damp(state.backends[r.key], r.health, limits, finished)
      if (!after) return undamped(r)
      const {flipped, ...kept} = after
      next[r.key] = kept
      const pending = pendingFlip(after, limits)
      const damping = {failures: after.failures, flipped, ...(pending ? {pending} : {}), state: after.state, successes: after.successes}
      return {...r, ...damping}
    })
    return {result: reports, state: {backends: next, version: 1 as const}}
  }

  let backends: BackendReport[]
  if (stateFile === null) {
    backends = results.map(undamped)
  } else {
    try {
      backends = await updateStateFile(stateFile, (w) => warnings.push(w), damped)
    } catch (error) {
      // A run by hand without write access still reports; only the damping is lost.
      warnings.push(`cannot use the state file ${stateFile} (${(error as Error).message}); verdicts are not damped (use --state-file or --no-state)`)
      backends = results.map(undamped)
    }
  }

  return {
    backends,
    durationMs: Math.round(performance.now() - clock),
    flips: backends.filter((b) => b.flipped).map((b) => flipLine(b)),
    startedAt: started.toISOString(),
    warnings,
  }
}

/** A pending flip in words: `1 of 2 good checks needed to come back up`. */
export function pendingText(pending: PendingFlip): string {
  return pending.toward === 'up'
    ? `${pending.checks} of ${pending.needed} good checks needed to come back up`
    : `${pending.checks} of ${pending.needed} failed checks before going down`
}

/**
 * Why a backend is in its damped state, for any report: the last check's reason, or, while the
 * state waits to flip, how far it is first, so "down" beside an HTTP 200 reads as what it is.
 */
export function stateReason(backend: BackendReport): string {
  return backend.pending ? `${pendingText(backend.pending)}; last check: ${backend.reason}` : backend.reason
}

/** A flip as one syslog-friendly line. */
function flipLine(backend: BackendReport): string {
  const where = `${backend.key} (${hostPort(backend.address, backend.port)})`
  return backend.state === 'up'
    ? `${where} is UP after ${backend.successes} good probe(s)`
    : `${where} is DOWN after ${backend.failures} failed probe(s): ${backend.reason}`
}
