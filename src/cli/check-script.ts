import {parseArgs} from 'node:util'

import {parseDuration} from '../inventory/duration.js'
import {DEFAULT_INVENTORY, loadInventory} from '../inventory/load.js'
import {CHECK_SCRIPT_EXIT, checkHost} from '../probe/check-host.js'
import {type Role, ROLES} from '../probe/model.js'

/**
 * `jproxy probe --host ADDRESS` without oclif: relayd starts the check script once per host and
 * interval, within the table's timeout, and oclif's start-up is half of a cold start. Takes the
 * same flags as the probe command's host mode and behaves the same; returns false, having done
 * nothing, for anything else (help, --json, a flag it does not know or a bad value) so that the
 * full command handles it and reports errors the usual way.
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
    const inventory = await loadInventory(values.inventory ?? env.JPROXY_INVENTORY ?? DEFAULT_INVENTORY)
    const check = await checkHost({host: values.host, inventory, roles: roles as Role[], timeoutMs})
    if (!check.up) process.stderr.write(`jproxy: ${values.host} down: ${check.why}\n`)
    return check.up ? CHECK_SCRIPT_EXIT.up : CHECK_SCRIPT_EXIT.down
  } catch (error) {
    // Whatever goes wrong, relayd must read "down".
    process.stderr.write(`jproxy: ${(error as Error).message}\n`)
    return CHECK_SCRIPT_EXIT.down
  }
}
