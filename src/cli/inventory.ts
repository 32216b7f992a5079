import {loadInventory, loadInventoryText} from '../inventory/load.js'
import type {Inventory} from '../inventory/schema.js'
import {cacheProbePlan} from '../probe/plan-cache-hook.js'
import type {InventorySource} from '../render/origins.js'

/**
 * A command's load of the inventory: it also refreshes the probe-plan cache that `probe --host`
 * (relayd's check script) starts from, a side effect of running jproxy, not of loading a file.
 */
export function loadCommandInventory(file: string): Promise<Inventory> {
  return loadInventory(file, cacheProbePlan)
}

/** loadCommandInventory, with where each field is written: for messages that name a field's line. */
export async function loadCommandInventorySource(file: string): Promise<{inventory: Inventory; source: InventorySource}> {
  const {inventory, lineOf} = await loadInventoryText(file, cacheProbePlan)
  return {inventory, source: {file, lineOf}}
}
