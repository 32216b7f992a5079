import type {DnsReport, Severity} from '../dns/validate.js'
import {NAGIOS} from './nagios.js'

const WORD: Record<Severity, string> = {critical: 'CRITICAL', ok: 'OK', warning: 'WARNING'}
const RANK: Record<Severity, number> = {critical: 0, ok: 2, warning: 1}

/** Worst first, one line per finding; then each name as every resolver sees it, side by side. */
export function formatDnsReport(report: DnsReport): string {
  const lines = [...report.findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]).map((f) => `${WORD[f.severity].padEnd(8)} ${f.record}: ${f.message}`)
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
  const critical = report.findings.filter((f) => f.severity === 'critical')
  const warning = report.findings.filter((f) => f.severity === 'warning')
  const state = critical.length > 0 ? 'CRITICAL' : warning.length > 0 ? 'WARNING' : 'OK'
  const first = [...critical, ...warning][0]
  const summary = first ? `${first.record}: ${first.message}` : `${report.findings.length} checks passed`
  const perfdata = `'critical'=${critical.length};;;0 'warning'=${warning.length};;;0`
  const details = [...critical, ...warning].slice(1).map((f) => `${f.record}: ${f.message}`)
  return {exitCode: NAGIOS[state], text: [`JPROXY DNS ${state} - ${summary} | ${perfdata}`, ...details].join('\n') + '\n'}
}
