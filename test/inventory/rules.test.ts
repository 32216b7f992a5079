import {expect} from 'chai'

import {checkRules} from '../../src/inventory/rules.js'
import {Inventory} from '../../src/inventory/schema.js'
import {fullInventory, smallInventory} from '../fixtures/inventories.js'

function violations(data: Record<string, any>): Array<{message: string; path: string}> {
  return checkRules(Inventory.parse(data)).map((v) => ({message: v.message, path: v.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1)}))
}

describe('inventory cross-field rules', () => {
  it('passes the full fixture', () => {
    expect(violations(fullInventory())).to.deep.equal([])
  })

  it('refuses a server-id used twice, even across shards', () => {
    const data = fullInventory()
    data.shards[1].jvbs[0].id = 'jvb1'
    expect(violations(data)).to.deep.equal([{message: 'server-id jvb1 is already used by shards[0].jvbs[0].id', path: 'shards[1].jvbs[0].id'}])
  })

  it('refuses a name shared by a web node and a shard', () => {
    const data = fullInventory()
    data.shards[0].name = 'web1'
    expect(violations(data)).to.deep.equal([{message: 'name web1 is already used by web[0].name', path: 'shards[0].name'}])
  })

  it('refuses two endpoints on one address:port', () => {
    const data = fullInventory()
    data.shards[1].prosody.address = '10.0.1.10'
    expect(violations(data)).to.deep.equal([{message: 'address:port 10.0.1.10:5280 is already used by shards[0].prosody.address', path: 'shards[1].prosody.address'}])
  })

  it('allows jicofo on the prosody host (other port) and two bridges on one host with other ports', () => {
    const data = smallInventory()
    data.shards[0].jvbs.push({address: '10.0.0.21', colibriPort: 9091, id: 'jvb2', restPort: 8081})
    expect(violations(data)).to.deep.equal([])
  })

  it("refuses a bridge whose colibri and REST ports are one port", () => {
    const data = smallInventory()
    data.shards[0].jvbs[0].restPort = 9090
    expect(violations(data).map((v) => v.path)).to.deep.equal(['shards[0].jvbs[0].restPort'])
  })

  it('refuses two bridges on one public media address:port', () => {
    const data = fullInventory()
    data.shards[1].jvbs[0].media.address = '198.51.100.21'
    expect(violations(data).map((v) => v.path)).to.deep.equal(['shards[1].jvbs[0].media.port'])
  })

  it('compares IPv6 addresses case-insensitively', () => {
    const data = smallInventory()
    data.web.push({address: '2001:DB8::5', name: 'web2'}, {address: '2001:db8::5', name: 'web3'})
    expect(violations(data).map((v) => v.path)).to.deep.equal(['web[2].address'])
  })

  it("enforces relayd's 32 hosts per table for web nodes and shards", () => {
    const data = smallInventory()
    data.web = Array.from({length: 33}, (_, i) => ({address: `10.1.0.${i + 1}`, name: `web${i}`}))
    data.shards = Array.from({length: 33}, (_, i) => ({name: `s${i}`, prosody: {address: `10.2.0.${i + 1}`}}))
    expect(violations(data).map((v) => v.path)).to.deep.equal(['web', 'shards'])
  })

  it('needs the check timeout below the interval, and the interval in whole seconds', () => {
    const data = smallInventory()
    data.health = {interval: '1500ms', timeout: '2s'}
    expect(violations(data).map((v) => v.path)).to.deep.equal(['health.timeout', 'health.interval'])
  })

  it('refuses one port for http and https', () => {
    const data = smallInventory()
    data.proxy.listen.httpPort = 443
    expect(violations(data).map((v) => v.path)).to.deep.equal(['proxy.listen.httpPort'])
  })

  it('refuses duplicate peer names', () => {
    const data = fullInventory()
    data.proxy.peers[1].name = 'proxy-a'
    // The fleet's proxy-b is then no peer either.
    expect(violations(data).map((v) => v.path)).to.deep.equal(['proxy.peers[1].name', 'fleet.proxies[1].name'])
  })

  it('refuses a localPeer that is not one of the listed peers, naming the peers', () => {
    const data = fullInventory()
    data.targets.haproxy.localPeer = 'proxy-c'
    const found = violations(data)
    expect(found.map((v) => v.path)).to.deep.equal(['targets.haproxy.localPeer'])
    expect(found[0].message).to.match(/^must be one of proxy\.peers \(proxy-a, proxy-b\)/)
    const alone = smallInventory()
    alone.targets = {haproxy: {localPeer: 'edge1'}}
    expect(violations(alone), 'a single proxy may name itself freely').to.deep.equal([])
  })

  it('refuses a stick expiry shorter than the clients\' keep-alive gap', () => {
    const data = smallInventory()
    data.proxy.stickExpiry = '90s'
    expect(violations(data).map((v) => v.path)).to.deep.equal(['proxy.stickExpiry'])
    data.proxy.stickExpiry = '2m'
    expect(violations(data)).to.deep.equal([])
  })
})
