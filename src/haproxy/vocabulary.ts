import {formatDuration} from '../inventory/duration.js'
import {hostPort} from '../inventory/host-port.js'
import type {Inventory, Jvb} from '../inventory/schema.js'
import {ipVersion} from '../system/ip.js'

/**
 * HAProxy's names for jproxy's parts, in one place: the rendered haproxy.cfg (src/render) and the
 * runtime API calls (this folder) must spell every server, backend and peer the same way.
 */

/** The backend of every videobridge's colibri-ws server, one server per bridge id. */
export const COLIBRI_BACKEND = 'be_colibri'
/**
 * The colibri allow-list's standing entry in a fleet: `/` never equals a path segment, so it admits
 * nothing, but it keeps the list in the running HAProxy while no bridge is listed, for a
 * registered bridge to be added to at run time (docs/fleet.md, "Self-registering bridges").
 */
export const ALLOW_LIST_ANCHOR = '/'

/**
 * HAProxy places each server on its consistent-hash ring by its numeric id
 * (`full_hash(id * 4096 + node)`), so two proxies rendered from one inventory agree on every
 * room only if each shard keeps one id everywhere. Deriving the id from the shard's name
 * (FNV-1a) keeps it stable when other shards are added, removed or reordered, so only the
 * rooms of the shard that changed move. The range keeps `id * 4096` inside 32 bits.
 */
export const MAX_SERVER_ID = 524_287

/** The stable HAProxy server id of a shard, 1..MAX_SERVER_ID. */
export function shardServerId(name: string): number {
  let hash = 0x81_1C_9D_C5
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte
    hash = Math.imul(hash, 0x01_00_01_93) >>> 0
  }

  return (hash % MAX_SERVER_ID) + 1
}

/**
 * The weight of every shard's server. HAProxy gives a server `weight * 16` points on the
 * consistent-hash ring; at weight 1 the 16 points split 3 shards 31/28/40 %, at 256 (the
 * maximum) 4,096 points split them within a few percent. The id range above leaves room for
 * all 4,096 points of one id before the next.
 */
export const SHARD_WEIGHT = 256

/** srv_admin_state bits in `show servers state`: maintenance forced by `set server … state maint`, and drain. */
export const ADMIN_MAINT = 0x01
export const ADMIN_DRAIN = 0x08

/**
 * The stick table that pins each room to its shard (be_prosody's; be_jicofo sticks on it too), and
 * the peers section that shares it and hands it from the old worker to the new one on a reload.
 * templates/haproxy.cfg.mustache spells both.
 */
export const ROOM_TABLE = 'be_prosody'
export const PEERS_SECTION = 'jproxy'

/** The health-check backend that gives a shard its one verdict. */
export const shardCheckBackend = (shard: string) => `hc_${shard}`

/** The local peer's name of a single proxy (no proxy.peers) when targets.haproxy.localPeer does not name it. */
export const SINGLE_PEER_NAME = 'local'

/**
 * The name this HAProxy has in the peers section: targets.haproxy.localPeer, else the single
 * proxy's fixed name, else (peered) the hostname, which is HAProxy's own default.
 */
export function localPeerName(inventory: Inventory, hostname: string): string {
  return inventory.targets.haproxy.localPeer ?? (inventory.proxy.peers.length === 0 ? SINGLE_PEER_NAME : hostname)
}

/**
 * A videobridge's colibri-ws server as haproxy.cfg and the runtime API's `add server` both take
 * it: `ID ADDR:PORT check … port REST`.
 */
export function colibriServer(jvb: Jvb, inventory: Inventory): string {
  const {health} = inventory
  const check = `check inter ${formatDuration(health.interval)} rise ${health.rise} fall ${health.fall}`
  return `${jvb.id} ${serverAddress(jvb.address, jvb.colibriPort)} ${check} port ${jvb.restPort}`
}

/**
 * A server's `address:port`. A hostname also gets `init-addr last,libc,none`: HAProxy refuses
 * to start when a server name does not resolve, and one dead DNS name must not take the
 * whole proxy down; such a server starts in maintenance and its health check decides.
 */
export function serverAddress(address: string, port: number): string {
  return ipVersion(address) === 0 ? `${hostPort(address, port)} init-addr last,libc,none` : hostPort(address, port)
}
