import {expect} from 'chai'
import {chmod, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {CHECK_SCRIPT_EXIT} from '../../src/probe/check-host.js'
import {installRelaydCheckScripts, relaydCheckScript, type RelaydCheckRole} from '../../src/probe/relayd-check-script.js'
import {formatVerdicts, type HostVerdict} from '../../src/probe/verdicts.js'
import {BIN} from '../support/cli.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {freePorts, type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {runShellScript, SHELLS} from '../support/shell.js'
import {smallInventory} from '../fixtures/inventories.js'

describe("relayd's check script (POSIX sh) reading the watcher's verdicts", function () {
  this.timeout(60_000)
  let dir: string
  let state: string
  let fallbackLog: string
  /** A stand-in for node that records being called and answers `HOST up` for every host. */
  let sayUp: string

  const hosts: HostVerdict[] = [
    {address: '10.0.0.21', role: 'jvb', verdict: 'up'},
    {address: '10.0.0.22', role: 'jvb', verdict: 'down'},
    {address: '10.0.0.23', role: 'jvb', verdict: 'unknown'},
    {address: '10.0.0.10', role: 'prosody', verdict: 'up'},
    {address: '10.0.0.10', role: 'jicofo', verdict: 'down'},
    {address: '2001:db8::21', role: 'jvb', verdict: 'up'},
  ]
  const writeState = (expiresInS: number) => {
    const written = new Date()
    return writeFile(state, formatVerdicts({expires: new Date(written.getTime() + expiresInS * 1000), hosts, written}))
  }

  const script = async (role: RelaydCheckRole, node: string) => {
    const path = join(dir, `check-${role}-${node === sayUp ? 'fake' : 'other'}`)
    await writeFile(path, relaydCheckScript(role, state, {inventoryFile: join(dir, 'jproxy.yaml'), jproxy: BIN, node}), {mode: 0o755})
    return path
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-check-script-'))
    state = join(dir, 'probe-state.txt')
    fallbackLog = join(dir, 'fallback.log')
    sayUp = join(dir, 'fake-node')
    await writeFile(sayUp, `#!/bin/sh\necho "$*" >>'${fallbackLog}'\necho "$4 up"\n`, {mode: 0o755})
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  const fallbackCalls = async () => (await readFile(fallbackLog, 'utf8').catch(() => '')).split('\n').filter(Boolean)

  for (const shell of SHELLS) {
    describe(shell.path, () => {
      it('fresh state: up exits 1; down, unknown, another role and an unlisted host exit 0; no fallback', async () => {
        await writeState(60)
        const jvb = await script('jvb', sayUp)
        const run = async (path: string, host: string) => (await runShellScript(shell, path, [host])).code
        expect(await run(jvb, '10.0.0.21')).to.equal(CHECK_SCRIPT_EXIT.up)
        expect(await run(jvb, '2001:DB8::21'), 'case of an IPv6 address').to.equal(CHECK_SCRIPT_EXIT.up)
        expect(await run(jvb, '10.0.0.22')).to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(jvb, '10.0.0.23')).to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(jvb, '10.0.0.2'), 'a prefix of a listed address').to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(jvb, '10.0.0.10'), 'prosody up there, but no jvb').to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(jvb, '10.0.0.99')).to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(jvb, '.*'), 'a pattern is not a host').to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await run(await script('prosody', sayUp), '10.0.0.10')).to.equal(CHECK_SCRIPT_EXIT.up)
        expect(await run(await script('jicofo', sayUp), '10.0.0.10')).to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await fallbackCalls()).to.deep.equal([])
      })

      it('stale, missing or foreign state: asks the fast path, and trusts only its `HOST up` line', async () => {
        const jvb = await script('jvb', sayUp)
        await writeState(-1)
        expect((await runShellScript(shell, jvb, ['10.0.0.22'])).code, 'stale: the fallback says up').to.equal(CHECK_SCRIPT_EXIT.up)
        await rm(state)
        expect((await runShellScript(shell, jvb, ['10.0.0.22'])).code, 'missing').to.equal(CHECK_SCRIPT_EXIT.up)
        await writeFile(state, 'something else 1 2\njvb 10.0.0.22 up\n')
        expect((await runShellScript(shell, jvb, ['10.0.0.22'])).code, 'foreign').to.equal(CHECK_SCRIPT_EXIT.up)
        await writeFile(state, '')
        expect((await runShellScript(shell, jvb, ['10.0.0.22'])).code, 'empty').to.equal(CHECK_SCRIPT_EXIT.up)
        expect(await fallbackCalls()).to.deep.equal(Array.from({length: 4}, () => `${BIN} probe --host 10.0.0.22 --role jvb --inventory ${join(dir, 'jproxy.yaml')}`))

        // A Node that cannot start exits 1 too: without the up line that is down.
        await writeState(-1)
        expect((await runShellScript(shell, await script('jvb', '/bin/false'), ['10.0.0.21'])).code).to.equal(CHECK_SCRIPT_EXIT.down)
        expect((await runShellScript(shell, await script('jvb', join(dir, 'absent-node')), ['10.0.0.21'])).code).to.equal(CHECK_SCRIPT_EXIT.down)
      })

      it('no host or two arguments: down, without asking anyone', async () => {
        await writeState(60)
        const jvb = await script('jvb', sayUp)
        expect((await runShellScript(shell, jvb, [])).code).to.equal(CHECK_SCRIPT_EXIT.down)
        expect((await runShellScript(shell, jvb, ['10.0.0.21', 'x'])).code).to.equal(CHECK_SCRIPT_EXIT.down)
        expect(await fallbackCalls()).to.deep.equal([])
      })
    })
  }

  describe('the fallback through jproxy itself (built CLI)', () => {
    let jvb: FakeJitsi
    let colibri: LoopbackBackend

    before(async () => {
      jvb = await startFakeJitsi()
      colibri = await startBackend('colibri', [])
    })
    after(async () => {
      await Promise.all([jvb?.close(), colibri?.close()])
    })

    it('stale state: the script probes the JVB through `jproxy probe --host` and follows its health', async () => {
      const data = smallInventory()
      const [prosodyPort] = await freePorts(1)
      data.shards[0].prosody = {address: '127.0.0.1', port: prosodyPort}
      data.shards[0].jvbs = [{address: '127.0.0.1', colibriPort: colibri.port, id: 'jvb1', restPort: jvb.port}]
      data.probe = {proxy: false}
      await writeFile(join(dir, 'jproxy.yaml'), stringify(data))
      await writeState(-1)
      const check = await script('jvb', process.execPath)
      for (const shell of SHELLS) {
        jvb.state.health = 200
        expect((await runShellScript(shell, check, ['127.0.0.1'])).code, `${shell.path}: JVB healthy`).to.equal(CHECK_SCRIPT_EXIT.up)
        jvb.state.health = 500
        expect((await runShellScript(shell, check, ['127.0.0.1'])).code, `${shell.path}: JVB unhealthy`).to.equal(CHECK_SCRIPT_EXIT.down)
      }

      expect(jvb.requests.filter((r) => r === 'GET /about/health')).to.have.length(2 * SHELLS.length)
    })
  })

  it('apply installs one executable script per role, atomically, and leaves unchanged ones alone', async () => {
    const data = smallInventory()
    data.probe = {relaydCheckDir: join(dir, 'libexec'), relaydChecks: true, stateFile: join(dir, 'state', 'probe-state.json')}
    const inventory = Inventory.parse(data)
    const runtime = {inventoryFile: '/etc/jproxy/jproxy.yaml', jproxy: BIN, node: process.execPath}
    const written = await installRelaydCheckScripts(inventory, runtime)
    expect(written).to.deep.equal(['prosody', 'jicofo', 'jvb'].map((role) => join(dir, 'libexec', `relayd-check-${role}`)))
    for (const path of written) {
      expect((await stat(path)).mode & 0o777).to.equal(0o755)
      expect(await readFile(path, 'utf8')).to.include(`state='${join(dir, 'state', 'probe-state.txt')}'`)
    }

    expect(await installRelaydCheckScripts(inventory, runtime)).to.deep.equal([])
    await chmod(written[0], 0o700)
    await writeFile(written[0], 'edited by hand')
    expect(await installRelaydCheckScripts(inventory, runtime)).to.deep.equal([written[0]])
    expect((await stat(written[0])).mode & 0o777).to.equal(0o755)
  })
})
