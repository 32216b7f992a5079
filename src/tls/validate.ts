import type {X509Certificate} from 'node:crypto'

import {hostPort} from '../inventory/host-port.js'
import type {Inventory} from '../inventory/schema.js'
import {CA_FIX, caWouldFix} from '../system/proxy-ca.js'
import {chainExpiry, commonName, type ExpiryThresholds, nameFinding, summarize} from './certificate.js'
import {checkTlsFiles} from './files.js'
import {type Handshake, handshake, type HandshakeOptions} from './live.js'
import type {CertificateReport, TlsFinding} from './model.js'
import type {TrustStore} from './trust.js'

export interface TlsOptions {
  /** Where to connect instead of the inventory's listen addresses (e.g. a NAT address in front). */
  connect?: Array<{address: string; port: number}>
  /** Check the files the proxy loads. */
  files: boolean
  /** Injected for tests; by default a real handshake. */
  handshake?: (options: HandshakeOptions) => Promise<Handshake>
  inventory: Inventory
  /** Handshake with the proxy. */
  live: boolean
  /** Names beyond the public domain the certificate must cover (a TURN name sharing 443, say). */
  names?: string[]
  now: Date
  sslDir?: string
  target: 'haproxy' | 'relayd'
  thresholds: ExpiryThresholds
  timeoutMs: number
  trust: TrustStore
}

/** One handshake as reported: where, what was negotiated, and the presented chain in short. */
export interface HandshakeReport {
  alpn?: string
  chain: Array<{issuer: string; subject: string}>
  cipher?: string
  outcome: Handshake['outcome']
  protocol?: string
  reason?: string
  source: string
}

export interface TlsReport {
  certificates: CertificateReport[]
  findings: TlsFinding[]
  handshakes: HandshakeReport[]
  /** Which CAs were trusted: the --ca file, a system bundle or node's roots. */
  trust: string
}

/** What OpenSSL's verify codes mean for an admin. */
const VERIFY_HINTS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'a certificate in the chain has expired',
  CERT_NOT_YET_VALID: 'a certificate in the chain is not valid yet',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  INVALID_PURPOSE: 'a certificate is not meant for TLS servers (keyUsage or extendedKeyUsage)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends at a root that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of a certificate is missing',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the chain is incomplete or its CA is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server sends no intermediate for its certificate, or its CA is not trusted',
}

/** What a verification code means, and for one a private CA would fix, how to trust it. */
function verifyHint(code: string): string {
  const meaning = VERIFY_HINTS[code] ? `, ${VERIFY_HINTS[code]}` : ''
  return caWouldFix(code) ? `${meaning}: ${CA_FIX}` : meaning
}

const MODERN_PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3'])

/**
 * `jproxy validate tls`: the files the proxy loads and/or a handshake with SNI = the public name
 * on every listen address (all at once, each within `timeoutMs`). Every finding names its file
 * or `address:port`.
 */
export async function validateTls(options: TlsOptions): Promise<TlsReport> {
  const {inventory} = options
  const names = [inventory.domain, ...(options.names ?? []).filter((n) => n !== inventory.domain)]
  const report: TlsReport = {certificates: [], findings: [], handshakes: [], trust: options.trust.source}
  if (options.files) {
    const files = await checkTlsFiles({...options, names, trust: options.trust.certificates})
    report.certificates.push(...files.certificates)
    report.findings.push(...files.findings)
  }

  if (options.live) {
    const {listen} = inventory.proxy
    const targets = options.connect ?? [listen.ipv4, listen.ipv6].filter((a) => a !== undefined).map((address) => ({address, port: listen.httpsPort}))
    const shake = options.handshake ?? handshake
    const results = await Promise.all(targets.map((t) => shake({...t, ca: options.trust.pems, servername: inventory.domain, timeoutMs: options.timeoutMs})))
    for (const [i, result] of results.entries()) {
      const source = hostPort(targets[i].address, targets[i].port)
      report.findings.push(...liveFindings(result, names, options).map((f) => ({...f, source})))
      report.handshakes.push({
        alpn: result.alpn,
        chain: result.chain.map((c) => ({issuer: commonName(c.issuer), subject: commonName(c.subject)})),
        cipher: result.cipher,
        outcome: result.outcome,
        protocol: result.protocol,
        reason: result.reason,
        source,
      })
      report.certificates.push(...presented(result.chain, options.trust.certificates).map((c, position) => ({...summarize(c), position: position + 1, source})))
    }
  }

  return report
}

/** The chain without a root OpenSSL added from the trust store (only the server's certificates). */
function presented(chain: X509Certificate[], trust: X509Certificate[]): X509Certificate[] {
  const last = chain.at(-1)
  return chain.length > 1 && last && trust.some((t) => t.fingerprint256 === last.fingerprint256) ? chain.slice(0, -1) : chain
}

function liveFindings(result: Handshake, names: string[], options: TlsOptions): Array<Omit<TlsFinding, 'source'>> {
  if (result.outcome !== 'ok') return [{message: `TLS handshake with SNI ${options.inventory.domain} failed: ${result.reason}`, severity: 'critical'}]
  const findings: Array<Omit<TlsFinding, 'source'>> = []
  const protocol = result.protocol ?? 'unknown protocol'
  findings.push(
    MODERN_PROTOCOLS.has(protocol)
      ? {message: `${protocol}, ${result.cipher ?? 'unknown cipher'}${result.alpn ? `, ALPN ${result.alpn}` : ', no ALPN (HTTP/1.1 only)'}`, severity: 'ok'}
      : {message: `negotiated ${protocol}: browsers refuse anything before TLS 1.2`, severity: 'critical'},
  )
  findings.push(
    result.authorizationError
      ? {message: `chain not trusted (${options.trust.source}): ${result.authorizationError}${verifyHint(result.authorizationError)}`, severity: 'critical'}
      : {message: `chain verified against ${options.trust.source}`, severity: 'ok'},
  )
  const [leaf] = result.chain
  if (!leaf) return [...findings, {message: 'the server presented no certificate', severity: 'critical'}]
  for (const name of names) findings.push(nameFinding(leaf, name))
  return [...findings, ...chainExpiry(presented(result.chain, options.trust.certificates), options.now, options.thresholds)]
}
