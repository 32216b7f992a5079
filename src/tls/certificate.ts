import type {X509Certificate} from 'node:crypto'

import type {Finding} from '../findings/finding.js'

/** What a report shows of one certificate. */
export interface CertificateSummary {
  /** DNS names and IP addresses of subjectAltName. */
  altNames: string[]
  fingerprint256: string
  issuer: string
  notAfter: string
  notBefore: string
  serial: string
  subject: string
}

const DAY_MS = 86_400_000

/** `CN=…` of a distinguished name (Node prints one attribute per line), or the whole name without one. */
export function commonName(distinguishedName: string): string {
  const cn = distinguishedName.split('\n').find((part) => part.startsWith('CN='))
  return cn ? cn.slice(3) : distinguishedName.replaceAll('\n', ', ')
}

/** subjectAltName entries as `DNS:…`/`IP Address:…` values; Node quotes values holding separators. */
export function altNames(certificate: X509Certificate): string[] {
  const text = certificate.subjectAltName ?? ''
  const names: string[] = []
  for (const match of text.matchAll(/(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    names.push(match[2].startsWith('"') ? (JSON.parse(match[2]) as string) : match[2])
  }

  return names
}

export function summarize(certificate: X509Certificate): CertificateSummary {
  return {
    altNames: altNames(certificate),
    fingerprint256: certificate.fingerprint256,
    issuer: commonName(certificate.issuer),
    notAfter: new Date(certificate.validTo).toISOString(),
    notBefore: new Date(certificate.validFrom).toISOString(),
    serial: certificate.serialNumber,
    subject: commonName(certificate.subject),
  }
}

/**
 * The subjectAltName entry that covers `name` under RFC 6125: a wildcard only as the whole
 * left-most label, matching exactly one label, never the bare parent; the subject CN is never
 * used (browsers ignore it).
 */
export function coveringName(certificate: X509Certificate, name: string): string | undefined {
  return certificate.checkHost(name, {multiLabelWildcards: false, partialWildcards: false, subject: 'never', wildcards: true})
}

/** Does `name` appear in the certificate's SANs, and how. */
export function nameFinding(certificate: X509Certificate, name: string): Finding {
  const covering = coveringName(certificate, name)
  if (covering) return {message: `covers ${name}${covering === name ? '' : ` (through ${covering})`}`, severity: 'ok'}
  const names = altNames(certificate)
  const listed = names.length > 0 ? `its names are ${names.join(', ')}` : `it has no subjectAltName (the CN "${commonName(certificate.subject)}" is ignored by browsers)`
  return {message: `does not cover ${name}: ${listed}`, severity: 'critical'}
}

export interface ExpiryThresholds {
  criticalDays: number
  warningDays: number
}

/** Validity at `now`: not yet valid or expired is critical, then the warning/critical days before the end. */
export function expiryFinding(certificate: X509Certificate, now: Date, {criticalDays, warningDays}: ExpiryThresholds): Finding {
  const notBefore = new Date(certificate.validFrom)
  const notAfter = new Date(certificate.validTo)
  const left = (notAfter.getTime() - now.getTime()) / DAY_MS
  const day = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  if (now < notBefore) return {message: `not valid until ${day(notBefore)}: clients reject it (clock skew or a certificate issued for later)`, severity: 'critical'}
  if (left < 0) return {message: `expired on ${day(notAfter)}`, severity: 'critical'}
  const when = left < 1 ? `${Math.floor(left * 24)} hour(s)` : `${Math.floor(left)} day(s)`
  if (left < criticalDays) return {message: `expires in ${when} (${day(notAfter)})`, severity: 'critical'}
  if (left < warningDays) return {message: `expires in ${when} (${day(notAfter)})`, severity: 'warning'}
  return {message: `valid until ${day(notAfter)} (${Math.floor(left)} days)`, severity: 'ok'}
}

/** Days from `now` to the end of validity (negative once expired). */
export function daysLeft(certificate: X509Certificate, now: Date): number {
  return (new Date(certificate.validTo).getTime() - now.getTime()) / DAY_MS
}

/** `expiryFinding` for every certificate of a chain, each named by position when there are several. */
export function chainExpiry(certificates: X509Certificate[], now: Date, thresholds: ExpiryThresholds): Finding[] {
  return certificates.map((certificate, i) => {
    const expiry = expiryFinding(certificate, now, thresholds)
    return certificates.length > 1 ? {...expiry, message: `certificate #${i + 1} (${commonName(certificate.subject)}) ${expiry.message}`} : expiry
  })
}
