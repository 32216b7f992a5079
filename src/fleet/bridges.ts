import {setTimeout as sleep} from 'node:timers/promises'

import type {EtcdClient} from '../etcd/client.js'
import {
  addColibriServer,
  type ColibriServerState,
  colibriServerStates,
  deleteColibriServer,
  jvbIds,
  runtimeAddBlocker,
  setColibriState,
} from '../haproxy/colibri-runtime.js'
import {ADMIN_DRAIN} from '../haproxy/vocabulary.js'
import {parseRegistration, type Registration, registrationsPrefix, withRegisteredBridges} from '../inventory/registration.js'
import type {Inventory} from '../inventory/schema.js'
import {targetOutputPath} from '../render/targets.js'
import {ipNumber} from '../system/ip.js'

export interface BridgeRegistryOptions {
  client: EtcdClient
  /** Runs a runtime change after every other change of the agent to HAProxy has ended: never amid a rollout's apply. */
  exclusive: <T>(change: () => Promise<T>) => Promise<T>
  log: (line: string) => void
  /** The most a relist after an etcd failure waits (backoff doubles from 250 ms). */
  maxBackoffMs: number
  signal: AbortSignal
  /** This proxy's view as the inventory has it (no registered bridge); undefined: the proxy is not in the fleet. */
  view: () => Inventory | undefined
}

/**
 * The bridges registered under `P/jvbs/` (docs/fleet.md, "Self-registering bridges"), as this
 * fleet proxy routes them: lists the prefix, watches it from the list's revision + 1 (a new list
 * when the watch is compacted or canceled), and after every change makes the running HAProxy's
 * colibri backend match at run time, no reload: a new registration is added (server, health
 * checks, allow-list entry), a draining one drained, a deleted one (its lease ended) removed, one
 * that names a new address or port for its id replaced.
 * Only registered bridges are removed: the inventory's static bridges are never touched. Every
 * value is checked by parseRegistration against the current view; a refused one is logged once
 * per key and problem, counted, and never reaches HAProxy or the rendered config.
 */
export class BridgeRegistry {
  /** Registrations refused so far (one per key and problem logged). */
  refused = 0
  /** What the last read of etcd holds: key → raw value. */
  #values = new Map<string, string>()
  /** Per refused key, the problem logged for it: logged again only when it changes. */
  #refusals = new Map<string, string>()
  /** Per bridge id, the last runtime state said: one log line per change, not per converge. */
  #said = new Map<string, string>()
  #pending: Promise<void> | undefined

  constructor(readonly options: BridgeRegistryOptions) {}

  /** The valid registrations for `view`, in key order; a refused one is logged (once) and left out. */
  registrations(view: Inventory): Registration[] {
    const valid: Registration[] = []
    const ids = new Map<string, string>()
    for (const key of [...this.#values.keys()].sort()) {
      const parsed = parseRegistration(key, this.#values.get(key)!, view)
      let problem = parsed.ok ? undefined : `${parsed.problem.field} ${parsed.problem.message}`
      // One route per id: of two shards' registrations of one id, the first key keeps it.
      if (parsed.ok && ids.has(parsed.registration.id)) problem = `id ${parsed.registration.id} is registered already at ${ids.get(parsed.registration.id)}`
      if (problem === undefined && parsed.ok) {
        this.#refusals.delete(key)
        ids.set(parsed.registration.id, key)
        valid.push(parsed.registration)
      } else if (problem !== undefined && this.#refusals.get(key) !== problem) {
        this.#refusals.set(key, problem)
        this.refused++
        this.options.log(`registration ${key} refused: ${problem}`)
      }
    }

    return valid
  }

  /** The view with the valid registrations' bridges: what this proxy renders, so a reload keeps them. */
  withRegistered(view: Inventory): Inventory {
    return withRegisteredBridges(view, this.registrations(view))
  }

  /** Lists and watches until the signal aborts; etcd failures are retried with backoff (the agent says when etcd is away). */
  async run(): Promise<void> {
    const {client, signal} = this.options
    let backoff = 250
    while (!signal.aborted) {
      const view = this.options.view()
      try {
        if (!view) throw new Error('not a fleet proxy')
        const prefix = registrationsPrefix(view)
        const listed = await client.range(prefix, {prefix: true})
        this.#values = new Map(listed.kvs.map((kv) => [kv.key, kv.value]))
        this.#forgetRefusals()
        await this.converge()
        backoff = 250
        for await (const event of client.watch(prefix, {prefix: true, signal, startRevision: listed.revision + 1})) {
          // compacted or canceled: list again.
          if (event.type !== 'put' && event.type !== 'delete') break
          if (event.type === 'put') this.#values.set(event.kv.key, event.kv.value)
          else this.#values.delete(event.kv.key)
          this.#forgetRefusals()
          await this.converge()
        }
      } catch {
        // The agent's main loop says when etcd is unreachable; a converge failure is said per bridge.
      }

      await sleep(backoff, undefined, {signal}).catch(() => undefined)
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs)
    }
  }

  /**
   * Makes the running HAProxy's colibri backend match the registrations, under the agent's turn-taking.
   * Calls while one waits share it; one that comes while it runs waits for the next.
   */
  converge(): Promise<void> {
    this.#pending ??= this.options.exclusive(async () => {
      this.#pending = undefined
      await this.#apply()
    })
    return this.#pending
  }

  /** A deleted key's refusal is forgotten: put again, it is refused (and said) again. */
  #forgetRefusals(): void {
    for (const key of this.#refusals.keys()) if (!this.#values.has(key)) this.#refusals.delete(key)
  }

  #tell(id: string, state: string): void {
    if (this.#said.get(id) === state) return
    this.#said.set(id, state)
    this.options.log(`bridge ${id}: ${state}`)
  }

  async #apply(): Promise<void> {
    const view = this.options.view()
    if (!view?.colibriWs || this.options.signal.aborted) return
    const socket = view.targets.haproxy.socket
    const live = targetOutputPath(view, 'haproxy')
    const wanted = new Map(this.registrations(view).map((r) => [r.id, r]))
    const staticIds = jvbIds(view)
    const running = await colibriServerStates(socket).catch(() => undefined)
    if (!running) return
    const known = new Set([...staticIds, ...wanted.keys(), ...running.keys()])
    // Gone first: its allow-list entry and server leave before a new bridge takes an id or an endpoint.
    for (const id of running.keys()) {
      if (staticIds.has(id) || wanted.has(id)) continue
      await deleteColibriServer(socket, live, id, known, true).then(
        () => this.#tell(id, 'removed (its registration is gone)'),
        (error: Error) => this.#tell(id, `not removed: ${error.message}`),
      )
    }

    const registered = withRegisteredBridges(view, wanted.values())
    for (const [id, registration] of wanted) {
      const jvb = {address: registration.address, colibriPort: registration.colibriPort, id, restPort: registration.restPort}
      let state = running.get(id)
      try {
        // Registered again elsewhere (a new address or port under the same id): out, then in anew.
        if (state && moved(state, jvb)) {
          await deleteColibriServer(socket, live, id, known, true)
          state = undefined
        }


        if (!state) {
          const blocker = await runtimeAddBlocker(socket, jvb, registered)
          if (blocker) {
            this.#tell(id, `not added at run time: ${blocker}`)
            continue
          }

          await addColibriServer(socket, live, jvb, registered)
          this.#tell(id, `added at ${jvb.address}:${jvb.colibriPort} (registered in shard ${registration.shard})`)
        }

        const draining = Boolean(state && state.admin & ADMIN_DRAIN)
        if (registration.state === 'draining' && !draining) {
          await setColibriState(socket, id, 'drain')
          this.#tell(id, 'draining')
        } else if (registration.state === 'active' && draining) {
          await setColibriState(socket, id, 'ready')
          this.#tell(id, 'active again')
        }
      } catch (error) {
        this.#tell(id, `runtime change failed: ${(error as Error).message}`)
      }
    }
  }
}

/**
 * Whether the running server sends elsewhere than the registration says. Addresses compare as numbers
 * (HAProxy writes an IPv6 address its own way); a hostname, which HAProxy shows resolved, never counts
 * as moved: such a server came from a rendered config, and taking it out could not be undone at run time.
 */
function moved(running: ColibriServerState, jvb: {address: string; colibriPort: number}): boolean {
  const wanted = ipNumber(jvb.address)
  if (!wanted) return false
  const now = ipNumber(running.address)
  return running.port !== jvb.colibriPort || now?.version !== wanted.version || now.bits !== wanted.bits
}
