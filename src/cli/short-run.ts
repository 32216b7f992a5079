import {statSync} from 'node:fs'
import module from 'node:module'

import {DEFAULT_INVENTORY} from '../inventory/default-path.js'

const SHORT_RUN_V8_FLAGS = ['--no-maglev', '--no-turbofan'] as const
let applied: readonly string[] = []

/**
 * Inputs up to this size make a short run: an inventory of 2,500 bridges is 122 KiB, and there
 * `validate config` takes as long with V8's optimizing compilers as without; at 10,000 bridges
 * (490 KiB) they halve it.
 */
export const SHORT_RUN_BYTES = 128 * 1024

/**
 * What a command line may read, in bytes: every word (or `--flag=` value) that names a regular
 * file, and the inventory read when none is named. A guess from outside the command: a word
 * that is not an input only makes a run look longer than it is.
 */
export function inputBytes(argv: string[], env: NodeJS.ProcessEnv): number {
  const words = argv.map((word) => (word.startsWith('--') && word.includes('=') ? word.slice(word.indexOf('=') + 1) : word))
  let total = 0
  for (const path of new Set([...words, env.JPROXY_INVENTORY ?? DEFAULT_INVENTORY])) {
    try {
      const info = statSync(path, {throwIfNoEntry: false})
      if (info?.isFile()) total += info.size
    } catch {} // unreadable: the command reports it
  }

  return total
}

/**
 * Turns V8's optimizing compilers (Maglev, TurboFan) off for this process when the command's
 * inputs are small: in a run of a fraction of a second, or one that waits on the network (a
 * probe run), they save no time, and their compile jobs cost 10-17 MB of peak RSS, a quarter of
 * Node's own. Large inputs (thousands of bridges) keep them: there they halve the run. Returns
 * whether it turned them off.
 */
export function tuneForShortRun(argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (inputBytes(argv, env) > SHORT_RUN_BYTES) return false
  const v8 = module.createRequire(import.meta.url)('node:v8') as typeof import('node:v8')
  for (const flag of SHORT_RUN_V8_FLAGS) v8.setFlagsFromString(flag)
  applied = SHORT_RUN_V8_FLAGS
  return true
}

/** The V8 flags tuneForShortRun set in this process: part of a code cache's key. */
export function appliedV8Flags(): readonly string[] {
  return applied
}
