import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {EtcdClient, type KeyValue} from '../../src/etcd/client.js'
import {Inventory} from '../../src/inventory/schema.js'
import {parseRegistration, type Registration} from '../../src/inventory/registration.js'
import {runCli} from '../support/cli.js'
import {exited} from '../support/daemon.js'
import {jproxyOnPath} from '../support/docs-commands.js'
import {INVENTORY} from '../support/docs-values.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {fleetInventory} from '../support/fleet-inventory.js'
import {waitFor} from '../support/wait.js'

const PAGE = 'docs/fleet.md'
const KEY = '/jproxy/meet.example.org/jvbs/shard-eu1/jvb7'

/** The fenced block right after `<!-- fleet: NAME -->` in the page. */
async function block(name: string): Promise<string> {
  const text = await readFile(PAGE, 'utf8')
  const match = new RegExp(`<!-- fleet: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(text)
  if (!match) throw new Error(`${PAGE} has no block marked "fleet: ${name}"`)
  return match[1]
}

/**
 * docs/fleet.md's "Self-registering bridges", its snippets run as written against a real etcd and a
 * fake bridge (test/support/fake-jitsi.ts). Only addresses differ: the page's documentation addresses
 * become loopback ones (10.20.0.7 → 127.0.0.1, 10.20.0.0/16 → 127.0.0.0/8), and the announcer is told
 * the fake bridge's REST port, which the test cannot choose.
 */
describe('docs/fleet.md, Self-registering bridges: its snippets run against a real etcd', function () {
  this.timeout(180_000)
  let dir: string
  let etcd: EtcdProcess
  let client: EtcdClient
  let bridge: FakeJitsi
  let file: string
  let env: NodeJS.ProcessEnv

  /** An inventory with the page's shard and `fleet` section (endpoints: the test's etcd; addresses: loopback). */
  const inventory = async (name: string) => {
    const data = fleetInventory(dir, etcd.endpoint)
    // The static bridge moves off the address the page's bridge takes, whose ports it would otherwise have.
    data.shards[0] = {...data.shards[0], jvbs: [{address: '127.0.0.2', id: 'jvb1'}], name: 'shard-eu1'}
    const {fleet} = parse((await block(name)).replaceAll('10.20.0.0/16', '127.0.0.0/8')) as {fleet: Record<string, any>}
    data.fleet = {...fleet, etcd: {...fleet.etcd, endpoints: [etcd.endpoint]}}
    return data
  }

  /** Runs `script` with sh in a process group of its own, so a command that runs until stopped (a keep-alive) ends with it. */
  const runGroup = (script: string) => {
    const child = spawn('sh', ['-c', script], {detached: true, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const ended = new Promise<{code: null | number; signal: null | string}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
    return {child, ended, output: () => output, stop: async () => (exited(child) ? ended : (process.kill(-child.pid!, 'SIGTERM'), ended))}
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-fleet-jvbs-doc-'))
    etcd = await startEtcd()
    client = new EtcdClient({endpoints: [etcd.endpoint], timeoutMs: 2000})
    bridge = await startFakeJitsi()
    file = join(dir, 'jproxy.yaml')
    env = {ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: etcd.endpoint, JPROXY_INVENTORY: undefined, PATH: `${await jproxyOnPath(dir)}:${process.env.PATH}`}
  })

  afterEach(async () => {
    await client.deleteRange(KEY)
  })

  after(async () => {
    await client?.close()
    await bridge?.close()
    await etcd?.stop()
    await rm(dir, {force: true, recursive: true})
  })

  it('the fleet section with jvbNetworks validates as written in an inventory', async () => {
    const data = fleetInventory(dir, etcd.endpoint)
    Object.assign(data, parse(await block('jvb networks')))
    await writeFile(file, stringify(data))
    const check = await runCli(['validate', 'config', '-i', file])
    expect(check.code, `${check.stdout}${check.stderr}`).to.equal(0)
  })

  it('the announce line announces the bridge, and SIGTERM takes it away again', async () => {
    await writeFile(file, stringify(await inventory('jvb networks')))
    const [line] = (await block('announce')).trim().split('\n')
    expect(line).to.match(/^jproxy jvb announce -i \/etc\/jproxy\/jproxy\.yaml /)
    // `exec`: the announcer is the group's leader's own process, so the signal reaches it.
    const run = runGroup(`exec ${line.replaceAll(INVENTORY, file).replaceAll('10.20.0.7', '127.0.0.1')} --rest-port ${bridge.port} --ttl 3s`)
    try {
      const kv = await waitFor('the key', async () => (await client.range(KEY)).kvs[0], Boolean, {gaveUp: () => exited(run.child), timeoutMs: 60_000})
      expect(JSON.parse(kv.value) as Registration).to.deep.include({address: '127.0.0.1', id: 'jvb7', shard: 'shard-eu1', state: 'active'})
      await run.stop()
      expect(await run.ended, run.output()).to.deep.equal({code: 0, signal: null})
      expect((await client.range(KEY)).kvs).to.deep.equal([])
    } finally {
      await run.stop()
    }
  })

  it('the autoscaler\'s etcdctl lines write a registration every reader accepts, bound to a 30 s lease kept alive', async () => {
    const script = (await block('register')).trim()
    const run = runGroup(script.replaceAll('10.20.0.7', '127.0.0.1'))
    let kv: KeyValue | undefined
    try {
      kv = await waitFor('the key', async () => (await client.range(KEY)).kvs[0], Boolean, {gaveUp: () => exited(run.child), timeoutMs: 30_000})
      await waitFor('the keep-alive', async () => run.output(), (out) => /keepalived with TTL\(30\)/.test(out), {gaveUp: () => exited(run.child), timeoutMs: 10_000})
    } finally {
      await run.stop()
    }

    const parsed = parseRegistration(kv.key, kv.value, Inventory.parse(await inventory('jvb networks')))
    expect(parsed, kv.value).to.deep.include({ok: true})
    const lease = await client.leaseTimeToLive(kv.lease)
    expect(lease.grantedTtl).to.equal(30)
    expect(lease.keys).to.deep.equal([KEY])
    await client.leaseRevoke(kv.lease)
  })
})
