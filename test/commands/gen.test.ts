import {expect} from 'chai'
import {existsSync, lstatSync} from 'node:fs'
import {mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {fullInventory} from '../fixtures/inventories.js'
import {runCommand} from '../../src/system/command.js'
import {BIN, CLI_TIMEOUT_MS, runCli} from '../support/cli.js'

describe('jproxy gen', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-cli-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('gen haproxy prints the config for a shipped example on stdout', async () => {
    const {code, stdout} = await runCli(['gen', 'haproxy', '-i', 'examples/two-shards.yaml'])
    expect(code).to.equal(0)
    expect(stdout).to.equal(await readFile('test/fixtures/golden/two-shards.haproxy.cfg', 'utf8'))
  })

  it('gen never reads stdin: a run given more than a pipe holds ends once, with the config', async () => {
    // The write fails with EPIPE when gen exits; heard by runCli, it is no uncaught error failing this test.
    const {code, stdout} = await runCli(['gen', 'haproxy', '-i', 'examples/two-shards.yaml'], {}, 'x'.repeat(4 * 1024 * 1024))
    expect(code).to.equal(0)
    expect(stdout).to.equal(await readFile('test/fixtures/golden/two-shards.haproxy.cfg', 'utf8'))
  })

  it('gen relayd reads the inventory named by JPROXY_INVENTORY', async () => {
    const {code, stdout} = await runCli(['gen', 'relayd'], {JPROXY_INVENTORY: 'examples/single-host-vmm.yaml'})
    expect(code).to.equal(0)
    expect(stdout).to.equal(await readFile('test/fixtures/golden/single-host-vmm.relayd.conf', 'utf8'))
  })

  it('gen --out --json writes the file and reports it', async () => {
    const out = join(dir, 'relayd.conf')
    const {code, stdout} = await runCli(['gen', 'relayd', '-i', 'examples/two-shards.yaml', '--out', out, '--json'])
    expect(code).to.equal(0)
    const report = JSON.parse(stdout)
    expect(report).to.deep.include({out, target: 'relayd'})
    expect(report.bytes).to.equal((await readFile(out)).length)
  })

  it('exits with the inventory code, names the field and writes nothing for a hostile value', async () => {
    const data = fullInventory()
    data.web[0].name = 'web1 }\nfrontend evil'
    const inventory = join(dir, 'hostile.yaml')
    await writeFile(inventory, stringify(data))
    const out = join(dir, 'hostile.cfg')
    const {code, stderr, stdout} = await runCli(['gen', 'haproxy', '-i', inventory, '--out', out])
    expect(code).to.equal(ExitCode.inventoryInvalid)
    expect(stderr).to.match(/hostile\.yaml:\d+: web\[0\]\.name: must not contain control characters/)
    expect(stdout).to.equal('')
    expect(existsSync(out)).to.equal(false)
  })

  it('keeps the exit code under --json', async () => {
    const {code, stdout} = await runCli(['gen', 'haproxy', '-i', join(dir, 'absent.yaml'), '--json'])
    expect(code).to.equal(ExitCode.inventoryUnreadable)
    expect(JSON.parse(stdout).error).to.deep.include({code: 'inventoryUnreadable', exitCode: ExitCode.inventoryUnreadable})
  })

  it('says which file is missing', async () => {
    const {code, stderr} = await runCli(['gen', 'relayd', '-i', join(dir, 'absent.yaml')])
    expect(code).to.equal(ExitCode.inventoryUnreadable)
    const absent = join(dir, 'absent.yaml')
    expect(stderr).to.equal(`jproxy: cannot read inventory ${absent}: no such file (write one with \`jproxy init -i ${absent}\`, or name the inventory with -i FILE)\n`)
  })

  it('refuses --out onto the inventory being read (also through a symlink) and an empty --out as usage errors', async function () {
    this.timeout(3 * CLI_TIMEOUT_MS + 5000)
    const inventory = join(dir, 'inv.yaml')
    const text = await readFile('examples/two-shards.yaml', 'utf8')
    await writeFile(inventory, text)
    await symlink(inventory, join(dir, 'inv-link.yaml'))
    for (const out of [inventory, join(dir, 'inv-link.yaml')]) {
      const {code, stderr} = await runCli(['gen', 'haproxy', '-i', inventory, '-o', out])
      expect(code, out).to.equal(ExitCode.usage)
      expect(stderr).to.equal(`jproxy: ${out} is the inventory being read; write the config to another file\n`)
    }

    expect(await readFile(inventory, 'utf8')).to.equal(text)
    const empty = await runCli(['gen', 'haproxy', '-i', inventory, '--out', ''])
    expect(empty.code).to.equal(ExitCode.usage)
    expect(empty.stderr).to.equal('jproxy: an output path must not be empty\n')
  })

  it('writes through a device: /dev/stdout gets the config, /dev/full exits writeFailed naming the path', async function () {
    this.timeout(2 * CLI_TIMEOUT_MS + 5000)
    // A shell pipe, as an admin types it (node's own child stdio is a socket, which is refused).
    const stdout = await runCommand(['sh', '-c', `"${process.execPath}" "${BIN}" gen haproxy -i examples/two-shards.yaml -o /dev/stdout | cat`], {timeoutMs: CLI_TIMEOUT_MS})
    expect(stdout.code, stdout.stderr).to.equal(0)
    expect(stdout.stdout).to.equal(await readFile('test/fixtures/golden/two-shards.haproxy.cfg', 'utf8'))
    const full = await runCli(['gen', 'haproxy', '-i', 'examples/two-shards.yaml', '-o', '/dev/full'])
    expect(full.code).to.equal(ExitCode.writeFailed)
    expect(full.stderr).to.match(/^jproxy: cannot write \/dev\/full: ENOSPC/)
    expect(lstatSync('/dev/full').isCharacterDevice()).to.equal(true)
  })
})
