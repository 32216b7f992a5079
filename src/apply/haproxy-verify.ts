import {parseShowInfo, parseShowStat, type StatRow} from '../haproxy/runtime.js'
import {atomicWrite} from '../system/atomic-write.js'
import {socketCommand} from '../haproxy/socket.js'
import {pollUntil} from '../system/poll.js'

/** Backends and their servers as the rendered haproxy.cfg declares them. */
export function declaredServers(config: string): Map<string, string[]> {
  const backends = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of config.split('\n')) {
    const section = /^(backend|frontend|listen|defaults|global|peers|resolvers|userlist|program)\b\s*(\S*)/.exec(line)
    if (section) {
      current = section[1] === 'backend' ? [] : undefined
      if (current) backends.set(section[2], current)
      continue
    }

    const server = /^\s+server\s+(\S+)/.exec(line)
    if (server && current) current.push(server[1])
  }

  return backends
}

/**
 * What the running HAProxy lacks of the config it should be running; empty when it has it all.
 * `worker`: the pid that must answer. Right after a reload the old worker can still take a connection
 * on the stats socket for a moment, and it lacks what is new: asked again (within `waitMs`) until
 * the new one answers.
 */
export async function missingFromProxy(statsSocket: string, config: string, worker?: number, waitMs = 5000): Promise<string[]> {
  const ask = async () => {
    const answer = await socketCommand(statsSocket, 'show info;show stat', 5000)
    const stat = Math.max(answer.indexOf('# pxname'), 0)
    return {pid: Number(parseShowInfo(answer.slice(0, stat)).Pid), rows: parseShowStat(answer.slice(stat))}
  }
  const {value} = await pollUntil(ask, ({pid}) => worker === undefined || pid === worker, {intervalMs: 100, timeoutMs: waitMs})
  return missingIn(value.rows, config)
}

function missingIn(rows: StatRow[], config: string): string[] {
  const present = new Set(rows.map((r) => `${r.proxy}/${r.server}`))
  const missing: string[] = []
  for (const [backend, servers] of declaredServers(config)) {
    if (!present.has(`${backend}/BACKEND`)) missing.push(`backend ${backend}`)
    else for (const server of servers) if (!present.has(`${backend}/${server}`)) missing.push(`server ${backend}/${server}`)
  }

  return missing
}

/**
 * Dumps `show servers state` into HAProxy's server-state-file just before a reload, so that the
 * new worker (`load-server-state-from-file global`) starts with each server's health and
 * drain/maint state instead of all up. Written whole or not at all.
 */
export async function saveServerState(statsSocket: string, stateFile: string): Promise<void> {
  const state = await socketCommand(statsSocket, 'show servers state', 5000)
  if (!/^1\n/.test(state)) throw new Error(`not a server state dump: ${state.slice(0, 100)}`)
  await atomicWrite(stateFile, state)
}
