import {ipVersion} from '../system/ip.js'

/** `address:port`, with IPv6 literals in brackets (`[2001:db8::1]:443`), as HAProxy and humans write it. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}

/** Reads `IP`, `IP:PORT` or `[IPv6]:PORT` (a bare IPv6 literal has no port); undefined when it is not one. */
export function parseIpPort(value: string): {address: string; port?: number} | undefined {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value)
  const [address, portText] = match ? [match[1], match[2]] : [value, undefined]
  const port = portText === undefined ? undefined : Number(portText)
  if (ipVersion(address) === 0 || (port !== undefined && (port < 1 || port > 65_535))) return undefined
  return {address, port}
}
