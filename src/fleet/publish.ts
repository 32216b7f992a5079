import {hostname, userInfo} from 'node:os'

import {JproxyError} from '../errors.js'
import {invalidInventory, parseInventory} from '../inventory/load.js'
import {proxyView} from '../inventory/proxy-view.js'
import type {Inventory} from '../inventory/schema.js'
import {checkRendered} from '../render/check-rendered.js'
import {contextFor, includedText} from '../render/context.js'
import {renderTarget} from '../render/targets.js'
import {pollUntil} from '../system/poll.js'
import {sha256} from '../system/sha256.js'
import type {EtcdClient} from '../etcd/client.js'
import {currentRollout, type FleetKeys, type ProxyResult, type Rollout, rolloutResults} from './rollout.js'

/**
 * Validates an inventory text and renders it for every fleet proxy's view exactly as `apply` does
 * (schema, rules, render, jproxy's linter); the configs' digests, in rollout order.
 */
export async function renderRollout(text: string, file: string, target: Rollout['target']): Promise<{configs: Rollout['configs']; inventory: Inventory}> {
  const report = parseInventory(text, file)
  if (!report.inventory) throw invalidInventory(file, report.problems, 'invalid inventory')
  const {inventory} = report
  if (!inventory.fleet) throw new JproxyError('inventoryInvalid', `${file}: has no fleet section: nothing to publish to`)
  const configs: Rollout['configs'] = []
  for (const proxy of inventory.fleet.proxies) {
    const view = proxyView(inventory, proxy.name)
    const context = await contextFor(view, target)
    const config = renderTarget(view, target, context)
    checkRendered(target, config, `${proxy.name}:${target}`, includedText(context))
    configs.push({name: proxy.name, sha256: sha256(config)})
  }

  return {configs, inventory}
}

export interface PublishOptions {
  client: EtcdClient
  configs: Rollout['configs']
  /** Supersede a rollout that is still active or halted. */
  force?: boolean
  keys: FleetKeys
  now?: () => Date
  publisher?: string
  target: Rollout['target']
  text: string
}

export interface Published {
  /** The etcd revision the rollout was stored at. */
  revision: number
  rollout: Rollout
}

/**
 * Stores a new rollout with a compare-and-swap on the one it replaces: of two publishes at once
 * one wins; the other is told the winner (busy, 10). A rollout still active or halted is not
 * replaced without `force` (refused, 11), so a halted fleet stays halted until someone decides.
 */
export async function publishRollout(options: PublishOptions): Promise<Published> {
  const {client, keys} = options
  const previous = await currentRollout(client, keys)
  const old = previous.rollout
  if (old && old.state !== 'done' && !options.force) {
    const why = old.state === 'halted' ? `halted: ${old.reason}` : 'still active'
    throw new JproxyError('refused', `rollout ${old.id} is ${why}; nothing was published (--force supersedes it)`, {rollout: old})
  }

  const rollout: Rollout = {
    configs: options.configs,
    id: (old?.id ?? 0) + 1,
    inventory: options.text,
    inventorySha256: sha256(options.text),
    publishedAt: (options.now?.() ?? new Date()).toISOString(),
    publisher: options.publisher ?? `${userInfo().username}@${hostname()}`,
    state: 'active',
    target: options.target,
    ...(old && old.state !== 'done' ? {supersedes: old.id} : {}),
  }
  const value = JSON.stringify(rollout)
  const answer = await client.txn({
    compare: [previous.modRevision === 0 ? {key: keys.rollout, target: 'create', value: 0} : {key: keys.rollout, target: 'mod', value: previous.modRevision}],
    failure: [{range: {key: keys.rollout}}],
    success: [{put: {key: keys.rollout, value}}, {put: {key: keys.history(rollout.id), value}}],
  })
  if (!answer.succeeded) {
    const [winner] = 'kvs' in answer.responses[0] ? answer.responses[0].kvs : []
    const won = winner ? (JSON.parse(winner.value) as Rollout) : undefined
    throw new JproxyError('busy', `another publish won: rollout ${won?.id ?? '?'} at revision ${winner?.modRevision ?? '?'} (by ${won?.publisher ?? '?'}); nothing was published`, {
      revision: winner?.modRevision,
      rollout: won?.id,
    })
  }

  return {revision: answer.revision, rollout}
}

export interface Followed {
  results: ProxyResult[]
  rollout: Rollout
}

/**
 * Follows rollout `id` until every proxy applied it (done), it halted (refused, 11, naming the
 * proxy and its reason), it ended with a proxy `unknown` (failure, 1), something replaced it, or
 * `timeoutMs` passed (busy, 10). Reads every
 * `intervalMs`: one small range each, bounded by the timeout.
 */
export async function followRollout(options: {client: EtcdClient; id: number; intervalMs?: number; keys: FleetKeys; timeoutMs: number}): Promise<Followed> {
  const {client, id, keys} = options
  const read = async () => {
    const {rollout} = await currentRollout(client, keys)
    const results = rollout?.id === id ? await rolloutResults(client, keys, id) : new Map<string, ProxyResult>()
    return {results, rollout}
  }
  const allApplied = (rollout: Rollout, results: Map<string, ProxyResult>) => rollout.configs.every((c) => results.get(c.name)?.state === 'applied')
  // Ended, not just all applied: the last agent ends it right after its record, and a publish that
  // came straight after --wait would otherwise find it still active (refused).
  const settled = ({rollout}: Awaited<ReturnType<typeof read>>) => rollout?.id !== id || rollout.state !== 'active'
  const {results, rollout} = (await pollUntil(read, settled, {intervalMs: options.intervalMs ?? 250, timeoutMs: options.timeoutMs})).value
  const ordered = [...results.values()]
  if (!rollout || rollout.id !== id) throw new JproxyError('busy', `rollout ${id} was replaced by rollout ${rollout?.id ?? '?'} before it finished`, {results: ordered})
  if (rollout.state === 'halted') throw new JproxyError('refused', `rollout ${id} halted: ${rollout.reason}`, {results: ordered, rollout: {...rollout, inventory: undefined}})
  if (rollout.state === 'done' && allApplied(rollout, results)) return {results: ordered, rollout}
  if (rollout.state === 'done') {
    const unknown = rollout.configs.filter((c) => results.get(c.name)?.state !== 'applied').map((c) => c.name)
    const message = `rollout ${id} finished, but not applied on ${unknown.join(', ')}: result unknown (its agent was lost); `
    throw new JproxyError('failure', `${message}each catches up when its agent is back (fleet status)`, {results: ordered})
  }

  const waiting = rollout.configs.filter((c) => results.get(c.name)?.state !== 'applied').map((c) => c.name)
  throw new JproxyError('busy', `rollout ${id} did not finish within ${options.timeoutMs} ms; not applied yet on ${waiting.join(', ')}`, {results: ordered})
}

/**
 * `fleet rollback`: the inventory of rollout `to` (default: the one before the current) published
 * again as a new rollout, rendered again for today's proxies; it supersedes a running or halted one.
 */
export async function rollbackRollout(options: {client: EtcdClient; keys: FleetKeys; target: Rollout['target']; to?: number}): Promise<Published & {from: number}> {
  const {client, keys} = options
  const {rollout: current} = await currentRollout(client, keys)
  const from = options.to ?? (current ? current.id - 1 : 0)
  const [kv] = from > 0 ? (await client.range(keys.history(from))).kvs : []
  const earlier = kv ? (JSON.parse(kv.value) as Rollout) : undefined
  if (!earlier) throw new JproxyError('usage', `there is no rollout ${from} to go back to${current ? ` (the current one is ${current.id})` : ''}`)
  const {configs} = await renderRollout(earlier.inventory, `rollout ${from}`, options.target)
  const published = await publishRollout({client, configs, force: true, keys, target: options.target, text: earlier.inventory})
  return {...published, from}
}
