import {loadInventory} from '../inventory/load.js'
import type {Inventory} from '../inventory/schema.js'
import {cacheProbePlan} from '../probe/plan-cache-hook.js'

/**
 * A command's load of the inventory: it also refreshes the probe-plan cache that `probe --host`
 * (relayd's check script) starts from, a side effect of running jproxy, not of loading a file.
 */
export function loadCommandInventory(file: string): Promise<Inventory> {
  return loadInventory(file, cacheProbePlan)
}
