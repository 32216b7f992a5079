import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** The CLI as installed, for tests that need their own spawn (stdin from a file descriptor). */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/**
 * How long one CLI run may take before it is killed; a test running N of them allows N times this.
 * A hang bound, not a speed claim: on a contended machine (load 15 on 2 cores) one start takes seconds.
 */
export const CLI_TIMEOUT_MS = 60_000

/** Runs the built CLI (`bin/run.js`, as installed) with `input` on stdin and collects its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<{code: number; stderr: string; stdout: string}> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], {env: {...process.env, JPROXY_INVENTORY: undefined, ...env}, timeout: CLI_TIMEOUT_MS}, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({code, stderr, stdout})
    })
    child.stdin?.end(input)
  })
}
