import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {shardServerState} from '../../src/haproxy/shard-runtime.js'
import {drainShard} from '../../src/scale/shard-drain.js'
import type {CommandRunner} from '../../src/system/command.js'
import {runCommand} from '../../src/system/command.js'
import {BIN, runCli} from '../support/cli.js'
import type {FakeJitsi} from '../support/fake-jitsi.js'
import {type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'
import {closeAgents, type LoopbackShard, type ProxySlot, proxySlot, selfSigned, startShard, startSlot} from '../support/room-deployment.js'

describe('scale drain-shard --wait and undrain-shard: counts from jicofo, exit 11 past the deadline, relayd, CLI', function () {
  this.timeout(120_000)
  const seen: SeenRequest[] = []
  let root: string
  let web: LoopbackBackend
  let shards: Array<LoopbackShard<FakeJitsi>>
  let slot: ProxySlot
  let original: string
  let pem: string
  const base = {requestTimeoutMs: 2000, run: runCommand, target: 'haproxy' as const, tlsCa: ''}

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-drain-shard-'))
    web = await startBackend('web1', seen)
    shards = [await startShard('s1', seen), await startShard('s2', seen)]
    pem = await selfSigned(root)
    base.tlsCa = await readFile(pem, 'utf8')
    slot = await proxySlot(root, 'p', '127.0.0.1', {pem, shards, web})
    await startSlot(slot)
    original = await readFile(slot.file, 'utf8')
  })
  after(async () => {
    closeAgents()
    await slot?.haproxy?.stop()
    await Promise.all([web, ...shards.flatMap((s) => [s.prosody, s.jicofo])].map((x) => x.close()))
    await rm(root, {force: true, recursive: true})
  })
  afterEach(async () => {
    // Every test starts from an undrained shard and the original inventory.
    await drainShard({...base, file: slot.file, name: 's2', off: true})
    expect(await readFile(slot.file, 'utf8')).to.equal(original)
    shards[1].jicofo.state.conferences = 0
    shards[1].jicofo.state.participants = 0
  })

  it('--wait polls jicofo /stats until no conference is left, then exits 0', async () => {
    const jicofo = shards[1].jicofo
    Object.assign(jicofo.state, {conferences: 2, participants: 5})
    const progress: string[] = []
    // Each poll sees the shard emptier: 2 conferences, then 1, then none.
    const next: Record<number, {conferences: number; participants: number}> = {1: {conferences: 0, participants: 0}, 2: {conferences: 1, participants: 2}}
    const onProgress = (load: {conferences: number; participants: number}) => {
      progress.push(`${load.conferences}/${load.participants}`)
      if (next[load.conferences]) Object.assign(jicofo.state, next[load.conferences])
    }

    const report = await drainShard({...base, file: slot.file, name: 's2', wait: {intervalMs: 100, onProgress, timeoutMs: 10_000}})
    expect(report.exitCode, report.message).to.equal(ExitCode.ok)
    expect(report).to.deep.include({conferences: 0, participants: 0})
    expect(report.message).to.match(/^s2 drained: no conferences left after \d+ s$/)
    expect(progress).to.deep.equal(['2/5', '1/2', '0/0'])
    expect(jicofo.requests.filter((r) => r === 'GET /stats').length).to.equal(progress.length)
  })

  it('--wait gives up after --deadline with exit 11 and the counts; the shard stays draining', async () => {
    Object.assign(shards[1].jicofo.state, {conferences: 3, participants: 7})
    const report = await drainShard({...base, file: slot.file, name: 's2', wait: {intervalMs: 100, timeoutMs: 500}})
    expect(report).to.deep.include({conferences: 3, exitCode: ExitCode.refused, participants: 7})
    expect(report.message).to.match(/^s2 still has 3 conferences and 7 participants after \d+ s \(it stays draining\)$/)
    expect((await shardServerState(slot.socket, 's2'))!.admin & 0x08).to.equal(0x08)
    expect(await readFile(slot.file, 'utf8')).to.include('state: drain')
  })

  it('a JSON inventory and a flow-style YAML one: drain and undrain change the shard\'s state entry and nothing else', async () => {
    const data = JSON.parse(JSON.stringify(slot.data)) as {shards: Array<{name: string; state?: string}>}
    const drainedData = structuredClone(data)
    drainedData.shards.find((s) => s.name === 's2')!.state = 'drain'
    const layouts: Array<[string, string, string | undefined]> = [
      ['inventory.json', `${JSON.stringify(data, null, 2)}\n`, `${JSON.stringify(drainedData, null, 2)}\n`],
      ['inventory-flow.yaml', stringify(data, {collectionStyle: 'flow'}), undefined],
    ]
    for (const [name, text, drainedText] of layouts) {
      const file = join(root, name)
      await writeFile(file, text)
      const drained = await drainShard({...base, file, name: 's2'})
      expect(drained.exitCode, `${name}: ${drained.message}`).to.equal(ExitCode.ok)
      const after = await readFile(file, 'utf8')
      expect(parse(after), name).to.deep.equal(drainedData)
      if (drainedText) expect(after, name).to.equal(drainedText)
      expect((await shardServerState(slot.socket, 's2'))!.admin & 0x08, name).to.equal(0x08)
      expect((await drainShard({...base, file, name: 's2', off: true})).exitCode).to.equal(ExitCode.ok)
      expect(await readFile(file, 'utf8'), name).to.equal(text)
      expect(await shardServerState(slot.socket, 's2'), name).to.deep.include({admin: 0, weight: 256})
    }
  })

  it('refuses to drain the last shard taking rooms, and names the shards for an unknown one', async () => {
    expect((await drainShard({...base, file: slot.file, name: 's2'})).exitCode).to.equal(ExitCode.ok)
    await expectRejection(drainShard({...base, file: slot.file, name: 's1'}), /^s1 is the last shard taking new rooms; draining it would leave none$/)
    await expectRejection(drainShard({...base, file: slot.file, name: 'nope'}), /^no shard named "nope" \(s1, s2\)$/)
  })

  it('relayd: relayctl host disable (then enable) on the shard\'s host, once when prosody and jicofo share it; the inventory records the drain', async () => {
    const calls: string[][] = []
    const run: CommandRunner = async (argv) => {
      calls.push([...argv])
      return {code: 0, stderr: '', stdout: ''}
    }

    const drained = await drainShard({...base, file: slot.file, name: 's2', run, target: 'relayd'})
    expect(drained.exitCode, drained.message).to.equal(ExitCode.ok)
    expect(calls).to.deep.equal([['relayctl', 'host', 'disable', '127.0.0.1']])
    expect(drained.warnings.join()).to.include('relayd hashes rooms modulo its live hosts')
    expect(await readFile(slot.file, 'utf8')).to.include('state: drain')
    expect((await drainShard({...base, file: slot.file, name: 's2', off: true, run, target: 'relayd'})).exitCode).to.equal(ExitCode.ok)
    expect(calls[1]).to.deep.equal(['relayctl', 'host', 'enable', '127.0.0.1'])
    const failing: CommandRunner = async () => ({code: 1, stderr: 'relayctl: no such host', stdout: ''})
    await expectRejection(drainShard({...base, file: slot.file, name: 's2', run: failing, target: 'relayd'}), /^relayctl host disable 127\.0\.0\.1: relayctl: no such host$/)
    expect(await readFile(slot.file, 'utf8'), 'a refused relayctl leaves the inventory alone').to.equal(original)
  })

  it('CLI: drain-shard --wait --json, then undrain-shard, against the running HAProxy', async () => {
    const drained = await runCli(['scale', 'drain-shard', 's2', '--wait', '--interval', '100ms', '--deadline', '5s', '--target', 'haproxy', '--ca', pem, '-i', slot.file, '--json'])
    expect(drained.code, drained.stderr).to.equal(ExitCode.ok)
    expect(JSON.parse(drained.stdout)).to.deep.include({conferences: 0, exitCode: 0, id: 's2', participants: 0})
    expect((await shardServerState(slot.socket, 's2', 'be_jicofo'))!.admin & 0x08).to.equal(0x08)
    const undrained = await runCli(['scale', 'undrain-shard', 's2', '--target', 'haproxy', '--ca', pem, '-i', slot.file])
    expect(undrained.code, undrained.stderr).to.equal(ExitCode.ok)
    expect(undrained.stdout).to.match(/^s2 back in service: takes new rooms \(/)
    expect(await shardServerState(slot.socket, 's2')).to.deep.include({admin: 0, weight: 256})
  })

  it('CLI: the old name --timeout still bounds the wait (exit 11 when it passes), with a deprecation warning', async () => {
    Object.assign(shards[1].jicofo.state, {conferences: 1, participants: 2})
    const run = await runCli(['scale', 'drain-shard', 's2', '--wait', '--interval', '100ms', '--timeout', '500ms', '--target', 'haproxy', '--ca', pem, '-i', slot.file])
    expect(run.code, run.stderr).to.equal(ExitCode.refused)
    expect(run.stderr).to.match(/"--timeout" flag has been deprecated\. Use "--deadline"/)
    expect(run.stderr).to.match(/s2 still has 1 conferences and 2 participants after \d+ s \(it stays draining\)/)
  })

  it('CLI on a terminal: --wait shows the counts as it polls, then clears the line', async () => {
    Object.assign(shards[1].jicofo.state, {conferences: 1, participants: 3})
    // The shard empties once the CLI has polled it twice.
    const polls = () => shards[1].jicofo.requests.filter((r) => r === 'GET /stats').length
    const seenBefore = polls()
    const emptying = setInterval(() => {
      if (polls() - seenBefore < 2) return
      Object.assign(shards[1].jicofo.state, {conferences: 0, participants: 0})
      clearInterval(emptying)
    }, 20)
    const command = [process.execPath, BIN, 'scale', 'drain-shard', 's2', '--wait', '--interval', '200ms', '--deadline', '30s', '--target', 'haproxy', '--ca', pem, '-i', slot.file].join(' ')
    // script(1) (util-linux) runs the CLI on a pseudo-terminal, as an admin at a shell would.
    const output = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], {timeout: 60_000}, (error, stdout) => (error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout)))
    }).finally(() => clearInterval(emptying))
    expect(output).to.match(/\rs2: 1 conferences, 3 participants after \d+ s /)
    // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is tested
    expect(output).to.match(/\rs2: 0 conferences, 0 participants after \d+ s \r\u001B\[K/)
    expect(output).to.match(/s2 drained: no conferences left after \d+ s/)
  })
})

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (error_: Error) => error_)
  expect(error, 'rejected').to.be.instanceOf(Error)
  expect(error!.message).to.match(message)
}
