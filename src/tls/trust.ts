import {X509Certificate} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {rootCertificates} from 'node:tls'

import {JproxyError} from '../errors.js'
import type {Inventory} from '../inventory/schema.js'
import {proxyCaFile} from '../system/proxy-ca.js'
import {pemBlocks} from './pem.js'

/** CA certificates to verify against, as PEM (for node:tls) and parsed (for chain building). */
export interface TrustStore {
  certificates: X509Certificate[]
  pems: string[]
  /** The file they came from, or "node's bundled roots". */
  source: string
}

/** Where systems keep their CA bundle: OpenBSD, Debian/Ubuntu/Alpine, RHEL/Fedora. */
export const SYSTEM_BUNDLES = ['/etc/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt']

/**
 * The CAs a check trusts: `caFile` when given (a missing or certificate-free file is an error,
 * never a silent fall-back), else the first system bundle found, else node's bundled roots.
 */
export async function loadTrust(caFile?: string, bundles: string[] = SYSTEM_BUNDLES, label = 'CA file'): Promise<TrustStore> {
  if (caFile !== undefined) {
    const text = await readFile(caFile, 'utf8').catch((error: Error) => {
      throw new JproxyError('inputUnreadable', `${label} ${caFile}: ${error.message}`)
    })
    const store = fromPem(text, caFile)
    if (store.certificates.length === 0) throw new JproxyError('inputUnreadable', `${label} ${caFile}: no usable CERTIFICATE block`)
    return store
  }

  for (const bundle of bundles) {
    const text = await readFile(bundle, 'utf8').catch(() => undefined)
    if (text !== undefined) return fromPem(text, bundle)
  }

  return {certificates: rootCertificates.map((pem) => new X509Certificate(pem)), pems: [...rootCertificates], source: "node's bundled roots"}
}

/**
 * The CAs a check of the proxy's own certificate trusts: `--ca` (`flag`), else the inventory's
 * proxy.tls.ca (the rule of proxyCaFile), else `fallback` or the system's bundle.
 */
export async function proxyTrust(flag: string | undefined, inventory: Inventory, fallback?: string): Promise<TrustStore> {
  const chosen = proxyCaFile(flag, inventory.proxy.tls.ca)
  if (!chosen) return loadTrust(fallback)
  return loadTrust(chosen.file, SYSTEM_BUNDLES, chosen.source === '--ca' ? 'CA file' : chosen.source)
}

function fromPem(text: string, source: string): TrustStore {
  const pems = pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => b.text)
  // One unparsable entry in a system bundle must not hide the others.
  const certificates = pems.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)]
    } catch {
      return []
    }
  })
  return {certificates, pems, source}
}
