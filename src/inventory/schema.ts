import {ipVersion, parseCidr} from '../system/ip.js'
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

/**
 * A field's meaning, kept on the field's own node: the same text reaches editors
 * (schema/inventory.schema.json) and docs/inventory.md's field table (npm run docs), and a test
 * wants one on every field. A wrapper made for the field (`z._default(port, 80)`) takes it as it is;
 * a shared schema, which carries metadata already (`address`, `name`), is cloned first, or its
 * text would reach every field built from it. Cloning only those keeps start-up cost to a few nodes.
 */
function about<T extends z.ZodMiniType>(description: string, schema: T): T {
  const own = z.globalRegistry.has(schema) ? (schema.clone()) : schema
  z.globalRegistry.add(own, {...z.globalRegistry.get(own), description})
  return own
}

/** What a kind of value is called in docs/inventory.md's type column (JSON Schema `title`). */
const kind = (title: string) => z.meta({title})

/** Names of nodes, shards, JVB server-ids and peers: one token, safe in every target's grammar. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
/** relayd table names are `<prefix-NAME>:PORT` and must stay under 64 characters. */
export const NAME_MAX = 40

const name = text().check(
  kind('name'),
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
const ipv4 = text().check(
  z.refine((v) => ipVersion(v) === 4, 'must be an IPv4 address'),
  z.meta({pattern: '^[0-9.]+$', title: 'IPv4 address'}),
)
const ipv6 = text().check(
  z.refine((v) => ipVersion(v) === 6, 'must be an IPv6 address'),
  z.meta({pattern: IP_CHARS, title: 'IPv6 address'}),
)
const ipAddress = text().check(
  z.refine((v) => ipVersion(v) !== 0, 'must be an IP address'),
  z.meta({pattern: IP_CHARS, title: 'IP address'}),
)
const address = text().check(
  z.refine((v) => ipVersion(v) !== 0 || isHostname(v), 'must be an IP address or a hostname'),
  z.meta({pattern: IP_CHARS, title: 'IP address or hostname'}),
)

const domain = text().check(
  z.refine((v) => isHostname(v) && v.includes('.'), 'must be a fully qualified domain name'),
  z.meta({pattern: '^[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+\\.?$', title: 'domain name'}),
)

const port = z.number().check(
  kind('port'),
  z.int('must be a whole number'),
  z.gte(1, 'must be 1..65535'),
  z.lte(65_535, 'must be 1..65535'),
)

// eslint-disable-next-line no-control-regex
const SAFE_PATH_CHARS = /^[^\s"'`#{};\\\u0000-\u001F\u007F]*$/

/** Absolute paths free of whitespace, quotes, `#`, braces, `;`, backslashes and control characters. */
const absolutePath = text().check(
  kind('absolute path'),
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
  kind('word'),
  z.regex(/^[A-Za-z0-9_@%+=:,./$-]+$/, 'must be one argument word: letters, digits and _ @ % + = : , . / $ -'),
)
const command = z.array(commandWord).check(kind('command (argv words)'), z.minLength(1, 'must name a program'))

// A plain string: parseDuration accepts only digits and a unit, so no control character passes it,
// and the JSON Schema keeps one `type: [string, number]` node that the meta keywords apply to.
const duration = z.pipe(
  z.union([z.string(), z.number()]).check(
    z.meta({maximum: 2_147_483_647, minimum: 1, multipleOf: 1, pattern: '^\\d+(ms|s|m|h|d)$', title: 'duration'}),
  ),
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
  address: about('Where the node serves jitsi-meet.', address),
  name: about('The node\'s name in the proxy configs.', name),
  port: about('Its HTTP port.', z._default(port, 80)),
})

const prosody = z.strictObject({
  address: about('The shard\'s prosody host.', address),
  port: about('Its HTTP port: BOSH /http-bind and the XMPP websocket /xmpp-websocket.', z._default(port, 5280)),
})

const jicofo = z.strictObject({
  address: about(
    'The shard\'s jicofo host; unset: the prosody address (one signal node per shard).',
    z.optional(address),
  ),
  port: about('Its REST port: /about/health and the conference request.', z._default(port, 8888)),
})

const media = z.strictObject({
  address: about('Public address clients send media to; pf redirects it to the bridge.', address),
  port: about('Media UDP port, the same on the public address and the bridge.', z._default(port, 10_000)),
})

const jvb = z.strictObject({
  address: about('The bridge\'s own address, where the proxy reaches it.', address),
  colibriPort: about('Colibri websocket port (/colibri-ws/).', z._default(port, 9090)),
  id: about('The bridge\'s videobridge.websockets.server-id: the path segment after /colibri-ws/.', name),
  media: about('Public media address and UDP port, for the pf rdr-to rule; unset: no media rule.', z.optional(media)),
  restPort: about('REST port: /about/health, /colibri/stats and drain.', z._default(port, 8080)),
})

const shard = z.pipe(
  z.strictObject({
    jicofo: about('The shard\'s jicofo; its address defaults to the prosody host.', z.prefault(jicofo, {})),
    jvbs: about('The shard\'s videobridges.', z._default(z.array(jvb), [])),
    name: about(
      'The shard\'s name: its server in the shard backends (be_prosody, be_jicofo) and in the room table.',
      name,
    ),
    prosody: about('The shard\'s prosody: BOSH and the XMPP websocket.', prosody),
    state: about(
      '`drain`: no new rooms; rooms in the stick table keep reaching it. Written by `jproxy scale drain-shard` ' +
        '(docs/rooms-and-shards.md).',
      z._default(z.enum(['drain', 'ready']), 'ready'),
    ),
  }),
  // jicofo usually shares the prosody host (one "signal" node per shard), so its address defaults to that.
  z.transform(({jicofo, ...rest}) => ({...rest, jicofo: {address: jicofo.address ?? rest.prosody.address, port: jicofo.port}})),
)

const peer = z.strictObject({
  address: about('Where this peer listens for the stick table.', address),
  name: about('Must equal the peer\'s hostname (HAProxy\'s default local peer name) or its `-L` name.', name),
  port: about('Its peers port.', z._default(port, 10_000)),
})

const health = z.strictObject({
  fall: about('Failed checks in a row before a backend is down.', z._default(whole(1, 100), 3)),
  interval: about('Time between checks.', z.prefault(duration, '5s')),
  rise: about('Good checks in a row before a backend is up again.', z._default(whole(1, 100), 2)),
  timeout: about('How long one check may take.', z.prefault(duration, '2s')),
})

/** A DNS server by address, port 53 unless given: `10.0.0.53`, `10.0.0.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`. */
export const resolverAddress = z.pipe(
  text().check(
    kind('resolver address'),
    z.meta({pattern: '^(\\[[0-9A-Za-z:.%_-]+\\](:\\d{1,5})?|[0-9A-Za-z:.%_-]+)$'}),
  ),
  z.transform((value: string, context) => {
    const parsed = parseIpPort(value)
    if (!parsed) {
      context.issues.push({code: 'custom', input: value, message: 'must be a resolver IP address, optionally with :port ([v6]:port)'})
      return z.NEVER
    }

    return {address: parsed.address, port: parsed.port ?? 53}
  }),
)

const dns = z.strictObject({
  concurrency: about(
    'Backend names looked up at once; a resolver that does not answer then holds up only this many.',
    z._default(whole(1, 256), 32),
  ),
  deadline: about(
    'The whole validation ends by then; lookups still running are reported as timeouts.',
    z.prefault(duration, '30s'),
  ),
  internal: about(
    'Resolvers the proxy and bridges use, where backend names must resolve: "10.0.0.53", "[2001:db8::53]:5353".',
    z._default(z.array(resolverAddress), []),
  ),
  public: about(
    'Resolvers clients use, e.g. the zone\'s authoritative servers or a public resolver.',
    z._default(z.array(resolverAddress), []),
  ),
  retries: about('Retries after a query that got no answer.', z._default(whole(0, 5), 2)),
  timeout: about('How long one query waits for its answer.', z.prefault(duration, '2s')),
})

/** An absolute URL path without query: what a probe requests. */
const urlPath = text().check(
  kind('URL path'),
  z.regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be an absolute URL path such as "/" or "/config.js"'),
)

const probe = z.strictObject({
  concurrency: about(
    'Parallel probes at most; one slow backend then never holds up the others.',
    z._default(whole(1, 1024), 64),
  ),
  deadline: about('The whole run ends by then; probes not finished are reported as such.', z.prefault(duration, '30s')),
  jvbStats: about(
    'GET /colibri/stats for participant counts: needs `videobridge.apis.rest.enabled`.',
    z._default(z.boolean(), false),
  ),
  proxy: about(
    'Probe the proxy end to end: /http-bind through each listen address with the public name.',
    z._default(z.boolean(), true),
  ),
  relaydChecks: about(
    'relayd checks prosody, jicofo and the bridges with `check script` (role-aware), reading what ' +
      '`jproxy probe --watch` keeps in the state file (docs/relayd-checks.md).',
    z._default(z.boolean(), false),
  ),
  relaydCheckDir: about(
    'Where `jproxy apply` installs the check scripts (`relayd-check-prosody`, `-jicofo`, `-jvb`).',
    z._default(absolutePath, '/usr/local/libexec/jproxy'),
  ),
  stateFile: about(
    'Where rise/fall counts survive runs; unset: /var/lib/jproxy/probe/probe-state.json (/var/db/jproxy/probe/… ' +
      'on OpenBSD), a folder the watcher owns inside root\'s apply folder.',
    z.optional(absolutePath),
  ),
  webPath: about('What a probe of a web node requests.', z._default(urlPath, '/')),
})

/** `IP:PORT` or `[IPv6]:PORT` with the port required: a listener or backend address. */
const ipPort = (what: string) =>
  z.pipe(
    text().check(z.meta({pattern: HOST_PORT_CHARS, title: 'IP:port'})),
    z.transform((value: string, context) => {
      const parsed = parseIpPort(value)
      if (parsed?.port === undefined) {
        context.issues.push({code: 'custom', input: value, message: `must be ${what} as IP:PORT ([v6]:PORT)`})
        return z.NEVER
      }

      return {address: parsed.address, port: parsed.port}
    }),
  )

const hsts = z.strictObject({
  includeSubDomains: about(
    'Adds `includeSubDomains`: every subdomain is https-only too.',
    z._default(z.boolean(), false),
  ),
  maxAge: about(
    'Seconds browsers remember to use https only (a year by default).',
    z._default(whole(0, 2_147_483_647), 31_536_000),
  ),
  preload: about('Adds `preload`, which browsers\' built-in HSTS lists ask for.', z._default(z.boolean(), false)),
})

const maxconn = z.strictObject({
  global: about('Connections the whole HAProxy process takes at once.', z.optional(whole(1, 10_000_000))),
  http: about(
    'Connections the plain-HTTP frontend takes at once (redirects and ACME).',
    z.optional(whole(1, 10_000_000)),
  ),
  https: about(
    'Connections the HTTPS frontend takes at once (and the TLS splitter in front of it, with TURN).',
    z.optional(whole(1, 10_000_000)),
  ),
})

const metrics = z.strictObject({
  listen: about(
    'The exporter\'s own listener, loopback by default.',
    z.prefault(ipPort('the exporter\'s listen address'), '127.0.0.1:8405'),
  ),
  path: about('The path Prometheus scrapes; any other path there answers 404.', z._default(urlPath, '/metrics')),
})

/** `address:port`: coturn's and the ACME client's listeners. */
const hostPort = () => text().check(kind('address:port'), z.meta({pattern: HOST_PORT_CHARS}))

const turn = z.strictObject({
  backend: about(
    'coturn\'s TLS listener.',
    hostPort().check(z.refine(isHostPort, 'must be coturn\'s TLS listener as ADDRESS:PORT ([v6]:PORT)')),
  ),
  relaydAddress: about(
    'relayd cannot split a port by SNI: it relays TURN on this second address (port: httpsPort); unset: no TURN.',
    z.optional(ipAddress),
  ),
  sni: about('The TURN server\'s own name (its own DNS record and certificate): TLS for it passes to coturn.', domain),
})

/** A proxy's live file and checker; `stock` names what render/targets.ts takes when they are unset. */
const target = (stock: {check: string; output: string}) => ({
  check: about(
    `Checks a staged file before apply installs it, as argv words (\`$FILE\` is the file); unset: ${stock.check}.`,
    z.optional(command),
  ),
  output: about(
    `The live file: apply installs it, gen never writes over it; unset: ${stock.output}.`,
    z.optional(absolutePath),
  ),
})

/** Absolute paths, none unless listed. */
const paths = (description: string) => about(description, z._default(z.array(absolutePath), []))

const haproxySnippets = z.strictObject({
  backends: paths('Files placed at the end of the file: whole backend or frontend sections of your own.'),
  defaults: paths('Files placed at the end of the defaults section.'),
  frontendHttp: paths('Files placed in the plain-HTTP frontend, after its binds, before its routing.'),
  frontendHttps: paths('Files placed in the HTTPS frontend, after its binds, before its routing.'),
  global: paths('Files placed at the end of the global section.'),
})

/** A privilege setting: unset takes the platform's default, `false` leaves it out (unprivileged test runs). */
const orOff = <T extends z.ZodMiniType>(schema: T) => z.optional(z.union([schema, z.literal(false)]))

const haproxyTarget = z.strictObject({
  ...target({check: '`haproxy -c -f $FILE`', output: '/etc/haproxy/haproxy.cfg'}),
  reload: about(
    'Reload command for when the master CLI (masterSocket) does not answer, as argv words; unset: apply fails then.',
    z.optional(command),
  ),
  chroot: about(
    'Unset: /var/lib/haproxy (Debian) or /var/haproxy (OpenBSD); `false`: no chroot (docs/privileges.md).',
    orOff(absolutePath),
  ),
  group: about(
    'Unset: `haproxy` (Debian) or `_haproxy` (OpenBSD); also owns the admin socket (mode 660). `false`: none.',
    orOff(name),
  ),
  hardStopAfter: about(
    'How long an old worker may keep serving its connections after a reload.',
    z.prefault(duration, '30m'),
  ),
  localPeer: about(
    'This proxy\'s peer name (HAProxy `localpeer`, `-L`): one of proxy.peers, or a lone proxy\'s; unset: the hostname.',
    z.optional(name),
  ),
  localPeerPort: about(
    'Without proxy.peers, the local-only peer listens on 127.0.0.1 at this port so a reload hands the room table over.',
    z._default(port, 10_000),
  ),
  logFacility: about('The syslog facility of HAProxy\'s log lines.', z._default(z.enum(SYSLOG_FACILITIES), 'local0')),
  logTarget: about(
    'The syslog target: a unix socket path or `address:port`.',
    z._default(
      text().check(
        kind('socket path or address:port'),
        z.refine((v) => (v.startsWith('/') && SAFE_PATH_CHARS.test(v)) || isHostPort(v), 'must be an absolute socket path or address:port'),
        z.meta({pattern: '^(/[^\\s"\'`#{};\\\\\\u0000-\\u001F\\u007F]*|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}|[A-Za-z0-9.-]+:\\d{1,5})$'}),
      ),
      '/dev/log',
    ),
  ),
  masterSocket: about(
    'The master CLI (`haproxy -W -S PATH`, as Debian\'s unit starts it): apply reloads and verifies through it.',
    z._default(absolutePath, '/run/haproxy-master.sock'),
  ),
  snippets: about(
    'The operator\'s own haproxy.cfg lines: files placed verbatim, in the order listed (docs/proxy-features.md).',
    z.prefault(haproxySnippets, {}),
  ),
  socket: about(
    'The admin socket: runtime API for scale, status and apply\'s verification.',
    z._default(absolutePath, '/run/haproxy/admin.sock'),
  ),
  stateFile: about(
    'Where apply saves `show servers state` before a reload, so drained and down servers stay so.',
    z._default(absolutePath, '/var/lib/haproxy/server-state'),
  ),
  user: about(
    'Unset: `haproxy` (Debian) or `_haproxy` (OpenBSD); `false`: HAProxy keeps the user that starts it.',
    orOff(name),
  ),
})

const relaydSnippets = z.strictObject({
  globals: paths('Macros and globals, included before the first table (relayd\'s first pass).'),
  protocolHttps: paths('Rules included at the end of the HTTPS protocol, where relayd\'s last matching rule wins.'),
  relays: paths('Protocols and relays of your own, included at the end of the file.'),
  tables: paths('Tables of your own.'),
})

const relaydTarget = z.strictObject({
  ...target({
    check: '`relayd -n -f $FILE` where relayd is installed (jproxy\'s linter always runs)',
    output: '/etc/relayd.conf',
  }),
  reload: about('Reload command, as argv words; unset: `relayctl reload`.', z.optional(command)),
  prefork: about('relayd processes (`prefork`).', z._default(whole(1, 32), 3)),
  snippets: about(
    'Files relayd.conf `include`s at each insertion point (relayd reads them itself at load).',
    z.prefault(relaydSnippets, {}),
  ),
})

// jproxy renders pf rules (`gen pf`, checked with `pfctl -nf` where pfctl exists) and installs none.
const pfTarget = z.strictObject({
  check: about('Accepted, not run: `gen pf` checks with `pfctl -nf` where pfctl is installed.', z.optional(command)),
  output: about(
    'The live rules file, which `gen pf --out` never writes over; unset: /etc/pf.jproxy.conf.',
    z.optional(absolutePath),
  ),
  reload: about('Accepted, not run: jproxy installs no pf rules.', z.optional(command)),
})

const apply = z.strictObject({
  backups: about(
    'Versioned copies kept of configs replaced (0 keeps none); the last-known-good copy is kept apart.',
    z._default(whole(0, 1000), 10),
  ),
  dir: about(
    'Backups, last-known-good copies, locks and the history log; unset: /var/lib/jproxy (/var/db/jproxy on OpenBSD).',
    z.optional(absolutePath),
  ),
  lockWait: about('How long a second apply of the same target waits for the first.', z.prefault(duration, '60s')),
  reloadTimeout: about(
    'How long a reload may take to show a new worker (HAProxy) or a loaded config (relayd); for HAProxy also how ' +
      'long apply waits before a reload for the room table\'s resync and remote peers, and after it for the new ' +
      'worker to hold the old worker\'s rooms (docs/apply.md).',
    z.prefault(duration, '30s'),
  ),
})

const acme = z.strictObject({
  backend: about(
    'Where this proxy\'s ACME client listens, e.g. 127.0.0.1:8402 for certbot --standalone or lego --http.port.',
    z.pipe(
      hostPort().check(
        z.refine(isHostPort, 'must be ADDRESS:PORT ([v6]:PORT), e.g. 127.0.0.1:8402 where certbot --standalone or lego --http.port listens'),
      ),
      z.transform((value: string) => {
        const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value)!
        return {address: match[1] ?? match[2], port: Number(match[3])}
      }),
    ),
  ),
})

const listen = z.strictObject({
  httpPort: about(
    'Plain-HTTP port: redirects to https, and ACME challenges for the web nodes.',
    z._default(port, 80),
  ),
  httpsPort: about('The HTTPS port clients connect to.', z._default(port, 443)),
  ipv4: about('IPv4 address the proxy listens on.', ipv4),
  ipv6: about('IPv6 address the proxy listens on as well.', z.optional(ipv6)),
})

const proxy = z.strictObject({
  acme: about(
    'ACME challenges (/.well-known/acme-challenge/) on the http port go to this proxy\'s ACME client, not the web ' +
      'nodes (docs/certificates.md).',
    z.optional(acme),
  ),
  hsts: about(
    'Strict-Transport-Security on every HTTPS answer; off unless listed (docs/proxy-features.md).',
    z.optional(hsts),
  ),
  listen: about('The addresses and ports the proxy listens on.', listen),
  maxconn: about(
    'Connection caps (HAProxy `maxconn`); unset ones leave HAProxy\'s own, derived from the open-file limit.',
    z.prefault(maxconn, {}),
  ),
  metrics: about(
    'HAProxy\'s Prometheus exporter on a listener of its own; off unless listed (docs/proxy-features.md).',
    z.optional(metrics),
  ),
  peers: about('Other HAProxy boxes sharing the room stick table.', z._default(z.array(peer), [])),
  stickExpiry: about(
    'How long a room\'s shard is remembered after its last request, above the clients\' 2 min keep-alive gap ' +
      '(docs/rooms-and-shards.md).',
    z.prefault(duration, '5m'),
  ),
  stickSize: about(
    'Rooms the stick table holds at most (about 300 bytes each); the oldest go first when it is full.',
    z._default(whole(1000, 100_000_000), 200_000),
  ),
  tls: about(
    'The certificate the proxy serves for the public name.',
    z.strictObject({
      ca: about(
        'A private CA (PEM) that every jproxy request through the proxy trusts (apply, probe, validate tls, ' +
          'scale, tls deploy); --ca overrides it.',
        z.optional(absolutePath),
      ),
      certificate: about(
        'PEM certificate chain; for HAProxy it holds the key too, or the key is at <certificate>.key.',
        absolutePath,
      ),
      key: about(
        'PEM private key: HAProxy reads it from the certificate file or <certificate>.key, so it is one of those; ' +
          'relayd reads its keypair by `domain` (docs/certificates.md).',
        absolutePath,
      ),
    }),
  ),
  turn: about(
    'TURN over TLS on the https port: connections whose TLS SNI is `sni` pass through untouched to coturn.',
    z.optional(turn),
  ),
})

const targets = z.strictObject({
  haproxy: about(
    'HAProxy: its config, checker and reload, logging, privileges and runtime API.',
    z.prefault(haproxyTarget, {}),
  ),
  pf: about('The pf rules `jproxy gen pf` renders; jproxy installs none (docs/pf.md).', z.prefault(pfTarget, {})),
  relayd: about('relayd: its config, checker and reload, prefork and snippets.', z.prefault(relaydTarget, {})),
})

/** `http://HOST:PORT` or `https://HOST:PORT`, nothing more: no path, query or credentials reach etcd calls or logs. */
const ETCD_ENDPOINT = /^https?:\/\/(?:\[([^\]]+)\]|([^:/[\]@]+)):(\d{1,5})$/

export function isEtcdEndpoint(value: string): boolean {
  const match = ETCD_ENDPOINT.exec(value)
  if (!match) return false
  const portNumber = Number(match[3])
  const ok = match[1] === undefined ? ipVersion(match[2]) === 4 || isHostname(match[2]) : ipVersion(match[1]) === 6
  return ok && portNumber >= 1 && portNumber <= 65_535
}

const etcdEndpoint = text().check(
  kind('etcd URL'),
  z.refine(isEtcdEndpoint, 'must be http://HOST:PORT or https://HOST:PORT ([v6] in brackets), with no path'),
  z.meta({pattern: '^https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):\\d{1,5}$'}),
)

/** etcd key paths jproxy writes under: `/`-separated name tokens, so no key of one site is a prefix trick on another's. */
export const FLEET_PREFIX_PATTERN = /^(\/[A-Za-z0-9][A-Za-z0-9_.-]*)+$/

/**
 * The sections a fleet proxy may give for itself, and the shared section each replaces whole: the
 * field table lists them once, at the shared path, not again under every proxy.
 */
export const FLEET_SECTIONS = {apply: 'apply', listen: 'proxy.listen', probe: 'probe', targets: 'targets'} as const

const fleetProxy = z.strictObject({
  apply: about('This proxy\'s own `apply` (its backups, locks and history), replacing the shared one whole.', z.optional(apply)),
  listen: about('This proxy\'s own `proxy.listen` (its addresses), replacing the shared one whole.', z.optional(listen)),
  name: about(
    'The proxy\'s name: its peer name in proxy.peers and HAProxy\'s local peer on it; its agent runs with --name NAME.',
    name,
  ),
  probe: about('This proxy\'s own `probe` (its state file), replacing the shared one whole.', z.optional(probe)),
  targets: about(
    'This proxy\'s own `targets` (its config paths, sockets, reload), replacing the shared one whole.',
    z.optional(targets),
  ),
})

const fleet = z.strictObject({
  etcd: about(
    'The etcd cluster holding the inventory of record and the rollouts (its v3 JSON gateway).',
    z.strictObject({
      ca: about('CA (PEM) that signs the etcd servers\' certificates; unset: the system\'s CAs.', z.optional(absolutePath)),
      cert: about('Client certificate (PEM) for etcd client-certificate auth; needs `key`.', z.optional(absolutePath)),
      endpoints: about(
        'etcd client URLs, tried in order: `http://127.0.0.1:2379`, `https://[2001:db8::1]:2379`.',
        z.array(etcdEndpoint).check(z.minLength(1, 'must list at least one etcd endpoint')),
      ),
      key: about('The client certificate\'s private key (PEM); needs `cert`.', z.optional(absolutePath)),
    }),
  ),
  jvbNetworks: about(
    'Networks a self-registered bridge\'s address must be in (`jvb announce`, docs/fleet.md): "10.20.0.0/16", ' +
      '"2001:db8:20::/48"; unset: any address.',
    z.optional(
      z.array(
        text().check(
          kind('network (CIDR)'),
          z.refine((v) => parseCidr(v) !== undefined, 'must be a network as ADDRESS/BITS, e.g. "10.20.0.0/16" or "2001:db8::/32"'),
          z.meta({pattern: '^[0-9A-Fa-f:.]+/\\d{1,3}$'}),
        ),
      ).check(z.minLength(1, 'must list at least one network, or be left out')),
    ),
  ),
  prefix: about(
    'Where under etcd\'s keys this site lives; unset: /jproxy/<domain>.',
    z.optional(
      text().check(
        kind('etcd key path'),
        z.regex(FLEET_PREFIX_PATTERN, 'must be a key path such as "/jproxy/meet.example.org": "/"-separated names'),
      ),
    ),
  ),
  proxies: about(
    'The proxies in rollout order: the first is the canary, and a failure halts every proxy after it.',
    z.array(fleetProxy).check(z.minLength(1, 'must list at least one proxy')),
  ),
})

export const Inventory = z.strictObject({
  apply: about(
    'How `jproxy apply` installs configs: backups, lock wait, reload timeout, its own folder.',
    z.prefault(apply, {}),
  ),
  colibriWs: about(
    'Route /colibri-ws/<server-id>/ to each videobridge (needed with SCTP off, as in the OpenBSD packages).',
    z._default(z.boolean(), true),
  ),
  dns: about(
    'Resolvers `jproxy validate dns` asks; the system resolver is never used unless listed.',
    z.prefault(dns, {}),
  ),
  domain: about(
    'The public name clients use: TLS certificate, relayd keypair, the bridges\' websocket domain.',
    domain,
  ),
  fleet: about(
    'Proxies that apply each published inventory in turn through etcd; unset: no etcd anywhere.',
    z.optional(fleet),
  ),
  health: about(
    'Check timing for the proxy and `jproxy probe`; durations as "500ms", "5s", "2m", "1h".',
    z.prefault(health, {}),
  ),
  probe: about('How `jproxy probe` probes; timing and rise/fall come from `health`.', z.prefault(probe, {})),
  proxy: about('Where the proxy listens, its certificate, its peers and its optional features.', proxy),
  shards: about(
    'One prosody, one jicofo and their videobridges each; every room stays on one shard.',
    z.array(shard).check(z.minLength(1, 'must list at least one shard')),
  ),
  targets: about('Per proxy: where its config is installed, how it is checked and reloaded.', z.prefault(targets, {})),
  web: about(
    'nginx nodes serving jitsi-meet; at least one.',
    z.array(httpNode).check(z.minLength(1, 'must list at least one web node')),
  ),
})

/** A parsed, defaulted inventory: what every domain module takes. */
export type Inventory = z.output<typeof Inventory>
export type Shard = Inventory['shards'][number]
export type Jvb = Shard['jvbs'][number]
/** One bridge's fields as the inventory checks them: a self-registered bridge is held to the same. */
export const Jvb = jvb
export type WebNode = Inventory['web'][number]
export type Fleet = NonNullable<Inventory['fleet']>
export type FleetProxy = Fleet['proxies'][number]

/** The fleet's etcd key prefix: the one given, or /jproxy/<domain>. */
export function fleetPrefix(inventory: Pick<Inventory, 'domain' | 'fleet'>): string {
  return inventory.fleet?.prefix ?? `/jproxy/${inventory.domain.replace(/\.$/, '')}`
}
