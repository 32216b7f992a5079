import {expect} from 'chai'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

/** The command layer: glue that parses flags and presents results. Everything else is a domain or below. */
const PRESENTATION = new Set(['cli', 'commands', 'hooks', 'report'])

describe('layers: commands -> domains -> system', () => {
  it('no domain module imports @oclif/core or from report/ (reports present findings, they do not define them)', async () => {
    const offenders: string[] = []
    for (const folder of await readdir('src', {withFileTypes: true})) {
      if (!folder.isDirectory() || PRESENTATION.has(folder.name)) continue
      for (const file of await readdir(join('src', folder.name), {recursive: true})) {
        if (!file.endsWith('.ts')) continue
        const path = join('src', folder.name, file)
        const text = await readFile(path, 'utf8')
        for (const match of text.matchAll(/from '([^']+)'/g)) {
          if (match[1] === '@oclif/core' || /(^|\/)report\//.test(match[1])) offenders.push(`${path}: ${match[1]}`)
        }
      }
    }

    expect(offenders).to.deep.equal([])
  })
})
