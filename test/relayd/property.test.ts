import {expect} from 'chai'

import {formatDiagnostic, lintRelaydConf} from '../../src/relayd/lint.js'
import {describeMutation, forbiddenMutations, generateConfig, mutate, renderConfig, seededRandom} from './config-generator.js'

// A new seed each run widens the search; JPROXY_SEED=<n> replays a failing run.
const SEED = Number(process.env.JPROXY_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CONFIGS = 300
const MUTATIONS_PER_CONFIG = 20

const errorsOf = (text: string) => lintRelaydConf(text, {file: 'generated.conf'}).filter((d) => d.severity === 'error')

describe(`relayd grammar round trip (seed ${SEED}; replay with JPROXY_SEED=${SEED})`, () => {
  it(`accepts ${CONFIGS} random configurations built from the grammar`, () => {
    for (let i = 0; i < CONFIGS; i++) {
      const random = seededRandom(SEED + i)
      const text = renderConfig(generateConfig(random, {size: 1 + (i % 3)}), random)
      expect(errorsOf(text).map((d) => formatDiagnostic(d)), `config ${i} (seed ${SEED + i}):\n${text}`).to.deep.equal([])
    }
  })

  it('rejects every single-token mutation the grammar forbids', () => {
    let checked = 0
    for (let i = 0; i < CONFIGS; i++) {
      const random = seededRandom(SEED + i)
      const lines = generateConfig(random, {size: 1 + (i % 3)})
      const candidates = forbiddenMutations(lines)
      for (let m = 0; m < MUTATIONS_PER_CONFIG; m++) {
        const at = candidates[Math.floor(random() * candidates.length)]
        const text = renderConfig(mutate(lines, at), random)
        expect(errorsOf(text), `config ${i} (seed ${SEED + i}), ${describeMutation(lines, at)}:\n${text}`).to.not.be.empty
        checked++
      }
    }

    expect(checked).to.equal(CONFIGS * MUTATIONS_PER_CONFIG)
  })

  it('the generator covers the grammar: every check type, relay and redirect modes, filter rule keys and actions', () => {
    const seen = new Set<string>()
    for (let i = 0; i < CONFIGS; i++) {
      const random = seededRandom(SEED + i)
      for (const line of generateConfig(random)) seen.add(line.map((t) => t.text).join(' '))
    }

    const text = [...seen].join('\n')
    for (const needle of ['check tcp', 'check icmp', 'check tls', 'check http', 'check https', 'check send', 'check binary', 'check script', 'digest', 'code']) {
      expect(text, needle).to.include(needle)
    }

    for (const needle of ['mode roundrobin', 'mode random', 'mode source-hash', 'mode loadbalance', 'mode hash', 'mode least-states', 'redirect', 'relay']) {
      expect(text, needle).to.include(needle)
    }

    for (const needle of ['pass ', 'block ', 'match ', 'path ', 'header set', 'query hash', 'method ', 'cookie log', 'url log', 'tag ', 'label ', 'forward to <']) {
      expect(text, needle).to.include(needle)
    }
  })
})
