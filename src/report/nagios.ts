import {hostPort} from '../inventory/host-port.js'
import {type BackendReport, pendingText, type ProbeReport, stateReason} from '../probe/probe.js'

/** The Nagios plugin API's states and exit codes. */
export const NAGIOS = {CRITICAL: 2, OK: 0, UNKNOWN: 3, WARNING: 1} as const
export type NagiosState = keyof typeof NAGIOS

/** Why a backend is worth a warning although its damped state is up (or it could not be told). */
function concern(b: BackendReport): string | undefined {
  if (b.state === 'unknown' || b.health === 'unknown') return `${b.key} not probed to the end`
  if (b.health === 'transitional') return `${b.key} transitional`
  if (b.pending?.toward === 'down') return `${b.key} failing (${pendingText(b.pending)})`
  if (b.drain) return `${b.key} draining`
  return undefined
}

/**
 * Plugin output: line 1 `JPROXY STATE - summary | perfdata` (short, as the API asks), then one
 * line per backend that is down or of concern. CRITICAL when any backend is down after damping;
 * WARNING for transitional, draining, failing-but-not-yet-down or unprobed ones.
 */
export function formatNagios(report: ProbeReport): {exitCode: number; text: string} {
  const {backends} = report
  const down = backends.filter((b) => b.state === 'down')
  const concerns = backends.filter((b) => b.state !== 'down').map((b) => concern(b)).filter((c) => c !== undefined)
  const state: NagiosState = down.length > 0 ? 'CRITICAL' : concerns.length > 0 ? 'WARNING' : 'OK'
  const up = backends.filter((b) => b.state === 'up').length
  const total = backends.length
  const summary =
    down.length > 0
      ? `${down.length} of ${total} backends down: ${down.slice(0, 3).map((b) => b.key).join(', ')}${down.length > 3 ? ', …' : ''}`
      : concerns.length > 0
        ? `${up} of ${total} backends up; ${concerns.length} warning(s): ${concerns.slice(0, 2).join(', ')}${concerns.length > 2 ? ', …' : ''}`
        : `${up} of ${total} backends up`
  const slowest = Math.max(0, ...backends.map((b) => b.latencyMs)) / 1000
  const perfdata = `'up'=${up};;;0;${total} 'down'=${down.length};;;0;${total} 'slowest'=${slowest.toFixed(3)}s;;;0 'time'=${(report.durationMs / 1000).toFixed(3)}s;;;0`
  const details = [...down.map((b) => `${b.key} (${hostPort(b.address, b.port)}) DOWN: ${stateReason(b)}`), ...concerns]
  return {exitCode: NAGIOS[state], text: [`JPROXY ${state} - ${summary} | ${perfdata}`, ...details].join('\n') + '\n'}
}

/** What to print when the run itself could not be made (bad inventory, unreadable state): UNKNOWN. */
export function nagiosUnknown(message: string): {exitCode: number; text: string} {
  return {exitCode: NAGIOS.UNKNOWN, text: `JPROXY UNKNOWN - ${message.split('\n')[0]}\n`}
}
