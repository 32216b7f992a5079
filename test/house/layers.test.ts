import {expect} from 'chai'
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {entryOf, importsOf, LAYERS, layerViolations, OCLIF_LAYERS} from './layers.js'

describe('layers: the folders of src/ form a strict hierarchy', () => {
  it('gives every folder and top-level file of src/ one layer, and names nothing that is not there', async () => {
    const entries = (await readdir('src')).sort()
    const named = LAYERS.flatMap((layer) => layer.names)
    expect([...named].sort(), 'the rank table names each entry of src/ once').to.deep.equal(entries)
  })

  it('no file imports from a higher layer or from a sibling of its own layer', async () => {
    expect(layerViolations(await importsOf('src'), 'src')).to.deep.equal([])
  })

  it('catches an upward and a sideways import (the check is not vacuous)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'jproxy-layers-'))
    try {
      for (const folder of ['system', 'probe', 'dns']) await mkdir(join(root, folder))
      await writeFile(join(root, 'system', 'files.ts'), "import {probe} from '../probe/probe.js'\n")
      await writeFile(join(root, 'probe', 'probe.ts'), "import type {Answer} from '../dns/client.js'\nimport {x} from '../system/files.js'\n")
      await writeFile(join(root, 'dns', 'client.ts'), "export const later = () => import('../system/files.js')\n")
      const violations = layerViolations(await importsOf(root), root)
      expect(violations).to.have.length(2)
      expect(violations[0]).to.match(/system\/files\.ts: \.\.\/probe\/probe\.js: system \(layer 1\) imports probe \(layer 4\), a higher layer$/)
      expect(violations[1]).to.match(/probe\/probe\.ts: \.\.\/dns\/client\.js: probe \(layer 4\) imports dns \(layer 4\), a sibling layer$/)
    } finally {
      await rm(root, {force: true, recursive: true})
    }
  })

  it('only the command layers import oclif: domain modules are tested without a CLI', async () => {
    const offenders = (await importsOf('src'))
      .filter((i) => i.specifier.startsWith('@oclif/') && !OCLIF_LAYERS.has(entryOf(i.file, 'src')))
      .map((i) => `${i.file}: ${i.specifier}`)
    expect(offenders).to.deep.equal([])
  })

  it('docs/development.md shows the same layers, top down', async () => {
    const page = await readFile('docs/development.md', 'utf8')
    const section = page.slice(page.indexOf('\n## Layers\n'))
    const rows = [...section.matchAll(/^\| (\d+) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => ({
      names: [...m[2].matchAll(/`([^`]+)`/g)].map((n) => n[1].replace(/\/$/, '')),
      rank: Number(m[1]),
    }))
    expect(rows).to.deep.equal(LAYERS.map((layer, index) => ({names: [...layer.names], rank: LAYERS.length - 1 - index})))
  })
})
