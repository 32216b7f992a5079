import {expect} from 'chai'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {parseShowStat, type StatRow} from '../../src/haproxy/runtime.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import type {LoopbackBackend, SeenRequest} from '../support/loopback-backends.js'
import {startBackend} from '../support/loopback-backends.js'
import {closeAgents, type LoopbackShard, type ProxySlot, proxySlot, roomShards, selfSigned, startNamedShard, startSlot} from '../support/room-deployment.js'
import {waitFor} from '../support/wait.js'

/** Waits (bounded) until the shard's servers in be_prosody and be_jicofo both report `status`. */
async function shardStatus(slot: ProxySlot, shard: string, status: string, timeoutMs: number): Promise<void> {
  const ofShard = (r: StatRow) => r.server === shard && (r.proxy === 'be_prosody' || r.proxy === 'be_jicofo')
  const rows = async () => parseShowStat(await socketCommand(slot.socket, 'show stat')).filter(ofShard)
  const both = (found: StatRow[]) => found.length === 2 && found.every((r) => r.status.startsWith(status))
  await waitFor(`${shard} ${status} in be_prosody and be_jicofo`, rows, both, {timeoutMs})
}

describe('one health verdict per shard on real HAProxy: no room splits when one role fails', function () {
  this.timeout(120_000)
  const seen: SeenRequest[] = []
  let root: string
  let web: LoopbackBackend
  let shards: Array<LoopbackShard<LoopbackBackend>>
  let slot: ProxySlot
  const rooms = Array.from({length: 150}, (_, i) => `split-room-${i}`)

  /** Each room's shard for BOSH and for its conference request; fails on any room whose two differ. */
  async function placement(): Promise<Map<string, string>> {
    const [bosh, conference] = [await roomShards(slot, rooms), await roomShards(slot, rooms, '/conference-request/v1')]
    const split = rooms.filter((room) => bosh.get(room) !== conference.get(room)).map((room) => `${room}: BOSH ${bosh.get(room)}, conference ${conference.get(room)}`)
    expect(split, 'rooms split between two shards').to.deep.equal([])
    return bosh
  }

  async function start(health: {fall: number; interval: string; rise: number; timeout: string}) {
    root = await mkdtemp(join(tmpdir(), 'jproxy-verdict-'))
    web = await startBackend('web1', seen)
    shards = [await startNamedShard('s1', seen), await startNamedShard('s2', seen), await startNamedShard('s3', seen)]
    slot = await proxySlot(root, 'p', '127.0.0.1', {pem: await selfSigned(root), shards, web})
    slot.data.health = health
    await startSlot(slot)
  }

  afterEach(async () => {
    closeAgents()
    await slot?.haproxy?.stop()
    await Promise.all([web, ...shards.flatMap((s) => [s.prosody, s.jicofo])].map((x) => x.close()))
    await rm(root, {force: true, recursive: true})
  })

  it('jicofo alone down, then prosody alone down: the shard is down for both backends and every room stays whole', async () => {
    await start({fall: 2, interval: '1s', rise: 1, timeout: '900ms'})
    const before = await placement()
    expect(new Set(before.values()).size).to.equal(3)

    await shards[0].jicofo.close()
    await shardStatus(slot, 's1', 'DOWN', 20_000)
    const afterJicofo = await placement()
    for (const [room, shard] of before) if (shard !== 's1') expect(afterJicofo.get(room), `${room} on healthy ${shard}`).to.equal(shard)

    await shards[1].prosody.close()
    await shardStatus(slot, 's2', 'DOWN', 20_000)
    const afterProsody = await placement()
    for (const [room, shard] of before) if (shard === 's3') expect(afterProsody.get(room), `${room} on healthy s3`).to.equal('s3')
    expect(new Set(afterProsody.values())).to.deep.equal(new Set(['s3']))
  })

  it('a failed connection before the shard is declared down is retried on its own shard, never redispatched: the room does not move', async () => {
    // fall 100: the dead prosody stays "up" for the whole test, as a shard does between a fault and its verdict.
    await start({fall: 100, interval: '1s', rise: 1, timeout: '900ms'})
    const before = await placement()
    const s1Rooms = [...before].filter(([, shard]) => shard === 's1').map(([room]) => room)
    expect(s1Rooms.length).to.be.greaterThan(10)
    await shards[0].prosody.close()
    const during = await roomShards(slot, s1Rooms)
    expect(new Set(during.values()), 'they fail instead of reaching another shard').to.deep.equal(new Set(['status 503']))
    const table = await socketCommand(slot.socket, 'show table be_prosody')
    for (const room of s1Rooms) expect(table, room).to.match(new RegExp(`key=/${room} .*server_key=s1\\n`))
  })
})
