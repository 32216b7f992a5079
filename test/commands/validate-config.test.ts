import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {parseInventory} from '../../src/inventory/load.js'
import {bareContext, hostPlatform} from '../../src/render/context.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory} from '../fixtures/inventories.js'
import {BIN, CLI_TIMEOUT_MS, runCli, runProgram} from '../support/cli.js'

describe('jproxy validate config', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-validate-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('without an inventory (no ./jproxy.yaml here, no -i) suggests jproxy init and -i FILE', async () => {
    const empty = await mkdtemp(join(dir, 'empty-'))
    const {code, stderr} = await runProgram(process.execPath, [BIN, 'validate', 'config'], {cwd: empty, env: {...process.env, JPROXY_INVENTORY: undefined}})
    expect(code).to.equal(ExitCode.inventoryUnreadable)
    expect(stderr).to.equal('jproxy: cannot read inventory ./jproxy.yaml: no such file (write one with `jproxy init`, or name the inventory with -i FILE)\n')
  })

  it("--haproxy-check names the inventory field and line behind haproxy -c's alert, not the staged file's line", async () => {
    const file = join(dir, 'missing-cert.yaml')
    const missing = join(dir, 'no-such-cert.pem')
    const text = (await readFile('examples/two-shards.yaml', 'utf8')).replace(/^(\s*(?:certificate|key):).*$/gm, `$1 ${missing}`)
    expect(text).to.include(missing)
    await writeFile(file, text)
    const line = text.split('\n').findIndex((l) => l.includes(missing)) + 1
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--haproxy-check', '--json'])
    expect(code, stdout).to.not.equal(0)
    const alerts = JSON.parse(stdout).haproxyCheck.messages.filter((m: {level: string}) => m.level === 'alert')
    const placed = alerts.find((m: {message: string}) => m.message.startsWith('proxy.tls.certificate'))
    expect(placed, JSON.stringify(alerts)).to.deep.include({file, line})
    expect(placed.message).to.match(new RegExp(`^proxy\\.tls\\.certificate \\(inventory line ${line}\\): .*${missing}.*\\(line \\d+ of the rendered file\\)$`))
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

  it('--target checks only that target: a relayd keypair inventory passes for relayd and fails for haproxy', async () => {
    const data = fullInventory()
    data.proxy.tls = {certificate: '/etc/ssl/meet.example.org.crt', key: '/etc/ssl/private/meet.example.org.key'}
    const file = join(dir, 'relayd-only.yaml')
    await writeFile(file, stringify(data))
    const relayd = await runCli(['validate', 'config', '-i', file, '--target', 'relayd', '--json'])
    expect(relayd.code).to.equal(0)
    expect(JSON.parse(relayd.stdout).targets).to.deep.equal({relayd: null})
    const all = await runCli(['validate', 'config', '-i', file, '--json'])
    expect(all.code).to.equal(ExitCode.renderFailed)
    expect(JSON.parse(all.stdout).targets.haproxy).to.match(/^proxy\.tls\.key: /)
  })

  it('--effective prints every default filled in, as YAML that loads back to the same inventory', async () => {
    const {code, stdout} = await runCli(['validate', 'config', '-i', 'examples/single-host-vmm.yaml', '--effective'])
    expect(code).to.equal(0)
    const effective = parse(stdout)
    expect(effective.health).to.deep.equal({fall: 3, interval: '5s', rise: 2, timeout: '2s'})
    expect(effective.shards[0].prosody.port).to.equal(5280)
    expect(effective.targets.haproxy.socket).to.equal('/run/haproxy/admin.sock')
    const original = parseInventory(await readFile('examples/single-host-vmm.yaml', 'utf8'), 'a.yaml')
    const again = parseInventory(stdout, 'b.yaml')
    expect(again.problems).to.deep.equal([])
    // Filled in or not, the platform's defaults render the same config here.
    for (const target of ['haproxy', 'relayd', 'pf'] as const) {
      expect(renderTarget(again.inventory!, target, bareContext(hostPlatform())), target).to.equal(renderTarget(original.inventory!, target, bareContext(hostPlatform())))
    }
  })

  it('--effective writes out the platform defaults an operator must change, as this platform has them', async () => {
    const {code, stdout} = await runCli(['validate', 'config', '-i', 'examples/two-shards.yaml', '--effective'])
    expect(code).to.equal(0)
    const effective = parse(stdout)
    // Debian's (the test machines'); OpenBSD's are /var/db/jproxy, _haproxy and /var/haproxy.
    expect(effective.targets.haproxy).to.deep.include({chroot: '/var/lib/haproxy', group: 'haproxy', output: '/etc/haproxy/haproxy.cfg', user: 'haproxy'})
    expect(effective.targets.relayd.output).to.equal('/etc/relayd.conf')
    expect(effective.apply.dir).to.equal('/var/lib/jproxy')
    expect(effective.probe.stateFile).to.equal('/var/lib/jproxy/probe/probe-state.json')
    // What the inventory sets stays as set: `false` is not a default to fill.
    const file = join(dir, 'unprivileged.yaml')
    const data = parse(await readFile('examples/two-shards.yaml', 'utf8'))
    data.targets = {haproxy: {chroot: false, output: join(dir, 'haproxy.cfg'), user: false}}
    await writeFile(file, stringify(data))
    const own = parse((await runCli(['validate', 'config', '-i', file, '--effective'])).stdout)
    expect(own.targets.haproxy).to.deep.include({chroot: false, group: 'haproxy', output: join(dir, 'haproxy.cfg'), user: false})
  })

  it('--effective keeps resolvers and every duration loadable (the full fixture round-trips)', async () => {
    const file = join(dir, 'full.yaml')
    await writeFile(file, stringify(fullInventory()))
    const {code, stdout} = await runCli(['validate', 'config', '-i', file, '--effective', '--no-haproxy-check', '--json'])
    expect(code).to.equal(0)
    const {effective} = JSON.parse(stdout)
    expect(effective.dns.internal).to.deep.equal(['10.0.0.53:53', '[2001:db8::53]:5353'])
    expect(parseInventory(stringify(effective), 'again.yaml').inventory).to.deep.equal(parseInventory(stringify(fullInventory()), 'x.yaml').inventory)
  })
})
