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

/** Whether etcd's /health at `endpoint` says it has a leader and serves; throws when it does not answer. */
export async function etcdHealthy(endpoint: string): Promise<boolean> {
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
    await untilReady(started, `etcd to report healthy at ${endpoint}`, () => etcdHealthy(endpoint), Boolean, timeoutMs)
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

/** A member of a several-member etcd, run as Debian's unit runs it: /usr/bin/etcd with ETCD_* settings only. */
export interface EtcdMember {
  /** Its ETCD_ADVERTISE_CLIENT_URLS: where it serves clients (JSON gateway included). */
  endpoint: string
  /** Its ETCD_NAME. */
  name: string
  output: () => string
  /** Whether its process runs now. */
  running: () => boolean
  /** Stops the daemon (SIGTERM) and keeps its data and ports, for `up` to bring it back. */
  down: () => Promise<void>
  /**
   * Starts it (again) on its data dir and ports; resolves once its /health is true, within the
   * member's `timeoutMs`. That needs a majority of the cluster up: start the others meanwhile.
   */
  up: () => Promise<void>
  /** Stops it and removes its data dir (ETCD_DATA_DIR). */
  stop: () => Promise<void>
}

/**
 * One member of a cluster, not started yet: /usr/bin/etcd with `settings` (ETCD_NAME,
 * ETCD_DATA_DIR, ETCD_ADVERTISE_CLIENT_URLS, ...) as its environment, as systemd gives it the lines
 * of /etc/default/etcd, and no ETCD_* variable of this process. A missing etcd fails the calling
 * test with the package to install.
 */
export function etcdMember(settings: Record<string, string>, timeoutMs = 30_000): EtcdMember {
  const {ETCD_ADVERTISE_CLIENT_URLS: endpoint, ETCD_DATA_DIR: dataDir, ETCD_NAME: name} = settings
  if (!endpoint || endpoint.includes(',') || !dataDir || !name) {
    throw new Error('an etcd member needs ETCD_NAME, ETCD_DATA_DIR and one ETCD_ADVERTISE_CLIENT_URLS')
  }

  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD'))
  const env = {...Object.fromEntries(inherited), ...settings}
  let daemon: Daemon | undefined
  let starting: Promise<void> | undefined
  const running = () => daemon !== undefined && daemon.child.exitCode === null && daemon.child.signalCode === null
  const start = async () => {
    if (running()) return
    daemon = await spawnDaemon('/usr/bin/etcd', [], 'etcd-server', undefined, env)
    const what = `etcd member ${name} to report healthy at ${endpoint}`
    await untilReady(daemon, what, () => etcdHealthy(endpoint), Boolean, timeoutMs)
  }

  // A start under way ends once its daemon is stopped (untilReady gives up on an exited daemon).
  const halt = async () => {
    const pending = starting
    await daemon?.stop()
    await pending?.catch(() => undefined)
    await daemon?.stop()
  }

  return {
    down: halt,
    endpoint,
    name,
    output: () => daemon?.output() ?? '',
    running,
    async stop() {
      await halt()
      await rm(dataDir, {force: true, recursive: true})
    },
    up() {
      starting ??= start().finally(() => (starting = undefined))
      return starting
    },
  }
}
