import type {Dispatcher} from 'undici'

import type {ProbeResult, ProbeTarget} from './model.js'
import {nodeDispatcher} from './node-dispatcher.js'
import {type ProbeContext, probeTarget} from './roles.js'
import {socketDispatcher} from './socket-dispatcher.js'
import {mapLimit} from '../system/map-limit.js'
import {RunDeadline} from '../system/run-deadline.js'

/** Bytes of a response body kept: health answers are tiny, and an endless body ends here. */
export const MAX_BODY_BYTES = 64 * 1024

export interface RunOptions {
  concurrency: number
  /** The whole run ends by then: probes still running are cut, probes not started are skipped. */
  deadlineMs: number
  /**
   * Injected dispatchers (tests); by default the run makes its own, plain HTTP straight over sockets (the
   * lightest per exchange) and TLS over node:https, and closes them after.
   */
  dispatchers?: {http: Dispatcher; https: Dispatcher}
  domain: string
  jvbStats: boolean
  onProgress?: (done: number, total: number) => void
  timeoutMs: number
  /** Extra CA certificates for the proxy's TLS (tests; a private CA). */
  tlsCa?: string
  webPath: string
}

/**
 * Probes every target with at most `concurrency` in flight, each bounded by `timeoutMs` and all
 * by `deadlineMs`. Results come back in target order, one per target.
 */
export async function runProbes(targets: ProbeTarget[], options: RunOptions): Promise<ProbeResult[]> {
  const own = options.dispatchers
    ? undefined
    : {
        http: socketDispatcher(),
        https: nodeDispatcher({ca: options.tlsCa, servername: options.domain}),
      }
  const dispatchers = options.dispatchers ?? own!
  const deadline = new RunDeadline()
  const deadlineTimer = setTimeout(() => deadline.expire(), options.deadlineMs)
  const context: ProbeContext = {
    deadline,
    domain: options.domain,
    http: dispatchers.http,
    https: dispatchers.https,
    jvbStats: options.jvbStats,
    maxBytes: MAX_BODY_BYTES,
    timeoutMs: options.timeoutMs,
    webPath: options.webPath,
  }

  let done = 0
  try {
    return await mapLimit(targets, options.concurrency, async (target) => {
      let result: ProbeResult
      if (deadline.expired) {
        result = {...target, checks: [], health: 'unknown', latencyMs: 0, reason: 'not probed: run deadline reached'}
      } else {
        const probed = await probeTarget(target, context)
        // A probe the deadline cut short says nothing about the backend.
        result = deadline.expired && probed.health !== 'up' ? {...probed, health: 'unknown', reason: `cut by the run deadline (${probed.reason})`} : probed
      }

      options.onProgress?.(++done, targets.length)
      return result
    })
  } finally {
    clearTimeout(deadlineTimer)
    if (own) await Promise.all([own.http.destroy(), own.https.destroy()])
  }
}
