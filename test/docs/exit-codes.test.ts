import {expect} from 'chai'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {ExitCode} from '../../src/errors.js'

/** Codes the table in docs/exit-codes.md lists that are not jproxy's own: the shell's "not found". */
const SHELL_ONLY = new Set([127])

describe('docs/exit-codes.md', () => {
  it('lists exactly the codes of src/errors.ts, each once', async () => {
    const page = await readFile('docs/exit-codes.md', 'utf8')
    const listed = [...page.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])).filter((code) => !SHELL_ONLY.has(code))
    const table = Object.values(ExitCode)
    expect(new Set(table).size, 'two names share a code in src/errors.ts').to.equal(table.length)
    expect(listed).to.deep.equal([...table].sort((a, b) => a - b))
  })

  it('every code of the table is thrown or returned somewhere in src/, so the page lists only codes in use', async () => {
    const files = (await readdir('src', {recursive: true})).filter((f) => f.endsWith('.ts') && f !== 'errors.ts')
    const text = (await Promise.all(files.map((f) => readFile(join('src', f), 'utf8')))).join('\n')
    // ok, failure and usage are also oclif's own; the rest must be named where they are raised.
    const unused = Object.keys(ExitCode).filter(
      (name) => !['failure', 'ok', 'usage'].includes(name) && !new RegExp(`'${name}'|ExitCode\\.${name}\\b`).test(text),
    )
    expect(unused).to.deep.equal([])
  })
})
