import {expect} from 'chai'

import {declaredServers} from '../../src/apply/haproxy-verify.js'
import {Inventory} from '../../src/inventory/schema.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory} from '../fixtures/inventories.js'

describe('apply: what a reload of haproxy.cfg must bring back', () => {
  it('declaredServers finds every backend and server of a rendered haproxy.cfg', () => {
    const inventory = Inventory.parse(fullInventory())
    const servers = declaredServers(renderTarget(inventory, 'haproxy'))
    expect(servers.get('be_web')).to.deep.equal(inventory.web.map((w) => w.name))
    expect(servers.get('be_prosody')).to.deep.equal(inventory.shards.map((s) => s.name))
    expect(servers.get('be_colibri')).to.deep.equal(inventory.shards.flatMap((s) => s.jvbs.map((j) => j.id)))
  })
})
