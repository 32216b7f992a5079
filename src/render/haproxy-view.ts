import {isIP} from 'node:net'

import {JproxyError} from '../errors.js'
import {formatDuration} from '../inventory/duration.js'
import type {Inventory, Jvb} from '../inventory/schema.js'
import {shardServerId} from './server-id.js'
import {COLIBRI_PREFIXES, JICOFO_PATHS, PROSODY_PATHS, SIGNALING_PATHS} from './signaling.js'
import {hostPort} from '../inventory/host-port.js'

/** Everything haproxy.cfg.mustache places, pre-formatted. */
export interface HaproxyView {
  /** proxy.acme: the ACME client's server line, when challenges go to it instead of the web nodes. */
  acme?: {server: string}
  bindsHttp: string[]
  bindsHttps: string[]
  chroot?: string
  colibri?: {jvbIds: string[]; prefixes: string; servers: string[]}
  crt: string
  domain: string
  group?: string
  hardStopAfter: string
  /** Where plain-HTTP requests are redirected: the public name, with the port when not 443. */
  httpsOrigin: string
  jicofoPaths: string
  jicofoServers: string[]
  log: string
  peers?: {lines: string[]}
  prosodyPaths: string
  prosodyServers: string[]
  signalingPaths: string
  socket: string
  stateFile: string
  stickTable: boolean
  timeoutCheck: string
  user?: string
  webServers: string[]
}

/** The name of the peers section, when the inventory lists proxy peers. */
export const PEERS_SECTION = 'jproxy'

/** Builds the haproxy.cfg view-model; throws renderFailed for inventories HAProxy cannot serve. */
export function haproxyView(inventory: Inventory): HaproxyView {
  const {health, proxy, targets} = inventory
  const haproxy = targets.haproxy
  const {certificate, key} = proxy.tls
  // HAProxy's `crt` takes the key from the same PEM or from `<crt>.key` beside it; nothing else.
  if (key !== certificate && key !== `${certificate}.key`) {
    throw new JproxyError('renderFailed', `proxy.tls.key: HAProxy loads the key from the certificate file or from ${certificate}.key, not ${key}`)
  }

  const check = `check inter ${formatDuration(health.interval)} rise ${health.rise} fall ${health.fall}`
  const ids = new Map<number, string>()
  for (const shard of inventory.shards) {
    const id = shardServerId(shard.name)
    const other = ids.get(id)
    if (other !== undefined) throw new JproxyError('renderFailed', `shards: ${shard.name} and ${other} hash to the same HAProxy server id ${id}; rename one`)
    ids.set(id, shard.name)
  }

  const jvbs = inventory.shards.flatMap((shard) => shard.jvbs)
  return {
    // No health check: certbot's standalone server listens only while certbot runs, and a DOWN
    // server would answer the CA with 503 for the seconds the check needs to see it up.
    acme: proxy.acme ? {server: `server acme ${serverAddress(proxy.acme.backend.address, proxy.acme.backend.port)}`} : undefined,
    bindsHttp: listenAddresses(inventory).map((a) => `${a}:${proxy.listen.httpPort}`),
    bindsHttps: listenAddresses(inventory).map((a) => `${a}:${proxy.listen.httpsPort} ssl crt ${certificate} alpn h2,http/1.1`),
    chroot: haproxy.chroot,
    colibri:
      inventory.colibriWs && jvbs.length > 0
        ? {
            jvbIds: jvbs.map((jvb) => jvb.id),
            prefixes: COLIBRI_PREFIXES.join(' '),
            servers: jvbs.map((jvb) => `server ${colibriServer(jvb, inventory)}`),
          }
        : undefined,
    crt: certificate,
    domain: inventory.domain,
    group: haproxy.group,
    hardStopAfter: formatDuration(haproxy.hardStopAfter),
    httpsOrigin: `https://${inventory.domain}${proxy.listen.httpsPort === 443 ? '' : `:${proxy.listen.httpsPort}`}`,
    jicofoPaths: pathAlternation(JICOFO_PATHS),
    jicofoServers: inventory.shards.map((s) => `server ${s.name} ${serverAddress(s.jicofo.address, s.jicofo.port)} id ${shardServerId(s.name)} ${check}`),
    log: `${haproxy.logTarget} ${haproxy.logFacility}`,
    peers: proxy.peers.length > 0 ? {lines: proxy.peers.map((p) => `peer ${p.name} ${hostPort(p.address, p.port)}`)} : undefined,
    prosodyPaths: pathAlternation(PROSODY_PATHS),
    prosodyServers: inventory.shards.map((s) => `server ${s.name} ${serverAddress(s.prosody.address, s.prosody.port)} id ${shardServerId(s.name)} ${check}`),
    signalingPaths: pathAlternation(SIGNALING_PATHS),
    socket: haproxy.socket,
    stateFile: haproxy.stateFile,
    stickTable: proxy.peers.length > 0,
    timeoutCheck: formatDuration(health.timeout),
    user: haproxy.user,
    webServers: inventory.web.map((w) => `server ${w.name} ${serverAddress(w.address, w.port)} ${check}`),
  }
}

/**
 * A server's `address:port`. A hostname also gets `init-addr last,libc,none`: HAProxy refuses
 * to start when a server name does not resolve, and one dead DNS name must not take the
 * whole proxy down; such a server starts in maintenance and its health check decides.
 */
/** A videobridge's colibri-ws server as haproxy.cfg and the runtime API's `add server` both take it: `ID ADDR:PORT check … port REST`. */
export function colibriServer(jvb: Jvb, inventory: Inventory): string {
  const {health} = inventory
  return `${jvb.id} ${serverAddress(jvb.address, jvb.colibriPort)} check inter ${formatDuration(health.interval)} rise ${health.rise} fall ${health.fall} port ${jvb.restPort}`
}

function serverAddress(address: string, port: number): string {
  return isIP(address) === 0 ? `${hostPort(address, port)} init-addr last,libc,none` : hostPort(address, port)
}

function listenAddresses(inventory: Inventory): string[] {
  const {ipv4, ipv6} = inventory.proxy.listen
  return ipv6 ? [ipv4, `[${ipv6}]`] : [ipv4]
}

/** A regex alternation of literal paths: `(http-bind|xmpp-websocket|_api/room-info)`. */
function pathAlternation(paths: readonly string[]): string {
  return `(${paths.map((p) => p.replaceAll('.', String.raw`\.`)).join('|')})`
}
