import type {X509Certificate} from 'node:crypto'

import type {Finding} from '../report/findings.js'
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

const label = (certificates: X509Certificate[], index: number) => `#${index + 1} (${commonName(certificates[index].subject)})`

/**
 * Checks a chain as the proxy will send it (leaf first, each certificate followed by its
 * issuer): order, certificates that belong to no link, and whether the chain reaches a root in
 * `trust`. A missing intermediate is critical even when browsers would fetch it, because
 * Android, curl and most libraries do not.
 */
export function checkChain(presented: X509Certificate[], trust: X509Certificate[]): Finding[] {
  const findings: Finding[] = []
  for (let i = 1; i < presented.length; i++) {
    if (issued(presented[i], presented[i - 1])) continue
    const child = presented.findIndex((c, j) => j !== i && issued(presented[i], c))
    findings.push(
      child === -1
        ? {message: `certificate ${label(presented, i)} issued none of the others: it does not belong in this chain`, severity: 'warning'}
        : {message: `certificate ${label(presented, i)} issued ${label(presented, child)} but follows ${label(presented, i - 1)}: out of order (each certificate must be followed by its issuer; some clients give up)`, severity: 'warning'},
    )
  }

  const trusted = (c: X509Certificate) => trust.some((t) => t.fingerprint256 === c.fingerprint256)
  const used = new Set<X509Certificate>([presented[0]])
  let current = presented[0]
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const name = commonName(current.subject)
    if (issued(current, current)) {
      findings.push(
        trusted(current)
          ? {message: `chain ends at the trusted root "${name}"`, severity: 'ok'}
          : {message: current === presented[0] ? `self-signed ("${name}"): clients do not trust it` : `chain ends at the root "${name}", which is not trusted`, severity: 'critical'},
      )
      return findings
    }

    const next = presented.find((c) => !used.has(c) && issued(c, current))
    if (next) {
      used.add(next)
      current = next
      continue
    }

    const anchor = trust.find((t) => issued(t, current))
    if (anchor) {
      findings.push({message: `chain ends at the trusted root "${commonName(anchor.subject)}"`, severity: 'ok'})
      return findings
    }

    findings.push({
      message: `incomplete chain: nothing here issued "${name}", and its issuer "${commonName(current.issuer)}" is not a trusted root; clients that do not fetch missing intermediates (Android, curl, node) fail`,
      severity: 'critical',
    })
    return findings
  }

  findings.push({message: `chain longer than ${MAX_DEPTH} certificates`, severity: 'critical'})
  return findings
}
