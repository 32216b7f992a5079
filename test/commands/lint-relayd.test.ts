import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtemp, open, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {smallInventory} from '../fixtures/inventories.js'
import {BIN, CLI_TIMEOUT_MS, runCli} from '../support/cli.js'
import {writeFakeRelayd} from '../support/fake-relayd.js'

const GOLDEN = 'test/fixtures/golden/two-shards.relayd.conf'
// PATH without any relayd, so the machine running the tests does not change the verdict.
const NO_RELAYD = {PATH: '/usr/bin:/bin'}

describe('jproxy lint relayd', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-lint-cli-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('passes a rendered config, saying so on stderr', async () => {
    const {code, stderr, stdout} = await runCli(['lint', 'relayd', GOLDEN, '--strict'], NO_RELAYD)
    expect(code).to.equal(0)
    expect(stdout).to.equal('')
    expect(stderr).to.include(`${GOLDEN}: 0 error(s), 0 warning(s)`)
  })

  it('prints FILE:LINE: message per finding and exits with checkFailed', async () => {
    const file = join(dir, 'broken.conf')
    await writeFile(file, 'table <t> { 10.0.0.1 }\nrelay "r" {\n\tlisten on 127.0.0.1 port 8080\n\tforward to <nope> port 80\n}\nprotocol "spare"\n')
    const {code, stdout} = await runCli(['lint', 'relayd', file], NO_RELAYD)
    expect(code).to.equal(ExitCode.checkFailed)
    expect(stdout.split('\n')).to.include.members([`${file}:4: unknown table nope`, `${file}:6: warning: unused protocol: spare [unused-protocol]`])
  })

  it('reads stdin for -, and --strict turns Jitsi warnings into errors', async () => {
    const text = (await readFile(GOLDEN, 'utf8')).replaceAll(/mode hash "[^"]*"/g, 'mode hash')
    const lenient = await runCli(['lint', 'relayd', '-'], NO_RELAYD, text)
    expect(lenient.code).to.equal(0)
    expect(lenient.stdout).to.match(/^<stdin>:\d+: warning: mode hash without a fixed key.*\[hash-key\]$/m)
    const strict = await runCli(['lint', 'relayd', '-', '--strict'], NO_RELAYD, text)
    expect(strict.code).to.equal(ExitCode.checkFailed)
    expect(strict.stdout).to.match(/^<stdin>:\d+: mode hash without a fixed key.*\[hash-key\]$/m)
  })

  it('--json prints [{file, line, severity, message, rule}] and keeps the exit code', async () => {
    const {code, stdout} = await runCli(['lint', 'relayd', '-', '--json'], NO_RELAYD, 'bogus\n')
    expect(code).to.equal(ExitCode.checkFailed)
    const findings = JSON.parse(stdout) as unknown[]
    expect(findings).to.deep.equal([
      {file: '<stdin>', line: 1, message: 'syntax error', rule: 'syntax', severity: 'error'},
      {file: '<stdin>', line: 0, message: 'no actions, nothing to do', rule: 'semantic', severity: 'error'},
    ])
    expect(JSON.parse((await runCli(['lint', 'relayd', GOLDEN, '--json'], NO_RELAYD)).stdout)).to.deep.equal([])
  })

  it('lints the inventory\'s relayd output path by default', async () => {
    const conf = join(dir, 'live-relayd.conf')
    await writeFile(conf, 'bogus\n')
    const inventory = join(dir, 'jproxy.yaml')
    const data = smallInventory()
    data.targets = {relayd: {output: conf}}
    await writeFile(inventory, stringify(data))
    const {code, stdout} = await runCli(['lint', 'relayd', '-i', inventory], NO_RELAYD)
    expect(code).to.equal(ExitCode.checkFailed)
    expect(stdout).to.include(`${conf}:1: syntax error`)
  })

  it('says which file it cannot read', async () => {
    const {code, stderr} = await runCli(['lint', 'relayd', join(dir, 'nope.conf')], NO_RELAYD)
    expect(code).to.equal(ExitCode.inputUnreadable)
    expect(stderr).to.include('nope.conf')
  })

  it('runs relayd -n when relayd is on PATH and reports its verdict beside its own', async () => {
    const bin = await mkdtemp(join(dir, 'bin-'))
    await writeFakeRelayd(bin, `${GOLDEN}:1: need root privileges\n`, 1)
    const {code, stderr, stdout} = await runCli(['lint', 'relayd', GOLDEN], {PATH: `${bin}:/usr/bin:/bin`})
    expect(code).to.equal(ExitCode.checkFailed)
    expect(stdout).to.include(`${GOLDEN}:1: need root privileges [relayd -n]`)
    expect(stderr).to.include('relayd -n: exit 1')
    expect(await readFile(join(bin, 'relayd.args'), 'utf8')).to.equal(`-n\n-f\n${GOLDEN}\n`)

    const skipped = await runCli(['lint', 'relayd', GOLDEN, '--no-native'], {PATH: `${bin}:/usr/bin:/bin`})
    expect(skipped.code).to.equal(0)
  })

  it('a file whose first token is a lexer error gets relayd\'s message at its line and exit 6, also under --json', async function () {
    this.timeout(2 * CLI_TIMEOUT_MS + 5000)
    const file = join(dir, 'first-token.conf')
    await writeFile(file, '$ext_addr = "192.0.2.1"\n')
    const {code, stdout} = await runCli(['lint', 'relayd', file], NO_RELAYD)
    expect(code).to.equal(ExitCode.checkFailed)
    expect(stdout).to.include(`${file}:1: macro 'ext_addr' not defined`)
    const json = await runCli(['lint', 'relayd', file, '--json'], NO_RELAYD)
    expect(json.code).to.equal(ExitCode.checkFailed)
    expect(JSON.parse(json.stdout)).to.deep.include({file, line: 1, message: "macro 'ext_addr' not defined", rule: 'syntax', severity: 'error'})
  })

  it('a directory on stdin is unreadable (9), not an empty config', async () => {
    const directory = await open(dir, 'r')
    try {
      const child = spawn(process.execPath, [BIN, 'lint', 'relayd', '-', '--no-native'], {env: {...process.env, ...NO_RELAYD}, stdio: [directory.fd, 'pipe', 'pipe']})
      let stderr = ''
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const [code] = (await once(child, 'close')) as [number]
      expect(code).to.equal(ExitCode.inputUnreadable)
      expect(stderr).to.equal('jproxy: cannot read <stdin>: EISDIR\n')
    } finally {
      await directory.close()
    }
  })
})
