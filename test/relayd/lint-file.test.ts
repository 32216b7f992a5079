import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {JproxyError} from '../../src/errors.js'
import {lintRelaydFile} from '../../src/relayd/lint-file.js'
import {runCommand} from '../../src/system/command.js'
import {writeFakeRelayd} from '../support/fake-relayd.js'

const RELAY = 'relay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <t> port 80 check tcp\n}\n'

describe('linting a relayd.conf file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-lint-file-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('reads includes by the path written in the file, as relayd does', async () => {
    const tables = join(dir, 'tables.conf')
    await writeFile(tables, 'table <t> { 10.0.0.1 }\ntable <t> { 10.0.0.2 }\n')
    await writeFile(join(dir, 'relayd.conf'), `include "${tables}"\n${RELAY}`)
    const report = await lintRelaydFile({file: join(dir, 'relayd.conf'), run: runCommand})
    expect(report.ok).to.equal(false)
    expect(report.findings.map((d) => `${d.file}:${d.line}: ${d.message}`)).to.deep.equal([`${tables}:2: table t defined twice`])
  })

  it('names stdin <stdin>', async () => {
    const report = await lintRelaydFile({file: '-', run: runCommand, stdin: 'bogus\n'})
    expect(report.file).to.equal('<stdin>')
    expect(report.findings[0]).to.include({file: '<stdin>', line: 1, message: 'syntax error'})
  })

  it('refuses a file it cannot read with its own exit code', async () => {
    const error = await lintRelaydFile({file: join(dir, 'missing.conf'), run: runCommand}).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(JproxyError)
    expect(error).to.include({code: 'inputUnreadable'})
    expect((error as Error).message).to.include('missing.conf').and.include('ENOENT')
  })

  it('checks keypair files on this machine only when asked', async () => {
    const conf = join(dir, 'relayd.conf')
    await writeFile(conf, `table <t> { 10.0.0.1 }\nrelay "r" {\n\tlisten on 192.0.2.1 port 443 tls\n\tforward to <t> port 80 check tcp\n}\n`)
    expect((await lintRelaydFile({file: conf, run: runCommand})).findings).to.deep.equal([])
    const [finding] = (await lintRelaydFile({checkFiles: true, file: conf, run: runCommand})).findings
    expect(finding).to.include({line: 3, rule: 'keypair-files', severity: 'warning'})
    expect((await lintRelaydFile({checkFiles: true, file: conf, run: runCommand, strict: true})).ok).to.equal(false)
  })

  it('puts relayd -n\'s verdict beside its own and fails when relayd does', async () => {
    const conf = join(dir, 'relayd.conf')
    await writeFile(conf, `table <t> { 10.0.0.1 }\n${RELAY}`)
    const relayd = await writeFakeRelayd(dir, `${conf}:2: cannot load keypair for relay r\n`, 1)
    const report = await lintRelaydFile({file: conf, relayd, run: runCommand})
    expect(report.native).to.include({exitCode: 1, ok: false})
    expect(report.ok).to.equal(false)
    expect(report.findings).to.deep.equal([{file: conf, line: 2, message: 'cannot load keypair for relay r', rule: 'relayd -n', severity: 'error'}])
  })

  it('gives relayd a private copy of stdin and names it <stdin> in relayd\'s findings', async () => {
    const text = `table <t> { 10.0.0.1 }\n${RELAY}`
    const relayd = await writeFakeRelayd(dir, 'configuration OK\n', 0)
    const report = await lintRelaydFile({file: '-', relayd, run: runCommand, stdin: text})
    expect(report.native?.ok).to.equal(true)
    expect(await readFile(join(dir, 'relayd.input'), 'utf8')).to.equal(text)

    const failing = await writeFakeRelayd(dir, 'no actions, nothing to do\n', 1)
    const failed = await lintRelaydFile({file: '-', relayd: failing, run: runCommand, stdin: text})
    expect(failed.findings).to.deep.equal([{file: '<stdin>', line: 0, message: 'no actions, nothing to do', rule: 'relayd -n', severity: 'error'}])
  })
})
