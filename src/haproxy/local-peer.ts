import {basename} from 'node:path'

import type {Inventory} from '../inventory/schema.js'
import {localPeerName} from './vocabulary.js'

/**
 * Why this host cannot run the peered config, or undefined when it can. HAProxy finds itself in
 * a peers section by its local peer name (hostname, `localpeer` or `-L`); when no peer has that
 * name it drops the section without an error, and the room table is then neither shared with
 * the other proxies nor kept across a reload.
 */
export function localPeerProblem(inventory: Inventory, hostname: string): string | undefined {
  const {peers} = inventory.proxy
  if (peers.length === 0) return undefined
  const name = localPeerName(inventory, hostname)
  if (peers.some((p) => p.name === name)) return undefined
  const source = inventory.targets.haproxy.localPeer === undefined ? 'this host\'s name' : 'targets.haproxy.localPeer'
  return `${source} "${name}" is not one of proxy.peers (${peers.map((p) => p.name).join(', ')}): HAProxy would drop the peers section and no proxy would share or keep the room table; set targets.haproxy.localPeer or fix proxy.peers`
}

/**
 * The HAProxy check command as this host runs it: `-L NAME` after the program when the config
 * does not name its local peer itself (peered, no localPeer), so the check sees the peers section
 * as this proxy will. A command that already passes -L, or is not haproxy, is left as written.
 */
export function checkCommandFor(argv: readonly string[], inventory: Inventory, hostname: string): string[] {
  const needsName = inventory.proxy.peers.length > 0 && inventory.targets.haproxy.localPeer === undefined
  if (!needsName || argv.includes('-L') || basename(argv[0] ?? '') !== 'haproxy') return [...argv]
  return [argv[0], '-L', localPeerName(inventory, hostname), ...argv.slice(1)]
}
