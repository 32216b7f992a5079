import {connect, type Socket} from 'node:net'
import type {IncomingHttpHeaders} from 'node:http'
import type {Dispatcher} from 'undici'

import {HttpResponseParser} from './http-response-parser.js'

/**
 * The part of undici's dispatcher API that `httpExchange` drives, for plain HTTP straight over a
 * TCP socket: one request written, one response parsed (http-response-parser.ts), the socket
 * closed. A thousand probes in flight hold three thousand exchanges; over `node:http` each cost
 * an Agent, a ClientRequest, an IncomingMessage and a native parser, about 5 KiB of heap apiece
 * and several times that in garbage, which made the young generation grow (to 128 MiB on Node 24)
 * and the peak RSS with it. Here an exchange is a socket and a few closures (about 1 KiB).
 * Timeouts and body caps stay with the caller, which aborts through the controller.
 */
export function socketDispatcher(): Dispatcher & {openSockets(): number} {
  const open = new Set<Socket>()
  const dispatcher = {
    dispatch(request: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      let ended = false
      let socket: Socket | undefined
      const controller = {
        abort() {
          ended = true
          socket?.destroy()
        },
      } as unknown as Dispatcher.DispatchController
      const fail = (error: Error) => {
        if (ended) return
        ended = true
        socket?.destroy()
        handler.onResponseError?.(controller, error)
      }

      handler.onRequestStart?.(controller, {})
      if (ended) return true
      let target: {head: string; host: string; port: number}
      try {
        target = requestHead(request)
      } catch (error) {
        fail(error as Error)
        return true
      }

      const opened = connect({host: target.host, port: target.port})
      socket = opened
      open.add(opened)
      opened.once('close', () => open.delete(opened))
      const parser = new HttpResponseParser(
        {head: request.method === 'HEAD', upgrade: Boolean(request.upgrade)},
        {
          onBody(chunk) {
            if (!ended) handler.onResponseData?.(controller, chunk)
          },
          onEnd() {
            if (ended) return
            ended = true
            opened.destroy()
            handler.onResponseEnd?.(controller, {})
          },
          onHead(status, statusText, headers) {
            if (!ended) handler.onResponseStart?.(controller, status, headers as IncomingHttpHeaders, statusText)
          },
          onUpgrade(status, headers) {
            if (ended) return
            ended = true
            opened.removeAllListeners('data')
            handler.onRequestUpgrade?.(controller, status, headers as IncomingHttpHeaders, opened)
          },
        },
      )
      opened.on('error', fail)
      opened.on('data', (chunk: Buffer) => {
        if (ended) return
        try {
          parser.push(chunk)
        } catch (error) {
          fail(error as Error)
        }
      })
      opened.once('end', () => {
        if (ended) return
        try {
          parser.finish()
        } catch (error) {
          fail(error as Error)
        }
      })
      // Written once connected. No half-close after it: servers (Node's among them) take a FIN as the client leaving.
      opened.write(target.head)
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

/** Characters Node refuses in a request path, and in header names and values. */
const UNSAFE_PATH = /[^\u0021-\u00FF]/
const UNSAFE_VALUE = /[\r\n\0]/
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** The request as Node's client writes it: Host (with a port other than 80), the caller's headers, Connection. */
function requestHead(request: Dispatcher.DispatchOptions): {head: string; host: string; port: number} {
  const url = new URL(String(request.origin))
  if (url.protocol !== 'http:') throw new Error(`socketDispatcher speaks plain HTTP, not ${url.protocol}`)
  const path = request.path
  if (UNSAFE_PATH.test(path)) throw Object.assign(new TypeError('Request path contains unescaped characters'), {code: 'ERR_UNESCAPED_CHARACTERS'})
  const headers: Record<string, string> = {...(request.headers as Record<string, string> | undefined)}
  const lines = [`${request.method} ${path} HTTP/1.1`]
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'host')) lines.push(`Host: ${url.host}`)
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), {code: 'ERR_INVALID_HTTP_TOKEN'})
    if (UNSAFE_VALUE.test(String(value))) throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), {code: 'ERR_INVALID_CHAR'})
    lines.push(`${name}: ${value}`)
  }

  lines.push(request.upgrade ? `Connection: upgrade\r\nUpgrade: ${request.upgrade}` : 'Connection: close')
  return {head: `${lines.join('\r\n')}\r\n\r\n`, host: url.hostname.replace(/^\[(.*)]$/, '$1'), port: Number(url.port || 80)}
}
