/**
 * Child process of bench/probe.ts: `count` HTTP servers on 127.0.0.1, every `silentEvery`-th one
 * accepting connections and never answering. The others answer like a healthy Jitsi node (200
 * JSON, 101 to a websocket upgrade). Prints the ports as one JSON line, then runs until stdin
 * closes (the parent going away) or ten minutes pass, whichever is first.
 */
import {createHash} from 'node:crypto'
import {createServer} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

const [count, silentEvery] = process.argv.slice(2).map(Number)
const sockets = new Set<Socket>()
const servers = await Promise.all(
  Array.from({length: count}, (_, i) => {
    const silent = i % silentEvery === silentEvery - 1
    const server = createServer((_req, res) => {
      if (silent) return
      res.writeHead(200, {'content-type': 'application/json'})
      res.end('{"drain":false,"participants":0}')
    })
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    server.on('upgrade', (req, socket) => {
      // The server no longer watches an upgraded socket: a prober resetting it must not end this process.
      socket.on('error', () => {})
      if (silent) return
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
    })
    return new Promise<{port: number; silent: boolean}>((resolve) => server.listen(0, '127.0.0.1', () => resolve({port: (server.address() as AddressInfo).port, silent})))
  }),
)
process.stdout.write(`${JSON.stringify(servers)}\n`)

const stop = () => {
  for (const socket of sockets) socket.destroy()
  process.exit(0)
}

process.stdin.on('end', stop).resume()
setTimeout(stop, 10 * 60_000).unref()
