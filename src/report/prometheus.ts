import {atomicWrite} from '../system/atomic-write.js'
import {JproxyError} from '../errors.js'
import type {ProbeReport} from '../probe/probe.js'

const escape = (value: string) => value.replaceAll('\\', String.raw`\\`).replaceAll('"', String.raw`\"`).replaceAll('\n', String.raw`\n`)

/** A sample value as the exposition format spells it: NaN, +Inf and -Inf are words there, not JavaScript's. */
const sampleValue = (value: number) => (Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value))

export type MetricRow = [labels: Record<string, string | undefined>, value: number]

/** One gauge (or counter) in the text exposition format: HELP, TYPE and a line per row (none at all without rows). */
export function gauge(name: string, help: string, rows: MetricRow[], type: 'counter' | 'gauge' = 'gauge'): string[] {
  if (rows.length === 0) return []
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`]
  for (const [labels, value] of rows) {
    const text = Object.entries(labels)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}="${escape(v!)}"`)
      .join(',')
    lines.push(`${name}${text ? `{${text}}` : ''} ${sampleValue(value)}`)
  }

  return lines
}

/**
 * node_exporter textfile metrics for one run: per backend `jproxy_backend_up` (damped; NaN when
 * it cannot be told yet) and `jproxy_probe_duration_seconds`, JVB drain and participants when
 * known, and the run's timestamp. Labels role, shard, id (and address, to find the box).
 */
export function formatPrometheus(report: ProbeReport, runAt: Date): string {
  const labels = (b: ProbeReport['backends'][number]) => ({address: b.address, id: b.id, role: b.role, shard: b.shard ?? ''})
  return [
    ...gauge('jproxy_backend_up', 'Backend fit for traffic after rise/fall damping (1 up, 0 down).', report.backends.map((b) => [labels(b), b.state === 'up' ? 1 : b.state === 'down' ? 0 : Number.NaN])),
    ...gauge('jproxy_probe_duration_seconds', 'Wall time of the backend\'s probe in this run.', report.backends.map((b) => [labels(b), b.latencyMs / 1000])),
    ...gauge('jproxy_jvb_draining', 'Videobridge in drain mode (GET /colibri/drain).', report.backends.filter((b) => b.drain !== undefined).map((b) => [labels(b), b.drain ? 1 : 0])),
    ...gauge('jproxy_jvb_participants', 'Participants on the videobridge (GET /colibri/stats).', report.backends.filter((b) => b.participants !== undefined).map((b) => [labels(b), b.participants!])),
    ...gauge('jproxy_probe_last_run_timestamp_seconds', 'When the last probe run finished.', [[{}, Math.round(runAt.getTime() / 1000)]]),
  ].join('\n') + '\n'
}

/** Writes metrics as node_exporter wants: a temporary file in the same folder, then rename. */
export async function writeTextfile(path: string, text: string): Promise<void> {
  try {
    await atomicWrite(path, text)
  } catch (error) {
    if (error instanceof JproxyError) throw error
    throw new JproxyError('writeFailed', `cannot write ${path}: ${(error as Error).message}`, {path})
  }
}
