import {Agent, type Dispatcher} from 'undici'

import {describeError} from '../probe/http-exchange.js'
import {linkedAbort} from '../system/linked-abort.js'

/** One failed etcd call: the endpoint that gave the last answer (or none) and etcd's own words. */
export class EtcdError extends Error {
  constructor(
    readonly endpoint: string,
    readonly etcdMessage: string,
    /** etcd's gRPC status code when etcd answered (5: not found, 9: failed precondition, 14: unavailable). */
    readonly code?: number,
  ) {
    super(`etcd at ${endpoint}: ${etcdMessage}`)
    this.name = 'EtcdError'
  }
}

/** Client TLS material (PEM text, not paths): the caller reads the files the inventory names. */
export interface EtcdTls {
  ca?: Buffer | string
  cert?: Buffer | string
  key?: Buffer | string
}

export interface EtcdTransportOptions {
  /** Used as given and never closed here; unset: an Agent of this transport's own, with `tls`. */
  dispatcher?: Dispatcher
  /** `http(s)://host:port`, tried in order; the last one that answered is tried first next time. */
  endpoints: readonly string[]
  /** Answer bytes kept at most (one message of a stream); more is an error, never a growing buffer. */
  maxBytes?: number
  /** Each call's whole exchange, connect to last byte, unless the call gives its own. */
  timeoutMs: number
  tls?: EtcdTls
}

export interface CallOptions {
  /** Safe to send again to the next endpoint after a timeout or a cut connection (reads, keepalives). */
  idempotent?: boolean
  signal?: AbortSignal
  timeoutMs?: number
}

/** An open streaming answer (a watch): its body and the endpoint serving it. */
export interface EtcdStream {
  body: AsyncIterable<Buffer>
  endpoint: string
}

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024

// Errors raised before a byte of the request left: another endpoint can take any call then.
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])

/**
 * POSTs JSON to etcd's v3 gateway (`/v3/...`), one endpoint after another. A call moves on to the
 * next endpoint when the request surely was not delivered (connection refused, connect timeout) or
 * etcd said it cannot serve (gRPC 14, no leader); after a timeout or a cut connection only when the
 * call is idempotent, so a put or a lock request is never sent twice.
 */
export class EtcdTransport {
  readonly #dispatcher: Dispatcher
  readonly #endpoints: ReadonlyArray<{origin: string; url: string}>
  readonly #maxBytes: number
  readonly #own: Agent | undefined
  #preferred = 0
  readonly #timeoutMs: number

  constructor(options: EtcdTransportOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints')
    this.#endpoints = options.endpoints.map((url) => ({origin: new URL(url).origin, url}))
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.#timeoutMs = options.timeoutMs
    this.#own = options.dispatcher ? undefined : new Agent({connect: {...options.tls}})
    this.#dispatcher = options.dispatcher ?? this.#own!
  }

  /** Closes the Agent this transport made (not one passed in). */
  async close(): Promise<void> {
    await this.#own?.close()
  }

  /** One unary call: the parsed JSON answer, or an EtcdError naming the endpoint. */
  async call<T>(path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.#each(options, async (endpoint, signal) => {
      const response = await this.#dispatcher.request({...request(endpoint.origin, path, body), signal})
      const text = await readCapped(response.body, this.#maxBytes, endpoint.url)
      return answer<T>(endpoint.url, response.statusCode, text)
    })
  }

  /**
   * A streaming call: resolves once the answer's headers arrived (within the timeout); the body then runs
   * until `signal` aborts or the server ends it, with no timeout of its own.
   */
  async stream(path: string, body: unknown, signal: AbortSignal, timeoutMs?: number): Promise<EtcdStream> {
    return this.#each({idempotent: true, signal, timeoutMs}, async (endpoint, headersSignal) => {
      // The headers' limit must not cut the body later: the stream listens to the caller's signal only.
      const aborted = new AbortController()
      const stop = () => aborted.abort(headersSignal.reason)
      headersSignal.addEventListener('abort', stop, {once: true})
      // A signal that aborted before its listener was added never fires it.
      if (headersSignal.aborted) stop()
      try {
        const response = await this.#dispatcher.request({...request(endpoint.origin, path, body), bodyTimeout: 0, signal: aborted.signal})
        if (response.statusCode !== 200) answer(endpoint.url, response.statusCode, await readCapped(response.body, this.#maxBytes, endpoint.url))
        signal.addEventListener('abort', () => aborted.abort(signal.reason), {once: true})
        if (signal.aborted) aborted.abort(signal.reason)
        return {body: response.body as AsyncIterable<Buffer>, endpoint: endpoint.url}
      } finally {
        headersSignal.removeEventListener('abort', stop)
      }
    })
  }

  /** The cap a stream reader applies to one message. */
  get maxBytes(): number {
    return this.#maxBytes
  }

  /** A call's time limit when it gives none. */
  get timeoutMs(): number {
    return this.#timeoutMs
  }

  async #each<T>(options: CallOptions, attempt: (endpoint: {origin: string; url: string}, signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const order = this.#endpoints.map((_, i) => (this.#preferred + i) % this.#endpoints.length)
    let last: EtcdError | undefined
    for (const index of order) {
      const endpoint = this.#endpoints[index]
      const limit = linkedAbort(options.signal, timeoutMs)
      try {
        const result = await attempt(endpoint, limit.signal)
        this.#preferred = index
        return result
      } catch (error) {
        if (options.signal?.aborted) throw new EtcdError(endpoint.url, 'call aborted')
        last = error instanceof EtcdError ? error : new EtcdError(endpoint.url, reason(error as Error, limit.timedOut(), timeoutMs))
        if (!failsOver(error as Error, limit.timedOut(), options.idempotent === true)) throw last
      } finally {
        limit.dispose()
      }
    }

    throw last!
  }
}

function request(origin: string, path: string, body: unknown): Dispatcher.RequestOptions {
  return {
    body: JSON.stringify(body),
    headers: {'content-type': 'application/json'},
    method: 'POST',
    origin,
    path,
  }
}

function reason(error: Error, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no complete answer within ${timeoutMs} ms`
  return describeError(error)
}

function failsOver(error: Error, timedOut: boolean, idempotent: boolean): boolean {
  if (error instanceof EtcdError) return error.code === 14
  const code = (error as Error & {code?: string}).code ?? (error.cause as undefined | {code?: string})?.code
  if (code !== undefined && NOT_SENT.has(code)) return true
  return idempotent && (timedOut || code !== undefined)
}

/** Reads a whole answer body, failing once it passes `maxBytes` (the socket is then dropped). */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, endpoint: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      body.destroy()
      throw new EtcdError(endpoint, `answer larger than ${maxBytes} bytes`)
    }

    chunks.push(chunk)
  }

  return Buffer.concat(chunks).toString('utf8')
}

/** etcd's answer as JSON; an error answer (`{error, message, code}`) becomes an EtcdError. */
export function answer<T>(endpoint: string, status: number, text: string): T {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new EtcdError(endpoint, `HTTP ${status}, not JSON: ${text.slice(0, 200)}`)
  }

  const error = etcdFailure(parsed)
  if (error) throw new EtcdError(endpoint, error.message, error.code)
  if (status !== 200) throw new EtcdError(endpoint, `HTTP ${status}: ${text.slice(0, 200)}`)
  return parsed as T
}

/** The error of an answer or of one stream message (`{error: {...}}` there), if it is one. */
export function etcdFailure(parsed: unknown): undefined | {code?: number; message: string} {
  if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return undefined
  const {code, error, message} = parsed as {code?: number; error: unknown; message?: string}
  if (typeof error === 'object' && error !== null) return etcdFailure({error: true, ...error})
  return {code, message: message ?? String(error)}
}
