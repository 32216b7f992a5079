import {basename, dirname, join} from 'node:path'

import type {Inventory} from '../inventory/schema.js'
import {type TargetName, targetOutputPath} from '../render/targets.js'
import {defaultApplyDir} from '../system/state-dir.js'

// Lives in system/ so that `validate config --effective` (render/) can name it too.
export {defaultApplyDir} from '../system/state-dir.js'

/** Every file one target's apply touches. */
export interface ApplyPaths {
  /** Versioned copies of replaced configs. */
  backups: string
  /** Counters behind the Prometheus metrics. */
  counters: string
  /** One JSON line per run, all targets. */
  history: string
  live: string
  /** The last config that reloaded and verified. */
  lkg: string
  lock: string
  /** Present from install until verified: a run that died there left the proxy unproven. */
  pending: string
  /** The candidate, beside the live file so the final rename stays on one file system. */
  staged: string
}

export function applyPaths(inventory: Inventory, target: TargetName): ApplyPaths {
  const live = targetOutputPath(inventory, target)
  const dir = inventory.apply.dir ?? defaultApplyDir()
  return {
    backups: join(dir, 'backups', target),
    counters: join(dir, `apply-${target}.json`),
    history: join(dir, 'apply-history.jsonl'),
    live,
    lkg: join(dir, `${target}.lkg`),
    lock: join(dir, `apply-${target}.lock`),
    pending: join(dir, `apply-${target}.pending`),
    staged: join(dirname(live), `.${basename(live)}.jproxy-staged`),
  }
}
