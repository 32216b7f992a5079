import {expect} from 'chai'

import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {smallInventory} from '../fixtures/inventories.js'

const withAcme = (backend: string) => {
  const data = smallInventory()
  data.proxy.acme = {backend}
  return data
}

/** proxy.acme: the challenge path on the http port goes to the ACME client, on the path alone and unchecked. */
describe('proxy.acme routes ACME challenges to the proxy\'s own ACME client', () => {
  it('HAProxy: fe_http sends the challenge path to be_acme, a server without a health check; other paths still redirect', () => {
    const config = renderTarget(Inventory.parse(withAcme('127.0.0.1:8402')), 'haproxy')
    const http = config.slice(config.indexOf('frontend fe_http'), config.indexOf('frontend fe_https'))
    expect(http).to.include('    acl acme path_beg /.well-known/acme-challenge/\n')
    expect(http).to.include('    http-request redirect prefix https://meet.example.org code 301 unless acme\n    use_backend be_acme if acme\n    default_backend be_web\n')
    const backend = /\nbackend be_acme\n((?: {4}.*\n)+)/.exec(config)?.[1]
    expect(backend).to.equal('    server acme 127.0.0.1:8402\n')
    // The match is on the path alone: no Host acl guards it.
    expect(http).to.not.match(/hdr\(host\)/)
  })

  it('relayd: the http protocol forwards the challenge path to an unchecked <acme> table on the client\'s port', () => {
    const config = renderTarget(Inventory.parse(withAcme('[::1]:8402')), 'relayd')
    expect(config).to.include('table <acme> { ::1 }\n')
    const protocol = /http protocol "jitsi_http" \{\n([\s\S]*?)\n\}/.exec(config)![1]
    expect(protocol.split('\n').at(-1)).to.equal('\tmatch request path "/.well-known/acme-challenge/*" forward to <acme>')
    const relay = /relay "jitsi_http" \{\n([\s\S]*?)\n\}/.exec(config)![1].split('\n')
    expect(relay.at(-1)).to.equal('\tforward to <acme> port 8402')
    expect(relay[relay.findIndex((l) => l.includes('forward to'))]).to.include('forward to <web>')
  })

  it('without proxy.acme nothing of it is rendered', () => {
    const inventory = Inventory.parse(smallInventory())
    expect(renderTarget(inventory, 'haproxy')).to.not.include('be_acme')
    expect(renderTarget(inventory, 'relayd')).to.not.include('<acme>')
  })

  it('a backend without a port, or with something hostile, is an error naming proxy.acme.backend', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:80\n    server evil 10.0.0.1:80', 'a b:80']) {
      const result = Inventory.safeParse(withAcme(bad))
      expect(result.success, bad).to.equal(false)
      expect(result.error!.issues.map((i) => i.path.join('.'))).to.deep.equal(['proxy.acme.backend'])
    }
  })
})
