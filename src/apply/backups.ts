import {mkdir, readdir, rm} from 'node:fs/promises'
import {basename, join} from 'node:path'

import {writePrivate} from '../system/private-files.js'

/** `2026-11-26T10-55-03.123Z`: sorts by time, safe in a file name. */
const stamp = (now: Date) => now.toISOString().replaceAll(':', '-')

/**
 * Copies the live config into `folder` as `<name>.<time>` and keeps the newest `keep` copies.
 * Returns the copy's path (undefined when there was no live file or `keep` is 0). `mode`: of the
 * copy (private keys: 0600).
 */
export async function backUp(live: string, liveText: string | undefined, folder: string, keep: number, now: Date, mode?: number): Promise<string | undefined> {
  if (liveText === undefined || keep === 0) return undefined
  await mkdir(folder, {recursive: true, mode: 0o700})
  const copy = join(folder, `${basename(live)}.${stamp(now)}`)
  await writePrivate(copy, liveText, mode)
  const prefix = `${basename(live)}.`
  const copies = (await readdir(folder)).filter((f) => f.startsWith(prefix) && !f.endsWith('.tmp')).sort()
  await Promise.all(copies.slice(0, Math.max(0, copies.length - keep)).map((f) => rm(join(folder, f), {force: true})))
  return copy
}
