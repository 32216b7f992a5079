import {expect} from 'chai'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {applyTarget} from '../../src/apply/apply.js'
import {runAgent} from '../../src/fleet/agent.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {currentRollout, type FleetKeys, fleetClient, rolloutResults} from '../../src/fleet/rollout.js'
import {haproxyFacts} from '../../src/fleet/worker.js'
import {Inventory} from '../../src/inventory/schema.js'
import {runCommand} from '../../src/system/command.js'
import {blockingCheck} from '../support/blocking-check.js'
import {BIN, runCli} from '../support/cli.js'
import {type Daemon, exited, spawnDaemon} from '../support/daemon.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type Stage, startStage} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

const INTERVAL_MS = 1000
/** The shortest lease etcd allows: the dead agent's turn passes on within it. */
const TTL = 2

/**
 * A canary agent (the built CLI, its own process) killed with SIGKILL while it holds its turn: its
 * lease expires, the next agent (a real HAProxy behind it) gets the turn within the TTL + 1 s,
 * records the canary `unknown` (not applied) and applies, so the rollout is done, not stalled.
 */
describe('fleet: an agent killed in its turn (real etcd, a real HAProxy behind it)', function () {
  this.timeout(180_000)
  let root: string
  let etcd: EtcdProcess
  let stage: Stage
  let client: EtcdClient
  let keys: FleetKeys
  let canary: Daemon | undefined
  let blocked: number | undefined
  const stop = new AbortController()
  let agentB: Promise<void> | undefined
  const logs: Array<{at: number; line: string}> = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-lost-'))
    etcd = await startEtcd()
    stage = await startStage(await mkdtemp(join(root, 'b-')))
  })

  after(async () => {
    stop.abort()
    await agentB
    await canary?.stop()
    if (blocked) process.kill(blocked)
    await client?.close()
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await etcd?.stop()
    await rm(root, {force: true, recursive: true})
  })

  it('the next agent gets the turn within the lease TTL + 1 s and records the lost canary unknown; the rollout is done', async () => {
    const a = join(root, 'a')
    await mkdir(join(a, 'jproxy'), {recursive: true})
    // The canary's check says that it runs and then blocks: its agent is mid-turn, holding the lock.
    const check = await blockingCheck(a)
    const [http, https, peer] = await freePorts(3)
    const shared = structuredClone(stage.data)
    const haproxy = stage.data.targets.haproxy
    shared.fleet = {
      etcd: {endpoints: [etcd.endpoint]},
      proxies: [
        {
          apply: {...stage.data.apply, dir: join(a, 'jproxy')},
          listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'},
          name: 'a',
          probe: {stateFile: join(a, 'probe-state.json')},
          targets: {
            haproxy: {
              ...haproxy,
              check: check.command,
              localPeerPort: peer,
              masterSocket: join(a, 'master.sock'),
              output: join(a, 'haproxy.cfg'),
              socket: join(a, 'admin.sock'),
              stateFile: join(a, 'server-state'),
            },
          },
        },
        {apply: stage.data.apply, listen: stage.data.proxy.listen, name: 'b', probe: stage.data.probe, targets: stage.data.targets},
      ],
    }
    ;({client, keys} = await fleetClient(Inventory.parse(shared)))
    const file = join(root, 'publish.yaml')
    await writeFile(file, stringify(shared))
    await writeFile(join(a, 'local.yaml'), stringify(shared))
    await writeFile(join(stage.dir, 'local.yaml'), stringify(shared))

    const args = [BIN, 'fleet', 'agent', '-i', join(a, 'local.yaml'), '--name', 'a', '--interval', `${INTERVAL_MS}ms`, '--lease-ttl', String(TTL)]
    canary = await spawnDaemon(process.execPath, args, 'nodejs')
    const {child} = canary
    const ca = await readFile(stage.pem, 'utf8')
    agentB = runAgent({
      apply: (view, target) => applyTarget({hostname: 'b', inventory: view, run: runCommand, target, tlsCa: ca}),
      client,
      intervalMs: INTERVAL_MS,
      inventoryFile: join(stage.dir, 'local.yaml'),
      keys,
      leaseTtl: TTL,
      log: (line) => logs.push({at: Date.now(), line}),
      name: 'b',
      signal: stop.signal,
      haproxyFacts,
    })
    const agents = async () => (await client.range(keys.agents, {prefix: true})).kvs.length
    await waitFor('both agents to report', agents, (n) => n === 2, {gaveUp: () => exited(child), timeoutMs: 60_000})

    const publish = await runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json'])
    expect(publish.code, publish.stdout + publish.stderr).to.equal(0)
    const {id} = JSON.parse(publish.stdout)
    // The canary is in its check: it holds the turn.
    blocked = await check.blocked({gaveUp: () => exited(child), timeoutMs: 60_000})
    expect(logs.map((l) => l.line)).not.to.include(`jproxy fleet agent b: rollout ${id}: applying`)

    const killed = Date.now()
    child.kill('SIGKILL')
    const turn = await waitFor(
      'b to take the turn',
      async () => logs.find((l) => l.line === `jproxy fleet agent b: rollout ${id}: applying`),
      Boolean,
      {timeoutMs: TTL * 1000 + 30_000},
    )
    // TTL + 1 s is the goal (about 2.3 s here on an idle machine); the margin is for a contended CI
    // machine, where the agents' own start and etcd's expiry timer can each lose a second.
    const CONTENTION_MARGIN_MS = 2000
    expect(turn!.at - killed, logs.map((l) => l.line).join('\n')).to.be.at.most(TTL * 1000 + 1000 + CONTENTION_MARGIN_MS)

    await waitFor('the rollout to be done', async () => (await currentRollout(client, keys)).rollout?.state, (state) => state === 'done', {timeoutMs: 60_000})
    const results = await rolloutResults(client, keys, id)
    expect(results.get('a')).to.deep.include({proxy: 'a', state: 'unknown'})
    expect(results.get('a')!.reason).to.match(/no live agent when b took the turn/)
    expect(results.get('b')).to.deep.include({proxy: 'b', state: 'applied'})
    expect(logs.map((l) => l.line)).to.include(`jproxy fleet agent b: rollout ${id}: a recorded unknown (its agent was lost)`)
  })
})
