import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {parse, stringify} from 'yaml'

import {ExitCode} from '../../src/errors.js'
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

/** The one stretch of text `longer` has that `shorter` has not, checking that all else is the same, byte for byte. */
function onlyDifference(shorter: string, longer: string): string {
  let start = 0
  while (start < shorter.length && shorter[start] === longer[start]) start++
  let end = 0
  while (end < shorter.length - start && shorter.at(-1 - end) === longer.at(-1 - end)) end++
  expect(start + end, 'all else is unchanged').to.equal(shorter.length)
  return longer.slice(start, longer.length - end)
}

describe('inventory edits in flow style and JSON keep the file\'s own style', () => {
  type Data = {shards: Array<{jvbs?: Array<Record<string, unknown>>; name: string; state?: string}>}
  // Shard-eu2 without bridges: adding the first one creates its list.
  const data = (): Data => {
    const parsed = parse(readFileSync(EXAMPLES[1], 'utf8')) as Data
    delete parsed.shards[1].jvbs
    return parsed
  }

  const NEW = {address: '10.10.9.24', id: 'jvb-new', media: {address: '198.51.100.99'}}
  const newEntry = {id: 'jvb-new', address: '10.10.9.24', media: {address: '198.51.100.99'}}
  const changed = (change: (d: Data) => void) => {
    const d = data()
    change(d)
    return d
  }

  for (const [layout, indent] of [['pretty-printed, 2 spaces', 2], ['pretty-printed, 4 spaces', 4], ['on one line', undefined]] as const) {
    describe(`JSON ${layout}: every edit gives what JSON.stringify writes for the changed data`, () => {
      const write = (d: Data) => `${JSON.stringify(d, null, indent)}\n`
      const original = write(data())

      it('add-jvb to a shard with bridges and to one without; removing the new bridge gives the original back', () => {
        const first = addJvb(original, NEW, 'shard-eu1')
        expect(first.text).to.equal(write(changed((d) => d.shards[0].jvbs!.push(newEntry))))
        expect(removeJvb(first.text, 'jvb-new').text).to.equal(original)
        const none = addJvb(original, NEW, 'shard-eu2')
        expect(none.text).to.equal(write(changed((d) => (d.shards[1].jvbs = [newEntry]))))
        expect(none.inventory.shards[1].jvbs.map((j) => j.id)).to.deep.equal(['jvb-new'])
        expect(removeJvb(none.text, 'jvb-new').text).to.equal(original)
      })

      it('remove-jvb takes out the first, a middle and the last bridge', () => {
        for (const [at, id] of ['eu1-jvb1', 'eu1-jvb2', 'eu1-jvb3'].entries()) {
          expect(removeJvb(original, id).text, id).to.equal(write(changed((d) => d.shards[0].jvbs!.splice(at, 1))))
        }
      })

      it('drain-shard adds "state": "drain" as the shard\'s last key, undrain takes it out again', () => {
        for (const [at, shard] of ['shard-eu1', 'shard-eu2'].entries()) {
          const drained = editShardState(original, shard, 'drain')
          expect(drained.text, shard).to.equal(write(changed((d) => (d.shards[at].state = 'drain'))))
          expect(editShardState(drained.text, shard, 'drain').text).to.equal(drained.text)
          expect(editShardState(drained.text, shard, 'ready').text).to.equal(original)
        }
      })
    })
  }

  describe('flow-style YAML as the yaml library writes it (padded braces, long collections one entry per line)', () => {
    const original = stringify(data(), {collectionStyle: 'flow'})
    const oneLine = (text: string) => text.replaceAll(/\s+/g, ' ')

    it('add-jvb inserts one entry laid out like its neighbours, and nothing else', () => {
      const added = addJvb(original, NEW, 'shard-eu1')
      expect(oneLine(onlyDifference(original, added.text))).to.equal(', { id: jvb-new, address: 10.10.9.24, media: { address: 198.51.100.99 } }')
      expect(parse(added.text)).to.deep.equal(changed((d) => d.shards[0].jvbs!.push(newEntry)))
      const first = addJvb(original, NEW, 'shard-eu2')
      expect(onlyDifference(original, first.text)).to.equal(', jvbs: [ { id: jvb-new, address: 10.10.9.24, media: { address: 198.51.100.99 } } ]')
      expect(removeJvb(first.text, 'jvb-new').text).to.equal(original)
      expect(removeJvb(added.text, 'jvb-new').text).to.equal(original)
    })

    it('remove-jvb takes out one entry and its comma, and drain-shard adds ", state: drain"', () => {
      const removed = removeJvb(original, 'eu1-jvb3')
      expect(oneLine(onlyDifference(removed.text, original))).to.equal(', { id: eu1-jvb3, address: 10.10.2.23, media: { address: 198.51.100.23 } }')
      expect(parse(removed.text)).to.deep.equal(changed((d) => d.shards[0].jvbs!.pop()))
      const drained = editShardState(original, 'shard-eu2', 'drain')
      expect(onlyDifference(original, drained.text)).to.equal(', state: drain')
      expect(editShardState(drained.text, 'shard-eu2', 'ready').text).to.equal(original)
    })
  })

  describe('flow-style YAML written by hand, with comments', () => {
    const head = '# exported from the CMDB: flow style\ndomain: meet.example.org\nproxy: {listen: {ipv4: 192.0.2.10}, tls: {certificate: /etc/ssl/a.pem, key: /etc/ssl/a.pem}}\nweb: [{name: web1, address: 10.0.0.2}]\n'
    const s1 = '  {name: s1, prosody: {address: 10.0.0.10}, jvbs: [{id: jvb1, address: 10.0.0.21}, {id: jvb2, address: 10.0.0.22}]},  # rack 1\n'
    const s2 = '  {name: s2, prosody: {address: 10.0.1.10}}  # no bridges yet\n'
    const file = (first: string, second: string) => `${head}shards: [\n${first}${second}  ]\n# the end\n`
    const original = file(s1, s2)

    it('adds, removes and drains in place; comments stay on their lines', () => {
      const cases: Array<[string, () => string, string, string]> = [
        ['add an IPv6 bridge to s1', () => addJvb(original, {address: '2001:db8::23', id: 'jvb3'}, 's1').text, s1.replace('10.0.0.22}]', '10.0.0.22}, {id: jvb3, address: 2001:db8::23}]'), s2],
        ['add the first bridge to s2, an id YAML would read as a number', () => addJvb(original, {address: '10.0.1.21', id: '1234'}, 's2').text, s1, s2.replace('10.0.1.10}}', '10.0.1.10}, jvbs: [{id: "1234", address: 10.0.1.21}]}')],
        ['remove jvb1', () => removeJvb(original, 'jvb1').text, s1.replace('{id: jvb1, address: 10.0.0.21}, ', ''), s2],
        ['remove jvb2', () => removeJvb(original, 'jvb2').text, s1.replace(', {id: jvb2, address: 10.0.0.22}', ''), s2],
        ['remove both: the jvbs key goes with the last', () => removeJvb(removeJvb(original, 'jvb1').text, 'jvb2').text, s1.replace(', jvbs: [{id: jvb1, address: 10.0.0.21}, {id: jvb2, address: 10.0.0.22}]', ''), s2],
        ['drain s2', () => editShardState(original, 's2', 'drain').text, s1, s2.replace('10.0.1.10}}', '10.0.1.10}, state: drain}')],
      ]
      for (const [what, edit, first, second] of cases) expect(edit(), what).to.equal(file(first, second))
      expect(parse(addJvb(original, {address: '2001:db8::23', id: 'jvb3'}, 's1').text).shards[0].jvbs[2]).to.deep.equal({address: '2001:db8::23', id: 'jvb3'})
      expect(editShardState(editShardState(original, 's2', 'drain').text, 's2', 'ready').text).to.equal(original)
    })

    it('a flow list of bridges one per line in a block file: the new one gets its own line, the comments stay with theirs', () => {
      const text = `${head}shards:\n  - name: s1\n    prosody: {address: 10.0.0.10}\n    jvbs: [\n      {id: jvb1, address: 10.0.0.21},  # rack 1\n      {id: jvb2, address: 10.0.0.22}   # rack 2\n    ]\n  - name: s2\n    prosody: {address: 10.0.1.10}\n    jvbs: []\n`
      const added = addJvb(text, {address: '10.0.0.23', id: 'jvb3'}, 's1')
      expect(added.text).to.equal(text.replace('10.0.0.22}   # rack 2\n', '10.0.0.22},   # rack 2\n      {id: jvb3, address: 10.0.0.23}\n'))
      expect(removeJvb(added.text, 'jvb3').text).to.equal(text)
      expect(removeJvb(text, 'jvb2').text).to.equal(text.replace('10.0.0.21},  # rack 1\n      {id: jvb2, address: 10.0.0.22}   # rack 2\n', '10.0.0.21}  # rack 1\n'))
      expect(removeJvb(text, 'jvb1').text).to.equal(text.replace('      {id: jvb1, address: 10.0.0.21},  # rack 1\n', ''))
      const empty = addJvb(text, {address: '10.0.1.21', id: 'jvb4'}, 's2')
      expect(empty.text).to.equal(text.replace('jvbs: []', 'jvbs: [{id: jvb4, address: 10.0.1.21}]'))
      expect(removeJvb(empty.text, 'jvb4').text, 'the last bridge takes its key along').to.equal(text.replace('    jvbs: []\n', ''))
    })

    it('a block list of flow-style bridges: the new one is a flow map on its own "- " line too', () => {
      const text = `${head}shards:\n  - name: s1\n    prosody: {address: 10.0.0.10}\n    jvbs:\n      - { id: jvb1, address: 10.0.0.21 }  # rack 1\n# the end\n`
      const added = addJvb(text, {address: '10.0.0.22', id: 'jvb2', restPort: 8081}, 's1')
      expect(added.text).to.equal(text.replace('# rack 1\n', '# rack 1\n      - { id: jvb2, address: 10.0.0.22, restPort: 8081 }\n'))
      expect(removeJvb(added.text, 'jvb2').text).to.equal(text)
    })
  })

  it('a part that is a YAML alias, or anchored for one, is not edited: exit 16 names it, its line, and how to write the file out', () => {
    const text = `${'domain: meet.example.org\nproxy: {listen: {ipv4: 192.0.2.10}, tls: {certificate: /c.pem, key: /c.pem}}\nweb: [{name: web1, address: 10.0.0.2}]\n'}shards:\n  - name: s1\n    prosody: {address: 10.0.0.10}\n    state: &drained drain\n  - name: s2\n    prosody: {address: 10.0.1.10}\n    state: *drained\n    jvbs:\n      - &jvb {id: jvb1, address: 10.0.1.21}\n  - name: s3\n    prosody: {address: 10.0.2.10}\n`
    const refusal = (edit: () => unknown) => {
      try {
        edit()
      } catch (error) {
        expect(error).to.have.property('exitCode', ExitCode.inventoryNotEditable)
        return (error as Error).message
      }

      throw new Error('not refused')
    }

    expect(refusal(() => editShardState(text, 's2', 'ready'))).to.match(/^shards\[1\]\.state \(line 10\) is an alias \(\*drained\) of a part used elsewhere too, so jproxy cannot change it in place and nothing changed\. Write that part out in full \(`jproxy validate config --effective -i FILE` prints/)
    expect(refusal(() => editShardState(text, 's1', 'ready'))).to.match(/^shards\[0\]\.state \(line 7\) is anchored \(&drained\) and used elsewhere too/)
    // An anchor nobody names is harmless: that bridge goes, and another shard's alias is no obstacle.
    expect(removeJvb(text, 'jvb1').text).to.equal(text.replace('    jvbs:\n      - &jvb {id: jvb1, address: 10.0.1.21}\n', ''))
    expect(editShardState(text, 's3', 'drain').text).to.equal(`${text}    state: drain\n`)
  })
})
