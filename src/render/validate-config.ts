import {JproxyError} from '../errors.js'
import {effectiveInventory} from '../inventory/effective.js'
import {readInventoryReport} from '../inventory/load.js'
import type {InventoryProblem} from '../inventory/problem.js'
import {checkRendered} from './check-rendered.js'
import {renderTarget, TARGETS, type TargetName} from './targets.js'

/** The outcome of `jproxy validate config`. */
export interface ConfigReport {
  /** With `effective`: the inventory with every default filled in, as it would be written. */
  effective?: Record<string, unknown>
  file: string
  ok: boolean
  problems: InventoryProblem[]
  /** Counts of what the inventory describes, when it is valid. */
  summary?: {jvbs: number; shards: number; web: number}
  /** Per target checked: null when it renders, else why it cannot. */
  targets?: Partial<Record<TargetName, null | string>>
}

/**
 * Schema, cross-field rules, and whether each target renders to a config that passes jproxy's
 * linter: every target, or only `only` (a relayd-only site need not satisfy HAProxy's key rule).
 */
export async function validateConfig(file: string, options: {effective?: boolean; only?: TargetName[]} = {}): Promise<ConfigReport> {
  const report = await readInventoryReport(file)
  const {inventory, problems} = report
  if (!inventory) return {file, ok: false, problems}

  const targets: Partial<Record<TargetName, null | string>> = {}
  const checked = options.only && options.only.length > 0 ? options.only : (Object.keys(TARGETS) as TargetName[])
  for (const target of checked) {
    try {
      checkRendered(target, renderTarget(inventory, target), target)
      targets[target] = null
    } catch (error) {
      if (!(error instanceof JproxyError)) throw error
      targets[target] = error.message
    }
  }

  return {
    ...(options.effective ? {effective: effectiveInventory(inventory)} : {}),
    file,
    ok: Object.values(targets).every((t) => t === null),
    problems,
    summary: {jvbs: inventory.shards.reduce((n, s) => n + s.jvbs.length, 0), shards: inventory.shards.length, web: inventory.web.length},
    targets,
  }
}
