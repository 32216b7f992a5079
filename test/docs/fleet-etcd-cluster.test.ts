import {expect} from 'chai'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, posix} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {MAX_BACKOFF_MS} from '../../src/fleet/agent.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {ETCD_TIMEOUT_MS, fleetClient} from '../../src/fleet/rollout.js'
import {LOST_INTERVALS} from '../../src/fleet/status.js'
import {Inventory} from '../../src/inventory/schema.js'
import {CLI_TIMEOUT_MS, runProgram} from '../support/cli.js'
import {jproxyOnPath, shell} from '../support/docs-commands.js'
import {INVENTORY} from '../support/docs-values.js'
import {etcdHealthy, etcdMember, type EtcdMember, type EtcdProcess, startEtcd} from '../support/etcd-process.js'
import {agentInProcess, fleetOfStages} from '../support/fleet-stages.js'
import {type Stage, startStage, through, workers} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {markedBlock} from '../support/markdown.js'
import {waitFor} from '../support/wait.js'

const PAGE = 'docs/fleet.md'
const block = (name: string): Promise<string> => markedBlock(PAGE, `fleet: ${name}`)
/** The agents' report interval here; the lease TTL is the agent's default (`--lease-ttl`). */
const INTERVAL_MS = 1000
const LEASE_TTL = 10
/** etcd's election timeout with Debian's defaults: a member alone has looked for a leader by twice this. */
const ELECTION_MS = 1000
/** What one start of the CLI may take on a contended machine (2 shared cores), besides its etcd calls. */
const START_MS = 10_000
/** The settings the page says are a member's own; every other line is the same on the three. */
const OWN = [
  'ETCD_NAME',
  'ETCD_LISTEN_PEER_URLS',
  'ETCD_LISTEN_CLIENT_URLS',
  'ETCD_INITIAL_ADVERTISE_PEER_URLS',
  'ETCD_ADVERTISE_CLIENT_URLS',
]
const NINE = [...OWN, 'ETCD_DATA_DIR', 'ETCD_INITIAL_CLUSTER', 'ETCD_INITIAL_CLUSTER_STATE', 'ETCD_INITIAL_CLUSTER_TOKEN']
/** Debian's etcd user's home, where the page's ETCD_DATA_DIR is (etcd creates the folder). */
const ETCD_HOME = '/var/lib/etcd'

/** The `KEY=value` lines of /etc/default/etcd, as systemd's EnvironmentFile reads them. */
function settingsOf(text: string): Record<string, string> {
  return Object.fromEntries(
    text.trim().split('\n').map((line) => {
      const match = /^(ETCD_[A-Z_]+)=(\S+)$/.exec(line)
      if (!match) throw new Error(`not a KEY=value line for /etc/default/etcd: ${line}`)
      return [match[1], match[2]]
    }),
  )
}

/** ETCD_INITIAL_CLUSTER's members in order: name and peer host. */
function clusterOf(settings: Record<string, string>): Array<{host: string; name: string}> {
  return settings.ETCD_INITIAL_CLUSTER.split(',').map((member) => {
    const [name, url] = member.split(/=(.*)/)
    return {host: new URL(url).hostname, name}
  })
}

/** Another member's lines as the page says they differ from the first's: its name, and its address in the OWN URLs. */
function memberSettings(first: Record<string, string>, member: {host: string; name: string}): Record<string, string> {
  const firstHost = clusterOf(first).find((m) => m.name === first.ETCD_NAME)!.host
  const own = (key: string, value: string) =>
    key === 'ETCD_NAME' ? member.name : value.replaceAll(`//${firstHost}:`, `//${member.host}:`)
  return Object.fromEntries(Object.entries(first).map(([key, value]) => [key, OWN.includes(key) ? own(key, value) : value]))
}

/**
 * docs/fleet.md's "Three etcd members", run as written: three real etcd members started from the
 * page's /etc/default/etcd lines (each member's own lines as the page says they differ), the page's
 * etcdctl check, the move from one etcd to the cluster, and the cluster with one, then two, members
 * down, with two real HAProxy proxies and their agents on the three endpoints. Only addresses differ:
 * each documentation address:port becomes a loopback port of its own, each data dir a temp folder.
 */
describe('docs/fleet.md, three etcd members: started from the page, checked, one and two members down', function () {
  this.timeout(600_000)
  let root: string
  let env: NodeJS.ProcessEnv
  let file: string
  const stages: Stage[] = []
  const members: EtcdMember[] = []
  let single: EtcdProcess | undefined
  /** Each generation of agents: its stop, its client and the agents' ends. */
  const generations: Array<{client: EtcdClient; running: Array<Promise<void>>; stop: AbortController}> = []
  const logs: string[] = []
  /** Documentation `address:port` → loopback `127.0.0.1:port`, one each. */
  const loopbackOf = new Map<string, string>()
  const loopback = (text: string) => text.replaceAll(/\b192\.0\.2\.\d+:\d+\b/g, (at) => loopbackOf.get(at) ?? at)
  let first: Record<string, string>
  let endpoints: string[]
  let names: string[]
  let publishLine: string
  let statusLine: string

  /** A line of the page's sh blocks as written, with the test's inventory and loopback addresses. */
  const run = (line: string, timeoutMs = CLI_TIMEOUT_MS) => shell(loopback(line).replaceAll(INVENTORY, file), env, timeoutMs)
  const context = () => [...logs, ...members.map((m) => `${m.name}: ${m.output().slice(-2000)}`)].join('\n')

  /** Starts one agent per stage on `data` (written to each proxy's local inventory), as a restarted agent would. */
  const startAgents = async (data: Record<string, any>) => {
    const {client, keys} = await fleetClient(Inventory.parse(data))
    const generation = {client, running: [] as Array<Promise<void>>, stop: new AbortController()}
    generations.push(generation)
    for (const [i, stage] of stages.entries()) {
      const log = (line: string) => logs.push(line)
      const settings = {client, intervalMs: INTERVAL_MS, keys, leaseTtl: LEASE_TTL, log, signal: generation.stop.signal}
      generation.running.push((await agentInProcess(stage, names[i], data, settings)).running)
    }
  }

  const stopAgents = async () => {
    for (const {client, running, stop} of generations.splice(0)) {
      stop.abort()
      await Promise.all(running)
      await client.close()
    }
  }

  /** A request through the proxy: after a rollout every proxy serves the first stage's certificate (proxy.tls). */
  const served = (stage: Stage) => through(stage, '/', stages[0].pem)

  const statusExits0 = (timeoutMs: number) =>
    waitFor('fleet status to exit 0', () => run(statusLine), (r) => r.code === 0, {timeoutMs})

  /** etcdctl on the three endpoints. */
  const etcdctl = (...args: string[]) =>
    runProgram('etcdctl', ['--endpoints', endpoints.join(','), ...args], {timeoutMs: CLI_TIMEOUT_MS})

  /** Per endpoint, its member id and whether it leads, as `etcdctl endpoint status` prints them. */
  const endpointStatus = async () => {
    const status = await etcdctl('endpoint', 'status')
    if (status.code !== 0) throw new Error(`etcdctl endpoint status exited ${status.code}: ${status.stderr}`)
    return status.stdout.trim().split('\n').map((line) => {
      const [endpoint, id, , , leader] = line.split(', ')
      return {endpoint, id, leader: leader === 'true'}
    })
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-fleet-cluster-'))
    for (const name of ['a', 'b']) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
    env = {JPROXY_INVENTORY: undefined, PATH: `${await jproxyOnPath(root)}:${process.env.PATH}`}
    file = join(root, 'jproxy.yaml')
    ;[publishLine, statusLine] = (await block('publish')).trim().split('\n')

    first = settingsOf(await block('etcd member'))
    const cluster = clusterOf(first)
    const ports = await freePorts(2 * cluster.length)
    for (const [i, {host}] of cluster.entries()) {
      loopbackOf.set(`${host}:2379`, `127.0.0.1:${ports[2 * i]}`)
      loopbackOf.set(`${host}:2380`, `127.0.0.1:${ports[2 * i + 1]}`)
    }

    for (const member of cluster) {
      const documented = member.name === first.ETCD_NAME ? first : memberSettings(first, member)
      const settings = Object.fromEntries(Object.entries(documented).map(([key, value]) => [key, loopback(value)]))
      // On one host the three need a data dir each: the page's, under a folder of the member's own.
      const own = join(root, member.name)
      await mkdir(own)
      settings.ETCD_DATA_DIR = join(own, posix.relative(ETCD_HOME, documented.ETCD_DATA_DIR))
      members.push(etcdMember({...settings, ETCD_LOG_LEVEL: 'warn'}))
    }

    const fleet = parse(await block('three etcd')).fleet
    endpoints = fleet.etcd.endpoints.map((e: string) => loopback(e))
    names = fleet.proxies.map((p: {name: string}) => p.name)
  })

  after(async () => {
    // Every step runs even when one before it fails: no etcd or HAProxy outlives the test.
    const steps = [
      stopAgents,
      () => Promise.all(stages.map((s) => s.haproxy.stop())),
      () => Promise.all(stages.flatMap((s) => [...s.backends.values()].map((b) => b.close()))),
      () => Promise.all(members.map((m) => m.stop())),
      async () => single?.stop(),
    ]
    const failed = (await Promise.allSettled(steps.map((step) => step()))).filter((r) => r.status === 'rejected')
    if (root) await rm(root, {force: true, recursive: true})
    if (failed.length > 0) throw failed[0].reason
  })

  it('the member lines are the nine settings; the other members differ in exactly the ones the page names', async () => {
    expect(Object.keys(first).sort()).to.deep.equal([...NINE].sort())
    expect(clusterOf(first)).to.deep.equal([
      {host: '192.0.2.10', name: 'etcd-1'},
      {host: '192.0.2.11', name: 'etcd-2'},
      {host: '192.0.2.12', name: 'etcd-3'},
    ])
    expect(first.ETCD_NAME).to.equal('etcd-1')
    expect(posix.dirname(first.ETCD_DATA_DIR)).to.equal(ETCD_HOME)
    const text = await readFile(PAGE, 'utf8')
    const sentence = /^On the other two members, [\s\S]*?;/m.exec(text)?.[0] ?? ''
    const named = [...sentence.matchAll(/`(ETCD_\w+)`/g)].map((m) => m[1])
    expect(named.sort()).to.deep.equal([...OWN, 'ETCD_INITIAL_CLUSTER'].sort())
    expect(sentence).to.include('`etcd-2` on 192.0.2.11, `etcd-3` on 192.0.2.12')
    for (const member of clusterOf(first).slice(1)) {
      const theirs = memberSettings(first, member)
      const differ = NINE.filter((key) => theirs[key] !== first[key])
      expect(differ, member.name).to.deep.equal(OWN)
      expect(OWN.slice(1).map((key) => theirs[key]).join(' ')).to.not.include('192.0.2.10:')
      expect(theirs.ETCD_ADVERTISE_CLIENT_URLS).to.equal(`http://${member.host}:2379`)
    }

    // Every address became a loopback one: the test runs nothing against 192.0.2.0/24.
    expect(members.map((m) => m.endpoint).join(' ')).to.not.include('192.0.2.')
    expect(endpoints).to.deep.equal(members.map((m) => m.endpoint))
  })

  it('the Debian paths it names are etcd-server\'s: the unit\'s data dir and the two etcd guides', async () => {
    const text = await readFile(PAGE, 'utf8')
    const section = text.slice(text.indexOf('## Three etcd members'), text.indexOf('## When something fails'))
    const unit = await readFile('/lib/systemd/system/etcd.service', 'utf8')
    expect(section).to.include('`/var/lib/etcd/default`')
    expect(unit).to.match(/^Environment=ETCD_DATA_DIR=\/var\/lib\/etcd\/default$/m)
    expect(unit).to.match(/^EnvironmentFile=-\/etc\/default\/%p$/m)
    const guides = [...section.matchAll(/`(\/usr\/share\/doc\/etcd-server\/[^`]+)`/g)].map((m) => m[1])
    expect(guides).to.have.length(2)
    const listed = await runProgram('dpkg', ['-L', 'etcd-server'])
    expect(listed.code, listed.stderr).to.equal(0)
    expect(listed.stdout.split('\n')).to.include.members(guides)
  })

  it('a member on a one-member etcd\'s data stays one: ETCD_INITIAL_* count only in an empty data dir', async () => {
    // Debian's etcd as installed: a cluster of one, named after the host, its data in its own folder.
    const dataDir = join(root, 'default')
    const [client, peer] = await freePorts(2)
    const installed = etcdMember({
      ETCD_ADVERTISE_CLIENT_URLS: `http://127.0.0.1:${client}`,
      ETCD_DATA_DIR: dataDir,
      ETCD_LISTEN_CLIENT_URLS: `http://127.0.0.1:${client}`,
      ETCD_LISTEN_PEER_URLS: `http://127.0.0.1:${peer}`,
      ETCD_LOG_LEVEL: 'warn',
      ETCD_NAME: 'proxy-host',
    })
    const page = settingsOf(loopback(await block('etcd member')))
    const reused = etcdMember({...page, ETCD_DATA_DIR: dataDir, ETCD_LOG_LEVEL: 'warn'})
    /** The ids of the members etcdctl lists at `endpoint`. */
    const ids = async (endpoint: string) => {
      const listed = await runProgram('etcdctl', ['--endpoints', endpoint, 'member', 'list'], {timeoutMs: CLI_TIMEOUT_MS})
      expect(listed.code, listed.stderr).to.equal(0)
      return listed.stdout.trim().split('\n').map((line) => line.split(', ')[0])
    }

    try {
      await installed.up()
      const one = await ids(installed.endpoint)
      expect(one).to.have.length(1)
      await installed.down()
      // Alone, a member started from the page's lines never serves (next test); on that data it does: the same one member.
      await reused.up()
      expect(await ids(reused.endpoint)).to.deep.equal(one)
    } finally {
      await installed.stop()
      await reused.stop()
    }
  })

  it('a member alone does not serve; the three started from those lines report healthy', async () => {
    const alone = members[0].up()
    alone.catch(() => undefined)
    const healthy = () => etcdHealthy(members[0].endpoint).catch(() => false)
    const started = Date.now()
    while (Date.now() - started < 2 * ELECTION_MS) {
      expect(await healthy(), 'a member alone is healthy').to.equal(false)
      await sleep(200)
    }

    expect(members[0].running(), members[0].output()).to.equal(true)
    await Promise.all([alone, ...members.slice(1).map((m) => m.up())])
    for (const member of members) expect(await etcdHealthy(member.endpoint), member.name).to.equal(true)
  })

  it('the page\'s etcdctl lines run as written: each endpoint is healthy, the three members are started', async () => {
    const [health, list] = (await block('etcd check')).trim().split('\n')
    expect(health).to.match(/^etcdctl .* endpoint health$/)
    expect(list).to.match(/^etcdctl .* member list$/)
    const checked = await run(health)
    expect(checked.code, checked.output).to.equal(0)
    for (const endpoint of endpoints) expect(checked.output).to.include(`${endpoint} is healthy`)
    const listed = await run(list)
    expect(listed.code, listed.output).to.equal(0)
    const started = listed.output.trim().split('\n').filter((line) => /^[\da-f]+, started, /.test(line))
    expect(started.map((line) => line.split(', ')[2]).sort()).to.deep.equal(members.map((m) => m.name))
  })

  it('from one etcd: restarted on the three endpoints, the agents apply rollout 1 of the cluster unreloaded', async () => {
    // The one-etcd walk-through first: two rollouts in the one etcd.
    single = await startEtcd()
    const one = parse(await block('one etcd')).fleet
    expect(one.proxies.map((p: {name: string}) => p.name)).to.deep.equal(names)
    const before = fleetOfStages(stages, names, [single.endpoint])
    await writeFile(file, stringify(before))
    await startAgents(before)
    for (const id of [1, 2]) {
      const published = await run(publishLine)
      expect(published.code, `${published.output}\n${context()}`).to.equal(0)
      expect(published.output).to.match(new RegExp(`^published rollout ${id} at revision \\d+`, 'm'))
    }

    // Step 1: the one etcd's host becomes a member; its etcd is gone, the proxies keep serving.
    await single.down()
    for (const stage of stages) expect((await served(stage)).status, stage.dir).to.equal(200)
    const reloads = await Promise.all(stages.map(async (s) => (await workers(s)).reloads))
    // Step 2: the three endpoints in the inventory, on both proxies, their agents restarted.
    const after = fleetOfStages(stages, names, endpoints)
    await writeFile(file, stringify(after))
    await stopAgents()
    await startAgents(after)
    // Step 3: the walk-through's two lines.
    const published = await run(publishLine)
    expect(published.code, `${published.output}\n${context()}`).to.equal(0)
    expect(published.output).to.match(/^published rollout 1 at revision \d+/m)
    await statusExits0(LOST_INTERVALS * INTERVAL_MS + START_MS)
    expect(await Promise.all(stages.map(async (s) => (await workers(s)).reloads)), 'reloads').to.deep.equal(reloads)
    // The one etcd's rollouts are not in the cluster.
    const [rollback] = (await block('rollback')).trim().split('\n')
    expect(rollback).to.match(/ --to 1$/)
    const back = await run(rollback.replace(/--to 1$/, '--to 2'))
    expect(back.code, back.output).to.equal(ExitCode.usage)
    expect(back.output).to.include('there is no rollout 2 to go back to (the current one is 1)')
  })

  it('the first endpoint\'s member, the leader, down: endpoint health names it; publish --wait, status exit 0', async () => {
    const [leader, ...others] = members
    const mine = (await endpointStatus()).find((s) => s.endpoint === leader.endpoint)!
    if (!mine.leader) {
      const moved = await etcdctl('move-leader', mine.id)
      expect(moved.code, moved.stderr).to.equal(0)
    }

    const leads = (status: Array<{endpoint: string; leader: boolean}>) =>
      status.find((e) => e.leader)?.endpoint === leader.endpoint
    await waitFor(`${leader.name} to lead`, endpointStatus, leads, {timeoutMs: 10 * ELECTION_MS})
    await leader.down()
    const [health] = (await block('etcd check')).trim().split('\n')
    const checked = await run(health)
    expect(checked.code, checked.output).to.equal(1)
    expect(checked.output).to.include(`${leader.endpoint} is unhealthy`)
    for (const member of others) expect(checked.output).to.include(`${member.endpoint} is healthy`)

    const published = await run(publishLine)
    expect(published.code, `${published.output}\n${context()}`).to.equal(0)
    expect(published.output).to.match(/^published rollout 2 at revision \d+/m)
    await statusExits0(LOST_INTERVALS * INTERVAL_MS + START_MS)
  })

  let outage: number
  it('a second member down: publish and status exit 15 within the timeout per endpoint; the proxies serve', async () => {
    expect(await readFile(PAGE, 'utf8')).to.include(`(each endpoint gets ${ETCD_TIMEOUT_MS / 1000} s)`)
    await members[1].down()
    outage = Date.now()
    const bound = endpoints.length * ETCD_TIMEOUT_MS + START_MS
    for (const line of [publishLine, statusLine]) {
      const started = Date.now()
      const ran = await run(line, bound + CLI_TIMEOUT_MS)
      const took = Date.now() - started
      expect(ran.code, `${line}\n${ran.output}`).to.equal(ExitCode.proxyUnreachable)
      expect(ran.output).to.include('cannot reach the fleet\'s etcd')
      expect(took, `${line} took ${took} ms`).to.be.at.most(bound)
    }

    for (const stage of stages) expect((await served(stage)).status, stage.dir).to.equal(200)
  })

  it('both members back: etcdctl says healthy, the agents go on by themselves, publish and status exit 0', async () => {
    // Longer than an agent may go unseen: status 0 needs a report from each agent after the outage.
    await sleep(Math.max(0, outage + LOST_INTERVALS * INTERVAL_MS - Date.now()))
    await Promise.all([members[0].up(), members[1].up()])
    const [health] = (await block('etcd check')).trim().split('\n')
    const checked = await run(health)
    expect(checked.code, checked.output).to.equal(0)
    // A call in flight when etcd came back ends within the client timeout, then an agent waits its backoff.
    await statusExits0(ETCD_TIMEOUT_MS + MAX_BACKOFF_MS + LOST_INTERVALS * INTERVAL_MS + START_MS)
    const published = await run(publishLine)
    expect(published.code, `${published.output}\n${context()}`).to.equal(0)
    expect(published.output).to.match(/^published rollout 3 at revision \d+/m)
    await statusExits0(LOST_INTERVALS * INTERVAL_MS + START_MS)
  })
})
