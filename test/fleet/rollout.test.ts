import {expect} from 'chai'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode, JproxyError} from '../../src/errors.js'
import {followRollout, type Published, publishRollout, renderRollout} from '../../src/fleet/publish.js'
import {type FleetKeys, fleetClient, type Rollout, rolloutResults} from '../../src/fleet/rollout.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {Inventory} from '../../src/inventory/schema.js'
import {sha256} from '../../src/system/sha256.js'
import {runCli} from '../support/cli.js'
import {agentInProcess, fleetOfStages, stopFleet} from '../support/fleet-stages.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type Stage, startStage, through, workers} from '../support/haproxy-stage.js'
import {startBackend} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

const NAMES = ['a', 'b', 'c'] as const
/** The agents' report interval and lease TTL: the shortest etcd allows, so the tests wait little. */
const INTERVAL_MS = 1000
const TTL = 2

/**
 * Three real HAProxy proxies on loopback, each with its own agent (in this process) and one real
 * etcd: publishes reach every proxy one at a time in the fleet's order, a failing canary halts the
 * rest, and of two racing publishes one wins.
 */
describe('fleet rollouts through a real etcd to three real HAProxy proxies', function () {
  this.timeout(600_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient
  let keys: FleetKeys
  let shared: Record<string, any>
  const stop = new AbortController()
  const agents: Array<Promise<void>> = []
  const logs: string[] = []
  let file: string
  // One rollout's worst case: three applies, each bounded by the stage's reload timeout and verify.
  const rolloutMs = () => 3 * 60_000

  const inventory = (change?: (data: Record<string, any>) => void) => {
    const data = structuredClone(shared)
    change?.(data)
    return data
  }

  const publish = async (data: Record<string, any>, ...flags: string[]) => {
    await writeFile(file, stringify(data))
    return runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json', ...flags])
  }

  const history = async () => (await client.range(keys.histories, {prefix: true})).kvs.map((kv) => JSON.parse(kv.value) as Rollout)

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-fleet-'))
    etcd = await startEtcd()
    for (const name of NAMES) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
    shared = fleetOfStages(stages, NAMES, [etcd.endpoint])
    file = join(root, 'publish.yaml')
    ;({client, keys} = await fleetClient(Inventory.parse(shared)))
    const settings = {client, intervalMs: INTERVAL_MS, keys, leaseTtl: TTL, log: (line: string) => logs.push(line), signal: stop.signal}
    for (const [i, stage] of stages.entries()) agents.push((await agentInProcess(stage, NAMES[i], shared, settings)).running)
  })

  after(async () => {
    stop.abort()
    await stopFleet({agents, client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
  })

  it('20 publishes of every kind of change each reach all three proxies, one reloading at a time; status exits 0; 0 failed requests', async () => {
    // Backends only some rollouts route to: a second bridge on s1, and a whole second shard.
    const extra = new Map<string, number>()
    for (const name of ['jvb2-rest', 'jvb2-colibri', 'prosody2', 'jicofo2', 'jvb3-rest', 'jvb3-colibri']) {
      const backend = await startBackend(name, stages[0].seen)
      stages[0].backends.set(name, backend)
      extra.set(name, backend.port)
    }

    const web2 = (d: Record<string, any>) => d.web.push({address: '127.0.0.1', name: 'web2', port: stages[0].backends.get('web2')!.port})
    const jvb2 = (d: Record<string, any>) =>
      d.shards[0].jvbs.push({address: '127.0.0.1', colibriPort: extra.get('jvb2-colibri'), id: 'jvb2', restPort: extra.get('jvb2-rest')})
    const shard2 = (d: Record<string, any>) =>
      d.shards.push({
        jicofo: {address: '127.0.0.1', port: extra.get('jicofo2')},
        jvbs: [{address: '127.0.0.1', colibriPort: extra.get('jvb3-colibri'), id: 'jvb3', restPort: extra.get('jvb3-rest')}],
        name: 's2',
        prosody: {address: '127.0.0.1', port: extra.get('prosody2')},
      })
    const snippet = async (d: Record<string, any>, round: number) => {
      const file = join(root, `header-${round}.cfg`)
      await writeFile(file, `    http-response set-header X-Jproxy-Round ${round}\n`)
      for (const proxy of d.fleet.proxies) proxy.targets.haproxy.snippets = {frontendHttps: [file]}
    }
    const timing = (d: Record<string, any>, round: number) => {
      d.health.interval = `${4 + (round % 4)}s`
    }
    // Each round changes something else than the round before, so every publish changes every config.
    const kinds: Array<(d: Record<string, any>, round: number) => Promise<void> | void> = [web2, jvb2, shard2, snippet, timing]

    // A bounded request loop through all three proxies, for as long as the publishes run. Each proxy
    // serves its own certificate until its first apply, then the shared proxy.tls (the first stage's).
    const cas = await Promise.all(
      stages.map(async (stage, i) => {
        const ca = join(root, `ca-${NAMES[i]}.pem`)
        await writeFile(ca, (await readFile(stage.pem, 'utf8')) + (await readFile(stages[0].pem, 'utf8')))
        return ca
      }),
    )
    let running = true
    let requests = 0
    const failures: string[] = []
    const loop = (async () => {
      for (let i = 0; running && i < 1_000_000; i++) {
        await through({...stages[i % stages.length], pem: cas[i % stages.length]}).then(
          ({status}) => {
            requests++
            if (status !== 200) failures.push(`${NAMES[i % stages.length]}: HTTP ${status}`)
          },
          (error: Error) => failures.push(`${NAMES[i % stages.length]}: ${error.message}`),
        )
      }
    })()

    const all: Array<{finishedAt: string; proxy: string; startedAt: string}> = []
    try {
      for (let round = 0; round < 20; round++) {
        const data = inventory()
        await kinds[round % kinds.length](data, round)
        const before = await Promise.all(stages.map((s) => workers(s)))
        const run = await publish(data, '--wait', '--timeout', `${rolloutMs()}ms`)
        expect(run.code, `round ${round}: ${run.stdout}${run.stderr}\n${logs.join('\n')}`).to.equal(0)
        const {id} = JSON.parse(run.stdout)
        const results = [...(await rolloutResults(client, keys, id)).values()].sort((x, y) => x.startedAt.localeCompare(y.startedAt))
        expect(results.map((r) => [r.proxy, r.state, r.outcome])).to.deep.equal(NAMES.map((n) => [n, 'applied', 'applied']))
        all.push(...results)
        // Each proxy reloaded once for it, and runs the config rendered for it.
        const after = await Promise.all(stages.map((s) => workers(s)))
        expect(after.map((w) => w.reloads)).to.deep.equal(before.map((w) => w.reloads + 1))
        for (const [i, result] of results.entries()) expect(result.workerPid).to.equal(after[i].worker)
        const {rollout} = await followRollout({client, id, keys, timeoutMs: 1000})
        const lives = await Promise.all(stages.map(async (stage) => sha256(await readFile(stage.live, 'utf8'))))
        expect(lives).to.deep.equal(rollout.configs.map((c) => c.sha256))
        // Converged as soon as every agent has reported once since (its interval), with margin for a busy machine.
        await waitFor(`round ${round}: fleet status to report converged`, () => runCli(['fleet', 'status', '-i', file, '--json']), (r) => r.code === 0, {
          timeoutMs: INTERVAL_MS + 2000,
        })
      }
    } finally {
      running = false
      await loop
    }

    // At most one proxy reloading at any moment: every apply (stage, check, reload, verify) starts after the one before ended.
    for (let i = 1; i < all.length; i++) expect(all[i].startedAt >= all[i - 1].finishedAt, JSON.stringify(all.slice(i - 1, i + 1))).to.equal(true)
    expect(all).to.have.length(60)
    expect(failures, `${failures.length} of ${requests + failures.length} requests failed`).to.deep.equal([])
    expect(requests).to.be.above(60)
  })

  it('a canary whose verification fails is rolled back, the others never reload, publish --wait and status exit 11', async () => {
    const deny = join(root, 'deny.cfg')
    await writeFile(deny, '    http-request deny\n')
    const before = await Promise.all(stages.map((s) => workers(s)))
    const lives = await Promise.all(stages.map((s) => readFile(s.live, 'utf8')))
    // Each proxy's own targets replace the shared ones whole: the snippet goes in every proxy's.
    const data = inventory((d) => {
      for (const proxy of d.fleet.proxies) proxy.targets.haproxy.snippets = {frontendHttps: [deny]}
    })
    const run = await publish(data, '--wait', '--timeout', `${rolloutMs()}ms`)
    expect(run.code, `${run.stdout}${run.stderr}`).to.equal(ExitCode.refused)
    const error = JSON.parse(run.stdout).error
    expect(error.message).to.match(/^rollout \d+ halted: a: /)
    expect(await readFile(stages[0].live, 'utf8')).to.equal(lives[0])
    const after = await Promise.all(stages.map((s) => workers(s)))
    expect(after.slice(1).map((w) => w.reloads)).to.deep.equal(before.slice(1).map((w) => w.reloads))
    expect(await Promise.all(stages.slice(1).map((s) => readFile(s.live, 'utf8')))).to.deep.equal(lives.slice(1))
    const status = await runCli(['fleet', 'status', '-i', file, '--json'])
    expect(status.code).to.equal(ExitCode.refused)
  })

  it('two publishes racing: exactly one rollout is stored, the loser is told the winner (busy, exit 10)', async () => {
    const count = (await history()).length
    const text = stringify(inventory())
    const {configs} = await renderRollout(text, 'race.yaml', 'haproxy')
    // Both read the same previous rollout before either swaps, every time: each publish's txn waits
    // until both have reached theirs (on a busy machine one could otherwise finish before the other reads).
    let arrived = 0
    let release = () => {}
    const bothRead = new Promise<void>((resolve) => (release = resolve))
    const gated = new Proxy(client, {
      get(target, property) {
        if (property === 'txn') {
          return async (request: Parameters<EtcdClient['txn']>[0]) => {
            if (++arrived === 2) release()
            await bothRead
            return target.txn(request)
          }
        }

        const value = Reflect.get(target, property, target) as unknown
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
    const race = () => publishRollout({client: gated, configs, force: true, keys, target: 'haproxy', text}).then((p) => p, (error: JproxyError) => error)
    const [x, y] = await Promise.all([race(), race()])
    const lost = [x, y].filter((r) => r instanceof JproxyError)
    const won = [x, y].filter((r) => !(r instanceof JproxyError)) as Published[]
    expect(won).to.have.length(1)
    expect(lost).to.have.length(1)
    expect(lost[0].exitCode).to.equal(ExitCode.busy)
    expect(lost[0].message).to.include(`another publish won: rollout ${won[0].rollout.id} at revision ${won[0].revision}`)
    expect((await history()).length).to.equal(count + 1)
  })

  it('fleet rollback --to ID publishes that rollout\'s inventory again and every proxy installs its config; an unknown ID is a usage error', async () => {
    const [first] = await history()
    const missing = await runCli(['fleet', 'rollback', '-i', file, '--to', '999', '--json'])
    expect(missing.code, missing.stdout).to.equal(ExitCode.usage)
    expect(JSON.parse(missing.stdout).error.message).to.match(/^there is no rollout 999 to go back to \(the current one is \d+\)$/)

    const run = await runCli(['fleet', 'rollback', '-i', file, '--to', String(first.id), '--target', 'haproxy', '--json'])
    expect(run.code, `${run.stdout}${run.stderr}`).to.equal(0)
    const {from, id} = JSON.parse(run.stdout)
    expect(from).to.equal(first.id)
    const {results, rollout} = await followRollout({client, id, keys, timeoutMs: rolloutMs()})
    expect(rollout.inventory).to.equal(first.inventory)
    expect(rollout.configs).to.deep.equal(first.configs)
    expect(results.map((r) => [r.proxy, r.state]).sort()).to.deep.equal(NAMES.map((n) => [n, 'applied']))
    // What each proxy runs now is the config rendered for it from the first rollout's inventory.
    const lives = await Promise.all(stages.map(async (stage) => sha256(await readFile(stage.live, 'utf8'))))
    expect(lives).to.deep.equal(first.configs.map((c) => c.sha256))
  })
})
