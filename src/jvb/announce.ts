import {setTimeout as sleep} from 'node:timers/promises'

import {type EtcdClient, EtcdError} from '../etcd/client.js'
import {JproxyError} from '../errors.js'
import type {Inventory} from '../inventory/schema.js'
import {parseRegistration, type Registration, registrationKey} from '../inventory/registration.js'

/** The command-line flag of each registration field, for a usage error that names what to fix. */
const FLAG_OF: Record<string, string> = {key: '--shard or --id', address: '--address', colibriPort: '--colibri-port', id: '--id', restPort: '--rest-port', shard: '--shard'}

/**
 * The key and registration this bridge announces, checked now by the same rules every reader applies
 * (parseRegistration), so an announcer never writes what the fleet would refuse; a usage error names the flag.
 */
export function announcementOf(
  inventory: Pick<Inventory, 'domain' | 'fleet' | 'shards'>,
  bridge: {address: string; colibriPort?: number; id: string; restPort?: number; shard: string},
): {key: string; registration: Omit<Registration, 'announcedAt' | 'state'>} {
  if (!inventory.fleet) throw new JproxyError('usage', 'the inventory has no fleet section: no etcd to announce the bridge in')
  const key = registrationKey(inventory, bridge.shard, bridge.id)
  const value = {...bridge, announcedAt: new Date(0).toISOString(), state: 'active'}
  const parsed = parseRegistration(key, JSON.stringify(value), inventory)
  if (!parsed.ok) {
    const {field, message} = parsed.problem
    // A key problem comes from --shard or --id (they build it): the value's own check names which.
    throw new JproxyError('usage', `${FLAG_OF[field] ?? field}: ${message}`)
  }

  const {address, colibriPort, id, restPort, shard} = parsed.registration
  return {key, registration: {address, colibriPort, id, restPort, shard}}
}

/** The bridge's REST API as the announcer uses it (probe/jvb-rest.ts for a real one), each call within `timeoutMs`. */
export interface BridgeRest {
  /** POST the drain: jicofo places no new conferences on the bridge. */
  drain: (timeoutMs: number) => Promise<void>
  /** `/about/health` said 200; false or a throw is a failed check. */
  healthy: (timeoutMs: number) => Promise<boolean>
  participants: (timeoutMs: number) => Promise<number>
}

export interface AnnounceOptions {
  bridge: BridgeRest
  client: EtcdClient
  /** The most one health check waits (at most the check interval). */
  checkTimeoutMs: number
  /** After a stop, how long the draining bridge stays announced while it still has participants. */
  deadlineMs: number
  /** Failed checks in a row before the key is withdrawn (inventory health.fall). */
  fall: number
  /** `P/jvbs/<shard>/<id>`. */
  key: string
  log: (line: string) => void
  /** The most an etcd retry waits (backoff doubles from 250 ms up to this, and never past the next check). */
  maxBackoffMs?: number
  now?: () => Date
  /** What is announced, but its state and time, which the announcer sets. */
  registration: Omit<Registration, 'announcedAt' | 'state'>
  /** Good checks in a row before a withdrawn key is put back (inventory health.rise). */
  rise: number
  /** Aborted: drain, then stop (SIGTERM, SIGINT). */
  stop: AbortSignal
  /** Aborted during the drain: stop waiting for participants (a second signal). */
  hurry?: AbortSignal
  /** Seconds the lease lives without a renewal: a dead announcer's key is gone within it. */
  ttlSeconds: number
}

/** etcd's gRPC code for "requested lease not found": a revoke of a lease that already expired did its job. */
const NOT_FOUND = 5

/**
 * `jproxy jvb announce`: keeps a bridge registered in etcd while its own health check passes. Every
 * TTL/3 it checks `/about/health` and renews the lease its key is bound to; `fall` failed checks in a
 * row revoke the lease (the key goes at once), `rise` good ones put it back under a new lease. When
 * `stop` aborts it asks the bridge to drain, re-puts the key as `draining` and keeps it until the
 * bridge has no participants or `deadlineMs` passes, then revokes it. While etcd is unreachable it
 * keeps checking and retries with backoff, saying so once; a lease that expired meanwhile is
 * replaced. One log line per change of state. A killed announcer's key expires with its lease.
 */
export async function runAnnouncer(options: AnnounceOptions): Promise<void> {
  await new Announcer(options).run()
}

class Announcer {
  readonly #intervalMs: number
  #lease: string | undefined
  /** The state last written under the current lease; undefined: the key is not (known to be) there. */
  #written: Registration['state'] | undefined
  #state = ''
  /** undefined until the first check; then whether the bridge counts as up (fall/rise applied). */
  #up: boolean | undefined
  #streak = 0

  constructor(readonly options: AnnounceOptions) {
    this.#intervalMs = (options.ttlSeconds * 1000) / 3
  }

  async run(): Promise<void> {
    const {options} = this
    this.#say(`started: checking ${options.registration.address}:${options.registration.restPort} every ${Math.round(this.#intervalMs)} ms`)
    let backoff = 250
    let nextCheck = 0
    while (!options.stop.aborted) {
      if (Date.now() >= nextCheck) {
        nextCheck = Date.now() + this.#intervalMs
        await this.#check()
      }

      const wanted = this.#up ? 'active' : undefined
      const synced = await this.#sync(wanted)
      if (synced) {
        backoff = 250
        this.#say(wanted ? 'announced' : 'not announced: the bridge is unhealthy')
      }

      const wait = synced ? nextCheck - Date.now() : Math.min(backoff, nextCheck - Date.now())
      if (!synced) backoff = Math.min(backoff * 2, options.maxBackoffMs ?? 5000)
      await sleep(Math.max(0, wait), undefined, {signal: options.stop}).catch(() => undefined)
    }

    await this.#drain()
    const revoked = await this.#revoke().then(() => '', (error: Error) => error.message)
    this.#say(revoked ? `stopped; the lease could not be revoked (${revoked}): the key expires within ${options.ttlSeconds} s` : 'stopped')
  }

  /** One log line per change of state, never one per retry or check: `detail` is not part of the state. */
  #say(state: string, detail?: string): void {
    if (state === this.#state) return
    this.#state = state
    const {id, shard} = this.options.registration
    this.options.log(`jproxy jvb announce ${shard}/${id}: ${state}${detail ? ` (${detail})` : ''}`)
  }

  /** One health check, counted towards fall or rise; the first check decides the starting state. */
  async #check(): Promise<void> {
    const {bridge, checkTimeoutMs, fall, rise} = this.options
    const good = await bridge.healthy(checkTimeoutMs).catch(() => false)
    if (this.#up === undefined) {
      this.#up = good
      return
    }

    if (good === this.#up) {
      this.#streak = 0
      return
    }

    this.#streak += 1
    if (this.#streak >= (good ? rise : fall)) {
      this.#up = good
      this.#streak = 0
    }
  }

  /**
   * Brings etcd in line with `wanted` (a state to announce, or undefined: no key): renews or grants the
   * lease and puts the key when it is new or its state changed, or revokes the lease. Whether etcd answered.
   */
  async #sync(wanted: Registration['state'] | undefined): Promise<boolean> {
    try {
      if (wanted === undefined) await this.#revoke()
      else await this.#announce(wanted)
      return true
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error
      this.#say('etcd unreachable or refused; retrying', error.message)
      return false
    }
  }

  async #announce(state: Registration['state']): Promise<void> {
    const {client, key, now, registration, ttlSeconds} = this.options
    // The lease ran out (etcd was away longer than the TTL): its key went with it.
    if (this.#lease && (await client.leaseKeepAlive(this.#lease)).ttl <= 0) this.#lease = this.#written = undefined
    this.#lease ??= (await client.leaseGrant(ttlSeconds)).id
    if (this.#written === state) return
    const value: Registration = {...registration, announcedAt: (now?.() ?? new Date()).toISOString(), state}
    await client.put(key, JSON.stringify(value), {lease: this.#lease})
    this.#written = state
  }

  /** Ends the lease, and with it the key; a lease already gone counts as revoked. */
  async #revoke(): Promise<void> {
    if (!this.#lease) return
    await this.options.client.leaseRevoke(this.#lease).catch((error: unknown) => {
      if (!(error instanceof EtcdError && error.code === NOT_FOUND)) throw error
    })
    this.#lease = this.#written = undefined
  }

  /**
   * After a stop: asks the bridge to drain and, if it is announced, announces it `draining` until it
   * has no participants or the deadline passes (or `hurry` aborts), renewing as before. A participant
   * count that cannot be read counts as not empty: the wait then ends at the deadline.
   */
  async #drain(): Promise<void> {
    const {bridge, checkTimeoutMs, deadlineMs, hurry} = this.options
    const until = Date.now() + deadlineMs
    const asked = await bridge.drain(checkTimeoutMs).then(() => '', (error: Error) => error.message)
    // Not announced (unhealthy): no proxy routes to it through its key, so there is nothing to wait for.
    if (this.#up !== true) return
    this.#say('draining', asked ? `the drain request failed: ${asked}` : undefined)
    let backoff = 250
    while (Date.now() < until && !hurry?.aborted) {
      const synced = await this.#sync('draining')
      if (synced) {
        backoff = 250
        this.#say('draining')
      }

      const participants = await bridge.participants(checkTimeoutMs).catch(() => undefined)
      if (participants === 0) {
        this.#say('drained: no participants left')
        return
      }

      const wait = synced ? this.#intervalMs : Math.min(backoff, this.#intervalMs)
      if (!synced) backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 5000)
      await sleep(Math.max(0, Math.min(wait, until - Date.now())), undefined, hurry ? {signal: hurry} : undefined).catch(() => undefined)
    }

    this.#say(hurry?.aborted ? 'stopped waiting for participants (second signal)' : 'drain deadline passed with participants left')
  }
}
