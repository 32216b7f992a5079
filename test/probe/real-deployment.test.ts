import {expect} from 'chai'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../src/inventory/schema.js'
import {probeInventory} from '../../src/probe/probe.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from '../support/certs.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {adminCommand, type HaproxyProcess, startHaproxy, UNPRIVILEGED} from '../support/haproxy-process.js'
import {freePorts, type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {type ProsodyProcess, startProsody} from '../support/prosody-process.js'
import {waitFor} from '../support/wait.js'

const DOMAIN = 'meet.example.org'

/**
 * Real prosody (BOSH + XMPP websocket) and real HAProxy, rendered by jproxy, on loopback; jicofo
 * and the videobridge are the test's own REST servers. Probed up, then with prosody stopped.
 */
describe('probe against real prosody and a real proxy on loopback', function () {
  this.timeout(60_000)
  let dir: string
  let prosody: ProsodyProcess
  let proxy: HaproxyProcess
  let fakes: FakeJitsi[]
  let backends: LoopbackBackend[]
  let inventory: Inventory
  let ca: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-real-'))
    const pem = await selfSignedPem(dir, DOMAIN)
    ca = await readFile(join(dir, `${DOMAIN}.cert.pem`), 'utf8')
    await writeFile(join(dir, 'server-state'), '1\n')
    const [prosodyPort, httpPort, httpsPort, peerPort] = await freePorts(4)
    prosody = await startProsody(dir, prosodyPort, DOMAIN)
    fakes = [await startFakeJitsi(), await startFakeJitsi()]
    backends = [await startBackend('web1', []), await startBackend('colibri', [])]
    const [jicofo, jvb] = fakes
    const [web, colibri] = backends
    inventory = Inventory.parse({
      domain: DOMAIN,
      health: {fall: 1, interval: '1s', rise: 1, timeout: '1s'},
      probe: {proxy: true},
      proxy: {listen: {httpPort, httpsPort, ipv4: '127.0.0.1'}, tls: {certificate: pem, key: pem}},
      shards: [
        {
          jicofo: {address: '127.0.0.1', port: jicofo.port},
          jvbs: [{address: '127.0.0.1', colibriPort: colibri.port, id: 'jvb1', restPort: jvb.port}],
          name: 's1',
          prosody: {address: '127.0.0.1', port: prosodyPort},
        },
      ],
      targets: {haproxy: {...UNPRIVILEGED, localPeerPort: peerPort, socket: join(dir, 'admin.sock'), stateFile: join(dir, 'server-state')}},
      web: [{address: '127.0.0.1', name: 'web1', port: web.port}],
    })
    proxy = await startHaproxy(renderTarget(inventory, 'haproxy'), dir, 'proxy', join(dir, 'admin.sock'))
  })

  after(async () => {
    await Promise.all([proxy?.stop(), prosody?.stop(), ...(fakes ?? []).map((f) => f.close()), ...(backends ?? []).map((b) => b.close())])
    await rm(dir, {force: true, recursive: true})
  })

  const probe = async (tlsCa?: string) => {
    const report = await probeInventory({inventory, stateFile: null, tlsCa})
    return Object.fromEntries(report.backends.map((b) => [b.key, b]))
  }

  it('finds every role up: prosody answers BOSH and upgrades an XMPP websocket, the proxy serves /http-bind', async () => {
    const seen = await probe(ca)
    expect(Object.keys(seen)).to.deep.equal(['web/web1', 'prosody/s1', 'jicofo/s1', 'jvb/s1/jvb1', 'proxy/127.0.0.1'])
    for (const backend of Object.values(seen)) expect(backend.health, `${backend.key}: ${backend.reason}`).to.equal('up')
    expect(seen['prosody/s1'].checks.map((c) => [c.name, c.status])).to.deep.equal([
      ['bosh', 200],
      ['websocket', 101],
    ])
    expect(seen['proxy/127.0.0.1'].checks[0]).to.include({name: 'bosh', status: 200})
  })

  it('finds the proxy down when its certificate is not trusted for the public name', async () => {
    const seen = await probe()
    expect(seen['proxy/127.0.0.1'].health).to.equal('down')
    expect(seen['proxy/127.0.0.1'].reason).to.match(/certificate/i)
  })

  it('finds prosody down once it is stopped, and the proxy with it', async () => {
    await prosody.stop()
    // Until HAProxy's own check marks prosody down, it queues and retries a request; after, 503 at once.
    const prosodyDown = (stat: string) => /^be_prosody,[^,]+,(?:[^,]*,){15}DOWN/m.test(stat)
    const stat = () => adminCommand(join(dir, 'admin.sock'), 'show stat')
    await waitFor('HAProxy to mark prosody down', stat, prosodyDown, {timeoutMs: 10_000})

    const seen = await probe(ca)
    expect(seen['prosody/s1'].health).to.equal('down')
    expect(seen['prosody/s1'].reason).to.equal('bosh: connection refused; websocket: connection refused')
    expect(seen['proxy/127.0.0.1'].health).to.equal('down')
    expect(seen['proxy/127.0.0.1'].reason).to.equal('bosh: HTTP 503, expected 200')
    expect(seen['web/web1'].health).to.equal('up')
  })
})
