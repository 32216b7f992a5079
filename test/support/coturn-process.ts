import {join} from 'node:path'
import {connect} from 'node:net'

import {type Daemon, spawnDaemon, untilReady} from './daemon.js'

/** A running Debian coturn (`turnserver`) on loopback with a TLS listener and one long-term user. */
export interface Coturn {
  daemon: Daemon
  password: string
  realm: string
  tlsPort: number
  username: string
}

/**
 * Starts `turnserver` in the foreground on 127.0.0.1: TLS on `tlsPort` with the given
 * certificate, plain TCP on `tcpPort` (coturn always opens one), no UDP/DTLS listeners, relay
 * ports on loopback. Resolves once the TLS port accepts connections, bounded by `timeoutMs`.
 */
export async function startCoturn(options: {cert: string; dir: string; key: string; realm: string; tcpPort: number; timeoutMs: number; tlsPort: number}): Promise<Coturn> {
  const username = 'alice'
  const password = 'turn-secret'
  const args = [
    '-n',
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${options.tcpPort}`,
    `--tls-listening-port=${options.tlsPort}`,
    `--cert=${options.cert}`,
    `--pkey=${options.key}`,
    '--lt-cred-mech',
    `--user=${username}:${password}`,
    `--realm=${options.realm}`,
    `--userdb=${join(options.dir, 'turndb')}`,
    `--pidfile=${join(options.dir, 'turnserver.pid')}`,
    '--no-udp',
    '--no-dtls',
    '--no-cli',
    '--no-tcp-relay',
    '--min-port=49152',
    '--max-port=65535',
    '--log-file=stdout',
    '--simple-log',
  ]
  const daemon = await spawnDaemon('turnserver', args, 'coturn')
  const what = `turnserver to listen on 127.0.0.1:${options.tlsPort}`
  await untilReady(daemon, what, () => accepts(options.tlsPort), (listening) => listening, options.timeoutMs)
  return {daemon, password, realm: options.realm, tlsPort: options.tlsPort, username}
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: '127.0.0.1', port})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
