import {connect} from 'node:net'

import type {Exchange} from './http-exchange.js'
import type {RunDeadline} from '../system/run-deadline.js'
import {settleOnce} from '../system/settle-once.js'

export type Connected = Extract<Exchange, {ok: false}> | {latencyMs: number; ok: true}

/** Whether a TCP port accepts connections within `timeoutMs`; the socket is closed at once. */
export function tcpConnect(host: string, port: number, options: {deadline?: RunDeadline; timeoutMs: number}): Promise<Connected> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    // eslint-disable-next-line prefer-const -- assigned after the settle callbacks that read it are made
    let socket: ReturnType<typeof connect> | undefined
    const probe = settleOnce<Connected>(
      resolve,
      options,
      (limit) => ({latencyMs: elapsed(), ok: false, reason: limit === 'deadline' ? 'run deadline reached' : `no connection within ${options.timeoutMs} ms`}),
      () => socket?.destroy(),
    )
    if (probe.settled) return
    const opened = connect({host, port})
    socket = opened
    const end = (result: Connected) => {
      probe.settle(result)
      opened.destroy()
    }

    opened.once('connect', () => end({latencyMs: elapsed(), ok: true}))
    opened.once('error', (error: NodeJS.ErrnoException) =>
      end({latencyMs: elapsed(), ok: false, reason: error.code === 'ECONNREFUSED' ? 'connection refused' : `${error.code ?? 'error'}: ${error.message}`}),
    )
  })
}
