import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {request} from 'undici'

import {type Daemon, spawnDaemon, untilReady} from './daemon.js'
import {freePorts} from './loopback-backends.js'

/** A real one-member etcd (Debian's etcd-server 3.4) on loopback, its data in a temp folder. */
export interface EtcdProcess {
  /** `http://127.0.0.1:PORT`: the client URL, JSON gateway included. */
  endpoint: string
  output: () => string
  /** Stops it and removes its data folder. */
  stop: () => Promise<void>
  /** Stops the daemon and keeps its data and ports, for `up` to bring it back. */
  down: () => Promise<void>
  /** Starts it again on the same data and ports; resolves once healthy. */
  up: () => Promise<void>
}

/** Whether etcd's /health says it has a leader and serves. */
async function healthy(endpoint: string): Promise<boolean> {
  const response = await request(`${endpoint}/health`, {bodyTimeout: 1000, headersTimeout: 1000})
  const body = (await response.body.json()) as {health?: string}
  return response.statusCode === 200 && body.health === 'true'
}

/**
 * Starts /usr/bin/etcd on free loopback ports and resolves once /health answers true, within
 * `timeoutMs`. A missing etcd fails the calling test with the package to install.
 */
export async function startEtcd(timeoutMs = 20_000): Promise<EtcdProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'jproxy-etcd-'))
  const [client, peer] = await freePorts(2)
  const endpoint = `http://127.0.0.1:${client}`
  const peerUrl = `http://127.0.0.1:${peer}`
  const args = [
    '--name', 'test',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `test=${peerUrl}`,
    '--log-level', 'warn',
  ]
  const start = async () => {
    const started = await spawnDaemon('/usr/bin/etcd', args, 'etcd-server')
    await untilReady(started, `etcd to report healthy at ${endpoint}`, () => healthy(endpoint), Boolean, timeoutMs)
    return started
  }

  try {
    let daemon: Daemon | undefined = await start()
    return {
      async down() {
        await daemon?.stop()
        daemon = undefined
      },
      endpoint,
      output: () => daemon?.output() ?? '',
      async stop() {
        await daemon?.stop()
        await rm(dir, {force: true, recursive: true})
      },
      async up() {
        daemon ??= await start()
      },
    }
  } catch (error) {
    await rm(dir, {force: true, recursive: true})
    throw error
  }
}
