import {type Inventory, Jvb, fleetPrefix} from './schema.js'
import * as z from './zod.js'
import {cidrContains, ipVersion} from '../system/ip.js'

/*
 * A self-registered bridge in etcd (docs/fleet.md, "Self-registering bridges"):
 *   P/jvbs/<shard>/<id>   one JSON Registration, bound to the announcer's (or autoscaler's) lease
 * Anyone who can write under P/jvbs/ can name a bridge, so every value is checked here, by the rules
 * the inventory applies to a static bridge and a few of the fleet's own, before anything acts on it.
 */

export const REGISTRATION_STATES = ['active', 'draining'] as const

/** A value larger than this is refused unread: a registration is a few hundred bytes. */
export const REGISTRATION_MAX_BYTES = 4096

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/

/** The value's schema: a bridge as the inventory has it (without `media`: pf rules are not run-time), plus where and how. */
const RegistrationSchema = z.extend(z.omit(Jvb, {media: true}), {
  announcedAt: z.string().check(z.regex(ISO_INSTANT, 'must be a UTC time such as "2025-01-31T12:00:00.000Z"')),
  shard: Jvb.shape.id,
  state: z.enum(REGISTRATION_STATES),
})

/** One registration, defaults applied: what the announcer writes and what a reader acts on. */
export type Registration = z.output<typeof RegistrationSchema>

/** Why a registration is refused: the field at fault (`key` for the key itself) and what is wrong. */
export interface RegistrationProblem {
  field: string
  message: string
}

export type ParsedRegistration = {ok: false; problem: RegistrationProblem} | {ok: true; registration: Registration}

/** Where the fleet's registrations live: `P/jvbs/`. */
export const registrationsPrefix = (inventory: Pick<Inventory, 'domain' | 'fleet'>) => `${fleetPrefix(inventory)}/jvbs/`

/** The key of one bridge's registration: `P/jvbs/<shard>/<id>`. */
export const registrationKey = (inventory: Pick<Inventory, 'domain' | 'fleet'>, shard: string, id: string) =>
  `${registrationsPrefix(inventory)}${shard}/${id}`

const refuse = (field: string, message: string): ParsedRegistration => ({ok: false, problem: {field, message}})

/**
 * Checks one registration read at `key` against the inventory (pure: no I/O). Refused, naming the
 * field: a key outside `P/jvbs/<shard>/<id>`; a value that is not one JSON object of the documented
 * fields, or whose id, address or ports break the inventory's rules for a bridge; key and value
 * disagreeing on the shard or id; a shard the inventory does not have; an address outside
 * `fleet.jvbNetworks` (when set) or a hostname then; an id, or a colibri or REST endpoint, that a
 * static bridge of the inventory already has (one /colibri-ws/<id>/ route per id, across shards).
 */
export function parseRegistration(key: string, value: string, inventory: Pick<Inventory, 'domain' | 'fleet' | 'shards'>): ParsedRegistration {
  const prefix = registrationsPrefix(inventory)
  if (!key.startsWith(prefix)) return refuse('key', `must be under ${prefix}`)
  const segments = key.slice(prefix.length).split('/')
  if (segments.length !== 2 || segments.includes('')) return refuse('key', `must be ${prefix}<shard>/<id>`)
  const [keyShard, keyId] = segments
  if (Buffer.byteLength(value) > REGISTRATION_MAX_BYTES) return refuse('value', `must be at most ${REGISTRATION_MAX_BYTES} bytes`)
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch {
    return refuse('value', 'must be one JSON object')
  }

  if (typeof json !== 'object' || json === null || Array.isArray(json)) return refuse('value', 'must be one JSON object')
  const parsed = RegistrationSchema.safeParse(json)
  if (!parsed.success) {
    const [issue] = parsed.error.issues
    const unknown = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined
    return refuse(issue.path.map(String).join('.') || 'value', unknown ?? issue.message)
  }

  const registration = parsed.data
  if (registration.shard !== keyShard) return refuse('shard', `is ${JSON.stringify(registration.shard)}, but the key names shard ${JSON.stringify(keyShard)}`)
  if (registration.id !== keyId) return refuse('id', `is ${JSON.stringify(registration.id)}, but the key names id ${JSON.stringify(keyId)}`)
  if (!inventory.shards.some((s) => s.name === registration.shard)) return refuse('shard', `${registration.shard} is not a shard of the inventory`)
  const networks = inventory.fleet?.jvbNetworks
  if (networks) {
    if (ipVersion(registration.address) === 0) return refuse('address', 'must be an IP address: fleet.jvbNetworks is set')
    if (!networks.some((network) => cidrContains(network, registration.address))) {
      return refuse('address', `${registration.address} is outside fleet.jvbNetworks (${networks.join(', ')})`)
    }
  }

  for (const shard of inventory.shards) {
    for (const jvb of shard.jvbs) {
      if (jvb.id === registration.id) return refuse('id', `${jvb.id} is a static bridge of shard ${shard.name} in the inventory`)
      const endpoints = [jvb.colibriPort, jvb.restPort].map((port) => endpointKey(jvb.address, port))
      for (const field of ['colibriPort', 'restPort'] as const) {
        if (endpoints.includes(endpointKey(registration.address, registration[field]))) {
          return refuse(field, `${registration.address}:${registration[field]} is a port of static bridge ${jvb.id}`)
        }
      }
    }
  }

  return {ok: true, registration}
}

const endpointKey = (address: string, port: number) => `${address.toLowerCase()}|${port}`

/**
 * The view with the registered bridges added to their shards after the static ones (pure): what a
 * fleet proxy renders, so a reload or restart keeps every registered bridge routable. A
 * registration's state is not rendered: the agent sets a draining bridge's drain at run time.
 */
export function withRegisteredBridges(view: Inventory, registrations: Iterable<Registration>): Inventory {
  const byShard = new Map<string, Registration[]>()
  // In id order: every proxy renders the same config from the same registrations, whatever order it saw them in.
  const sorted = [...registrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (const registration of sorted) byShard.set(registration.shard, [...(byShard.get(registration.shard) ?? []), registration])
  if (byShard.size === 0) return view
  return {
    ...view,
    shards: view.shards.map((shard) => {
      const registered = (byShard.get(shard.name) ?? []).map(({address, colibriPort, id, restPort}) => ({address, colibriPort, id, restPort}))
      return registered.length === 0 ? shard : {...shard, jvbs: [...shard.jvbs, ...registered]}
    }),
  }
}
