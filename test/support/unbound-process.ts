import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {queryDns} from '../../src/dns/client.js'
import {spawnDaemon, untilReady} from './daemon.js'

/** A real unbound (Debian package) answering on a loopback port from the test's own zone data. */
export interface UnboundProcess {
  port: number
  stop: () => Promise<void>
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
  const daemon = await spawnDaemon('unbound', ['-d', '-c', config], 'unbound')
  const ask = async () => {
    const answer = await queryDns({address: '127.0.0.1', port}, 'localhost', 'A', {retries: 0, timeoutMs: 200})
    return answer.outcome
  }

  await untilReady(daemon, `unbound to answer on 127.0.0.1:${port}`, ask, (outcome) => outcome !== 'timeout', timeoutMs)
  return {port, stop: daemon.stop}
}
