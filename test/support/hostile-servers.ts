import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'

import {freePorts} from './loopback-backends.js'

/** Ways a backend can misbehave, each a raw TCP server on 127.0.0.1 (or, for `refused`, nothing). */
export const HOSTILE_KINDS = ['refused', 'silent', 'drip', 'endless', 'invalid', 'redirectLoop', 'unavailable', 'tlsGarbage'] as const
export type HostileKind = (typeof HOSTILE_KINDS)[number]

export interface RawServer {
  close(): Promise<void>
  port: number
}

/** A TLS 1.2 ServerHello record header and some bytes: what an HTTPS port sends a confused client. */
const TLS_GARBAGE = Buffer.from('160303003a020000360303' + 'ab'.repeat(32) + '00c02f000000', 'hex')

/**
 * Starts one misbehaving backend. Every loop it runs (dripping, streaming) stops when the client
 * goes away or the server closes, so nothing outlives the test.
 */
export async function startHostile(kind: HostileKind): Promise<RawServer> {
  if (kind === 'refused') {
    const [port] = await freePorts(1)
    return {close: async () => {}, port}
  }

  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.once('data', () => answer(kind, socket, timers))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    async close() {
      for (const timer of timers) clearInterval(timer)
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    port: (server.address() as AddressInfo).port,
  }
}

function answer(kind: HostileKind, socket: Socket, timers: Set<NodeJS.Timeout>): void {
  const every = (ms: number, write: () => void) => {
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : write()), ms)
    timers.add(timer)
    socket.on('close', () => {
      clearInterval(timer)
      timers.delete(timer)
    })
  }

  switch (kind) {
    case 'silent': {
      break // reads the request, never answers
    }

    case 'drip': {
      const text = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
      let sent = 0
      every(1000, () => {
        if (sent < text.length) socket.write(text[sent++])
      })
      break
    }

    case 'endless': {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n')
      const chunk = 'x'.repeat(16 * 1024)
      every(1, () => socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`))
      break
    }

    case 'invalid': {
      socket.end('SSH-2.0-OpenSSH_9.6\r\nthis is not HTTP\r\n\r\n')
      break
    }

    case 'redirectLoop': {
      socket.end('HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      break
    }

    case 'unavailable': {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      break
    }

    case 'tlsGarbage': {
      socket.end(TLS_GARBAGE)
      break
    }

    case 'refused': {
      break
    }
  }
}
