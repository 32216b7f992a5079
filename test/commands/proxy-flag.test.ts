import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {smallInventory} from '../fixtures/inventories.js'
import {runCli} from '../support/cli.js'

/** gen, validate config and apply with --proxy NAME: one fleet proxy's view of a shared inventory. */
describe('--proxy NAME on gen, validate config and apply', () => {
  let dir: string
  let file: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-proxy-flag-'))
    const data = smallInventory()
    data.targets = {relayd: {output: join(dir, 'shared-relayd.conf')}}
    data.apply = {dir: join(dir, 'shared')}
    data.fleet = {
      etcd: {endpoints: ['http://127.0.0.1:2379']},
      proxies: [
        {listen: {httpPort: 8080, httpsPort: 8443, ipv4: '192.0.2.11'}, name: 'a', targets: {relayd: {output: join(dir, 'a-relayd.conf')}}},
        {name: 'b'},
      ],
    }
    data.proxy.peers = [{address: '192.0.2.11', name: 'a'}, {address: '192.0.2.10', name: 'b'}]
    file = join(dir, 'fleet.yaml')
    await writeFile(file, stringify(data))
  })

  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('gen haproxy renders the named proxy\'s listen addresses and makes its name the local peer', async () => {
    const a = await runCli(['gen', 'haproxy', '-i', file, '--proxy', 'a'])
    expect(a.code, a.stderr).to.equal(0)
    expect(a.stdout).to.include('192.0.2.11:8443').and.include('localpeer a\n').and.not.include('192.0.2.10:443')
    const b = await runCli(['gen', 'haproxy', '-i', file, '--proxy', 'b'])
    expect(b.code, b.stderr).to.equal(0)
    expect(b.stdout).to.include('192.0.2.10:443').and.include('localpeer b\n')
  })

  it('gen relayd with --proxy renders that proxy\'s addresses', async () => {
    const a = await runCli(['gen', 'relayd', '-i', file, '--proxy', 'a'])
    expect(a.code, a.stderr).to.equal(0)
    expect(a.stdout).to.include('192.0.2.11').and.not.include('192.0.2.10 ')
  })

  it('a name the fleet does not list is a usage error naming the known proxies, for every command', async () => {
    for (const args of [['gen', 'haproxy'], ['validate', 'config'], ['apply', '--target', 'relayd', '--dry-run']]) {
      const run = await runCli([...args, '-i', file, '--proxy', 'c'])
      expect(run.code, args.join(' ')).to.equal(ExitCode.usage)
      expect(run.stderr, args.join(' ')).to.include('no fleet proxy named c: fleet.proxies lists a, b')
    }
  })

  it('validate config --proxy checks that proxy\'s view', async () => {
    const run = await runCli(['validate', 'config', '-i', file, '--proxy', 'a', '--effective', '--json'])
    expect(run.code, run.stdout).to.equal(0)
    const report = JSON.parse(run.stdout)
    expect(report.effective.proxy.listen).to.deep.include({httpsPort: 8443, ipv4: '192.0.2.11'})
    expect(report.effective.targets.haproxy.localPeer).to.equal('a')
  })

  it('apply --proxy --dry-run works on that proxy\'s own live file', async () => {
    const run = await runCli(['apply', '--target', 'relayd', '--dry-run', '-i', file, '--proxy', 'a', '--json'])
    const report = JSON.parse(run.stdout)
    expect(report.live).to.equal(join(dir, 'a-relayd.conf'))
    const shared = JSON.parse((await runCli(['apply', '--target', 'relayd', '--dry-run', '-i', file, '--json'])).stdout)
    expect(shared.live).to.equal(join(dir, 'shared-relayd.conf'))
  })
})
