import {open, rm} from 'node:fs/promises'

import {atomicWrite} from '../system/atomic-write.js'
import {JproxyError} from '../errors.js'
import {invalidInventory, parseInventory} from '../inventory/load.js'
import {checkRendered} from '../render/check-rendered.js'
import {renderTarget} from '../render/targets.js'
import {type StarterAnswers, starterInventory} from './starter.js'

/** What `jproxy init` did. */
export interface InitReport {
  file: string
  /** True when an existing file was replaced (`--force`). */
  replaced: boolean
  schema: string
  summary: {jvbs: number; shards: number; web: number}
}

/**
 * Writes a starter inventory to `file` after checking it parses and validates exactly as
 * `validate config` would. An existing file is never touched without `force`: the new file is
 * created exclusively, so two runs cannot both think they wrote it; with `force` it replaces the
 * old one in one rename.
 */
export async function writeStarter(options: {
  answers: StarterAnswers
  file: string
  force: boolean
  paper?: boolean
  schemaUrl: string
}): Promise<InitReport> {
  const text = starterInventory(options.answers, options.schemaUrl, options.paper)
  const report = parseInventory(text, options.file)
  if (!report.inventory) throw invalidInventory(options.file, report.problems, 'the answers do not make a valid inventory, so nothing was written')
  const {inventory} = report
  // It must also render for the proxy it was written for (checkRendered throws a JproxyError saying why not).
  checkRendered(options.answers.target, renderTarget(inventory, options.answers.target), options.answers.target)
  const jvbs = inventory.shards.reduce((n, s) => n + s.jvbs.length, 0)
  const summary = {jvbs, shards: inventory.shards.length, web: inventory.web.length}
  let replaced = false
  try {
    if (options.force) {
      replaced = await open(options.file, 'r').then(async (h) => (await h.close(), true), () => false)
      await atomicWrite(options.file, text)
    } else {
      await createExclusive(options.file, text)
    }
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    if (code === 'EEXIST') throw new JproxyError('initExists', `${options.file} exists; not overwritten (use --force to replace it)`, {file: options.file})
    throw new JproxyError('writeFailed', `cannot write ${options.file}: ${message}`, {file: options.file})
  }

  return {file: options.file, replaced, schema: options.schemaUrl, summary}
}

/** Creates `file` only if it does not exist (O_EXCL), mode 0644; a failed write removes it again. */
async function createExclusive(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o644)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(file, {force: true})
    throw error
  }

  await handle.close()
}
