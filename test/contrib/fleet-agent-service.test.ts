import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import type {EtcdClient} from '../../src/etcd/client.js'
import {type FleetKeys, fleetClient} from '../../src/fleet/rollout.js'
import {Inventory} from '../../src/inventory/schema.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {fleetInventory} from '../support/fleet-inventory.js'
import {rcAction, runTool, stubRcScript, verifyUnit} from '../support/units.js'
import {waitFor} from '../support/wait.js'

const UNIT = 'contrib/systemd/jproxy-fleet-agent.service'
const RC_D = 'contrib/rc.d/jproxy_fleet_agent'

describe('the fleet agent service files under contrib/', function () {
  this.timeout(4 * CLI_TIMEOUT_MS)

  it('the systemd unit passes systemd-analyze verify without a word', async () => {
    expect(await verifyUnit(UNIT)).to.deep.equal({code: 0, output: ''})
  })

  it('the systemd unit runs the agent as root (apply needs it), restarts it on failure', async () => {
    const unit = await readFile(UNIT, 'utf8')
    expect(unit).to.match(/^ExecStart=\/usr\/local\/bin\/jproxy fleet agent -i \/etc\/jproxy\/jproxy\.yaml --name %H$/m)
    expect(unit).to.match(/^Restart=on-failure$/m)
    expect(unit).not.to.match(/^User=/m)
  })

  it('the OpenBSD rc.d script is valid sh for ksh-like shells and starts the agent in the background as root', async () => {
    expect(await runTool('mksh', ['-n', RC_D], 'mksh')).to.deep.equal({code: 0, output: ''})
    const script = await readFile(RC_D, 'utf8')
    expect(script).to.match(/^daemon_flags="\/usr\/local\/bin\/jproxy fleet agent -i \/etc\/jproxy\/jproxy\.yaml --name \$\(hostname\)"$/m)
    expect(script).not.to.match(/^daemon_user=/m)
    expect(script).to.match(/^rc_bg=YES$/m)
    expect(script).to.match(/^rc_cmd \$1$/m)
  })

  describe('under mksh with a stub rc.subr, against a real etcd', () => {
    let dir: string
    let etcd: EtcdProcess
    let client: EtcdClient
    let keys: FleetKeys
    let script: string
    let flags: string
    const log = () => join(dir, 'daemon.log')
    const rc = (action: string) => rcAction(script, action, {flags, log: log()})

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jproxy-rc-d-agent-'))
      etcd = await startEtcd()
      const data = fleetInventory(dir, etcd.endpoint)
      ;({client, keys} = await fleetClient(Inventory.parse(data)))
      const inventory = join(dir, 'jproxy.yaml')
      await writeFile(inventory, stringify(data))
      script = await stubRcScript(RC_D, dir)
      // A long lease: the key gone right after stop was revoked by the agent, not expired.
      flags = `${BIN} fleet agent -i ${inventory} --name a --interval 1s --lease-ttl 60`
    })

    after(async () => {
      await rc('stop')
      await client?.close()
      await etcd?.stop()
      await rm(dir, {force: true, recursive: true})
    })

    it('start runs the agent (it reports to etcd), check sees it, stop ends it and its lease', async () => {
      expect(await rc('start')).to.deep.equal({code: 0, output: '(ok)\n'})
      const daemonLog = () => readFile(log(), 'utf8').catch(() => '')
      await waitFor('the agent to report to etcd', async () => (await client.range(keys.agent('a'))).kvs.length, (n) => n === 1, {timeoutMs: CLI_TIMEOUT_MS})
      expect(await rc('check')).to.deep.equal({code: 0, output: '(ok)\n'})
      expect(await rc('stop')).to.deep.equal({code: 0, output: '(ok)\n'})
      expect(await rc('check')).to.deep.equal({code: 1, output: '(failed)\n'})
      expect((await client.range(keys.agent('a'))).kvs, await daemonLog()).to.deep.equal([])
      expect(await daemonLog()).to.match(/jproxy fleet agent a: stopped\n$/)
    })
  })
})
