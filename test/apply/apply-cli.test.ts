import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {STAGES} from '../../src/apply/apply.js'
import {applyPaths} from '../../src/apply/paths.js'
import {ExitCode} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {runCommand} from '../../src/system/command.js'
import {BIN} from '../support/cli.js'
import {type Stage, startStage, through, withWeb2, workers, writeInventory} from '../support/haproxy-stage.js'

/** The built CLI, as cron runs it; resolves with its exit code (or the signal that ended it). */
function jproxy(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{code: null | number; signal: null | string; stderr: string; stdout: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {env: {...process.env, JPROXY_INVENTORY: undefined, ...env}, timeout: timeoutMs}, (error, stdout, stderr) => {
      const failure = error as (Error & {code?: number | string; signal?: string}) | null
      resolve({code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stderr, stdout})
    })
  })
}

describe('jproxy apply (CLI) against real HAProxy', function () {
  this.timeout(300_000)
  let dir: string
  let stage: Stage

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-apply-cli-'))
    stage = await startStage(dir)
  })
  afterEach(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  const haproxyCheck = async (file: string) => (await runCommand(['haproxy', '-c', '-q', '-f', file])).code

  it('survives a kill at every stage: the live file is always whole and valid, and the next run completes (stale lock taken over)', async () => {
    const variants = [withWeb2(stage), stage.data]
    const files = await Promise.all(variants.map((data, i) => writeInventory(stage, `variant${i}`, data)))
    const renders = variants.map((data) => renderTarget(Inventory.parse(data), 'haproxy'))
    const paths = applyPaths(Inventory.parse(stage.data), 'haproxy')
    let current = 1 // the running config is variants[1]
    for (const killAt of STAGES.filter((s) => s !== 'rollback')) {
      const next = 1 - current
      const killed = await jproxy(['apply', 'haproxy', '-i', files[next], '--ca', stage.pem], {JPROXY_TEST_CRASH_AT: killAt})
      expect(killed.signal, `${killAt}: ${killed.stderr}`).to.equal('SIGKILL')
      const live = await readFile(stage.live, 'utf8')
      expect([renders[current], renders[next]], `${killAt}: the live file is one config or the other`).to.include(live)
      expect(await haproxyCheck(stage.live), `${killAt}: haproxy -c on the live file`).to.equal(0)

      const again = await jproxy(['apply', 'haproxy', '-i', files[next], '--ca', stage.pem, '--json'])
      expect(again.code, `${killAt}: ${again.stdout}${again.stderr}`).to.equal(ExitCode.ok)
      const report = JSON.parse(again.stdout)
      // After a kill past the install the file is already new, but it was never proven: it must be reloaded now.
      expect(report.outcome, killAt).to.equal('applied')
      expect(await readFile(stage.live, 'utf8')).to.equal(renders[next])
      expect((await through(stage)).status).to.equal(200)
      expect(await readFile(paths.pending, 'utf8').then(() => 'present', () => 'gone'), `${killAt}: pending marker`).to.equal('gone')
      current = next
    }
  })

  it('ten concurrent applies are serialized: each exits 0, nothing is corrupted, reloads match the applied runs', async function () {
    // This test is about the lock, not health: on a busy machine a 500 ms probe can time out and
    // the gate would refuse (11). So the gate is skipped (--force), probes get a generous timeout,
    // and the lock wait covers nine runs ahead in the queue, each bounded by its own settings.
    const RUNS = 10
    const health = {fall: 3, interval: '10s', rise: 1, timeout: '5s'}
    const perRunMs = 2 * 5000 + 10_000 // probe + verify (health.timeout each) + apply.reloadTimeout
    const lockWaitMs = (RUNS - 1) * perRunMs + 30_000
    this.timeout(lockWaitMs + perRunMs + 60_000)
    const variants = [withWeb2(stage), stage.data].map((data) => ({...structuredClone(data), apply: {...data.apply, lockWait: lockWaitMs}, health}))
    const files = await Promise.all(variants.map((data, i) => writeInventory(stage, `concurrent${i}`, data)))
    const before = await workers(stage)
    const apply = (file: string) => jproxy(['apply', 'haproxy', '-i', file, '--ca', stage.pem, '--force', '--json'], {}, lockWaitMs + perRunMs + 30_000)
    const runs = await Promise.all(Array.from({length: RUNS}, (_, i) => apply(files[i % 2])))
    const outcomes = runs.map((r) => (r.code === 0 ? JSON.parse(r.stdout).outcome : `${r.code}: ${r.stdout}${r.stderr}`))
    expect(runs.map((r) => r.code), outcomes.join('\n')).to.deep.equal(Array.from({length: RUNS}, () => ExitCode.ok))
    const applied = outcomes.filter((o) => o === 'applied').length
    expect(applied).to.be.greaterThan(0)
    expect((await workers(stage)).reloads).to.equal(before.reloads + applied)
    const live = await readFile(stage.live, 'utf8')
    expect(variants.map((data) => renderTarget(Inventory.parse(data), 'haproxy'))).to.include(live)
    expect(await haproxyCheck(stage.live)).to.equal(0)
    const history = (await readFile(applyPaths(Inventory.parse(stage.data), 'haproxy').history, 'utf8')).trim().split('\n')
    expect(history).to.have.length(RUNS)
    expect((await through(stage)).status).to.equal(200)
  })

  it('a second run that cannot get the lock in time exits busy (10)', async () => {
    const data = withWeb2(stage)
    data.apply.lockWait = '300ms'
    const file = await writeInventory(stage, 'busy', data)
    const paths = applyPaths(Inventory.parse(data), 'haproxy')
    // A live holder: this test process.
    await writeFile(paths.lock, `${process.pid} ${(await import('node:os')).hostname()}\n`)
    try {
      const run = await jproxy(['apply', 'haproxy', '-i', file])
      expect(run.code).to.equal(ExitCode.busy)
      expect(run.stderr).to.include(`another apply of haproxy is running (${process.pid}`)
    } finally {
      await rm(paths.lock, {force: true})
    }
  })

  it('a failing reload command: the previous config is restored and reloaded, exit 12, and --prom-file says so', async () => {
    // No master CLI here: the reload goes through targets.haproxy.reload, which refuses configs with web2.
    const script = join(dir, 'reload.sh')
    await writeFile(script, `#!/bin/sh\nif grep -q 'server web2' '${stage.live}'; then echo 'reload refused by the test' >&2; exit 1; fi\nkill -USR2 ${stage.haproxy.pid}\n`)
    await chmod(script, 0o755)
    const data = withWeb2(stage)
    data.targets.haproxy.masterSocket = join(dir, 'no-master.sock')
    data.targets.haproxy.reload = [script]
    const old = await readFile(stage.live, 'utf8')
    const prom = join(dir, 'apply.prom')
    const run = await jproxy(['apply', 'haproxy', '-i', await writeInventory(stage, 'failing-reload', data), '--ca', stage.pem, '--prom-file', prom])
    expect(run.code, run.stderr).to.equal(ExitCode.rolledBack)
    expect(run.stderr).to.include('reload (command): FAILED').and.include('reload refused by the test')
    expect(run.stderr).to.include('rollback to the previous live config: verified')
    expect(await readFile(stage.live, 'utf8')).to.equal(old)
    expect((await through(stage)).status).to.equal(200)
    const metrics = await readFile(prom, 'utf8')
    expect(metrics).to.include('jproxy_apply_last_success{target="haproxy"} 0\n')
    expect(metrics).to.include('jproxy_apply_last_success_timestamp_seconds{target="haproxy"} 0\n')
    expect(metrics).to.include('# TYPE jproxy_apply_reloads_total counter\njproxy_apply_reloads_total{target="haproxy"} 2\n')
  })

  it('--dry-run prints the diff and changes nothing', async () => {
    const before = await workers(stage)
    const old = await readFile(stage.live, 'utf8')
    const run = await jproxy(['apply', 'haproxy', '-i', await writeInventory(stage, 'dry', withWeb2(stage)), '--dry-run'])
    expect(run.code, run.stderr).to.equal(ExitCode.ok)
    expect(run.stdout).to.include('haproxy: dry-run: haproxy: the new config differs')
    expect(run.stdout).to.match(/^\+\s+server web2 127\.0\.0\.1:\d+/m)
    expect(await readFile(stage.live, 'utf8')).to.equal(old)
    expect(await workers(stage)).to.deep.equal(before)
  })

  it('--dry-run --exit-code exits 1 when the config would change and 0 when it would not; --target is the way to name the proxy', async () => {
    const changing = await jproxy(['apply', '--target', 'haproxy', '-i', await writeInventory(stage, 'exit-code', withWeb2(stage)), '--dry-run', '--exit-code'])
    expect(changing.code, changing.stderr).to.equal(1)
    expect(changing.stdout).to.match(/^\+\s+server web2 /m)
    expect(changing.stderr).to.not.include('deprecated')
    const same = await jproxy(['apply', '--target', 'haproxy', '-i', await writeInventory(stage, 'same', stage.data), '--dry-run', '--exit-code'])
    expect(same.code, same.stderr).to.equal(0)
  })

  it('a dry run shows the diff also when the health gate would refuse, and says the gate would refuse (exit 11)', async () => {
    const data = withWeb2(stage)
    await stage.backends.get('web1')!.close()
    await stage.backends.get('web2')!.close()
    const before = await workers(stage)
    const run = await jproxy(['apply', '--target', 'haproxy', '-i', await writeInventory(stage, 'gate', data), '--dry-run'])
    expect(run.code, run.stdout).to.equal(ExitCode.refused)
    expect(run.stderr).to.match(/^haproxy: refused: the health gate refused the config .*, so applying would stop here; the new config differs/m)
    expect(run.stderr).to.match(/^\+\s+server web2 /m)
    expect(await workers(stage)).to.deep.equal(before)
  })

  it('-q prints nothing when nothing changed, and reports a change; the old positional target still works with a warning', async () => {
    const file = await writeInventory(stage, 'quiet', stage.data)
    await jproxy(['apply', '--target', 'haproxy', '-i', file, '--ca', stage.pem])
    const quiet = await jproxy(['apply', '--target', 'haproxy', '-i', file, '--ca', stage.pem, '-q'])
    expect(quiet, quiet.stderr).to.deep.include({code: 0, stderr: '', stdout: ''})
    const changed = await jproxy(['apply', 'haproxy', '-i', await writeInventory(stage, 'quiet2', withWeb2(stage)), '--ca', stage.pem, '-q'])
    expect(changed.code, changed.stderr).to.equal(0)
    expect(changed.stdout).to.match(/^haproxy: applied: /)
    expect(changed.stderr).to.include('the target as an argument is deprecated; use --target haproxy')
    const conflicting = await jproxy(['apply', 'haproxy', '--target', 'relayd', '-i', file])
    expect(conflicting.code).to.equal(ExitCode.usage)
  })

  it('status exits 0 reading the running proxy and 15 when it cannot reach it', async () => {
    const file = await writeInventory(stage, 'status', stage.data)
    const up = await jproxy(['status', '--target', 'haproxy', '-i', file, '--json'])
    expect(up.code, up.stderr).to.equal(0)
    expect(JSON.parse(up.stdout).reachable).to.equal(true)
    const gone = structuredClone(stage.data)
    gone.targets.haproxy.socket = join(dir, 'no-such.sock')
    const down = await jproxy(['status', '--target', 'haproxy', '-i', await writeInventory(stage, 'status-gone', gone)])
    expect(down.code).to.equal(ExitCode.proxyUnreachable)
    expect(down.stdout).to.include("warning: HAProxy's stats socket:")
  })

  it('probe --ca trusts a private CA for the request through the proxy; without it the proxy probe fails', async () => {
    const file = await writeInventory(stage, 'probe-ca', stage.data)
    const trusted = await jproxy(['probe', '--role', 'proxy', '--no-state', '-i', file, '--ca', stage.pem, '--json'])
    expect(trusted.code, trusted.stdout + trusted.stderr).to.equal(0)
    expect(JSON.parse(trusted.stdout).backends.every((b: {state: string}) => b.state === 'up')).to.equal(true)
    const untrusted = await jproxy(['probe', '--role', 'proxy', '--no-state', '-i', file, '--json'])
    expect(untrusted.code).to.equal(ExitCode.backendsDown)
  })
})
