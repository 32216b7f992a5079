import type {Inventory, Jvb} from '../inventory/schema.js'

/** Everything pf.conf.mustache places, pre-formatted. */
export interface PfView {
  domain: string
  macros: string[]
  mediaRules: string[]
  roleRules: string[]
  webRules: string[]
}

/** XMPP client-to-server port: jicofo and the bridges log in to prosody here (not in the inventory: prosody's default). */
export const XMPP_C2S_PORT = 5222

const set = (values: string[]) => `{ ${[...new Set(values)].join(' ')} }`

/**
 * The pf rule that forwards one bridge's public media port to it: UDP to its advertised
 * (public) address and port, redirected to the bridge. None without a media address.
 */
export function jvbMediaRule(jvb: Jvb): string | undefined {
  if (!jvb.media) return undefined
  const {address, port} = jvb.media
  const family = address.includes(':') ? 'inet6' : 'inet'
  return `pass in on egress ${family} proto udp to ${address} port ${port} rdr-to ${jvb.address} port ${port}   # ${jvb.id} media`
}

/**
 * pf rules for the paper's layout, as an anchor: the VMM host redirects 80/443 to the proxy and
 * each bridge's public media port to that bridge, and passes only what each role needs. The
 * proxy host (where jproxy probes from) is `self`.
 */
export function pfView(inventory: Inventory): PfView {
  const {listen} = inventory.proxy
  const jvbs = inventory.shards.flatMap((s) => s.jvbs)
  const proxyAddresses = [listen.ipv4, ...(listen.ipv6 ? [listen.ipv6] : [])]
  const macros = [
    `web = "${set(inventory.web.map((w) => w.address))}"`,
    `xmpp = "${set(inventory.shards.map((s) => s.prosody.address))}"`,
    `jicofo = "${set(inventory.shards.map((s) => s.jicofo.address))}"`,
    ...(jvbs.length > 0 ? [`jvb = "${set(jvbs.map((j) => j.address))}"`] : []),
  ]
  const ports = (values: number[]) => set(values.map(String))
  const webRules = proxyAddresses.map((a) => `pass in on egress ${a.includes(':') ? 'inet6' : 'inet'} proto tcp to (egress) port { ${listen.httpPort} ${listen.httpsPort} } rdr-to ${a}`)
  const roleRules = [
    `pass proto tcp from self to $web port ${ports(inventory.web.map((w) => w.port))}   # proxy -> web, and probes`,
    `pass proto tcp from { self $web } to $xmpp port ${ports(inventory.shards.map((s) => s.prosody.port))}   # proxy and web -> BOSH/XMPP websocket`,
    `pass proto tcp from { $jicofo${jvbs.length > 0 ? ' $jvb' : ''} } to $xmpp port ${XMPP_C2S_PORT}   # jicofo and bridges log in to prosody`,
    `pass proto tcp from self to $jicofo port ${ports(inventory.shards.map((s) => s.jicofo.port))}   # proxy -> jicofo, and probes`,
    ...(jvbs.length > 0
      ? [
          `pass proto tcp from self to $jvb port ${ports(jvbs.map((j) => j.restPort))}   # probes and drain -> bridge REST`,
          ...(inventory.colibriWs ? [`pass proto tcp from self to $jvb port ${ports(jvbs.map((j) => j.colibriPort))}   # proxy -> colibri websockets`] : []),
        ]
      : []),
  ]
  return {
    domain: inventory.domain,
    macros,
    mediaRules: jvbs.map((j) => jvbMediaRule(j) ?? `# ${j.id}: no media address in the inventory, so no media redirect`),
    roleRules,
    webRules,
  }
}
