import type {X509Certificate} from 'node:crypto'

import type {Finding} from '../findings/finding.js'
import {commonName} from './certificate.js'

/** Longer than any public chain; a file that loops or goes on beyond it is reported, not followed. */
const MAX_DEPTH = 10

/** `issuer` signed `subject`: names/key ids agree and the signature verifies. */
export function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/**
 * Checks a chain as the proxy will send it (leaf first, each certificate followed by its
 * issuer): order, certificates that belong to no link, and whether the chain reaches a root in
 * `trust`. A missing intermediate is critical even when browsers would fetch it, because
 * Android, curl and most libraries do not.
 */
export function checkChain(presented: X509Certificate[], trust: X509Certificate[]): Finding[] {
  const findings: Finding[] = []
  // The chain as a client builds it from what is presented: the leaf, then each issuer found.
  const path = [0]
  while (path.length < MAX_DEPTH) {
    const current = presented[path.at(-1)!]
    const next = issued(current, current) ? -1 : presented.findIndex((c, i) => !path.includes(i) && issued(c, current))
    if (next === -1) break
    path.push(next)
  }

  if (path.some((index, position) => index !== position)) {
    findings.push({message: `out of order: send ${path.map((i) => `#${i + 1}`).join(', ')} (${path.map((i) => commonName(presented[i].subject)).join(' < ')}), each certificate followed by its issuer; some clients give up otherwise`, severity: 'warning'})
  }

  for (const [i, certificate] of presented.entries()) {
    if (!path.includes(i)) findings.push({message: `certificate #${i + 1} (${commonName(certificate.subject)}) is not part of the chain of #1: remove it`, severity: 'warning'})
  }

  const last = presented[path.at(-1)!]
  const name = commonName(last.subject)
  const trusted = trust.some((t) => t.fingerprint256 === last.fingerprint256)
  if (issued(last, last)) {
    findings.push(
      trusted
        ? {message: `chain ends at the trusted root "${name}"`, severity: 'ok'}
        : {message: path.length === 1 ? `self-signed ("${name}"): clients do not trust it` : `chain ends at the root "${name}", which is not trusted`, severity: 'critical'},
    )
  } else if (path.length >= MAX_DEPTH) {
    findings.push({message: `chain longer than ${MAX_DEPTH} certificates`, severity: 'critical'})
  } else {
    const anchor = trust.find((t) => issued(t, last))
    findings.push(
      anchor
        ? {message: `chain ends at the trusted root "${commonName(anchor.subject)}"`, severity: 'ok'}
        : {
            message: `incomplete chain: nothing here issued "${name}", and its issuer "${commonName(last.issuer)}" is not a trusted root; clients that do not fetch missing intermediates (Android, curl, node) fail`,
            severity: 'critical',
          },
    )
  }

  return findings
}
