import {type PeersSection, parseShowPeers} from '../haproxy/peers.js'
import {parseShowProc} from '../haproxy/runtime.js'
import {socketCommand} from '../haproxy/socket.js'
import type {Inventory} from '../inventory/schema.js'

/** What HAProxy says about itself on one proxy; each part undefined when its socket did not answer. */
export interface HaproxyFacts {
  /** `show peers` on the admin socket. */
  peers?: PeersSection[]
  /** The master's reload count (`show proc`). */
  reloads?: number
  /** The current worker's pid (`show proc`: the worker of the newest generation). */
  workerPid?: number
}

/**
 * The proxy's HAProxy facts for `view`: the master CLI's `show proc` and the admin socket's `show
 * peers`, asked at once, each within `timeoutMs`. Best effort: a dead, refusing or garbled socket
 * leaves its part undefined and never throws (the agent reads this in every heartbeat).
 */
export async function haproxyFacts(view: Inventory, timeoutMs = 2000): Promise<HaproxyFacts> {
  const {masterSocket, socket} = view.targets.haproxy
  const ask = <T>(path: string, command: string, parse: (text: string) => T) =>
    socketCommand(path, command, timeoutMs).then(parse).catch(() => undefined)
  const [proc, peers] = await Promise.all([ask(masterSocket, 'show proc', parseShowProc), ask(socket, 'show peers', parseShowPeers)])
  return {peers, reloads: proc?.master.reloads, workerPid: proc?.workers[0]?.pid}
}
