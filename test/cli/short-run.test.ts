import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {inputBytes, SHORT_RUN_BYTES} from '../../src/cli/short-run.js'

const SHORT_RUN = fileURLToPath(new URL('../../src/cli/short-run.ts', import.meta.url))

describe('start-up: V8 tuned for a short run', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-short-run-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('counts the files a command line names, --flag=FILE values and the default inventory, once each', async () => {
    const named = join(dir, 'named.yaml')
    const fallback = join(dir, 'fallback.yaml')
    await writeFile(named, 'x'.repeat(1000))
    await writeFile(fallback, 'y'.repeat(300))
    const env = {JPROXY_INVENTORY: fallback}
    expect(inputBytes(['gen', 'haproxy', '-i', named], env)).to.equal(1300)
    expect(inputBytes(['validate', 'config', `--inventory=${named}`, named], env)).to.equal(1300)
    expect(inputBytes(['lint', 'relayd', dir, join(dir, 'missing.conf')], {JPROXY_INVENTORY: join(dir, 'none.yaml')}), 'folders and missing files').to.equal(0)
  })

  // V8's cached-data tag hashes its flags: it changes exactly when the optimizing compilers are turned off.
  const tagChange = async (file: string) => {
    const script = `import {tuneForShortRun} from ${JSON.stringify(SHORT_RUN)}
      import v8 from 'node:v8'
      const before = v8.cachedDataVersionTag()
      const tuned = tuneForShortRun(['gen', 'haproxy', '-i', ${JSON.stringify(file)}], {})
      console.log(JSON.stringify({changed: v8.cachedDataVersionTag() !== before, tuned}))`
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script])
    return JSON.parse(stdout) as {changed: boolean; tuned: boolean}
  }

  it('turns the optimizing compilers off for a small inventory', async () => {
    const small = join(dir, 'small.yaml')
    await writeFile(small, 'domain: meet.example.org\n')
    expect(await tagChange(small)).to.deep.equal({changed: true, tuned: true})
  })

  it('keeps them for an inventory past the short-run size (thousands of bridges), where they halve the run', async () => {
    const large = join(dir, 'large.yaml')
    await writeFile(large, `# ${'x'.repeat(SHORT_RUN_BYTES)}\n`)
    expect(await tagChange(large)).to.deep.equal({changed: false, tuned: false})
  })
})
