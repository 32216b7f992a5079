import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ExitCode} from '../../src/errors.js'
import {editShardState} from '../../src/inventory/edit.js'
import {runCli} from '../support/cli.js'

describe('jproxy scale and gen pf (CLI)', function () {
  this.timeout(60_000)
  let dir: string
  let file: string
  let original: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-scale-cli-'))
    file = join(dir, 'inventory.yaml')
    original = await readFile('examples/two-shards.yaml', 'utf8')
    await writeFile(file, original)
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('rejects hostile ids and addresses before anything changes, naming the field', async () => {
    const cases: Array<[string[], string]> = [
      [['jvb4;reboot', '--address', '10.0.0.4', '--shard', 'shard-eu1'], 'id: "jvb4;reboot" must be'],
      [['jvb4', '--address', '10.0.0.4\n      evil: true', '--shard', 'shard-eu1'], 'address: "10.0.0.4\n      evil: true" must be an IP address or a hostname'],
      [['jvb4', '--address', '10.0.0.4', '--media-address', '$(reboot)', '--shard', 'shard-eu1'], 'media address: "$(reboot)" must be'],
      [['jvb4', '--address', '10.0.0.4'], 'the inventory has 2 shards: say which with --shard'],
      [['eu2-jvb1', '--address', '10.0.0.4', '--shard', 'shard-eu1'], 'would make the inventory invalid'],
    ]
    for (const [args, message] of cases) {
      const run = await runCli(['scale', 'add-jvb', ...args, '-i', file])
      expect(run.code, run.stderr).to.be.oneOf([ExitCode.usage, ExitCode.inventoryInvalid])
      expect(run.stderr).to.include(message)
      expect(await readFile(file, 'utf8')).to.equal(original)
    }
  })

  it('remove-jvb and drain-jvb name a bridge that is not there', async () => {
    for (const command of ['remove-jvb', 'drain-jvb', 'undrain-jvb']) {
      const run = await runCli(['scale', command, 'nope', '-i', file])
      expect(run.code, command).to.equal(ExitCode.usage)
      expect(run.stderr).to.include('no videobridge "nope" in the inventory')
    }

    expect(await readFile(file, 'utf8')).to.equal(original)
  })

  it('a shard state that is a YAML alias: exit 16 saying so and how to write the file out, which then edits', async () => {
    const text = original.replace('  - name: shard-eu1\n', '  - name: shard-eu1\n    state: &drained drain\n').replace('  - name: shard-eu2\n', '  - name: shard-eu2\n    state: *drained\n')
    const aliased = join(dir, 'aliased.yaml')
    await writeFile(aliased, text)
    // relayd: the edit comes before any relayctl, so nothing runs.
    const run = await runCli(['scale', 'undrain-shard', 'shard-eu2', '--target', 'relayd', '-i', aliased])
    expect(run.code, run.stderr).to.equal(ExitCode.inventoryNotEditable)
    expect(run.stderr).to.match(/shards\[1\]\.state \(line \d+\) is an alias \(\*drained\) of a part used elsewhere too, so jproxy cannot change it in place and nothing changed/)
    expect(run.stderr).to.include('jproxy validate config --effective -i FILE')
    expect(await readFile(aliased, 'utf8')).to.equal(text)
    const written = await runCli(['validate', 'config', '--effective', '-i', aliased])
    expect(written.code, written.stderr).to.equal(ExitCode.ok)
    const undrained = editShardState(written.stdout, 'shard-eu2', 'ready')
    expect(undrained.inventory.shards.map((s) => [s.name, s.state])).to.deep.equal([['shard-eu1', 'drain'], ['shard-eu2', 'ready']])
  })

  it('gen pf renders the anchor with one media redirect per bridge; pfctl is not on this machine, so nothing else checks it', async () => {
    const run = await runCli(['gen', 'pf', '-i', file])
    expect(run.code, run.stderr).to.equal(ExitCode.ok)
    expect(run.stdout.match(/^pass in on egress inet proto udp to \S+ port 10000 rdr-to \S+ port 10000 {3}# \S+ media$/gm)).to.have.length(6)
    expect(run.stdout).to.include('pass proto tcp from { $jicofo $jvb } to $xmpp port 5222')
    const out = join(dir, 'pf.jproxy.conf')
    const written = await runCli(['gen', 'pf', '-i', file, '--out', out])
    expect(written.code).to.equal(ExitCode.ok)
    expect(await readFile(out, 'utf8')).to.equal(run.stdout)
  })
})
