import {expect} from 'chai'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import type {EtcdClient} from '../../src/etcd/client.js'
import {type FleetKeys, fleetClient, rolloutResults} from '../../src/fleet/rollout.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {colibriServerState} from '../../src/haproxy/colibri-runtime.js'
import {ADMIN_DRAIN} from '../../src/haproxy/vocabulary.js'
import {proxyView} from '../../src/inventory/proxy-view.js'
import {type Registration, registrationKey} from '../../src/inventory/registration.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {runCli} from '../support/cli.js'
import {type EtcdProcess, startEtcd} from '../support/etcd-process.js'
import {agentInProcess, fleetOfStages, stopFleet} from '../support/fleet-stages.js'
import {type OpenWebsocket, openWebsocket, reloadToNewWorker, type Stage, startStage, workers} from '../support/haproxy-stage.js'
import {type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

const NAMES = ['a', 'b'] as const
const INTERVAL_MS = 1000
const TTL = 2
/** How long a registration change may take to reach both proxies: a watch event and one runtime change, with margin. */
const ROUTED_MS = 10_000

/**
 * Two real HAProxy proxies on loopback, each with its fleet agent (in this process), one real etcd,
 * and bridges that register under P/jvbs/ the way an autoscaler may (a put bound to a lease): the
 * agents route them at run time, with no reload, and keep them across a rollout's reload.
 */
describe('self-registered bridges: each fleet agent routes them on its own HAProxy at run time', function () {
  this.timeout(300_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient
  let keys: FleetKeys
  let shared: Record<string, any>
  let inventory: Inventory
  const stop = new AbortController()
  const agents: Array<Promise<void>> = []
  const logs: string[] = []
  const bridges = new Map<string, LoopbackBackend>()
  const leases = new Map<string, string>()
  const sockets: OpenWebsocket[] = []
  let first: Array<{reloads: number; worker: number}>

  /** Through proxy `stage`, trusting the fleet's certificate (the first stage's, which every proxy serves). */
  const websocket = (stage: Stage, id: string) => openWebsocket({...stage, pem: stages[0].pem}, `/colibri-ws/${id}/endpoint?pwd=x`)

  const register = async (id: string, state: Registration['state'] = 'active') => {
    const bridge = bridges.get(id)!
    const registration: Registration = {
      address: '127.0.0.1',
      announcedAt: new Date().toISOString(),
      colibriPort: bridge.port,
      id,
      restPort: bridge.port,
      shard: 's1',
      state,
    }
    if (!leases.has(id)) leases.set(id, (await client.leaseGrant(600)).id)
    await client.put(registrationKey(inventory, 's1', id), JSON.stringify(registration), {lease: leases.get(id)})
  }

  const routedEverywhere = async (ids: string[]) => {
    for (const stage of stages) {
      for (const id of ids) {
        await waitFor(`${id} routed through ${stage.dir}`, () => websocket(stage, id).then((ws) => (ws.socket.destroy(), ws)), (ws) => ws.status === 101 && ws.backend === id, {
          timeoutMs: ROUTED_MS,
        })
      }
    }
  }

  const servers = async (stage: Stage) =>
    (await socketCommand(stage.socket, 'show servers state be_colibri'))
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[1] === 'be_colibri')
      .map((f) => f[3])
      .sort()

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-bridges-'))
    etcd = await startEtcd()
    for (const name of NAMES) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
    shared = fleetOfStages(stages, NAMES, [etcd.endpoint])
    // No static bridge: every bridge of this fleet registers itself.
    shared.shards[0].jvbs = []
    inventory = Inventory.parse(shared)
    ;({client, keys} = await fleetClient(inventory))
    // Each proxy first runs what the fleet renders for it (as after a first publish): be_colibri and
    // the allow-list with no bridge in them.
    for (const [i, stage] of stages.entries()) {
      await writeFile(stage.live, renderTarget(proxyView(inventory, NAMES[i]), 'haproxy'))
      await reloadToNewWorker(stage)
    }

    for (let i = 1; i <= 5; i++) bridges.set(`jvbr${i}`, await startBackend(`jvbr${i}`, stages[0].seen))
    for (const [i, stage] of stages.entries()) {
      const settings = {client, intervalMs: INTERVAL_MS, keys, leaseTtl: TTL, log: (line: string) => logs.push(line), signal: stop.signal}
      agents.push((await agentInProcess(stage, NAMES[i], shared, settings)).running)
    }

    first = await Promise.all(stages.map((s) => workers(s)))
  })

  after(async () => {
    stop.abort()
    for (const ws of sockets) ws.socket.destroy()
    try {
      await stopFleet({agents, client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
    } finally {
      await Promise.all([...bridges.values()].map((b) => b.close()))
    }
  })

  it('5 registered bridges: each reachable by its /colibri-ws/<id>/ route through both proxies, with no reload', async () => {
    for (const id of bridges.keys()) await register(id)
    await routedEverywhere([...bridges.keys()])
    expect(await Promise.all(stages.map((s) => workers(s)))).to.deep.equal(first)
    for (const stage of stages) expect(await servers(stage)).to.deep.equal([...bridges.keys()].sort())
    for (const stage of stages) for (const id of ['jvbr1', 'jvbr2', 'jvbr3', 'jvbr4']) sockets.push(await websocket(stage, id))
  })

  it('a revoked lease (the bridge died): gone from both proxies; the other bridges\' open websockets stay open', async () => {
    await client.leaseRevoke(leases.get('jvbr5')!)
    leases.delete('jvbr5')
    for (const stage of stages) {
      await waitFor(`jvbr5 gone from ${stage.dir}`, () => servers(stage), (ids) => !ids.includes('jvbr5'), {timeoutMs: ROUTED_MS})
      const ws = await websocket(stage, 'jvbr5')
      ws.socket.destroy()
      expect(ws.status).to.equal(404)
    }

    expect(sockets.map((ws) => [ws.backend, ws.closed()])).to.deep.equal(sockets.map((ws) => [ws.backend, false]))
    expect(await Promise.all(stages.map((s) => workers(s)))).to.deep.equal(first)
  })

  it('a registration turned draining: drained on both proxies', async () => {
    await register('jvbr4', 'draining')
    for (const stage of stages) {
      await waitFor(`jvbr4 drained on ${stage.dir}`, () => colibriServerState(stage.socket, 'jvbr4'), (s) => Boolean(s && s.admin & ADMIN_DRAIN), {
        timeoutMs: ROUTED_MS,
      })
    }
  })

  it('a registration that names a new port for its id: the old server replaced by the new endpoint, with no reload', async () => {
    const moved = await startBackend('jvbr3', stages[0].seen)
    const old = bridges.get('jvbr3')!
    bridges.set('jvbr3', moved)
    await old.close()
    await register('jvbr3')
    for (const stage of stages) {
      await waitFor(`jvbr3 at its new port on ${stage.dir}`, () => colibriServerState(stage.socket, 'jvbr3'), (s) => s?.port === moved.port, {timeoutMs: ROUTED_MS})
    }

    await routedEverywhere(['jvbr3'])
    expect(await Promise.all(stages.map((s) => workers(s)))).to.deep.equal(first)
    // The others' open websockets are untouched.
    expect(sockets.filter((ws) => ws.backend !== 'jvbr3').every((ws) => !ws.closed())).to.equal(true)
  })

  it('a publish (a reload) keeps every registered bridge routable and drained as registered; a static bridge is kept', async () => {
    const data = structuredClone(shared)
    // A static bridge too (the first stage's jvb1): a lease never removes it.
    const [stage] = stages
    data.shards[0].jvbs = [{address: '127.0.0.1', colibriPort: stage.backends.get('jvb1-colibri')!.port, id: 'jvb1', restPort: stage.backends.get('jvb1-rest')!.port}]
    const file = join(root, 'publish.yaml')
    await writeFile(file, stringify(data))
    const run = await runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json', '--wait', '--timeout', '120s'])
    expect(run.code, `${run.stdout}${run.stderr}\n${logs.join('\n')}`).to.equal(0)
    const after = await Promise.all(stages.map((s) => workers(s)))
    expect(after.map((w) => w.reloads)).to.deep.equal(first.map((w) => w.reloads + 1))
    for (const s of stages) expect(await readFile(s.live, 'utf8')).to.match(/\n {4}server jvbr1 127\.0\.0\.1:/)
    await routedEverywhere(['jvbr1', 'jvbr2', 'jvbr3', 'jvbr4'])
    for (const s of stages) {
      await waitFor(`jvbr4 drained again on ${s.dir}`, () => colibriServerState(s.socket, 'jvbr4'), (state) => Boolean(state && state.admin & ADMIN_DRAIN), {
        timeoutMs: ROUTED_MS,
      })
      // Converged again (a heartbeat's pass) and jvb1 still there.
      await waitFor(`every bridge on ${s.dir}`, () => servers(s), (ids) => ids.join() === 'jvb1,jvbr1,jvbr2,jvbr3,jvbr4', {timeoutMs: ROUTED_MS})
    }

    shared = data
    inventory = Inventory.parse(shared)
    first = after
  })

  it('a bridge that registers while a rollout waits for its turn is routed at once, and kept by that rollout\'s reload', async () => {
    const lease = (await client.leaseGrant(600)).id
    leases.set('turn', lease)
    const held = await client.lock(keys.turn, lease, {signal: stop.signal, waitMs: 30_000})
    const data = structuredClone(shared)
    data.health.interval = '4s'
    const file = join(root, 'publish-2.yaml')
    await writeFile(file, stringify(data))
    const run = await runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json'])
    expect(run.code, `${run.stdout}${run.stderr}`).to.equal(0)
    const {id} = JSON.parse(run.stdout)
    try {
      await waitFor('agent a waiting for the turn', async () => logs.join('\n'), (text) => text.includes(`jproxy fleet agent a: rollout ${id}: waiting for the turn`), {
        timeoutMs: ROUTED_MS,
      })
      await register('jvbr5')
      await routedEverywhere(['jvbr5'])
      expect(await Promise.all(stages.map((s) => workers(s)))).to.deep.equal(first)
    } finally {
      await client.unlock(held.key)
    }

    const results = await waitFor(`rollout ${id} applied on both`, () => rolloutResults(client, keys, id), (r) => r.size === 2, {timeoutMs: 120_000})
    expect([...results.values()].map((r) => r.state)).to.deep.equal(['applied', 'applied'])
    for (const s of stages) expect(await readFile(s.live, 'utf8')).to.match(/\n {4}server jvbr5 127\.0\.0\.1:/)
    await routedEverywhere(['jvbr1', 'jvbr5'])
    shared = data
    inventory = Inventory.parse(shared)
    first = await Promise.all(stages.map((s) => workers(s)))
  })

  it('each interval the agent mends the running HAProxy: a server no registration names goes, a reload by hand that dropped bridges is undone', async () => {
    const [stage] = stages
    expect(await socketCommand(stage.socket, 'add server be_colibri/stale 127.0.0.1:9')).to.include('New server registered')
    await socketCommand(stage.socket, 'set server be_colibri/stale state ready')
    await waitFor('the stale server gone', () => servers(stage), (ids) => !ids.includes('stale'), {timeoutMs: ROUTED_MS})
    // A config without the registered bridges (as a hand-run `jproxy apply` of the inventory would write).
    await writeFile(stage.live, renderTarget(proxyView(inventory, NAMES[0]), 'haproxy'))
    await reloadToNewWorker(stage)
    const wanted = 'jvb1,jvbr1,jvbr2,jvbr3,jvbr4,jvbr5'
    await waitFor('the registered bridges back after the reload', () => servers(stage), (ids) => ids.join() === wanted, {timeoutMs: ROUTED_MS})
    await waitFor('jvbr4 drained again', () => colibriServerState(stage.socket, 'jvbr4'), (state) => Boolean(state && state.admin & ADMIN_DRAIN), {
      timeoutMs: ROUTED_MS,
    })
    await routedEverywhere(['jvbr1', 'jvbr5'])
    first = await Promise.all(stages.map((s) => workers(s)))
  })

  it('gen haproxy: with a fleet and no static bridge, be_colibri (no server) and the allow-list; without a fleet, no colibri route', async () => {
    const data = structuredClone(shared)
    data.shards[0].jvbs = []
    const file = join(root, 'gen.yaml')
    await writeFile(file, stringify(data))
    const fleet = await runCli(['gen', 'haproxy', '-i', file])
    expect(fleet.code, fleet.stderr).to.equal(0)
    expect(fleet.stdout).to.include('    acl known_jvb var(txn.jvb) -m str /\n')
    expect(fleet.stdout).to.include('    use_backend be_colibri if colibri known_jvb\n')
    expect(fleet.stdout).to.match(/\nbackend be_colibri\n/)
    expect(fleet.stdout).to.not.match(/\n {4}server jvb/)
    delete data.fleet
    await writeFile(file, stringify(data))
    const single = await runCli(['gen', 'haproxy', '-i', file])
    expect(single.code, single.stderr).to.equal(0)
    expect(single.stdout).to.include('string "colibri websockets are not routed" if colibri\n')
    expect(single.stdout).to.not.include('be_colibri')
  })

  it('hostile registrations never reach HAProxy; each refused key is logged once per agent and counted', async () => {
    const before = await Promise.all(stages.map((s) => servers(s)))
    const lease = (await client.leaseGrant(600)).id
    leases.set('hostile', lease)
    const valid = (id: string, shard = 's1') => ({address: '127.0.0.1', announcedAt: new Date().toISOString(), colibriPort: 9, id, restPort: 9, shard, state: 'active'})
    const prefix = registrationKey(inventory, 's1', '')
    const hostile: Record<string, string> = {
      [`${prefix}bad1`]: 'not json',
      [`${prefix}bad2`]: JSON.stringify(valid('other')),
      [`${prefix}bad3`]: JSON.stringify({...valid('bad3'), extra: 'x'}),
      [`${prefix}jvb1`]: JSON.stringify(valid('jvb1')),
      [registrationKey(inventory, 's9', 'bad5')]: JSON.stringify(valid('bad5', 's9')),
      [`${prefix}bad6/deeper`]: JSON.stringify(valid('bad6')),
      [`${prefix}bad7`]: JSON.stringify({...valid('bad7'), address: '127.0.0.1 check port 1'}),
    }
    // Twice: a second event with the same problem is not logged again.
    for (let round = 0; round < 2; round++) for (const [key, value] of Object.entries(hostile)) await client.put(key, value, {lease})
    const refusedLines = (key: string) => logs.filter((line) => line.includes(`registration ${key} refused:`))
    for (const key of Object.keys(hostile)) {
      await waitFor(`both agents refusing ${key}`, async () => refusedLines(key).length, (n) => n >= 2, {timeoutMs: ROUTED_MS})
    }

    // A few more beats (each converges again): still one line per key and agent.
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS))
    for (const key of Object.keys(hostile)) {
      const lines = refusedLines(key)
      expect(lines, lines.join('\n')).to.have.length(2)
      expect(lines.filter((l) => l.startsWith('jproxy fleet agent a:'))).to.have.length(1)
    }

    expect(await Promise.all(stages.map((s) => servers(s)))).to.deep.equal(before)
    // A steady bridge was changed once, ever: no converge since (events, beats, the reload) touched it again.
    for (const name of NAMES) expect(logs.filter((l) => l.startsWith(`jproxy fleet agent ${name}: bridge jvbr1:`))).to.have.length(1)
    expect(await Promise.all(stages.map((s) => workers(s)))).to.deep.equal(first)
    for (const name of NAMES) {
      await waitFor(`${name}'s report counting the refusals`, async () => JSON.parse((await client.range(keys.agent(name))).kvs[0]?.value ?? '{}'), (r) => r.refusedRegistrations >= Object.keys(hostile).length, {
        timeoutMs: 3 * INTERVAL_MS,
      })
    }
  })
})
