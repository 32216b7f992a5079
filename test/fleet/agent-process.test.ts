import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import type {EtcdClient} from '../../src/etcd/client.js'
import {type AgentReport, type FleetKeys, fleetClient} from '../../src/fleet/rollout.js'
import {Inventory} from '../../src/inventory/schema.js'
import {BIN} from '../support/cli.js'
import {type Daemon, exited, spawnDaemon} from '../support/daemon.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {fleetInventory} from '../support/fleet-inventory.js'
import {waitFor} from '../support/wait.js'

/** The agent's settings in this test: a long lease, so that a key gone at once was revoked, not expired. */
const INTERVAL_MS = 1000
const TTL = 30
/** Each etcd call the agent may be in when told to stop is bounded by its client's timeout (fleetClient's 5 s). */
const ETCD_CALL_MS = 5000

describe('jproxy fleet agent as a process (the built CLI) against a real etcd', function () {
  this.timeout(120_000)
  let dir: string
  let etcd: EtcdProcess
  let client: EtcdClient
  let keys: FleetKeys
  let agent: Daemon | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-agent-'))
    etcd = await startEtcd()
    ;({client, keys} = await fleetClient(Inventory.parse(fleetInventory(dir, etcd.endpoint))))
  })

  // Each case starts its own agent: stopped after it, also when the case failed before its signal.
  afterEach(async () => {
    await agent?.stop()
    agent = undefined
  })

  after(async () => {
    await client?.close()
    await etcd?.stop()
    await rm(dir, {force: true, recursive: true})
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops it at once: exit 0, one line per state, its lease revoked (its agent key gone)`, async () => {
      const file = join(dir, 'jproxy.yaml')
      await writeFile(file, stringify(fleetInventory(dir, etcd.endpoint)))
      const args = [BIN, 'fleet', 'agent', '-i', file, '--name', 'a', '--interval', `${INTERVAL_MS}ms`, '--lease-ttl', String(TTL)]
      agent = await spawnDaemon(process.execPath, args, 'nodejs')
      const {child} = agent
      const gaveUp = () => exited(child)
      await waitFor('the agent to log that it watches', async () => agent!.output(), (out) => out.includes(`watching ${keys.rollout}`), {gaveUp, timeoutMs: 60_000})
      const report = await waitFor('its first report', async () => (await client.range(keys.agent('a'))).kvs[0], Boolean, {gaveUp, timeoutMs: 3 * INTERVAL_MS})
      expect((JSON.parse(report.value) as AgentReport).pid).to.equal(child.pid)

      const ended = new Promise<{code: null | number; signal: null | string}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
      const sent = Date.now()
      child.kill(signal)
      // Whatever it waits in (a heartbeat's sleep, the watch, one etcd call) ends by then.
      const bound = INTERVAL_MS + ETCD_CALL_MS
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running ${bound} ms after ${signal}:\n${agent!.output()}`)), bound)
      })
      const end = await Promise.race([ended, late]).finally(() => clearTimeout(timer))
      expect(end, agent.output()).to.deep.equal({code: 0, signal: null})
      expect(Date.now() - sent).to.be.below(TTL * 1000)
      // Within the TTL, so revoked by the agent, not expired.
      expect((await client.range(keys.agent('a'))).kvs, agent.output()).to.deep.equal([])
      expect(agent.output().trim().split('\n')).to.deep.equal([
        'jproxy fleet agent a: started',
        `jproxy fleet agent a: watching ${keys.rollout}`,
        'jproxy fleet agent a: stopped',
      ])
    })
  }
})
