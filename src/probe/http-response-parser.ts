/**
 * An HTTP/1.x response read incrementally from a socket's chunks: the status line and headers,
 * then the body by Content-Length, chunked encoding or the connection's end. Enough of HTTP for a
 * health probe, and no more: what Node's parser would reject is rejected with the same code and
 * message, so a probe's reason reads the same (`not an HTTP answer (...)`, `connection closed by
 * the backend (...)`).
 */

/** What the response gave so far, as callbacks; `onBody` chunks are views into the socket's buffers. */
export interface ResponseEvents {
  onBody(chunk: Buffer): void
  onEnd(): void
  onHead(status: number, statusText: string, headers: Record<string, string | string[]>): void
  /** A 101 to a request that asked for an upgrade: the exchange ends here, the socket is the caller's. */
  onUpgrade(status: number, headers: Record<string, string | string[]>): void
}

/** Node's limit on a response head (--max-http-header-size, 16 KiB by default). */
export const MAX_HEAD_BYTES = 16 * 1024
/** A chunk-size line is a few hex digits and maybe an extension; longer is not HTTP. */
const MAX_CHUNK_LINE_BYTES = 1024

/** Headers Node keeps once (the first wins) instead of joining their repeats with `, `. */
const SINGLE = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent'])
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HTTP_PREFIX = Buffer.from('HTTP/')

/** A parse failure, coded and worded as Node's own parser (llhttp) reports it; describeError reads the code. */
export class HttpParseError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(`Parse Error: ${message}`)
    this.code = code
  }
}

/** The response ended early, coded as Node codes it (`socket hang up` before the head, `aborted` in the body). */
function closedEarly(message: string): Error {
  return Object.assign(new Error(message), {code: 'ECONNRESET'})
}

type State = 'body-chunk-data' | 'body-chunk-end' | 'body-chunk-size' | 'body-close' | 'body-length' | 'done' | 'head' | 'trailers'

export class HttpResponseParser {
  /** Bytes of a line or head not complete yet (only while one spans chunks). */
  #pending: Buffer | undefined
  /** Body bytes left: of the Content-Length, or of the current chunk. */
  #remaining = 0
  #state: State = 'head'

  constructor(
    private readonly request: {head: boolean; upgrade: boolean},
    private readonly events: ResponseEvents,
  ) {}

  get done(): boolean {
    return this.#state === 'done'
  }

  /** The connection's end: a close-delimited body ends here; anything else unfinished is an early close. */
  finish(): void {
    if (this.#state === 'done') return
    if (this.#state === 'body-close') {
      this.#end()
      return
    }

    throw closedEarly(this.#state === 'head' ? 'socket hang up' : 'aborted')
  }

  /** Feeds one chunk; throws HttpParseError on what is not HTTP. */
  push(chunk: Buffer): void {
    let data = chunk
    while (data.length > 0 && this.#state !== 'done') data = this.#step(data)
  }

  #end(): void {
    this.#state = 'done'
    this.#pending = undefined
    this.events.onEnd()
  }

  /** Consumes what it can of `data` in the current state; returns the rest. */
  #step(data: Buffer): Buffer {
    switch (this.#state) {
      case 'head': {
        return this.#head(data)
      }

      case 'body-length': {
        const take = Math.min(this.#remaining, data.length)
        this.#remaining -= take
        this.events.onBody(data.subarray(0, take))
        if (this.#remaining === 0) this.#end()
        return data.subarray(take)
      }

      case 'body-close': {
        this.events.onBody(data)
        return data.subarray(data.length)
      }

      case 'body-chunk-size': {
        return this.#line(data, MAX_CHUNK_LINE_BYTES, 'HPE_INVALID_CHUNK_SIZE', 'Chunk size line too long', (line) => {
          const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line)
          if (!size) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size')
          this.#remaining = Number.parseInt(size[1], 16)
          this.#state = this.#remaining === 0 ? 'trailers' : 'body-chunk-data'
        })
      }

      case 'body-chunk-data': {
        const take = Math.min(this.#remaining, data.length)
        this.#remaining -= take
        this.events.onBody(data.subarray(0, take))
        if (this.#remaining === 0) this.#state = 'body-chunk-end'
        return data.subarray(take)
      }

      case 'body-chunk-end': {
        return this.#line(data, 2, 'HPE_STRICT', 'Expected LF after chunk data', (line) => {
          if (line !== '') throw new HttpParseError('HPE_STRICT', 'Expected LF after chunk data')
          this.#state = 'body-chunk-size'
        })
      }

      case 'trailers': {
        return this.#line(data, MAX_HEAD_BYTES, 'HPE_HEADER_OVERFLOW', 'Header overflow', (line) => {
          if (line === '') this.#end()
        })
      }

      case 'done': {
        return data.subarray(data.length)
      }
    }
  }

  /** One CRLF- (or LF-) ended line, kept across chunks up to `max` bytes; `use` gets it without the ending. */
  #line(data: Buffer, max: number, code: string, message: string, use: (line: string) => void): Buffer {
    const joined = this.#pending ? Buffer.concat([this.#pending, data]) : data
    const lf = joined.indexOf(10)
    if (lf === -1) {
      if (joined.length > max + 1) throw new HttpParseError(code, message)
      this.#pending = Buffer.from(joined)
      return data.subarray(data.length)
    }

    this.#pending = undefined
    const end = lf > 0 && joined[lf - 1] === 13 ? lf - 1 : lf
    if (end > max) throw new HttpParseError(code, message)
    use(joined.toString('latin1', 0, end))
    return joined.subarray(lf + 1)
  }

  #head(data: Buffer): Buffer {
    const joined = this.#pending ? Buffer.concat([this.#pending, data]) : data
    // Like Node's parser, garbage is refused from its first bytes, not after waiting for a whole head.
    const prefix = Math.min(joined.length, HTTP_PREFIX.length)
    if (joined.compare(HTTP_PREFIX, 0, prefix, 0, prefix) !== 0) throw new HttpParseError('HPE_INVALID_CONSTANT', 'Expected HTTP/, RTSP/ or ICE/')
    const end = headEnd(joined)
    if (end === -1) {
      if (joined.length > MAX_HEAD_BYTES) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'Header overflow')
      this.#pending = Buffer.from(joined)
      return data.subarray(data.length)
    }

    if (end.start > MAX_HEAD_BYTES) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'Header overflow')
    this.#pending = undefined
    const {headers, status, statusText} = parseHead(joined.toString('latin1', 0, end.start))
    const rest = joined.subarray(end.next)
    if (status >= 100 && status < 200 && status !== 101) return rest // informational (100 Continue): the answer follows
    if (status === 101 && this.request.upgrade) {
      this.#state = 'done'
      this.events.onUpgrade(status, headers)
      return rest.subarray(rest.length)
    }

    this.events.onHead(status, statusText, headers)
    this.#state = this.#bodyState(status, headers)
    if (this.#state === 'done') this.#end()
    return rest
  }

  /** How the body is framed (RFC 9112 section 6.3). */
  #bodyState(status: number, headers: Record<string, string | string[]>): State {
    if (this.request.head || status === 101 || status === 204 || status === 304) return 'done'
    const encoding = headers['transfer-encoding']
    const length = headers['content-length']
    if (encoding !== undefined) {
      if (length !== undefined) throw new HttpParseError('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length")
      const codings = String(encoding).toLowerCase().split(',').map((c) => c.trim())
      return codings.at(-1) === 'chunked' ? 'body-chunk-size' : 'body-close'
    }

    if (length !== undefined) {
      if (!/^\d{1,15}$/.test(String(length))) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length')
      this.#remaining = Number(length)
      return this.#remaining === 0 ? 'done' : 'body-length'
    }

    return 'body-close'
  }
}

/** Where the head ends: the start of its empty line and the first byte after it; -1 when not yet. */
function headEnd(buffer: Buffer): -1 | {next: number; start: number} {
  let lf = buffer.indexOf(10)
  while (lf !== -1) {
    if (buffer[lf + 1] === 10) return {next: lf + 2, start: lf + 1}
    if (buffer[lf + 1] === 13 && buffer[lf + 2] === 10) return {next: lf + 3, start: lf + 1}
    lf = buffer.indexOf(10, lf + 1)
  }

  return -1
}

function parseHead(text: string): {headers: Record<string, string | string[]>; status: number; statusText: string} {
  if (/[^\r]\n/.test(text)) throw new HttpParseError('HPE_CR_EXPECTED', 'Missing expected CR after response line')
  const [statusLine, ...lines] = text.split('\r\n')
  if (!/^HTTP\/\d\./.test(statusLine)) throw new HttpParseError('HPE_INVALID_VERSION', 'Expected dot')
  if (!/^HTTP\/1\.[01]/.test(statusLine)) throw new HttpParseError('HPE_INVALID_VERSION', 'Invalid HTTP version')
  const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/.exec(statusLine)
  if (!status) throw new HttpParseError('HPE_INVALID_STATUS', 'Invalid response status')
  const headers: Record<string, string | string[]> = {}
  for (const line of lines) {
    if (line === '') continue
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).toLowerCase()
    if (colon <= 0 || !TOKEN.test(name)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token')
    const value = line.slice(colon + 1).trim()
    const seen = headers[name]
    if (seen === undefined) headers[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(seen)) seen.push(value)
    else if (!SINGLE.has(name)) headers[name] = `${seen}, ${value}`
  }

  return {headers, status: Number(status[1]), statusText: status[2] ?? ''}
}
