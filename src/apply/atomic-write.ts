import {randomBytes} from 'node:crypto'
import {chown, open, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/** Writes `data` to `path` (created or truncated) and fsyncs it, so a later rename publishes whole bytes. */
export async function writeSynced(path: string, data: string, mode = 0o600): Promise<void> {
  const handle = await open(path, 'w', mode)
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
  const folder = await open(dirname(target), 'r')
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

/** writeSynced to a temporary file beside `path`, then promote (`newMode` for a file not there yet): the whole file or none of it. */
export async function atomicWrite(path: string, data: string, newMode?: number): Promise<void> {
  const temp = tempPath(path)
  try {
    await writeSynced(temp, data)
    await promote(temp, path, newMode)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
}
