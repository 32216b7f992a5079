import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {EtcdClient, type KeyValue} from '../../src/etcd/client.js'
import type {Registration} from '../../src/inventory/registration.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'
import {type Daemon, exited, spawnDaemon} from '../support/daemon.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {fleetInventory} from '../support/fleet-inventory.js'
import {freePorts} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

/** The announcer's lease in this test: checks and renewals every TTL/3 = 1 s. */
const TTL_S = 3
const INTERVAL_MS = (TTL_S * 1000) / 3
const FALL = 3
const RISE = 2
/**
 * What a busy machine (2 cores shared with other test runs) may add to any bound below: a late timer,
 * a slow etcd answer (etcd checks for expired leases every 500 ms), a check's own time.
 */
const BUSY_MS = 2000
const KEY = '/jproxy/meet.example.org/jvbs/s1/jvb7'
const PREFIX = 'jproxy jvb announce s1/jvb7: '

describe('jproxy jvb announce as a process (the built CLI) against a real etcd and a fake bridge', function () {
  this.timeout(180_000)
  let dir: string
  let etcd: EtcdProcess
  let client: EtcdClient
  let bridge: FakeJitsi
  let colibriPort: number
  let file: string
  let announcer: Daemon | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-announce-'))
    etcd = await startEtcd()
    client = new EtcdClient({endpoints: [etcd.endpoint], timeoutMs: 2000})
    ;[colibriPort] = await freePorts(1)
    file = join(dir, 'jproxy.yaml')
    await writeFile(file, stringify({...fleetInventory(dir, etcd.endpoint), health: {fall: FALL, rise: RISE}}))
  })

  beforeEach(async () => {
    bridge = await startFakeJitsi()
  })

  // Each case starts its own announcer: stopped after it, also when the case failed early; its key goes with it.
  afterEach(async () => {
    await announcer?.stop()
    announcer = undefined
    await bridge.close()
    await client.deleteRange(KEY)
  })

  after(async () => {
    await client?.close()
    await etcd?.stop()
    await rm(dir, {force: true, recursive: true})
  })

  const start = async (extra: string[] = []) => {
    const args = [BIN, 'jvb', 'announce', '-i', file, '--shard', 's1', '--id', 'jvb7', '--address', '127.0.0.1']
    args.push('--rest-port', String(bridge.port), '--colibri-port', String(colibriPort), '--ttl', `${TTL_S}s`, ...extra)
    announcer = await spawnDaemon(process.execPath, args, 'nodejs')
    return announcer
  }

  const key = async (): Promise<KeyValue | undefined> => (await client.range(KEY)).kvs[0]
  /** The key once it is there (`waitFor` does not narrow). */
  const present = async (what: string, timeoutMs: number, also: (kv: KeyValue) => boolean = () => true): Promise<KeyValue> =>
    (await waitFor(what, key, (kv) => kv !== undefined && also(kv), {gaveUp, timeoutMs}))!
  const lines = () => announcer!.output().trim().split('\n')
  const healthChecks = () => bridge.requests.filter((r) => r === 'GET /about/health').length
  const gaveUp = () => exited(announcer!.child)

  /** The key once the announcer has put it: a CLI start takes seconds on a busy machine. */
  const announced = () => present('the key to be announced', CLI_TIMEOUT_MS)

  const ended = (daemon: Daemon, boundMs: number) =>
    new Promise<{code: null | number; signal: null | string}>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still running ${boundMs} ms later:\n${daemon.output()}`)), boundMs)
      daemon.child.once('exit', (code, signal) => {
        clearTimeout(timer)
        resolve({code, signal})
      })
    })

  it('announces the bridge: the documented value, bound to a lease of at most --ttl that it renews', async () => {
    await start()
    const kv = await announced()
    const value = JSON.parse(kv.value) as Registration
    expect(value).to.deep.include({address: '127.0.0.1', colibriPort, id: 'jvb7', restPort: bridge.port, shard: 's1', state: 'active'})
    expect(Object.keys(value).sort()).to.deep.equal(['address', 'announcedAt', 'colibriPort', 'id', 'restPort', 'shard', 'state'])
    expect(Date.now() - Date.parse(value.announcedAt)).to.be.within(0, CLI_TIMEOUT_MS)
    const lease = await client.leaseTimeToLive(kv.lease)
    expect(lease.grantedTtl).to.be.within(1, TTL_S)
    expect(lease.keys).to.deep.equal([KEY])
    // Renewed: alive past its TTL, under the same lease and the same put.
    await new Promise((resolve) => setTimeout(resolve, TTL_S * 1000 + INTERVAL_MS))
    const later = await key()
    expect(later?.lease).to.equal(kv.lease)
    expect(later?.modRevision).to.equal(kv.modRevision)
    expect((await client.leaseTimeToLive(kv.lease)).ttl).to.be.within(1, TTL_S)
  })

  it(`health fails: the key goes after ${FALL} failed checks; good again: back after ${RISE}; one log line per change`, async () => {
    await start()
    await announced()
    let before = healthChecks()
    bridge.state.health = 500
    await waitFor('the key to be withdrawn', key, (kv) => kv === undefined, {gaveUp, timeoutMs: FALL * INTERVAL_MS + BUSY_MS})
    expect(healthChecks() - before, 'checks since the bridge failed').to.be.at.least(FALL)
    before = healthChecks()
    bridge.state.health = 200
    const back = await present('the key to be back', RISE * INTERVAL_MS + BUSY_MS)
    expect(healthChecks() - before, 'checks since the bridge recovered').to.be.at.least(RISE)
    expect((JSON.parse(back.value) as Registration).state).to.equal('active')
    // The announcer logs once its put is answered: the line can come through its pipe after the key is seen.
    await waitFor('the log line for the key back', async () => lines(), (l) => l.length >= 4, {gaveUp, timeoutMs: BUSY_MS})
    expect(lines()).to.deep.equal([
      `${PREFIX}started: checking 127.0.0.1:${bridge.port} every ${INTERVAL_MS} ms`,
      `${PREFIX}announced`,
      `${PREFIX}not announced: the bridge is unhealthy`,
      `${PREFIX}announced`,
    ])
  })

  it(`SIGKILL: the key goes when its lease expires, within TTL + 1 s (+ ${BUSY_MS} ms for a busy machine)`, async () => {
    const daemon = await start()
    await announced()
    const death = ended(daemon, 5000)
    daemon.child.kill('SIGKILL')
    const killed = Date.now()
    expect(await death).to.deep.equal({code: null, signal: 'SIGKILL'})
    await waitFor('the key to expire', key, (kv) => kv === undefined, {timeoutMs: TTL_S * 1000 + 1000 + BUSY_MS})
    expect(Date.now() - killed).to.be.below(TTL_S * 1000 + 1000 + BUSY_MS)
  })

  it('SIGTERM with participants: drains the bridge, announces it draining until it is empty, then revokes and exits 0', async () => {
    const daemon = await start()
    await announced()
    bridge.state.participants = 3
    const exit = ended(daemon, CLI_TIMEOUT_MS)
    daemon.child.kill('SIGTERM')
    await waitFor('the drain request', async () => bridge.requests, (r) => r.includes('POST /colibri/drain/enable'), {gaveUp, timeoutMs: INTERVAL_MS + BUSY_MS})
    expect(bridge.state.drain).to.equal(true)
    const draining = await present('the key to say draining', INTERVAL_MS + BUSY_MS, (kv) => kv.value.includes('"draining"'))
    expect((JSON.parse(draining.value) as Registration).state).to.equal('draining')
    // Past a whole TTL with participants: still there, so renewed, and still asking.
    await new Promise((resolve) => setTimeout(resolve, TTL_S * 1000 + INTERVAL_MS))
    expect((await key())?.value).to.equal(draining.value)
    expect(bridge.requests.filter((r) => r === 'GET /colibri/stats').length).to.be.at.least(TTL_S)
    bridge.state.participants = 0
    const emptied = Date.now()
    expect(await exit).to.deep.equal({code: 0, signal: null})
    expect(Date.now() - emptied).to.be.below(INTERVAL_MS + BUSY_MS)
    // Revoked, not expired: gone as the process ended.
    expect(await key()).to.equal(undefined)
    expect(lines().slice(-3)).to.deep.equal([`${PREFIX}draining`, `${PREFIX}drained: no participants left`, `${PREFIX}stopped`])
  })

  it('SIGTERM with participants past --deadline: revokes at the deadline and exits 0', async () => {
    const daemon = await start(['--deadline', '2s'])
    await announced()
    bridge.state.participants = 1
    const exit = ended(daemon, CLI_TIMEOUT_MS)
    const sent = Date.now()
    daemon.child.kill('SIGTERM')
    expect(await exit).to.deep.equal({code: 0, signal: null})
    expect(Date.now() - sent).to.be.within(2000, 2000 + INTERVAL_MS + BUSY_MS)
    expect(await key()).to.equal(undefined)
    expect(lines().slice(-2)).to.deep.equal([`${PREFIX}drain deadline passed with participants left`, `${PREFIX}stopped`])
  })

  it('SIGTERM while the bridge is unhealthy (not announced): no drain wait, exit 0 at once', async () => {
    const daemon = await start()
    await announced()
    bridge.state.participants = 2
    bridge.state.health = 500
    await waitFor('the key to be withdrawn', key, (kv) => kv === undefined, {gaveUp, timeoutMs: FALL * INTERVAL_MS + BUSY_MS})
    const exit = ended(daemon, CLI_TIMEOUT_MS)
    const sent = Date.now()
    daemon.child.kill('SIGTERM')
    expect(await exit).to.deep.equal({code: 0, signal: null})
    expect(Date.now() - sent).to.be.below(INTERVAL_MS + BUSY_MS)
    expect(lines().slice(-2)).to.deep.equal([`${PREFIX}not announced: the bridge is unhealthy`, `${PREFIX}stopped`])
  })

  it('etcd stopped and started: keeps checking, says so once, and the key is back after', async () => {
    await start()
    const first = await announced()
    await etcd.down()
    const checks = healthChecks()
    // Down for longer than the TTL, so several renewals fail.
    await new Promise((resolve) => setTimeout(resolve, TTL_S * 1000 + INTERVAL_MS))
    expect(healthChecks() - checks, 'health checks while etcd was down').to.be.at.least(TTL_S)
    await etcd.up()
    // etcd renews every lease when it starts: the same lease or a new one, the key must be there and alive.
    await new Promise((resolve) => setTimeout(resolve, TTL_S * 1000 + INTERVAL_MS))
    const back = await present('the key after etcd came back', TTL_S * 1000 + BUSY_MS)
    expect((JSON.parse(back.value) as Registration).state).to.equal('active')
    expect((await client.leaseTimeToLive(back.lease)).ttl).to.be.above(0)
    const unreachable = lines().filter((l) => l.startsWith(`${PREFIX}etcd unreachable`))
    expect(unreachable, announcer!.output()).to.have.length(1)
    expect(lines().at(-1)).to.equal(`${PREFIX}announced`)
    expect(first.key).to.equal(back.key)
  })

  it('its lease gone behind its back (as when it expires in an outage): put again under a new lease', async () => {
    await start()
    const first = await announced()
    await client.leaseRevoke(first.lease)
    const back = await present('the key under a new lease', INTERVAL_MS + BUSY_MS, (kv) => kv.lease !== first.lease)
    expect((await client.leaseTimeToLive(back.lease)).keys).to.deep.equal([KEY])
    expect(lines()).to.deep.equal([`${PREFIX}started: checking 127.0.0.1:${bridge.port} every ${INTERVAL_MS} ms`, `${PREFIX}announced`])
  })

  it('refuses, with exit 2 and the flag named, a bridge the fleet would refuse: an unknown shard, a static id, a short TTL', async () => {
    const run = async (change: Record<string, string>) => {
      const flags = {'--address': '127.0.0.1', '--id': 'jvb7', '--shard': 's1', '--ttl': '3s', ...change}
      const daemon = await spawnDaemon(process.execPath, [BIN, 'jvb', 'announce', '-i', file, ...Object.entries(flags).flat()], 'nodejs')
      const exit = await ended(daemon, CLI_TIMEOUT_MS)
      return {exit, output: daemon.output().trim()}
    }

    expect(await run({'--shard': 's9'})).to.deep.equal({exit: {code: 2, signal: null}, output: 'jproxy: --shard: s9 is not a shard of the inventory'})
    expect(await run({'--id': 'jvb1'})).to.deep.equal({exit: {code: 2, signal: null}, output: 'jproxy: --id: jvb1 is a static bridge of shard s1 in the inventory'})
    expect((await run({'--ttl': '1s'})).output).to.equal("jproxy: --ttl must be at least 2s (etcd's shortest lease), not 1000 ms")
    expect((await run({'--address': '10.0.0.1 backup'})).output).to.match(/^jproxy: --address: must be an IP address or a hostname/)
  })
})
