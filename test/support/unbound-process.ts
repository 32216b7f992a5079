import {type ChildProcess, spawn} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {queryDns} from '../../src/dns/client.js'

/** A real unbound (Debian package) answering on a loopback port from the test's own zone data. */
export interface UnboundProcess {
  port: number
  stop(): Promise<void>
}

/**
 * Starts `unbound -d` on 127.0.0.1:`port` with the zone's `server:` lines (local-zone, local-data)
 * and stub zones, and resolves once it answers, within `timeoutMs`. A missing unbound fails the calling test.
 */
export async function startUnbound(dir: string, name: string, port: number, zone: {server: string[]; stubs?: Array<{addr: string; name: string}>}, timeoutMs = 10_000): Promise<UnboundProcess> {
  const config = join(dir, `${name}.conf`)
  await writeFile(
    config,
    [
      'server:',
      `  interface: 127.0.0.1@${port}`,
      `  port: ${port}`,
      '  do-daemonize: no',
      '  chroot: ""',
      '  username: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${join(dir, `${name}.pid`)}"`,
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 0',
      '  access-control: 127.0.0.0/8 allow',
      '  do-ip6: no',
      '  module-config: "iterator"',
      ...zone.server.map((l) => `  ${l}`),
      ...(zone.stubs ?? []).flatMap((stub) => ['stub-zone:', `  name: "${stub.name}"`, `  stub-addr: ${stub.addr}`]),
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn('unbound', ['-d', '-c', config], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve)
    child.once('spawn', () => resolve(undefined))
  })
  if (spawned) throw (spawned as NodeJS.ErrnoException).code === 'ENOENT' ? new Error('unbound not found: install the Debian package unbound') : spawned
  const handle: UnboundProcess = {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
  const deadline = Date.now() + timeoutMs
  while ((await queryDns({address: '127.0.0.1', port}, 'localhost', 'A', {retries: 0, timeoutMs: 200})).outcome === 'timeout') {
    if (Date.now() > deadline || child.exitCode !== null) {
      await handle.stop()
      throw new Error(`unbound did not answer within ${timeoutMs} ms:\n${output}`)
    }
  }

  return handle
}
