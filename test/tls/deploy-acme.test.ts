import {expect} from 'chai'
import {X509Certificate} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {handshake} from '../../src/tls/live.js'
import {docsCommand, jproxyOnPath, shell} from '../support/docs-commands.js'
import {DOMAIN, openWebsocket, type Stage, startStage, workers, writeInventory} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {type Pebble, startPebble} from '../support/pebble.js'
import {TestPki} from '../support/pki.js'

async function servedSerial(stage: Stage): Promise<string | undefined> {
  const result = await handshake({address: '127.0.0.1', ca: [], port: stage.data.proxy.listen.httpsPort, servername: DOMAIN, timeoutMs: 5000})
  return result.chain[0]?.serialNumber
}

/**
 * The whole loop on loopback with real daemons: pebble validates HTTP-01 through HAProxy's http
 * port (proxy.acme → the ACME client's own server), the client's hook runs `jproxy tls deploy`
 * as docs/certificates.md writes it, and HAProxy serves pebble's certificate without a reload.
 */
describe('ACME end to end: pebble, certbot and lego through HAProxy, deployed by the hook', function () {
  this.timeout(180_000)
  let dir: string
  let stage: Stage
  let pebble: Pebble
  let inventory: string
  let bin: string
  let testRoot: string
  let issuingRoot: string
  let acmePort: number

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-acme-'))
    const pki = await TestPki.create(join(dir, 'pki'))
    ;[acmePort] = await freePorts(1)
    stage = await startStage(dir, (data) => {
      data.proxy.acme = {backend: `127.0.0.1:${acmePort}`}
    })
    pebble = await startPebble({dir, httpPort: stage.data.proxy.listen.httpPort, pki})
    inventory = await writeInventory(stage, 'inventory', stage.data)
    bin = await jproxyOnPath(dir)
    testRoot = join(dir, 'test-root.pem')
    await writeFile(testRoot, pki.root.pem)
    issuingRoot = join(dir, 'pebble-root.pem')
    await writeFile(issuingRoot, pebble.issuingRoot)
  })
  after(async () => {
    await pebble?.stop()
    await stage?.haproxy.stop()
    await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  /** The docs' line with this machine's paths, and the hook trusting pebble's root (no public CA here). */
  const localize = (line: string) =>
    line
      .replaceAll('/etc/jproxy/jproxy.yaml', inventory)
      .replaceAll('/var/lib/prometheus/node-exporter/jproxy_tls_deploy.prom', join(dir, 'deploy.prom'))
      .replaceAll('/etc/lego', join(dir, 'lego'))
      .replaceAll('8402', String(acmePort))
      .replaceAll('jproxy tls deploy', `jproxy tls deploy --ca ${issuingRoot}`)

  it('certbot --standalone behind proxy.acme gets a certificate and its deploy hook swaps it in; a websocket stays open, no reload', async () => {
    const ws = await openWebsocket(stage, '/xmpp-websocket?room=r1')
    expect(ws.status).to.equal(101)
    const before = await workers(stage)
    const oldSerial = await servedSerial(stage)
    const certbotDir = join(dir, 'certbot')
    const line = `${localize(await docsCommand('certbot certonly'))} --server ${pebble.directory} --config-dir ${certbotDir}/config --work-dir ${certbotDir}/work --logs-dir ${certbotDir}/logs --non-interactive --agree-tos --register-unsafely-without-email`
    const run = await shell(line, {PATH: `${bin}:${process.env.PATH}`, REQUESTS_CA_BUNDLE: testRoot}, 120_000)
    expect(run.code, `${run.output}\n${pebble.output()}`).to.equal(0)

    const live = join(certbotDir, 'config', 'live', DOMAIN)
    const issued = new X509Certificate(await readFile(join(live, 'cert.pem'), 'utf8'))
    expect(issued.serialNumber).to.not.equal(oldSerial)
    expect(await servedSerial(stage), 'HAProxy serves the certificate pebble issued').to.equal(issued.serialNumber)
    expect(await readFile(stage.pem, 'utf8')).to.equal((await readFile(join(live, 'fullchain.pem'), 'utf8')) + (await readFile(join(live, 'privkey.pem'), 'utf8')))
    const log = await readFile(join(certbotDir, 'logs', 'letsencrypt.log'), 'utf8')
    expect(log).to.match(/Running deploy-hook command/)
    expect(log).to.not.match(/reported error code/)
    // The challenge went to certbot, never to a web node.
    expect(stage.seen.filter((s) => s.url.startsWith('/.well-known/'))).to.deep.equal([])

    expect(await workers(stage), 'no reload').to.deep.equal(before)
    expect(ws.closed(), 'the websocket is still open').to.equal(false)
    expect(ws.socket.write('still here')).to.equal(true)
    ws.socket.destroy()
    const prom = await readFile(join(dir, 'deploy.prom'), 'utf8')
    expect(prom).to.match(/^jproxy_tls_deploy_last_success\{domain="meet\.example\.org",target="haproxy"\} 1$/m)
    expect(prom).to.include(`serial="${issued.serialNumber}"`)
  })

  it('lego run --run-hook (no shell; LEGO_CERT_PATH, LEGO_CERT_KEY_PATH) gets a new certificate through the proxy and deploys it', async () => {
    const before = await workers(stage)
    const line = localize(await docsCommand('lego ')).replace(' run ', ` --server ${pebble.directory} run `)
    const run = await shell(line, {LEGO_CA_CERTIFICATES: testRoot, PATH: `${bin}:${process.env.PATH}`}, 120_000)
    expect(run.code, `${run.output}\n${pebble.output()}`).to.equal(0)
    const issued = new X509Certificate(await readFile(join(dir, 'lego', 'certificates', `${DOMAIN}.crt`), 'utf8'))
    expect(await servedSerial(stage)).to.equal(issued.serialNumber)
    expect(await workers(stage), 'no reload').to.deep.equal(before)
    const history = (await readFile(join(dir, 'jproxy', 'apply-history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(history.map((h) => [h.command, h.outcome, h.serial])).to.deep.equal([
      ['tls deploy', 'deployed', new X509Certificate((await readFile(join(dir, 'certbot', 'config', 'live', DOMAIN, 'cert.pem'), 'utf8'))).serialNumber],
      ['tls deploy', 'deployed', issued.serialNumber],
    ])
  })

  it('lego renew --renew-hook from cron: a certificate inside its --days window is renewed through the proxy and deployed', async () => {
    const before = await workers(stage)
    // pebble's certificates run five years: a window longer than that makes this run renew; and the
    // random sleep lego adds before an automated renewal (minutes) is left out here.
    const line = localize(await docsCommand('lego ')).replace(' run ', ` --server ${pebble.directory} run `)
    const renewLine = localize((await docsCommand('lego --accept-tos --email hostmaster@meet.example.org --domains meet.example.org --http --http.port 127.0.0.1:8402 --path /etc/lego renew')).replace('--days 30', '--days 3000')).replace(' renew ', ` --server ${pebble.directory} renew --no-random-sleep `)
    expect(renewLine).to.not.equal(line)
    const run = await shell(renewLine, {LEGO_CA_CERTIFICATES: testRoot, PATH: `${bin}:${process.env.PATH}`}, 120_000)
    expect(run.code, `${run.output}\n${pebble.output()}`).to.equal(0)
    const issued = new X509Certificate(await readFile(join(dir, 'lego', 'certificates', `${DOMAIN}.crt`), 'utf8'))
    expect(await servedSerial(stage)).to.equal(issued.serialNumber)
    expect(await workers(stage), 'no reload').to.deep.equal(before)
  })

  it('a hook that refuses the renewal (a name missing): certbot still exits 0, so the stderr line, the history line and the metric carry the failure', async () => {
    const served = await servedSerial(stage)
    const pem = await readFile(stage.pem, 'utf8')
    const certbotDir = join(dir, 'certbot')
    const line = `${localize(await docsCommand('certbot certonly')).replace('jproxy tls deploy', 'jproxy tls deploy --name turn.meet.example.org')} --force-renewal --server ${pebble.directory} --config-dir ${certbotDir}/config --work-dir ${certbotDir}/work --logs-dir ${certbotDir}/logs --non-interactive --agree-tos --register-unsafely-without-email`
    const run = await shell(line, {PATH: `${bin}:${process.env.PATH}`, REQUESTS_CA_BUNDLE: testRoot}, 120_000)
    expect(run.code, `certbot ignores the hook's exit code\n${run.output}`).to.equal(0)
    // certbot passes the hook's stderr on (indented) to its own stderr and log.
    expect(run.output, run.output).to.match(/jproxy-tls-deploy: FAILED target=haproxy domain=meet\.example\.org outcome=check-failed exit=6 serial=\w+: the new certificate failed its checks \(does not cover turn\.meet\.example\.org/)
    expect(await readFile(join(certbotDir, 'logs', 'letsencrypt.log'), 'utf8')).to.match(/reported error code 6/)
    expect(await servedSerial(stage)).to.equal(served)
    expect(await readFile(stage.pem, 'utf8')).to.equal(pem)
    const history = (await readFile(join(dir, 'jproxy', 'apply-history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(history.at(-1)).to.deep.include({command: 'tls deploy', exitCode: 6, outcome: 'check-failed'})
    const prom = await readFile(join(dir, 'deploy.prom'), 'utf8')
    expect(prom).to.match(/^jproxy_tls_deploy_last_success\{domain="meet\.example\.org",target="haproxy"\} 0$/m)
    // The metric still names what is served: the last successful deploy's certificate.
    expect(prom).to.match(/^jproxy_tls_deploy_last_success_timestamp_seconds\{[^}]*\} [1-9]\d+$/m)
  })
})
