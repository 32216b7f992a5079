import {type ClientRequest, request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import type {Duplex} from 'node:stream'
import type {Dispatcher} from 'undici'

/** TLS settings of the proxy probe: the public name as SNI, an extra CA (tests). */
export interface NodeDispatcherOptions {
  ca?: string
  servername?: string
}

/**
 * The part of undici's dispatcher API that `httpExchange` drives, over `node:http`: probes then
 * never load undici, whose WebAssembly HTTP parser V8 keeps optimising for up to a second after
 * the work is done, which every short-lived probing command (relayd's check script above all)
 * would wait for at exit. One request per connection (`agent: false`); timeouts and body caps stay
 * with the caller, which aborts through the controller.
 */
export function nodeDispatcher(options: NodeDispatcherOptions = {}): Dispatcher {
  const open = new Set<ClientRequest>()
  const dispatcher = {
    dispatch(request: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const url = new URL(String(request.origin))
      const secure = url.protocol === 'https:'
      const headers: Record<string, string> = {...(request.headers as Record<string, string> | undefined)}
      if (request.upgrade) Object.assign(headers, {connection: 'upgrade', upgrade: request.upgrade})
      else headers.connection = 'close'
      const req = (secure ? httpsRequest : httpRequest)({
        agent: false,
        ...(secure ? {ca: options.ca, rejectUnauthorized: true, servername: options.servername} : {}),
        headers,
        host: url.hostname.replace(/^\[(.*)]$/, '$1'),
        method: request.method,
        path: request.path,
        port: url.port || (secure ? 443 : 80),
      })
      open.add(req)
      req.once('close', () => open.delete(req))
      let ended = false
      const controller = {
        abort(reason: Error) {
          ended = true
          req.destroy(reason)
        },
      } as unknown as Dispatcher.DispatchController
      const fail = (error: Error) => {
        if (ended) return
        ended = true
        handler.onResponseError?.(controller, error)
      }

      handler.onRequestStart?.(controller, {})
      req.once('error', fail)
      req.once('response', (res) => {
        res.once('error', fail)
        handler.onResponseStart?.(controller, res.statusCode ?? 0, res.headers, res.statusMessage ?? '')
        res.on('data', (chunk: Buffer) => {
          if (!ended) handler.onResponseData?.(controller, chunk)
        })
        res.once('end', () => {
          if (ended) return
          ended = true
          handler.onResponseEnd?.(controller, {})
        })
      })
      req.once('upgrade', (res, socket: Duplex) => {
        ended = true
        handler.onRequestUpgrade?.(controller, res.statusCode ?? 101, res.headers, socket)
      })
      req.end()
      return true
    },
    async destroy() {
      for (const req of open) req.destroy()
    },
  }
  return dispatcher as unknown as Dispatcher
}
