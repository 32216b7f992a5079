import {expect} from 'chai'
import {mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import type {EtcdClient} from '../../src/etcd/client.js'
import {currentRollout, type FleetKeys, fleetClient, rolloutResults} from '../../src/fleet/rollout.js'
import {Inventory} from '../../src/inventory/schema.js'
import {blockingCheck} from '../support/blocking-check.js'
import {runCli} from '../support/cli.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {agentInProcess, fleetOfStages, stopFleet} from '../support/fleet-stages.js'
import {type Stage, startStage, workers} from '../support/haproxy-stage.js'
import {waitFor} from '../support/wait.js'

const NAMES = ['a', 'b', 'c'] as const
const INTERVAL_MS = 1000
/**
 * The agents' default lease. etcd renews every lease when it starts again, but while it shuts down
 * (up to seconds, holding the open long-polls) its lessor still expires leases no one could renew.
 */
const TTL = 10

/**
 * etcd stopped in the middle of a rollout (while the second proxy applies) and started again: that
 * proxy's record waits for etcd instead of being lost or applied again, the third proxy applies after
 * it, and every proxy reloads exactly once.
 */
describe('fleet: etcd stopped mid-rollout and started again (real etcd, three real HAProxy)', function () {
  this.timeout(300_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient
  let keys: FleetKeys
  const stop = new AbortController()
  const agents: Array<Promise<void>> = []
  const logs: string[] = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-etcd-restart-'))
    etcd = await startEtcd()
    for (const name of NAMES) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
  })

  after(async () => {
    stop.abort()
    await stopFleet({agents, client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
  })

  it('no proxy applies twice or is skipped: the record waits for etcd, then the rollout completes', async () => {
    const check = await blockingCheck(stages[1].dir)
    const data = fleetOfStages(stages, NAMES, [etcd.endpoint])
    data.fleet.proxies[1].targets.haproxy.check = check.command
    ;({client, keys} = await fleetClient(Inventory.parse(data)))
    for (const [i, stage] of stages.entries()) {
      const settings = {client, intervalMs: INTERVAL_MS, keys, leaseTtl: TTL, log: (line: string) => logs.push(line), signal: stop.signal}
      agents.push((await agentInProcess(stage, NAMES[i], data, settings)).running)
    }

    const reporting = async () => (await client.range(keys.agents, {prefix: true})).kvs.length
    await waitFor('the three agents to report', reporting, (n) => n === 3, {timeoutMs: 60_000})
    const change = structuredClone(data)
    change.web.push({address: '127.0.0.1', name: 'web2', port: stages[0].backends.get('web2')!.port})
    const file = join(root, 'publish.yaml')
    await writeFile(file, stringify(change))
    const before = await Promise.all(stages.map((s) => workers(s)))
    const published = await runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json'])
    expect(published.code, published.stdout + published.stderr).to.equal(0)
    const {id} = JSON.parse(published.stdout)

    // b holds the turn, in its check: etcd goes away, then b goes on, reloads, and cannot record.
    await check.blocked({timeoutMs: 120_000})
    await etcd.down()
    await check.release()
    const unreachable = `jproxy fleet agent b: rollout ${id}: applied here; etcd unreachable, retrying the record`
    await waitFor('b to have applied with etcd down', async () => logs, (l) => l.some((line) => line.startsWith(unreachable)), {timeoutMs: 120_000})
    expect((await workers(stages[1])).reloads).to.equal(before[1].reloads + 1)
    await etcd.up()

    const done = await waitFor('the rollout to be done', async () => (await currentRollout(client, keys)).rollout, (r) => r?.state === 'done', {
      timeoutMs: 120_000,
    })
    expect(done!.id).to.equal(id)
    const results = [...(await rolloutResults(client, keys, id)).values()].sort((x, y) => x.startedAt.localeCompare(y.startedAt))
    expect(results.map((r) => [r.proxy, r.state]), logs.join('\n')).to.deep.equal(NAMES.map((n) => [n, 'applied']))
    for (let i = 1; i < results.length; i++) expect(results[i].startedAt >= results[i - 1].finishedAt).to.equal(true)
    const after = await Promise.all(stages.map((s) => workers(s)))
    expect(after.map((w) => w.reloads), logs.join('\n')).to.deep.equal(before.map((w) => w.reloads + 1))
    for (const name of NAMES) {
      expect(logs.filter((l) => l === `jproxy fleet agent ${name}: rollout ${id}: applying`), `${name}:\n${logs.join('\n')}`).to.have.length(1)
      // One line for the outage, not one per retry (b spent most of it retrying its record: a state of its own).
      const outage = logs.filter((l) => l.startsWith(`jproxy fleet agent ${name}: etcd unreachable or refused;`))
      expect(outage.length, logs.join('\n')).to.be.within(name === 'b' ? 0 : 1, 1)
    }
  })
})
