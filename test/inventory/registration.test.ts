import {expect} from 'chai'

import {Inventory} from '../../src/inventory/schema.js'
import {parseRegistration, type Registration, registrationKey, REGISTRATION_MAX_BYTES, withRegisteredBridges} from '../../src/inventory/registration.js'
import {cidrContains, parseCidr} from '../../src/system/ip.js'
import {fleetInventory} from '../support/fleet-inventory.js'

/** Two shards, a static bridge in each, and bridges allowed in `jvbNetworks` (unset: anywhere). */
function inventory(jvbNetworks?: string[]) {
  const data = fleetInventory('/tmp/unused', 'http://127.0.0.1:2379')
  data.fleet.jvbNetworks = jvbNetworks
  data.shards = [
    {jvbs: [{address: '10.20.0.1', id: 'jvb1'}], name: 's1', prosody: {address: '10.0.0.2'}},
    {jvbs: [{address: '10.20.0.2', colibriPort: 9191, id: 'jvb2', restPort: 8181}], name: 's2', prosody: {address: '10.0.0.3'}},
  ]
  return Inventory.parse(data)
}

const P = '/jproxy/meet.example.org/jvbs/'
const good = {address: '10.20.1.7', announcedAt: '2025-01-31T12:00:00.000Z', colibriPort: 9090, id: 'jvb7', restPort: 8080, shard: 's1', state: 'active'}
const valueWith = (change: Record<string, unknown>) => JSON.stringify({...good, ...change})

describe('jvb registrations: parseRegistration', () => {
  const inv = inventory(['10.20.0.0/16', '2001:db8:20::/48'])

  it('accepts a well-formed registration, and fills the inventory\'s default ports', () => {
    expect(registrationKey(inv, 's1', 'jvb7')).to.equal(`${P}s1/jvb7`)
    expect(parseRegistration(`${P}s1/jvb7`, JSON.stringify(good), inv)).to.deep.equal({ok: true, registration: good})
    const {colibriPort: _c, restPort: _r, ...bare} = good
    const parsed = parseRegistration(`${P}s1/jvb7`, JSON.stringify({...bare, state: 'draining'}), inv)
    expect(parsed).to.deep.equal({ok: true, registration: {...good, state: 'draining'} satisfies Registration})
    expect(parseRegistration(`${P}s2/jvb8`, valueWith({address: '2001:db8:20::8', id: 'jvb8', shard: 's2'}), inv).ok).to.equal(true)
  })

  it('without fleet.jvbNetworks, any address the inventory accepts for a bridge, a hostname too', () => {
    const open = inventory()
    expect(parseRegistration(`${P}s1/jvb7`, valueWith({address: '192.0.2.7'}), open).ok).to.equal(true)
    expect(parseRegistration(`${P}s1/jvb7`, valueWith({address: 'jvb7.internal.example.org'}), open).ok).to.equal(true)
  })

  /** [what, key, value, the field the refusal must name]: each a registration a hostile or broken writer could put. */
  const hostile: Array<[string, string, string, string]> = [
    // The key.
    ['a key outside the prefix', '/jproxy/other.example.org/jvbs/s1/jvb7', JSON.stringify(good), 'key'],
    ['a key of another prefix that starts alike', '/jproxy/meet.example.org/jvbsx/s1/jvb7', JSON.stringify(good), 'key'],
    ['a key without an id', `${P}s1`, JSON.stringify(good), 'key'],
    ['a key with an empty id', `${P}s1/`, JSON.stringify(good), 'key'],
    ['a key one level too deep', `${P}s1/jvb7/x`, JSON.stringify(good), 'key'],
    ['a key with a traversal', `${P}s1/../s2/jvb7`, JSON.stringify(good), 'key'],
    // Key and value disagree.
    ['the key names another shard', `${P}s2/jvb7`, JSON.stringify(good), 'shard'],
    ['the key names another id', `${P}s1/jvb9`, JSON.stringify(good), 'id'],
    ['the key\'s id differs in case', `${P}s1/JVB7`, JSON.stringify(good), 'id'],
    // The value's form.
    ['not JSON', `${P}s1/jvb7`, '{id: jvb7}', 'value'],
    ['an empty value', `${P}s1/jvb7`, '', 'value'],
    ['a JSON array', `${P}s1/jvb7`, JSON.stringify([good]), 'value'],
    ['a JSON string', `${P}s1/jvb7`, JSON.stringify(JSON.stringify(good)), 'value'],
    ['JSON null', `${P}s1/jvb7`, 'null', 'value'],
    ['a huge value', `${P}s1/jvb7`, valueWith({pad: 'x'.repeat(REGISTRATION_MAX_BYTES)}), 'value'],
    ['an unknown field', `${P}s1/jvb7`, valueWith({weight: 100}), 'value'],
    ['a media section (pf rules are not run-time)', `${P}s1/jvb7`, valueWith({media: {address: '198.51.100.7'}}), 'value'],
    // The id.
    ['no id', `${P}s1/jvb7`, valueWith({id: undefined}), 'id'],
    ['an id with a space', `${P}s1/jvb 7`, valueWith({id: 'jvb 7'}), 'id'],
    ['an id with a newline', `${P}s1/jvb7\n`, valueWith({id: 'jvb7\n'}), 'id'],
    ['an id with a slash', `${P}s1/jvb/7`, valueWith({id: 'jvb/7'}), 'key'],
    ['an id with a haproxy comment', `${P}s1/jvb7#x`, valueWith({id: 'jvb7#x'}), 'id'],
    ['an id starting with a dot', `${P}s1/.jvb7`, valueWith({id: '.jvb7'}), 'id'],
    ['an id too long', `${P}s1/${'j'.repeat(41)}`, valueWith({id: 'j'.repeat(41)}), 'id'],
    ['an empty id', `${P}s1/jvb7`, valueWith({id: ''}), 'id'],
    ['a numeric id', `${P}s1/7`, valueWith({id: 7}), 'id'],
    ['an id with a bidi override', `${P}s1/jvb\u202E7`, valueWith({id: 'jvb\u202E7'}), 'id'],
    ['an id of a static bridge of the same shard', `${P}s1/jvb1`, valueWith({id: 'jvb1'}), 'id'],
    ['an id of a static bridge of another shard', `${P}s1/jvb2`, valueWith({id: 'jvb2'}), 'id'],
    // The shard.
    ['a shard the inventory does not have', `${P}s9/jvb7`, valueWith({shard: 's9'}), 'shard'],
    ['no shard', `${P}s1/jvb7`, valueWith({shard: undefined}), 'shard'],
    ['a shard with a newline', `${P}s1\n/jvb7`, valueWith({shard: 's1\n'}), 'shard'],
    // The address.
    ['an address outside fleet.jvbNetworks', `${P}s1/jvb7`, valueWith({address: '10.21.0.7'}), 'address'],
    ['a public address', `${P}s1/jvb7`, valueWith({address: '198.51.100.7'}), 'address'],
    ['loopback', `${P}s1/jvb7`, valueWith({address: '127.0.0.1'}), 'address'],
    ['an IPv6 address outside the networks', `${P}s1/jvb7`, valueWith({address: '2001:db8:21::7'}), 'address'],
    ['an IPv4-mapped IPv6 of an inside address', `${P}s1/jvb7`, valueWith({address: '::ffff:10.20.1.7'}), 'address'],
    ['a hostname while networks are set', `${P}s1/jvb7`, valueWith({address: 'jvb7.example.org'}), 'address'],
    ['an address with a port', `${P}s1/jvb7`, valueWith({address: '10.20.1.7:9090'}), 'address'],
    ['an address with a config line', `${P}s1/jvb7`, valueWith({address: '10.20.1.7\nserver evil 6.6.6.6:80'}), 'address'],
    ['an address with a space', `${P}s1/jvb7`, valueWith({address: '10.20.1.7 backup'}), 'address'],
    ['a broken IPv4 literal', `${P}s1/jvb7`, valueWith({address: '10.20.1.300'}), 'address'],
    ['no address', `${P}s1/jvb7`, valueWith({address: undefined}), 'address'],
    // The ports.
    ['port 0', `${P}s1/jvb7`, valueWith({colibriPort: 0}), 'colibriPort'],
    ['a port above 65535', `${P}s1/jvb7`, valueWith({restPort: 65_536}), 'restPort'],
    ['a fractional port', `${P}s1/jvb7`, valueWith({colibriPort: 9090.5}), 'colibriPort'],
    ['a port as text', `${P}s1/jvb7`, valueWith({restPort: '8080'}), 'restPort'],
    ['a static bridge\'s colibri endpoint', `${P}s2/jvb7`, valueWith({address: '10.20.0.2', colibriPort: 9191, shard: 's2'}), 'colibriPort'],
    ['a static bridge\'s REST endpoint as colibri port', `${P}s1/jvb7`, valueWith({address: '10.20.0.1', colibriPort: 8080, restPort: 8088}), 'colibriPort'],
    // The rest.
    ['an unknown state', `${P}s1/jvb7`, valueWith({state: 'up'}), 'state'],
    ['no state', `${P}s1/jvb7`, valueWith({state: undefined}), 'state'],
    ['a time that is not an instant', `${P}s1/jvb7`, valueWith({announcedAt: 'yesterday'}), 'announcedAt'],
    ['a time with a line break', `${P}s1/jvb7`, valueWith({announcedAt: '2025-01-31T12:00:00Z\n'}), 'announcedAt'],
  ]

  it(`refuses ${hostile.length} hostile registrations (at least 50), each naming the field at fault`, () => {
    expect(hostile.length).to.be.at.least(50)
    const wrong = hostile.flatMap(([what, key, value, field]) => {
      const parsed = parseRegistration(key, value, inv)
      if (parsed.ok) return [`${what}: accepted`]
      return parsed.problem.field === field && parsed.problem.message.length > 0 ? [] : [`${what}: refused for ${parsed.problem.field} (${parsed.problem.message}), not ${field}`]
    })
    expect(wrong).to.deep.equal([])
  })

  it('says why in words: the static bridge, the networks, the shard', () => {
    const problem = (key: string, value: string) => (parseRegistration(key, value, inv) as {problem: {message: string}}).problem.message
    expect(problem(`${P}s1/jvb2`, valueWith({id: 'jvb2'}))).to.equal('jvb2 is a static bridge of shard s2 in the inventory')
    expect(problem(`${P}s1/jvb7`, valueWith({address: '10.21.0.7'}))).to.equal('10.21.0.7 is outside fleet.jvbNetworks (10.20.0.0/16, 2001:db8:20::/48)')
    expect(problem(`${P}s9/jvb7`, valueWith({shard: 's9'}))).to.equal('s9 is not a shard of the inventory')
    expect(problem(`${P}s1/jvb7`, valueWith({weight: 1}))).to.equal('unknown field "weight"')
  })
})

describe('fleet.jvbNetworks: networks as ADDRESS/BITS', () => {
  it('parses v4 and v6 networks and refuses anything else', () => {
    for (const good of ['10.0.0.0/8', '10.20.0.0/16', '0.0.0.0/0', '192.0.2.7/32', '2001:db8::/32', '::/0', '2001:db8::1/128']) expect(parseCidr(good), good).to.not.equal(undefined)
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'example.org/8', '10.0.0.0/-1', '10.0.0.0/8/8', 'fe80::1%eth0/64', '']) expect(parseCidr(bad), bad).to.equal(undefined)
  })

  it('contains exactly its addresses', () => {
    expect(cidrContains('10.20.0.0/16', '10.20.255.255')).to.equal(true)
    expect(cidrContains('10.20.0.0/16', '10.21.0.0')).to.equal(false)
    expect(cidrContains('10.20.7.9/16', '10.20.1.1')).to.equal(true)
    expect(cidrContains('0.0.0.0/0', '203.0.113.1')).to.equal(true)
    expect(cidrContains('2001:db8:20::/48', '2001:db8:20:ffff::1')).to.equal(true)
    expect(cidrContains('2001:db8:20::/48', '2001:db8:21::1')).to.equal(false)
    expect(cidrContains('::ffff:0:0/96', '::ffff:10.0.0.1')).to.equal(true)
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).to.equal(false)
    expect(cidrContains('10.0.0.0/8', 'jvb.example.org')).to.equal(false)
  })

  it('the inventory refuses a bad network and an empty list, naming the field', () => {
    const data = fleetInventory('/tmp/unused', 'http://127.0.0.1:2379')
    for (const networks of [['10.0.0.0/40'], ['jvbs'], []]) {
      data.fleet.jvbNetworks = networks
      const parsed = Inventory.safeParse(data)
      expect(parsed.success, JSON.stringify(networks)).to.equal(false)
      expect(parsed.error!.issues[0].path.slice(0, 2)).to.deep.equal(['fleet', 'jvbNetworks'])
    }
  })
})

describe('jvb registrations: withRegisteredBridges', () => {
  const inv = inventory()
  const registration = (id: string, shard: string): Registration => ({...good, address: `10.20.1.${id.length}`, id, shard}) as Registration

  it('adds each registered bridge to its shard after the static ones, in id order, without its state', () => {
    const view = withRegisteredBridges(inv, [registration('jvb9', 's1'), registration('jvb10', 's2'), {...registration('jvb7', 's1'), state: 'draining'}])
    expect(view.shards.map((s) => s.jvbs.map((j) => j.id))).to.deep.equal([['jvb1', 'jvb7', 'jvb9'], ['jvb2', 'jvb10']])
    expect(view.shards[0].jvbs[1]).to.deep.equal({address: '10.20.1.4', colibriPort: 9090, id: 'jvb7', restPort: 8080})
    // Pure: the view it was given is unchanged.
    expect(inv.shards.map((s) => s.jvbs.length)).to.deep.equal([1, 1])
  })

  it('returns the view itself when nothing is registered', () => {
    expect(withRegisteredBridges(inv, [])).to.equal(inv)
  })
})
