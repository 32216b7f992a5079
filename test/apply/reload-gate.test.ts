import {expect} from 'chai'
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {applyTarget} from '../../src/apply/apply.js'
import {reloadHaproxy} from '../../src/apply/haproxy-reload.js'
import {awaitHandover, awaitReloadable, reloadHazards, snapshotRooms} from '../../src/apply/reload-gate.js'
import {ExitCode} from '../../src/errors.js'
import {parseShowPeers} from '../../src/haproxy/peers.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {Inventory} from '../../src/inventory/schema.js'
import {runCommand} from '../../src/system/command.js'
import {type Stage, startStage, withWeb2, workers} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {fillRooms, roomCount} from '../support/room-table.js'
import {waitFor} from '../support/wait.js'

const ROOMS = 10_000
const stop = async (stage?: Stage) => {
  await stage?.haproxy.stop()
  await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('reload gate: the room table across HAProxy reloads (real HAProxy 2.6 on loopback)', function () {
  this.timeout(300_000)
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-reload-gate-'))
  })
  after(() => rm(root, {force: true, recursive: true}))

  it('reloadHazards: a remote peer not connected; an unfinished resync only when there are rooms to hand over', () => {
    const section = {name: 'jproxy', peers: [{address: '127.0.0.1:1', connected: false, name: 'b', status: 'CONN'}], resync: {local: true, remote: false}}
    expect(reloadHazards(section, 0)).to.deep.equal(['peer b (127.0.0.1:1) is not connected (last status CONN)'])
    expect(reloadHazards({...section, peers: []}, 3)[0]).to.match(/^HAProxy is still in its start-up resync from the remote peers/)
    expect(reloadHazards({...section, peers: [], resync: {local: false, remote: true}}, 3)[0]).to.match(/^the table handover from the previous worker has not finished/)
    expect(reloadHazards({...section, peers: [], resync: {local: true, remote: true}}, 3)).to.deep.equal([])
    expect(reloadHazards(undefined, 3), 'no peers section: no table survives a reload anyway').to.deep.equal([])
  })

  describe('one proxy, 10,000 rooms', () => {
    let stage: Stage
    let timeoutMs: number
    beforeEach(async () => {
      stage = await startStage(await mkdtemp(join(root, 'single-')))
      timeoutMs = Inventory.parse(stage.data).apply.reloadTimeout
      await fillRooms(stage.socket, ROOMS, [1, 2, 3])
    })
    afterEach(() => stop(stage))

    /** One reload as apply makes it: gate, dump, reload through the master CLI, then the new worker's table. */
    const gatedReload = async () => {
      const gate = await awaitReloadable(stage.socket, timeoutMs)
      expect(gate.ok, gate.problems.join('; ')).to.equal(true)
      const before = await snapshotRooms(stage.socket, timeoutMs)
      const reload = await reloadHaproxy({masterSocket: stage.masterSocket, run: runCommand, statsSocket: stage.socket, timeoutMs})
      expect(reload.ok, reload.detail).to.equal(true)
      const handover = await awaitHandover({before: before!, masterSocket: stage.masterSocket, statsSocket: stage.socket, timeoutMs, worker: reload.workerAfter})
      return {before: before!, gate, handover, reload}
    }

    it('50 reloads 200 ms apart: each waits until show peers says the handover is over, and no room is lost', async () => {
      for (let i = 0; i < 50; i++) {
        const {before, gate, handover} = await gatedReload()
        // The gate let this reload through only on a read that said both resyncs were over.
        expect(gate.resync, `reload ${i}`).to.deep.equal({local: true, remote: true})
        expect(gate.rooms, `reload ${i}`).to.equal(ROOMS)
        expect(before.entries, `reload ${i}`).to.have.length(ROOMS)
        expect(handover, `reload ${i}`).to.deep.include({expected: ROOMS, lost: 0, missingSampled: 0, ok: true, sampled: 64})
        await sleep(200)
      }

      expect(await roomCount(stage.socket)).to.equal(ROOMS)
    })

    it('apply reports the handover; an apply whose reload loses the table (local peer port changed) exits 12 with the rooms lost', async () => {
      const ca = await readFile(stage.pem, 'utf8')
      const first = await applyTarget({inventory: Inventory.parse(withWeb2(stage)), run: runCommand, target: 'haproxy', tlsCa: ca})
      expect(first.outcome, first.message).to.equal('applied')
      expect(first.roomTable?.gate).to.deep.include({ok: true, rooms: ROOMS})
      expect(first.roomTable?.handover).to.deep.include({expected: ROOMS, lost: 0, ok: true})
      expect(await roomCount(stage.socket)).to.equal(ROOMS)

      // The old worker pushes its table to the local peer address of its own config, where the new worker no longer listens.
      const moved = withWeb2(stage)
      moved.targets.haproxy.localPeerPort = (await freePorts(1))[0]
      moved.apply.reloadTimeout = '5s'
      const report = await applyTarget({inventory: Inventory.parse(moved), run: runCommand, target: 'haproxy', tlsCa: ca})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.rolledBack, outcome: 'rolled-back'})
      expect(report.roomTable?.handover).to.deep.include({expected: ROOMS, held: 0, lost: ROOMS, ok: false})
      expect(report.message).to.match(/^the reload failed \(10000 of the old worker's 10000 rooms lost: the new worker's table held 0 \d+ ms after the reload; 64 of 64 sampled keys missing \(HAProxy's handover of the room table did not complete\)\); \S+haproxy\.lkg restored, reloaded and verified$/)
      expect(report.rollback?.verified).to.equal(true)
      expect(await readFile(stage.live, 'utf8')).to.equal(await readFile(join(stage.data.apply.dir, 'haproxy.lkg'), 'utf8'))
    })
  })

  describe('two peered proxies, one of them down', () => {
    const stages: Stage[] = []
    before(async () => {
      const ports = await freePorts(2)
      const peers = ['a', 'b'].map((name, i) => ({address: '127.0.0.1', name, port: ports[i]}))
      for (const name of ['a', 'b']) {
        stages.push(
          await startStage(await mkdtemp(join(root, `${name}-`)), (data) => {
            data.proxy.peers = peers
            data.targets.haproxy.localPeer = name
          }),
        )
      }
    })
    after(() => Promise.all(stages.map((s) => stop(s))))

    it('apply refuses (11) naming the peer that is down, after waiting apply.reloadTimeout, and touches nothing; --force reloads anyway', async () => {
      const [a, b] = stages
      const connected = (text: string) => parseShowPeers(text)[0]?.peers[0]?.connected === true
      // HAProxy's peer reconnect timeout is 5 s.
      await waitFor('a linked to b', () => socketCommand(a.socket, 'show peers'), connected, {timeoutMs: 30_000})
      await fillRooms(a.socket, 100)
      await b.haproxy.stop()
      // b gone, and a's own resync from its peers over (it gives up on b within 5 s): the peer is then the one thing missing.
      const settled = (t: string) => !connected(t) && parseShowPeers(t)[0]?.resync.remote === true
      await waitFor('a to see b gone, its resync over', () => socketCommand(a.socket, 'show peers'), settled, {timeoutMs: 30_000})

      const live = await readFile(a.live, 'utf8')
      const before = await workers(a)
      const data = withWeb2(a)
      data.apply.reloadTimeout = '2s'
      const ca = await readFile(a.pem, 'utf8')
      const report = await applyTarget({inventory: Inventory.parse(data), run: runCommand, target: 'haproxy', tlsCa: ca})
      expect(report, report.message).to.deep.include({exitCode: ExitCode.refused, outcome: 'refused'})
      expect(report.message, report.message).to.match(/^a reload now would lose rooms: peer b \(127\.0\.0\.1:\d+\) is not connected \(last status \w+\); waited \d+ ms \(apply\.reloadTimeout\); nothing was installed \(--force reloads anyway; a peer gone for good is removed from proxy\.peers\)$/)
      expect(report.roomTable?.gate.waitedMs).to.be.at.least(1500)
      expect(report.reload).to.equal(undefined)
      expect(await readFile(a.live, 'utf8')).to.equal(live)
      expect(await workers(a)).to.deep.equal(before)
      expect(await readdir(join(a.data.apply.dir, 'backups', 'haproxy')).catch(() => [])).to.deep.equal([])

      const forced = await applyTarget({force: true, inventory: Inventory.parse(data), run: runCommand, target: 'haproxy', tlsCa: ca})
      expect(forced.outcome, forced.message).to.equal('applied')
      expect(forced.warnings.join('\n')).to.match(/FORCED past the room-table gate: peer b \(127\.0\.0\.1:\d+\) is not connected/)
      expect(forced.roomTable?.handover).to.deep.include({expected: 100, lost: 0, ok: true})
    })
  })
})
