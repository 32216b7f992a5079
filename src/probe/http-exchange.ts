import type {IncomingHttpHeaders} from 'node:http'
import type {Duplex} from 'node:stream'
import type {Dispatcher} from 'undici'

import {caHint, caWouldFix} from '../system/proxy-ca.js'
import type {RunDeadline} from '../system/run-deadline.js'
import {type Limit, settleOnce, type Settling} from '../system/settle-once.js'

/** What one bounded HTTP exchange gave: a status (101 for an accepted upgrade) or why there is none. */
export type Exchange =
  | {body: string; headers: Record<string, string | string[] | undefined>; latencyMs: number; ok: true; status: number; truncated: boolean}
  | {
      latencyMs: number
      ok: false
      reason: string
      /** TLS failed because this run does not trust the certificate's CA: proxy.tls.ca or --ca would fix it. */
      untrustedCa?: true
    }

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
  return new Promise((resolve) => new ExchangeHandler(options, resolve).start(dispatcher))
}

/**
 * One exchange's state and its dispatch handler in one object: with thousands of probes in flight,
 * closures made per exchange (a handler literal, helpers) were a good part of the heap.
 */
class ExchangeHandler implements Dispatcher.DispatchHandler {
  readonly #chunks: Buffer[] = []
  #controller: Dispatcher.DispatchController | undefined
  #headers: Record<string, string | string[] | undefined> = {}
  #kept = 0
  readonly #now: () => number
  readonly #probe: Settling<Exchange>
  readonly #started: number
  #status = 0
  #truncated = false

  constructor(
    private readonly options: ExchangeOptions,
    resolve: (exchange: Exchange) => void,
  ) {
    this.#now = options.now ?? performance.now.bind(performance)
    this.#started = this.#now()
    this.#probe = settleOnce<Exchange>(resolve, options, this)
  }

  onLimit(limit: Limit): Exchange {
    return this.#failed(limit === 'deadline' ? 'run deadline reached' : `no complete answer within ${this.options.timeoutMs} ms`)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#probe.settled) controller.abort(new Error('probe already ended'))
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#status = statusCode
    this.#headers = headers
    socket.destroy()
    this.#done()
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const room = this.options.maxBytes - this.#kept
    if (chunk.length > room) {
      this.#chunks.push(chunk.subarray(0, room))
      this.#kept = this.options.maxBytes
      this.#truncated = true
      // Enough is known: take the status and what fits, and cut the connection.
      this.#done()
      controller.abort(new Error('body cap reached'))
      return
    }

    this.#chunks.push(chunk)
    this.#kept += chunk.length
  }

  onResponseEnd(): void {
    this.#done()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const failed = this.#failed(describeError(error))
    this.#probe.settle(caWouldFix(errorCode(error)) ? {...failed, untrustedCa: true} : failed)
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode
    this.#headers = headers
  }

  /** A limit ended the exchange: the connection goes. */
  release(): void {
    this.#controller?.abort(new Error('probe ended'))
  }

  start(dispatcher: Dispatcher): void {
    if (this.#probe.settled) return
    const {options} = this
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
      this,
    )
  }

  #done(): void {
    this.#probe.settle({body: Buffer.concat(this.#chunks).toString('utf8'), headers: this.#headers, latencyMs: this.#elapsed(), ok: true, status: this.#status, truncated: this.#truncated})
  }

  #elapsed(): number {
    return Math.round(this.#now() - this.#started)
  }

  #failed(reason: string): Extract<Exchange, {ok: false}> {
    return {latencyMs: this.#elapsed(), ok: false, reason}
  }
}

/** The system's or OpenSSL's code of an error, or of the error that caused it. */
function errorCode(error: Error): string | undefined {
  return (error as Error & {code?: string}).code ?? (error as Error & {cause?: Error & {code?: string}}).cause?.code
}

/** A short reason for a failed exchange: the system error code, or what kind of garbage came back. */
export function describeError(error: Error): string {
  const code = errorCode(error)
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
      // A private CA the run does not trust: say how to trust it, not only OpenSSL's words.
      const hint = caHint(code)
      if (hint) return `${hint} (${code})`
      return code ? `${code}: ${error.message}` : error.message
    }
  }
}
