import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'

import {addJvb, removeJvb, editShardState} from '../../src/inventory/edit.js'

const EXAMPLES = ['examples/single-host-vmm.yaml', 'examples/two-shards.yaml']
const JVB = {address: '10.10.9.24', id: 'jvb-new', media: {address: '198.51.100.99'}}

/**
 * The whole lines `edited` has that `original` has not, checking that all other lines are
 * untouched, byte for byte and in order (one contiguous block was inserted).
 */
function insertion(original: string, edited: string): string {
  const a = original.split('\n')
  const b = edited.split('\n')
  let start = 0
  while (start < a.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && a.at(-1 - end) === b.at(-1 - end)) end++
  expect(start + end, 'every other line is unchanged').to.equal(a.length)
  return b.slice(start, b.length - end).map((l) => `${l}\n`).join('')
}

describe('inventory edits keep the file as the admin wrote it', () => {
  for (const file of EXAMPLES) {
    const original = readFileSync(file, 'utf8')
    const shards = (parse(original) as {shards: Array<{name: string}>}).shards.map((s) => s.name)

    for (const shard of shards) {
      it(`${file}, shard ${shard}: add inserts whole lines after the shard's last bridge, remove gives the original back exactly`, () => {
        const added = addJvb(original, JVB, shards.length > 1 ? shard : undefined)
        const inserted = insertion(original, added.text)
        expect(inserted.split('\n').filter(Boolean).map((l) => l.trim())).to.deep.equal(['- id: jvb-new', 'address: 10.10.9.24', 'media: {address: 198.51.100.99}'])
        // Every comment and blank line of the original is still there, in order.
        const keep = (text: string) => text.split('\n').filter((l) => l.trim() === '' || l.includes('#'))
        expect(keep(added.text)).to.deep.equal(keep(original))
        expect(added.inventory.shards.find((s) => s.name === shard)!.jvbs.at(-1)).to.deep.include({address: '10.10.9.24', id: 'jvb-new', media: {address: '198.51.100.99', port: 10_000}})

        const removed = removeJvb(added.text, 'jvb-new')
        expect(removed.text).to.equal(original)
        expect(removed.shard).to.equal(shard)
      })
    }

    it(`${file}: removing an existing bridge takes out its block only`, () => {
      const id = /- id: (\S+)/.exec(original)![1]
      const removed = removeJvb(original, id)
      const gone = insertion(removed.text, original)
      expect(gone).to.include(`id: ${id}`)
      expect(removed.inventory.shards.flatMap((s) => s.jvbs).some((j) => j.id === id)).to.equal(false)
    })
  }

  it('adds the jvbs list to a shard that has none, and removing the bridge takes the list out again', () => {
    const text = '# a comment\ndomain: meet.example.org\nproxy:\n  listen: {ipv4: 192.0.2.10}\n  tls: {certificate: /etc/ssl/a.pem, key: /etc/ssl/a.pem}\nweb:\n  - name: web1\n    address: 10.0.0.2\nshards:\n  - name: s1   # the only shard\n    prosody:\n      address: 10.0.0.10\n\n# trailing comment\n'
    const added = addJvb(text, {address: '10.0.0.21', id: 'jvb1'})
    expect(insertion(text, added.text)).to.equal('    jvbs:\n      - id: jvb1\n        address: 10.0.0.21\n')
    expect(removeJvb(added.text, 'jvb1').text).to.equal(text)
  })

  it('rejects hostile ids, addresses and ports before anything is built', () => {
    const original = readFileSync(EXAMPLES[0], 'utf8')
    const hostile: Array<[Record<string, unknown>, RegExp]> = [
      [{id: 'jvb4\n  evil: 1'}, /^id: /],
      [{id: 'jvb4 # x'}, /^id: /],
      [{id: '../jvb4'}, /^id: /],
      [{id: '{jvb4}'}, /^id: /],
      [{id: 'j'.repeat(41)}, /^id: /],
      [{address: '10.0.0.1; rm -rf /'}, /^address: /],
      [{address: '10.0.0.1\n    id: x'}, /^address: /],
      [{media: {address: 'x y'}}, /^media address: /],
      [{restPort: 70_000}, /^rest port: /],
      [{colibriPort: 0}, /^colibri port: /],
    ]
    for (const [change, message] of hostile) {
      expect(() => addJvb(original, {...JVB, ...change}), JSON.stringify(change)).to.throw(message)
    }
  })

  it('refuses what would break the inventory (a duplicate id), an unknown or ambiguous shard, and an unknown bridge', () => {
    const two = readFileSync(EXAMPLES[1], 'utf8')
    expect(() => addJvb(two, {...JVB, id: 'eu1-jvb1'}, 'shard-eu2')).to.throw(/would make the inventory invalid[\s\S]*eu1-jvb1/)
    expect(() => addJvb(two, JVB)).to.throw('the inventory has 2 shards: say which with --shard (shard-eu1, shard-eu2)')
    expect(() => addJvb(two, JVB, 'nope')).to.throw('no shard named "nope"')
    expect(() => removeJvb(two, 'nope')).to.throw('no videobridge "nope" in the inventory')
  })

  for (const file of EXAMPLES) {
    const original = readFileSync(file, 'utf8')
    const shards = (parse(original) as {shards: Array<{name: string}>}).shards.map((s) => s.name)
    for (const shard of shards) {
      it(`${file}, shard ${shard}: drain adds one "state: drain" line, a second drain changes nothing, undrain gives the original back`, () => {
        const drained = editShardState(original, shard, 'drain')
        expect(insertion(original, drained.text).trim()).to.equal('state: drain')
        expect(drained.inventory.shards.map((s) => [s.name, s.state])).to.deep.equal(shards.map((s) => [s, s === shard ? 'drain' : 'ready']))
        expect(editShardState(drained.text, shard, 'drain').text).to.equal(drained.text)
        expect(editShardState(drained.text, shard, 'ready').text).to.equal(original)
        expect(editShardState(original, shard, 'ready').text).to.equal(original)
      })
    }
  }

  it('drain replaces a hand-written "state: ready" in place, keeping its indentation', () => {
    const text = 'domain: meet.example.org\nshards:\n  - name: s1\n    state: ready   # set by hand\n    prosody: {address: 10.0.0.10}\n'
    const base = 'proxy: {listen: {ipv4: 192.0.2.10}, tls: {certificate: /c.pem, key: /c.pem}}\nweb: [{address: 10.0.0.2, name: web1}]\n'
    expect(editShardState(text + base, 's1', 'drain').text).to.equal(text.replace('state: ready   # set by hand', 'state: drain') + base)
  })

  it('names the shards when asked for one that is not there', () => {
    expect(() => editShardState(readFileSync(EXAMPLES[1], 'utf8'), 'nope', 'drain')).to.throw(/^no shard named "nope" \(/)
  })
})
