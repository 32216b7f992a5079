import {expect} from 'chai'

import type {BackendReport, ProbeReport} from '../../src/probe/probe.js'
import {formatNagios, NAGIOS} from '../../src/report/nagios.js'
import {formatPrometheus} from '../../src/report/prometheus.js'
import {formatProbeTable} from '../../src/report/probe-table.js'
import {fencedBlocks} from '../support/markdown.js'

function backend(key: string, fields: Partial<BackendReport>): BackendReport {
  const [role, ...rest] = key.split('/')
  return {address: '10.0.0.1', checks: [], flipped: false, health: 'up', id: rest.at(-1)!, key, latencyMs: 12, port: 8080, reason: 'health HTTP 200', role: role as BackendReport['role'], state: 'up', ...fields}
}

const report = (backends: BackendReport[]): ProbeReport => ({backends, durationMs: 1500, flips: [], startedAt: '2026-11-26T00:00:00.000Z', warnings: []})

describe('probe reports', () => {
  describe('nagios', () => {
    it('warns about a backend still up after damping but failing now, and one the deadline cut', () => {
      const {exitCode, text} = formatNagios(
        report([
          backend('jvb/s1/jvb1', {failures: 1, health: 'down', pending: {checks: 1, needed: 3, toward: 'down'}, reason: 'health: HTTP 500, expected 200'}),
          backend('jicofo/s1', {health: 'transitional'}),
          backend('web/web1', {health: 'unknown', state: 'unknown'}),
        ]),
      )
      expect(exitCode).to.equal(NAGIOS.WARNING)
      expect(text.split('\n')).to.deep.equal([
        "JPROXY WARNING - 2 of 3 backends up; 3 warning(s): jvb/s1/jvb1 failing (1 of 3 failed checks before going down), jicofo/s1 transitional, … | 'up'=2;;;0;3 'down'=0;;;0;3 'slowest'=0.012s;;;0 'time'=1.500s;;;0",
        'jvb/s1/jvb1 failing (1 of 3 failed checks before going down)',
        'jicofo/s1 transitional',
        'web/web1 not probed to the end',
        '',
      ])
    })

    it('a backend down after damping whose last check was good says how many more it needs, not just "HTTP 200"', () => {
      const {exitCode, text} = formatNagios(report([backend('jicofo/shard-b', {pending: {checks: 1, needed: 2, toward: 'up'}, state: 'down'})]))
      expect(exitCode).to.equal(NAGIOS.CRITICAL)
      expect(text.split('\n')[1]).to.equal('jicofo/shard-b (10.0.0.1:8080) DOWN: 1 of 2 good checks needed to come back up; last check: health HTTP 200')
    })

    it('names at most three down backends on the first line and details each below it', () => {
      const down = ['a', 'b', 'c', 'd'].map((id) => backend(`jvb/s1/${id}`, {health: 'down', reason: 'connection refused', state: 'down'}))
      const {exitCode, text} = formatNagios(report(down))
      expect(exitCode).to.equal(NAGIOS.CRITICAL)
      expect(text.split('\n')[0]).to.match(/^JPROXY CRITICAL - 4 of 4 backends down: jvb\/s1\/a, jvb\/s1\/b, jvb\/s1\/c, … \| /)
      expect(text.split('\n')[4]).to.equal('jvb/s1/d (10.0.0.1:8080) DOWN: connection refused')
    })
  })

  describe('prometheus', () => {
    it('escapes label values and gives NaN for a backend that cannot be told yet', () => {
      const text = formatPrometheus(report([backend('jvb/s"1/x', {shard: 's"1\\', state: 'unknown'})]), new Date('2026-11-26T00:00:10Z'))
      expect(text).to.include('jproxy_backend_up{address="10.0.0.1",id="x",role="jvb",shard="s\\"1\\\\"} NaN\n')
      expect(text).to.include('# TYPE jproxy_backend_up gauge\n')
      expect(text.endsWith(`jproxy_probe_last_run_timestamp_seconds ${Date.UTC(2026, 10, 26, 0, 0, 10) / 1000}\n`)).to.equal(true)
    })
  })

  describe('table', () => {
    it('puts down backends first and notes failing, recovering, unprobed or draining ones, saying how far from flipping', () => {
      const text = formatProbeTable(
        report([
          backend('web/web1', {}),
          backend('jvb/s1/jvb1', {drain: true, participants: 3}),
          backend('jvb/s1/jvb2', {failures: 1, health: 'down', pending: {checks: 1, needed: 3, toward: 'down'}, reason: 'health: HTTP 500, expected 200'}),
          backend('jvb/s1/jvb3', {health: 'unknown', reason: 'not probed: run deadline reached'}),
          backend('jicofo/s1', {health: 'down', reason: 'health: connection refused', state: 'down'}),
          backend('jicofo/shard-b', {pending: {checks: 1, needed: 2, toward: 'up'}, state: 'down'}),
        ]),
      )
      expect(text.split('\n').map((l) => l.split(/\s{2,}/).filter((_, i) => i !== 2 && i !== 3).join(' | '))).to.deep.equal([
        'STATE | BACKEND | DETAIL',
        'DOWN | jicofo/s1 | health: connection refused',
        'DOWN (recovering) | jicofo/shard-b | 1 of 2 good checks needed to come back up; last check: health HTTP 200',
        'UP | web/web1 | health HTTP 200',
        'UP (draining) | jvb/s1/jvb1 | health HTTP 200, 3 participants',
        'UP (failing) | jvb/s1/jvb2 | 1 of 3 failed checks before going down; last check: health: HTTP 500, expected 200',
        'UP (unknown) | jvb/s1/jvb3 | not probed: run deadline reached',
        '',
      ])
    })

    it('docs/probing.md shows the rows of backends on their way to flipping as the table prints them', async () => {
      const text = formatProbeTable(
        report([
          backend('jvb/shard-a/jvb2', {address: '10.10.2.22', failures: 1, health: 'down', latencyMs: 6, pending: {checks: 1, needed: 3, toward: 'down'}, reason: 'health: HTTP 500, expected 200'}),
          backend('jicofo/shard-b', {address: '10.10.3.10', latencyMs: 4, pending: {checks: 1, needed: 2, toward: 'up'}, port: 8888, state: 'down'}),
        ]),
      )
      expect((await fencedBlocks('docs/probing.md')).map((b) => b.text)).to.include(text)
    })
  })
})
