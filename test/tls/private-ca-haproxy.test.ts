import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {applyTarget} from '../../src/apply/apply.js'
import {ExitCode} from '../../src/errors.js'
import {shardServerState} from '../../src/haproxy/shard-runtime.js'
import {parseDuration} from '../../src/inventory/duration.js'
import {Inventory} from '../../src/inventory/schema.js'
import {drainShard} from '../../src/scale/shard-drain.js'
import {runCommand} from '../../src/system/command.js'
import {BIN, CLI_TIMEOUT_MS, runCli} from '../support/cli.js'
import {DOMAIN, type Stage, startStage, withWeb2, writeInventory} from '../support/haproxy-stage.js'
import {type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'

/** HAProxy's SRV_ADMF_FMAINT-free drain flag in `show servers state`: set by `set server … state drain`. */
const ADMIN_DRAIN = 0x08
const PROXY_KEY = 'proxy/127.0.0.1'
const UNTRUSTED = 'certificate from a CA that is not trusted: set proxy.tls.ca or pass --ca'

/**
 * Real HAProxy serving a certificate of a private CA (leaf and intermediate in the crt file, the
 * root nowhere but in proxy.tls.ca): every jproxy request through the proxy trusts the root from
 * the inventory alone, and a run that does not know it says which field to set.
 */
describe('proxy.tls.ca: a private CA on real HAProxy, for apply, probe, probe --watch, validate tls and drain-shard', function () {
  this.timeout(180_000)
  let dir: string
  let pki: TestPki
  let stage: Stage
  const extra: LoopbackBackend[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-private-ca-'))
    pki = await TestPki.create(join(dir, 'pki'))
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const crt = join(dir, 'private.pem')
    await writeFile(crt, leaf.pem + pki.intermediate.pem + (await readFile(leaf.key, 'utf8')))
    // A second shard, so that s2 can be drained (the last shard taking rooms never is).
    for (const name of ['prosody2', 'jicofo2']) extra.push(await startBackend(name, []))
    stage = await startStage(dir, (data) => {
      data.proxy.tls = {ca: pki.root.cert, certificate: crt, key: crt}
      data.probe.proxy = true
      data.shards.push({jicofo: {address: '127.0.0.1', port: extra[1].port}, jvbs: [], name: 's2', prosody: {address: '127.0.0.1', port: extra[0].port}})
    })
  })

  after(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? []), ...extra].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  /** The stage's inventory without proxy.tls.ca: a run that trusts only the system's roots. */
  const withoutCa = () => {
    const data = structuredClone(stage.data)
    delete data.proxy.tls.ca
    return data
  }

  it('apply verifies through the proxy trusting proxy.tls.ca, with no --ca', async () => {
    const report = await applyTarget({inventory: Inventory.parse(withWeb2(stage)), run: runCommand, target: 'haproxy'})
    expect(report, report.message).to.deep.include({exitCode: ExitCode.ok, outcome: 'applied'})
  })

  it('probe: the proxy is up with proxy.tls.ca; without it, down with the reason naming proxy.tls.ca and --ca; --ca overrides', async () => {
    const probe = async (data: Record<string, any>, args: string[] = []) => {
      const {code, stdout} = await runCli(['probe', '-i', await writeInventory(stage, 'probe', data), '--role', 'proxy', '--no-state', '--json', ...args])
      const report = JSON.parse(stdout)
      return {code, proxy: report.backends.find((b: {key: string}) => b.key === PROXY_KEY)}
    }

    const trusted = await probe(stage.data)
    expect(trusted.proxy, JSON.stringify(trusted.proxy)).to.deep.include({health: 'up', state: 'up'})
    expect(trusted.code).to.equal(ExitCode.ok)

    const untrusted = await probe(withoutCa())
    expect(untrusted.code).to.equal(ExitCode.backendsDown)
    expect(untrusted.proxy.state).to.equal('down')
    expect(untrusted.proxy.reason).to.include(UNTRUSTED)

    const flag = await probe(withoutCa(), ['--ca', pki.root.cert])
    expect(flag.proxy, JSON.stringify(flag.proxy)).to.deep.include({state: 'up'})
  })

  // The watcher: the first rounds' verdict on the proxy, from its state file, within a bound set by the inventory's timing.
  const watchedProxy = async (name: string, data: Record<string, any>, args: string[] = []) => {
    const stateFile = join(dir, `${name}-state.json`)
    const child = execFile(process.execPath, [BIN, 'probe', '--watch', '-i', await writeInventory(stage, name, data), '--state-file', stateFile, ...args])
    let output = ''
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const bound = CLI_TIMEOUT_MS + 3 * parseDuration(data.health.interval)!
    try {
      for (const deadline = Date.now() + bound; Date.now() < deadline; ) {
        const state = await readFile(stateFile, 'utf8').then((t) => JSON.parse(t), () => undefined)
        const proxy = state?.backends?.[PROXY_KEY]
        if (proxy) return {output, state: proxy.state as string}
        if (child.exitCode !== null) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }

      throw new Error(`no verdict on the proxy from the watcher within ${bound} ms:\n${output}`)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  }

  it('probe --watch trusts proxy.tls.ca, and --ca when the inventory has none', async () => {
    expect((await watchedProxy('watch-inventory', stage.data)).state).to.equal('up')
    expect((await watchedProxy('watch-flag', withoutCa(), ['--ca', pki.root.cert])).state).to.equal('up')
    const untrusted = await watchedProxy('watch-none', withoutCa())
    expect(untrusted.state).to.equal('down')
  })

  it('validate tls: the live handshake is verified against proxy.tls.ca; without it, critical and naming proxy.tls.ca', async () => {
    const args = ['--no-files', '--target', 'haproxy', '--json']
    const trusted = await runCli(['validate', 'tls', '-i', await writeInventory(stage, 'tls', stage.data), ...args])
    expect(trusted.code, trusted.stdout).to.equal(ExitCode.ok)
    expect(JSON.parse(trusted.stdout).trust).to.equal(pki.root.cert)

    const untrusted = await runCli(['validate', 'tls', '-i', await writeInventory(stage, 'tls-none', withoutCa()), ...args], {SSL_CERT_FILE: undefined})
    expect(untrusted.code).to.equal(ExitCode.checkFailed)
    const messages = JSON.parse(untrusted.stdout).findings.map((f: {message: string}) => f.message)
    expect(messages.join('\n')).to.match(/chain not trusted .*UNABLE_TO_GET_ISSUER_CERT_LOCALLY.*: set proxy\.tls\.ca or pass --ca/)

    const missing = {...stage.data, proxy: {...stage.data.proxy, tls: {...stage.data.proxy.tls, ca: join(dir, 'no-ca.pem')}}}
    const unreadable = await runCli(['validate', 'tls', '-i', await writeInventory(stage, 'tls-missing', missing), ...args])
    expect(unreadable.code).to.equal(ExitCode.inputUnreadable)
    expect(unreadable.stdout + unreadable.stderr).to.include(`proxy.tls.ca ${join(dir, 'no-ca.pem')}: ENOENT`)
  })

  it('scale drain-shard verifies through the proxy trusting proxy.tls.ca, with no --ca', async () => {
    const file = await writeInventory(stage, 'drain', stage.data)
    const report = await drainShard({file, name: 's2', requestTimeoutMs: 2000, run: runCommand, target: 'haproxy'})
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    const state = await shardServerState(stage.socket, 's2')
    expect(state && state.admin & ADMIN_DRAIN, JSON.stringify(state)).to.equal(ADMIN_DRAIN)
  })
})
