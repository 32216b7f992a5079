import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import {LockBusyError, withFileLock} from '../../src/system/file-lock.js'

/** The pid of a process that has exited: certainly no holder. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}).stdout)
}

describe('withFileLock', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jproxy-lock-'))
  })
  afterEach(async () => {
    await rm(dir, {force: true, recursive: true})
  })

  it('takes over a lock whose holder died, and only then: twenty waiters never hold it at once', async () => {
    const lock = join(dir, 'apply.lock')
    await writeFile(lock, `${deadPid()} ${hostname()}\n`)
    let holding = 0
    let most = 0
    let runs = 0
    await Promise.all(
      Array.from({length: 20}, () =>
        withFileLock(lock, {waitMs: 20_000}, async () => {
          most = Math.max(most, ++holding)
          await new Promise((resolve) => setTimeout(resolve, 5))
          holding--
          runs++
        }),
      ),
    )
    expect({most, runs}).to.deep.equal({most: 1, runs: 20})
    expect(await readFile(lock).then(() => 'present', () => 'released')).to.equal('released')
  })

  it('waits for a live holder and gives up after waitMs with who holds it', async () => {
    const lock = join(dir, 'apply.lock')
    await writeFile(lock, `${process.pid} ${hostname()}\n`)
    const started = Date.now()
    const error = await withFileLock(lock, {waitMs: 300}, async () => 'ran').catch((e: unknown) => e)
    expect(error).to.be.instanceOf(LockBusyError)
    expect((error as LockBusyError).holder).to.equal(`${process.pid} ${hostname()}`)
    expect(Date.now() - started).to.be.within(250, 2000)
    expect(await readFile(lock, 'utf8')).to.equal(`${process.pid} ${hostname()}\n`)
  })
})
