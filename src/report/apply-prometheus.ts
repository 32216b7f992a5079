import type {Counters} from '../apply/record.js'
import {gauge} from './prometheus.js'

/** The textfile metrics of the last apply of one target, named like Traefik's and Caddy's reload metrics. */
export function formatApplyPrometheus(target: string, counters: Counters): string {
  const labels = {target}
  const seconds = (iso?: string) => (iso ? Math.round(Date.parse(iso) / 1000) : 0)
  return [
    ...gauge('jproxy_apply_last_success', 'Whether the last apply of this target succeeded (1) or not (0).', [[labels, counters.lastSuccess ? 1 : 0]]),
    ...gauge('jproxy_apply_last_success_timestamp_seconds', 'When an apply of this target last succeeded (0: never).', [[labels, seconds(counters.lastSuccessAt)]]),
    ...gauge('jproxy_apply_last_run_timestamp_seconds', 'When apply last ran for this target.', [[labels, seconds(counters.lastRunAt)]]),
    ...gauge('jproxy_apply_reloads_total', 'Reloads jproxy apply made of this proxy, rollbacks included.', [[labels, counters.reloads]], 'counter'),
  ].join('\n') + '\n'
}
