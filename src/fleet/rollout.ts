import {readFile} from 'node:fs/promises'

import {JproxyError} from '../errors.js'
import type {PeersSection} from '../haproxy/peers.js'
import {type Inventory, fleetPrefix} from '../inventory/schema.js'
import {EtcdClient, EtcdError, type KeyValue} from '../etcd/client.js'

/*
 * The rollout data model in etcd, under the fleet's prefix P (docs/fleet.md, "Keys in etcd"):
 *   P/rollout              the current rollout (JSON Rollout); every publish is a compare-and-swap on it
 *   P/rollouts/<id>        every rollout ever published, by number, for `fleet rollback --to`
 *   P/results/<id>/<proxy> one proxy's result for rollout <id> (JSON ProxyResult), fenced on its turn
 *   P/agents/<proxy>       an agent's heartbeat (JSON AgentReport), bound to its lease
 *   P/turn                 the lock name under which proxies apply one at a time
 */

export const ROLLOUT_STATES = ['active', 'done', 'halted'] as const
export type RolloutState = (typeof ROLLOUT_STATES)[number]

export interface Rollout {
  /** Per proxy, in rollout order: the sha256 of the config rendered for its view. */
  configs: Array<{name: string; sha256: string}>
  /** 1, 2, 3, …: one more than the rollout it replaced. */
  id: number
  inventory: string
  /** sha256 of the inventory text. */
  inventorySha256: string
  publishedAt: string
  publisher: string
  /** halted: the proxy whose failure halted it, and its reason; superseded: the rollout that replaced it. */
  reason?: string
  /** With `--force`: the rollout it replaced while that was still active or halted. */
  supersedes?: number
  state: RolloutState
  target: 'haproxy' | 'relayd'
}

export type ResultState = 'applied' | 'failed' | 'unknown'

export interface ProxyResult {
  finishedAt: string
  /** apply's outcome (applied, unchanged, rolled-back, …). */
  outcome?: string
  proxy: string
  reason?: string
  /** failed: whether the proxy is proven back on its previous config. */
  rolledBack?: boolean
  /** The installed config's sha256 (applied). */
  sha256?: string
  startedAt: string
  state: ResultState
  /** HAProxy's current worker after the apply (applied, HAProxy). */
  workerPid?: number
}

export interface AgentReport {
  at: string
  /** How often the agent reports: `fleet status` counts it lost after 3 intervals. */
  intervalMs: number
  /** sha256 of the live config file as the agent read it at `at`; undefined when unreadable. */
  liveSha256?: string
  name: string
  /** HAProxy's peers sections as `show peers` gave them at `at`; undefined when it did not answer. */
  peers?: PeersSection[]
  pid: number
  /** Bridge registrations under P/jvbs/ this agent refused (each key and problem counted once); unset: none read. */
  refusedRegistrations?: number
  /** The HAProxy master's reload count and its current worker at `at`; undefined when it did not answer. */
  reloads?: number
  /** The last rollout this proxy applied, and the config digest it recorded for it. */
  rollout?: number
  sha256?: string
  workerPid?: number
}

/** The keys of one fleet. */
export function fleetKeys(prefix: string) {
  return {
    agent: (name: string) => `${prefix}/agents/${name}`,
    agents: `${prefix}/agents/`,
    history: (id: number) => `${prefix}/rollouts/${String(id).padStart(10, '0')}`,
    histories: `${prefix}/rollouts/`,
    result: (id: number, name: string) => `${prefix}/results/${id}/${name}`,
    results: (id: number) => `${prefix}/results/${id}/`,
    rollout: `${prefix}/rollout`,
    turn: `${prefix}/turn`,
  }
}

export type FleetKeys = ReturnType<typeof fleetKeys>

/** How long one etcd call may take at one endpoint before the next is tried (publish, status, rollback, the agent). */
export const ETCD_TIMEOUT_MS = 5000

/** A client for the inventory's fleet.etcd, its client TLS files read now; an inventory without a fleet is a usage error. */
export async function fleetClient(inventory: Inventory, timeoutMs = ETCD_TIMEOUT_MS): Promise<{client: EtcdClient; keys: FleetKeys}> {
  if (!inventory.fleet) throw new JproxyError('usage', 'the inventory has no fleet section: nothing to talk to etcd about')
  const {ca, cert, endpoints, key} = inventory.fleet.etcd
  const read = (file?: string) => (file === undefined ? undefined : readFile(file, 'utf8'))
  const [caText, certText, keyText] = await Promise.all([read(ca), read(cert), read(key)])
  const tls = {...(caText ? {ca: caText} : {}), ...(certText ? {cert: certText} : {}), ...(keyText ? {key: keyText} : {})}
  return {client: new EtcdClient({endpoints, timeoutMs, tls}), keys: fleetKeys(fleetPrefix(inventory))}
}

export function parseJson<T>(kv: KeyValue | undefined): T | undefined {
  if (!kv) return undefined
  try {
    return JSON.parse(kv.value) as T
  } catch {
    return undefined
  }
}

/** The current rollout and the mod revision a compare-and-swap on it compares (0: none yet). */
export async function currentRollout(client: EtcdClient, keys: FleetKeys): Promise<{modRevision: number; revision: number; rollout?: Rollout}> {
  const {kvs, revision} = await client.range(keys.rollout)
  return {modRevision: kvs[0]?.modRevision ?? 0, revision, rollout: parseJson<Rollout>(kvs[0])}
}

export async function rolloutResults(client: EtcdClient, keys: FleetKeys, id: number): Promise<Map<string, ProxyResult>> {
  const {kvs} = await client.range(keys.results(id), {prefix: true})
  const results = new Map<string, ProxyResult>()
  for (const kv of kvs) {
    const result = parseJson<ProxyResult>(kv)
    if (result) results.set(result.proxy, result)
  }

  return results
}

/** An etcd failure as the exit-code table words it (15: could not ask); other errors pass through. */
export function etcdUnreachable(error: unknown): unknown {
  if (!(error instanceof EtcdError)) return error
  return new JproxyError('proxyUnreachable', `cannot reach the fleet's etcd: ${error.message}`)
}
