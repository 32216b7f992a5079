import {formatDuration} from './duration.js'
import {hostPort} from './host-port.js'
import type {Fleet, Inventory} from './schema.js'

/**
 * The inventory with every default filled in, in the form it is written: durations as "5s",
 * resolvers and listen/backend addresses as "address:port". Loading this text again gives the same inventory.
 */
export function effectiveInventory(inventory: Inventory): Record<string, unknown> {
  const d = formatDuration
  const resolvers = (list: Inventory['dns']['internal']) => list.map((r) => hostPort(r.address, r.port))
  return {
    ...inventory,
    apply: applyText(inventory.apply),
    dns: {
      ...inventory.dns,
      deadline: d(inventory.dns.deadline),
      internal: resolvers(inventory.dns.internal),
      public: resolvers(inventory.dns.public),
      timeout: d(inventory.dns.timeout),
    },
    health: {...inventory.health, interval: d(inventory.health.interval), timeout: d(inventory.health.timeout)},
    ...(inventory.fleet ? {fleet: fleetText(inventory.fleet)} : {}),
    probe: probeText(inventory.probe),
    proxy: {
      ...inventory.proxy,
      ...(inventory.proxy.acme ? {acme: {backend: hostPort(inventory.proxy.acme.backend.address, inventory.proxy.acme.backend.port)}} : {}),
      ...(inventory.proxy.metrics ? {metrics: {...inventory.proxy.metrics, listen: hostPort(inventory.proxy.metrics.listen.address, inventory.proxy.metrics.listen.port)}} : {}),
      stickExpiry: d(inventory.proxy.stickExpiry),
    },
    targets: targetsText(inventory.targets),
  }
}

// The sections a fleet proxy may give for itself are written the same way as the shared ones.
const applyText = (apply: Inventory['apply']) => ({...apply, lockWait: formatDuration(apply.lockWait), reloadTimeout: formatDuration(apply.reloadTimeout)})
const probeText = (probe: Inventory['probe']) => ({...probe, deadline: formatDuration(probe.deadline)})
const targetsText = (targets: Inventory['targets']) => ({...targets, haproxy: {...targets.haproxy, hardStopAfter: formatDuration(targets.haproxy.hardStopAfter)}})

function fleetText(fleet: Fleet) {
  return {
    ...fleet,
    proxies: fleet.proxies.map((proxy) => ({
      ...proxy,
      ...(proxy.apply ? {apply: applyText(proxy.apply)} : {}),
      ...(proxy.probe ? {probe: probeText(proxy.probe)} : {}),
      ...(proxy.targets ? {targets: targetsText(proxy.targets)} : {}),
    })),
  }
}
