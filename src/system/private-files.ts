import {constants} from 'node:fs'
import {lstat, mkdir, open, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

import {JproxyError} from '../errors.js'
import {syncFolder, tempPath, writeSynced} from './atomic-write.js'

/*
 * Files root keeps in a state folder (apply.dir, and the probe state root's runs update). Whoever
 * may write such a folder may plant a symlink where root is about to write, and root would write
 * through it to any file: so the folder must be root's alone, and no write here follows a link.
 */

/** What a planted link costs: a clear refusal instead of a write through it. */
function linkRefused(path: string): JproxyError {
  return new JproxyError('writeFailed', `${path} is a symbolic link; jproxy does not write through links in its state folders: remove it`, {file: path})
}

/**
 * Creates `dir` if needed and refuses one that another user owns or that group or others may
 * write: it names the folder and the fix. A new folder is 0755, so the probe watcher can reach
 * its own subfolder; the files in it are 0600.
 */
export async function ensurePrivateDir(dir: string, what = 'apply.dir'): Promise<void> {
  await mkdir(dir, {mode: 0o755, recursive: true})
  const info = await stat(dir)
  const uid = process.getuid?.()
  const owner = uid !== undefined && info.uid !== uid ? `is owned by uid ${info.uid}, not by uid ${uid} who runs jproxy` : undefined
  const writable = (info.mode & 0o022) === 0 ? undefined : `may be written by ${info.mode & 0o020 ? 'its group' : 'others'} (mode ${(info.mode & 0o7777).toString(8)})`
  const problem = owner ?? writable
  if (problem) {
    throw new JproxyError(
      'refused',
      `${dir} (${what}) ${problem}: whoever may write there can make this run write through a planted link; ` +
        `make it ${uid === 0 ? "root's" : 'yours'} alone: chown ${uid === 0 || uid === undefined ? 'root' : uid} ${dir} && chmod 755 ${dir} (the probe watcher keeps its state in a subfolder of its own)`,
      {file: dir},
    )
  }
}

/** Appends `text` to `path` (created 0600) in one write, never through a symbolic link (O_NOFOLLOW). */
export async function appendPrivate(path: string, text: string): Promise<void> {
  let handle
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(path)
    throw error
  }

  try {
    await handle.writeFile(text)
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `path` whole: a temporary file created exclusively beside it (O_EXCL never follows a
 * link), written, fsynced, renamed over it, the folder fsynced. A symbolic link at `path` is
 * refused, not followed; every change to the temporary file goes through its descriptor, never its
 * name, which another writer of the folder could swap.
 */
export async function writePrivate(path: string, text: string, mode = 0o600): Promise<void> {
  const link = await lstat(path).catch(() => undefined)
  if (link?.isSymbolicLink()) throw linkRefused(path)
  const temp = tempPath(path)
  try {
    await writeSynced(temp, text, mode, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW)
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }

  await syncFolder(dirname(path))
}
