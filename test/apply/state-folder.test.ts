import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {applyPaths} from '../../src/apply/paths.js'
import {appendHistory, updateCounters} from '../../src/apply/record.js'
import {ExitCode, JproxyError} from '../../src/errors.js'
import {Inventory} from '../../src/inventory/schema.js'
import {updateStateFile} from '../../src/probe/state.js'
import {ensurePrivateDir, writePrivate} from '../../src/system/private-files.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'
import {type Stage, startStage, withWeb2, writeInventory} from '../support/haproxy-stage.js'

const VICTIM_TEXT = 'root:x:0:0:root:/root:/bin/sh\n'
const ENTRY = {at: '2026-01-01T00:00:00.000Z', changed: true, durationMs: 1, exitCode: 0, message: 'm', outcome: 'applied', reloads: 1, sha256: 'x', target: 'haproxy'}

async function refusal(work: Promise<unknown>): Promise<JproxyError> {
  const error = await work.then(
    () => expect.fail('the write was not refused'),
    (error_: unknown) => error_,
  )
  expect(error).to.be.instanceOf(JproxyError)
  return error as JproxyError
}

function jproxy(args: string[]): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {env: {...process.env, JPROXY_INVENTORY: undefined}, timeout: CLI_TIMEOUT_MS}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: stdout + stderr})
    })
  })
}

describe("root's state folder: no writes through planted links, no folder another user may write", function () {
  this.timeout(4 * CLI_TIMEOUT_MS)
  let dir: string
  let state: string
  let victim: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-state-folder-'))
    state = join(dir, 'jproxy')
    await mkdir(state)
    // A root-owned file elsewhere: what a planted link would make root overwrite or append to.
    victim = join(dir, 'victim')
    await writeFile(victim, VICTIM_TEXT, {mode: 0o644})
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('the history append, the counters, the probe state and every private write refuse a symbolic link and leave its target alone', async () => {
    const plant = async (name: string) => {
      await symlink(victim, join(state, name))
      return join(state, name)
    }

    const history = await plant('apply-history.jsonl')
    expect((await refusal(appendHistory(history, ENTRY))).message).to.include(`${history} is a symbolic link`)
    const counters = await plant('apply-haproxy.json')
    expect((await refusal(updateCounters(counters, {at: new Date(), reloads: 1, success: true}))).code).to.equal('writeFailed')
    const pending = await plant('apply-haproxy.pending')
    await refusal(writePrivate(pending, 'abc\n'))
    const probeState = await plant('probe-state.json')
    await refusal(updateStateFile(probeState, () => {}, (s) => ({result: undefined, state: s})))
    expect(await readFile(victim, 'utf8')).to.equal(VICTIM_TEXT)
    for (const link of [history, counters, pending, probeState]) expect((await lstat(link)).isSymbolicLink(), link).to.equal(true)
  })

  it('refuses a state folder another user owns, or that group or others may write, naming it and the fix', async () => {
    await chown(state, 65_534, 65_534)
    const owned = await refusal(appendHistory(join(state, 'apply-history.jsonl'), ENTRY))
    expect(owned.code).to.equal('refused')
    expect(owned.message).to.include(`${state} (apply.dir) is owned by uid 65534`).and.include(`chown root ${state} && chmod 755 ${state}`)
    await chown(state, 0, 0)
    await chmod(state, 0o777)
    expect((await refusal(ensurePrivateDir(state))).message).to.include('may be written by its group (mode 777)')
    await chmod(state, 0o757)
    expect((await refusal(ensurePrivateDir(state))).message).to.include('may be written by others (mode 757)')
    await chmod(state, 0o755)
    await ensurePrivateDir(state)
    await appendHistory(join(state, 'apply-history.jsonl'), ENTRY)
    expect((await stat(join(state, 'apply-history.jsonl'))).mode & 0o777).to.equal(0o600)
  })

  describe('apply on real HAProxy', () => {
    let stage: Stage
    beforeEach(async () => {
      stage = await startStage(dir)
    })
    afterEach(async () => {
      await stage?.haproxy.stop()
      await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    })

    it('refuses a planted pending marker before installing, a planted history after, and a folder another user owns before anything', async () => {
      const file = await writeInventory(stage, 'change', withWeb2(stage))
      const paths = applyPaths(Inventory.parse(stage.data), 'haproxy')
      const live = await readFile(stage.live, 'utf8')
      await symlink(victim, paths.pending)
      const pending = await jproxy(['apply', 'haproxy', '-i', file, '--ca', stage.pem])
      expect(pending.code, pending.output).to.equal(ExitCode.writeFailed)
      expect(pending.output).to.include(`${paths.pending} is a symbolic link`)
      expect(await readFile(stage.live, 'utf8'), 'nothing installed').to.equal(live)
      expect(await readFile(victim, 'utf8')).to.equal(VICTIM_TEXT)
      await rm(paths.pending)

      await symlink(victim, paths.history)
      const history = await jproxy(['apply', 'haproxy', '-i', file, '--ca', stage.pem])
      expect(history.code, history.output).to.equal(ExitCode.writeFailed)
      expect(history.output).to.include(`${paths.history} is a symbolic link`)
      expect(await readFile(victim, 'utf8')).to.equal(VICTIM_TEXT)
      await rm(paths.history)

      await chown(dirname(paths.lock), 65_534, 65_534)
      const owned = await jproxy(['apply', 'haproxy', '-i', await writeInventory(stage, 'back', stage.data), '--ca', stage.pem])
      expect(owned.code, owned.output).to.equal(ExitCode.refused)
      expect(owned.output).to.include(`${dirname(paths.lock)} (apply.dir) is owned by uid 65534`)
      expect(await readFile(stage.live, 'utf8'), 'the change of the run before stays').to.not.equal(live)
    })
  })
})
