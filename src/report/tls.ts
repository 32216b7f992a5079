import type {TlsFinding} from '../tls/model.js'
import type {TlsReport} from '../tls/validate.js'
import {findingLines, findingsNagios, worstBySubject} from './findings.js'
import {gauge} from './prometheus.js'

const source = (f: TlsFinding) => f.source
const day = (iso: string) => iso.slice(0, 10)

/** Worst first, one line per finding; then the certificates seen and each handshake's parameters. */
export function formatTlsReport(report: TlsReport): string {
  const lines = findingLines(report.findings, source)
  if (report.certificates.length > 0) {
    lines.push('', 'Certificates:')
    for (const c of report.certificates) {
      lines.push(`  ${c.source} #${c.position} ${c.subject} (issuer ${c.issuer}) ${day(c.notBefore)} to ${day(c.notAfter)}${c.altNames.length > 0 ? ` ${c.altNames.join(', ')}` : ''}`)
    }
  }

  if (report.handshakes.length > 0) {
    lines.push('', `Handshakes (trusting ${report.trust}):`)
    for (const h of report.handshakes) {
      const chain = h.chain.map((c) => c.subject).join(' < ')
      lines.push(`  ${h.source} ${h.outcome === 'ok' ? `${h.protocol} ${h.cipher ?? ''}${h.alpn ? ` ${h.alpn}` : ''}: ${chain}` : `${h.outcome}: ${h.reason}`}`)
    }
  }

  return lines.join('\n') + '\n'
}

/** Days until the first server certificate runs out, over everything checked (undefined with none). */
function leastDaysLeft(report: TlsReport, now: Date): number | undefined {
  const days = report.certificates.filter((c) => c.position === 1).map((c) => (Date.parse(c.notAfter) - now.getTime()) / 86_400_000)
  return days.length > 0 ? Math.min(...days) : undefined
}

/** Plugin output; perfdata adds `days_left` of the soonest-expiring server certificate with its thresholds. */
export function formatTlsNagios(report: TlsReport, now: Date, thresholds: {criticalDays: number; warningDays: number}): {exitCode: number; text: string} {
  const days = leastDaysLeft(report, now)
  const perfdata = days === undefined ? [] : [`'days_left'=${days.toFixed(1)};${thresholds.warningDays};${thresholds.criticalDays};;`]
  return findingsNagios('TLS', report.findings, source, perfdata)
}

/**
 * node_exporter textfile: each certificate's end of validity as a timestamp (alert rules compute
 * the days left, as with Traefik's `traefik_tls_certs_not_after`), the worst verdict per file or
 * address, and the run's time.
 */
export function formatTlsPrometheus(report: TlsReport, runAt: Date): string {
  const seconds = (iso: string) => Math.round(Date.parse(iso) / 1000)
  return [
    ...gauge(
      'jproxy_tls_cert_not_after_seconds',
      'End of validity of a certificate the proxy loads or presents (Unix time).',
      report.certificates.map((c) => [{position: String(c.position), serial: c.serial, source: c.source, subject: c.subject}, seconds(c.notAfter)]),
    ),
    ...gauge('jproxy_tls_check_status', 'Worst verdict of the TLS checks on this file or address: 0 ok, 1 warning, 2 critical.', worstBySubject(report.findings, source).map(([name, status]) => [{source: name}, status])),
    ...gauge('jproxy_tls_last_run_timestamp_seconds', 'When validate tls last ran.', [[{}, Math.round(runAt.getTime() / 1000)]]),
  ].join('\n') + '\n'
}
