import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createServer, type Server} from 'node:tls'

import {ExitCode} from '../../src/errors.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import type {HaproxyCli} from '../../src/haproxy/ssl-cert.js'
import {Inventory} from '../../src/inventory/schema.js'
import {formatDeployReport} from '../../src/report/tls-deploy.js'
import {runCommand} from '../../src/system/command.js'
import {type DeployOptions, deployCertificate} from '../../src/tls/deploy.js'
import {handshake, type HandshakeOptions} from '../../src/tls/live.js'
import {docsCommand, jproxyOnPath, shell} from '../support/docs-commands.js'
import {DOMAIN, openWebsocket, reloadToNewWorker, type Stage, startStage, workers, writeInventory} from '../support/haproxy-stage.js'
import {TestPki} from '../support/pki.js'

/** The serial a fresh handshake with the proxy gets at `address`. */
async function servedSerial(stage: Stage, address = '127.0.0.1'): Promise<string | undefined> {
  const result = await handshake({address, ca: [], port: stage.data.proxy.listen.httpsPort, servername: DOMAIN, timeoutMs: 5000})
  return result.chain[0]?.serialNumber
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber

/** tls deploy against real HAProxy rendered by jproxy: swap without reload, refusals that change nothing, restores. */
describe('tls deploy: HAProxy hot swap through the runtime API', function () {
  this.timeout(90_000)
  let root: string
  let pki: TestPki
  let dir: string
  let stage: Stage
  let count = 0

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-deploy-'))
    pki = await TestPki.create(join(root, 'pki'))
  })
  after(async () => rm(root, {force: true, recursive: true}))
  beforeEach(async () => {
    dir = join(root, `stage${++count}`)
    await mkdir(dir)
    stage = await startStage(dir)
  })
  afterEach(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
  })

  /** A renewal as certbot leaves it: fullchain.pem and privkey.pem (0600) in a folder of their own. */
  async function renewal(options: {chain?: boolean; key?: string; names?: string[]} = {}): Promise<{cert: string; key: string; leafPem: string}> {
    const leaf = await pki.leaf(DOMAIN, {altNames: (options.names ?? [DOMAIN]).map((n) => `DNS:${n}`)})
    const folder = join(dir, `renewal-${++count}`)
    await mkdir(folder)
    const cert = join(folder, 'fullchain.pem')
    const key = join(folder, 'privkey.pem')
    await writeFile(cert, leaf.pem + (options.chain === false ? '' : pki.intermediate.pem))
    await writeFile(key, await readFile(options.key ?? leaf.key, 'utf8'), {mode: 0o600})
    return {cert, key, leafPem: leaf.pem}
  }

  const deploy = (files: {cert: string; key: string}, extra: Partial<DeployOptions> = {}) =>
    deployCertificate({
      inventory: Inventory.parse(stage.data),
      run: runCommand,
      source: {certificate: files.cert, from: 'flags', key: files.key},
      target: 'haproxy',
      timeoutMs: 5000,
      trust: {certificates: [new X509Certificate(pki.root.pem)], pems: [pki.root.pem], source: 'the test root'},
      ...extra,
    })

  /**
   * The stats socket with a stranger's key in place of the payload's: the real HAProxy takes the
   * set and refuses the commit. `beforeCommit` runs just before the commit is sent.
   */
  async function refusingCommit(beforeCommit?: () => Promise<void>): Promise<HaproxyCli> {
    const stranger = await pki.leaf('stranger.example.test', {altNames: ['DNS:stranger.example.test']})
    const strangerKey = await readFile(stranger.key, 'utf8')
    return async (command: string, payload?: string) => {
      if (command.startsWith('commit ssl cert')) await beforeCommit?.()
      return socketCommand(stage.socket, command, 5000, payload?.replace(/-----BEGIN PRIVATE KEY-----[\s\S]*$/, strangerKey.trim()))
    }
  }

  const history = async () =>
    (await readFile(join(dir, 'jproxy', 'apply-history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))

  it('swaps RSA for ECDSA without a reload: a websocket opened before stays open and writable, the new serial is served, the file keeps its mode and a backup', async () => {
    await chmod(stage.pem, 0o640)
    const old = await readFile(stage.pem, 'utf8')
    const ws = await openWebsocket(stage, '/xmpp-websocket?room=r1')
    expect(ws.status).to.equal(101)
    const before = await workers(stage)
    const files = await renewal()

    const report = await deploy(files)
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report.outcome).to.equal('deployed')
    expect(report.swap).to.deep.include({method: 'runtime API', ok: true})
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))
    expect(report.verify.map((v) => v.ok)).to.deep.equal([true])

    expect(await workers(stage), 'no reload').to.deep.equal(before)
    expect(ws.closed(), 'the websocket is still open').to.equal(false)
    expect(ws.socket.write('still here')).to.equal(true)
    ws.socket.destroy()

    // The file holds the chain and then the key, whole; mode kept; the previous bytes backed up 0600.
    expect(await readFile(stage.pem, 'utf8')).to.equal((await readFile(files.cert, 'utf8')) + (await readFile(files.key, 'utf8')))
    expect((await stat(stage.pem)).mode & 0o777).to.equal(0o640)
    expect(report.backups).to.have.length(1)
    expect(await readFile(report.backups[0], 'utf8')).to.equal(old)
    expect((await stat(report.backups[0])).mode & 0o777).to.equal(0o600)
    expect((await history()).at(-1)).to.deep.include({command: 'tls deploy', exitCode: 0, outcome: 'deployed', serial: serialOf(files.leafPem), target: 'haproxy'})

    // Run again (certbot and cron do): nothing to install, nothing swapped.
    const again = await deploy(files)
    expect(again.outcome, again.message).to.equal('unchanged')
    expect(again.swap).to.equal(undefined)
  })

  it('a renewal with a key that does not match, an incomplete chain, a wrong name or no proxy.turn name changes nothing (exit 6)', async () => {
    const old = await readFile(stage.pem, 'utf8')
    const oldSerial = await servedSerial(stage)
    const stranger = await pki.leaf('stranger.example.test', {altNames: ['DNS:stranger.example.test']})
    const cases = {
      'incomplete chain': [await renewal({chain: false}), /incomplete chain/],
      'key mismatch': [await renewal({key: stranger.key}), /does not belong to the certificate/],
      'wrong name': [await renewal({names: ['other.example.org']}), /does not cover meet\.example\.org/],
      // The inventory relays TURN on 443: the certificate must name turn.example.org too.
      'no TURN name': [await renewal(), /does not cover turn\.example\.org/],
    } as const
    const withTurn = Inventory.parse({...stage.data, proxy: {...stage.data.proxy, turn: {backend: '127.0.0.1:5349', sni: 'turn.example.org'}}})
    for (const [name, [files, why]] of Object.entries(cases)) {
      const report = await deploy(files, name === 'no TURN name' ? {inventory: withTurn} : {})
      expect(report.exitCode, name).to.equal(ExitCode.checkFailed)
      expect(report.outcome, name).to.equal('check-failed')
      expect(report.message, name).to.match(why)
      expect(report.installed, name).to.deep.equal([])
      expect(await readFile(stage.pem, 'utf8'), name).to.equal(old)
      expect(await servedSerial(stage), name).to.equal(oldSerial)
    }

    expect(await readdir(join(dir, 'jproxy'))).to.not.include('backups')
    expect((await history()).map((h) => h.outcome)).to.deep.equal(['check-failed', 'check-failed', 'check-failed', 'check-failed'])
  })

  it('when HAProxy refuses the commit, the transaction is aborted and the files restored, proven by bytes and handshake (exit 12)', async () => {
    const old = await readFile(stage.pem, 'utf8')
    const oldSerial = await servedSerial(stage)
    const files = await renewal()
    const report = await deploy(files, {cli: await refusingCommit()})
    expect(report.exitCode, report.message).to.equal(ExitCode.rolledBack)
    expect(report.swap?.detail).to.match(/refused commit ssl cert .*inconsistencies between private key and certificate/)
    expect(report.rollback).to.deep.equal({problems: [], restored: `the previous certificate ${oldSerial}`, verified: true})
    const port = stage.data.proxy.listen.httpsPort
    expect(report.message).to.include(`is back (${stage.pem}: same sha256 as before the install; ${oldSerial} served again on 127.0.0.1:${port})`)
    expect(formatDeployReport(report)).to.include(`  rollback to the previous certificate ${oldSerial}: verified\n`)
    expect(await readFile(stage.pem, 'utf8')).to.equal(old)
    expect(await servedSerial(stage)).to.equal(oldSerial)
    expect(await socketCommand(stage.socket, 'show ssl cert')).to.not.include('# transaction')
  })

  it('a previous file that cannot be written back: the deploy does not claim it is back, says what is, and exits 13', async () => {
    const oldSerial = await servedSerial(stage)
    // While HAProxy refuses the commit, the file's path turns into a folder: no write can put the
    // previous bytes back there (as a read-only or full file system would refuse them).
    const blockFile = async () => {
      await rm(stage.pem)
      await mkdir(stage.pem)
    }

    const report = await deploy(await renewal(), {cli: await refusingCommit(blockFile)})
    expect(report.exitCode, report.message).to.equal(ExitCode.rollbackFailed)
    expect(report.outcome).to.equal('rollback-failed')
    expect(report.rollback?.verified).to.equal(false)
    expect(report.rollback?.problems).to.have.length(1)
    expect(report.rollback?.problems[0]).to.match(new RegExp(`^${stage.pem}: not put back \\(.*is a folder`))
    expect(report.message).to.not.match(/ is back \(|were put back|back in the files/)
    // What is back is said too: HAProxy never took the new certificate.
    expect(report.message).to.match(new RegExp(`putting the previous certificate ${oldSerial} back failed too \\(.*; back as before: ${oldSerial} served again on `))
    expect(formatDeployReport(report)).to.include(`  rollback to the previous certificate ${oldSerial}: FAILED: ${stage.pem}: not put back (`)
    expect(await servedSerial(stage)).to.equal(oldSerial)
    expect((await history()).at(-1)).to.deep.include({exitCode: ExitCode.rollbackFailed, outcome: 'rollback-failed'})
  })

  it('a file changed after it was put back (another hand wrote it meanwhile): not claimed back, exit 13', async () => {
    const oldSerial = await servedSerial(stage)
    const other = await renewal()
    const otherPem = (await readFile(other.cert, 'utf8')) + (await readFile(other.key, 'utf8'))
    // The rollback's handshakes come after the files went back: each one finds the file rewritten.
    const rewriting = async (options: HandshakeOptions) => {
      await writeFile(stage.pem, otherPem)
      return handshake(options)
    }

    const report = await deploy(await renewal(), {cli: await refusingCommit(), handshake: rewriting})
    expect(report.exitCode, report.message).to.equal(ExitCode.rollbackFailed)
    expect(report.rollback?.problems).to.have.length(1)
    expect(report.rollback?.problems[0]).to.match(new RegExp(`^${stage.pem}: holds other bytes than before the install \\(sha256 `))
    expect(report.message).to.include(`; back as before: ${oldSerial} served again on 127.0.0.1:${stage.data.proxy.listen.httpsPort}`)
    expect(report.message).to.not.include(' is back (')
  })

  it('a listen address that still shows the old serial: the previous certificate goes back into HAProxy and the file (exit 12)', async () => {
    // A stale server holds the IPv6 listen address with the old certificate (an old proxy never stopped).
    const old = await readFile(stage.pem, 'utf8')
    const stale: Server = createServer({cert: old, key: old})
    await new Promise<void>((resolve) => stale.listen(stage.data.proxy.listen.httpsPort, '::1', resolve))
    try {
      stage.data.proxy.listen.ipv6 = '::1'
      const oldSerial = await servedSerial(stage)
      const port = stage.data.proxy.listen.httpsPort
      // The new serial gets two seconds to show on every address.
      const report = await deploy(await renewal(), {timeoutMs: 2000})
      expect(report.exitCode, report.message).to.equal(ExitCode.rolledBack)
      expect(report.verify.map((v) => [v.source, v.ok])).to.deep.equal([
        [`127.0.0.1:${stage.data.proxy.listen.httpsPort}`, true],
        [`[::1]:${stage.data.proxy.listen.httpsPort}`, false],
      ])
      // Swapped back through the runtime API and proven on both addresses, the file by its bytes.
      expect(report.rollback).to.deep.include({problems: [], verified: true})
      expect(report.message).to.include(`${oldSerial} served again on 127.0.0.1:${port}, [::1]:${port}`)
      expect(await readFile(stage.pem, 'utf8')).to.equal(old)
      expect(await servedSerial(stage)).to.equal(oldSerial)
    } finally {
      await new Promise((resolve) => stale.close(resolve))
    }
  })

  it('by hand as docs/certificates.md writes it (run in the renewal\'s folder), then a bad key with --json: exit 6, the report on stdout, one syslog line on stderr', async () => {
    const inventory = await writeInventory(stage, 'inventory', stage.data)
    const files = await renewal()
    const path = `${await jproxyOnPath(dir)}:${process.env.PATH}`
    const line = (await docsCommand('jproxy tls deploy -i /etc/jproxy/jproxy.yaml --cert fullchain.pem')).replace('/etc/jproxy/jproxy.yaml', inventory).replace('tls deploy', `tls deploy --ca ${pki.root.cert}`)
    const byHand = await shell(`cd ${join(files.cert, '..')} && ${line}`, {PATH: path}, 60_000)
    expect(byHand.code, byHand.output).to.equal(0)
    expect(byHand.output).to.match(/^haproxy: deployed: /)
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))

    const stranger = await pki.leaf('stranger.example.test', {altNames: ['DNS:stranger.example.test']})
    const bad = await renewal({key: stranger.key})
    const json = await shell(`jproxy tls deploy -i ${inventory} --ca ${pki.root.cert} --cert ${bad.cert} --key ${bad.key} --json 2>${dir}/stderr`, {PATH: path}, 60_000)
    expect(json.code).to.equal(ExitCode.checkFailed)
    const report = JSON.parse(json.output)
    expect(report).to.deep.include({exitCode: 6, outcome: 'check-failed', target: 'haproxy'})
    expect(report.certificate.serial).to.equal(serialOf(bad.leafPem))
    expect(await readFile(join(dir, 'stderr'), 'utf8')).to.match(/^jproxy-tls-deploy: FAILED target=haproxy domain=meet\.example\.org outcome=check-failed exit=6 serial=\w+: the new certificate failed its checks \(the key \(line 1\) does not belong to the certificate[^\n]*\n$/)
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))
  })

  it('lego v5\'s hook variables (LEGO_HOOK_CERT_PATH, _KEY_PATH, _ISSUER_CERT_PATH): the leaf-only certificate and the issuer file make the chain', async () => {
    const inventory = await writeInventory(stage, 'inventory', stage.data)
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const issuer = join(dir, 'issuer.crt')
    await writeFile(issuer, pki.intermediate.pem)
    const run = await shell(`jproxy tls deploy -i ${inventory} --ca ${pki.root.cert}`, {LEGO_HOOK_CERT_KEY_PATH: leaf.key, LEGO_HOOK_CERT_PATH: leaf.cert, LEGO_HOOK_ISSUER_CERT_PATH: issuer, PATH: `${await jproxyOnPath(dir)}:${process.env.PATH}`}, 60_000)
    expect(run.code, run.output).to.equal(0)
    expect(await servedSerial(stage)).to.equal(serialOf(leaf.pem))
    expect(await readFile(stage.pem, 'utf8')).to.equal(leaf.pem + pki.intermediate.pem + (await readFile(leaf.key, 'utf8')))
  })

  it('certificate and key in two files (crt + crt.key): both replaced under apply\'s lock, HAProxy swapped from both; a busy lock changes nothing', async () => {
    // A proxy started on the split form (the stage's combined PEM cut in two).
    await stage.haproxy.stop()
    const split = join(dir, 'split')
    await mkdir(split)
    const crt = join(split, 'meet.pem')
    const combined = await readFile(stage.pem, 'utf8')
    await writeFile(crt, combined.replace(/-----BEGIN PRIVATE KEY-----[\s\S]*$/, ''))
    await writeFile(`${crt}.key`, /-----BEGIN PRIVATE KEY-----[\s\S]*$/.exec(combined)![0], {mode: 0o600})
    await Promise.all([...stage.backends.values()].map((b) => b.close()))
    stage = await startStage(join(dir, 'split'), (data) => {
      data.proxy.tls = {certificate: crt, key: `${crt}.key`}
    })
    const oldSerial = await servedSerial(stage)

    // apply holds the lock: the deploy waits apply.lockWait, then gives up without touching anything.
    const lock = join(stage.data.apply.dir, 'apply-haproxy.lock')
    await writeFile(lock, `${process.pid} ${(await import('node:os')).hostname()}\n`)
    const files = await renewal()
    const busy = await deploy(files, {inventory: Inventory.parse({...stage.data, apply: {...stage.data.apply, lockWait: '300ms'}})})
    expect(busy.exitCode, busy.message).to.equal(ExitCode.busy)
    expect(await readFile(`${crt}.key`, 'utf8')).to.not.equal(await readFile(files.key, 'utf8'))
    expect(await servedSerial(stage)).to.equal(oldSerial)
    await rm(lock)

    const report = await deploy(files)
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report.installed).to.deep.equal([`${crt}.key`, crt])
    expect(await readFile(crt, 'utf8')).to.equal(await readFile(files.cert, 'utf8'))
    expect(await readFile(`${crt}.key`, 'utf8')).to.equal(await readFile(files.key, 'utf8'))
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))
    // And a reload loads the same pair: the files match what runs.
    await reloadToNewWorker(stage)
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))
  })

  it('a crt named *.crt, which HAProxy 2.6 cannot swap by name: refused before anything changes (exit 11)', async () => {
    const crt = join(dir, 'meet.crt')
    const combined = await readFile(stage.pem, 'utf8')
    await writeFile(crt, combined)
    const report = await deploy(await renewal(), {inventory: Inventory.parse({...stage.data, proxy: {...stage.data.proxy, tls: {certificate: crt, key: crt}}})})
    expect(report.exitCode, report.message).to.equal(ExitCode.refused)
    expect(report.message).to.match(/name the file \.pem/)
    expect(await readFile(crt, 'utf8')).to.equal(combined)
    expect(report.installed).to.deep.equal([])
  })

  it('aborts a stale transaction another hand left open, then swaps its own', async () => {
    const stray = await renewal()
    const opened = await socketCommand(stage.socket, `set ssl cert ${stage.pem}`, 5000, (await readFile(stray.cert, 'utf8')) + (await readFile(stray.key, 'utf8')))
    expect(opened).to.match(/Transaction created/)
    const files = await renewal()
    const report = await deploy(files)
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report.swap?.detail).to.include(`aborted a stale transaction on ${stage.pem}`)
    expect(await servedSerial(stage)).to.equal(serialOf(files.leafPem))
  })
})
