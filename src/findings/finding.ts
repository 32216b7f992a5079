/*
 * The verdict model every checking domain (dns, tls, apply's gates) produces and every report
 * presents. It lives beneath both, so domains never import from report/.
 */

export type Severity = 'critical' | 'ok' | 'warning'

/** One check's verdict; each kind of check adds the field naming what it is about (record, file, address). */
export interface Finding {
  message: string
  severity: Severity
}

/** critical if any finding is, else warning if any is, else ok. */
export function worstSeverity(findings: Finding[]): Severity {
  return findings.some((f) => f.severity === 'critical') ? 'critical' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'ok'
}
