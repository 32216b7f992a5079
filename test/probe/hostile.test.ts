import {expect} from 'chai'

import {runProbes} from '../../src/probe/run.js'
import {HOSTILE_KINDS, type RawServer, startHostile} from '../support/hostile-servers.js'

const TIMEOUT_MS = 1000

describe('probes against hostile backends', () => {
  let servers: RawServer[]
  before(async () => {
    servers = await Promise.all(HOSTILE_KINDS.map((kind) => startHostile(kind)))
  })
  after(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  it('gives each its verdict within the timeout, and the run stays bounded', async () => {
    const started = performance.now()
    const results = await runProbes(
      servers.map((s, i) => ({address: '127.0.0.1', id: HOSTILE_KINDS[i], key: `web/${HOSTILE_KINDS[i]}`, port: s.port, role: 'web' as const})),
      {concurrency: 64, deadlineMs: 10_000, domain: 'meet.example.org', jvbStats: false, timeoutMs: TIMEOUT_MS, webPath: '/'},
    )
    const elapsed = performance.now() - started
    const verdict = Object.fromEntries(results.map((r) => [r.id, [r.health, r.reason]]))
    expect(verdict.refused).to.deep.equal(['down', 'page: connection refused'])
    expect(verdict.silent).to.deep.equal(['down', `page: no complete answer within ${TIMEOUT_MS} ms`])
    expect(verdict.drip).to.deep.equal(['down', `page: no complete answer within ${TIMEOUT_MS} ms`])
    expect(verdict.endless[0], 'a 200 whose body never ends is cut at the cap').to.equal('up')
    expect(verdict.invalid[0]).to.equal('down')
    expect(verdict.invalid[1]).to.match(/not an HTTP answer/)
    expect(verdict.redirectLoop[1]).to.include('HTTP 302').and.include('not followed')
    expect(verdict.unavailable).to.deep.equal(['down', 'page: HTTP 503, expected 2xx'])
    expect(verdict.tlsGarbage[1]).to.match(/not an HTTP answer/)
    for (const r of results) expect(r.latencyMs, r.id).to.be.at.most(TIMEOUT_MS + 200)
    expect(elapsed).to.be.below(TIMEOUT_MS + 1000)
  })

  it('reports probes the run deadline cut as unknown, not down', async () => {
    const silent = servers[HOSTILE_KINDS.indexOf('silent')]
    const targets = Array.from({length: 4}, (_, i) => ({address: '127.0.0.1', id: `s${i}`, key: `web/s${i}`, port: silent.port, role: 'web' as const}))
    const results = await runProbes(targets, {concurrency: 2, deadlineMs: 300, domain: 'meet.example.org', jvbStats: false, timeoutMs: 5000, webPath: '/'})
    expect(results.map((r) => r.health)).to.deep.equal(['unknown', 'unknown', 'unknown', 'unknown'])
    expect(results[3].reason).to.equal('not probed: run deadline reached')
  })
})
