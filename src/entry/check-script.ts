import {parseArgs} from 'node:util'

import {DEFAULT_INVENTORY} from '../inventory/default-path.js'
import {parseDuration} from '../inventory/duration.js'
import {CHECK_SCRIPT_EXIT, checkPlannedHost} from '../probe/check-host.js'
import {type Role, ROLES} from '../probe/model.js'
import {planCacheDir, readPlanCache} from '../probe/plan-cache.js'

/**
 * `jproxy probe --host ADDRESS` without oclif, yaml or zod: relayd's check script falls back to it
 * when the watcher's state is stale, once per host and interval, within the table's timeout. The
 * probe plan comes from the plan cache (every full inventory load writes it); a miss loads the
 * inventory the full way, which writes the cache for the next call. Everything statically
 * imported from here loads only `node:` built-ins. Takes the same flags as the probe command's
 * host mode and behaves the same; returns false, having done nothing, for anything else (help,
 * --json, a flag it does not know or a bad value) so that the full command handles it and
 * reports errors the usual way.
 */
export async function runCheckScript(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<false | number> {
  let values
  try {
    ;({values} = parseArgs({
      args: argv,
      options: {
        host: {type: 'string'},
        inventory: {short: 'i', type: 'string'},
        role: {multiple: true, type: 'string'},
        timeout: {type: 'string'},
      },
      strict: true,
    }))
  } catch {
    return false
  }

  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout)
  const roles = values.role ?? []
  if (values.host === undefined || (values.timeout !== undefined && timeoutMs === undefined)) return false
  if (!roles.every((r): r is Role => (ROLES as readonly string[]).includes(r))) return false

  try {
    const file = values.inventory ?? env.JPROXY_INVENTORY ?? DEFAULT_INVENTORY
    const plan = readPlanCache(file, planCacheDir(env)) ?? (await fullPlan(file))
    const check = await checkPlannedHost({host: values.host, plan, roles: roles, timeoutMs})
    if (check.up) process.stdout.write(`${values.host} up\n`)
    else process.stderr.write(`jproxy: ${values.host} down: ${check.why}\n`)
    return check.up ? CHECK_SCRIPT_EXIT.up : CHECK_SCRIPT_EXIT.down
  } catch (error) {
    // Whatever goes wrong, relayd must read "down".
    process.stderr.write(`jproxy: ${(error as Error).message}\n`)
    return CHECK_SCRIPT_EXIT.down
  }
}

/** A plan-cache miss: the full load (yaml, zod, rules), which writes the cache again. */
async function fullPlan(file: string) {
  const [{loadInventory}, {probePlan}, {cacheProbePlan}] = await Promise.all([
    import('../inventory/load.js'),
    import('../probe/plan.js'),
    import('../probe/plan-cache-hook.js'),
  ])
  return probePlan(await loadInventory(file, cacheProbePlan))
}
