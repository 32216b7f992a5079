import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {colibriServerState} from '../../src/haproxy/colibri-runtime.js'
import {ADMIN_DRAIN} from '../../src/haproxy/vocabulary.js'
import {COLIBRI_BACKEND} from '../../src/haproxy/vocabulary.js'
import {parseShowStat, type StatRow} from '../../src/haproxy/runtime.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {addBridge, drainBridge, removeBridge} from '../../src/scale/scale.js'
import {runCommand} from '../../src/system/command.js'
import {type Stage, openWebsocket, reloadToNewWorker, startStage, workers, writeInventory} from '../support/haproxy-stage.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

describe('scale on real HAProxy: videobridges added, drained and removed at run time', function () {
  this.timeout(120_000)
  let dir: string
  let stage: Stage
  let rest: FakeJitsi
  let colibri: LoopbackBackend
  let file: string
  let original: string
  let ca: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-scale-'))
    stage = await startStage(dir)
    rest = await startFakeJitsi()
    colibri = await startBackend('jvb4-colibri', stage.seen)
    file = await writeInventory(stage, 'inventory', stage.data)
    original = await readFile(file, 'utf8')
    ca = await readFile(stage.pem, 'utf8')
  })
  afterEach(async () => {
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? []), rest, colibri].map((b) => b?.close()))
    await rm(dir, {force: true, recursive: true})
  })

  const jvb4 = () => ({address: '127.0.0.1', colibriPort: colibri.port, id: 'jvb4', restPort: rest.port})
  const base = () => ({file, run: runCommand, target: 'haproxy' as const, tlsCa: ca})

  it('keeps a jvb1 websocket open through add, drain (--wait) and remove of jvb4, with no reload; the inventory ends as it began', async () => {
    const ws1 = await openWebsocket(stage, '/colibri-ws/jvb1/conference/endpoint?pwd=x')
    expect(ws1).to.deep.include({backend: 'jvb1-colibri', status: 101})
    const before = await workers(stage)

    const added = await addBridge({...base(), jvb: jvb4()})
    expect(added.exitCode, added.message).to.equal(ExitCode.ok)
    expect(added.apply!.reload).to.deep.include({method: 'runtime API', ok: true})
    expect(added.bridgeConfig).to.include('server-id = "jvb4"').and.include(`domain = "meet.example.org:${stage.data.proxy.listen.httpsPort}"`).and.include('muc_nickname = "jvb4"')
    expect(added.pfRule).to.include('jvb4 has no media address')
    // The route works at once, and the file says the same for the next reload.
    const ws4 = await openWebsocket(stage, '/colibri-ws/jvb4/conference/endpoint?pwd=x')
    expect(ws4).to.deep.include({backend: 'jvb4-colibri', status: 101})
    expect(await readFile(stage.live, 'utf8')).to.match(/^\s+server jvb4 127\.0\.0\.1:\d+ check/m)
    expect(await readFile(file, 'utf8')).to.include('id: jvb4')

    // Drain: participants go 2, 1, 0 while --wait polls, one step after each of its reads.
    const statsReads = async () => rest.requests.filter((r) => r === 'GET /colibri/stats').length
    rest.state.participants = 2
    const emptying = (async () => {
      for (const participants of [1, 0]) {
        const before = await statsReads()
        await waitFor('a read by drain --wait', statsReads, (n) => n > before, {intervalMs: 20, timeoutMs: 10_000})
        rest.state.participants = participants
      }
    })()
    const drained = await drainBridge({...base(), id: 'jvb4', requestTimeoutMs: 2000, wait: {intervalMs: 100, timeoutMs: 10_000}})
    await emptying
    expect(drained.exitCode, drained.message).to.equal(ExitCode.ok)
    expect(drained.message).to.match(/^jvb4 drained: no participants left after \d+ s$/)
    expect(rest.requests).to.include('POST /colibri/drain/enable')
    expect(rest.requests.filter((r) => r === 'GET /colibri/stats').length).to.be.at.least(3)
    expect((await colibriServerState(stage.socket, 'jvb4'))!.admin & ADMIN_DRAIN, 'HAProxy drain flag').to.equal(ADMIN_DRAIN)
    // A running conference on the drained bridge still gets its new participants' websockets.
    const late = await openWebsocket(stage, '/colibri-ws/jvb4/conference/late?pwd=x')
    expect(late.status).to.equal(101)
    ws4.socket.destroy()
    late.socket.destroy()
    // Removed once HAProxy has let go of both websockets: it deletes no server with connections.
    const ofJvb4 = (row: StatRow) => row.proxy === COLIBRI_BACKEND && row.server === 'jvb4'
    const sessions = async () => parseShowStat(await socketCommand(stage.socket, 'show stat')).find(ofJvb4)?.sessions
    await waitFor("jvb4's websockets to close in HAProxy", sessions, (n) => n === 0, {timeoutMs: 10_000})

    const removed = await removeBridge({...base(), id: 'jvb4', requestTimeoutMs: 2000})
    expect(removed.exitCode, removed.message).to.equal(ExitCode.ok)
    expect(await colibriServerState(stage.socket, 'jvb4')).to.equal(undefined)
    const gone = await openWebsocket(stage, '/colibri-ws/jvb4/conference/endpoint?pwd=x')
    expect(gone.status).to.equal(404)
    gone.socket.destroy()

    expect(await workers(stage), 'no reload happened').to.deep.equal(before)
    expect(ws1.closed(), 'the jvb1 websocket is still open').to.equal(false)
    expect(ws1.socket.write('still here')).to.equal(true)
    expect(await readFile(file, 'utf8')).to.equal(original)
    ws1.socket.destroy()
  })

  it('a JSON inventory and a flow-style YAML one: add-jvb and remove-jvb change the bridge\'s entry and nothing else, at run time', async () => {
    const data = JSON.parse(JSON.stringify(stage.data)) as {shards: Array<{jvbs: Array<Record<string, unknown>>}>}
    const withJvb4 = structuredClone(data)
    withJvb4.shards[0].jvbs.push({id: 'jvb4', address: '127.0.0.1', restPort: rest.port, colibriPort: colibri.port})
    const before = await workers(stage)
    const layouts: Array<[string, string, string | undefined]> = [
      ['inventory.json', `${JSON.stringify(data, null, 2)}\n`, `${JSON.stringify(withJvb4, null, 2)}\n`],
      ['inventory-flow.yaml', stringify(data, {collectionStyle: 'flow'}), undefined],
    ]
    for (const [name, text, addedText] of layouts) {
      const path = join(dir, name)
      await writeFile(path, text)
      const added = await addBridge({...base(), file: path, jvb: jvb4()})
      expect(added.exitCode, `${name}: ${added.message}`).to.equal(ExitCode.ok)
      const after = await readFile(path, 'utf8')
      expect(parse(after), name).to.deep.equal(withJvb4)
      if (addedText) expect(after, name).to.equal(addedText)
      const ws = await openWebsocket(stage, '/colibri-ws/jvb4/conference/endpoint?pwd=x')
      expect(ws, name).to.deep.include({backend: 'jvb4-colibri', status: 101})
      ws.socket.destroy()
      const removed = await removeBridge({...base(), file: path, id: 'jvb4', requestTimeoutMs: 2000})
      expect(removed.exitCode, `${name}: ${removed.message}`).to.equal(ExitCode.ok)
      expect(await readFile(path, 'utf8'), name).to.equal(text)
      expect(await colibriServerState(stage.socket, 'jvb4'), name).to.equal(undefined)
    }

    expect(await workers(stage), 'no reload happened').to.deep.equal(before)
  })

  it('a bridge added at run time is still there after a later reload, because the file has it', async () => {
    expect((await addBridge({...base(), jvb: jvb4()})).exitCode).to.equal(ExitCode.ok)
    await reloadToNewWorker(stage)
    expect(await colibriServerState(stage.socket, 'jvb4')).to.not.equal(undefined)
    const ws = await openWebsocket(stage, '/colibri-ws/jvb4/c/e?pwd=x')
    expect(ws).to.deep.include({backend: 'jvb4-colibri', status: 101})
    ws.socket.destroy()
  })

  it('when HAProxy refuses the runtime change, exits 14 and leaves the inventory, the live file and the proxy as they were', async () => {
    // A server of that name already runs (added by hand, not in the inventory): `add server` refuses.
    await socketCommand(stage.socket, `add server be_colibri/jvb4 127.0.0.1:${colibri.port}`)
    const live = await readFile(stage.live, 'utf8')
    const before = await workers(stage)
    const report = await addBridge({...base(), jvb: jvb4()})
    expect(report.exitCode, report.message).to.equal(ExitCode.runtimeFailed)
    expect(report.message).to.match(/^jvb4 not added \(the inventory is as it was\): the runtime API refused the change \("add server be_colibri\/jvb4 .*": .*\); the live file is untouched$/)
    expect(await readFile(file, 'utf8')).to.equal(original)
    expect(await readFile(stage.live, 'utf8')).to.equal(live)
    expect(await workers(stage)).to.deep.equal(before)
    expect(await colibriServerState(stage.socket, 'jvb4'), 'the hand-added server is still there').to.not.equal(undefined)
  })

  it('refuses a bridge that is down, and removing one with participants, changing nothing', async () => {
    await rest.close()
    const before = await workers(stage)
    const refused = await addBridge({...base(), jvb: jvb4()})
    expect(refused.exitCode).to.equal(ExitCode.refused)
    expect(refused.message).to.match(/^jvb4 is not up \(/)
    expect(await readFile(file, 'utf8')).to.equal(original)
    expect(await colibriServerState(stage.socket, 'jvb4')).to.equal(undefined)

    const busy = await startFakeJitsi({participants: 7})
    const data = structuredClone(stage.data)
    data.shards[0].jvbs[0].restPort = busy.port
    const busyFile = await writeInventory(stage, 'busy', data)
    const kept = await readFile(busyFile, 'utf8')
    try {
      const report = await removeBridge({...base(), file: busyFile, id: 'jvb1', requestTimeoutMs: 2000})
      expect(report).to.deep.include({exitCode: ExitCode.refused, participants: 7})
      expect(report.message).to.include('it has 7 participants; drain it first')
      expect(await readFile(busyFile, 'utf8')).to.equal(kept)
      expect(await colibriServerState(stage.socket, 'jvb1')).to.not.equal(undefined)
    } finally {
      await busy.close()
    }

    expect(await workers(stage)).to.deep.equal(before)
  })
})
