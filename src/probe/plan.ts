import type {Inventory} from '../inventory/schema.js'
import type {ProbeTarget, Role} from './model.js'

/** Which backends a run covers; empty lists mean all. */
export interface ProbeFilter {
  /** Only backends at this address (relayd's `check script` passes the table host). */
  host?: string
  ids?: string[]
  roles?: Role[]
  shards?: string[]
}

/** Every backend of the inventory as a probe target, in inventory order, narrowed by `filter`. */
export function planProbes(inventory: Inventory, filter: ProbeFilter = {}): ProbeTarget[] {
  const targets: ProbeTarget[] = []
  for (const web of inventory.web) targets.push({address: web.address, id: web.name, key: `web/${web.name}`, port: web.port, role: 'web'})
  for (const shard of inventory.shards) {
    targets.push({address: shard.prosody.address, id: shard.name, key: `prosody/${shard.name}`, port: shard.prosody.port, role: 'prosody', shard: shard.name})
    targets.push({address: shard.jicofo.address, id: shard.name, key: `jicofo/${shard.name}`, port: shard.jicofo.port, role: 'jicofo', shard: shard.name})
    for (const jvb of shard.jvbs) {
      targets.push({
        address: jvb.address,
        colibriPort: inventory.colibriWs ? jvb.colibriPort : undefined,
        id: jvb.id,
        key: `jvb/${shard.name}/${jvb.id}`,
        port: jvb.restPort,
        role: 'jvb',
        shard: shard.name,
      })
    }
  }

  if (inventory.probe.proxy) {
    const {httpsPort, ipv4, ipv6} = inventory.proxy.listen
    for (const address of [ipv4, ipv6].filter((a) => a !== undefined)) {
      targets.push({address, id: address, key: `proxy/${address}`, port: httpsPort, role: 'proxy', servername: inventory.domain})
    }
  }

  return filterTargets(targets, filter)
}

/**
 * What probing needs of the inventory, and nothing else: `probe --host` (relayd's check script)
 * reads this from the plan cache instead of loading the inventory with yaml and zod.
 */
export interface ProbePlan {
  domain: string
  /** Every backend, unfiltered. */
  targets: ProbeTarget[]
  /** health.timeout */
  timeoutMs: number
  webPath: string
}

export function probePlan(inventory: Inventory): ProbePlan {
  return {domain: inventory.domain, targets: planProbes(inventory), timeoutMs: inventory.health.timeout, webPath: inventory.probe.webPath}
}

/** The plan's targets narrowed by `filter`, as planProbes narrows. */
export function filterTargets(targets: ProbeTarget[], filter: ProbeFilter): ProbeTarget[] {
  const has = <T>(list: T[] | undefined, value: T | undefined) => !list || list.length === 0 || (value !== undefined && list.includes(value))
  return targets.filter(
    (t) =>
      has(filter.roles, t.role) &&
      has(filter.shards, t.shard) &&
      has(filter.ids, t.id) &&
      (filter.host === undefined || t.address.toLowerCase() === filter.host.toLowerCase()),
  )
}
