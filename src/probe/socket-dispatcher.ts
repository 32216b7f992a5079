import {connect, type Socket} from 'node:net'
import type {Dispatcher} from 'undici'

import {HttpResponseParser, type ResponseEvents} from './http-response-parser.js'

/**
 * The part of undici's dispatcher API that `httpExchange` drives, for plain HTTP straight over a
 * TCP socket: one request written, one response parsed (http-response-parser.ts), the socket
 * closed. A thousand probes in flight hold nearly four thousand exchanges at once; over
 * `node:http` each cost an Agent, a ClientRequest, an IncomingMessage and a native parser, about
 * 5 KiB of heap apiece and more in garbage, which grew the young generation (to 128 MiB on Node
 * 24) and the old one, and the peak RSS with them. Here an exchange is a socket and one object:
 * the socket's listeners are shared functions, not closures made per exchange.
 * Timeouts and body caps stay with the caller, which aborts through the controller.
 */
export function socketDispatcher(): Dispatcher & {openSockets(): number} {
  const open = new Set<Socket>()
  const dispatcher = {
    dispatch(request: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      new SocketRequest(open, request, handler).start()
      return true
    },
    async destroy() {
      for (const socket of open) socket.destroy()
    },
    /** Sockets not yet destroyed: none once every exchange has ended (a test's check). */
    openSockets(): number {
      return [...open].filter((socket) => !socket.destroyed).length
    },
  }
  return dispatcher as unknown as Dispatcher & {openSockets(): number}
}

const REQUEST = Symbol('socketRequest')
type RequestSocket = Socket & {[REQUEST]: SocketRequest}

/** One exchange: the controller the caller aborts through, and the parser's listener. */
class SocketRequest implements ResponseEvents {
  #ended = false
  #parser: HttpResponseParser | undefined
  #socket: RequestSocket | undefined

  constructor(
    private readonly open: Set<Socket>,
    private readonly request: Dispatcher.DispatchOptions,
    private readonly handler: Dispatcher.DispatchHandler,
  ) {}

  /** The controller's one method. */
  abort(): void {
    this.#ended = true
    this.#socket?.destroy()
  }

  data(chunk: Buffer): void {
    if (this.#ended) return
    try {
      this.#parser!.push(chunk)
    } catch (error) {
      this.fail(error as Error)
    }
  }

  end(): void {
    if (this.#ended) return
    try {
      this.#parser!.finish()
    } catch (error) {
      this.fail(error as Error)
    }
  }

  fail(error: Error): void {
    if (this.#ended) return
    this.#ended = true
    this.#socket?.destroy()
    this.handler.onResponseError?.(this.#controller(), error)
  }

  onBody(chunk: Buffer): void {
    if (!this.#ended) this.handler.onResponseData?.(this.#controller(), chunk)
  }

  onEnd(): void {
    if (this.#ended) return
    this.#ended = true
    this.#socket!.destroy()
    this.handler.onResponseEnd?.(this.#controller(), {})
  }

  onHead(status: number, statusText: string, headers: Record<string, string | string[]>): void {
    if (!this.#ended) this.handler.onResponseStart?.(this.#controller(), status, headers, statusText)
  }

  onUpgrade(status: number, headers: Record<string, string | string[]>): void {
    if (this.#ended) return
    this.#ended = true
    const socket = this.#socket!
    socket.off('data', onData)
    this.handler.onRequestUpgrade?.(this.#controller(), status, headers, socket)
  }

  start(): void {
    this.handler.onRequestStart?.(this.#controller(), {})
    if (this.#ended) return
    let target: ReturnType<typeof requestHead>
    try {
      target = requestHead(this.request)
    } catch (error) {
      this.fail(error as Error)
      return
    }

    this.#parser = new HttpResponseParser({head: this.request.method === 'HEAD', upgrade: Boolean(this.request.upgrade)}, this)
    const socket = connect({host: target.host, port: target.port}) as RequestSocket
    socket[REQUEST] = this
    this.#socket = socket
    this.open.add(socket)
    socket.on('error', onError).on('data', onData).on('end', onEnd).on('close', onClose)
    // Written once connected. No half-close after it: servers (Node's among them) take a FIN as the client leaving.
    socket.write(target.head)
  }

  /** What the handler is given to abort with: this object (its `abort`), typed as undici's controller. */
  #controller(): Dispatcher.DispatchController {
    return this as unknown as Dispatcher.DispatchController
  }

  /** The socket is gone: the dispatcher forgets it. */
  closed(socket: Socket): void {
    this.open.delete(socket)
  }
}

// Listeners shared by every socket (`this` is the socket), so an exchange costs no closures for them.
function onData(this: RequestSocket, chunk: Buffer): void {
  this[REQUEST].data(chunk)
}

function onEnd(this: RequestSocket): void {
  this[REQUEST].end()
}

function onError(this: RequestSocket, error: Error): void {
  this[REQUEST].fail(error)
}

function onClose(this: RequestSocket): void {
  this[REQUEST].closed(this)
}

/** Characters Node refuses in a request path, and in header names and values. */
const UNSAFE_PATH = /[^\u0021-\u00FF]/
const UNSAFE_VALUE = /[\r\n\0]/
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HTTP_ORIGIN = /^http:\/\/(\[[0-9A-Fa-f:.]+]|[^/:[\]]+)(?::(\d{1,5}))?\/?$/

/** The request as Node's client writes it: Host (with a port other than 80), the caller's headers, Connection. */
function requestHead(request: Dispatcher.DispatchOptions): {head: string; host: string; port: number} {
  const origin = HTTP_ORIGIN.exec(String(request.origin))
  if (!origin) throw new Error(`socketDispatcher speaks plain HTTP to an origin (http://host:port), not ${String(request.origin)}`)
  const {path} = request
  if (UNSAFE_PATH.test(path)) throw Object.assign(new TypeError('Request path contains unescaped characters'), {code: 'ERR_UNESCAPED_CHARACTERS'})
  const port = origin[2] === undefined ? 80 : Number(origin[2])
  let head = `${request.method} ${path} HTTP/1.1\r\n`
  const headers = (request.headers ?? {}) as Record<string, string>
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'host')) head += `Host: ${origin[1]}${port === 80 ? '' : `:${port}`}\r\n`
  for (const name of Object.keys(headers)) {
    const value = String(headers[name])
    if (!TOKEN.test(name)) throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), {code: 'ERR_INVALID_HTTP_TOKEN'})
    if (UNSAFE_VALUE.test(value)) throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), {code: 'ERR_INVALID_CHAR'})
    head += `${name}: ${value}\r\n`
  }

  head += request.upgrade ? `Connection: upgrade\r\nUpgrade: ${request.upgrade}\r\n\r\n` : 'Connection: close\r\n\r\n'
  return {head, host: origin[1].replace(/^\[(.*)]$/, '$1'), port}
}
