import {expect} from 'chai'
import {closeSync, openSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {JproxyError} from '../../src/errors.js'
import {lintRelaydFile, readRelaydStdin} from '../../src/relayd/lint-file.js'
import {RELAYD_INPUT_LIMITS} from '../../src/relayd/parser.js'
import {runCommand} from '../../src/system/command.js'
import {writeFakeRelayd} from '../support/fake-relayd.js'

const TABLE = 'table <t> { 10.0.0.1 }\n'
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

  it('reads only regular files as includes, and follows a self-include on disk only to the depth bound', async () => {
    const fifo = join(dir, 'fifo.conf')
    await runCommand(['mkfifo', fifo])
    const self = join(dir, 'self.conf')
    await writeFile(self, `include "${self}"\n`)
    await writeFile(join(dir, 'relayd.conf'), `include "/dev/zero"\ninclude "${fifo}"\ninclude "${self}"\ninclude "${dir}"\n${TABLE}${RELAY}`)
    const report = await lintRelaydFile({file: join(dir, 'relayd.conf'), run: runCommand})
    expect(report.ok).to.equal(false)
    expect(report.findings.map((d) => `${d.file}:${d.line}: ${d.message}`)).to.deep.equal([
      `${join(dir, 'relayd.conf')}:1: failed to include file /dev/zero (not a regular file)`,
      `${join(dir, 'relayd.conf')}:2: failed to include file ${fifo} (not a regular file)`,
      `${join(dir, 'relayd.conf')}:4: failed to include file ${dir} (not a regular file)`,
      `${self}:1: failed to include file ${self} (includes nested more than ${RELAYD_INPUT_LIMITS.includeDepth} deep)`,
    ])
  })

  it('a file to lint past the size bound, or a directory on stdin, is unreadable (inputUnreadable)', async () => {
    const tooLarge = await lintRelaydFile({file: '/dev/zero', run: runCommand}).catch((error_: unknown) => error_)
    expect(tooLarge).to.be.instanceOf(JproxyError).and.include({code: 'inputUnreadable'})
    expect((tooLarge as Error).message).to.equal('cannot read /dev/zero: larger than 4 MiB')
    const directory = openSync(dir, 'r')
    try {
      const error = await readRelaydStdin(directory).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(JproxyError).and.include({code: 'inputUnreadable'})
      expect((error as Error).message).to.equal('cannot read <stdin>: EISDIR')
    } finally {
      closeSync(directory)
    }
  })
})
