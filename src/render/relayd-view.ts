import {JproxyError} from '../errors.js'
import type {Inventory} from '../inventory/schema.js'
import {type RelaydCheckRole, relaydCheckScriptPath} from '../probe/relayd-check-script.js'

/** Everything relayd.conf.mustache places, pre-formatted. */
export interface RelaydView {
  colibriRules: string[]
  domain: string
  globals: string[]
  httpsPort: number
  macros: string[]
  relays: Array<{name: string; options: string[]}>
  routeRules: string[]
  tables: string[]
}

const HTTPS = 'jitsi_https'
const HTTP = 'jitsi_http'

/**
 * Builds the relayd.conf view-model. Order follows relayd's own rules: macros and globals
 * before the first section (the first parse pass stops there), tables before the protocol
 * that forwards to them, protocols before the relays that use them.
 */
export function relaydView(inventory: Inventory): RelaydView {
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

  relays.push({
    name: HTTP,
    options: [
      `listen on $ext_addr port ${proxy.listen.httpPort}`,
      ...(v6 ? [`listen on $ext_addr6 port ${proxy.listen.httpPort}`] : []),
      `protocol "${HTTP}"`,
      `forward to <web> port ${webPort} check http "/" code 200`,
    ],
  })

  return {
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
    macros: [`ext_addr = "${proxy.listen.ipv4}"`, ...(v6 ? [`ext_addr6 = "${proxy.listen.ipv6}"`] : [])],
    relays,
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
    ],
  }
}

/** The relayd table of one JVB's colibri websocket port. */
export function colibriTable(id: string): string {
  return `colibri-${id}`
}

/** relayd forwards a whole table to one port, so every member must listen on the same one. */
function samePort(ports: number[], field: string): number {
  const distinct = [...new Set(ports)]
  if (distinct.length > 1) {
    throw new JproxyError('renderFailed', `${field}: relayd forwards a table to one port, but the inventory uses ${distinct.join(', ')}`)
  }

  return distinct[0]
}
