import {expect} from 'chai'

import {Inventory} from '../../src/inventory/schema.js'
import {bareContext} from '../../src/render/context.js'
import {haproxyView} from '../../src/render/haproxy-view.js'
import {renderTarget} from '../../src/render/targets.js'
import {MAX_SERVER_ID, shardServerId} from '../../src/haproxy/vocabulary.js'
import {fullInventory, smallInventory} from '../fixtures/inventories.js'

describe('haproxy view-model', () => {
  it('gives each shard the same server id in the prosody and jicofo backends', () => {
    const view = haproxyView(Inventory.parse(fullInventory()))
    const ids = (lines: string[]) => lines.map((l) => /\bid (\d+)\b/.exec(l)?.[1])
    expect(ids(view.prosodyServers)).to.deep.equal(ids(view.jicofoServers))
    expect(ids(view.prosodyServers)).to.deep.equal([String(shardServerId('shard1')), String(shardServerId('shard2'))])
  })

  it("keeps a shard's server id when other shards are added or reordered", () => {
    const data = fullInventory()
    const before = haproxyView(Inventory.parse(data)).prosodyServers.find((l) => l.includes('shard2'))
    data.shards.reverse()
    data.shards.push({name: 'shard3', prosody: {address: '10.0.3.10'}})
    const after = haproxyView(Inventory.parse(data)).prosodyServers.find((l) => l.includes('shard2'))
    expect(after).to.equal(before)
  })

  it('derives server ids in range, stable, and spread over names', () => {
    const ids = Array.from({length: 500}, (_, i) => shardServerId(`shard-${i}`))
    for (const id of ids) expect(id).to.be.within(1, MAX_SERVER_ID)
    expect(new Set(ids).size).to.be.greaterThan(495)
    expect(shardServerId('shard-7')).to.equal(ids[7])
  })

  it('puts health settings on every server line (runtime-added servers ignore default-server)', () => {
    const data = fullInventory()
    data.health = {fall: 4, interval: '3s', rise: 5, timeout: '1s'}
    const view = haproxyView(Inventory.parse(data))
    for (const line of [...view.webServers, ...view.shardChecks.map((c) => c.lines.at(-1)!), ...view.colibri!.servers]) {
      expect(line).to.match(/ check inter 3s rise 5 fall 4\b/)
    }

    expect(view.timeoutCheck).to.equal('1s')
  })

  it('checks each bridge on its REST port while routing to its colibri port', () => {
    const data = smallInventory()
    data.shards[0].jvbs[0] = {address: '10.0.0.21', colibriPort: 9191, id: 'jvb1', restPort: 8181}
    expect(haproxyView(Inventory.parse(data)).colibri!.servers).to.deep.equal(['server jvb1 10.0.0.21:9191 check inter 5s rise 2 fall 3 port 8181'])
  })

  it('lists every server-id in the colibri allow-list, and a fleet\'s anchor entry after them', () => {
    expect(haproxyView(Inventory.parse(fullInventory())).colibri!.jvbIds).to.deep.equal(['jvb1', 'jvb2', 'jvb3', '/'])
    const single = fullInventory()
    delete single.fleet
    expect(haproxyView(Inventory.parse(single)).colibri!.jvbIds).to.deep.equal(['jvb1', 'jvb2', 'jvb3'])
  })

  it('renders be_colibri and its allow-list in a fleet with no static bridge (registered ones are added at run time)', () => {
    const data = fullInventory()
    for (const shard of data.shards) shard.jvbs = []
    expect(haproxyView(Inventory.parse(data)).colibri).to.deep.include({jvbIds: ['/'], servers: []})
  })

  it('routes no colibri websockets when colibriWs is off or there are no bridges', () => {
    const off = fullInventory()
    off.colibriWs = false
    expect(haproxyView(Inventory.parse(off)).colibri).to.equal(undefined)
    const none = smallInventory()
    none.shards[0].jvbs = []
    expect(haproxyView(Inventory.parse(none)).colibri).to.equal(undefined)
  })

  it('binds both families when an IPv6 listen address is given, with brackets', () => {
    const data = fullInventory()
    delete data.proxy.turn
    const view = haproxyView(Inventory.parse(data))
    expect(view.bindsHttp).to.deep.equal(['192.0.2.10:80', '[2001:db8::10]:80'])
    expect(view.bindsHttps[1]).to.equal('[2001:db8::10]:443 ssl crt /etc/ssl/meet.pem alpn h2,http/1.1')
    // With TURN on 443 the TLS splitter takes both public binds and the HTTPS frontend listens behind it.
    const split = haproxyView(Inventory.parse(fullInventory()))
    expect(split.tlsSplit!.binds).to.deep.equal(['192.0.2.10:443', '[2001:db8::10]:443'])
    expect(split.bindsHttps).to.deep.equal(['abns@jproxy-https accept-proxy ssl crt /etc/ssl/meet.pem alpn h2,http/1.1'])
  })

  it('redirects plain HTTP to the public name, with the https port only when it is not 443', () => {
    expect(haproxyView(Inventory.parse(smallInventory())).httpsOrigin).to.equal('https://meet.example.org')
    const data = smallInventory()
    data.proxy.listen.httpsPort = 8443
    expect(haproxyView(Inventory.parse(data)).httpsOrigin).to.equal('https://meet.example.org:8443')
  })

  it('always has a peers section: the listed peers, or this proxy alone under a name the config itself sets', () => {
    const withPeers = haproxyView(Inventory.parse(fullInventory()))
    expect(withPeers.peers.lines).to.deep.equal(['peer proxy-a 10.0.9.1:10000', 'peer proxy-b 10.0.9.2:10000'])
    expect(withPeers.localPeer).to.equal('proxy-a')
    const shared = fullInventory()
    delete shared.targets.haproxy.localPeer
    expect(haproxyView(Inventory.parse(shared)).localPeer, 'peered without localPeer: the hostname decides').to.equal(undefined)
    const alone = smallInventory()
    alone.targets = {haproxy: {localPeerPort: 10_555}}
    const view = haproxyView(Inventory.parse(alone))
    expect(view.peers.lines).to.deep.equal(['peer local 127.0.0.1:10555'])
    expect(view.localPeer).to.equal('local')
  })

  it('sizes the stick table and its expiry from the inventory (5m and 200000 by default)', () => {
    expect(haproxyView(Inventory.parse(smallInventory())).stick).to.deep.equal({expire: '5m', size: 200_000})
    const data = smallInventory()
    data.proxy.stickExpiry = '15m'
    data.proxy.stickSize = 50_000
    expect(haproxyView(Inventory.parse(data)).stick).to.deep.equal({expire: '15m', size: 50_000})
  })

  it('gives each shard one health verdict that its prosody and jicofo servers track, at full weight unless draining', () => {
    const data = fullInventory()
    data.shards[1].state = 'drain'
    data.shards[1].jicofo.address = data.shards[1].prosody.address
    const view = haproxyView(Inventory.parse(data))
    expect(view.prosodyServers).to.deep.equal([
      `server shard1 10.0.1.10:5280 id ${shardServerId('shard1')} weight 256 track hc_shard1/shard1`,
      `server shard2 10.0.2.10:5280 id ${shardServerId('shard2')} weight 0 track hc_shard2/shard2`,
    ])
    expect(view.jicofoServers[1]).to.equal(`server shard2 10.0.2.10:8888 id ${shardServerId('shard2')} weight 0 track hc_shard2/shard2`)
    expect(view.shardChecks.map((c) => c.backend)).to.deep.equal(['hc_shard1', 'hc_shard2'])
    expect(view.shardChecks[0].lines).to.include('http-check connect addr 10.0.1.11 port 8888')
    expect(view.shardChecks[1].lines, 'jicofo on the prosody host: same address').to.include('http-check connect port 8888')
    expect(view.shardChecks[1].lines.at(-1)).to.equal('server shard2 10.0.2.10:5280 check inter 5s rise 2 fall 3')
    data.shards[1].jicofo.address = '2001:db8::11'
    expect(haproxyView(Inventory.parse(data)).shardChecks[1].lines, 'IPv6 in brackets').to.include('http-check connect addr [2001:db8::11] port 8888')
  })

  it('refuses a jicofo hostname of its own, which a check step cannot reach, naming the shard', () => {
    const data = smallInventory()
    data.shards[0].jicofo = {address: 'jicofo.internal.example.org'}
    expect(() => haproxyView(Inventory.parse(data))).to.throw(/^shards: shard1: jicofo\.address jicofo\.internal\.example\.org must be an IP address or the prosody host/)
  })

  it('refuses a key HAProxy would not find beside the certificate, naming the field', () => {
    const data = smallInventory()
    data.proxy.tls.key = '/etc/ssl/private/meet.key'
    expect(() => haproxyView(Inventory.parse(data))).to.throw(/^proxy\.tls\.key: /)
  })

  it('lets a server whose hostname does not resolve start disabled instead of failing the proxy', () => {
    const view = haproxyView(Inventory.parse(fullInventory()))
    expect(view.colibri!.servers[1]).to.equal('server jvb2 jvb2.internal.example.org:9090 init-addr last,libc,none check inter 5s rise 2 fall 3 port 8080')
    expect(view.colibri!.servers[0]).to.not.include('init-addr')
  })

  it('brackets IPv6 backend addresses', () => {
    const data = smallInventory()
    data.web[0].address = '2001:db8::2'
    expect(haproxyView(Inventory.parse(data)).webServers[0]).to.match(/^server web1 \[2001:db8::2\]:80 /)
  })
})

describe('haproxy view-model: privileges, HSTS, maxconn, metrics', () => {
  const bare = (platform: 'debian' | 'openbsd') => bareContext(platform)

  it("defaults user, group and chroot to the platform package's, with the socket for the group", () => {
    const inventory = Inventory.parse(smallInventory())
    expect(haproxyView(inventory, bare('debian'))).to.deep.include({chroot: '/var/lib/haproxy', group: 'haproxy', socketAccess: 'mode 660 group haproxy', user: 'haproxy'})
    expect(haproxyView(inventory, bare('openbsd'))).to.deep.include({chroot: '/var/haproxy', group: '_haproxy', socketAccess: 'mode 660 group _haproxy', user: '_haproxy'})
  })

  it('turns each privilege setting off with false, and keeps explicit values', () => {
    const data = smallInventory()
    data.targets = {haproxy: {chroot: false, group: false, user: false}}
    const off = haproxyView(Inventory.parse(data), bare('openbsd'))
    expect([off.chroot, off.group, off.user]).to.deep.equal([undefined, undefined, undefined])
    expect(off.socketAccess).to.equal('mode 660')
    const text = renderTarget(Inventory.parse(data), 'haproxy')
    expect(text).to.not.match(/^\s*(chroot|user|group) /m)
    data.targets = {haproxy: {chroot: '/srv/haproxy', group: 'ops', user: false}}
    expect(haproxyView(Inventory.parse(data), bare('debian'))).to.deep.include({chroot: '/srv/haproxy', group: 'ops', socketAccess: 'mode 660 group ops', user: undefined})
  })

  it('leaves HSTS, maxconn, metrics and TURN out unless the inventory lists them', () => {
    const text = renderTarget(Inventory.parse(smallInventory()), 'haproxy')
    expect(text).to.not.match(/Strict-Transport-Security|maxconn|prometheus-exporter|fe_tls|accept-proxy/)
  })

  it('renders HSTS with its max-age and flags, maxconn per place, and the exporter on loopback by default', () => {
    const data = smallInventory()
    data.proxy.hsts = {}
    data.proxy.maxconn = {https: 5000}
    data.proxy.metrics = {}
    const view = haproxyView(Inventory.parse(data))
    expect(view.hsts).to.equal('http-response set-header Strict-Transport-Security "max-age=31536000"')
    expect([view.maxconnGlobal, view.maxconnHttp, view.maxconnHttps]).to.deep.equal([undefined, undefined, 5000])
    expect(view.metrics).to.deep.equal({bind: '127.0.0.1:8405', path: '/metrics'})
    data.proxy.metrics = {listen: '[::1]:9101', path: '/haproxy-metrics'}
    expect(haproxyView(Inventory.parse(data)).metrics).to.deep.equal({bind: '[::1]:9101', path: '/haproxy-metrics'})
  })

  it('rejects a metrics listener without a port and a TURN backend that is not ADDRESS:PORT, naming the field', () => {
    const data = smallInventory()
    data.proxy.metrics = {listen: '127.0.0.1'}
    data.proxy.turn = {backend: 'turn.internal', sni: 'turn.meet.example.org'}
    const result = Inventory.safeParse(data)
    expect(result.success).to.equal(false)
    expect(result.error!.issues.map((i) => i.path.join('.'))).to.have.members(['proxy.metrics.listen', 'proxy.turn.backend'])
  })

  it('hands HTTPS to the TLS splitter over an abstract socket on Linux and a unix socket in the chroot on OpenBSD', () => {
    const data = smallInventory()
    data.proxy.turn = {backend: 'turn.internal:5349', sni: 'turn.meet.example.org'}
    const linux = haproxyView(Inventory.parse(data), bare('debian'))
    expect(linux.tlsSplit).to.deep.equal({binds: ['192.0.2.10:443'], httpsServer: 'abns@jproxy-https send-proxy-v2', sni: 'turn.meet.example.org', turnServer: 'coturn turn.internal:5349 check'})
    const openbsd = haproxyView(Inventory.parse(data), bare('openbsd'))
    expect(openbsd.bindsHttps[0]).to.match(/^unix@\/var\/haproxy\/jproxy-https\.sock accept-proxy ssl crt /)
    expect(openbsd.tlsSplit!.httpsServer).to.equal('unix@/jproxy-https.sock send-proxy-v2')
  })
})
