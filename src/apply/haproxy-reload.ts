import {reloadReasons} from '../haproxy/binds.js'
import {parseShowInfo, parseShowProc, type ProcessList} from '../haproxy/runtime.js'
import {socketCommand} from '../haproxy/socket.js'
import type {CommandRunner} from '../system/command.js'
import type {ProxyChange} from './outcome.js'

/**
 * How: the master CLI's `reload`, the inventory's reload command, or no reload at all (the
 * runtime API); `detail` names the new worker's pid, or says why not.
 */
export interface ReloadOutcome extends ProxyChange<'command' | 'master CLI' | 'runtime API'> {
  /** Why HAProxy refused the reload, in its own words (plain words first), when it said. */
  reasons?: string[]
  workerAfter?: number
  workerBefore?: number
}

export interface HaproxyReloadOptions {
  masterSocket: string
  /** The inventory's reload argv, for when the master CLI does not answer. */
  reload?: readonly string[]
  run: CommandRunner
  statsSocket: string
  timeoutMs: number
}

const POLL_MS = 100
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function showProc(masterSocket: string): Promise<ProcessList | undefined> {
  try {
    return parseShowProc(await socketCommand(masterSocket, 'show proc', 2000))
  } catch {
    return undefined
  }
}

async function statsPid(statsSocket: string): Promise<number | undefined> {
  try {
    const pid = Number(parseShowInfo(await socketCommand(statsSocket, 'show info', 2000)).Pid)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Reloads HAProxy and proves a new worker took over. Through the master CLI when it answers:
 * `reload` (HAProxy 2.7+ answers `Success=0|1`; 2.6 reloads asynchronously), then `show proc`
 * until the master has counted the reload and a worker not seen before serves, or the reload
 * is counted as failed. Otherwise the inventory's reload command, then the stats socket until
 * `show info` names a new pid (the old worker may answer for a while after a reload).
 */
export async function reloadHaproxy(options: HaproxyReloadOptions): Promise<ReloadOutcome> {
  const deadline = Date.now() + options.timeoutMs
  const before = await showProc(options.masterSocket)
  if (before) {
    const current = before.workers.find((w) => w.reloads === 0)?.pid
    const known = new Set(before.workers.map((w) => w.pid))
    const answer = await socketCommand(options.masterSocket, 'reload', options.timeoutMs).catch((error: Error) => `error: ${error.message}`)
    const success = /Success=([01])/.exec(answer)
    // 2.7+ answers the master's start-up messages for this reload after `Success=0`.
    if (success?.[1] === '0') return {detail: `master CLI: Success=0: ${answer.split('\n').slice(1, 6).join(' / ')}`, method: 'master CLI', ok: false, reasons: reloadReasons(answer), workerBefore: current}
    while (Date.now() < deadline) {
      const after = await showProc(options.masterSocket)
      if (after && after.master.reloads > before.master.reloads) {
        if (after.master.failed > 0) return {detail: `HAProxy could not load the new config (master: ${after.master.failed} failed reload(s)); worker ${current} still serves`, method: 'master CLI', ok: false, workerBefore: current}
        const fresh = after.workers.find((w) => w.reloads === 0 && !known.has(w.pid))
        if (fresh) return {detail: `worker ${fresh.pid} took over from ${current}`, method: 'master CLI', ok: true, workerAfter: fresh.pid, workerBefore: current}
      }

      await sleep(POLL_MS)
    }

    return {detail: `no new worker within ${options.timeoutMs} ms of the reload`, method: 'master CLI', ok: false, workerBefore: current}
  }

  if (!options.reload) {
    return {detail: `the master CLI at ${options.masterSocket} does not answer and targets.haproxy.reload is not set`, method: 'command', ok: false}
  }

  const previous = await statsPid(options.statsSocket)
  const result = await options.run(options.reload, {timeoutMs: options.timeoutMs})
  if (result.code !== 0) {
    const said = `${result.stderr}${result.stdout}`
    return {detail: `${options.reload.join(' ')} exited ${result.code}: ${said.trim().split('\n').slice(-3).join(' / ')}`, method: 'command', ok: false, reasons: reloadReasons(said), workerBefore: previous}
  }

  while (Date.now() < deadline) {
    const pid = await statsPid(options.statsSocket)
    if (pid !== undefined && pid !== previous) return {detail: `worker ${pid} took over from ${previous ?? 'none'}`, method: 'command', ok: true, workerAfter: pid, workerBefore: previous}
    await sleep(POLL_MS)
  }

  return {detail: `the stats socket still shows worker ${previous} ${options.timeoutMs} ms after the reload command`, method: 'command', ok: false, workerBefore: previous}
}
