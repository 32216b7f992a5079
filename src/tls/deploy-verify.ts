import {hostPort} from '../inventory/host-port.js'
import type {Inventory} from '../inventory/schema.js'
import {type Handshake, handshake, type HandshakeOptions} from './live.js'

/** One listen address after a swap: does a fresh handshake get the wanted certificate. */
export interface ServedCheck {
  detail: string
  ok: boolean
  /** The serial the handshake got, if any. */
  serial?: string
  source: string
}

export interface ServedOptions {
  handshake?: (options: HandshakeOptions) => Promise<Handshake>
  inventory: Inventory
  timeoutMs: number
  /** The CAs the run trusts (--ca or proxy.tls.ca): the served chain is described against them. */
  trust?: {pems: string[]}
}

const POLL_MS = 100
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Handshakes with SNI = the domain on every listen address until each presents `wanted`
 * (serial and fingerprint), or `timeoutMs` has passed. Each handshake is a new connection
 * without a session to resume: a resumed session would show the certificate of the session,
 * not the one a new client gets.
 */
export async function waitForSerial(options: ServedOptions, wanted: {fingerprint256: string; serial: string}): Promise<ServedCheck[]> {
  const {listen} = options.inventory.proxy
  const addresses = [listen.ipv4, listen.ipv6].filter((a) => a !== undefined)
  const shake = options.handshake ?? handshake
  const deadline = Date.now() + options.timeoutMs
  const once = (address: string): Promise<ServedCheck> =>
    shake({address, ca: options.trust?.pems ?? [], port: listen.httpsPort, servername: options.inventory.domain, timeoutMs: Math.max(500, deadline - Date.now())}).then((result) => {
      const source = hostPort(address, listen.httpsPort)
      const [leaf] = result.chain
      if (result.outcome !== 'ok' || !leaf) return {detail: `handshake ${result.outcome}${result.reason ? `: ${result.reason}` : ''}`, ok: false, source}
      const ok = leaf.serialNumber === wanted.serial && leaf.fingerprint256 === wanted.fingerprint256
      return {detail: ok ? `serves ${leaf.serialNumber}` : `still serves ${leaf.serialNumber}, not ${wanted.serial}`, ok, serial: leaf.serialNumber, source}
    })

  let results = await Promise.all(addresses.map((a) => once(a)))
  while (!results.every((r) => r.ok) && Date.now() + POLL_MS < deadline) {
    await sleep(POLL_MS)
    results = await Promise.all(addresses.map((a, i) => (results[i].ok ? Promise.resolve(results[i]) : once(a))))
  }

  return results
}
