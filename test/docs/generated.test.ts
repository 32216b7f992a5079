import {expect} from 'chai'
import {readFile} from 'node:fs/promises'

import {parseDuration} from '../../src/inventory/duration.js'
import {inventoryFields} from '../../src/inventory/fields.js'
import {Inventory} from '../../src/inventory/schema.js'
import {generatedPages, replaceGenerated} from '../../scripts/docs.js'
import {getPath, smallInventory} from '../fixtures/inventories.js'

/** A default as the table writes it (`5s`, 80, `[]`), as zod gives it after parsing. */
function parsedDefault(type: string, stated: string): unknown {
  if (type === 'duration') return parseDuration(stated)
  if (type === 'IP:port') return {address: stated.split(':')[0], port: Number(stated.split(':')[1])}
  return /^(\d+|true|false|\[\])$/.test(stated) ? JSON.parse(stated) : stated
}

const REQUIREMENTS = 'test/requirements.json'

describe('generated docs (npm run docs)', () => {
  it('docs/inventory.md and docs/development.md are what npm run docs writes now', async () => {
    for (const [file, {now, wanted}] of await generatedPages()) {
      expect(now, `${file} is stale: run npm run docs`).to.equal(wanted)
    }
  })

  it('the programs table of docs/development.md lists test/requirements.json, program by program', async () => {
    const requirements: Array<{debian: string; program: string}> = JSON.parse(await readFile(REQUIREMENTS, 'utf8'))
    const page = await readFile('docs/development.md', 'utf8')
    const rows = [...page.matchAll(/^ {2}\| `([^`]+)` \| ([^|]+) \|/gm)]
    expect(rows.map((m) => `${m[1]} ${m[2].trim()}`)).to.deep.equal(requirements.map((r) => `${r.program} ${r.debian}`))
  })

  it('the field table gives every field a type and a description', () => {
    const fields = inventoryFields()
    expect(fields.filter((f) => f.description === '' || f.type === '').map((f) => f.path)).to.deep.equal([])
    const pf = ['targets.pf', 'targets.pf.check', 'targets.pf.output', 'targets.pf.reload']
    expect(fields.map((f) => f.path)).to.include.members(['shards[].state', ...pf])
  })

  it('every default the table states is the one zod fills in', () => {
    // One of each list item and optional mapping with only what is required, so every default shows.
    const data = smallInventory()
    data.shards[0].jvbs[0].media = {address: '192.0.2.20'}
    data.proxy.peers = [{address: '10.0.9.1', name: 'proxy-a'}]
    data.proxy.hsts = {}
    data.proxy.metrics = {}
    const parsed = Inventory.parse(data)
    const checked: string[] = []
    for (const field of inventoryFields()) {
      const path = field.path.replaceAll('[]', '[0]')
      // A mapping's default is its fields' defaults, each checked here; what the data sets shows no default.
      const noDefault = ['required', 'unset'].includes(field.default) || field.type === 'mapping'
      if (noDefault || getPath(data, path) !== undefined) continue
      const stated = field.default.replace(/^`(.*)`$/, '$1')
      expect(getPath(parsed, path), field.path).to.deep.equal(parsedDefault(field.type, stated))
      checked.push(field.path)
    }

    const some = ['shards[].state', 'shards[].jicofo.port', 'health.interval', 'proxy.metrics.listen', 'dns.internal']
    expect(checked).to.include.members(some)
    expect(checked.length, 'fields with a default checked').to.be.greaterThan(50)
    expect(getPath(parsed, 'shards[0].state')).to.equal('ready')
  })

  it('replaces only the lines between the markers, indented as the opening one', () => {
    const [open, close] = ['  <!-- generated: t (a note) -->', '  <!-- end generated: t -->']
    const page = ['intro', '', open, '  | old |', close, 'after', ''].join('\n')
    const written = ['intro', '', open, '  | a |', '  | b |', close, 'after', '']
    expect(replaceGenerated(page, 't', '| a |\n| b |')).to.equal(written.join('\n'))
    expect(() => replaceGenerated('no markers\n', 't', 'x')).to.throw(/no <!-- generated: t/)
  })
})
