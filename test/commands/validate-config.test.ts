import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {fullInventory} from '../fixtures/inventories.js'
import {CLI_TIMEOUT_MS, runCli} from '../support/cli.js'

describe('jproxy validate config', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-validate-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('accepts a shipped example and says what it describes', async () => {
    const {code, stdout} = await runCli(['validate', 'config', '-i', 'examples/two-shards.yaml'])
    expect(code).to.equal(0)
    expect(stdout).to.include('examples/two-shards.yaml: valid: 2 web node(s), 2 shard(s), 6 videobridge(s)')
  })

  it('lists every problem as FILE:LINE: path: message and exits non-zero', async () => {
    const data = fullInventory()
    data.shards[1].jvbs[0].address = '10.0.0.1; rm -rf /'
    data.proxy.tls.key = 'relative.key'
    const file = join(dir, 'bad.yaml')
    await writeFile(file, stringify(data))
    const {code, stdout} = await runCli(['validate', 'config', '-i', file])
    expect(code).to.equal(ExitCode.inventoryInvalid)
    expect(stdout).to.match(new RegExp(`^${file}:\\d+: proxy\\.tls\\.key: must be an absolute path$`, 'm'))
    expect(stdout).to.match(new RegExp(`^${file}:\\d+: shards\\[1\\]\\.jvbs\\[0\\]\\.address: must be an IP address or a hostname$`, 'm'))
  })

  it('reports rule violations and unrenderable targets in --json with the exit code', async () => {
    const data = fullInventory()
    data.shards[1].jvbs[0].id = 'jvb1'
    const file = join(dir, 'dup.yaml')
    await writeFile(file, stringify(data))
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(code).to.equal(ExitCode.inventoryInvalid)
    const report = JSON.parse(stdout)
    expect(report.ok).to.equal(false)
    expect(report.problems).to.deep.equal([{line: report.problems[0].line, message: 'server-id jvb1 is already used by shards[0].jvbs[0].id', path: 'shards[1].jvbs[0].id'}])
  })

  it('text that is not YAML exits inventoryUnreadable (3) with the YAML message, line and column; gen agrees', async function () {
    this.timeout(2 * CLI_TIMEOUT_MS + 5000)
    const file = join(dir, 'tabs.yaml')
    await writeFile(file, 'domain: meet.example.org\nweb:\n\t- {name: web1, address: 10.0.0.2}\n')
    const {code, stdout} = await runCli(['validate', 'config', '-i', file])
    expect(code).to.equal(ExitCode.inventoryUnreadable)
    expect(stdout).to.equal(`${file}:3: YAML: Tabs are not allowed as indentation at line 3, column 1:\n\nweb:\n\t- {name: web1, address: 10.0.0.2}\n^\n`)
    const gen = await runCli(['gen', 'haproxy', '-i', file])
    expect(gen.code).to.equal(ExitCode.inventoryUnreadable)
    expect(gen.stderr).to.equal(`jproxy: ${stdout}`)
  })

  it('fails a valid inventory that a target cannot express', async () => {
    const data = fullInventory()
    data.web[1].port = 8080
    const file = join(dir, 'ports.yaml')
    await writeFile(file, stringify(data))
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(code).to.equal(ExitCode.renderFailed)
    const report = JSON.parse(stdout)
    expect(report.targets.haproxy).to.equal(null)
    expect(report.targets.relayd).to.match(/^web\[\*\]\.port: /)
  })
})
