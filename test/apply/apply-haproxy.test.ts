import {expect} from 'chai'
import {chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {applyTarget} from '../../src/apply/apply.js'
import {applyPaths} from '../../src/apply/paths.js'
import {loadCommandInventorySource} from '../../src/cli/inventory.js'
import {ExitCode} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {runCommand} from '../../src/system/command.js'
import {selfSignedPem} from '../support/certs.js'
import {freePorts} from '../support/loopback-backends.js'
import {type Stage, startStage, through, withWeb2, workers} from '../support/haproxy-stage.js'

describe('apply: real HAProxy in master-worker mode on loopback', function () {
  this.timeout(120_000)
  let dir: string
  let stage: Stage
  let ca: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-apply-'))
    stage = await startStage(dir)
    ca = await readFile(stage.pem, 'utf8')
  })
  afterEach(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  const apply = (data: Record<string, any>, extra = {}) => applyTarget({inventory: Inventory.parse(data), run: runCommand, target: 'haproxy', tlsCa: ca, ...extra})

  it('installs a changed config, reloads through the master CLI, verifies, keeps a backup and the last-known-good copy', async () => {
    const before = await workers(stage)
    const old = await readFile(stage.live, 'utf8')
    await chmod(stage.live, 0o640)
    const data = withWeb2(stage)
    const report = await apply(data)
    expect(report, report.message).to.deep.include({changed: true, exitCode: ExitCode.ok, outcome: 'applied'})
    expect((await stat(stage.live)).mode & 0o777, 'the live file keeps its mode').to.equal(0o640)
    const after = await workers(stage)
    expect(after.worker).to.not.equal(before.worker)
    expect(after.reloads).to.equal(before.reloads + 1)
    expect(report.reload).to.deep.include({method: 'master CLI', ok: true, workerAfter: after.worker, workerBefore: before.worker})

    const expected = renderTarget(Inventory.parse(data), 'haproxy')
    expect(await readFile(stage.live, 'utf8')).to.equal(expected)
    const paths = applyPaths(Inventory.parse(data), 'haproxy')
    expect(await readFile(paths.lkg, 'utf8')).to.equal(expected)
    expect(await readFile(report.backup!, 'utf8')).to.equal(old)
    expect(report.diff).to.include('+    server web2 127.0.0.1:')

    // The new backend serves traffic at once.
    const answered = new Set<string | undefined>()
    for (let i = 0; i < 8; i++) answered.add((await through(stage)).backend)
    expect(answered).to.deep.equal(new Set(['web1', 'web2']))

    const history = (await readFile(paths.history, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(history).to.have.length(1)
    expect(history[0]).to.include({changed: true, exitCode: 0, outcome: 'applied', reloads: 1, target: 'haproxy'})
  })

  it("does not repeat HAProxy's harmless server-state warning (agent checks not enabled) on the next apply", async () => {
    // The first apply saves the running servers' states; haproxy -c of the next config reads them back.
    const first = await apply(withWeb2(stage))
    expect(first.outcome, first.message).to.equal('applied')
    const raw = await runCommand(['haproxy', '-c', '-f', stage.live])
    expect(`${raw.stdout}${raw.stderr}`, 'HAProxy itself still warns').to.match(/server-state partially applied .* agent checks are not enabled/)

    const data = withWeb2(stage)
    data.web.pop()
    const second = await apply(data)
    expect(second.outcome, second.message).to.equal('applied')
    const said = [...(second.check?.messages ?? []).map((m) => m.message), ...second.warnings].join('\n')
    expect(said).to.not.include('server-state partially applied')
  })

  it('does nothing for an unchanged inventory: no reload, same worker', async () => {
    const before = await workers(stage)
    const report = await apply(stage.data)
    expect(report).to.deep.include({changed: false, exitCode: ExitCode.ok, outcome: 'unchanged'})
    expect(report.reload).to.equal(undefined)
    expect(await workers(stage)).to.deep.equal(before)
  })

  it('refuses a peered config when this host is not one of the peers, and checks one it is in with -L as this host', async () => {
    const data = withWeb2(stage)
    data.proxy.peers = [
      {address: '127.0.0.1', name: 'proxy-a', port: stage.data.targets.haproxy.localPeerPort},
      {address: '127.0.0.2', name: 'proxy-b', port: stage.data.targets.haproxy.localPeerPort},
    ]
    const live = await readFile(stage.live, 'utf8')
    const before = await workers(stage)
    const refused = await apply(data, {hostname: 'proxy-z'})
    expect(refused).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
    expect(refused.message).to.equal('this host\'s name "proxy-z" is not one of proxy.peers (proxy-a, proxy-b): HAProxy would drop the peers section and no proxy would share or keep the room table; set targets.haproxy.localPeer or fix proxy.peers; the live file is untouched')
    expect(await readFile(stage.live, 'utf8')).to.equal(live)
    expect(await workers(stage)).to.deep.equal(before)

    const checked = await apply(data, {dryRun: true, hostname: 'proxy-a'})
    expect(checked.exitCode, checked.message).to.equal(ExitCode.ok)
    expect(checked.check!.command.slice(0, 3)).to.deep.equal(['haproxy', '-L', 'proxy-a'])
    data.targets.haproxy.localPeer = 'proxy-b'
    const named = await apply(data, {dryRun: true, hostname: 'proxy-z'})
    expect(named.exitCode, 'targets.haproxy.localPeer names this proxy whatever its hostname').to.equal(ExitCode.ok)
    expect(named.check!.command, 'the config names its local peer: no -L').to.not.include('-L')
  })

  it('refuses what haproxy -c refuses, naming the inventory field behind it, and leaves the live file byte-identical', async () => {
    const old = await readFile(stage.live, 'utf8')
    const before = await workers(stage)
    const data = withWeb2(stage)
    // A certificate and a key that each load but do not belong together: only HAProxy's checker sees it.
    await mkdir(join(dir, 'other'))
    const other = await readFile(await selfSignedPem(join(dir, 'other'), 'other.example.org'), 'utf8')
    const certificate = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/.exec(await readFile(stage.pem, 'utf8'))![0]
    const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n/.exec(other)![0]
    await writeFile(join(dir, 'mismatch.pem'), certificate + key)
    data.proxy.tls = {certificate: join(dir, 'mismatch.pem'), key: join(dir, 'mismatch.pem')}
    const report = await apply(data)
    expect(report, report.message).to.deep.include({exitCode: ExitCode.checkFailed, outcome: 'check-failed'})
    // The staged file is gone when the operator reads this: the alert names the inventory's field instead.
    const alert = report.check!.messages.find((m) => m.level === 'alert' && m.message.includes('mismatch.pem'))!
    expect(alert.message).to.match(/^proxy\.tls\.certificate: .*mismatch\.pem.*\(line \d+ of the rendered file\)$/)
    expect(alert.file).to.equal(undefined)
    // Loaded from a file as the apply command loads it, the field's line in that file is named too.
    const file = join(dir, 'mismatch.yaml')
    const text = stringify(data)
    await writeFile(file, text)
    const {inventory, source} = await loadCommandInventorySource(file)
    const fromFile = await applyTarget({inventory, inventorySource: source, run: runCommand, target: 'haproxy', tlsCa: ca})
    const line = text.split('\n').findIndex((l) => /^ {4}certificate: /.test(l)) + 1
    const named = fromFile.check!.messages.find((m) => m.level === 'alert' && m.message.includes('mismatch.pem'))!
    expect(named.message).to.match(new RegExp(`^proxy\\.tls\\.certificate \\(inventory line ${line}\\): `))
    expect(await readFile(stage.live, 'utf8')).to.equal(old)
    expect(await workers(stage)).to.deep.equal(before)
    expect((await readdir(dir)).filter((f) => f.includes('jproxy-staged'))).to.deep.equal([])
  })

  it('refuses a config whose only web node is down (health gate) unless forced', async () => {
    const old = await readFile(stage.live, 'utf8')
    const data = structuredClone(stage.data)
    await stage.backends.get('web1')!.close()
    data.web[0].port = stage.backends.get('web1')!.port
    data.shards[0].jvbs[0].restPort = stage.backends.get('web1')!.port // a down videobridge: only a warning
    const report = await apply(data)
    expect(report).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
    expect(report.gate!.problems[0]).to.match(/^no web node is up: web\/web1 down/)
    expect(report.gate!.warnings.some((w) => w.startsWith('jvb/s1/jvb1 down'))).to.equal(true)
    expect(await readFile(stage.live, 'utf8')).to.equal(old)

    const forced = await apply(data, {force: true})
    expect(forced, forced.message).to.deep.include({exitCode: ExitCode.ok, outcome: 'applied'})
    expect(forced.warnings.some((w) => w.startsWith('FORCED past the health gate: no web node is up'))).to.equal(true)
    expect(await readFile(stage.live, 'utf8')).to.equal(renderTarget(Inventory.parse(data), 'haproxy'))
  })

  it('rolls back when HAProxy accepts the config with -c but cannot start it (port taken after the pre-install check), and service continues', async () => {
    const blocker: Server = createServer()
    const [port] = await freePorts(1)
    try {
      await apply(withWeb2(stage)) // a verified config becomes the last-known-good one
      const good = await readFile(stage.live, 'utf8')
      const before = await workers(stage)
      const data = withWeb2(stage)
      data.proxy.listen.httpPort = port
      // Taken once the check before the install has passed (taken earlier, apply refuses: apply-reload-path.test.ts).
      const onStage = (name: string) => (name === 'install' ? new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve)) : undefined)
      const report = await apply(data, {onStage})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.rolledBack, outcome: 'rolled-back'})
      expect(report.reload!.ok).to.equal(false)
      expect(report.rollback).to.deep.include({restored: applyPaths(Inventory.parse(data), 'haproxy').lkg, verified: true})
      expect(await readFile(stage.live, 'utf8')).to.equal(good)
      expect((await workers(stage)).worker).to.not.equal(before.worker)
      expect((await through(stage)).status).to.equal(200)
    } finally {
      blocker.close()
    }
  })
})
