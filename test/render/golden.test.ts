import {expect} from 'chai'
import {readdirSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'

import {loadInventory} from '../../src/inventory/load.js'
import {renderTarget, TARGETS, type TargetName} from '../../src/render/targets.js'

// UPDATE_GOLDEN=1 rewrites the files; review the diff before committing it.
const UPDATE = process.env.UPDATE_GOLDEN === '1'
const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.yaml'))
const EXTENSION: Record<TargetName, string> = {haproxy: 'haproxy.cfg', pf: 'pf.conf', relayd: 'relayd.conf'}

describe('rendered configs match the golden files', () => {
  it('covers at least the two shipped examples', () => {
    expect(EXAMPLES).to.include.members(['single-host-vmm.yaml', 'two-shards.yaml'])
  })

  for (const example of EXAMPLES) {
    for (const target of Object.keys(TARGETS) as TargetName[]) {
      it(`${example} → ${target}: same bytes as the golden file, twice`, async () => {
        const inventory = await loadInventory(`examples/${example}`)
        const first = renderTarget(inventory, target)
        const second = renderTarget(await loadInventory(`examples/${example}`), target)
        expect(second).to.equal(first)
        expect(first.endsWith('\n')).to.equal(true)
        const golden = `test/fixtures/golden/${example.replace(/\.yaml$/, '')}.${EXTENSION[target]}`
        if (UPDATE) await writeFile(golden, first)
        expect(first).to.equal(await readFile(golden, 'utf8'))
      })
    }
  }
})
