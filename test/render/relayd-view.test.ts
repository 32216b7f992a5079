import {expect} from 'chai'

import {Inventory} from '../../src/inventory/schema.js'
import {relaydView} from '../../src/render/relayd-view.js'
import {fullInventory, smallInventory} from '../fixtures/inventories.js'

const https = (view: ReturnType<typeof relaydView>) => view.relays.find((r) => r.name === 'jitsi_https')!.options

describe('relayd view-model', () => {
  it('hashes prosody and jicofo with one fixed key when there are several shards', () => {
    const options = https(relaydView(Inventory.parse(fullInventory())))
    const modes = options.filter((o) => o.includes('mode hash'))
    expect(modes).to.have.length(2)
    for (const line of modes) expect(line).to.include('mode hash "jproxy:meet.example.org"')
  })

  it('lists shards in inventory order in both the prosody and the jicofo table', () => {
    const view = relaydView(Inventory.parse(fullInventory()))
    expect(view.tables).to.include('table <prosody> { 10.0.1.10 retry 2, 10.0.2.10 retry 2 }')
    expect(view.tables).to.include('table <jicofo> { 10.0.1.11 retry 2, 10.0.2.11 retry 2 }')
  })

  it('does not hash a single shard, and then listens on both families in one relay', () => {
    const data = smallInventory()
    data.proxy.listen.ipv6 = '2001:db8::10'
    const view = relaydView(Inventory.parse(data))
    expect(https(view).some((o) => o.includes('mode hash'))).to.equal(false)
    expect(https(view)).to.include.members(['listen on $ext_addr port 443 tls', 'listen on $ext_addr6 port 443 tls'])
    expect(view.relays.map((r) => r.name)).to.deep.equal(['jitsi_https', 'jitsi_http'])
  })

  it('passes IPv6 through to the IPv4 listener when rooms are hashed', () => {
    const view = relaydView(Inventory.parse(fullInventory()))
    expect(https(view).filter((o) => o.startsWith('listen on'))).to.deep.equal(['listen on $ext_addr port 443 tls'])
    const v6 = view.relays.find((r) => r.name === 'jitsi_https6')!.options
    expect(v6).to.include.members(['listen on $ext_addr6 port 443', 'forward to $ext_addr port 443'])
  })

  it('gives each bridge a table, a forward line and exact colibri routes', () => {
    const view = relaydView(Inventory.parse(fullInventory()))
    expect(view.tables).to.include('table <colibri-jvb2> { jvb2.internal.example.org retry 2 }')
    expect(https(view)).to.include('forward to <colibri-jvb2> port 9090 check tcp')
    expect(view.colibriRules).to.include.members([
      'pass request path "/colibri-ws/jvb2/*" forward to <colibri-jvb2>',
      'pass request path "/colibri-relay-ws/jvb2/*" forward to <colibri-jvb2>',
    ])
  })

  it('turns fall into host retries and health timing into globals', () => {
    const data = smallInventory()
    data.health = {fall: 1, interval: '10s', timeout: '300ms'}
    const view = relaydView(Inventory.parse(data))
    expect(view.globals.slice(0, 2)).to.deep.equal(['interval 10', 'timeout 300'])
    expect(view.tables[0]).to.equal('table <web> { 10.0.0.2 }')
  })

  it('refuses pools whose members listen on different ports, naming the field', () => {
    const data = fullInventory()
    data.web[1].port = 8080
    expect(() => relaydView(Inventory.parse(data))).to.throw(/^web\[\*\]\.port: relayd forwards a table to one port/)
  })

  it('leaves bridges out when colibriWs is off', () => {
    const data = fullInventory()
    data.colibriWs = false
    const view = relaydView(Inventory.parse(data))
    expect(view.colibriRules).to.deep.equal([])
    expect(view.tables.some((t) => t.includes('colibri'))).to.equal(false)
  })
})

describe('relayd view-model: HSTS and TURN', () => {
  it('sets HSTS on HTTPS answers with a response header rule, only when listed', () => {
    const data = smallInventory()
    expect(relaydView(Inventory.parse(data)).responseRules).to.deep.equal([])
    data.proxy.hsts = {includeSubDomains: true, maxAge: 600}
    expect(relaydView(Inventory.parse(data)).responseRules).to.deep.equal(['match response header set "Strict-Transport-Security" value "max-age=600; includeSubDomains"'])
  })

  it('relays TURN as plain TCP on its own address (relayd cannot split a port by SNI), or says why it does not', () => {
    const data = smallInventory()
    data.proxy.turn = {backend: '10.0.0.30:5349', relaydAddress: '192.0.2.11', sni: 'turn.meet.example.org'}
    const view = relaydView(Inventory.parse(data))
    expect(view.macros).to.include('turn_addr = "192.0.2.11"')
    expect(view.tables).to.include('table <turn> { 10.0.0.30 retry 2 }')
    const turn = view.relays.find((r) => r.name === 'turn')!
    expect(turn.options).to.include.members(['listen on $turn_addr port 443', 'forward to <turn> port 5349 check tcp'])
    expect(turn.options.some((o) => o.startsWith('protocol'))).to.equal(false)
    delete data.proxy.turn.relaydAddress
    const without = relaydView(Inventory.parse(data))
    expect(without.relays.map((r) => r.name)).to.not.include('turn')
    expect(without.macros.join('\n')).to.match(/# TURN \(turn\.meet\.example\.org\) is not relayed: .*proxy\.turn\.relaydAddress/)
  })
})
