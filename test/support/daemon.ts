import {type ChildProcess, spawn} from 'node:child_process'

import {waitFor} from './wait.js'

/** A daemon a test started in the foreground: its output so far, and a stop that waits for exit. */
export interface Daemon {
  child: ChildProcess
  output: () => string
  stop: () => Promise<void>
}

/**
 * Spawns `command` and collects its output. A missing binary fails the calling test with the
 * Debian package to install: these tests exist to run against the real daemon. `stop` sends
 * SIGTERM, then SIGKILL after 3 s, and resolves once the process has exited. `env`: its whole
 * environment (unset: this process's).
 */
export async function spawnDaemon(command: string, args: string[], debianPackage: string, cwd?: string, env?: NodeJS.ProcessEnv): Promise<Daemon> {
  const child = spawn(command, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve)
    child.once('spawn', () => resolve(undefined))
  })
  if (spawned) throw (spawned as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(`${command} not found: install the Debian package ${debianPackage}`) : spawned
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Why a child can no longer become ready (it ended), or undefined while it runs: waitFor's `gaveUp` for daemons. */
export function exited(child: Pick<ChildProcess, 'exitCode' | 'signalCode'>): string | undefined {
  if (child.signalCode !== null) return `it was killed by ${child.signalCode}`
  return child.exitCode === null ? undefined : `it exited with ${child.exitCode}`
}

/**
 * Waits (waitFor) until `done(read())`. When the daemon exits first or `timeoutMs` passes, stops it
 * and fails with its output, so a start that failed leaves no process behind.
 */
export async function untilReady<T>(
  daemon: Daemon,
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  try {
    return await waitFor(what, read, done, {gaveUp: () => exited(daemon.child), timeoutMs})
  } catch (error) {
    await daemon.stop()
    throw new Error(`${(error as Error).message}\n${daemon.output()}`, {cause: error})
  }
}
