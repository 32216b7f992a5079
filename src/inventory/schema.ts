import {ipVersion} from '../system/ip.js'
import {parseDuration} from './duration.js'
import {parseIpPort} from './host-port.js'
import * as z from './zod.js'

/*
 * Every string that can reach a rendered config is constrained here, before any template sees it:
 * a value that would add a line, close a block or start a comment in relayd.conf, haproxy.cfg
 * or pf.conf is an error that names its field, never a line in a file.
 */

/** Unicode control (C0, DEL, C1 such as NEL), format (bidi overrides) and line/paragraph separator characters. */
const CONTROL_CHARACTERS = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u

/**
 * Every string field of the inventory starts here: none of these characters can reach a config,
 * a log line or a terminal, whatever the field's own pattern allows.
 */
const text = () => z.string().check(z.regex(CONTROL_CHARACTERS, {abort: true, message: 'must not contain control characters or line separators'}))

/** Names of nodes, shards, JVB server-ids and peers: one token, safe in every target's grammar. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
/** relayd table names are `<prefix-NAME>:PORT` and must stay under 64 characters. */
export const NAME_MAX = 40

const name = text().check(
  z.maxLength(NAME_MAX, `must be at most ${NAME_MAX} characters`),
  z.regex(NAME_PATTERN, 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"'),
)

const HOSTNAME_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

/** True for a DNS hostname: dot-separated labels of letters, digits and inner hyphens. */
export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false
  const labels = value.replace(/\.$/, '').split('.')
  // An all-numeric last label would make "300.1.1.1" a hostname; it is a broken IP literal instead.
  if (/^\d+$/.test(labels.at(-1) ?? '')) return false
  return labels.every((label) => HOSTNAME_LABEL.test(label))
}

/*
 * `.meta({pattern})` feeds only the JSON Schema editors read (schema/inventory.schema.json): a
 * loose superset of what the refinement accepts, so an editor flags what zod would refuse,
 * never what zod accepts. zod's own check is the refinement.
 */
const IP_CHARS = '^[0-9A-Za-z:.%_-]+$'
const HOST_PORT_CHARS = '^(\\[[0-9A-Za-z:.%_-]+\\]|[0-9A-Za-z.%_-]+):\\d{1,5}$'
const ipv4 = text().check(z.refine((v) => ipVersion(v) === 4, 'must be an IPv4 address'), z.meta({pattern: '^[0-9.]+$'}))
const ipv6 = text().check(z.refine((v) => ipVersion(v) === 6, 'must be an IPv6 address'), z.meta({pattern: IP_CHARS}))
const address = text().check(
  z.refine((v) => ipVersion(v) !== 0 || isHostname(v), 'must be an IP address or a hostname'),
  z.meta({pattern: IP_CHARS}),
)

const domain = text().check(
  z.refine((v) => isHostname(v) && v.includes('.'), 'must be a fully qualified domain name'),
  z.meta({pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+\\.?$'}),
)

const port = z.number().check(z.int('must be a whole number'), z.gte(1, 'must be 1..65535'), z.lte(65_535, 'must be 1..65535'))

// eslint-disable-next-line no-control-regex
const SAFE_PATH_CHARS = /^[^\s"'`#{};\\\u0000-\u001F\u007F]*$/

/** Absolute paths free of whitespace, quotes, `#`, braces, `;`, backslashes and control characters. */
const absolutePath = text().check(
  z.regex(/^\//, 'must be an absolute path'),
  z.regex(SAFE_PATH_CHARS, 'must not contain whitespace, quotes, "#", braces, ";", "\\" or control characters'),
)

const SYSLOG_FACILITIES = ['daemon', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'user'] as const

/** `address:port` or `[v6]:port`, the way HAProxy writes network log targets. */
function isHostPort(value: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value)
  if (!match) return false
  const host = match[1] ?? match[2]
  const portNumber = Number(match[3])
  return (ipVersion(host) !== 0 || isHostname(host)) && portNumber >= 1 && portNumber <= 65_535
}

/**
 * One argv word of a check or reload command. Commands run without a shell and `$FILE` is
 * replaced by the file to check, so a word needs no quoting and gets none.
 */
const commandWord = text().check(
  z.regex(/^[A-Za-z0-9_@%+=:,.\/$-]+$/, 'must be one argument word: letters, digits and _ @ % + = : , . / $ -'),
)
const command = z.array(commandWord).check(z.minLength(1, 'must name a program'))

// A plain string: parseDuration accepts only digits and a unit, so no control character passes it,
// and the JSON Schema keeps one `type: [string, number]` node that the meta keywords apply to.
const duration = z.pipe(
  z.union([z.string(), z.number()]).check(z.meta({maximum: 2_147_483_647, minimum: 1, multipleOf: 1, pattern: '^\\d+(ms|s|m|h|d)$'})),
  z.transform((v: number | string, ctx) => {
    const ms = parseDuration(v)
    if (ms === undefined) {
      ctx.issues.push({code: 'custom', input: v, message: 'must be a duration such as "500ms", "5s", "2m" or "1h"'})
      return z.NEVER
    }

    return ms
  }),
)

/** A whole number from `min` to `max`. */
const whole = (min: number, max?: number) => z.number().check(z.int(), z.gte(min), ...(max === undefined ? [] : [z.lte(max)]))

const httpNode = z.strictObject({
  address,
  name,
  port: z._default(port, 80),
})

const prosody = z.strictObject({
  address,
  port: z._default(port, 5280),
})

const jicofo = z.strictObject({
  address: z.optional(address),
  port: z._default(port, 8888),
})

const media = z.strictObject({
  address,
  port: z._default(port, 10_000),
})

const jvb = z.strictObject({
  address,
  colibriPort: z._default(port, 9090),
  /** The JVB's `videobridge.websockets.server-id`: the path segment after `/colibri-ws/`. */
  id: name,
  media: z.optional(media),
  restPort: z._default(port, 8080),
})

const shard = z.pipe(
  z.strictObject({
    jicofo: z.prefault(jicofo, {}),
    jvbs: z._default(z.array(jvb), []),
    name,
    prosody,
    /** `drain`: no new rooms; rooms in the stick table keep reaching it (`jproxy scale drain-shard`). */
    state: z._default(z.enum(['drain', 'ready']), 'ready'),
  }),
  // jicofo usually shares the prosody host (one "signal" node per shard), so its address defaults to that.
  z.transform(({jicofo, ...rest}) => ({...rest, jicofo: {address: jicofo.address ?? rest.prosody.address, port: jicofo.port}})),
)

const peer = z.strictObject({
  address,
  /** Must equal the peer's hostname (HAProxy's default local peer name) or its `-L` name. */
  name,
  port: z._default(port, 10_000),
})

const health = z.strictObject({
  fall: z._default(whole(1, 100), 3),
  interval: z.prefault(duration, '5s'),
  rise: z._default(whole(1, 100), 2),
  timeout: z.prefault(duration, '2s'),
})

/** A DNS server by address, port 53 unless given: `10.0.0.53`, `10.0.0.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`. */
export const resolverAddress = z.pipe(
  text().check(z.meta({pattern: '^(\\[[0-9A-Za-z:.%_-]+\\](:\\d{1,5})?|[0-9A-Za-z:.%_-]+)$'})),
  z.transform((value: string, context) => {
    const parsed = parseIpPort(value)
    if (!parsed) {
      context.issues.push({code: 'custom', input: value, message: 'must be a resolver IP address, optionally with :port ([v6]:port)'})
      return z.NEVER
    }

    return {address: parsed.address, port: parsed.port ?? 53}
  }),
)

/** Where `jproxy validate dns` asks: never the system's resolver unless listed here. */
const dns = z.strictObject({
  /** Backend names looked up at once; a resolver that does not answer then holds up only this many. */
  concurrency: z._default(whole(1, 256), 32),
  /** The whole validation ends by then; lookups still running are reported as timeouts. */
  deadline: z.prefault(duration, '30s'),
  /** Resolvers the proxy and bridges use: backend names must resolve here. */
  internal: z._default(z.array(resolverAddress), []),
  /** Resolvers clients use (e.g. the zone's authoritative servers or a public resolver). */
  public: z._default(z.array(resolverAddress), []),
  /** Retries after a query that got no answer. */
  retries: z._default(whole(0, 5), 2),
  timeout: z.prefault(duration, '2s'),
})

/** An absolute URL path without query: what a probe requests. */
const urlPath = text().check(z.regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*$/, 'must be an absolute URL path such as "/" or "/config.js"'))

/** How `jproxy probe` probes; timing and rise/fall come from `health`. */
const probe = z.strictObject({
  /** Parallel probes at most; one slow backend then never holds up the others. */
  concurrency: z._default(whole(1, 1024), 64),
  /** The whole run ends by then; probes not finished are reported as such. */
  deadline: z.prefault(duration, '30s'),
  /** GET /colibri/stats for participant counts: needs `videobridge.apis.rest.enabled`. */
  jvbStats: z._default(z.boolean(), false),
  /** Probe the proxy end to end: `/http-bind` through each listen address with the public name. */
  proxy: z._default(z.boolean(), true),
  /**
   * relayd checks prosody, jicofo and the JVBs with `check script` (role-aware: BOSH + websocket,
   * jicofo's 503, JVB health on the REST port) reading what `jproxy probe --watch` keeps in the state file.
   */
  relaydChecks: z._default(z.boolean(), false),
  /** Where `jproxy apply` installs the check scripts (`relayd-check-prosody`, `-jicofo`, `-jvb`). */
  relaydCheckDir: z._default(absolutePath, '/usr/local/libexec/jproxy'),
  /** Where rise/fall counts survive between runs (default /var/db/jproxy on OpenBSD, /var/lib/jproxy elsewhere). */
  stateFile: z.optional(absolutePath),
  webPath: z._default(urlPath, '/'),
})

/** `IP:PORT` or `[IPv6]:PORT` with the port required: a listener or backend address. */
const ipPort = (what: string) =>
  z.pipe(
    text().check(z.meta({pattern: HOST_PORT_CHARS})),
    z.transform((value: string, context) => {
      const parsed = parseIpPort(value)
      if (parsed?.port === undefined) {
        context.issues.push({code: 'custom', input: value, message: `must be ${what} as IP:PORT ([v6]:PORT)`})
        return z.NEVER
      }

      return {address: parsed.address, port: parsed.port}
    }),
  )

/** Strict-Transport-Security on every HTTPS answer; off unless listed. */
const hsts = z.strictObject({
  includeSubDomains: z._default(z.boolean(), false),
  /** Seconds browsers remember to use https only (a year by default). */
  maxAge: z._default(whole(0, 2_147_483_647), 31_536_000),
  preload: z._default(z.boolean(), false),
})

/** Connection caps (HAProxy `maxconn`); unset leaves HAProxy's own (derived from the file limit). */
const maxconn = z.strictObject({
  global: z.optional(whole(1, 10_000_000)),
  http: z.optional(whole(1, 10_000_000)),
  https: z.optional(whole(1, 10_000_000)),
})

/** HAProxy's Prometheus exporter on its own listener; off unless listed. */
const metrics = z.strictObject({
  listen: z.prefault(ipPort('the exporter\'s listen address'), '127.0.0.1:8405'),
  path: z._default(urlPath, '/metrics'),
})

/** TURN over TLS on the https port: connections whose TLS SNI is `sni` pass through untouched to coturn. */
const turn = z.strictObject({
  backend: text().check(z.refine(isHostPort, 'must be coturn\'s TLS listener as ADDRESS:PORT ([v6]:PORT)'), z.meta({pattern: HOST_PORT_CHARS})),
  /** relayd cannot split one port by SNI: it relays TURN on this second address (port = httpsPort). */
  relaydAddress: z.optional(text().check(z.refine((v) => ipVersion(v) !== 0, 'must be an IP address'), z.meta({pattern: IP_CHARS}))),
  sni: domain,
})

const target = {
  check: z.optional(command),
  output: z.optional(absolutePath),
  reload: z.optional(command),
}

/** Absolute paths, none unless listed. */
const paths = () => z._default(z.array(absolutePath), [])

/** An operator's own haproxy.cfg lines, per insertion point: files rendered verbatim, in the order listed. */
const haproxySnippets = z.strictObject({
  backends: paths(),
  defaults: paths(),
  frontendHttp: paths(),
  frontendHttps: paths(),
  global: paths(),
})

/** A privilege setting: unset takes the platform's default, `false` leaves it out (unprivileged test runs). */
const orOff = <T extends z.ZodMiniType>(schema: T) => z.optional(z.union([schema, z.literal(false)]))

const haproxyTarget = z.strictObject({
  ...target,
  /** The master CLI (`haproxy -W -S PATH`; Debian's unit uses this path): apply reloads and verifies through it when it answers. */
  masterSocket: z._default(absolutePath, '/run/haproxy-master.sock'),
  /** Default `/var/lib/haproxy` (Debian) or `/var/haproxy` (OpenBSD); `false`: no chroot. */
  chroot: orOff(absolutePath),
  /** Default `haproxy` (Debian) or `_haproxy` (OpenBSD); also owns the admin socket (mode 660). `false`: none. */
  group: orOff(name),
  hardStopAfter: z.prefault(duration, '30m'),
  /** This proxy's peer name (HAProxy `localpeer`, `-L`): one of proxy.peers, or the single proxy's own; default the hostname. */
  localPeer: z.optional(name),
  /** Without proxy.peers, the local-only peer listens on 127.0.0.1 at this port so a reload hands the room table over. */
  localPeerPort: z._default(port, 10_000),
  logFacility: z._default(z.enum(SYSLOG_FACILITIES), 'local0'),
  /** syslog target: a unix socket path or `address:port`. */
  logTarget: z._default(
    text().check(
      z.refine((v) => (v.startsWith('/') && SAFE_PATH_CHARS.test(v)) || isHostPort(v), 'must be an absolute socket path or address:port'),
      z.meta({pattern: '^(/[^\\s"\'`#{};\\\\\\u0000-\\u001F\\u007F]*|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}|[A-Za-z0-9.-]+:\\d{1,5})$'}),
    ),
    '/dev/log',
  ),
  socket: z._default(absolutePath, '/run/haproxy/admin.sock'),
  snippets: z.prefault(haproxySnippets, {}),
  stateFile: z._default(absolutePath, '/var/lib/haproxy/server-state'),
  /** Default `haproxy` (Debian) or `_haproxy` (OpenBSD); `false`: HAProxy keeps the user that starts it. */
  user: orOff(name),
})

/** Files relayd.conf `include`s at each insertion point (relayd reads them itself at load). */
const relaydSnippets = z.strictObject({
  globals: paths(),
  protocolHttps: paths(),
  relays: paths(),
  tables: paths(),
})

const relaydTarget = z.strictObject({
  ...target,
  prefork: z._default(whole(1, 32), 3),
  snippets: z.prefault(relaydSnippets, {}),
})

const pfTarget = z.strictObject(target)

/** How `jproxy apply` installs configs: its own files live in `dir`. */
const apply = z.strictObject({
  /** Versioned copies kept of configs replaced (0 keeps none); the last-known-good copy is kept apart. */
  backups: z._default(whole(0, 1000), 10),
  /** Backups, last-known-good copies, locks and the history log (default /var/lib/jproxy, /var/db/jproxy on OpenBSD). */
  dir: z.optional(absolutePath),
  /** How long a second apply of the same target waits for the first. */
  lockWait: z.prefault(duration, '60s'),
  /** How long a reload may take to show a new worker (HAProxy) or a loaded config (relayd). */
  reloadTimeout: z.prefault(duration, '30s'),
})

/** Where `/.well-known/acme-challenge/` on the http port goes instead of the web nodes: the ACME client of this proxy. */
const acme = z.strictObject({
  backend: z.pipe(
    text().check(
      z.refine(isHostPort, 'must be ADDRESS:PORT ([v6]:PORT), e.g. 127.0.0.1:8402 where certbot --standalone or lego --http.port listens'),
      z.meta({pattern: HOST_PORT_CHARS}),
    ),
    z.transform((value: string) => {
      const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)!
      return {address: match[1] ?? match[2], port: Number(match[3])}
    }),
  ),
})

const proxy = z.strictObject({
  acme: z.optional(acme),
  listen: z.strictObject({
    /** Plain-HTTP port: redirects to https, and ACME challenges for the web nodes. */
    httpPort: z._default(port, 80),
    httpsPort: z._default(port, 443),
    ipv4,
    ipv6: z.optional(ipv6),
  }),
  hsts: z.optional(hsts),
  maxconn: z.prefault(maxconn, {}),
  metrics: z.optional(metrics),
  peers: z._default(z.array(peer), []),
  /** How long a room's shard is remembered after its last request (above the clients' 2 min keep-alive gap). */
  stickExpiry: z.prefault(duration, '5m'),
  /** Rooms the stick table holds at most (about 300 bytes each); the oldest go first when it is full. */
  stickSize: z._default(whole(1000, 100_000_000), 200_000),
  tls: z.strictObject({
    certificate: absolutePath,
    key: absolutePath,
  }),
  turn: z.optional(turn),
})

export const Inventory = z.strictObject({
  apply: z.prefault(apply, {}),
  /** Route `/colibri-ws/<server-id>/` to each JVB; needed when SCTP is off (OpenBSD packages). */
  colibriWs: z._default(z.boolean(), true),
  dns: z.prefault(dns, {}),
  /** The public name clients use: TLS certificate, relayd keypair, `domain` of each JVB's websockets. */
  domain,
  health: z.prefault(health, {}),
  probe: z.prefault(probe, {}),
  proxy,
  shards: z.array(shard).check(z.minLength(1, 'must list at least one shard')),
  targets: z.prefault(
    z.strictObject({
      haproxy: z.prefault(haproxyTarget, {}),
      pf: z.prefault(pfTarget, {}),
      relayd: z.prefault(relaydTarget, {}),
    }),
    {},
  ),
  web: z.array(httpNode).check(z.minLength(1, 'must list at least one web node')),
})

/** A parsed, defaulted inventory: what every domain module takes. */
export type Inventory = z.output<typeof Inventory>
export type Shard = Inventory['shards'][number]
export type Jvb = Shard['jvbs'][number]
export type WebNode = Inventory['web'][number]
