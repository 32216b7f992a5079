import {expect} from 'chai'
import {constants, lstatSync, openSync, closeSync, readSync} from 'node:fs'
import {mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {atomicWrite} from '../../src/system/atomic-write.js'
import {JproxyError} from '../../src/errors.js'
import {runCommand} from '../../src/system/command.js'

describe('atomicWrite: rename only over a regular file or a missing path', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-atomic-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('replaces a regular file and creates a missing one, leaving no temporary file', async () => {
    await writeFile(join(dir, 'a.conf'), 'old\n')
    await atomicWrite(join(dir, 'a.conf'), 'new\n')
    await atomicWrite(join(dir, 'b.conf'), 'fresh\n')
    expect(await readFile(join(dir, 'a.conf'), 'utf8')).to.equal('new\n')
    expect(await readFile(join(dir, 'b.conf'), 'utf8')).to.equal('fresh\n')
    expect((await readdir(dir)).sort()).to.deep.equal(['a.conf', 'b.conf'])
  })

  it('keeps a symlink to a regular file and replaces the file it names', async () => {
    await writeFile(join(dir, 'real.conf'), 'old\n')
    await symlink(join(dir, 'real.conf'), join(dir, 'link.conf'))
    await atomicWrite(join(dir, 'link.conf'), 'new\n')
    expect(lstatSync(join(dir, 'link.conf')).isSymbolicLink()).to.equal(true)
    expect(await readlink(join(dir, 'link.conf'))).to.equal(join(dir, 'real.conf'))
    expect(await readFile(join(dir, 'real.conf'), 'utf8')).to.equal('new\n')
  })

  it('writes through a FIFO and a symlink to one instead of replacing them', async () => {
    const fifo = join(dir, 'pipe')
    await runCommand(['mkfifo', fifo])
    await symlink(fifo, join(dir, 'pipe-link'))
    for (const path of [fifo, join(dir, 'pipe-link')]) {
      // A reader opened first (non-blocking), so the writer's open does not wait.
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
      try {
        await atomicWrite(path, 'through\n')
        const buffer = Buffer.alloc(64)
        expect(buffer.subarray(0, readSync(reader, buffer)).toString()).to.equal('through\n')
      } finally {
        closeSync(reader)
      }

      expect(lstatSync(fifo).isFIFO(), path).to.equal(true)
    }

    expect(lstatSync(join(dir, 'pipe-link')).isSymbolicLink()).to.equal(true)
  })

  it('a write error on a device (/dev/full: ENOSPC) is thrown, and the device node stays a device', async () => {
    const error = await atomicWrite('/dev/full', 'x\n').catch((error_: NodeJS.ErrnoException) => error_)
    expect(error).to.include({code: 'ENOSPC'})
    expect(lstatSync('/dev/full').isCharacterDevice()).to.equal(true)
    await atomicWrite('/dev/null', 'x\n')
    expect(lstatSync('/dev/null').isCharacterDevice()).to.equal(true)
  })

  it('refuses an empty path and a folder as usage errors, touching nothing', async () => {
    for (const [path, message] of [['', 'an output path must not be empty'], [dir, `${dir} is a folder; give a file to write`]]) {
      const error = await atomicWrite(path, 'x\n').catch((error_: unknown) => error_)
      expect(error, path).to.be.instanceOf(JproxyError).and.include({code: 'usage', message})
    }

    expect(await readdir(dir)).to.deep.equal([])
  })
})
