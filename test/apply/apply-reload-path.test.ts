import {expect} from 'chai'
import {access, mkdtemp, readdir, readFile, rm, stat} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {applyTarget, type Stage as ApplyStage} from '../../src/apply/apply.js'
import {applyPaths} from '../../src/apply/paths.js'
import {ExitCode} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {formatApplyReport} from '../../src/report/apply.js'
import {runCommand} from '../../src/system/command.js'
import {freePorts} from '../support/loopback-backends.js'
import {type Stage, startStage, through, withWeb2, workers} from '../support/haproxy-stage.js'

/** Another process holding `port` on 127.0.0.1 (a plain listen: no SO_REUSEPORT for HAProxy to share). */
async function squat(port: number): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({exclusive: true, host: '127.0.0.1', port}, resolve)
  })
  return server
}

const exists = (path: string) => access(path).then(() => true, () => false)

describe('apply: the reload path is tried before the install, and verdicts say what happened (real HAProxy)', function () {
  this.timeout(120_000)
  let dir: string
  let stage: Stage
  let ca: string
  const squatters: Server[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-reload-path-'))
    stage = await startStage(dir)
    ca = await readFile(stage.pem, 'utf8')
  })
  afterEach(async () => {
    for (const server of squatters.splice(0)) server.close()
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  const apply = (data: Record<string, any>, extra = {}) => applyTarget({inventory: Inventory.parse(data), run: runCommand, target: 'haproxy', tlsCa: ca, ...extra})

  it('refuses a new port another process holds, before installing (dry run and apply: exit 11, the reason and the fix)', async () => {
    const [port] = await freePorts(1)
    squatters.push(await squat(port))
    const old = await readFile(stage.live, 'utf8')
    const before = await workers(stage)
    const data = withWeb2(stage)
    data.proxy.listen.httpsPort = port
    for (const dryRun of [true, false]) {
      const report = await apply(data, {dryRun})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
      expect(report.message).to.include(`port ${port} on 127.0.0.1 is in use by another process, and the running HAProxy does not listen there: stop that process or choose another port`)
      expect(report.reload, 'no reload was tried').to.equal(undefined)
    }

    expect(await readFile(stage.live, 'utf8')).to.equal(old)
    expect(await workers(stage)).to.deep.equal(before)
    expect(await exists(applyPaths(Inventory.parse(data), 'haproxy').backups), 'no backup: nothing was installed').to.equal(false)
    // Ports the running HAProxy holds are its own: the unchanged listen ports pass the same check.
    const own = await apply(withWeb2(stage), {dryRun: true})
    expect(own, own.message).to.deep.include({exitCode: ExitCode.ok, outcome: 'dry-run'})
  })

  it('a port taken between the check and the reload: exit 12 with HAProxy\'s reason first; the restored config is verified on its own port', async () => {
    const good = await apply(withWeb2(stage)) // a verified config becomes the last-known-good one
    expect(good.exitCode, good.message).to.equal(ExitCode.ok)
    const lkg = await readFile(stage.live, 'utf8')
    const [port] = await freePorts(1)
    const data = withWeb2(stage)
    data.proxy.listen.httpsPort = port
    // The squatter arrives after the pre-install check passed, as the install starts.
    const onStage = async (name: ApplyStage) => {
      if (name === 'install') squatters.push(await squat(port))
    }

    const report = await apply(data, {onStage})
    const reason = `port ${port} on 127.0.0.1 is in use by another process (HAProxy: cannot bind socket (Address already in use) for [127.0.0.1:${port}])`
    expect(report, report.message).to.deep.include({exitCode: ExitCode.rolledBack, outcome: 'rolled-back'})
    expect(report.message.startsWith(reason), report.message).to.equal(true)
    expect(report.reload).to.deep.include({ok: false, reasons: [reason]})
    expect(report.rollback, 'verified on the restored config\'s https port, not the squatter\'s').to.deep.include({problems: [], verified: true})
    expect(formatApplyReport(report, false).split('\n')[0]).to.equal(`haproxy: rolled-back: ${report.message}`)
    expect(await readFile(stage.live, 'utf8')).to.equal(lkg)
    expect((await through(stage)).status, 'the old port answers').to.equal(200)
  })

  it('HAProxy not running: the dry run and apply refuse with exit 11 before touching a file', async () => {
    await stage.haproxy.stop()
    const data = withWeb2(stage)
    const paths = applyPaths(Inventory.parse(data), 'haproxy')
    const old = await readFile(stage.live, 'utf8')
    const {mtimeMs} = await stat(stage.live)
    for (const dryRun of [true, false]) {
      const report = await apply(data, {dryRun})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
      expect(report.message).to.include(`HAProxy's master CLI at ${stage.masterSocket} does not answer and targets.haproxy.reload is not set`)
      expect(report.message).to.include(`haproxy -W -S ${stage.masterSocket} -f ${stage.live}`)
      expect(report.message).to.include('"First apply" in docs/apply.md')
    }

    // A reload command that is not there is no way to reload either.
    data.targets.haproxy.reload = [join(dir, 'no-such-reload')]
    const missing = await apply(data)
    expect(missing, missing.message).to.deep.include({exitCode: ExitCode.refused})
    expect(missing.message).to.include(`targets.haproxy.reload: ${join(dir, 'no-such-reload')} is not an executable file`)

    expect(await readFile(stage.live, 'utf8')).to.equal(old)
    expect((await stat(stage.live)).mtimeMs).to.equal(mtimeMs)
    expect(await exists(paths.backups)).to.equal(false)
    expect(await exists(paths.lkg)).to.equal(false)
    expect(await exists(paths.pending)).to.equal(false)
    expect((await readdir(dir)).filter((f) => f.includes('jproxy-staged'))).to.deep.equal([])
  })

  it('refuses a certificate file that does not exist, naming proxy.tls.certificate (exit 11, nothing installed)', async () => {
    const old = await readFile(stage.live, 'utf8')
    const data = withWeb2(stage)
    data.proxy.tls = {certificate: join(dir, 'missing.pem'), key: join(dir, 'missing.pem')}
    for (const dryRun of [true, false]) {
      const report = await apply(data, {dryRun})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
      expect(report.message).to.equal(`proxy.tls.certificate: ${join(dir, 'missing.pem')} does not exist: install the file or fix proxy.tls.certificate; the live file is untouched`)
    }

    expect(await readFile(stage.live, 'utf8')).to.equal(old)
  })
})
