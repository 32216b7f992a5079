import {expect} from 'chai'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'

import {findOnPath, runCommand} from '../../src/system/command.js'

describe('external commands', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-command-'))
  })
  after(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('finds the first executable file of that name on a PATH list, skipping others', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(dir, d))
    await Promise.all([a, b, c].map((d) => mkdir(d)))
    await writeFile(join(a, 'tool'), 'not executable')
    await mkdir(join(b, 'tool'))
    await writeFile(join(c, 'tool'), '#!/bin/sh\n')
    await chmod(join(c, 'tool'), 0o755)
    expect(findOnPath('tool', [a, b, '', c].join(delimiter))).to.equal(join(c, 'tool'))
    expect(findOnPath('tool', [a, b].join(delimiter))).to.equal(undefined)
    expect(findOnPath('tool', '')).to.equal(undefined)
  })

  it('returns exit code and both streams, without a shell', async () => {
    const result = await runCommand(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3', 'ignored; rm -rf /'])
    expect(result).to.deep.equal({code: 3, stderr: 'err\n', stdout: 'out\n'})
    expect(await runCommand(['/bin/echo', '$HOME;', '`x`'])).to.deep.equal({code: 0, stderr: '', stdout: '$HOME; `x`\n'})
  })

  it('says a program is missing instead of throwing', async () => {
    const result = await runCommand([join(dir, 'no-such-program')])
    expect(result.code).to.equal(127)
    expect(result.missing).to.equal(true)
    expect(result.stderr).to.include('no-such-program')
  })

  it('stops a program that outlives its timeout', async () => {
    const started = Date.now()
    const result = await runCommand(['/bin/sleep', '5'], {timeoutMs: 200})
    expect(result.code).to.equal(1)
    expect(result.stderr).to.include('killed by SIGTERM')
    expect(Date.now() - started).to.be.below(4000)
  })
})
