import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {CHECK_SCRIPT_EXIT} from '../../src/probe/check-host.js'
import {relaydCheckScript} from '../../src/probe/relayd-check-script.js'
import {readProbeState} from '../../src/probe/state.js'
import {parseVerdicts, type Verdicts, verdictsFile} from '../../src/probe/verdicts.js'
import {watchProbes, type WatchRound} from '../../src/probe/watch.js'
import {BIN} from '../support/cli.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {type RawServer, startHostile} from '../support/hostile-servers.js'
import {freePorts, type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {type ProsodyProcess, startProsody} from '../support/prosody-process.js'
import {runShellScript, SHELLS} from '../support/shell.js'
import {waitFor} from '../support/wait.js'

const DOMAIN = 'meet.example.org'

const readVerdicts = async (file: string): Promise<undefined | Verdicts> => parseVerdicts(await readFile(file, 'utf8').catch(() => ''))
const table = (verdicts?: Verdicts) => Object.fromEntries((verdicts?.hosts ?? []).map((h) => [`${h.role} ${h.address}`, h.verdict]))

/**
 * The watcher against real prosody, fake jicofo/JVB REST servers and a videobridge whose REST
 * port accepts connections and never answers, all on loopback.
 */
describe('probe --watch', function () {
  this.timeout(90_000)
  let dir: string
  let prosody: ProsodyProcess
  let jicofo: FakeJitsi
  let jvb: FakeJitsi
  let web: LoopbackBackend
  let colibri: LoopbackBackend
  let hanging: RawServer
  let data: Record<string, any>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-watch-'))
    const [prosodyPort, hangingColibri] = await freePorts(2)
    prosody = await startProsody(dir, prosodyPort, DOMAIN)
    jicofo = await startFakeJitsi()
    // The healthy bridge lives on 127.0.0.2, so its verdict line is its own.
    jvb = await startFakeJitsi({}, '127.0.0.2')
    colibri = await startBackend('colibri', [], '127.0.0.2')
    web = await startBackend('web1', [])
    hanging = await startHostile('silent')
    data = {
      domain: DOMAIN,
      health: {fall: 1, interval: '2s', rise: 1, timeout: '500ms'},
      probe: {proxy: false, stateFile: join(dir, 'state', 'probe-state.json')},
      proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
      shards: [
        {
          jicofo: {address: '127.0.0.1', port: jicofo.port},
          jvbs: [
            {address: '127.0.0.2', colibriPort: colibri.port, id: 'jvb1', restPort: jvb.port},
            {address: '127.0.0.1', colibriPort: hangingColibri, id: 'jvb-hung', restPort: hanging.port},
          ],
          name: 's1',
          prosody: {address: '127.0.0.1', port: prosodyPort},
        },
      ],
      web: [{address: '127.0.0.1', name: 'web1', port: web.port}],
    }
  })

  after(async () => {
    await Promise.all([prosody?.stop(), jicofo?.close(), jvb?.close(), colibri?.close(), web?.close(), hanging?.close()])
    await rm(dir, {force: true, recursive: true})
  })

  it('rewrites the verdicts every interval; the hanging bridge costs its timeout, never the others their verdicts', async () => {
    const inventory = Inventory.parse(data)
    const text = verdictsFile(inventory.probe.stateFile!)
    const rounds: Array<WatchRound & {startedAt: number; verdicts?: Verdicts}> = []
    let startedAt = performance.now()
    const log: string[] = []
    await watchProbes({
      inventory: async () => inventory,
      log: (line) => log.push(line),
      async onRound(round) {
        rounds.push({...round, startedAt, verdicts: await readVerdicts(text)})
        startedAt = performance.now() + Math.max(0, inventory.health.interval - round.durationMs)
      },
      rounds: 3,
      signal: new AbortController().signal,
    })

    expect(rounds).to.have.length(3)
    for (const round of rounds) {
      expect(table(round.verdicts)).to.deep.equal({
        'jicofo 127.0.0.1': 'up',
        'jvb 127.0.0.1': 'down',
        'jvb 127.0.0.2': 'up',
        'prosody 127.0.0.1': 'up',
        'web 127.0.0.1': 'up',
      })
      // The silent bridge is cut at health.timeout; the round ends well inside its interval.
      expect(round.durationMs).to.be.below(inventory.health.interval)
      expect(round.verdicts!.expires.getTime() - round.verdicts!.written.getTime()).to.equal(3 * inventory.health.interval)
    }

    const written = rounds.map((r) => r.verdicts!.written.getTime())
    expect(written[1]).to.be.above(written[0])
    expect(written[2]).to.be.above(written[1])
    expect(log.filter((l) => l.includes('jvb/s1/jvb-hung') && l.includes('DOWN'))).to.have.length(1)
    const state = await readProbeState(inventory.probe.stateFile!, () => {})
    expect(state.backends['jvb/s1/jvb1']).to.include({state: 'up', successes: 3})
    expect(state.backends['jvb/s1/jvb-hung']).to.include({failures: 3, state: 'down'})
  })

  it('a state folder it cannot write is logged once and survived; the next good round writes again', async () => {
    const inventory = Inventory.parse({...data, probe: {...data.probe, stateFile: join(dir, 'blocked', 'probe-state.json')}})
    const text = verdictsFile(inventory.probe.stateFile!)
    // A non-empty folder where the verdicts file goes: renaming over it fails.
    await mkdir(join(text, 'in-the-way'), {recursive: true})
    const log: string[] = []
    const seen: boolean[] = []
    await watchProbes({
      intervalMs: 0,
      inventory: async () => inventory,
      log: (line) => log.push(line),
      async onRound(round) {
        seen.push((await readVerdicts(text)) !== undefined)
        if (round.round === 3) await rm(text, {force: true, recursive: true})
      },
      rounds: 5,
      signal: new AbortController().signal,
    })
    expect(seen).to.deep.equal([false, false, false, true, true])
    expect(log.filter((l) => l.includes(`cannot write ${text}`))).to.have.length(1)
    expect(log.filter((l) => l.includes('written again'))).to.have.length(1)
  })

  describe('as a service (built CLI)', () => {
    let child: ChildProcess | undefined
    let stderr = ''
    const inventoryFile = () => join(dir, 'cli.yaml')
    const cliState = () => join(dir, 'cli-state', 'probe-state.json')

    const startWatcher = async () => {
      await writeFile(inventoryFile(), stringify({...data, probe: {...data.probe, stateFile: cliState()}}))
      stderr = ''
      const started = spawn(process.execPath, [BIN, 'probe', '--watch', '-i', inventoryFile()], {env: {...process.env, JPROXY_CACHE_DIR: dir}, stdio: ['ignore', 'ignore', 'pipe']})
      started.stderr.on('data', (chunk) => (stderr += chunk))
      child = started
      return started
    }

    const exited = (process: ChildProcess) => new Promise<number | null>((resolve) => (process.exitCode === null && process.signalCode === null ? process.once('exit', (code) => resolve(code)) : resolve(process.exitCode)))

    afterEach(() => {
      child?.kill('SIGKILL')
    })

    it('SIGTERM stops it after the round in progress, leaving complete state files', async () => {
      const watcher = await startWatcher()
      const interval = Inventory.parse(data).health.interval
      const first = () => readVerdicts(verdictsFile(cliState()))
      await waitFor('the first verdicts', first, (found) => found !== undefined, {intervalMs: 50, timeoutMs: 20_000})
      watcher.kill('SIGTERM')
      const code = await Promise.race([exited(watcher), new Promise((resolve) => setTimeout(() => resolve('still running'), 2 * interval + 5000))])
      expect(code, stderr).to.equal(0)
      expect(stderr).to.include('watcher stopped')
      expect(table(await readVerdicts(verdictsFile(cliState())))).to.include({'jvb 127.0.0.2': 'up'})
      const state = JSON.parse(await readFile(cliState(), 'utf8'))
      expect(Object.keys(state.backends)).to.have.members(['web/web1', 'prosody/s1', 'jicofo/s1', 'jvb/s1/jvb1', 'jvb/s1/jvb-hung'])
    })

    it('killed, its verdicts go stale after three intervals and the check script probes by itself', async () => {
      const watcher = await startWatcher()
      const text = verdictsFile(cliState())
      const before = (await readVerdicts(text))?.written.getTime() ?? 0
      const written = async () => (await readVerdicts(text))?.written.getTime() ?? 0
      await waitFor('a fresh round', written, (time) => time > before, {intervalMs: 50, timeoutMs: 20_000})
      watcher.kill('SIGKILL')
      await exited(watcher)

      const script = join(dir, 'relayd-check-jvb')
      await writeFile(script, relaydCheckScript('jvb', text, {inventoryFile: inventoryFile(), jproxy: BIN, node: process.execPath}), {mode: 0o755})
      const [shell] = SHELLS
      const healthChecks = () => jvb.requests.filter((r) => r === 'GET /about/health').length

      let asked = healthChecks()
      expect((await runShellScript(shell, script, ['127.0.0.2'])).code, 'fresh: from the state').to.equal(CHECK_SCRIPT_EXIT.up)
      expect(healthChecks(), 'nobody probed').to.equal(asked)

      const {expires} = (await readVerdicts(text))!
      // Staleness is the clock passing `expires`: what is polled is the time.
      const stale = (now: number) => now > expires.getTime() + 1000
      const timeoutMs = expires.getTime() - Date.now() + 5000
      await waitFor('the verdicts to go stale', async () => Date.now(), stale, {intervalMs: 50, timeoutMs})
      asked = healthChecks()
      expect((await runShellScript(shell, script, ['127.0.0.2'])).code, 'stale: probed').to.equal(CHECK_SCRIPT_EXIT.up)
      expect(healthChecks()).to.equal(asked + 1)
      expect((await runShellScript(shell, script, ['127.0.0.1'])).code, 'stale: the hung bridge').to.equal(CHECK_SCRIPT_EXIT.down)
    })
  })
})
