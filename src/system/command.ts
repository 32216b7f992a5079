import {execFile} from 'node:child_process'
import {accessSync, constants, statSync} from 'node:fs'
import {delimiter, join} from 'node:path'

/** How an external program ended. `code` 127 with `missing` means it could not be started. */
export interface CommandResult {
  code: number
  missing?: boolean
  stderr: string
  stdout: string
}

/** Runs argv[0] with the rest as arguments (no shell); injected so domain code can be tested. */
export type CommandRunner = (argv: readonly string[], options?: {timeoutMs?: number}) => Promise<CommandResult>

/** Output beyond this is cut: checkers and control tools print a few lines, never megabytes. */
const MAX_OUTPUT = 4 * 1024 * 1024

/** The real runner: execFile with a timeout, a bounded buffer and the exit code as a number. */
export const runCommand: CommandRunner = (argv, options = {}) =>
  new Promise((resolve) => {
    const [file, ...args] = argv
    execFile(file, args, {maxBuffer: MAX_OUTPUT, timeout: options.timeoutMs ?? 30_000}, (error, stdout, stderr) => {
      if (!error) return resolve({code: 0, stderr, stdout})
      const failure = error as NodeJS.ErrnoException & {code?: number | string; signal?: string}
      if (failure.code === 'ENOENT' || failure.code === 'EACCES') return resolve({code: 127, missing: true, stderr: `${file}: ${failure.message}`, stdout})
      if (typeof failure.code === 'number') return resolve({code: failure.code, stderr, stdout})
      // Killed (timeout) or output over the cap: no exit code of its own.
      resolve({code: 1, stderr: `${stderr}${file}: ${failure.signal ? `killed by ${failure.signal}` : failure.message}\n`, stdout})
    })
  })

/** The first executable regular file called `name` in a PATH-style list, as a shell would find it. */
export function findOnPath(name: string, path: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      if (!statSync(candidate).isFile()) continue
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }

  return undefined
}
