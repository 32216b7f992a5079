import {expect} from 'chai'
import {mkdir, mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {type FleetKeys, fleetClient} from '../../src/fleet/rollout.js'
import {fleetStatus, type FleetStatus} from '../../src/fleet/status.js'
import {Inventory} from '../../src/inventory/schema.js'
import {runCli} from '../support/cli.js'
import {agentInProcess, fleetOfStages, stopFleet} from '../support/fleet-stages.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type Stage, startStage, workers} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

const NAMES = ['a', 'b'] as const
/** The agents' report interval and lease TTL: the shortest etcd allows, so the tests wait little. */
const INTERVAL_MS = 1000
const TTL = 2
/** What a report may take beyond its interval on a busy machine: HAProxy's sockets, the file read, the put. */
const MARGIN_MS = INTERVAL_MS
/** HAProxy retries a peer every 5 s and gives a resync 5 s: a link comes up within a few of those. */
const PEER_LINK_MS = 20_000

/** A textfile's samples by `name{labels}` as written, and the metric names that have HELP and TYPE. */
function readTextfile(text: string): {described: Set<string>; samples: Map<string, number>} {
  const samples = new Map<string, number>()
  const described = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) gauge$/.exec(line)
    if (type && text.includes(`# HELP ${type[1]} `)) described.add(type[1])
    const sample = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (sample) samples.set(sample[1], sample[2] === '+Inf' ? Infinity : Number(sample[2]))
  }

  return {described, samples}
}

/**
 * `fleet status` against one real etcd and two real HAProxy proxies peered on loopback, each with its
 * agent in this process: what HAProxy's masters and peers say is what status shows (text, JSON and
 * metrics); a peer link down is a note, not drift; a hand edit is drift within one agent interval;
 * an unreachable etcd still writes its metric.
 */
describe('fleet status: HAProxy workers, reloads and peer links of two real proxies, through a real etcd', function () {
  this.timeout(600_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient
  let keys: FleetKeys
  const stop = new AbortController()
  const agents: Array<Promise<void>> = []
  const logs: string[] = []
  let file: string
  let prom: string
  let rolloutId: number

  const status = (...flags: string[]) => runCli(['fleet', 'status', '-i', file, ...flags])
  const json = async (...flags: string[]) => {
    const run = await status('--json', ...flags)
    return {code: run.code, run, status: JSON.parse(run.stdout) as FleetStatus}
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-fleet-status-'))
    etcd = await startEtcd()
    const ports = await freePorts(2)
    const peers = NAMES.map((name, i) => ({address: '127.0.0.1', name, port: ports[i]}))
    for (const name of NAMES) {
      const peered = (data: Record<string, any>) => {
        data.proxy.peers = peers
        data.targets.haproxy.localPeer = name
      }
      stages.push(await startStage(await mkdtemp(join(root, `${name}-`)), peered))
    }

    const shared = fleetOfStages(stages, NAMES, [etcd.endpoint])
    file = join(root, 'publish.yaml')
    await writeFile(file, stringify(shared))
    await mkdir(join(root, 'node-exporter'))
    prom = join(root, 'node-exporter', 'jproxy-fleet.prom')
    ;({client, keys} = await fleetClient(Inventory.parse(shared)))
    const settings = {client, intervalMs: INTERVAL_MS, keys, leaseTtl: TTL, log: (line: string) => logs.push(line), signal: stop.signal}
    for (const [i, stage] of stages.entries()) agents.push((await agentInProcess(stage, NAMES[i], shared, settings)).running)

    // A real change, so that every proxy reloads once in its turn.
    shared.web.push({address: '127.0.0.1', name: 'web2', port: stages[0].backends.get('web2')!.port})
    await writeFile(file, stringify(shared))
    const published = await runCli(['fleet', 'publish', '-i', file, '--target', 'haproxy', '--json', '--wait', '--timeout', '240s'])
    if (published.code !== 0) throw new Error(`publish failed: ${published.stdout}${published.stderr}\n${logs.join('\n')}`)
    rolloutId = JSON.parse(published.stdout).id
  })

  after(async () => {
    stop.abort()
    await stopFleet({agents, client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
  })

  it('shows each proxy\'s worker pid and reload count as its HAProxy master says, and its peer link established (text and --json)', async () => {
    const read = async () => ({masters: await Promise.all(stages.map((s) => workers(s))), ...(await json())})
    const shown = (r: Awaited<ReturnType<typeof read>>) =>
      r.code === 0 &&
      r.status.proxies.every((p, i) => p.workerPid === r.masters[i].worker && p.reloads === r.masters[i].reloads && p.peers?.[0]?.peers[0]?.connected)
    const {masters, status: seen} = await waitFor('status to show what the masters and peers say', read, shown, {timeoutMs: PEER_LINK_MS})
    expect(seen.rollout?.id).to.equal(rolloutId)
    for (const [i, proxy] of seen.proxies.entries()) {
      // The rollout reloaded each proxy: the count is the master's, not a default.
      expect(masters[i].reloads, proxy.name).to.be.at.least(1)
      expect(proxy.notes, proxy.name).to.equal(undefined)
      const other = NAMES[1 - i]
      expect(proxy.peers).to.have.length(1)
      expect(proxy.peers![0]).to.deep.include({name: 'jproxy'})
      expect(proxy.peers![0].peers).to.deep.equal([{address: `127.0.0.1:${stages[0].data.proxy.peers[1 - i].port}`, connected: true, name: other, status: 'ESTA'}])
    }

    const text = await status()
    expect(text.code, text.stdout + text.stderr).to.equal(0)
    const now = await Promise.all(stages.map((s) => workers(s)))
    for (const [i, name] of NAMES.entries()) {
      const line = new RegExp(`^${name}: rollout ${rolloutId} sha256 [0-9a-f]{12} worker ${now[i].worker} reloads ${now[i].reloads} peers ${NAMES[1 - i]}:up seen \\d+ s ago$`, 'm')
      expect(text.stdout).to.match(line)
    }

    for (const line of text.stdout.trimEnd().split('\n')) expect(line.length, line).to.be.at.most(120)
    expect(text.stdout.trimEnd().split('\n')).to.have.length(1 + NAMES.length + 1)
  })

  it(`reports a hand edit of one live haproxy.cfg as drift within one agent interval (+${MARGIN_MS} ms): exit 1, naming the proxy`, async () => {
    const [a] = stages
    const original = await readFile(a.live, 'utf8')
    expect((await fleetStatus({client, keys})).code).to.equal('ok')
    try {
      await writeFile(a.live, `${original}# edited by hand\n`)
      const drift = await waitFor('fleet status to see the edit', () => fleetStatus({client, keys}), (s) => s.code === 'failure', {timeoutMs: INTERVAL_MS + MARGIN_MS})
      expect(drift.proxies.map((p) => [p.name, Boolean(p.problem)])).to.deep.equal([['a', true], ['b', false]])

      const run = await status()
      expect(run.code, run.stdout + run.stderr).to.equal(ExitCode.failure)
      expect(run.stdout).to.match(/^a: rollout \d+ .*: the live config \(sha256 [0-9a-f]{12}\) is not the one it applied: edited by hand\?$/m)
      expect(run.stdout).to.match(/^drift: a: .*edited by hand\?$/m)
      expect(run.stdout).not.to.match(/^b: .*edited/m)
    } finally {
      // Put back even when the case failed, so the cases after it start converged.
      await writeFile(a.live, original)
    }

    await waitFor('fleet status converged again', () => fleetStatus({client, keys}), (s) => s.code === 'ok', {timeoutMs: INTERVAL_MS + MARGIN_MS})
  })

  it('--prom-file writes the metrics of the status it prints, atomically', async () => {
    const {code, run, status: shown} = await json('--prom-file', prom)
    expect(code, run.stdout + run.stderr).to.equal(0)
    expect(await readdir(join(root, 'node-exporter'))).to.deep.equal(['jproxy-fleet.prom'])
    const {described, samples} = readTextfile(await readFile(prom, 'utf8'))
    const names = ['etcd_up', 'rollout_id', 'rollout_state', 'proxy_rollout', 'proxy_converged', 'agent_last_seen_seconds', 'haproxy_reloads', 'peer_up', 'last_run_timestamp_seconds']
    expect([...described].sort()).to.deep.equal(names.map((n) => `jproxy_fleet_${n}`).sort())
    expect(samples.get('jproxy_fleet_etcd_up')).to.equal(1)
    expect(samples.get('jproxy_fleet_rollout_id')).to.equal(shown.rollout!.id)
    expect(samples.get(`jproxy_fleet_rollout_state{state="${shown.rollout!.state}"}`)).to.equal(1)
    expect([...samples].filter(([k, v]) => k.startsWith('jproxy_fleet_rollout_state') && v === 0)).to.have.length(2)
    for (const p of shown.proxies) {
      const proxy = `{proxy="${p.name}"}`
      expect(samples.get(`jproxy_fleet_proxy_rollout${proxy}`)).to.equal(p.rollout)
      expect(samples.get(`jproxy_fleet_proxy_converged${proxy}`)).to.equal(p.problem ? 0 : 1)
      expect(samples.get(`jproxy_fleet_agent_last_seen_seconds${proxy}`)).to.equal(p.lastSeenMs! / 1000)
      expect(samples.get(`jproxy_fleet_haproxy_reloads${proxy}`)).to.equal(p.reloads)
      for (const section of p.peers!) {
        for (const peer of section.peers) {
          expect(samples.get(`jproxy_fleet_peer_up{proxy="${p.name}",section="${section.name}",peer="${peer.name}"}`)).to.equal(peer.connected ? 1 : 0)
        }
      }
    }

    expect(samples.get('jproxy_fleet_peer_up{proxy="a",section="jproxy",peer="b"}')).to.equal(1)
    expect([...samples.keys()].filter((k) => k.startsWith('jproxy_fleet_peer_up'))).to.have.length(2)
  })

  it('with b\'s HAProxy stopped, a\'s peer link to b shows not established, as a note: the exit code stays 0', async () => {
    expect((await status()).code).to.equal(0)
    await stages[1].haproxy.stop()
    // Both agents have reported since: a's link is down and b's HAProxy no longer answers.
    const down = ({status: {proxies: [a, b]}}: {status: FleetStatus}) => a.peers?.[0]?.peers[0]?.connected === false && b.workerPid === undefined
    const {code, run, status: shown} = await waitFor('status to show a\'s link to b down', () => json('--prom-file', prom), down, {timeoutMs: PEER_LINK_MS})
    expect(code, run.stdout).to.equal(0)
    const [a, b] = shown.proxies
    expect(a.problem).to.equal(undefined)
    expect(a.notes).to.have.length(1)
    expect(a.notes).to.deep.equal(['peer b not established'])
    expect(b.notes).to.deep.equal(['HAProxy did not answer'])
    expect(b.workerPid).to.equal(undefined)
    const {samples} = readTextfile(await readFile(prom, 'utf8'))
    expect(samples.get('jproxy_fleet_peer_up{proxy="a",section="jproxy",peer="b"}')).to.equal(0)
    expect(samples.get('jproxy_fleet_proxy_converged{proxy="a"}')).to.equal(1)

    const text = await status()
    expect(text.code).to.equal(0)
    expect(text.stdout).to.match(/^a: rollout \d+ sha256 [0-9a-f]{12} worker \d+ reloads \d+ peers b:down\/[A-Z]{4} seen \d+ s ago; note: peer b not established$/m)
    expect(text.stdout).to.match(/^b: rollout \d+ sha256 [0-9a-f]{12} worker - reloads - peers - seen \d+ s ago; note: HAProxy did not answer$/m)
    expect(text.stdout).to.match(/^converged: every proxy runs rollout \d+$/m)
    for (const line of text.stdout.trimEnd().split('\n')) expect(line.length, line).to.be.at.most(120)
  })

  it('with etcd stopped, --prom-file still writes jproxy_fleet_etcd_up 0 (and only what is known), then exits 15', async () => {
    await etcd.stop()
    const run = await status('--prom-file', prom)
    expect(run.code, run.stdout + run.stderr).to.equal(ExitCode.proxyUnreachable)
    expect(run.stderr).to.match(/cannot reach the fleet's etcd/)
    const {samples} = readTextfile(await readFile(prom, 'utf8'))
    expect(samples.get('jproxy_fleet_etcd_up')).to.equal(0)
    expect([...samples.keys()].sort()).to.deep.equal(['jproxy_fleet_etcd_up', 'jproxy_fleet_last_run_timestamp_seconds'])
  })
})
