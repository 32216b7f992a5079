import type {DnsFinding, DnsReport} from '../dns/validate.js'
import {findingLines, findingsNagios, worstBySubject} from './findings.js'
import {gauge} from './prometheus.js'

const record = (f: DnsFinding) => f.record

/** Worst first, one line per finding; then each name as every resolver sees it, side by side. */
export function formatDnsReport(report: DnsReport): string {
  const lines = findingLines(report.findings, record)
  const split = report.views.filter((v) => Object.keys(v.answers).length > 1)
  if (split.length > 0) {
    lines.push('', 'Per resolver:')
    for (const view of split) {
      lines.push(`  ${view.name} ${view.type}`)
      for (const [resolver, answer] of Object.entries(view.answers)) lines.push(`    ${resolver.padEnd(22)} ${answer}`)
    }
  }

  return lines.join('\n') + '\n'
}

/** Plugin output: CRITICAL if any finding is, WARNING if any warns, else OK. */
export function formatDnsNagios(report: DnsReport): {exitCode: number; text: string} {
  return findingsNagios('DNS', report.findings, record)
}

/** node_exporter textfile: the worst verdict per record (0 ok, 1 warning, 2 critical) and the run's time. */
export function formatDnsPrometheus(report: DnsReport, runAt: Date): string {
  return [
    ...gauge('jproxy_dns_check_status', 'Worst verdict of the checks on this record: 0 ok, 1 warning, 2 critical.', worstBySubject(report.findings, record).map(([name, status]) => [{record: name}, status])),
    ...gauge('jproxy_dns_last_run_timestamp_seconds', 'When validate dns last ran.', [[{}, Math.round(runAt.getTime() / 1000)]]),
  ].join('\n') + '\n'
}
