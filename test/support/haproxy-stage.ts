import {readFileSync} from 'node:fs'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {request} from 'node:https'
import {join} from 'node:path'
import {connect as tlsConnect, type TLSSocket} from 'node:tls'
import {stringify} from 'yaml'

import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from './certs.js'
import {type HaproxyProcess, startHaproxy, UNPRIVILEGED, waitForMasterCli} from './haproxy-process.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from './loopback-backends.js'
import {waitFor} from './wait.js'

export const DOMAIN = 'meet.example.org'

/** A real HAProxy in master-worker mode on loopback, started from a config jproxy rendered, with backends to route to. */
export interface Stage {
  backends: Map<string, LoopbackBackend>
  dir: string
  /** The inventory (plain data) the running config was rendered from; tests change copies of it. */
  data: Record<string, any>
  haproxy: HaproxyProcess
  live: string
  masterSocket: string
  pem: string
  seen: SeenRequest[]
  socket: string
}

/** `adjust` changes the inventory data before HAProxy starts on it (e.g. sets proxy.acme). */
export async function startStage(dir: string, adjust?: (data: Record<string, any>) => void): Promise<Stage> {
  const seen: SeenRequest[] = []
  const backends = new Map<string, LoopbackBackend>()
  for (const name of ['web1', 'web2', 'prosody1', 'jicofo1', 'jvb1-rest', 'jvb1-colibri']) backends.set(name, await startBackend(name, seen))
  const pem = await selfSignedPem(dir, DOMAIN)
  // Each HAProxy gets its own local peer port: two on one port would share their room tables (SO_REUSEPORT).
  const [http, https, peerPort] = await freePorts(3)
  const port = (name: string) => backends.get(name)!.port
  const live = join(dir, 'haproxy.cfg')
  const socket = join(dir, 'admin.sock')
  const masterSocket = join(dir, 'master.sock')
  await writeFile(join(dir, 'server-state'), '1\n')
  await mkdir(join(dir, 'jproxy'), {recursive: true})
  const data = {
    apply: {dir: join(dir, 'jproxy'), lockWait: '60s', reloadTimeout: '10s'},
    domain: DOMAIN,
    // Probes and the verify request get 2 s: on a busy machine 500 ms was missed and the gate refused.
    health: {fall: 1, interval: '3s', rise: 1, timeout: '2s'},
    probe: {stateFile: join(dir, 'probe-state.json')},
    proxy: {listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'}, tls: {certificate: pem, key: pem}},
    shards: [
      {
        jicofo: {address: '127.0.0.1', port: port('jicofo1')},
        jvbs: [{address: '127.0.0.1', colibriPort: port('jvb1-colibri'), id: 'jvb1', restPort: port('jvb1-rest')}],
        name: 's1',
        prosody: {address: '127.0.0.1', port: port('prosody1')},
      },
    ],
    targets: {haproxy: {...UNPRIVILEGED, localPeerPort: peerPort, masterSocket, output: live, socket, stateFile: join(dir, 'server-state')}},
    web: [{address: '127.0.0.1', name: 'web1', port: port('web1')}],
  }
  adjust?.(data)
  // Backends left listening would keep mocha from exiting after a failed start.
  const haproxy = await startHaproxy(renderTarget(Inventory.parse(data), 'haproxy'), dir, 'haproxy', socket, 15_000, ['-S', masterSocket]).catch(async (error: Error) => {
    await Promise.all([...backends.values()].map((b) => b.close()))
    throw error
  })
  await waitForMasterCli(haproxy, masterSocket, 5000)

  return {backends, data, dir, haproxy, live, masterSocket, pem, seen, socket}
}

/** A copy of the stage's inventory data with both web nodes: a real change to apply. */
export function withWeb2(stage: Stage): Record<string, any> {
  const data = structuredClone(stage.data)
  data.web.push({address: '127.0.0.1', name: 'web2', port: stage.backends.get('web2')!.port})
  return data
}

export async function writeInventory(stage: Stage, name: string, data: Record<string, any>): Promise<string> {
  const file = join(stage.dir, `${name}.yaml`)
  await writeFile(file, stringify(data))
  return file
}

/** The master's `show proc`: current worker pid and the reload count. */
export async function workers(stage: Stage): Promise<{reloads: number; worker: number}> {
  const text = await socketCommand(stage.masterSocket, 'show proc')
  const master = /^\d+\s+master\s+(\d+)/m.exec(text)
  const worker = /^(\d+)\s+worker\s+0\b/m.exec(text)
  return {reloads: Number(master?.[1]), worker: Number(worker?.[1])}
}

/**
 * Reloads through the master CLI and waits for a new worker. The master re-executes itself on a
 * reload and refuses connections meanwhile, so every `show proc` is retried until the deadline.
 */
export async function reloadToNewWorker(stage: Stage, deadlineMs = 60_000): Promise<{reloads: number; worker: number}> {
  const before = await workers(stage)
  await socketCommand(stage.masterSocket, 'reload')
  const replaced = (after: {worker: number}) => !Number.isNaN(after.worker) && after.worker !== before.worker
  return waitFor(`a new worker after a reload (was ${before.worker})`, () => workers(stage), replaced, {
    timeoutMs: deadlineMs,
  })
}

/**
 * GET over TLS through the proxy, trusting `pem` (the stage's own certificate unless given: a fleet's
 * proxies all serve the first stage's); resolves with the status and the backend that answered.
 */
export function through(stage: Stage, path = '/', pem = stage.pem): Promise<{backend?: string; status: number}> {
  const {httpsPort} = stage.data.proxy.listen
  return new Promise((resolve, reject) => {
    const req = request({agent: false, ca: readFileSync(pem, 'utf8'), host: '127.0.0.1', path, port: httpsPort, servername: DOMAIN}, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => {
        let backend: string | undefined
        try {
          backend = JSON.parse(body).backend
        } catch {}

        resolve({backend, status: res.statusCode ?? 0})
      })
    })
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}


export async function liveText(stage: Stage): Promise<string> {
  return readFile(stage.live, 'utf8')
}

/** A websocket opened through the proxy: its handshake answer, and the socket kept open. */
export interface OpenWebsocket {
  backend?: string
  closed(): boolean
  socket: TLSSocket
  status: number
}

/** Opens a websocket (HTTP/1.1 upgrade over TLS with SNI) through the proxy and keeps it open. */
export function openWebsocket(stage: Stage, path: string): Promise<OpenWebsocket> {
  return new Promise((resolve, reject) => {
    let closed = false
    const socket = tlsConnect({ALPNProtocols: ['http/1.1'], ca: readFileSync(stage.pem, 'utf8'), host: '127.0.0.1', port: stage.data.proxy.listen.httpsPort, servername: DOMAIN}, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${DOMAIN}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
    let head = ''
    const timer = setTimeout(() => reject(new Error(`no websocket answer for ${path}`)), 5000)
    socket.on('close', () => (closed = true))
    socket.on('error', reject)
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      clearTimeout(timer)
      socket.off('data', onData)
      resolve({backend: /^x-backend: (\S+)/im.exec(head)?.[1], closed: () => closed, socket, status: Number(head.split(' ')[1])})
    })
  })
}
