import {formatDuration} from './duration.js'
import {hostPort} from './host-port.js'
import type {Inventory} from './schema.js'

/**
 * The inventory with every default filled in, in the form it is written: durations as "5s",
 * resolvers and listen/backend addresses as "address:port". Loading this text again gives the same inventory.
 */
export function effectiveInventory(inventory: Inventory): Record<string, unknown> {
  const d = formatDuration
  const resolvers = (list: Inventory['dns']['internal']) => list.map((r) => hostPort(r.address, r.port))
  return {
    ...inventory,
    apply: {...inventory.apply, lockWait: d(inventory.apply.lockWait), reloadTimeout: d(inventory.apply.reloadTimeout)},
    dns: {
      ...inventory.dns,
      deadline: d(inventory.dns.deadline),
      internal: resolvers(inventory.dns.internal),
      public: resolvers(inventory.dns.public),
      timeout: d(inventory.dns.timeout),
    },
    health: {...inventory.health, interval: d(inventory.health.interval), timeout: d(inventory.health.timeout)},
    probe: {...inventory.probe, deadline: d(inventory.probe.deadline)},
    proxy: {
      ...inventory.proxy,
      ...(inventory.proxy.acme ? {acme: {backend: hostPort(inventory.proxy.acme.backend.address, inventory.proxy.acme.backend.port)}} : {}),
      ...(inventory.proxy.metrics ? {metrics: {...inventory.proxy.metrics, listen: hostPort(inventory.proxy.metrics.listen.address, inventory.proxy.metrics.listen.port)}} : {}),
      stickExpiry: d(inventory.proxy.stickExpiry),
    },
    targets: {...inventory.targets, haproxy: {...inventory.targets.haproxy, hardStopAfter: d(inventory.targets.haproxy.hardStopAfter)}},
  }
}
