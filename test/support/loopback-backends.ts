import {createHash} from 'node:crypto'
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'

/** What a loopback backend saw: which backend, the request line and headers. */
export interface SeenRequest {
  backend: string
  headers: IncomingHttpHeaders
  method: string
  upgrade: boolean
  url: string
}

/** A small HTTP + websocket server on a loopback address that names itself in every answer. */
export interface LoopbackBackend {
  close(): Promise<void>
  name: string
  port: number
}

/**
 * Starts a backend that answers every request with 200 and JSON `{backend, url, headers}`
 * (so HAProxy's health checks pass) and accepts websocket upgrades with a valid
 * Sec-WebSocket-Accept (HAProxy rejects a 101 without one) and an `X-Backend` header.
 */
export async function startBackend(name: string, seen: SeenRequest[], host = '127.0.0.1'): Promise<LoopbackBackend> {
  const sockets = new Set<Duplex>()
  const server: Server = createServer((req, res) => {
    const isCheck = req.headers['user-agent'] === undefined && (req.url === '/http-bind' || req.url === '/about/health' || req.url === '/')
    if (!isCheck) seen.push({backend: name, headers: req.headers, method: req.method ?? '', upgrade: false, url: req.url ?? ''})
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({backend: name, url: req.url}))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('clientError', (_error, socket) => socket.destroy())
  server.on('upgrade', (req, socket) => {
    socket.on('error', () => {})
    // Like a real websocket server: when the other side is done, so is this one.
    socket.on('end', () => socket.end())
    seen.push({backend: name, headers: req.headers, method: req.method ?? '', upgrade: true, url: req.url ?? ''})
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Backend: ${name}\r\n\r\n`)
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    name,
    port: (server.address() as AddressInfo).port,
  }
}

/** Free loopback TCP ports: bound to 0, read, released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({length: count}, () => new Promise<Server>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => resolve(server))
    })),
  )
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}
