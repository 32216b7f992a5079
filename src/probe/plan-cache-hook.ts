import type {InventoryLoadHook} from '../inventory/load.js'
import {probePlan} from './plan.js'
import {planCacheKey, writePlanCache} from './plan-cache.js'

/**
 * The load hook that keeps the probe-plan cache of `probe --host` fresh: the file's key is taken
 * before it is read (an edit in between leaves a key that no longer matches), the plan written
 * once the inventory is valid. Commands pass it to every load; domain code and tests load without.
 */
export const cacheProbePlan: InventoryLoadHook = (file) => {
  const key = planCacheKey(file)
  return key === undefined ? undefined : (inventory) => void writePlanCache(key, probePlan(inventory))
}
