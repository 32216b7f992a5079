import {expect} from 'chai'
import {stringify} from 'yaml'

import {effectiveInventory} from '../../src/inventory/effective.js'
import {parseInventory} from '../../src/inventory/load.js'
import {proxyView} from '../../src/inventory/proxy-view.js'
import {checkRules} from '../../src/inventory/rules.js'
import {fleetPrefix, Inventory} from '../../src/inventory/schema.js'
import {fullInventory, smallInventory} from '../fixtures/inventories.js'

/** The small fixture with a two-proxy fleet and no peers. */
function withFleet(): Record<string, any> {
  return {...smallInventory(), fleet: {etcd: {endpoints: ['http://127.0.0.1:2379']}, proxies: [{name: 'a'}, {name: 'b'}]}}
}

const problems = (data: Record<string, any>) => parseInventory(stringify(data), 'fleet.yaml').problems.map((p) => `${p.path}: ${p.message}`)
const rules = (data: Record<string, any>) => checkRules(Inventory.parse(data)).map((v) => `${v.path.join('.')}: ${v.message}`)

describe('inventory: the fleet section', () => {
  it('is optional: an inventory without it has none, and its prefix defaults to /jproxy/<domain>', () => {
    expect(Inventory.parse(smallInventory()).fleet).to.equal(undefined)
    const inventory = Inventory.parse(withFleet())
    expect(fleetPrefix(inventory)).to.equal('/jproxy/meet.example.org')
    expect(fleetPrefix({...inventory, domain: 'meet.example.org.'})).to.equal('/jproxy/meet.example.org')
    expect(fleetPrefix(Inventory.parse(fullInventory()))).to.equal('/jproxy/meet.example.org')
  })

  it('accepts http and https endpoints on IPv4, [IPv6] and hostnames', () => {
    const data = withFleet()
    data.fleet.etcd.endpoints = ['http://127.0.0.1:2379', 'https://[::1]:2379', 'https://etcd-1.example.org:2379']
    expect(problems(data)).to.deep.equal([])
  })

  for (const bad of ['127.0.0.1:2379', 'http://127.0.0.1', 'http://127.0.0.1:2379/', 'http://127.0.0.1:2379/v3', 'ftp://127.0.0.1:2379', 'http://user:pw@127.0.0.1:2379', 'http://127.0.0.1:99999', 'http://::1:2379', 'http://[127.0.0.1]:2379', 'http://-bad-.example:2379', 'http://127.0.0.1:2379?x=1']) {
    it(`refuses the endpoint ${bad}, naming the field`, () => {
      const data = withFleet()
      data.fleet.etcd.endpoints = ['http://127.0.0.1:2379', bad]
      expect(problems(data)).to.deep.equal(['fleet.etcd.endpoints[1]: must be http://HOST:PORT or https://HOST:PORT ([v6] in brackets), with no path'])
    })
  }

  it('refuses no endpoints, no proxies, a bad prefix, a relative CA path and an unknown key', () => {
    const data = withFleet()
    data.fleet.etcd.endpoints = []
    data.fleet.proxies = []
    data.fleet.prefix = '/jproxy//x'
    data.fleet.etcd.ca = 'ca.pem'
    data.fleet.etcd.password = 'secret'
    expect(problems(data)).to.have.members([
      'fleet.etcd.endpoints: must list at least one etcd endpoint',
      'fleet.proxies: must list at least one proxy',
      'fleet.prefix: must be a key path such as "/jproxy/meet.example.org": "/"-separated names',
      'fleet.etcd.ca: must be an absolute path',
      'fleet.etcd.password: unknown key `password`; known keys here: ca, cert, endpoints, key',
    ])
  })

  it('refuses a proxy section that the shared one would refuse', () => {
    const data = withFleet()
    data.fleet.proxies[1].listen = {ipv4: '::1'}
    data.fleet.proxies[1].targets = {haproxy: {socket: 'admin.sock'}}
    expect(problems(data)).to.have.members(['fleet.proxies[1].listen.ipv4: must be an IPv4 address', 'fleet.proxies[1].targets.haproxy.socket: must be an absolute path'])
  })

  it('passes the full fixture (names are its peers) and a fleet without peers', () => {
    expect(rules(fullInventory())).to.deep.equal([])
    expect(rules(withFleet())).to.deep.equal([])
  })

  it('refuses a duplicate proxy name and a name that is not among proxy.peers', () => {
    const data = fullInventory()
    data.fleet.proxies.push({name: 'proxy-a'}, {name: 'proxy-c'})
    expect(rules(data)).to.deep.equal([
      'fleet.proxies.2.name: proxy name proxy-a is already used by fleet.proxies[0].name',
      "fleet.proxies.3.name: must be one of proxy.peers (proxy-a, proxy-b): a fleet proxy's name is its peer name",
    ])
  })

  it('refuses a local peer other than the proxy\'s name, one port for http and https, and a cert without its key', () => {
    const data = withFleet()
    data.fleet.proxies[0].targets = {haproxy: {localPeer: 'b'}}
    data.fleet.proxies[1].listen = {httpPort: 8443, httpsPort: 8443, ipv4: '127.0.0.1'}
    data.fleet.etcd.cert = '/etc/jproxy/etcd.pem'
    expect(rules(data)).to.deep.equal([
      "fleet.proxies.0.targets.haproxy.localPeer: must be unset or a: a fleet proxy's local peer is its name",
      'fleet.proxies.1.listen.httpPort: must differ from httpsPort',
      'fleet.etcd.key: fleet.etcd.cert and fleet.etcd.key go together: give both or neither',
    ])
  })

  describe('proxyView', () => {
    it('replaces listen, targets, apply and probe whole with the proxy\'s own, and makes its name the local peer', () => {
      const data = withFleet()
      data.proxy.listen.ipv6 = '2001:db8::10'
      data.targets = {haproxy: {masterSocket: '/run/shared-master.sock', socket: '/run/shared.sock'}}
      data.apply = {backups: 3, dir: '/var/lib/jproxy-shared'}
      data.fleet.proxies[0] = {
        apply: {dir: '/var/lib/jproxy-a'},
        listen: {httpPort: 8080, httpsPort: 8443, ipv4: '127.0.0.2'},
        name: 'a',
        probe: {stateFile: '/var/lib/jproxy-a/probe.json'},
        targets: {haproxy: {socket: '/run/a.sock'}},
      }
      const inventory = Inventory.parse(data)
      const a = proxyView(inventory, 'a')
      // Not merged: the shared ipv6, masterSocket and backups do not leak into a's own sections.
      expect(a.proxy.listen).to.deep.equal({httpPort: 8080, httpsPort: 8443, ipv4: '127.0.0.2'})
      expect(a.targets.haproxy).to.include({localPeer: 'a', masterSocket: '/run/haproxy-master.sock', socket: '/run/a.sock'})
      expect(a.apply).to.include({backups: 10, dir: '/var/lib/jproxy-a'})
      expect(a.probe.stateFile).to.equal('/var/lib/jproxy-a/probe.json')
      expect({...a, apply: 0, probe: 0, proxy: {...a.proxy, listen: 0}, targets: 0}).to.deep.equal({...inventory, apply: 0, probe: 0, proxy: {...inventory.proxy, listen: 0}, targets: 0})

      const b = proxyView(inventory, 'b')
      expect(b.proxy.listen).to.equal(inventory.proxy.listen)
      expect(b.apply).to.equal(inventory.apply)
      expect(b.targets.haproxy).to.deep.equal({...inventory.targets.haproxy, localPeer: 'b'})
      expect(inventory.targets.haproxy.localPeer, 'the inventory itself is left as it was').to.equal(undefined)
    })

    it('throws for a name the fleet does not list, and without a fleet', () => {
      expect(() => proxyView(Inventory.parse(withFleet()), 'c')).to.throw('no fleet proxy named c: fleet.proxies lists a, b')
      expect(() => proxyView(Inventory.parse(smallInventory()), 'a')).to.throw('no fleet proxy named a: the inventory has no fleet section')
    })
  })

  it('--effective writes the fleet back so that loading it again gives the same inventory', () => {
    const inventory = Inventory.parse(fullInventory())
    const again = parseInventory(stringify(effectiveInventory(inventory)), 'effective.yaml')
    expect(again.problems).to.deep.equal([])
    expect(again.inventory).to.deep.equal(inventory)
  })
})
