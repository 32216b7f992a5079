import {randomBytes} from 'node:crypto'
import {chown, lstat, open, realpath, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {JproxyError} from '../errors.js'

/**
 * Writes `data` to `path` (created or truncated; `flags` for another open, such as an exclusive
 * one) and fsyncs it, so a later rename publishes whole bytes.
 */
export async function writeSynced(path: string, data: string, mode = 0o600, flags: number | string = 'w'): Promise<void> {
  const handle = await open(path, flags, mode)
  try {
    await handle.writeFile(data)
    await handle.chmod(mode)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Renames a written file over `target` so readers see the old bytes or the new, never a mix:
 * the target's mode and owner are kept (`newMode`, 0644 unless told, and ours, for a new file), and the folder is
 * fsynced so the rename itself survives a crash. Both must be in one folder (rename is atomic
 * only within one file system).
 */
export async function promote(written: string, target: string, newMode = 0o644): Promise<void> {
  const old = await stat(target).catch(() => undefined)
  const handle = await open(written, 'r+')
  try {
    await handle.chmod(old ? old.mode & 0o7777 : newMode)
    if (old && (old.uid !== process.getuid?.() || old.gid !== process.getgid?.())) {
      // Only root may give a file away; anyone else keeps what they can.
      await chown(written, old.uid, old.gid).catch(() => undefined)
    }

    await handle.sync()
  } finally {
    await handle.close()
  }

  await rename(written, target)
  await syncFolder(dirname(target))
}

/** fsyncs a folder, so a rename in it survives a crash. */
export async function syncFolder(path: string): Promise<void> {
  const folder = await open(path, 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** A temporary name beside `path`, unique per call. */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
}

/**
 * writeSynced to a temporary file beside `path`, then promote (`newMode` for a file not there
 * yet): the whole file or none of it.
 * Only a regular file or a missing path is replaced by rename. A symlink to a regular file
 * keeps the link (the file it names is replaced); a character device or FIFO (`/dev/stdout`,
 * `/dev/full`, a pipe) is written through, so a device node is never swapped for a file; a block
 * device, socket or folder is refused as a usage error. Write errors (ENOSPC) are thrown as is.
 */
export async function atomicWrite(path: string, data: string, newMode?: number): Promise<void> {
  const target = await writeTarget(path)
  if (target.through) {
    await writeThrough(path, data)
    return
  }

  const temp = tempPath(target.path)
  try {
    await writeSynced(temp, data)
    await promote(temp, target.path, newMode)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
}

/** Where atomicWrite writes for `path`, and whether it writes through instead of renaming. */
async function writeTarget(path: string): Promise<{path: string; through: boolean}> {
  if (path === '') throw new JproxyError('usage', 'an output path must not be empty')
  const link = await lstat(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)))
  if (link === undefined || link.isFile()) return {path, through: false}
  const info = link.isSymbolicLink() ? await stat(path) : link
  if (info.isFile()) return {path: await realpath(path), through: false}
  if (info.isCharacterDevice() || info.isFIFO()) return {path, through: true}
  const kind = info.isDirectory() ? 'a folder' : info.isBlockDevice() ? 'a block device' : 'a socket'
  throw new JproxyError('usage', `${path} is ${kind}; give a file to write`)
}

/** Writes into a device or FIFO as it is: no temporary file, no rename, no fsync (they have none). */
async function writeThrough(path: string, data: string): Promise<void> {
  const handle = await open(path, 'w')
  try {
    await handle.writeFile(data)
  } finally {
    await handle.close()
  }
}
