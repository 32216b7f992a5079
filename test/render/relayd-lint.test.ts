import {expect} from 'chai'
import {readdirSync} from 'node:fs'
import {readFile} from 'node:fs/promises'

import {JproxyError} from '../../src/errors.js'
import {loadInventory} from '../../src/inventory/load.js'
import {Inventory} from '../../src/inventory/schema.js'
import {formatDiagnostic, lintRelaydConf} from '../../src/relayd/lint.js'
import {checkRendered} from '../../src/render/check-rendered.js'
import {renderTarget} from '../../src/render/targets.js'
import {fullInventory, INVENTORY_VARIANTS, smallInventory} from '../fixtures/inventories.js'

const strictFindings = (text: string, file: string) => lintRelaydConf(text, {file, strict: true}).map((d) => formatDiagnostic(d))

describe('every relayd.conf jproxy renders lints clean in strict mode', () => {
  const goldens = readdirSync('test/fixtures/golden').filter((f) => f.endsWith('.relayd.conf'))
  it('has a golden relayd.conf per example', () => {
    expect(goldens).to.have.length(readdirSync('examples').filter((f) => f.endsWith('.yaml')).length)
  })

  for (const golden of goldens) {
    it(`golden ${golden}`, async () => {
      expect(strictFindings(await readFile(`test/fixtures/golden/${golden}`, 'utf8'), golden)).to.deep.equal([])
    })
  }

  for (const example of readdirSync('examples').filter((f) => f.endsWith('.yaml'))) {
    it(`examples/${example}`, async () => {
      expect(strictFindings(renderTarget(await loadInventory(`examples/${example}`), 'relayd'), example)).to.deep.equal([])
    })
  }

  it('the full fixture inventory', () => {
    expect(strictFindings(renderTarget(Inventory.parse(fullInventory()), 'relayd'), 'full')).to.deep.equal([])
  })

  for (const [name, change] of Object.entries(INVENTORY_VARIANTS)) {
    it(name, () => {
      const data = smallInventory()
      change(data)
      expect(strictFindings(renderTarget(Inventory.parse(data), 'relayd'), name)).to.deep.equal([])
    })
  }
})

describe('the gate before gen writes a rendered config', () => {
  const broken = 'table <web> { 10.0.0.1 }\nrelay "r" {\n\tlisten on 127.0.0.1 port 80\n\tforward to <web> port 80 check tcp\n\tforward to <nope> port 81\n}\nbogus\n'

  it('refuses relayd output with errors, listing each one as FILE:LINE: message', () => {
    let thrown: unknown
    try {
      checkRendered('relayd', broken, 'relayd.conf')
    } catch (error) {
      thrown = error
    }

    expect(thrown).to.be.instanceOf(JproxyError)
    const error = thrown as JproxyError
    expect(error.code).to.equal('checkFailed')
    expect(error.message).to.include('relayd.conf:5: unknown table nope').and.include('relayd.conf:7: syntax error')
  })

  it('lets warnings through and returns them', () => {
    const warned = 'table <t> { 10.0.0.1 }\nrelay "r" {\n\tlisten on 127.0.0.1 port 80\n\tforward to <t> port 80 mode hash check tcp\n}\n'
    expect(checkRendered('relayd', warned, 'relayd.conf').map((d) => d.rule)).to.deep.equal(['hash-key'])
  })

  it('leaves haproxy output to haproxy -c', () => {
    expect(checkRendered('haproxy', 'not a haproxy config', 'haproxy.cfg')).to.deep.equal([])
  })
})
