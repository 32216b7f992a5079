import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {JproxyError} from '../../src/errors.js'
import {INVENTORY_LIMITS, loadInventory, parseInventory} from '../../src/inventory/load.js'
import {formatProblem} from '../../src/inventory/problem.js'

const HEAD = [
  'domain: meet.example.org',
  'proxy:',
  '  listen: {ipv4: 192.0.2.10}',
  '  tls: {certificate: /etc/ssl/meet.pem, key: /etc/ssl/meet.pem}',
  'web:',
  '  - {name: web1, address: 10.0.0.2}',
].join('\n')

/** One shard with `count` bridges, each written by `bridge`. */
const withBridges = (count: number, bridge: (i: number) => string, first = '') =>
  `${HEAD}\nshards:\n  - name: s1\n    prosody: {address: 10.0.0.10}\n    jvbs:\n${first}${Array.from({length: count}, (_, i) => bridge(i)).join('')}`

const loadError = (file: string) => loadInventory(file).then(() => expect.fail('loaded'), (error: unknown) => error as JproxyError)

describe('inventory input bounds', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-load-limits-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('loads 60 bridges sharing one anchored colibriPort', () => {
    const anchor = '      - {id: jvb0, address: 10.0.1.1, colibriPort: &cp 9090}\n'
    const text = withBridges(59, (i) => `      - {id: jvb${i + 1}, address: 10.0.1.${i + 2}, colibriPort: *cp}\n`, anchor)
    const report = parseInventory(text, 'anchors.yaml')
    expect(report.problems).to.deep.equal([])
    expect(report.inventory!.shards[0].jvbs).to.have.length(60)
    expect(report.inventory!.shards[0].jvbs.every((j) => j.colibriPort === 9090)).to.equal(true)
  })

  it('an alias bomb is refused as "FILE: too many aliases" with inventoryUnreadable, not a ReferenceError', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 8; i++) levels.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array.from({length: 10}, () => `*${'abcdefgh'[i - 1]}`).join(', ')}]`)
    const file = join(dir, 'bomb.yaml')
    await writeFile(file, levels.join('\n') + '\n')
    const report = parseInventory(levels.join('\n'), file)
    expect(report).to.include({unreadable: true})
    expect(report.problems.map((p) => formatProblem(file, p))).to.deep.equal([`${file}: too many aliases (over ${INVENTORY_LIMITS.aliases} alias expansions)`])
    const error = await loadError(file)
    expect(error).to.be.instanceOf(JproxyError).and.include({code: 'inventoryUnreadable'})
    expect(error.message).to.equal(`${file}: too many aliases (over ${INVENTORY_LIMITS.aliases} alias expansions)`)
  })

  it('text that is not YAML (tab indentation, a truncated file, several documents) is inventoryUnreadable with the whole YAML message', async () => {
    const cases = {
      'several documents': `${HEAD}\n---\ndomain: other.example.org\n`,
      'tab indentation': `${HEAD}\nshards:\n\t- name: s1\n`,
      'truncated': `${HEAD}\nshards:\n  - {name: s1, prosody: {address: 10.0.`,
    }
    for (const [name, text] of Object.entries(cases)) {
      const file = join(dir, `${name}.yaml`)
      await writeFile(file, text)
      const error = await loadError(file)
      expect(error, name).to.be.instanceOf(JproxyError).and.include({code: 'inventoryUnreadable'})
      // The library's message goes on past its first line: the place, and the line with a caret under it.
      expect(error.message, name).to.match(new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: YAML: .+ at line \\d+, column \\d+:\\n\\n[^]*\\n *\\^`))
    }
  })

  it('nesting past the depth bound is refused in a plain message, quickly', () => {
    for (const text of [`a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, `a: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`]) {
      const started = performance.now()
      const report = parseInventory(text, 'deep.yaml')
      expect(report).to.include({unreadable: true})
      expect(report.problems).to.deep.equal([{message: `nested deeper than ${INVENTORY_LIMITS.depth} levels`, path: ''}])
      // Tens of milliseconds alone; the bound only catches a return to seconds (or a stack overflow).
      expect(performance.now() - started).to.be.below(5000)
    }
  })

  it('reads at most the size bound: /dev/zero and a large file are refused, not read whole', async () => {
    const zero = await loadError('/dev/zero')
    expect(zero).to.include({code: 'inventoryUnreadable'})
    expect(zero.message).to.equal('cannot read inventory /dev/zero: larger than 2 MiB')
    const file = join(dir, 'large.yaml')
    await writeFile(file, `${HEAD}\n#${'x'.repeat(INVENTORY_LIMITS.bytes)}\n`)
    expect((await loadError(file)).message).to.equal(`cannot read inventory ${file}: larger than 2 MiB`)
    expect(parseInventory(`# ${'x'.repeat(INVENTORY_LIMITS.bytes)}`, 'text.yaml').problems).to.deep.equal([{message: 'larger than 2 MiB', path: ''}])
  })

  it(`more than ${INVENTORY_LIMITS.bridges} videobridges is refused at shards before the schema walks them`, () => {
    const count = INVENTORY_LIMITS.bridges + 1
    const report = parseInventory(withBridges(count, (i) => `      - {id: j${i}, address: 10.1.${i >> 8}.${i & 255}}\n`), 'huge.yaml')
    expect(report.unreadable).to.equal(undefined)
    // Reported at the `shards:` key's own line, the one after HEAD.
    expect(report.problems).to.deep.equal([{line: HEAD.split('\n').length + 1, message: `${count} videobridges; jproxy supports at most ${INVENTORY_LIMITS.bridges} in one inventory`, path: 'shards'}])
  })
})
