import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {handshake} from '../../src/tls/live.js'
import {smallInventory} from '../fixtures/inventories.js'
import {type FakeRelayd, startFakeRelayd, writeRelaydKeypair} from '../support/fake-relayd-tls.js'
import {freePorts} from '../support/loopback-backends.js'
import {TestPki} from '../support/pki.js'
import {docsCommand, jproxyOnPath, shell} from '../support/docs-commands.js'

const DOMAIN = 'meet.example.org'

/** docs/certificates.md: its inventory snippet and its OpenBSD lines, run as written (relayd through the stand-in). */
describe('docs/certificates.md: the snippet and the acme-client lines work as written', function () {
  this.timeout(90_000)
  let dir: string
  let pki: TestPki
  let relayd: FakeRelayd
  let inventory: string
  let port: number
  let paths: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-deploy-docs-'))
    pki = await TestPki.create(join(dir, 'pki'))
    const sslDir = join(dir, 'ssl')
    await mkdir(join(dir, 'acme', 'private'), {recursive: true})
    const old = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    await writeRelaydKeypair(sslDir, DOMAIN, {cert: old.pem + pki.intermediate.pem, key: await readFile(old.key, 'utf8')})
    const [http, https] = await freePorts(2)
    port = https
    const data = {
      apply: {dir: join(dir, 'jproxy'), reloadTimeout: '5s'},
      domain: DOMAIN,
      proxy: {listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'}, tls: {certificate: '/etc/ssl/meet.pem', key: '/etc/ssl/meet.pem'}},
      shards: [{name: 's1', prosody: {address: '10.0.0.10'}}],
      targets: {relayd: {output: join(dir, 'relayd.conf')}},
      web: [{address: '10.0.0.2', name: 'web1'}],
    }
    inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(data))
    await writeFile(join(dir, 'relayd.conf'), renderTarget(Inventory.parse(data), 'relayd'))
    relayd = await startFakeRelayd(dir, {domain: DOMAIN, port: https, relays: ['jitsi_https', 'jitsi_http'], sslDir})
    // acme-client stand-in: "renews" by copying the next pair into place, and exits as told.
    const stubs = join(dir, 'stubs')
    await mkdir(stubs)
    await writeFile(join(stubs, 'acme-client'), `#!/bin/sh\n[ "$ACME_EXIT" = 0 ] && cp "${dir}/next.crt" "${dir}/acme/${DOMAIN}.fullchain.pem" && cp "${dir}/next.key" "${dir}/acme/private/${DOMAIN}.key"\nexit "$ACME_EXIT"\n`)
    await chmod(join(stubs, 'acme-client'), 0o755)
    paths = [stubs, await jproxyOnPath(dir), relayd.bin, process.env.PATH].join(':')
    await writeFile(join(dir, 'root.pem'), pki.root.pem)
  })
  after(async () => {
    await relayd?.close()
    await rm(dir, {force: true, recursive: true})
  })

  const served = async () => (await handshake({address: '127.0.0.1', ca: [], port, servername: DOMAIN, timeoutMs: 3000})).chain[0]?.serialNumber
  async function nextRenewal(): Promise<string> {
    const leaf = await pki.leaf(DOMAIN, {altNames: [`DNS:${DOMAIN}`]})
    await writeFile(join(dir, 'next.crt'), leaf.pem + pki.intermediate.pem)
    await writeFile(join(dir, 'next.key'), await readFile(leaf.key, 'utf8'), {mode: 0o600})
    return new X509Certificate(leaf.pem).serialNumber
  }

  /** The docs' line with this machine's paths (keypairs in a test folder; the test CA). */
  const localize = (line: string) =>
    line
      .replace(/^0 4 \* \* \* /, '')
      .replaceAll('/etc/jproxy/jproxy.yaml', inventory)
      .replaceAll('/etc/ssl/acme/private/', `${dir}/acme/private/`)
      .replaceAll('/etc/ssl/acme/', `${dir}/acme/`)
      .replaceAll('jproxy tls deploy', `jproxy tls deploy --ssl-dir ${dir}/ssl --ca ${dir}/root.pem --timeout 2s`)

  it('the proxy.acme snippet is a valid inventory part that routes the challenge path', async () => {
    const text = await readFile('docs/certificates.md', 'utf8')
    const snippet = parse(/```yaml\n([\s\S]*?)```/.exec(text)![1])
    const data = smallInventory()
    data.proxy = {...data.proxy, ...snippet.proxy}
    const config = renderTarget(Inventory.parse(data), 'haproxy')
    expect(config).to.include('use_backend be_acme if acme').and.include('server acme 127.0.0.1:8402')
  })

  it('/etc/weekly.local: a renewal is deployed with a reload; a week without renewal (acme-client exits 2) changes nothing and exits 0', async () => {
    const line = localize(await docsCommand('acme-client meet.example.org; '))
    const serial = await nextRenewal()
    const renewed = await shell(line, {ACME_EXIT: '0', PATH: paths}, 60_000)
    expect(renewed.code, renewed.output).to.equal(0)
    expect(await served()).to.equal(serial)
    expect(relayd.reloads()).to.equal(1)

    const quiet = await shell(line, {ACME_EXIT: '2', PATH: paths}, 60_000)
    expect(quiet.code, quiet.output).to.equal(0)
    expect(quiet.output).to.match(/unchanged/)
    expect(relayd.reloads()).to.equal(1)
  })

  it('/etc/weekly.local: a week with calls running refuses (nothing changed), and the next quiet week deploys it', async () => {
    const line = localize(await docsCommand('acme-client meet.example.org; '))
    const before = await served()
    const serial = await nextRenewal()
    await relayd.setSessions(12)
    const busy = await shell(line, {ACME_EXIT: '0', PATH: paths}, 60_000)
    expect(busy.code, busy.output).to.equal(11)
    expect(busy.output).to.match(/^jproxy-tls-deploy: FAILED target=relayd .*outcome=refused exit=11/m)
    expect(await served()).to.equal(before)

    await relayd.setSessions(0)
    const quiet = await shell(line, {ACME_EXIT: '2', PATH: paths}, 60_000)
    expect(quiet.code, quiet.output).to.equal(0)
    expect(await served()).to.equal(serial)
  })

  it('the crontab line with --defer installs a renewal without a reload, and does nothing when acme-client renewed nothing', async () => {
    const line = localize(await docsCommand('0 4 * * * acme-client'))
    const reloads = relayd.reloads()
    const before = await served()
    await nextRenewal()
    const renewed = await shell(line, {ACME_EXIT: '0', PATH: paths}, 60_000)
    expect(renewed.code, renewed.output).to.equal(0)
    expect(renewed.output).to.match(/deferred/)
    expect(await readFile(join(dir, 'ssl', `${DOMAIN}.crt`), 'utf8')).to.equal(await readFile(join(dir, 'next.crt'), 'utf8'))
    expect(relayd.reloads()).to.equal(reloads)
    expect(await served()).to.equal(before)

    const none = await shell(line, {ACME_EXIT: '2', PATH: paths}, 60_000)
    expect(none.code).to.equal(2)
    expect(none.output).to.equal('')
  })
})
