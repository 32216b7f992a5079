import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type IncomingHttpHeaders, request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {selfSignedPem} from '../support/certs.js'
import {type HaproxyProcess, startHaproxy, UNPRIVILEGED} from '../support/haproxy-process.js'
import {freePorts, type LoopbackBackend, type SeenRequest, startBackend} from '../support/loopback-backends.js'

const SHARDS = ['s1', 's2', 's3']
const JVBS = ['jvb1', 'jvb2', 'jvb3']

interface Answer {
  backend?: string
  headers: IncomingHttpHeaders
  status: number
}

/**
 * Real HAProxy on loopback, rendered by jproxy, in front of small loopback backends: the
 * routes of a Jitsi deployment, room stickiness across request kinds and across two proxies.
 */
describe('haproxy end to end: rendered config in front of loopback backends', function () {
  this.timeout(120_000)
  const seen: SeenRequest[] = []
  const backends: LoopbackBackend[] = []
  const proxies: HaproxyProcess[] = []
  let dir: string
  let ports: {httpA: number; httpB: number; httpsA: number; httpsB: number}
  let configs: string[]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-e2e-'))
    const pem = await selfSignedPem(dir, 'meet.example.org')
    await writeFile(join(dir, 'state'), '1\n')
    const start = async (name: string) => {
      const backend = await startBackend(name, seen)
      backends.push(backend)
      return backend.port
    }

    const web = await start('web1')
    const shards: Array<Record<string, unknown>> = []
    for (const [i, shard] of SHARDS.entries()) {
      shards.push({
        jicofo: {address: '127.0.0.1', port: await start(`${shard}-jicofo`)},
        jvbs: [{address: '127.0.0.1', colibriPort: await start(`${JVBS[i]}-colibri`), id: JVBS[i], restPort: await start(`${JVBS[i]}-rest`)}],
        name: shard,
        prosody: {address: '127.0.0.1', port: await start(`${shard}-prosody`)},
      })
    }

    const [httpA, httpsA, httpB, httpsB, peerA, peerB] = await freePorts(6)
    ports = {httpA, httpB, httpsA, httpsB}
    // Two proxies from one inventory: only the listen address, ports and admin socket differ.
    // Each has its own local peer port, so they share no room table: they agree by hashing alone.
    configs = [
      {http: httpA, https: httpsA, ipv4: '127.0.0.1', peerPort: peerA, socket: join(dir, 'a.sock')},
      {http: httpB, https: httpsB, ipv4: '127.0.0.2', peerPort: peerB, socket: join(dir, 'b.sock')},
    ].map(({http, https, ipv4, peerPort, socket}) =>
      renderTarget(
        Inventory.parse({
          domain: 'meet.example.org',
          // No test here takes a backend down: one slow check on a busy machine must not move a room (fall 3, 2 s).
          health: {fall: 3, interval: '3s', rise: 1, timeout: '2s'},
          proxy: {listen: {httpPort: http, httpsPort: https, ipv4}, tls: {certificate: pem, key: pem}},
          shards,
          targets: {haproxy: {...UNPRIVILEGED, localPeerPort: peerPort, socket, stateFile: join(dir, 'state')}},
          web: [{address: '127.0.0.1', name: 'web1', port: web}],
        }),
        'haproxy',
      ),
    )
    proxies.push(await startHaproxy(configs[0], dir, 'a', join(dir, 'a.sock')), await startHaproxy(configs[1], dir, 'b', join(dir, 'b.sock')))
  })

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()))
    await Promise.all(backends.map((b) => b.close()))
    await rm(dir, {force: true, recursive: true})
  })

  /** One https request through a proxy; returns the status and which backend answered. */
  function get(path: string, {host = '127.0.0.1', method = 'GET', port = ports.httpsA} = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({agent: false, headers: {host: 'meet.example.org'}, host, method, path, port, rejectUnauthorized: false, timeout: 5000}, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => {
          let backend: string | undefined
          try {
            backend = JSON.parse(body).backend
          } catch {}

          resolve({backend, headers: res.headers, status: res.statusCode ?? 0})
        })
      })
      req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)))
      req.on('error', reject)
      req.end(method === 'POST' ? '<body rid="1" xmlns="http://jabber.org/protocol/httpbind"/>' : undefined)
    })
  }

  /** A websocket upgrade through a proxy; returns the status and the X-Backend of the 101. */
  function upgrade(path: string, port = ports.httpsA, host = '127.0.0.1'): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        agent: false,
        headers: {Connection: 'Upgrade', Host: 'meet.example.org', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '13', Upgrade: 'websocket'},
        host,
        path,
        port,
        rejectUnauthorized: false,
        timeout: 5000,
      })
      req.on('upgrade', (res, socket) => {
        socket.destroy()
        resolve({backend: res.headers['x-backend'] as string, headers: res.headers, status: res.statusCode ?? 0})
      })
      req.on('response', (res) => {
        res.resume()
        resolve({headers: res.headers, status: res.statusCode ?? 0})
      })
      req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)))
      req.on('error', reject)
      req.end()
    })
  }

  const shardOf = (backend?: string) => backend?.split('-')[0]

  async function inBatches<T>(jobs: Array<() => Promise<T>>, size = 20): Promise<T[]> {
    const results: T[] = []
    for (let i = 0; i < jobs.length; i += size) results.push(...(await Promise.all(jobs.slice(i, i + size).map((job) => job()))))
    return results
  }

  it('sends 200 requests of one room (BOSH and websocket, any case) to one shard, and its tenant twin to one shard', async () => {
    const jobs: Array<() => Promise<Answer>> = []
    for (let i = 0; i < 50; i++) {
      const room = i % 2 === 0 ? 'DailyStandup' : 'dailystandup'
      jobs.push(
        () => get(`/http-bind?room=${room}`, {method: 'POST'}),
        () => upgrade(`/xmpp-websocket?room=${room}`),
        () => get(`/acme/http-bind?room=${room}`, {method: 'POST'}),
        () => upgrade(`/acme/xmpp-websocket?room=${room}`),
      )
    }

    const answers = await inBatches(jobs)
    for (const answer of answers) expect([200, 101]).to.include(answer.status)
    const plain = new Set(answers.filter((_, i) => i % 4 < 2).map((a) => a.backend))
    const tenant = new Set(answers.filter((_, i) => i % 4 >= 2).map((a) => a.backend))
    expect(plain.size, [...plain].join()).to.equal(1)
    expect(tenant.size, [...tenant].join()).to.equal(1)
    expect([...plain][0]).to.match(/^s\d-prosody$/)
    expect([...tenant][0]).to.match(/^s\d-prosody$/)
  })

  it('spreads many rooms over every shard', async () => {
    const answers = await inBatches(Array.from({length: 300}, (_, i) => () => get(`/http-bind?room=room-${i}`, {method: 'POST'})))
    const counts = new Map<string, number>()
    for (const {backend} of answers) counts.set(shardOf(backend)!, (counts.get(shardOf(backend)!) ?? 0) + 1)
    expect([...counts.keys()].sort()).to.deep.equal(SHARDS)
    for (const [shard, count] of counts) expect(count, `${shard}: ${count} of 300`).to.be.at.least(30)
  })

  it("rewrites tenant requests as prosody expects them and sends conference requests to the room's shard", async () => {
    for (let i = 0; i < 20; i++) {
      const room = `tenant-room-${i}`
      const bosh = await get(`/acme/http-bind?room=${room}`, {method: 'POST'})
      const conference = await get(`/acme/conference-request/v1?room=${room}`, {method: 'POST'})
      expect(conference.backend).to.equal(`${shardOf(bosh.backend)}-jicofo`)
      const plainBosh = await get(`/http-bind?room=${room}`, {method: 'POST'})
      const plainConference = await get(`/conference-request/v1?room=${room}`, {method: 'POST'})
      expect(plainConference.backend).to.equal(`${shardOf(plainBosh.backend)}-jicofo`)
    }

    const prosodySaw = seen.filter((s) => s.backend.endsWith('-prosody') && s.url.includes('tenant-room-3'))
    expect(prosodySaw.map((s) => s.url)).to.include.members(['/http-bind?prefix=acme&room=tenant-room-3', '/http-bind?room=tenant-room-3'])
    const jicofoSaw = seen.filter((s) => s.backend.endsWith('-jicofo') && s.url.includes('tenant-room-3'))
    expect(jicofoSaw.map((s) => s.url)).to.deep.equal(['/conference-request/v1?room=tenant-room-3', '/conference-request/v1?room=tenant-room-3'])
  })

  it('keys a room the way Jitsi does: %25 read as %, any case, so every encoding of one room reaches one shard', async () => {
    const shards = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const forms = [`m%C3%BCnchen-${i}`, `m%c3%bcnchen-${i}`, `M%25C3%25BCnchen-${i}`, `m%25c3%25bcnchen-${i}`]
      const answers = await Promise.all(forms.map((room) => get(`/http-bind?room=${room}`, {method: 'POST'})))
      expect(new Set(answers.map((a) => a.backend)).size, forms.join(' ')).to.equal(1)
      shards.add(answers[0].backend!)
    }

    expect(shards.size, 'the 30 rooms still spread').to.be.greaterThan(1)
  })

  it('passes the tenant to prosody as the client sent it, only in the form Jitsi accepts, without a trailing &', async () => {
    for (let i = 0; i < 10; i++) {
      const [mixed, lower] = await Promise.all([get(`/AcMe/http-bind?room=case-${i}`, {method: 'POST'}), get(`/acme/http-bind?room=case-${i}`, {method: 'POST'})])
      expect(mixed.backend, 'the hash key is lower-cased').to.equal(lower.backend)
    }

    const urls = () => seen.filter((s) => s.backend.endsWith('-prosody')).map((s) => s.url)
    expect(urls()).to.include('/http-bind?prefix=AcMe&room=case-3')
    await get('/acme/http-bind', {method: 'POST'})
    expect(urls().at(-1), 'no query: no trailing &').to.equal('/http-bind?prefix=acme')
    const before = seen.length
    const evil = await get('/acme&prefix=evil/http-bind?room=x', {method: 'POST'})
    expect(evil.backend, 'not a tenant: not signaling').to.equal('web1')
    expect(seen.slice(before).map((s) => s.url), 'passed on untouched, no prefix= query added').to.deep.equal(['/acme&prefix=evil/http-bind?room=x'])
  })

  it('two proxies rendered from one inventory agree on every room', async () => {
    const backendsOf = (config: string) => config.slice(config.indexOf('\nbackend be_web'))
    expect(backendsOf(configs[0])).to.equal(backendsOf(configs[1]))
    const rooms = Array.from({length: 200}, (_, i) => `agree-${i}-${randomBytes(3).toString('hex')}`)
    const viaA = await inBatches(rooms.map((room) => () => get(`/http-bind?room=${room}`, {method: 'POST'})))
    const viaB = await inBatches(rooms.map((room) => () => get(`/http-bind?room=${room}`, {host: '127.0.0.2', method: 'POST', port: ports.httpsB})))
    expect(viaB.map((a) => a.backend)).to.deep.equal(viaA.map((a) => a.backend))
    expect(new Set(viaA.map((a) => a.backend)).size).to.equal(3)
  })

  it('routes /colibri-ws/<id>/ and /colibri-relay-ws/<id>/ to exactly that bridge', async () => {
    expect((await upgrade('/colibri-ws/jvb2/conf1/ep1?pwd=x')).backend).to.equal('jvb2-colibri')
    expect((await get('/colibri-ws/jvb2/conf1/ep1?pwd=x')).backend).to.equal('jvb2-colibri')
    expect((await upgrade('/colibri-relay-ws/jvb3/conf1/relay1?pwd=y')).backend).to.equal('jvb3-colibri')
    for (let i = 0; i < 20; i++) expect((await get(`/colibri-ws/jvb1/c${i}/e?pwd=z`)).backend).to.equal('jvb1-colibri')
  })

  it('answers unknown server-ids with 404 and proxies them nowhere', async () => {
    const before = seen.length
    for (const path of ['/colibri-ws/10.0.0.1/conf/ep?pwd=x', '/colibri-ws/unknown/conf/ep', '/colibri-ws/', '/colibri-relay-ws/jvb9/x', '/colibri-ws/JVB1/c/e']) {
      expect((await get(path)).status, path).to.equal(404)
      expect((await upgrade(path)).status, path).to.equal(404)
    }

    expect(seen.slice(before)).to.deep.equal([])
  })

  it('redirects http:// to https:// on the public name, keeping path and query; ACME stays on http', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      httpRequest({agent: false, host: '127.0.0.1', path: '/SomeRoom?lang=de', port: ports.httpA}, (res) => {
        res.resume()
        resolve({headers: res.headers, status: res.statusCode ?? 0})
      })
        .on('error', reject)
        .end()
    })
    expect(answer.status).to.equal(301)
    expect(answer.headers.location).to.equal(`https://meet.example.org:${ports.httpsA}/SomeRoom?lang=de`)
    const acme = await new Promise<Answer>((resolve, reject) => {
      httpRequest({agent: false, host: '127.0.0.1', path: '/.well-known/acme-challenge/token1', port: ports.httpA}, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({backend: JSON.parse(body).backend, headers: res.headers, status: res.statusCode ?? 0}))
      })
        .on('error', reject)
        .end()
    })
    expect(acme).to.deep.include({backend: 'web1', status: 200})
  })

  it('sends page loads to the web pool with X-Forwarded-For, X-Forwarded-Proto and the Host unchanged', async () => {
    for (const path of ['/', '/SomeRoom', '/libs/app.bundle.min.js', '/http-bind-not-really']) {
      expect((await get(path)).backend, path).to.equal('web1')
    }

    const saw = seen.findLast((s) => s.url === '/SomeRoom')!
    expect(saw.headers['x-forwarded-for']).to.equal('127.0.0.1')
    expect(saw.headers['x-forwarded-proto']).to.equal('https')
    expect(saw.headers.host).to.equal('meet.example.org')
  })
})
