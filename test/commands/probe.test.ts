import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {runCheckScript} from '../../src/entry/check-script.js'
import {ExitCode} from '../../src/errors.js'
import {CHECK_SCRIPT_EXIT} from '../../src/probe/check-host.js'
import {NAGIOS} from '../../src/report/nagios.js'
import {CLI_TIMEOUT_MS, runCli} from '../support/cli.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {type LoopbackBackend, startBackend} from '../support/loopback-backends.js'

/** The CLI against loopback servers: web, jicofo and the proxy's own prosody stand-in on 127.0.0.1, the JVB alone on 127.0.0.2. */
describe('jproxy probe', function () {
  this.timeout(4 * CLI_TIMEOUT_MS)
  let dir: string
  let file: string
  let web: LoopbackBackend
  let prosody: LoopbackBackend
  let jicofo: FakeJitsi
  let jvb: FakeJitsi
  let colibri: LoopbackBackend

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-probe-cli-'))
    web = await startBackend('web1', [])
    // Answers 200 to /http-bind and 101 to the websocket upgrade, as prosody does.
    prosody = await startBackend('prosody', [])
    colibri = await startBackend('colibri', [], '127.0.0.2')
    jicofo = await startFakeJitsi()
    jvb = await startFakeJitsi({}, '127.0.0.2')
    file = join(dir, 'jproxy.yaml')
    await writeFile(
      file,
      stringify({
        domain: 'meet.example.org',
        health: {fall: 1, rise: 1, timeout: '1s'},
        probe: {jvbStats: true, proxy: false},
        proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
        shards: [
          {
            jicofo: {address: '127.0.0.1', port: jicofo.port},
            jvbs: [{address: '127.0.0.2', colibriPort: colibri.port, id: 'jvb1', restPort: jvb.port}],
            name: 's1',
            prosody: {address: '127.0.0.1', port: prosody.port},
          },
        ],
        web: [{address: '127.0.0.1', name: 'web1', port: web.port}],
      }),
    )
  })
  after(async () => {
    await Promise.all([web, prosody, colibri, jicofo, jvb].map((s) => s.close()))
    await rm(dir, {force: true, recursive: true})
  })
  beforeEach(() => {
    Object.assign(jicofo.state, {drain: false, health: 200, participants: 0})
    Object.assign(jvb.state, {drain: false, health: 200, participants: 0})
  })

  const probe = (...args: string[]) => runCli(['probe', '--inventory', file, ...args])

  it('prints one line per backend and exits 0 when all are up', async () => {
    jvb.state.participants = 12
    const {code, stdout} = await probe('--no-state')
    expect(code).to.equal(ExitCode.ok)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^STATE\s+BACKEND\s+ADDRESS\s+TIME\s+DETAIL$/)
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).to.deep.equal(['UP web/web1', 'UP prosody/s1', 'UP jicofo/s1', 'UP jvb/s1/jvb1'])
    expect(stdout).to.include('12 participants')
  })

  it('exits backendsDown with the down backend first, and --json gives the report', async () => {
    jvb.state.health = 500
    const human = await probe('--no-state')
    expect(human.code).to.equal(ExitCode.backendsDown)
    expect(human.stdout.split('\n')[1]).to.match(/^DOWN\s+jvb\/s1\/jvb1\s+127\.0\.0\.2:\d+\s+\d+ ms\s+health: HTTP 500, expected 200/)

    const json = await probe('--no-state', '--json')
    expect(json.code).to.equal(ExitCode.backendsDown)
    const report = JSON.parse(json.stdout)
    expect(report.backends.map((b: {key: string; state: string}) => `${b.key} ${b.state}`)).to.deep.equal(['web/web1 up', 'prosody/s1 up', 'jicofo/s1 up', 'jvb/s1/jvb1 down'])
    // Into a pipe: JSON.stringify's bytes (oclif's without colours), not tokenized on the way.
    expect(json.stdout).to.equal(`${JSON.stringify(report, null, 2)}\n`)
  })

  it('narrows the run with --role, --shard and --id', async () => {
    const {stdout} = await probe('--no-state', '--json', '--role', 'jvb', '--role', 'jicofo', '--shard', 's1')
    expect(JSON.parse(stdout).backends.map((b: {key: string}) => b.key)).to.deep.equal(['jicofo/s1', 'jvb/s1/jvb1'])
    const none = await probe('--no-state', '--id', 'jvb9')
    expect(none.code).to.equal(ExitCode.usage)
    expect(none.stderr).to.include('no backend matches')
  })

  it('speaks the Nagios plugin API: OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3', async () => {
    const ok = await probe('--no-state', '--format', 'nagios')
    expect(ok.code).to.equal(NAGIOS.OK)
    expect(ok.stdout).to.match(/^JPROXY OK - 4 of 4 backends up \| 'up'=4;;;0;4 'down'=0;;;0;4 'slowest'=[\d.]+s;;;0 'time'=[\d.]+s;;;0\n$/)

    jvb.state.drain = true
    const warning = await probe('--no-state', '--format', 'nagios')
    expect(warning.code).to.equal(NAGIOS.WARNING)
    expect(warning.stdout.split('\n')[0]).to.match(/^JPROXY WARNING - 4 of 4 backends up; 1 warning\(s\): jvb\/s1\/jvb1 draining \| /)

    // Undamped (--no-state), jicofo's transitional 503 is not fit for traffic: down.
    jicofo.state.health = 503
    jvb.state.health = 500
    const critical = await probe('--no-state', '--format', 'nagios')
    expect(critical.code).to.equal(NAGIOS.CRITICAL)
    expect(critical.stdout.split('\n')[0]).to.match(/^JPROXY CRITICAL - 2 of 4 backends down: jicofo\/s1, jvb\/s1\/jvb1 \| /)

    const unknown = await runCli(['probe', '--inventory', join(dir, 'missing.yaml'), '--format', 'nagios'])
    expect(unknown.code).to.equal(NAGIOS.UNKNOWN)
    expect(unknown.stdout).to.match(/^JPROXY UNKNOWN - .*missing\.yaml/)
  })

  it('writes node_exporter textfile metrics with --prom-file', async () => {
    jvb.state.drain = true
    const prom = join(dir, 'jproxy.prom')
    const {code, stdout} = await probe('--no-state', '--quiet', '--prom-file', prom)
    expect([code, stdout]).to.deep.equal([ExitCode.ok, ''])
    const text = await readFile(prom, 'utf8')
    expect(text).to.include(`jproxy_backend_up{address="127.0.0.2",id="jvb1",role="jvb",shard="s1"} 1`)
    expect(text).to.include(`jproxy_backend_up{address="127.0.0.1",id="web1",role="web",shard=""} 1`)
    expect(text).to.include(`jproxy_jvb_draining{address="127.0.0.2",id="jvb1",role="jvb",shard="s1"} 1`)
    expect(text).to.match(/^jproxy_probe_duration_seconds\{address="127\.0\.0\.1",id="s1",role="jicofo",shard="s1"\} [\d.]+$/m)
    const stamp = Number(/^jproxy_probe_last_run_timestamp_seconds (\d+)$/m.exec(text)?.[1])
    expect(Math.abs(stamp - Date.now() / 1000)).to.be.below(60)
  })

  it('--quiet prints nothing while nothing changes, and one line per change', async () => {
    const stateFile = join(dir, 'quiet-state.json')
    const run = () => probe('--quiet', '--state-file', stateFile)
    const first = await run()
    expect([first.code, first.stdout, first.stderr]).to.deep.equal([0, '', ''])
    jvb.state.health = 500
    const change = await run()
    expect(change.code).to.equal(ExitCode.backendsDown)
    expect(change.stdout).to.equal('')
    expect(change.stderr).to.match(/^jproxy: jvb\/s1\/jvb1 \(127\.0\.0\.2:\d+\) is DOWN after 1 failed probe\(s\): health: HTTP 500, expected 200\n$/)
    const same = await run()
    expect([same.stdout, same.stderr]).to.deep.equal(['', ''])
  })

  describe('--host: relayd check script', () => {
    it('exits 1 when the backends at the address are up and 0 when one is down', async () => {
      const up = await probe('--host', '127.0.0.2')
      // `HOST up` on stdout is what relayd's check script trusts (a Node failing to start exits 1 too).
      expect([up.code, up.stdout]).to.deep.equal([CHECK_SCRIPT_EXIT.up, '127.0.0.2 up\n'])
      jvb.state.health = 503
      const down = await probe('--host', '127.0.0.2')
      expect(down.code).to.equal(CHECK_SCRIPT_EXIT.down)
      expect(down.stderr).to.match(/^jproxy: 127\.0\.0\.2 down: jvb\/s1\/jvb1 down: health: HTTP 503, expected 200/)
    })

    it('probes only the roles asked for at a shared address', async () => {
      jicofo.state.health = 500
      expect((await probe('--host', '127.0.0.1')).code).to.equal(CHECK_SCRIPT_EXIT.down)
      expect((await probe('--host', '127.0.0.1', '--role', 'web', '--role', 'prosody')).code).to.equal(CHECK_SCRIPT_EXIT.up)
    })

    it('answers the same through the quick start-up path and the full command (--json)', async () => {
      const quick = await probe('--host', '127.0.0.2')
      const full = await probe('--host', '127.0.0.2', '--json')
      expect([quick.code, full.code]).to.deep.equal([CHECK_SCRIPT_EXIT.up, CHECK_SCRIPT_EXIT.up])
      expect(JSON.parse(full.stdout)).to.deep.include({up: true})
      expect(JSON.parse(full.stdout).results.map((r: {key: string}) => r.key)).to.deep.equal(['jvb/s1/jvb1'])
    })

    it('leaves help, --json and bad flags to the full command', async () => {
      for (const extra of [['--help'], ['--json'], ['--timeout', 'soon'], ['--role', 'nope'], ['--state']]) {
        expect(await runCheckScript(['--host', '127.0.0.2', '--inventory', file, ...extra]), extra.join(' ')).to.equal(false)
      }

      const bad = await probe('--host', '127.0.0.2', '--timeout', 'soon')
      expect(bad.code).to.equal(CHECK_SCRIPT_EXIT.down)
      expect(bad.stderr).to.include('is not a duration')
    })

    it('exits 0 (down) for an unknown address or an unreadable inventory, never an error code relayd would read as up', async () => {
      const unknown = await probe('--host', '127.0.0.9')
      expect(unknown.code).to.equal(CHECK_SCRIPT_EXIT.down)
      expect(unknown.stderr).to.include('no backend at 127.0.0.9 in the inventory')
      const broken = await runCli(['probe', '--inventory', join(dir, 'missing.yaml'), '--host', '127.0.0.2'])
      expect(broken.code).to.equal(CHECK_SCRIPT_EXIT.down)
      expect(broken.stderr).to.include('missing.yaml')
    })
  })
})
