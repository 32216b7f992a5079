import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readFile, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type IncomingHttpHeaders, request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {parse} from 'yaml'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from '../support/certs.js'
import {type Coturn, startCoturn} from '../support/coturn-process.js'
import {type HaproxyProcess, startHaproxy, UNPRIVILEGED} from '../support/haproxy-process.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'
import {fencedBlocks} from '../support/markdown.js'
import {turnAllocate} from '../support/turn-client.js'

const DOMAIN = 'meet.example.org'
const TURN = 'turn.meet.example.org'
const STARTUP_MS = 15_000

interface Answer {
  body: string
  headers: IncomingHttpHeaders
  status: number
}

/**
 * Real HAProxy 2.6 rendered with the production settings (TURN on the https port, HSTS, maxconn,
 * the Prometheus exporter) in front of Debian's real coturn and loopback HTTP backends.
 */
describe('haproxy production settings on real HAProxy and coturn', function () {
  this.timeout(120_000)
  const seen: SeenRequest[] = []
  const backends: LoopbackBackend[] = []
  let coturn: Coturn | undefined
  let dir: string
  let domainCa: string
  let haproxy: HaproxyProcess | undefined
  let pem: string
  let ports: {http: number; https: number; metrics: number}
  let turnCa: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-production-'))
    pem = await selfSignedPem(dir, DOMAIN)
    domainCa = await readFile(join(dir, `${DOMAIN}.cert.pem`), 'utf8')
    await selfSignedPem(dir, TURN)
    turnCa = await readFile(join(dir, `${TURN}.cert.pem`), 'utf8')
    await writeFile(join(dir, 'state'), '1\n')
    const [http, https, metrics, turnTcp, turnTls] = await freePorts(5)
    ports = {http, https, metrics}
    coturn = await startCoturn({cert: join(dir, `${TURN}.cert.pem`), dir, key: join(dir, `${TURN}.key.pem`), realm: DOMAIN, tcpPort: turnTcp, timeoutMs: STARTUP_MS, tlsPort: turnTls})
    for (const name of ['web1', 'prosody1', 'jicofo1']) backends.push(await startBackend(name, seen))
    const [web, prosody, jicofo] = backends.map((b) => b.port)
    const inventory = Inventory.parse({
      colibriWs: false,
      domain: DOMAIN,
      health: {fall: 1, interval: '1s', rise: 1, timeout: '500ms'},
      proxy: {
        hsts: {includeSubDomains: true, maxAge: 63_072_000},
        listen: {httpPort: http, httpsPort: https, ipv4: '127.0.0.1'},
        maxconn: {global: 4000, http: 500, https: 3000},
        metrics: {listen: `127.0.0.1:${metrics}`},
        tls: {certificate: pem, key: pem},
        turn: {backend: `127.0.0.1:${turnTls}`, sni: TURN},
      },
      shards: [{jicofo: {address: '127.0.0.1', port: jicofo}, name: 's1', prosody: {address: '127.0.0.1', port: prosody}}],
      targets: {haproxy: {...UNPRIVILEGED, socket: join(dir, 'admin.sock'), stateFile: join(dir, 'state')}},
      web: [{address: '127.0.0.1', name: 'web1', port: web}],
    })
    haproxy = await startHaproxy(renderTarget(inventory, 'haproxy'), dir, 'production', join(dir, 'admin.sock'), STARTUP_MS)
  })

  after(async () => {
    await haproxy?.stop()
    await coturn?.daemon.stop()
    for (const backend of backends) await backend.close()
    await rm(dir, {force: true, recursive: true})
  })

  it('passes TLS for the TURN name through to coturn untouched: its own certificate, a 401 challenge, then an allocation', async () => {
    const outcome = await turnAllocate({ca: turnCa, host: '127.0.0.1', password: coturn!.password, port: ports.https, servername: TURN, timeoutMs: 10_000, username: coturn!.username})
    expect(outcome.certificate.subject.CN).to.equal(TURN)
    expect(outcome.challenge).to.equal(401)
    expect(outcome.relayed).to.match(/^127\.0\.0\.1:\d+$/)
    expect(outcome.mapped).to.match(/^127\.0\.0\.1:\d+$/)
  })

  it('sends every other name on the same port to the HTTPS frontend, keeping the client address (PROXY v2) and adding HSTS', async () => {
    const answer = await httpsGet(domainCa, ports.https, '/config.js', '127.0.0.2')
    expect(answer.status).to.equal(200)
    expect(JSON.parse(answer.body).backend).to.equal('web1')
    expect(answer.headers['strict-transport-security']).to.equal('max-age=63072000; includeSubDomains')
    const request = seen.findLast((r) => r.url === '/config.js')
    expect(request?.headers['x-forwarded-for'], 'the web node sees the client, not the loopback hop').to.equal('127.0.0.2')
    expect(request?.headers['x-forwarded-proto']).to.equal('https')
  })

  it('serves TURN and HTTPS side by side on the one port', async () => {
    const [turn, web] = await Promise.all([
      turnAllocate({ca: turnCa, host: '127.0.0.1', password: coturn!.password, port: ports.https, servername: TURN, timeoutMs: 10_000, username: coturn!.username}),
      httpsGet(domainCa, ports.https, '/', '127.0.0.3'),
    ])
    expect(turn.certificate.subject.CN).to.equal(TURN)
    expect(web.status).to.equal(200)
  })

  it('exports Prometheus metrics on the loopback listener, with the maxconn limits in force', async () => {
    // Debian's HAProxy is built with the exporter as a service; the config depends on it.
    const {stdout} = await promisify(execFile)('haproxy', ['-vv'])
    expect(stdout).to.match(/^Available services : .*\bprometheus-exporter\b/m)
    const answer = await httpGet(ports.metrics, '/metrics')
    expect(answer.status).to.equal(200)
    expect(answer.headers['content-type']).to.match(/^text\/plain/)
    expect(answer.body).to.match(/^haproxy_process_max_connections 4000$/m)
    expect(answer.body).to.match(/^haproxy_frontend_limit_sessions\{proxy="fe_https"\} 3000$/m)
    expect(answer.body).to.match(/^haproxy_frontend_limit_sessions\{proxy="fe_http"\} 500$/m)
    expect(answer.body).to.match(/^haproxy_frontend_limit_sessions\{proxy="fe_tls"\} 3000$/m)
    expect(answer.body).to.match(/^haproxy_backend_status\{proxy="be_turn",state="UP"\} 1$/m)
    expect((await httpGet(ports.metrics, '/other')).status).to.equal(404)
  })

  it("docs/proxy-features.md: the scrape target is the exporter's default listener and every alert selects series the exporter has", async () => {
    const blocks = (await fencedBlocks('docs/proxy-features.md')).filter((b) => b.lang === 'yaml').map((b) => parse(b.text))
    const scrape = blocks.find((b) => b.scrape_configs)
    const {listen} = Inventory.parse({...minimalData(), proxy: {...minimalData().proxy, metrics: {}}}).proxy.metrics!
    expect(scrape.scrape_configs[0].static_configs[0].targets).to.deep.equal([`${listen.address}:${listen.port}`])

    const series = (await httpGet(ports.metrics, '/metrics')).body.split('\n').filter((line) => line.startsWith('haproxy_'))
    const rules = blocks.find((b) => b.groups).groups.flatMap((g: {rules: Array<{alert: string; expr: string}>}) => g.rules)
    expect(rules.length).to.be.greaterThan(0)
    for (const rule of rules) {
      for (const [, name, matchers = ''] of rule.expr.matchAll(/\b(haproxy_\w+)(?:\{([^}]*)\})?/g)) {
        const candidates = series.filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
        expect(candidates, `${rule.alert}: ${name}`).to.not.be.empty
        for (const [, label, op, value] of matchers.matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)) {
          const wanted = op === '=' ? [value] : value.split('|')
          for (const one of wanted) expect(candidates.some((line) => line.includes(`${label}="${one}"`)), `${rule.alert}: ${name}{${label}="${one}"}`).to.equal(true)
        }
      }
    }
  })
})

function collect(resolve: (answer: Answer) => void) {
  return (res: import('node:http').IncomingMessage) => {
    let body = ''
    res.on('data', (chunk) => (body += chunk))
    res.on('end', () => resolve({body, headers: res.headers, status: res.statusCode ?? 0}))
  }
}

/** GET over TLS with the public name, from a chosen loopback address (what the web node should see). */
function httpsGet(ca: string, port: number, path: string, localAddress: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({agent: false, ca, headers: {host: DOMAIN, 'user-agent': 'jproxy-test'}, host: '127.0.0.1', localAddress, path, port, servername: DOMAIN}, collect(resolve))
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

function httpGet(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({agent: false, host: '127.0.0.1', path, port}, collect(resolve))
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

/** The smallest valid inventory data: for reading schema defaults. */
function minimalData(): Record<string, any> {
  return {domain: DOMAIN, proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/x.pem', key: '/x.pem'}}, shards: [{name: 's1', prosody: {address: '127.0.0.1'}}], web: [{address: '127.0.0.1', name: 'w'}]}
}
