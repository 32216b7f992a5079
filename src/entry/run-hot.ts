import {FallBack} from '../cli/oclif-shim.js'

interface HotCommand {
  new (argv: string[]): {runHot(): Promise<void>}
}

/** Arguments only oclif handles: help, and everything after `--`. */
const OCLIF_ONLY = new Set(['--', '--help', '-h'])

/**
 * Runs `argv` when it is one of `commands` (ids as typed, to their classes) in a form the shim
 * parses; false, having done nothing, when oclif must (any other command, help, --json to a
 * terminal, JPROXY_CONTENT_TYPE, unusual flags).
 */
export async function runHotCommand(commands: Record<string, unknown>, argv: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const words = commands[argv[0]] === undefined ? 2 : 1
  const Command = commands[argv.slice(0, words).join(' ')] as HotCommand | undefined
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
