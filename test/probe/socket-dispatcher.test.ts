import {expect} from 'chai'
import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import type {Dispatcher} from 'undici'

import {type Exchange, httpExchange} from '../../src/probe/http-exchange.js'
import {nodeDispatcher} from '../../src/probe/node-dispatcher.js'
import {socketDispatcher} from '../../src/probe/socket-dispatcher.js'

const TLS_GARBAGE = Buffer.from('160303003a020000360303' + 'ab'.repeat(32) + '00c02f000000', 'hex')

/** Raw answers, each written by a TCP server once the request's first bytes arrive. */
const ANSWERS: Record<string, (socket: Socket) => void> = {
  badChunkSize: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
  badContentLength: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n'),
  badHeader: (s) => s.end('HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n'),
  badStatus: (s) => s.end('HTTP/1.1 2000 OK\r\n\r\n'),
  bareLf: (s) => s.end('HTTP/1.1 200 OK\nContent-Length: 1\n\nx'),
  bodyCut: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'),
  chunked: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  chunkedByteByByte: (s) => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'
    let sent = 0
    const next = () => {
      if (sent < text.length && !s.destroyed) s.write(text[sent++], next)
    }

    next()
  },
  chunkedCut: (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'),
  closeDelimited: (s) => s.end('HTTP/1.0 200 OK\r\n\r\n{"drain":true}'),
  continueFirst: (s) => s.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'),
  emptyClose: (s) => s.end(),
  headCut: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Le'),
  http2: (s) => s.end('HTTP/2 200\r\n\r\n'),
  hugeHead: (s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
  lengthAndChunked: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
  noContent: (s) => s.end('HTTP/1.1 204\r\n\r\n'),
  notHttp: (s) => s.end('SSH-2.0-OpenSSH_9.6\r\nthis is not HTTP\r\n\r\n'),
  ok: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok'),
  okKeptOpen: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
  overCap: (s) => s.end(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'b'.repeat(100_000)}`),
  redirect: (s) => s.end('HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nVary: x\r\nVary: y\r\nContent-Length: 0\r\n\r\n'),
  reset: (s) => s.resetAndDestroy(),
  tlsGarbage: (s) => s.end(TLS_GARBAGE),
  unavailable: (s) => s.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'),
  upgradeAccepted: (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
  upgradeRefused: (s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad'),
}

interface RawServer {
  close(): Promise<void>
  port: number
  /** Every request's bytes, in arrival order. */
  requests: string[]
}

async function rawServer(answer: (socket: Socket) => void): Promise<RawServer> {
  const sockets = new Set<Socket>()
  const requests: string[] = []
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.once('data', (data) => {
      requests.push(data.toString('latin1'))
      answer(socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    port: (server.address() as AddressInfo).port,
    requests,
  }
}

/** An exchange without its timing, a long body by its length. */
function comparable(exchange: Exchange): Record<string, unknown> {
  const {latencyMs: _latency, ...rest} = exchange
  return rest.ok && rest.body.length > 100 ? {...rest, body: `${rest.body.length} bytes`} : rest
}

describe('probes over a plain socket (socketDispatcher)', () => {
  const servers: Record<string, RawServer> = {}
  before(async () => {
    for (const [name, answer] of Object.entries(ANSWERS)) servers[name] = await rawServer(answer)
  })
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()))
  })

  const exchange = (dispatcher: Dispatcher, name: string) => {
    const upgrade = name.startsWith('upgrade') ? 'websocket' : undefined
    return httpExchange(dispatcher, {
      headers: upgrade ? {host: 'meet.example.org', 'sec-websocket-version': '13'} : undefined,
      maxBytes: 64 * 1024,
      origin: `http://127.0.0.1:${servers[name].port}`,
      path: '/about/health',
      timeoutMs: 2000,
      upgrade,
    })
  }

  it('gives every answer, good or broken, the same status, headers, body and reason as node:http', async () => {
    const viaSocket = socketDispatcher()
    const viaNode = nodeDispatcher()
    for (const name of Object.keys(ANSWERS)) {
      const [mine, node] = [await exchange(viaSocket, name), await exchange(viaNode, name)]
      expect(comparable(mine), name).to.deep.equal(comparable(node))
    }

    // Spot checks, so that the comparison above cannot pass on two equally wrong answers.
    expect(comparable(await exchange(viaSocket, 'chunkedByteByByte'))).to.include({body: 'hello world', ok: true, status: 200})
    expect(await exchange(viaSocket, 'redirect')).to.deep.include({headers: {'content-length': '0', location: '/a', 'set-cookie': ['a=1', 'b=2'], vary: 'x, y'}, status: 302})
    expect(await exchange(viaSocket, 'overCap')).to.include({truncated: true}).and.have.property('body').with.length(64 * 1024)
    expect(await exchange(viaSocket, 'notHttp')).to.include({ok: false}).and.have.property('reason').that.matches(/^not an HTTP answer/)
    expect(await exchange(viaSocket, 'bodyCut')).to.deep.include({ok: false, reason: 'connection closed by the backend (aborted)'})
    expect(await exchange(viaSocket, 'upgradeAccepted')).to.include({ok: true, status: 101})
  })

  it('writes the request node:http writes: Host with the port, the caller\'s headers, then Connection', async () => {
    await exchange(socketDispatcher(), 'ok')
    await exchange(socketDispatcher(), 'upgradeAccepted')
    const port = servers.ok.port
    expect(servers.ok.requests.at(-1)).to.equal(`GET /about/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
    expect(servers.upgradeAccepted.requests.at(-1)).to.equal('GET /about/health HTTP/1.1\r\nhost: meet.example.org\r\nsec-websocket-version: 13\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')
  })

  it('refuses a path or header that would split the request, without connecting', async () => {
    const before = servers.ok.requests.length
    const dispatcher = socketDispatcher()
    const base = {maxBytes: 1024, origin: `http://127.0.0.1:${servers.ok.port}`, timeoutMs: 2000}
    expect(await httpExchange(dispatcher, {...base, path: '/a b'})).to.include({ok: false}).and.have.property('reason').that.includes('unescaped characters')
    expect(await httpExchange(dispatcher, {...base, headers: {host: 'x\r\nEvil: 1'}, path: '/'})).to.include({ok: false}).and.have.property('reason').that.includes('Invalid character in header content')
    expect(servers.ok.requests.length).to.equal(before)
  })

  it('keeps no socket once an exchange has ended, whatever ended it', async () => {
    const dispatcher = socketDispatcher()
    const silent = await rawServer(() => {})
    try {
      const timedOut = httpExchange(dispatcher, {maxBytes: 1024, origin: `http://127.0.0.1:${silent.port}`, path: '/', timeoutMs: 200})
      await Promise.all([exchange(dispatcher, 'okKeptOpen'), exchange(dispatcher, 'overCap'), exchange(dispatcher, 'upgradeAccepted'), timedOut])
      expect((await timedOut).ok).to.equal(false)
      // Each exchange destroyed its socket; destroy() then has nothing left to close.
      expect(dispatcher.openSockets()).to.equal(0)
    } finally {
      await silent.close()
    }
  })
})
