import {hostPort} from '../inventory/host-port.js'
import type {Lookup, QueryType, Resolver} from './client.js'

/** Lookups in a row that a resolver which has answered before may leave unanswered before the run stops asking it. */
export const GIVE_UP_AFTER = 3

type Query = (resolver: Resolver, name: string, type: QueryType) => Promise<Lookup>

/**
 * Wraps `query` so that a resolver is not asked again once it looks dead: at its first timeout
 * when it has answered nothing in this run, else after GIVE_UP_AFTER timeouts in a row. A dead
 * resolver then costs one round of timeouts, not one per name, and the other resolvers' answers
 * still arrive. `silent()` lists those given up on, with how many lookups each was spared.
 */
export function skipSilentResolvers(query: Query): {query: Query; silent(): Array<{resolver: string; skipped: number}>} {
  const streak = new Map<string, number>()
  const answered = new Set<string>()
  const skipped = new Map<string, number>()
  const dead = (key: string) => (streak.get(key) ?? 0) >= (answered.has(key) ? GIVE_UP_AFTER : 1)
  return {
    async query(resolver, name, type) {
      const key = hostPort(resolver.address, resolver.port)
      if (dead(key)) {
        skipped.set(key, (skipped.get(key) ?? 0) + 1)
        return {attempts: 0, latencyMs: 0, name, outcome: 'timeout', reason: `not asked: ${key} stopped answering`, records: [], resolver, transport: 'udp', type}
      }

      const lookup = await query(resolver, name, type)
      if (lookup.outcome === 'timeout') {
        streak.set(key, (streak.get(key) ?? 0) + 1)
      } else {
        streak.set(key, 0)
        answered.add(key)
      }

      return lookup
    },
    silent: () => [...skipped].map(([resolver, count]) => ({resolver, skipped: count})),
  }
}
