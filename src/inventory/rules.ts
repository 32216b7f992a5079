import {RELAY_MAX_HOSTS} from '../relayd/semantic.js'
import {hostPort} from './host-port.js'
import {formatPath} from './problem.js'
import type {Inventory} from './schema.js'

/** A cross-field rule violation, with the zod-style path of the field it is about. */
export interface RuleViolation {
  message: string
  path: Array<number | string>
}

/**
 * The rules zod cannot express on a single field: unique names and server-ids, no two
 * endpoints on one address:port, relayd's table size limit, sane health timing.
 */
export function checkRules(inventory: Inventory): RuleViolation[] {
  const violations: RuleViolation[] = []
  const firstSeen = (kind: string) => {
    const seen = new Map<string, string>()
    return (key: string, path: Array<number | string>, label = key) => {
      const where = formatPath(path)
      const earlier = seen.get(key)
      if (earlier === undefined) seen.set(key, where)
      else violations.push({message: `${kind} ${label} is already used by ${earlier}`, path})
    }
  }

  const nodeName = firstSeen('name')
  const serverId = firstSeen('server-id')
  const endpoint = firstSeen('address:port')
  const mediaEndpoint = firstSeen('media address:port')

  for (const [i, node] of inventory.web.entries()) {
    nodeName(node.name, ['web', i, 'name'])
    endpoint(endpointKey(node.address, node.port), ['web', i, 'address'])
  }

  for (const [s, shard] of inventory.shards.entries()) {
    nodeName(shard.name, ['shards', s, 'name'])
    endpoint(endpointKey(shard.prosody.address, shard.prosody.port), ['shards', s, 'prosody', 'address'])
    endpoint(endpointKey(shard.jicofo.address, shard.jicofo.port), ['shards', s, 'jicofo', 'port'])
    for (const [j, jvb] of shard.jvbs.entries()) {
      const at = ['shards', s, 'jvbs', j]
      // Server-ids are matched across all shards: one /colibri-ws/<id>/ route per id.
      serverId(jvb.id, [...at, 'id'])
      endpoint(endpointKey(jvb.address, jvb.colibriPort), [...at, 'colibriPort'])
      endpoint(endpointKey(jvb.address, jvb.restPort), [...at, 'restPort'])
      if (jvb.media) mediaEndpoint(endpointKey(jvb.media.address, jvb.media.port), [...at, 'media', 'port'])
    }
  }

  if (inventory.proxy.listen.httpPort === inventory.proxy.listen.httpsPort) {
    violations.push({message: 'must differ from proxy.listen.httpsPort', path: ['proxy', 'listen', 'httpPort']})
  }

  const peerName = firstSeen('peer name')
  for (const [i, peer] of inventory.proxy.peers.entries()) peerName(peer.name, ['proxy', 'peers', i, 'name'])
  const {localPeer} = inventory.targets.haproxy
  if (localPeer !== undefined && inventory.proxy.peers.length > 0 && !inventory.proxy.peers.some((p) => p.name === localPeer)) {
    violations.push({message: `must be one of proxy.peers (${inventory.proxy.peers.map((p) => p.name).join(', ')}): HAProxy drops a peers section without its local peer`, path: ['targets', 'haproxy', 'localPeer']})
  }

  violations.push(...fleetViolations(inventory))

  // Clients refresh their room's entry every 60-120 s (lib-jitsi-meet's keep-alive); a shorter expiry loses live rooms.
  if (inventory.proxy.stickExpiry < 2 * 60_000) violations.push({message: 'must be at least 2m: clients refresh their room every 60-120 s', path: ['proxy', 'stickExpiry']})

  if (inventory.web.length > RELAY_MAX_HOSTS) {
    violations.push({message: `relayd allows at most ${RELAY_MAX_HOSTS} hosts per table; ${inventory.web.length} web nodes listed`, path: ['web']})
  }

  if (inventory.shards.length > RELAY_MAX_HOSTS) {
    violations.push({message: `relayd allows at most ${RELAY_MAX_HOSTS} hosts per table; ${inventory.shards.length} shards listed (one prosody each)`, path: ['shards']})
  }

  const {interval, timeout} = inventory.health
  if (timeout >= interval) violations.push({message: 'must be shorter than health.interval', path: ['health', 'timeout']})
  // relayd's global interval is counted in whole seconds.
  if (interval % 1000 !== 0) violations.push({message: 'must be a whole number of seconds (relayd counts the check interval in seconds)', path: ['health', 'interval']})

  return violations
}

/**
 * A fleet proxy's name is its HAProxy peer name (proxyView makes it the local peer): names unique,
 * each one of proxy.peers when peers are listed, and no localPeer set that says otherwise.
 */
function fleetViolations(inventory: Inventory): RuleViolation[] {
  const {fleet} = inventory
  if (!fleet) return []
  const violations: RuleViolation[] = []
  const peers = inventory.proxy.peers.map((p) => p.name)
  const seen = new Map<string, number>()
  for (const [i, proxy] of fleet.proxies.entries()) {
    const at = ['fleet', 'proxies', i]
    const earlier = seen.get(proxy.name)
    if (earlier === undefined) seen.set(proxy.name, i)
    else violations.push({message: `proxy name ${proxy.name} is already used by fleet.proxies[${earlier}].name`, path: [...at, 'name']})
    if (peers.length > 0 && !peers.includes(proxy.name)) {
      violations.push({message: `must be one of proxy.peers (${peers.join(', ')}): a fleet proxy's name is its peer name`, path: [...at, 'name']})
    }

    const own = proxy.targets?.haproxy.localPeer
    if (own !== undefined && own !== proxy.name) {
      violations.push({message: `must be unset or ${proxy.name}: a fleet proxy's local peer is its name`, path: [...at, 'targets', 'haproxy', 'localPeer']})
    }

    if (proxy.listen && proxy.listen.httpPort === proxy.listen.httpsPort) {
      violations.push({message: 'must differ from httpsPort', path: [...at, 'listen', 'httpPort']})
    }
  }

  if ((fleet.etcd.cert === undefined) !== (fleet.etcd.key === undefined)) {
    violations.push({message: 'fleet.etcd.cert and fleet.etcd.key go together: give both or neither', path: ['fleet', 'etcd', fleet.etcd.cert === undefined ? 'cert' : 'key']})
  }

  return violations
}

/** IPv6 literals are case-insensitive; compare endpoints in lower case. */
function endpointKey(address: string, port: number): string {
  return hostPort(address.toLowerCase(), port)
}
