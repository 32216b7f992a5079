import {expect} from 'chai'

import {EtcdClient, EtcdError, type WatchEvent} from '../../src/etcd/client.js'
import {pollUntil} from '../../src/system/poll.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {freePorts} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

/** etcd's minimum lease TTL with its default timing (fleet.md §3): the shortest expiry a test can wait for. */
const TTL = 2
/** An expiry is due within the TTL; one more TTL and a second of slack bound every wait for one. */
const EXPIRY_MS = 2 * TTL * 1000 + 1000

/** Settles `promise` into a flag a test can read without waiting on it. */
function track<T>(promise: Promise<T>): {done: () => boolean; promise: Promise<T>} {
  let settled = false
  const tracked = promise.finally(() => (settled = true))
  return {done: () => settled, promise: tracked}
}

async function collect(events: AsyncIterable<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = []
  for await (const event of events) {
    seen.push(event)
    if (seen.length === count || event.type === 'compacted' || event.type === 'canceled') break
  }

  return seen
}

describe('etcd/client: the v3 JSON gateway client against a real etcd', () => {
  let etcd: EtcdProcess
  let client: EtcdClient

  before(async () => {
    etcd = await startEtcd()
    client = new EtcdClient({endpoints: [etcd.endpoint], timeoutMs: 5000})
  })

  after(async () => {
    // etcd first: a watch a failed case left open would keep close() waiting.
    await etcd?.stop()
    await client?.close()
  })

  it('puts, reads one key and a prefix in key order, and deletes a prefix', async () => {
    await client.put('/t/kv/b', 'two')
    const {revision} = await client.put('/t/kv/a', 'one ✓')
    await client.put('/t/kvz', 'outside the prefix')
    const one = await client.range('/t/kv/a')
    expect(one.kvs.map((kv) => [kv.key, kv.value, kv.modRevision])).to.deep.equal([['/t/kv/a', 'one ✓', revision]])
    expect((await client.range('/t/kv/', {prefix: true})).kvs.map((kv) => kv.key)).to.deep.equal(['/t/kv/a', '/t/kv/b'])
    expect((await client.range('/t/missing')).kvs).to.deep.equal([])
    expect((await client.deleteRange('/t/kv/', {prefix: true})).deleted).to.equal(2)
    expect((await client.range('/t/kvz')).kvs).to.have.length(1)
  })

  it('compare-and-swap: of two writes racing on one mod revision exactly one wins', async () => {
    await client.put('/t/cas', 'v0')
    const [seen] = (await client.range('/t/cas')).kvs
    const swap = (value: string) =>
      client.txn({compare: [{key: '/t/cas', target: 'mod', value: seen.modRevision}], failure: [{range: {key: '/t/cas'}}], success: [{put: {key: '/t/cas', value}}]})
    const results = await Promise.all([swap('a'), swap('b')])
    expect(results.map((r) => r.succeeded).sort()).to.deep.equal([false, true])
    const winner = results[0].succeeded ? 'a' : 'b'
    const loser = results.find((r) => !r.succeeded)!
    // The loser's failure branch read the winner's value: what a publish reports back.
    expect(loser.responses).to.deep.equal([{kvs: [(await client.range('/t/cas')).kvs[0]]}])
    expect((await client.range('/t/cas')).kvs[0].value).to.equal(winner)

    const create = (value: string) => client.txn({compare: [{key: '/t/created', target: 'create', value: 0}], success: [{put: {key: '/t/created', value}}]})
    expect((await Promise.all([create('x'), create('y')])).filter((r) => r.succeeded)).to.have.length(1)
    const byValue = await client.txn({compare: [{key: '/t/cas', target: 'value', value: winner}, {key: '/t/cas', result: '>', target: 'version', value: 1}], success: [{delete: {key: '/t/cas'}}]})
    expect(byValue).to.include({succeeded: true})
    expect(byValue.responses).to.deep.equal([{deleted: 1}])
  })

  it('a key put with a lease goes when the lease expires, within the TTL and a bound', async () => {
    const lease = await client.leaseGrant(TTL)
    expect(lease.ttl).to.equal(TTL)
    await client.put('/t/leased', 'here', {lease: lease.id})
    expect((await client.leaseTimeToLive(lease.id)).keys).to.deep.equal(['/t/leased'])
    await waitFor('the leased key to go', () => client.range('/t/leased'), (r) => r.kvs.length === 0, {timeoutMs: EXPIRY_MS})
    expect((await client.leaseTimeToLive(lease.id)).ttl).to.equal(-1)
    expect((await client.leaseKeepAlive(lease.id)).ttl, 'a keepalive of an expired lease renews nothing').to.equal(0)
  })

  it('keepalives, one POST each, keep a leased key past twice its TTL; revoke removes it at once', async () => {
    const lease = await client.leaseGrant(TTL)
    await client.put('/t/kept', 'here', {lease: lease.id})
    const started = Date.now()
    const kept = await pollUntil(
      async () => {
        const {ttl} = await client.leaseKeepAlive(lease.id)
        return {present: (await client.range('/t/kept')).kvs.length === 1, ttl}
      },
      (state) => !state.present || Date.now() - started > 2 * TTL * 1000 + 500,
      {intervalMs: (TTL * 1000) / 3, timeoutMs: 3 * TTL * 1000},
    )
    expect(kept.value).to.deep.equal({present: true, ttl: TTL})
    await client.leaseRevoke(lease.id)
    expect((await client.range('/t/kept')).kvs).to.deep.equal([])
  })

  it('lock: waiters get it in FIFO order, on unlock and on the holder\'s lease expiring', async () => {
    const leases = await Promise.all([client.leaseGrant(30), client.leaseGrant(30), client.leaseGrant(30)])
    const first = await client.lock('turn', leases[0].id, {waitMs: 5000})
    const second = track(client.lock('turn', leases[1].id, {waitMs: 20_000}))
    // Each waiter's key appears once it is queued: queue the third only after the second.
    await waitFor('the second waiter to queue', () => client.range('turn/', {prefix: true}), (r) => r.kvs.length === 2, {timeoutMs: 5000})
    const third = track(client.lock('turn', leases[2].id, {waitMs: 20_000}))
    await waitFor('the third waiter to queue', () => client.range('turn/', {prefix: true}), (r) => r.kvs.length === 3, {timeoutMs: 5000})
    expect([second.done(), third.done()]).to.deep.equal([false, false])
    await client.unlock(first.key)
    const held = await second.promise
    expect(held.key).to.match(/^turn\//)
    expect(third.done(), 'the third still waits while the second holds').to.equal(false)
    await client.leaseRevoke(leases[1].id)
    expect((await third.promise).key).to.match(/^turn\//)
    await client.leaseRevoke(leases[2].id)

    // A holder that dies (its lease left to expire) hands the lock on within its TTL.
    const short = await client.leaseGrant(TTL)
    await client.lock('turn', short.id, {waitMs: 5000})
    const next = await client.leaseGrant(30)
    const started = Date.now()
    const after = await client.lock('turn', next.id, {waitMs: EXPIRY_MS})
    expect(Date.now() - started).to.be.below(EXPIRY_MS)
    expect((await client.range(after.key)).kvs[0].lease).to.equal(next.id)
    await client.leaseRevoke(next.id)
  })

  it('a lock wait is bounded by its waitMs', async () => {
    const [a, b] = await Promise.all([client.leaseGrant(30), client.leaseGrant(30)])
    await client.lock('bounded', a.id, {waitMs: 5000})
    const error = await client.lock('bounded', b.id, {waitMs: 300}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(EtcdError)
    expect((error as Error).message).to.equal(`etcd at ${etcd.endpoint}: no complete answer within 300 ms`)
    await Promise.all([client.leaseRevoke(a.id), client.leaseRevoke(b.id)])
  })

  it('watch from a revision reports the changes since, in order, puts and deletes', async () => {
    const {revision} = await client.put('/t/w/a', '1')
    await client.put('/t/w/b', '2')
    await client.deleteRange('/t/w/a')
    const {revision: last} = await client.put('/t/wz', 'not under the prefix')
    const events = await collect(client.watch('/t/w/', {prefix: true, startRevision: revision}), 3)
    expect(events.map((e) => (e.type === 'put' || e.type === 'delete' ? [e.type, e.kv.key, e.kv.value] : [e.type]))).to.deep.equal([
      ['put', '/t/w/a', '1'],
      ['put', '/t/w/b', '2'],
      ['delete', '/t/w/a', ''],
    ])

    // A watch from the next revision sees a later put, however late the stream opens (a watch "from
    // now" could open after the put on a busy machine); stopping it through the signal ends it quietly.
    const stop = new AbortController()
    const live = client.watch('/t/w/', {prefix: true, signal: stop.signal, startRevision: last + 1})
    const next = live.next()
    await client.put('/t/w/c', '3')
    const {value} = await next
    expect(value).to.deep.include({type: 'put'})
    stop.abort()
    expect(await live.next()).to.deep.equal({done: true, value: undefined})
  })

  it('a watch from a compacted revision is reported as compaction, naming the oldest revision kept', async () => {
    await client.put('/t/c', 'old')
    const {revision} = await client.put('/t/c', 'new')
    await client.compact(revision)
    const events = await collect(client.watch('/t/c', {startRevision: 1}), 1)
    expect(events).to.deep.equal([{compactRevision: revision, type: 'compacted'}])
  })

  it('reports etcd\'s own message and the endpoint as one error class', async () => {
    const error = await client.leaseRevoke('1234').catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(EtcdError)
    expect(error).to.include({code: 5, endpoint: etcd.endpoint, etcdMessage: 'etcdserver: requested lease not found'})
  })

  it('caps an answer\'s bytes', async () => {
    await client.put('/t/big', 'x'.repeat(10_000))
    const small = new EtcdClient({endpoints: [etcd.endpoint], maxBytes: 4096, timeoutMs: 5000})
    try {
      const error = await small.range('/t/big').catch((error_: unknown) => error_)
      expect((error as Error).message).to.equal(`etcd at ${etcd.endpoint}: answer larger than 4096 bytes`)
    } finally {
      await small.close()
    }
  })

  it('fails over to the next endpoint when the first is down, and names the last one when all are', async () => {
    const [dead, alsoDead] = await freePorts(2)
    const failover = new EtcdClient({endpoints: [`http://127.0.0.1:${dead}`, etcd.endpoint], timeoutMs: 5000})
    const none = new EtcdClient({endpoints: [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${alsoDead}`], timeoutMs: 5000})
    try {
      await failover.put('/t/failover', 'reached')
      expect((await failover.range('/t/failover')).kvs[0].value).to.equal('reached')
      const error = await none.range('/t/failover').catch((error_: unknown) => error_)
      expect((error as Error).message).to.equal(`etcd at http://127.0.0.1:${alsoDead}: connection refused`)
    } finally {
      await Promise.all([failover.close(), none.close()])
    }
  })
})
