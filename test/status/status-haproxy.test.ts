import {expect} from 'chai'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {probeInventory} from '../../src/probe/probe.js'
import {runCommand} from '../../src/system/command.js'
import {formatStatus} from '../../src/report/status.js'
import {proxyStatus} from '../../src/status/status.js'
import {pollUntil} from '../../src/system/poll.js'
import {type Stage, startStage, withWeb2} from '../support/haproxy-stage.js'

describe('status: the running HAProxy beside the last probe', function () {
  this.timeout(60_000)
  let dir: string
  let stage: Stage

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-status-'))
    stage = await startStage(dir)
  })
  after(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  it('lists every backend with both views and names each disagreement', async () => {
    const inventory = Inventory.parse(stage.data)
    const status = () => proxyStatus({inventory: Inventory.parse(withWeb2(stage)), run: runCommand, target: 'haproxy'})

    // Before any probe: the proxy's view alone.
    const unprobed = await status()
    expect(unprobed.rows.find((r) => r.key === 'web/web1')).to.deep.include({agree: null, note: 'no probe state: run jproxy probe', probe: 'never probed', proxy: 'UP'})
    // web2 is in the inventory but not in the running config.
    expect(unprobed.rows.find((r) => r.key === 'web/web2')).to.deep.include({note: 'not in the running proxy: apply the inventory', proxy: 'absent'})

    await probeInventory({filter: {roles: ['web', 'prosody', 'jicofo', 'jvb']}, inventory, stateFile: inventory.probe.stateFile})
    await socketCommand(stage.socket, 'set server be_colibri/jvb1 state drain')
    // The probe found web1 up; now it stops answering and HAProxy takes it out.
    await stage.backends.get('web1')!.close()
    // HAProxy checks every health.interval (fall 1): wait, bounded by three intervals, until it has seen it.
    const web1 = (report: Awaited<ReturnType<typeof status>>) => report.rows.find((r) => r.key === 'web/web1')!
    const timeoutMs = 3 * inventory.health.interval * inventory.health.fall
    await pollUntil(status, (report) => !web1(report).proxy.startsWith('UP'), {intervalMs: 100, timeoutMs})

    const report = await status()
    const row = (key: string) => report.rows.find((r) => r.key === key)!
    expect(row('web/web1')).to.deep.include({agree: false, note: 'the probe finds it up, the proxy keeps traffic away', probe: 'up'})
    expect(row('web/web1').proxy).to.match(/^DOWN/)
    expect(row('prosody/s1')).to.deep.include({agree: true, probe: 'up', proxy: 'UP'})
    expect(row('jvb/s1/jvb1')).to.deep.include({agree: true, note: 'set by an admin', probe: 'up', proxy: 'DRAIN'})
    expect(report.warnings).to.deep.equal([])
    // HAProxy checks its backends itself: the relayd watcher (probe --watch) is not its business.
    expect(report).to.not.have.property('watcher')
    expect(formatStatus(report)).to.not.match(/watcher|probe --watch/)
  })
})
