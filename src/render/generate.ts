import {createHash} from 'node:crypto'
import {resolve} from 'node:path'

import {atomicWrite} from '../apply/atomic-write.js'
import {JproxyError} from '../errors.js'
import {loadInventory} from '../inventory/load.js'
import {renderTarget, type TargetName, targetOutputPath} from './targets.js'

/** What `jproxy gen` produced. */
export interface Generated {
  bytes: number
  /** The rendered config; left out of reports when it was written to a file. */
  config?: string
  out?: string
  sha256: string
  target: TargetName
}

/**
 * Loads the inventory, renders one target and, with `out`, writes it atomically. Refuses to
 * write over the target's live config: only `jproxy apply` may, after checking it.
 */
export async function generate(options: {inventory: string; out?: string; target: TargetName}): Promise<Generated> {
  const inventory = await loadInventory(options.inventory)
  const config = renderTarget(inventory, options.target)
  const summary = {bytes: Buffer.byteLength(config), sha256: createHash('sha256').update(config).digest('hex'), target: options.target}
  if (options.out === undefined) return {...summary, config}

  const live = targetOutputPath(inventory, options.target)
  if (resolve(options.out) === resolve(live)) {
    throw new JproxyError('usage', `${options.out} is the live ${options.target} config; install it with \`jproxy apply\`, which checks it first`)
  }

  try {
    await atomicWrite(options.out, config)
  } catch (error) {
    throw new JproxyError('writeFailed', `cannot write ${options.out}: ${(error as Error).message}`)
  }

  return {...summary, out: options.out}
}
