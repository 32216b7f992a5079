import {randomBytes} from 'node:crypto'
import type {Dispatcher} from 'undici'

import {ipVersion} from '../system/ip.js'
import {type Exchange, httpExchange} from './http-exchange.js'
import type {CheckResult, Health, ProbeResult, ProbeTarget} from './model.js'
import type {RunDeadline} from '../system/run-deadline.js'
import {tcpConnect} from './tcp-connect.js'

/** What every probe of a run shares: dispatchers, limits and the inventory's probe settings. */
export interface ProbeContext {
  deadline?: RunDeadline
  /** The public name: Host header for prosody and the proxy, SNI for the proxy. */
  domain: string
  /** Plain HTTP to backends. */
  http: Dispatcher
  /** TLS to the proxy, verifying the certificate for `domain`. */
  https: Dispatcher
  jvbStats: boolean
  maxBytes: number
  timeoutMs: number
  webPath: string
}

const origin = (scheme: 'http' | 'https', address: string, port: number) => `${scheme}://${ipVersion(address) === 6 ? `[${address}]` : address}:${port}`

/** Probes one backend the way its role needs; never throws, every failure is a reason. */
export async function probeTarget(target: ProbeTarget, context: ProbeContext): Promise<ProbeResult> {
  switch (target.role) {
    case 'jicofo': {
      const health = await get(target, context, 'health', '/about/health')
      const verdict: Health = health.status === 200 ? 'up' : health.status === 503 ? 'transitional' : 'down'
      return result(target, verdict, [health], health)
    }

    case 'jvb': {
      return probeJvb(target, context)
    }

    case 'prosody': {
      const [bosh, websocket] = await Promise.all([
        get(target, context, 'bosh', '/http-bind', {host: context.domain}),
        check('websocket', 101, httpExchange(context.http, {
          ...limits(context),
          headers: {host: context.domain, 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'xmpp', 'sec-websocket-version': '13'},
          origin: origin('http', target.address, target.port),
          path: '/xmpp-websocket',
          upgrade: 'websocket',
        })),
      ])
      return result(target, bosh.ok && websocket.ok ? 'up' : 'down', [bosh, websocket], bosh)
    }

    case 'proxy': {
      const bosh = await check('bosh', 200, httpExchange(context.https, {...limits(context), headers: {host: context.domain}, origin: origin('https', target.address, target.port), path: '/http-bind'}))
      return result(target, bosh.ok ? 'up' : 'down', [bosh], bosh)
    }

    case 'web': {
      const page = await check('page', '2xx', httpExchange(context.http, {...limits(context), origin: origin('http', target.address, target.port), path: context.webPath}))
      return result(target, page.ok ? 'up' : 'down', [page], page)
    }
  }
}

/** Health on the REST port decides; drain and participants are read beside it; colibri-ws must accept connections. */
async function probeJvb(target: ProbeTarget, context: ProbeContext): Promise<ProbeResult> {
  const drainExchange = httpExchange(context.http, {...limits(context), origin: origin('http', target.address, target.port), path: '/colibri/drain'})
  const statsExchange = context.jvbStats ? httpExchange(context.http, {...limits(context), origin: origin('http', target.address, target.port), path: '/colibri/stats'}) : undefined
  const colibriConnect = target.colibriPort === undefined ? undefined : tcpConnect(target.address, target.colibriPort, {deadline: context.deadline, timeoutMs: context.timeoutMs})
  const [health, drain, stats, colibri] = await Promise.all([get(target, context, 'health', '/about/health'), drainExchange, statsExchange, colibriConnect])

  const checks = [health]
  let verdict: Health = health.ok ? 'up' : 'down'
  if (colibri) {
    checks.push({latencyMs: colibri.latencyMs, name: 'colibri-ws', ok: colibri.ok, reason: colibri.ok ? `port ${target.colibriPort} accepts connections` : `port ${target.colibriPort}: ${colibri.reason}`})
    if (!colibri.ok) verdict = 'down'
  }

  const probe = result(target, verdict, checks, health)
  const drainState = readJson(drain, (json) => (typeof json.drain === 'boolean' ? json.drain : undefined))
  if (drainState !== undefined) probe.drain = drainState
  const participants = stats && readJson(stats, (json) => (typeof json.participants === 'number' ? json.participants : undefined))
  if (participants !== undefined) probe.participants = participants
  return probe
}

function limits(context: ProbeContext) {
  return {deadline: context.deadline, maxBytes: context.maxBytes, timeoutMs: context.timeoutMs}
}

function get(target: ProbeTarget, context: ProbeContext, name: string, path: string, headers?: Record<string, string>): Promise<CheckResult> {
  return check(name, 200, httpExchange(context.http, {...limits(context), headers, origin: origin('http', target.address, target.port), path}))
}

/** Turns an exchange into a check expecting `expected` (a status, or any 2xx). */
async function check(name: string, expected: '2xx' | number, pending: Promise<Exchange>): Promise<CheckResult> {
  const exchange = await pending
  if (!exchange.ok) return {latencyMs: exchange.latencyMs, name, ok: false, reason: exchange.reason, ...(exchange.untrustedCa ? {untrustedCa: true} : {})}
  const ok = expected === '2xx' ? exchange.status >= 200 && exchange.status < 300 : exchange.status === expected
  const redirect = exchange.status >= 300 && exchange.status < 400 ? ` to ${String(exchange.headers.location ?? '?')} (redirects are not followed)` : ''
  return {latencyMs: exchange.latencyMs, name, ok, reason: `HTTP ${exchange.status}${redirect}${ok ? '' : `, expected ${expected}`}`, status: exchange.status}
}

function result(target: ProbeTarget, health: Health, checks: CheckResult[], deciding: CheckResult): ProbeResult {
  const failed = checks.filter((c) => !c.ok)
  const reason = failed.length === 0 ? checks.map((c) => `${c.name} ${c.reason}`).join(', ') : failed.map((c) => `${c.name}: ${c.reason}`).join('; ')
  return {
    ...target,
    checks,
    health,
    ...(deciding.status === undefined ? {} : {httpStatus: deciding.status}),
    latencyMs: Math.max(...checks.map((c) => c.latencyMs)),
    reason,
  }
}

function readJson<T>(exchange: Exchange, pick: (json: Record<string, unknown>) => T | undefined): T | undefined {
  if (!exchange.ok || exchange.status !== 200 || exchange.truncated) return undefined
  try {
    const json: unknown = JSON.parse(exchange.body)
    return json !== null && typeof json === 'object' ? pick(json as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
