import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'

import {JproxyError} from '../../src/errors.js'
import {generate} from '../../src/render/generate.js'
import {fullInventory} from '../fixtures/inventories.js'

describe('generate', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-gen-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('writes the rendered config atomically and reports its hash', async () => {
    const inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(fullInventory()))
    const out = join(dir, 'haproxy.cfg')
    const result = await generate({inventory, out, target: 'haproxy'})
    const written = await readFile(out, 'utf8')
    expect(result).to.deep.include({bytes: Buffer.byteLength(written), out, target: 'haproxy'})
    expect(result.config).to.equal(undefined)
    expect(result.sha256).to.match(/^[0-9a-f]{64}$/)
    expect(written).to.match(/^# haproxy\.cfg for meet\.example\.org/)
  })

  it("keeps an existing output file's mode", async () => {
    const inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(fullInventory()))
    const out = join(dir, 'relayd.conf')
    await writeFile(out, 'old', {mode: 0o600})
    await generate({inventory, out, target: 'relayd'})
    expect((await stat(out)).mode & 0o777).to.equal(0o600)
  })

  it('writes nothing, and keeps an old output intact, when the inventory is hostile', async () => {
    const data = fullInventory()
    data.shards[0].jvbs[0].id = 'jvb1\n}\nrelay "evil" {'
    const inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(data))
    const fresh = join(dir, 'fresh.cfg')
    const kept = join(dir, 'kept.cfg')
    await writeFile(kept, 'previous bytes\n')
    for (const out of [fresh, kept]) {
      const error = await generate({inventory, out, target: 'relayd'}).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(JproxyError)
      expect((error as JproxyError).exitCode).to.equal(4)
      expect((error as JproxyError).message).to.include('shards[0].jvbs[0].id')
    }

    expect(existsSync(fresh)).to.equal(false)
    expect(await readFile(kept, 'utf8')).to.equal('previous bytes\n')
  })

  it("refuses to write over the target's live config", async () => {
    const data = fullInventory()
    data.targets.haproxy.output = join(dir, 'live.cfg')
    const inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(data))
    const error = await generate({inventory, out: join(dir, '.', 'live.cfg'), target: 'haproxy'}).catch((error_: unknown) => error_)
    expect((error as JproxyError).code).to.equal('usage')
    expect(existsSync(join(dir, 'live.cfg'))).to.equal(false)
  })

  it('reports an unwritable output as a write failure and leaves no temp file', async () => {
    const inventory = join(dir, 'jproxy.yaml')
    await writeFile(inventory, stringify(fullInventory()))
    const error = await generate({inventory, out: join(dir, 'missing-folder', 'x.cfg'), target: 'haproxy'}).catch((error_: unknown) => error_)
    expect((error as JproxyError).code).to.equal('writeFailed')
  })
})
