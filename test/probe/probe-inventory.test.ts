import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {healthGate} from '../../src/apply/health-gate.js'
import {Inventory} from '../../src/inventory/schema.js'
import {probeInventory, stateReason} from '../../src/probe/probe.js'
import {formatNagios} from '../../src/report/nagios.js'
import {formatProbeTable} from '../../src/report/probe-table.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'

/** Role probes against the test's own jicofo/JVB REST servers and a web node, all on loopback. */
describe('probeInventory: role verdicts and rise/fall across runs', () => {
  let dir: string
  let web: LoopbackBackend
  let jicofo: FakeJitsi
  let jvb: FakeJitsi
  let colibri: LoopbackBackend
  let refusedPort: number

  before(async () => {
    web = await startBackend('web1', [])
    colibri = await startBackend('colibri', [])
    ;[refusedPort] = await freePorts(1)
  })
  after(async () => {
    await Promise.all([web.close(), colibri.close()])
  })
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-probe-'))
    jicofo = await startFakeJitsi()
    jvb = await startFakeJitsi()
  })
  afterEach(async () => {
    await Promise.all([jicofo.close(), jvb.close()])
    await rm(dir, {force: true, recursive: true})
  })

  function inventory(overrides: {colibriPort?: number; jvbStats?: boolean; prosodyPort?: number; webPath?: string} = {}) {
    return Inventory.parse({
      domain: 'meet.example.org',
      health: {fall: 2, rise: 2, timeout: '1s'},
      probe: {jvbStats: overrides.jvbStats ?? true, proxy: false, webPath: overrides.webPath ?? '/'},
      proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
      shards: [
        {
          jicofo: {address: '127.0.0.1', port: jicofo.port},
          jvbs: [{address: '127.0.0.1', colibriPort: overrides.colibriPort ?? colibri.port, id: 'jvb1', restPort: jvb.port}],
          name: 's1',
          prosody: {address: '127.0.0.1', port: overrides.prosodyPort ?? refusedPort},
        },
      ],
      web: [{address: '127.0.0.1', name: 'web1', port: web.port}],
    })
  }

  const byKey = async (options: Parameters<typeof probeInventory>[0]) => {
    const report = await probeInventory(options)
    return {byKey: Object.fromEntries(report.backends.map((b) => [b.key, b])), report}
  }

  it('reads a videobridge: health decides, drain and participants are reported, colibri-ws must accept', async () => {
    jvb.state.drain = true
    jvb.state.participants = 7
    const {byKey: seen} = await byKey({filter: {roles: ['jvb']}, inventory: inventory(), stateFile: null})
    expect(seen['jvb/s1/jvb1']).to.deep.include({drain: true, health: 'up', httpStatus: 200, participants: 7, state: 'up'})
    expect(seen['jvb/s1/jvb1'].checks.map((c) => c.name)).to.deep.equal(['health', 'colibri-ws'])
    expect(jvb.requests).to.have.members(['GET /about/health', 'GET /colibri/drain', 'GET /colibri/stats'])

    const closed = await byKey({filter: {roles: ['jvb']}, inventory: inventory({colibriPort: refusedPort, jvbStats: false}), stateFile: null})
    expect(closed.byKey['jvb/s1/jvb1'].health).to.equal('down')
    expect(closed.byKey['jvb/s1/jvb1'].reason).to.equal(`colibri-ws: port ${refusedPort}: connection refused`)
    expect(closed.byKey['jvb/s1/jvb1'].participants, 'stats are only read with probe.jvbStats').to.equal(undefined)
    expect(jvb.requests.filter((r) => r === 'GET /colibri/stats')).to.have.length(1)
  })

  it('tells jicofo up (200), transitional (503) and down (anything else)', async () => {
    const verdicts: string[] = []
    for (const status of [200, 503, 500]) {
      jicofo.state.health = status
      const {byKey: seen} = await byKey({filter: {roles: ['jicofo']}, inventory: inventory(), stateFile: null})
      verdicts.push(`${status} ${seen['jicofo/s1'].health}`)
    }

    expect(verdicts).to.deep.equal(['200 up', '503 transitional', '500 down'])
  })

  it('asks web nodes for probe.webPath and prosody at its port', async () => {
    const seen: SeenRequest[] = []
    const recording = await startBackend('web2', seen)
    try {
      const inv = inventory({webPath: '/config.js'})
      inv.web[0].port = recording.port
      const {byKey: result} = await byKey({filter: {roles: ['web', 'prosody']}, inventory: inv, stateFile: null})
      expect(seen.map((r) => r.url)).to.deep.equal(['/config.js'])
      expect(result['web/web1'].state).to.equal('up')
      expect(result['prosody/s1'].reason).to.equal('bosh: connection refused; websocket: connection refused')
    } finally {
      await recording.close()
    }
  })

  it('flips a backend down only after fall failed runs and up after rise good ones, one line per flip', async () => {
    const stateFile = join(dir, 'state.json')
    const run = () => probeInventory({filter: {roles: ['jvb']}, inventory: inventory(), stateFile})
    const seen: string[] = []
    const flips: string[] = []
    for (const health of [200, 500, 500, 500, 200, 200, 200]) {
      jvb.state.health = health
      const report = await run()
      seen.push(report.backends[0].state)
      flips.push(...report.flips)
    }

    expect(seen).to.deep.equal(['up', 'up', 'down', 'down', 'down', 'up', 'up'])
    expect(flips).to.deep.equal([
      `jvb/s1/jvb1 (127.0.0.1:${jvb.port}) is DOWN after 2 failed probe(s): health: HTTP 500, expected 200`,
      `jvb/s1/jvb1 (127.0.0.1:${jvb.port}) is UP after 2 good probe(s)`,
    ])
    const saved = JSON.parse(await readFile(stateFile, 'utf8'))
    expect(saved.backends['jvb/s1/jvb1']).to.include({failures: 0, state: 'up', successes: 3})
  })

  it('says what a damped state waits for, never "down" beside an HTTP 200 alone: table, Nagios and the apply gate', async () => {
    const stateFile = join(dir, 'state.json')
    const inv = inventory()
    const reasons: string[] = []
    let recovering: Awaited<ReturnType<typeof probeInventory>> | undefined
    for (const health of [200, 500, 500, 200, 200]) {
      jicofo.state.health = health
      const report = await probeInventory({filter: {roles: ['jicofo']}, inventory: inv, stateFile})
      const [backend] = report.backends
      reasons.push(`${backend.state} (${stateReason(backend)})`)
      if (backend.state === 'down' && backend.health === 'up') recovering = report
    }

    expect(reasons).to.deep.equal([
      'up (health HTTP 200)',
      'up (1 of 2 failed checks before going down; last check: health: HTTP 500, expected 200)',
      'down (health: HTTP 500, expected 200)',
      'down (1 of 2 good checks needed to come back up; last check: health HTTP 200)',
      'up (health HTTP 200)',
    ])
    const row = formatProbeTable(recovering!).split('\n')[1]
    expect(row).to.match(/^DOWN \(recovering\) {2}jicofo\/s1 .* 1 of 2 good checks needed to come back up; last check: health HTTP 200$/)
    expect(formatNagios(recovering!).text.split('\n')[1]).to.equal(
      `jicofo/s1 (127.0.0.1:${jicofo.port}) DOWN: 1 of 2 good checks needed to come back up; last check: health HTTP 200`,
    )
    expect(healthGate(inv, recovering!).warnings).to.deep.equal([
      "jicofo/s1 down (1 of 2 good checks needed to come back up; last check: health HTTP 200): kept in the config; the proxy's health checks keep it out of rotation",
    ])
  })

  it('reports a backend seen down on its first run as a change', async () => {
    const report = await probeInventory({filter: {roles: ['prosody']}, inventory: inventory(), stateFile: join(dir, 'state.json')})
    expect(report.backends[0].state).to.equal('down')
    expect(report.flips).to.have.length(1)
    expect(report.flips[0]).to.match(/^prosody\/s1 \(127\.0\.0\.1:\d+\) is DOWN after 1 failed probe\(s\): bosh: connection refused/)
  })

  it('keeps the state file whole when runs overlap', async () => {
    const stateFile = join(dir, 'state.json')
    const reports = await Promise.all(Array.from({length: 10}, () => probeInventory({filter: {roles: ['web', 'jvb', 'jicofo']}, inventory: inventory(), stateFile})))
    expect(reports.every((r) => r.warnings.length === 0)).to.equal(true)
    const saved = JSON.parse(await readFile(stateFile, 'utf8'))
    expect(Object.keys(saved.backends).sort()).to.deep.equal(['jicofo/s1', 'jvb/s1/jvb1', 'web/web1'])
    for (const backend of Object.values<{successes: number}>(saved.backends)) expect(backend.successes).to.equal(10)
  })

  it('falls back to undamped verdicts, with a warning, when the state file cannot be written', async () => {
    const notAFolder = join(dir, 'plain-file')
    await writeFile(notAFolder, '')
    const report = await probeInventory({filter: {roles: ['web']}, inventory: inventory(), stateFile: join(notAFolder, 'state.json')})
    expect(report.backends[0].state).to.equal('up')
    expect(report.warnings).to.have.length(1)
    expect(report.warnings[0]).to.include(join(notAFolder, 'state.json')).and.include('not damped')
  })
})
