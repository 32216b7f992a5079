import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {runCommand} from '../../src/system/command.js'
import {validateTls} from '../../src/tls/validate.js'
import {type HaproxyProcess, startHaproxy, UNPRIVILEGED} from '../support/haproxy-process.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'

const DOMAIN = 'meet.example.test'

/** validate tls against real HAProxy rendered by jproxy: what the files say is what the handshake shows. */
describe('TLS: real HAProxy presenting the inventory\'s certificate', function () {
  this.timeout(60_000)
  let dir: string
  let pki: TestPki
  const backends: LoopbackBackend[] = []
  const seen: SeenRequest[] = []
  let proxy: HaproxyProcess | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-tls-haproxy-'))
    pki = await TestPki.create(join(dir, 'pki'))
    for (const name of ['web1', 'prosody', 'jicofo']) backends.push(await startBackend(name, seen))
    await writeFile(join(dir, 'state'), '1\n')
  })
  afterEach(async () => {
    await proxy?.stop()
    proxy = undefined
  })
  after(async () => {
    await Promise.all(backends.map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  async function inventoryFor(pem: string) {
    const [http, https, peerPort] = await freePorts(3)
    const [web, prosody, jicofo] = backends.map((b) => b.port)
    return Inventory.parse({
      domain: DOMAIN,
      health: {fall: 1, interval: '200ms', rise: 1, timeout: '200ms'},
      proxy: {listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'}, tls: {certificate: pem, key: pem}},
      shards: [{jicofo: {address: '127.0.0.1', port: jicofo}, name: 's1', prosody: {address: '127.0.0.1', port: prosody}}],
      targets: {haproxy: {...UNPRIVILEGED, localPeerPort: peerPort, socket: join(dir, 'admin.sock'), stateFile: join(dir, 'state')}},
      web: [{address: '127.0.0.1', name: 'web1', port: web}],
    })
  }

  const check = (inventory: Inventory, live = true) =>
    validateTls({
      files: true,
      inventory,
      live,
      now: new Date(),
      target: 'haproxy',
      thresholds: {criticalDays: 10, warningDays: 20},
      timeoutMs: 3000,
      trust: {certificates: [new X509Certificate(pki.root.pem)], pems: [pki.root.pem], source: 'the test root'},
    })

  it('a full chain: files and handshake both pass, and HAProxy sends the chain in file order', async () => {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const pem = join(dir, 'full.pem')
    await writeFile(pem, leaf.pem + pki.intermediate.pem + (await readFile(leaf.key, 'utf8')), {mode: 0o600})
    const inventory = await inventoryFor(pem)
    proxy = await startHaproxy(renderTarget(inventory, 'haproxy'), dir, 'full', join(dir, 'admin.sock'))
    const report = await check(inventory)
    expect(report.findings.filter((f) => f.severity !== 'ok')).to.deep.equal([])
    const source = `127.0.0.1:${inventory.proxy.listen.httpsPort}`
    expect(report.handshakes).to.have.length(1)
    expect(report.handshakes[0]).to.deep.include({alpn: 'h2', outcome: 'ok', source})
    expect(report.certificates.filter((c) => c.source === source).map((c) => c.subject)).to.deep.equal([DOMAIN, 'jproxy Test Intermediate'])
  })

  it('a bundle without its intermediate: the file check and the handshake both call the chain incomplete', async () => {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const pem = join(dir, 'leaf-only.pem')
    await writeFile(pem, leaf.pem + (await readFile(leaf.key, 'utf8')), {mode: 0o600})
    const inventory = await inventoryFor(pem)
    proxy = await startHaproxy(renderTarget(inventory, 'haproxy'), dir, 'leaf-only', join(dir, 'admin.sock'))
    const critical = (await check(inventory)).findings.filter((f) => f.severity === 'critical')
    expect(critical.map((f) => f.source)).to.deep.equal([pem, `127.0.0.1:${inventory.proxy.listen.httpsPort}`])
    expect(critical[0].message).to.match(/^incomplete chain: nothing here issued "meet\.example\.test"/)
    expect(critical[1].message).to.match(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/)
  })

  it('a key that does not belong to the certificate: critical in the files, and haproxy -c refuses the config', async () => {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    const stranger = await pki.leaf('stranger', {altNames: ['DNS:stranger.example.test']})
    const pem = join(dir, 'mismatch.pem')
    await writeFile(pem, leaf.pem + pki.intermediate.pem + (await readFile(stranger.key, 'utf8')), {mode: 0o600})
    const inventory = await inventoryFor(pem)
    const report = await check(inventory, false)
    expect(report.findings.filter((f) => f.severity === 'critical').map((f) => f.message)).to.deep.equal([`the key (line ${(leaf.pem + pki.intermediate.pem).split('\n').length}) does not belong to the certificate "${DOMAIN}" in ${pem}: the proxy will not start`])
    const config = join(dir, 'mismatch.cfg')
    await writeFile(config, renderTarget(inventory, 'haproxy'))
    const checked = await runCommand(['haproxy', '-c', '-f', config], {timeoutMs: 10_000})
    expect(checked.code, checked.stderr).to.not.equal(0)
    expect(checked.stdout + checked.stderr).to.match(/inconsistencies between private key and certificate/i)
  })
})
