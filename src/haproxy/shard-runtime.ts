import {socketCommand} from './socket.js'
import {ADMIN_DRAIN, ADMIN_MAINT, SHARD_WEIGHT} from './vocabulary.js'

/** The backends that hold one server per shard, under the shard's name. */
export const SHARD_BACKENDS = ['be_prosody', 'be_jicofo'] as const

async function expectSilent(socket: string, command: string): Promise<void> {
  const answer = (await socketCommand(socket, command)).trim()
  if (answer !== '') throw new Error(`"${command}": ${answer}`)
}

/**
 * Drains a shard in the running HAProxy, or puts it back: `set server … state drain|ready` on its
 * server in be_prosody and be_jicofo. A drained server takes no new rooms, while stick-table
 * entries keep sending its rooms to it. `ready` also sets the full weight, because a config
 * rendered while the shard was drained gave it weight 0. A half-done change is undone.
 */
export async function setShardState(socket: string, shard: string, state: 'drain' | 'ready'): Promise<void> {
  const done: string[] = []
  try {
    for (const backend of SHARD_BACKENDS) {
      const server = `${backend}/${shard}`
      await expectSilent(socket, `set server ${server} state ${state}`)
      done.push(server)
      if (state === 'ready') await expectSilent(socket, `set weight ${server} ${SHARD_WEIGHT}`)
    }
  } catch (error) {
    for (const server of done) await socketCommand(socket, `set server ${server} state ${state === 'drain' ? 'ready' : 'drain'}`).catch(() => undefined)
    throw error
  }
}

/** A shard's server in `show servers state be_prosody`: admin flags and weight (undefined when absent). */
export async function shardServerState(socket: string, shard: string, backend: (typeof SHARD_BACKENDS)[number] = 'be_prosody'): Promise<{admin: number; operational: number; weight: number} | undefined> {
  const state = await socketCommand(socket, `show servers state ${backend}`)
  for (const line of state.split('\n')) {
    const f = line.split(' ')
    if (f[1] === backend && f[3] === shard) return {admin: Number(f[6]), operational: Number(f[5]), weight: Number(f[7])}
  }

  return undefined
}

/**
 * What `show servers state` says of the shard's servers that `setShardState(state)` should have
 * changed and did not: `drain` sets the drain flag (the weight stays); `ready` clears it and forced
 * maintenance and gives the full weight. Empty when both servers read back as set.
 */
export async function shardStateProblems(socket: string, shard: string, state: 'drain' | 'ready'): Promise<string[]> {
  const problems: string[] = []
  for (const backend of SHARD_BACKENDS) {
    const server = `${backend}/${shard}`
    const read = await shardServerState(socket, shard, backend)
    if (!read) {
      problems.push(`${server} is not in "show servers state"`)
      continue
    }

    const admin = `${server} reads back admin state ${read.admin}`
    if (state === 'drain' && (read.admin & ADMIN_DRAIN) === 0) problems.push(`${admin}, without the drain flag`)
    if (state === 'ready' && (read.admin & (ADMIN_DRAIN | ADMIN_MAINT)) !== 0) problems.push(`${admin}, still drained or in maintenance`)
    if (state === 'ready' && read.weight !== SHARD_WEIGHT) problems.push(`${server} reads back weight ${read.weight}, not ${SHARD_WEIGHT}`)
  }

  return problems
}
