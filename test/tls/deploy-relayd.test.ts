import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ExitCode} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {type CommandRunner, runCommand} from '../../src/system/command.js'
import {type DeployOptions, deployCertificate} from '../../src/tls/deploy.js'
import {handshake} from '../../src/tls/live.js'
import {type FakeRelayd, startFakeRelayd, writeRelaydKeypair} from '../support/fake-relayd-tls.js'
import {freePorts} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'

const DOMAIN = 'meet.example.org'

/** tls deploy to relayd: its keypair files, relayctl reload behind the session guard, or --defer; through the stand-in. */
describe('tls deploy: relayd keypair, reload behind the session guard', function () {
  this.timeout(60_000)
  let root: string
  let pki: TestPki
  let dir: string
  let sslDir: string
  let relayd: FakeRelayd
  let inventory: Inventory
  let count = 0
  let oldCert: string
  let oldKey: string

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-deploy-relayd-'))
    pki = await TestPki.create(join(root, 'pki'))
  })
  after(async () => rm(root, {force: true, recursive: true}))
  beforeEach(async () => {
    dir = join(root, `case${++count}`)
    sslDir = join(dir, 'ssl')
    const old = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    oldCert = old.pem + pki.intermediate.pem
    oldKey = await readFile(old.key, 'utf8')
    await writeRelaydKeypair(sslDir, DOMAIN, {cert: oldCert, key: oldKey})
    const [http, https] = await freePorts(2)
    inventory = Inventory.parse({
      apply: {dir: join(dir, 'jproxy'), reloadTimeout: '5s'},
      domain: DOMAIN,
      proxy: {listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
      shards: [{name: 's1', prosody: {address: '10.0.0.10'}}],
      targets: {relayd: {output: join(dir, 'relayd.conf')}},
      web: [{address: '10.0.0.2', name: 'web1'}],
    })
    await writeFile(join(dir, 'relayd.conf'), renderTarget(inventory, 'relayd'))
    relayd = await startFakeRelayd(dir, {domain: DOMAIN, port: https, relays: ['jitsi_https', 'jitsi_http'], sslDir})
  })
  afterEach(async () => relayd?.close())

  const served = async () => (await handshake({address: '127.0.0.1', ca: [], port: inventory.proxy.listen.httpsPort, servername: DOMAIN, timeoutMs: 3000})).chain[0]?.serialNumber
  const files = async () => [await readFile(join(sslDir, `${DOMAIN}.crt`), 'utf8'), await readFile(join(sslDir, 'private', `${DOMAIN}.key`), 'utf8')]

  async function renewal() {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const cert = join(dir, `new${++count}.pem`)
    await writeFile(cert, leaf.pem + pki.intermediate.pem)
    await writeFile(`${cert}.key`, await readFile(leaf.key, 'utf8'), {mode: 0o600})
    return {cert, key: `${cert}.key`, serial: new X509Certificate(leaf.pem).serialNumber}
  }

  // relayctl is found in the stand-in's folder, as apply finds the real one on PATH.
  const run: CommandRunner = (argv, options) => runCommand(argv[0] === 'relayctl' ? [join(relayd.bin, 'relayctl'), ...argv.slice(1)] : argv, options)
  const deploy = (renewed: {cert: string; key: string}, extra: Partial<DeployOptions> = {}) =>
    deployCertificate({
      inventory,
      run,
      source: {certificate: renewed.cert, from: 'flags', key: renewed.key},
      sslDir,
      target: 'relayd',
      timeoutMs: 2000,
      trust: {certificates: [new X509Certificate(pki.root.pem)], pems: [pki.root.pem], source: 'the test root'},
      ...extra,
    })

  it('installs NAME.crt and private/NAME.key (modes kept), reloads once, reports the sessions cut and proves the new serial', async () => {
    await relayd.setSessions(2)
    const renewed = await renewal()
    const report = await deploy(renewed, {maxSessions: 5})
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report).to.deep.include({outcome: 'deployed', sessions: 2})
    expect(report.swap).to.deep.include({method: 'relayctl reload', ok: true})
    expect(report.message).to.include('2 session(s) cut')
    expect(relayd.reloads()).to.equal(1)
    expect(await served()).to.equal(renewed.serial)
    expect(await files()).to.deep.equal([await readFile(renewed.cert, 'utf8'), await readFile(renewed.key, 'utf8')])
    expect((await stat(join(sslDir, 'private', `${DOMAIN}.key`))).mode & 0o777).to.equal(0o600)
    expect((await stat(join(sslDir, `${DOMAIN}.crt`))).mode & 0o777).to.equal(0o644)
  })

  it('more sessions than --max-sessions: refused (exit 11), no file touched, no reload', async () => {
    await relayd.setSessions(6)
    const before = await served()
    const report = await deploy(await renewal(), {maxSessions: 5})
    expect(report.exitCode, report.message).to.equal(ExitCode.refused)
    expect(report.message).to.match(/relayd has 6 sessions open, over --max-sessions 5/)
    expect(await files()).to.deep.equal([oldCert, oldKey])
    expect(relayd.reloads()).to.equal(0)
    expect(await served()).to.equal(before)
  })

  it('--defer installs the files and leaves relayd (and its sessions) alone; the next deploy run reloads', async () => {
    await relayd.setSessions(9)
    const before = await served()
    const renewed = await renewal()
    const report = await deploy(renewed, {defer: true})
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report.outcome).to.equal('deferred')
    expect(report.message).to.match(/relayd serves the old certificate until its next reload/)
    expect(relayd.reloads()).to.equal(0)
    expect(await served()).to.equal(before)
    expect((await files())[0]).to.equal(await readFile(renewed.cert, 'utf8'))

    // Later (a quiet hour): the same files, not yet served: reload now.
    await relayd.setSessions(0)
    const later = await deploy(renewed, {maxSessions: 0})
    expect(later.outcome, later.message).to.equal('deployed')
    expect(relayd.reloads()).to.equal(1)
    expect(await served()).to.equal(renewed.serial)
  })

  it('relayctl missing (not the relayd host): a usage error (exit 2) before any file changes, still in the history', async () => {
    const missing: CommandRunner = async (argv) => ({code: 127, missing: true, stderr: `${argv[0]}: not found`, stdout: ''})
    const report = await deploy(await renewal(), {run: missing})
    expect(report.exitCode, report.message).to.equal(ExitCode.usage)
    expect(report.message).to.match(/relayctl is not installed here/)
    expect(await files()).to.deep.equal([oldCert, oldKey])
    const history = (await readFile(join(dir, 'jproxy', 'apply-history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(history.at(-1)).to.deep.include({command: 'tls deploy', exitCode: ExitCode.usage, outcome: 'failed', target: 'relayd'})
  })

  it('a reload after which relayd still serves the old serial: files restored, reloaded again, exit 12', async () => {
    relayd.loadOnReload = false
    const before = await served()
    const report = await deploy(await renewal())
    expect(report.exitCode, report.message).to.equal(ExitCode.rolledBack)
    expect(report.verify.map((v) => v.ok)).to.deep.equal([false])
    expect(report.rollback).to.deep.include({problems: [], verified: true})
    const keypair = `${join(sslDir, 'private', `${DOMAIN}.key`)}, ${join(sslDir, `${DOMAIN}.crt`)}`
    expect(report.message).to.include(`${keypair}: same sha256 as before the install; ${before} served again on`)
    expect(await files()).to.deep.equal([oldCert, oldKey])
    expect(relayd.reloads()).to.equal(2)
    expect(await served()).to.equal(before)
  })
})
