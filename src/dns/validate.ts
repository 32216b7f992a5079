
import {hostPort} from '../inventory/host-port.js'
import type {Inventory} from '../inventory/schema.js'
import type {Finding} from '../findings/finding.js'
import {mapLimit} from '../system/map-limit.js'
import {RunDeadline} from '../system/run-deadline.js'
import type {Deadline} from '../system/settle-once.js'
import {ipVersion} from '../system/ip.js'
import {type Resolved, resolveChain} from './chain.js'
import {skipSilentResolvers} from './silent-resolvers.js'
import {type Lookup, type QueryType, queryDns, type Resolver} from './client.js'

/** One check's verdict, naming the record and the resolver it is about. */
export interface DnsFinding extends Finding {
  /** e.g. `meet.example.org A @203.0.113.53:53` */
  record: string
}

/** One name as each resolver sees it, for the side-by-side view of split horizons. */
export interface DnsView {
  answers: Record<string, string>
  name: string
  type: 'A' | 'AAAA'
}

export interface DnsReport {
  findings: DnsFinding[]
  views: DnsView[]
}

export interface DnsOptions {
  /** The whole run ends by then (default dns.deadline): lookups in flight end as timeouts. */
  deadlineMs?: number
  inventory: Inventory
  /** Override the inventory's lists (flags). */
  internal?: Resolver[]
  public?: Resolver[]
  /** Injected for tests; by default real UDP/TCP queries. */
  query?: (resolver: Resolver, name: string, type: QueryType) => Promise<Lookup>
  /** SRV name to list videobridges under and compare with the inventory. */
  srv?: string
}

/** Names prosody and jicofo use between themselves: seen from outside, they leak the layout. */
export const INTERNAL_ONLY = ['auth', 'internal.auth', 'conference'] as const

const label = (r: Resolver) => hostPort(r.address, r.port)

/**
 * The name checks of `jproxy validate dns`: the public name has exactly one A (at most one
 * AAAA) equal to the proxy's listen address on every public resolver; every backend hostname
 * resolves on every internal resolver, the same everywhere; internal-only names are absent from
 * public DNS; and, with `srv`, the published videobridges match the inventory.
 */
export async function validateDns(options: DnsOptions): Promise<DnsReport> {
  const deadline = new RunDeadline()
  const timer = setTimeout(() => deadline.expire(), options.deadlineMs ?? options.inventory.dns.deadline)
  try {
    return await checkNames(options, deadline)
  } finally {
    clearTimeout(timer)
  }
}

async function checkNames(options: DnsOptions, deadline: Deadline): Promise<DnsReport> {
  const {inventory} = options
  const internal = options.internal ?? inventory.dns.internal
  const publicResolvers = options.public ?? inventory.dns.public
  const watched = skipSilentResolvers(options.query ?? ((resolver, name, type) => queryDns(resolver, name, type, {deadline, retries: inventory.dns.retries, timeoutMs: inventory.dns.timeout})))
  const {query} = watched
  const findings: DnsFinding[] = []
  const views: DnsView[] = []
  const resolve = (resolver: Resolver, name: string, type: 'A' | 'AAAA') => resolveChain((n, t) => query(resolver, n, t), name, type)
  const record = (name: string, type: string, resolver: Resolver) => `${name} ${type} @${label(resolver)}`

  /** Resolves on every resolver at once and records the side-by-side view. */
  const everywhere = async (resolvers: Resolver[], name: string, type: 'A' | 'AAAA') => {
    const results = await Promise.all(resolvers.map(async (resolver) => ({resolved: await resolve(resolver, name, type), resolver})))
    views.push({answers: Object.fromEntries(results.map(({resolved, resolver}) => [label(resolver), describe(resolved)])), name, type})
    return results
  }

  // Checks with nobody to ask are said to be skipped, not passed.
  if (publicResolvers.length === 0) findings.push({message: 'no public resolvers (dns.public, --public): the public name and leaks of internal names were not checked', record: inventory.domain, severity: 'warning'})
  if (internal.length === 0 && backendNames(inventory).length > 0) findings.push({message: 'no internal resolvers (dns.internal, --internal): backend names were not checked', record: inventory.domain, severity: 'warning'})

  // The public name, as clients see it.
  const {ipv4, ipv6} = inventory.proxy.listen
  for (const [type, expected] of [['A', ipv4], ['AAAA', ipv6]] as const) {
    for (const {resolved, resolver} of await everywhere(publicResolvers, inventory.domain, type)) {
      findings.push(publicNameFinding(resolved, type, expected, record(inventory.domain, type, resolver)))
    }
  }

  // Backend names, as the proxy and the bridges see them: looked up concurrently, reported in order.
  const names = backendNames(inventory)
  const lookups = await mapLimit(names, inventory.dns.concurrency, (name) => everywhere(internal, name, 'A'))
  for (const [i, name] of names.entries()) {
    const results = lookups[i]
    for (const {resolved, resolver} of results) {
      const where = record(name, 'A', resolver)
      if (resolved.outcome === 'answer') findings.push({message: `resolves to ${resolved.addresses.join(', ')}${via(resolved)}${ttl(resolved)}`, record: where, severity: 'ok'})
      else findings.push({message: `does not resolve: ${describe(resolved)}`, record: where, severity: 'critical'})
    }

    const seen = new Set(results.map(({resolved}) => [...resolved.addresses].sort().join(',')))
    if (results.length > 1 && seen.size > 1) findings.push({message: `internal resolvers disagree: ${results.map(({resolved, resolver}) => `${label(resolver)} ${describe(resolved)}`).join('; ')}`, record: `${name} A`, severity: 'warning'})
  }

  // Names that only prosody and jicofo need must not be published.
  for (const prefix of INTERNAL_ONLY) {
    const name = `${prefix}.${inventory.domain}`
    for (const {resolved, resolver} of await everywhere(publicResolvers, name, 'A')) {
      const leaked = resolved.outcome === 'answer'
      findings.push({message: leaked ? `internal-only name is in public DNS (${resolved.addresses.join(', ')}): it tells the world the XMPP layout` : `not public (${resolved.outcome})`, record: record(name, 'A', resolver), severity: leaked ? 'warning' : 'ok'})
    }
  }

  if (options.srv) findings.push(...(await srvFindings(options.srv, internal, inventory, query, resolve)))
  // Said first, so that a dead resolver heads the report instead of hiding among its names.
  const silent = watched.silent().map(({resolver, skipped}): DnsFinding => ({message: `not answering: lookups timed out, so ${skipped} more were not sent`, record: `@${resolver}`, severity: 'critical'}))
  return {findings: [...silent, ...findings], views}
}

function publicNameFinding(resolved: Resolved, type: 'A' | 'AAAA', expected: string | undefined, where: string): DnsFinding {
  const got = resolved.addresses
  if (type === 'AAAA' && got.length === 0 && resolved.outcome !== 'answer' && !['servfail', 'timeout', 'refused', 'error'].includes(resolved.outcome)) {
    return expected
      ? {message: `no AAAA record (${resolved.outcome}) although the proxy listens on ${expected}: IPv6 clients fall back to IPv4`, record: where, severity: 'warning'}
      : {message: `no AAAA record (${resolved.outcome}), as the proxy listens on IPv4 only`, record: where, severity: 'ok'}
  }

  if (resolved.outcome !== 'answer') return {message: `does not resolve: ${describe(resolved)}`, record: where, severity: 'critical'}
  if (got.length > 1) return {message: `${got.length} ${type} records (${got.join(', ')}): clients pick one at random, so only ${expected ? `${expected} should be published` : 'one proxy address should be published'}`, record: where, severity: 'critical'}
  if (!expected) return {message: `${got[0]} published but the proxy does not listen on IPv6: IPv6 clients cannot connect`, record: where, severity: 'critical'}
  if (got[0] !== expected) return {message: `${got[0]}, but the proxy listens on ${expected}`, record: where, severity: 'critical'}
  return {message: `${got[0]}, the proxy's address${via(resolved)}${ttl(resolved)}`, record: where, severity: 'ok'}
}

async function srvFindings(
  srv: string,
  resolvers: Resolver[],
  inventory: Inventory,
  query: (resolver: Resolver, name: string, type: QueryType) => Promise<Lookup>,
  resolve: (resolver: Resolver, name: string, type: 'A' | 'AAAA') => Promise<Resolved>,
): Promise<DnsFinding[]> {
  const findings: DnsFinding[] = []
  const jvbs = inventory.shards.flatMap((s) => s.jvbs.map((j) => ({address: j.address.toLowerCase(), id: j.id})))
  for (const resolver of resolvers) {
    const where = `${srv} SRV @${label(resolver)}`
    const lookup = await query(resolver, srv, 'SRV')
    if (lookup.outcome !== 'answer') {
      findings.push({message: `no videobridges published: ${lookup.outcome}${lookup.reason ? ` (${lookup.reason})` : ''}`, record: where, severity: 'warning'})
      continue
    }

    // Targets are names; compare both the name and what it resolves to with the inventory.
    const published = await Promise.all(
      lookup.records
        .filter((r) => r.type === 'SRV')
        .map(async (r) => {
          const target = r.data.split(' ')[3].replace(/\.$/, '').toLowerCase()
          const addresses = ipVersion(target) ? [target] : (await resolve(resolver, target, 'A')).addresses
          return {addresses, line: r.data, target}
        }),
    )
    published.sort((a, b) => a.target.localeCompare(b.target))
    const known = (p: {addresses: string[]; target: string}) => jvbs.find((j) => j.address === p.target || p.addresses.includes(j.address))
    for (const p of published) {
      const jvb = known(p)
      findings.push(jvb ? {message: `${p.target} is ${jvb.id}`, record: where, severity: 'ok'} : {message: `${p.target} (${p.addresses.join(', ') || 'no address'}) is published but not in the inventory`, record: where, severity: 'warning'})
    }

    for (const jvb of jvbs.filter((j) => !published.some((p) => p.target === j.address || p.addresses.includes(j.address)))) {
      findings.push({message: `${jvb.id} (${jvb.address}) is in the inventory but not published`, record: where, severity: 'warning'})
    }
  }

  return findings
}

/** Every hostname (not IP literal) the inventory names, once each, in inventory order. */
export function backendNames(inventory: Inventory): string[] {
  const addresses = [
    ...inventory.web.map((w) => w.address),
    ...inventory.shards.flatMap((s) => [s.prosody.address, s.jicofo.address, ...s.jvbs.map((j) => j.address)]),
    ...inventory.proxy.peers.map((p) => p.address),
  ]
  return [...new Set(addresses.filter((a) => ipVersion(a) === 0).map((a) => a.toLowerCase()))]
}

/** One resolution in a few words: addresses, or why there are none; CNAME hops and problems. */
export function describe(resolved: Resolved): string {
  const chain = resolved.chain.length > 1 ? ` via ${resolved.chain.slice(1).join(' → ')}` : ''
  if (resolved.problem === 'loop') return `CNAME loop: ${resolved.chain.join(' → ')}`
  if (resolved.problem === 'too-deep') return `CNAME chain longer than ${resolved.chain.length - 2} hops: ${resolved.chain.join(' → ')}`
  if (resolved.problem === 'dangling') return `dangling CNAME: ${resolved.chain.join(' → ')} does not exist`
  if (resolved.outcome === 'answer') return `${resolved.addresses.join(', ')}${chain}`
  const last = resolved.lookups.at(-1)
  const negative = last?.negativeTtl === undefined ? '' : `, cached ${last.negativeTtl} s`
  return `${resolved.outcome.toUpperCase()}${last?.reason ? ` (${last.reason})` : ''}${chain}${negative}`
}

const via = (resolved: Resolved) => (resolved.chain.length > 1 ? ` via CNAME ${resolved.chain.slice(1).join(' → ')}` : '')
const ttl = (resolved: Resolved) => (resolved.ttl === undefined ? '' : `, TTL ${resolved.ttl} s`)
