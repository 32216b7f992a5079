import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** The CLI as installed (`bin/run.js`): every test that starts jproxy starts this file. */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/**
 * How long one CLI run may take before it is killed; a test running N of them allows N times this.
 * A hang bound, not a speed claim: on a contended machine (load 15 on 2 cores) one start takes seconds.
 */
export const CLI_TIMEOUT_MS = 60_000

/** How a program run by a test ended. */
export interface ProgramRun {
  code: number
  stderr: string
  stdout: string
}

/**
 * Runs `file` with `input` on stdin and collects its exit code (1 when killed) and output. It
 * settles once the program has ended and its stdin pipe is closed: a program that exits without
 * reading stdin makes the write fail with EPIPE, which is heard here. Unheard, that error is an
 * uncaught exception, which mocha pins on whichever test runs then, and a second end of a test
 * that already ended ("done() called multiple times").
 */
export function runProgram(file: string, args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number} = {}): Promise<ProgramRun> {
  return new Promise((resolve) => {
    let run: ProgramRun | undefined
    let stdinClosed = false
    const settle = () => run && stdinClosed && resolve(run)
    const child = execFile(file, args, {cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? CLI_TIMEOUT_MS}, (error, stdout, stderr) => {
      run = {code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr, stdout}
      settle()
    })
    child.stdin!.on('error', () => {})
    child.stdin!.on('close', () => {
      stdinClosed = true
      settle()
    })
    child.stdin!.end(options.input ?? '')
  })
}

/** Runs the built CLI (`bin/run.js`, as installed) with `input` on stdin; JPROXY_INVENTORY unset unless `env` sets it. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<ProgramRun> {
  return runProgram(process.execPath, [BIN, ...args], {env: {...process.env, JPROXY_INVENTORY: undefined, ...env}, input})
}
