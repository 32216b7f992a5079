import GenHaproxy from '../commands/gen/haproxy.js'
import GenPf from '../commands/gen/pf.js'
import GenRelayd from '../commands/gen/relayd.js'
import LintRelayd from '../commands/lint/relayd.js'
import Probe from '../commands/probe.js'
import ValidateConfig from '../commands/validate/config.js'
import {FallBack} from '../cli/oclif-shim.js'

/*
 * Entry of the start-up bundle (dist/bundle/hot.cjs, built by scripts/bundle.mjs with
 * '@oclif/core' aliased to oclif-shim.ts): the commands cron, relayd and admins run most, run
 * without oclif. Their classes, flag definitions included, are the ones oclif runs. (oclif
 * alone costs a 1,000-backend `probe` 30-45 MB of peak RSS.)
 */

interface HotCommand {
  new (argv: string[]): {runHot(): Promise<void>}
}

/** Command ids as typed (the topic separator is a space), to their classes. */
export const HOT_COMMANDS: Record<string, unknown> = {
  'gen haproxy': GenHaproxy,
  'gen pf': GenPf,
  'gen relayd': GenRelayd,
  'lint relayd': LintRelayd,
  probe: Probe,
  'validate config': ValidateConfig,
}

/** Arguments only oclif handles: help, and everything after `--`. */
const OCLIF_ONLY = new Set(['--', '--help', '-h'])

/**
 * Runs `argv` when it is a hot command in a form the shim parses; false, having done nothing,
 * when oclif must (any other command, help, --json to a terminal, JPROXY_CONTENT_TYPE, unusual
 * flags).
 */
export async function runHot(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const words = HOT_COMMANDS[argv[0]] === undefined ? 2 : 1
  const Command = HOT_COMMANDS[argv.slice(0, words).join(' ')] as HotCommand | undefined
  const rest = argv.slice(words)
  if (Command === undefined || env.JPROXY_CONTENT_TYPE !== undefined || rest.some((a) => OCLIF_ONLY.has(a))) return false
  try {
    await new Command(rest).runHot()
  } catch (error) {
    if (error instanceof FallBack) return false
    // What oclif prints for an error that is not its own: the stack, exit 1 (or the error's code).
    console.error((error as Error).stack ?? String(error))
    process.exitCode = (error as {oclif?: {exit?: number}}).oclif?.exit ?? 1
  }

  return true
}
