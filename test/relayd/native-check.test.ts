import {expect} from 'chai'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {relaydNativeCheck} from '../../src/relayd/native-check.js'
import {runCommand} from '../../src/system/command.js'
import {writeFakeRelayd} from '../support/fake-relayd.js'

describe('relayd -n hand-off', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-native-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('runs relayd -n -f FILE and takes "configuration OK" with exit 0 as a pass', async () => {
    const relayd = await writeFakeRelayd(dir, 'configuration OK\n', 0)
    const verdict = await relaydNativeCheck(relayd, '/etc/relayd.conf', runCommand)
    expect(verdict).to.deep.equal({command: [relayd, '-n', '-f', '/etc/relayd.conf'], exitCode: 0, findings: [], ok: true})
    expect(await readFile(join(dir, 'relayd.args'), 'utf8')).to.equal('-n\n-f\n/etc/relayd.conf\n')
  })

  it('turns placed and unplaced lines into findings, warnings kept apart', async () => {
    const stderr = 'relayd.conf:12: syntax error\ninc.conf:3: no such protocol: meet\nwarning: unused protocol: spare\nno actions, nothing to do\n'
    const verdict = await relaydNativeCheck(await writeFakeRelayd(dir, stderr, 1), 'relayd.conf', runCommand)
    expect(verdict.ok).to.equal(false)
    expect(verdict.exitCode).to.equal(1)
    expect(verdict.findings.map((d) => [d.file, d.line, d.severity, d.message, d.rule])).to.deep.equal([
      ['relayd.conf', 12, 'error', 'syntax error', 'relayd -n'],
      ['inc.conf', 3, 'error', 'no such protocol: meet', 'relayd -n'],
      ['relayd.conf', 0, 'warning', 'unused protocol: spare', 'relayd -n'],
      ['relayd.conf', 0, 'error', 'no actions, nothing to do', 'relayd -n'],
    ])
  })

  it('reports a silent failure as an error naming the exit code', async () => {
    const verdict = await relaydNativeCheck(await writeFakeRelayd(dir, '', 2), 'relayd.conf', runCommand)
    expect(verdict.findings).to.deep.equal([{file: 'relayd.conf', line: 0, message: 'relayd -n exited with 2', rule: 'relayd -n', severity: 'error'}])
  })
})
