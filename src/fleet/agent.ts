import {readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ApplyReport} from '../apply/apply.js'
import {applyPaths} from '../apply/paths.js'
import {parseInventory} from '../inventory/load.js'
import {proxyView} from '../inventory/proxy-view.js'
import type {Inventory} from '../inventory/schema.js'
import {atomicWrite} from '../system/atomic-write.js'
import {linkedAbort} from '../system/linked-abort.js'
import {SerialQueue} from '../system/serial-queue.js'
import {sha256} from '../system/sha256.js'
import {type EtcdClient, EtcdError} from '../etcd/client.js'
import {BridgeRegistry} from './bridges.js'
import type {HaproxyFacts} from './worker.js'
import {type AgentReport, currentRollout, type FleetKeys, parseJson, type ProxyResult, type Rollout, rolloutResults} from './rollout.js'

export interface AgentOptions {
  /** Runs the safe swap for this proxy's view (applyTarget with the runner of the caller's choice). */
  apply: (view: Inventory, target: Rollout['target']) => Promise<ApplyReport>
  client: EtcdClient
  /** The local inventory the rollout's text is written to before it is applied. */
  inventoryFile: string
  /** Heartbeat (and drift report) interval. */
  intervalMs: number
  keys: FleetKeys
  /** Lease TTL in seconds: the turn of an agent that dies is released within it. */
  leaseTtl: number
  log: (line: string) => void
  /** The most a reconnect waits (backoff doubles from 250 ms up to this); MAX_BACKOFF_MS unless given. */
  maxBackoffMs?: number
  name: string
  now?: () => Date
  signal: AbortSignal
  /**
   * HAProxy's facts on this proxy (worker pid, reload count, peer links), each part best effort and
   * asked within `timeoutMs`: in every report, and the worker pid with an applied result.
   */
  haproxyFacts?: (view: Inventory, timeoutMs: number) => Promise<HaproxyFacts>
}

/** The most a reconnect to etcd waits by default (the backoff doubles from 250 ms up to it). */
export const MAX_BACKOFF_MS = 5000
/** The most one read of HAProxy's sockets waits. */
const FACTS_TIMEOUT_MS = 2000
const APPLIED = new Set(['applied', 'unchanged'])
/** A held turn: the lock key and its create revision, which every write in the turn compares. */
interface Fence {
  createRevision: number
  key: string
}

// Outcomes after which the proxy is proven (or never stopped being) on its previous config.
const ON_PREVIOUS = new Set(['busy', 'check-failed', 'refused', 'rolled-back', 'runtime-failed'])

/**
 * `jproxy fleet agent`: follows the fleet's rollout key and applies each new rollout in this
 * proxy's turn: strictly one proxy at a time (an etcd lock bound to the agent's lease) and in the
 * fleet's order (every proxy before it has applied). Each result is written in a txn fenced on the
 * lock key's create revision, so an agent whose lease expired records nothing. A failure halts the
 * rollout for every later proxy. While etcd is unreachable the proxy keeps serving what it has;
 * the agent retries with backoff and says so once. Ends when `signal` aborts.
 */
export async function runAgent(options: AgentOptions): Promise<void> {
  const agent = new Agent(options)
  await agent.run()
}

class Agent {
  /** The self-registered bridges this proxy routes (a fleet proxy of HAProxy): see bridges.ts. */
  #bridges: BridgeRegistry | undefined
  #granting: Promise<string> | undefined
  /** Turn-taking in this agent, one at a time: its lock key is per lease, so two holders here would share it. */
  readonly #turns = new SerialQueue()
  /**
   * Changes to the running HAProxy, one at a time: a rollout's apply and the registry's runtime changes.
   * Narrower than #turns, which a rollout holds while it waits for its turn (minutes): a bridge that
   * registers or dies meanwhile is still routed or removed at once.
   */
  readonly #changes = new SerialQueue()
  #tending = false
  #lease: string | undefined
  #reported: {rollout?: number; sha256?: string} = {}
  #state = ''
  #view: Inventory | undefined
  #target: Rollout['target'] = 'haproxy'

  constructor(readonly options: AgentOptions) {}

  async run(): Promise<void> {
    const {options} = this
    this.#view = await this.#localView()
    this.#say('started')
    const beats = this.#heartbeats()
    this.#bridges = new BridgeRegistry({
      client: options.client,
      exclusive: (change) => this.#serial(change),
      log: (line) => options.log(`jproxy fleet agent ${options.name}: ${line}`),
      maxBackoffMs: options.maxBackoffMs ?? MAX_BACKOFF_MS,
      signal: options.signal,
      view: () => (this.#target === 'haproxy' ? this.#view : undefined),
    })
    const bridges = this.#bridges.run()
    let backoff = 250
    while (!options.signal.aborted) {
      try {
        await this.#ensureLease()
        const current = await currentRollout(options.client, options.keys)
        await this.#recoverReport(current.rollout)
        this.#say(`watching ${options.keys.rollout}`)
        backoff = 250
        if (current.rollout) await this.#exclusive(() => this.#handle(current.rollout!))
        let from = current.revision + 1
        for await (const event of options.client.watch(options.keys.rollout, {signal: options.signal, startRevision: from})) {
          // compacted or canceled: list again from the top of the loop.
          if (event.type !== 'put') break
          from = event.kv.modRevision + 1
          const rollout = parseJson<Rollout>(event.kv)
          if (rollout) await this.#exclusive(() => this.#handle(rollout))
        }
      } catch (error) {
        if (options.signal.aborted) break
        this.#say('etcd unreachable or refused; serving the current config, retrying', (error as Error).message)
        await sleep(backoff, undefined, {signal: options.signal}).catch(() => undefined)
        backoff = Math.min(backoff * 2, options.maxBackoffMs ?? MAX_BACKOFF_MS)
      }
    }

    await Promise.all([beats, bridges])
    // A clean stop gives the turn (and the heartbeat) back at once instead of after the TTL.
    const revoked = this.#lease ? await options.client.leaseRevoke(this.#lease).then(() => '', (error: Error) => error.message) : ''
    this.#say(revoked ? `stopped; the lease could not be revoked (${revoked}): it expires within ${options.leaseTtl} s` : 'stopped')
  }

  /** One log line per change of state, never one per retry: `detail` (the first error) is not part of the state. */
  #say(state: string, detail?: string): void {
    if (state === this.#state) return
    this.#state = state
    this.options.log(`jproxy fleet agent ${this.options.name}: ${state}${detail ? ` (${detail})` : ''}`)
  }

  async #localView(): Promise<Inventory | undefined> {
    const text = await readFile(this.options.inventoryFile, 'utf8').catch(() => undefined)
    const inventory = text === undefined ? undefined : parseInventory(text, this.options.inventoryFile).inventory
    if (!inventory?.fleet?.proxies.some((p) => p.name === this.options.name)) return undefined
    return proxyView(inventory, this.options.name)
  }

  /**
   * The agent's one lease. The main loop and the heartbeats both ask at start-up: they share one grant,
   * or the report would be bound to a lease that the stop does not revoke.
   */
  #ensureLease(): Promise<string> {
    this.#granting ??= this.options.client.leaseGrant(this.options.leaseTtl).then(
      ({id}) => (this.#lease = id),
      (error: unknown) => {
        this.#granting = undefined
        throw error
      },
    )
    return this.#granting
  }

  /** After a restart: what this proxy last recorded for the current rollout, if anything. */
  async #recoverReport(rollout: Rollout | undefined): Promise<void> {
    if (!rollout || this.#reported.rollout !== undefined) return
    const mine = (await rolloutResults(this.options.client, this.options.keys, rollout.id)).get(this.options.name)
    if (mine?.state === 'applied') this.#reported = {rollout: rollout.id, sha256: mine.sha256}
  }

  /** How often the lease is renewed and the report written: every interval, a third of the TTL at most. */
  #beatMs(): number {
    return Math.min(this.options.intervalMs, (this.options.leaseTtl * 1000) / 3)
  }

  /** Renews the lease and writes this proxy's report every #beatMs. */
  async #heartbeats(): Promise<void> {
    const {options} = this
    const every = this.#beatMs()
    while (!options.signal.aborted) {
      try {
        const lease = await this.#ensureLease()
        const {ttl} = await options.client.leaseKeepAlive(lease)
        // The lease ran out while etcd was away: the turn it held is gone; take a new one.
        if (ttl <= 0) this.#lease = this.#granting = undefined
        else {
          await options.client.put(options.keys.agent(options.name), JSON.stringify(await this.#report()), {lease})
          // Not awaited: a catch-up applies for seconds, and the lease must keep being renewed meanwhile.
          void this.#tend()
          // Again each beat: a bridge that could not be changed, or a reload by hand that dropped one, is mended.
          void this.#bridges?.converge().catch(() => undefined)
        }
      } catch {
        // The main loop says that etcd is unreachable; a beat just tries again.
      }

      await sleep(every, undefined, {signal: options.signal}).catch(() => undefined)
    }
  }

  async #report(): Promise<AgentReport> {
    const view = this.#view
    const live = view ? applyPaths(view, this.#target).live : undefined
    const reading = live ? readFile(live, 'utf8').catch(() => undefined) : undefined
    const [text, facts] = await Promise.all([reading, view && this.#target === 'haproxy' ? this.#facts(view) : undefined])
    return {
      at: (this.options.now?.() ?? new Date()).toISOString(),
      intervalMs: this.options.intervalMs,
      liveSha256: text === undefined ? undefined : sha256(text),
      name: this.options.name,
      peers: facts?.peers,
      pid: process.pid,
      refusedRegistrations: this.#bridges?.refused,
      reloads: facts?.reloads,
      workerPid: facts?.workerPid,
      ...this.#reported,
    }
  }

  /**
   * HAProxy's facts for a report, within half a beat: the lease is renewed before each report is
   * written, so a socket that accepts and never answers must not hold the next renewal past the TTL.
   */
  async #facts(view: Inventory): Promise<HaproxyFacts | undefined> {
    const {haproxyFacts} = this.options
    if (!haproxyFacts) return undefined
    const limit = Math.min(FACTS_TIMEOUT_MS, this.#beatMs() / 2)
    const late = sleep(limit + 50, undefined, {ref: false}).then(() => undefined)
    return Promise.race([haproxyFacts(view, limit).catch(() => undefined), late])
  }

  /** Whether rollout `id` is still the current, active one. */
  async #stillCurrent(id: number): Promise<boolean> {
    const {rollout} = await currentRollout(this.options.client, this.options.keys)
    return rollout?.id === id && rollout.state === 'active'
  }

  /** Runs `turn` after every earlier one of this agent has ended (see #turns). */
  #exclusive<T>(turn: () => Promise<T>): Promise<T> {
    return this.#turns.run(turn)
  }

  /** Runs `change` after every earlier change of this agent to the running HAProxy has ended (see #changes). */
  #serial<T>(change: () => Promise<T>): Promise<T> {
    return this.#changes.run(change)
  }

  /**
   * Every interval, for the current rollout: this proxy recorded `unknown` (its agent was away in its
   * turn) catches up; proxies at the end of the order whose agents are all gone, which no later agent
   * would record, are recorded by this one, so the rollout ends instead of staying active.
   */
  async #tend(): Promise<void> {
    if (this.#tending) return
    this.#tending = true
    try {
      const {client, keys, name} = this.options
      const {rollout} = await currentRollout(client, keys)
      if (!rollout || rollout.state === 'halted' || !rollout.configs.some((c) => c.name === name)) return
      const [mine] = (await client.range(keys.result(rollout.id, name))).kvs
      if (parseJson<ProxyResult>(mine)?.state === 'unknown') await this.#exclusive(() => this.#catchUp(rollout, mine.modRevision))
      else if (rollout.state === 'active' && (await this.#lostTail(rollout))) await this.#exclusive(() => this.#sweepLost(rollout))
    } catch {
      // The main loop says when etcd is unreachable; the next beat tries again.
    } finally {
      this.#tending = false
    }
  }

  /**
   * The proxies of an active rollout still without a result when none of them has a live agent (and
   * none failed): no later agent will take a turn and record them (none: all recorded, yet not ended).
   * Undefined otherwise.
   */
  async #lostTail(rollout: Rollout): Promise<string[] | undefined> {
    const {client, keys} = this.options
    if (!(await this.#stillCurrent(rollout.id))) return undefined
    const results = await rolloutResults(client, keys, rollout.id)
    if ([...results.values()].some((r) => r.state === 'failed')) return undefined
    const pending = rollout.configs.map((c) => c.name).filter((n) => !results.has(n))
    // Every proxy recorded and the rollout is still active: the last agent died before it ended it.
    if (pending.length === 0) return []
    if (pending.includes(this.options.name)) return undefined
    const live = new Set((await client.range(keys.agents, {prefix: true})).kvs.map((kv) => kv.key.slice(keys.agents.length)))
    return pending.some((n) => live.has(n)) ? undefined : pending
  }

  /** Under the turn (waited for at most one interval), records the lost tail unknown and ends the rollout. */
  async #sweepLost(rollout: Rollout): Promise<void> {
    const lock = await this.#takeTurn(this.options.intervalMs)
    try {
      const fence = await this.#fence(lock.key)
      const lost = fence && (await this.#lostTail(rollout))
      if (!fence || !lost) return
      for (const name of lost) if (!(await this.#recordLost(rollout, name, fence))) return
      await this.#settle(rollout, 'done', fence)
      this.#say(`rollout ${rollout.id}: done (${lost.length > 0 ? `${lost.join(', ')} unknown: no live agent` : 'every proxy had recorded it'})`)
    } finally {
      await this.#release(lock.key)
    }
  }

  /**
   * This proxy was recorded `unknown` while its agent was away: in a turn of its own, it applies the
   * rollout now (unchanged if it had applied it before it was lost) and replaces that record.
   */
  async #catchUp(rollout: Rollout, unknownRevision: number): Promise<void> {
    const {client, keys, name} = this.options
    this.#say(`rollout ${rollout.id}: catching up (recorded unknown while this agent was away)`)
    const lock = await this.#takeTurn(24 * 3600 * 1000)
    try {
      const fence = await this.#fence(lock.key)
      const {rollout: now} = await currentRollout(client, keys)
      const [mine] = (await client.range(keys.result(rollout.id, name))).kvs
      if (!fence || now?.id !== rollout.id || now.state === 'halted' || mine?.modRevision !== unknownRevision) return
      await this.#applyTurn(rollout, fence, false, unknownRevision)
    } finally {
      await this.#release(lock.key)
    }
  }

  /** Waits (at most `waitMs`) for the turn: etcd's lock on the turn key, bound to this agent's lease. */
  async #takeTurn(waitMs: number): Promise<{key: string}> {
    const {client, keys, signal} = this.options
    const lease = await this.#ensureLease()
    try {
      return await client.lock(keys.turn, lease, {signal, waitMs})
    } catch (error) {
      // etcd keeps a waiter's key (name/lease in hex) when etcd itself stops during the wait: left
      // there, its place in the queue would hold every later turn while this agent's lease lives.
      await this.#release(`${keys.turn}/${BigInt(lease).toString(16)}`)
      throw error
    }
  }

  /** The fence of a held lock: its key's create revision (undefined: the lock is already gone). */
  async #fence(key: string): Promise<Fence | undefined> {
    const [held] = (await this.options.client.range(key)).kvs
    return held ? {createRevision: held.createRevision, key} : undefined
  }

  async #handle(rollout: Rollout): Promise<void> {
    const {name} = this.options
    if (rollout.state !== 'active') return
    const order = rollout.configs.map((c) => c.name)
    const index = order.indexOf(name)
    if (index === -1) return
    const before = order.slice(0, index)
    while (!this.options.signal.aborted) {
      const ready = await this.#turnReady(rollout, before)
      if (ready === 'never') return
      if (ready === 'wait') {
        await this.#resultsChange(rollout.id)
        continue
      }

      this.#say(`rollout ${rollout.id}: waiting for the turn`)
      const lock = await this.#takeTurn(24 * 3600 * 1000)
      try {
        const fence = await this.#fence(lock.key)
        if (!fence) continue
        // Under the lock, again: the rollout may have been halted or replaced while this agent waited.
        let now = await this.#turnReady(rollout, before)
        // A proxy before this one whose agent died in its turn (or runs nowhere): recorded unknown, so the rollout goes on.
        while (typeof now === 'object' && (await this.#recordLost(rollout, now.lost, fence))) now = await this.#turnReady(rollout, before)
        if (now !== 'go') continue
        await this.#applyTurn(rollout, fence, index === order.length - 1)
        return
      } finally {
        await this.#release(lock.key)
      }
    }
  }

  /**
   * go: every proxy before this one has a result that lets it go on (applied, or unknown: lost);
   * wait: one has none yet and its agent is alive; lost: that one has none and no live agent key (its
   * agent died, in its turn or before it, and its lease expired); never: halted, replaced or already recorded.
   */
  async #turnReady(rollout: Rollout, before: string[]): Promise<'go' | 'never' | 'wait' | {lost: string}> {
    if (!(await this.#stillCurrent(rollout.id))) return 'never'
    const {client, keys} = this.options
    const results = await rolloutResults(client, keys, rollout.id)
    if (results.has(this.options.name)) return 'never'
    if (before.some((n) => results.get(n)?.state === 'failed')) return 'never'
    const pending = before.find((n) => !results.has(n))
    if (pending === undefined) return 'go'
    return (await client.range(keys.agent(pending))).kvs.length > 0 ? 'wait' : {lost: pending}
  }

  /**
   * Records proxy `name` unknown for the rollout, fenced on this agent's turn and only if it still has
   * no result: its agent's turn ended with its lease, not with a record, so its proxy may be on its
   * previous config or the new one (apply never leaves it between). Whether it was written.
   */
  async #recordLost(rollout: Rollout, name: string, lock: Fence): Promise<boolean> {
    const {client, keys} = this.options
    const at = (this.options.now?.() ?? new Date()).toISOString()
    const reason = `no result and no live agent when ${this.options.name} took the turn: its agent died or is not running`
    const result: ProxyResult = {finishedAt: at, proxy: name, reason, startedAt: at, state: 'unknown'}
    const key = keys.result(rollout.id, name)
    const written = await client.txn({
      compare: [{key: lock.key, target: 'create', value: lock.createRevision}, {key, target: 'create', value: 0}],
      success: [{put: {key, value: JSON.stringify(result)}}],
    })
    if (written.succeeded) this.#say(`rollout ${rollout.id}: ${name} recorded unknown (its agent was lost)`)
    return written.succeeded
  }

  /**
   * Waits for the next result of the rollout or an agent's end (its key deleted: revoked or expired),
   * at most one interval (a halt or a new rollout is seen by then).
   */
  async #resultsChange(id: number): Promise<void> {
    const {client, keys} = this.options
    const limit = linkedAbort(this.options.signal, this.options.intervalMs)
    const {revision} = await client.range(keys.results(id), {prefix: true}).catch((error: unknown) => {
      limit.dispose()
      throw error
    })
    const first = async (prefix: string, type: 'delete' | 'put') => {
      try {
        for await (const event of client.watch(prefix, {prefix: true, signal: limit.signal, startRevision: revision + 1})) {
          if (event.type === type || event.type === 'compacted' || event.type === 'canceled') return
        }
      } catch {
        // A broken watch ends the wait early; the caller reads again.
      }
    }

    await Promise.race([first(keys.results(id), 'put'), first(keys.agents, 'delete')])
    limit.abort()
  }

  /**
   * Applies the rollout here and records the result, fenced on the turn; `replacing`: the mod revision
   * of this proxy's `unknown` record that the result replaces (a catch-up).
   */
  async #applyTurn(rollout: Rollout, lock: Fence, last: boolean, replacing?: number): Promise<void> {
    const {name} = this.options
    const now = () => (this.options.now?.() ?? new Date()).toISOString()
    const startedAt = now()
    this.#say(`rollout ${rollout.id}: applying`)
    let result: ProxyResult
    const parsed = parseInventory(rollout.inventory, this.options.inventoryFile)
    if (parsed.inventory) {
      await atomicWrite(this.options.inventoryFile, rollout.inventory)
      const view = proxyView(parsed.inventory, name)
      this.#view = view
      this.#target = rollout.target
      // With the registered bridges: a reload keeps routing them (the rollout's config plus the registry's).
      const report = await this.#serial(() =>
        this.options.apply(rollout.target === 'haproxy' && this.#bridges ? this.#bridges.withRegistered(view) : view, rollout.target),
      )
      // Not awaited: after the apply, the registry's runtime states (drain) are set again.
      void this.#bridges?.converge().catch(() => undefined)
      const applied = APPLIED.has(report.outcome)
      const facts = applied && rollout.target === 'haproxy' ? await this.options.haproxyFacts?.(view, FACTS_TIMEOUT_MS).catch(() => undefined) : undefined
      const workerPid = facts?.workerPid
      result = {
        finishedAt: now(),
        outcome: report.outcome,
        proxy: name,
        startedAt,
        state: applied ? 'applied' : 'failed',
        ...(applied ? {sha256: report.sha256, workerPid} : {reason: report.message, rolledBack: ON_PREVIOUS.has(report.outcome)}),
      }
    } else {
      const reason = `the rollout's inventory does not load here: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`
      result = {finishedAt: now(), proxy: name, reason, rolledBack: true, startedAt, state: 'failed'}
    }

    // The proxy has applied it: the record must follow, so a dead etcd is waited for, not a reason to apply again.
    const recorded = await this.#untilAnswered(`rollout ${rollout.id}: applied here; etcd unreachable, retrying the record`, () =>
      this.#record(rollout, result, lock, last, replacing),
    )
    if (!recorded) {
      this.#say(`rollout ${rollout.id}: lost the turn before recording (lease expired); the result is not recorded`)
      return
    }

    if (result.state === 'applied') this.#reported = {rollout: rollout.id, sha256: result.sha256}
    this.#say(result.state === 'applied' ? `rollout ${rollout.id}: applied ${result.sha256}` : `rollout ${rollout.id}: failed, rollout halted: ${result.reason}`)
  }

  /**
   * Gives the turn back. A failed unlock would leave the key with this agent's live lease, holding
   * every other proxy's turn until it stops: retried until etcd answers (or the agent stops).
   */
  async #release(key: string): Promise<void> {
    await this.#untilAnswered('etcd unreachable; retrying to give the turn back', () => this.options.client.unlock(key)).catch(() => undefined)
  }

  /** `call` again (backoff up to the maximum) while etcd cannot be reached, saying so once; throws once stopped. */
  async #untilAnswered<T>(state: string, call: () => Promise<T>): Promise<T> {
    let backoff = 250
    for (;;) {
      try {
        return await call()
      } catch (error) {
        if (this.options.signal.aborted || !(error instanceof EtcdError)) throw error
        this.#say(state, error.message)
        await sleep(backoff, undefined, {signal: this.options.signal})
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? MAX_BACKOFF_MS)
      }
    }
  }

  /**
   * The result, fenced on the lock key (it exists, with this create revision, only while this
   * agent holds the turn); with it, a failure halts the rollout and the last proxy marks it done.
   * A put again after a lost answer writes the same record: safe to repeat.
   */
  async #record(rollout: Rollout, result: ProxyResult, lock: Fence, last: boolean, replacing?: number): Promise<boolean> {
    const {client, keys} = this.options
    const fence = {key: lock.key, target: 'create' as const, value: lock.createRevision}
    const key = keys.result(rollout.id, result.proxy)
    const compare = replacing === undefined ? [fence] : [fence, {key, target: 'mod' as const, value: replacing}]
    const written = await client.txn({compare, success: [{put: {key, value: JSON.stringify(result)}}]})
    if (!written.succeeded) {
      // Its own put whose answer was lost: the record is there (a catch-up's compare then fails on it).
      const [kv] = (await client.range(key)).kvs
      if (!(kv?.value === JSON.stringify(result) && (await this.#fence(lock.key)))) return false
    }

    const state = result.state === 'failed' ? 'halted' : last ? 'done' : undefined
    if (state) await this.#settle(rollout, state, lock, state === 'halted' ? `${result.proxy}: ${result.reason}` : undefined)
    return true
  }

  /** Marks the rollout halted or done, fenced on the turn; a publish that replaced it meanwhile wins. */
  async #settle(rollout: Rollout, state: 'done' | 'halted', lock: Fence, reason?: string): Promise<void> {
    const {client, keys} = this.options
    const fence = {key: lock.key, target: 'create' as const, value: lock.createRevision}
    // Bounded: the rollout key changes only by a publish (then this rollout is history) or by a turn.
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await currentRollout(client, keys)
      if (current.rollout?.id !== rollout.id || current.rollout.state === state) return
      const value = JSON.stringify({...current.rollout, state, ...(reason ? {reason} : {})})
      const swapped = await client.txn({
        compare: [fence, {key: keys.rollout, target: 'mod', value: current.modRevision}],
        success: [{put: {key: keys.rollout, value}}, {put: {key: keys.history(rollout.id), value}}],
      })
      if (swapped.succeeded) return
    }
  }

}
