/** The addresses a haproxy.cfg binds, and HAProxy's start-up alerts put in plain words. */

export interface Bind {
  address: string
  port: number
  /** A TLS listener (`bind … ssl`): the one a request through the proxy goes to. */
  ssl: boolean
}

const ADDRESS_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:]+)):(\d+)$/

function parseAddressPort(text: string): {address: string; port: number} | undefined {
  const match = ADDRESS_PORT.exec(text)
  return match ? {address: match[1] ?? match[2], port: Number(match[3])} : undefined
}

/**
 * Every TCP listener of a config: `bind` lines, and the local peer's `peer` line (HAProxy binds
 * the peer named by `localpeer`, `-L` or the hostname: `localPeer`). Unix sockets are left out.
 */
export function configBinds(config: string, localPeer?: string): Bind[] {
  const named = /^\s*localpeer\s+(\S+)/m.exec(config)?.[1] ?? localPeer
  const binds: Bind[] = []
  for (const line of config.split('\n')) {
    const bind = /^\s+bind\s+(\S+)(.*)$/.exec(line)
    const peer = /^\s+peer\s+(\S+)\s+(\S+)/.exec(line)
    const at = bind ? parseAddressPort(bind[1]) : peer && peer[1] === named ? parseAddressPort(peer[2]) : undefined
    if (at) binds.push({...at, ssl: bind ? /\sssl(\s|$)/.test(bind[2]) : false})
  }

  return binds
}

export const bindKey = (b: {address: string; port: number}) => (b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`)

const CANNOT_BIND = /cannot bind socket \(([^)]*)\) for \[([^\]]+)\]/

/** HAProxy's alert in plain words, e.g. `port 8443 on 127.0.0.10 is in use by another process`; unknown ones as they are. */
export function plainReason(alert: string): string {
  const bind = CANNOT_BIND.exec(alert)
  const at = bind && parseAddressPort(bind[2])
  if (!bind || !at) return alert
  const {address, port} = at
  if (/in use/i.test(bind[1])) return `port ${port} on ${address} is in use by another process`
  if (/permission denied/i.test(bind[1])) return `HAProxy may not bind port ${port} on ${address} (${bind[1]}): a port below 1024 needs root`
  if (/cannot assign requested address/i.test(bind[1])) return `${address} is not an address of this host, so HAProxy cannot listen on it`
  return `HAProxy cannot listen on port ${port} on ${address} (${bind[1]})`
}

/** `[ALERT] (pid) : text` lines of HAProxy's start-up output, without the generic "failed to start" ones. */
export function startupAlerts(output: string): string[] {
  return output
    .split('\n')
    .map((line) => /^\[ALERT\]\s+(?:\(\d+\)\s+)?:\s+(.*)$/.exec(line.trim())?.[1])
    .filter((text) => text !== undefined && !/Some protocols failed to start|Fatal errors found in configuration/.test(text)) as string[]
}

/** The reason a reload failed, as HAProxy said it: plain words first, then its own text. */
export const reloadReasons = (output: string) => startupAlerts(output).map((alert) => {
  const plain = plainReason(alert)
  return plain === alert ? alert : `${plain} (HAProxy: ${alert.replace(/^.*?(cannot bind)/, '$1')})`
})
