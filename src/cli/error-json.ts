import {ExitCode, type ExitCodeName, JproxyError} from '../errors.js'

/** What every command prints on stdout for a failure under `--json`: one small object. */
export interface ErrorJson {
  error: {code: ExitCodeName; exitCode: number; file?: string; line?: number; message: string; path?: string}
}

const NAMES = new Map(Object.entries(ExitCode).map(([name, code]) => [code as number, name as ExitCodeName]))

/**
 * The `--json` form of any error: jproxy's own with their code and place; a flag or argument
 * error (oclif's, exit 2) as `usage`; anything else as `failure` (1). Only the message is kept,
 * never a stack, oclif's metadata or the paths of the installed code.
 */
export function errorJson(error: Error & {exitCode?: number; oclif?: {exit?: number}}): ErrorJson {
  const exitCode = error.exitCode ?? error.oclif?.exit
  const code = exitCode === undefined ? 'failure' : (NAMES.get(exitCode) ?? 'failure')
  const json: ErrorJson['error'] = {code, exitCode: ExitCode[code], message: error.message || String(error.name ?? 'error')}
  if (error instanceof JproxyError) Object.assign(json, place(error.details))
  return {error: json}
}

/** `file`, `line` and `path` from a JproxyError's details; one inventory problem gives its line and field path. */
function place(details: unknown): Partial<ErrorJson['error']> {
  if (typeof details !== 'object' || details === null) return {}
  const {file, line, path, problems} = details as {file?: unknown; line?: unknown; path?: unknown; problems?: unknown}
  const only = Array.isArray(problems) && problems.length === 1 ? (problems[0] as {line?: unknown; path?: unknown}) : {}
  const out: Partial<ErrorJson['error']> = {}
  if (typeof file === 'string') out.file = file
  const where = typeof line === 'number' ? line : only.line
  if (typeof where === 'number') out.line = where
  const at = typeof path === 'string' ? path : only.path
  if (typeof at === 'string' && at !== '') out.path = at
  return out
}
