import {expect} from 'chai'
import {mkdir, mkdtemp, readdir, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import type {EtcdClient} from '../../src/etcd/client.js'
import {fleetClient} from '../../src/fleet/rollout.js'
import {Inventory} from '../../src/inventory/schema.js'
import {runCli} from '../support/cli.js'
import {jproxyOnPath, shell} from '../support/docs-commands.js'
import {cronCommand, INVENTORY, TEXTFILE} from '../support/docs-values.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {agentInProcess, stopFleet} from '../support/fleet-stages.js'
import {type Stage, startStage} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {fencedBlocks, markedBlock} from '../support/markdown.js'
import {waitFor} from '../support/wait.js'

const PAGE = 'docs/fleet.md'
const INTERVAL_MS = 1000
/** The shortest lease etcd allows. */
const TTL = 2

/** The fenced block right after `<!-- fleet: NAME -->` in the page. */
const block = (name: string): Promise<string> => markedBlock(PAGE, `fleet: ${name}`)

/**
 * docs/fleet.md's snippets, each checked or run as written: its inventory sections validate, and its
 * commands run (jproxy on PATH is this build; /etc/jproxy/jproxy.yaml is the test's inventory) against
 * a real etcd and two real HAProxy proxies, each with its agent. Only addresses differ: the page's
 * documentation addresses become loopback ones, and each proxy gets its own ports and paths because
 * both run on this host.
 */
describe('docs/fleet.md, its snippets checked and run against a real etcd and two real HAProxy', function () {
  this.timeout(600_000)
  let root: string
  let etcd: EtcdProcess
  const stages: Stage[] = []
  let client: EtcdClient | undefined
  const stop = new AbortController()
  const agents: Array<Promise<void>> = []
  const logs: string[] = []
  let file: string
  let env: NodeJS.ProcessEnv

  /** The inventory of the stages with the page's fleet section, its endpoints set to `endpoints`. */
  const inventory = (fleet: Record<string, any>, endpoints: string[]) => {
    const data = structuredClone(stages[0].data)
    data.fleet = {
      ...fleet,
      etcd: {...fleet.etcd, endpoints},
      proxies: fleet.proxies.map((proxy: {name: string}, i: number) => {
        const {data: own} = stages[i]
        return {...proxy, apply: own.apply, listen: own.proxy.listen, probe: own.probe, targets: own.targets}
      }),
    }
    return data
  }

  /** A line of the page's sh blocks as written, with the test's inventory for /etc/jproxy/jproxy.yaml. */
  const run = (line: string) => shell(line.replaceAll(INVENTORY, file), env, 120_000)

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-fleet-doc-'))
    etcd = await startEtcd()
    for (const name of ['a', 'b']) stages.push(await startStage(await mkdtemp(join(root, `${name}-`))))
    env = {JPROXY_INVENTORY: undefined, PATH: `${await jproxyOnPath(root)}:${process.env.PATH}`}
    file = join(root, 'jproxy.yaml')
  })

  after(async () => {
    stop.abort()
    await stopFleet({agents, client, etcd, intervalMs: INTERVAL_MS, leaseTtl: TTL, root, stages})
  })

  it('has only the snippets this test, fleet-etcd-cluster.test.ts (etcd member, etcd check) and fleet-jvbs-doc.test.ts (bridges) check', async () => {
    const names = ['one etcd', 'publish', 'rollback', 'etcd member', 'etcd check', 'three etcd', 'metrics', 'announce', 'jvb networks', 'register']
    const marked = await Promise.all(names.map((name) => block(name)))
    expect((await fencedBlocks(PAGE)).map((b) => b.text)).to.deep.equal(marked)
  })

  it('both fleet sections validate as written in an inventory', async () => {
    for (const name of ['one etcd', 'three etcd']) {
      const data = structuredClone(stages[0].data)
      Object.assign(data, parse(await block(name)))
      const path = join(root, 'validate.yaml')
      await writeFile(path, stringify(data))
      const check = await runCli(['validate', 'config', '-i', path])
      expect(check.code, `${name}: ${check.stdout}${check.stderr}`).to.equal(0)
    }
  })

  it('with the agents running, publish --wait exits 0, then status exits 0 within an agent interval', async () => {
    const fleet = parse(await block('one etcd')).fleet
    const data = inventory(fleet, [etcd.endpoint])
    await writeFile(file, stringify(data))
    const fleetFor = await fleetClient(Inventory.parse(data))
    client = fleetFor.client
    const settings = {client, intervalMs: INTERVAL_MS, keys: fleetFor.keys, leaseTtl: TTL, log: (line: string) => logs.push(line), signal: stop.signal}
    for (const [i, stage] of stages.entries()) agents.push((await agentInProcess(stage, fleet.proxies[i].name as string, data, settings)).running)

    const [publish, status] = (await block('publish')).trim().split('\n')
    const published = await run(publish)
    expect(published.code, `${published.output}\n${logs.join('\n')}`).to.equal(0)
    await waitFor('fleet status to exit 0', () => run(status), (r) => r.code === 0, {timeoutMs: 3 * INTERVAL_MS + 2000})
  })

  it('rollback --to 1 publishes rollout 1 again', async () => {
    const [line] = (await block('rollback')).trim().split('\n')
    const rollback = await run(line)
    expect(rollback.code, rollback.output).to.equal(0)
    expect(rollback.output).to.match(/^published rollout 2 \(the inventory of rollout 1\) at revision \d+$/m)
    const [, status] = (await block('publish')).trim().split('\n')
    await waitFor('fleet status to exit 0', () => run(status), (r) => r.code === 0, {timeoutMs: 3 * INTERVAL_MS + 2000})
  })

  it('the metrics cron line runs as written: silent, and the textfile says etcd is up and both proxies converged', async () => {
    const lines = (await block('metrics')).trim().split('\n')
    expect(lines).to.have.length(1)
    const command = cronCommand(lines[0])!
    expect(command).to.match(/^\/usr\/local\/bin\/jproxy fleet status /)
    const textfiles = join(root, 'node-exporter')
    await mkdir(textfiles, {recursive: true})
    const line = command.replace(/^\/usr\/local\/bin\/jproxy /, 'jproxy ').replaceAll(TEXTFILE.debian, textfiles)
    const cron = await run(line)
    expect(cron, line).to.deep.equal({code: 0, output: ''})
    const [file] = await readdir(textfiles)
    const metrics = await readFile(join(textfiles, file), 'utf8')
    expect(metrics).to.match(/^jproxy_fleet_etcd_up 1$/m)
    expect(metrics.match(/^jproxy_fleet_proxy_converged\{proxy="proxy-[ab]"\} 1$/gm)).to.have.length(2)
  })

  it('with several endpoints, the first that answers serves: publish and status with a dead first member', async () => {
    const fleet = parse(await block('three etcd')).fleet
    const [dead] = await freePorts(1)
    await writeFile(file, stringify(inventory(fleet, [`http://127.0.0.1:${dead}`, etcd.endpoint])))
    const [publish, status] = (await block('publish')).trim().split('\n')
    const published = await run(publish)
    expect(published.code, `${published.output}\n${logs.join('\n')}`).to.equal(0)
    await waitFor('fleet status to exit 0', () => run(status), (r) => r.code === 0, {timeoutMs: 3 * INTERVAL_MS + 2000})
  })

  it('lists the exit codes fleet status has (src/fleet/status.ts: ok, drift, halted, etcd unreachable)', async () => {
    const text = await readFile(PAGE, 'utf8')
    const table = text.slice(text.indexOf('`fleet status` exits with:'), text.indexOf('To go back'))
    const codes = [ExitCode.ok, ExitCode.failure, ExitCode.refused, ExitCode.proxyUnreachable]
    expect([...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]))).to.deep.equal(codes)
  })
})
