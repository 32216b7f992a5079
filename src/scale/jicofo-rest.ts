import {Agent} from 'undici'

import type {Shard} from '../inventory/schema.js'
import {hostPort} from '../inventory/host-port.js'
import {httpExchange} from '../probe/http-exchange.js'
import {pollUntil} from '../system/poll.js'

/** Conferences and participants a shard's jicofo holds now. */
export interface ShardLoad {
  conferences: number
  participants: number
}

/** `GET /stats` on the shard's jicofo REST port (jicofo's own counts, bounded like a probe), or throws why not. */
export async function jicofoLoad(shard: Pick<Shard, 'jicofo'>, timeoutMs: number): Promise<ShardLoad> {
  const origin = `http://${hostPort(shard.jicofo.address, shard.jicofo.port)}`
  const dispatcher = new Agent({connect: {timeout: timeoutMs}, pipelining: 1})
  try {
    const exchange = await httpExchange(dispatcher, {maxBytes: 256 * 1024, method: 'GET', origin, path: '/stats', timeoutMs})
    if (!exchange.ok) throw new Error(`GET ${origin}/stats: ${exchange.reason}`)
    let stats: {conferences?: unknown; participants?: unknown} = {}
    try {
      stats = JSON.parse(exchange.body) as typeof stats
    } catch {}

    const {conferences, participants} = stats
    if (exchange.status !== 200 || typeof conferences !== 'number' || typeof participants !== 'number') {
      throw new Error(`GET ${origin}/stats answered ${exchange.status} without conferences and participants counts`)
    }

    return {conferences, participants}
  } finally {
    await dispatcher.destroy()
  }
}

/**
 * Polls the shard's jicofo every `intervalMs` until it has no conference and no participant, or
 * `timeoutMs` passes; `onProgress` hears each count. Ends by itself either way.
 */
export async function waitForEmptyShard(
  shard: Pick<Shard, 'jicofo'>,
  options: {intervalMs: number; onProgress?: (load: ShardLoad, waitedMs: number) => void; requestTimeoutMs: number; timeoutMs: number},
): Promise<{emptied: boolean; load: ShardLoad; waitedMs: number}> {
  const polled = await pollUntil(() => jicofoLoad(shard, options.requestTimeoutMs), (load) => load.conferences === 0 && load.participants === 0, options)
  return {emptied: polled.done, load: polled.value, waitedMs: polled.waitedMs}
}
