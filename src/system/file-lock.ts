import {open, readFile, rm, stat} from 'node:fs/promises'
import {hostname} from 'node:os'

export interface LockOptions {
  /** A lock older than this is taken over: its holder hung or died without cleaning up. */
  staleMs: number
  /** How long to wait for another holder before giving up. */
  waitMs: number
}

/**
 * Runs `work` while holding `path` (created exclusively, holding the pid). A lock whose process
 * is gone, or that is older than `staleMs`, is taken over; waiting is bounded by `waitMs`.
 */
export async function withFileLock<T>(path: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const started = Date.now()
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(`${process.pid} ${hostname()}\n`)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (await isStale(path, options.staleMs)) {
        await rm(path, {force: true})
        continue
      }

      if (Date.now() - started > options.waitMs) throw new Error(`${path} is held by another run (waited ${options.waitMs} ms)`)
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50))
    }
  }

  try {
    return await work()
  } finally {
    await rm(path, {force: true})
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')])
    if (Date.now() - info.mtimeMs > staleMs) return true
    const [pid, host] = text.trim().split(' ')
    if (host !== hostname() || !/^\d+$/.test(pid)) return false
    try {
      process.kill(Number(pid), 0)
      return false
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH'
    }
  } catch {
    // Gone between our open and now, or half-written by a holder still starting: look again.
    return false
  }
}
