import type {Lookup, QueryType} from './client.js'

/** Longest CNAME chain followed before giving up (resolvers stop near here too). */
export const MAX_CNAME_HOPS = 8

/** A name resolved to the end of its CNAME chain. */
export interface Resolved {
  /** Records of the asked type at the end of the chain, sorted. */
  addresses: string[]
  /** The names walked: the asked name, then each CNAME target. */
  chain: string[]
  /** How the last lookup ended; `answer` only when there are addresses. */
  outcome: Lookup['outcome']
  /** `loop`, `too-deep`, or `dangling` (a CNAME whose target does not exist). */
  problem?: 'dangling' | 'loop' | 'too-deep'
  /** Every lookup made, in order. */
  lookups: Lookup[]
  /** Shortest TTL along the chain: how long a change takes to reach every client. */
  ttl?: number
}

/**
 * Resolves `name` to records of `type`, following CNAMEs inside an answer and, when the
 * resolver stopped at a CNAME (an authoritative or local-data server does), by asking for the
 * target; loops and chains longer than MAX_CNAME_HOPS are reported, not followed forever.
 */
export async function resolveChain(lookup: (name: string, type: QueryType) => Promise<Lookup>, name: string, type: 'A' | 'AAAA'): Promise<Resolved> {
  const chain = [name.replace(/\.$/, '').toLowerCase()]
  const lookups: Lookup[] = []
  const ttls: number[] = []
  for (;;) {
    const current = chain.at(-1)!
    const result = await lookup(current, type)
    lookups.push(result)
    let at = current
    for (;;) {
      const cname = result.records.find((r) => r.type === 'CNAME' && r.name.toLowerCase() === at)
      if (!cname) break
      ttls.push(cname.ttl)
      const target = cname.data.replace(/\.$/, '').toLowerCase()
      const done = (problem: 'loop' | 'too-deep') => ({addresses: [], chain: [...chain, target], lookups, outcome: result.outcome, problem, ttl: min(ttls)})
      if (chain.includes(target)) return done('loop')
      chain.push(target)
      if (chain.length > MAX_CNAME_HOPS + 1) return done('too-deep')
      at = target
    }

    const records = result.records.filter((r) => r.type === type && r.name.toLowerCase() === at)
    if (records.length > 0) {
      ttls.push(...records.map((r) => r.ttl))
      // Resolvers rotate record order; sorted, reports and comparisons stay the same run to run.
      return {addresses: records.map((r) => r.data).sort(), chain, lookups, outcome: 'answer', ttl: min(ttls)}
    }

    // The resolver stopped at a CNAME without chasing it: ask for the target ourselves.
    if (at !== current && (result.outcome === 'nodata' || result.outcome === 'answer')) continue
    const outcome = result.outcome === 'answer' ? 'nodata' : result.outcome
    // NODATA at the end of a chain is an ordinary "no record of this type" (an AAAA query, say).
    const dangling = chain.length > 1 && outcome === 'nxdomain'
    return {addresses: [], chain, lookups, outcome, ...(dangling ? {problem: 'dangling' as const} : {}), ttl: min(ttls)}
  }
}

const min = (values: number[]) => (values.length === 0 ? undefined : Math.min(...values))
