import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {EtcdClient} from '../../src/etcd/client.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'
import {startEtcd, type EtcdProcess} from '../support/etcd-process.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {fleetInventory} from '../support/fleet-inventory.js'
import {freePorts} from '../support/loopback-backends.js'
import {rcAction, runTool, stubRcScript, verifyUnit} from '../support/units.js'
import {waitFor} from '../support/wait.js'

const UNIT = 'contrib/systemd/jproxy-jvb-announce.service'
const RC_D = 'contrib/rc.d/jproxy_jvb_announce'
const KEY = '/jproxy/meet.example.org/jvbs/s1/jvb7'

describe('the bridge announcer service files under contrib/', function () {
  this.timeout(4 * CLI_TIMEOUT_MS)

  it('the systemd unit passes systemd-analyze verify without a word', async () => {
    expect(await verifyUnit(UNIT)).to.deep.equal({code: 0, output: ''})
  })

  it('the systemd unit takes the bridge from its environment file, runs unprivileged, waits out the drain', async () => {
    const unit = await readFile(UNIT, 'utf8')
    const command = '/usr/local/bin/jproxy jvb announce -i /etc/jproxy/jproxy.yaml --shard ${JVB_SHARD} --id ${JVB_ID} --address ${JVB_ADDRESS}'
    expect(unit.split('\n')).to.include(`ExecStart=${command}`)
    expect(unit).to.match(/^EnvironmentFile=\/etc\/default\/jproxy-jvb-announce$/m)
    expect(unit).to.match(/^User=jproxy$/m)
    expect(unit).to.match(/^Restart=on-failure$/m)
    // Longer than the default --deadline (15 min), or systemd kills it mid-drain.
    expect(unit).to.match(/^TimeoutStopSec=16min$/m)
    expect(unit).to.match(/^After=.*jitsi-videobridge2\.service/m)
  })

  it('the OpenBSD rc.d script is valid sh for ksh-like shells, starts it in the background as _jproxy, waits out the drain', async () => {
    expect(await runTool('mksh', ['-n', RC_D], 'mksh')).to.deep.equal({code: 0, output: ''})
    const script = await readFile(RC_D, 'utf8')
    expect(script).to.match(/^daemon_flags="\/usr\/local\/bin\/jproxy jvb announce -i \/etc\/jproxy\/jproxy\.yaml --shard SHARD --id ID --address ADDRESS"$/m)
    expect(script).to.match(/^daemon_user="_jproxy"$/m)
    expect(script).to.match(/^daemon_timeout=960$/m)
    expect(script).to.match(/^rc_bg=YES$/m)
    expect(script).to.match(/^rc_cmd \$1$/m)
  })

  describe('under mksh with a stub rc.subr, against a real etcd and a fake bridge', () => {
    let dir: string
    let etcd: EtcdProcess
    let client: EtcdClient
    let bridge: FakeJitsi
    let script: string
    let flags: string
    const user = userInfo().username
    const log = () => join(dir, 'daemon.log')
    const rc = (action: string, own = flags) => rcAction(script, action, {flags: own, log: log(), user})

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jproxy-rc-d-announce-'))
      etcd = await startEtcd()
      client = new EtcdClient({endpoints: [etcd.endpoint], timeoutMs: 2000})
      bridge = await startFakeJitsi()
      const inventory = join(dir, 'jproxy.yaml')
      await writeFile(inventory, stringify(fleetInventory(dir, etcd.endpoint)))
      script = await stubRcScript(RC_D, dir)
      const [colibri] = await freePorts(1)
      // A long lease: the key gone right after stop was revoked by the announcer, not expired.
      flags = `${BIN} jvb announce -i ${inventory} --shard s1 --id jvb7 --address 127.0.0.1 --rest-port ${bridge.port} --colibri-port ${colibri} --ttl 60s`
    })

    after(async () => {
      await rc('stop')
      await client?.close()
      await bridge?.close()
      await etcd?.stop()
      await rm(dir, {force: true, recursive: true})
    })

    it('start refuses while the flags still hold the placeholders, naming what to set', async () => {
      const start = await rc('start', '')
      expect(start.code).to.equal(1)
      expect(start.output).to.match(/set this bridge's --shard, --id and --address first/)
    })

    it('start runs it (the key appears), check sees it, stop drains the bridge and revokes the key', async () => {
      expect(await rc('start')).to.deep.equal({code: 0, output: '(ok)\n'})
      const daemonLog = () => readFile(log(), 'utf8').catch(() => '')
      await waitFor('the key', async () => (await client.range(KEY)).kvs.length, (n) => n === 1, {timeoutMs: CLI_TIMEOUT_MS})
      expect(await rc('check')).to.deep.equal({code: 0, output: '(ok)\n'})
      expect(await rc('stop')).to.deep.equal({code: 0, output: '(ok)\n'})
      expect(await rc('check')).to.deep.equal({code: 1, output: '(failed)\n'})
      expect(bridge.requests).to.include('POST /colibri/drain/enable')
      expect((await client.range(KEY)).kvs, await daemonLog()).to.deep.equal([])
      expect(await daemonLog()).to.match(/jproxy jvb announce s1\/jvb7: drained: no participants left\njproxy jvb announce s1\/jvb7: stopped\n$/)
    })
  })
})
