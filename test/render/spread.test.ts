import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {LoopbackBackend, SeenRequest} from '../support/loopback-backends.js'
import {startBackend} from '../support/loopback-backends.js'
import {closeAgents, countByShard, type LoopbackShard, type ProxySlot, proxySlot, roomShards, selfSigned, startNamedShard, startSlot} from '../support/room-deployment.js'

/** 4,000 room names that look random but are the same on every run (a failure can be replayed). */
const ROOMS = Array.from({length: 4000}, (_, i) => createHash('sha256').update(`room ${i}`).digest('hex').slice(0, 12))

/**
 * The consistent-hash ring on real HAProxy: each shard's server has weight 256 (4,096 ring points)
 * and an id fixed by its name. Goals from issue 14: with 3 and with 10 shards the largest share is
 * at most 1.25 times the smallest over 4,000 rooms; two proxies agree; an added shard takes
 * 1/(N+1) of new rooms within 5 points.
 */
describe('consistent-hash spread on real HAProxy: even shares, proxies agree, an added shard takes its share', function () {
  this.timeout(300_000)
  const seen: SeenRequest[] = []
  let root: string
  let web: LoopbackBackend
  const shards: Array<LoopbackShard<LoopbackBackend>> = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-spread-'))
    web = await startBackend('web1', seen)
    for (let i = 1; i <= 11; i++) shards.push(await startNamedShard(`shard${i}`, seen))
  })
  after(async () => {
    await Promise.all([web, ...shards.flatMap((s) => [s.prosody, s.jicofo])].map((x) => x.close()))
    await rm(root, {force: true, recursive: true})
  })

  /** Where each of the 4,000 rooms goes through a fresh proxy (at `ipv4`) serving `count` shards. */
  async function placement(count: number, ipv4 = '127.0.0.1'): Promise<Map<string, string>> {
    let slot: ProxySlot | undefined
    // A port freePorts found may be taken by another process before HAProxy binds it: new ports, at most 3 tries.
    for (let attempt = 1; !slot; attempt++) {
      const candidate = await proxySlot(root, `p${count}-${ipv4}-${attempt}`, ipv4, {pem: await selfSigned(root), shards: shards.slice(0, count), web})
      const started = await startSlot(candidate).then(() => true, (error: Error) => {
        if (attempt >= 3 || !error.message.includes('Address already in use')) throw error
        return false
      })
      if (started) slot = candidate
    }

    try {
      return await roomShards(slot, ROOMS)
    } finally {
      closeAgents()
      await slot.haproxy!.stop()
    }
  }

  for (const n of [3, 10]) {
    it(`${n} shards: largest/smallest at most 1.25; two proxies agree; shard ${n + 1} takes 1/${n + 1} of new rooms within 5 points`, async () => {
      const a = await placement(n)
      const counts = Object.values(countByShard(a.values()))
      expect(counts.length).to.equal(n)
      const ratio = Math.max(...counts) / Math.min(...counts)
      expect(ratio, `rooms per shard: ${counts.join(' ')}`).to.be.at.most(1.25)

      const b = await placement(n, '127.0.0.2')
      expect([...b].filter(([room, shard]) => a.get(room) !== shard), 'rooms on which two proxies disagree').to.deep.equal([])

      const grown = await placement(n + 1)
      const share = [...grown.values()].filter((s) => s === `shard${n + 1}`).length / ROOMS.length
      expect(Math.abs(share - 1 / (n + 1)), `shard ${n + 1} takes ${(share * 100).toFixed(1)} %`).to.be.at.most(0.05)
      const movedElsewhere = [...grown].filter(([room, shard]) => shard !== `shard${n + 1}` && a.get(room) !== shard)
      expect(movedElsewhere, 'a room that does not go to the new shard stays where it was').to.deep.equal([])
    })
  }
})
