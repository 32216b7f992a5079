import {X509Certificate} from 'node:crypto'
import {connect, type DetailedPeerCertificate} from 'node:tls'

import {type Deadline, settleOnce} from '../system/settle-once.js'

export interface HandshakeOptions {
  address: string
  /** CA certificates (PEM) the chain must lead to. */
  ca: string[]
  deadline?: Deadline
  port: number
  servername: string
  timeoutMs: number
}

/** What one handshake showed: the negotiated parameters and the chain as the server sent it. */
export interface Handshake {
  alpn?: string
  /** OpenSSL's verdict on the chain against `ca` (not the name: that is checked apart). */
  authorizationError?: string
  chain: X509Certificate[]
  cipher?: string
  outcome: 'failed' | 'ok' | 'timeout'
  protocol?: string
  reason?: string
}

/** The peer chain, leaf first, each followed by its issuer as OpenSSL linked them (a cycle ends it). */
function peerChain(leaf: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = []
  const seen = new Set<DetailedPeerCertificate>()
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c)
    chain.push(new X509Certificate(c.raw))
  }

  return chain
}

/**
 * One bounded TLS handshake with SNI, offering h2 and http/1.1 like a browser. The chain is
 * verified against `ca` but never refused, so an untrusted server is still described; the
 * connection is closed cleanly right after the handshake.
 */
export function handshake(options: HandshakeOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      ALPNProtocols: ['h2', 'http/1.1'],
      ca: options.ca,
      checkServerIdentity: () => undefined,
      host: options.address,
      port: options.port,
      rejectUnauthorized: false,
      servername: options.servername,
    })
    const once = settleOnce<Handshake>(
      resolve,
      options,
      (limit) => ({chain: [], outcome: 'timeout', reason: limit === 'deadline' ? 'run deadline reached' : `no handshake within ${options.timeoutMs} ms`}),
      () => socket.destroy(),
    )
    socket.once('secureConnect', () => {
      const error = socket.authorizationError as Error | string | null
      once.settle({
        alpn: socket.alpnProtocol || undefined,
        authorizationError: error ? String((error as NodeJS.ErrnoException).code ?? error) : undefined,
        chain: peerChain(socket.getPeerCertificate(true)),
        cipher: socket.getCipher()?.standardName,
        outcome: 'ok',
        protocol: socket.getProtocol() ?? undefined,
      })
      // A polite close (close_notify, FIN) keeps "SSL handshake failure" out of the proxy's log.
      socket.end()
      setTimeout(() => socket.destroy(), 1000).unref()
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      once.settle({chain: [], outcome: 'failed', reason: error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message})
      socket.destroy()
    })
  })
}
