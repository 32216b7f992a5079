import type {StatusReport, WatcherStatus} from '../status/status.js'

/** Disagreements first, then inventory order; one aligned line per backend. */
export function formatStatus(report: StatusReport): string {
  const rank = (agree: boolean | null) => (agree === false ? 0 : agree === null ? 1 : 2)
  const rows = report.rows
    .map((r, order) => ({order, r}))
    .sort((a, b) => rank(a.r.agree) - rank(b.r.agree) || a.order - b.order)
    .map(({r}) => [r.agree === false ? 'DIFFER' : r.agree === null ? '?' : 'ok', r.key, r.address, r.proxy, r.probe + (r.probeSince ? ` since ${r.probeSince}` : ''), r.note ?? ''])
  const header = ['', 'BACKEND', 'ADDRESS', `${report.target.toUpperCase()} SAYS`, 'PROBE SAYS', 'NOTE']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()
  const watcher = report.watcher === undefined ? [] : [watcherLine(report.watcher)]
  return [line(header), ...rows.map((r) => line(r)), ...watcher, ...report.warnings.map((w) => `warning: ${w}`)].join('\n') + '\n'
}

/** Only relayd's report has a watcher: its check scripts read the watcher's verdicts. */
function watcherLine(watcher: null | WatcherStatus): string {
  if (!watcher) return 'watcher: no verdicts yet: `jproxy probe --watch` has not run with this state file'
  const age = `last round ${Math.round(watcher.ageMs / 1000)}s ago`
  return watcher.stale
    ? `watcher: NOT RUNNING (${age}, stale): relayd's check scripts probe by themselves`
    : `watcher: running, ${age}`
}
