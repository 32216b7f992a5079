import {readFile} from 'node:fs/promises'

import {COLIBRI_BACKEND} from '../haproxy/vocabulary.js'
import {parseShowStat} from '../haproxy/runtime.js'
import {socketCommand} from '../haproxy/socket.js'
import type {Inventory} from '../inventory/schema.js'
import type {ProbeTarget} from '../probe/model.js'
import {planProbes} from '../probe/plan.js'
import {defaultStateFile, readProbeState} from '../probe/state.js'
import {parseVerdicts, verdictsFile} from '../probe/verdicts.js'
import {parseRelayctlTable} from '../relayd/relayctl.js'
import type {TargetName} from '../render/targets.js'
import type {CommandRunner} from '../system/command.js'

/** One backend as the inventory, the running proxy and the last probe see it. */
export interface StatusRow {
  address: string
  /** true when proxy and probe tell the same story; null when one of them has nothing to say. */
  agree: boolean | null
  key: string
  note?: string
  /** The damped probe state and since when, or `never probed`. */
  probe: string
  probeSince?: string
  /** The proxy's own view (HAProxy status, relayd host status), or `absent`. */
  proxy: string
  role: string
}

export interface StatusReport {
  /** False when the running proxy could not be asked (its rows then say `unknown`). */
  reachable: boolean
  rows: StatusRow[]
  stateFile: string
  target: TargetName
  warnings: string[]
  /**
   * relayd only: `jproxy probe --watch`, from its verdicts file (when its last round ended; null
   * when it never wrote one). HAProxy checks its backends itself, so its report has no watcher.
   */
  watcher?: null | WatcherStatus
}

export interface WatcherStatus {
  ageMs: number
  file: string
  /** Older than three intervals: the watcher is not running, and relayd's check scripts probe by themselves. */
  stale: boolean
  writtenAt: string
}

/** Where each backend lives in the rendered configs: HAProxy backend/server, relayd table name. */
function haproxyName(t: ProbeTarget): string | undefined {
  if (t.role === 'web') return `be_web/${t.id}`
  if (t.role === 'prosody') return `be_prosody/${t.shard}`
  if (t.role === 'jicofo') return `be_jicofo/${t.shard}`
  if (t.role === 'jvb') return `${COLIBRI_BACKEND}/${t.id}`
  return undefined
}

function relaydTable(t: ProbeTarget): string | undefined {
  if (t.role === 'jvb') return `colibri-${t.id}`
  return t.role === 'proxy' ? undefined : t.role
}

/** Serving states versus states that keep traffic away, in each proxy's words. */
function proxyUp(status: string): boolean | undefined {
  const word = status.split(' ')[0].toUpperCase()
  if (['UP', 'DRAIN', 'NOLB', 'OPEN'].includes(word)) return true
  if (['DISABLED', 'DOWN', 'MAINT'].includes(word)) return false
  return undefined
}

/**
 * `jproxy status`: every backend of the inventory with the running proxy's view (HAProxy `show
 * stat` over the stats socket, or `relayctl show hosts`) beside the last probe's damped state,
 * and where they disagree. Reads only: it changes nothing.
 */
export async function proxyStatus(options: {inventory: Inventory; now?: () => Date; run: CommandRunner; target: TargetName}): Promise<StatusReport> {
  const {inventory, target} = options
  const warnings: string[] = []
  const stateFile = inventory.probe.stateFile ?? defaultStateFile()
  const probes = (await readProbeState(stateFile, (w) => warnings.push(w))).backends
  const view = target === 'haproxy' ? await haproxyView(inventory, warnings) : await relaydView(options.run, warnings)
  const rows = planProbes(inventory, {roles: ['web', 'prosody', 'jicofo', 'jvb']}).map((t): StatusRow => {
    const name = target === 'haproxy' ? haproxyName(t) : `${relaydTable(t)}/${t.address}`
    const proxy = view === undefined ? 'unknown' : (view.get(name ?? '') ?? 'absent')
    const probed = probes[t.key]
    const up = proxyUp(proxy)
    const agree = probed === undefined || up === undefined ? null : up === (probed.state === 'up')
    const note =
      proxy === 'absent'
        ? 'not in the running proxy: apply the inventory'
        : probed === undefined
          ? 'no probe state: run jproxy probe'
          : agree === false
            ? up
              ? 'the proxy sends traffic, the probe finds it down'
              : 'the probe finds it up, the proxy keeps traffic away'
            : proxy.startsWith('DRAIN') || proxy.startsWith('MAINT')
              ? 'set by an admin'
              : undefined
    return {address: t.address, agree, key: t.key, ...(note ? {note} : {}), probe: probed?.state ?? 'never probed', ...(probed ? {probeSince: probed.changed} : {}), proxy, role: t.role}
  })
  return {
    reachable: view !== undefined,
    rows,
    stateFile,
    target,
    warnings,
    ...(target === 'relayd' ? {watcher: await watcherStatus(verdictsFile(stateFile), (options.now ?? (() => new Date()))())} : {}),
  }
}

async function watcherStatus(file: string, now: Date): Promise<null | WatcherStatus> {
  const verdicts = parseVerdicts(await readFile(file, 'utf8').catch(() => ''))
  if (!verdicts) return null
  return {ageMs: Math.max(0, now.getTime() - verdicts.written.getTime()), file, stale: now > verdicts.expires, writtenAt: verdicts.written.toISOString()}
}

async function haproxyView(inventory: Inventory, warnings: string[]): Promise<Map<string, string> | undefined> {
  try {
    const rows = parseShowStat(await socketCommand(inventory.targets.haproxy.socket, 'show stat', 5000))
    return new Map(rows.filter((r) => r.server !== 'FRONTEND' && r.server !== 'BACKEND').map((r) => [`${r.proxy}/${r.server}`, r.status]))
  } catch (error) {
    warnings.push(`HAProxy's stats socket: ${(error as Error).message}`)
    return undefined
  }
}

async function relaydView(run: CommandRunner, warnings: string[]): Promise<Map<string, string> | undefined> {
  const result = await run(['relayctl', 'show', 'hosts'], {timeoutMs: 10_000})
  if (result.code !== 0) {
    warnings.push(`relayctl show hosts exited ${result.code}: ${result.stderr.trim()}`)
    return undefined
  }

  const view = new Map<string, string>()
  let table = ''
  for (const entry of parseRelayctlTable(result.stdout)) {
    if (entry.type === 'table') table = entry.name.replace(/:\d+$/, '')
    else if (entry.type === 'host') view.set(`${table}/${entry.name}`, entry.status + (entry.checks?.error ? ` (${entry.checks.error})` : ''))
  }

  return view
}
