import {expect} from 'chai'

import type {Lookup, QueryType, Resolver} from '../../src/dns/client.js'
import {GIVE_UP_AFTER, skipSilentResolvers} from '../../src/dns/silent-resolvers.js'

const A: Resolver = {address: '127.0.0.1', port: 5301}
const B: Resolver = {address: '127.0.0.1', port: 5302}

/** The wrapper's counting alone: the answers come from a script, the real client is tested on unbound. */
function scripted(outcomes: Record<string, Array<Lookup['outcome']>>) {
  const asked: string[] = []
  const query = async (resolver: Resolver, name: string, type: QueryType): Promise<Lookup> => {
    const key = String(resolver.port)
    asked.push(`${key} ${name}`)
    const outcome = outcomes[key].shift() ?? 'answer'
    return {attempts: 1, latencyMs: 1, name, outcome, records: [], resolver, transport: 'udp', type}
  }

  return {asked, query}
}

describe('skipSilentResolvers', () => {
  it('gives up on a resolver that never answered at its first timeout, and on one that did after 3 in a row', async () => {
    const {asked, query} = scripted({5301: ['timeout'], 5302: ['answer', 'timeout', 'timeout', 'nxdomain', 'timeout', 'timeout', 'timeout']})
    const watched = skipSilentResolvers(query)
    for (let i = 0; i < 10; i++) {
      await watched.query(A, `n${i}`, 'A')
      await watched.query(B, `n${i}`, 'A')
    }

    expect(asked.filter((a) => a.startsWith('5301'))).to.deep.equal(['5301 n0'])
    // An NXDOMAIN is an answer: it resets the count, so B is asked until 3 timeouts in a row.
    expect(asked.filter((a) => a.startsWith('5302'))).to.have.length(4 + GIVE_UP_AFTER)
    expect(watched.silent()).to.deep.equal([
      {resolver: '127.0.0.1:5301', skipped: 9},
      {resolver: '127.0.0.1:5302', skipped: 3},
    ])
    const skipped = await watched.query(A, 'late', 'A')
    expect(skipped).to.deep.include({attempts: 0, outcome: 'timeout', reason: 'not asked: 127.0.0.1:5301 stopped answering'})
  })
})
