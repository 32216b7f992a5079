import {hostPort} from '../inventory/host-port.js'
import type {ProbeReport} from '../probe/probe.js'

/** The human view of a run: one line per backend, aligned, worst first then inventory order. */
export function formatProbeTable(report: ProbeReport): string {
  const rank = {down: 0, unknown: 1, up: 2} as const
  const rows = [...report.backends]
    .map((b, order) => ({b, order}))
    .sort((x, y) => rank[x.b.state] - rank[y.b.state] || x.order - y.order)
    .map(({b}) => {
      const note = b.state === 'up' && b.health !== 'up' ? ` (${b.health}, ${b.failures ?? 0} failed)` : b.drain ? ' (draining)' : ''
      const participants = b.participants === undefined ? '' : `, ${b.participants} participants`
      return [b.state.toUpperCase() + note, b.key, hostPort(b.address, b.port), `${b.latencyMs} ms`, b.reason + participants]
    })
  const header = ['STATE', 'BACKEND', 'ADDRESS', 'TIME', 'DETAIL']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  return [line(header), ...rows.map((r) => line(r))].join('\n') + '\n'
}
