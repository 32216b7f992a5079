import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {appendFile, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {loadInventory} from '../../src/inventory/load.js'
import {probePlan} from '../../src/probe/plan.js'
import {cacheProbePlan} from '../../src/probe/plan-cache-hook.js'
import {planCacheFile, readPlanCache} from '../../src/probe/plan-cache.js'
import {BIN} from '../support/cli.js'
import {type FakeJitsi, startFakeJitsi} from '../support/fake-jitsi.js'
import {type LoopbackBackend, startBackend} from '../support/loopback-backends.js'
import {smallInventory} from '../fixtures/inventories.js'

/** A module hook that names every non-`node:` module the process loads, on stderr. */
const HOOKS = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  if (!resolved.url.startsWith('node:')) process.stderr.write('LOADED ' + resolved.url + '\\n')
  return resolved
}
`
// The same for require(): the fast path is a CommonJS bundle.
const REQUIRE_HOOK = `const Module = require('node:module')
const load = Module._load
Module._load = function (request, parent, isMain) {
  const file = Module.isBuiltin(request) ? request : Module._resolveFilename(request, parent, isMain)
  if (!Module.isBuiltin(file)) process.stderr.write('LOADED ' + file + '\\n')
  return load.apply(this, arguments)
}
`

describe('the probe-plan cache behind probe --host', function () {
  this.timeout(60_000)
  let dir: string
  let cache: string
  let inventoryFile: string
  let saved: string | undefined

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-plan-cache-'))
    cache = join(dir, 'cache')
    await writeFile(join(dir, '.keep'), '')
    inventoryFile = join(dir, 'jproxy.yaml')
    await writeFile(inventoryFile, stringify(smallInventory()))
    saved = process.env.JPROXY_CACHE_DIR
    process.env.JPROXY_CACHE_DIR = cache
  })
  afterEach(async () => {
    if (saved === undefined) delete process.env.JPROXY_CACHE_DIR
    else process.env.JPROXY_CACHE_DIR = saved
    await rm(dir, {force: true, recursive: true})
  })

  it('a load with the command layer\'s hook writes it; a hit until the inventory changes, and the next load writes it again', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(cache))
    const inventory = await loadInventory(inventoryFile, cacheProbePlan)
    expect(readPlanCache(inventoryFile, cache)).to.deep.equal(probePlan(inventory))

    await appendFile(inventoryFile, '# edited\n')
    expect(readPlanCache(inventoryFile, cache), 'edited: a miss').to.equal(undefined)
    await loadInventory(inventoryFile, cacheProbePlan)
    expect(readPlanCache(inventoryFile, cache)).to.deep.equal(probePlan(inventory))

    // Another jproxy version planned it: a miss too.
    const file = planCacheFile(inventoryFile, cache)
    const cached = JSON.parse(await readFile(file, 'utf8'))
    cached.key.version = '0.0.0-other'
    await writeFile(file, JSON.stringify(cached))
    expect(readPlanCache(inventoryFile, cache)).to.equal(undefined)
    await writeFile(file, '{not json')
    expect(readPlanCache(inventoryFile, cache)).to.equal(undefined)
  })

  it('a plain load (domain code, tests) writes nothing, even where the cache folder exists', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(cache))
    await loadInventory(inventoryFile)
    expect(await readdir(cache)).to.deep.equal([])
  })

  it('a name longer than the file system takes is no key, and the load says why the file cannot be read', async () => {
    const long = join(dir, 'x'.repeat(300), 'jproxy.yaml')
    expect(() => cacheProbePlan(long)).not.to.throw()
    expect(cacheProbePlan(long)).to.equal(undefined)
    let error: unknown
    await loadInventory(long, cacheProbePlan).catch((caught: unknown) => (error = caught))
    expect(error).to.include({code: 'inventoryUnreadable'})
    expect((error as Error).message).to.match(/^cannot read inventory .*: /)
  })

  it('without its folder there is no cache, and loading works as before', async () => {
    await loadInventory(inventoryFile, cacheProbePlan)
    expect(await readdir(dir)).to.have.members(['.keep', 'jproxy.yaml'])
    expect(readPlanCache(inventoryFile, cache)).to.equal(undefined)
  })

  describe('probe --host on a hit (built CLI)', () => {
    let jvb: FakeJitsi
    let colibri: LoopbackBackend
    before(async () => {
      jvb = await startFakeJitsi()
      colibri = await startBackend('colibri', [])
    })
    after(async () => {
      await Promise.all([jvb?.close(), colibri?.close()])
    })

    const run = (args: string[]) =>
      new Promise<{code: number; loaded: string[]; stdout: string}>((resolve) => {
        execFile(process.execPath, ['--import', join(dir, 'register.mjs'), '--require', join(dir, 'require-hook.cjs'), BIN, ...args], {env: {...process.env, JPROXY_CACHE_DIR: cache}}, (error, stdout, stderr) => {
          resolve({code: typeof error?.code === 'number' ? error.code : 0, loaded: [...stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1]), stdout})
        })
      })

    it('loads no package, only node: built-ins and its own probe modules, and answers like the full path', async () => {
      await import('node:fs/promises').then((fs) => fs.mkdir(cache))
      const data = smallInventory()
      data.shards[0].jvbs = [{address: '127.0.0.1', colibriPort: colibri.port, id: 'jvb1', restPort: jvb.port}]
      data.probe = {proxy: false}
      await writeFile(inventoryFile, stringify(data))
      await writeFile(join(dir, 'hooks.mjs'), HOOKS)
      await writeFile(join(dir, 'require-hook.cjs'), REQUIRE_HOOK)
      await writeFile(join(dir, 'register.mjs'), "import {register} from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n")
      const args = ['probe', '--host', '127.0.0.1', '--role', 'jvb', '-i', inventoryFile]

      const miss = await run(args)
      expect(miss.code).to.equal(1)
      expect(miss.stdout).to.equal('127.0.0.1 up\n')
      expect(miss.loaded.some((url) => url.includes('/node_modules/yaml/')), 'a miss loads the inventory the full way').to.equal(true)

      const hit = await run(args)
      expect(hit.code).to.equal(1)
      expect(hit.stdout).to.equal('127.0.0.1 up\n')
      expect(hit.loaded.some((file) => file.endsWith('/dist/bundle/check.cjs')), 'the hooks see the fast path').to.equal(true)
      expect(hit.loaded.filter((url) => url.includes('/node_modules/'))).to.deep.equal([])
      expect(hit.loaded.filter((url) => /\/dist\/(inventory\/(load|schema)|render|commands)/.test(url))).to.deep.equal([])

      jvb.state.health = 503
      const down = await run(args)
      expect(down.code).to.equal(0)
      expect(down.stdout).to.equal('')
      expect(down.loaded.filter((url) => url.includes('/node_modules/'))).to.deep.equal([])
    })
  })
})
