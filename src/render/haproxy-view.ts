
import {JproxyError} from '../errors.js'
import {formatDuration} from '../inventory/duration.js'
import type {Inventory, Shard} from '../inventory/schema.js'
import {ipVersion} from '../system/ip.js'
import {ALLOW_LIST_ANCHOR, colibriServer, serverAddress, SHARD_WEIGHT, shardCheckBackend, shardServerId, SINGLE_PEER_NAME} from '../haproxy/vocabulary.js'
import {COLIBRI_PREFIXES, JICOFO_PATHS, PROSODY_PATHS, SIGNALING_PATHS} from './signaling.js'
import {hostPort} from '../inventory/host-port.js'
import {bareContext, PRIVILEGE_DEFAULTS, type RenderContext} from './context.js'
import {snippetLines} from './snippets.js'

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
  /** `localpeer NAME` in global: the peer name is known at render time (single proxy, or targets.haproxy.localPeer). */
  localPeer?: string
  log: string
  maxconnGlobal?: number
  maxconnHttp?: number
  maxconnHttps?: number
  /** HAProxy's Prometheus exporter on its own listener. */
  metrics?: {bind: string; path: string}
  peers: {lines: string[]}
  prosodyPaths: string
  prosodyServers: string[]
  /** One health-check backend per shard: prosody and jicofo both answer, or the shard is down for both backends. */
  shardChecks: Array<{backend: string; lines: string[]; shard: string}>
  signalingPaths: string
  /** Operator lines per slot, between marker comments. */
  snippetBackends: string[]
  snippetDefaults: string[]
  snippetFrontendHttp: string[]
  snippetFrontendHttps: string[]
  snippetGlobal: string[]
  socket: string
  /** The admin socket's owner and mode: the group may use status, scale and probe without root. */
  socketAccess: string
  stateFile: string
  /** `http-response set-header Strict-Transport-Security …`, when HSTS is on. */
  hsts?: string
  stick: {expire: string; size: number}
  timeoutCheck: string
  /** TURN over TLS on the https port: a TCP frontend reads the SNI and splits coturn from HTTPS. */
  tlsSplit?: {binds: string[]; httpsServer: string; sni: string; turnServer: string}
  user?: string
  webServers: string[]
}

/** Builds the haproxy.cfg view-model; throws renderFailed for inventories HAProxy cannot serve. */
export function haproxyView(inventory: Inventory, context: RenderContext = bareContext()): HaproxyView {
  const {health, proxy, targets} = inventory
  const haproxy = targets.haproxy
  // Unset takes the platform package's account and chroot; `false` leaves the line out.
  const privileges = PRIVILEGE_DEFAULTS[context.platform]
  const chroot = haproxy.chroot === false ? undefined : (haproxy.chroot ?? privileges.chroot)
  const group = haproxy.group === false ? undefined : (haproxy.group ?? privileges.group)
  const user = haproxy.user === false ? undefined : (haproxy.user ?? privileges.user)
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
  const tls = `ssl crt ${certificate} alpn h2,http/1.1`
  const publicHttps = listenAddresses(inventory).map((a) => `${a}:${proxy.listen.httpsPort}`)
  const loopback = proxy.turn ? httpsLoopback(context, chroot) : undefined
  const {hsts} = proxy
  return {
    // No health check: certbot's standalone server listens only while certbot runs, and a DOWN
    // server would answer the CA with 503 for the seconds the check needs to see it up.
    acme: proxy.acme ? {server: `server acme ${serverAddress(proxy.acme.backend.address, proxy.acme.backend.port)}`} : undefined,
    bindsHttp: listenAddresses(inventory).map((a) => `${a}:${proxy.listen.httpPort}`),
    bindsHttps: loopback ? [`${loopback.bind} accept-proxy ${tls}`] : publicHttps.map((a) => `${a} ${tls}`),
    chroot,
    // A fleet renders the backend and the allow-list (its anchor entry) with no bridge at all: its
    // agents add the registered bridges at run time, so the first one needs no reload.
    colibri:
      inventory.colibriWs && (jvbs.length > 0 || inventory.fleet)
        ? {
            jvbIds: [...jvbs.map((jvb) => jvb.id), ...(inventory.fleet ? [ALLOW_LIST_ANCHOR] : [])],
            prefixes: COLIBRI_PREFIXES.join(' '),
            servers: jvbs.map((jvb) => `server ${colibriServer(jvb, inventory)}`),
          }
        : undefined,
    crt: certificate,
    domain: inventory.domain,
    group,
    hsts: hsts
      ? `http-response set-header Strict-Transport-Security "max-age=${hsts.maxAge}${hsts.includeSubDomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}"`
      : undefined,
    hardStopAfter: formatDuration(haproxy.hardStopAfter),
    httpsOrigin: `https://${inventory.domain}${proxy.listen.httpsPort === 443 ? '' : `:${proxy.listen.httpsPort}`}`,
    jicofoPaths: pathAlternation(JICOFO_PATHS),
    jicofoServers: inventory.shards.map((s) => shardServer(s, s.jicofo.address, s.jicofo.port)),
    localPeer: haproxy.localPeer ?? (proxy.peers.length === 0 ? SINGLE_PEER_NAME : undefined),
    log: `${haproxy.logTarget} ${haproxy.logFacility}`,
    maxconnGlobal: proxy.maxconn.global,
    maxconnHttp: proxy.maxconn.http,
    maxconnHttps: proxy.maxconn.https,
    metrics: proxy.metrics ? {bind: hostPort(proxy.metrics.listen.address, proxy.metrics.listen.port), path: proxy.metrics.path} : undefined,
    peers: {
      lines:
        proxy.peers.length > 0
          ? proxy.peers.map((p) => `peer ${p.name} ${hostPort(p.address, p.port)}`)
          : [`peer ${haproxy.localPeer ?? SINGLE_PEER_NAME} ${hostPort('127.0.0.1', haproxy.localPeerPort)}`],
    },
    prosodyPaths: pathAlternation(PROSODY_PATHS),
    prosodyServers: inventory.shards.map((s) => shardServer(s, s.prosody.address, s.prosody.port)),
    shardChecks: inventory.shards.map((s) => ({backend: shardCheckBackend(s.name), lines: shardCheckLines(s, check), shard: s.name})),
    signalingPaths: pathAlternation(SIGNALING_PATHS),
    snippetBackends: snippetLines('backends', context.snippets.backends),
    snippetDefaults: snippetLines('defaults', context.snippets.defaults),
    snippetFrontendHttp: snippetLines('frontendHttp', context.snippets.frontendHttp),
    snippetFrontendHttps: snippetLines('frontendHttps', context.snippets.frontendHttps),
    snippetGlobal: snippetLines('global', context.snippets.global),
    socket: haproxy.socket,
    socketAccess: group ? `mode 660 group ${group}` : 'mode 660',
    stateFile: haproxy.stateFile,
    stick: {expire: formatDuration(proxy.stickExpiry), size: proxy.stickSize},
    timeoutCheck: formatDuration(health.timeout),
    tlsSplit:
      proxy.turn && loopback
        ? {binds: publicHttps, httpsServer: `${loopback.server} send-proxy-v2`, sni: proxy.turn.sni, turnServer: `coturn ${proxy.turn.backend} check`}
        : undefined,
    user,
    webServers: inventory.web.map((w) => `server ${w.name} ${serverAddress(w.address, w.port)} ${check}`),
  }
}

/**
 * A shard's server in be_prosody or be_jicofo: the same id and weight in both (one ring), weight 0
 * while the shard drains (no new rooms; its stick entries still route, which `disabled` would
 * not do), and the shard's one health verdict by `track`.
 */
function shardServer(shard: Shard, address: string, port: number): string {
  const weight = shard.state === 'drain' ? 0 : SHARD_WEIGHT
  return `server ${shard.name} ${serverAddress(address, port)} id ${shardServerId(shard.name)} weight ${weight} track ${shardCheckBackend(shard.name)}/${shard.name}`
}

/**
 * The check of a shard as one multi-step HTTP check: prosody's BOSH, then jicofo's health. jicofo
 * is reached on the prosody host's address unless it has an address of its own, which a check
 * step can only take as an IP literal.
 */
function shardCheckLines(shard: Shard, check: string): string[] {
  const {jicofo, prosody} = shard
  let jicofoConnect: string
  if (jicofo.address.toLowerCase() === prosody.address.toLowerCase()) jicofoConnect = `http-check connect port ${jicofo.port}`
  // An IPv6 literal needs brackets here: HAProxy reads the last colon as a port separator.
  else if (ipVersion(jicofo.address) !== 0) jicofoConnect = `http-check connect addr ${ipVersion(jicofo.address) === 6 ? `[${jicofo.address}]` : jicofo.address} port ${jicofo.port}`
  else throw new JproxyError('renderFailed', `shards: ${shard.name}: jicofo.address ${jicofo.address} must be an IP address or the prosody host (HAProxy's check of a second host takes an IP)`)
  return [
    'option httpchk',
    'http-check connect',
    'http-check send meth GET uri /http-bind',
    'http-check expect status 200',
    jicofoConnect,
    'http-check send meth GET uri /about/health',
    'http-check expect status 200',
    `server ${shard.name} ${serverAddress(prosody.address, prosody.port)} ${check}`,
  ]
}

/**
 * Where the TLS splitter hands HTTPS connections to the HTTPS frontend. Linux has abstract
 * sockets (no file, nothing for the chroot to hide); elsewhere a unix socket inside the chroot,
 * which the master binds by its full path and the chrooted worker reaches by the inner one.
 */
function httpsLoopback(context: RenderContext, chroot: string | undefined): {bind: string; server: string} {
  if (context.platform === 'debian') return {bind: 'abns@jproxy-https', server: 'abns@jproxy-https'}
  const inner = '/jproxy-https.sock'
  return chroot ? {bind: `unix@${chroot}${inner}`, server: `unix@${inner}`} : {bind: `unix@/var/run${inner}`, server: `unix@/var/run${inner}`}
}

function listenAddresses(inventory: Inventory): string[] {
  const {ipv4, ipv6} = inventory.proxy.listen
  return ipv6 ? [ipv4, `[${ipv6}]`] : [ipv4]
}

/** A regex alternation of literal paths: `(http-bind|xmpp-websocket|_api/room-info)`. */
function pathAlternation(paths: readonly string[]): string {
  return `(${paths.map((p) => p.replaceAll('.', String.raw`\.`)).join('|')})`
}
