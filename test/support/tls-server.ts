import type {AddressInfo, Socket} from 'node:net'
import {createSecureContext, createServer, type SecureVersion} from 'node:tls'

export interface TlsServer {
  close: () => Promise<void>
  port: number
  /** The SNI name of every ClientHello that sent one, in order (recorded before the server answers). */
  servernames: string[]
}

export interface TlsServerOptions {
  /** PEM chain as sent, leaf first. */
  cert: string
  host?: string
  key: string
  maxVersion?: SecureVersion
  port?: number
  /** Certificates by SNI name; `cert`/`key` is the default for other names. */
  sni?: Record<string, {cert: string; key: string}>
}

/** A TLS server on loopback presenting exactly the chain it is given; it answers nothing after the handshake. */
export async function startTlsServer(options: TlsServerOptions): Promise<TlsServer> {
  const servernames: string[] = []
  const sockets = new Set<Socket>()
  const contexts = Object.fromEntries(Object.entries(options.sni ?? {}).map(([name, pair]) => [name, createSecureContext(pair)]))
  const server = createServer({
    ALPNProtocols: ['h2', 'http/1.1'],
    cert: options.cert,
    key: options.key,
    maxVersion: options.maxVersion,
    SNICallback(name, callback) {
      servernames.push(name)
      callback(null, contexts[name])
    },
  })
  server.on('secureConnection', (socket) => socket.on('error', () => {}))
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve)
  })
  return {
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
    port: (server.address() as AddressInfo).port,
    servernames,
  }
}
