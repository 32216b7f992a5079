import {writeFile} from 'node:fs/promises'
import {connect} from 'node:net'
import {join} from 'node:path'

import {spawnDaemon, untilReady} from './daemon.js'
import {waitFor} from './wait.js'

/**
 * The inventory's off switches for HAProxy's privilege defaults: tests run HAProxy as whoever
 * runs them, with no chroot and no account change.
 */
export const UNPRIVILEGED = {chroot: false, group: false, user: false} as const

/** A running `haproxy -W -db` (master-worker, foreground) started by a test. */
export interface HaproxyProcess {
  output: () => string
  /** The master's pid (with -W, the process spawned). */
  pid: number
  stop: () => Promise<void>
}

/**
 * Writes the config and starts real HAProxy on it; resolves once the admin socket reports every
 * server UP (bounded by `timeoutMs`), so requests do not race the first health checks.
 * A missing haproxy binary fails the calling test.
 */
export async function startHaproxy(config: string, dir: string, name: string, socket: string, timeoutMs = 15_000, extraArgs: string[] = []): Promise<HaproxyProcess> {
  const file = join(dir, `${name}.cfg`)
  await writeFile(file, config)
  const daemon = await spawnDaemon('haproxy', ['-W', '-db', ...extraArgs, '-f', file], 'haproxy')
  const allUp = (state: string) => {
    const servers = state.split('\n').filter((line) => line && !line.startsWith('#') && !/,(FRONTEND|BACKEND),/.test(line))
    // A server without a health check (proxy.acme's, or TURN's loopback hop to fe_https) reports
    // "no check": it is as up as it gets.
    return servers.length > 0 && servers.every((line) => ['UP', 'no check'].includes(line.split(',')[17]))
  }

  await untilReady(daemon, 'every haproxy server UP', () => adminCommand(socket, 'show stat'), allUp, timeoutMs)
  return {output: daemon.output, pid: daemon.child.pid!, stop: daemon.stop}
}

/** Waits until the master CLI (`-S`) lists a worker: it may come up after the workers' admin socket. */
export async function waitForMasterCli(haproxy: HaproxyProcess, socket: string, timeoutMs: number): Promise<void> {
  const listsWorker = (proc: string) => proc.includes('worker')
  await waitFor(`the master CLI at ${socket}`, () => adminCommand(socket, 'show proc'), listsWorker, {timeoutMs}).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n${haproxy.output()}`)
    },
  )
}

/** Sends one command to HAProxy's admin socket and returns its answer. */
export function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = connect(socket)
    let answer = ''
    connection.setTimeout(2000, () => connection.destroy(new Error('admin socket timeout')))
    connection.on('connect', () => connection.end(`${command}\n`))
    connection.on('data', (chunk) => (answer += String(chunk)))
    connection.on('end', () => resolve(answer))
    connection.on('error', reject)
  })
}
