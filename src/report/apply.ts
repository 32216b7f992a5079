import type {ApplyReport} from '../apply/apply.js'
import {handoverDetail} from '../apply/reload-gate.js'
import {outcomeLine, proxyChangeLine, rollbackLine} from './outcome.js'

/** Human report: the outcome line, then what each step found, then warnings; the diff with --dry-run. */
export function formatApplyReport(report: ApplyReport, showDiff: boolean): string {
  const lines = [outcomeLine(report)]
  for (const m of report.check?.messages ?? []) lines.push(`  check: ${m.file ? `${m.file}:${m.line}: ` : ''}${m.level}: ${m.message}`)
  for (const problem of report.gate?.problems ?? []) lines.push(`  health gate: ${problem}`)
  if (report.backup) lines.push(`  backup: ${report.backup}`)
  const table = report.roomTable
  if (table && table.gate.waitedFor.length > 0) lines.push(`  room table: waited ${table.gate.waitedMs} ms before the reload for: ${table.gate.waitedFor.join('; ')}`)
  if (report.reload) lines.push(proxyChangeLine('reload', report.reload))
  if (table?.handover?.ok) lines.push(`  room table: ${handoverDetail(table.handover)}`)
  for (const problem of report.verify?.problems ?? []) lines.push(`  verify: ${problem}`)
  if (report.rollback) lines.push(rollbackLine(report.rollback))
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`)
  if (showDiff && report.diff) lines.push('', report.diff.trimEnd())
  return lines.join('\n') + '\n'
}
