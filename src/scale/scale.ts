import {type ApplyOptions, type ApplyReport, applyTarget} from '../apply/apply.js'
import {atomicWrite} from '../system/atomic-write.js'
import {ExitCode, JproxyError} from '../errors.js'
import {COLIBRI_BACKEND} from '../haproxy/vocabulary.js'
import {addColibriServer, colibriServerState, deleteColibriServer, jvbIds, runtimeAddBlocker, setColibriState} from '../haproxy/colibri-runtime.js'
import {addJvb, type NewJvb, removeJvb} from '../inventory/edit.js'
import {loadInventoryText} from '../inventory/load.js'
import type {Inventory, Jvb, Shard} from '../inventory/schema.js'
import {probeInventory} from '../probe/probe.js'
import {targetOutputPath} from '../render/targets.js'
import type {CommandRunner} from '../system/command.js'
import {jvbConfFragment, jvbPfRule} from './bridge-config.js'
import {jvbParticipants, setJvbDrain, waitForNoParticipants} from '../probe/jvb-rest.js'

export interface ScaleOptions {
  /** The inventory file, edited in place (comments and layout kept). */
  file: string
  force?: boolean
  /** This host's name for HAProxy's local peer (default os.hostname()); see ApplyOptions. */
  hostname?: string
  maxSessions?: number
  /** Heard at each step of the apply a change goes through (tests act there, as on applyTarget's). */
  onStage?: ApplyOptions['onStage']
  run: CommandRunner
  target: 'haproxy' | 'relayd'
  tlsCa?: string
}

export interface ScaleReport {
  apply?: ApplyReport
  /** jvb.conf fragment and pf rule a new bridge needs. */
  bridgeConfig?: string
  /** drain-shard --wait: conferences the shard's jicofo still held at the end. */
  conferences?: number
  exitCode: number
  id: string
  message: string
  participants?: number
  pfRule?: string
  warnings: string[]
}

function findJvb(inventory: Inventory, id: string): {jvb: Jvb; shard: Shard} {
  for (const shard of inventory.shards) {
    const jvb = shard.jvbs.find((j) => j.id === id)
    if (jvb) return {jvb, shard}
  }

  throw new JproxyError('usage', `no videobridge "${id}" in the inventory`)
}

/**
 * Writes the edited inventory, applies it (the runtime change instead of a reload when given),
 * and puts the original inventory back when the apply did not succeed: the file and the proxy
 * never disagree because of a half-done scale.
 */
export async function applyEdited(options: ScaleOptions, original: string, edited: {inventory: Inventory; text: string}, runtime?: ApplyOptions['runtime']): Promise<ApplyReport> {
  await atomicWrite(options.file, edited.text)
  try {
    const report = await applyTarget({force: options.force, hostname: options.hostname, inventory: edited.inventory, maxSessions: options.maxSessions, onStage: options.onStage, run: options.run, runtime, target: options.target, tlsCa: options.tlsCa})
    if (report.exitCode !== 0) await atomicWrite(options.file, original)
    return report
  } catch (error) {
    await atomicWrite(options.file, original)
    throw error
  }
}

/** `scale add-jvb`: inventory edit, probe of the new bridge, then HAProxy `add server` (no reload) or an apply. */
export async function addBridge(options: ScaleOptions & {jvb: NewJvb; shard?: string}): Promise<ScaleReport> {
  const {text} = await loadInventoryText(options.file)
  const edited = addJvb(text, options.jvb, options.shard)
  const {jvb, shard} = findJvb(edited.inventory, options.jvb.id)
  const warnings: string[] = []

  const probe = await probeInventory({filter: {ids: [jvb.id], roles: ['jvb']}, inventory: edited.inventory, stateFile: null})
  const result = probe.backends[0]
  if (result?.health !== 'up') {
    if (!options.force) return {exitCode: ExitCode.refused, id: jvb.id, message: `${jvb.id} is not up (${result?.reason ?? 'not probed'}); nothing changed (--force adds it anyway)`, warnings}
    warnings.push(`FORCED: ${jvb.id} is not up (${result?.reason ?? 'not probed'})`)
  }

  const socket = edited.inventory.targets.haproxy.socket
  const live = targetOutputPath(edited.inventory, 'haproxy')
  const blocker = options.target === 'haproxy' ? await runtimeAddBlocker(socket, jvb, edited.inventory) : 'relayd cannot add hosts at run time'
  if (blocker) warnings.push(`${blocker}: the change needs a reload`)
  const runtime = blocker
    ? undefined
    : {
        apply: async () => {
          await addColibriServer(socket, live, jvb, edited.inventory)
          const state = await colibriServerState(socket, jvb.id)
          if (!state) throw new Error(`${COLIBRI_BACKEND}/${jvb.id} is not in "show servers state" after add server`)
          return `${COLIBRI_BACKEND}/${jvb.id} added at run time, health checks on; no reload`
        },
        undo: () => deleteColibriServer(socket, live, jvb.id, jvbIds(edited.inventory), true),
      }
  const apply = await applyEdited(options, text, edited, runtime)
  return {
    apply,
    bridgeConfig: jvbConfFragment(edited.inventory, shard, jvb),
    exitCode: apply.exitCode,
    id: jvb.id,
    message: apply.exitCode === 0 ? `${jvb.id} added to shard ${shard.name}: ${apply.message}` : `${jvb.id} not added (the inventory is as it was): ${apply.message}`,
    pfRule: jvbPfRule(jvb),
    warnings: [...warnings, ...apply.warnings],
  }
}

/**
 * `scale drain-jvb` (and `--off`): the proxy stops choosing the bridge for new sessions
 * (HAProxy drain state, relayd host disable) while explicit routes of running conferences still
 * reach it, and the bridge's own drain makes jicofo place no new conferences there. `wait`
 * then polls the participants until none are left or the time is up.
 */
export async function drainBridge(
  options: ScaleOptions & {id: string; off?: boolean; requestTimeoutMs: number; wait?: {intervalMs: number; onProgress?: (participants: number, waitedMs: number) => void; timeoutMs: number}},
): Promise<ScaleReport> {
  const {inventory} = await loadInventoryText(options.file)
  const {jvb} = findJvb(inventory, options.id)
  const drain = !options.off
  if (options.target === 'haproxy') {
    await setColibriState(inventory.targets.haproxy.socket, jvb.id, drain ? 'drain' : 'ready').catch((error: Error) => {
      throw new JproxyError('runtimeFailed', `HAProxy: ${error.message}`)
    })
  } else {
    const result = await options.run(['relayctl', 'host', drain ? 'disable' : 'enable', jvb.address], {timeoutMs: 10_000})
    if (result.code !== 0) throw new JproxyError('runtimeFailed', `relayctl host ${drain ? 'disable' : 'enable'} ${jvb.address}: ${`${result.stdout}${result.stderr}`.trim()}`)
  }

  await setJvbDrain(jvb, drain, options.requestTimeoutMs).catch((error: Error) => {
    throw new JproxyError('runtimeFailed', `the proxy side is ${drain ? 'drained' : 'ready'}, but the bridge's own drain failed: ${error.message}`)
  })
  if (!drain || !options.wait) return {exitCode: ExitCode.ok, id: jvb.id, message: `${jvb.id} ${drain ? 'draining' : 'back in service'} (proxy and bridge)`, warnings: []}

  const waited = await waitForNoParticipants(jvb, {...options.wait, requestTimeoutMs: options.requestTimeoutMs})
  return waited.emptied
    ? {exitCode: ExitCode.ok, id: jvb.id, message: `${jvb.id} drained: no participants left after ${Math.round(waited.waitedMs / 1000)} s`, participants: 0, warnings: []}
    : {exitCode: ExitCode.refused, id: jvb.id, message: `${jvb.id} still has ${waited.participants} participants after ${Math.round(waited.waitedMs / 1000)} s`, participants: waited.participants, warnings: []}
}

/** `scale remove-jvb`: refused while the bridge has participants (unless forced), then HAProxy `del server` (no reload) or an apply. */
export async function removeBridge(options: ScaleOptions & {id: string; requestTimeoutMs: number}): Promise<ScaleReport> {
  const {inventory, text} = await loadInventoryText(options.file)
  const {jvb} = findJvb(inventory, options.id)
  const warnings: string[] = []
  const participants = await jvbParticipants(jvb, options.requestTimeoutMs).catch((error: Error) => error)
  if (participants instanceof Error || participants > 0) {
    const why = participants instanceof Error ? `its participants cannot be counted (${participants.message})` : `it has ${participants} participants`
    if (!options.force) return {exitCode: ExitCode.refused, id: jvb.id, message: `${jvb.id} is not removed: ${why}; drain it first (scale drain-jvb --wait), or --force`, ...(participants instanceof Error ? {} : {participants}), warnings}
    warnings.push(`FORCED: ${why}; their sessions are cut`)
  }

  const edited = removeJvb(text, jvb.id)
  const socket = inventory.targets.haproxy.socket
  const live = targetOutputPath(inventory, 'haproxy')
  const inRunning = options.target === 'haproxy' && (await colibriServerState(socket, jvb.id).catch(() => undefined)) !== undefined
  const runtime = inRunning
    ? {
        apply: async () => {
          await deleteColibriServer(socket, live, jvb.id, jvbIds(inventory), Boolean(options.force))
          return `${COLIBRI_BACKEND}/${jvb.id} deleted at run time; no reload`
        },
        undo: () => addColibriServer(socket, live, jvb, inventory),
      }
    : undefined
  const apply = await applyEdited(options, text, edited, runtime)
  return {
    apply,
    exitCode: apply.exitCode,
    id: jvb.id,
    message: apply.exitCode === 0 ? `${jvb.id} removed: ${apply.message}` : `${jvb.id} not removed (the inventory is as it was): ${apply.message}`,
    ...(participants instanceof Error ? {} : {participants}),
    warnings: [...warnings, ...apply.warnings],
  }
}
