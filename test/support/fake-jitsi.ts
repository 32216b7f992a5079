import {createServer, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

/** What a fake jicofo or videobridge answers; tests change it between runs. */
export interface FakeJitsiState {
  /** jicofo's `GET /stats` count (participants come from `participants`). */
  conferences: number
  drain: boolean
  /** Status of `GET /about/health`. */
  health: number
  participants: number
}

/** A jicofo/JVB REST API on a loopback address (the test's own), recording every request it gets. */
export interface FakeJitsi {
  close(): Promise<void>
  /** `METHOD path` of every request, in order. */
  requests: string[]
  port: number
  state: FakeJitsiState
}

/**
 * Serves what jproxy reads of jicofo and the JVB (jitsi.md "What to probe"): `/about/health`,
 * `GET /colibri/drain` → `{"drain": bool}`, `POST /colibri/drain/enable|disable`, and
 * `GET /colibri/stats` → `{"participants": n}`, jicofo's `GET /stats` → `{"conferences": n, "participants": n}`;
 * anything else is 404.
 */
export async function startFakeJitsi(initial: Partial<FakeJitsiState> = {}, host = '127.0.0.1'): Promise<FakeJitsi> {
  const state: FakeJitsiState = {conferences: 0, drain: false, health: 200, participants: 0, ...initial}
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const json = (status: number, body: unknown) => {
      res.writeHead(status, {'content-type': 'application/json'})
      res.end(JSON.stringify(body))
    }

    const route = `${req.method} ${req.url}`
    if (route === 'GET /about/health') return json(state.health, {})
    if (route === 'GET /colibri/drain') return json(200, {drain: state.drain})
    if (route === 'POST /colibri/drain/enable' || route === 'POST /colibri/drain/disable') {
      state.drain = route.endsWith('enable')
      return json(200, {})
    }

    if (route === 'GET /stats') return json(200, {conferences: state.conferences, largest_conference: 0, participants: state.participants})
    if (route === 'GET /colibri/stats') return json(200, {conferences: state.participants > 0 ? 1 : 0, participants: state.participants})
    json(404, {error: 'not found'})
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    port: (server.address() as AddressInfo).port,
    requests,
    state,
  }
}
