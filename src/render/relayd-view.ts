import {JproxyError} from '../errors.js'
import type {Inventory} from '../inventory/schema.js'
import {type RelaydCheckRole, relaydCheckScriptPath} from '../probe/relayd-check-script.js'
import {bareContext, type RelaydSnippetSlot, type RenderContext} from './context.js'

/** Everything relayd.conf.mustache places, pre-formatted. */
export interface RelaydView {
  /** proxy.acme: the plain-HTTP protocol's rule sending ACME challenges to the ACME client. */
  acmeRules: string[]
  colibriRules: string[]
  domain: string
  globals: string[]
  httpsPort: number
  macros: string[]
  relays: Array<{name: string; options: string[]}>
  /** Header rules on HTTPS answers (HSTS). */
  responseRules: string[]
  /** `include "FILE"` lines per slot, with a marker comment naming the slot. */
  snippetGlobals: string[]
  snippetProtocolHttps: string[]
  snippetRelays: string[]
  snippetTables: string[]
  routeRules: string[]
  tables: string[]
}

const HTTPS = 'jitsi_https'
const HTTP = 'jitsi_http'
const ACME_TABLE = 'acme'
const ACME_PATH = '/.well-known/acme-challenge/'

/**
 * Builds the relayd.conf view-model. Order follows relayd's own rules: macros and globals
 * before the first section (the first parse pass stops there), tables before the protocol
 * that forwards to them, protocols before the relays that use them.
 */
export function relaydView(inventory: Inventory, context: RenderContext = bareContext()): RelaydView {
  const {health, proxy} = inventory
  const retry = health.fall > 1 ? ` retry ${health.fall - 1}` : ''
  const table = (name: string, addresses: string[]) => `table <${name}> { ${addresses.map((a) => `${a}${retry}`).join(', ')} }`
  const webPort = samePort(inventory.web.map((w) => w.port), 'web[*].port')
  const prosodyPort = samePort(inventory.shards.map((s) => s.prosody.port), 'shards[*].prosody.port')
  const jicofoPort = samePort(inventory.shards.map((s) => s.jicofo.port), 'shards[*].jicofo.port')
  const jvbs = inventory.colibriWs ? inventory.shards.flatMap((s) => s.jvbs) : []

  // relayd's hash is plain modulo over the table: prosody and jicofo tables list the shards in
  // one order and share one fixed key, so a room picks the same shard index in both and on
  // every relayd rendered from this inventory. One shard needs no hashing at all.
  const hashed = inventory.shards.length > 1
  const mode = hashed ? ` mode hash "jproxy:${inventory.domain}"` : ''
  // probe.relaydChecks: the role checks relayd cannot express (BOSH + websocket, jicofo's 503,
  // JVB health on the REST port) come from the watcher's verdicts through a check script.
  const script = (role: RelaydCheckRole, plain: string) =>
    inventory.probe.relaydChecks ? `check script "${relaydCheckScriptPath(inventory.probe.relaydCheckDir, role)}"` : plain
  const forwards = [
    `forward to <web> port ${webPort} check http "/" code 200`,
    `forward to <prosody> port ${prosodyPort}${mode} ${script('prosody', 'check http "/http-bind" code 200')}`,
    `forward to <jicofo> port ${jicofoPort}${mode} ${script('jicofo', 'check http "/about/health" code 200')}`,
    ...jvbs.map((jvb) => `forward to <${colibriTable(jvb.id)}> port ${jvb.colibriPort} ${script('jvb', 'check tcp')}`),
  ]

  const v6 = proxy.listen.ipv6 !== undefined
  const acme = proxy.acme?.backend
  const relays: RelaydView['relays'] = [
    {
      name: HTTPS,
      options: [
        `listen on $ext_addr port ${proxy.listen.httpsPort} tls`,
        // hash mixes the listen address into the key, so a second family on a hashed relay would
        // send v4 and v6 members of one room to different shards (relayd.md §2.2).
        ...(v6 && !hashed ? [`listen on $ext_addr6 port ${proxy.listen.httpsPort} tls`] : []),
        `protocol "${HTTPS}"`,
        '# websockets (XMPP, colibri) stay open for the whole meeting',
        'session timeout 3600',
        ...forwards,
      ],
    },
  ]
  if (v6 && hashed) {
    relays.push({
      name: `${HTTPS}6`,
      options: [
        '# IPv6 clients are passed through to the IPv4 listener, so both families hash alike',
        `listen on $ext_addr6 port ${proxy.listen.httpsPort}`,
        `forward to $ext_addr port ${proxy.listen.httpsPort}`,
        'session timeout 3600',
      ],
    })
  }

  // relayd cannot split one port by TLS SNI, so TURN gets a plain TCP relay on an address of its own.
  const turn = proxy.turn
  const turnBackend = turn ? splitHostPort(turn.backend) : undefined
  if (turn?.relaydAddress && turnBackend) {
    relays.push({
      name: 'turn',
      options: [
        `# TURN over TLS (${turn.sni}) passes through untouched: coturn terminates TLS itself`,
        `listen on $turn_addr port ${proxy.listen.httpsPort}`,
        `forward to <turn> port ${turnBackend.port} check tcp`,
        'session timeout 3600',
      ],
    })
  }

  relays.push({
    name: HTTP,
    options: [
      `listen on $ext_addr port ${proxy.listen.httpPort}`,
      ...(v6 ? [`listen on $ext_addr6 port ${proxy.listen.httpPort}`] : []),
      `protocol "${HTTP}"`,
      `forward to <web> port ${webPort} check http "/" code 200`,
      // No check (the table is then always up): the ACME client listens only while it runs.
      ...(acme ? [`forward to <${ACME_TABLE}> port ${acme.port}`] : []),
    ],
  })

  return {
    acmeRules: acme ? [`match request path "${ACME_PATH}*" forward to <${ACME_TABLE}>`] : [],
    colibriRules: jvbs.flatMap((jvb) =>
      ['colibri-ws', 'colibri-relay-ws'].map((prefix) => `pass request path "/${prefix}/${jvb.id}/*" forward to <${colibriTable(jvb.id)}>`),
    ),
    domain: inventory.domain,
    globals: [
      `interval ${health.interval / 1000}`,
      `timeout ${health.timeout}`,
      `prefork ${inventory.targets.relayd.prefork}`,
      'log state changes',
      'log connection errors',
    ],
    httpsPort: proxy.listen.httpsPort,
    macros: [
      `ext_addr = "${proxy.listen.ipv4}"`,
      ...(v6 ? [`ext_addr6 = "${proxy.listen.ipv6}"`] : []),
      ...(turn?.relaydAddress ? [`turn_addr = "${turn.relaydAddress}"`] : []),
      ...(turn && !turn.relaydAddress ? [`# TURN (${turn.sni}) is not relayed: relayd cannot split one port by SNI; set proxy.turn.relaydAddress`] : []),
    ],
    relays,
    snippetGlobals: includes(context, 'globals'),
    snippetProtocolHttps: includes(context, 'protocolHttps'),
    snippetRelays: includes(context, 'relays'),
    snippetTables: includes(context, 'tables'),
    responseRules: proxy.hsts
      ? [`match response header set "Strict-Transport-Security" value "max-age=${proxy.hsts.maxAge}${proxy.hsts.includeSubDomains ? '; includeSubDomains' : ''}${proxy.hsts.preload ? '; preload' : ''}"`]
      : [],
    routeRules: [
      'match request path "/http-bind" forward to <prosody>',
      'match request path "/xmpp-websocket" forward to <prosody>',
      'match request path "/conference-request/v1" forward to <jicofo>',
    ],
    tables: [
      table('web', inventory.web.map((w) => w.address)),
      table('prosody', inventory.shards.map((s) => s.prosody.address)),
      table('jicofo', inventory.shards.map((s) => s.jicofo.address)),
      ...jvbs.map((jvb) => table(colibriTable(jvb.id), [jvb.address])),
      ...(acme ? [`table <${ACME_TABLE}> { ${acme.address} }`] : []),
      ...(turn?.relaydAddress && turnBackend ? [table('turn', [turnBackend.host])] : []),
    ],
  }
}

/** The relayd table of one JVB's colibri websocket port. */
export function colibriTable(id: string): string {
  return `colibri-${id}`
}

/** The operator's files for one slot as relayd `include` lines (schema-checked paths: no quotes). */
function includes(context: RenderContext, slot: RelaydSnippetSlot): string[] {
  return context.relaydSnippets[slot].map((s) => `include "${s.file}"`)
}

/** `host:port` or `[v6]:port` into its parts. */
function splitHostPort(value: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)!
  return {host: match[1] ?? match[2], port: Number(match[3])}
}

/** relayd forwards a whole table to one port, so every member must listen on the same one. */
function samePort(ports: number[], field: string): number {
  const distinct = [...new Set(ports)]
  if (distinct.length > 1) {
    throw new JproxyError('renderFailed', `${field}: relayd forwards a table to one port, but the inventory uses ${distinct.join(', ')}`)
  }

  return distinct[0]
}
