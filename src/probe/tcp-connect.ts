import {connect} from 'node:net'

import type {Exchange} from './http-exchange.js'

/** Whether a TCP port accepts connections within `timeoutMs`; the socket is closed at once. */
export function tcpConnect(host: string, port: number, options: {deadline?: AbortSignal; timeoutMs: number}): Promise<Extract<Exchange, {ok: false}> | {latencyMs: number; ok: true}> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    const socket = connect({host, port})
    let settled = false
    const finish = (result: Extract<Exchange, {ok: false}> | {latencyMs: number; ok: true}) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.deadline?.removeEventListener('abort', onDeadline)
      socket.destroy()
      resolve(result)
    }

    const onDeadline = () => finish({latencyMs: elapsed(), ok: false, reason: 'run deadline reached'})
    const timer = setTimeout(() => finish({latencyMs: elapsed(), ok: false, reason: `no connection within ${options.timeoutMs} ms`}), options.timeoutMs)
    if (options.deadline?.aborted) return onDeadline()
    options.deadline?.addEventListener('abort', onDeadline, {once: true})
    socket.once('connect', () => finish({latencyMs: elapsed(), ok: true}))
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({latencyMs: elapsed(), ok: false, reason: error.code === 'ECONNREFUSED' ? 'connection refused' : `${error.code ?? 'error'}: ${error.message}`}),
    )
  })
}
