import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'

const requirements: Array<{debian: string; program: string}> = JSON.parse(await readFile('test/requirements.json', 'utf8'))

describe('npm test preflight', () => {
  it('stops at once without the daemons, naming each with its Debian package and the install line', async () => {
    const result = await new Promise<{code: number; stderr: string}>((resolve) => {
      execFile(process.execPath, ['scripts/preflight.js'], {env: {PATH: '/nonexistent'}}, (error, _stdout, stderr) => resolve({code: error ? Number(error.code) : 0, stderr}))
    })
    expect(result.code).to.equal(1)
    for (const r of requirements) expect(result.stderr).to.match(new RegExp(`^  ${r.program} +\\(Debian package ${r.debian}\\)`, 'm'))
    expect(result.stderr).to.include(`install: sudo apt-get install -y ${[...new Set(requirements.map((r) => r.debian))].join(' ')}`)
  })

  it('passes on this machine, and .ci/run installs every package the list names', async () => {
    const ok = await new Promise<number>((resolve) => execFile(process.execPath, ['scripts/preflight.js'], (error) => resolve(error ? Number(error.code) : 0)))
    expect(ok).to.equal(0)
    const line = /^packages=\(([^)]*)\)/m.exec(await readFile('.ci/run', 'utf8'))![1].split(/\s+/)
    for (const r of requirements) expect(line, r.debian).to.include(r.debian)
  })
})
