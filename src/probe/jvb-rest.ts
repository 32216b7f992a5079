import {Agent} from 'undici'

import type {Jvb} from '../inventory/schema.js'
import {httpExchange} from './http-exchange.js'
import {pollUntil} from '../system/poll.js'

/*
 * A bridge's REST API as jproxy uses it: health, drain and the participant count. It lives with the
 * probes (which already read /about/health and /colibri/stats): both `scale` and `jvb announce`
 * call it, and as feature domains they may not import each other.
 */

const origin = (jvb: Pick<Jvb, 'address' | 'restPort'>) => `http://${jvb.address.includes(':') ? `[${jvb.address}]` : jvb.address}:${jvb.restPort}`

/** Calls a bridge's REST API once (bounded like a probe) and returns the status and body, or throws why not. */
async function call(jvb: Pick<Jvb, 'address' | 'restPort'>, method: 'GET' | 'POST', path: string, timeoutMs: number): Promise<{body: string; status: number}> {
  const dispatcher = new Agent({connect: {timeout: timeoutMs}, pipelining: 1})
  try {
    const exchange = await httpExchange(dispatcher, {maxBytes: 64 * 1024, method, origin: origin(jvb), path, timeoutMs})
    if (!exchange.ok) throw new Error(`${method} ${origin(jvb)}${path}: ${exchange.reason}`)
    return {body: exchange.body, status: exchange.status}
  } finally {
    await dispatcher.destroy()
  }
}

/** `GET /about/health`: true on 200 (the bridge's own health checks pass), false on any other answer; throws when unreachable. */
export async function jvbHealthy(jvb: Pick<Jvb, 'address' | 'restPort'>, timeoutMs: number): Promise<boolean> {
  const {status} = await call(jvb, 'GET', '/about/health', timeoutMs)
  return status === 200
}

/** `POST /colibri/drain/enable|disable`: jicofo stops (or resumes) placing conferences on the bridge. */
export async function setJvbDrain(jvb: Pick<Jvb, 'address' | 'restPort'>, drain: boolean, timeoutMs: number): Promise<void> {
  const path = `/colibri/drain/${drain ? 'enable' : 'disable'}`
  const {status} = await call(jvb, 'POST', path, timeoutMs)
  if (status < 200 || status > 299) throw new Error(`POST ${origin(jvb)}${path} answered ${status} (is rest.drain.enabled on?)`)
}

/** Participants on the bridge now (`GET /colibri/stats`, which needs videobridge.apis.rest.enabled). */
export async function jvbParticipants(jvb: Pick<Jvb, 'address' | 'restPort'>, timeoutMs: number): Promise<number> {
  const {body, status} = await call(jvb, 'GET', '/colibri/stats', timeoutMs)
  let participants: unknown
  try {
    participants = (JSON.parse(body) as {participants?: unknown}).participants
  } catch {
    participants = undefined
  }

  if (status !== 200 || typeof participants !== 'number') throw new Error(`GET ${origin(jvb)}/colibri/stats answered ${status} without a participants count (is videobridge.apis.rest.enabled on?)`)
  return participants
}

/**
 * Polls the participant count every `intervalMs` until it reaches zero or `timeoutMs` passes;
 * `onProgress` hears each count. Ends by itself either way.
 */
export async function waitForNoParticipants(
  jvb: Pick<Jvb, 'address' | 'restPort'>,
  options: {intervalMs: number; onProgress?: (participants: number, waitedMs: number) => void; requestTimeoutMs: number; timeoutMs: number},
): Promise<{emptied: boolean; participants: number; waitedMs: number}> {
  const polled = await pollUntil(() => jvbParticipants(jvb, options.requestTimeoutMs), (participants) => participants === 0, options)
  return {emptied: polled.done, participants: polled.value, waitedMs: polled.waitedMs}
}
