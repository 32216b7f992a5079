import type {DeployReport} from '../tls/deploy.js'
import {outcomeLine, proxyChangeLine, rollbackLine} from './outcome.js'
import {gauge} from './prometheus.js'

/** Human report: the outcome line, then the new certificate, the install, the swap and each listen address. */
export function formatDeployReport(report: DeployReport): string {
  const lines = [outcomeLine(report)]
  const c = report.certificate
  if (c) lines.push(`  new certificate: ${c.subject} serial ${c.serial}, ${c.notBefore.slice(0, 10)} to ${c.notAfter.slice(0, 10)} (issuer ${c.issuer}) from ${report.source.certificate}`)
  for (const f of report.findings.filter((f) => f.severity !== 'ok')) lines.push(`  check: ${f.severity}: ${f.source}: ${f.message}`)
  for (const path of report.installed) lines.push(`  installed: ${path}`)
  for (const path of report.backups) lines.push(`  backup: ${path}`)
  if (report.swap) lines.push(proxyChangeLine('swap', report.swap))
  for (const v of report.verify) lines.push(`  handshake ${v.source}: ${v.ok ? 'ok' : 'FAILED'}: ${v.detail}`)
  if (report.rollback) lines.push(rollbackLine(report.rollback))
  return lines.join('\n') + '\n'
}

/**
 * One line for syslog and cron mail (certbot ignores a deploy hook's exit code, so a failure must
 * be seen elsewhere): a fixed tag, the outcome, the exit code, and the reason without newlines.
 */
export function deploySyslogLine(report: DeployReport): string {
  const serial = report.certificate ? ` serial=${report.certificate.serial}` : ''
  return `jproxy-tls-deploy: ${report.exitCode === 0 ? 'ok' : 'FAILED'} target=${report.target} domain=${report.domain} outcome=${report.outcome} exit=${report.exitCode}${serial}: ${report.message.replaceAll(/\s*\n\s*/g, ' ')}\n`
}

/** node_exporter textfile metrics of the last deploy to one target. */
export function formatDeployPrometheus(report: DeployReport): string {
  const state = report.state ?? {}
  const labels = {domain: report.domain, target: report.target}
  const seconds = (iso?: string) => (iso ? Math.round(Date.parse(iso) / 1000) : 0)
  return [
    ...gauge('jproxy_tls_deploy_last_success', 'Whether the last tls deploy to this target succeeded (1) or not (0).', [[labels, state.lastSuccess ? 1 : 0]]),
    ...gauge('jproxy_tls_deploy_last_success_timestamp_seconds', 'When a tls deploy to this target last succeeded (0: never).', [[labels, seconds(state.lastSuccessAt)]]),
    ...gauge('jproxy_tls_deploy_last_run_timestamp_seconds', 'When tls deploy last ran for this target.', [[labels, seconds(state.lastRunAt)]]),
    ...gauge(
      'jproxy_tls_deploy_certificate_not_after_timestamp_seconds',
      'End of validity of the certificate the last successful deploy put in place, labelled with its serial.',
      state.serial ? [[{...labels, serial: state.serial}, seconds(state.notAfter)]] : [],
    ),
  ].join('\n') + '\n'
}
