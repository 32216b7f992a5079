import {expect} from 'chai'
import {mkdtemp, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
import {setShardState, shardServerState} from '../../src/haproxy/shard-runtime.js'
import {ADMIN_DRAIN, SHARD_WEIGHT} from '../../src/haproxy/vocabulary.js'
import {drainShard} from '../../src/scale/shard-drain.js'
import {runCommand} from '../../src/system/command.js'
import {runCli} from '../support/cli.js'
import {type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'
import {closeAgents, countByShard, DOMAIN, type LoopbackShard, type ProxySlot, proxySlot, roomShards, startShard, startSlot} from '../support/room-deployment.js'

const UNTRUSTED = 'certificate from a CA that is not trusted: set proxy.tls.ca or pass --ca'

/**
 * Real HAProxy serving a certificate of a test CA (leaf and intermediate in the crt file, the
 * root only in proxy.tls.ca or --ca): drain-shard and undrain-shard read the shard's servers back
 * through the runtime API and verify through the proxy trusting that root. Without it the request
 * through the proxy cannot verify: the change is undone and read back (exit 12, not 13).
 */
describe('scale drain-shard / undrain-shard against a proxy whose certificate is from a private CA', function () {
  this.timeout(180_000)
  const seen: SeenRequest[] = []
  let root: string
  let pki: TestPki
  let web: LoopbackBackend
  let shards: LoopbackShard[]
  let slot: ProxySlot
  /** The inventory with proxy.tls.ca, and the same without it (only the system's CAs, or --ca). */
  let withCa: string
  let withoutCa: string
  let original: {live: string; withCa: string; withoutCa: string}
  let fresh = 0
  const newRooms = (count: number) => Array.from({length: count}, () => `ca-room-${fresh++}`)

  /** Both of s2's servers as `show servers state` gives them. */
  const s2 = async () => Promise.all([shardServerState(slot.socket, 's2', 'be_prosody'), shardServerState(slot.socket, 's2', 'be_jicofo')])
  const expectDrained = async () => {
    for (const server of await s2()) expect(server && server.admin & ADMIN_DRAIN, JSON.stringify(server)).to.equal(ADMIN_DRAIN)
  }

  const expectReady = async () => {
    for (const server of await s2()) expect(server, JSON.stringify(server)).to.deep.include({admin: 0, weight: SHARD_WEIGHT})
  }

  /** Where 100 new rooms land through the proxy. */
  const newRoomCounts = async () => {
    const counts = countByShard((await roomShards(slot, newRooms(100))).values())
    closeAgents()
    return counts
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'jproxy-drain-ca-'))
    pki = await TestPki.create(join(root, 'pki'))
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const crt = join(root, 'private.pem')
    await writeFile(crt, leaf.pem + pki.intermediate.pem + (await readFile(leaf.key, 'utf8')))
    web = await startBackend('web1', seen)
    shards = [await startShard('s1', seen), await startShard('s2', seen)]
    slot = await proxySlot(root, 'p', '127.0.0.1', {pem: crt, shards, web})
    slot.data.proxy.tls = {ca: pki.root.cert, certificate: crt, key: crt}
    withCa = slot.file
    await writeFile(withCa, stringify(slot.data))
    const data = structuredClone(slot.data)
    delete data.proxy.tls.ca
    withoutCa = join(slot.dir, 'inventory-without-ca.yaml')
    await writeFile(withoutCa, stringify(data))
    await startSlot(slot)
    original = {live: await readFile(slot.data.targets.haproxy.output, 'utf8'), withCa: await readFile(withCa, 'utf8'), withoutCa: await readFile(withoutCa, 'utf8')}
  })

  after(async () => {
    closeAgents()
    await slot?.haproxy?.stop()
    await Promise.all([web, ...(shards ?? []).flatMap((s) => [s.prosody, s.jicofo])].map((x) => x?.close()))
    await rm(root, {force: true, recursive: true})
  })

  afterEach(async () => {
    // Every test starts from s2 taking rooms, and both inventories and the live config as they were.
    await setShardState(slot.socket, 's2', 'ready')
    await writeFile(withCa, original.withCa)
    await writeFile(withoutCa, original.withoutCa)
    await writeFile(slot.data.targets.haproxy.output, original.live)
    await rm(join(slot.data.apply.dir, 'apply-haproxy.pending'), {force: true})
  })

  const cli = (command: 'drain-shard' | 'undrain-shard', inventory: string, extra: string[] = []) => runCli(['scale', command, 's2', '--target', 'haproxy', '-i', inventory, ...extra])

  const trusted: Array<{args: () => string[]; how: string; inventory: () => string}> = [
    {args: () => [], how: 'proxy.tls.ca in the inventory', inventory: () => withCa},
    {args: () => ['--ca', pki.root.cert], how: '--ca, the inventory naming no CA', inventory: () => withoutCa},
  ]
  for (const {args: flags, how, inventory} of trusted) {
    it(`${how}: drains (read back through the runtime API, verified through the proxy), new rooms avoid s2; undrain-shard restores it`, async () => {
      const args = flags()
      const drained = await cli('drain-shard', inventory(), args)
      expect(drained.code, drained.stderr).to.equal(ExitCode.ok)
      expect(drained.stdout).to.match(/^s2 draining: no new rooms \(be_prosody\/s2 and be_jicofo\/s2 set to drain at run time and read back; no reload; verified through the proxy\)/)
      await expectDrained()
      expect(await readFile(inventory(), 'utf8')).to.match(/\n {4}state: drain\n/)
      const whileDrained = await newRoomCounts()
      expect(whileDrained.s2, JSON.stringify(whileDrained)).to.equal(undefined)
      expect(whileDrained.s1).to.equal(100)

      const undrained = await cli('undrain-shard', inventory(), args)
      expect(undrained.code, undrained.stderr).to.equal(ExitCode.ok)
      expect(undrained.stdout).to.match(/^s2 back in service: takes new rooms \(be_prosody\/s2 and be_jicofo\/s2 set to ready at run time and read back; no reload; verified through the proxy\)/)
      await expectReady()
      const after = await newRoomCounts()
      expect(after.s2, JSON.stringify(after)).to.be.greaterThan(10)
    })
  }

  it('a live haproxy.cfg that already gives s2 weight 0 (the runtime ready): drain-shard still drains it at run time, read back', async () => {
    expect((await cli('drain-shard', withCa)).code).to.equal(ExitCode.ok)
    // The running proxy and the inventory say ready; only the installed file kept the drain.
    await setShardState(slot.socket, 's2', 'ready')
    await writeFile(withCa, original.withCa)
    const drained = await cli('drain-shard', withCa)
    expect(drained.code, drained.stderr).to.equal(ExitCode.ok)
    expect(drained.stdout).to.match(/^s2 draining: no new rooms \(the installed haproxy\.cfg already said drain; be_prosody\/s2 and be_jicofo\/s2 set to drain at run time and read back; no reload\)/)
    await expectDrained()
  })

  it('no CA anywhere (the system\'s CAs only): the drain does not verify, is undone and read back as undone; exit 12, not 13', async () => {
    const run = await cli('drain-shard', withoutCa, ['--json'])
    expect(run.code, run.stdout + run.stderr).to.equal(ExitCode.rolledBack)
    const report = JSON.parse(run.stdout)
    expect(report.message).to.include('s2 not drained (the inventory is as it was): the change went in at run time but did not verify (request through the proxy at 127.0.0.1 failed: bosh: ')
    expect(report.message).to.include(UNTRUSTED)
    expect(report.message).to.include('it was undone at run time and the previous live config restored, verified through the runtime API')
    expect(report.message).to.not.match(/undoing it failed|the undo did not verify/)
    expect(report.apply).to.deep.include({outcome: 'rolled-back'})
    expect(report.apply.rollback).to.deep.include({problems: [], verified: true})
    await expectReady()
    expect(await readFile(withoutCa, 'utf8')).to.equal(original.withoutCa)
    const counts = await newRoomCounts()
    expect(counts.s2, JSON.stringify(counts)).to.be.greaterThan(10)
  })

  it('no CA anywhere: undrain-shard of a drained shard does not verify, is undone (drained again, read back); exit 12', async () => {
    expect((await cli('drain-shard', withoutCa, ['--ca', pki.root.cert])).code).to.equal(ExitCode.ok)
    const drainedText = await readFile(withoutCa, 'utf8')
    expect(drainedText).to.include('state: drain')

    const run = await cli('undrain-shard', withoutCa)
    expect(run.code, run.stderr).to.equal(ExitCode.rolledBack)
    expect(run.stderr).to.include('s2 not undrained (the inventory is as it was): the change went in at run time but did not verify').and.include(UNTRUSTED)
    expect(run.stderr).to.not.include('undoing it failed')
    await expectDrained()
    expect(await readFile(withoutCa, 'utf8')).to.equal(drainedText)
    const counts = await newRoomCounts()
    expect(counts.s2, JSON.stringify(counts)).to.equal(undefined)
    // With the CA the undrain goes through, and the live config is back to s2's full weight.
    expect((await cli('undrain-shard', withoutCa, ['--ca', pki.root.cert])).code).to.equal(ExitCode.ok)
    await expectReady()
  })

  it('an undo that really fails (the runtime API gone between the change and the undo) still exits 13, and says so', async () => {
    const moved = `${slot.socket}.away`
    let putBack = false
    const report = await drainShard({
      file: withoutCa,
      name: 's2',
      async onStage(stage) {
        // The verification has failed (no CA): HAProxy keeps running, but its runtime API is out of reach for the undo.
        if (stage === 'rollback') await rename(slot.socket, moved)
      },
      requestTimeoutMs: 2000,
      run: runCommand,
      target: 'haproxy',
    }).finally(async () => {
      await rename(moved, slot.socket).then(() => (putBack = true), () => undefined)
    })
    expect(putBack, 'the socket was moved away and back').to.equal(true)
    expect(report.exitCode, report.message).to.equal(ExitCode.rollbackFailed)
    expect(report.message).to.include(UNTRUSTED)
    expect(report.message).to.match(/, and undoing it failed \(.*ENOENT.*\); the running HAProxy may still have be_prosody\/s2 and be_jicofo\/s2 set to drain \(show servers state\)$/)
    expect(report.apply?.rollback).to.deep.include({verified: false})
    // Not undone indeed: the shard is still drained while the inventory says nothing of it.
    await expectDrained()
    expect(await readFile(withoutCa, 'utf8')).to.equal(original.withoutCa)
  })
})
