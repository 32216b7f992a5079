import {hostPort} from '../inventory/host-port.js'
import {type BackendReport, type ProbeReport, stateReason} from '../probe/probe.js'

/** What the STATE column adds to the damped state: on its way to flipping (DETAIL says how far), unprobed, draining. */
function stateNote(b: BackendReport): string {
  if (b.pending) return b.pending.toward === 'down' ? ' (failing)' : ' (recovering)'
  if (b.state === 'up' && b.health !== 'up') return ` (${b.health})`
  return b.drain ? ' (draining)' : ''
}

/** The human view of a run: one line per backend, aligned, worst first then inventory order. */
export function formatProbeTable(report: ProbeReport): string {
  const rank = {down: 0, unknown: 1, up: 2} as const
  const rows = [...report.backends]
    .map((b, order) => ({b, order}))
    .sort((x, y) => rank[x.b.state] - rank[y.b.state] || x.order - y.order)
    .map(({b}) => {
      const participants = b.participants === undefined ? '' : `, ${b.participants} participants`
      const detail = stateReason(b) + participants
      return [b.state.toUpperCase() + stateNote(b), b.key, hostPort(b.address, b.port), `${b.latencyMs} ms`, detail]
    })
  const header = ['STATE', 'BACKEND', 'ADDRESS', 'TIME', 'DETAIL']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  return [line(header), ...rows.map((r) => line(r))].join('\n') + '\n'
}
