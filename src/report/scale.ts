import type {ScaleReport} from '../scale/scale.js'

/** The human report of a scale command: the outcome, what apply did, warnings, then the config a new bridge needs. */
export function formatScaleReport(report: ScaleReport): string {
  const lines = [report.message]
  if (report.apply?.reload) lines.push(`  ${report.apply.reload.method}: ${report.apply.reload.detail}`)
  if (report.apply?.sessions !== undefined) lines.push(`  relayd sessions cut by the reload: ${report.apply.sessions}`)
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`)
  if (report.exitCode === 0 && report.bridgeConfig) lines.push('', `# jvb.conf for ${report.id}:`, report.bridgeConfig.trimEnd(), '', '# pf rule for its media port (jproxy gen pf renders them all):', report.pfRule ?? '')
  return lines.join('\n') + '\n'
}
