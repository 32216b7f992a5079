import {parseShowProc} from '../haproxy/runtime.js'
import {socketCommand} from '../haproxy/socket.js'
import type {Inventory} from '../inventory/schema.js'

/** The current HAProxy worker's pid, from the master CLI's `show proc`. */
export async function haproxyWorkerPid(view: Inventory): Promise<number | undefined> {
  return parseShowProc(await socketCommand(view.targets.haproxy.masterSocket, 'show proc', 2000)).workers[0]?.pid
}
