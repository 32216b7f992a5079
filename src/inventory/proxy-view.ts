import {JproxyError} from '../errors.js'
import type {Inventory} from './schema.js'

/**
 * The inventory as the fleet proxy `name` sees it: its own listen, targets, apply and probe, where
 * given, replace the shared sections whole (never merged: each proxy keeps its addresses, sockets,
 * state and backups in its own paths), and its name is HAProxy's local peer. Everything else is
 * shared, so every proxy routes each room alike. Throws a usage error when the inventory has no such proxy.
 */
export function proxyView(inventory: Inventory, name: string): Inventory {
  const proxies = inventory.fleet?.proxies ?? []
  const own = proxies.find((p) => p.name === name)
  if (!own) {
    const known = proxies.map((p) => p.name)
    throw new JproxyError('usage', `no fleet proxy named ${name}: ${known.length > 0 ? `fleet.proxies lists ${known.join(', ')}` : 'the inventory has no fleet section'}`)
  }

  const targets = own.targets ?? inventory.targets
  return {
    ...inventory,
    apply: own.apply ?? inventory.apply,
    probe: own.probe ?? inventory.probe,
    proxy: {...inventory.proxy, listen: own.listen ?? inventory.proxy.listen},
    targets: {...targets, haproxy: {...targets.haproxy, localPeer: name}},
  }
}
