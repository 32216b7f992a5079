import {randomBytes} from 'node:crypto'
import {open, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/**
 * Writes a file so that readers see the old bytes or the new, never a mix: a temp file in the
 * same folder (rename is atomic only within one file system), fsync, the old file's mode kept,
 * rename over the target, then fsync the folder so the rename itself survives a crash.
 */
export async function atomicWrite(path: string, data: string): Promise<void> {
  const folder = dirname(path)
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const mode = await stat(path).then(
    (s) => s.mode & 0o7777,
    () => 0o644,
  )
  try {
    const handle = await open(temp, 'wx', mode)
    try {
      await handle.writeFile(data)
      await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }

    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }

  const dir = await open(folder, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
