import {mkdir, writeFile} from 'node:fs/promises'
import {Agent, request} from 'node:https'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from './certs.js'
import {type FakeJitsi, startFakeJitsi} from './fake-jitsi.js'
import {type HaproxyProcess, startHaproxy, UNPRIVILEGED, waitForMasterCli} from './haproxy-process.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from './loopback-backends.js'
import {waitFor} from './wait.js'

export const DOMAIN = 'meet.example.org'

/**
 * One shard on loopback: a prosody that names itself (`s1-prosody`) and a jicofo, either one whose
 * health and counts a test sets (`fake`) or one that names itself in every answer (`s1-jicofo`).
 */
export interface LoopbackShard<J extends FakeJitsi | LoopbackBackend = FakeJitsi | LoopbackBackend> {
  jicofo: J
  name: string
  prosody: LoopbackBackend
}

export async function startShard(name: string, seen: SeenRequest[]): Promise<LoopbackShard<FakeJitsi>> {
  return {jicofo: await startFakeJitsi(), name, prosody: await startBackend(`${name}-prosody`, seen)}
}

export async function startNamedShard(name: string, seen: SeenRequest[]): Promise<LoopbackShard<LoopbackBackend>> {
  return {jicofo: await startBackend(`${name}-jicofo`, seen), name, prosody: await startBackend(`${name}-prosody`, seen)}
}

export const shardData = (shard: LoopbackShard) => ({
  jicofo: {address: '127.0.0.1', port: shard.jicofo.port},
  name: shard.name,
  prosody: {address: '127.0.0.1', port: shard.prosody.port},
})

/** A proxy of the deployment: its own listen address and ports, sockets, state and apply folders. */
export interface ProxySlot {
  data: Record<string, any>
  dir: string
  file: string
  haproxy?: HaproxyProcess
  httpsPort: number
  ipv4: string
  masterSocket: string
  name: string
  socket: string
}

/**
 * The inventory of one proxy: everything but `proxy.listen`, the sockets and the folders is the
 * same for every proxy of the deployment (as two hosts given one inventory would have it).
 */
export async function proxySlot(root: string, name: string, ipv4: string, common: {peers?: Array<{address: string; name: string; port: number}>; pem: string; shards: LoopbackShard[]; web: LoopbackBackend}): Promise<ProxySlot> {
  const dir = join(root, name)
  await mkdir(join(dir, 'jproxy'), {recursive: true})
  await writeFile(join(dir, 'server-state'), '1\n')
  const [http, https, peerPort] = await freePorts(3)
  const socket = join(dir, 'admin.sock')
  const masterSocket = join(dir, 'master.sock')
  const data = {
    apply: {dir: join(dir, 'jproxy'), lockWait: '60s', reloadTimeout: '20s'},
    colibriWs: false,
    domain: DOMAIN,
    // Tolerant of a busy machine: one slow check must not take a shard down and move rooms in a test.
    health: {fall: 3, interval: '1s', rise: 1, timeout: '900ms'},
    probe: {stateFile: join(dir, 'probe-state.json')},
    proxy: {listen: {httpPort: http, httpsPort: https, ipv4}, peers: common.peers ?? [], tls: {certificate: common.pem, key: common.pem}},
    shards: common.shards.map((s) => shardData(s)),
    targets: {haproxy: {...UNPRIVILEGED, localPeerPort: peerPort, masterSocket, output: join(dir, 'haproxy.cfg'), socket, stateFile: join(dir, 'server-state')}},
    web: [{address: '127.0.0.1', name: 'web1', port: common.web.port}],
  }
  const file = join(dir, 'inventory.yaml')
  await writeFile(file, stringify(data))
  return {data, dir, file, httpsPort: https, ipv4, masterSocket, name, socket}
}

export const selfSigned = (dir: string) => selfSignedPem(dir, DOMAIN)

/** Renders the slot's inventory, writes it where apply installs it, and starts HAProxy on it (master CLI on). */
export async function startSlot(slot: ProxySlot, extraArgs: string[] = []): Promise<HaproxyProcess> {
  const config = renderTarget(Inventory.parse(slot.data), 'haproxy')
  await writeFile(slot.data.targets.haproxy.output, config)
  slot.haproxy = await startHaproxy(config, slot.dir, 'haproxy', slot.socket, 20_000, ['-S', slot.masterSocket, ...extraArgs])
  await waitForMasterCli(slot.haproxy, slot.masterSocket, 10_000)
  return slot.haproxy
}

/** Reloads through the master CLI and waits (bounded) until a new worker answers with every shard server in it. */
export async function reloadSlot(slot: ProxySlot, timeoutMs = 20_000): Promise<void> {
  const worker = async () => /^(\d+)\s+worker\s+0\b/m.exec(await socketCommand(slot.masterSocket, 'show proc'))?.[1]
  const before = await worker()
  await socketCommand(slot.masterSocket, 'reload')
  // Ready: a new worker whose admin socket lists the shards' backend.
  const ready = async () => {
    const now = await worker()
    if (now === undefined || now === before) return false
    return (await socketCommand(slot.socket, 'show stat')).includes('be_prosody,BACKEND')
  }

  const what = `a new worker with be_prosody (was ${before})`
  await waitFor(what, ready, (yes) => yes, {timeoutMs}).catch((error: Error) => {
    throw new Error(`${error.message}\n${slot.haproxy?.output()}`)
  })
}

/**
 * Waits (bounded) until the slot's current worker holds at least `count` rooms in be_prosody's
 * table and the number has stopped growing (three polls alike). After a reload the old worker
 * hands its entries over within moments; a room requested before they arrive is routed by the
 * ring alone (docs/rooms-and-shards.md).
 */
export async function waitForTable(slot: ProxySlot, count: number, timeoutMs = 20_000): Promise<void> {
  const seen: number[] = []
  const lastThree = async () => {
    seen.push(Number(/used:(\d+)/.exec(await socketCommand(slot.socket, 'show table be_prosody').catch(() => ''))?.[1] ?? 0))
    return seen.slice(-3)
  }

  const steady = (last: number[]) => last.length === 3 && last[0] >= count && last.every((n) => n === last[0])
  await waitFor(`${slot.name}'s table to hold ${count} rooms, steadily`, lastThree, steady, {timeoutMs})
}

const agents = new Map<string, Agent>()

/** POSTs one BOSH request of `room` through the slot's proxy; resolves with the shard that answered ("s2"), or the status when none did. */
export function roomShard(slot: Pick<ProxySlot, 'httpsPort' | 'ipv4'>, room: string, path = '/http-bind'): Promise<string> {
  const key = `${slot.ipv4}:${slot.httpsPort}`
  if (!agents.has(key)) agents.set(key, new Agent({keepAlive: true, maxSockets: 16}))
  return new Promise((resolve, reject) => {
    const req = request({agent: agents.get(key), headers: {host: DOMAIN}, host: slot.ipv4, method: 'POST', path: `${path}?room=${encodeURIComponent(room)}`, port: slot.httpsPort, rejectUnauthorized: false, servername: DOMAIN, timeout: 10_000}, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => {
        let backend: string | undefined
        try {
          backend = (JSON.parse(body) as {backend?: string}).backend
        } catch {}

        resolve(backend?.split('-')[0] ?? `status ${res.statusCode}`)
      })
    })
    req.on('timeout', () => req.destroy(new Error(`timeout for room ${room}`)))
    req.on('error', reject)
    req.end('<body rid="1" xmlns="http://jabber.org/protocol/httpbind"/>')
  })
}

/** The shard of each room through one proxy, 20 requests at a time. */
export async function roomShards(slot: Pick<ProxySlot, 'httpsPort' | 'ipv4'>, rooms: string[], path?: string): Promise<Map<string, string>> {
  const result = new Map<string, string>()
  for (let i = 0; i < rooms.length; i += 20) {
    const batch = rooms.slice(i, i + 20)
    const shards = await Promise.all(batch.map((room) => roomShard(slot, room, path)))
    for (const [j, room] of batch.entries()) result.set(room, shards[j])
  }

  return result
}

export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy()
  agents.clear()
}

/** How many rooms each shard got. */
export function countByShard(shards: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const shard of shards) counts[shard] = (counts[shard] ?? 0) + 1
  return counts
}
