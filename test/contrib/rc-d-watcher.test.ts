import {expect} from 'chai'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {pollUntil} from '../../src/system/poll.js'
import {BIN, CLI_TIMEOUT_MS} from '../support/cli.js'
import {rcAction, stubRcScript} from '../support/units.js'

const RC_D = 'contrib/rc.d/jproxy_probe'

describe('the OpenBSD rc.d script of the watcher, under mksh with a stub rc.subr', function () {
  this.timeout(4 * CLI_TIMEOUT_MS)
  let dir: string
  let script: string
  let inventory: string
  let flags: string
  const applyDir = () => join(dir, 'db', 'jproxy')
  const stateDir = () => join(applyDir(), 'probe')

  const rc = (action: string, user: string) => rcAction(script, action, {flags, log: join(dir, 'daemon.log'), user})

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-rc-d-'))
    script = await stubRcScript(RC_D, dir)
    inventory = join(dir, 'jproxy.yaml')
    await writeFile(
      inventory,
      [
        'domain: meet.example.org',
        `apply: {dir: ${applyDir()}}`,
        'health: {interval: 1s, timeout: 200ms}',
        `probe: {stateFile: ${join(stateDir(), 'probe-state.json')}}`,
        'proxy: {listen: {ipv4: 127.0.0.1}, tls: {certificate: /etc/x.pem, key: /etc/x.pem}}',
        'web: [{name: web1, address: 127.0.0.1, port: 9}]',
        'shards: [{name: s1, prosody: {address: 127.0.0.2, port: 9}, jvbs: [{id: jvb1, address: 127.0.0.1}]}]',
        '',
      ].join('\n'),
    )
    flags = `${BIN} probe --watch -i ${inventory}`
  })
  after(async () => {
    await rc('stop', 'nobody')
    await rm(dir, {force: true, recursive: true})
  })

  it('start with an inventory that does not validate stops with jproxy\'s message, and starts nothing', async () => {
    const broken = join(dir, 'broken.yaml')
    await writeFile(broken, 'domain: meet example\n')
    const saved = flags
    flags = `${BIN} probe --watch -i ${broken}`
    try {
      const start = await rc('start', 'nobody')
      expect(start.code, start.output).to.equal(1)
      expect(start.output).to.include('broken.yaml:1: domain: must be a fully qualified domain name')
    } finally {
      flags = saved
    }
  })

  it('start without the daemon user says how to create it, and starts nothing', async () => {
    const start = await rc('start', '_jproxy_missing')
    expect(start.code, start.output).to.equal(1)
    expect(start.output).to.include('no user _jproxy_missing; create it: useradd -s /sbin/nologin -d /var/empty -g =uid _jproxy_missing')
    expect((await rc('check', '_jproxy_missing')).code).to.equal(1)
  })

  it("start creates the inventory's probe.stateFile folder for the daemon user, apply.dir root's; check sees the watcher; stop ends it", async () => {
    const start = await rc('start', 'nobody')
    expect(start, start.output).to.deep.include({code: 0})
    expect((await stat(stateDir())).uid, 'the state folder is the watcher user\'s').to.equal(65_534)
    expect((await stat(applyDir())).uid, "apply.dir stays root's").to.equal(0)
    expect((await stat(applyDir())).mode & 0o022).to.equal(0)
    // The watcher's first round written is the proof it runs (not a fixed wait).
    const written = await pollUntil(() => stat(join(stateDir(), 'probe-state.txt')).then(() => true, () => false), Boolean, {intervalMs: 100, timeoutMs: CLI_TIMEOUT_MS})
    expect(written.done, await readFile(join(dir, 'daemon.log'), 'utf8').catch(() => '')).to.equal(true)
    expect(await rc('check', 'nobody')).to.deep.equal({code: 0, output: '(ok)\n'})
    expect(await rc('stop', 'nobody')).to.deep.equal({code: 0, output: '(ok)\n'})
    expect(await rc('check', 'nobody')).to.deep.equal({code: 1, output: '(failed)\n'})
  })

  it('refuses a probe.stateFile inside apply.dir, which would hand root\'s folder to the watcher', async () => {
    const shared = join(dir, 'shared.yaml')
    await writeFile(shared, (await readFile(inventory, 'utf8')).replace(join(stateDir(), 'probe-state.json'), join(applyDir(), 'probe-state.json')))
    const saved = flags
    flags = `${BIN} probe --watch -i ${shared}`
    try {
      const start = await rc('start', 'nobody')
      expect(start.code, start.output).to.equal(1)
      expect(start.output).to.include(`probe.stateFile is in apply.dir (${applyDir()}), root's alone`)
      expect((await rc('check', 'nobody')).code).to.equal(1)
    } finally {
      flags = saved
    }
  })
})
