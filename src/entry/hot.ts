import GenHaproxy from '../commands/gen/haproxy.js'
import GenPf from '../commands/gen/pf.js'
import GenRelayd from '../commands/gen/relayd.js'
import LintRelayd from '../commands/lint/relayd.js'
import Probe from '../commands/probe.js'
import ValidateConfig from '../commands/validate/config.js'
import {runHotCommand} from './run-hot.js'

/*
 * Entry of the start-up bundle (dist/bundle/hot.cjs, built by scripts/bundle.mjs with
 * '@oclif/core' aliased to oclif-shim.ts): the commands cron, relayd and admins run most, run
 * without oclif. Their classes, flag definitions included, are the ones oclif runs. (oclif
 * alone costs a 1,000-backend `probe` 30-45 MB of peak RSS.)
 */

/** Command ids as typed (the topic separator is a space), to their classes. */
export const HOT_COMMANDS: Record<string, unknown> = {
  'gen haproxy': GenHaproxy,
  'gen pf': GenPf,
  'gen relayd': GenRelayd,
  'lint relayd': LintRelayd,
  probe: Probe,
  'validate config': ValidateConfig,
}

/**
 * Runs `argv` when it is a hot command in a form the shim parses; false, having done nothing,
 * when oclif must (any other command, help, --json to a terminal, JPROXY_CONTENT_TYPE, unusual
 * flags).
 */
export async function runHot(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return runHotCommand(HOT_COMMANDS, argv, env)
}
