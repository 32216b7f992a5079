import FleetPublish from '../commands/fleet/publish.js'
import FleetStatus from '../commands/fleet/status.js'
import {runHotCommand} from './run-hot.js'

/*
 * Entry of the fleet start-up bundle (dist/bundle/fleet.cjs, built like hot.cjs): the fleet commands
 * cron and deploy scripts run (`fleet status --prom-file` every minute, `fleet publish` per change),
 * without oclif. A bundle of their own: the etcd client and undici would triple hot.cjs, which
 * every `gen` and `probe` loads.
 */

/** Command ids as typed, to their classes. */
export const FLEET_COMMANDS: Record<string, unknown> = {
  'fleet publish': FleetPublish,
  'fleet status': FleetStatus,
}

export async function runHot(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return runHotCommand(FLEET_COMMANDS, argv, env)
}
