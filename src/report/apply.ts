import type {ApplyReport} from '../apply/apply.js'

/** Human report: the outcome line, then what each step found, then warnings; the diff with --dry-run. */
export function formatApplyReport(report: ApplyReport, showDiff: boolean): string {
  const lines = [`${report.target}: ${report.outcome}: ${report.message}`]
  for (const m of report.check?.messages ?? []) lines.push(`  check: ${m.file ? `${m.file}:${m.line}: ` : ''}${m.level}: ${m.message}`)
  for (const problem of report.gate?.problems ?? []) lines.push(`  health gate: ${problem}`)
  if (report.backup) lines.push(`  backup: ${report.backup}`)
  if (report.reload) lines.push(`  reload (${report.reload.method}): ${report.reload.ok ? 'ok' : 'FAILED'}: ${report.reload.detail}`)
  for (const problem of report.verify?.problems ?? []) lines.push(`  verify: ${problem}`)
  if (report.rollback) lines.push(`  rollback to ${report.rollback.restored}: ${report.rollback.verified ? 'reloaded and verified' : `FAILED: ${report.rollback.problems.join('; ')}`}`)
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`)
  if (showDiff && report.diff) lines.push('', report.diff.trimEnd())
  return lines.join('\n') + '\n'
}
