import type {Dispatcher} from 'undici'

import type {RunDeadline} from '../system/run-deadline.js'
import {settleOnce} from '../system/settle-once.js'

/** What one bounded HTTP exchange gave: a status (101 for an accepted upgrade) or why there is none. */
export type Exchange =
  | {body: string; headers: Record<string, string | string[] | undefined>; latencyMs: number; ok: true; status: number; truncated: boolean}
  | {latencyMs: number; ok: false; reason: string}

export interface ExchangeOptions {
  /** The run's deadline: when it expires the exchange ends at once. */
  deadline?: RunDeadline
  headers?: Record<string, string>
  /** Body bytes kept; the connection is cut once more arrive (an endless body ends here). */
  maxBytes: number
  method?: 'GET' | 'HEAD' | 'POST'
  now?: () => number
  origin: string
  path: string
  /** The whole exchange, connect to last byte kept, must fit in this. */
  timeoutMs: number
  /** Ask for a protocol upgrade (`websocket`); a 101 is then the answer, and the socket is closed. */
  upgrade?: string
}

/**
 * One HTTP request through undici's dispatcher API, bounded in every way a backend can misbehave:
 * a total time limit (a server sending a byte a second still ends at the limit), a body cap,
 * no redirects followed (a 3xx is an answer), `Connection: close` so no socket outlives the
 * probe, and any parse error reported as a reason, never thrown.
 */
export function httpExchange(dispatcher: Dispatcher, options: ExchangeOptions): Promise<Exchange> {
  const now = options.now ?? (() => performance.now())
  const started = now()
  const elapsed = () => Math.round(now() - started)

  return new Promise((resolve) => {
    let controller: Dispatcher.DispatchController | undefined
    let status = 0
    let headers: Record<string, string | string[] | undefined> = {}
    const chunks: Buffer[] = []
    let kept = 0
    let truncated = false

    const failed = (reason: string): Exchange => ({latencyMs: elapsed(), ok: false, reason})
    const probe = settleOnce<Exchange>(
      resolve,
      options,
      (limit) => failed(limit === 'deadline' ? 'run deadline reached' : `no complete answer within ${options.timeoutMs} ms`),
      () => controller?.abort(new Error('probe ended')),
    )
    if (probe.settled) return
    const done = () => probe.settle({body: Buffer.concat(chunks).toString('utf8'), headers, latencyMs: elapsed(), ok: true, status, truncated})

    dispatcher.dispatch(
      {
        bodyTimeout: options.timeoutMs,
        headers: options.headers,
        headersTimeout: options.timeoutMs,
        method: options.method ?? 'GET',
        origin: options.origin,
        path: options.path,
        reset: true,
        upgrade: options.upgrade ?? null,
      },
      {
        onRequestStart(c) {
          controller = c
          if (probe.settled) c.abort(new Error('probe already ended'))
        },
        onRequestUpgrade(_c, statusCode, upgradeHeaders, socket) {
          status = statusCode
          headers = upgradeHeaders
          socket.destroy()
          done()
        },
        onResponseStart(_c, statusCode, responseHeaders) {
          status = statusCode
          headers = responseHeaders
        },
        onResponseData(c, chunk) {
          const room = options.maxBytes - kept
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room))
            kept = options.maxBytes
            truncated = true
            // Enough is known: take the status and what fits, and cut the connection.
            done()
            c.abort(new Error('body cap reached'))
            return
          }

          chunks.push(chunk)
          kept += chunk.length
        },
        onResponseEnd() {
          done()
        },
        onResponseError(_c, error) {
          probe.settle(failed(describeError(error)))
        },
      },
    )
  })
}

/** A short reason for a failed exchange: the system error code, or what kind of garbage came back. */
export function describeError(error: Error): string {
  const cause = (error as Error & {cause?: Error & {code?: string}}).cause
  const code = (error as Error & {code?: string}).code ?? cause?.code
  switch (code) {
    case 'ECONNREFUSED': {
      return 'connection refused'
    }

    case 'ECONNRESET':
    case 'UND_ERR_SOCKET': {
      return `connection closed by the backend (${error.message})`
    }

    case 'UND_ERR_CONNECT_TIMEOUT': {
      return 'connect timed out'
    }

    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT': {
      return 'timed out waiting for the answer'
    }

    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_VERSION': {
      return `not an HTTP answer (${error.message})`
    }

    default: {
      if (error.name === 'HTTPParserError') return `not an HTTP answer (${error.message})`
      return code ? `${code}: ${error.message}` : error.message
    }
  }
}
