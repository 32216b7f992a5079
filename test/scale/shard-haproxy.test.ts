import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {applyTarget} from '../../src/apply/apply.js'
import {ExitCode} from '../../src/errors.js'
import {shardServerState} from '../../src/haproxy/shard-runtime.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {drainShard} from '../../src/scale/shard-drain.js'
import {runCommand} from '../../src/system/command.js'
import {pollUntil} from '../../src/system/poll.js'
import type {SeenRequest} from '../support/loopback-backends.js'
import {startBackend, type LoopbackBackend} from '../support/loopback-backends.js'
import {
  closeAgents,
  countByShard,
  type LoopbackShard,
  type ProxySlot,
  proxySlot,
  reloadSlot,
  roomShards,
  selfSigned,
  shardData,
  startShard,
  startSlot,
  waitForTable,
} from '../support/room-deployment.js'

const ADMIN_DRAIN = 0x08

/**
 * Real HAProxy: proxies A and B rendered from one inventory with peers (A names itself with
 * targets.haproxy.localPeer, B is started with -L as its host name), and C without peers. 200
 * live rooms keep their shard through drain, reload, undrain, shard add and shard remove; new rooms
 * never land on a draining shard; A's entries reach B. The steps run in order on one deployment.
 */
describe('rooms and shards on real HAProxy: drain, undrain, add and remove keep live rooms', function () {
  this.timeout(300_000)
  const seen: SeenRequest[] = []
  let root: string
  let pem: string
  let web: LoopbackBackend
  const shards: LoopbackShard[] = []
  let a: ProxySlot
  let b: ProxySlot
  let c: ProxySlot
  const live = Array.from({length: 200}, (_, i) => `live-room-${i}`)
  let placed: Map<string, string>
  let placedOnC: Map<string, string>
  let fresh = 0
  const newRooms = (count: number) => Array.from({length: count}, () => `new-room-${fresh++}`)

  const inventoryFile = async (slot: ProxySlot, change: (data: Record<string, any>) => void) => {
    change(slot.data)
    await writeFile(slot.file, stringify(slot.data))
  }

  const ca = () => readFile(pem, 'utf8')
  const applySlot = async (slot: ProxySlot, hostname: string, rooms: number) => {
    const report = await applyTarget({hostname, inventory: Inventory.parse(slot.data), run: runCommand, target: 'haproxy', tlsCa: await ca()})
    expect(report.exitCode, `${slot.name}: ${report.message}\n${JSON.stringify(report.check)}`).to.equal(ExitCode.ok)
    await waitForTable(slot, rooms)
    // The old worker hands its table to the new one and then holds none: a request it still serves on a
    // keep-alive connection opened before the reload is routed by its hash alone (docs/rooms-and-shards.md).
    closeAgents()
    return report
  }

  const drain = async (slot: ProxySlot, hostname: string, name: string, off = false) =>
    drainShard({file: slot.file, hostname, name, off, requestTimeoutMs: 2000, run: runCommand, target: 'haproxy', tlsCa: await ca()})

  /** Every live room still on the shard it started on, through `slot`; returns the rooms that moved. */
  const moved = async (slot: ProxySlot, rooms: Map<string, string>) => {
    const now = await roomShards(slot, [...rooms.keys()])
    return [...rooms].filter(([room, shard]) => now.get(room) !== shard).map(([room, shard]) => `${room}: ${shard} -> ${now.get(room)}`)
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-rooms-'))
    pem = await selfSigned(root)
    web = await startBackend('web1', seen)
    for (const name of ['s1', 's2', 's3', 's4']) shards.push(await startShard(name, seen))
    const [peerA, peerB] = [await proxySlot(root, 'probe-a', '127.0.0.1', {pem, shards, web}), await proxySlot(root, 'probe-b', '127.0.0.2', {pem, shards, web})]
    const peers = [
      {address: '127.0.0.1', name: 'proxy-a', port: peerA.data.targets.haproxy.localPeerPort},
      {address: '127.0.0.2', name: 'proxy-b', port: peerB.data.targets.haproxy.localPeerPort},
    ]
    const three = shards.slice(0, 3)
    a = await proxySlot(root, 'a', '127.0.0.1', {peers, pem, shards: three, web})
    b = await proxySlot(root, 'b', '127.0.0.2', {peers, pem, shards: three, web})
    c = await proxySlot(root, 'c', '127.0.0.3', {pem, shards: three, web})
    await inventoryFile(a, (d) => (d.targets.haproxy.localPeer = 'proxy-a'))
    await startSlot(a)
    await startSlot(b, ['-L', 'proxy-b'])
    await startSlot(c)
  })

  after(async () => {
    closeAgents()
    await Promise.all([a, b, c].map(async (slot) => slot?.haproxy?.stop()))
    await Promise.all([web, ...shards.flatMap((s) => [s.prosody, s.jicofo])].map((x) => x?.close()))
    await rm(root, {force: true, recursive: true})
  })

  it('renders A and B with the same backends and peers; C has a peers section of its own', async () => {
    const [configA, configB, configC] = await Promise.all([a, b, c].map((s) => readFile(s.data.targets.haproxy.output, 'utf8')))
    const from = (config: string, section: string) => config.slice(config.indexOf(section))
    expect(from(configA, '\nbackend be_prosody')).to.equal(from(configB, '\nbackend be_prosody'))
    expect(configA).to.include('    localpeer proxy-a\n').and.include('    peer proxy-b 127.0.0.2:')
    expect(configB).to.not.match(/^\s+localpeer /m)
    expect(configC).to.include('    localpeer local\n').and.match(/\n {4}peer local 127\.0\.0\.1:\d+\n/)
  })

  it('200 live rooms opened on A are in B\'s table too (peers), and C keeps its own', async () => {
    placed = await roomShards(a, live)
    expect(Object.keys(countByShard(placed.values())).sort()).to.deep.equal(['s1', 's2', 's3'])
    const usedOnB = async () => Number(/used:(\d+)/.exec(await socketCommand(b.socket, 'show table be_prosody'))?.[1])
    const {value: used} = await pollUntil(usedOnB, (n) => n >= live.length, {intervalMs: 100, timeoutMs: 10_000})
    expect(used, 'entries pushed from A to B').to.equal(live.length)
    expect(Number(/used:(\d+)/.exec(await socketCommand(c.socket, 'show table be_prosody'))?.[1]), 'C is not a peer').to.equal(0)
    placedOnC = await roomShards(c, live)
  })

  it('drain s2 (runtime API, no reload): live rooms stay on A and B, new rooms never land on s2; the inventory says state: drain', async () => {
    const workerPids = async () => [...(await socketCommand(a.masterSocket, 'show proc')).matchAll(/^(\d+)\s+worker/gm)].map((m) => m[1])
    const workers = await workerPids()
    for (const [slot, host] of [[a, 'ignored'], [b, 'proxy-b']] as const) {
      const report = await drain(slot, host, 's2')
      expect(report.exitCode, report.message).to.equal(ExitCode.ok)
      expect(report.message).to.match(/^s2 draining: no new rooms \(/)
      expect(await readFile(slot.file, 'utf8')).to.match(/\n {4}state: drain\n/)
      expect((await shardServerState(slot.socket, 's2'))!.admin & ADMIN_DRAIN).to.equal(ADMIN_DRAIN)
      expect((await shardServerState(slot.socket, 's2', 'be_jicofo'))!.admin & ADMIN_DRAIN).to.equal(ADMIN_DRAIN)
      expect(await readFile(slot.data.targets.haproxy.output, 'utf8')).to.match(/server s2 \S+ id \d+ weight 0 track hc_s2\/s2/)
    }

    expect(await workerPids(), 'no reload').to.deep.equal(workers)
    expect(await moved(a, placed)).to.deep.equal([])
    expect(await moved(b, placed)).to.deep.equal([])
    const counts = countByShard((await roomShards(a, newRooms(300))).values())
    expect(counts.s2, JSON.stringify(counts)).to.equal(undefined)
    expect(counts.s1 + counts.s3).to.equal(300)
  })

  it('a reload keeps the drain (weight 0 from the file) and the room table (peers section)', async () => {
    // The server-state file is emptied, so only the rendered file can carry the drain.
    await writeFile(a.data.targets.haproxy.stateFile, '1\n')
    await reloadSlot(a)
    await waitForTable(a, live.length)
    closeAgents()
    expect((await shardServerState(a.socket, 's2'))!.weight).to.equal(0)
    expect(await moved(a, placed)).to.deep.equal([])
    const counts = countByShard((await roomShards(a, newRooms(200))).values())
    expect(counts.s2, JSON.stringify(counts)).to.equal(undefined)
  })

  it('undrain s2: new rooms reach s2 again, live rooms stay, and the inventory is as before the drain', async () => {
    const report = await drain(a, 'ignored', 's2', true)
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(await readFile(a.file, 'utf8')).to.not.include('state:')
    expect(await shardServerState(a.socket, 's2')).to.deep.include({admin: 0, weight: 256})
    expect((await drain(b, 'proxy-b', 's2', true)).exitCode).to.equal(ExitCode.ok)
    expect(await moved(a, placed)).to.deep.equal([])
    const counts = countByShard((await roomShards(a, newRooms(300))).values())
    expect(counts.s2, JSON.stringify(counts)).to.be.greaterThan(50)
  })

  it('add shard s4 (apply, one reload each): no live room moves on A, B or C; new rooms reach s4', async () => {
    for (const [slot, host] of [[a, 'ignored'], [b, 'proxy-b'], [c, 'ignored']] as const) {
      await inventoryFile(slot, (d) => d.shards.push(shardData(shards[3])))
      await applySlot(slot, host, live.length)
    }

    expect(await moved(a, placed)).to.deep.equal([])
    expect(await moved(b, placed)).to.deep.equal([])
    expect(await moved(c, placedOnC), 'C kept its table through the reload with its local-only peer').to.deep.equal([])
    const counts = countByShard((await roomShards(b, newRooms(400))).values())
    expect(counts.s4, JSON.stringify(counts)).to.be.greaterThan(40)
  })

  it("remove shard s3: only s3's own rooms move; every other live room stays", async () => {
    for (const [slot, host] of [[a, 'ignored'], [b, 'proxy-b']] as const) {
      await inventoryFile(slot, (d) => (d.shards = d.shards.filter((s: {name: string}) => s.name !== 's3')))
      await applySlot(slot, host, live.length)
    }

    const others = new Map([...placed].filter(([, shard]) => shard !== 's3'))
    expect(others.size).to.be.greaterThan(100)
    expect(await moved(a, others)).to.deep.equal([])
    expect(await moved(b, others)).to.deep.equal([])
    const s3Rooms = [...placed].filter(([, shard]) => shard === 's3').map(([room]) => room)
    const now = await roomShards(a, s3Rooms)
    expect([...now.values()].filter((s) => !['s1', 's2', 's4'].includes(s)), 'they found a live shard').to.deep.equal([])
  })
})
