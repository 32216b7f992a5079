import {type Finding, type Severity, worstSeverity} from '../findings/finding.js'
import {NAGIOS, type NagiosState} from './nagios.js'

export type {Finding, Severity} from '../findings/finding.js'

const WORD: Record<Severity, NagiosState> = {critical: 'CRITICAL', ok: 'OK', warning: 'WARNING'}
const RANK: Record<Severity, number> = {critical: 0, ok: 2, warning: 1}

/** Worst first (stable within a severity), one `SEVERITY about: message` line each. */
export function findingLines<F extends Finding>(findings: F[], about: (finding: F) => string): string[] {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]).map((f) => `${WORD[f.severity].padEnd(8)} ${about(f)}: ${f.message}`)
}

/** The worst verdict per subject as the Nagios numbers (0 ok, 1 warning, 2 critical), in first-seen order. */
export function worstBySubject<F extends Finding>(findings: F[], about: (finding: F) => string): Array<[string, number]> {
  const worst = new Map<string, number>()
  for (const f of findings) worst.set(about(f), Math.max(worst.get(about(f)) ?? 0, NAGIOS[WORD[f.severity]]))
  return [...worst]
}

/**
 * Plugin output for a list of findings: CRITICAL if any is, WARNING if any warns, else OK; the
 * first problem on line 1, the others below it; perfdata counts plus what the caller adds.
 */
export function findingsNagios<F extends Finding>(
  service: string,
  findings: F[],
  about: (finding: F) => string,
  extraPerfdata: string[] = [],
): {exitCode: number; text: string} {
  const critical = findings.filter((f) => f.severity === 'critical')
  const warning = findings.filter((f) => f.severity === 'warning')
  const state = WORD[worstSeverity(findings)]
  const problems = [...critical, ...warning].map((f) => `${about(f)}: ${f.message}`)
  const summary = problems[0] ?? `${findings.length} checks passed`
  const perfdata = [`'critical'=${critical.length};;;0`, `'warning'=${warning.length};;;0`, ...extraPerfdata].join(' ')
  return {exitCode: NAGIOS[state], text: [`JPROXY ${service} ${state} - ${summary} | ${perfdata}`, ...problems.slice(1)].join('\n') + '\n'}
}
