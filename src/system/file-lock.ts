import {open, readFile, rm, stat} from 'node:fs/promises'
import {hostname} from 'node:os'

export interface LockOptions {
  /** A lock older than this is taken over even if its holder lives (it hung); none: only a dead holder's. */
  staleMs?: number
  /** How long to wait for another holder before giving up. */
  waitMs: number
}

/** Another run held the lock for longer than the wait. */
export class LockBusyError extends Error {
  constructor(
    readonly path: string,
    readonly holder: string,
  ) {
    super(`${path} is held by ${holder || 'another run'}`)
    this.name = 'LockBusyError'
  }
}

/** A holder that crashed between creating the file and writing its pid leaves it empty; after this it is dead. */
const EMPTY_LOCK_GRACE_MS = 5000

/**
 * Runs `work` while holding `path`, a file created exclusively that holds `pid host`. A lock
 * whose holder is gone (same host, no such pid) is taken over, as is one older than `staleMs`;
 * waiting is bounded by `waitMs`. Taking over goes through `path.takeover`, created exclusively
 * too, so that two waiters never both remove a lock and one of them a fresh one.
 */
export async function withFileLock<T>(path: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const started = Date.now()
  for (;;) {
    if (await create(path)) break
    const holder = await readHolder(path)
    if (holder !== undefined && (await isStale(path, holder, options.staleMs)) && (await takeOver(path, holder, options.staleMs))) continue
    if (Date.now() - started > options.waitMs) throw new LockBusyError(path, holder?.text ?? '')
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50))
  }

  try {
    return await work()
  } finally {
    await rm(path, {force: true})
  }
}

async function create(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600)
    try {
      await handle.writeFile(`${process.pid} ${hostname()}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }

    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

interface Holder {
  mtimeMs: number
  text: string
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')])
    return {mtimeMs: info.mtimeMs, text: text.trim()}
  } catch {
    return undefined // gone meanwhile: try again
  }
}

async function isStale(path: string, holder: Holder, staleMs?: number): Promise<boolean> {
  const age = Date.now() - holder.mtimeMs
  if (staleMs !== undefined && age > staleMs) return true
  if (holder.text === '') return age > EMPTY_LOCK_GRACE_MS
  const [pid, host] = holder.text.split(' ')
  if (host !== hostname() || !/^\d+$/.test(pid)) return false
  try {
    process.kill(Number(pid), 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/** Removes the stale lock if it is still the one judged stale; true when the caller should try again at once. */
async function takeOver(path: string, stale: Holder, staleMs?: number): Promise<boolean> {
  const guard = `${path}.takeover`
  if (!(await create(guard))) {
    // Another waiter is taking over; its guard is removed only if that waiter died.
    const other = await readHolder(guard)
    if (other !== undefined && (await isStale(guard, other, staleMs))) await rm(guard, {force: true})
    return false
  }

  try {
    const now = await readHolder(path)
    if (now !== undefined && now.text === stale.text && now.mtimeMs === stale.mtimeMs) await rm(path, {force: true})
    return true
  } finally {
    await rm(guard, {force: true})
  }
}
