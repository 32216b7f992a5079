import {expect} from 'chai'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {currentRollout, type FleetKeys, fleetClient, rolloutResults} from '../../src/fleet/rollout.js'
import {Inventory} from '../../src/inventory/schema.js'
import {sha256} from '../../src/system/sha256.js'
import {type BlockingCheck, blockingCheck} from '../support/blocking-check.js'
import {runCli} from '../support/cli.js'
import {type Daemon, exited} from '../support/daemon.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {agentInProcess, agentProcess, fleetOfStages, stopFleet} from '../support/fleet-stages.js'
import {type Stage, startStage, workers} from '../support/haproxy-stage.js'
import {waitFor} from '../support/wait.js'

const INTERVAL_MS = 1000
/** The shortest lease etcd allows. */
const TTL = 2
/** A contended CI machine can lose a second or two in the agents' own start and etcd's expiry timer. */
const CONTENTION_MARGIN_MS = 5000

/**
 * The LAST proxy's agent killed in its turn: no agent comes after it to record it, so the one before
 * does, and ends the rollout (`publish --wait` exits 1 naming it: not applied everywhere). Started
 * again, that agent catches up: it applies the rollout in a turn of its own and replaces the record.
 */
describe('fleet: the last proxy\'s agent lost in its turn, then back (real etcd, two real HAProxy)', function () {
  this.timeout(300_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient
  let keys: FleetKeys
  let check: BlockingCheck
  let last: Daemon | undefined
  let blocked: number | undefined
  const stop = new AbortController()
  let first: Promise<void> | undefined
  const logs: string[] = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-lost-last-'))
    etcd = await startEtcd()
    for (const name of ['a', 'b']) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
  })

  after(async () => {
    stop.abort()
    await last?.stop()
    if (blocked) process.kill(blocked)
    await stopFleet({agents: first ? [first] : [], client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
  })

  it('a records b unknown and ends the rollout (publish --wait: exit 1); b, started again, catches up', async () => {
    check = await blockingCheck(stages[1].dir)
    const data = fleetOfStages(stages, ['a', 'b'], [etcd.endpoint])
    data.fleet.proxies[1].targets.haproxy.check = check.command
    ;({client, keys} = await fleetClient(Inventory.parse(data)))
    first = (await agentInProcess(stages[0], 'a', data, {client, intervalMs: INTERVAL_MS, keys, leaseTtl: TTL, log: (l) => logs.push(l), signal: stop.signal})).running
    last = await agentProcess(stages[1], 'b', data, INTERVAL_MS, TTL)
    const agents = async () => (await client.range(keys.agents, {prefix: true})).kvs.length
    await waitFor('both agents to report', agents, (n) => n === 2, {gaveUp: () => exited(last!.child), timeoutMs: 60_000})

    const change = structuredClone(data)
    change.web.push({address: '127.0.0.1', name: 'web2', port: stages[0].backends.get('web2')!.port})
    const file = join(root, 'publish.yaml')
    await writeFile(file, stringify(change))
    const before = await workers(stages[1])
    const waiting = runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json', '--wait', '--timeout', '240s'])
    blocked = await check.blocked({gaveUp: () => exited(last!.child), timeoutMs: 120_000})
    const killed = Date.now()
    last.child.kill('SIGKILL')
    process.kill(blocked)
    blocked = undefined

    const published = await waiting
    const done = Date.now()
    expect(published.code, `${published.stdout}${published.stderr}\n${logs.join('\n')}`).to.equal(ExitCode.failure)
    const {message} = JSON.parse(published.stdout).error
    expect(message).to.match(/^rollout \d+ finished, but not applied on b: result unknown \(its agent was lost\)/)
    // b's lease ends within the TTL; a sees it at its next beat and waits one interval at most for the turn.
    expect(done - killed, logs.join('\n')).to.be.at.most(TTL * 1000 + 2 * INTERVAL_MS + CONTENTION_MARGIN_MS)
    const {rollout} = await currentRollout(client, keys)
    expect(rollout?.state).to.equal('done')
    const lost = await rolloutResults(client, keys, rollout!.id)
    expect([...lost.values()].map((r) => [r.proxy, r.state])).to.deep.equal([['a', 'applied'], ['b', 'unknown']])
    expect(logs).to.include(`jproxy fleet agent a: rollout ${rollout!.id}: done (b unknown: no live agent)`)
    // Killed in its check: b never reloaded, and runs what it ran.
    expect((await workers(stages[1])).reloads).to.equal(before.reloads)
    const status = await runCli(['fleet', 'status', '-i', file, '--json'])
    expect(status.code, status.stdout).to.equal(ExitCode.failure)

    // Back: b's check no longer blocks, and its agent applies the rollout it missed.
    const release = check.release()
    last = await agentProcess(stages[1], 'b', change, INTERVAL_MS, TTL)
    await release
    const caughtUp = await waitFor('b to catch up', async () => (await rolloutResults(client, keys, rollout!.id)).get('b'), (r) => r?.state === 'applied', {
      gaveUp: () => exited(last!.child),
      timeoutMs: 120_000,
    })
    expect(caughtUp!.sha256).to.equal(sha256(await readFile(stages[1].live, 'utf8')))
    expect(caughtUp!.sha256).to.equal(rollout!.configs[1].sha256)
    expect((await workers(stages[1])).reloads).to.equal(before.reloads + 1)
    expect(last.output()).to.include(`jproxy fleet agent b: rollout ${rollout!.id}: catching up (recorded unknown while this agent was away)`)
    await waitFor('fleet status to exit 0', () => runCli(['fleet', 'status', '-i', file, '--json']), (r) => r.code === 0, {timeoutMs: 3 * INTERVAL_MS + CONTENTION_MARGIN_MS})
  })
})
