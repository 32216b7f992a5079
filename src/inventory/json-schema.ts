import {fileURLToPath} from 'node:url'

import {Inventory} from './schema.js'
import * as z from './zod.js'

/** Where the built schema lives, relative to the package root (shipped; `init` points editors at it). */
export const JSON_SCHEMA_FILE = 'schema/inventory.schema.json'

/**
 * The inventory as a JSON Schema (draft 2020-12) of what may be written, defaults optional:
 * editors complete and check fields with it. Refinements zod cannot export (IP literals,
 * durations) appear as loose patterns, so an editor never refuses what jproxy accepts.
 */
export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Inventory, {io: 'input', target: 'draft-2020-12', unrepresentable: 'any'}) as Record<string, any>
  for (const [path, description] of Object.entries(DESCRIPTIONS)) {
    const node = nodeAt(schema, path.split('.'))
    if (node) node.description = description
  }

  return {...schema, description: 'jproxy inventory: one file describing a Jitsi Meet deployment behind the proxy tier', title: 'jproxy inventory'}
}

/** The schema node of a dotted path (`[]` steps into list items); undefined when there is none. */
export function nodeAt(schema: Record<string, any>, keys: string[]): Record<string, any> | undefined {
  let node: Record<string, any> | undefined = schema
  for (const key of keys) node = key === '[]' ? node?.items : node?.properties?.[key]
  return node
}

/**
 * What editors show on hover, kept here rather than in the zod schema so the schema stays the
 * type; a test checks every path still exists. The reference is docs/inventory.md.
 */
export const DESCRIPTIONS: Record<string, string> = {
  apply: 'How `jproxy apply` installs configs: backups, lock wait, reload timeout, its own folder.',
  colibriWs: 'Route /colibri-ws/<server-id>/ to each videobridge (needed with SCTP off, as in the OpenBSD packages).',
  dns: 'Resolvers `jproxy validate dns` asks; the system resolver is never used unless listed.',
  'dns.internal': 'Resolvers the proxy and bridges use: backend names must resolve here ("10.0.0.53", "[2001:db8::53]:5353").',
  'dns.public': "Resolvers clients use, e.g. the zone's authoritative servers.",
  domain: 'The public name clients use: TLS certificate, relayd keypair, the bridges\' websocket domain.',
  health: 'Check timing for the proxy and `jproxy probe`: interval, timeout, rise, fall.',
  'health.fall': 'Failed checks in a row before a backend is down.',
  'health.interval': 'Time between checks ("5s").',
  'health.rise': 'Good checks in a row before a backend is up again.',
  'health.timeout': 'How long one check may take ("2s").',
  probe: 'How `jproxy probe` probes: concurrency, deadline, web path, state file.',
  proxy: 'Where the proxy listens, its certificate, and its peers.',
  'proxy.listen': 'The addresses and ports the proxy listens on.',
  'proxy.listen.httpPort': 'Plain-HTTP port: redirects to https, and ACME challenges for the web nodes.',
  'proxy.listen.ipv4': 'IPv4 address the proxy listens on.',
  'proxy.peers': 'Other HAProxy boxes sharing the room stick table; names are their hostnames.',
  'proxy.tls.ca':
    'A private CA (PEM) that jproxy trusts for its own requests through the proxy (apply, probe, validate tls, scale, tls deploy); --ca overrides it.',
  'proxy.tls.certificate': 'PEM certificate chain; for HAProxy it holds the key too, or the key is at <certificate>.key.',
  shards: 'One prosody, one jicofo and their videobridges each; every room stays on one shard.',
  'shards.[].jicofo': 'Defaults to the prosody host, port 8888.',
  'shards.[].jvbs': 'The shard\'s videobridges.',
  'shards.[].jvbs.[].id': "The bridge's videobridge.websockets.server-id: the path segment after /colibri-ws/.",
  'shards.[].jvbs.[].media': 'Public media address and UDP port, for the pf rdr-to rule.',
  'shards.[].prosody': 'BOSH and XMPP websocket (port 5280).',
  targets: 'Per proxy: where its config is installed, how it is checked and reloaded.',
  web: 'nginx nodes serving jitsi-meet (port 80); at least one.',
}

/** The schema file of this installation (dist/inventory/ -> package root): what `init` points editors at. */
export function installedSchemaPath(): string {
  return fileURLToPath(new URL(`../../${JSON_SCHEMA_FILE}`, import.meta.url))
}

let inputSchema: Record<string, any> | undefined

/** The keys the inventory allows in the mapping at `path` (list indexes step into items); [] if none. */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const node = nodeAt((inputSchema ??= inventoryJsonSchema()), path.map((key) => (typeof key === 'number' ? '[]' : String(key))))
  return Object.keys(node?.properties ?? {})
}
