import {isIP} from 'node:net'
import {z} from 'zod'

import {parseDuration} from './duration.js'
import {parseIpPort} from './host-port.js'

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
const text = () => z.string().regex(CONTROL_CHARACTERS, {abort: true, message: 'must not contain control characters or line separators'})

/** Names of nodes, shards, JVB server-ids and peers: one token, safe in every target's grammar. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
/** relayd table names are `<prefix-NAME>:PORT` and must stay under 64 characters. */
export const NAME_MAX = 40

const name = text()
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`)
  .regex(NAME_PATTERN, 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"')

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
const ipv4 = text().refine((v) => isIP(v) === 4, 'must be an IPv4 address').meta({pattern: '^[0-9.]+$'})
const ipv6 = text().refine((v) => isIP(v) === 6, 'must be an IPv6 address').meta({pattern: IP_CHARS})
const address = text()
  .refine((v) => isIP(v) !== 0 || isHostname(v), 'must be an IP address or a hostname')
  .meta({pattern: IP_CHARS})

const domain = text()
  .refine((v) => isHostname(v) && v.includes('.'), 'must be a fully qualified domain name')
  .meta({pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+\\.?$'})

const port = z.number().int('must be a whole number').min(1, 'must be 1..65535').max(65_535, 'must be 1..65535')

// eslint-disable-next-line no-control-regex
const SAFE_PATH_CHARS = /^[^\s"'`#{};\\\u0000-\u001F\u007F]*$/

/** Absolute paths free of whitespace, quotes, `#`, braces, `;`, backslashes and control characters. */
const absolutePath = text()
  .regex(/^\//, 'must be an absolute path')
  .regex(SAFE_PATH_CHARS, 'must not contain whitespace, quotes, "#", braces, ";", "\\" or control characters')

const SYSLOG_FACILITIES = ['daemon', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'user'] as const

/** `address:port` or `[v6]:port`, the way HAProxy writes network log targets. */
function isHostPort(value: string): boolean {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value)
  if (!match) return false
  const host = match[1] ?? match[2]
  const portNumber = Number(match[3])
  return (isIP(host) !== 0 || isHostname(host)) && portNumber >= 1 && portNumber <= 65_535
}

/**
 * One argv word of a check or reload command. Commands run without a shell and `$FILE` is
 * replaced by the file to check, so a word needs no quoting and gets none.
 */
const commandWord = text()
  .regex(/^[A-Za-z0-9_@%+=:,.\/$-]+$/, 'must be one argument word: letters, digits and _ @ % + = : , . / $ -')
const command = z.array(commandWord).min(1, 'must name a program')

// A plain string: parseDuration accepts only digits and a unit, so no control character passes it,
// and the JSON Schema keeps one `type: [string, number]` node that the meta keywords apply to.
const duration = z
  .union([z.string(), z.number()])
  .meta({maximum: 2_147_483_647, minimum: 1, multipleOf: 1, pattern: '^\\d+(ms|s|m|h|d)$'})
  .transform((v, ctx) => {
    const ms = parseDuration(v)
    if (ms === undefined) {
      ctx.addIssue({code: 'custom', message: 'must be a duration such as "500ms", "5s", "2m" or "1h"'})
      return z.NEVER
    }

    return ms
  })

const httpNode = z.strictObject({
  address,
  name,
  port: port.default(80),
})

const prosody = z.strictObject({
  address,
  port: port.default(5280),
})

const jicofo = z.strictObject({
  address: address.optional(),
  port: port.default(8888),
})

const media = z.strictObject({
  address,
  port: port.default(10_000),
})

const jvb = z.strictObject({
  address,
  colibriPort: port.default(9090),
  /** The JVB's `videobridge.websockets.server-id`: the path segment after `/colibri-ws/`. */
  id: name,
  media: media.optional(),
  restPort: port.default(8080),
})

const shard = z
  .strictObject({
    jicofo: jicofo.prefault({}),
    jvbs: z.array(jvb).default([]),
    name,
    prosody,
    /** `drain`: no new rooms; rooms in the stick table keep reaching it (`jproxy scale drain-shard`). */
    state: z.enum(['drain', 'ready']).default('ready'),
  })
  // jicofo usually shares the prosody host (one "signal" node per shard), so its address defaults to that.
  .transform(({jicofo, ...rest}) => ({...rest, jicofo: {address: jicofo.address ?? rest.prosody.address, port: jicofo.port}}))

const peer = z.strictObject({
  address,
  /** Must equal the peer's hostname (HAProxy's default local peer name) or its `-L` name. */
  name,
  port: port.default(10_000),
})

const health = z.strictObject({
  fall: z.number().int().min(1).max(100).default(3),
  interval: duration.prefault('5s'),
  rise: z.number().int().min(1).max(100).default(2),
  timeout: duration.prefault('2s'),
})

/** A DNS server by address, port 53 unless given: `10.0.0.53`, `10.0.0.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`. */
export const resolverAddress = text()
  .meta({pattern: '^(\\[[0-9A-Za-z:.%_-]+\\](:\\d{1,5})?|[0-9A-Za-z:.%_-]+)$'})
  .transform((value, context) => {
    const parsed = parseIpPort(value)
    if (!parsed) {
      context.addIssue({code: 'custom', message: 'must be a resolver IP address, optionally with :port ([v6]:port)'})
      return z.NEVER
    }

    return {address: parsed.address, port: parsed.port ?? 53}
  })

/** Where `jproxy validate dns` asks: never the system's resolver unless listed here. */
const dns = z.strictObject({
  /** Backend names looked up at once; a resolver that does not answer then holds up only this many. */
  concurrency: z.number().int().min(1).max(256).default(32),
  /** The whole validation ends by then; lookups still running are reported as timeouts. */
  deadline: duration.prefault('30s'),
  /** Resolvers the proxy and bridges use: backend names must resolve here. */
  internal: z.array(resolverAddress).default([]),
  /** Resolvers clients use (e.g. the zone's authoritative servers or a public resolver). */
  public: z.array(resolverAddress).default([]),
  /** Retries after a query that got no answer. */
  retries: z.number().int().min(0).max(5).default(2),
  timeout: duration.prefault('2s'),
})

/** An absolute URL path without query: what a probe requests. */
const urlPath = text().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*$/, 'must be an absolute URL path such as "/" or "/config.js"')

/** How `jproxy probe` probes; timing and rise/fall come from `health`. */
const probe = z.strictObject({
  /** Parallel probes at most; one slow backend then never holds up the others. */
  concurrency: z.number().int().min(1).max(1024).default(64),
  /** The whole run ends by then; probes not finished are reported as such. */
  deadline: duration.prefault('30s'),
  /** GET /colibri/stats for participant counts: needs `videobridge.apis.rest.enabled`. */
  jvbStats: z.boolean().default(false),
  /** Probe the proxy end to end: `/http-bind` through each listen address with the public name. */
  proxy: z.boolean().default(true),
  /**
   * relayd checks prosody, jicofo and the JVBs with `check script` (role-aware: BOSH + websocket,
   * jicofo's 503, JVB health on the REST port) reading what `jproxy probe --watch` keeps in the state file.
   */
  relaydChecks: z.boolean().default(false),
  /** Where `jproxy apply` installs the check scripts (`relayd-check-prosody`, `-jicofo`, `-jvb`). */
  relaydCheckDir: absolutePath.default('/usr/local/libexec/jproxy'),
  /** Where rise/fall counts survive between runs (default /var/db/jproxy on OpenBSD, /var/lib/jproxy elsewhere). */
  stateFile: absolutePath.optional(),
  webPath: urlPath.default('/'),
})

/** `IP:PORT` or `[IPv6]:PORT` with the port required: a listener or backend address. */
const ipPort = (what: string) =>
  text()
    .meta({pattern: HOST_PORT_CHARS})
    .transform((value, context) => {
      const parsed = parseIpPort(value)
      if (parsed?.port === undefined) {
        context.addIssue({code: 'custom', message: `must be ${what} as IP:PORT ([v6]:PORT)`})
        return z.NEVER
      }

      return {address: parsed.address, port: parsed.port}
    })

/** Strict-Transport-Security on every HTTPS answer; off unless listed. */
const hsts = z.strictObject({
  includeSubDomains: z.boolean().default(false),
  /** Seconds browsers remember to use https only (a year by default). */
  maxAge: z.number().int().min(0).max(2_147_483_647).default(31_536_000),
  preload: z.boolean().default(false),
})

/** Connection caps (HAProxy `maxconn`); unset leaves HAProxy's own (derived from the file limit). */
const maxconn = z.strictObject({
  global: z.number().int().min(1).max(10_000_000).optional(),
  http: z.number().int().min(1).max(10_000_000).optional(),
  https: z.number().int().min(1).max(10_000_000).optional(),
})

/** HAProxy's Prometheus exporter on its own listener; off unless listed. */
const metrics = z.strictObject({
  listen: ipPort('the exporter\'s listen address').prefault('127.0.0.1:8405'),
  path: urlPath.default('/metrics'),
})

/** TURN over TLS on the https port: connections whose TLS SNI is `sni` pass through untouched to coturn. */
const turn = z.strictObject({
  backend: text().refine(isHostPort, 'must be coturn\'s TLS listener as ADDRESS:PORT ([v6]:PORT)').meta({pattern: HOST_PORT_CHARS}),
  /** relayd cannot split one port by SNI: it relays TURN on this second address (port = httpsPort). */
  relaydAddress: text().refine((v) => isIP(v) !== 0, 'must be an IP address').meta({pattern: IP_CHARS}).optional(),
  sni: domain,
})

const target = {
  check: command.optional(),
  output: absolutePath.optional(),
  reload: command.optional(),
}

/** An operator's own haproxy.cfg lines, per insertion point: files rendered verbatim, in the order listed. */
const haproxySnippets = z.strictObject({
  backends: z.array(absolutePath).default([]),
  defaults: z.array(absolutePath).default([]),
  frontendHttp: z.array(absolutePath).default([]),
  frontendHttps: z.array(absolutePath).default([]),
  global: z.array(absolutePath).default([]),
})

/** A privilege setting: unset takes the platform's default, `false` leaves it out (unprivileged test runs). */
const orOff = <T extends z.ZodType>(schema: T) => z.union([schema, z.literal(false)]).optional()

const haproxyTarget = z.strictObject({
  ...target,
  /** The master CLI (`haproxy -W -S PATH`; Debian's unit uses this path): apply reloads and verifies through it when it answers. */
  masterSocket: absolutePath.default('/run/haproxy-master.sock'),
  /** Default `/var/lib/haproxy` (Debian) or `/var/haproxy` (OpenBSD); `false`: no chroot. */
  chroot: orOff(absolutePath),
  /** Default `haproxy` (Debian) or `_haproxy` (OpenBSD); also owns the admin socket (mode 660). `false`: none. */
  group: orOff(name),
  hardStopAfter: duration.prefault('30m'),
  /** This proxy's peer name (HAProxy `localpeer`, `-L`): one of proxy.peers, or the single proxy's own; default the hostname. */
  localPeer: name.optional(),
  /** Without proxy.peers, the local-only peer listens on 127.0.0.1 at this port so a reload hands the room table over. */
  localPeerPort: port.default(10_000),
  /** syslog target: a unix socket path or `address:port`. */
  logFacility: z.enum(SYSLOG_FACILITIES).default('local0'),
  logTarget: text()
    .refine((v) => (v.startsWith('/') && SAFE_PATH_CHARS.test(v)) || isHostPort(v), 'must be an absolute socket path or address:port')
    .meta({pattern: '^(/[^\\s"\'`#{};\\\\\\u0000-\\u001F\\u007F]*|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}|[A-Za-z0-9.-]+:\\d{1,5})$'})
    .default('/dev/log'),
  socket: absolutePath.default('/run/haproxy/admin.sock'),
  snippets: haproxySnippets.prefault({}),
  stateFile: absolutePath.default('/var/lib/haproxy/server-state'),
  /** Default `haproxy` (Debian) or `_haproxy` (OpenBSD); `false`: HAProxy keeps the user that starts it. */
  user: orOff(name),
})

/** Files relayd.conf `include`s at each insertion point (relayd reads them itself at load). */
const relaydSnippets = z.strictObject({
  globals: z.array(absolutePath).default([]),
  protocolHttps: z.array(absolutePath).default([]),
  relays: z.array(absolutePath).default([]),
  tables: z.array(absolutePath).default([]),
})

const relaydTarget = z.strictObject({
  ...target,
  prefork: z.number().int().min(1).max(32).default(3),
  snippets: relaydSnippets.prefault({}),
})

const pfTarget = z.strictObject(target)

/** How `jproxy apply` installs configs: its own files live in `dir`. */
const apply = z.strictObject({
  /** Versioned copies kept of configs replaced (0 keeps none); the last-known-good copy is kept apart. */
  backups: z.number().int().min(0).max(1000).default(10),
  /** Backups, last-known-good copies, locks and the history log (default /var/lib/jproxy, /var/db/jproxy on OpenBSD). */
  dir: absolutePath.optional(),
  /** How long a second apply of the same target waits for the first. */
  lockWait: duration.prefault('60s'),
  /** How long a reload may take to show a new worker (HAProxy) or a loaded config (relayd). */
  reloadTimeout: duration.prefault('30s'),
})

export const Inventory = z.strictObject({
  apply: apply.prefault({}),
  /** Route `/colibri-ws/<server-id>/` to each JVB; needed when SCTP is off (OpenBSD packages). */
  colibriWs: z.boolean().default(true),
  /** The public name clients use: TLS certificate, relayd keypair, `domain` of each JVB's websockets. */
  dns: dns.prefault({}),
  domain,
  health: health.prefault({}),
  probe: probe.prefault({}),
  proxy: z.strictObject({
    /** Where `/.well-known/acme-challenge/` on the http port goes instead of the web nodes: the ACME client of this proxy. */
    acme: z
      .strictObject({
        backend: text()
          .refine(isHostPort, 'must be ADDRESS:PORT ([v6]:PORT), e.g. 127.0.0.1:8402 where certbot --standalone or lego --http.port listens')
          .meta({pattern: HOST_PORT_CHARS})
          .transform((value) => {
            const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)!
            return {address: match[1] ?? match[2], port: Number(match[3])}
          }),
      })
      .optional(),
    listen: z.strictObject({
      /** Plain-HTTP port: redirects to https, and ACME challenges for the web nodes. */
      httpPort: port.default(80),
      httpsPort: port.default(443),
      ipv4,
      ipv6: ipv6.optional(),
    }),
    hsts: hsts.optional(),
    maxconn: maxconn.prefault({}),
    metrics: metrics.optional(),
    peers: z.array(peer).default([]),
    /** How long a room's shard is remembered after its last request (above the clients' 2 min keep-alive gap). */
    stickExpiry: duration.prefault('5m'),
    /** Rooms the stick table holds at most (about 300 bytes each); the oldest go first when it is full. */
    stickSize: z.number().int().min(1000).max(100_000_000).default(200_000),
    tls: z.strictObject({
      certificate: absolutePath,
      key: absolutePath,
    }),
    turn: turn.optional(),
  }),
  shards: z.array(shard).min(1, 'must list at least one shard'),
  targets: z
    .strictObject({
      haproxy: haproxyTarget.prefault({}),
      pf: pfTarget.prefault({}),
      relayd: relaydTarget.prefault({}),
    })
    .prefault({}),
  web: z.array(httpNode).min(1, 'must list at least one web node'),
})

/** A parsed, defaulted inventory: what every domain module takes. */
export type Inventory = z.output<typeof Inventory>
export type Shard = Inventory['shards'][number]
export type Jvb = Shard['jvbs'][number]
export type WebNode = Inventory['web'][number]
