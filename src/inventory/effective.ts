import {formatDuration} from './duration.js'
import {hostPort} from './host-port.js'
import type {Fleet, Inventory} from './schema.js'

/**
 * The defaults that depend on the platform jproxy runs on, resolved by the caller: they live
 * in the layers above this one (render's targets and HAProxy package, apply's folder, probe's state).
 */
export interface PlatformDefaults {
  applyDir: string
  haproxy: {chroot: string; group: string; user: string}
  outputs: Record<keyof Inventory['targets'], string>
  stateFile: string
}

/**
 * The inventory with every default filled in, in the form it is written: durations as "5s",
 * resolvers and listen/backend addresses as "address:port". With `platform`, the values left
 * unset for the platform to decide (output paths, HAProxy's account and chroot, apply.dir,
 * probe.stateFile) are written as this platform's; `false` stays `false`. Loading this text
 * again gives an inventory that renders and applies the same on this platform.
 */
export function effectiveInventory(inventory: Inventory, platform?: PlatformDefaults): Record<string, unknown> {
  const filled = platform ? withPlatformDefaults(inventory, platform) : inventory
  return writtenForm(filled)
}

function withPlatformDefaults(inventory: Inventory, platform: PlatformDefaults): Inventory {
  const {targets} = inventory
  const {haproxy} = targets
  return {
    ...inventory,
    apply: {...inventory.apply, dir: inventory.apply.dir ?? platform.applyDir},
    probe: {...inventory.probe, stateFile: inventory.probe.stateFile ?? platform.stateFile},
    targets: {
      ...targets,
      haproxy: {
        ...haproxy,
        chroot: haproxy.chroot ?? platform.haproxy.chroot,
        group: haproxy.group ?? platform.haproxy.group,
        output: haproxy.output ?? platform.outputs.haproxy,
        user: haproxy.user ?? platform.haproxy.user,
      },
      pf: {...targets.pf, output: targets.pf.output ?? platform.outputs.pf},
      relayd: {...targets.relayd, output: targets.relayd.output ?? platform.outputs.relayd},
    },
  }
}

function writtenForm(inventory: Inventory): Record<string, unknown> {
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
