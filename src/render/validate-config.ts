import {JproxyError} from '../errors.js'
import {readInventoryReport} from '../inventory/load.js'
import type {InventoryProblem} from '../inventory/problem.js'
import {checkRendered} from './check-rendered.js'
import {renderTarget, TARGETS, type TargetName} from './targets.js'

/** The outcome of `jproxy validate config`. */
export interface ConfigReport {
  file: string
  ok: boolean
  problems: InventoryProblem[]
  /** Counts of what the inventory describes, when it is valid. */
  summary?: {jvbs: number; shards: number; web: number}
  /** The file is not YAML jproxy reads (syntax, several documents, a size, depth or alias bound). */
  unreadable?: boolean
  /** Per target: null when it renders, else why it cannot. */
  targets?: Record<TargetName, null | string>
}

/** Schema, cross-field rules, and whether each target renders to a config that passes jproxy's linter. */
export async function validateConfig(file: string): Promise<ConfigReport> {
  const report = await readInventoryReport(file)
  const {inventory, problems} = report
  if (!inventory) return report.unreadable ? {file, ok: false, problems, unreadable: true} : {file, ok: false, problems}

  const targets = {} as Record<TargetName, null | string>
  for (const target of Object.keys(TARGETS) as TargetName[]) {
    try {
      checkRendered(target, renderTarget(inventory, target), target)
      targets[target] = null
    } catch (error) {
      if (!(error instanceof JproxyError)) throw error
      targets[target] = error.message
    }
  }

  return {
    file,
    ok: Object.values(targets).every((t) => t === null),
    problems,
    summary: {jvbs: inventory.shards.reduce((n, s) => n + s.jvbs.length, 0), shards: inventory.shards.length, web: inventory.web.length},
    targets,
  }
}
